//! Writing feeds straight into a store, for benchmarks that need a large
//! feed (audit, catch-up, footprint): the same entries, tiles, signed
//! checkpoints and cosignatures a node writes, without sending each one.

use anyhow::Context;
use parley_log::note::cosignature_line;
use parley_log::tiles::TiledTree;
use parley_log::{Checkpoint, Entry, Hash, SigningKey, Timestamp};
use parley_store::{
    Append, Cosignature, FeedHead, FeedId, FeedTiles, NewEntry, Statement, Store, TileBuffer,
};
use serde_json::{Value, json};

/// A party that cosigns each checkpoint a [`FeedWriter`] writes.
pub(crate) struct Cosigner {
    pub(crate) party: String,
    /// Its receipt key (a member) or witness key (a witness).
    pub(crate) key: SigningKey,
    pub(crate) statement: Statement,
}

/// One entry to write.
pub(crate) struct Item {
    pub(crate) kind: String,
    pub(crate) refs: Vec<Hash>,
    pub(crate) body: Value,
}

/// Writes a feed into one or more stores, the same bytes in each (as if
/// they had been exchanged).
pub(crate) struct FeedWriter<'a> {
    stores: Vec<&'a dyn Store>,
    feed: FeedId,
    feed_key: SigningKey,
    tree: TiledTree,
}

impl<'a> FeedWriter<'a> {
    /// Continues `author`'s feed in `channel` from what the stores hold
    /// (the same in each).
    pub(crate) fn open(
        stores: &[&'a dyn Store],
        log_key: &SigningKey,
        channel: &str,
        author: &str,
    ) -> anyhow::Result<FeedWriter<'a>> {
        let feed = FeedId::new(channel, author);
        let store = *stores.first().context("no store to write to")?;
        let head = store.feed_head(&feed)?;
        for other in &stores[1..] {
            anyhow::ensure!(
                other.feed_head(&feed)? == head,
                "the stores hold different heads of {feed:?}"
            );
        }
        let size = head.map_or(0, |h| h.size);
        let tree = TiledTree::load(&FeedTiles { store, feed: &feed }, size)
            .map_err(|e| anyhow::anyhow!("loading {feed:?}: {e}"))?;
        let feed_key = log_key.renamed(&feed.origin())?;
        Ok(FeedWriter {
            stores: stores.to_vec(),
            feed,
            feed_key,
            tree,
        })
    }

    pub(crate) fn size(&self) -> u64 {
        self.tree.size()
    }

    /// Appends `n` routine hotline messages in one commit with one signed
    /// checkpoint, cosigned by each of `cosigners` (receipt or witness keys).
    pub(crate) fn append(&mut self, n: u64, cosigners: &[Cosigner]) -> anyhow::Result<()> {
        let items = (0..n)
            .map(|i| Item {
                kind: "hotline_message".into(),
                refs: vec![],
                body: json!({"priority": "routine", "text": {"en": format!(
                    "Benchmark message {}: routine traffic of about the length of a real hotline message, \
                     naming a time, a place and what is asked.", self.tree.size() + i
                )}}),
            })
            .collect();
        self.append_items(items, cosigners).map(|_| ())
    }

    /// Appends `items` in one commit with one signed checkpoint, cosigned
    /// by each of `cosigners`; returns their hashes.
    pub(crate) fn append_items(
        &mut self,
        items: Vec<Item>,
        cosigners: &[Cosigner],
    ) -> anyhow::Result<Vec<Hash>> {
        let now = Timestamp::now();
        let mut entries = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let seq = self.tree.size() + i as u64;
            let entry = Entry {
                channel: self.feed.channel.clone(),
                author: self.feed.author.clone(),
                seq,
                time: now,
                kind: item.kind,
                refs: item.refs,
                salt: Entry::random_salt(),
                body: item.body,
            };
            let bytes = entry.encode()?;
            entries.push(NewEntry {
                seq,
                hash: entry.leaf_hash()?,
                refs: entry.refs.clone(),
                kind: entry.kind,
                time: now.unix(),
                bytes,
            });
        }
        let hashes: Vec<Hash> = entries.iter().map(|e| e.hash).collect();
        let mut tiles = TileBuffer::default();
        let mut next = self.tree.clone();
        next.append(&hashes, &mut tiles)
            .expect("buffer writes cannot fail");
        let cp = Checkpoint::new(&self.feed.origin(), next.size(), next.root());
        let note = cp.sign(&self.feed_key)?;
        let append = Append {
            feed: self.feed.clone(),
            old_size: self.tree.size(),
            entries,
            tiles: tiles.0,
            head: FeedHead {
                size: next.size(),
                root: next.root(),
            },
            checkpoint: note.to_string(),
            cosignature: None,
            received_at: now.unix(),
            actions: vec![],
        };
        let cosignatures: Vec<Cosignature> = cosigners
            .iter()
            .map(|c| Cosignature {
                feed: self.feed.clone(),
                size: next.size(),
                cosigner: c.party.clone(),
                statement: c.statement,
                time: now.unix(),
                line: cosignature_line(&c.key, &cp.to_text(), now.unix() as u64).to_line(),
            })
            .collect();
        for store in &self.stores {
            store.append(&append).context("appending")?;
            for c in &cosignatures {
                store.add_cosignature(c)?;
            }
        }
        self.tree = next;
        Ok(hashes)
    }
}
