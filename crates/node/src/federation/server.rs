//! The federation API peers call: push, catch-up, receipts, link tests.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use parley_store::{DeliveryRole, FeedId};
use serde::Deserialize;

use super::wire::{FeedUpdate, PushReply, Reason, ReceiptMessage, Refused};
use super::{link, reader};
use crate::feeds;
use crate::state::Node;

pub use super::wire::MAX_BODY;

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.reason.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}

/// Reads a JSON body, turning every failure into a machine-readable refusal.
fn json_body<T: for<'de> Deserialize<'de>>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, Refused> {
    let bytes = body.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Refused::new(
                Reason::TooLarge,
                format!("the request is larger than {MAX_BODY} bytes"),
            )
        } else {
            Refused::new(Reason::BadRequest, rej.body_text())
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Refused::new(Reason::BadRequest, format!("body: {e}")))
}

/// Refuses a request that announces a body over [`MAX_BODY`] before
/// reading any of it (the body limit alone would wait for the bytes).
pub async fn refuse_announced_oversize(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let announced = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = announced.filter(|n| *n > MAX_BODY as u64) {
        return Refused::new(
            Reason::TooLarge,
            format!("the request announces {n} bytes; this node takes at most {MAX_BODY}"),
        )
        .into_response();
    }
    next.run(req).await
}

/// The pinned party a federation request comes from, as the certificate
/// of its TLS connection proved.
#[derive(Clone, Debug)]
pub struct PeerParty(pub String);

/// The party whose node key the caller's certificate holds, if pinned.
pub fn tls_party(node: &Node, caller: &crate::tls::Caller) -> Option<String> {
    let key = caller.tls_key?;
    if let Some(p) = node.keys.party_of_node_key(&key) {
        return Some(p);
    }
    // Pinned since the last read of the table (`parley peer add`).
    node.reload_peers().ok()?;
    node.keys.party_of_node_key(&key)
}

/// Lets through only callers whose TLS certificate holds the node key of
/// a pinned peer (or of this node), and tells the handler who it is.
/// With `federation.plaintext` there is no certificate: handlers rely on
/// the signatures of what is sent alone.
pub async fn authenticate_peer(
    State(node): State<Arc<Node>>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if node.dir.config.federation.plaintext {
        return next.run(req).await;
    }
    let caller = req.extensions().get::<crate::tls::Caller>().cloned();
    let Some(caller) = caller else {
        return Refused::new(Reason::Internal, "no connection information").into_response();
    };
    match tls_party(&node, &caller) {
        Some(party) => {
            req.extensions_mut().insert(PeerParty(party));
            next.run(req).await
        }
        None => {
            let r = Refused::new(
                Reason::NotAuthenticated,
                if caller.tls_key.is_some() {
                    "the TLS certificate is not for the node key of any pinned peer"
                } else {
                    "the federation API answers pinned peers only: connect with your node's TLS certificate"
                },
            );
            log_refusal("a federation call", &caller.addr.to_string(), &r);
            r.into_response()
        }
    }
}

/// Refuses a request whose content names another party than the one
/// the connection proved.
fn same_party(
    peer: Option<&Extension<PeerParty>>,
    claimed: &str,
    role: &str,
) -> Result<(), Refused> {
    match peer {
        Some(Extension(PeerParty(p))) if p != claimed => Err(Refused::new(
            Reason::NotAuthenticated,
            format!("the connection is {p}'s, but the {role} is {claimed}"),
        )),
        _ => Ok(()),
    }
}

fn log_refusal(what: &str, peer: &str, r: &Refused) {
    tracing::warn!(
        reason = r.reason.as_str(),
        from = peer,
        "refused {what}: {}",
        r.message
    );
}

pub async fn push(
    State(node): State<Arc<Node>>,
    peer: Option<Extension<PeerParty>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let update: FeedUpdate = match json_body(body) {
        Ok(u) => u,
        Err(r) => {
            log_refusal("push", "?", &r);
            return r.into_response();
        }
    };
    let author = update.author.clone();
    if let Err(r) = same_party(peer.as_ref(), &author, "feed's author") {
        log_refusal("push", &author, &r);
        return r.into_response();
    }
    let update = match update.decode() {
        Ok(u) => u,
        Err(r) => {
            log_refusal("push", &author, &r);
            return r.into_response();
        }
    };
    match feeds::ingest(&node, update).await {
        Ok(receipt) => {
            node.record_link(&author, Ok(()));
            Json(PushReply::from(receipt)).into_response()
        }
        Err(e) => {
            let r = Refused::from(e);
            log_refusal("push", &author, &r);
            r.into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct FromQuery {
    #[serde(default)]
    from: u64,
}

/// Catch-up: a member asks for this node's feed from its own size on.
pub async fn feed(
    State(node): State<Arc<Node>>,
    Path((channel, author)): Path<(String, String)>,
    Query(q): Query<FromQuery>,
    peer: Option<Extension<PeerParty>>,
    headers: axum::http::HeaderMap,
) -> Response {
    if author != node.party {
        return Refused::new(Reason::BadRequest, "only an author serves its own feed")
            .into_response();
    }
    let feed = FeedId::new(&channel, &author);
    let header = headers.get(reader::HEADER).and_then(|v| v.to_str().ok());
    let tls = peer.as_ref().map(|Extension(PeerParty(p))| p.as_str());
    if let Err(r) = reader::check(&node, &feed, q.from, header, tls) {
        log_refusal("a feed read", "?", &r);
        return r.into_response();
    }
    match feeds::build_update(
        &node,
        &feed,
        q.from,
        node.dir.config.federation.max_batch_entries,
    )
    .await
    {
        Ok(Some(u)) => Json(FeedUpdate::encode(&u)).into_response(),
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => Refused::new(Reason::Internal, e.to_string()).into_response(),
    }
}

/// A member's receipt for this node's checkpoint, after it pulled.
pub async fn receipt(
    State(node): State<Arc<Node>>,
    peer: Option<Extension<PeerParty>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let msg: ReceiptMessage = match json_body(body) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    if let Err(r) = same_party(peer.as_ref(), &msg.cosigner, "cosigner") {
        log_refusal("receipt", &msg.cosigner, &r);
        return r.into_response();
    }
    if msg.author != node.party {
        return Refused::new(Reason::BadRequest, "receipts go to the feed's author")
            .into_response();
    }
    let feed = FeedId::new(&msg.channel, &msg.author);
    match feeds::accept_cosignature(
        &node,
        &feed,
        msg.size,
        &msg.cosigner,
        &msg.cosignature,
        DeliveryRole::Push,
    )
    .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            let r = Refused::from(e);
            log_refusal("receipt", &msg.cosigner, &r);
            r.into_response()
        }
    }
}

pub async fn ping(
    State(node): State<Arc<Node>>,
    peer: Option<Extension<PeerParty>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Ok(bytes) = body else {
        return Refused::new(Reason::BadRequest, "unreadable body").into_response();
    };
    let tls = peer.as_ref().map(|Extension(PeerParty(p))| p.as_str());
    match link::answer(&node, &bytes, tls) {
        Ok((from, reply)) => {
            node.record_link(&from, Ok(()));
            ([("content-type", "text/plain; charset=utf-8")], reply).into_response()
        }
        Err(r) => r.into_response(),
    }
}

/// A peer's key rotation statement (`POST /federation/v1/rotation`).
pub async fn rotation(
    State(node): State<Arc<Node>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Ok(text) = body.map(|b| String::from_utf8_lossy(&b).into_owned()) else {
        return Refused::new(Reason::BadRequest, "unreadable body").into_response();
    };
    match crate::rotation::accept(&node, &text).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            let reason = match &e {
                crate::rotation::RotationFailure::UnknownParty(_) => Reason::UnknownAuthor,
                crate::rotation::RotationFailure::Refused(_) => Reason::BadSignature,
                crate::rotation::RotationFailure::Conflict(_) => Reason::SizeMismatch,
                _ => Reason::Internal,
            };
            let r = Refused::new(reason, e.to_string());
            log_refusal("key rotation", "?", &r);
            r.into_response()
        }
    }
}

/// Cosignatures an author shares on its feed (`POST /federation/v1/cosignatures`).
pub async fn cosignatures(
    State(node): State<Arc<Node>>,
    peer: Option<Extension<PeerParty>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let msg: super::wire::SharedCosignatures = match json_body(body) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    if let Err(r) = same_party(peer.as_ref(), &msg.author, "feed's author") {
        log_refusal("shared cosignatures", &msg.author, &r);
        return r.into_response();
    }
    let mut shared = Vec::with_capacity(msg.cosignatures.len());
    for c in msg.cosignatures {
        let Some(statement) = parley_store::Statement::parse(&c.statement) else {
            return Refused::new(
                Reason::BadRequest,
                format!("unknown statement {:?}", c.statement),
            )
            .into_response();
        };
        shared.push(feeds::SharedCosignature {
            size: c.size,
            cosigner: c.cosigner,
            statement,
            line: c.line,
        });
    }
    let feed = FeedId::new(&msg.channel, &msg.author);
    match feeds::accept_shared(&node, &feed, shared).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            let r = Refused::from(e);
            log_refusal("shared cosignatures", &msg.author, &r);
            r.into_response()
        }
    }
}
