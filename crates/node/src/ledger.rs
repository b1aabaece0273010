//! The node's ledger: every entry it holds with the delivery times its
//! receipts prove, kept current event by event.
//!
//! The store is the truth. The ledger reads from it only what was stored
//! since it last looked: for each feed, entries past the last sequence
//! number it holds and cosignatures past the last store position it read.
//! So the first call after start-up reads the whole history once, and
//! every later call costs what arrived since, whoever stored it (this
//! process, or the active node before a takeover).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use parley_domain::board::Book;
use parley_domain::ledger::{Known, Ledger, Receipt};

pub use crate::held::{Current, Reads};
use parley_log::{Entry, Hash, Timestamp};
use parley_store::{Cosignature, FeedId, Statement, Store, StoreError, StoredEntry};

use crate::state::Node;

/// Entries and cosignatures read per store call.
const PAGE: u64 = 20_000;

/// What was stored since a ledger last looked.
#[derive(Default)]
struct Delta {
    entries: Vec<StoredEntry>,
    receipts: Vec<Cosignature>,
    read: HashMap<FeedId, u64>,
}

/// Reads what the store holds beyond `ledger` and `read`.
fn delta(s: &dyn Store, ledger: &Ledger, read: &HashMap<FeedId, u64>) -> Result<Delta, StoreError> {
    let mut d = Delta::default();
    for (feed, head) in s.feeds()? {
        let mut from = ledger.feed_len(&feed.channel, &feed.author);
        while from < head.size {
            let page = s.entries(&feed, from, PAGE.min(head.size - from))?;
            if page.is_empty() {
                break;
            }
            from += page.len() as u64;
            d.entries.extend(page);
        }
        let mut after = read.get(&feed).copied().unwrap_or(0);
        loop {
            let page = s.cosignatures_stored_after(&feed, after, PAGE)?;
            let Some((last, _)) = page.last() else { break };
            after = *last;
            // Only receipts prove delivery; a witness cosignature never does.
            d.receipts.extend(
                page.into_iter()
                    .map(|(_, c)| c)
                    .filter(|c| c.statement == Statement::Receipt),
            );
        }
        d.read.insert(feed, after);
    }
    Ok(d)
}

/// Orders new entries so that each comes after its feed's previous entry
/// and after what it references, where those are new too: the ledger
/// places an entry by what it already holds.
fn causal_order(entries: Vec<Known>) -> Vec<Known> {
    let index: HashMap<Hash, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, k)| (k.hash, i))
        .collect();
    let by_seq: HashMap<(&str, &str, u64), usize> = entries
        .iter()
        .enumerate()
        .map(|(i, k)| {
            (
                (
                    k.entry.channel.as_str(),
                    k.entry.author.as_str(),
                    k.entry.seq,
                ),
                i,
            )
        })
        .collect();
    let mut waiting = vec![0usize; entries.len()];
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); entries.len()];
    for (i, k) in entries.iter().enumerate() {
        let e = &k.entry;
        let prev = e
            .seq
            .checked_sub(1)
            .and_then(|s| by_seq.get(&(e.channel.as_str(), e.author.as_str(), s)));
        let before: HashSet<usize> = prev
            .into_iter()
            .copied()
            .chain(e.refs.iter().filter_map(|r| index.get(r).copied()))
            .filter(|&j| j != i)
            .collect();
        waiting[i] = before.len();
        for j in before {
            next[j].push(i);
        }
    }
    let mut ready: VecDeque<usize> = (0..entries.len()).filter(|&i| waiting[i] == 0).collect();
    let mut order = Vec::with_capacity(entries.len());
    while let Some(i) = ready.pop_front() {
        order.push(i);
        for &j in &next[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push_back(j);
            }
        }
    }
    // A reference cycle cannot be made (a hash names what existed before
    // it), but should one appear, its entries are still held.
    let placed: HashSet<usize> = order.iter().copied().collect();
    order.extend((0..entries.len()).filter(|i| !placed.contains(i)));
    let mut slots: Vec<Option<Known>> = entries.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Folds a delta into a ledger.
fn apply(ledger: &mut Book, d: Delta, now: Timestamp) -> Result<(), StoreError> {
    let mut known = Vec::with_capacity(d.entries.len());
    for s in d.entries {
        let entry =
            Entry::decode(&s.bytes).map_err(|e| StoreError::Corrupt(format!("{}: {e}", s.id())))?;
        known.push(Known {
            entry,
            hash: s.hash,
            delivered: BTreeMap::new(),
        });
    }
    for k in causal_order(known) {
        ledger.insert(k);
    }
    for c in d.receipts {
        if let Some(t) = Timestamp::from_unix(c.time) {
            ledger.receipt(&Receipt {
                channel: &c.feed.channel,
                author: &c.feed.author,
                cosigner: &c.cosigner,
                size: c.size,
                time: t,
            });
        }
    }
    ledger.refresh(now);
    Ok(())
}

/// The ledger as of now: what was stored since the last call folded in,
/// and the obligations board brought up to the clock.
///
/// # Errors
/// The store's, when reading what is new fails; the ledger is left as it
/// was, and the next call tries again.
pub async fn current(node: &Arc<Node>) -> Result<Arc<Book>, StoreError> {
    let version = node.version();
    let now = crate::clock::now();
    if let Some(c) = node.cached_ledger()
        && c.version == version
        && !c.ledger.needs_refresh(now)
    {
        return Ok(c.ledger);
    }
    // One update at a time; those waiting find it done.
    let _turn = node.ledger_turn().await;
    let cached = node.cached_ledger();
    if let Some(c) = &cached
        && c.version == version
        && !c.ledger.needs_refresh(now)
    {
        return Ok(c.ledger.clone());
    }
    let (ledger, read) = match cached {
        Some(c) => (c.ledger, c.cosignatures_read),
        None => (Arc::new(Book::empty(BTreeMap::new())), HashMap::new()),
    };
    // Read the version before the store: an event stored meanwhile bumps
    // it again, and the next call reads that too.
    let version = node.version();
    let (l, r) = (ledger.clone(), read.clone());
    let d = node.db(move |s| delta(s, &l, &r)).await?;
    let channels: BTreeMap<String, _> = node
        .channel_list()
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let (ledger, read) = tokio::task::spawn_blocking(move || {
        let mut next = (*ledger).clone();
        let mut read = read;
        next.set_channels(channels);
        read.extend(d.read.iter().map(|(f, n)| (f.clone(), *n)));
        apply(&mut next, d, now).map(|()| (Arc::new(next), read))
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("ledger update failed: {e}")))??;
    node.cache_ledger(Current {
        version,
        ledger: ledger.clone(),
        cosignatures_read: read,
    });
    Ok(ledger)
}

/// Whether the ledger has been read from the store since start (else the
/// first read is under way, or failed and the next call retries).
pub fn is_ready(node: &Node) -> bool {
    node.cached_ledger().is_some() || !node.ledger_building()
}

/// `user`'s read marks, loaded from the store on first use and kept.
///
/// # Errors
/// The store's, when loading them fails.
pub async fn reads(node: &Arc<Node>, user: &str, ledger: &Ledger) -> Result<Reads, StoreError> {
    if let Some(r) = node.cached_reads(user) {
        return Ok(r);
    }
    let u = user.to_string();
    let marks = node.db(move |s| s.read_marks(&u)).await?;
    let r = Reads::load(marks, ledger, &node.party);
    node.cache_reads(user, r.clone());
    Ok(r)
}

/// Marks an entry read for `user`: in the store, then in the kept marks.
///
/// # Errors
/// The store's; the mark is then not kept either.
pub async fn mark_read(
    node: &Arc<Node>,
    user: &str,
    hash: Hash,
    ledger: &Ledger,
) -> Result<(), StoreError> {
    let u = user.to_string();
    node.db(move |s| s.mark_read(&u, &hash)).await?;
    let mut r = reads(node, user, ledger).await?;
    r.add(hash, ledger, &node.party);
    node.cache_reads(user, r);
    Ok(())
}
