//! A channel's merged transcript, in causal order.

use crate::console::i18n::{t, tf};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use maud::html;
use serde::Deserialize;

use crate::console::layout::{Ctx, Page, entry_href, fmt_time, frame, kind_title, priority_badge};
use crate::state::Node;

#[derive(Deserialize)]
pub struct TimelineQuery {
    channel: Option<String>,
    /// 0 is the earliest page; by default the latest.
    page: Option<usize>,
}

/// Entries per timeline page (the whole of a long channel was one
/// document of megabytes).
const PAGE: usize = 200;

pub async fn page(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Query(q): Query<TimelineQuery>,
) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    let channels = node.channel_list();
    let channel = q
        .channel
        .clone()
        .or_else(|| channels.first().map(|c| c.id.clone()))
        .unwrap_or_default();
    let len = ctx.ledger.timeline_len(&channel);
    let last = len.div_ceil(PAGE).saturating_sub(1);
    let pages = crate::console::layout::Pages::of(len, q.page.unwrap_or(last), PAGE);
    let list = ctx.ledger.timeline_rows(&channel, pages.rows.clone());
    let pager = pages.nav(
        |p| format!("/timeline?channel={channel}&page={p}"),
        t!("earlier"),
        t!("later"),
    );
    let content = html! {
        div.actions { @for c in &channels { a.button.primary[c.id == channel] href=(format!("/timeline?channel={}", c.id)) { (c.id) } } }
        p.muted { (t!("Each entry comes after what it answers and after its author's earlier entries, whatever the clocks say.")) }
        (pager)
        table {
            thead { tr { th { (t!("Stated time")) } th { (t!("Author")) } th { (t!("What")) } th { (t!("Answers")) } } }
            tbody {
                @for k in list {
                    tr {
                        td.when { (fmt_time(k.entry.time.unix())) }
                        td { (k.entry.author) }
                        td {
                            @if let Some(p) = k.entry.body.get("priority").and_then(|p| p.as_str()) { (priority_badge(p)) }
                            span.muted { (kind_title(&k.entry.kind)) } " "
                            a href=(entry_href(&k.id())) { (crate::console::pages::inbox::describe(&ctx.ledger, k)) }
                            div.sub { (k.id()) }
                        }
                        td { @for r in &k.entry.refs { @if let Some(t) = ctx.ledger.get(r) { a href=(entry_href(&t.id())) { (t.id()) } br; } } }
                    }
                }
            }
        }
    };
    Ok(frame(
        &ctx,
        &tf("Timeline: {channel}", &[("channel", &channel)]),
        "timeline",
        true,
        content,
    ))
}
