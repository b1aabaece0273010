//! `parley bench members`: how delivery and receipts grow with the number
//! of members of a channel. For each size, that many `parley serve`
//! processes and a witness on 127.0.0.1, one channel holding them all; one
//! member sends, and each message counts as delivered when the last other
//! member's signed receipt is stored at the sender.

use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use serde_json::{Value, json};

use super::network::{Load, run_load};
use super::nodes::{BenchNode, Served, api, init, open_channel, pin_all, rss_bytes, start};
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
    let others: Vec<&BenchNode> = nodes[1..].iter().collect();
    open_channel(client, author, &others, channel, Some(&witness)).await?;
    let setup_s = began.elapsed().as_secs_f64();
    let others: Vec<String> = names[1..].to_vec();
    let offered = run_load(
        client,
        author,
        &others,
        channel,
        Load::Offered {
            per_s: a.rate,
            secs: a.secs,
        },
    )
    .await?;
    let saturation = run_load(
        client,
        author,
        &others,
        channel,
        Load::Closed {
            concurrency: a.concurrency,
            messages: a.messages,
        },
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
