//! Exercises: the calendar of notified activities and the map of their
//! areas, each with its threshold badges.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use maud::{Markup, html};
use parley_domain::exercises::Assessment;
use parley_domain::views;

use crate::console::layout::{Ctx, Page, badge, entry_href, fmt_time, frame, thousands};
use crate::console::map::{MapArea, europe};
use crate::state::Node;

/// Chapter VIII breaches of one activity, each as a badge with its rule.
pub fn chapter_viii(breaches: &[String]) -> Markup {
    html! {
        @for b in breaches { (badge("CH. VIII", "red")) " " span.sub { (b) } br; }
    }
}

pub fn badges(a: &Assessment) -> Markup {
    html! {
        @if a.notifiable.is_empty() { (badge("BELOW THRESHOLDS", "grey")) } @else { (badge("NOTIFIABLE", "amber")) }
        @if a.observation_required() { (badge("OBSERVATION REQUIRED", "red")) }
        @match a.timing {
            parley_domain::exercises::Timing::Late => (badge("LATE", "red")),
            parley_domain::exercises::Timing::AtCommencement => (badge("ALERT: NOTIFIED AT COMMENCEMENT", "amber")),
            parley_domain::exercises::Timing::Voluntary => (badge("VOLUNTARY", "grey")),
            parley_domain::exercises::Timing::OnTime => {},
        }
        @if a.observation_exempt { (badge("ALERT ≤ 72 H: NO OBSERVATION", "grey")) }
        @if !a.constrained.is_empty() { (badge("NEEDED 2 YEARS' NOTICE", "red")) }
    }
}

pub async fn page(State(node): State<Arc<Node>>, headers: HeaderMap) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    let ex = views::exercises(&ctx.ledger);
    let cals = views::calendars(&ctx.ledger);
    let dangers = views::danger_notices(&ctx.ledger);
    let mut areas: Vec<MapArea> = ex
        .iter()
        .map(|x| MapArea {
            label: x.notification.designation.clone(),
            class: if x.assessment.observation_required() {
                "observation"
            } else if x.assessment.notifiable.is_empty() {
                "voluntary"
            } else {
                "notifiable"
            },
            ring: x.notification.area.outer_degrees(),
            href: entry_href(&x.source.id()),
        })
        .collect();
    areas.extend(dangers.iter().map(|d| MapArea {
        label: d.notice.activity.clone(),
        class: "danger",
        ring: d.notice.area.outer_degrees(),
        href: entry_href(&d.source.id()),
    }));
    let content = html! {
        p {
            "Legend: " (badge("NOTIFIABLE", "amber")) " amber area · " (badge("OBSERVATION REQUIRED", "red")) " red area · "
            (badge("BELOW THRESHOLDS", "grey")) " blue area · " (badge("DANGER AT SEA", "red")) " dashed red area: an activity dangerous to navigation or flight. Thresholds: " a href="#rules" { "Vienna Document 2011" } "."
        }
        (europe(&areas))
        h2 { "Calendar of notified activities" }
        @if ex.is_empty() { p.muted { "No activity has been notified." } } @else {
            table {
                thead { tr { th { "Dates" } th { "Activity" } th { "Numbers" } th { "Assessment" } } }
                tbody {
                    @for x in &ex {
                        @let n = &x.notification;
                        tr class=[x.assessment.late.then_some("overdue")] {
                            td.when { (n.start) " –" br; (n.end) }
                            td {
                                a href=(entry_href(&x.source.id())) { b { (n.designation) } } " by " (x.source.entry.author)
                                div.sub { (n.purpose) } div.sub { (n.area_description.clone().unwrap_or_default()) }
                            }
                            td { (thousands(n.forces.troops.into())) " troops" @if n.forces.battle_tanks > 0 { br; (thousands(n.forces.battle_tanks.into())) " tanks" }
                                @if n.forces.armoured_combat_vehicles > 0 { br; (thousands(n.forces.armoured_combat_vehicles.into())) " ACV" }
                                @if n.forces.artillery_pieces > 0 { br; (thousands(n.forces.artillery_pieces.into())) " artillery" } }
                            td {
                                (badges(&x.assessment))
                                (chapter_viii(&x.chapter_viii))
                                div.sub { "notified " (fmt_time(x.source.entry.time.unix())) ", " (x.assessment.lead_days) " days ahead (" (x.assessment.required_lead_days) " required)" }
                                @if let Some(l) = &n.late { div.sub { "Late: " (l.reason) } }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Activities dangerous to navigation or flight" }
        @if dangers.is_empty() { p.muted { "None notified." } } @else {
            table {
                thead { tr { th { "When (UTC)" } th { "Activity" } th { "Notice" } } }
                tbody { @for d in &dangers {
                    tr {
                        td.when { (fmt_time(d.notice.start.0.unix())) " –" br; (fmt_time(d.notice.end.0.unix())) }
                        td { a href=(entry_href(&d.source.id())) { b { (d.notice.activity) } } " by " (d.source.entry.author)
                            @if let Some(w) = &d.notice.broadcast_warning { div.sub { "also broadcast: " (w) } } }
                        td {
                            (d.days_ahead) " days ahead"
                            @if let Some(r) = d.days_required { @if d.days_ahead < r { " " (badge("SHORT NOTICE", "red")) @if let Some(why) = &d.notice.late_reason { div.sub { (why) } } } @else { span.muted { " (" (r) " required as a rule)" } } }
                        }
                    }
                } }
            }
        }
        h2 { "Annual calendars" }
        @if cals.is_empty() { p.muted { "None received." } }
        ul { @for (k, c) in &cals { li { a href=(entry_href(&k.id())) { (c.year) " by " (k.entry.author) } ": "
            @if c.activities.is_empty() { "nil calendar" } @else { @for (i, a) in c.activities.iter().enumerate() { @if i > 0 { "; " } (a.designation) " (" (a.start) ")" } } } } }
        h2 #rules { "Rules checked" }
        @let rs = parley_domain::rules::default_set();
        p.muted { (rs.title) ": notification " (rs.notification.lead_days.value) " days ahead; notifiable at "
            @for (i, t) in rs.notification.thresholds.iter().enumerate() { @if i > 0 { ", " } (t.describe()) }
            "; observation at " @for (i, t) in rs.observation.thresholds.iter().enumerate() { @if i > 0 { ", " } (t.describe()) } "." }
    };
    Ok(frame(&ctx, "Exercises", "exercises", true, content))
}
