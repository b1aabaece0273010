//! The page frame every console page shares, and small rendering helpers.

use super::i18n::{self, t, tf, tr};
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use parley_domain::obligations::{Obligation, Status};
use parley_log::Timestamp;
use parley_store::EvidenceRecord;

use super::auth::Session;
use crate::ledger;
use crate::state::Node;

/// What every page needs: the node, who is signed in, and the alarms.
pub struct Ctx {
    pub node: Arc<Node>,
    pub session: Session,
    pub now: Timestamp,
    pub ledger: Arc<parley_domain::board::Book>,
    /// Every obligation not met now, in the board's order.
    pub unmet: Vec<Obligation>,
    pub evidence: Vec<EvidenceRecord>,
    pub links_down: Vec<(String, Option<i64>)>,
    pub read: ledger::Reads,
    /// Whether the request only wants the parts that change (live updates).
    pub partial: bool,
}

/// A console error page (or a redirect to sign in).
pub enum ConsoleError {
    SignIn,
    Forbidden(String),
    NotFound(String),
    Internal(String),
    /// The node is reading its history into memory after starting.
    Starting,
}

/// What a duty officer sees while a node that just started reads a long
/// history: why, and that the page will open by itself.
fn starting_page() -> Response {
    let body = html! {
        (DOCTYPE) html lang=(i18n::current().tag()) { head { meta charset="utf-8"; meta http-equiv="refresh" content="2"; title { (t!("Starting — parley")) } link rel="stylesheet" href="/console.css"; }
        body { main {
            h1 { (t!("Starting")) }
            p { (t!("This node has just started and is reading its record into memory. The console opens by itself when it is done (a million entries take about half a minute).")) }
            p.muted { (t!("Nothing is lost meanwhile: the node already receives and stores traffic, and sends receipts.")) }
        } } }
    };
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, "2")],
        Html(body.into_string()),
    )
        .into_response()
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, title, text) = match self {
            ConsoleError::SignIn => return Redirect::to("/login").into_response(),
            ConsoleError::Forbidden(m) => (axum::http::StatusCode::FORBIDDEN, t!("Not allowed"), m),
            ConsoleError::NotFound(m) => (axum::http::StatusCode::NOT_FOUND, t!("Not found"), m),
            ConsoleError::Internal(m) => (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                t!("Error"),
                m,
            ),
            ConsoleError::Starting => return starting_page(),
        };
        let body = html! {
            (DOCTYPE) html lang=(i18n::current().tag()) { head { meta charset="utf-8"; title { (title) " — parley" } link rel="stylesheet" href="/console.css"; }
            body { main { h1 { (title) } p { (tr(&text)) } p { a href="/inbox" { (t!("Back to the inbox")) } } } } }
        };
        (status, Html(body.into_string())).into_response()
    }
}

impl From<parley_store::StoreError> for ConsoleError {
    fn from(e: parley_store::StoreError) -> ConsoleError {
        tracing::error!(error = %e, "console: store failure");
        ConsoleError::Internal(t!("The node's database failed; see the node's log.").into())
    }
}

pub type Page = Result<Response, ConsoleError>;

impl Ctx {
    /// Builds the context of a signed-in request.
    pub async fn load(node: &Arc<Node>, headers: &HeaderMap) -> Result<Ctx, ConsoleError> {
        let session = node.session(headers).ok_or(ConsoleError::SignIn)?;
        let now = crate::clock::now();
        if !ledger::is_ready(node) {
            return Err(ConsoleError::Starting);
        }
        let ledger = ledger::current(node).await?;
        let unmet = ledger.board().unmet(&ledger, now);
        let read = ledger::reads(node, &session.user, &ledger).await?;
        let evidence = node.db(|s| s.evidence()).await?;
        let links_down = node
            .peer_list()
            .into_iter()
            .filter_map(|p| {
                let l = node.link(&p.party);
                (l.up == Some(false)).then_some((p.party, l.since))
            })
            .collect();
        Ok(Ctx {
            node: node.clone(),
            session,
            now,
            ledger,
            unmet,
            evidence,
            links_down,
            read,
            partial: headers.contains_key("x-parley-partial"),
        })
    }

    /// The members of an entry's channel other than its author.
    pub fn recipients(&self, k: &parley_domain::ledger::Known) -> Vec<String> {
        self.ledger
            .channels
            .get(&k.entry.channel)
            .map(|c| c.charter.members.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|m| *m != k.entry.author)
            .collect()
    }

    pub fn party(&self) -> &str {
        &self.node.party
    }

    /// Flash and immediate messages this party has not yet acknowledged.
    pub fn unacknowledged(&self) -> Vec<&Obligation> {
        self.unmet
            .iter()
            .filter(|o| o.debtor == self.node.party)
            .filter(|o| {
                matches!(
                    o.rule,
                    "flash-acknowledgement" | "immediate-acknowledgement"
                )
            })
            .filter(|o| matches!(o.status, Status::Open | Status::Overdue))
            .collect()
    }

    pub fn overdue_owed(&self) -> usize {
        self.unmet
            .iter()
            .filter(|o| o.debtor == self.node.party && o.status == Status::Overdue)
            .count()
    }

    /// Entries from others this user has not opened.
    pub fn unread(&self, channel: Option<&str>) -> usize {
        self.ledger
            .traffic_from_others(&self.node.party, channel)
            .saturating_sub(self.read.count(channel))
    }

    /// A hidden form field with the session's anti-forgery token.
    pub fn csrf(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.session.csrf); }
    }
}

const NAV: [(&str, &str, &str); 11] = [
    ("inbox", "/inbox", "i"),
    ("compose", "/compose", "c"),
    ("obligations", "/obligations", "o"),
    ("links", "/links", "l"),
    ("exercises", "/exercises", "x"),
    ("verification", "/verification", "q"),
    ("meetings", "/meetings", "m"),
    ("negotiations", "/negotiations", "n"),
    ("silence", "/silence", "s"),
    ("timeline", "/timeline", "t"),
    ("verify", "/verify", "v"),
];

fn title_of(key: &str) -> &'static str {
    match key {
        "inbox" => t!("Inbox"),
        "compose" => t!("Compose"),
        "obligations" => t!("Obligations"),
        "links" => t!("Links"),
        "exercises" => t!("Exercises"),
        "verification" => t!("Verification"),
        "meetings" => t!("Meetings"),
        "negotiations" => t!("Negotiations"),
        "silence" => t!("Silence"),
        "timeline" => t!("Timeline"),
        "verify" => t!("Verify"),
        _ => "",
    }
}

/// The full page: top bar, navigation with counts, alarms, content.
pub fn frame(ctx: &Ctx, title: &str, here: &str, live: bool, content: Markup) -> Response {
    let unread = ctx.unread(None);
    let unacked = ctx.unacknowledged();
    let overdue = ctx.overdue_owed();
    let nav = html! {
        @for (key, href, k) in NAV {
            a href=(href) class=[(key == here).then_some("here")] accesskey=(k) {
                (title_of(key))
                @if key == "inbox" && unread > 0 { span.count.alert { (unread) } }
                @if key == "obligations" && overdue > 0 { span.count.alert { (overdue) } }
                @if key == "links" && !ctx.links_down.is_empty() { span.count.alert { (ctx.links_down.len()) } }
                kbd { (k) }
            }
        }
    };
    let alarms = html! {
        @for e in &ctx.evidence {
            div.alarm.red {
                @match e.kind {
                    parley_store::EvidenceKind::Equivocation => {
                        (tf("EQUIVOCATION: {party} showed two different histories of one feed.", &[("party", &e.party)])) " "
                    }
                    parley_store::EvidenceKind::FutureDated => {
                        (tf("FUTURE-DATED ENTRY REFUSED: {party} signed an entry dated ahead of this node's clock.", &[("party", &e.party)])) " "
                    }
                }
                (tr(&e.summary)) " — " a href="/links" { (tf("see the evidence (#{id})", &[("id", &e.id)])) }
            }
        }
        @if !unacked.is_empty() {
            div.alarm.red.flashing data-alarm="1" {
                (tf("{count} not yet acknowledged by {party}:", &[("count", &count(unacked.len() as u64, "flash/immediate message", "flash/immediate messages")), ("party", &ctx.party())])) " "
                @for (i, o) in unacked.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href=(entry_href(&o.source)) { (o.source) }
                    @if let Some(d) = o.due { " (" span data-due=(d.unix()) {} ")" }
                }
            }
        }
        @for (p, since) in &ctx.links_down {
            div.alarm.amber {
                @if let Some(s) = since { (tf("Link to {party} is DOWN since {time}.", &[("party", p), ("time", &fmt_time(*s))])) }
                @else { (tf("Link to {party} is DOWN.", &[("party", p)])) }
                " " (t!("Messages wait in the outbox and go when it returns.")) " " a href="/links" { (t!("Links")) }
            }
        }
    };
    if ctx.partial {
        return Html(
            html! { div #nav { (nav) } div #alarms { (alarms) } div #live { (content) } }
                .into_string(),
        )
        .into_response();
    }
    // Read once: on a demo node each reading is a small file read.
    let offset = crate::clock::offset();
    let story = offset != 0;
    let body = html! {
        (DOCTYPE)
        html lang=(i18n::current().tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (tr(title)) " — " (ctx.party()) " — parley" }
                link rel="icon" href="/favicon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/console.css";
            }
            body data-live=[live.then_some("1")] data-clock-offset=[story.then_some(offset)] class=(accent_class(&ctx.node.dir.config)) {
                header.top {
                    span.node { (ctx.party().to_uppercase()) " " small { (t!("parley node")) } }
                    span.who { (ctx.session.user) " · " (tr(super::auth::Role::title(ctx.session.role))) }
                    @if story { span.badge.blue title=(t!("parley demo: the demo nodes share a clock that replays a two-month story, then catches up with real time")) { (t!("STORY CLOCK")) } }
                    span #clock .clock { (fmt_time(ctx.now.unix())) }
                    (language_switch())
                    form method="post" action="/logout" { (ctx.csrf()) button type="submit" { (t!("Sign out")) } }
                }
                nav #nav .main aria-label=(t!("Views")) { (nav) }
                div #alarms .alarms role="alert" { (alarms) }
                main {
                    h1 { (tr(title)) }
                    div #live { (content) }
                }
                script src="/console.js" {}
            }
        }
    };
    Html(body.into_string()).into_response()
}

/// The quiet colour that tells this party's console from another's open in
/// the next tab: `[console] accent`, else one picked from the party's name.
pub fn accent_class(config: &crate::config::Config) -> String {
    let accent = config.console.accent.unwrap_or_else(|| {
        let h = config
            .party
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        Accent::ALL[h as usize % Accent::ALL.len()]
    });
    format!("accent-{}", accent.as_str())
}

pub use crate::config::Accent;

/// `2026-11-22 06:39Z` / `22.11.2026 06:39 UTC`.
pub fn fmt_time(unix: i64) -> String {
    i18n::date_time(unix)
}

/// The other languages of this page, each a link to the same address.
pub fn language_switch() -> Markup {
    let here = i18n::current();
    html! {
        span.languages {
            @for l in i18n::Lang::ALL {
                @if l == here { span.here lang=(l.tag()) aria-current="true" { (l.own_name()) } }
                @else { a href=(super::language::href_in(&super::language::here(), l)) lang=(l.tag()) hreflang=(l.tag()) { (l.own_name()) } }
            }
        }
    }
}

/// Pages of a long list: which rows page `page` shows (clamped), and the
/// links to its neighbours. `pages` counts them; page 0 comes first in the
/// list's own order.
pub struct Pages {
    pub page: usize,
    pub pages: usize,
    pub rows: std::ops::Range<usize>,
    total: usize,
}

impl Pages {
    pub fn of(total: usize, page: usize, size: usize) -> Pages {
        let pages = total.div_ceil(size).max(1);
        let page = page.min(pages - 1);
        let start = page * size;
        Pages {
            page,
            pages,
            rows: start..(start + size).min(total),
            total,
        }
    }

    /// "Entries 101–200 of 4,530 · ← newer · older →", or nothing for one page.
    /// `href(p)` is the address of page `p`; `back`/`on` name the directions.
    pub fn nav(&self, href: impl Fn(usize) -> String, back: &str, on: &str) -> Markup {
        html! {
            @if self.pages > 1 {
                nav.pager aria-label=(t!("Pages")) {
                    (tf("Entries {first}–{last} of {total}", &[("first", &thousands(self.rows.start as u64 + 1)), ("last", &thousands(self.rows.end as u64)), ("total", &thousands(self.total as u64))])) " "
                    @if self.page > 0 { a.button href=(href(self.page - 1)) { "← " (tr(back)) } " " }
                    @if self.page + 1 < self.pages { a.button href=(href(self.page + 1)) { (tr(on)) " →" } }
                }
            }
        }
    }
}

pub use super::i18n::count;

/// `12700` → `12,700` / `12 700`.
pub fn thousands(n: u64) -> String {
    i18n::number(n)
}

/// A deadline: to the second when it is within the hour (a flash message
/// has five minutes), else to the minute.
pub fn fmt_due(now: Timestamp, due: Timestamp) -> String {
    if (due.unix() - now.unix()).abs() < 3600 {
        i18n::date_time_seconds(due.unix())
    } else {
        fmt_time(due.unix())
    }
}

pub fn time(t: Timestamp) -> Markup {
    html! { time datetime=(t.to_string()) title=(t.to_string()) { (fmt_time(t.unix())) } }
}

/// "3 min ago", "2 days ago".
pub fn ago(now: Timestamp, t: Timestamp) -> String {
    let s = now.unix() - t.unix();
    match s {
        s if s < 60 => t!("just now").into(),
        s if s < 3600 => tf("{n} min ago", &[("n", &(s / 60))]),
        s if s < 86_400 => tf("{n} h ago", &[("n", &(s / 3600))]),
        s => tf(
            "{days} ago",
            &[("days", &count((s / 86_400) as u64, "day", "days"))],
        ),
    }
}

/// A countdown the page script keeps current.
pub fn countdown(due: Timestamp) -> Markup {
    html! { span.countdown data-due=(due.unix()) {} }
}

pub fn entry_href(id: &str) -> String {
    format!("/entry/{id}")
}

/// The name of a bidirectional control character, if `c` is one.
fn bidi_control(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{202a}' => "LRE",
        '\u{202b}' => "RLE",
        '\u{202c}' => "PDF",
        '\u{202d}' => "LRO",
        '\u{202e}' => "RLO",
        '\u{2066}' => "LRI",
        '\u{2067}' => "RLI",
        '\u{2068}' => "FSI",
        '\u{2069}' => "PDI",
        '\u{200e}' => "LRM",
        '\u{200f}' => "RLM",
        '\u{61c}' => "ALM",
        _ => return None,
    })
}

/// Text a peer wrote, isolated from the page around it (`bdi`), with every
/// bidirectional control shown as a marked tag instead of acting: an
/// override (U+202E) could otherwise make "txet" read as "text", or move a
/// number or a name to where the reader expects another.
pub fn peer_text(text: &str) -> Markup {
    if !text.chars().any(|c| bidi_control(c).is_some()) {
        return html! { bdi { (text) } };
    }
    let mut parts: Vec<(String, Option<(char, &str)>)> = vec![(String::new(), None)];
    for c in text.chars() {
        match bidi_control(c) {
            Some(name) => parts.push((String::new(), Some((c, name)))),
            None => parts.last_mut().expect("never empty").0.push(c),
        }
    }
    html! {
        bdi.has-bidi {
            @for (run, mark) in &parts {
                @if let Some((c, name)) = mark {
                    mark.bidi title=(tf("bidirectional control {code} ({name}) in the sender's text, shown and not applied", &[("code", &format!("U+{:04X}", u32::from(*c))), ("name", name)])) { "⟨" (name) "⟩" }
                }
                (run)
            }
        }
    }
}

pub fn badge(text: &str, colour: &str) -> Markup {
    html! { span class=(format!("badge {colour}")) { (tr(text)) } }
}

pub fn priority_badge(p: &str) -> Markup {
    let colour = match p {
        "flash" => "red",
        "immediate" => "amber",
        "priority" => "blue",
        _ => "grey",
    };
    badge(&p.to_uppercase(), colour)
}

pub fn status_badge(s: Status) -> Markup {
    match s {
        Status::Overdue => badge("OVERDUE", "red"),
        Status::Open => badge("OPEN", "amber"),
        Status::Pending => badge("NOT YET DELIVERED", "grey"),
        Status::Paused => badge("PAUSED: CHANNEL SUSPENDED", "grey"),
        Status::MetLate => badge("MET LATE", "blue"),
        Status::Met => badge("MET", "green"),
    }
}

/// A human kind name.
pub fn kind_title(kind: &str) -> &'static str {
    parley_domain::kinds::get(kind).map_or(t!("Entry"), |k| i18n::text(k.title))
}

/// Raw, already-escaped HTML.
pub fn raw(s: &str) -> PreEscaped<String> {
    PreEscaped(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_row_once_and_clamp_a_page_past_the_end() {
        let p = Pages::of(250, 0, 100);
        assert_eq!((p.pages, p.rows.clone()), (3, 0..100));
        assert_eq!(Pages::of(250, 2, 100).rows, 200..250);
        assert_eq!(Pages::of(250, 9, 100).rows, 200..250, "clamped");
        assert_eq!(Pages::of(0, 0, 100).rows, 0..0);
        let nav = Pages::of(250, 1, 100)
            .nav(|p| format!("/x?page={p}"), "newer", "older")
            .into_string();
        assert!(nav.contains("Entries 101–200 of 250"), "{nav}");
        assert!(
            nav.contains("/x?page=0") && nav.contains("/x?page=2"),
            "{nav}"
        );
        assert!(
            Pages::of(50, 0, 100)
                .nav(|_| String::new(), "a", "b")
                .into_string()
                .is_empty()
        );
    }

    #[test]
    fn counts_read_as_words() {
        assert_eq!(thousands(12_700), "12,700");
        assert_eq!(thousands(999), "999");
        assert_eq!(count(1, "entry", "entries"), "1 entry");
        assert_eq!(count(1_000_000, "entry", "entries"), "1,000,000 entries");
    }
}
