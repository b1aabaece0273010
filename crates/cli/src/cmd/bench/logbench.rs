//! The log on its own: appending with tiles written durably, and a full
//! audit of a feed, against the hashing and signature bounds.

use std::path::Path;
use std::time::Instant;

use parley_log::SigningKey;
use parley_node::audit::{AuditKeys, audit_feed};
use parley_store::{FeedId, SqliteStore, Store};
use serde::Serialize;

use super::feeds::FeedWriter;
use super::hardware::Hardware;

#[derive(Clone, Debug, Serialize)]
pub(crate) struct LogFigures {
    /// The storage bound: single-row durable commits (fsync) per second.
    pub(crate) durable_commits_per_s: f64,
    /// One entry per durable commit, as a node appends one send.
    pub(crate) appends_per_s_one_per_commit: f64,
    pub(crate) one_per_commit_entries: u64,
    /// 1,000 entries per durable commit, as a catch-up batch is stored.
    pub(crate) appends_per_s_batched: f64,
    pub(crate) batched_entries: u64,
    pub(crate) audit_entries: u64,
    pub(crate) audit_signatures: u64,
    pub(crate) audit_entries_per_s: f64,
    /// Entries per second if the audit did nothing but its SHA-256 hashing
    /// and Ed25519 verifications (one checkpoint and two cosignatures per
    /// entry), at the bounds measured in the same run.
    pub(crate) audit_bound_entries_per_s: f64,
    pub(crate) audit_fraction_of_bound: f64,
    /// The audit's hashing alone, as a fraction of its time.
    pub(crate) audit_hashing_share: f64,
}

fn party(name: &str, seed: u8) -> SigningKey {
    SigningKey::from_seed(name, [seed; 32]).expect("valid name")
}

pub(crate) fn measure(
    dir: &Path,
    hw: &Hardware,
    one_per_commit: u64,
    batched: u64,
    audit: u64,
) -> anyhow::Result<LogFigures> {
    let nato = party("nato", 1);
    let store = SqliteStore::open(&dir.join("append.db"))?;
    let feed = FeedId::new("baseline", "nato");
    let t = Instant::now();
    for size in 0..one_per_commit {
        store.add_cosignature(&parley_store::Cosignature {
            feed: feed.clone(),
            size,
            cosigner: "x".into(),
            time: 0,
            line: String::new(),
        })?;
    }
    let commits = one_per_commit as f64 / t.elapsed().as_secs_f64();
    let mut w = FeedWriter::open(&store, &nato, "bench", "nato")?;
    let t = Instant::now();
    for _ in 0..one_per_commit {
        w.append(1, &[])?;
    }
    let single = one_per_commit as f64 / t.elapsed().as_secs_f64();
    let mut w = FeedWriter::open(&store, &nato, "batched", "nato")?;
    let t = Instant::now();
    while w.size() < batched {
        w.append(1000.min(batched - w.size()), &[])?;
    }
    let batch = batched as f64 / t.elapsed().as_secs_f64();

    // A feed as a node writes it under one-at-a-time sends: a checkpoint
    // per entry, each cosigned by the two other members.
    let (russia, osce) = (party("russia", 2), party("osce", 3));
    let store = SqliteStore::open_unsynced(&dir.join("audit.db"))?;
    let mut w = FeedWriter::open(&store, &nato, "audit", "nato")?;
    for _ in 0..audit {
        w.append(1, &[russia.clone(), osce.clone()])?;
    }
    drop(w);
    let keys = AuditKeys::from_keys([nato.verifier(), russia.verifier(), osce.verifier()]);
    let t = Instant::now();
    let report = audit_feed(&store, &FeedId::new("audit", "nato"), &keys)
        .map_err(|e| anyhow::anyhow!("the benchmark feed fails its audit: {e}"))?;
    let secs = t.elapsed().as_secs_f64();
    let signatures = report.checkpoints + report.cosignatures;
    let hashing = audit as f64 / hw.entry_hashes_per_s + audit as f64 / hw.node_hashes_per_s;
    let verifying = signatures as f64 / hw.ed25519_verifies_per_s;
    let bound = audit as f64 / (hashing + verifying);
    let rate = audit as f64 / secs;
    Ok(LogFigures {
        durable_commits_per_s: commits,
        appends_per_s_one_per_commit: single,
        one_per_commit_entries: one_per_commit,
        appends_per_s_batched: batch,
        batched_entries: batched,
        audit_entries: report.entries,
        audit_signatures: signatures,
        audit_entries_per_s: rate,
        audit_bound_entries_per_s: bound,
        audit_fraction_of_bound: rate / bound,
        audit_hashing_share: hashing / secs,
    })
}
