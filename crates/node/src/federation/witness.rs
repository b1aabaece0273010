//! This node as a C2SP tlog-witness. It cosigns, under its witness key,
//! only the logs it was configured to witness: the member feeds of a
//! channel whose charter names it as a witness (the charter is presented
//! by a member, with its proof), or logs its operator added. It cosigns a
//! checkpoint only when it is consistent with everything this node holds
//! of that log: what it cosigned before, and its own copy of the feed if
//! it has one. It never receives entries (but the charter).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use parley_log::equivocation::Equivocation;
use parley_log::merkle::{consistency_proof, root, verify_inclusion};
use parley_log::tiles::TileNodes;
use parley_log::witness::{
    AddCheckpoint, SIZE_CONTENT_TYPE, Witnessed, judge, parse_add_checkpoint,
};
use parley_log::{Checkpoint, Entry, Hash, Note, SignedCheckpoint, VerifierKey};
use parley_store::{FeedId, FeedTiles, StoreError, WitnessLog, WitnessedRecord};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::wire::{Reason, Refused};
use crate::feeds::record_evidence;
use crate::state::Node;

/// Serializes witness updates so the check and the swap see the same state.
static WITNESS_LOCK: Mutex<()> = Mutex::const_new(());

/// `parley/<channel>/<party>` → the feed, if it has that shape.
pub fn feed_of_origin(origin: &str) -> Option<FeedId> {
    let rest = origin.strip_prefix("parley/")?;
    let (channel, party) = rest.split_once('/')?;
    parley_log::entry::check_identifier(channel).ok()?;
    parley_log::entry::check_identifier(party).ok()?;
    Some(FeedId::new(channel, party))
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [("content-type", "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The log key of a witnessed origin that signed this note (current or
/// retired), or the current one when none did (the check then fails 403).
fn log_key(node: &Node, log: &WitnessLog, note: &Note) -> Option<VerifierKey> {
    let peer = node.peer(&log.party)?;
    let keys = peer.identity.log_keys_for(&log.origin);
    keys.iter()
        .rev()
        .find(|k| {
            note.signatures()
                .iter()
                .any(|s| s.name == k.name() && s.key_id == k.id())
        })
        .or(keys.last())
        .cloned()
}

/// `POST /witness/v1/add-checkpoint` (the submission prefix is `/witness/v1`).
pub async fn add_checkpoint(State(node): State<Arc<Node>>, body: Bytes) -> Response {
    let req = match parse_add_checkpoint(&body) {
        Ok(r) => r,
        Err(refusal) => return text(StatusCode::BAD_REQUEST, format!("{}\n", refusal.reason)),
    };
    let origin = req.checkpoint.origin.clone();
    let o = origin.clone();
    let log = match node.db(move |s| s.witness_log(&o)).await {
        Ok(l) => l,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    };
    let key = log.as_ref().and_then(|l| log_key(&node, l, &req.note));
    let feed = feed_of_origin(&origin);
    let _guard = WITNESS_LOCK.lock().await;
    let o = origin.clone();
    let state = match node.db(move |s| s.witnessed(&o)).await {
        Ok(s) => s,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    };
    let witnessed = state.as_ref().map(|r| Witnessed {
        size: r.size,
        root: r.root,
        note: r.note.clone(),
    });
    if let Err(refusal) = judge(&req, key.as_ref(), witnessed.as_ref()) {
        if refusal.status == 404 {
            tracing::info!(%origin, "witness: asked to cosign a log it does not witness");
            // Not witnessed here, but if it is a pinned party's feed this
            // node holds, a signed checkpoint contradicting it is still a fork.
            if let Some(feed) = &feed
                && let Some(peer) = node.peer(&feed.author)
                && peer
                    .feed_keys(feed)
                    .iter()
                    .any(|k| SignedCheckpoint::open_note(req.note.clone(), k, &[]).is_ok())
            {
                let _ = conflicts_with_held(&node, feed, &req).await;
            }
        } else if let (Some(ev), Some(feed)) = (&refusal.evidence, &feed) {
            let why = format!("witness {}: {}", node.party, refusal.reason);
            record_evidence(&node, feed, ev, true, why).await;
        } else if let (422, Some(feed), Some(w)) = (refusal.status, &feed, &witnessed)
            && w.size > 0
            && req.checkpoint.size > w.size
        {
            // A signed checkpoint whose proof does not bind it to what was
            // cosigned: unproven (the proof does not show the other
            // prefix), but kept and raised.
            let ev = Equivocation {
                first: w.note.clone(),
                second: req.note.to_string(),
                prefix: None,
            };
            let why = format!("witness {}: {} (unproven)", node.party, refusal.reason);
            record_evidence(&node, feed, &ev, false, why).await;
        } else if refusal.status == 422 {
            tracing::warn!(%origin, "witness refused a checkpoint: {}", refusal.reason);
        }
        let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
        return match refusal.latest_size {
            Some(size) if refusal.status == 409 => (
                status,
                [("content-type", SIZE_CONTENT_TYPE)],
                format!("{size}\n"),
            )
                .into_response(),
            _ => text(status, format!("{}\n", refusal.reason)),
        };
    }
    if let Some(feed) = &feed
        && let Some(reason) = conflicts_with_held(&node, feed, &req).await
    {
        return text(StatusCode::UNPROCESSABLE_ENTITY, format!("{reason}\n"));
    }
    let now = crate::clock::now().unix() as u64;
    let line = node.keys.witness_cosign(&req.checkpoint, now);
    // The tree this node last cosigned, submitted again (every member
    // submits the feeds it holds, so each checkpoint comes once from its
    // author and once from each other member): what is persisted, the
    // last signed size and root, stays as it is, so a fresh cosignature
    // needs no write.
    if state
        .as_ref()
        .is_some_and(|s| s.size == req.checkpoint.size && s.root == req.checkpoint.root)
    {
        return text(StatusCode::OK, line.to_line());
    }
    let mut stored = req.note.clone();
    stored.add_signature(line.clone());
    let record = WitnessedRecord {
        origin: origin.clone(),
        size: req.checkpoint.size,
        root: req.checkpoint.root,
        note: stored.to_string(),
    };
    let expected = state.as_ref().map(|s| s.size);
    match node.db(move |s| s.swap_witnessed(expected, &record)).await {
        Ok(true) => {
            tracing::debug!(%origin, size = req.checkpoint.size, "witnessed");
            text(StatusCode::OK, line.to_line())
        }
        Ok(false) => {
            let o = origin.clone();
            let latest = node
                .db(move |s| s.witnessed(&o))
                .await
                .ok()
                .flatten()
                .map_or(0, |r| r.size);
            (
                StatusCode::CONFLICT,
                [("content-type", SIZE_CONTENT_TYPE)],
                format!("{latest}\n"),
            )
                .into_response()
        }
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

/// Compares a checkpoint with this node's own copy of the feed, if it
/// holds one: a different root at a size it holds is a fork, recorded as
/// evidence. Returns the refusal reason on a conflict.
async fn conflicts_with_held(
    node: &Arc<Node>,
    feed: &FeedId,
    req: &AddCheckpoint,
) -> Option<String> {
    let cp = req.checkpoint.clone();
    let their = req.note.clone();
    let f = feed.clone();
    let found = node
        .db(move |s| held_conflict(s, &f, &cp, &their))
        .await
        .ok()
        .flatten()?;
    let summary = format!(
        "witness {}: {} signed size {} with root {}, which the copy of its feed held here contradicts",
        node.party, feed.author, req.checkpoint.size, req.checkpoint.root
    );
    record_evidence(node, feed, &found, true, summary.clone()).await;
    Some(summary)
}

/// Evidence that `cp` contradicts the feed this store holds, if it does.
///
/// # Errors
/// The store fails or its tiles are corrupt.
pub fn held_conflict(
    s: &dyn parley_store::Store,
    feed: &FeedId,
    cp: &Checkpoint,
    their: &Note,
) -> Result<Option<Equivocation>, StoreError> {
    let Some(head) = s.feed_head(feed)? else {
        return Ok(None);
    };
    if cp.size > head.size || cp.size == 0 {
        return Ok(None);
    }
    let tiles = FeedTiles { store: s, feed };
    let mut nodes = TileNodes::new(&tiles);
    let ours = root(&mut nodes, cp.size).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if ours == cp.root {
        return Ok(None);
    }
    let mut their = their.clone();
    let origin = feed.origin();
    their.retain_signatures(|sig| sig.name == origin);
    if let Some(same) = s.checkpoint(feed, cp.size)? {
        return Ok(Some(Equivocation {
            first: same,
            second: their.to_string(),
            prefix: None,
        }));
    }
    let proof = consistency_proof(&mut nodes, cp.size, head.size)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let Some(head_note) = s.checkpoint(feed, head.size)? else {
        return Ok(None);
    };
    Ok(Some(Equivocation {
        first: their.to_string(),
        second: head_note,
        prefix: Some((ours, proof)),
    }))
}

/// `GET /witness/v1/<hex sha256(origin)>/checkpoint`: the latest cosigned
/// checkpoint, with the log's and this witness's signatures.
pub async fn monitor(State(node): State<Arc<Node>>, Path(hash): Path<String>) -> Response {
    match node.db(|s| s.witnessed_all()).await {
        Ok(all) => match all
            .into_iter()
            .find(|r| parley_log::witness::origin_hash(&r.origin) == hash)
        {
            Some(r) => text(StatusCode::OK, r.note),
            None => text(
                StatusCode::NOT_FOUND,
                "no checkpoint cosigned for this origin\n".into(),
            ),
        },
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

/// A channel's charter shown to a witness it names: the creator's first
/// entry, its inclusion proof, and a checkpoint of the creator's feed.
/// Body of `POST /federation/v1/witness-charter`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CharterPresentation {
    /// The charter entry's canonical bytes, base64.
    pub entry: String,
    /// The creator's signed checkpoint that includes it.
    pub checkpoint: String,
    /// Inclusion proof of entry 0 in that checkpoint, base64 hashes.
    pub proof: Vec<String>,
}

/// Checks a charter presentation and, if the charter names this node as a
/// witness, starts witnessing each member's feed whose party is pinned.
///
/// # Errors
/// A refusal naming what does not check out; nothing is stored then.
pub async fn learn_charter(
    node: &Arc<Node>,
    p: CharterPresentation,
) -> Result<Vec<String>, Refused> {
    let bad = |m: String| Refused::new(Reason::BadRequest, m);
    let bytes = STANDARD
        .decode(&p.entry)
        .map_err(|_| bad("entry is not base64".into()))?;
    let (entry, leaf) = Entry::decode_with_leaf(&bytes)
        .map_err(|e| Refused::new(Reason::NonCanonical, e.to_string()))?;
    if entry.kind != "channel_charter" || entry.seq != 0 {
        return Err(bad(format!(
            "{} is a {} at position {}, not a channel's charter",
            entry.id(),
            entry.kind,
            entry.seq
        )));
    }
    let creator = node.peer(&entry.author).ok_or_else(|| {
        Refused::new(
            Reason::UnknownAuthor,
            format!("{:?} is not a pinned peer", entry.author),
        )
    })?;
    let feed = FeedId::new(&entry.channel, &entry.author);
    let signed = creator
        .feed_keys(&feed)
        .iter()
        .find_map(|k| SignedCheckpoint::open(p.checkpoint.as_bytes(), k, &[]).ok())
        .ok_or_else(|| {
            Refused::new(
                Reason::BadSignature,
                format!(
                    "the checkpoint is not signed by {}'s log key for {}",
                    entry.author,
                    feed.origin()
                ),
            )
        })?;
    let proof = p
        .proof
        .iter()
        .map(|h| Hash::from_base64(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("proof: {e}")))?;
    let cp = signed.checkpoint;
    verify_inclusion(0, cp.size, &leaf, &proof, &cp.root)
        .map_err(|e| Refused::new(Reason::RootMismatch, format!("inclusion proof: {e}")))?;
    let charter: parley_domain::Charter =
        parley_domain::kinds::parse_body(&entry.body).map_err(|v| {
            let mut r = Refused::new(Reason::InvalidEntry, "the charter is invalid");
            r.violations = vec![v];
            r
        })?;
    if !charter.witnesses.contains(&node.party) {
        return Err(Refused::new(
            Reason::NotMember,
            format!(
                "the charter of {} does not name {} as a witness",
                entry.channel, node.party
            ),
        ));
    }
    let source = format!("charter {leaf}");
    let mut added = Vec::new();
    for m in &charter.members {
        if node.peer(m).is_none() {
            tracing::warn!(channel = %entry.channel, member = %m, "witness: a member of a charter naming this node is not pinned; its feed cannot be witnessed");
            continue;
        }
        let log = WitnessLog {
            origin: FeedId::new(&entry.channel, m).origin(),
            party: m.clone(),
            source: source.clone(),
        };
        let origin = log.origin.clone();
        if node
            .db(move |s| s.add_witness_log(&log))
            .await
            .map_err(|e| Refused::new(Reason::Internal, e.to_string()))?
        {
            tracing::info!(%origin, "now witnessing");
            added.push(origin);
        }
    }
    Ok(added)
}

/// `POST /federation/v1/witness-charter`.
pub async fn charter(
    State(node): State<Arc<Node>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let p: CharterPresentation = match body
        .map_err(|e| e.body_text())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(p) => p,
        Err(e) => return Refused::new(Reason::BadRequest, format!("body: {e}")).into_response(),
    };
    match learn_charter(&node, p).await {
        Ok(added) => Json(serde_json::json!({"witnessing": added})).into_response(),
        Err(r) => {
            tracing::warn!(
                reason = r.reason.as_str(),
                "refused a charter: {}",
                r.message
            );
            r.into_response()
        }
    }
}
