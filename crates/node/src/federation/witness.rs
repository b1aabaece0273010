//! This node as a C2SP tlog-witness: it cosigns checkpoints of pinned
//! parties' feeds when they are consistent with what it cosigned before.
//! It never receives entries.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parley_log::note::cosignature_line;
use parley_log::witness::{SIZE_CONTENT_TYPE, Witnessed, judge, parse_add_checkpoint};
use parley_log::{KeyType, Timestamp, VerifierKey};
use parley_store::{FeedId, WitnessedRecord};
use tokio::sync::Mutex;

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

/// `POST /witness/v1/add-checkpoint`.
pub async fn add_checkpoint(State(node): State<Arc<Node>>, body: Bytes) -> Response {
    let req = match parse_add_checkpoint(&body) {
        Ok(r) => r,
        Err(refusal) => return text(StatusCode::BAD_REQUEST, format!("{}\n", refusal.reason)),
    };
    let origin = req.checkpoint.origin.clone();
    let feed = feed_of_origin(&origin);
    let log_key: Option<VerifierKey> = feed.as_ref().and_then(|f| {
        let p = node.peer(&f.author)?;
        p.key.with(&origin, KeyType::Ed25519).ok()
    });
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
    if let Err(refusal) = judge(&req, log_key.as_ref(), witnessed.as_ref()) {
        if let (Some(ev), Some(feed)) = (&refusal.evidence, &feed) {
            record_evidence(
                &node,
                feed,
                ev,
                true,
                format!("witness {}: {}", node.party, refusal.reason),
            )
            .await;
        } else if refusal.status == 422 {
            tracing::warn!(%origin, "witness refused an inconsistent checkpoint: {}", refusal.reason);
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
    let now = Timestamp::now().unix() as u64;
    let line = cosignature_line(&node.key, &req.checkpoint.to_text(), now);
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
        Ok(false) => text(StatusCode::CONFLICT, "concurrent update; retry\n".into()),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
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
