//! Exercises: the calendar of notified activities and the map of their
//! areas, each with its threshold badges.

use crate::console::i18n::{t, tr};
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
        @for b in breaches { (badge("CH. VIII", "red")) " " span.sub { (tr(b)) } br; }
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
            (t!("Legend: ")) (badge("NOTIFIABLE", "amber")) (t!(" amber area · ")) (badge("OBSERVATION REQUIRED", "red")) (t!(" red area · "))
            (badge("BELOW THRESHOLDS", "grey")) (t!(" blue area · ")) (badge("DANGER AT SEA", "red")) (t!(" dashed red area: an activity dangerous to navigation or flight. Thresholds: ")) a href="#rules" { (t!("Vienna Document 2011")) } "."
        }
        (europe(&areas))
        h2 { (t!("Calendar of notified activities")) }
        @if ex.is_empty() { p.muted { (t!("No activity has been notified.")) } } @else {
            table {
                thead { tr { th { (t!("Dates")) } th { (t!("Activity")) } th { (t!("Numbers")) } th { (t!("Assessment")) } } }
                tbody {
                    @for x in &ex {
                        @let n = &x.notification;
                        tr class=[x.assessment.late.then_some("overdue")] {
                            td.when { (n.start) " –" br; (n.end) }
                            td {
                                a href=(entry_href(&x.source.id())) { b { (n.designation) } } (t!(" by ")) (x.source.entry.author)
                                div.sub { (n.purpose) } div.sub { (n.area_description.clone().unwrap_or_default()) }
                            }
                            td { (thousands(n.forces.troops.into())) (t!(" troops")) @if n.forces.battle_tanks > 0 { br; (thousands(n.forces.battle_tanks.into())) (t!(" tanks")) }
                                @if n.forces.armoured_combat_vehicles > 0 { br; (thousands(n.forces.armoured_combat_vehicles.into())) (t!(" ACV")) }
                                @if n.forces.artillery_pieces > 0 { br; (thousands(n.forces.artillery_pieces.into())) (t!(" artillery")) } }
                            td {
                                (badges(&x.assessment))
                                (chapter_viii(&x.chapter_viii))
                                div.sub { (t!("notified ")) (fmt_time(x.source.entry.time.unix())) ", " (x.assessment.lead_days) (t!(" days ahead (")) (x.assessment.required_lead_days) (t!(" required)")) }
                                @if let Some(l) = &n.late { div.sub { (t!("Late: ")) (l.reason) } }
                            }
                        }
                    }
                }
            }
        }
        h2 { (t!("Activities dangerous to navigation or flight")) }
        @if dangers.is_empty() { p.muted { (t!("None notified.")) } } @else {
            table {
                thead { tr { th { (t!("When (UTC)")) } th { (t!("Activity")) } th { (t!("Notice")) } } }
                tbody { @for d in &dangers {
                    tr {
                        td.when { (fmt_time(d.notice.start.0.unix())) " –" br; (fmt_time(d.notice.end.0.unix())) }
                        td { a href=(entry_href(&d.source.id())) { b { (d.notice.activity) } } (t!(" by ")) (d.source.entry.author)
                            @if let Some(w) = &d.notice.broadcast_warning { div.sub { (t!("also broadcast: ")) (w) } } }
                        td {
                            (d.days_ahead) (t!(" days ahead"))
                            @if let Some(r) = d.days_required { @if d.days_ahead < r { " " (badge("SHORT NOTICE", "red")) @if let Some(why) = &d.notice.late_reason { div.sub { (why) } } } @else { span.muted { " (" (r) (t!(" required as a rule)")) } } }
                        }
                    }
                } }
            }
        }
        h2 { (t!("Annual calendars")) }
        @if cals.is_empty() { p.muted { (t!("None received.")) } }
        ul { @for (k, c) in &cals { li { a href=(entry_href(&k.id())) { (c.year) (t!(" by ")) (k.entry.author) } ": "
            @if c.activities.is_empty() { (t!("nil calendar")) } @else { @for (i, a) in c.activities.iter().enumerate() { @if i > 0 { "; " } (a.designation) " (" (a.start) ")" } } } } }
        h2 #rules { (t!("Rules checked")) }
        @let rs = parley_domain::rules::default_set();
        p.muted { (rs.title) (t!(": notification ")) (rs.notification.lead_days.value) (t!(" days ahead; notifiable at "))
            @for (i, t) in rs.notification.thresholds.iter().enumerate() { @if i > 0 { ", " } (crate::console::i18n::tr(&t.describe())) }
            (t!("; observation at ")) @for (i, t) in rs.observation.thresholds.iter().enumerate() { @if i > 0 { ", " } (crate::console::i18n::tr(&t.describe())) } "." }
    };
    Ok(frame(&ctx, t!("Exercises"), "exercises", true, content))
}
