//! Building a proof of silence: "we asked, it was delivered at T, and as
//! of T' (after the deadline) the debtor's feed holds no answer", from what
//! this node holds (the request is its own, so it holds the debtor's
//! receipt; it holds the debtor's feed as a member, with witness
//! cosignatures). See `parley_log::silence` for the file and its check.

use std::sync::Arc;

use parley_domain::obligations::Status;
use parley_log::Timestamp;
use parley_log::silence::SilenceProof;
use parley_store::{FeedId, Statement, StoreError};

use crate::state::Node;
use crate::views::{self, Which};

/// Why no proof of silence can be made.
#[derive(Debug, thiserror::Error)]
pub enum SilenceFailure {
    #[error("no entry {0} on this node")]
    NotFound(String),
    #[error(
        "{id} is {author}'s entry: only {author}'s node holds {debtor}'s receipt of it, so only it can prove the silence"
    )]
    NotOwn {
        id: String,
        author: String,
        debtor: String,
    },
    #[error("{id} obliges {debtor} to nothing: there is no silence to prove")]
    NoDuty { id: String, debtor: String },
    #[error(
        "{debtor} has no receipt of {id} yet: its delivery is not proven, so neither is any silence"
    )]
    NotDelivered { id: String, debtor: String },
    #[error("not silent: {debtor} answered {id} with {answer} at {at}, before the deadline {due}")]
    AnsweredInTime {
        id: String,
        debtor: String,
        answer: String,
        at: Timestamp,
        due: Timestamp,
    },
    #[error(
        "no checkpoint of {debtor}'s feed without an answer is cosigned after the deadline {due} (the latest is {latest}); wait for the witnesses' next cosignature"
    )]
    NotYetProvable {
        debtor: String,
        due: Timestamp,
        latest: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Builds the proof that `debtor` has not answered this node's entry `id`.
///
/// # Errors
/// A [`SilenceFailure`] saying why the silence cannot be proven (it may not
/// exist: the debtor answered in time).
pub async fn prove(
    node: &Arc<Node>,
    id: &str,
    debtor: &str,
) -> Result<SilenceProof, SilenceFailure> {
    let request = views::find_entry(node, id)
        .await?
        .ok_or_else(|| SilenceFailure::NotFound(id.to_string()))?;
    let id = request.id();
    if request.author != node.party {
        return Err(SilenceFailure::NotOwn {
            id,
            author: request.author,
            debtor: debtor.to_string(),
        });
    }
    let ledger = crate::ledger::current(node).await?;
    let now = crate::clock::now();
    let duty = ledger
        .board()
        .of_source(&ledger, &request.hash, now)
        .into_iter()
        .find(|o| o.source == id && o.debtor == debtor)
        .ok_or_else(|| SilenceFailure::NoDuty {
            id: id.clone(),
            debtor: debtor.to_string(),
        })?;
    let due = duty.due;
    if let (Some(answer), Some(at), Some(due)) = (&duty.met_by, duty.met_at, due)
        && at <= due
        && duty.status == Status::Met
    {
        return Err(SilenceFailure::AnsweredInTime {
            id,
            debtor: debtor.to_string(),
            answer: answer.clone(),
            at,
            due,
        });
    }
    let (feed, seq) = (request.feed(), request.seq);
    let d = debtor.to_string();
    let receipt_size = node
        .db(move |s| {
            Ok(
                views::earliest_receipts(&s.cosignatures(&feed, seq + 1)?, seq)
                    .get(&d)
                    .map(|c| c.size),
            )
        })
        .await?
        .ok_or_else(|| SilenceFailure::NotDelivered {
            id: id.clone(),
            debtor: debtor.to_string(),
        })?;
    let bundle = views::proof_bundle_at(node, &request, receipt_size).await?;

    // The debtor's feed up to (not including) its first answer.
    let answers: Vec<String> = duty.answered_by.clone();
    let first_answer = ledger
        .referencing(&request.hash)
        .filter(|k| k.entry.author == debtor && answers.contains(&k.entry.kind))
        .map(|k| k.entry.seq)
        .min();
    let debtor_feed = FeedId::new(&request.channel, debtor);
    let (f, own) = (debtor_feed.clone(), node.party.clone());
    let candidates = node
        .db(move |s| {
            let head = s.feed_head(&f)?.map_or(0, |h| h.size);
            let limit = first_answer.unwrap_or(head).min(head);
            // The latest time anyone but the debtor cosigned each size.
            let mut best: Option<(i64, u64)> = None;
            for c in s.cosignatures(&f, 1)? {
                let usable =
                    c.size <= limit && (c.statement == Statement::Witness || c.cosigner == own);
                if usable && best.is_none_or(|(t, _)| c.time > t) {
                    best = Some((c.time, c.size));
                }
            }
            Ok(best)
        })
        .await?;
    let (as_of, size) = match (candidates, due) {
        (Some((t, size)), Some(due)) if t >= due.unix() => (t, size),
        (best, Some(due)) => {
            return Err(SilenceFailure::NotYetProvable {
                debtor: debtor.to_string(),
                due,
                latest: best
                    .and_then(|(t, _)| Timestamp::from_unix(t))
                    .map_or("none".into(), |t| t.to_string()),
            });
        }
        (Some((t, size)), None) => (t, size),
        (None, None) => {
            return Err(SilenceFailure::NotYetProvable {
                debtor: debtor.to_string(),
                due: now,
                latest: "none".into(),
            });
        }
    };
    tracing::info!(%id, debtor, size, as_of, "proof of silence");
    let f = debtor_feed.clone();
    let (note, headers) = node
        .db(move |s| {
            let note = views::cosigned_note(s, &f, size, Which::Latest)?;
            let headers = s
                .entries(&f, 0, size)?
                .iter()
                .map(|e| {
                    parley_log::entry::header_bytes_of(&e.bytes)
                        .map_err(|err| StoreError::Corrupt(format!("{}: {err}", e.id())))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((note, headers))
        })
        .await?;
    Ok(SilenceProof {
        request: bundle,
        debtor: debtor.to_string(),
        debtor_checkpoint: note.to_string(),
        headers,
        answered_by: answers,
        deadline: due,
    })
}
