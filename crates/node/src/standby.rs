//! One active node per party, and its standbys.
//!
//! Several `parley serve` processes of one party may share one PostgreSQL
//! database. The one that holds the store's lease ([`parley_store::Lease`])
//! is active: it appends, ingests, signs and delivers. The others stand by:
//! they listen on their own addresses and answer every request with 503
//! `not_active` (so peers, which may pin several addresses for a party, and
//! load balancers' health checks move on), and try the lease every second.
//! When the active process dies, its database session ends, the server
//! releases the lease, and a standby takes it, stops answering as a standby
//! and starts as the node. An active node that finds it lost the lease
//! stops acting at once (two nodes must not act for one party) and stands
//! by until it can take the lease again: after a database outage, a lone
//! node is active again by itself.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use parley_store::Lease;
use serde_json::json;
use tokio::sync::watch;

use crate::config::NodeDir;
use crate::listener;
use crate::serve_error::ServeError;

/// How often a standby tries the lease, and the active node checks it.
pub const LEASE_CHECK: Duration = Duration::from_secs(1);

/// Takes or checks the lease on a thread that may block.
///
/// # Errors
/// The storage cannot be reached to take the lease.
pub async fn try_hold(lease: &Arc<dyn Lease>) -> Result<bool, parley_store::StoreError> {
    let lease = lease.clone();
    tokio::task::spawn_blocking(move || lease.try_hold())
        .await
        .expect("the lease check does not panic")
}

/// Stands by until this process holds the lease (`true`) or is told to
/// stop (`false`). Meanwhile answers on both addresses as a standby. The
/// first try of the lease waits `hold_off` (after this process lost it,
/// so that a standby that is trying it gets it first).
///
/// # Errors
/// An address cannot be listened on, or the TLS identity cannot be made.
pub async fn stand_by(
    dir: &NodeDir,
    lease: &Arc<dyn Lease>,
    limits: listener::Limits,
    mut stop: watch::Receiver<bool>,
    hold_off: Duration,
) -> Result<bool, ServeError> {
    let party = dir.config.party.clone();
    tracing::warn!(
        %party,
        storage = %dir.config.storage.describe(&dir.path),
        "standby: another node of this party holds the lease (or the database cannot be reached to take it); answering `not_active` and taking over when it can"
    );
    let peers = listener::bind(dir.config.listen, false).await?;
    let console = listener::bind(dir.config.console.listen, false).await?;
    let tls = Arc::new(crate::tls::TlsIdentity::new(
        &party,
        &dir.keyring().node_key(),
        dir.config
            .federation
            .tls_certificate
            .as_ref()
            .map(|c| dir.path.join(c)),
    )?);
    let peers_tls = if dir.config.federation.plaintext {
        None
    } else {
        Some(crate::tls::federation_server(tls)?)
    };
    let console_tls = listener::console_tls(dir)?;
    let (done_tx, done_rx) = watch::channel(false);
    let app = standby_app(&party);
    tokio::spawn(listener::serve(
        peers,
        peers_tls,
        app.clone(),
        limits,
        done_rx.clone(),
    ));
    tokio::spawn(listener::serve(console, console_tls, app, limits, done_rx));
    let mut wait = hold_off;
    let active = loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = async { let _ = stop.wait_for(|v| *v).await; } => break false,
        }
        wait = LEASE_CHECK;
        match try_hold(lease).await {
            Ok(true) => break true,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "standby: cannot reach the lease"),
        }
    };
    let _ = done_tx.send(true);
    RELEASED.store(true, std::sync::atomic::Ordering::SeqCst);
    if active {
        tracing::warn!(%party, "standby: took the lease; starting as the active node");
    }
    Ok(active)
}

/// Set when the standby listeners were told to stop: their addresses are
/// free again within moments, and the node binds them.
static RELEASED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this process's standby listeners are letting go of their
/// addresses (so an address in use is worth waiting for).
pub(crate) fn released_recently() -> bool {
    RELEASED.load(std::sync::atomic::Ordering::SeqCst)
}

/// Why an active term ended.
pub enum Term {
    /// Told to stop (SIGTERM, SIGINT).
    Stopped,
    /// The lease was lost: another process may hold it now.
    LostLease,
}

/// The stop signal of one active term: it turns true when `stop` does, or
/// the moment a check finds the lease lost (then `lost` is set first).
pub fn term(
    lease: Arc<dyn Lease>,
    mut stop: watch::Receiver<bool>,
) -> (watch::Receiver<bool>, Arc<std::sync::atomic::AtomicBool>) {
    let (tx, rx) = watch::channel(false);
    let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = lost.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(LEASE_CHECK) => {
                    if !matches!(try_hold(&lease).await, Ok(true)) {
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
                        break;
                    }
                }
                () = async { let _ = stop.wait_for(|v| *v).await; } => break,
            }
        }
        let _ = tx.send(true);
    });
    (rx, lost)
}

/// Opens the store, waiting while its database cannot be reached (a
/// server that is starting, a network being restored); `None` if told to
/// stop meanwhile.
///
/// # Errors
/// The store cannot be opened for a reason waiting does not cure (another
/// record format, a server that would lose commits).
pub async fn open_store_when_reachable(
    dir: &NodeDir,
    mut stop: watch::Receiver<bool>,
) -> Result<Option<Arc<dyn parley_store::Store>>, ServeError> {
    let mut said = false;
    loop {
        let d = dir.clone();
        let opened = tokio::task::spawn_blocking(move || d.open_store())
            .await
            .expect("opening the store does not panic");
        match opened {
            Ok(store) => return Ok(Some(store)),
            Err(e) if e.storage_unavailable().is_some() && !dir.config.storage.is_embedded() => {
                if !said {
                    tracing::warn!(error = %e, "waiting for the database");
                    said = true;
                }
            }
            Err(source) => {
                return Err(ServeError::Database {
                    at: dir.config.storage.describe(&dir.path),
                    source,
                });
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
            r = stop.wait_for(|v| *v) => if r.is_ok() { return Ok(None) },
        }
    }
}

/// Every request to a standby: 503 `not_active`, with why: JSON for peers
/// and programs, a page that reloads itself for a person at a browser.
fn standby_app(party: &str) -> Router {
    let message = format!(
        "this node of {party} is not active: another node of {party} holds the lease on the database, or the database cannot be reached to take it; this one takes over when it can"
    );
    let party = party.to_string();
    Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let (message, party) = (message.clone(), party.clone());
        async move {
            let browser = headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("text/html"));
            if browser {
                let page = maud::html! {
                    (maud::DOCTYPE)
                    html lang="en" {
                        head {
                            meta charset="utf-8";
                            meta http-equiv="refresh" content="5";
                            title { "parley " (party) ": standing by" }
                        }
                        body style="font: 18px/1.5 system-ui, sans-serif; margin: 3em; max-width: 40em" {
                            h1 { "Standing by" }
                            p {
                                "This is a standby node of " strong { (party) } ". Another node of "
                                (party) " is active on the same database, or the database cannot be "
                                "reached, so this one takes and shows nothing."
                            }
                            p { strong { "Use the active node's console." } }
                            p {
                                "This node takes over by itself when the active one stops. This page "
                                "checks every 5 seconds and becomes the console when it does."
                            }
                        }
                    }
                };
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [("retry-after", "1")],
                    axum::response::Html(page.into_string()),
                )
                    .into_response();
            }
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", "1")],
                Json(json!({"error": "not_active", "message": message})),
            )
                .into_response()
        }
    })
}
