//! Verify any proof bundle against keys, the way `parley verify` does.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use maud::{Markup, html};
use parley_log::{Trust, VerifierKey, verify_bundle};
use serde::Deserialize;

use crate::console::layout::{Ctx, Page, badge, fmt_time, frame};
use crate::state::Node;

#[derive(Deserialize)]
pub struct VerifyForm {
    bundle: String,
    vkeys: String,
}

fn known_keys(node: &Node) -> String {
    let _ = node.peer_list();
    node.keys
        .all_public_keys()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn form_markup(bundle: &str, vkeys: &str) -> Markup {
    html! {
        p.muted { "Paste a proof bundle (a .tlog-proof file) and the verifier keys to check it against. The author's log key must have signed. A receipt (a member's receipt key) proves delivery to that member; a witness cosignature proves only that the witness saw no other history." }
        form.compose method="post" action="/verify" {
            div.field { label for="bundle" { "Proof bundle" } textarea #bundle name="bundle" rows="12" { (bundle) } }
            div.field { label for="vkeys" { "Verifier keys, one per line" } textarea #vkeys name="vkeys" rows="4" { (vkeys) } }
            button.primary type="submit" { "Verify" }
        }
    }
}

pub async fn form(State(node): State<Arc<Node>>, headers: HeaderMap) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    Ok(frame(
        &ctx,
        "Verify a proof",
        "verify",
        false,
        form_markup("", &known_keys(&node)),
    ))
}

pub async fn check(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Form(f): Form<VerifyForm>,
) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    let keys: Result<Vec<VerifierKey>, String> = f
        .vkeys
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| VerifierKey::parse(l).map_err(|e| format!("{l}: {e}")))
        .collect();
    let bundle = f.bundle.replace("\r\n", "\n");
    let result =
        keys.and_then(|k| verify_bundle(&bundle, &Trust::known(k)).map_err(|e| e.to_string()));
    let content = html! {
        @match &result {
            Ok(v) => div.panel.verified {
                p { (badge("VERIFIED", "green")) " entry " b { (v.entry.id()) } " (" (v.entry.kind) ") by " (v.entry.author) ", stated " (v.entry.time.to_string()) }
                p { "In feed " code { (v.origin) } " of size " (v.tree_size) "." }
                ul {
                    @for (party, t) in v.receipts() { li { "delivered to " b { (party) } " at " (fmt_time(t as i64)) " (receipt)" } }
                    @if v.receipts().next().is_none() { li { "no receipt: delivery is not proven by this bundle" } }
                    @for (name, t) in v.witnesses() { li { "witnessed by " b { (name) } " at " (fmt_time(t as i64)) " (not a receipt)" } }
                }
            },
            Err(e) => div.errors-summary { b { "Does not verify: " } (e) },
        }
        (form_markup(&f.bundle, &f.vkeys))
    };
    Ok(frame(&ctx, "Verify a proof", "verify", false, content))
}
