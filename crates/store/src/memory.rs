//! `MemoryStore`: the store contract kept in memory, behind one lock.
//!
//! For tests and tools that want a node's storage without a file; nothing
//! survives the process, so a node never runs on it. It is also the second
//! backend that keeps the contract honest: it passes the same conformance
//! suite as SQLite, so the trait cannot lean on what only SQL gives.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use parley_log::Hash;

use crate::{
    ActionRecord, Append, Cosignature, DeliveryRole, EvidenceRecord, FeedHead, FeedId, KeyRotation,
    Peer, Result, Statement, Store, StoreError, StoredEntry, WitnessLog, WitnessedRecord,
};

/// (channel, author) as a map key.
type FeedKey = (String, String);

fn key(feed: &FeedId) -> FeedKey {
    (feed.channel.clone(), feed.author.clone())
}

#[derive(Default)]
struct State {
    /// Which lease handle holds the lease, and how many were made.
    lease_holder: Option<u64>,
    lease_handles: u64,
    peers: BTreeMap<String, Peer>,
    heads: BTreeMap<FeedKey, FeedHead>,
    tiles: BTreeMap<(FeedKey, u8, u64), Vec<u8>>,
    checkpoints: BTreeMap<(FeedKey, u64), String>,
    entries: BTreeMap<(FeedKey, u64), StoredEntry>,
    by_hash: BTreeMap<Hash, (FeedKey, u64)>,
    refs: BTreeMap<Hash, BTreeSet<(FeedKey, u64)>>,
    /// Keyed as SQLite's primary key: (feed, size, cosigner, statement, time).
    cosignatures: BTreeMap<(FeedKey, u64, String, &'static str, i64), Cosignature>,
    /// Every cosignature by the position it was stored at, per feed.
    cosignatures_stored: BTreeMap<(FeedKey, u64), Cosignature>,
    cosignatures_count: u64,
    deliveries: BTreeMap<(String, FeedKey, &'static str), u64>,
    witnessed: BTreeMap<String, WitnessedRecord>,
    witness_logs: BTreeMap<String, WitnessLog>,
    rotations: Vec<KeyRotation>,
    read_marks: BTreeSet<(String, Hash)>,
    evidence: Vec<EvidenceRecord>,
    actions: Vec<ActionRecord>,
}

/// The store in memory. Clones share the same storage (as two connections
/// to one database do).
#[derive(Default, Clone)]
pub struct MemoryStore(Arc<Mutex<State>>);

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves no half-applied change:
        // every write below is computed first and applied without failing.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn add_cosignature(&mut self, c: &Cosignature) -> bool {
        let k = (
            key(&c.feed),
            c.size,
            c.cosigner.clone(),
            c.statement.as_str(),
            c.time,
        );
        if self.cosignatures.contains_key(&k) {
            return false;
        }
        self.cosignatures.insert(k, c.clone());
        self.cosignatures_count += 1;
        self.cosignatures_stored
            .insert((key(&c.feed), self.cosignatures_count), c.clone());
        true
    }

    fn add_checkpoint(&mut self, feed: &FeedId, size: u64, note: &str) {
        self.checkpoints
            .entry((key(feed), size))
            .or_insert_with(|| note.to_string());
    }

    fn set_delivered(&mut self, peer: &str, feed: &FeedId, role: DeliveryRole, size: u64) {
        let d = self
            .deliveries
            .entry((peer.to_string(), key(feed), role.as_str()))
            .or_insert(0);
        *d = (*d).max(size);
    }

    fn add_action(&mut self, a: &ActionRecord) -> i64 {
        let id = self.actions.last().map_or(1, |l| l.id + 1);
        self.actions.push(ActionRecord { id, ..a.clone() });
        id
    }

    fn add_rotation(&mut self, r: &KeyRotation) -> bool {
        if self.rotations.iter().any(|x| x.statement == r.statement) {
            return false;
        }
        let id = self.rotations.last().map_or(1, |l| l.id + 1);
        self.rotations.push(KeyRotation { id, ..r.clone() });
        true
    }
}

/// A lease on a memory store: the handle whose number the state records.
struct MemoryLease {
    store: MemoryStore,
    id: u64,
}

impl crate::Lease for MemoryLease {
    fn try_hold(&self) -> Result<bool> {
        let mut s = self.store.state();
        match s.lease_holder {
            Some(h) if h != self.id => Ok(false),
            _ => {
                s.lease_holder = Some(self.id);
                Ok(true)
            }
        }
    }
}

impl Drop for MemoryLease {
    fn drop(&mut self) {
        let mut s = self.store.state();
        if s.lease_holder == Some(self.id) {
            s.lease_holder = None;
        }
    }
}

impl Store for MemoryStore {
    fn lease(&self) -> Result<Box<dyn crate::Lease>> {
        let mut s = self.state();
        s.lease_handles += 1;
        Ok(Box::new(MemoryLease {
            store: self.clone(),
            id: s.lease_handles,
        }))
    }

    /// Nothing of a memory store is on disk to back up, and nothing could
    /// restore a file into one: refused, clearly (never overwriting).
    fn snapshot_to(&self, _out: &Path) -> Result<()> {
        Err(StoreError::Backend(
            "an in-memory store has nothing on disk to back up".into(),
        ))
    }

    fn add_peer(&self, peer: &Peer) -> Result<()> {
        let mut s = self.state();
        match s.peers.get_mut(&peer.party) {
            Some(p) if p.identity != peer.identity => {
                Err(StoreError::PeerKeyChanged(peer.party.clone()))
            }
            Some(p) => {
                p.url = peer.url.clone();
                Ok(())
            }
            None => {
                s.peers.insert(peer.party.clone(), peer.clone());
                Ok(())
            }
        }
    }

    fn peers(&self) -> Result<Vec<Peer>> {
        Ok(self.state().peers.values().cloned().collect())
    }

    fn feeds(&self) -> Result<Vec<(FeedId, FeedHead)>> {
        Ok(self
            .state()
            .heads
            .iter()
            .map(|((c, a), h)| (FeedId::new(c, a), *h))
            .collect())
    }

    fn feed_head(&self, feed: &FeedId) -> Result<Option<FeedHead>> {
        Ok(self.state().heads.get(&key(feed)).copied())
    }

    fn read_tile(&self, feed: &FeedId, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.state().tiles.get(&(key(feed), level, index)).cloned())
    }

    fn append(&self, a: &Append) -> Result<()> {
        let mut s = self.state();
        let k = key(&a.feed);
        let actual = s.heads.get(&k).map_or(0, |h| h.size);
        if actual != a.old_size {
            return Err(StoreError::Conflict {
                feed: a.feed.clone(),
                expected: a.old_size,
                actual,
            });
        }
        // Checked before anything changes: all of the append or none.
        let mut hashes = BTreeSet::new();
        for e in &a.entries {
            if s.by_hash.contains_key(&e.hash) || !hashes.insert(e.hash) {
                return Err(StoreError::Backend(
                    format!("an entry with hash {} is already stored", e.hash.to_hex()).into(),
                ));
            }
            if s.entries.contains_key(&(k.clone(), e.seq)) {
                return Err(StoreError::Backend(
                    format!("entry {} of {} is already stored", e.seq, a.feed.origin()).into(),
                ));
            }
        }
        for e in &a.entries {
            s.entries.insert(
                (k.clone(), e.seq),
                StoredEntry {
                    channel: a.feed.channel.clone(),
                    author: a.feed.author.clone(),
                    seq: e.seq,
                    hash: e.hash,
                    kind: e.kind.clone(),
                    time: e.time,
                    bytes: e.bytes.clone(),
                    received_at: a.received_at,
                },
            );
            s.by_hash.insert(e.hash, (k.clone(), e.seq));
            for r in &e.refs {
                s.refs.entry(*r).or_default().insert((k.clone(), e.seq));
            }
        }
        for t in &a.tiles {
            let slot = s.tiles.entry((k.clone(), t.level, t.index)).or_default();
            // A partial tile grows; a full one is never replaced by less.
            if t.data.len() > slot.len() {
                *slot = t.data.clone();
            }
        }
        s.heads.insert(k, a.head);
        s.add_checkpoint(&a.feed, a.head.size, &a.checkpoint);
        if let Some(c) = &a.cosignature {
            s.add_cosignature(c);
        }
        for r in &a.actions {
            s.add_action(r);
        }
        Ok(())
    }

    fn checkpoint(&self, feed: &FeedId, size: u64) -> Result<Option<String>> {
        Ok(self.state().checkpoints.get(&(key(feed), size)).cloned())
    }

    fn checkpoint_sizes(&self, feed: &FeedId, from: u64, to: u64) -> Result<Vec<u64>> {
        let k = key(feed);
        Ok(self
            .state()
            .checkpoints
            .range((k.clone(), from)..=(k, to))
            .map(|((_, size), _)| *size)
            .collect())
    }

    fn entries(&self, feed: &FeedId, from_seq: u64, limit: u64) -> Result<Vec<StoredEntry>> {
        let k = key(feed);
        Ok(self
            .state()
            .entries
            .range((k.clone(), from_seq)..=(k, u64::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(_, e)| e.clone())
            .collect())
    }

    fn entry(&self, feed: &FeedId, seq: u64) -> Result<Option<StoredEntry>> {
        Ok(self.state().entries.get(&(key(feed), seq)).cloned())
    }

    fn entry_by_hash(&self, hash: &Hash) -> Result<Option<StoredEntry>> {
        let s = self.state();
        Ok(s.by_hash.get(hash).and_then(|k| s.entries.get(k)).cloned())
    }

    fn referencing(&self, hash: &Hash) -> Result<Vec<StoredEntry>> {
        let s = self.state();
        let mut out: Vec<StoredEntry> = s
            .refs
            .get(hash)
            .into_iter()
            .flatten()
            .filter_map(|k| s.entries.get(k).cloned())
            .collect();
        out.sort_by(|a, b| (a.time, &a.author, a.seq).cmp(&(b.time, &b.author, b.seq)));
        Ok(out)
    }

    fn recent(&self, channel: Option<&str>, limit: u64) -> Result<Vec<StoredEntry>> {
        let s = self.state();
        let mut out: Vec<StoredEntry> = s
            .entries
            .values()
            .filter(|e| channel.is_none_or(|c| e.channel == c))
            .cloned()
            .collect();
        // Newest first by stated time, as SQLite orders it.
        out.sort_by(|a, b| {
            (b.time, b.received_at, &a.author, b.seq).cmp(&(
                a.time,
                a.received_at,
                &b.author,
                a.seq,
            ))
        });
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(out)
    }

    fn all_entries(&self) -> Result<Vec<StoredEntry>> {
        Ok(self.state().entries.values().cloned().collect())
    }

    // The maps are keyed (channel, author, size…) and (channel, author,
    // seq): their order is the order the contract asks for.
    fn all_cosignatures(&self) -> Result<Vec<Cosignature>> {
        Ok(self.state().cosignatures.values().cloned().collect())
    }

    fn entries_of_kinds(&self, kinds: &[&str]) -> Result<Vec<StoredEntry>> {
        Ok(self
            .state()
            .entries
            .values()
            .filter(|e| kinds.contains(&e.kind.as_str()))
            .cloned()
            .collect())
    }

    fn add_cosignature(&self, c: &Cosignature) -> Result<bool> {
        Ok(self.state().add_cosignature(c))
    }

    fn cosignatures_stored_after(
        &self,
        feed: &FeedId,
        after: u64,
        limit: u64,
    ) -> Result<Vec<(u64, Cosignature)>> {
        let k = key(feed);
        Ok(self
            .state()
            .cosignatures_stored
            .range((k.clone(), after.saturating_add(1))..=(k, u64::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|((_, n), c)| (*n, c.clone()))
            .collect())
    }

    fn add_cosigned_checkpoint(&self, note: &str, c: &Cosignature) -> Result<bool> {
        let mut s = self.state();
        s.add_checkpoint(&c.feed, c.size, note);
        Ok(s.add_cosignature(c))
    }

    fn add_receipt(&self, c: &Cosignature, role: DeliveryRole) -> Result<bool> {
        let mut s = self.state();
        let fresh = s.add_cosignature(c);
        s.set_delivered(&c.cosigner, &c.feed, role, c.size);
        Ok(fresh)
    }

    fn cosignatures(&self, feed: &FeedId, min_size: u64) -> Result<Vec<Cosignature>> {
        let k = key(feed);
        let mut out: Vec<Cosignature> = self
            .state()
            .cosignatures
            .iter()
            .filter(|((f, size, ..), _)| *f == k && *size >= min_size)
            .map(|(_, c)| c.clone())
            .collect();
        out.sort_by(|a, b| (a.size, a.time, &a.cosigner).cmp(&(b.size, b.time, &b.cosigner)));
        Ok(out)
    }

    fn last_cosignature_by(&self, cosigner: &str, statement: Statement) -> Result<Option<i64>> {
        Ok(self
            .state()
            .cosignatures
            .values()
            .filter(|c| c.cosigner == cosigner && c.statement == statement)
            .map(|c| c.time)
            .max())
    }

    fn delivered(&self, peer: &str, feed: &FeedId, role: DeliveryRole) -> Result<u64> {
        Ok(self
            .state()
            .deliveries
            .get(&(peer.to_string(), key(feed), role.as_str()))
            .copied()
            .unwrap_or(0))
    }

    fn set_delivered(
        &self,
        peer: &str,
        feed: &FeedId,
        role: DeliveryRole,
        size: u64,
    ) -> Result<()> {
        self.state().set_delivered(peer, feed, role, size);
        Ok(())
    }

    fn witnessed(&self, origin: &str) -> Result<Option<WitnessedRecord>> {
        Ok(self.state().witnessed.get(origin).cloned())
    }

    fn witnessed_all(&self) -> Result<Vec<WitnessedRecord>> {
        Ok(self.state().witnessed.values().cloned().collect())
    }

    fn swap_witnessed(&self, expected_size: Option<u64>, new: &WitnessedRecord) -> Result<bool> {
        let mut s = self.state();
        let current = s.witnessed.get(&new.origin).map(|w| w.size);
        let swap = match (expected_size, current) {
            (None, None) => true,
            (Some(old), Some(now)) => old == now,
            _ => false,
        };
        if swap {
            s.witnessed.insert(new.origin.clone(), new.clone());
        }
        Ok(swap)
    }

    fn replace_peer_identity(
        &self,
        party: &str,
        old: &str,
        new: &str,
        rotation: Option<&KeyRotation>,
    ) -> Result<bool> {
        let mut s = self.state();
        let Some(p) = s.peers.get_mut(party).filter(|p| p.identity == old) else {
            return Ok(false);
        };
        p.identity = new.to_string();
        if let Some(r) = rotation {
            s.add_rotation(r);
        }
        Ok(true)
    }

    fn add_rotation(&self, r: &KeyRotation) -> Result<bool> {
        Ok(self.state().add_rotation(r))
    }

    fn rotations(&self) -> Result<Vec<KeyRotation>> {
        Ok(self.state().rotations.clone())
    }

    fn add_witness_log(&self, log: &WitnessLog) -> Result<bool> {
        let mut s = self.state();
        if s.witness_logs.contains_key(&log.origin) {
            return Ok(false);
        }
        s.witness_logs.insert(log.origin.clone(), log.clone());
        Ok(true)
    }

    fn witness_logs(&self) -> Result<Vec<WitnessLog>> {
        Ok(self.state().witness_logs.values().cloned().collect())
    }

    fn witness_log(&self, origin: &str) -> Result<Option<WitnessLog>> {
        Ok(self.state().witness_logs.get(origin).cloned())
    }

    fn mark_read(&self, user: &str, hash: &Hash) -> Result<()> {
        self.state().read_marks.insert((user.to_string(), *hash));
        Ok(())
    }

    fn read_marks(&self, user: &str) -> Result<Vec<Hash>> {
        Ok(self
            .state()
            .read_marks
            .iter()
            .filter(|(u, _)| u == user)
            .map(|(_, h)| *h)
            .collect())
    }

    fn add_evidence(&self, e: &EvidenceRecord) -> Result<i64> {
        let mut s = self.state();
        // The same conflict seen twice is recorded once.
        if let Some(x) = s
            .evidence
            .iter()
            .find(|x| x.origin == e.origin && x.evidence == e.evidence)
        {
            return Ok(x.id);
        }
        let id = s.evidence.last().map_or(1, |l| l.id + 1);
        s.evidence.push(EvidenceRecord { id, ..e.clone() });
        Ok(id)
    }

    fn evidence(&self) -> Result<Vec<EvidenceRecord>> {
        Ok(self.state().evidence.clone())
    }

    fn record_action(&self, a: &ActionRecord) -> Result<i64> {
        Ok(self.state().add_action(a))
    }

    fn actions(&self, after: i64, limit: u64) -> Result<Vec<ActionRecord>> {
        Ok(self
            .state()
            .actions
            .iter()
            .filter(|a| a.id > after)
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .cloned()
            .collect())
    }
}
