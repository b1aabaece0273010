//! A full audit of the feeds a node holds, from its database alone: every
//! entry re-hashed and decoded, every tile hash recomputed, every
//! checkpoint's signature and root checked against the recomputed tree,
//! every cosignature checked against its signer's pinned key for the
//! statement it makes (a receipt under a receipt key, a witness
//! cosignature under a witness key).
//!
//! It trusts nothing the database says about itself: heads, tiles and
//! checkpoints are compared with what the entries recompute to.

use std::collections::HashMap;

use parley_log::Entry;
use parley_log::checkpoint::SignedCheckpoint;
use parley_log::hash::{HASH_LEN, Hash};
use parley_log::identity::{Identity, Role};
use parley_log::keys::VerifierKey;
use parley_log::note::{Note, NoteSignature, verify_one};
use parley_log::tiles::{TileStore, TiledTree};
use parley_store::{FeedId, Statement, Store, StoreError};

/// What one feed's audit checked.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FeedAudit {
    pub channel: String,
    pub author: String,
    pub entries: u64,
    pub tiles: u64,
    pub checkpoints: u64,
    pub cosignatures: u64,
    pub root: String,
}

/// Why an audit failed: the database could not be read, or it holds
/// something that does not check out.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{feed}: {what}")]
    Broken { feed: String, what: String },
}

/// The keys an audit checks signatures against: each party's identity
/// (its log, receipt and witness keys, current and retired).
pub struct AuditKeys {
    parties: HashMap<String, Identity>,
    /// External C2SP witnesses named in stored charters, by key name.
    external: HashMap<String, VerifierKey>,
}

impl AuditKeys {
    /// This node's own identity and every pinned peer's.
    ///
    /// # Errors
    /// A pinned identity does not parse.
    pub fn of_node(store: &dyn Store, own: Identity) -> Result<AuditKeys, AuditError> {
        let mut keys = AuditKeys::from_identities([own]);
        for p in store.peers()? {
            let id = Identity::parse(&p.identity).map_err(|e| AuditError::Broken {
                feed: format!("peer {}", p.party),
                what: format!("the pinned identity does not parse: {e}"),
            })?;
            keys.parties.insert(p.party, id);
        }
        for stored in store.entries_of_kinds(&["channel_charter"])? {
            let Ok(e) = parley_log::Entry::decode(&stored.bytes) else {
                continue;
            };
            let Ok(charter) = parley_domain::kinds::parse_body::<parley_domain::Charter>(&e.body)
            else {
                continue;
            };
            for w in charter.external_witnesses {
                if let Ok(k) = w.key() {
                    keys.external.insert(k.name().to_string(), k);
                }
            }
        }
        Ok(keys)
    }

    /// Given identities.
    pub fn from_identities(ids: impl IntoIterator<Item = Identity>) -> AuditKeys {
        AuditKeys {
            parties: ids.into_iter().map(|i| (i.party.clone(), i)).collect(),
            external: HashMap::new(),
        }
    }

    fn party(&self, feed: &FeedId, party: &str) -> Result<&Identity, AuditError> {
        self.parties
            .get(party)
            .ok_or_else(|| broken(feed, format!("no pinned identity for {party:?}")))
    }

    /// The keys `cosigner` may sign `statement` with.
    fn cosigner_keys(
        &self,
        feed: &FeedId,
        cosigner: &str,
        statement: Statement,
    ) -> Result<Vec<VerifierKey>, AuditError> {
        let role = match statement {
            Statement::Receipt => Role::Receipt,
            Statement::Witness => Role::Witness,
        };
        if statement == Statement::Witness
            && !self.parties.contains_key(cosigner)
            && let Some(k) = self.external.get(cosigner)
        {
            return Ok(vec![k.clone()]);
        }
        Ok(self.party(feed, cosigner)?.all(role).cloned().collect())
    }
}

fn broken(feed: &FeedId, what: impl Into<String>) -> AuditError {
    AuditError::Broken {
        feed: feed.origin(),
        what: what.into(),
    }
}

/// Audits every feed the store holds.
pub fn audit_all(store: &dyn Store, keys: &AuditKeys) -> Result<Vec<FeedAudit>, AuditError> {
    store
        .feeds()?
        .into_iter()
        .map(|(feed, _)| audit_feed(store, &feed, keys))
        .collect()
}

/// Entries read per database query: bounds the audit's memory.
const PAGE: u64 = 4096;

/// Audits one feed.
pub fn audit_feed(
    store: &dyn Store,
    feed: &FeedId,
    keys: &AuditKeys,
) -> Result<FeedAudit, AuditError> {
    let head = store
        .feed_head(feed)?
        .ok_or_else(|| broken(feed, "no head stored"))?;
    let author_keys = keys.party(feed, &feed.author)?.log_keys_for(&feed.origin());
    let mut checkpoint_sizes = store
        .checkpoint_sizes(feed, 1, head.size)?
        .into_iter()
        .peekable();
    let mut tiles = StoredTiles::new(store, feed);
    let mut tree = TiledTree::new();
    let mut texts: HashMap<u64, String> = HashMap::new();
    let mut checkpoints = 0;
    let mut pending: Vec<Hash> = Vec::new();
    while tree.size() + (pending.len() as u64) < head.size {
        let from = tree.size() + pending.len() as u64;
        let page = store.entries(feed, from, PAGE)?;
        if page.is_empty() {
            return Err(broken(
                feed,
                format!("entries end at {from}, the head says {}", head.size),
            ));
        }
        for e in page {
            let seq = tree.size() + pending.len() as u64;
            check_entry(feed, seq, &e.bytes, &e.hash)?;
            pending.push(e.hash);
            if checkpoint_sizes.peek() == Some(&(seq + 1)) {
                checkpoint_sizes.next();
                tree.append(&pending, &mut tiles)?;
                pending.clear();
                let text = check_checkpoint(store, feed, &author_keys, &tree)?;
                texts.insert(tree.size(), text);
                checkpoints += 1;
            }
        }
    }
    tree.append(&pending, &mut tiles)?;
    if tree.root() != head.root {
        return Err(broken(
            feed,
            format!(
                "the stored head's root {} is not the entries' root {}",
                head.root,
                tree.root()
            ),
        ));
    }
    let mut cosignatures = 0;
    for c in store.cosignatures(feed, 1)? {
        let text = texts.get(&c.size).ok_or_else(|| {
            broken(
                feed,
                format!(
                    "{}'s cosignature at size {} has no checkpoint",
                    c.cosigner, c.size
                ),
            )
        })?;
        let sig = NoteSignature::parse_line(&c.line).map_err(|e| {
            broken(
                feed,
                format!("{}'s cosignature at size {}: {e}", c.cosigner, c.size),
            )
        })?;
        let candidates = keys.cosigner_keys(feed, &c.cosigner, c.statement)?;
        let key = candidates
            .iter()
            .find(|k| k.name() == sig.name && k.id() == sig.key_id)
            .ok_or_else(|| {
                broken(
                    feed,
                    format!(
                        "{}'s {} at size {} is not signed by its {} key",
                        c.cosigner,
                        c.statement.as_str(),
                        c.size,
                        c.statement.as_str()
                    ),
                )
            })?;
        if c.statement == Statement::Receipt && c.cosigner == feed.author {
            return Err(broken(
                feed,
                format!("a receipt by the author {} of its own feed", c.cosigner),
            ));
        }
        match verify_one(key, text, &sig) {
            // The stored time is what delivery times and deadlines are read
            // from: it must be the time the cosigner signed.
            Ok(Some(t)) if i64::try_from(t).ok() != Some(c.time) => {
                return Err(broken(
                    feed,
                    format!(
                        "{}'s cosignature at size {} is stored with time {}, but it signs time {t}",
                        c.cosigner, c.size, c.time
                    ),
                ));
            }
            Ok(Some(_)) => cosignatures += 1,
            _ => {
                return Err(broken(
                    feed,
                    format!(
                        "{}'s cosignature at size {} does not verify",
                        c.cosigner, c.size
                    ),
                ));
            }
        }
    }
    Ok(FeedAudit {
        channel: feed.channel.clone(),
        author: feed.author.clone(),
        entries: head.size,
        tiles: tiles.checked,
        checkpoints,
        cosignatures,
        root: tree.root().to_base64(),
    })
}

fn check_entry(feed: &FeedId, seq: u64, bytes: &[u8], stored: &Hash) -> Result<(), AuditError> {
    let (e, leaf) = Entry::decode_with_leaf(bytes)
        .map_err(|err| broken(feed, format!("entry {seq}: {err}")))?;
    if leaf != *stored {
        return Err(broken(
            feed,
            format!("entry {seq} does not hash to its stored hash"),
        ));
    }
    if e.channel != feed.channel || e.author != feed.author || e.seq != seq {
        return Err(broken(
            feed,
            format!(
                "entry {seq} says it is {}/{} #{}",
                e.channel, e.author, e.seq
            ),
        ));
    }
    Ok(())
}

/// Checks the stored checkpoint at the tree's size: signed by the author's
/// pinned key, for this origin, with the recomputed root. Returns its text.
fn check_checkpoint(
    store: &dyn Store,
    feed: &FeedId,
    keys: &[VerifierKey],
    tree: &TiledTree,
) -> Result<String, AuditError> {
    let size = tree.size();
    let note = store
        .checkpoint(feed, size)?
        .ok_or_else(|| broken(feed, format!("checkpoint {size} vanished")))?;
    let note = Note::parse(note.as_bytes())
        .map_err(|e| broken(feed, format!("checkpoint {size}: {e}")))?;
    let mut last = None;
    let signed = keys
        .iter()
        .rev()
        .find_map(|k| {
            SignedCheckpoint::open_note(note.clone(), k, &[])
                .map_err(|e| last = Some(e))
                .ok()
        })
        .ok_or_else(|| {
            broken(
                feed,
                format!(
                    "checkpoint {size}: {}",
                    last.map_or("no log key".to_string(), |e| e.to_string())
                ),
            )
        })?;
    let cp = signed.checkpoint;
    if cp.origin != feed.origin() || cp.size != size || cp.root != tree.root() {
        return Err(broken(
            feed,
            format!(
                "checkpoint {size} commits to {} entries with root {}, the entries give {}",
                cp.size,
                cp.root,
                tree.root()
            ),
        ));
    }
    Ok(cp.to_text())
}

/// Compares each tile the recomputation writes with the stored tile: the
/// stored tile must begin with the recomputed hashes.
struct StoredTiles<'a> {
    store: &'a dyn Store,
    feed: &'a FeedId,
    cache: HashMap<(u8, u64), Vec<u8>>,
    checked: u64,
}

impl<'a> StoredTiles<'a> {
    fn new(store: &'a dyn Store, feed: &'a FeedId) -> StoredTiles<'a> {
        StoredTiles {
            store,
            feed,
            cache: HashMap::new(),
            checked: 0,
        }
    }
}

impl TileStore for StoredTiles<'_> {
    type Error = AuditError;
    fn read_tile(&self, _level: u8, _index: u64) -> Result<Option<Vec<u8>>, AuditError> {
        Ok(None)
    }
    fn write_tile(&mut self, level: u8, index: u64, hashes: &[u8]) -> Result<(), AuditError> {
        let key = (level, index);
        if !self.cache.contains_key(&key) {
            // A new tile: the previous one at this level is complete.
            self.cache.retain(|(l, _), _| *l != level);
            let stored = self
                .store
                .read_tile(self.feed, level, index)?
                .unwrap_or_default();
            self.cache.insert(key, stored);
            self.checked += 1;
        }
        let stored = &self.cache[&key];
        if !stored.starts_with(hashes) {
            let at = stored
                .chunks(HASH_LEN)
                .zip(hashes.chunks(HASH_LEN))
                .position(|(a, b)| a != b)
                .unwrap_or(stored.len() / HASH_LEN);
            return Err(broken(
                self.feed,
                format!("tile {level}/{index} hash {at} is not what the entries recompute to"),
            ));
        }
        Ok(())
    }
}
