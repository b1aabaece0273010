//! The parley node: one per party.
//!
//! * [`config`]: the node directory and `parley.toml`.
//! * [`state`]: the running node (identity, store, caches, links, events).
//! * [`feeds`]: appending to own feeds; verifying and storing peers' updates.
//! * [`federation`]: the peer protocol (push, catch-up, receipts, link
//!   tests), delivery workers, and the C2SP witness server and client.
//! * [`api`]: the local, token-authenticated JSON API.
//! * [`views`], [`status`]: what users see, derived from the feeds.
//! * [`tlog`]: read-only C2SP tlog-tiles endpoints.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::sync::watch;
use tower_http::timeout::TimeoutLayer;

pub mod api;
pub mod audit;
pub mod config;
pub mod console;
pub mod federation;
pub mod feeds;
pub mod keyring;
pub mod ledger;
pub mod policy;
pub mod rotation;
pub mod silence;
pub mod state;
pub mod status;
pub mod tlog;
pub mod views;

pub use config::{Config, DirError, NodeDir};
pub use state::Node;

use federation::{link, outbox, server, witness};

/// Every route the node serves.
pub fn app(node: Arc<Node>) -> Router {
    // A peer that trickles or never finishes its request must not hold a
    // connection and its buffer forever; the local API's event streams are
    // meant to stay open, so only the peers' routes are bounded.
    let peer_timeout =
        std::time::Duration::from_secs(node.dir.config.federation.request_timeout_secs.max(1));
    let peers = Router::new()
        .route("/federation/v1/push", post(server::push))
        .route("/federation/v1/feeds/{channel}/{author}", get(server::feed))
        .route("/federation/v1/receipt", post(server::receipt))
        .route("/federation/v1/ping", post(server::ping))
        .route("/federation/v1/witness-charter", post(witness::charter))
        .route("/federation/v1/rotation", post(server::rotation))
        .route("/federation/v1/cosignatures", post(server::cosignatures))
        .route("/witness/v1/add-checkpoint", post(witness::add_checkpoint))
        .route("/witness/v1/{hash}/checkpoint", get(witness::monitor))
        .route("/tlog/{channel}/{author}/checkpoint", get(tlog::checkpoint))
        .route("/tlog/{channel}/{author}/tile/{*path}", get(tlog::tile))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            peer_timeout,
        ))
        .layer(axum::middleware::from_fn(server::refuse_announced_oversize));
    Router::new()
        .merge(peers)
        .nest("/api/v1", api::router(node.clone()))
        .merge(console::router())
        .layer(DefaultBodyLimit::max(server::MAX_BODY))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(node)
}

/// Why `parley serve` could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Dir(#[from] DirError),
    #[error("cannot open the database {}: {source}", path.display())]
    Database {
        path: std::path::PathBuf,
        source: parley_store::StoreError,
    },
    #[error("cannot write in {}: {source}; the node stores its database there", path.display())]
    NotWritable {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl ServeError {
    /// 3: directory or configuration; 4: key; 5: address; 1: anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            ServeError::Dir(d) => d.exit_code(),
            ServeError::Database { .. } | ServeError::NotWritable { .. } => 3,
            ServeError::Listen { .. } => 5,
            ServeError::Other(_) => 1,
        }
    }
}

/// Installs the TLS crypto provider once (peers may be reached over https).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Runs a node until `shutdown` turns true (or SIGINT/SIGTERM when `None`).
pub async fn serve(
    dir: NodeDir,
    shutdown: Option<watch::Receiver<bool>>,
) -> Result<(), ServeError> {
    install_crypto();
    let db_path = dir.database_path();
    check_writable(&dir.path)?;
    let store =
        parley_store::SqliteStore::open(&db_path).map_err(|source| ServeError::Database {
            path: db_path.clone(),
            source,
        })?;
    let addr = dir.config.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    let node = Node::new(dir, Arc::new(store))?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut external = shutdown;
    tokio::spawn(async move {
        match external.as_mut() {
            Some(rx) => {
                let _ = rx.wait_for(|v| *v).await;
            }
            None => wait_for_signal().await,
        }
        let _ = stop_tx.send(true);
    });
    tracing::info!(party = %node.party, %addr, url = %node.dir.config.public_url(), "parley node listening");
    tokio::spawn(link::run(node.clone(), stop_rx.clone()));
    tokio::spawn(supervise_workers(node.clone(), stop_rx.clone()));
    let mut stop = stop_rx.clone();
    // Small writes (receipts, events) must not wait for Nagle's algorithm.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app(node.clone()))
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|v| *v).await;
        })
        .await
        .map_err(|e| ServeError::Other(e.into()))?;
    tracing::info!(party = %node.party, "parley node stopped");
    Ok(())
}

/// A node that cannot write must say so at start, not fail on the first
/// message (SQLite alone only says "unable to open database file").
fn check_writable(dir: &std::path::Path) -> Result<(), ServeError> {
    let probe = dir.join(".parley-write-check");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|source| ServeError::NotWritable {
            path: dir.to_path_buf(),
            source,
        })
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Starts a delivery worker for every pinned peer and every external
/// witness a channel names, including those that appear while the node runs.
async fn supervise_workers(node: Arc<Node>, mut stop: watch::Receiver<bool>) {
    let mut running: HashSet<String> = HashSet::new();
    let mut external: HashSet<parley_domain::ExternalWitness> = HashSet::new();
    loop {
        for p in node.peer_list() {
            if running.insert(p.party.clone()) {
                tokio::spawn(outbox::run_peer(
                    node.clone(),
                    p.party.clone(),
                    stop.clone(),
                ));
            }
        }
        for c in node.channel_list() {
            for w in c.charter.external_witnesses {
                if external.insert(w.clone()) {
                    tokio::spawn(outbox::run_external_witness(node.clone(), w, stop.clone()));
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
            _ = stop.changed() => return,
        }
    }
}
