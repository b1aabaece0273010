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
//! exits at once (exit code 6): two nodes must not act for one party.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use parley_store::Lease;
use serde_json::json;
use tokio::sync::watch;

use crate::config::NodeDir;
use crate::{ServeError, listener};

/// How often a standby tries the lease, and the active node checks it.
pub const LEASE_CHECK: Duration = Duration::from_secs(1);

/// The exit code of an active node that lost its lease.
pub const LOST_LEASE_EXIT: i32 = 6;

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
/// stop (`false`). Meanwhile answers on both addresses as a standby.
///
/// # Errors
/// An address cannot be listened on, or the TLS identity cannot be made.
pub async fn stand_by(
    dir: &NodeDir,
    lease: &Arc<dyn Lease>,
    limits: listener::Limits,
    mut stop: watch::Receiver<bool>,
) -> Result<bool, ServeError> {
    let party = dir.config.party.clone();
    tracing::warn!(
        %party,
        storage = %dir.config.storage.describe(&dir.path),
        "standby: another node of this party holds the lease; answering `not_active` and taking over when it stops"
    );
    let peers = crate::bind(dir.config.listen).await?;
    let console = crate::bind(dir.config.console.listen).await?;
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
    let console_tls = crate::console_tls(dir)?;
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
    let active = loop {
        match try_hold(lease).await {
            Ok(true) => break true,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "standby: cannot reach the lease"),
        }
        tokio::select! {
            () = tokio::time::sleep(LEASE_CHECK) => {}
            r = stop.wait_for(|v| *v) => if r.is_ok() { break false },
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

/// Watches the lease of the active node; exits the process the moment it
/// is lost (its database session ended: another process may hold it now).
pub fn watch_lease(lease: Arc<dyn Lease>, party: String) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(LEASE_CHECK).await;
            if let Ok(true) = try_hold(&lease).await {
                continue;
            }
            tracing::error!(
                %party,
                "lost the lease on the database (its session ended): exiting so that no two nodes act for this party; start again to stand by"
            );
            std::process::exit(LOST_LEASE_EXIT);
        }
    });
}

/// Every request to a standby: 503 `not_active`, with why.
fn standby_app(party: &str) -> Router {
    let message = format!(
        "this is a standby node of {party}: another node of {party} is active; this one takes over when that one stops"
    );
    Router::new().fallback(move || {
        let message = message.clone();
        async move {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", "1")],
                Json(json!({"error": "not_active", "message": message})),
            )
        }
    })
}
