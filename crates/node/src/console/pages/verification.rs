//! Verification (Vienna Document Chapters I, II and IX): the quota each
//! participating State has left this year, every request for an
//! inspection or evaluation visit with its standing, reply and report, and
//! the annual returns that set the quotas.

use crate::console::i18n::{count, t, tf, tr};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use maud::{Markup, html};
use parley_domain::dates::Date;
use parley_domain::exchange;
use parley_domain::verification::{self, Decision, Family, Ground, Request, Standing};

use crate::api::domain::{YearQuery, verification_channels};
use crate::console::layout::{Ctx, Page, badge, entry_href, fmt_time, frame};
use crate::state::Node;

fn left(n: i64) -> Markup {
    if n == 0 {
        badge("QUOTA USED", "red")
    } else {
        html! { b { (n) } (t!(" left")) }
    }
}

fn quotas(ctx: &Ctx, channel: &str, year: i64) -> Markup {
    let rows = verification::quotas(&ctx.ledger, channel, year);
    html! {
        table.quotas {
            thead { tr {
                th { (t!("State")) } th { (t!("Inspections ")) (year) } th { (t!("Units (Ch. I)")) } th { (t!("Evaluation visits ")) (year) }
            } }
            tbody { @for q in &rows { tr {
                td { b { (q.state) } }
                td { (q.inspections) (t!(" of ")) (q.inspection_quota) " · " (left(q.inspections_left())) }
                td { @match q.units { Some(u) => (u), None => span.muted { (t!("not reported")) } } }
                td { @match (q.evaluation_quota, q.evaluations_left()) {
                    (Some(quota), Some(l)) => { (q.evaluations) (t!(" of ")) (quota) " · " (left(l)) }
                    _ => { (q.evaluations) " · " span.muted { (t!("quota unknown: no Chapter I information")) } }
                } }
            } } }
        }
    }
}

fn reply(r: &Request<'_>) -> Markup {
    html! {
        @match &r.reply {
            None => @if r.standing == Standing::Within { (badge("NO REPLY YET", "amber")) } @else { span.muted { (t!("none owed")) } },
            Some((k, b)) => {
                @match b.decision {
                    Decision::Accepted => (badge("ACCEPTED", "green")),
                    Decision::Refused => (badge("REFUSED", "red")),
                }
                @match b.ground {
                    Some(Ground::QuotaUsed) => (t!(" quota used")),
                    Some(Ground::ForceMajeure) => (t!(" force majeure: not counted")),
                    Some(Ground::Other) => (t!(" other reason")),
                    None => "",
                }
                @if let Some(a) = b.arrival { div.sub { (t!("team received ")) (fmt_time(a.0.unix())) } }
                @if let Some(e) = &b.explanation { div.sub { (e) } }
                div.sub { a href=(entry_href(&k.id())) { (k.id()) } }
            }
        }
    }
}

fn requests(ctx: &Ctx, channel: &str) -> Markup {
    let list = verification::requests(&ctx.ledger, channel);
    html! {
        @if list.is_empty() { p.muted { (t!("No inspection or evaluation visit requested.")) } } @else {
            table {
                thead { tr { th { (t!("Asked")) } th { (t!("Request")) } th { (t!("Quota")) } th { (t!("Answer")) } th { (t!("Report")) } } }
                tbody { @for r in list.iter().rev() {
                    tr class=[(!r.findings.is_empty()).then_some("overdue")] {
                        td.when { (fmt_time(r.source.entry.time.unix())) }
                        td {
                            a href=(entry_href(&r.source.id())) { b { @match r.family { Family::Inspection => (t!("Inspection")), Family::Evaluation => (t!("Evaluation visit")) } } }
                            " · " b { (r.to) } " · " (tf("asked by {party}", &[("party", &r.from)]))
                            @if let Some(u) = &r.unit { div.sub { (u) @if let Some(d) = r.visit_date { (t!(" on ")) (crate::console::i18n::date(d.start().unix())) } } }
                        }
                        td {
                            @match &r.standing {
                                Standing::Within => { (badge("WITHIN QUOTA", "green")) @if !r.counted { div.sub { (t!("not counted")) } } }
                                Standing::Beyond { rule } => { (badge("BEYOND QUOTA", "grey")) div.sub { (tr(rule)) } }
                            }
                        }
                        td { (reply(r)) }
                        td {
                            @match &r.report { Some((k, _)) => a href=(entry_href(&k.id())) { (t!("report ")) (k.id()) }, None => span.muted { "—" } }
                            @for f in &r.findings { div { (badge("RULE", "red")) " " span.sub { (tr(f)) } } }
                        }
                    }
                } }
            }
        }
    }
}

fn returns(ctx: &Ctx, channel: &str) -> Markup {
    let list = exchange::returns(&ctx.ledger, channel);
    html! {
        @if list.is_empty() { p.muted { (t!("No Chapter I or II information exchanged.")) } }
        ul { @for r in &list { li {
            a href=(entry_href(&r.source.id())) {
                @match r.units { Some(_) => (t!("Military information (Ch. I)")), None => (t!("Defence planning (Ch. II)")) }
                (t!(" for ")) (r.year)
            }
            (t!(" by ")) b { (r.source.entry.author) }
            @if let Some(u) = r.units { ": " @if u == 0 { (t!("nil report")) } @else { (u) (t!(" units")) } }
            (t!(" · sent ")) (fmt_time(r.source.entry.time.unix())) (t!(", due ")) (crate::console::i18n::date(r.due.start().unix()))
            @if let Some(d) = r.days_late { " " (badge(&tf("{days} LATE", &[("days", &count(d as u64, "DAY", "DAYS"))]), "red")) }
        } } }
    }
}

fn rules_checked() -> Markup {
    let rs = parley_domain::rules::default_set();
    let (i, e) = (&rs.inspection, &rs.evaluation);
    html! {
        h2 #rules { (t!("Rules checked")) }
        p.muted {
            (rs.title) (t!(". Inspections: at most ")) (i.per_year.value) (t!(" a year per State (")) (i.per_year.cite()) "), "
            (i.per_year_from_same_state.value) (t!(" from the same State (")) (i.per_year_from_same_state.cite()) (t!("); reply within "))
            (i.reply_hours.value) (t!(" hours, entry within ")) (i.entry_hours.value) (t!(" hours, ")) (i.duration_hours.value) (t!(" hours in the area, up to "))
            (i.inspectors.value) (t!(" inspectors. Evaluation visits: one per ")) (e.units_per_visit.value) (t!(" units reported, at most "))
            (e.per_year.value) (t!(" a year (")) (e.units_per_visit.cite()) (t!("), one fifth from the same State (")) (e.same_state_share.cite()) (t!("); a unit twice a year, once by the same State; one visit at a time on a territory; requested "))
            (e.lead_days.value) (t!(" days ahead, reply within ")) (e.reply_hours.value) (t!(" hours. A refusal for force majeure is not counted. "))
            (t!("Requests count in the order the State asked received them (its signed receipts), the same on every node; one dated back takes no one's place."))
        }
    }
}

pub async fn page(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Query(q): Query<YearQuery>,
) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    let year = q.year.unwrap_or_else(|| Date::of(ctx.now).year());
    let role = ctx.session.role;
    let channels = verification_channels(&ctx.ledger);
    let content = html! {
        p.pager {
            a href=(format!("/verification?year={}", year - 1)) { "← " (year - 1) }
            (t!(" · quotas for ")) b { (year) } " · "
            a href=(format!("/verification?year={}", year + 1)) { (year + 1) " →" }
        }
        p {
            @for (kind, label) in [("inspection_request", t!("Request an inspection")), ("evaluation_visit_request", t!("Request an evaluation visit")), ("military_information", t!("Send Chapter I information"))] {
                @if role.may_send(kind) { a.button href=(format!("/compose?kind={kind}")) { (label) } " " }
            }
        }
        @if channels.is_empty() { p.muted { (t!("Nothing under Vienna Document Chapters I, II or IX yet.")) } }
        @for c in &channels {
            div.panel {
                h2 { (t!("Channel ")) (c) }
                h3 { (t!("Quota left")) }
                (quotas(&ctx, c, year))
                h3 { (t!("Requests")) }
                (requests(&ctx, c))
                h3 { (t!("Annual exchange (Chapters I and II)")) }
                (returns(&ctx, c))
            }
        }
        (rules_checked())
    };
    Ok(frame(
        &ctx,
        t!("Verification"),
        "verification",
        true,
        content,
    ))
}
