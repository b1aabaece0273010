//! Negotiations: each draft's versions, a diff between any two, the
//! signatures, and the register of commitments.

use crate::console::i18n::{t, tf};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use maud::html;
use parley_domain::negotiation::ArticleState;
use parley_domain::views::{self, DiffLine, LinkSeen};
use serde::Deserialize;

use crate::console::layout::{Ctx, Page, badge, entry_href, fmt_time, frame};
use crate::state::Node;

#[derive(Deserialize)]
pub struct DiffQuery {
    from: Option<String>,
    to: Option<String>,
}

fn link_badge(seen: LinkSeen) -> maud::Markup {
    match seen {
        LinkSeen::Verified => badge("VERIFIED", "green"),
        LinkSeen::Mismatch => badge("FALSE LINK", "red"),
        LinkSeen::Missing => badge("NOT HELD HERE", "amber"),
        LinkSeen::NotVisible => badge("NOT VISIBLE TO US", "grey"),
    }
}

fn article_badge(s: ArticleState) -> maud::Markup {
    let colour = match s {
        ArticleState::AgreedAdReferendum => "green",
        ArticleState::Bracketed => "amber",
        ArticleState::Rejected => "red",
        ArticleState::Tabled => "blue",
    };
    badge(s.label(), colour)
}

/// One negotiation across its tracks: the latest version in each track
/// this node sees, and each article's status in each.
fn three_tracks(n: &views::Negotiation<'_>) -> maud::Markup {
    let latest: Vec<&views::Version<'_>> =
        n.tracks.iter().filter_map(|d| d.versions.last()).collect();
    let mut articles: Vec<String> = latest
        .iter()
        .flat_map(|v| v.draft.articles.iter().map(|a| a.article.clone()))
        .collect();
    articles.sort_by_key(|a| natural(a));
    articles.dedup();
    html! {
        div.panel {
            h3 { (t!("Negotiation ")) (n.id) span.muted { " — " (n.tracks.len()) (t!(" track(s) visible to this party")) } }
            table {
                thead { tr { th { (t!("Article")) } @for d in &n.tracks { th { (d.channel) } } } }
                tbody {
                    tr { td.muted { (t!("latest version")) } @for v in &latest { td { a href=(entry_href(&v.source.id())) { (v.draft.version) } (t!(" by ")) (v.source.entry.author) } } }
                    @for a in &articles { tr {
                        td { b { (t!("Art. ")) (a) } }
                        @for v in &latest { td {
                            @match v.draft.articles.iter().find(|x| &x.article == a) {
                                Some(x) => { (article_badge(x.status)) @if let Some(note) = &x.note { div.sub { (note) } } }
                                None => span.muted { "—" },
                            }
                        } }
                    } }
                }
            }
        }
    }
}

/// "4.10" after "4.2".
fn natural(s: &str) -> Vec<u64> {
    s.split('.')
        .map(|p| p.parse().unwrap_or(u64::MAX))
        .collect()
}

fn text_of(v: &parley_domain::views::Version<'_>) -> String {
    v.draft
        .text
        .get("en")
        .or_else(|| v.draft.text.values().next())
        .cloned()
        .unwrap_or_default()
}

pub async fn page(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Query(q): Query<DiffQuery>,
) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    let docs = views::negotiations(&ctx.ledger);
    let me = ctx.party().to_string();
    let may_sign = ctx.session.role.may_send("draft_signature");
    let tracks = views::negotiation_tracks(&ctx.ledger);
    let content = html! {
        @if !tracks.is_empty() {
            h2 { (t!("Negotiations in several tracks")) }
            @for n in &tracks { (three_tracks(n)) }
        }
        h2 { (t!("Commitments")) }
        @let committed: Vec<_> = docs.iter().flat_map(|d| d.versions.iter().filter(|v| v.committed())).collect();
        @if committed.is_empty() { p.muted { (t!("No draft is signed by all its signatories.")) } }
        table { tbody { @for v in &committed { tr {
            td { (badge("COMMITMENT", "green")) } td { b { (v.draft.title) } " " (v.draft.version) br; a href=(entry_href(&v.source.id())) { (v.source.id()) } }
            td { @for (p, k) in &v.signatures { (t!("signed by ")) b { (p) } " " a href=(entry_href(&k.id())) { (fmt_time(k.entry.time.unix())) } br; } }
        } } } }
        @for d in &docs {
            div.panel {
                h3 { (d.versions.last().map(|v| v.draft.title.clone()).unwrap_or_default()) span.muted { " — " (d.document) (t!(" in ")) (d.channel) } }
                table {
                    thead { tr { th { (t!("Version")) } th { (t!("By")) } th { (t!("Signatures")) } th {} } }
                    tbody { @for v in &d.versions { tr {
                        td { a href=(entry_href(&v.source.id())) { b { (v.draft.version) } } div.sub { (v.source.id()) @if let Some(p) = &v.parent { (t!(" revises ")) (p) } } }
                        td { (v.source.entry.author) div.sub { (fmt_time(v.source.entry.time.unix())) }
                            @for l in &v.links { div.sub { (t!("links ")) @if l.seen == LinkSeen::NotVisible { code { (l.entry) } } @else { a href=(entry_href(&l.entry)) { (l.entry) } } " " (link_badge(l.seen)) } }
                            @if !v.superseded_by.is_empty() { div.sub { (badge("SUPERSEDED", "grey")) (t!(" by ")) @for (i, (id, _)) in v.superseded_by.iter().enumerate() { @if i > 0 { ", " } a href=(entry_href(id)) { (id) } } } }
                        }
                        td { @if v.committed() { (badge("SIGNED BY ALL", "green")) } @else {
                                @for (p, _) in &v.signatures { (badge(&tf("{party} SIGNED", &[("party", &p.to_uppercase())]), "blue")) }
                                @if !v.unsigned_by().is_empty() { span.muted { (t!("unsigned by ")) (v.unsigned_by().join(", ")) } } }
                            @for (p, by) in v.signed_superseded() { div { (badge("SIGNED A SUPERSEDED VERSION", "red")) " " span.sub { (p) (t!(" signed after ")) (by) (t!(" replaced it")) } } }
                            @if !v.draft.articles.is_empty() { div.sub { @for a in &v.draft.articles { (t!("Art. ")) (a.article) " " (article_badge(a.status)) " " } } }
                        }
                        td {
                            @if may_sign && v.unsigned_by().contains(&me.as_str()) {
                                a.button.primary href=(format!("/compose?channel={}&kind=draft_signature&ref={}", d.channel, v.source.id())) { (t!("Sign ")) (v.draft.version) }
                            }
                        }
                    } } }
                }
                @if d.versions.len() >= 2 {
                    @let ids: Vec<String> = d.versions.iter().map(|v| v.source.id()).collect();
                    @let from = q.from.clone().filter(|f| ids.contains(f)).unwrap_or_else(|| ids[ids.len() - 2].clone());
                    @let to = q.to.clone().filter(|t| ids.contains(t)).unwrap_or_else(|| ids[ids.len() - 1].clone());
                    form method="get" action="/negotiations" .actions {
                        label { (t!("Compare ")) select name="from" { @for v in &d.versions { option value=(v.source.id()) selected[v.source.id() == from] { (v.draft.version) } } } }
                        label { (t!(" with ")) select name="to" { @for v in &d.versions { option value=(v.source.id()) selected[v.source.id() == to] { (v.draft.version) } } } }
                        button type="submit" { (t!("Show differences")) }
                    }
                    @let a = d.versions.iter().find(|v| v.source.id() == from);
                    @let b = d.versions.iter().find(|v| v.source.id() == to);
                    @if let (Some(a), Some(b)) = (a, b) {
                        div.diff aria-label=(t!("Differences")) {
                            @for line in views::diff_lines(&text_of(a), &text_of(b)) {
                                @match line {
                                    DiffLine::Same(s) => div { "  " (s) },
                                    DiffLine::Removed(s) => div.del { "− " (s) },
                                    DiffLine::Added(s) => div.add { "+ " (s) },
                                }
                            }
                        }
                    }
                } @else if let Some(v) = d.versions.first() {
                    div.diff { @for l in text_of(v).lines() { div { (l) } } }
                }
            }
        }
        @if docs.is_empty() { p.muted { (t!("No draft has been tabled.")) } }
    };
    Ok(frame(
        &ctx,
        t!("Negotiations"),
        "negotiations",
        true,
        content,
    ))
}
