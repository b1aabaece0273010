//! Calls to peers: push, pull, receipt, link test, and the C2SP
//! tlog-witness protocol.

use parley_log::hash::Hash;
use parley_log::witness::SIZE_CONTENT_TYPE;
use parley_store::FeedId;

use super::wire::{ErrorBody, FeedUpdate, PushReply, ReceiptMessage};
use crate::state::{Node, PeerInfo};

/// How a call to a peer failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The peer could not be reached: the link is down.
    #[error("unreachable: {0}")]
    Network(String),
    /// The peer answered with a refusal.
    #[error("refused ({status}): {}: {}", .body.error, .body.message)]
    Refused { status: u16, body: ErrorBody },
    /// The peer answered something this node cannot read.
    #[error("bad answer: {0}")]
    Protocol(String),
}

impl CallError {
    /// Whether the peer was reached (the link is up even if it refused).
    pub fn reached(&self) -> bool {
        !matches!(self, CallError::Network(_))
    }
}

fn network(e: reqwest::Error) -> CallError {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg = format!("{msg}: {s}");
        src = s.source();
    }
    CallError::Network(msg)
}

async fn refused(resp: reqwest::Response) -> CallError {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str::<ErrorBody>(&text).unwrap_or(ErrorBody {
        error: "http".into(),
        message: text.chars().take(500).collect(),
        size: None,
        violations: vec![],
    });
    CallError::Refused { status, body }
}

pub async fn push(
    node: &Node,
    peer: &PeerInfo,
    update: &FeedUpdate,
) -> Result<PushReply, CallError> {
    let resp = node
        .http
        .post(format!("{}/federation/v1/push", peer.url))
        .json(update)
        .send()
        .await
        .map_err(network)?;
    if !resp.status().is_success() {
        return Err(refused(resp).await);
    }
    resp.json()
        .await
        .map_err(|e| CallError::Protocol(e.to_string()))
}

/// Asks the author for its feed from `from` on; `None` when there is nothing new.
pub async fn pull(
    node: &Node,
    peer: &PeerInfo,
    feed: &FeedId,
    from: u64,
) -> Result<Option<FeedUpdate>, CallError> {
    let resp = node
        .http
        .get(format!(
            "{}/federation/v1/feeds/{}/{}?from={from}",
            peer.url, feed.channel, feed.author
        ))
        .send()
        .await
        .map_err(network)?;
    if resp.status() == reqwest::StatusCode::NO_CONTENT {
        return Ok(None);
    }
    if !resp.status().is_success() {
        return Err(refused(resp).await);
    }
    resp.json()
        .await
        .map(Some)
        .map_err(|e| CallError::Protocol(e.to_string()))
}

pub async fn send_receipt(
    node: &Node,
    peer: &PeerInfo,
    msg: &ReceiptMessage,
) -> Result<(), CallError> {
    let resp = node
        .http
        .post(format!("{}/federation/v1/receipt", peer.url))
        .json(msg)
        .send()
        .await
        .map_err(network)?;
    if !resp.status().is_success() {
        return Err(refused(resp).await);
    }
    Ok(())
}

/// Sends a signed link test; returns the signed reply's text.
pub async fn ping(node: &Node, peer: &PeerInfo, note: String) -> Result<String, CallError> {
    let resp = node
        .http
        .post(format!("{}/federation/v1/ping", peer.url))
        .header("content-type", "text/plain; charset=utf-8")
        .body(note)
        .send()
        .await
        .map_err(network)?;
    if !resp.status().is_success() {
        return Err(refused(resp).await);
    }
    resp.text()
        .await
        .map_err(|e| CallError::Protocol(e.to_string()))
}

/// The witness's answer to `add-checkpoint`.
#[derive(Debug)]
pub enum WitnessAnswer {
    /// 200: cosignature lines.
    Cosigned(String),
    /// 409: the size the witness last cosigned.
    Conflict(u64),
    /// Any other status, with the body.
    Refused(u16, String),
}

pub async fn add_checkpoint(
    node: &Node,
    witness: &PeerInfo,
    body: String,
) -> Result<WitnessAnswer, CallError> {
    let resp = node
        .http
        .post(format!("{}/witness/v1/add-checkpoint", witness.url))
        .body(body)
        .send()
        .await
        .map_err(network)?;
    let status = resp.status().as_u16();
    let is_size = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(SIZE_CONTENT_TYPE));
    let text = resp.text().await.map_err(network)?;
    Ok(match status {
        200 => WitnessAnswer::Cosigned(text),
        409 if is_size => WitnessAnswer::Conflict(
            text.trim_end_matches('\n')
                .parse()
                .map_err(|_| CallError::Protocol(format!("409 body {text:?} is not a size")))?,
        ),
        s => WitnessAnswer::Refused(s, text),
    })
}

/// The witness's latest cosigned checkpoint for an origin (C2SP monitor read).
pub async fn witnessed_checkpoint(
    node: &Node,
    witness: &PeerInfo,
    origin: &str,
) -> Result<Option<String>, CallError> {
    let hash = parley_log::witness::origin_hash(origin);
    let resp = node
        .http
        .get(format!("{}/witness/v1/{hash}/checkpoint", witness.url))
        .send()
        .await
        .map_err(network)?;
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !resp.status().is_success() {
        return Err(refused(resp).await);
    }
    resp.text().await.map(Some).map_err(network)
}

/// Parses base64 proof hashes.
pub fn hashes(lines: &[String]) -> Result<Vec<Hash>, String> {
    lines
        .iter()
        .map(|h| Hash::from_base64(h).map_err(|e| e.to_string()))
        .collect()
}
