//! What the node keeps in memory between requests, apart from the store:
//! the ledger with its board and how far it has read, and console users'
//! read marks. The state holds these; `ledger` keeps them current.

use std::collections::HashMap;
use std::sync::Arc;

use parley_domain::board::Book;
use parley_domain::ledger::Ledger;
use parley_log::Hash;
use parley_store::FeedId;

/// A ledger and how far into each feed's cosignatures it has read.
#[derive(Clone)]
pub struct Current {
    pub version: u64,
    pub ledger: Arc<Book>,
    pub(crate) cosignatures_read: HashMap<FeedId, u64>,
}

/// A console user's read marks, with per-channel counts of the entries
/// they cover that an inbox counts as unread when not marked.
#[derive(Clone, Default)]
pub struct Reads {
    marked: imbl::HashSet<Hash>,
    per_channel: imbl::HashMap<String, usize>,
}

impl Reads {
    /// Loads `user`'s marks from the store.
    pub fn load(marks: Vec<Hash>, ledger: &Ledger, me: &str) -> Reads {
        let mut r = Reads::default();
        for h in marks {
            r.add(h, ledger, me);
        }
        r
    }

    /// Marks an entry read; counts it if it is another party's traffic.
    pub fn add(&mut self, hash: Hash, ledger: &Ledger, me: &str) {
        if self.marked.insert(hash).is_some() {
            return;
        }
        if let Some(k) = ledger.get(&hash)
            && k.entry.author != me
            && k.entry.kind != "link_test"
        {
            *self.per_channel.entry(k.entry.channel.clone()).or_default() += 1;
        }
    }

    pub fn contains(&self, hash: &Hash) -> bool {
        self.marked.contains(hash)
    }

    /// How many of others' entries in `channel` (or all) are marked.
    pub fn count(&self, channel: Option<&str>) -> usize {
        self.per_channel
            .iter()
            .filter(|(c, _)| channel.is_none_or(|x| x == c.as_str()))
            .map(|(_, n)| n)
            .sum()
    }
}
