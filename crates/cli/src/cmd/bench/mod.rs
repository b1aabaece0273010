//! `parley bench`: one run, on the machine it runs on, of everything that
//! bounds a parley deployment — the hardware's hashing and signature
//! speed, the log alone, two and three real nodes on loopback, catch-up,
//! footprint, and a broker a user might pick instead — each figure beside
//! a baseline measured in the same run.

mod catchup;
mod federation;
mod feeds;
mod hardware;
mod history;
mod logbench;
mod matrix;
mod members;
mod nats;
mod network;
mod nodes;
mod venv;

use std::time::Instant;

use serde_json::json;

use crate::cli::{BenchArgs, BenchCommand};
use crate::output;
use network::{Load, LoadResult, listen_arrivals, run_load_timed};
use nodes::{init, open_channel, pin_all, start};

/// The sizes of one run.
struct Sizes {
    hardware_secs: f64,
    append: u64,
    batched: u64,
    audit: u64,
    loads: Vec<f64>,
    load_secs: f64,
    saturation: u64,
    concurrency: u64,
    catchup: u64,
    footprint: u64,
}

impl Sizes {
    fn of(a: &BenchArgs) -> Sizes {
        let q = a.quick;
        let pick =
            |v: Option<u64>, full: u64, quick: u64| v.unwrap_or(if q { quick } else { full });
        Sizes {
            hardware_secs: a.hardware_secs.unwrap_or(if q { 0.2 } else { 0.5 }),
            append: pick(a.append_entries, 2_000, 300),
            batched: pick(a.batched_entries, 100_000, 10_000),
            audit: pick(a.audit_entries, 30_000, 3_000),
            loads: a.loads.clone().unwrap_or_else(|| vec![10.0, 100.0, 1000.0]),
            load_secs: a.load_secs.unwrap_or(if q { 1.5 } else { 4.0 }),
            saturation: pick(a.saturation_messages, 2_000, 400),
            concurrency: a.concurrency,
            catchup: pick(a.catchup_entries, 100_000, 10_000),
            footprint: pick(a.footprint_entries, 1_000_000, 100_000),
        }
    }

    /// Matrix at 1, 10 and 100 msg/s offered (those of parley's loads up
    /// to 100, and 1) and at saturation.
    fn matrix_loads(&self) -> Vec<Load> {
        let mut rates: Vec<f64> = std::iter::once(1.0)
            .chain(self.loads.iter().copied().filter(|r| *r <= 100.0))
            .collect();
        rates.dedup();
        Load::series(
            &rates,
            self.load_secs,
            self.concurrency,
            self.saturation.min(400),
        )
    }

    fn loads(&self) -> Vec<Load> {
        Load::series(
            &self.loads,
            self.load_secs,
            self.concurrency,
            self.saturation,
        )
    }
}

fn say(step: &str) {
    eprintln!("parley bench: {step}");
}

pub(crate) fn run(a: BenchArgs) -> anyhow::Result<()> {
    match a.command {
        Some(BenchCommand::Federation(f)) => return federation::federation(f),
        Some(BenchCommand::Members(m)) => return members::members(m),
        Some(BenchCommand::History(h)) => return history::history(h),
        Some(BenchCommand::Matrix(m)) => return matrix::bench(m),
        None => {}
    }
    let sizes = Sizes::of(&a);
    let began = Instant::now();
    let root = tempfile::tempdir()?;

    say("[1/6] hardware bounds: SHA-256 and Ed25519 on one core");
    let hw = hardware::measure(sizes.hardware_secs);
    say(&format!(
        "[2/6] the log: {} appends one per commit, {} batched, an audit of {} entries",
        sizes.append, sizes.batched, sizes.audit
    ));
    let log = logbench::measure(root.path(), &hw, sizes.append, sizes.batched, sizes.audit)?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::new();
    say("[3/6] network: two nodes on 127.0.0.1, then with a witness");
    let (direct, witnessed) = rt.block_on(network_runs(root.path(), &client, &sizes))?;
    say(&format!(
        "[4/6] catch-up of {} entries and footprint of {} entries",
        sizes.catchup, sizes.footprint
    ));
    let (catch, foot) = rt.block_on(catchup::measure(
        &root.path().join("catchup"),
        &client,
        sizes.catchup,
        sizes.footprint,
        &|s| say(&format!("      {s}")),
    ))?;
    say(
        "[5/6] peers: NATS JetStream on 127.0.0.1 (default and sync_interval: always), then Matrix",
    );
    let peers = if a.no_peer {
        vec![nats::Peer::Missing {
            note: "skipped (--no-peer)".into(),
        }]
    } else {
        rt.block_on(nats::measure(root.path(), &sizes.loads(), &|s| say(&s)))?
    };
    say("      Matrix: two Synapse homeservers federating over TLS");
    let matrix = if a.no_peer {
        matrix::Peer::Missing {
            note: "skipped (--no-peer)".into(),
        }
    } else {
        rt.block_on(matrix::measure(root.path(), &sizes.matrix_loads(), &|s| {
            say(&s)
        }))
    };
    say("[6/6] done");
    let secs = began.elapsed().as_secs_f64();
    let report = Report {
        hw,
        log,
        direct,
        witnessed,
        catch,
        foot,
        peers,
        matrix,
        secs,
        quick: a.quick,
    };
    if a.json.json {
        return output::json(&report.json());
    }
    output::lines(report.text())
}

async fn network_runs(
    root: &std::path::Path,
    client: &reqwest::Client,
    sizes: &Sizes,
) -> anyhow::Result<(Vec<LoadResult>, Vec<LoadResult>)> {
    let root = root.join("network");
    std::fs::create_dir_all(&root)?;
    let (nato, russia, osce) = (
        init(&root, "nato")?,
        init(&root, "russia")?,
        init(&root, "osce")?,
    );
    pin_all(&[&nato, &russia, &osce])?;
    let (n, _) = start(client, &nato).await?;
    let (r, _) = start(client, &russia).await?;
    let (o, _) = start(client, &osce).await?;
    let processes = [
        ("nato", Some(n.pid())),
        ("russia", Some(r.pid())),
        ("osce", Some(o.pid())),
        ("bench", None),
    ];
    let cpu = || processes.map(|(_, pid)| nodes::cpu_secs(pid));
    open_channel(client, &nato, &[&russia], "nato.direct", None).await?;
    open_channel(client, &nato, &[&russia], "nato.witnessed", Some(&osce)).await?;
    let mut direct = Vec::new();
    let mut witnessed = Vec::new();
    for (channel, out) in [
        ("nato.direct", &mut direct),
        ("nato.witnessed", &mut witnessed),
    ] {
        let (arrivals, listener) = listen_arrivals(client, &russia, channel, &nato.party).await?;
        for load in sizes.loads() {
            say(&format!("      {channel}: {load:?}"));
            let before = cpu();
            let mut result = run_load_timed(
                client,
                &nato,
                std::slice::from_ref(&russia.party),
                channel,
                load,
                Some(&arrivals),
            )
            .await?;
            let after = cpu();
            let per_message = 1e6 / (result.messages.max(1) as f64);
            result.cpu_us_per_message = Some(
                processes
                    .iter()
                    .zip(before.iter().zip(after))
                    .map(|((name, _), (b, a))| (name.to_string(), (a - b) * per_message))
                    .collect(),
            );
            out.push(result);
        }
        listener.abort();
    }
    Ok((direct, witnessed))
}

struct Report {
    hw: hardware::Hardware,
    log: logbench::LogFigures,
    direct: Vec<LoadResult>,
    witnessed: Vec<LoadResult>,
    catch: catchup::CatchUp,
    foot: catchup::Footprint,
    peers: Vec<nats::Peer>,
    matrix: matrix::Peer,
    secs: f64,
    quick: bool,
}

fn group(n: f64) -> String {
    let s = format!("{:.0}", n);
    let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}

impl Report {
    fn json(&self) -> serde_json::Value {
        json!({
            "quick": self.quick,
            "seconds": self.secs,
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "hardware": self.hw,
            "log": self.log,
            "network": {"direct": self.direct, "with_witness": self.witnessed},
            "catch_up": self.catch,
            "footprint": self.foot,
            "peers": self.peers,
            "matrix": self.matrix,
        })
    }

    /// Where the CPU went at saturation, and the throughput the machine's
    /// cores would allow at that cost.
    fn cpu_line(rows: &[LoadResult], out: &mut Vec<String>) {
        let Some((load, cpu)) = rows
            .iter()
            .rev()
            .find_map(|r| Some((r, r.cpu_us_per_message.as_ref()?)))
        else {
            return;
        };
        let total: f64 = cpu.values().sum();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let parts: Vec<String> = cpu
            .iter()
            .filter(|(_, us)| **us > 0.0)
            .map(|(name, us)| format!("{name} {us:.0}"))
            .collect();
        out.push(format!(
            "  CPU per message at {}: {} µs = {:.0} µs; {} cores allow {} msg/s at that cost ({:.2} of it reached)",
            load.load,
            parts.join(", "),
            total,
            cores,
            group(cores * 1e6 / total.max(1e-9)),
            load.receipted_per_s * total / (cores * 1e6)
        ));
    }

    fn loads_table(rows: &[LoadResult], out: &mut Vec<String>) {
        out.push(format!(
            "  {:<28} {:>12} {:>9} {:>9} {:>9}",
            "load", "receipted/s", "p50 ms", "p99 ms", "max ms"
        ));
        for r in rows {
            out.push(format!(
                "  {:<28} {:>12} {:>9.1} {:>9.1} {:>9.1}",
                r.load,
                group(r.receipted_per_s),
                r.p50_ms,
                r.p99_ms,
                r.max_ms
            ));
        }
    }

    fn text(&self) -> Vec<String> {
        let (hw, log) = (&self.hw, &self.log);
        let mut out = vec![
            format!(
                "parley bench{}: one run on this machine ({} cores), {:.0} s",
                if self.quick { " --quick" } else { "" },
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1),
                self.secs
            ),
            String::new(),
            "hardware (one core unless said, through the code parley uses)".into(),
            format!(
                "  SHA-256                             {:>12} MB/s",
                group(hw.sha256_mb_per_s)
            ),
            format!(
                "  RFC 9162 node hash                  {:>12} /s",
                group(hw.node_hashes_per_s)
            ),
            format!(
                "  leaf hash of a 400-byte entry       {:>12} /s",
                group(hw.entry_hashes_per_s)
            ),
            format!(
                "  Ed25519 sign                        {:>12} /s",
                group(hw.ed25519_signs_per_s)
            ),
            format!(
                "  Ed25519 verify                      {:>12} /s",
                group(hw.ed25519_verifies_per_s)
            ),
            format!(
                "  Ed25519 verify, batches of 64       {:>12} /s   (cofactored: parley verifies each strictly)",
                group(hw.ed25519_batch_verifies_per_s)
            ),
            format!(
                "  Ed25519 verify, on all {} cores      {:>12} /s   ({:.2} of {} times one core)",
                hw.cores,
                group(hw.ed25519_verifies_all_cores_per_s),
                hw.ed25519_verifies_all_cores_per_s / (hw.cores as f64 * hw.ed25519_verifies_per_s),
                hw.cores
            ),
            String::new(),
            "log (SQLite, tiles written in the same durable commit)".into(),
            format!(
                "  durable commit of one row (fsync)   {:>12} /s   (the storage bound: {:.2} ms each)",
                group(log.durable_commits_per_s),
                1000.0 / log.durable_commits_per_s
            ),
            format!(
                "  the same commit after {:>2} ms idle     {:>12.2} ms   (median; a lone message waits for three of these)",
                logbench::IDLE_PAUSE.as_millis(),
                log.idle_commit_p50_ms
            ),
            format!(
                "  append, one entry per commit        {:>12} entries/s   ({} entries; {:.2} of the commit bound)",
                group(log.appends_per_s_one_per_commit),
                group(log.one_per_commit_entries as f64),
                log.appends_per_s_one_per_commit / log.durable_commits_per_s
            ),
            format!(
                "  append, 1,000 entries per commit    {:>12} entries/s   ({} entries)",
                group(log.appends_per_s_batched),
                group(log.batched_entries as f64)
            ),
            format!(
                "  full audit of a feed                {:>12} entries/s   ({} entries, {} signatures, on {} cores)",
                group(log.audit_entries_per_s),
                group(log.audit_entries as f64),
                group(log.audit_signatures as f64),
                log.audit_cores
            ),
            format!(
                "    = {:.2} of the bound set by its hashing and strict Ed25519 verifies on {} cores ({} entries/s); hashing is {:.1}% of it",
                log.audit_fraction_of_bound,
                log.audit_cores,
                group(log.audit_bound_entries_per_s),
                log.audit_hashing_share * 100.0
            ),
            format!(
                "    = {:.2} of the ceiling if the verifies were batched ({} entries/s; not done: a batch accepts signatures RFC 8032's and Go's verifiers reject)",
                log.audit_fraction_of_batch_bound,
                group(log.audit_batch_bound_entries_per_s),
            ),
            String::new(),
            "network: nato → russia, send → russia's signed receipt stored at nato".into(),
            format!(
                "  (each message is three durable commits in a row: nato's append, russia's copy, nato's receipt: {:.1} ms at the commit bound, {:.1} ms after idle)",
                3000.0 / log.durable_commits_per_s,
                3.0 * log.idle_commit_p50_ms
            ),
        ];
        Report::loads_table(&self.direct, &mut out);
        Report::cpu_line(&self.direct, &mut out);
        out.push("  with an OSCE witness in the channel:".into());
        Report::loads_table(&self.witnessed, &mut out);
        Report::cpu_line(&self.witnessed, &mut out);
        out.extend([
            String::new(),
            "catch-up".into(),
            format!(
                "  {} entries to a node that was offline: {:.1} s ({} entries/s)",
                group(self.catch.entries as f64),
                self.catch.seconds,
                group(self.catch.entries_per_s)
            ),
            String::new(),
            "footprint".into(),
            format!(
                "  idle node: {} resident, starts in {:.0} ms",
                mib(self.foot.idle_rss_bytes),
                self.foot.idle_startup_ms
            ),
            format!(
                "  node holding {} entries: answers in {:.0} ms; {} resident once it has read them into its ledger ({:.1} s)",
                group(self.foot.large_entries as f64),
                self.foot.large_startup_ms,
                mib(self.foot.large_rss_bytes),
                self.foot.large_ledger_ms / 1000.0
            ),
            format!(
                "  database: {:.0} bytes per entry at the author, {:.0} at the receiver",
                self.foot.author_db_bytes_per_entry, self.foot.receiver_db_bytes_per_entry
            ),
            String::new(),
        ]);
        for peer in &self.peers {
            out.extend(self.peer_text(peer));
        }
        out.extend(self.matrix_text());
        out
    }

    /// Matrix's delivery beside parley's send → the receiving node's event
    /// stream, at the loads both ran.
    fn matrix_text(&self) -> Vec<String> {
        let parley_at = |load: &str| {
            self.direct
                .iter()
                .find(|p| p.load == load)
                .map(|p| (p, p.at_receiver.clone()))
        };
        let mut out = matrix::text(&self.matrix, |load| {
            let (_, at) = parley_at(&load.load)?;
            let at = at?;
            Some(format!(
                "{:>11.1} {:>10.0}×",
                at.p50_ms,
                load.p50_ms / at.p50_ms.max(1e-6)
            ))
        });
        if let matrix::Peer::Measured { loads, .. } = &self.matrix
            && let Some(sat) = loads
                .iter()
                .find(|l| l.result.load.starts_with("saturation"))
            && let Some((p, _)) = parley_at(&sat.result.load)
        {
            out.insert(
                out.len() - 1,
                format!(
                    "  at saturation parley receipts {} msg/s = {:.0}× Matrix's {} delivered/s",
                    group(p.receipted_per_s),
                    p.receipted_per_s / sat.result.receipted_per_s.max(1e-6),
                    group(sat.result.receipted_per_s)
                ),
            );
        }
        out
    }

    /// One peer's table beside parley's direct figures, as ratios.
    fn peer_text(&self, peer: &nats::Peer) -> Vec<String> {
        let mut out = Vec::new();
        match peer {
            nats::Peer::Missing { note } => out.push(format!("peer: {note}")),
            nats::Peer::Measured {
                version,
                setup,
                durability,
                loads,
            } => {
                out.push(format!(
                    "peer: {version} ({setup}), JetStream publish → PubAck on 127.0.0.1"
                ));
                out.push(format!(
                    "  {:<28} {:>12} {:>9} {:>9} {:>9} {:>16}",
                    "load", "acked/s", "p50 ms", "p99 ms", "max ms", "parley p50 ÷ it"
                ));
                for (n, p) in loads.iter().zip(&self.direct) {
                    out.push(format!(
                        "  {:<28} {:>12} {:>9.2} {:>9.2} {:>9.2} {:>15.1}×",
                        n.load,
                        group(n.receipted_per_s),
                        n.p50_ms,
                        n.p99_ms,
                        n.max_ms,
                        p.p50_ms / n.p50_ms.max(1e-6)
                    ));
                }
                if let (Some(n), Some(p)) = (loads.last(), self.direct.last()) {
                    out.push(format!(
                        "  at saturation parley receipts {} msg/s = {:.2} of its {} acked/s",
                        group(p.receipted_per_s),
                        p.receipted_per_s / n.receipted_per_s.max(1e-6),
                        group(n.receipted_per_s)
                    ));
                }
                out.push(format!("  durability: {durability}"));
            }
        }
        out.push(String::new());
        out
    }
}
