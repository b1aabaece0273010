//! The web console, served by the node itself: server-rendered HTML, a few
//! hundred lines of script for live updates, no network beyond the node.

use i18n::{t, tf};
use std::sync::Arc;

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, html};
use serde::Deserialize;

use crate::state::Node;

pub mod auth;
pub mod forms;
pub mod headers;
pub mod i18n;
pub mod language;
pub mod layout;
pub mod map;
pub mod pages;
pub mod signin;

use auth::{COOKIE, Role};
use layout::ConsoleError;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");
const FAVICON: &str = include_str!("assets/favicon.svg");

pub fn router(node: Arc<Node>) -> Router<Arc<Node>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/inbox") }))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route(
            "/console.css",
            get(|| async {
                (
                    [
                        ("content-type", "text/css; charset=utf-8"),
                        ("cache-control", "no-cache"),
                    ],
                    CSS,
                )
            }),
        )
        .route(
            "/console.js",
            get(|| async {
                (
                    [
                        ("content-type", "text/javascript; charset=utf-8"),
                        ("cache-control", "no-cache"),
                    ],
                    JS,
                )
            }),
        )
        .route(
            "/favicon.svg",
            get(|| async {
                (
                    [
                        ("content-type", "image/svg+xml"),
                        ("cache-control", "max-age=86400"),
                    ],
                    FAVICON,
                )
            }),
        )
        // Browsers ask for it whatever the page says: no 404 in the log.
        .route(
            "/favicon.ico",
            get(|| async { Redirect::permanent("/favicon.svg") }),
        )
        .route("/console/events", get(events))
        .route("/inbox", get(pages::inbox::page))
        .route("/entry/{channel}/{author}/{seq}", get(pages::entry::page))
        .route(
            "/entry/{channel}/{author}/{seq}/proof.tlog-proof",
            get(pages::entry::proof),
        )
        .route(
            "/entry/{channel}/{author}/{seq}/ack",
            post(pages::entry::acknowledge),
        )
        .route(
            "/compose",
            get(pages::compose::form).post(pages::compose::submit),
        )
        .route("/obligations", get(pages::obligations::page))
        .route("/links", get(pages::links::page))
        .route("/exercises", get(pages::exercises::page))
        .route("/verification", get(pages::verification::page))
        .route("/meetings", get(pages::meetings::page))
        .route("/negotiations", get(pages::negotiations::page))
        .route("/silence", get(pages::silence::page))
        .route("/silence/proof", get(pages::silence::proof))
        .route("/timeline", get(pages::timeline::page))
        .route(
            "/verify",
            get(pages::verify::form).post(pages::verify::check),
        )
        .layer(axum::middleware::from_fn_with_state(node, language::choose))
}

fn login_page(node: &Node, error: Option<&str>, name: &str, status: StatusCode) -> Response {
    let party = node.dir.config.party.to_uppercase();
    let body = html! {
        (DOCTYPE)
        html lang=(i18n::current().tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (t!("Sign in")) " — " (party) " — parley" }
                link rel="icon" href="/favicon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/console.css";
            }
            body class=(layout::accent_class(&node.dir.config)) {
                main.login {
                    h1 { "parley" }
                    p.party { (tf("{party} node", &[("party", &party)])) }
                    p.muted { (tf("Sign in to {party}'s node of the parley network, with the name and password its administrator gave you.", &[("party", &party)])) }
                    p { (layout::language_switch()) }
                    @if let Some(e) = error { div.errors-summary role="alert" { (e) } }
                    form.compose method="post" action="/login" {
                        div.field { label for="name" { (t!("Name")) } input #name type="text" name="name" value=(name) autocomplete="username" autofocus required; }
                        div.field { label for="password" { (t!("Password")) } input #password type="password" name="password" autocomplete="current-password" required; }
                        button.primary type="submit" { (t!("Sign in")) }
                    }
                }
            }
        }
    };
    (status, Html(body.into_string())).into_response()
}

async fn login_form(State(node): State<Arc<Node>>) -> Response {
    login_page(&node, None, "", StatusCode::OK)
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
}

async fn login(
    State(node): State<Arc<Node>>,
    axum::Extension(caller): axum::Extension<crate::tls::Caller>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    if !auth::same_origin(&headers) {
        return login_page(
            &node,
            Some(t!("This form must be sent from this console.")),
            &f.name,
            StatusCode::FORBIDDEN,
        );
    }
    // Users are read afresh, so `parley user add` takes effect at once.
    let user = node.users.find(&f.name);
    let ok = match node
        .signin
        .check(&f.name, user.clone(), &f.password, caller.addr.ip())
        .await
    {
        Ok(ok) => ok,
        Err(signin::Refusal::Locked(wait)) => {
            tracing::warn!(user = %f.name, client = %caller.addr, "console sign-in refused: locked out");
            let minutes = wait.as_secs().div_ceil(60);
            return login_page(
                &node,
                Some(&tf(
                    "Too many failed sign-ins for this name or from this address. Try again in {minutes}.",
                    &[("minutes", &i18n::count(minutes, "minute", "minutes"))],
                )),
                &f.name,
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Err(signin::Refusal::Busy) => {
            return login_page(
                &node,
                Some(t!(
                    "The node is busy checking other sign-ins. Try again in a moment."
                )),
                &f.name,
                StatusCode::SERVICE_UNAVAILABLE,
            );
        }
    };
    let role = user.and_then(|u| Role::parse(&u.role));
    match (ok, role) {
        (true, Some(role)) => {
            let token = node.sessions.start(&f.name, role);
            let secure = if node.dir.config.console_url().starts_with("https://") {
                "; Secure"
            } else {
                ""
            };
            tracing::info!(user = %f.name, role = role.as_str(), "console sign-in");
            let actor = crate::actor::Actor {
                user: f.name.clone(),
                role,
                client: caller.addr.to_string(),
            };
            crate::actor::record(&node, &actor, "sign-in", "console", None, "ok").await;
            (
                [(
                    "set-cookie",
                    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"),
                )],
                Redirect::to("/inbox"),
            )
                .into_response()
        }
        _ => {
            tracing::warn!(user = %f.name, client = %caller.addr, "console sign-in refused");
            login_page(
                &node,
                Some(t!("Wrong name or password.")),
                &f.name,
                StatusCode::UNAUTHORIZED,
            )
        }
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Response {
    // The session ends on the server whatever the form carried: a
    // sign-out that only clears the cookie would leave a stolen cookie
    // working. (The CSRF token is not needed to end one's own session; a
    // cross-site post carries no cookie, SameSite=Strict.)
    let _ = f.csrf;
    node.sessions.end(&headers);
    (
        [(
            "set-cookie",
            format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
        )],
        Redirect::to("/login"),
    )
        .into_response()
}

/// The event stream for signed-in consoles.
async fn events(State(node): State<Arc<Node>>, headers: HeaderMap) -> Response {
    if node.session(&headers).is_none() {
        return ConsoleError::SignIn.into_response();
    }
    crate::api::event_stream(&node).into_response()
}

/// Checks a form post: signed in, same origin, the session's token, and a
/// role that may send `kind` (when given).
pub fn authorize(
    node: &Node,
    headers: &HeaderMap,
    csrf: &str,
    kind: Option<&str>,
) -> Result<auth::Session, ConsoleError> {
    let s = node.session(headers).ok_or(ConsoleError::SignIn)?;
    if !auth::same_origin(headers) || !auth::token_eq(&s.csrf, csrf) {
        return Err(ConsoleError::Forbidden(
            t!("This form is out of date or was not sent from this console; reload the page.")
                .into(),
        ));
    }
    if let Some(k) = kind
        && !s.role.may_send(k)
    {
        tracing::warn!(user = %s.user, role = s.role.as_str(), kind = k, "console: refused by role");
        return Err(ConsoleError::Forbidden(role_refusal(s.role, k)));
    }
    Ok(s)
}

/// Why a role may not send a kind, in the request's language.
pub fn role_refusal(role: Role, kind: &str) -> String {
    tf(
        "A {role} may not send a {kind}.",
        &[
            ("role", &i18n::text(role.title()).to_lowercase()),
            ("kind", &layout::kind_title(kind).to_lowercase()),
        ],
    )
}
