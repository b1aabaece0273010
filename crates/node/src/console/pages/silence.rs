//! The silence report: what has gone unanswered, and for how long.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use maud::html;
use parley_domain::obligations::silence;

use crate::console::layout::{Ctx, Page, entry_href, frame, status_badge};
use crate::state::Node;

fn span(secs: i64) -> String {
    let d = secs / 86_400;
    match d {
        0 if secs < 3600 => format!("{} min", secs / 60),
        0 => format!("{} h", secs / 3600),
        1 => "1 day".into(),
        d => format!("{d} days"),
    }
}

pub async fn page(State(node): State<Arc<Node>>, headers: HeaderMap) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    let list = silence(&ctx.obligations, ctx.now);
    let content = html! {
        p.muted { "Every obligation not yet met, the longest silence first. \"Silent for\" counts from the debtor's own receipt." }
        @if list.is_empty() { p { "Nothing is unanswered." } } @else {
            table {
                thead { tr { th { "Silent for" } th { "Status" } th { "Who owes whom" } th { "What" } } }
                tbody {
                    @for (o, secs) in &list {
                        tr class=[(o.status == parley_domain::obligations::Status::Overdue).then_some("overdue")] {
                            td { b { (span(*secs)) } }
                            td { (status_badge(o.status)) }
                            td { (o.debtor) " → " (o.creditor) }
                            td { (o.description) div.sub { a href=(entry_href(&o.source)) { (o.source) } } }
                        }
                    }
                }
            }
        }
    };
    Ok(frame(&ctx, "Silence", "silence", true, content))
}
