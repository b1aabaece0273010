//! What a node knows: every entry it holds, and for each the delivery times
//! it can prove (receipts it holds). Views and obligations are functions of
//! a ledger and nothing else, so two nodes holding the same feeds and
//! receipts derive the same answers.
//!
//! A ledger grows by [`Ledger::insert`] (an entry) and [`Ledger::receipt`]
//! (a signed receipt), each touching only what it changes, and its indexes
//! are persistent structures: cloning one is cheap, so a node can hand a
//! snapshot to a page being drawn while it folds in the next event. This is
//! what keeps a page fast with a million entries in history.

use std::collections::BTreeMap;

use imbl::{HashMap as PMap, OrdMap, OrdSet, Vector};
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

/// Where an entry stands in its channel's causal order: its causal time is
/// the latest stated time among itself and everything before it (its
/// feed's earlier entries and what it references), and its height one more
/// than the highest of those. Ordering by (causal time, height, author,
/// seq) puts every entry after what it follows, is the same on every node
/// holding the same entries, and needs nothing recomputed when an entry
/// arrives: the new entry is placed, nothing else moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Causal {
    time: Timestamp,
    height: u64,
}

/// An entry's place in newest-first and causal listings.
type ByTime = (Timestamp, String, u64, usize);
type ByCause = (Causal, String, u64, usize);

/// A receipt that covers entries this node does not hold yet: kept until
/// they arrive.
#[derive(Clone, Debug)]
struct Early {
    cosigner: String,
    size: u64,
    time: Timestamp,
}

/// A signed receipt: `cosigner` holds the first `size` entries of
/// `author`'s feed in `channel`, as of `time`.
#[derive(Clone, Copy, Debug)]
pub struct Receipt<'a> {
    pub channel: &'a str,
    pub author: &'a str,
    pub cosigner: &'a str,
    pub size: u64,
    pub time: Timestamp,
}

/// Everything a node holds, indexed.
#[derive(Clone)]
pub struct Ledger {
    pub channels: BTreeMap<String, ChannelState>,
    entries: Vector<Known>,
    causal: Vector<Causal>,
    by_hash: PMap<Hash, usize>,
    /// Entries referencing each hash, in the order they arrived.
    referencing: PMap<Hash, Vector<usize>>,
    by_kind: PMap<String, Vector<usize>>,
    /// Each feed's entries by sequence number.
    by_feed: PMap<(String, String), OrdMap<u64, usize>>,
    newest: OrdSet<ByTime>,
    newest_in: PMap<String, OrdSet<ByTime>>,
    timelines: PMap<String, OrdSet<ByCause>>,
    /// Entries per (channel, author), not counting link tests.
    traffic: PMap<(String, String), usize>,
    early: PMap<(String, String), Vec<Early>>,
    /// Entries whose obligations may have changed since the last
    /// [`Ledger::take_touched`]: what an obligations board derives again.
    touched: Vec<usize>,
}

impl Ledger {
    /// An empty ledger over `channels`.
    pub fn empty(channels: BTreeMap<String, ChannelState>) -> Ledger {
        Ledger {
            channels,
            entries: Vector::new(),
            causal: Vector::new(),
            by_hash: PMap::new(),
            referencing: PMap::new(),
            by_kind: PMap::new(),
            by_feed: PMap::new(),
            newest: OrdSet::new(),
            newest_in: PMap::new(),
            timelines: PMap::new(),
            traffic: PMap::new(),
            early: PMap::new(),
            touched: Vec::new(),
        }
    }

    /// A ledger of `entries` with the delivery times they carry.
    pub fn new(channels: BTreeMap<String, ChannelState>, entries: Vec<Known>) -> Ledger {
        let mut l = Ledger::empty(channels);
        for k in entries {
            l.insert(k);
        }
        l
    }

    /// Every entry, in the order this ledger received them.
    pub fn entries(&self) -> impl Iterator<Item = &Known> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The sequence number after the last entry of a feed this ledger
    /// holds (a feed is received in order, so: how many it holds).
    pub fn feed_len(&self, channel: &str, author: &str) -> u64 {
        self.by_feed
            .get(&(channel.to_string(), author.to_string()))
            .and_then(|v| v.get_max())
            .map_or(0, |(s, _)| s + 1)
    }

    pub fn get(&self, hash: &Hash) -> Option<&Known> {
        self.by_hash.get(hash).map(|&i| &self.entries[i])
    }

    pub(crate) fn at(&self, i: usize) -> &Known {
        &self.entries[i]
    }

    pub(crate) fn index_of(&self, hash: &Hash) -> Option<usize> {
        self.by_hash.get(hash).copied()
    }

    /// Entries that reference `hash`.
    pub fn referencing(&self, hash: &Hash) -> impl Iterator<Item = &Known> {
        self.referencing
            .get(hash)
            .into_iter()
            .flatten()
            .map(|&i| &self.entries[i])
    }

    /// Entries of one kind, in the order received.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Known> + 'a {
        self.by_kind
            .get(kind)
            .into_iter()
            .flatten()
            .map(|&i| &self.entries[i])
    }

    /// Entries of `kinds` in `channel`, in the channel's causal order: what
    /// counts against a quota first comes first, the same on every node.
    pub fn causal_order<'a>(&'a self, kinds: &[&str], channel: &str) -> Vec<&'a Known> {
        let mut found: Vec<usize> = kinds
            .iter()
            .filter_map(|k| self.by_kind.get(*k))
            .flatten()
            .copied()
            .filter(|&i| self.entries[i].entry.channel == channel)
            .collect();
        found.sort_by_cached_key(|&i| self.causal_rank(&self.entries[i]));
        found.into_iter().map(|i| &self.entries[i]).collect()
    }

    /// A key that sorts entries of one channel in its causal order.
    pub fn causal_rank(&self, k: &Known) -> (Timestamp, u64, String, u64) {
        let c = self.index_of(&k.hash).map_or(
            Causal {
                time: k.entry.time,
                height: 0,
            },
            |i| self.causal[i],
        );
        (c.time, c.height, k.entry.author.clone(), k.entry.seq)
    }

    /// Where entries of `kinds` in `channel` sit in this ledger.
    pub(crate) fn indices_of(&self, kinds: &[&str], channel: &str) -> Vec<usize> {
        kinds
            .iter()
            .filter_map(|k| self.by_kind.get(*k))
            .flatten()
            .copied()
            .filter(|&i| self.entries[i].entry.channel == channel)
            .collect()
    }

    /// Entries newest first (by stated time), of one channel or of all.
    pub fn newest_first(&self, channel: Option<&str>) -> Box<dyn Iterator<Item = &Known> + '_> {
        let set = match channel {
            None => Some(&self.newest),
            Some(c) => self.newest_in.get(c),
        };
        Box::new(
            set.into_iter()
                .flat_map(|s| s.iter().rev())
                .map(|t| &self.entries[t.3]),
        )
    }

    /// How many entries a channel (or all channels) holds.
    pub fn count(&self, channel: Option<&str>) -> usize {
        match channel {
            None => self.newest.len(),
            Some(c) => self.newest_in.get(c).map_or(0, OrdSet::len),
        }
    }

    /// Entries other than link tests in `channel` (or all channels).
    pub fn traffic(&self, channel: Option<&str>) -> usize {
        self.traffic
            .iter()
            .filter(|((c, _), _)| channel.is_none_or(|x| x == c))
            .map(|(_, n)| n)
            .sum()
    }

    /// Entries by authors other than `me`, not counting link tests: what
    /// an inbox can show as unread.
    pub fn traffic_from_others(&self, me: &str, channel: Option<&str>) -> usize {
        self.traffic
            .iter()
            .filter(|((c, a), _)| a != me && channel.is_none_or(|x| x == c))
            .map(|(_, n)| n)
            .sum()
    }

    /// A channel's entries in causal order: an entry comes after every
    /// entry it references and after the earlier entries of its own feed.
    pub fn timeline(&self, channel: &str) -> impl DoubleEndedIterator<Item = &Known> + '_ {
        self.timelines
            .get(channel)
            .into_iter()
            .flat_map(|s| s.iter())
            .map(|t| &self.entries[t.3])
    }

    /// Rows `rows` of a channel's causal order, read from whichever end is
    /// nearer: the latest page of a long history costs one page.
    pub fn timeline_rows(&self, channel: &str, rows: std::ops::Range<usize>) -> Vec<&Known> {
        let len = self.timeline_len(channel);
        let rows = rows.start.min(len)..rows.end.min(len);
        if rows.start > len - rows.end {
            let mut v: Vec<&Known> = self
                .timeline(channel)
                .rev()
                .skip(len - rows.end)
                .take(rows.len())
                .collect();
            v.reverse();
            v
        } else {
            self.timeline(channel)
                .skip(rows.start)
                .take(rows.len())
                .collect()
        }
    }

    /// How many entries a channel's timeline holds.
    pub fn timeline_len(&self, channel: &str) -> usize {
        self.timelines.get(channel).map_or(0, OrdSet::len)
    }

    /// Adds an entry (one already held is ignored) and everything it
    /// changes; returns whether it was new.
    pub fn insert(&mut self, mut k: Known) -> bool {
        if self.by_hash.contains_key(&k.hash) {
            return false;
        }
        let i = self.entries.len();
        let e = &k.entry;
        let feed = (e.channel.clone(), e.author.clone());
        // Receipts that arrived before the entry.
        if let Some(early) = self.early.get(&feed) {
            for r in early
                .iter()
                .filter(|r| r.size > e.seq && r.cosigner != e.author)
            {
                let t = k.delivered.entry(r.cosigner.clone()).or_insert(r.time);
                *t = (*t).min(r.time);
            }
        }
        let causal = self.causal_of(&k.entry);
        let e = &k.entry;
        self.by_hash.insert(k.hash, i);
        for r in &e.refs {
            self.referencing.entry(*r).or_default().push_back(i);
        }
        self.by_kind.entry(e.kind.clone()).or_default().push_back(i);
        let slots = self.by_feed.entry(feed.clone()).or_default();
        slots.insert(e.seq, i);
        let held = slots.get_max().map_or(0, |(s, _)| s + 1);
        if let Some(early) = self.early.get_mut(&feed) {
            early.retain(|r| r.size > held);
        }
        let t: ByTime = (e.time, e.author.clone(), e.seq, i);
        self.newest.insert(t.clone());
        self.newest_in
            .entry(e.channel.clone())
            .or_default()
            .insert(t);
        self.timelines
            .entry(e.channel.clone())
            .or_default()
            .insert((causal, e.author.clone(), e.seq, i));
        if e.kind != "link_test" {
            *self.traffic.entry(feed).or_default() += 1;
        }
        self.causal.push_back(causal);
        let touched: Vec<usize> = std::iter::once(i)
            .chain(e.refs.iter().filter_map(|r| self.index_of(r)))
            .chain(self.referencing.get(&k.hash).into_iter().flatten().copied())
            .collect();
        self.entries.push_back(k);
        self.touched.extend(touched);
        true
    }

    fn causal_of(&self, e: &Entry) -> Causal {
        let before = e
            .seq
            .checked_sub(1)
            .and_then(|s| {
                self.by_feed
                    .get(&(e.channel.clone(), e.author.clone()))
                    .and_then(|v| v.get(&s))
            })
            .into_iter()
            .chain(e.refs.iter().filter_map(|r| self.by_hash.get(r)))
            .filter(|&&j| self.entries[j].entry.channel == e.channel)
            .map(|&j| self.causal[j]);
        let mut c = Causal {
            time: e.time,
            height: 0,
        };
        for b in before {
            c.time = c.time.max(b.time);
            c.height = c.height.max(b.height + 1);
        }
        c
    }

    /// Folds in `cosigner`'s signed receipt, at `time`, of the first `size`
    /// entries of `author`'s feed in `channel`: each covered entry's
    /// delivery to the cosigner is its earliest such receipt. A receipt by
    /// the author itself proves nothing and is ignored.
    pub fn receipt(&mut self, r: &Receipt<'_>) {
        let Receipt {
            channel,
            author,
            cosigner,
            size,
            time,
        } = *r;
        if cosigner == author {
            return;
        }
        let feed = (channel.to_string(), author.to_string());
        let slots = self.by_feed.get(&feed).cloned().unwrap_or_default();
        if slots.get_max().is_none_or(|(s, _)| size > s + 1) {
            self.early.entry(feed).or_default().push(Early {
                cosigner: cosigner.to_string(),
                size,
                time,
            });
        }
        // Delivery times never decrease along a feed (an entry's earliest
        // receipt covers every earlier entry), so those this receipt
        // lowers are a run ending at `size`: walk back until one is not.
        let mut touched = Vec::new();
        for (_, &i) in slots.range(..size).rev() {
            let k = &mut self.entries[i];
            match k.delivered.get(cosigner) {
                Some(t) if *t <= time => break,
                _ => {
                    k.delivered.insert(cosigner.to_string(), time);
                    touched.push(i);
                    touched.extend(k.entry.refs.iter().filter_map(|r| self.by_hash.get(r)));
                }
            }
        }
        self.touched.extend(touched);
    }

    /// Replaces the channels' state. A channel new to the ledger has all
    /// its entries touched; returns the channels that existed and changed
    /// (their members' acts move the deadlines of the obligations already
    /// made in them) or went.
    pub fn set_channels(&mut self, channels: BTreeMap<String, ChannelState>) -> Vec<String> {
        let mut changed = Vec::new();
        for (id, c) in &channels {
            match self.channels.get(id) {
                Some(old) if old == c => {}
                Some(_) => changed.push(id.clone()),
                None => self.touched.extend(
                    self.newest_in
                        .get(id)
                        .into_iter()
                        .flat_map(|s| s.iter().map(|t| t.3)),
                ),
            }
        }
        changed.extend(
            self.channels
                .keys()
                .filter(|id| !channels.contains_key(*id))
                .cloned(),
        );
        self.channels = channels;
        changed
    }

    /// The entries touched since the last call.
    pub fn take_touched(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.touched)
    }

    /// Entries by index, for the board.
    pub(crate) fn indices(&self) -> std::ops::Range<usize> {
        0..self.entries.len()
    }
}
