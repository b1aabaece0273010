//! `parley bench federation`: just the saturation figure of `parley bench`,
//! for quick comparisons between builds.

use anyhow::Context;
use serde_json::json;

use super::network::{Load, run_load};
use super::nodes::{init_on, open_channel, pin_all, start};
use crate::cli::BenchFederationArgs;
use crate::output;

pub(crate) fn federation(a: BenchFederationArgs) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    // On PostgreSQL: a throwaway database per node, on the server the
    // environment names (PGHOST…, as pg_virtualenv sets, or PARLEY_TEST_PG_URL).
    let databases = if a.postgres {
        let server = parley_store::throwaway::ThrowawayDatabase::server().context(
            "--postgres needs a server: set PGHOST (run inside pg_virtualenv) or PARLEY_TEST_PG_URL",
        )?;
        Some([
            parley_store::throwaway::ThrowawayDatabase::create(&server, "bench")?,
            parley_store::throwaway::ThrowawayDatabase::create(&server, "bench")?,
        ])
    } else {
        None
    };
    let url = |i: usize| databases.as_ref().map(|d| d[i].url.as_str());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let r = rt.block_on(async {
        let client = reqwest::Client::new();
        let (nato, russia) = (
            init_on(root.path(), "nato", url(0))?,
            init_on(root.path(), "russia", url(1))?,
        );
        pin_all(&[&nato, &russia])?;
        let (_n, _) = start(&client, &nato).await?;
        let (_r, _) = start(&client, &russia).await?;
        open_channel(&client, &nato, &[&russia], "nato.bench", None).await?;
        run_load(
            &client,
            &nato,
            std::slice::from_ref(&russia.party),
            "nato.bench",
            Load::Closed {
                concurrency: a.concurrency,
                messages: a.messages,
            },
        )
        .await
    })?;
    if a.keep {
        let kept = root.keep();
        eprintln!(
            "parley: the nodes' directories are kept in {}",
            kept.display()
        );
    }
    if a.json.json {
        return output::json(&json!(r));
    }
    output::lines([
        format!(
            "federation: {} messages, {} concurrent senders, nato → russia, two processes on 127.0.0.1, on {}",
            r.messages,
            a.concurrency,
            if a.postgres { "PostgreSQL" } else { "SQLite" }
        ),
        format!(
            "  sustained:    {:.0} messages/s, from send to stored receipt",
            r.receipted_per_s
        ),
        format!(
            "  send→receipt: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            r.p50_ms, r.p99_ms, r.max_ms
        ),
        "  (`parley bench` measures this beside the machine's bounds and a broker)".to_string(),
    ])
}
