//! RFC 9162 §2.1 Merkle trees: roots, inclusion and consistency proofs.
//!
//! Generation follows the RFC's recursive definitions (PATH, SUBPROOF) and
//! reads only *perfect* subtree hashes from a [`NodeSource`], which is how a
//! tiled log stores them. Verification is the RFC's iterative algorithms,
//! step for step, so that the bit-twiddling can be checked against the text.

use crate::hash::{Hash, node_hash};

/// The most hashes an inclusion proof can hold (a tree of at most 2^64 − 1
/// leaves has at most 64 levels).
pub const MAX_PROOF_LEN: usize = 64;
/// The most hashes a consistency proof can hold: one per level, plus the
/// old tree's own subtree when it is not a power of two (65 only above 2^63).
pub const MAX_CONSISTENCY_PROOF_LEN: usize = 65;

/// Gives the hash of a perfect subtree: `node(level, index)` is
/// `MTH(D[index·2^level .. (index+1)·2^level])`.
pub trait NodeSource {
    type Error;
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// Why a proof could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum ProofError<E> {
    #[error("index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("sizes {old} → {new} do not describe a consistency proof (need 0 < old ≤ new)")]
    BadSizes { old: u64, new: u64 },
    #[error(transparent)]
    Source(E),
}

/// Why a proof does not verify. Each variant names the RFC step that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("leaf index {index} is not smaller than tree size {size}")]
    IndexBeyondSize { index: u64, size: u64 },
    #[error("old size {old} is larger than new size {new}")]
    OldSizeTooLarge { old: u64, new: u64 },
    #[error("a consistency proof from size 0 cannot be verified")]
    OldSizeZero,
    #[error("the proof has {0} hashes, more than a tree of 2^64 leaves can need")]
    ProofTooLong(usize),
    #[error("the proof has more hashes than the tree shape allows")]
    ProofTooLongForShape,
    #[error("the proof has fewer hashes than the tree shape needs")]
    ProofTooShort,
    #[error("an equal-size consistency proof must be empty")]
    NonEmptyEqualSizeProof,
    #[error("the consistency proof is empty")]
    EmptyProof,
    #[error("the computed root {computed} does not match the expected root {expected}")]
    RootMismatch { computed: Hash, expected: Hash },
    #[error("the computed old root {computed} does not match the expected old root {expected}")]
    OldRootMismatch { computed: Hash, expected: Hash },
}

/// Largest power of two strictly less than `n` (`n ≥ 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[lo..hi])`, where `lo` is aligned to the smallest power of two
/// not below `hi - lo` (always true of the ranges the RFC recursion visits).
/// The range is the fold, right to left, of its maximal perfect subtrees.
pub fn range_hash<S: NodeSource>(src: &mut S, lo: u64, hi: u64) -> Result<Hash, S::Error> {
    if lo == hi {
        return Ok(Hash::EMPTY_ROOT);
    }
    let mut parts: Vec<Hash> = Vec::with_capacity(64);
    let mut start = lo;
    while start < hi {
        let mut level = if start == 0 {
            63
        } else {
            start.trailing_zeros()
        };
        while (1u64 << level) > hi - start {
            level -= 1;
        }
        parts.push(src.node(level as u8, start >> level)?);
        start += 1 << level;
    }
    let mut acc = parts.pop().expect("non-empty range has a part");
    while let Some(left) = parts.pop() {
        acc = node_hash(&left, &acc);
    }
    Ok(acc)
}

/// `MTH(D[0..size])`: the root of the tree of `size` leaves.
pub fn root<S: NodeSource>(src: &mut S, size: u64) -> Result<Hash, S::Error> {
    range_hash(src, 0, size)
}

/// `PATH(index, D[size])`, ordered leaf sibling first.
pub fn inclusion_proof<S: NodeSource>(
    src: &mut S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut lo, mut hi) = (0u64, size);
    let mut top_down = Vec::new();
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            top_down.push(range_hash(src, lo + k, hi).map_err(ProofError::Source)?);
            hi = lo + k;
        } else {
            top_down.push(range_hash(src, lo, lo + k).map_err(ProofError::Source)?);
            lo += k;
        }
    }
    top_down.reverse();
    Ok(top_down)
}

/// `PROOF(old, D[new])`; empty when `old == new`.
pub fn consistency_proof<S: NodeSource>(
    src: &mut S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if old == 0 || old > new {
        return Err(ProofError::BadSizes { old, new });
    }
    let mut out = Vec::new();
    subproof(src, old, 0, new, true, &mut out).map_err(ProofError::Source)?;
    Ok(out)
}

fn subproof<S: NodeSource>(
    src: &mut S,
    m: u64,
    lo: u64,
    hi: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = hi - lo;
    if m == n {
        if !complete {
            out.push(range_hash(src, lo, hi)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(src, m, lo, lo + k, complete, out)?;
        out.push(range_hash(src, lo + k, hi)?);
    } else {
        subproof(src, m - k, lo + k, hi, false, out)?;
        out.push(range_hash(src, lo, lo + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.3.2, verbatim.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    let computed = root_from_inclusion(index, size, leaf, proof)?;
    if &computed != root {
        return Err(VerifyError::RootMismatch {
            computed,
            expected: *root,
        });
    }
    Ok(())
}

/// The root that an inclusion proof leads to (steps 1–5 of §2.1.3.2
/// without the final comparison).
pub fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, VerifyError> {
    if index >= size {
        return Err(VerifyError::IndexBeyondSize { index, size });
    }
    if proof.len() > MAX_PROOF_LEN {
        return Err(VerifyError::ProofTooLong(proof.len()));
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(VerifyError::ProofTooLongForShape);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            // "If LSB(fn) is not set, right-shift fn and sn together until
            // LSB(fn) is set or fn == 0."
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    Ok(r)
}

/// RFC 9162 §2.1.4.2, verbatim, with the edge rules of the reference
/// implementation (transparency-dev/merkle): a proof from size 0 is refused,
/// even to size 0 (the caller's protocol handles size 0), and equal sizes
/// need an empty proof and equal roots.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), VerifyError> {
    if old > new {
        return Err(VerifyError::OldSizeTooLarge { old, new });
    }
    if old == 0 {
        return Err(VerifyError::OldSizeZero);
    }
    if old == new {
        if !proof.is_empty() {
            return Err(VerifyError::NonEmptyEqualSizeProof);
        }
        if old_root != new_root {
            return Err(VerifyError::RootMismatch {
                computed: *old_root,
                expected: *new_root,
            });
        }
        return Ok(());
    }
    let (fr, sr) = consistency_roots(old, new, old_root, proof)?;
    if &fr != old_root {
        return Err(VerifyError::OldRootMismatch {
            computed: fr,
            expected: *old_root,
        });
    }
    if &sr != new_root {
        return Err(VerifyError::RootMismatch {
            computed: sr,
            expected: *new_root,
        });
    }
    Ok(())
}

/// Steps 1–6 of §2.1.4.2 for `0 < old < new`: the old and new roots the
/// proof leads to. When `old` is a power of two the proof omits the old
/// root, so `old_root` seeds the computation; otherwise it is not used, and
/// the returned old root is what the proof itself implies — which turns a
/// validly signed, conflicting checkpoint plus its proof into evidence.
pub fn consistency_roots(
    old: u64,
    new: u64,
    old_root: &Hash,
    proof: &[Hash],
) -> Result<(Hash, Hash), VerifyError> {
    if old > new {
        return Err(VerifyError::OldSizeTooLarge { old, new });
    }
    if old == 0 {
        return Err(VerifyError::OldSizeZero);
    }
    if old == new {
        return Err(VerifyError::NonEmptyEqualSizeProof);
    }
    // Step 1.
    if proof.is_empty() {
        return Err(VerifyError::EmptyProof);
    }
    if proof.len() > MAX_CONSISTENCY_PROOF_LEN {
        return Err(VerifyError::ProofTooLong(proof.len()));
    }
    // Step 2: a power-of-two old tree is a node of the new one, so the
    // proof leaves it out and the verifier supplies it.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);

    // Steps 3 and 4.
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // Steps 5 and 6.
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return Err(VerifyError::ProofTooLongForShape);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7 (the root comparisons are the caller's).
    if sn != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    Ok((fr, sr))
}

/// The right edge of a tree: the roots of its maximal perfect subtrees,
/// largest first. Appending is O(log n) and never touches older hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// `(level, hash)`, strictly decreasing levels.
    subtrees: Vec<(u8, Hash)>,
}

impl Frontier {
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Rebuilds the frontier of a tree of `size` leaves from a node source.
    pub fn load<S: NodeSource>(src: &mut S, size: u64) -> Result<Frontier, S::Error> {
        let mut subtrees = Vec::new();
        let mut start = 0u64;
        for level in (0..64u8).rev() {
            if size & (1u64 << level) != 0 {
                subtrees.push((level, src.node(level, start >> level)?));
                start += 1u64 << level;
            }
        }
        Ok(Frontier { size, subtrees })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash. `on_node(level, index, hash)` is called for the
    /// leaf and for every interior node the append completes, bottom up.
    pub fn append(&mut self, leaf: Hash, on_node: &mut dyn FnMut(u8, u64, &Hash)) {
        let mut level = 0u8;
        let mut index = self.size;
        let mut h = leaf;
        on_node(level, index, &h);
        while let Some(&(l, left)) = self.subtrees.last() {
            if l != level {
                break;
            }
            self.subtrees.pop();
            h = node_hash(&left, &h);
            level += 1;
            index >>= 1;
            on_node(level, index, &h);
        }
        self.subtrees.push((level, h));
        self.size += 1;
    }

    /// `node(level, index)` when it is one of the frontier's subtrees.
    pub fn node(&self, level: u8, index: u64) -> Option<Hash> {
        let mut start = 0u64;
        for &(l, h) in &self.subtrees {
            if l == level && start >> l == index {
                return Some(h);
            }
            start += 1u64 << l;
        }
        None
    }

    /// `MTH(D[0..size])`.
    pub fn root(&self) -> Hash {
        let mut iter = self.subtrees.iter().rev();
        let Some(&(_, mut acc)) = iter.next() else {
            return Hash::EMPTY_ROOT;
        };
        for (_, left) in iter {
            acc = node_hash(left, &acc);
        }
        acc
    }
}

/// A whole tree held in memory, for tests, tools and small inputs.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is `node(l, i)` for every complete node.
    levels: Vec<Vec<Hash>>,
    frontier: Frontier,
}

impl MemoryTree {
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash>) -> MemoryTree {
        let mut t = MemoryTree::new();
        for l in leaves {
            t.append(l);
        }
        t
    }

    pub fn append(&mut self, leaf: Hash) {
        let levels = &mut self.levels;
        self.frontier.append(leaf, &mut |level, index, h| {
            let level = usize::from(level);
            if levels.len() <= level {
                levels.push(Vec::new());
            }
            debug_assert_eq!(levels[level].len() as u64, index);
            levels[level].push(*h);
        });
    }

    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    pub fn root_at(&mut self, size: u64) -> Hash {
        root(self, size).expect("memory tree holds every node")
    }

    pub fn inclusion_proof(&mut self, index: u64, size: u64) -> Option<Vec<Hash>> {
        if size > self.size() {
            return None;
        }
        inclusion_proof(self, index, size).ok()
    }

    pub fn consistency_proof(&mut self, old: u64, new: u64) -> Option<Vec<Hash>> {
        if new > self.size() {
            return None;
        }
        consistency_proof(self, old, new).ok()
    }
}

/// A node the tree does not (yet) hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("node at level {level}, index {index} is not in the tree")]
pub struct MissingNode {
    pub level: u8,
    pub index: u64,
}

impl NodeSource for MemoryTree {
    type Error = MissingNode;
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.levels.get(usize::from(level))?.get(i).copied())
            .ok_or(MissingNode { level, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    /// MTH straight from the RFC's recursive definition, over leaf data.
    fn reference_mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => Hash::EMPTY_ROOT,
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&reference_mth(&leaves[..k]), &reference_mth(&leaves[k..]))
            }
        }
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn frontier_root_matches_recursive_definition() {
        let all = leaves(70);
        let mut f = Frontier::new();
        assert_eq!(f.root(), Hash::EMPTY_ROOT);
        for (i, l) in all.iter().enumerate() {
            f.append(*l, &mut |_, _, _| {});
            assert_eq!(f.root(), reference_mth(&all[..=i]), "size {}", i + 1);
        }
    }

    #[test]
    fn a_frontier_gives_exactly_its_subtrees() {
        let all = leaves(13);
        let mut t = MemoryTree::from_leaf_hashes(all.clone());
        let mut f = Frontier::new();
        for l in &all {
            f.append(*l, &mut |_, _, _| {});
        }
        // 13 = 8 + 4 + 1: [0, 8), [8, 12), [12, 13).
        for (level, index) in [(3, 0), (2, 2), (0, 12)] {
            assert_eq!(f.node(level, index), Some(t.node(level, index).unwrap()));
        }
        for (level, index) in [(2, 0), (1, 4), (0, 11), (3, 1), (0, 13)] {
            assert_eq!(f.node(level, index), None, "({level}, {index})");
        }
    }

    #[test]
    fn root_at_any_size_from_nodes() {
        let all = leaves(70);
        let mut t = MemoryTree::from_leaf_hashes(all.clone());
        for n in 0..=70u64 {
            assert_eq!(t.root_at(n), reference_mth(&all[..n as usize]));
        }
    }

    #[test]
    fn frontier_load_reproduces_append() {
        let mut t = MemoryTree::from_leaf_hashes(leaves(37));
        let loaded = Frontier::load(&mut t, 37).unwrap();
        assert_eq!(loaded, t.frontier);
    }

    #[test]
    fn split_point_is_largest_power_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }
}
