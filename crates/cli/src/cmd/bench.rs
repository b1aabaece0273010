//! `parley bench federation`: two real nodes on 127.0.0.1, a stream of
//! messages, and the time from each `send` to the stored receipt — beside
//! baselines measured in the same run on the same machine.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use parley_log::SigningKey;
use parley_store::{Cosignature, FeedId, SqliteStore, Store};
use serde_json::{Value, json};

use crate::cli::BenchFederationArgs;
use crate::output;

/// A `parley serve` child, killed when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct BenchNode {
    dir: PathBuf,
    port: u16,
    token: String,
    vkey: String,
}

fn exe() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("finding the parley binary")
}

fn run(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(exe()?)
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        anyhow::bail!("parley {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn init(root: &Path, party: &str) -> anyhow::Result<BenchNode> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let dir = root.join(party);
    let out: Value = serde_json::from_str(&run(&[
        "init",
        "--party",
        party,
        "--dir",
        dir.to_str().unwrap_or_default(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--json",
    ])?)?;
    let token = std::fs::read_to_string(dir.join("api.token"))?
        .trim()
        .to_string();
    Ok(BenchNode {
        dir,
        port,
        token,
        vkey: out["vkey"].as_str().unwrap_or_default().to_string(),
    })
}

fn serve(n: &BenchNode) -> anyhow::Result<Served> {
    let log = std::fs::File::create(n.dir.join("serve.log"))?;
    Ok(Served(
        Command::new(exe()?)
            .args(["serve", "--dir", n.dir.to_str().unwrap_or_default()])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?,
    ))
}

async fn api(
    client: &reqwest::Client,
    n: &BenchNode,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let url = format!("http://127.0.0.1:{}/api/v1{path}", n.port);
    let req = match method {
        "POST" => client.post(url).json(&body.unwrap_or(json!({}))),
        _ => client.get(url),
    };
    let r = req.bearer_auth(&n.token).send().await?;
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        anyhow::bail!("{path}: {status} {v}");
    }
    Ok(v)
}

async fn wait_for(what: &str, secs: u64, mut f: impl AsyncFnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("timed out waiting for {what}")
}

/// Durable single-row commits per second through the same store code.
fn commit_baseline(dir: &Path, n: u32) -> anyhow::Result<f64> {
    let store = SqliteStore::open(&dir.join("baseline.db"))?;
    let feed = FeedId::new("baseline", "x");
    let start = Instant::now();
    for i in 0..n {
        store.add_cosignature(&Cosignature {
            feed: feed.clone(),
            size: u64::from(i),
            cosigner: "x".into(),
            time: 0,
            line: String::new(),
        })?;
    }
    Ok(f64::from(n) / start.elapsed().as_secs_f64())
}

/// Ed25519 strict verifications per second.
fn verify_baseline(n: u32) -> f64 {
    let key = SigningKey::from_seed("bench", [1; 32]).expect("valid name");
    let msg = b"parley/bench/nato\n1000\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let sig = key.sign_raw(msg);
    let v = key.verifier();
    let start = Instant::now();
    for _ in 0..n {
        assert!(v.verify_ed25519(std::hint::black_box(msg), &sig));
    }
    f64::from(n) / start.elapsed().as_secs_f64()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn federation(a: BenchFederationArgs) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (nato, russia) = (init(root.path(), "nato")?, init(root.path(), "russia")?);
    for (a_, b) in [(&nato, &russia), (&russia, &nato)] {
        let other = if std::ptr::eq(b, &russia) {
            "russia"
        } else {
            "nato"
        };
        run(&[
            "peer",
            "add",
            "--dir",
            a_.dir.to_str().unwrap_or_default(),
            "--party",
            other,
            "--url",
            &format!("http://127.0.0.1:{}", b.port),
            "--vkey",
            &b.vkey,
        ])?;
    }
    let commits = commit_baseline(root.path(), 300)?;
    let verifies = verify_baseline(2000);
    let _n = serve(&nato)?;
    let _r = serve(&russia)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(load(&nato, &russia, a.messages, a.concurrency))?;
    let (rate, lat) = result;
    drop((_n, _r));
    if a.keep {
        let kept = root.keep();
        eprintln!(
            "parley: the nodes' directories are kept in {}",
            kept.display()
        );
    }
    let mut sorted = lat.clone();
    sorted.sort_by(|x, y| x.total_cmp(y));
    let (p50, p90, p99, max) = (
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.90),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or(0.0),
    );
    if a.json.json {
        return output::json(&json!({
            "messages": a.messages,
            "concurrency": a.concurrency,
            "messages_per_second": rate,
            "latency_ms": {"p50": p50, "p90": p90, "p99": p99, "max": max},
            "baseline": {"durable_commits_per_second": commits, "ed25519_verifies_per_second": verifies},
            "ratio_messages_to_durable_commits": rate / commits,
        }));
    }
    output::lines([
        format!(
            "federation: {} messages, {} concurrent senders, nato → russia, two processes on 127.0.0.1",
            a.messages, a.concurrency
        ),
        format!("  sustained:    {rate:.0} messages/s, from send to stored receipt"),
        format!(
            "  send→receipt: p50 {p50:.1} ms, p90 {p90:.1} ms, p99 {p99:.1} ms, max {max:.1} ms"
        ),
        format!(
            "  baselines:    {commits:.0} durable SQLite commits/s; {verifies:.0} Ed25519 verifies/s (same run)"
        ),
        format!(
            "  ratio:        {:.2} messages per durable commit (a message costs at least two: sender and receiver)",
            rate / commits
        ),
    ])
}

async fn load(
    nato: &BenchNode,
    russia: &BenchNode,
    messages: u64,
    concurrency: u64,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let client = reqwest::Client::new();
    wait_for("the nodes to start", 20, async || {
        api(&client, nato, "GET", "/status", None).await.is_ok()
            && api(&client, russia, "GET", "/status", None).await.is_ok()
    })
    .await?;
    api(
        &client,
        nato,
        "POST",
        "/channels",
        Some(json!({"id": "bench", "charter": {"members": ["nato", "russia"], "level": "expert", "languages": ["en"]}})),
    )
    .await?;
    wait_for("russia to accept", 20, async || {
        api(&client, russia, "POST", "/channels/bench/accept", None)
            .await
            .is_ok()
    })
    .await?;
    wait_for("the channel to open", 20, async || {
        api(&client, nato, "GET", "/channels", None)
            .await
            .is_ok_and(|c| c[0]["state"] == "active")
    })
    .await?;

    // Receipts arrive on the event stream; each covers every entry below its size.
    let n = messages as usize;
    let started: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; n + 1]));
    let receipted: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; n + 1]));
    let mut events = client
        .get(format!("http://127.0.0.1:{}/api/v1/events", nato.port))
        .bearer_auth(&nato.token)
        .send()
        .await?;
    let rec = receipted.clone();
    let listener = tokio::spawn(async move {
        let mut buf = String::new();
        let mut done_below = 1usize;
        while let Ok(Some(chunk)) = events.chunk().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                if !block.contains("event: receipt") {
                    continue;
                }
                let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else {
                    continue;
                };
                let Ok(v) = serde_json::from_str::<Value>(data) else {
                    continue;
                };
                if v["channel"] != "bench" || v["author"] != "nato" || v["cosigner"] != "russia" {
                    continue;
                }
                let size = v["size"].as_u64().unwrap_or(0) as usize;
                let now = Instant::now();
                let mut r = rec.lock().unwrap_or_else(|e| e.into_inner());
                while done_below < size.min(r.len()) {
                    r[done_below].get_or_insert(now);
                    done_below += 1;
                }
                if done_below > n {
                    return;
                }
            }
        }
    });

    let next = Arc::new(Mutex::new(0u64));
    let mut senders = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, next, started) = (client.clone(), next.clone(), started.clone());
        let (port, token) = (nato.port, nato.token.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let i = {
                    let mut g = next.lock().unwrap_or_else(|e| e.into_inner());
                    if *g >= messages {
                        return Ok::<(), anyhow::Error>(());
                    }
                    *g += 1;
                    *g
                };
                let t0 = Instant::now();
                let r: Value = client
                    .post(format!("http://127.0.0.1:{port}/api/v1/entries"))
                    .bearer_auth(&token)
                    .json(&json!({"channel": "bench", "kind": "hotline_message",
                        "body": {"priority": "routine", "text": {"en": format!("benchmark message {i}")}}}))
                    .send()
                    .await?
                    .json()
                    .await?;
                let seq = r["seq"].as_u64().context("send failed")? as usize;
                started.lock().unwrap_or_else(|e| e.into_inner())[seq] = Some(t0);
            }
        }));
    }
    for s in senders {
        s.await??;
    }
    tokio::time::timeout(Duration::from_secs(120), listener)
        .await
        .context("receipts did not all arrive within 120 s")??;
    let s = started.lock().unwrap_or_else(|e| e.into_inner());
    let r = receipted.lock().unwrap_or_else(|e| e.into_inner());
    let mut lat = Vec::with_capacity(n);
    let (mut first, mut last) = (None::<Instant>, None::<Instant>);
    for i in 1..=n {
        if let (Some(a), Some(b)) = (s[i], r[i]) {
            lat.push(b.saturating_duration_since(a).as_secs_f64() * 1000.0);
            first = Some(first.map_or(a, |f| f.min(a)));
            last = Some(last.map_or(b, |l| l.max(b)));
        }
    }
    let span = match (first, last) {
        (Some(f), Some(l)) => l.duration_since(f).as_secs_f64(),
        _ => anyhow::bail!("no message was receipted"),
    };
    Ok((lat.len() as f64 / span, lat))
}
