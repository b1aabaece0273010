//! Writing feeds straight into a store, for benchmarks that need a large
//! feed (audit, catch-up, footprint): the same entries, tiles, signed
//! checkpoints and cosignatures a node writes, without sending each one.

use anyhow::Context;
use parley_log::note::cosignature_line;
use parley_log::tiles::TiledTree;
use parley_log::{Checkpoint, Entry, SigningKey, Timestamp};
use parley_store::{
    Append, Cosignature, FeedHead, FeedId, FeedTiles, NewEntry, SqliteStore, Statement, Store,
    TileBuffer,
};
use serde_json::json;

/// A party that cosigns each checkpoint a [`FeedWriter`] writes.
pub(crate) struct Cosigner {
    pub(crate) party: String,
    /// Its receipt key (a member) or witness key (a witness).
    pub(crate) key: SigningKey,
    pub(crate) statement: Statement,
}

pub(crate) struct FeedWriter<'a> {
    store: &'a SqliteStore,
    feed: FeedId,
    feed_key: SigningKey,
    tree: TiledTree,
}

impl<'a> FeedWriter<'a> {
    /// Continues `author`'s feed in `channel` from what the store holds.
    pub(crate) fn open(
        store: &'a SqliteStore,
        log_key: &SigningKey,
        channel: &str,
        author: &str,
    ) -> anyhow::Result<FeedWriter<'a>> {
        let feed = FeedId::new(channel, author);
        let size = store.feed_head(&feed)?.map_or(0, |h| h.size);
        let tree = TiledTree::load(&FeedTiles { store, feed: &feed }, size)
            .map_err(|e| anyhow::anyhow!("loading {feed:?}: {e}"))?;
        let feed_key = log_key.renamed(&feed.origin())?;
        Ok(FeedWriter {
            store,
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
        let now = Timestamp::now();
        let mut entries = Vec::with_capacity(n as usize);
        for i in 0..n {
            let seq = self.tree.size() + i;
            let entry = Entry {
                channel: self.feed.channel.clone(),
                author: self.feed.author.clone(),
                seq,
                time: now,
                kind: "hotline_message".into(),
                refs: vec![],
                salt: Entry::random_salt(),
                body: json!({"priority": "routine", "text": {"en": format!(
                    "Benchmark message {seq}: routine traffic of about the length of a real hotline message, \
                     naming a time, a place and what is asked."
                )}}),
            };
            let bytes = entry.encode()?;
            entries.push(NewEntry {
                seq,
                hash: entry.leaf_hash()?,
                kind: entry.kind,
                time: now.unix(),
                refs: vec![],
                bytes,
            });
        }
        let mut tiles = TileBuffer::default();
        let mut next = self.tree.clone();
        let hashes: Vec<_> = entries.iter().map(|e| e.hash).collect();
        next.append(&hashes, &mut tiles)
            .expect("buffer writes cannot fail");
        let cp = Checkpoint::new(&self.feed.origin(), next.size(), next.root());
        let note = cp.sign(&self.feed_key)?;
        self.store
            .append(&Append {
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
                action: None,
            })
            .context("appending")?;
        for c in cosigners {
            let line = cosignature_line(&c.key, &cp.to_text(), now.unix() as u64).to_line();
            self.store.add_cosignature(&Cosignature {
                feed: self.feed.clone(),
                size: next.size(),
                cosigner: c.party.clone(),
                statement: c.statement,
                time: now.unix(),
                line,
            })?;
        }
        self.tree = next;
        Ok(())
    }
}
