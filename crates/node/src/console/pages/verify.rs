//! Verify any proof bundle against keys, the way `parley verify` does.

use crate::console::i18n::t;
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
        p.muted { (t!("Paste a proof bundle (a .tlog-proof file) and the verifier keys to check it against. The author's log key must have signed. A receipt (a member's receipt key) proves delivery to that member; a witness cosignature proves only that the witness saw no other history.")) }
        form.compose method="post" action="/verify" {
            div.field { label for="bundle" { (t!("Proof bundle")) } textarea #bundle name="bundle" rows="12" { (bundle) } }
            div.field { label for="vkeys" { (t!("Verifier keys, one per line")) } textarea #vkeys name="vkeys" rows="4" { (vkeys) } }
            button.primary type="submit" { (t!("Verify")) }
        }
    }
}

pub async fn form(State(node): State<Arc<Node>>, headers: HeaderMap) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    Ok(frame(
        &ctx,
        t!("Verify a proof"),
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
                p { (badge("VERIFIED", "green")) (t!(" entry ")) b { (v.entry.id()) } " (" (v.entry.kind) (t!(") by ")) (v.entry.author) (t!(", stated ")) (v.entry.time.to_string()) }
                p { (t!("In feed ")) code { (v.origin) } (t!(" of size ")) (v.tree_size) "." }
                ul {
                    @for (party, t) in v.receipts() { li { (t!("delivered to ")) b { (party) } (t!(" at ")) (fmt_time(t as i64)) (t!(" (receipt)")) } }
                    @if v.receipts().next().is_none() { li { (t!("no receipt: delivery is not proven by this bundle")) } }
                    @for (name, t) in v.witnesses() { li { (t!("witnessed by ")) b { (name) } (t!(" at ")) (fmt_time(t as i64)) (t!(" (not a receipt)")) } }
                }
            },
            Err(e) => div.errors-summary { b { (t!("Does not verify: ")) } (crate::console::i18n::tr(&e.to_string())) },
        }
        (form_markup(&f.bundle, &f.vkeys))
    };
    Ok(frame(&ctx, t!("Verify a proof"), "verify", false, content))
}
