//! Submitting checkpoints to a channel's witnesses (C2SP tlog-witness
//! client). Members submit their own feeds and the feeds they hold of
//! others, so a party that shows different histories to different peers
//! is caught by the witness. A witness is a pinned parley node (shown the
//! charter that names it) or an external C2SP witness named in the
//! charter by its key and submission prefix; both are spoken to exactly
//! as tlog-witness says.

use std::sync::Arc;

use parley_log::equivocation::Equivocation;
use parley_log::identity::Role;
use parley_log::merkle::{consistency_proof, root};
use parley_log::tiles::TileNodes;
use parley_log::witness::format_add_checkpoint;
use parley_log::{NoteSignature, SignedCheckpoint};
use parley_store::{DeliveryRole, FeedId, FeedTiles, Statement, StoreError};

use super::client::{self, CallError, WitnessAnswer};
use crate::feeds::{accept_cosignature, accept_external_cosignature, record_evidence};
use crate::state::{Node, PeerInfo};

fn store_err(e: StoreError) -> CallError {
    CallError::Protocol(e.to_string())
}

/// A witness to submit checkpoints to.
#[derive(Clone, Debug)]
pub struct WitnessTarget {
    /// The name its progress and cosignatures are kept under: the party
    /// of a parley witness, the key name of an external one.
    pub name: String,
    /// Its cosignature/v1 key(s), current last.
    pub keys: Vec<parley_log::VerifierKey>,
    /// `POST <submission>/add-checkpoint`.
    pub submission: String,
    /// `GET <monitoring>/<origin hash>/checkpoint`, where it has one.
    pub monitoring: Option<String>,
    /// A parley witness: the pinned peer, which can be shown a charter.
    pub peer: Option<PeerInfo>,
}

impl WitnessTarget {
    /// A pinned parley node acting as a witness.
    pub fn parley(w: &PeerInfo) -> WitnessTarget {
        let prefix = client::parley_witness_prefix(w);
        WitnessTarget {
            name: w.party.clone(),
            keys: w.keys(Role::Witness),
            submission: prefix.clone(),
            monitoring: Some(prefix),
            peer: Some(w.clone()),
        }
    }

    /// A C2SP witness named in a charter.
    ///
    /// # Errors
    /// Its vkey does not parse (the charter check refuses such charters).
    pub fn external(
        w: &parley_domain::ExternalWitness,
    ) -> Result<WitnessTarget, parley_log::keys::KeyError> {
        let key = w.key()?;
        Ok(WitnessTarget {
            name: key.name().to_string(),
            keys: vec![key],
            submission: w.url.trim_end_matches('/').to_string(),
            monitoring: None,
            peer: None,
        })
    }
}

/// Submits the feed's latest checkpoint if the witness is behind `at`.
/// Returns the witness's new position, or `None` when there was nothing to do.
pub async fn submit(
    node: &Arc<Node>,
    w: &WitnessTarget,
    feed: &FeedId,
    at: u64,
) -> Result<Option<u64>, CallError> {
    let f = feed.clone();
    let head = node.db(move |s| s.feed_head(&f)).await.map_err(store_err)?;
    let Some(size) = head.map(|h| h.size).filter(|&s| s > at) else {
        return refresh(node, w, feed, at).await;
    };
    match attempt(node, w, feed, at, size).await? {
        WitnessAnswer::Cosigned(lines) => {
            accept(node, w, feed, size, &lines).await?;
            Ok(Some(size))
        }
        // The witness is behind what we thought: resend from its size.
        WitnessAnswer::Conflict(theirs) if theirs < size => Ok(Some(theirs)),
        // It already holds this size (another member submitted it): submit
        // with `old` equal to the size, which yields its cosignature if the
        // roots agree and a 422 (and evidence at the witness) if they do not.
        WitnessAnswer::Conflict(theirs) if theirs == size => {
            match attempt(node, w, feed, size, size).await? {
                WitnessAnswer::Cosigned(lines) => accept(node, w, feed, size, &lines).await?,
                other => refused(node, w, feed, &other).await,
            }
            Ok(Some(size))
        }
        // It is ahead of this node for this feed: check that it agrees.
        WitnessAnswer::Conflict(theirs) => {
            compare_with_witness(node, w, feed).await;
            let (p, f) = (w.name.clone(), feed.clone());
            node.db(move |s| s.set_delivered(&p, &f, DeliveryRole::Witness, size))
                .await
                .map_err(store_err)?;
            Ok(Some(theirs))
        }
        // A parley witness that does not witness this log yet: show it
        // the charter that names it, then submit again.
        WitnessAnswer::Refused(404, _) if w.peer.is_some() => {
            let peer = w.peer.as_ref().expect("checked");
            present_charter(node, peer, &feed.channel).await?;
            match attempt(node, w, feed, at, size).await? {
                WitnessAnswer::Cosigned(lines) => {
                    accept(node, w, feed, size, &lines).await?;
                    Ok(Some(size))
                }
                WitnessAnswer::Conflict(theirs) => Ok(Some(theirs.min(size))),
                other => {
                    refused(node, w, feed, &other).await;
                    Err(CallError::Protocol(format!(
                        "{} does not witness {} even after seeing its charter",
                        w.name,
                        feed.origin()
                    )))
                }
            }
        }
        other => {
            refused(node, w, feed, &other).await;
            Err(CallError::Protocol(format!(
                "{} refused {} at size {size}: {}",
                w.name,
                feed.origin(),
                describe(&other)
            )))
        }
    }
}

/// Asks the witness to cosign the size it already holds again when its
/// latest cosignature of it is older than `witness_refresh_secs`: a fresh,
/// timed "the feed was still size N" for an idle feed.
async fn refresh(
    node: &Arc<Node>,
    w: &WitnessTarget,
    feed: &FeedId,
    size: u64,
) -> Result<Option<u64>, CallError> {
    if size == 0 {
        return Ok(None);
    }
    let (f, name) = (feed.clone(), w.name.clone());
    let latest = node
        .db(move |s| {
            Ok(s.cosignatures(&f, size)?
                .into_iter()
                .filter(|c| {
                    c.size == size && c.cosigner == name && c.statement == Statement::Witness
                })
                .map(|c| c.time)
                .max())
        })
        .await
        .map_err(store_err)?;
    let every = node.dir.config.federation.witness_refresh_secs as i64;
    if latest.is_some_and(|t| Node::now() - t < every) {
        return Ok(None);
    }
    match attempt(node, w, feed, size, size).await? {
        WitnessAnswer::Cosigned(lines) => {
            accept(node, w, feed, size, &lines).await?;
            Ok(Some(size))
        }
        // It holds something else now: the next pass starts from there.
        WitnessAnswer::Conflict(theirs) => Ok(Some(theirs.min(size))),
        other => {
            refused(node, w, feed, &other).await;
            Ok(None)
        }
    }
}

fn describe(a: &WitnessAnswer) -> String {
    match a {
        WitnessAnswer::Refused(404, _) => {
            "404: it does not witness this log (its operator must add it)".into()
        }
        WitnessAnswer::Refused(s, body) => format!("{s}: {}", body.trim()),
        other => format!("{other:?}"),
    }
}

/// Shows a witness the charter of a channel that names it: the creator's
/// first entry with its inclusion proof and a checkpoint of the creator's
/// feed. It reveals the charter (members, title, rules) to the witness,
/// and nothing else.
async fn present_charter(node: &Arc<Node>, w: &PeerInfo, channel: &str) -> Result<(), CallError> {
    let Some(state) = node.channel(channel) else {
        return Err(CallError::Protocol(format!(
            "channel {channel} is not known here"
        )));
    };
    let feed = FeedId::new(channel, &state.creator);
    let presentation = node
        .db(move |s| {
            let head = s
                .feed_head(&feed)?
                .ok_or_else(|| StoreError::Corrupt(format!("no feed {feed:?}")))?;
            let entry = s
                .entry(&feed, 0)?
                .ok_or_else(|| StoreError::Corrupt(format!("no charter in {feed:?}")))?;
            let size = s
                .checkpoint_sizes(&feed, 1, head.size)?
                .last()
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("no checkpoint of {feed:?}")))?;
            let note = s
                .checkpoint(&feed, size)?
                .ok_or_else(|| StoreError::Corrupt(format!("no checkpoint at {size}")))?;
            let tiles = FeedTiles {
                store: s,
                feed: &feed,
            };
            let proof = parley_log::merkle::inclusion_proof(&mut TileNodes::new(&tiles), 0, size)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(super::witness::CharterPresentation {
                entry: base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    &entry.bytes,
                ),
                checkpoint: note,
                proof: proof.iter().map(parley_log::Hash::to_base64).collect(),
            })
        })
        .await
        .map_err(store_err)?;
    client::present_charter(node, w, &presentation).await
}

/// One `add-checkpoint` call from `old` to this node's checkpoint at `size`.
async fn attempt(
    node: &Arc<Node>,
    w: &WitnessTarget,
    feed: &FeedId,
    old: u64,
    size: u64,
) -> Result<WitnessAnswer, CallError> {
    let f = feed.clone();
    let (note, proof) = node
        .db(move |s| {
            let note = s
                .checkpoint(&f, size)?
                .ok_or_else(|| StoreError::Corrupt(format!("no checkpoint at {size}")))?;
            let proof = if old > 0 && old < size {
                let tiles = FeedTiles { store: s, feed: &f };
                consistency_proof(&mut TileNodes::new(&tiles), old, size)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?
            } else {
                vec![]
            };
            Ok((note, proof))
        })
        .await
        .map_err(store_err)?;
    let http = client::witness_http(node, w.peer.as_ref())?;
    let answer = client::add_checkpoint(
        &http,
        &w.submission,
        format_add_checkpoint(old, &proof, &note),
    )
    .await;
    node.record_link(
        &w.name,
        match &answer {
            Err(e) if !e.reached() => Err(e.to_string()),
            _ => Ok(()),
        },
    );
    // A pinned witness that did not answer, or answered as a standby, is
    // tried at its next address next time.
    if let Some(peer) = &w.peer
        && (matches!(answer, Err(client::CallError::Network(_)))
            || matches!(answer, Ok(client::WitnessAnswer::Refused(503, _))))
    {
        peer.fail_over();
    }
    answer
}

/// Keeps the witness's cosignature from a 200 answer (the answer may hold
/// several lines; only the one by its configured key counts).
async fn accept(
    node: &Arc<Node>,
    w: &WitnessTarget,
    feed: &FeedId,
    size: u64,
    lines: &str,
) -> Result<(), CallError> {
    let line = lines
        .lines()
        .filter_map(|l| NoteSignature::parse_line(&format!("{l}\n")).ok())
        .find(|s| {
            w.keys
                .iter()
                .any(|k| s.name == k.name() && s.key_id == k.id())
        })
        .ok_or_else(|| {
            CallError::Protocol(format!("{} answered without its cosignature", w.name))
        })?;
    let stored = match &w.peer {
        Some(p) => {
            accept_cosignature(
                node,
                feed,
                size,
                &p.party,
                &line.to_line(),
                DeliveryRole::Witness,
            )
            .await
        }
        None => accept_external_cosignature(node, feed, size, &w.name, &w.keys, &line).await,
    };
    stored.map_err(|r| CallError::Protocol(format!("{}'s cosignature: {r}", w.name)))?;
    Ok(())
}

/// A refusal: a configuration problem (404) or an alarm (403, 422).
async fn refused(node: &Arc<Node>, w: &WitnessTarget, feed: &FeedId, answer: &WitnessAnswer) {
    match answer {
        WitnessAnswer::Refused(404, _) => {
            tracing::warn!(witness = %w.name, origin = %feed.origin(), "the witness does not witness this log");
        }
        WitnessAnswer::Refused(status, body) => {
            tracing::error!(witness = %w.name, origin = %feed.origin(), status, "the witness refused a checkpoint: {}", body.trim());
            compare_with_witness(node, w, feed).await;
        }
        other => {
            tracing::warn!(witness = %w.name, origin = %feed.origin(), "unexpected witness answer: {other:?}")
        }
    }
}

/// Fetches what the witness cosigned for a feed and, if it conflicts with
/// the history this node holds, records the fork as evidence.
async fn compare_with_witness(node: &Arc<Node>, w: &WitnessTarget, feed: &FeedId) {
    let origin = feed.origin();
    let Some(monitoring) = &w.monitoring else {
        return;
    };
    let Ok(http) = client::witness_http(node, w.peer.as_ref()) else {
        return;
    };
    let Ok(Some(text)) = client::witnessed_checkpoint(&http, monitoring, &origin).await else {
        return;
    };
    let Some(identity) = node.keys.identity_of(&feed.author) else {
        return;
    };
    let Some((theirs, feed_key)) = identity
        .log_keys_for(&origin)
        .into_iter()
        .find_map(|k| Some((SignedCheckpoint::open(text.as_bytes(), &k, &[]).ok()?, k)))
    else {
        return;
    };
    let cp = theirs.checkpoint;
    let mut their_note = theirs.note;
    their_note.retain_signatures(|s| s.name == feed_key.name() && s.key_id == feed_key.id());
    let f = feed.clone();
    let local = node
        .db(move |s| {
            let Some(head) = s.feed_head(&f)? else {
                return Ok(None);
            };
            if cp.size > head.size {
                return Ok(None);
            }
            let tiles = FeedTiles { store: s, feed: &f };
            let mut nodes = TileNodes::new(&tiles);
            let ours = root(&mut nodes, cp.size).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if ours == cp.root {
                return Ok(None);
            }
            if let Some(same) = s.checkpoint(&f, cp.size)? {
                return Ok(Some(Equivocation {
                    first: their_note.to_string(),
                    second: same,
                    prefix: None,
                }));
            }
            let proof = consistency_proof(&mut nodes, cp.size, head.size)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let Some(head_note) = s.checkpoint(&f, head.size)? else {
                return Ok(None);
            };
            Ok(Some(Equivocation {
                first: their_note.to_string(),
                second: head_note,
                prefix: Some((ours, proof)),
            }))
        })
        .await;
    if let Ok(Some(ev)) = local {
        let summary = format!(
            "witness {} holds a checkpoint of {} that conflicts with the history this node received",
            w.name, feed.author
        );
        record_evidence(node, feed, &ev, true, summary).await;
    }
}
