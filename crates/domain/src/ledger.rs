//! What a node knows: every entry it holds, and for each the delivery times
//! it can prove (receipts it holds). Views and obligations are functions of
//! a ledger and nothing else, so two nodes holding the same feeds and
//! receipts derive the same answers.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use parley_log::{Entry, Hash, Timestamp};

use crate::channel::ChannelState;

/// An entry with its proven delivery times.
#[derive(Clone, Debug)]
pub struct Known {
    pub entry: Entry,
    pub hash: Hash,
    /// Each recipient's receipt time, where this node holds the receipt:
    /// every recipient's for its own entries, its own for others'.
    pub delivered: BTreeMap<String, Timestamp>,
}

impl Known {
    pub fn id(&self) -> String {
        self.entry.id()
    }
}

/// Everything a node holds, indexed.
pub struct Ledger {
    pub channels: BTreeMap<String, ChannelState>,
    pub entries: Vec<Known>,
    by_hash: HashMap<Hash, usize>,
    /// Entries referencing each hash, in stored order.
    referencing: HashMap<Hash, Vec<usize>>,
}

impl Ledger {
    pub fn new(channels: BTreeMap<String, ChannelState>, entries: Vec<Known>) -> Ledger {
        let mut by_hash = HashMap::new();
        let mut referencing: HashMap<Hash, Vec<usize>> = HashMap::new();
        for (i, k) in entries.iter().enumerate() {
            by_hash.insert(k.hash, i);
            for r in &k.entry.refs {
                referencing.entry(*r).or_default().push(i);
            }
        }
        Ledger {
            channels,
            entries,
            by_hash,
            referencing,
        }
    }

    pub fn get(&self, hash: &Hash) -> Option<&Known> {
        self.by_hash.get(hash).map(|&i| &self.entries[i])
    }

    /// Entries that reference `hash`.
    pub fn referencing(&self, hash: &Hash) -> impl Iterator<Item = &Known> {
        self.referencing
            .get(hash)
            .into_iter()
            .flatten()
            .map(|&i| &self.entries[i])
    }

    /// Entries of one kind, in stored order.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Known> + 'a {
        self.entries.iter().filter(move |k| k.entry.kind == kind)
    }

    /// A channel's entries in causal order: an entry comes after every
    /// entry it references and after the earlier entries of its own feed;
    /// among entries free to come next, the earliest stated time first.
    pub fn timeline(&self, channel: &str) -> Vec<&Known> {
        let idx: Vec<usize> = (0..self.entries.len())
            .filter(|&i| self.entries[i].entry.channel == channel)
            .collect();
        let pos: HashMap<usize, usize> = idx.iter().enumerate().map(|(p, &i)| (i, p)).collect();
        let mut preds = vec![0usize; idx.len()];
        let mut succs: Vec<Vec<usize>> = vec![Vec::new(); idx.len()];
        let mut last_of_feed: BTreeMap<(&str, u64), usize> = BTreeMap::new();
        for (p, &i) in idx.iter().enumerate() {
            let e = &self.entries[i].entry;
            last_of_feed.insert((e.author.as_str(), e.seq), p);
        }
        for (p, &i) in idx.iter().enumerate() {
            let e = &self.entries[i].entry;
            let mut before: Vec<usize> = Vec::new();
            if e.seq > 0
                && let Some(&q) = last_of_feed.get(&(e.author.as_str(), e.seq - 1))
            {
                before.push(q);
            }
            for r in &e.refs {
                if let Some(q) = self.by_hash.get(r).and_then(|j| pos.get(j)) {
                    before.push(*q);
                }
            }
            before.sort_unstable();
            before.dedup();
            for q in before {
                if q != p {
                    preds[p] += 1;
                    succs[q].push(p);
                }
            }
        }
        let key = |p: usize| {
            let e = &self.entries[idx[p]].entry;
            Reverse((e.time, e.author.clone(), e.seq, p))
        };
        let mut ready: BinaryHeap<Reverse<(Timestamp, String, u64, usize)>> =
            (0..idx.len()).filter(|&p| preds[p] == 0).map(key).collect();
        let mut out = Vec::with_capacity(idx.len());
        while let Some(Reverse((_, _, _, p))) = ready.pop() {
            out.push(&self.entries[idx[p]]);
            for &s in &succs[p] {
                preds[s] -= 1;
                if preds[s] == 0 {
                    ready.push(key(s));
                }
            }
        }
        out
    }
}
