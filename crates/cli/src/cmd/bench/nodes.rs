//! Real `parley serve` processes on 127.0.0.1 for benchmarks.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

/// A `parley serve` child, killed when dropped.
pub(crate) struct Served(Child);

impl Served {
    pub(crate) fn pid(&self) -> u32 {
        self.0.id()
    }

    /// SIGTERM, then wait.
    pub(crate) fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) struct BenchNode {
    pub(crate) party: String,
    pub(crate) dir: PathBuf,
    /// The console and local API's port.
    pub(crate) port: u16,
    /// The port peers reach it on (mutual TLS).
    pub(crate) peer_port: u16,
    pub(crate) token: String,
    /// Its identity file, for peers to pin.
    pub(crate) identity: PathBuf,
}

fn exe() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("finding the parley binary")
}

pub(crate) fn run(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(exe()?)
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        anyhow::bail!("parley {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) fn init(root: &Path, party: &str) -> anyhow::Result<BenchNode> {
    init_on(root, party, None)
}

/// As [`init`], keeping the node's record in the PostgreSQL database
/// `database` (a connection string) when given.
pub(crate) fn init_on(
    root: &Path,
    party: &str,
    database: Option<&str>,
) -> anyhow::Result<BenchNode> {
    let (peer_port, port) = (free_port()?, free_port()?);
    let dir = root.join(party);
    let (listen, console) = (
        format!("127.0.0.1:{peer_port}"),
        format!("127.0.0.1:{port}"),
    );
    let mut args = vec![
        "init",
        "--party",
        party,
        "--dir",
        dir.to_str().unwrap_or_default(),
        "--listen",
        &listen,
        "--console",
        &console,
        "--json",
    ];
    if let Some(url) = database {
        args.extend(["--database", url]);
    }
    let out: Value = serde_json::from_str(&run(&args)?)?;
    let token = std::fs::read_to_string(dir.join("api.token"))?
        .trim()
        .to_string();
    Ok(BenchNode {
        party: party.to_string(),
        dir,
        port,
        peer_port,
        token,
        identity: PathBuf::from(out["identity_file"].as_str().unwrap_or_default()),
    })
}

/// Pins every node's key at every other node.
pub(crate) fn pin_all(nodes: &[&BenchNode]) -> anyhow::Result<()> {
    for a in nodes {
        for b in nodes.iter().filter(|b| b.party != a.party) {
            run(&[
                "peer",
                "add",
                "--dir",
                a.dir.to_str().unwrap_or_default(),
                "--identity",
                b.identity.to_str().unwrap_or_default(),
                "--url",
                &format!("https://127.0.0.1:{}", b.peer_port),
            ])?;
        }
    }
    Ok(())
}

pub(crate) fn serve(n: &BenchNode) -> anyhow::Result<Served> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(n.dir.with_extension("log"))?;
    Ok(Served(
        Command::new(exe()?)
            .args(["serve", "--dir", n.dir.to_str().unwrap_or_default()])
            // Quiet unless whoever profiles the bench asks for more.
            .env(
                "RUST_LOG",
                std::env::var("PARLEY_BENCH_NODE_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?,
    ))
}

/// Starts a node and waits until its API answers; returns the process and
/// the start-up time.
pub(crate) async fn start(
    client: &reqwest::Client,
    n: &BenchNode,
) -> anyhow::Result<(Served, Duration)> {
    let t = Instant::now();
    let s = serve(n)?;
    wait_for(&format!("{} to start", n.party), 120, async || {
        api(client, n, "GET", "/status", None).await.is_ok()
    })
    .await?;
    Ok((s, t.elapsed()))
}

pub(crate) async fn api(
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

pub(crate) async fn wait_for(
    what: &str,
    secs: u64,
    mut f: impl AsyncFnMut() -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("timed out waiting for {what}")
}

/// `author` creates `id` with `others` (and a witness), each of `others`
/// accepts; returns when the author sees it active.
pub(crate) async fn open_channel(
    client: &reqwest::Client,
    author: &BenchNode,
    others: &[&BenchNode],
    id: &str,
    witness: Option<&BenchNode>,
) -> anyhow::Result<()> {
    let witnesses: Vec<&str> = witness.iter().map(|w| w.party.as_str()).collect();
    let members: Vec<&str> = std::iter::once(author)
        .chain(others.iter().copied())
        .map(|n| n.party.as_str())
        .collect();
    api(
        client,
        author,
        "POST",
        "/channels",
        Some(json!({"id": id, "charter": {"members": members,
            "witnesses": witnesses, "level": "expert", "languages": ["en"]}})),
    )
    .await?;
    for other in others {
        wait_for(&format!("{} to accept {id}", other.party), 60, async || {
            api(
                client,
                other,
                "POST",
                &format!("/channels/{id}/accept"),
                None,
            )
            .await
            .is_ok()
        })
        .await?;
    }
    wait_for(&format!("{id} to open"), 60, async || {
        api(client, author, "GET", "/channels", None)
            .await
            .is_ok_and(|c| {
                c.as_array()
                    .is_some_and(|a| a.iter().any(|c| c["id"] == id && c["state"] == "active"))
            })
    })
    .await
}

/// A port on 127.0.0.1 that nothing listens on at the moment of asking.
pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// CPU time a process has used, user and system, in seconds (Linux
/// /proc/PID/stat fields 14 and 15, in USER_HZ ticks: 100 a second on
/// every Linux the kernel's ABI covers). `None` for "self" reads this one.
pub(crate) fn cpu_secs(pid: Option<u32>) -> f64 {
    let path = pid.map_or("/proc/self/stat".to_string(), |p| format!("/proc/{p}/stat"));
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            // The command name (field 2) may hold spaces: count from the
            // last ')'.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .unwrap_or(0.0)
}

/// Resident memory of a process, in bytes (Linux /proc).
pub(crate) fn rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// Size of a feed as a node reports it.
pub(crate) async fn feed_size(
    client: &reqwest::Client,
    n: &BenchNode,
    channel: &str,
    author: &str,
) -> u64 {
    api(client, n, "GET", "/status", None)
        .await
        .ok()
        .and_then(|s| {
            s["feeds"].as_array().and_then(|a| {
                a.iter()
                    .find(|f| f["channel"] == channel && f["author"] == author)
                    .and_then(|f| f["size"].as_u64())
            })
        })
        .unwrap_or(0)
}
