//! What this node appended to one of its feeds lately, kept in memory
//! once committed, so that the push carrying it to the members is built
//! without reading it back from the store: the entries' bytes, the signed
//! checkpoints, and the tree's nodes since the oldest entry kept.
//!
//! A consistency proof from a size `m` to a size `n` needs only the roots
//! of the perfect subtrees of the tree at `m` (its frontier) and the nodes
//! of `[m, n)`: every left part of RFC 9162's SUBPROOF is one of those
//! subtrees, every right part lies after `m`. So the frontier where the
//! kept entries begin, plus every node completed since, answers any push
//! that starts at or after it. Anything else is read from the store.

use std::collections::{BTreeMap, HashMap};

use parley_log::Hash;
use parley_log::merkle::{Frontier, MissingNode, NodeSource, consistency_proof, root};

/// At most this many bytes of entries are kept per feed: a member's
/// delivery lags its feed by a few commits, far less than this.
const MAX_KEPT_BYTES: usize = 256 * 1024;

/// A feed's latest committed appends.
#[derive(Default)]
pub struct RecentAppends {
    /// The tree before the first kept entry.
    base: Frontier,
    /// The tree after the last kept entry.
    head: Frontier,
    /// Every node completed by the kept entries, by `(level, index)`.
    nodes: HashMap<(u8, u64), Hash>,
    /// The kept entries' canonical bytes, from `base.size()`.
    entries: Vec<Vec<u8>>,
    kept_bytes: usize,
    /// This node's signed checkpoint at each size committed since `base`.
    checkpoints: BTreeMap<u64, String>,
}

/// A push's content, built from memory.
pub struct RecentUpdate {
    pub old_root: Option<Hash>,
    pub entries: Vec<Vec<u8>>,
    pub checkpoint: String,
    pub consistency: Vec<Hash>,
}

impl RecentAppends {
    /// Keeps a commit that has landed: the tree `before` it, its entries
    /// (leaf hash and bytes, in order) and the checkpoint it signed.
    pub fn record(&mut self, before: &Frontier, entries: &[(Hash, &[u8])], checkpoint: &str) {
        let adding: usize = entries.iter().map(|(_, b)| b.len()).sum();
        if before != &self.head || self.kept_bytes + adding > MAX_KEPT_BYTES {
            // Not the continuation of what is kept (the first commit since
            // start), or too much kept: start again from this commit.
            *self = RecentAppends {
                base: before.clone(),
                head: before.clone(),
                ..RecentAppends::default()
            };
        }
        let nodes = &mut self.nodes;
        for (hash, bytes) in entries {
            self.head.append(*hash, &mut |level, index, h| {
                nodes.insert((level, index), *h);
            });
            self.entries.push(bytes.to_vec());
        }
        self.kept_bytes += adding;
        self.checkpoints
            .insert(self.head.size(), checkpoint.to_string());
    }

    /// The push from `from` to the largest signed size at most `max`
    /// entries on (or to the first signed size beyond, when none is that
    /// close), when everything it needs is kept.
    pub fn update(&self, from: u64, max: u64) -> Option<RecentUpdate> {
        let base = self.base.size();
        if from < base || from >= self.head.size() {
            return None;
        }
        let upto = from.saturating_add(max.max(1));
        let (&size, note) = self
            .checkpoints
            .range(from + 1..=upto)
            .next_back()
            .or_else(|| self.checkpoints.range(from + 1..).next())?;
        let mut nodes = KeptNodes(self);
        let (old_root, consistency) = if from > 0 {
            (
                Some(root(&mut nodes, from).ok()?),
                consistency_proof(&mut nodes, from, size).ok()?,
            )
        } else {
            (None, vec![])
        };
        let at = |n: u64| usize::try_from(n - base).ok();
        Some(RecentUpdate {
            old_root,
            entries: self.entries.get(at(from)?..at(size)?)?.to_vec(),
            checkpoint: note.clone(),
            consistency,
        })
    }
}

/// The nodes a kept update's proof reads: the base's subtrees, and every
/// node completed since.
struct KeptNodes<'a>(&'a RecentAppends);

impl NodeSource for KeptNodes<'_> {
    type Error = MissingNode;
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        self.0
            .nodes
            .get(&(level, index))
            .copied()
            .or_else(|| self.0.base.node(level, index))
            .ok_or(MissingNode { level, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_log::leaf_hash;
    use parley_log::merkle::MemoryTree;

    fn entry(i: u64) -> Vec<u8> {
        format!("entry {i}").into_bytes()
    }

    /// Appends `sizes` batches to a feed already holding `start` entries,
    /// keeping each, and checks every push from every size kept against
    /// the proofs of the whole tree.
    fn check(start: u64, batches: &[u64]) {
        let mut whole = MemoryTree::from_leaf_hashes((0..start).map(|i| leaf_hash(&entry(i))));
        let mut frontier = Frontier::new();
        for i in 0..start {
            frontier.append(leaf_hash(&entry(i)), &mut |_, _, _| {});
        }
        let mut recent = RecentAppends::default();
        let mut size = start;
        for &n in batches {
            let before = frontier.clone();
            let bytes: Vec<Vec<u8>> = (size..size + n).map(entry).collect();
            let hashed: Vec<(Hash, &[u8])> =
                bytes.iter().map(|b| (leaf_hash(b), b.as_slice())).collect();
            for (h, _) in &hashed {
                frontier.append(*h, &mut |_, _, _| {});
                whole.append(*h);
            }
            size += n;
            recent.record(&before, &hashed, &format!("checkpoint {size}"));
        }
        assert!(recent.update(start.saturating_sub(1), 100).is_none() || start == 0);
        assert!(
            recent.update(size, 100).is_none(),
            "nothing beyond the head"
        );
        let mut signed = vec![];
        let mut s = start;
        for &n in batches {
            s += n;
            signed.push(s);
        }
        for from in start..size {
            for max in [1, 2, 3, 1000] {
                let u = recent.update(from, max).expect("kept");
                let to = signed
                    .iter()
                    .copied()
                    .filter(|&k| k > from && k <= from + max)
                    .max()
                    .or_else(|| signed.iter().copied().find(|&k| k > from))
                    .unwrap();
                assert_eq!(u.checkpoint, format!("checkpoint {to}"));
                assert_eq!(u.entries, (from..to).map(entry).collect::<Vec<_>>());
                if from > 0 {
                    assert_eq!(u.old_root, Some(whole.root_at(from)));
                    assert_eq!(Some(u.consistency), whole.consistency_proof(from, to));
                } else {
                    assert_eq!((u.old_root, u.consistency.len()), (None, 0));
                }
            }
        }
    }

    #[test]
    fn pushes_from_memory_match_the_whole_trees_proofs() {
        check(0, &[1, 1, 3, 8, 2, 1, 16, 5]);
        check(13, &[1, 2, 3, 4, 5, 6, 7]);
        check(8, &[8, 8, 1]);
        check(1_000, &[37, 1, 1, 90]);
    }

    #[test]
    fn a_commit_that_does_not_continue_what_is_kept_starts_again() {
        let mut recent = RecentAppends::default();
        let b0 = entry(0);
        recent.record(&Frontier::new(), &[(leaf_hash(&b0), &b0)], "checkpoint 1");
        // A commit whose tree before is not the kept head (made elsewhere).
        let mut other = Frontier::new();
        for i in 0..5 {
            other.append(leaf_hash(&entry(i)), &mut |_, _, _| {});
        }
        let b5 = entry(5);
        recent.record(&other, &[(leaf_hash(&b5), &b5)], "checkpoint 6");
        assert!(recent.update(0, 10).is_none(), "what came before is gone");
        let u = recent.update(5, 10).unwrap();
        assert_eq!(u.entries, vec![b5]);
    }
}
