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
//! * [`tls`], [`listener`]: mutual TLS between nodes; connection limits.

use std::collections::HashSet;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::sync::watch;
use tower_http::timeout::TimeoutLayer;

pub mod actor;
pub mod api;
pub mod appending;
pub mod audit;
pub mod clock;
pub mod config;
pub mod console;
pub mod federation;
pub mod feeds;
pub mod held;
pub mod keyring;
pub mod ledger;
pub mod listener;
pub mod parallel;
pub mod policy;
pub mod recent;
pub mod rotation;
pub mod serve_error;
pub mod silence;
pub mod standby;
pub mod state;
pub mod status;
pub mod tlog;
pub mod tls;
pub mod views;

pub use serve_error::ServeError;

pub use config::{Config, DirError, NodeDir};
pub use state::Node;

use federation::{link, outbox, server, witness};

/// The routes peers, witnesses and monitors call, on the federation
/// listener (mutual TLS).
pub fn federation_app(node: Arc<Node>) -> Router {
    let limits = &node.dir.config.limits;
    let timeout = std::time::Duration::from_secs(
        node.dir
            .config
            .federation
            .request_timeout_secs
            .min(limits.request_timeout_secs)
            .max(1),
    );
    // Only pinned peers, proved by their TLS certificates.
    let pinned = Router::new()
        .route("/federation/v1/push", post(server::push))
        .route("/federation/v1/feeds/{channel}/{author}", get(server::feed))
        .route("/federation/v1/receipt", post(server::receipt))
        .route("/federation/v1/ping", post(server::ping))
        .route("/federation/v1/witness-charter", post(witness::charter))
        .route("/federation/v1/cosignatures", post(server::cosignatures))
        .route_layer(axum::middleware::from_fn_with_state(
            node.clone(),
            server::authenticate_peer,
        ));
    // Self-authenticating: signed by the old key, or a signed checkpoint;
    // tiles decide per channel.
    let open = Router::new()
        .route("/federation/v1/rotation", post(server::rotation))
        .route("/witness/v1/add-checkpoint", post(witness::add_checkpoint))
        .route("/witness/v1/{hash}/checkpoint", get(witness::monitor))
        .route("/tlog/{channel}/{author}/checkpoint", get(tlog::checkpoint))
        .route("/tlog/{channel}/{author}/tile/{*path}", get(tlog::tile));
    pinned
        .merge(open)
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::from_fn(server::refuse_announced_oversize))
        .layer(DefaultBodyLimit::max(server::MAX_BODY))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(node)
}

/// The console and the local API, on the console listener: this party's
/// own people and tools.
pub fn console_app(node: Arc<Node>) -> Router {
    // Event streams answer at once and then stream: the timeout bounds
    // reading the request and making the answer, not the stream.
    let timeout =
        std::time::Duration::from_secs(node.dir.config.limits.request_timeout_secs.max(1));
    Router::new()
        .nest("/api/v1", api::router(node.clone()))
        .merge(console::router(node.clone()))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::from_fn(server::refuse_announced_oversize))
        .layer(DefaultBodyLimit::max(server::MAX_BODY))
        .layer(axum::middleware::from_fn(console::headers::secure))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(node)
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
    if let Some(demo) = &dir.config.demo {
        clock::use_story_clock(&dir.path.join(&demo.story_clock));
        tracing::warn!(
            "running on the demo's story clock ({}): {} s behind real time",
            demo.story_clock.display(),
            -clock::offset()
        );
    }
    check_writable(&dir.path)?;
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
    let Some(store) = standby::open_store_when_reachable(&dir, stop_rx.clone()).await? else {
        return Ok(());
    };
    let lease: Arc<dyn parley_store::Lease> =
        Arc::from(store.lease().map_err(|source| ServeError::Database {
            at: dir.config.storage.describe(&dir.path),
            source,
        })?);
    let l = &dir.config.limits;
    let limits = listener::Limits {
        max_connections: l.max_connections.max(1),
        per_address: l.connections_per_address.max(1),
        handshake_timeout: std::time::Duration::from_secs(l.header_timeout_secs.max(1)),
        header_timeout: std::time::Duration::from_secs(l.header_timeout_secs.max(1)),
    };
    raise_open_file_limit(2 * limits.max_connections + 256);
    // After losing the lease, a standby that is trying it gets it first.
    let mut hold_off = std::time::Duration::ZERO;
    loop {
        // Another process of this party may be active on the same database.
        let holds = hold_off.is_zero() && standby::try_hold(&lease).await.unwrap_or(false);
        if !holds && !standby::stand_by(&dir, &lease, limits, stop_rx.clone(), hold_off).await? {
            tracing::info!(party = %dir.config.party, "parley standby stopped");
            return Ok(());
        }
        match run_active(dir.clone(), store.clone(), &lease, limits, &stop_rx).await {
            Ok(standby::Term::Stopped) => return Ok(()),
            Ok(standby::Term::LostLease) => {
                tracing::error!(
                    party = %dir.config.party,
                    "lost the lease on the database (its session ended): stopped acting for this party at once; standing by until the lease can be taken again"
                );
                hold_off = 3 * standby::LEASE_CHECK;
            }
            // The database went away again between taking the lease and
            // reading what the node starts from: stand by, as on losing it.
            Err(e) if store_unavailable(&e) => {
                tracing::error!(
                    party = %dir.config.party,
                    error = %e,
                    "the database went away while this node was starting as the active node; standing by until the lease can be taken again"
                );
                hold_off = 3 * standby::LEASE_CHECK;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether starting failed because the store cannot be reached or written
/// just now (it clears up; anything else is the operator's to fix).
fn store_unavailable(e: &ServeError) -> bool {
    match e {
        ServeError::Other(a) => a.chain().any(|c| {
            c.downcast_ref::<parley_store::StoreError>()
                .is_some_and(|s| s.storage_unavailable().is_some())
        }),
        _ => false,
    }
}

/// Reads the history into the ledger once, at start, so that the first
/// page a duty officer opens does not wait for it.
async fn build_ledger(node: Arc<Node>) {
    let began = std::time::Instant::now();
    match ledger::current(&node).await {
        Ok(l) => tracing::info!(
            entries = l.len(),
            seconds = began.elapsed().as_secs_f64(),
            "ledger read from the store"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "reading the ledger at start failed; the first page will try again")
        }
    }
}

/// Runs the node while this process holds the lease: until it is told to
/// stop, or the lease is lost.
async fn run_active(
    dir: NodeDir,
    store: Arc<dyn parley_store::Store>,
    lease: &Arc<dyn parley_store::Lease>,
    limits: listener::Limits,
    stop: &watch::Receiver<bool>,
) -> Result<standby::Term, ServeError> {
    let (term_rx, lost) = standby::term(lease.clone(), stop.clone());
    // A standby that just took over waits briefly for its own standby
    // listeners to let go of the addresses.
    let wait = standby::released_recently();
    let peers_listener = listener::bind(dir.config.listen, wait).await?;
    let console_listener = listener::bind(dir.config.console.listen, wait).await?;
    let console_tls = listener::console_tls(&dir)?;
    let node = Node::new(dir, store)?;
    let peers_tls = if node.dir.config.federation.plaintext {
        None
    } else {
        Some(tls::federation_server(node.tls.clone())?)
    };
    for warning in node.dir.config.warnings() {
        tracing::warn!("{warning}");
    }
    tracing::info!(
        party = %node.party,
        peers = %node.dir.config.listen,
        url = %node.dir.config.public_url(),
        console = %node.dir.config.console_url(),
        "parley node listening"
    );
    tokio::spawn(link::run(node.clone(), term_rx.clone()));
    tokio::spawn(supervise_workers(node.clone(), term_rx.clone()));
    tokio::spawn(build_ledger(node.clone()));
    tokio::join!(
        listener::serve(
            peers_listener,
            peers_tls,
            federation_app(node.clone()),
            limits,
            term_rx.clone()
        ),
        listener::serve(
            console_listener,
            console_tls,
            console_app(node.clone()),
            limits,
            term_rx.clone()
        ),
    );
    tracing::info!(party = %node.party, "parley node stopped");
    Ok(if lost.load(std::sync::atomic::Ordering::SeqCst) {
        standby::Term::LostLease
    } else {
        standby::Term::Stopped
    })
}

/// Both listeners' connections, the database and the peers' connections
/// need files: ask for enough (up to the hard limit) so that the
/// connection caps, not the kernel, decide who is refused.
fn raise_open_file_limit(want: usize) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut lim = getrlimit(Resource::Nofile);
    let want = want as u64;
    if lim.current.is_some_and(|c| c >= want) {
        return;
    }
    lim.current = Some(lim.maximum.map_or(want, |m| m.min(want)));
    if let Err(e) = setrlimit(Resource::Nofile, lim) {
        tracing::warn!(error = %e, "cannot raise the open-file limit");
    }
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
