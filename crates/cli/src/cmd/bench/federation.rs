//! `parley bench federation`: just the saturation figure of `parley bench`,
//! for quick comparisons between builds.

use serde_json::json;

use super::network::{Load, run_load};
use super::nodes::{init, open_channel, pin_all, start};
use crate::cli::BenchFederationArgs;
use crate::output;

pub(crate) fn federation(a: BenchFederationArgs) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let r = rt.block_on(async {
        let client = reqwest::Client::new();
        let (nato, russia) = (init(root.path(), "nato")?, init(root.path(), "russia")?);
        pin_all(&[&nato, &russia])?;
        let (_n, _) = start(&client, &nato).await?;
        let (_r, _) = start(&client, &russia).await?;
        open_channel(&client, &nato, &russia, "nato.bench", None).await?;
        run_load(
            &client,
            &nato,
            &russia,
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
            "federation: {} messages, {} concurrent senders, nato → russia, two processes on 127.0.0.1",
            r.messages, a.concurrency
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
