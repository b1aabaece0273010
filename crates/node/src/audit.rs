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
use parley_store::{Cosignature as StoredCosignature, FeedId, Statement, Store, StoreError};

use crate::parallel;

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
    let mut pending: Vec<Hash> = Vec::new();
    // The checkpoints' signatures of one page are verified on every core
    // while the next page is read and recomputed; results are taken in the
    // feed's order, so the first failure reported is the one a check one
    // after the other would report.
    let mut verified = VerifiedCheckpoints::default();
    std::thread::scope(|scope| {
        let mut in_flight = None;
        while tree.size() + (pending.len() as u64) < head.size {
            let from = tree.size() + pending.len() as u64;
            let (signed, stopped) = match recompute_page(
                store,
                feed,
                from,
                head.size,
                &mut checkpoint_sizes,
                &mut tree,
                &mut tiles,
                &mut pending,
            ) {
                Ok(page) => page,
                Err(err) => (Vec::new(), Some(err)),
            };
            verified.take(in_flight.take())?;
            if let Some(err) = stopped {
                verified.take_now(signed.iter().map(|c| c.verify(feed, &author_keys)))?;
                return Err(err);
            }
            let author_keys = &author_keys;
            in_flight = Some(
                scope.spawn(move || parallel::map(&signed, |_, c| c.verify(feed, author_keys))),
            );
        }
        verified.take(in_flight.take())
    })?;
    let VerifiedCheckpoints {
        texts,
        count: checkpoints,
    } = verified;
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
    // Each cosignature's signer and key are found in order; the signatures
    // are then verified on every core, and the first failure in order is
    // the one reported.
    let mut jobs: Vec<CosignatureCheck> = Vec::new();
    let mut stopped = None;
    for c in store.cosignatures(feed, 1)? {
        match cosignature_check(feed, keys, &texts, c) {
            Ok(job) => jobs.push(job),
            Err(err) => {
                stopped = Some(err);
                break;
            }
        }
    }
    let mut cosignatures = 0;
    for result in parallel::map(&jobs, |_, job| job.verify(feed)) {
        result?;
        cosignatures += 1;
    }
    if let Some(err) = stopped {
        return Err(err);
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

/// A stored cosignature with the key it must verify under.
struct CosignatureCheck<'a> {
    stored: StoredCosignature,
    signature: NoteSignature,
    key: VerifierKey,
    text: &'a str,
}

/// Finds the checkpoint a stored cosignature signs and the key it must be
/// by.
fn cosignature_check<'a>(
    feed: &FeedId,
    keys: &AuditKeys,
    texts: &'a HashMap<u64, String>,
    c: StoredCosignature,
) -> Result<CosignatureCheck<'a>, AuditError> {
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
        .into_iter()
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
    Ok(CosignatureCheck {
        stored: c,
        signature: sig,
        key,
        text,
    })
}

impl CosignatureCheck<'_> {
    fn verify(&self, feed: &FeedId) -> Result<(), AuditError> {
        let c = &self.stored;
        match verify_one(&self.key, self.text, &self.signature) {
            // The stored time is what delivery times and deadlines are read
            // from: it must be the time the cosigner signed.
            Ok(Some(t)) if i64::try_from(t).ok() != Some(c.time) => Err(broken(
                feed,
                format!(
                    "{}'s cosignature at size {} is stored with time {}, but it signs time {t}",
                    c.cosigner, c.size, c.time
                ),
            )),
            Ok(Some(_)) => Ok(()),
            _ => Err(broken(
                feed,
                format!(
                    "{}'s cosignature at size {} does not verify",
                    c.cosigner, c.size
                ),
            )),
        }
    }
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

/// The verified checkpoints' texts by size, for their cosignatures.
#[derive(Default)]
struct VerifiedCheckpoints {
    texts: HashMap<u64, String>,
    count: u64,
}

type CheckpointResults = Vec<Result<(u64, String), AuditError>>;

impl VerifiedCheckpoints {
    /// Takes a page's results in order; the first failure is returned.
    fn take(
        &mut self,
        page: Option<std::thread::ScopedJoinHandle<'_, CheckpointResults>>,
    ) -> Result<(), AuditError> {
        match page {
            Some(h) => self.take_now(h.join().expect("verification does not panic")),
            None => Ok(()),
        }
    }

    fn take_now(
        &mut self,
        results: impl IntoIterator<Item = Result<(u64, String), AuditError>>,
    ) -> Result<(), AuditError> {
        for r in results {
            let (size, text) = r?;
            self.texts.insert(size, text);
            self.count += 1;
        }
        Ok(())
    }
}

/// Reads the page of entries from `from`, checks each (decoded and hashed
/// on every core), extends the tree and checks the tiles, and reads the
/// checkpoint at each size one was signed at. Returns those checkpoints,
/// and the failure that stopped the page early, if one did.
#[allow(clippy::too_many_arguments)]
fn recompute_page(
    store: &dyn Store,
    feed: &FeedId,
    from: u64,
    head_size: u64,
    checkpoint_sizes: &mut std::iter::Peekable<std::vec::IntoIter<u64>>,
    tree: &mut TiledTree,
    tiles: &mut StoredTiles<'_>,
    pending: &mut Vec<Hash>,
) -> Result<(Vec<UnverifiedCheckpoint>, Option<AuditError>), AuditError> {
    let page = store.entries(feed, from, PAGE)?;
    if page.is_empty() {
        return Err(broken(
            feed,
            format!("entries end at {from}, the head says {head_size}"),
        ));
    }
    let checked = parallel::map(&page, |i, e| {
        check_entry(feed, from + i as u64, &e.bytes, &e.hash)
    });
    let mut signed = Vec::new();
    for (i, (e, check)) in page.iter().zip(checked).enumerate() {
        let seq = from + i as u64;
        if let Err(err) = check {
            return Ok((signed, Some(err)));
        }
        pending.push(e.hash);
        if checkpoint_sizes.peek() == Some(&(seq + 1)) {
            checkpoint_sizes.next();
            let step = tree
                .append(pending, tiles)
                .and_then(|()| read_checkpoint(store, feed, tree));
            pending.clear();
            match step {
                Ok(c) => signed.push(c),
                Err(err) => return Ok((signed, Some(err))),
            }
        }
    }
    Ok((signed, None))
}

/// A stored checkpoint read at the recomputed tree's size, its signature
/// not yet checked.
struct UnverifiedCheckpoint {
    size: u64,
    root: Hash,
    note: String,
}

fn read_checkpoint(
    store: &dyn Store,
    feed: &FeedId,
    tree: &TiledTree,
) -> Result<UnverifiedCheckpoint, AuditError> {
    let size = tree.size();
    let note = store
        .checkpoint(feed, size)?
        .ok_or_else(|| broken(feed, format!("checkpoint {size} vanished")))?;
    Ok(UnverifiedCheckpoint {
        size,
        root: tree.root(),
        note,
    })
}

impl UnverifiedCheckpoint {
    /// Checks it is signed by the author's pinned key, for this origin,
    /// with the recomputed root. Returns its size and text.
    fn verify(&self, feed: &FeedId, keys: &[VerifierKey]) -> Result<(u64, String), AuditError> {
        let size = self.size;
        let note = Note::parse(self.note.as_bytes())
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
        if cp.origin != feed.origin() || cp.size != size || cp.root != self.root {
            return Err(broken(
                feed,
                format!(
                    "checkpoint {size} commits to {} entries with root {}, the entries give {}",
                    cp.size, cp.root, self.root
                ),
            ));
        }
        Ok((size, cp.to_text()))
    }
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
