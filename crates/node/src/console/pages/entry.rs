//! One entry: what it says (each language side by side), where it stands
//! with each recipient, what it references and what answers it, and the
//! proof that it is in its author's feed.

use crate::console::i18n::{code, t, text, tf, tr};
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use parley_domain::ChannelState;
use parley_domain::kinds::Whose;
use parley_domain::ledger::Known;
use parley_log::proof::TlogProof;
use parley_log::{Checkpoint, Note, NoteSignature};
use parley_store::FeedId;
use serde::Deserialize;
use serde_json::Value;

use crate::console::authorize;
use crate::console::layout::{
    ConsoleError, Ctx, Page, badge, entry_href, fmt_time, frame, kind_title, priority_badge, time,
};
use crate::state::Node;
use crate::views;

async fn load(
    node: &Arc<Node>,
    channel: &str,
    author: &str,
    seq: u64,
) -> Result<parley_store::StoredEntry, ConsoleError> {
    let feed = FeedId::new(channel, author);
    node.db(move |s| s.entry(&feed, seq)).await?.ok_or_else(|| {
        ConsoleError::NotFound(tf(
            "There is no entry {entry} on this node.",
            &[("entry", &format!("{channel}/{author}/{seq}"))],
        ))
    })
}

/// Maps of language → text, shown side by side.
/// An object whose every key is a language code and every value a text.
fn language_map(v: &Value) -> Option<&serde_json::Map<String, Value>> {
    let m = v.as_object()?;
    let all_langs = !m.is_empty()
        && m.iter()
            .all(|(l, t)| parley_domain::channel::is_language_code(l) && t.is_string());
    all_langs.then_some(m)
}

fn language_maps(body: &Value) -> Vec<(&str, &serde_json::Map<String, Value>)> {
    let Some(obj) = body.as_object() else {
        return vec![];
    };
    obj.iter()
        .filter_map(|(k, v)| Some((k.as_str(), language_map(v)?)))
        .collect()
}

/// Texts by language, the authentic one marked, and each translation the
/// channel requires but the entry lacks marked missing.
fn texts_side_by_side(m: &serde_json::Map<String, Value>, c: Option<&ChannelState>) -> Markup {
    let authentic = c.and_then(|c| c.charter.rules.authentic_language.as_deref());
    let missing: Vec<&String> = c
        .filter(|c| c.charter.rules.translations_required)
        .map(|c| {
            c.charter
                .languages
                .iter()
                .filter(|l| !m.contains_key(*l))
                .collect()
        })
        .unwrap_or_default();
    html! {
        div.texts {
            @for (lang, text) in m {
                div.lang lang=(lang) {
                    span.code {
                        (lang)
                        @if authentic == Some(lang.as_str()) { " " (badge("AUTHENTIC", "green")) }
                        @else if authentic.is_some() { " · " (t!("translation")) }
                    }
                    (crate::console::layout::peer_text(text.as_str().unwrap_or("")))
                }
            }
            @for lang in &missing {
                div.lang.missing { span.code { (lang) } " " (badge("TRANSLATION MISSING", "amber")) }
            }
        }
    }
}

/// A body value as a reader wants it: nested records as nested facts,
/// lists as lists, an area as its corners in degrees, counts with thousands
/// separators (a year without); JSON never. `key` is the field's name.
fn value(key: &str, v: &Value, codes: &Codes) -> Markup {
    use parley_domain::geo::E7;
    if let Ok(area) = serde_json::from_value::<parley_domain::geo::Area>(v.clone()) {
        let mut ring = area.outer_degrees();
        ring.pop(); // a closed ring repeats its first corner
        let corners: Vec<String> = ring
            .iter()
            .map(|(lon, lat)| format!("{lon:.4} {lat:.4}"))
            .collect();
        return html! { (t!("polygon, corners (longitude latitude): ")) code { (corners.join(" · ")) } };
    }
    if let Ok(p) = serde_json::from_value::<parley_domain::geo::Position>(v.clone()) {
        let (lon, lat) = (p.longitude_e7 as f64 / E7, p.latitude_e7 as f64 / E7);
        return html! { (t!("longitude latitude ")) code { (format!("{lon:.4} {lat:.4}")) } };
    }
    if let Some(m) = language_map(v) {
        return texts_side_by_side(m, None);
    }
    match v {
        // An instant is written as the reader's language writes it; the
        // signed value is kept in the title.
        Value::String(s) if parley_log::Timestamp::parse(s).is_ok() => {
            html! { time datetime=(s) title=(s) { (crate::console::i18n::date_time_seconds(parley_log::Timestamp::parse(s).map_or(0, |t| t.unix()))) } }
        }
        Value::String(s) if codes.is_code(key, s) => {
            html! { span.code-word title=(s) { (code(s)) } }
        }
        Value::String(s) => html! { span.pre { (crate::console::layout::peer_text(s)) } },
        Value::Null => html! { span.muted { "—" } },
        Value::Array(a) if a.is_empty() => html! { span.muted { (t!("none")) } },
        Value::Array(a) if a.iter().all(|x| x.as_str().is_some_and(|s| s.len() <= 32)) => {
            html! { (a.iter().filter_map(Value::as_str).map(|s| if codes.is_code(key, s) { code(s) } else { s.into() }).collect::<Vec<_>>().join(", ")) }
        }
        Value::Array(a) => html! { ol.items { @for x in a { li { (value(key, x, codes)) } } } },
        Value::Object(o) => html! {
            dl.facts.nested { @for (k, x) in o { dt { (tr(&k.replace('_', " "))) } dd { (value(k, x, codes)) } } }
        },
        Value::Number(n) if !key.contains("year") && n.as_u64().is_some() => {
            html! { (crate::console::layout::thousands(n.as_u64().unwrap_or(0))) }
        }
        other => html! { (other.to_string()) },
    }
}

/// The values each field of a kind's body may take from a fixed list
/// (its schema's enums: `craft` is `ship`, `aircraft` …): these are the
/// protocol's words and are shown in the reader's language; any other
/// string is what a party wrote and is shown as written.
pub struct Codes(std::collections::HashMap<String, Vec<String>>);

impl Codes {
    pub fn of_kind(kind: &str) -> Codes {
        let mut out = std::collections::HashMap::new();
        if let Some(k) = parley_domain::kinds::get(kind) {
            let schema = k.schema();
            collect_codes(&schema, &schema, None, &mut out);
        }
        Codes(out)
    }

    fn is_code(&self, key: &str, s: &str) -> bool {
        self.0.get(key).is_some_and(|vs| vs.iter().any(|v| v == s))
    }

    /// Every fixed value of every field.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.0.values().flatten().map(String::as_str)
    }
}

/// Walks a schema: each property's enum, through `$ref`s into `$defs` and
/// the `anyOf` an optional field is.
fn collect_codes(
    root: &Value,
    node: &Value,
    key: Option<&str>,
    out: &mut std::collections::HashMap<String, Vec<String>>,
) {
    let Some(o) = node.as_object() else { return };
    if let (Some(key), Some(Value::Array(e))) = (key, o.get("enum")) {
        out.entry(key.to_string())
            .or_default()
            .extend(e.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if let (Some(key), Some(Value::String(r))) = (key, o.get("$ref")) {
        let target = r
            .strip_prefix("#/$defs/")
            .and_then(|name| root.get("$defs").and_then(|d| d.get(name)));
        if let Some(t) = target {
            collect_codes(root, t, Some(key), out);
        }
    }
    for alt in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(xs)) = o.get(alt) {
            xs.iter().for_each(|x| collect_codes(root, x, key, out));
        }
    }
    if let Some(items) = o.get("items") {
        collect_codes(root, items, key, out);
    }
    if let Some(Value::Object(props)) = o.get("properties") {
        for (k, p) in props {
            collect_codes(root, p, Some(k), out);
        }
    }
}

/// The body as facts, language maps side by side.
pub fn body_view(body: &Value, kind: &str, channel: Option<&ChannelState>) -> Markup {
    let codes = Codes::of_kind(kind);
    let langs = language_maps(body);
    let lang_keys: Vec<&str> = langs.iter().map(|(k, _)| *k).collect();
    html! {
        @for (field, m) in &langs {
            h3 { (tr(&field.replace('_', " "))) }
            (texts_side_by_side(m, channel))
        }
        @if let Some(obj) = body.as_object() {
            dl.facts {
                @for (k, v) in obj.iter().filter(|(k, _)| !lang_keys.contains(&k.as_str())) {
                    dt { (tr(&k.replace('_', " "))) }
                    dd { (value(k, v, &codes)) }
                }
            }
        }
    }
}

fn actions(ctx: &Ctx, k: &Known) -> Markup {
    let role = ctx.session.role;
    let id = k.id();
    let me = ctx.party();
    let owes_ack = ctx.unacknowledged().iter().any(|o| o.source == id);
    let theirs = k.entry.author != me;
    let compose = |kind: &str, label: &str| -> Markup {
        html! {
            @if role.may_send(kind) {
                a.button href=(format!("/compose?channel={}&kind={kind}&ref={id}", k.entry.channel)) { (label) }
            }
        }
    };
    let signed_by_me = ctx
        .ledger
        .referencing(&k.hash)
        .any(|a| a.entry.kind == "draft_signature" && a.entry.author == me);
    let signatory = k
        .entry
        .body
        .get("signatories")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|p| p == me));
    html! {
        div.actions {
            @if owes_ack && role.may_send("acknowledgement") {
                form.inline method="post" action=(format!("{}/ack", entry_href(&id))) {
                    (ctx.csrf()) button.ack type="submit" { (t!("Acknowledge")) }
                }
            }
            @for f in parley_domain::kinds::get(&k.entry.kind).map_or(&[][..], |s| s.follow_ups) {
                @match f.whose {
                    Whose::Theirs => @if theirs && addressed_to(k, me) { (compose(f.kind, text(f.label))) },
                    Whose::Own => @if !theirs { (compose(f.kind, text(f.label))) },
                    Whose::Anyone => (compose(f.kind, text(f.label))),
                    Whose::ToSign => @if signatory && !signed_by_me && role.may_send(f.kind) {
                        a.button.primary href=(format!("/compose?channel={}&kind={}&ref={id}", k.entry.channel, f.kind)) { (text(f.label)) }
                    },
                }
            }
            @if theirs && k.entry.kind != "acknowledgement" { (compose("reply", t!("Reply"))) (compose("acknowledgement", t!("Acknowledge with a note"))) }
        }
    }
}

/// The articles of the channel's incidents-at-sea agreement an entry
/// cites, each with what it says.
fn articles_cited(ctx: &Ctx, k: &Known) -> Markup {
    let cited = k
        .entry
        .body
        .pointer("/encounter/articles")
        .and_then(Value::as_array);
    let agreement = ctx
        .ledger
        .channels
        .get(&k.entry.channel)
        .and_then(parley_domain::ChannelState::incidents_at_sea);
    html! {
        @if let (Some(cited), Some(ag)) = (cited, agreement) {
            @if !cited.is_empty() {
                p { b { (t!("Articles cited")) } " (" (ag.title) "):" }
                ul { @for a in cited.iter().filter_map(Value::as_str) {
                    li { b { (tf("Art. {article}", &[("article", &a)])) } @if let Some(x) = ag.article(a) { ": " (x.title) } }
                } }
            }
        }
    }
}

/// Whether an entry is addressed to `me`: it names no addressee (`to`),
/// or names `me` among them.
fn addressed_to(k: &Known, me: &str) -> bool {
    match k.entry.body.get("to") {
        None | Some(Value::Null) => true,
        Some(Value::String(to)) => to == me,
        Some(Value::Array(to)) => to.is_empty() || to.iter().any(|t| t == me),
        Some(_) => false,
    }
}

fn delivery_table(ctx: &Ctx, k: &Known) -> Markup {
    let recipients = ctx.recipients(k);
    let answers: Vec<&Known> = ctx.ledger.referencing(&k.hash).collect();
    let mine = k.entry.author == ctx.party();
    let answering = parley_domain::obligations::answering_kinds(&k.entry.kind);
    html! {
        table {
            thead { tr { th { (t!("Recipient")) } th { (t!("Delivered (signed receipt)")) } th { (t!("Acknowledged")) } th { (t!("Answered")) } } }
            tbody {
                @for m in &recipients {
                    tr {
                        td { b { (m) } }
                        td {
                            @if let Some(t) = k.delivered.get(m) {
                                (badge("DELIVERED", "green")) " " (time(*t))
                                div.sub { (tf("by {party}'s own cosignature of {author}'s checkpoint", &[("party", m), ("author", &k.entry.author)])) }
                            } @else if mine || m == ctx.party() {
                                (badge("SENT, NO RECEIPT YET", "amber"))
                            } @else {
                                span.muted { (t!("not visible from this node")) }
                            }
                        }
                        td {
                            @for a in answers.iter().filter(|a| a.entry.author == *m && a.entry.kind == "acknowledgement") {
                                a href=(entry_href(&a.id())) { (fmt_time(a.entry.time.unix())) } " "
                                span.sub { (a.entry.body.get("by").and_then(Value::as_str).unwrap_or("")) }
                            }
                        }
                        td {
                            @for a in answers.iter().filter(|a| a.entry.author == *m && a.entry.kind != "acknowledgement") {
                                a href=(entry_href(&a.id())) { (kind_title(&a.entry.kind)) } " " span.sub { (a.id()) }
                                @if !answering.contains(&a.entry.kind.as_str()) { " " span.sub { (t!("(refers to it; does not answer it)")) } }
                                br;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The Verify panel: the proof bundle, opened and checked here.
async fn verify_panel(
    ctx: &Ctx,
    stored: &parley_store::StoredEntry,
) -> Result<Markup, ConsoleError> {
    let bundle = views::proof_bundle(&ctx.node, stored).await?;
    let proof = TlogProof::parse(&bundle).map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let note = Note::parse(proof.checkpoint.as_bytes())
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let cp = Checkpoint::parse(note.text()).map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let _ = ctx.node.peer_list();
    let trust = parley_log::Trust::known(ctx.node.keys.all_public_keys());
    let verified = parley_log::verify_bundle(&bundle, &trust);
    let signer = |s: &NoteSignature| -> String {
        match s.cosignature_time() {
            Some(t) if s.sig.len() == 72 => match parley_log::identity::receipt_party(&s.name) {
                Some(p) => tf(
                    "{key} — receipt: delivered to {party} at {time}",
                    &[
                        ("key", &s.name),
                        ("party", &p),
                        ("time", &fmt_time(t as i64)),
                    ],
                ),
                None => tf(
                    "{key} — witness cosignature at {time} (not a receipt)",
                    &[("key", &s.name), ("time", &fmt_time(t as i64))],
                ),
            },
            _ => tf("{key} — log signature", &[("key", &s.name)]),
        }
    };
    let href = format!("{}/proof.tlog-proof", entry_href(&stored.id()));
    Ok(html! {
        div.panel.verified[verified.is_ok()] #verify {
            h2 { (t!("Verify")) }
            @match &verified {
                Ok(v) => {
                    p { (badge("VERIFIED", "green"))  " " (tf("Entry {entry} is in {log} at size {size}, signed by {party}.", &[("entry", &v.entry.id()), ("log", &v.origin), ("size", &v.tree_size), ("party", &v.entry.author)])) }
                    ul {
                        @for (party, t) in v.receipts() { li { (tf("Delivered to {party} at {time} (receipt)", &[("party", &party), ("time", &fmt_time(t as i64))])) } }
                        @if v.receipts().next().is_none() { li { b { (t!("No receipt yet: delivery is not proven.")) } @if v.witnesses().next().is_some() { (t!(" The witness cosignatures below are not receipts.")) } } }
                        @for (name, t) in v.witnesses() { li { (tf("Witnessed by {witness} at {time} (not a receipt)", &[("witness", &name), ("time", &fmt_time(t as i64))])) } }
                    }
                }
                Err(e) => p { (badge("NOT VERIFIED HERE", "amber")) " " (tr(&e.to_string())) }
            }
            dl.facts {
                dt { (t!("Leaf hash")) } dd { code { (stored.hash.to_hex()) } }
                dt { (t!("Checkpoint")) } dd { code { (cp.origin) } " · " (tf("size {size}", &[("size", &cp.size)])) " · " (t!("root")) " " code { (cp.root.to_base64()) } }
                dt { (t!("Signatures")) } dd { @for s in note.signatures() { (signer(s)) br; } }
                dt { (t!("Inclusion proof")) } dd {
                    (crate::console::i18n::count(proof.path.len() as u64, "hash", "hashes")) (t!(", leaf sibling first"))
                    details { summary { (t!("show the hashes")) } @for h in &proof.path { code { (h.to_base64()) } br; } }
                }
            }
            p {
                a.button.primary href=(href) download=(format!("{}.tlog-proof", stored.id().replace('/', "-"))) { (t!("Download proof bundle")) }
                span { " \u{a0} " }
                span.muted { (t!("Check it anywhere, offline: ")) code { (t!("parley verify FILE --identity PARTY.identity …")) } }
            }
        }
    })
}

pub async fn page(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Path((channel, author, seq)): Path<(String, String, u64)>,
) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    let stored = load(&node, &channel, &author, seq).await?;
    let Some(k) = ctx.ledger.get(&stored.hash).cloned() else {
        return Err(ConsoleError::NotFound(
            t!("This entry is not in the ledger yet; reload.").into(),
        ));
    };
    if !ctx.read.contains(&k.hash) {
        crate::ledger::mark_read(&node, &ctx.session.user, k.hash, &ctx.ledger).await?;
    }
    let verify = verify_panel(&ctx, &stored).await?;
    let witnessed = crate::views::witnessed(&node, &stored).await?;
    let prio = k
        .entry
        .body
        .get("priority")
        .and_then(Value::as_str)
        .unwrap_or("");
    let refs: Vec<(String, Option<&Known>)> = k
        .entry
        .refs
        .iter()
        .map(|r| (r.to_hex(), ctx.ledger.get(r)))
        .collect();
    let by: Vec<&Known> = ctx.ledger.referencing(&k.hash).collect();
    let number = parley_domain::numbering::number(&ctx.ledger, &k);
    let content = html! {
        p {
            @if !prio.is_empty() { (priority_badge(prio)) " " }
            b { (kind_title(&k.entry.kind)) } " " (t!("from")) " " b { (k.entry.author) } " " (t!("in")) " " a href=(format!("/inbox?channel={}", k.entry.channel)) { (k.entry.channel) }
        }
        dl.facts {
            @if let Some(n) = &number {
                dt { (t!("Message number")) } dd { code.number { (n.text) } span.muted { " " (tr(&n.format_title)) } }
            }
            dt { (t!("Entry")) } dd { code { (k.id()) } }
            dt { (t!("Stated time")) } dd { (time(k.entry.time)) span.muted { " " (t!("(the author's clock)")) } }
            dt { (t!("Stored here")) } dd { (fmt_time(stored.received_at)) }
            dt { (t!("Hash")) } dd { code { (k.hash.to_hex()) } }
        }
        (actions(&ctx, &k))
        div.panel { (body_view(&k.entry.body, &k.entry.kind, ctx.ledger.channels.get(&k.entry.channel))) (articles_cited(&ctx, &k)) }
        h2 { (t!("Delivery")) }
        (delivery_table(&ctx, &k))
        @if !witnessed.is_empty() {
            p.muted #witnessed {
                (t!("Witnessed by "))
                @for (i, c) in witnessed.iter().enumerate() {
                    @if i > 0 { ", " }
                    b { (c.cosigner) } " " (tf("at {time}", &[("time", &fmt_time(c.time))]))
                }
                ": " (tf("a witness cosignature proves this entry is in {party}'s published log, the same for everyone. It is not a receipt: it says nothing of delivery.", &[("party", &k.entry.author)]))
            }
        }
        @if !refs.is_empty() || !by.is_empty() {
            h2 { (t!("References")) }
            ul {
                @for (h, target) in &refs {
                    li { (t!("Refers to ")) @match target {
                        Some(t) => { a href=(entry_href(&t.id())) { (kind_title(&t.entry.kind)) " " (t.id()) } " " (tf("by {party}", &[("party", &t.entry.author)])) }
                        None => code { (h) },
                    } }
                }
                @for a in &by {
                    li { (t!("Referred to by ")) a href=(entry_href(&a.id())) { (kind_title(&a.entry.kind)) " " (a.id()) } " " (tf("from {party}", &[("party", &a.entry.author)])) ", " (fmt_time(a.entry.time.unix())) }
                }
            }
        }
        (verify)
    };
    Ok(frame(
        &ctx,
        &format!("{} {}", kind_title(&k.entry.kind), k.id()),
        "inbox",
        true,
        content,
    ))
}

/// Downloads the proof bundle.
pub async fn proof(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Path((channel, author, seq)): Path<(String, String, u64)>,
) -> Page {
    node.session(&headers).ok_or(ConsoleError::SignIn)?;
    let stored = load(&node, &channel, &author, seq).await?;
    let bundle = views::proof_bundle(&node, &stored).await?;
    let name = format!("{channel}-{author}-{seq}.tlog-proof");
    Ok((
        [
            ("content-type", "text/plain; charset=utf-8".to_string()),
            (
                "content-disposition",
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bundle,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct AckForm {
    csrf: String,
}

/// Acknowledges an entry in one click.
pub async fn acknowledge(
    State(node): State<Arc<Node>>,
    axum::Extension(caller): axum::Extension<crate::tls::Caller>,
    headers: HeaderMap,
    Path((channel, author, seq)): Path<(String, String, u64)>,
    Form(f): Form<AckForm>,
) -> Page {
    let session = authorize(&node, &headers, &f.csrf, Some("acknowledgement"))?;
    let stored = load(&node, &channel, &author, seq).await?;
    let body = serde_json::json!({"by": session.user});
    let actor = crate::actor::Actor {
        user: session.user.clone(),
        role: session.role,
        client: caller.addr.to_string(),
    };
    crate::actor::append_as(
        &node,
        &actor,
        &channel,
        "acknowledgement",
        body,
        vec![stored.hash],
    )
    .await
    .map_err(|e| {
        ConsoleError::Forbidden(tf(
            "The acknowledgement was not sent: {why}",
            &[("why", &tr(&e.to_string()))],
        ))
    })?;
    let back = headers
        .get("referer")
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|r| r.find('/').map(|i| r[i..].to_string()))
        .unwrap_or_else(|| entry_href(&stored.id()));
    Ok(Redirect::to(&back).into_response())
}
