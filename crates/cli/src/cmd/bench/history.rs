//! `parley bench history`: a node with a long history (a million entries
//! by default) in its store, started as a duty officer would find it:
//! how long it takes to read the history, then p50/p99 of every console
//! page and of `parley obligations`, and the time from an acknowledgement
//! leaving the debtor's node to the creditor's board showing it met.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use parley_log::{Hash, SigningKey};
use parley_store::{DeliveryRole, FeedId, SqliteStore, Statement, Store};
use serde::Serialize;
use serde_json::{Value, json};

use super::feeds::{Cosigner, FeedWriter, Item};
use super::nodes::{
    BenchNode, api, init_on, open_channel, pin_all, rss_bytes, run, start, wait_for,
};
use crate::cli::BenchHistoryArgs;
use crate::output;

const CHANNEL: &str = "nato.history";
/// Entries per commit while writing the history, alternating authors.
const BATCH: u64 = 1000;
/// The goal the issue sets for every page at a million entries.
const PAGE_GOAL_MS: f64 = 100.0;

#[derive(Serialize)]
struct Timing {
    what: String,
    samples: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    bytes: usize,
}

#[derive(Serialize)]
struct Report {
    backend: &'static str,
    entries: u64,
    obligations_met: u64,
    write_seconds: f64,
    startup_seconds: f64,
    ledger_ready_seconds: f64,
    first_page_seconds: f64,
    rss_bytes: u64,
    pages: Vec<Timing>,
    answer_to_board: Timing,
    goal_ms: f64,
    secs: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn timing(what: &str, mut ms: Vec<f64>, bytes: usize) -> Timing {
    ms.sort_by(f64::total_cmp);
    Timing {
        what: what.to_string(),
        samples: ms.len(),
        p50_ms: quantile(&ms, 0.5),
        p99_ms: quantile(&ms, 0.99),
        max_ms: ms.last().copied().unwrap_or(0.0),
        bytes,
    }
}

fn key(n: &BenchNode, role: &str) -> anyhow::Result<SigningKey> {
    let path = n.dir.join(format!("keys/{role}.key"));
    Ok(SigningKey::parse(
        std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .trim(),
    )?)
}

/// The node's store, for writing history while it is stopped: SQLite
/// without syncing each commit (the bench measures reading, not writing),
/// PostgreSQL as configured.
fn store_of(n: &BenchNode) -> anyhow::Result<Arc<dyn Store>> {
    if parley_node::config::storage_at(&n.dir)?.is_embedded() {
        Ok(Arc::new(SqliteStore::open_unsynced(
            &n.dir.join("parley.db"),
        )?))
    } else {
        parley_node::config::open_store_at(&n.dir)
    }
}

fn routine(i: u64) -> Item {
    Item {
        kind: "hotline_message".into(),
        refs: vec![],
        body: json!({"priority": "routine", "text": {"en": format!(
            "History message {i}: routine traffic of about the length of a real hotline message, \
             naming a time, a place and what is asked.")}}),
    }
}

/// Writes `entries` entries into both parties' stores, the same bytes in
/// each, as if they had been exchanged: batches of NATO's messages (one in
/// ten of immediate precedence, which Russia owes an acknowledgement of)
/// and of Russia's acknowledgements and routine traffic, each batch with
/// the other's signed receipt. Returns the obligations met.
fn write_history(
    nato: &BenchNode,
    russia: &BenchNode,
    entries: u64,
    say: &dyn Fn(String),
) -> anyhow::Result<u64> {
    let stores = [store_of(nato)?, store_of(russia)?];
    let both: Vec<&dyn Store> = stores.iter().map(|s| s.as_ref()).collect();
    let receipt = |n: &BenchNode| -> anyhow::Result<Cosigner> {
        Ok(Cosigner {
            party: n.party.clone(),
            key: key(n, "receipt")?,
            statement: Statement::Receipt,
        })
    };
    let mut w_nato = FeedWriter::open(&both, &key(nato, "log")?, CHANNEL, &nato.party)?;
    let mut w_russia = FeedWriter::open(&both, &key(russia, "log")?, CHANNEL, &russia.party)?;
    let (by_russia, by_nato) = ([receipt(russia)?], [receipt(nato)?]);
    let (mut written, mut met, mut i) = (0u64, 0u64, 0u64);
    let mut shown = Instant::now();
    while written < entries {
        let n = BATCH.min(entries - written);
        let items: Vec<Item> = (0..n)
            .map(|j| {
                i += 1;
                let mut it = routine(i);
                if j % 10 == 0 {
                    it.body["priority"] = json!("immediate");
                }
                it
            })
            .collect();
        let hashes = w_nato.append_items(items, &by_russia)?;
        written += n;
        let to_ack: Vec<Hash> = hashes.iter().step_by(10).copied().collect();
        let m = BATCH.min(entries.saturating_sub(written));
        if m == 0 {
            break;
        }
        let acks = to_ack.len().min(m as usize);
        let items: Vec<Item> = (0..m as usize)
            .map(|j| {
                i += 1;
                match to_ack.get(j).filter(|_| j < acks) {
                    Some(h) => Item {
                        kind: "acknowledgement".into(),
                        refs: vec![*h],
                        body: json!({"by": "Duty officer"}),
                    },
                    None => routine(i),
                }
            })
            .collect();
        w_russia.append_items(items, &by_nato)?;
        met += acks as u64;
        written += m;
        if shown.elapsed() > Duration::from_secs(5) {
            say(format!("      written {written} of {entries} entries"));
            shown = Instant::now();
        }
    }
    // Both nodes hold everything: nothing is owed to the other on restart.
    for (s, (me, other)) in stores.iter().zip([(nato, russia), (russia, nato)]) {
        let feed = FeedId::new(CHANNEL, &me.party);
        let size = s.feed_head(&feed)?.map_or(0, |h| h.size);
        s.set_delivered(&other.party, &feed, DeliveryRole::Push, size)?;
        let last = s
            .cosignatures_stored_after(&feed, 0, u64::MAX)?
            .last()
            .map_or(0, |(p, _)| *p);
        s.set_delivered(&other.party, &feed, DeliveryRole::Shared, last)?;
    }
    Ok(met)
}

/// A signed-in console session.
struct Console {
    base: String,
    cookie: String,
    http: reqwest::Client,
}

impl Console {
    async fn sign_in(n: &BenchNode) -> anyhow::Result<Console> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let base = format!("http://127.0.0.1:{}", n.port);
        let r = http
            .post(format!("{base}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=duty&password=history+bench+passphrase")
            .send()
            .await?;
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .context("signing in to the console: no session")?
            .to_string();
        Ok(Console { base, cookie, http })
    }

    /// Fetches a page; returns its size.
    async fn get(&self, path: &str) -> anyhow::Result<usize> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await?;
        let status = r.status();
        let body = r.bytes().await?;
        if !status.is_success() {
            anyhow::bail!("console {path}: {status}");
        }
        Ok(body.len())
    }
}

async fn time_page(c: &Console, path: &str, samples: usize) -> anyhow::Result<Timing> {
    let mut ms = Vec::with_capacity(samples);
    let mut bytes = 0;
    for _ in 0..samples {
        let t = Instant::now();
        bytes = c.get(path).await?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(timing(&format!("console {path}"), ms, bytes))
}

async fn time_api(
    client: &reqwest::Client,
    n: &BenchNode,
    label: &str,
    path: &str,
    samples: usize,
) -> anyhow::Result<Timing> {
    let mut ms = Vec::with_capacity(samples);
    let mut bytes = 0;
    for _ in 0..samples {
        let t = Instant::now();
        let v = api(client, n, "GET", path, None).await?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        bytes = v.to_string().len();
    }
    Ok(timing(label, ms, bytes))
}

/// NATO sends an immediate message; once Russia holds it, Russia
/// acknowledges; the time from that acknowledgement's send to NATO's board
/// showing the obligation met (Russia's node stores it, pushes it, NATO
/// stores it with Russia's signed checkpoint and sends its receipt, and the
/// board folds it in).
async fn answer_to_board(
    client: &reqwest::Client,
    nato: &BenchNode,
    russia: &BenchNode,
    rounds: usize,
) -> anyhow::Result<Timing> {
    let mut ms = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let sent = api(client, nato, "POST", "/entries", Some(json!({
            "channel": CHANNEL, "kind": "hotline_message",
            "body": {"priority": "immediate", "text": {"en": format!("Round {i}: please acknowledge.")}}
        })))
        .await?;
        let seq = sent["seq"].as_u64().context("send")?;
        let id = format!("{CHANNEL}/{}/{seq}", nato.party);
        wait_for("russia to hold the message", 60, async || {
            api(client, russia, "GET", &format!("/entries/{id}"), None)
                .await
                .is_ok()
        })
        .await?;
        let t = Instant::now();
        api(
            client,
            russia,
            "POST",
            "/entries",
            Some(json!({
                "channel": CHANNEL, "kind": "acknowledgement", "refs": [id],
                "body": {"by": "Duty officer"}
            })),
        )
        .await?;
        let want = format!("{id}#immediate-acknowledgement#{}", russia.party);
        let mut met = false;
        while t.elapsed() < Duration::from_secs(60) {
            let v: Value =
                api(client, nato, "GET", "/obligations?party=russia&met=5", None).await?;
            met = v["obligations"].as_array().into_iter().flatten().any(|o| {
                o["id"] == json!(want) && o["status"].as_str().is_some_and(|s| s.starts_with("met"))
            });
            if met {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        anyhow::ensure!(met, "{want} was not shown met within 60 s");
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(timing(
        "acknowledgement sent at russia → nato's board shows it met",
        ms,
        0,
    ))
}

async fn measure(
    root: &Path,
    a: &BenchHistoryArgs,
    urls: [Option<&str>; 2],
    say: &dyn Fn(String),
) -> anyhow::Result<Report> {
    let began = Instant::now();
    let client = reqwest::Client::new();
    let nato = init_on(root, "nato", urls[0])?;
    let russia = init_on(root, "russia", urls[1])?;
    pin_all(&[&nato, &russia])?;
    run(&[
        "user",
        "add",
        "--dir",
        nato.dir.to_str().unwrap_or_default(),
        "--name",
        "duty",
        "--role",
        "duty_officer",
        "--password",
        "history bench passphrase",
    ])?;
    {
        let (n, _) = start(&client, &nato).await?;
        let (r, _) = start(&client, &russia).await?;
        open_channel(&client, &nato, &[&russia], CHANNEL, None).await?;
        // Both hold both feeds' first entries before they stop.
        tokio::time::sleep(Duration::from_millis(500)).await;
        r.stop();
        n.stop();
    }
    say(format!(
        "      writing {} entries into both stores",
        a.entries
    ));
    let w = Instant::now();
    let met = tokio::task::block_in_place(|| write_history(&nato, &russia, a.entries, say))?;
    let write_seconds = w.elapsed().as_secs_f64();

    say("      starting nato on that history".into());
    let t = Instant::now();
    let (served, startup) = start(&client, &nato).await?;
    wait_for("nato to read its history", 1800, async || {
        api(&client, &nato, "GET", "/status", None)
            .await
            .is_ok_and(|v| v["ledger"]["ready"] == json!(true))
    })
    .await?;
    let ready = t.elapsed();
    let console = Console::sign_in(&nato).await?;
    let p = Instant::now();
    console.get("/inbox").await?;
    let first_page = p.elapsed();
    let rss = rss_bytes(served.pid());
    let (_russia_served, _) = start(&client, &russia).await?;

    say("      timing every console page and the API".into());
    let n = a.samples;
    let last = nato_middle_seq(&client, &nato).await?;
    let mut pages = Vec::new();
    for path in [
        "/inbox".to_string(),
        "/inbox?page=50".into(),
        format!("/inbox?channel={CHANNEL}"),
        format!("/timeline?channel={CHANNEL}"),
        format!("/timeline?channel={CHANNEL}&page=0"),
        "/obligations".into(),
        "/silence".into(),
        "/exercises".into(),
        "/meetings".into(),
        "/negotiations".into(),
        "/links".into(),
        format!("/entry/{CHANNEL}/nato/{last}"),
        "/compose".into(),
    ] {
        pages.push(time_page(&console, &path, n).await?);
    }
    pages.push(
        time_api(
            &client,
            &nato,
            "api /obligations (parley obligations)",
            "/obligations",
            n,
        )
        .await?,
    );
    pages.push(
        time_api(
            &client,
            &nato,
            "api /silence (parley silence)",
            "/silence",
            n,
        )
        .await?,
    );
    pages.push(
        time_api(
            &client,
            &nato,
            "api /timeline (parley timeline, 1,000 rows)",
            &format!("/timeline?channel={CHANNEL}"),
            n,
        )
        .await?,
    );
    say("      acknowledgement → board".into());
    let board = answer_to_board(&client, &nato, &russia, a.rounds).await?;
    Ok(Report {
        backend: if urls[0].is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        entries: a.entries,
        obligations_met: met,
        write_seconds,
        startup_seconds: startup.as_secs_f64(),
        ledger_ready_seconds: ready.as_secs_f64(),
        first_page_seconds: first_page.as_secs_f64(),
        rss_bytes: rss,
        pages,
        answer_to_board: board,
        goal_ms: PAGE_GOAL_MS,
        secs: began.elapsed().as_secs_f64(),
    })
}

async fn nato_middle_seq(client: &reqwest::Client, nato: &BenchNode) -> anyhow::Result<u64> {
    let v = api(
        client,
        nato,
        "GET",
        &format!("/timeline?channel={CHANNEL}&limit=1"),
        None,
    )
    .await?;
    // NATO wrote about half of the history: an entry from its middle.
    Ok(v["total"].as_u64().unwrap_or(4) / 4)
}

pub(crate) fn history(a: BenchHistoryArgs) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let databases = if a.postgres {
        let server = parley_store::throwaway::ThrowawayDatabase::server().context(
            "--postgres needs a server: set PGHOST (run inside pg_virtualenv) or PARLEY_TEST_PG_URL",
        )?;
        Some([
            parley_store::throwaway::ThrowawayDatabase::create(&server, "history")?,
            parley_store::throwaway::ThrowawayDatabase::create(&server, "history")?,
        ])
    } else {
        None
    };
    let urls = match &databases {
        Some(d) => [Some(d[0].url.as_str()), Some(d[1].url.as_str())],
        None => [None, None],
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let say = |s: String| eprintln!("parley bench: {s}");
    say(format!(
        "history: {} entries on {}",
        a.entries,
        if a.postgres { "PostgreSQL" } else { "SQLite" }
    ));
    let r = rt.block_on(measure(root.path(), &a, urls, &say))?;
    if a.json.json {
        return output::json(&serde_json::to_value(&r)?);
    }
    let mut out = vec![
        format!(
            "history of {} entries on {} ({} obligations met in it): written in {:.0} s",
            r.entries, r.backend, r.obligations_met, r.write_seconds
        ),
        format!(
            "start-up {:.2} s (API answering); history read into the ledger after {:.1} s; first console page then {:.0} ms; resident memory {:.0} MB",
            r.startup_seconds,
            r.ledger_ready_seconds,
            r.first_page_seconds * 1e3,
            r.rss_bytes as f64 / 1e6
        ),
        format!(
            "{:<58} {:>8} {:>8} {:>8} {:>9}  p99 / goal",
            "what", "p50 ms", "p99 ms", "max ms", "bytes"
        ),
    ];
    for t in r.pages.iter().chain(std::iter::once(&r.answer_to_board)) {
        out.push(format!(
            "{:<58} {:>8.1} {:>8.1} {:>8.1} {:>9}  {:.2}",
            t.what,
            t.p50_ms,
            t.p99_ms,
            t.max_ms,
            t.bytes,
            t.p99_ms / r.goal_ms
        ));
    }
    out.push(format!(
        "(goal: every page under {} ms; run took {:.0} s)",
        r.goal_ms, r.secs
    ));
    output::lines(out)
}
