//! The local API for the CLI and scripts: JSON over HTTP, with the node's
//! bearer token (`DIR/api.token`).

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use parley_domain::Violation;
use parley_log::{Entry, Hash};
use parley_store::StoreError;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::actor::{self, Actor};
use crate::feeds::{self, AppendError};
use crate::state::Node;
use crate::{status, views};

pub mod domain;

/// An API error: a status, a machine-readable code, a message, and the
/// violated rules when an entry was invalid.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub violations: Vec<Violation>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            violations: vec![],
        }
    }

    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let violations: Vec<Value> = self
            .violations
            .iter()
            .map(|v| json!({"field": v.field, "rule": v.rule}))
            .collect();
        (
            self.status,
            Json(json!({"error": self.code, "message": self.message, "violations": violations})),
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        tracing::error!(error = %e, "store failure");
        if let Some(why) = e.storage_unavailable() {
            return ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage_unavailable",
                format!("nothing was stored: {why}; the node takes work again once it can write"),
            );
        }
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the node's database failed; see its log",
        )
    }
}

impl From<AppendError> for ApiError {
    fn from(e: AppendError) -> ApiError {
        match e {
            AppendError::Invalid(violations) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid_entry",
                message: format!("the entry breaks {} rule(s)", violations.len()),
                violations,
            },
            AppendError::Refused(r) => {
                ApiError::new(StatusCode::CONFLICT, "channel_state", r.to_string())
            }
            AppendError::UnknownChannel(c) => {
                ApiError::not_found(format!("channel {c:?} does not exist on this node"))
            }
            AppendError::ChannelExists(c) => ApiError::new(
                StatusCode::CONFLICT,
                "channel_exists",
                format!("channel {c:?} already exists"),
            ),
            AppendError::Entry(e) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_entry",
                e.to_string(),
            ),
            AppendError::NotPermitted(why) => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", why)
            }
            AppendError::Store(e) => e.into(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Compares tokens in constant time.
fn token_matches(given: &str, want: &str) -> bool {
    given.len() == want.len()
        && given
            .bytes()
            .zip(want.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Finds who a request acts for, by its bearer token: the node's own
/// token is the operator's; a user's token (`parley user token`) is that
/// user's, with that user's role.
async fn require_token(State(node): State<Arc<Node>>, mut req: Request, next: Next) -> Response {
    let client = req
        .extensions()
        .get::<crate::tls::Caller>()
        .map_or_else(|| "unknown".to_string(), |c| c.addr.to_string());
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let actor = token.and_then(|t| {
        if token_matches(&t, &node.dir.token) {
            return Some(Actor::operator(client.clone()));
        }
        let user = node.users.find_by_token(&t)?;
        Some(Actor {
            role: crate::console::auth::Role::parse(&user.role)?,
            user: user.name,
            client: client.clone(),
        })
    });
    let Some(actor) = actor else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong API token (DIR/api.token, or a user's from `parley user token`)",
        )
        .into_response();
    };
    req.extensions_mut().insert(actor);
    next.run(req).await
}

pub fn router(node: Arc<Node>) -> Router<Arc<Node>> {
    Router::new()
        .route("/status", get(get_status))
        .route("/identity/rotate", post(rotate_key))
        .route("/channels", get(list_channels).post(create_channel))
        .route("/channels/{id}/{act}", post(channel_act))
        .route("/channels/{id}/policy", get(channel_policy))
        .route("/entries", post(send_entry))
        .route("/inbox", get(inbox))
        .route("/entries/{channel}/{author}/{seq}", get(show_entry))
        .route("/entries/{channel}/{author}/{seq}/proof", get(entry_proof))
        .route("/evidence", get(list_evidence))
        .route("/evidence/{id}", get(get_evidence))
        .route("/events", get(events))
        .route("/obligations", get(domain::obligations))
        .route("/silence", get(domain::silence))
        .route("/silence/proof", get(silence_proof))
        .route("/timeline", get(domain::timeline))
        .route("/exercises", get(domain::exercises))
        .route("/verification", get(domain::verification))
        .route("/meetings", get(domain::meetings))
        .route("/negotiations", get(domain::negotiations))
        .route("/commitments", get(domain::commitments))
        .layer(middleware::from_fn_with_state(node, require_token))
}

#[derive(serde::Deserialize)]
struct RotateRequest {
    role: String,
}

async fn rotate_key(
    State(node): State<Arc<Node>>,
    Extension(actor): Extension<Actor>,
    Json(req): Json<RotateRequest>,
) -> ApiResult<Json<Value>> {
    if actor.role != crate::console::auth::Role::Administrator {
        actor::record(
            &node,
            &actor,
            "rotate-key",
            &req.role,
            None,
            "refused: administrators only",
        )
        .await;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "{} ({}) may not rotate keys: administrators only",
                actor.user,
                actor.role.title()
            ),
        ));
    }
    let role = parley_log::Role::parse(&req.role).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("role {:?}: log, receipt, witness or node", req.role),
        )
    })?;
    let statement = crate::rotation::rotate_own(&node, role)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    actor::record(&node, &actor, "rotate-key", role.as_str(), None, "ok").await;
    Ok(Json(json!({
        "role": role.as_str(),
        "key": node.keys.own_key(role).to_string(),
        "statement": statement,
        "identity": node.keys.identity().to_text(),
    })))
}

async fn get_status(State(node): State<Arc<Node>>) -> ApiResult<Json<Value>> {
    Ok(Json(status::status(&node).await?))
}

async fn list_channels(State(node): State<Arc<Node>>) -> Json<Value> {
    Json(Value::Array(
        node.channel_list()
            .iter()
            .map(status::channel_json)
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateChannel {
    id: String,
    /// The charter body (members, witnesses, level, languages, rules…).
    charter: Value,
}

async fn create_channel(
    State(node): State<Arc<Node>>,
    Extension(actor): Extension<Actor>,
    Json(req): Json<CreateChannel>,
) -> ApiResult<Json<Value>> {
    parley_log::entry::check_identifier(&req.id).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("channel id: {e}"),
        )
    })?;
    if let Ok(charter) = parley_domain::kinds::parse_body::<parley_domain::Charter>(&req.charter) {
        let unknown: Vec<&String> = charter
            .members
            .iter()
            .chain(&charter.witnesses)
            .filter(|p| **p != node.party && node.peer(p).is_none())
            .collect();
        if !unknown.is_empty() {
            let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_peer",
                format!(
                    "pin these parties first with `parley peer add`: {}",
                    names.join(", ")
                ),
            ));
        }
    }
    let a = actor::append_as(
        &node,
        &actor,
        &req.id,
        "channel_charter",
        req.charter,
        vec![],
    )
    .await?;
    Ok(Json(appended_json(&a)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActBody {
    #[serde(default)]
    reason: Option<String>,
}

async fn channel_act(
    State(node): State<Arc<Node>>,
    Extension(actor): Extension<Actor>,
    Path((id, act)): Path<(String, String)>,
    body: Option<Json<ActBody>>,
) -> ApiResult<Json<Value>> {
    let channel = node.channel(&id).ok_or_else(|| {
        ApiError::not_found(format!("channel {id:?} does not exist on this node"))
    })?;
    let reason = body.and_then(|b| b.0.reason);
    let (kind, body, refs) = match act.as_str() {
        "accept" => ("channel_acceptance", json!({}), vec![channel.charter_hash]),
        "suspend" => (
            "channel_suspension",
            json!({"reason": reason.unwrap_or_default()}),
            vec![],
        ),
        "resume" => (
            "channel_resumption",
            json!({"reason": reason.unwrap_or_default()}),
            vec![],
        ),
        other => {
            return Err(ApiError::not_found(format!(
                "no channel act {other:?} (accept, suspend, resume)"
            )));
        }
    };
    let a = actor::append_as(&node, &actor, &id, kind, body, refs).await?;
    Ok(Json(appended_json(&a)))
}

fn appended_json(a: &feeds::Appended) -> Value {
    json!({"id": a.id, "seq": a.seq, "hash": a.hash.to_hex(), "time": a.time.to_string()})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendEntry {
    channel: String,
    kind: String,
    body: Value,
    /// Entries referenced, as `channel/author/seq` or hex hashes.
    #[serde(default)]
    refs: Vec<String>,
}

async fn send_entry(
    State(node): State<Arc<Node>>,
    Extension(actor): Extension<Actor>,
    Json(req): Json<SendEntry>,
) -> ApiResult<Json<Value>> {
    let mut refs: Vec<Hash> = Vec::new();
    for r in &req.refs {
        let e = views::find_entry(&node, r).await?.ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_ref",
                format!("no entry {r:?} on this node"),
            )
        })?;
        refs.push(e.hash);
    }
    let a = actor::append_as(&node, &actor, &req.channel, &req.kind, req.body, refs).await?;
    Ok(Json(appended_json(&a)))
}

#[derive(Deserialize)]
struct InboxQuery {
    channel: Option<String>,
    #[serde(default = "default_limit")]
    limit: u64,
}

fn default_limit() -> u64 {
    100
}

async fn inbox(
    State(node): State<Arc<Node>>,
    Query(q): Query<InboxQuery>,
) -> ApiResult<Json<Value>> {
    let channel = q.channel.clone();
    let limit = q.limit.min(10_000);
    let rows = node
        .db(move |s| s.recent(channel.as_deref(), limit))
        .await?;
    let book = crate::ledger::current(&node).await?;
    let numbers = parley_domain::numbering::numbers(&book);
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let Ok(e) = Entry::decode(&r.bytes) else {
            continue;
        };
        let delivery = views::delivery(&node, r).await?;
        out.push(json!({
            "id": r.id(),
            "channel": r.channel,
            "author": r.author,
            "seq": r.seq,
            "kind": r.kind,
            "time": e.time.to_string(),
            "received_at": r.received_at,
            "priority": e.body.get("priority"),
            "summary": views::summary(&e),
            "number": numbers.get(&r.hash).map(|n| &n.text),
            "hash": r.hash.to_hex(),
            "delivery": delivery,
        }));
    }
    Ok(Json(Value::Array(out)))
}

async fn load_entry(
    node: &Arc<Node>,
    channel: &str,
    author: &str,
    seq: u64,
) -> ApiResult<parley_store::StoredEntry> {
    let feed = parley_store::FeedId::new(channel, author);
    node.db(move |s| s.entry(&feed, seq)).await?.ok_or_else(|| {
        ApiError::not_found(format!("no entry {channel}/{author}/{seq} on this node"))
    })
}

async fn show_entry(
    State(node): State<Arc<Node>>,
    Path((channel, author, seq)): Path<(String, String, u64)>,
) -> ApiResult<Json<Value>> {
    let r = load_entry(&node, &channel, &author, seq).await?;
    let e =
        Entry::decode(&r.bytes).map_err(|e| ApiError::from(StoreError::Corrupt(e.to_string())))?;
    let delivery = views::delivery(&node, &r).await?;
    let witnessed = views::witnessed(&node, &r).await?;
    let hash = r.hash;
    let by = node.db(move |s| s.referencing(&hash)).await?;
    let mut references = Vec::new();
    for h in &e.refs {
        let h = *h;
        let target = node.db(move |s| s.entry_by_hash(&h)).await?;
        references.push(json!({"hash": h.to_hex(), "id": target.as_ref().map(|t| t.id()), "kind": target.as_ref().map(|t| t.kind.clone())}));
    }
    let book = crate::ledger::current(&node).await?;
    let number = book
        .get(&r.hash)
        .and_then(|k| parley_domain::numbering::number(&book, k));
    Ok(Json(json!({
        "id": r.id(),
        "hash": r.hash.to_hex(),
        "number": number,
        "channel": e.channel,
        "author": e.author,
        "seq": e.seq,
        "time": e.time.to_string(),
        "received_at": r.received_at,
        "kind": e.kind,
        "body": e.body,
        "references": references,
        "referenced_by": by.iter().map(views::RefBy::of).collect::<Vec<_>>(),
        "delivery": delivery,
        "witnessed": witnessed.iter().map(|c| json!({"witness": c.cosigner, "time": c.time, "size": c.size, "cosignature": c.line})).collect::<Vec<_>>(),
    })))
}

async fn entry_proof(
    State(node): State<Arc<Node>>,
    Path((channel, author, seq)): Path<(String, String, u64)>,
) -> ApiResult<Response> {
    let r = load_entry(&node, &channel, &author, seq).await?;
    let bundle = views::proof_bundle(&node, &r).await?;
    Ok(([("content-type", "text/plain; charset=utf-8")], bundle).into_response())
}

/// Server-sent events: every entry, receipt, link change and alarm, as
/// they happen.
async fn events(State(node): State<Arc<Node>>) -> impl IntoResponse {
    event_stream(&node)
}

/// The node's events as an SSE stream (for the API and the console).
pub fn event_stream(node: &Node) -> impl IntoResponse + use<> {
    use axum::response::sse::{Event as Sse, KeepAlive};
    let rx = node.events.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(e) => {
                let (name, data) = crate::state::event_json(&e);
                let ev = Sse::default().event(name).data(data.to_string());
                Some((Ok::<_, std::convert::Infallible>(ev), rx))
            }
            // A slow reader missed events: tell it to reload.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                let ev = Sse::default()
                    .event("lagged")
                    .data(json!({"missed": n}).to_string());
                Some((Ok(ev), rx))
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
        }
    });
    axum::response::Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn list_evidence(State(node): State<Arc<Node>>) -> ApiResult<Json<Value>> {
    let all = node.db(|s| s.evidence()).await?;
    Ok(Json(Value::Array(
        all.iter().map(status::evidence_json).collect(),
    )))
}

#[derive(serde::Deserialize)]
struct SilenceProofQuery {
    entry: String,
    debtor: String,
}

/// A proof that a debtor has not answered one of this party's entries.
async fn silence_proof(
    State(node): State<Arc<Node>>,
    Query(q): Query<SilenceProofQuery>,
) -> ApiResult<Response> {
    use crate::silence::SilenceFailure;
    match crate::silence::prove(&node, &q.entry, &q.debtor).await {
        Ok(p) => Ok(([("content-type", "application/json")], p.to_json()).into_response()),
        Err(SilenceFailure::Store(e)) => Err(e.into()),
        Err(e @ SilenceFailure::NotFound(_)) => Err(ApiError::not_found(e.to_string())),
        Err(e) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_provable",
            e.to_string(),
        )),
    }
}

async fn channel_policy(
    State(node): State<Arc<Node>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let channel = node.channel(&id).ok_or_else(|| {
        ApiError::not_found(format!("channel {id:?} does not exist on this node"))
    })?;
    let _ = node.peer_list();
    let text = crate::policy::channel_policy(&node.keys, &channel)
        .map_err(|e| ApiError::new(StatusCode::CONFLICT, "unknown_keys", e.to_string()))?;
    Ok(([("content-type", "text/plain; charset=utf-8")], text).into_response())
}

async fn get_evidence(State(node): State<Arc<Node>>, Path(id): Path<i64>) -> ApiResult<Response> {
    let all = node.db(|s| s.evidence()).await?;
    let e = all
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| ApiError::not_found(format!("no evidence #{id}")))?;
    Ok(([("content-type", "application/json")], e.evidence).into_response())
}
