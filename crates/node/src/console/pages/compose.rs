//! Compose: a form for every kind this role may send, the channel's
//! languages side by side, each broken rule beside its field, and nothing
//! typed lost on an error.

use crate::console::i18n::{t, text, tf, tr};
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use parley_domain::Violation;
use parley_domain::kinds::{self, Refs};
use parley_log::Hash;
use serde::Deserialize;
use serde_json::Value;

use crate::console::authorize;
use crate::console::forms::{self, Choices, Values};
use crate::console::layout::{ConsoleError, Ctx, Page, entry_href, frame, kind_title};
use crate::feeds::AppendError;
use crate::state::Node;
use crate::views::{self, summary};

#[derive(Deserialize, Default)]
pub struct ComposeQuery {
    kind: Option<String>,
    channel: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

/// What the form shows beyond the fields: errors not tied to a field.
struct Outcome {
    values: Values,
    field_errors: BTreeMap<String, Vec<String>>,
    general: Vec<String>,
}

fn kinds_menu(ctx: &Ctx, channel: &str) -> Markup {
    let role = ctx.session.role;
    html! {
        @if role.kinds().is_empty() {
            p { (tf("Your role ({role}) reads and verifies; it does not send.", &[("role", &text(role.title()))])) }
        } @else {
            p { (t!("What do you want to send?")) }
            ul {
                @for k in kinds::all().iter().filter(|k| role.may_send(k.name)) {
                    li { a href=(format!("/compose?kind={}&channel={channel}", k.name)) { b { (text(k.title)) } } " — " span.muted { (text(k.description)) } }
                }
            }
        }
    }
}

async fn render_form(
    ctx: &Ctx,
    kind: &str,
    channel: &str,
    reference: Option<&str>,
    outcome: Outcome,
) -> Result<Markup, ConsoleError> {
    let spec = kinds::get(kind).ok_or_else(|| {
        ConsoleError::NotFound(tf(
            "There is no kind {kind}.",
            &[("kind", &format!("{kind:?}"))],
        ))
    })?;
    let my_channels: Vec<_> = ctx
        .node
        .channel_list()
        .into_iter()
        .filter(|c| c.is_member(ctx.party()))
        .collect();
    let state = ctx.node.channel(channel);
    let (parties, languages): (Vec<String>, Vec<String>) = match (&state, kind) {
        (_, "channel_charter") => {
            let mut p: Vec<String> = vec![ctx.party().to_string()];
            p.extend(ctx.node.peer_list().into_iter().map(|x| x.party));
            (p, vec![])
        }
        (Some(c), _) => (c.charter.members.clone(), c.charter.languages.clone()),
        (None, _) => (vec![], vec!["en".into()]),
    };
    let choices = Choices {
        parties: &parties,
        me: ctx.party(),
        languages: &languages,
    };
    let target = match reference {
        Some(r) => views::find_entry(&ctx.node, r).await?,
        None => None,
    };
    let needs_ref = matches!(spec.refs, Refs::One(_)) && kind != "channel_acceptance";
    Ok(html! {
        p.muted { (text(spec.description)) }
        @if !outcome.general.is_empty() {
            div.errors-summary role="alert" {
                b { (t!("Not sent.")) } " " (t!("Nothing was appended; correct the following and send again."))
                ul { @for g in &outcome.general { li { (g) } } }
            }
        } @else if !outcome.field_errors.is_empty() {
            div.errors-summary role="alert" { b { (t!("Not sent.")) } " " (t!("Each rule that failed is shown beside its field; nothing was appended.")) }
        }
        form.compose method="post" action="/compose" {
            (ctx.csrf())
            input type="hidden" name="_kind" value=(kind);
            @if let Some(t) = &target {
                input type="hidden" name="_ref" value=(t.id());
                p { (t!("In answer to")) " " a href=(entry_href(&t.id())) { (kind_title(&t.kind)) " " (t.id()) } " " (tf("from {party}", &[("party", &t.author)]))
                    @if let Ok(e) = parley_log::Entry::decode(&t.bytes) { ": " i { (summary(&e)) } } }
            } @else if needs_ref {
                div.field { label { (t!("In answer to")) } p.help { (t!("Open the entry you answer and use its button, so this one references it.")) } }
            }
            div.field {
                @if kind == "channel_charter" {
                    label for="_channel" { (t!("New channel id")) } p.help { (t!("a-z, 0-9, '-', e.g. nrc-military")) }
                    input #_channel type="text" name="_channel" value=(forms_one(&outcome.values, "_channel"));
                } @else {
                    label for="_channel" { (t!("Channel")) }
                    select #_channel name="_channel" onchange="location.href='/compose?kind='+encodeURIComponent(document.querySelector('[name=_kind]').value)+'&channel='+encodeURIComponent(this.value)" {
                        @for c in &my_channels {
                            option value=(c.id) selected[c.id == channel] {
                                (c.charter.title.clone().unwrap_or_else(|| c.id.clone())) " (" (c.id) ")"
                            }
                        }
                    }
                }
            }
            (forms::render(forms::spec(kind), "", &outcome.values, &outcome.field_errors, &choices))
            div.actions {
                button.primary type="submit" { (tf("Send {kind}", &[("kind", &text(spec.title).to_lowercase())])) }
                a.button href="/compose" { (t!("Choose another kind")) }
            }
        }
    })
}

fn forms_one(v: &Values, k: &str) -> String {
    v.get(k)
        .and_then(|x| x.first())
        .cloned()
        .unwrap_or_default()
}

/// Sensible starting values: the user's name where a name is asked for,
/// a revision's text, next year's calendar.
async fn defaults(ctx: &Ctx, kind: &str, reference: Option<&str>) -> Result<Values, ConsoleError> {
    let mut v = Values::new();
    let mut set = |k: &str, x: String| {
        v.insert(k.to_string(), vec![x]);
    };
    match kind {
        "acknowledgement" => set("by", ctx.session.user.clone()),
        "draft_signature" => set("signed_by", ctx.session.user.clone()),
        "annual_calendar" => set(
            "year",
            (parley_domain::dates::Date::of(ctx.now).year() + 1).to_string(),
        ),
        "observation_invitation" => set("observers_per_state", "2".into()),
        "link_test" => set(
            "text",
            "The quick brown fox jumped over the lazy dog's back 1234567890".into(),
        ),
        _ => {}
    }
    if let Some(r) = reference
        && let Some(t) = views::find_entry(&ctx.node, r).await?
    {
        let body: Value = parley_log::Entry::decode(&t.bytes)
            .map(|e| e.body)
            .unwrap_or(Value::Null);
        match kind {
            "draft_document" => forms::from_body(forms::spec(kind), "", &body, &mut v),
            "clarification_reply" | "briefing" | "meeting_request" if kind == "meeting_request" => {
                v.insert("to".into(), vec![t.author.clone()]);
            }
            "meeting_record" => {
                if let Some(title) = body.get("title").and_then(Value::as_str) {
                    v.insert("title".into(), vec![title.to_string()]);
                }
            }
            _ => {}
        }
    }
    Ok(v)
}

pub async fn form(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Query(q): Query<ComposeQuery>,
) -> Page {
    let ctx = Ctx::load(&node, &headers).await?;
    let channel = q
        .channel
        .clone()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            node.channel_list()
                .into_iter()
                .find(|c| c.is_member(&node.party))
                .map(|c| c.id)
        })
        .unwrap_or_default();
    let content = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        None => kinds_menu(&ctx, &channel),
        Some(kind) => {
            if !ctx.session.role.may_send(kind) {
                return Err(ConsoleError::Forbidden(crate::console::role_refusal(
                    ctx.session.role,
                    kind,
                )));
            }
            let values = defaults(&ctx, kind, q.reference.as_deref()).await?;
            let outcome = Outcome {
                values,
                field_errors: BTreeMap::new(),
                general: vec![],
            };
            render_form(&ctx, kind, &channel, q.reference.as_deref(), outcome).await?
        }
    };
    let title = q
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .map_or(t!("Compose").to_string(), |k| {
            tf("Compose: {kind}", &[("kind", &kind_title(k))])
        });
    Ok(frame(&ctx, &title, "compose", false, content))
}

pub async fn submit(
    State(node): State<Arc<Node>>,
    axum::Extension(caller): axum::Extension<crate::tls::Caller>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Page {
    let mut values = Values::new();
    for (k, v) in pairs {
        values.entry(k).or_default().push(v);
    }
    let get = |k: &str| {
        values
            .get(k)
            .and_then(|x| x.first())
            .cloned()
            .unwrap_or_default()
    };
    let (kind, channel, reference, csrf) =
        (get("_kind"), get("_channel"), get("_ref"), get("csrf"));
    let session = authorize(&node, &headers, &csrf, Some(&kind))?;
    let actor = crate::actor::Actor {
        user: session.user.clone(),
        role: session.role,
        client: caller.addr.to_string(),
    };
    let ctx = Ctx::load(&node, &headers).await?;
    let state = node.channel(&channel);
    let languages = state
        .as_ref()
        .map(|c| c.charter.languages.clone())
        .unwrap_or_default();
    let parties = state
        .as_ref()
        .map(|c| c.charter.members.clone())
        .unwrap_or_else(|| {
            let mut p = vec![node.party.clone()];
            p.extend(node.peer_list().into_iter().map(|x| x.party));
            p
        });
    let choices = Choices {
        parties: &parties,
        me: ctx.party(),
        languages: &languages,
    };
    let mut local: Vec<Violation> = Vec::new();
    let body = Value::Object(forms::to_body(
        forms::spec(&kind),
        "",
        &values,
        &choices,
        &mut local,
    ));
    let mut refs: Vec<Hash> = Vec::new();
    if !reference.is_empty() {
        match views::find_entry(&node, &reference).await? {
            Some(t) => refs.push(t.hash),
            None => local.push(Violation::new(
                "refs",
                format!("no entry {reference} on this node"),
            )),
        }
    }
    if kind == "channel_acceptance"
        && let Some(c) = &state
    {
        refs = vec![c.charter_hash];
    }
    let result = if local.is_empty() {
        crate::actor::append_as(&node, &actor, &channel, &kind, body, refs).await
    } else {
        Err(AppendError::Invalid(local))
    };
    match result {
        Ok(a) => {
            tracing::info!(id = %a.id, kind, "sent from the console");
            Ok(Redirect::to(&entry_href(&a.id)).into_response())
        }
        Err(e) => {
            let mut field_errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut general = Vec::new();
            match e {
                AppendError::Invalid(vs) => {
                    for v in vs {
                        match forms::field_of(forms::spec(&kind), &v.field) {
                            Some(f) => field_errors.entry(f).or_default().push(v.rule),
                            None => general.push(format!("{}: {}", v.field, tr(&v.rule))),
                        }
                    }
                }
                other => general.push(tr(&other.to_string()).into_owned()),
            }
            let outcome = Outcome {
                values,
                field_errors,
                general,
            };
            let r = (!reference.is_empty()).then_some(reference.as_str());
            let content = render_form(&ctx, &kind, &channel, r, outcome).await?;
            let mut resp = frame(
                &ctx,
                &tf("Compose: {kind}", &[("kind", &kind_title(&kind))]),
                "compose",
                false,
                content,
            );
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
    }
}
