//! The silence report: what has gone unanswered, and for how long.

use crate::console::i18n::{count, t, tf};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use maud::html;
use parley_domain::obligations::silence;
use serde::Deserialize;

use crate::console::layout::{Ctx, Page, entry_href, frame, status_badge};
use crate::state::Node;

fn span(secs: i64) -> String {
    let d = secs / 86_400;
    match d {
        0 if secs < 3600 => tf("{n} min", &[("n", &(secs / 60))]),
        0 => tf("{n} h", &[("n", &(secs / 3600))]),
        d => count(d as u64, "day", "days"),
    }
}

fn proof_href(entry: &str, debtor: &str) -> String {
    format!("/silence/proof?entry={entry}&debtor={debtor}")
}

#[derive(Deserialize)]
pub struct ProofQuery {
    entry: String,
    debtor: String,
}

/// Downloads a proof of silence, or says why none can be made.
pub async fn proof(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Query(q): Query<ProofQuery>,
) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    match crate::silence::prove(&node, &q.entry, &q.debtor).await {
        Ok(p) => {
            let name = format!("silence-{}-{}.json", q.entry.replace('/', "-"), q.debtor);
            Ok((
                [
                    ("content-type", "application/json".to_string()),
                    (
                        "content-disposition",
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                p.to_json(),
            )
                .into_response())
        }
        Err(e) => Ok(frame(
            &ctx,
            t!("Proof of silence"),
            "silence",
            false,
            html! { div.errors-summary { b { (t!("No proof of silence: ")) } (crate::console::i18n::tr(&e.to_string())) } },
        )),
    }
}

pub async fn page(State(node): State<Arc<Node>>, headers: HeaderMap) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    let list = silence(&ctx.unmet, ctx.now);
    let content = html! {
        p.muted { (t!("Every obligation not yet met, the longest silence first. \"Silent for\" counts from the debtor's own receipt. For an overdue answer owed to this party, \"Proof of silence\" downloads a file anyone can check offline (parley verify FILE --identity …): the debtor's receipt, and its feed with no answer as of a checkpoint cosigned after the deadline. It shows the debtor's entries' headers, never their text.")) }
        @if list.is_empty() { p { (t!("Nothing is unanswered.")) } } @else {
            table {
                thead { tr { th { (t!("Silent for")) } th { (t!("Status")) } th { (t!("Who owes whom")) } th { (t!("What")) } th { (t!("Proof")) } } }
                tbody {
                    @for (o, secs) in &list {
                        tr class=[(o.status == parley_domain::obligations::Status::Overdue).then_some("overdue")] {
                            td { b { (span(*secs)) } }
                            td { (status_badge(o.status)) }
                            td { (o.debtor) " → " (o.creditor) }
                            td { (o.description) div.sub { a href=(entry_href(&o.source)) { (o.source) } } }
                            td {
                                @if o.creditor == node.party && o.status == parley_domain::obligations::Status::Overdue && o.starts_proven {
                                    a.button href=(proof_href(&o.source, &o.debtor)) download { (t!("Proof of silence")) }
                                } @else { span.muted { "—" } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(frame(&ctx, t!("Silence"), "silence", true, content))
}
