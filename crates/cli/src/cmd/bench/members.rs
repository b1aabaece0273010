//! `parley bench members`: how delivery and receipts grow with the number
//! of members of a channel. For each size, that many `parley serve`
//! processes and a witness on 127.0.0.1, one channel holding them all; one
//! member sends, and each message counts as delivered when the last other
//! member's signed receipt is stored at the sender.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use serde_json::{Value, json};

use super::network::summarize;
use super::nodes::{BenchNode, Served, api, init, pin_all, rss_bytes, start, wait_for};
use crate::cli::BenchMembersArgs;
use crate::output;

/// One channel size's figures.
#[derive(Debug, Serialize)]
struct Run {
    members: usize,
    /// At the offered rate, then at saturation: send → last member's receipt.
    offered: super::network::LoadResult,
    saturation: super::network::LoadResult,
    /// Resident memory of every node and the witness, after the loads.
    rss_mib_total: f64,
    rss_mib_per_node: f64,
    /// Signatures on the checkpoint of the last entry's proof bundle
    /// (the log's, every other member's receipt, the witness's).
    bundle_signatures: usize,
    /// Receipts `parley verify` reported on that bundle.
    verified_receipts: usize,
    setup_s: f64,
}

pub(crate) fn members(a: BenchMembersArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let mut runs = Vec::new();
    for &m in &a.members {
        anyhow::ensure!(
            (2..=98).contains(&m),
            "--members {m}: a channel has 2 to 98 members (a fully cosigned checkpoint must stay within the 100 signatures C2SP verifiers accept)"
        );
        eprintln!("parley bench members: {m} members and a witness");
        let root = tempfile::tempdir()?;
        runs.push(rt.block_on(one_size(&client, root.path(), m, &a))?);
    }
    if a.json.json {
        return output::json(&json!({"runs": runs}));
    }
    let mut lines = vec![format!(
        "members: one sender, {} msg/s offered for {} s, then {} messages from {} senders; \
         send → the last member's stored receipt at the sender",
        a.rate, a.secs, a.messages, a.concurrency
    )];
    lines.push(format!(
        "  {:>7}  {:>22}  {:>32}  {:>14}  {:>10}",
        "members", "offered p50/p99 ms", "saturation msg/s, p50/p99 ms", "memory MiB", "receipts"
    ));
    for r in &runs {
        lines.push(format!(
            "  {:>7}  {:>10.1} / {:>9.1}  {:>10.0}, {:>8.1} / {:>9.1}  {:>6.0} ({:>4.0}/node)  {:>4} of {:>3}",
            r.members,
            r.offered.p50_ms,
            r.offered.p99_ms,
            r.saturation.receipted_per_s,
            r.saturation.p50_ms,
            r.saturation.p99_ms,
            r.rss_mib_total,
            r.rss_mib_per_node,
            r.verified_receipts,
            r.members - 1,
        ));
    }
    output::lines(lines)
}

async fn one_size(
    client: &reqwest::Client,
    root: &std::path::Path,
    m: usize,
    a: &BenchMembersArgs,
) -> anyhow::Result<Run> {
    let began = Instant::now();
    let names: Vec<String> = (1..=m).map(|i| format!("p{i:02}")).collect();
    let mut nodes = Vec::new();
    for n in &names {
        nodes.push(init(root, n)?);
    }
    let witness = init(root, "osce")?;
    let all: Vec<&BenchNode> = nodes.iter().chain([&witness]).collect();
    pin_all(&all)?;
    let mut served: Vec<Served> = Vec::new();
    for n in &all {
        served.push(start(client, n).await?.0);
    }
    let author = &nodes[0];
    let channel = "p01.bench";
    api(
        client,
        author,
        "POST",
        "/channels",
        Some(
            json!({"id": channel, "charter": {"members": names, "witnesses": ["osce"],
            "level": "expert", "languages": ["en"]}}),
        ),
    )
    .await?;
    for other in &nodes[1..] {
        wait_for(&format!("{} to accept", other.party), 60, async || {
            api(
                client,
                other,
                "POST",
                &format!("/channels/{channel}/accept"),
                None,
            )
            .await
            .is_ok()
        })
        .await?;
    }
    wait_for(&format!("{channel} to open"), 60, async || {
        api(client, author, "GET", "/channels", None)
            .await
            .is_ok_and(|c| {
                c.as_array().is_some_and(|a| {
                    a.iter()
                        .any(|c| c["id"] == channel && c["state"] == "active")
                })
            })
    })
    .await?;
    let setup_s = began.elapsed().as_secs_f64();
    let others: Vec<String> = names[1..].to_vec();
    let offered = run(
        client,
        author,
        channel,
        &others,
        Offer::Rate(a.rate, a.secs),
    )
    .await?;
    let saturation = run(
        client,
        author,
        channel,
        &others,
        Offer::Closed(a.concurrency, a.messages),
    )
    .await?;
    let rss: u64 = served.iter().map(|s| rss_bytes(s.pid())).sum();
    let (bundle_signatures, verified_receipts) = verify_last(client, root, author, &all).await?;
    for s in served {
        s.stop();
    }
    Ok(Run {
        members: m,
        offered,
        saturation,
        rss_mib_total: rss as f64 / 1048576.0,
        rss_mib_per_node: rss as f64 / 1048576.0 / (m + 1) as f64,
        bundle_signatures,
        verified_receipts,
        setup_s,
    })
}

#[derive(Clone, Copy)]
enum Offer {
    /// Messages per second, for seconds.
    Rate(f64, f64),
    /// Senders, messages.
    Closed(u64, u64),
}

type Times = Arc<Mutex<HashMap<u64, Instant>>>;

/// Sends the load; each message's latency runs from its send to the
/// moment the last of `others`' receipts covering it is stored.
async fn run(
    client: &reqwest::Client,
    author: &BenchNode,
    channel: &str,
    others: &[String],
    offer: Offer,
) -> anyhow::Result<super::network::LoadResult> {
    let started: Times = Arc::default();
    let all_in: Times = Arc::default();
    let listener = listen_all(client, author, channel, others, all_in.clone()).await?;
    let sender = Sender {
        client: client.clone(),
        started: started.clone(),
        token: author.token.clone(),
        port: author.port,
        channel: channel.to_string(),
    };
    let label = match offer {
        Offer::Rate(per_s, secs) => {
            let n = (per_s * secs).round().max(1.0) as u64;
            let t0 = tokio::time::Instant::now();
            let tasks: Vec<_> = (0..n)
                .map(|i| {
                    let at = t0 + Duration::from_secs_f64(i as f64 / per_s);
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep_until(at).await;
                        sender.send(i).await
                    })
                })
                .collect();
            for t in tasks {
                t.await??;
            }
            format!("{per_s:.0} msg/s offered")
        }
        Offer::Closed(senders, messages) => {
            let next = Arc::new(Mutex::new(0u64));
            let tasks: Vec<_> = (0..senders.max(1))
                .map(|_| {
                    let (next, sender) = (next.clone(), sender.clone());
                    tokio::spawn(async move {
                        loop {
                            let i = {
                                let mut g = next.lock().unwrap_or_else(|e| e.into_inner());
                                if *g >= messages {
                                    return anyhow::Ok(());
                                }
                                *g += 1;
                                *g
                            };
                            sender.send(i).await?;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await??;
            }
            format!("saturation ({senders} senders)")
        }
    };
    let want: Vec<u64> = started
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .keys()
        .copied()
        .collect();
    wait_for("every member's receipt", 300, async || {
        let r = all_in.lock().unwrap_or_else(|e| e.into_inner());
        want.iter().all(|s| r.contains_key(s))
    })
    .await?;
    listener.abort();
    let s = started.lock().unwrap_or_else(|e| e.into_inner());
    let r = all_in.lock().unwrap_or_else(|e| e.into_inner());
    let mut lat = Vec::with_capacity(s.len());
    let (mut first, mut last) = (None::<Instant>, None::<Instant>);
    for (seq, a) in s.iter() {
        let b = r[seq];
        lat.push(b.saturating_duration_since(*a).as_secs_f64() * 1000.0);
        first = Some(first.map_or(*a, |f| f.min(*a)));
        last = Some(last.map_or(b, |l| l.max(b)));
    }
    let span = match (first, last) {
        (Some(f), Some(l)) => l.duration_since(f).as_secs_f64(),
        _ => anyhow::bail!("no message was receipted"),
    };
    Ok(summarize(label, lat, span))
}

/// Sends messages from the author, noting when each send began.
#[derive(Clone)]
struct Sender {
    client: reqwest::Client,
    started: Times,
    token: String,
    port: u16,
    channel: String,
}

impl Sender {
    async fn send(&self, i: u64) -> anyhow::Result<()> {
        let t = Instant::now();
        let r: Value = self
            .client
            .post(format!("http://127.0.0.1:{}/api/v1/entries", self.port))
            .bearer_auth(&self.token)
            .json(&json!({"channel": self.channel, "kind": "hotline_message",
                "body": {"priority": "routine", "text": {"en": format!(
                    "Benchmark message {i} to every member: routine traffic of about the \
                     length of a real hotline message.")}}}))
            .send()
            .await?
            .json()
            .await?;
        let seq = r["seq"]
            .as_u64()
            .with_context(|| format!("send failed: {r}"))?;
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(seq, t);
        Ok(())
    }
}

/// Listens to the author's events; records for each sequence number the
/// moment the last of `others` has receipted it.
async fn listen_all(
    client: &reqwest::Client,
    author: &BenchNode,
    channel: &str,
    others: &[String],
    all_in: Times,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut events = client
        .get(format!("http://127.0.0.1:{}/api/v1/events", author.port))
        .bearer_auth(&author.token)
        .send()
        .await?;
    let (channel, party) = (channel.to_string(), author.party.clone());
    let mut below: HashMap<String, u64> = others.iter().map(|o| (o.clone(), 0)).collect();
    let need = others.len();
    Ok(tokio::spawn(async move {
        let mut buf = String::new();
        // How many members' receipts cover each sequence number so far.
        let mut covered: HashMap<u64, usize> = HashMap::new();
        while let Ok(Some(chunk)) = events.chunk().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                if !block.contains("event: receipt") {
                    continue;
                }
                let Some(v) = block
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .and_then(|d| serde_json::from_str::<Value>(d).ok())
                else {
                    continue;
                };
                if v["channel"] != channel.as_str() || v["author"] != party.as_str() {
                    continue;
                }
                let Some(done) = v["cosigner"].as_str().and_then(|c| below.get_mut(c)) else {
                    continue;
                };
                let size = v["size"].as_u64().unwrap_or(0);
                let now = Instant::now();
                let mut r = all_in.lock().unwrap_or_else(|e| e.into_inner());
                while *done < size {
                    let n = covered.entry(*done).or_default();
                    *n += 1;
                    if *n == need {
                        r.entry(*done).or_insert(now);
                    }
                    *done += 1;
                }
            }
        }
    }))
}

/// The proof bundle of the author's last entry: how many signatures its
/// checkpoint carries, and how many receipts `parley verify` reports with
/// every party's identity.
async fn verify_last(
    client: &reqwest::Client,
    root: &std::path::Path,
    author: &BenchNode,
    all: &[&BenchNode],
) -> anyhow::Result<(usize, usize)> {
    let status = api(client, author, "GET", "/status", None).await?;
    let size = status["feeds"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["channel"] == "p01.bench" && f["author"] == author.party.as_str())
        })
        .and_then(|f| f["size"].as_u64())
        .context("the author's feed")?;
    let bundle = client
        .get(format!(
            "http://127.0.0.1:{}/api/v1/entries/p01.bench/{}/{}/proof",
            author.port,
            author.party,
            size - 1
        ))
        .bearer_auth(&author.token)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let signatures = bundle
        .lines()
        .filter(|l| l.starts_with("\u{2014} "))
        .count();
    let path = root.join("last.bundle");
    std::fs::write(&path, &bundle)?;
    let mut args: Vec<String> = vec!["verify".into(), path.display().to_string()];
    for n in all {
        args.push("--identity".into());
        args.push(n.identity.display().to_string());
    }
    args.push("--json".into());
    let out = super::nodes::run(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
    let v: Value = serde_json::from_str(&out)?;
    let receipts = v["receipts"].as_array().map_or(0, Vec::len);
    Ok((signatures, receipts))
}
