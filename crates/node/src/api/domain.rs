//! The domain's derived views as JSON: obligations, silence, timeline,
//! exercises, meetings, negotiations and commitments.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use parley_domain::ledger::{Known, Ledger};
use parley_domain::obligations::{self, Obligation};
use parley_domain::views::{self, Disclosure};
use parley_domain::{exchange, verification};
use parley_log::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, ApiResult};
use crate::ledger;
use crate::state::Node;
use crate::views::summary;

fn ts(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

fn parse_at(at: &Option<String>) -> ApiResult<Timestamp> {
    match at {
        None => Ok(crate::clock::now()),
        Some(s) => Timestamp::parse(s)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("at: {e}"))),
    }
}

pub fn obligation_json(o: &Obligation, at: Timestamp) -> Value {
    json!({
        "id": o.id,
        "channel": o.channel,
        "rule": o.rule,
        "description": o.description,
        "debtor": o.debtor,
        "creditor": o.creditor,
        "source": o.source,
        "source_kind": o.source_kind,
        "source_hash": o.source_hash,
        "starts": ts(o.starts),
        "starts_proven": o.starts_proven,
        "due": ts(o.due),
        "remaining_seconds": o.remaining(at),
        "status": o.status.as_str(),
        "met_by": o.met_by,
        "met_at": ts(o.met_at),
        "met_proven": o.met_proven,
        "answered_by": o.answered_by,
        "unanswered_questions": o.unanswered,
    })
}

fn known_json(k: &Known) -> Value {
    json!({
        "id": k.id(),
        "hash": k.hash.to_hex(),
        "channel": k.entry.channel,
        "author": k.entry.author,
        "seq": k.entry.seq,
        "time": k.entry.time.to_string(),
        "kind": k.entry.kind,
        "summary": summary(&k.entry),
        "delivered": k.delivered.iter().map(|(p, t)| (p.clone(), Value::String(t.to_string()))).collect::<serde_json::Map<_, _>>(),
    })
}

#[derive(Deserialize)]
pub struct ObligationsQuery {
    party: Option<String>,
    channel: Option<String>,
    #[serde(default)]
    overdue: bool,
    at: Option<String>,
    /// How many met obligations to list, most recent first.
    met: Option<usize>,
    /// List every obligation, met or not.
    #[serde(default)]
    all: bool,
}

/// Met obligations listed unless asked otherwise: the most recent.
const MET_LISTED: usize = 100;

/// The obligations board at `at` (default now): every obligation not met,
/// and the most recently met (`met=N` for more, `all=true` for all).
pub async fn obligations(
    State(node): State<Arc<Node>>,
    Query(q): Query<ObligationsQuery>,
) -> ApiResult<Json<Value>> {
    let at = parse_at(&q.at)?;
    let l = ledger::current(&node).await?;
    let keep = |o: &obligations::Obligation| {
        q.party
            .as_ref()
            .is_none_or(|p| o.debtor == *p || o.creditor == *p)
            && q.channel.as_ref().is_none_or(|c| o.channel == *c)
            && (!q.overdue || o.status == obligations::Status::Overdue)
    };
    let board = l.board();
    let (list, met_total) = if q.all || q.at.is_some() {
        let all = board.all(&l, at);
        let met = all.iter().filter(|o| o.status.is_met()).count();
        (all.into_iter().filter(|o| keep(o)).collect::<Vec<_>>(), met)
    } else {
        let mut list: Vec<obligations::Obligation> = board
            .unmet(&l, at)
            .into_iter()
            .filter(|o| keep(o))
            .collect();
        let mut met: Vec<obligations::Obligation> = board
            .met_latest(keep)
            .take(q.met.unwrap_or(MET_LISTED))
            .cloned()
            .collect();
        obligations::sort(&mut met);
        list.extend(met);
        (list, board.met_count())
    };
    let met_listed = list.iter().filter(|o| o.status.is_met()).count();
    let list: Vec<Value> = list.iter().map(|o| obligation_json(o, at)).collect();
    Ok(Json(json!({
        "at": at.to_string(),
        "obligations": list,
        "met_listed": met_listed,
        "met_total": met_total,
    })))
}

#[derive(Deserialize)]
pub struct AtQuery {
    at: Option<String>,
}

/// What has gone unanswered, longest first.
pub async fn silence(
    State(node): State<Arc<Node>>,
    Query(q): Query<AtQuery>,
) -> ApiResult<Json<Value>> {
    let at = parse_at(&q.at)?;
    let l = ledger::current(&node).await?;
    let unmet = l.board().unmet(&l, at);
    let list: Vec<Value> = obligations::silence(&unmet, at)
        .into_iter()
        .map(|(o, secs)| {
            let mut v = obligation_json(o, at);
            v["silent_for_seconds"] = json!(secs);
            v
        })
        .collect();
    Ok(Json(json!({"at": at.to_string(), "silence": list})))
}

#[derive(Deserialize)]
pub struct TimelineQuery {
    channel: String,
    /// The first row (0: the earliest); by default the last `limit`.
    from: Option<usize>,
    limit: Option<usize>,
}

/// Rows of a timeline returned unless asked otherwise.
const TIMELINE_ROWS: usize = 1000;

/// A channel's merged transcript in causal order, a page at a time.
pub async fn timeline(
    State(node): State<Arc<Node>>,
    Query(q): Query<TimelineQuery>,
) -> ApiResult<Json<Value>> {
    if node.channel(&q.channel).is_none() {
        return Err(ApiError::not_found(format!(
            "channel {:?} does not exist on this node",
            q.channel
        )));
    }
    let l = ledger::current(&node).await?;
    let total = l.timeline_len(&q.channel);
    let limit = q.limit.unwrap_or(TIMELINE_ROWS);
    let from = q.from.unwrap_or(total.saturating_sub(limit)).min(total);
    let rows = from..(from.saturating_add(limit)).min(total);
    let list: Vec<Value> = l
        .timeline_rows(&q.channel, rows.clone())
        .into_iter()
        .map(|k| {
            let mut v = known_json(k);
            v["refs"] = json!(
                k.entry
                    .refs
                    .iter()
                    .map(|r| l.get(r).map_or_else(|| r.to_hex(), Known::id))
                    .collect::<Vec<_>>()
            );
            v
        })
        .collect();
    Ok(Json(json!({
        "channel": q.channel,
        "total": total,
        "from": rows.start,
        "to": rows.end,
        "timeline": list,
    })))
}

pub fn exercises_json(l: &Ledger) -> Value {
    let ex: Vec<Value> = views::exercises(l)
        .iter()
        .map(|x| {
            let n = &x.notification;
            json!({
                "id": x.source.id(),
                "hash": x.source.hash.to_hex(),
                "channel": x.source.entry.channel,
                "author": x.source.entry.author,
                "notified_at": x.source.entry.time.to_string(),
                "designation": n.designation,
                "purpose": n.purpose,
                "activity_type": n.activity_type,
                "participating_states": n.participating_states,
                "command_level": n.command_level,
                "start": n.start,
                "end": n.end,
                "area": n.area.to_geojson(),
                "area_description": n.area_description,
                "forces": n.forces,
                "late": n.late,
                "assessment": x.assessment,
                "chapter_viii": x.chapter_viii,
            })
        })
        .collect();
    let cal: Vec<Value> = views::calendars(l)
        .iter()
        .map(|(k, c)| json!({"id": k.id(), "author": k.entry.author, "channel": k.entry.channel, "year": c.year, "activities": c.activities, "sent": k.entry.time.to_string()}))
        .collect();
    json!({"notifications": ex, "calendars": cal})
}

pub async fn exercises(State(node): State<Arc<Node>>) -> ApiResult<Json<Value>> {
    let l = ledger::current(&node).await?;
    Ok(Json(exercises_json(&l)))
}

#[derive(Deserialize)]
pub struct YearQuery {
    pub year: Option<i64>,
}

/// Chapters I, II and IX per channel: the quota each participating State
/// has left in `year`, every request with its standing, reply and report,
/// and the annual returns.
pub fn verification_json(l: &Ledger, year: i64) -> Value {
    let channels: Vec<Value> = verification_channels(l)
        .into_iter()
        .map(|c| {
            let quotas: Vec<Value> = verification::quotas(l, c, year)
                .iter()
                .map(|q| json!({
                    "state": q.state,
                    "year": q.year,
                    "inspections": q.inspections,
                    "inspection_quota": q.inspection_quota,
                    "inspections_left": q.inspections_left(),
                    "units": q.units,
                    "evaluations": q.evaluations,
                    "evaluation_quota": q.evaluation_quota,
                    "evaluations_left": q.evaluations_left(),
                }))
                .collect();
            let requests: Vec<Value> = verification::requests(l, c)
                .iter()
                .map(|r| json!({
                    "id": r.source.id(),
                    "hash": r.source.hash.to_hex(),
                    "kind": r.source.entry.kind,
                    "family": r.family,
                    "from": r.from,
                    "to": r.to,
                    "year": r.year,
                    "unit": r.unit,
                    "visit_date": r.visit_date,
                    "asked_at": r.source.entry.time.to_string(),
                    "standing": r.standing,
                    "counted": r.counted,
                    "reply": r.reply.as_ref().map(|(k, b)| json!({"id": k.id(), "time": k.entry.time.to_string(), "body": b})),
                    "report": r.report.as_ref().map(|(k, b)| json!({"id": k.id(), "time": k.entry.time.to_string(), "body": b})),
                    "findings": r.findings,
                }))
                .collect();
            let returns: Vec<Value> = exchange::returns(l, c)
                .iter()
                .map(|r| json!({
                    "id": r.source.id(),
                    "kind": r.source.entry.kind,
                    "author": r.source.entry.author,
                    "year": r.year,
                    "units": r.units,
                    "due": r.due,
                    "sent": r.source.entry.time.to_string(),
                    "days_late": r.days_late,
                }))
                .collect();
            json!({"channel": c, "quotas": quotas, "requests": requests, "returns": returns})
        })
        .collect();
    json!({"year": year, "channels": channels})
}

/// Channels with anything under Chapters I, II or IX.
pub fn verification_channels(l: &Ledger) -> Vec<&str> {
    let kinds = [
        "inspection_request",
        "evaluation_visit_request",
        "military_information",
        "defence_planning",
    ];
    l.channels
        .keys()
        .map(String::as_str)
        .filter(|c| !l.causal_order(&kinds, c).is_empty())
        .collect()
}

pub async fn verification(
    State(node): State<Arc<Node>>,
    Query(q): Query<YearQuery>,
) -> ApiResult<Json<Value>> {
    let l = ledger::current(&node).await?;
    let year = q
        .year
        .unwrap_or_else(|| parley_domain::dates::Date::of(crate::clock::now()).year());
    Ok(Json(verification_json(&l, year)))
}

pub fn meetings_json(l: &Ledger, at: Timestamp) -> Value {
    let list: Vec<Value> = views::meetings(l, at)
        .iter()
        .map(|m| {
            let agendas: Vec<Value> = m
                .agendas
                .iter()
                .map(|a| json!({
                    "id": a.proposal.id(),
                    "hash": a.proposal.hash.to_hex(),
                    "proposed_by": a.proposal.entry.author,
                    "time": a.proposal.entry.time.to_string(),
                    "items": a.items,
                    "agreed_by": a.agreed_by,
                    "waiting_for": a.waiting_for,
                    "agreed": a.agreed(),
                }))
                .collect();
            let records: Vec<Value> = m
                .records
                .iter()
                .map(|r| {
                    let disclosure = match &r.disclosure {
                        Disclosure::Public => json!({"public": true, "because": "every member consented, none objects, and no embargo runs"}),
                        Disclosure::Confidential { waiting, embargo, objected_by } => {
                            json!({"public": false, "waiting_for": waiting, "embargo_until": ts(*embargo), "objected_by": objected_by})
                        }
                    };
                    json!({
                        "id": r.source.id(),
                        "hash": r.source.hash.to_hex(),
                        "author": r.source.entry.author,
                        "record": r.record,
                        "confirmations": r.confirmations.iter().map(|(p, ok, obj, k)| json!({"party": p, "confirm": ok, "objections": obj, "id": k.id()})).collect::<Vec<_>>(),
                        "consents": r.consents,
                        "disclosure": disclosure,
                    })
                })
                .collect();
            json!({
                "id": m.invitation.id(),
                "hash": m.invitation.hash.to_hex(),
                "channel": m.invitation.entry.channel,
                "author": m.invitation.entry.author,
                "time": m.invitation.entry.time.to_string(),
                "invitation": m.details,
                "replies": m.replies.iter().map(|(k, r)| json!({"id": k.id(), "party": k.entry.author, "time": k.entry.time.to_string(), "reply": r})).collect::<Vec<_>>(),
                "agendas": agendas,
                "agreed_agenda": m.agreed_agenda().map(|a| a.proposal.id()),
                "records": records,
            })
        })
        .collect();
    Value::Array(list)
}

pub async fn meetings(
    State(node): State<Arc<Node>>,
    Query(q): Query<AtQuery>,
) -> ApiResult<Json<Value>> {
    let at = parse_at(&q.at)?;
    let l = ledger::current(&node).await?;
    Ok(Json(meetings_json(&l, at)))
}

pub fn negotiations_json(l: &Ledger) -> Value {
    let docs: Vec<Value> = views::negotiations(l)
        .iter()
        .map(|d| {
            json!({
                "document": d.document,
                "channel": d.channel,
                "negotiation": d.versions.iter().rev().find_map(|v| v.draft.negotiation.clone()),
                "versions": d.versions.iter().map(|v| json!({
                    "id": v.source.id(),
                    "hash": v.source.hash.to_hex(),
                    "author": v.source.entry.author,
                    "time": v.source.entry.time.to_string(),
                    "parent": v.parent,
                    "draft": v.draft,
                    "signatures": v.signatures.iter().map(|(p, k)| json!({"party": p, "id": k.id(), "time": k.entry.time.to_string()})).collect::<Vec<_>>(),
                    "unsigned_by": v.unsigned_by(),
                    "committed": v.committed(),
                    "links": v.links,
                    "superseded_by": v.superseded_by.iter().map(|(id, t)| json!({"id": id, "time": t.to_string()})).collect::<Vec<_>>(),
                    "signed_superseded": v.signed_superseded().iter().map(|(p, by)| json!({"party": p, "superseded_by": by})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Value::Array(docs)
}

pub async fn negotiations(State(node): State<Arc<Node>>) -> ApiResult<Json<Value>> {
    let l = ledger::current(&node).await?;
    Ok(Json(negotiations_json(&l)))
}

/// Versions signed by every named signatory.
pub async fn commitments(State(node): State<Arc<Node>>) -> ApiResult<Json<Value>> {
    let l = ledger::current(&node).await?;
    let list: Vec<Value> = views::negotiations(&l)
        .iter()
        .flat_map(|d| d.versions.iter().filter(|v| v.committed()).map(move |v| (d, v)))
        .map(|(d, v)| json!({
            "document": d.document,
            "channel": d.channel,
            "title": v.draft.title,
            "version": v.draft.version,
            "id": v.source.id(),
            "hash": v.source.hash.to_hex(),
            "signatories": v.draft.signatories,
            "signatures": v.signatures.iter().map(|(p, k)| json!({"party": p, "id": k.id(), "time": k.entry.time.to_string()})).collect::<Vec<_>>(),
        }))
        .collect();
    Ok(Json(Value::Array(list)))
}
