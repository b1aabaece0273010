//! The obligations board: overdue first, in red; open with a countdown;
//! met, with the entry that met it.

use crate::console::i18n::{t, tf, tr};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use maud::{Markup, html};
use parley_domain::obligations::{Obligation, Status};
use serde::Deserialize;

use crate::console::layout::{Ctx, Page, countdown, entry_href, fmt_time, frame, status_badge};
use crate::state::Node;

/// Met obligations shown, most recent first.
const MET_SHOWN: usize = 100;

#[derive(Deserialize)]
pub struct BoardQuery {
    party: Option<String>,
    channel: Option<String>,
}

pub fn obligation_row(o: &Obligation, now: parley_log::Timestamp) -> Markup {
    html! {
        tr class=[(o.status == Status::Overdue).then_some("overdue")] {
            td { (status_badge(o.status)) }
            td { (tf("{debtor} owes {creditor}", &[("debtor", &o.debtor), ("creditor", &o.creditor)])) }
            td { (tr(&o.description)) div.sub { (t!("from")) " " a href=(entry_href(&o.source)) { (o.source) } " · " (o.channel) }
                @for q in &o.unanswered { div.sub { b { (t!("Unanswered:")) } " " (q) } } }
            td.when {
                @match (o.status, o.due) {
                    (Status::Met | Status::MetLate, _) => {
                        (t!("met")) " " @if let Some(t) = o.met_at { (fmt_time(t.unix())) }
                        @if let Some(m) = &o.met_by { br; a href=(entry_href(m)) { (m) } }
                        @if !o.met_proven { div.sub { (t!("(stated time; receipt not visible here)")) } }
                    }
                    (Status::Pending, _) => { span.muted { (t!("clock starts on delivery")) } }
                    (_, Some(d)) => { (t!("due")) " " (crate::console::layout::fmt_due(now, d)) br; (countdown(d)) }
                    _ => {}
                }
            }
        }
    }
}

pub async fn page(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Query(q): Query<BoardQuery>,
) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    let party = q.party.clone().filter(|p| !p.is_empty());
    let channel = q.channel.clone().filter(|c| !c.is_empty());
    let keep = |o: &Obligation| {
        party
            .as_ref()
            .is_none_or(|p| o.debtor == *p || o.creditor == *p)
            && channel.as_ref().is_none_or(|c| o.channel == *c)
    };
    let board = ctx.ledger.board();
    let unmet: Vec<&Obligation> = ctx.unmet.iter().filter(|o| keep(o)).collect();
    // The met ones grow with the history: the latest are shown.
    let met: Vec<&Obligation> = board.met_latest(keep).take(MET_SHOWN).collect();
    let met_total = board.met_count();
    let mut parties: Vec<String> = vec![node.party.clone()];
    parties.extend(node.peer_list().into_iter().map(|p| p.party));
    let groups = [
        (t!("Overdue"), vec![Status::Overdue]),
        (
            t!("Open"),
            vec![Status::Open, Status::Paused, Status::Pending],
        ),
    ];
    let content = html! {
        form method="get" action="/obligations" .actions {
            label { (t!("Party")) " " select name="party" { option value="" { (t!("all")) } @for p in &parties { option value=(p) selected[party.as_deref() == Some(p)] { (p) } } } }
            label { (t!("Channel")) " " select name="channel" { option value="" { (t!("all")) } @for c in node.channel_list() { option value=(c.id) selected[channel.as_deref() == Some(&c.id)] { (c.id) } } } }
            button type="submit" { (t!("Filter")) }
        }
        p.muted { (t!("Deadlines start at the debtor's own signed receipt of what obliges it, never at the sender's clock.")) }
        @for (title, statuses) in &groups {
            @let rows: Vec<&&Obligation> = unmet.iter().filter(|o| statuses.contains(&o.status)).collect();
            h2 { (title) " (" (rows.len()) ")" }
            @if rows.is_empty() { p.muted { (t!("None.")) } } @else {
                table {
                    thead { tr { th { (t!("Status")) } th { (t!("Who")) } th { (t!("What")) } th { (t!("When")) } } }
                    tbody { @for o in rows { (obligation_row(o, ctx.now)) } }
                }
            }
        }
        h2 {
            (t!("Met")) " (" (met.len())
            @if met.len() == MET_SHOWN {
                " " @if party.is_none() && channel.is_none() { (tf("most recent of {total}", &[("total", &met_total)])) } @else { (t!("most recent")) }
            }
            ")"
        }
        @if met.is_empty() { p.muted { (t!("None.")) } } @else {
            table {
                thead { tr { th { (t!("Status")) } th { (t!("Who")) } th { (t!("What")) } th { (t!("When")) } } }
                tbody { @for o in &met { (obligation_row(o, ctx.now)) } }
            }
        }
    };
    Ok(frame(&ctx, t!("Obligations"), "obligations", true, content))
}
