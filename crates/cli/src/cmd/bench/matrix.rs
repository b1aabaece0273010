//! The federated messenger governments pick (BwMessenger, Tchap and others
//! run Synapse): two Synapse homeservers on 127.0.0.1, federating over TLS,
//! one user on each. Measured: the time from a send on server A until
//! server B's client receives the event on a `/sync` long-poll, the
//! delivery a Matrix user sees.
//!
//! Synapse comes from PyPI (`matrix-synapse`), installed by the bench into
//! a throwaway virtualenv under its temporary directory, with SQLite and
//! self-made certificates (`federation_verify_certificates: false`, for
//! this test only). Rate limits are lifted so that the figures are the
//! servers', not their limits'.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::Url;
use serde::Serialize;
use serde_json::{Value, json};

use super::network::{Load, LoadResult, summarize};
use super::nodes::free_port;
use crate::cli::BenchMatrixArgs;
use crate::output;

/// The PyPI release the comparison is made with.
const SYNAPSE_FROM_PYPI: &str = "matrix-synapse==1.163.2";

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub(crate) enum Peer {
    Missing {
        note: String,
    },
    Measured {
        version: String,
        /// What a delivery means here.
        delivery: String,
        loads: Vec<MatrixLoad>,
    },
}

/// One load: the delivered messages' figures, and how many never reached
/// the receiving client within [`DELIVERED_WITHIN`].
#[derive(Clone, Debug, Serialize)]
pub(crate) struct MatrixLoad {
    #[serde(flatten)]
    pub(crate) result: LoadResult,
    pub(crate) sent: u64,
    pub(crate) undelivered: u64,
}

/// A homeserver process, killed when dropped.
struct Homeserver {
    child: Child,
    client: String,
    federation_port: u16,
}

impl Drop for Homeserver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The configuration of one homeserver: TLS on its federation listener,
/// plain HTTP for its client on loopback, SQLite, no rate limits.
fn config(dir: &Path, federation: u16, client: u16) -> String {
    let d = dir.display();
    let unlimited = "{per_second: 100000, burst_count: 100000}";
    format!(
        r#"server_name: "127.0.0.1:{federation}"
pid_file: {d}/homeserver.pid
listeners:
  - port: {federation}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: true
    resources: [{{names: [federation], compress: false}}]
  - port: {client}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    resources: [{{names: [client], compress: false}}]
tls_certificate_path: {d}/tls.crt
tls_private_key_path: {d}/tls.key
federation_verify_certificates: false
database: {{name: sqlite3, args: {{database: {d}/homeserver.db}}}}
media_store_path: {d}/media
signing_key_path: {d}/signing.key
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
enable_registration: true
enable_registration_without_verification: true
ip_range_blacklist: []
ip_range_whitelist: ['127.0.0.1']
rc_message: {unlimited}
rc_registration: {unlimited}
rc_room_creation: {unlimited}
rc_joins_per_room: {unlimited}
rc_login: {{address: {unlimited}, account: {unlimited}, failed_attempts: {unlimited}}}
rc_joins: {{local: {unlimited}, remote: {unlimited}}}
rc_invites: {{per_room: {unlimited}, per_user: {unlimited}, per_issuer: {unlimited}}}
rc_federation: {{window_size: 1000, sleep_limit: 100000, sleep_delay: 0, reject_limit: 100000, concurrent: 100}}
federation_rr_transactions_per_room_per_second: 100000
log_config: {d}/log.yaml
"#
    )
}

/// Makes and starts one homeserver under `dir`.
fn start(venv: &Path, dir: &Path) -> anyhow::Result<Homeserver> {
    std::fs::create_dir_all(dir)?;
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])?;
    std::fs::write(dir.join("tls.crt"), cert.cert.pem())?;
    std::fs::write(dir.join("tls.key"), cert.signing_key.serialize_pem())?;
    super::venv::run(
        Command::new(venv.join("bin/generate_signing_key"))
            .arg("-o")
            .arg(dir.join("signing.key")),
    )
    .map_err(|e| anyhow::anyhow!("generate_signing_key: {e}"))?;
    // Synapse's own sample logging: INFO, to a file.
    std::fs::write(
        dir.join("log.yaml"),
        format!(
            "version: 1\nformatters: {{precise: {{format: '%(asctime)s - %(name)s - %(levelname)s - %(message)s'}}}}\n\
             handlers: {{file: {{class: logging.FileHandler, formatter: precise, filename: {}/homeserver.log}}}}\n\
             root: {{level: INFO, handlers: [file]}}\ndisable_existing_loggers: false\n",
            dir.display()
        ),
    )?;
    let (federation, client) = (free_port()?, free_port()?);
    std::fs::write(dir.join("homeserver.yaml"), config(dir, federation, client))?;
    let log = std::fs::File::create(dir.join("homeserver.log"))?;
    let child = Command::new(venv.join("bin/python"))
        .args(["-m", "synapse.app.homeserver", "-c", "homeserver.yaml"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting synapse")?;
    Ok(Homeserver {
        child,
        client: format!("http://127.0.0.1:{client}"),
        federation_port: federation,
    })
}

/// `base` followed by `segments`, each percent-encoded as a path segment
/// (room ids hold `!` and `:`).
fn endpoint(base: &str, segments: &[&str]) -> anyhow::Result<Url> {
    let mut url = Url::parse(base)?;
    url.path_segments_mut()
        .map_err(|()| anyhow::anyhow!("{base} cannot take a path"))?
        .extend(segments);
    Ok(url)
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: Url,
    token: Option<&str>,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut req = http.request(method, url.clone());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await?;
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(status.is_success(), "{url}: {status} {v}");
    Ok(v)
}

async fn register(http: &reqwest::Client, hs: &Homeserver, user: &str) -> anyhow::Result<String> {
    let v = call(
        http,
        reqwest::Method::POST,
        endpoint(&hs.client, &["_matrix", "client", "v3", "register"])?,
        None,
        Some(json!({"username": user, "password": "bench passphrase 1", "auth": {"type": "m.login.dummy"}})),
    )
    .await?;
    v["access_token"]
        .as_str()
        .map(str::to_string)
        .context("registering: no access token")
}

type Seen = Arc<Mutex<HashMap<String, Instant>>>;

/// B's client: `/sync` long-polls, recording when each message arrives.
async fn follow(http: reqwest::Client, base: String, token: String, seen: Seen) {
    let mut since: Option<String> = None;
    loop {
        // The default filter gives at most 10 events per room and sync
        // ("limited"); a burst between two syncs would lose the rest.
        let Ok(mut url) = endpoint(&base, &["_matrix", "client", "v3", "sync"]) else {
            return;
        };
        url.query_pairs_mut()
            .append_pair("filter", r#"{"room":{"timeline":{"limit":10000}}}"#);
        match &since {
            None => url.query_pairs_mut().append_pair("timeout", "0"),
            Some(s) => url
                .query_pairs_mut()
                .append_pair("timeout", "30000")
                .append_pair("since", s),
        };
        let Ok(v) = call(&http, reqwest::Method::GET, url, Some(&token), None).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let now = Instant::now();
        since = v["next_batch"].as_str().map(str::to_string);
        let rooms = v["rooms"]["join"].as_object().cloned().unwrap_or_default();
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        for room in rooms.values() {
            for e in room["timeline"]["events"].as_array().into_iter().flatten() {
                if e["type"] == "m.room.message"
                    && let Some(body) = e["content"]["body"].as_str()
                {
                    seen.entry(body.to_string()).or_insert(now);
                }
            }
        }
    }
}

/// Measures Matrix at `loads`. A peer that cannot be installed or run is
/// reported missing with the reason: the bench goes on without it.
pub(crate) async fn measure(root: &Path, loads: &[Load], say: &dyn Fn(String)) -> Peer {
    say(format!(
        "      installing {SYNAPSE_FROM_PYPI} into a throwaway virtualenv"
    ));
    let venv = match super::venv::pip_install(root, "synapse-venv", SYNAPSE_FROM_PYPI) {
        Ok(v) => v,
        Err(why) => {
            return Peer::Missing {
                note: format!(
                    "could not install {SYNAPSE_FROM_PYPI} from PyPI ({why}); the Matrix comparison was skipped"
                ),
            };
        }
    };
    match measure_with(root, &venv, loads, say).await {
        Ok(peer) => peer,
        Err(e) => Peer::Missing {
            note: format!(
                "Synapse was installed but the run failed: {e:#}; the Matrix comparison was skipped"
            ),
        },
    }
}

async fn measure_with(
    root: &Path,
    venv: &Path,
    loads: &[Load],
    say: &dyn Fn(String),
) -> anyhow::Result<Peer> {
    let venv = venv.to_path_buf();
    let (a, b) = (
        start(&venv, &root.join("synapse-a"))?,
        start(&venv, &root.join("synapse-b"))?,
    );
    let http = reqwest::Client::new();
    for hs in [&a, &b] {
        let url = endpoint(&hs.client, &["_matrix", "client", "versions"])?;
        let deadline = Instant::now() + Duration::from_secs(120);
        while http.get(url.clone()).send().await.is_err() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "synapse did not start (see its homeserver.log)"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let (alice, bob) = (
        register(&http, &a, "alice").await?,
        register(&http, &b, "bob").await?,
    );
    // One room per sender at saturation; offered loads use the first.
    let count = loads
        .iter()
        .map(|l| match l {
            Load::Closed { concurrency, .. } => *concurrency as usize,
            Load::Offered { .. } => 1,
        })
        .max()
        .unwrap_or(1)
        .max(1);
    let mut rooms = Vec::new();
    for _ in 0..count {
        rooms.push(shared_room(&http, &a, &b, &alice, &bob).await?);
    }
    let seen: Seen = Arc::default();
    let follower = tokio::spawn(follow(
        http.clone(),
        b.client.clone(),
        bob.clone(),
        seen.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sender = Arc::new(Sender {
        http: http.clone(),
        base: a.client.clone(),
        token: alice.clone(),
    });
    let mut results = Vec::new();
    let mut next = 0u64;
    for load in loads {
        say(format!("      matrix: {load:?}"));
        let sent: Seen = Arc::default();
        let (label, tasks) = match *load {
            Load::Offered { per_s, secs } => {
                let n = (per_s * secs).round().max(1.0) as u64;
                let (sender, sent, room, first) =
                    (sender.clone(), sent.clone(), rooms[0].clone(), next);
                // One client sending in order, as a Matrix client does in a
                // room (concurrent sends into one room fork its graph, and
                // the receiving server leaves the forks' gaps to
                // back-pagination: they never reach /sync). Timed from when
                // each message was due, so falling behind shows.
                let task = tokio::spawn(async move {
                    let t0 = tokio::time::Instant::now();
                    for i in 0..n {
                        let due = t0 + Duration::from_secs_f64(i as f64 / per_s);
                        tokio::time::sleep_until(due).await;
                        sender.send(&room, first + i, due.into_std(), &sent).await?;
                    }
                    anyhow::Ok(())
                });
                next += n;
                (format!("{per_s:.0} msg/s offered"), vec![task])
            }
            Load::Closed {
                concurrency,
                messages,
            } => {
                let counter = Arc::new(Mutex::new(0u64));
                let first = next;
                let tasks = rooms
                    .iter()
                    .take(concurrency.max(1) as usize)
                    .cloned()
                    .map(|room| {
                        let (sender, sent, counter) =
                            (sender.clone(), sent.clone(), counter.clone());
                        tokio::spawn(async move {
                            loop {
                                let i = {
                                    let mut g = counter.lock().unwrap_or_else(|e| e.into_inner());
                                    if *g >= messages {
                                        return Ok(());
                                    }
                                    *g += 1;
                                    *g
                                };
                                sender.send(&room, first + i, Instant::now(), &sent).await?;
                            }
                        })
                    })
                    .collect();
                next += messages + 1;
                (format!("saturation ({concurrency} senders)"), tasks)
            }
        };
        for t in tasks {
            t.await??;
        }
        let sent = sent.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let arrived = wait_for(&seen, &sent).await;
        let lat: Vec<f64> = sent
            .iter()
            .filter_map(|(k, t)| {
                Some(arrived.get(k)?.saturating_duration_since(*t).as_secs_f64() * 1e3)
            })
            .collect();
        let first = sent.values().min().copied().unwrap_or_else(Instant::now);
        let last = sent
            .keys()
            .filter_map(|k| arrived.get(k))
            .max()
            .copied()
            .unwrap_or(first);
        let undelivered = (sent.len() - lat.len()) as u64;
        results.push(MatrixLoad {
            result: summarize(label, lat, last.duration_since(first).as_secs_f64()),
            sent: sent.len() as u64,
            undelivered,
        });
    }
    follower.abort();
    let version = Command::new(venv.join("bin/python"))
        .args(["-c", "import synapse; print(synapse.__version__)"])
        .output()
        .map(|o| format!("Synapse {}", String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_else(|_| "Synapse".into());
    Ok(Peer::Measured {
        version,
        delivery: "send on server A → event in B's client /sync long-poll, over federation with TLS; stored on both servers (SQLite with its defaults), no receipt back to the sender".into(),
        loads: results,
    })
}

/// How long the receiving client is given for a load's last messages.
const DELIVERED_WITHIN: Duration = Duration::from_secs(60);

/// Waits until B's client has every message of `sent`, or until
/// [`DELIVERED_WITHIN`]; returns the arrivals seen.
async fn wait_for(seen: &Seen, sent: &HashMap<String, Instant>) -> HashMap<String, Instant> {
    let deadline = Instant::now() + DELIVERED_WITHIN;
    loop {
        let s = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if sent.keys().all(|k| s.contains_key(k)) || Instant::now() > deadline {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Alice makes a room on A and invites Bob; Bob joins it through A.
async fn shared_room(
    http: &reqwest::Client,
    a: &Homeserver,
    b: &Homeserver,
    alice: &str,
    bob: &str,
) -> anyhow::Result<String> {
    let bob_id = format!("@bob:127.0.0.1:{}", b.federation_port);
    let room = call(
        http,
        reqwest::Method::POST,
        endpoint(&a.client, &["_matrix", "client", "v3", "createRoom"])?,
        Some(alice),
        Some(json!({"preset": "public_chat", "invite": [bob_id]})),
    )
    .await?["room_id"]
        .as_str()
        .context("createRoom: no room id")?
        .to_string();
    let mut join = endpoint(&b.client, &["_matrix", "client", "v3", "join", &room])?;
    join.query_pairs_mut()
        .append_pair("server_name", &format!("127.0.0.1:{}", a.federation_port));
    call(
        http,
        reqwest::Method::POST,
        join,
        Some(bob),
        Some(json!({})),
    )
    .await
    .context("joining across the federation")?;
    Ok(room)
}

/// Alice's client on server A.
struct Sender {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Sender {
    /// Sends message `id` into `room`, recording `at` as its send time.
    async fn send(&self, room: &str, id: u64, at: Instant, sent: &Seen) -> anyhow::Result<()> {
        let body = format!("bench {id}");
        sent.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(body.clone(), at);
        call(
            &self.http,
            reqwest::Method::PUT,
            endpoint(
                &self.base,
                &[
                    "_matrix",
                    "client",
                    "v3",
                    "rooms",
                    room,
                    "send",
                    "m.room.message",
                    &format!("t{id}"),
                ],
            )?,
            Some(&self.token),
            Some(json!({"msgtype": "m.text", "body": body})),
        )
        .await
        .map(drop)
    }
}

/// `parley bench matrix`: only this peer.
///
/// # Errors
/// When no runtime or temporary directory can be made, or the output
/// cannot be written; a Synapse that cannot be installed or run is
/// reported as missing, not as an error.
pub(crate) fn bench(a: BenchMatrixArgs) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let loads = Load::series(
        &[1.0, 10.0, 100.0],
        a.load_secs,
        a.concurrency,
        a.saturation_messages,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let peer = rt.block_on(measure(root.path(), &loads, &|s| {
        eprintln!("parley bench: {s}");
    }));
    if a.keep {
        let kept = root.keep();
        eprintln!(
            "parley: the homeservers' directories are kept in {}",
            kept.display()
        );
    }
    if a.json.json {
        return output::json(&serde_json::json!(peer));
    }
    output::lines(text(&peer, |_| None))
}

/// The table of a run; `parley_beside` gives parley's comparable figure at
/// the same load, when it was measured.
pub(crate) fn text(
    peer: &Peer,
    parley_beside: impl Fn(&LoadResult) -> Option<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    match peer {
        Peer::Missing { note } => out.push(format!("matrix: {note}")),
        Peer::Measured {
            version,
            delivery,
            loads,
        } => {
            out.push(format!(
                "matrix: {version}, two homeservers federating over TLS on 127.0.0.1"
            ));
            out.push(format!(
                "  {:<28} {:>12} {:>9} {:>9} {:>9} {:>11} {:>11}",
                "load", "delivered/s", "p50 ms", "p99 ms", "max ms", "parley p50", "Matrix ÷ it"
            ));
            for l in loads {
                let m = &l.result;
                out.push(format!(
                    "  {:<28} {:>12.0} {:>9.1} {:>9.1} {:>9.1} {:>23}",
                    m.load,
                    m.receipted_per_s,
                    m.p50_ms,
                    m.p99_ms,
                    m.max_ms,
                    parley_beside(m).unwrap_or_else(|| "—".into())
                ));
            }
            for l in loads.iter().filter(|l| l.undelivered > 0) {
                out.push(format!(
                    "  at {}: {} of {} messages never reached B's client within {} s",
                    l.result.load,
                    l.undelivered,
                    l.sent,
                    DELIVERED_WITHIN.as_secs()
                ));
            }
            out.push(format!("  delivery: {delivery}"));
            out.push(
                "  senders: one client in one room at offered loads, sending in order as a Matrix client does \
                 (timed from when each message was due); at saturation one client per room. parley p50 is \
                 send → the receiving node's event stream in the same run."
                    .into(),
            );
        }
    }
    out.push(String::new());
    out
}
