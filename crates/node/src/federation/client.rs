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
    /// Whether the peer answered in the protocol (the link is up even if
    /// it refused). A peer that answers garbage is no better than none.
    pub fn reached(&self) -> bool {
        matches!(self, CallError::Refused { .. }) && !self.not_active()
    }

    /// A standby of the peer answered: another of its addresses is active.
    pub fn not_active(&self) -> bool {
        matches!(self, CallError::Refused { status: 503, body } if body.error == "not_active")
    }
}

/// Notes a failed call: a peer that did not answer, or answered as a
/// standby, is tried at its next pinned address next time.
fn failed(peer: &PeerInfo, e: CallError) -> CallError {
    if matches!(e, CallError::Network(_)) || e.not_active() {
        peer.fail_over();
    }
    e
}

/// The mutual-TLS client for `peer`.
fn to(node: &Node, peer: &PeerInfo) -> Result<reqwest::Client, CallError> {
    node.client_for(peer)
        .map_err(|e| CallError::Network(format!("TLS towards {}: {e}", peer.party)))
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

/// Largest answer read from a peer for anything but a feed: receipts, link
/// tests, refusals and witness answers are a few hundred bytes.
const MAX_SMALL_ANSWER: usize = 64 * 1024;

/// Reads an answer's body, but never more than `limit` bytes: a hostile or
/// broken peer that streams an endless body costs at most that much memory
/// (and the request timeout bounds the time).
async fn read_limited(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, CallError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(CallError::Protocol(format!(
            "the answer announces {} bytes, more than the {limit} this node reads",
            resp.content_length().unwrap_or(0)
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(network)? {
        if body.len() + chunk.len() > limit {
            return Err(CallError::Protocol(format!(
                "the answer is longer than the {limit} bytes this node reads"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn read_json<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
    limit: usize,
) -> Result<T, CallError> {
    let body = read_limited(resp, limit).await?;
    serde_json::from_slice(&body).map_err(|e| CallError::Protocol(format!("the answer: {e}")))
}

async fn read_text(resp: reqwest::Response) -> Result<String, CallError> {
    let body = read_limited(resp, MAX_SMALL_ANSWER).await?;
    String::from_utf8(body).map_err(|_| CallError::Protocol("the answer is not UTF-8".into()))
}

async fn refused(resp: reqwest::Response) -> CallError {
    let status = resp.status().as_u16();
    let text = match read_text(resp).await {
        Ok(t) => t,
        Err(e) => return e,
    };
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
    let resp = to(node, peer)?
        .post(format!("{}/federation/v1/push", peer.url()))
        .json(update)
        .send()
        .await
        .map_err(|e| failed(peer, network(e)))?;
    if !resp.status().is_success() {
        return Err(failed(peer, refused(resp).await));
    }
    read_json(resp, MAX_SMALL_ANSWER).await
}

/// Asks the author for its feed from `from` on; `None` when there is nothing new.
pub async fn pull(
    node: &Node,
    peer: &PeerInfo,
    feed: &FeedId,
    from: u64,
) -> Result<Option<FeedUpdate>, CallError> {
    let resp = to(node, peer)?
        .get(format!(
            "{}/federation/v1/feeds/{}/{}?from={from}",
            peer.url(),
            feed.channel,
            feed.author
        ))
        .header(
            super::reader::HEADER,
            super::reader::request(&node.keys.node_key(), &node.party, feed, from),
        )
        .send()
        .await
        .map_err(|e| failed(peer, network(e)))?;
    if resp.status() == reqwest::StatusCode::NO_CONTENT {
        return Ok(None);
    }
    if !resp.status().is_success() {
        return Err(failed(peer, refused(resp).await));
    }
    read_json(resp, super::wire::MAX_BODY).await.map(Some)
}

/// POSTs a request to a peer's federation API and succeeds on any 2xx.
async fn post_ok(
    node: &Node,
    peer: &PeerInfo,
    path: &str,
    build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Result<(), CallError> {
    let resp = build(to(node, peer)?.post(format!("{}/federation/v1/{path}", peer.url())))
        .send()
        .await
        .map_err(|e| failed(peer, network(e)))?;
    if !resp.status().is_success() {
        return Err(failed(peer, refused(resp).await));
    }
    Ok(())
}

pub async fn send_receipt(
    node: &Node,
    peer: &PeerInfo,
    msg: &ReceiptMessage,
) -> Result<(), CallError> {
    post_ok(node, peer, "receipt", |r| r.json(msg)).await
}

/// Shows a parley witness the charter of a channel that names it.
pub async fn present_charter(
    node: &Node,
    witness: &PeerInfo,
    p: &super::witness::CharterPresentation,
) -> Result<(), CallError> {
    post_ok(node, witness, "witness-charter", |r| r.json(p)).await
}

/// Shares the cosignatures this node holds on one of its feeds.
pub async fn share_cosignatures(
    node: &Node,
    peer: &PeerInfo,
    msg: &super::wire::SharedCosignatures,
) -> Result<(), CallError> {
    post_ok(node, peer, "cosignatures", |r| r.json(msg)).await
}

/// Sends this party's key rotation statement to a peer.
pub async fn send_rotation(node: &Node, peer: &PeerInfo, statement: &str) -> Result<(), CallError> {
    post_ok(node, peer, "rotation", |r| {
        r.header("content-type", "text/plain; charset=utf-8")
            .body(statement.to_string())
    })
    .await
}

/// Sends a signed link test; returns the signed reply's text.
pub async fn ping(node: &Node, peer: &PeerInfo, note: String) -> Result<String, CallError> {
    let resp = to(node, peer)?
        .post(format!("{}/federation/v1/ping", peer.url()))
        .header("content-type", "text/plain; charset=utf-8")
        .body(note)
        .send()
        .await
        .map_err(|e| failed(peer, network(e)))?;
    if !resp.status().is_success() {
        return Err(failed(peer, refused(resp).await));
    }
    read_text(resp).await
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

/// The submission (and monitoring) prefix of a parley node's witness.
pub fn parley_witness_prefix(witness: &PeerInfo) -> String {
    format!("{}/witness/v1", witness.url())
}

/// The client for a witness: mutual TLS for a pinned parley witness, the
/// web's usual TLS for an external one.
pub fn witness_http(node: &Node, peer: Option<&PeerInfo>) -> Result<reqwest::Client, CallError> {
    match peer {
        Some(p) => to(node, p),
        None => Ok(node.http.clone()),
    }
}

/// C2SP tlog-witness: `POST <submission prefix>/add-checkpoint`.
pub async fn add_checkpoint(
    http: &reqwest::Client,
    submission_prefix: &str,
    body: String,
) -> Result<WitnessAnswer, CallError> {
    let resp = http
        .post(format!(
            "{}/add-checkpoint",
            submission_prefix.trim_end_matches('/')
        ))
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
    let text = read_text(resp).await?;
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
    http: &reqwest::Client,
    monitoring_prefix: &str,
    origin: &str,
) -> Result<Option<String>, CallError> {
    let hash = parley_log::witness::origin_hash(origin);
    let resp = http
        .get(format!(
            "{}/{hash}/checkpoint",
            monitoring_prefix.trim_end_matches('/')
        ))
        .send()
        .await
        .map_err(network)?;
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !resp.status().is_success() {
        return Err(refused(resp).await);
    }
    read_text(resp).await.map(Some)
}

/// Parses base64 proof hashes.
pub fn hashes(lines: &[String]) -> Result<Vec<Hash>, String> {
    lines
        .iter()
        .map(|h| Hash::from_base64(h).map_err(|e| e.to_string()))
        .collect()
}
