//! The log on its own: appending with tiles written durably, and a full
//! audit of a feed, against the hashing and signature bounds.

use std::path::Path;
use std::time::Instant;

use parley_log::{Role, SigningKey};
use parley_node::audit::{AuditKeys, audit_feed};
use parley_node::keyring::{Keyring, PartyKeys};
use parley_store::{FeedId, SqliteStore, Statement, Store};
use serde::Serialize;

use super::feeds::{Cosigner, FeedWriter};
use super::hardware::Hardware;

#[derive(Clone, Debug, Serialize)]
pub(crate) struct LogFigures {
    /// The storage bound: single-row durable commits (fsync) per second.
    pub(crate) durable_commits_per_s: f64,
    /// The median time of one durable commit made after a pause (as at
    /// low load, when the disk and the cores were idle), in milliseconds.
    pub(crate) idle_commit_p50_ms: f64,
    /// One entry per durable commit, as a node appends one send.
    pub(crate) appends_per_s_one_per_commit: f64,
    pub(crate) one_per_commit_entries: u64,
    /// 1,000 entries per durable commit, as a catch-up batch is stored.
    pub(crate) appends_per_s_batched: f64,
    pub(crate) batched_entries: u64,
    pub(crate) audit_entries: u64,
    pub(crate) audit_signatures: u64,
    pub(crate) audit_entries_per_s: f64,
    /// The cores the audit spreads its checks over.
    pub(crate) audit_cores: u64,
    /// Entries per second if the audit did nothing but its SHA-256 hashing
    /// and strict Ed25519 verifications (one checkpoint and two
    /// cosignatures per entry) on all its cores, at the rates measured in
    /// the same run (verification measured on all cores at once).
    pub(crate) audit_bound_entries_per_s: f64,
    pub(crate) audit_fraction_of_bound: f64,
    /// The same bound with the verifications batched (64 at a time), which
    /// parley does not do: a ceiling, for comparison.
    pub(crate) audit_batch_bound_entries_per_s: f64,
    pub(crate) audit_fraction_of_batch_bound: f64,
    /// The audit's hashing alone, as a fraction of its cores' time.
    pub(crate) audit_hashing_share: f64,
}

/// Commits timed one by one, each after a pause.
const IDLE_COMMITS: u64 = 50;
pub(crate) const IDLE_PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

/// The median of [`IDLE_COMMITS`] single-row durable commits made
/// [`IDLE_PAUSE`] apart: what each of a message's three commits costs at
/// low load. A stream of commits keeps the disk and the cores awake; a
/// commit after a pause (on a virtual machine above all) waits for both
/// to wake, and that, not the commit bound, is the floor of a lone
/// message's latency.
fn idle_commit_p50_ms(store: &SqliteStore, feed: &FeedId, after: u64) -> anyhow::Result<f64> {
    let mut times: Vec<f64> = Vec::new();
    for size in after..after + IDLE_COMMITS {
        std::thread::sleep(IDLE_PAUSE);
        let t = Instant::now();
        commit_one_row(store, feed, size)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(super::network::percentile(&times, 0.5))
}

/// One single-row durable commit: the storage bound's unit.
fn commit_one_row(store: &SqliteStore, feed: &FeedId, size: u64) -> anyhow::Result<()> {
    store.add_cosignature(&parley_store::Cosignature {
        feed: feed.clone(),
        size,
        cosigner: "x".into(),
        statement: parley_store::Statement::Receipt,
        time: 0,
        line: String::new(),
    })?;
    Ok(())
}

fn party(name: &str, seed: u8) -> SigningKey {
    SigningKey::from_seed(name, [seed; 32]).expect("valid name")
}

/// A party's four keys from fixed seeds (the benchmark needs no secrets).
fn keys_of(name: &str, seed: u8) -> PartyKeys {
    let key = |role: Role, n: u8| {
        SigningKey::from_seed(
            &role.key_name(name),
            [seed.wrapping_mul(4).wrapping_add(n); 32],
        )
        .expect("valid name")
    };
    PartyKeys {
        log: key(Role::Log, 0),
        receipt: key(Role::Receipt, 1),
        witness: key(Role::Witness, 2),
        node: key(Role::Node, 3),
    }
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
        commit_one_row(&store, &feed, size)?;
    }
    let commits = one_per_commit as f64 / t.elapsed().as_secs_f64();
    let idle_commit_p50_ms = idle_commit_p50_ms(&store, &feed, one_per_commit)?;
    let mut w = FeedWriter::open(&[&store], &nato, "bench", "nato")?;
    let t = Instant::now();
    for _ in 0..one_per_commit {
        w.append(1, &[])?;
    }
    let single = one_per_commit as f64 / t.elapsed().as_secs_f64();
    let mut w = FeedWriter::open(&[&store], &nato, "batched", "nato")?;
    let t = Instant::now();
    while w.size() < batched {
        w.append(1000.min(batched - w.size()), &[])?;
    }
    let batch = batched as f64 / t.elapsed().as_secs_f64();

    // A feed as a node writes it under one-at-a-time sends: a checkpoint
    // per entry, with the other member's receipt and a witness cosignature.
    let (russia, osce) = (keys_of("russia", 2), keys_of("osce", 3));
    let cosigners = [
        Cosigner {
            party: "russia".into(),
            key: russia.receipt.clone(),
            statement: Statement::Receipt,
        },
        Cosigner {
            party: "osce".into(),
            key: osce.witness.clone(),
            statement: Statement::Witness,
        },
    ];
    let store = SqliteStore::open_unsynced(&dir.join("audit.db"))?;
    let mut w = FeedWriter::open(&[&store], &nato, "audit", "nato")?;
    for _ in 0..audit {
        w.append(1, &cosigners)?;
    }
    drop(w);
    let nato_keys = PartyKeys {
        log: nato.clone(),
        ..keys_of("nato", 1)
    };
    let keys = AuditKeys::from_identities(
        [("nato", nato_keys), ("russia", russia), ("osce", osce)]
            .into_iter()
            .map(|(p, k)| {
                Keyring::new(p, k)
                    .expect("distinct keys")
                    .identity()
                    .clone()
            }),
    );
    let t = Instant::now();
    let report = audit_feed(&store, &FeedId::new("audit", "nato"), &keys)
        .map_err(|e| anyhow::anyhow!("the benchmark feed fails its audit: {e}"))?;
    let secs = t.elapsed().as_secs_f64();
    let signatures = report.checkpoints + report.cosignatures;
    let hashing = audit as f64 / hw.entry_hashes_per_s + audit as f64 / hw.node_hashes_per_s;
    // The audit spreads its checks over every core (`parallel::map`): its
    // bound is the verification rate of all cores at once, and the batch
    // ceiling the one-core batch rate on each core.
    let cores = hw.cores as f64;
    let verifying = signatures as f64 / hw.ed25519_verifies_all_cores_per_s;
    let verifying_batched = signatures as f64 / (cores * hw.ed25519_batch_verifies_per_s);
    let bound = audit as f64 / (hashing / cores + verifying);
    let batch_bound = audit as f64 / (hashing / cores + verifying_batched);
    let rate = audit as f64 / secs;
    Ok(LogFigures {
        durable_commits_per_s: commits,
        idle_commit_p50_ms,
        appends_per_s_one_per_commit: single,
        one_per_commit_entries: one_per_commit,
        appends_per_s_batched: batch,
        batched_entries: batched,
        audit_entries: report.entries,
        audit_signatures: signatures,
        audit_entries_per_s: rate,
        audit_cores: cores as u64,
        audit_bound_entries_per_s: bound,
        audit_fraction_of_bound: rate / bound,
        audit_batch_bound_entries_per_s: batch_bound,
        audit_fraction_of_batch_bound: rate / batch_bound,
        audit_hashing_share: hashing / (secs * cores),
    })
}
