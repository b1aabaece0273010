//! Catch-up of a node that was offline, and the footprint of idle and
//! large nodes.

use std::path::Path;
use std::time::{Duration, Instant};

use parley_log::SigningKey;
use parley_store::SqliteStore;
use serde::Serialize;

use super::feeds::FeedWriter;
use super::nodes::{BenchNode, feed_size, init, open_channel, pin_all, rss_bytes, start};

#[derive(Clone, Debug, Serialize)]
pub(crate) struct CatchUp {
    pub(crate) entries: u64,
    pub(crate) seconds: f64,
    pub(crate) entries_per_s: f64,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Footprint {
    pub(crate) idle_rss_bytes: u64,
    pub(crate) idle_startup_ms: f64,
    pub(crate) large_entries: u64,
    pub(crate) large_rss_bytes: u64,
    pub(crate) large_startup_ms: f64,
    /// From start until its history is read into the ledger.
    pub(crate) large_ledger_ms: f64,
    /// The author's database (entries, tiles, one checkpoint per 1,000).
    pub(crate) author_db_bytes_per_entry: f64,
    /// The receiver's database after catch-up (the same, plus its receipts).
    pub(crate) receiver_db_bytes_per_entry: f64,
}

fn db_bytes(n: &BenchNode) -> u64 {
    ["parley.db", "parley.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(n.dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// Grows `n`'s own feed in `channel` to `size` entries, 1,000 per commit,
/// while the node is stopped.
fn grow(n: &BenchNode, channel: &str, size: u64, say: &dyn Fn(String)) -> anyhow::Result<()> {
    let key = SigningKey::parse(std::fs::read_to_string(n.dir.join("keys/log.key"))?.trim())?;
    let store = SqliteStore::open_unsynced(&n.dir.join("parley.db"))?;
    let mut w = FeedWriter::open(&[&store], &key, channel, &n.party)?;
    let mut shown = Instant::now();
    while w.size() < size {
        w.append(1000.min(size - w.size()), &[])?;
        if shown.elapsed() > Duration::from_secs(5) {
            say(format!(
                "writing {}'s feed: {} of {size} entries",
                n.party,
                w.size()
            ));
            shown = Instant::now();
        }
    }
    Ok(())
}

pub(crate) async fn measure(
    root: &Path,
    client: &reqwest::Client,
    entries: u64,
    large: u64,
    say: &dyn Fn(String),
) -> anyhow::Result<(CatchUp, Footprint)> {
    let (a, b) = (init(root, "nato")?, init(root, "russia")?);
    pin_all(&[&a, &b])?;
    let (sa, idle_start) = start(client, &a).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = rss_bytes(sa.pid());
    let (sb, _) = start(client, &b).await?;
    open_channel(client, &a, &[&b], "nato.catchup", None).await?;
    sb.stop();
    sa.stop();

    say(format!("writing {entries} entries while russia is offline"));
    grow(&a, "nato.catchup", entries, say)?;
    let target = entries;
    let (sa, _) = start(client, &a).await?;
    let t = Instant::now();
    let (sb, _) = start(client, &b).await?;
    let mut shown = Instant::now();
    loop {
        let have = feed_size(client, &b, "nato.catchup", "nato").await;
        if have >= target {
            break;
        }
        if t.elapsed() > Duration::from_secs(1800) {
            anyhow::bail!("russia caught up on only {have} of {target} entries in 30 minutes");
        }
        if shown.elapsed() > Duration::from_secs(5) {
            say(format!("catching up: {have} of {target} entries"));
            shown = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let secs = t.elapsed().as_secs_f64();
    sb.stop();
    sa.stop();
    let receiver_bytes = db_bytes(&b) as f64 / target as f64;

    say(format!("growing nato's feed to {large} entries"));
    grow(&a, "nato.catchup", large, say)?;
    let author_bytes = db_bytes(&a) as f64 / large as f64;
    let t = Instant::now();
    let (sa, large_start) = start(client, &a).await?;
    // Resident memory once the node holds its history in its ledger (it
    // reads it at start, then serves every page from it).
    super::nodes::wait_for("nato to read its history", 1800, async || {
        super::nodes::api(client, &a, "GET", "/status", None)
            .await
            .is_ok_and(|v| v["ledger"]["ready"] == serde_json::json!(true))
    })
    .await?;
    let large_ledger = t.elapsed();
    let large_rss = rss_bytes(sa.pid());
    sa.stop();
    Ok((
        CatchUp {
            entries: target,
            seconds: secs,
            entries_per_s: target as f64 / secs,
        },
        Footprint {
            idle_rss_bytes: idle_rss,
            idle_startup_ms: idle_start.as_secs_f64() * 1000.0,
            large_entries: large,
            large_rss_bytes: large_rss,
            large_startup_ms: large_start.as_secs_f64() * 1000.0,
            large_ledger_ms: large_ledger.as_secs_f64() * 1000.0,
            author_db_bytes_per_entry: author_bytes,
            receiver_db_bytes_per_entry: receiver_bytes,
        },
    ))
}
