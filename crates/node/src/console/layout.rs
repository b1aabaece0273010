//! The page frame every console page shares, and small rendering helpers.

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
        (DOCTYPE) html lang="en" { head { meta charset="utf-8"; meta http-equiv="refresh" content="2"; title { "Starting — parley" } link rel="stylesheet" href="/console.css"; }
        body { main {
            h1 { "Starting" }
            p { "This node has just started and is reading its record into memory. The console opens by itself when it is done (a million entries take about half a minute)." }
            p.muted { "Nothing is lost meanwhile: the node already receives and stores traffic, and sends receipts." }
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
            ConsoleError::Forbidden(t) => (axum::http::StatusCode::FORBIDDEN, "Not allowed", t),
            ConsoleError::NotFound(t) => (axum::http::StatusCode::NOT_FOUND, "Not found", t),
            ConsoleError::Internal(t) => {
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "Error", t)
            }
            ConsoleError::Starting => return starting_page(),
        };
        let body = html! {
            (DOCTYPE) html lang="en" { head { meta charset="utf-8"; title { (title) " — parley" } link rel="stylesheet" href="/console.css"; }
            body { main { h1 { (title) } p { (text) } p { a href="/inbox" { "Back to the inbox" } } } } }
        };
        (status, Html(body.into_string())).into_response()
    }
}

impl From<parley_store::StoreError> for ConsoleError {
    fn from(e: parley_store::StoreError) -> ConsoleError {
        tracing::error!(error = %e, "console: store failure");
        ConsoleError::Internal("The node's database failed; see the node's log.".into())
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
        "inbox" => "Inbox",
        "compose" => "Compose",
        "obligations" => "Obligations",
        "links" => "Links",
        "exercises" => "Exercises",
        "verification" => "Verification",
        "meetings" => "Meetings",
        "negotiations" => "Negotiations",
        "silence" => "Silence",
        "timeline" => "Timeline",
        "verify" => "Verify",
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
                        "EQUIVOCATION: " (e.party) " showed two different histories of one feed. "
                    }
                    parley_store::EvidenceKind::FutureDated => {
                        "FUTURE-DATED ENTRY REFUSED: " (e.party) " signed an entry dated ahead of this node's clock. "
                    }
                }
                (e.summary) " — " a href="/links" { "see the evidence (#" (e.id) ")" }
            }
        }
        @if !unacked.is_empty() {
            div.alarm.red.flashing data-alarm="1" {
                (unacked.len()) " flash/immediate message" @if unacked.len() > 1 { "s" } " not yet acknowledged by " (ctx.party()) ": "
                @for (i, o) in unacked.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href=(entry_href(&o.source)) { (o.source) }
                    @if let Some(d) = o.due { " (" span data-due=(d.unix()) {} ")" }
                }
            }
        }
        @for (p, since) in &ctx.links_down {
            div.alarm.amber { "Link to " (p) " is DOWN" @if let Some(s) = since { " since " (fmt_time(*s)) } ". Messages wait in the outbox and go when it returns. " a href="/links" { "Links" } }
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
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (ctx.party()) " — parley" }
                link rel="icon" href="/favicon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/console.css";
            }
            body data-live=[live.then_some("1")] data-clock-offset=[story.then_some(offset)] class=(accent_class(&ctx.node.dir.config)) {
                header.top {
                    span.node { (ctx.party().to_uppercase()) " " small { "parley node" } }
                    span.who { (ctx.session.user) " · " (super::auth::Role::title(ctx.session.role)) }
                    @if story { span.badge.blue title="parley demo: the three demo nodes share a clock that replays a two-month story, then catches up with real time" { "STORY CLOCK" } }
                    span #clock .clock { (fmt_time(ctx.now.unix())) }
                    form method="post" action="/logout" { (ctx.csrf()) button type="submit" { "Sign out" } }
                }
                nav #nav .main aria-label="Views" { (nav) }
                div #alarms .alarms role="alert" { (alarms) }
                main {
                    h1 { (title) }
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

/// `2026-11-22 06:39Z`.
pub fn fmt_time(unix: i64) -> String {
    let t = Timestamp::from_unix(unix).map_or_else(|| unix.to_string(), |t| t.to_string());
    format!("{} {}Z", &t[..10], &t[11..16])
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
                nav.pager aria-label="Pages" {
                    "Entries " (thousands(self.rows.start as u64 + 1)) "–" (thousands(self.rows.end as u64))
                    " of " (thousands(self.total as u64)) " "
                    @if self.page > 0 { a.button href=(href(self.page - 1)) { "← " (back) } " " }
                    @if self.page + 1 < self.pages { a.button href=(href(self.page + 1)) { (on) " →" } }
                }
            }
        }
    }
}

/// "1 entry", "3 entries".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// `12700` → `12,700`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A deadline: to the second when it is within the hour (a flash message
/// has five minutes), else to the minute.
pub fn fmt_due(now: Timestamp, due: Timestamp) -> String {
    if (due.unix() - now.unix()).abs() < 3600 {
        let t = due.to_string();
        format!("{} {}Z", &t[..10], &t[11..19])
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
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
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
                    mark.bidi title=(format!("bidirectional control U+{:04X} ({name}) in the sender's text, shown and not applied", u32::from(*c))) { "⟨" (name) "⟩" }
                }
                (run)
            }
        }
    }
}

pub fn badge(text: &str, colour: &str) -> Markup {
    html! { span class=(format!("badge {colour}")) { (text) } }
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
    parley_domain::kinds::get(kind).map_or("Entry", |k| k.title)
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
