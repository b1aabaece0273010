//! The inbox: every channel's traffic, newest first, live.

use crate::console::i18n::{count, t, tf};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use maud::{Markup, html};
use parley_domain::ledger::Known;
use serde::Deserialize;

use crate::console::layout::{
    Ctx, Page, badge, entry_href, fmt_time, frame, kind_title, priority_badge,
};
use crate::state::Node;
use crate::views::summary;

#[derive(Deserialize)]
pub struct InboxQuery {
    channel: Option<String>,
    #[serde(default)]
    all: bool,
    /// 0 is the newest page.
    #[serde(default)]
    page: usize,
    /// Find notifications by message number (any prefix).
    number: Option<String>,
}

/// Rows per inbox page: a long history is read a page at a time.
const PAGE: usize = 100;

/// Delivery chips for one entry: who has it, who acknowledged, who answered.
pub fn delivery_chips(ctx: &Ctx, k: &Known) -> Markup {
    let recipients = ctx.recipients(k);
    let answers: Vec<&Known> = ctx.ledger.referencing(&k.hash).collect();
    html! {
        @for m in &recipients {
            @let acked = answers.iter().any(|a| a.entry.author == *m && a.entry.kind == "acknowledgement");
            @let answering = parley_domain::obligations::answering_kinds(&k.entry.kind);
            @let answered = answers.iter().any(|a| a.entry.author == *m && a.entry.kind != "acknowledgement" && answering.contains(&a.entry.kind.as_str()));
            @if let Some(t) = k.delivered.get(m) {
                span.badge.green title=(tf("{party}'s signed receipt at {time}", &[("party", m), ("time", t)])) { (m) " ✓ " (fmt_time(t.unix())) }
            } @else if k.entry.author == ctx.party() {
                span.badge.amber { (tf("{party}: SENT, NO RECEIPT YET", &[("party", m)])) }
            }
            @if acked { (badge(&tf("{party} ACKNOWLEDGED", &[("party", m)]), "green")) }
            @if answered { (badge(&tf("{party} ANSWERED", &[("party", m)]), "blue")) }
        }
    }
}

pub async fn page(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Query(q): Query<InboxQuery>,
) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    let channels = node.channel_list();
    let numbers = parley_domain::numbering::numbers(&ctx.ledger);
    let wanted = q.number.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let found = wanted.map(|n| parley_domain::numbering::find(&ctx.ledger, n));
    let unacked: Vec<String> = ctx
        .unacknowledged()
        .iter()
        .map(|o| o.source.clone())
        .collect();
    let channel = q.channel.as_deref();
    let total = if let Some(f) = &found {
        f.len()
    } else if q.all {
        ctx.ledger.count(channel)
    } else {
        ctx.ledger.traffic(channel)
    };
    let pages = crate::console::layout::Pages::of(total, q.page, PAGE);
    let rows: Vec<&Known> = match &found {
        Some(f) => f
            .iter()
            .map(|(k, _)| *k)
            .skip(pages.rows.start)
            .take(pages.rows.len())
            .collect(),
        None => ctx
            .ledger
            .newest_first(channel)
            .filter(|k| q.all || k.entry.kind != "link_test")
            .skip(pages.rows.start)
            .take(pages.rows.len())
            .collect(),
    };
    let here = q.channel.clone().unwrap_or_default();
    let href = |p: usize| {
        // Encoded by the URL crate: a number may hold '/' (and a user may
        // type anything).
        let mut u = reqwest::Url::parse("http://console/inbox").expect("a valid base");
        {
            let mut pairs = u.query_pairs_mut();
            pairs.append_pair("page", &p.to_string());
            if let Some(c) = &q.channel {
                pairs.append_pair("channel", c);
            }
            if q.all {
                pairs.append_pair("all", "true");
            }
            if let Some(n) = wanted {
                pairs.append_pair("number", n);
            }
        }
        format!("/inbox?{}", u.query().unwrap_or_default())
    };
    let pager = pages.nav(href, "newer", "older");
    let content = html! {
        div.layout {
            aside.sidebar aria-label=(t!("Channels")) {
                a href="/inbox" class=[here.is_empty().then_some("here")] { (t!("All channels")) }
                @for c in &channels {
                    @let unread = ctx.unread(Some(&c.id));
                    a href=(format!("/inbox?channel={}", c.id)) class=[(here == c.id).then_some("here")] {
                        (c.charter.title.clone().unwrap_or_else(|| c.id.clone()))
                        @if unread > 0 { " " span.badge.blue { (tf("{n} unread", &[("n", &unread)])) } }
                        br;
                        span.state {
                            (c.id) " · " (crate::console::i18n::tr(c.charter.level.as_str())) " · "
                            @if !c.is_accepted() { (tf("awaiting {parties}", &[("parties", &c.waiting_for().join(", "))])) }
                            @else if c.suspension().is_some() { (t!("SUSPENDED")) }
                            @else { (t!("active")) }
                        }
                    }
                }
                p { a.button.primary href=(format!("/compose?channel={here}")) { (t!("Compose")) } }
                form.find method="get" action="/inbox" {
                    label for="number" { (t!("Find by message number")) }
                    input #number type="text" name="number" placeholder="CBM/RUSSIA/27/0003" value=(wanted.unwrap_or(""));
                    button type="submit" { (t!("Find")) }
                }
            }
            section {
                @if let Some(n) = wanted { p { (count(total as u64, "notification numbered", "notifications numbered")) " " code { (n) } "… · " a href="/inbox" { (t!("all traffic")) } } }
                @if rows.is_empty() { p.muted { @if wanted.is_some() { (t!("No message has that number.")) } @else { (t!("No traffic yet.")) } } }
                @else {
                    (pager)
                    table {
                        thead { tr { th { (t!("Time (UTC)")) } th { (t!("From")) } th { (t!("What")) } th { (t!("Delivery")) } th {} } }
                        tbody {
                            @for k in &rows {
                                @let prio = k.entry.body.get("priority").and_then(|p| p.as_str()).unwrap_or("");
                                @let mine_to_ack = unacked.contains(&k.id());
                                @let unread = k.entry.author != ctx.party() && !ctx.read.contains(&k.hash);
                                tr class=(format!("{} {}", if unread { "unread" } else { "" }, if mine_to_ack { prio } else { "" })) {
                                    td.when { (fmt_time(k.entry.time.unix())) }
                                    td { (k.entry.author) }
                                    td {
                                        @if !prio.is_empty() { (priority_badge(prio)) }
                                        span.muted { (kind_title(&k.entry.kind)) }
                                        " "
                                        a.summary href=(entry_href(&k.id())) { (crate::console::layout::peer_text(&describe(&ctx.ledger, k))) }
                                        div.sub { @if let Some(n) = numbers.get(&k.hash) { code.number { (n.text) } " · " } (k.id()) }
                                    }
                                    td { (delivery_chips(&ctx, k)) }
                                    td {
                                        @if mine_to_ack && ctx.session.role.may_send("acknowledgement") {
                                            form.inline method="post" action=(format!("{}/ack", entry_href(&k.id()))) {
                                                (ctx.csrf())
                                                button.ack type="submit" { (t!("Acknowledge")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(frame(&ctx, t!("Inbox"), "inbox", true, content))
}

/// What a list shows for an entry: its own text, or for an entry without
/// text (a signature, an agreement) what it does to what.
pub fn describe(ledger: &parley_domain::ledger::Ledger, k: &Known) -> String {
    let s = summary(&k.entry);
    if !s.is_empty() {
        return s;
    }
    let verb = match k.entry.kind.as_str() {
        "acknowledgement" => t!("acknowledges"),
        "draft_signature" => t!("signs"),
        "agenda_agreement" => t!("agrees to"),
        "record_confirmation"
            if k.entry.body.get("confirm") == Some(&serde_json::Value::Bool(false)) =>
        {
            t!("objects to")
        }
        "record_confirmation" => t!("confirms"),
        "disclosure_consent" => t!("consents to publish"),
        "channel_acceptance" => t!("accepts"),
        _ => return kind_title(&k.entry.kind).to_string(),
    };
    let target = k.entry.refs.first().and_then(|r| ledger.get(r)).map(|t| {
        let ts = summary(&t.entry);
        let version = t
            .entry
            .body
            .get("version")
            .and_then(|v| v.as_str())
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        if ts.is_empty() {
            format!("{} {}", kind_title(&t.entry.kind).to_lowercase(), t.id())
        } else {
            format!("{ts}{version}")
        }
    });
    format!("{verb} {}", target.unwrap_or_else(|| t!("an entry").into()))
}
