//! Misbehaving network pieces on 127.0.0.1: a proxy that can cut a link,
//! and a server that pretends to be a peer and misbehaves.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What a [`Faulty`] listener does with each connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Forward to the target (a working link).
    Pass,
    /// Accept and close at once (a cut link: connection reset).
    Drop,
    /// Accept and never answer (a stalled link or a hung peer).
    Stall,
    /// Answer with bytes that are not HTTP.
    Garbage,
    /// Answer HTTP 200 with a body that is not JSON.
    GarbageJson,
    /// Answer HTTP 200 with a chunked body that never ends.
    Endless,
    /// Answer HTTP 200 announcing a 10 GB body, and stream it.
    Oversized,
}

/// A listener on 127.0.0.1 whose behaviour can be switched while it runs;
/// switching ends every open connection. Stops when dropped.
pub struct Faulty {
    pub port: u16,
    mode: Option<watch::Sender<Behaviour>>,
    /// Connections accepted so far.
    pub accepted: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Faulty {
    /// Stops the listener and waits until its port is free again, so a real
    /// node can listen there next.
    fn drop(&mut self) {
        self.mode.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Faulty {
    /// Listens on `port` (0: any free port), forwarding to `target` in
    /// [`Behaviour::Pass`].
    pub fn start(port: u16, target: u16, initial: Behaviour) -> Faulty {
        Faulty::listen(port, target, initial, None)
    }

    /// A hostile party on `port`: it completes TLS with `who`'s own node
    /// certificate (the party itself turned hostile, so its peers' pinning
    /// lets it in), then misbehaves as told.
    pub fn impersonating(who: &super::Party, port: u16, initial: Behaviour) -> Faulty {
        parley_node::install_crypto();
        let cert = super::tls::node_certificate(who);
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(cert.chain.clone(), cert.private_key())
        .unwrap();
        Faulty::listen(
            port,
            0,
            initial,
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
        )
    }

    fn listen(
        port: u16,
        target: u16,
        initial: Behaviour,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Faulty {
        let (mode, rx) = watch::channel(initial);
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicU64::new(0));
        let count = accepted.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                let mut stop = rx.clone();
                loop {
                    tokio::select! {
                        Ok((sock, _)) = listener.accept() => {
                            count.fetch_add(1, Ordering::Relaxed);
                            let rx = rx.clone();
                            match tls.clone() {
                                None => { tokio::spawn(handle(sock, target, rx)); }
                                Some(acceptor) => {
                                    tokio::spawn(async move {
                                        if let Ok(Ok(s)) = tokio::time::timeout(
                                            Duration::from_secs(5),
                                            acceptor.accept(sock),
                                        ).await {
                                            handle(s, target, rx).await;
                                        }
                                    });
                                }
                            }
                        }
                        r = stop.changed() => if r.is_err() { return },
                    }
                }
            });
        });
        Faulty {
            port,
            mode: Some(mode),
            accepted,
            thread: Some(thread),
        }
    }

    pub fn set(&self, b: Behaviour) {
        if let Some(m) = &self.mode {
            m.send_replace(b);
        }
    }

    /// Its URL for a node's peers (which speak TLS through it).
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

async fn handle<S>(mut sock: S, target: u16, mut rx: watch::Receiver<Behaviour>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let b = *rx.borrow_and_update();
    let work = async {
        match b {
            Behaviour::Pass => {
                if let Ok(mut up) = TcpStream::connect(("127.0.0.1", target)).await {
                    let _ = tokio::io::copy_bidirectional(&mut sock, &mut up).await;
                }
            }
            Behaviour::Drop => {}
            Behaviour::Stall => std::future::pending::<()>().await,
            Behaviour::Garbage => {
                read_request_head(&mut sock).await;
                let _ = sock.write_all(b"\x00\xffnot http at all\r\n\r\n\x07").await;
            }
            Behaviour::GarbageJson => {
                read_request_head(&mut sock).await;
                let body = "}{ this is not json";
                let _ = sock
                    .write_all(
                        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len())
                            .as_bytes(),
                    )
                    .await;
            }
            Behaviour::Endless => {
                read_request_head(&mut sock).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
                    .await;
                let chunk = format!("10000\r\n{}\r\n", "[".repeat(0x10000));
                while sock.write_all(chunk.as_bytes()).await.is_ok() {}
            }
            Behaviour::Oversized => {
                read_request_head(&mut sock).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10000000000\r\n\r\n")
                    .await;
                let chunk = vec![b'['; 0x10000];
                while sock.write_all(&chunk).await.is_ok() {}
            }
        }
    };
    tokio::select! {
        _ = work => {}
        _ = rx.changed() => {}
    }
}

/// Reads until the end of the request head (or 64 KiB, or 2 s).
async fn read_request_head<S: tokio::io::AsyncRead + Unpin>(sock: &mut S) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
}
