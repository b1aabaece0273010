//! The node's ledger: every entry it holds with the delivery times its
//! receipts prove, built from the store and cached until the next event.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parley_domain::ledger::{Known, Ledger};
use parley_log::{Entry, Timestamp};
use parley_store::{Cosignature, Statement, StoreError};

use crate::state::Node;

/// For each cosigner, the earliest receipt time covering each sequence
/// number of one feed: receipts sorted by size, with suffix minima.
struct Receipts {
    /// cosigner → (sizes ascending, earliest time at or after each index).
    by_cosigner: HashMap<String, (Vec<u64>, Vec<i64>)>,
}

impl Receipts {
    fn new(cosigs: &[&Cosignature]) -> Receipts {
        let mut grouped: HashMap<String, Vec<(u64, i64)>> = HashMap::new();
        for c in cosigs {
            grouped
                .entry(c.cosigner.clone())
                .or_default()
                .push((c.size, c.time));
        }
        let by_cosigner = grouped
            .into_iter()
            .map(|(who, mut v)| {
                v.sort_unstable();
                let sizes: Vec<u64> = v.iter().map(|x| x.0).collect();
                let mut mins = vec![i64::MAX; v.len()];
                let mut m = i64::MAX;
                for i in (0..v.len()).rev() {
                    m = m.min(v[i].1);
                    mins[i] = m;
                }
                (who, (sizes, mins))
            })
            .collect();
        Receipts { by_cosigner }
    }

    /// Each cosigner's earliest receipt covering entry `seq`.
    fn covering(&self, seq: u64) -> BTreeMap<String, Timestamp> {
        self.by_cosigner
            .iter()
            .filter_map(|(who, (sizes, mins))| {
                let i = sizes.partition_point(|&s| s <= seq);
                (i < sizes.len())
                    .then(|| (who.clone(), Timestamp::from_unix(mins[i])))
                    .and_then(|(w, t)| Some((w, t?)))
            })
            .collect()
    }
}

/// Builds the ledger from the store.
pub async fn build(node: &Arc<Node>) -> Result<Ledger, StoreError> {
    let (entries, cosigs) = node
        .db(|s| Ok((s.all_entries()?, s.all_cosignatures()?)))
        .await?;
    let mut by_feed: HashMap<(String, String), Vec<&Cosignature>> = HashMap::new();
    // Only receipts prove delivery; a witness cosignature never does.
    for c in cosigs.iter().filter(|c| c.statement == Statement::Receipt) {
        by_feed
            .entry((c.feed.channel.clone(), c.feed.author.clone()))
            .or_default()
            .push(c);
    }
    let receipts: HashMap<(String, String), Receipts> = by_feed
        .into_iter()
        .map(|(k, v)| (k, Receipts::new(&v)))
        .collect();
    let mut known = Vec::with_capacity(entries.len());
    for s in entries {
        let entry =
            Entry::decode(&s.bytes).map_err(|e| StoreError::Corrupt(format!("{}: {e}", s.id())))?;
        let mut delivered = receipts
            .get(&(s.channel.clone(), s.author.clone()))
            .map(|r| r.covering(s.seq))
            .unwrap_or_default();
        delivered.remove(&s.author);
        known.push(Known {
            entry,
            hash: s.hash,
            delivered,
        });
    }
    let channels = node
        .channel_list()
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    Ok(Ledger::new(channels, known))
}

/// The ledger, rebuilt only when something was stored since the last build.
pub async fn current(node: &Arc<Node>) -> Result<Arc<Ledger>, StoreError> {
    let version = node.version();
    if let Some((v, l)) = node.cached_ledger()
        && v == version
    {
        return Ok(l);
    }
    let l = Arc::new(build(node).await?);
    node.cache_ledger(version, l.clone());
    Ok(l)
}
