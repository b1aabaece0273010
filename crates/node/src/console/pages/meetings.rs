//! Meetings: invitations and replies, the agenda being negotiated with each
//! party's proposals, the record with positions and differences, and
//! whether it may be published.

use crate::console::i18n::{t, tf};
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use maud::html;
use parley_domain::views::{self, Disclosure};

use crate::console::layout::{Ctx, Page, badge, entry_href, fmt_time, frame};
use crate::state::Node;

pub async fn page(State(node): State<Arc<Node>>, headers: HeaderMap) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    let meetings = views::meetings(&ctx.ledger, ctx.now);
    let role = ctx.session.role;
    let content = html! {
        @if meetings.is_empty() { p.muted { (t!("No meeting has been proposed.")) } }
        @for m in &meetings {
            div.panel {
                h3 { a href=(entry_href(&m.invitation.id())) { (m.details.title) } }
                p { (t!("Invited by ")) b { (m.invitation.entry.author) } " · " (m.details.venue) " · " (format!("{:?}", m.details.level).replace('_', " ").to_lowercase())
                    (t!(" · proposed ")) @for (i, d) in m.details.proposed_dates.iter().enumerate() { @if i > 0 { ", " } (fmt_time(d.0.unix())) } }
                @if !m.details.required_roles.is_empty() { p.muted { (t!("Asks for: ")) (m.details.required_roles.join(", ")) } }
                h3 { (t!("Replies")) }
                @if m.replies.is_empty() {
                    p {
                        @match m.details.reply_by {
                            Some(r) if r.0 > ctx.now => { (badge("NO REPLY YET", "amber")) (t!(" reply due ")) (crate::console::layout::fmt_due(ctx.now, r.0)) ", " (crate::console::layout::countdown(r.0)) }
                            Some(r) => { (badge("NO REPLY", "red")) (t!(" the reply was due ")) (fmt_time(r.0.unix())) }
                            None => { (badge("NO REPLY YET", "amber")) }
                        }
                    }
                }
                ul { @for (k, r) in &m.replies {
                    li { b { (k.entry.author) } ": "
                        @match r.response { parley_domain::meetings::Response::Accept => (badge("ACCEPTS", "green")), parley_domain::meetings::Response::Decline => (badge("DECLINES", "red")), parley_domain::meetings::Response::CounterProposal => (badge("COUNTER-PROPOSAL", "amber")) }
                        " " @if let Some(v) = &r.counter_venue { (v) " " } @for d in &r.counter_dates { (fmt_time(d.0.unix())) " " }
                        @if let Some(n) = &r.note { span.muted { (n) } } @if let Some(n) = &r.reason { span.muted { (n) } }
                        " " a href=(entry_href(&k.id())) { (k.id()) } }
                } }
                h3 { (t!("Agenda")) }
                @if m.agendas.is_empty() { p.muted { (t!("No agenda proposed.")) } }
                @for a in &m.agendas {
                    div.panel.verified[a.agreed()] {
                        p { (t!("Proposed by ")) b { (a.proposal.entry.author) } " " a href=(entry_href(&a.proposal.id())) { (a.proposal.id()) } " — "
                            @if a.agreed() { (badge("AGREED BY ALL", "green")) } @else { (badge(&tf("WAITING FOR {parties}", &[("parties", &a.waiting_for.join(", ").to_uppercase())]), "amber")) }
                            @if !a.agreed() && !a.waiting_for.contains(&ctx.party().to_string()) { } @else if !a.agreed() && role.may_send("agenda_agreement") {
                                " " a.button href=(format!("/compose?channel={}&kind=agenda_agreement&ref={}", m.invitation.entry.channel, a.proposal.id())) { (t!("Agree to this agenda")) }
                            }
                        }
                        ol { @for it in &a.items { li { (it.title) span.muted { " — " (it.sponsor) } } } }
                    }
                }
                @for r in &m.records {
                    h3 { (t!("Record ")) a href=(entry_href(&r.source.id())) { (r.source.id()) } }
                    p { (fmt_time(r.record.start.0.unix())) " – " (fmt_time(r.record.end.0.unix())) " · "
                        @for (i, a) in r.record.attendance.iter().enumerate() { @if i > 0 { "; " } b { (a.party) } ": " (a.participants.join(", ")) } }
                    @for it in &r.record.items {
                        h3 { (it.title) }
                        div.positions { @for (p, text) in &it.positions { div.pos { b { (p) } (text) } } }
                    }
                    @if !r.record.differences.is_empty() {
                        div.alarm.amber { (t!("Recorded differences:")) ul { @for d in &r.record.differences { li { (d) } } } }
                    }
                    @if let Some(j) = &r.record.joint_statement { div.panel { b { (t!("Joint statement: ")) } (j) } }
                    p { (t!("Confirmation: ")) @for (p, ok, obj, k) in &r.confirmations {
                        a href=(entry_href(&k.id())) { @if *ok { (badge(&tf("{party} CONFIRMED", &[("party", &p.to_uppercase())]), "green")) } @else { (badge(&tf("{party} OBJECTS", &[("party", &p.to_uppercase())]), "red")) } }
                        @for o in obj { " " span.muted { (o) } } } }
                    p { (t!("Disclosure: ")) @match &r.disclosure {
                        Disclosure::Public => (badge("PUBLIC — EVERY MEMBER CONSENTED", "green")),
                        Disclosure::Confidential { waiting, embargo, objected_by } => {
                            (badge("CONFIDENTIAL", "amber"))
                            @if !waiting.is_empty() { (t!(" waiting for consent from ")) (waiting.join(", ")) }
                            @if let Some(e) = embargo { (t!("; embargoed until ")) (fmt_time(e.unix())) (t!(" (not before)")) }
                            @if !objected_by.is_empty() { "; " (badge("OBJECTION", "red")) (t!(" by ")) (objected_by.join(", ")) }
                        },
                    } }
                }
            }
        }
    };
    Ok(frame(&ctx, t!("Meetings"), "meetings", true, content))
}
