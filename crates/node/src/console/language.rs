//! Which language a console request is answered in, and the language
//! switch that remembers a choice.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::{ACCEPT_LANGUAGE, SET_COOKIE, VARY};
use axum::middleware::Next;
use axum::response::Response;

use super::auth::cookie;
use super::i18n::{self, Choice, Lang};
use crate::state::Node;

/// The cookie the language switch sets: this browser's choice.
pub const COOKIE: &str = "parley_lang";

/// Serves the request in its language: the URL's `?lang=`, else the
/// switch's cookie, else the user's `language` in `parley.toml`, else the
/// browser's `Accept-Language`, else English. A `?lang=` is remembered (a
/// link in Russian keeps the console in Russian as one clicks on).
pub async fn choose(State(node): State<Arc<Node>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let url = req
        .uri()
        .query()
        .and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "lang")
                .map(|(_, v)| v.into_owned())
        })
        .filter(|v| Lang::parse(v).is_some());
    let remembered = cookie(headers, COOKIE);
    let user = node.session(headers).and_then(|s| s.language);
    let accept = headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let lang = i18n::choose(&Choice {
        url: url.as_deref(),
        cookie: remembered.as_deref(),
        user: user.as_deref(),
        accept: accept.as_deref(),
    });
    let here = req
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_string(), ToString::to_string);
    let mut resp = i18n::scope(lang, HERE.scope(here, next.run(req))).await;
    let h = resp.headers_mut();
    h.append(VARY, HeaderValue::from_static("accept-language, cookie"));
    if url.is_some() && remembered.as_deref().and_then(Lang::parse) != Some(lang) {
        // Like the session's cookie: Secure whenever the console is https.
        let secure = if node.dir.config.console_url().starts_with("https://") {
            "; Secure"
        } else {
            ""
        };
        let set = format!(
            "{COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000{secure}",
            lang.tag()
        );
        if let Ok(v) = HeaderValue::from_str(&set) {
            h.append(SET_COOKIE, v);
        }
    }
    resp
}

tokio::task_local! {
    static HERE: String;
}

/// The address (path and query) of the console page being served.
pub fn here() -> String {
    HERE.try_with(Clone::clone).unwrap_or_else(|_| "/".into())
}

/// This page's address in `lang`: its path and query, `lang` replaced.
pub fn href_in(path_and_query: &str, lang: Lang) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k != "lang" {
            q.append_pair(&k, &v);
        }
    }
    q.append_pair("lang", lang.tag());
    // Only ever a path on this console: "//host/x" would leave it.
    let path = format!("/{}", path.trim_start_matches('/'));
    format!("{path}?{}", q.finish())
}
