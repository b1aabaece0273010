//! Accepting connections: TLS, limits, and who is calling.
//!
//! Our own accept loop rather than `axum::serve`, because a node facing
//! another party and the network must bound what a client can hold:
//!
//! * at most `max_connections` open connections, and at most
//!   `per_address` from one client address (a flood from one host cannot
//!   take the slots of the others, nor the process's open files);
//! * a TLS handshake must finish within `handshake_timeout`, and request
//!   headers within `header_timeout` (a client trickling bytes, or idling
//!   on a kept-alive connection, is cut off);
//! * bodies and handlers are bounded by the router's timeout layers.
//!
//! Each request carries a [`Caller`]: the client's address and, over
//! TLS, the key of the certificate it showed.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt as _;

use crate::serve_error::ServeError;
use crate::tls::{Caller, ed25519_key_of};

/// What one listener lets a client hold.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub per_address: usize,
    pub handshake_timeout: Duration,
    pub header_timeout: Duration,
}

/// Connections open per client address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

impl PerAddress {
    fn enter(&self, ip: IpAddr, max: usize) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_default();
        if *n >= max {
            return false;
        }
        *n += 1;
        true
    }

    fn leave(&self, ip: IpAddr) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&ip);
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` turns true, then lets
/// open requests finish for a few seconds.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(PerAddress::default());
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let (tcp, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of files or similar: wait rather than spin.
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            true = stopped(&mut shutdown) => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::debug!(%addr, "connection refused: the node holds its maximum of connections");
            continue;
        };
        if !per_address.enter(addr.ip(), limits.per_address) {
            tracing::debug!(%addr, "connection refused: too many from this address");
            continue;
        }
        let _ = tcp.set_nodelay(true);
        let (router, acceptor, per_address, stop) = (
            router.clone(),
            acceptor.clone(),
            per_address.clone(),
            shutdown.clone(),
        );
        tokio::spawn(async move {
            connection(tcp, addr, acceptor, router, limits, stop).await;
            per_address.leave(addr.ip());
            drop(slot);
        });
    }
    // The address is free at once (a standby that takes over binds it);
    // requests in flight finish; event streams end with the process.
    drop(listener);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while slots.available_permits() < limits.max_connections
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stopped(shutdown: &mut watch::Receiver<bool>) -> bool {
    shutdown.wait_for(|v| *v).await.is_ok()
}

async fn connection(
    tcp: TcpStream,
    addr: SocketAddr,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    router: Router,
    limits: Limits,
    stop: watch::Receiver<bool>,
) {
    match acceptor {
        None => {
            let caller = Caller {
                addr,
                tls_key: None,
            };
            http(TokioIo::new(tcp), caller, router, limits, stop).await;
        }
        Some(acceptor) => {
            let tls =
                match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!(%addr, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%addr, "TLS handshake timed out");
                        return;
                    }
                };
            let tls_key = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|c| ed25519_key_of(c).ok());
            let caller = Caller { addr, tls_key };
            http(TokioIo::new(tls), caller, router, limits, stop).await;
        }
    }
}

async fn http<I>(
    io: I,
    caller: Caller,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = router.map_request(
        move |mut req: axum::extract::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(caller.clone());
            req
        },
    );
    let service = TowerToHyperService::new(service);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let stopping = async move {
        let _ = stop.wait_for(|v| *v).await;
    };
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "connection ended");
            }
            return;
        }
        () = stopping => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(5), conn).await;
}

/// Listens on `addr`; while the address is in use, tries again for a few
/// seconds if `wait` (a listener of this process is letting go of it).
///
/// # Errors
/// The address cannot be listened on.
pub async fn bind(addr: SocketAddr, wait: bool) -> Result<TcpListener, ServeError> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrInUse
                    && wait
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(source) => return Err(ServeError::Listen { addr, source }),
        }
    }
}

/// The console's TLS, when configured (relative paths are in the node
/// directory).
///
/// # Errors
/// The certificate or key cannot be read.
pub fn console_tls(
    dir: &crate::config::NodeDir,
) -> Result<Option<Arc<rustls::ServerConfig>>, ServeError> {
    Ok(
        match (
            &dir.config.console.tls_certificate,
            &dir.config.console.tls_key,
        ) {
            (Some(cert), Some(key)) => Some(crate::tls::console_server(
                &dir.path.join(cert),
                &dir.path.join(key),
            )?),
            _ => None,
        },
    )
}
