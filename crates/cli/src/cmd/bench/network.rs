//! Send → stored-receipt latency between two real nodes, at fixed offered
//! loads and at saturation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use serde_json::{Value, json};

use super::nodes::BenchNode;

/// How messages are offered.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Load {
    /// A fixed rate, whatever the answers (an open loop).
    Offered { per_s: f64, secs: f64 },
    /// `concurrency` senders, each sending as soon as its last send returns.
    Closed { concurrency: u64, messages: u64 },
}

impl Load {
    /// Each rate offered for `secs`, then saturation.
    pub(crate) fn series(rates: &[f64], secs: f64, concurrency: u64, messages: u64) -> Vec<Load> {
        rates
            .iter()
            .map(|&per_s| Load::Offered { per_s, secs })
            .chain(std::iter::once(Load::Closed {
                concurrency,
                messages,
            }))
            .collect()
    }
}

/// Latencies in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct LoadResult {
    pub(crate) load: String,
    pub(crate) messages: u64,
    pub(crate) receipted_per_s: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
    /// Send → the entry in the receiving node's event stream, where it
    /// was measured (what a Matrix user's client sees is the like of it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) at_receiver: Option<Arrival>,
    /// CPU time each process spent during the load, per receipted
    /// message, in microseconds ("bench" is the load's own client).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cpu_us_per_message: Option<std::collections::BTreeMap<String, f64>>,
}

/// Send → the receiving node's event stream, in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Arrival {
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn summarize(load: String, mut lat: Vec<f64>, span_s: f64) -> LoadResult {
    lat.sort_by(f64::total_cmp);
    LoadResult {
        load,
        messages: lat.len() as u64,
        receipted_per_s: lat.len() as f64 / span_s.max(1e-9),
        p50_ms: percentile(&lat, 0.50),
        p99_ms: percentile(&lat, 0.99),
        max_ms: lat.last().copied().unwrap_or(0.0),
        at_receiver: None,
        cpu_us_per_message: None,
    }
}

pub(crate) type Times = Arc<Mutex<HashMap<u64, Instant>>>;

/// How long a load waits for its last receipts (dozens of members at
/// saturation on two cores take minutes).
const RECEIPTS_WITHIN_SECS: u64 = 300;

/// Follows `node`'s event stream until it ends, calling `on` with each
/// event's name and data and the moment its chunk arrived.
async fn follow_events(
    client: &reqwest::Client,
    node: &BenchNode,
    mut on: impl FnMut(&str, &Value, Instant) + Send + 'static,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut events = client
        .get(format!("http://127.0.0.1:{}/api/v1/events", node.port))
        .bearer_auth(&node.token)
        .send()
        .await?;
    Ok(tokio::spawn(async move {
        let mut buf = String::new();
        while let Ok(Some(chunk)) = events.chunk().await {
            let now = Instant::now();
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name));
                let Some(data) =
                    field("data: ").and_then(|d| serde_json::from_str::<Value>(d).ok())
                else {
                    continue;
                };
                on(field("event: ").unwrap_or(""), &data, now);
            }
        }
    }))
}

/// Listens to `author`'s events and records, for each sequence number of
/// its feed in `channel`, the moment the last of `cosigners` has stored a
/// signed receipt covering it (a receipt at size N covers every entry
/// below N).
async fn listen(
    client: &reqwest::Client,
    author: &BenchNode,
    channel: &str,
    cosigners: &[String],
    receipted: Times,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let (channel, party) = (channel.to_string(), author.party.clone());
    let mut below: HashMap<String, u64> = cosigners.iter().map(|c| (c.clone(), 0)).collect();
    let need = cosigners.len();
    // How many of the cosigners' receipts cover each sequence number.
    let mut covered: HashMap<u64, usize> = HashMap::new();
    follow_events(client, author, move |event, v, now| {
        if event != "receipt" || v["channel"] != channel.as_str() || v["author"] != party.as_str() {
            return;
        }
        let Some(done) = v["cosigner"].as_str().and_then(|c| below.get_mut(c)) else {
            return;
        };
        let size = v["size"].as_u64().unwrap_or(0);
        let mut r = receipted.lock().unwrap_or_else(|e| e.into_inner());
        while *done < size {
            let n = covered.entry(*done).or_default();
            *n += 1;
            if *n == need {
                r.entry(*done).or_insert(now);
            }
            *done += 1;
        }
    })
    .await
}

/// Listens to `receiver`'s events and records when each entry of
/// `author`'s feed in `channel` is stored there, by sequence number.
pub(crate) async fn listen_arrivals(
    client: &reqwest::Client,
    receiver: &BenchNode,
    channel: &str,
    author: &str,
) -> anyhow::Result<(Times, tokio::task::JoinHandle<()>)> {
    let arrived: Times = Arc::default();
    let (out, prefix) = (arrived.clone(), format!("{channel}/{author}/"));
    let task = follow_events(client, receiver, move |event, v, now| {
        let seq = v["id"]
            .as_str()
            .and_then(|id| id.strip_prefix(&prefix))
            .and_then(|s| s.parse::<u64>().ok());
        if let (true, Some(seq)) = (event == "entry", seq) {
            out.lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(seq)
                .or_insert(now);
        }
    })
    .await?;
    Ok((arrived, task))
}

/// Requests an offered load keeps in flight at most: a node accepts 64
/// connections from one address, and a client that opened more when the
/// node fell behind would be measuring that limit, not the node.
const IN_FLIGHT: usize = 48;

async fn send_one(
    client: &reqwest::Client,
    port: u16,
    token: &str,
    channel: &str,
    i: u64,
) -> anyhow::Result<u64> {
    let r: Value = client
        .post(format!("http://127.0.0.1:{port}/api/v1/entries"))
        .bearer_auth(token)
        .json(&json!({"channel": channel, "kind": "hotline_message",
            "body": {"priority": "routine", "text": {"en": format!(
                "Benchmark message {i}: routine traffic of about the length of a real hotline message, \
                 naming a time, a place and what is asked.")}}}))
        .send()
        .await?
        .json()
        .await?;
    r["seq"]
        .as_u64()
        .with_context(|| format!("send failed: {r}"))
}

/// Sends message `i` and records `t`, when it was meant to be sent, by
/// sequence number.
async fn send_timed(
    client: &reqwest::Client,
    port: u16,
    token: &str,
    channel: &str,
    (i, t): (u64, Instant),
    started: &Times,
) -> anyhow::Result<()> {
    let seq = send_one(client, port, token, channel, i).await?;
    started
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(seq, t);
    Ok(())
}

/// Runs one load from `author` on `channel`; returns the latency from each
/// send to the moment the last of `others` has its signed receipt stored
/// at `author`.
pub(crate) async fn run_load(
    client: &reqwest::Client,
    author: &BenchNode,
    others: &[String],
    channel: &str,
    load: Load,
) -> anyhow::Result<LoadResult> {
    run_load_timed(client, author, others, channel, load, None).await
}

/// As [`run_load`], also timing each entry's arrival in the event stream of
/// the node whose `arrivals` are given.
pub(crate) async fn run_load_timed(
    client: &reqwest::Client,
    author: &BenchNode,
    others: &[String],
    channel: &str,
    load: Load,
    arrivals: Option<&Times>,
) -> anyhow::Result<LoadResult> {
    let started: Times = Arc::default();
    let receipted: Times = Arc::default();
    let listener = listen(client, author, channel, others, receipted.clone()).await?;
    let (label, tasks) = match load {
        Load::Offered { per_s, secs } => {
            let n = (per_s * secs).round().max(1.0) as u64;
            let t0 = tokio::time::Instant::now();
            let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
            let mut tasks = Vec::new();
            for i in 0..n {
                let slots = slots.clone();
                let at = t0 + Duration::from_secs_f64(i as f64 / per_s);
                let (client, started, token, port, ch) = (
                    client.clone(),
                    started.clone(),
                    author.token.clone(),
                    author.port,
                    channel.to_string(),
                );
                tasks.push(tokio::spawn(async move {
                    tokio::time::sleep_until(at).await;
                    // Timed from when it was due: a wait for a connection
                    // counts against the node, as a user would see it.
                    let due = Instant::now();
                    let _slot = slots.acquire_owned().await?;
                    send_timed(&client, port, &token, &ch, (i, due), &started).await
                }));
            }
            (format!("{per_s:.0} msg/s offered"), tasks)
        }
        Load::Closed {
            concurrency,
            messages,
        } => {
            let next = Arc::new(Mutex::new(0u64));
            let tasks = (0..concurrency.max(1))
                .map(|_| {
                    let (client, started, next, token, port, ch) = (
                        client.clone(),
                        started.clone(),
                        next.clone(),
                        author.token.clone(),
                        author.port,
                        channel.to_string(),
                    );
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
                            send_timed(&client, port, &token, &ch, (i, Instant::now()), &started)
                                .await?;
                        }
                    })
                })
                .collect();
            (format!("saturation ({concurrency} senders)"), tasks)
        }
    };
    for t in tasks {
        t.await??;
    }
    let want: Vec<u64> = started
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .keys()
        .copied()
        .collect();
    let deadline = Instant::now() + Duration::from_secs(RECEIPTS_WITHIN_SECS);
    loop {
        let all = {
            let r = receipted.lock().unwrap_or_else(|e| e.into_inner());
            want.iter().all(|s| r.contains_key(s))
        };
        if all {
            break;
        }
        if Instant::now() > deadline {
            anyhow::bail!("receipts did not all arrive within {RECEIPTS_WITHIN_SECS} s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    listener.abort();
    let s = started.lock().unwrap_or_else(|e| e.into_inner());
    let r = receipted.lock().unwrap_or_else(|e| e.into_inner());
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
    let mut result = summarize(label, lat, span);
    if let Some(arrived) = arrivals {
        let at = arrived.lock().unwrap_or_else(|e| e.into_inner());
        let mut lat: Vec<f64> = s
            .iter()
            .filter_map(|(seq, a)| {
                at.get(seq)
                    .map(|b| b.saturating_duration_since(*a).as_secs_f64() * 1000.0)
            })
            .collect();
        lat.sort_by(f64::total_cmp);
        result.at_receiver = Some(Arrival {
            p50_ms: percentile(&lat, 0.50),
            p99_ms: percentile(&lat, 0.99),
        });
    }
    Ok(result)
}
