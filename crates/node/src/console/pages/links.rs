//! Links to peers: up or down since when, the last receipt, what waits;
//! and equivocation evidence, as an alarm.

use crate::console::i18n::{t, tr};
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use maud::html;

use crate::console::layout::{Ctx, Page, badge, fmt_time, frame};

/// A party's keys by role, retired ones marked.
fn key_list(id: &parley_log::Identity) -> maud::Markup {
    html! {
        @for (role, k) in id.keys() {
            div.sub {
                (role.as_str()) " " code { (k.to_string()) }
                @if id.current(*role) != Some(k) { " " (badge("RETIRED", "grey")) }
            }
        }
    }
}
use crate::state::Node;
use crate::status;

pub async fn page(State(node): State<Arc<Node>>, headers: HeaderMap) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    let mut rows = Vec::new();
    for p in node.peer_list() {
        let link = node.link(&p.party);
        let (entries, checkpoints) = status::backlog(&node, &p.party).await?;
        let party = p.party.clone();
        // A member's last receipt, or a witness's last cosignature.
        let last = node
            .db(move |s| {
                Ok(
                    s.last_cosignature_by(&party, parley_store::Statement::Receipt)?
                        .max(s.last_cosignature_by(&party, parley_store::Statement::Witness)?),
                )
            })
            .await?;
        rows.push((p, link, entries, checkpoints, last));
    }
    let rotations = node.db(|s| s.rotations()).await?;
    let own = node.keys.identity();
    let content = html! {
        @if !ctx.evidence.is_empty() {
            h2 { (t!("Evidence")) }
            p { (t!("An equivocation file proves, with the accused party's own signatures, that it showed two different histories; verify one offline with ")) code { (t!("parley evidence verify FILE --vkey VKEY")) } (t!(". A future-dated file holds an entry its author signed with a date ahead of this node's clock, and the checkpoint it came under; it was refused.")) }
            table {
                thead { tr { th { "#" } th { (t!("Party")) } th { (t!("Detected")) } th { (t!("What")) } } }
                tbody {
                    @for e in &ctx.evidence {
                        tr.overdue { td { (e.id) } td { b { (e.party) } } td.when { (fmt_time(e.detected_at)) br; (t!("by ")) (e.detected_by) }
                            td { (tr(&e.summary)) div.sub { (e.kind.as_str()) " · " (if e.proven { t!("proven") } else { t!("unproven") }) " · " (e.origin) } } }
                    }
                }
            }
        }
        h2 { (t!("Peers")) }
        table {
            thead { tr { th { (t!("Party")) } th { (t!("Link")) } th { (t!("Last receipt or witness cosignature")) } th { (t!("Waiting")) } th { (t!("Address")) } } }
            tbody {
                @for (p, link, entries, checkpoints, last) in &rows {
                    tr class=[(link.up == Some(false)).then_some("overdue")] {
                        td { b { (p.party) } }
                        td {
                            @match link.up {
                                Some(true) => (badge("UP", "green")),
                                Some(false) => (badge("DOWN", "red")),
                                None => (badge("NOT YET TESTED", "grey")),
                            }
                            @if let Some(s) = link.since { (t!(" since ")) (fmt_time(s)) }
                            @if let Some(e) = &link.last_error { div.sub { (e) } }
                        }
                        td.when { @match last { Some(t) => (fmt_time(*t)), None => (t!("never")) } }
                        td { (crate::console::layout::count(*entries, "entry", "entries")) @if *checkpoints > 0 { ", " (crate::console::layout::count(*checkpoints, "checkpoint", "checkpoints")) (t!(" to witness")) } }
                        td { code { (p.urls_text()) } (key_list(&p.identity)) }
                    }
                }
            }
        }
        p.muted {
            @if node.dir.config.federation.plaintext {
                (t!("Peers are reached over plain HTTP (federation.plaintext). "))
            } @else {
                (t!("Peers are reached over mutual TLS 1.3; each must prove the node key pinned for it. "))
            }
            (t!("Each node sends a signed link test to every peer every ")) (node.dir.config.federation.link_test_interval_secs) (t!(" s; deliveries retry with backoff until receipted."))
        }
        @for w in node.dir.config.warnings() {
            div.alarm.red { (t!("WARNING: ")) (crate::console::i18n::tr(&w)) }
        }
        h2 { (t!("Keys")) }
        p.muted { (t!("One key per statement: log (checkpoints), receipt (proof of delivery), witness, node (TLS, link tests and reads). A rotated key is retired, not removed: what it signed still verifies.")) }
        table {
            thead { tr { th { (t!("Party")) } th { (t!("Keys")) } } }
            tbody {
                tr { td { b { (own.party) } (t!(" (this node)")) } td { (key_list(&own)) } }
            }
        }
        @if !rotations.is_empty() {
            h3 { (t!("Key rotations")) }
            table {
                thead { tr { th { (t!("When")) } th { (t!("Party")) } th { (t!("Key")) } } }
                tbody {
                    @for r in rotations.iter().rev() {
                        tr { td.when { (fmt_time(r.recorded_at)) } td { b { (r.party) } } td { (r.role) (t!(" key replaced, signed by the old and the new key")) } }
                    }
                }
            }
        }
    };
    Ok(frame(&ctx, t!("Links"), "links", true, content))
}
