//! Security headers on every console and API answer.
//!
//! The console shows military and diplomatic texts: no other site may
//! frame it (clickjacking), run script in it, or learn its addresses from
//! a Referer; browsers must not guess content types, and nothing it
//! answers may be kept in a shared or on-disk cache.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::middleware::Next;
use axum::response::Response;

/// Only the console's own script and style; no frames, plugins or foreign forms.
pub const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'; object-src 'none'";

pub async fn secure(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Same-origin only: the console's own "back" links use it; no other
    // site learns the console's addresses.
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // The stylesheet and script name their own (revalidated) caching.
    h.entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}
