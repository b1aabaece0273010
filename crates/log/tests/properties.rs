//! Exhaustive and randomized properties of proof generation and verification.
//!
//! For every tree size up to 300 and every index (inclusion) or old size
//! (consistency), the generated proof verifies, and a one-bit change to any
//! proof hash, root, leaf, size or index makes it fail.
//!
//! One caveat is inherent to RFC 9162 and is asserted precisely rather than
//! hidden: the verification algorithms use the sizes only to choose which
//! side each hash goes on, so a size (or index) change that leads to the
//! *same sequence of left/right steps* yields the same computed root and
//! verifies. (E.g. index 0 with the proof for size 5 also verifies as size
//! 7.) Sizes are authenticated by the signed checkpoint, never by a proof.
//! The tests check that verification fails exactly when the step sequence
//! differs.

use parley_log::hash::{Hash, leaf_hash, node_hash};
use parley_log::merkle::{
    MemoryTree, NodeSource, consistency_proof, inclusion_proof, range_hash, verify_consistency,
    verify_inclusion,
};
use proptest::prelude::*;

const MAX: u64 = 300;

fn tree(n: u64) -> MemoryTree {
    MemoryTree::from_leaf_hashes((0..n).map(|i| leaf_hash(&i.to_be_bytes())))
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut b = h.0;
    b[bit / 8 % 32] ^= 1 << (bit % 8);
    Hash(b)
}

/// The left/right steps the inclusion verifier takes, or `None` if it
/// rejects the shape outright (index ≥ size, wrong proof length).
fn inclusion_steps(index: u64, size: u64, len: usize) -> Option<Vec<bool>> {
    if index >= size {
        return None;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut steps = Vec::new();
    for _ in 0..len {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            steps.push(true);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            steps.push(false);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(steps)
}

/// The steps of the consistency verifier: whether the old root is
/// prepended, and for each hash whether it updates both roots or only the
/// new one on the right.
fn consistency_steps(old: u64, new: u64, len: usize) -> Option<(bool, Vec<bool>)> {
    if old == 0 || old >= new || len == 0 {
        return None;
    }
    let pow2 = old.is_power_of_two();
    let total = len + usize::from(pow2);
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut steps = Vec::new();
    for _ in 1..total {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            steps.push(true);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            steps.push(false);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some((pow2, steps))
}

/// A small deterministic generator, so every (size, index) pair gets its
/// own bit positions without making the exhaustive loop random.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
}

#[test]
fn every_inclusion_proof_up_to_300_verifies_and_every_mutation_fails() {
    let mut t = tree(MAX);
    let mut rng = Lcg(1);
    for n in 1..=MAX {
        let root = t.root_at(n);
        for m in 0..n {
            let leaf = leaf_hash(&m.to_be_bytes());
            let proof = t.inclusion_proof(m, n).unwrap();
            verify_inclusion(m, n, &leaf, &proof, &root)
                .unwrap_or_else(|e| panic!("({m}, {n}): {e}"));

            if !proof.is_empty() {
                let mut bad = proof.clone();
                let i = rng.next() % bad.len();
                bad[i] = flip(&bad[i], rng.next());
                assert!(
                    verify_inclusion(m, n, &leaf, &bad, &root).is_err(),
                    "proof bit ({m}, {n})"
                );
                let mut longer = proof.clone();
                longer.push(proof[0]);
                assert!(
                    verify_inclusion(m, n, &leaf, &longer, &root).is_err(),
                    "extra hash ({m}, {n})"
                );
                assert!(
                    verify_inclusion(m, n, &leaf, &proof[1..], &root).is_err(),
                    "missing hash ({m}, {n})"
                );
            }
            assert!(verify_inclusion(m, n, &flip(&leaf, rng.next()), &proof, &root).is_err());
            assert!(verify_inclusion(m, n, &leaf, &proof, &flip(&root, rng.next())).is_err());

            let want = inclusion_steps(m, n, proof.len());
            for bit in 0..64 {
                let n2 = n ^ (1 << bit);
                let same = inclusion_steps(m, n2, proof.len()) == want;
                assert_eq!(
                    verify_inclusion(m, n2, &leaf, &proof, &root).is_ok(),
                    same,
                    "size ({m}, {n}→{n2})"
                );
                let m2 = m ^ (1 << bit);
                let same = inclusion_steps(m2, n, proof.len()) == want;
                assert_eq!(
                    verify_inclusion(m2, n, &leaf, &proof, &root).is_ok(),
                    same,
                    "index ({m}→{m2}, {n})"
                );
            }
        }
    }
}

#[test]
fn every_consistency_proof_up_to_300_verifies_and_every_mutation_fails() {
    let mut t = tree(MAX);
    let roots: Vec<Hash> = (0..=MAX).map(|n| t.root_at(n)).collect();
    let mut rng = Lcg(2);
    for n in 1..=MAX {
        for m in 1..=n {
            let (r1, r2) = (roots[m as usize], roots[n as usize]);
            let proof = t.consistency_proof(m, n).unwrap();
            verify_consistency(m, n, &r1, &r2, &proof)
                .unwrap_or_else(|e| panic!("({m}, {n}): {e}"));
            if m == n {
                assert!(proof.is_empty());
                assert!(verify_consistency(m, n, &r1, &flip(&r2, rng.next()), &proof).is_err());
                assert!(verify_consistency(m, n, &r1, &r2, &[r1]).is_err());
                continue;
            }
            let mut bad = proof.clone();
            let i = rng.next() % bad.len();
            bad[i] = flip(&bad[i], rng.next());
            assert!(
                verify_consistency(m, n, &r1, &r2, &bad).is_err(),
                "proof bit ({m}, {n})"
            );
            assert!(
                verify_consistency(m, n, &flip(&r1, rng.next()), &r2, &proof).is_err(),
                "old root ({m}, {n})"
            );
            assert!(
                verify_consistency(m, n, &r1, &flip(&r2, rng.next()), &proof).is_err(),
                "new root ({m}, {n})"
            );
            let mut longer = proof.clone();
            longer.push(proof[0]);
            assert!(verify_consistency(m, n, &r1, &r2, &longer).is_err());
            assert!(verify_consistency(m, n, &r1, &r2, &proof[..proof.len() - 1]).is_err());

            let want = consistency_steps(m, n, proof.len());
            for bit in 0..64 {
                let m2 = m ^ (1 << bit);
                let same = consistency_steps(m2, n, proof.len()) == want;
                assert_eq!(
                    verify_consistency(m2, n, &r1, &r2, &proof).is_ok(),
                    same,
                    "old size ({m}→{m2}, {n})"
                );
                let n2 = n ^ (1 << bit);
                let same = consistency_steps(m, n2, proof.len()) == want;
                assert_eq!(
                    verify_consistency(m, n2, &r1, &r2, &proof).is_ok(),
                    same,
                    "new size ({m}, {n}→{n2})"
                );
            }
        }
    }
}

/// A tree too large to build: every leaf is the same hash except a few
/// "marked" ones, so the hash of any subtree without marks is known per
/// level and the rest is computed along the marks' paths. The tree is
/// internally consistent, so proofs at sizes up to 2^64 can be generated
/// and verified for real.
struct VirtualTree {
    marks: Vec<u64>,
    uniform: Vec<Hash>,
}

impl VirtualTree {
    fn new(marks: Vec<u64>) -> VirtualTree {
        let mut uniform = vec![leaf_hash(b"uniform")];
        for l in 0..64 {
            let h = uniform[l];
            uniform.push(node_hash(&h, &h));
        }
        VirtualTree { marks, uniform }
    }
}

impl NodeSource for VirtualTree {
    type Error = std::convert::Infallible;
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        let lo = u128::from(index) << level;
        let hi = (u128::from(index) + 1) << level;
        if !self
            .marks
            .iter()
            .any(|&m| (lo..hi).contains(&u128::from(m)))
        {
            return Ok(self.uniform[usize::from(level)]);
        }
        if level == 0 {
            return Ok(leaf_hash(&index.to_be_bytes()));
        }
        let l = self.node(level - 1, index * 2)?;
        let r = self.node(level - 1, index * 2 + 1)?;
        Ok(node_hash(&l, &r))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn proofs_hold_at_any_size_up_to_2_pow_64(size in 2u64..=u64::MAX, frac in 0.0f64..1.0, bit in 0usize..256) {
        let index = ((size as f64 * frac) as u64).min(size - 1);
        let mut src = VirtualTree::new(vec![index, index ^ 1, size / 3, size - 1]);
        let root = range_hash(&mut src, 0, size).unwrap();
        let leaf = src.node(0, index).unwrap();
        let proof = inclusion_proof(&mut src, index, size).unwrap();
        prop_assert!(proof.len() <= 64);
        prop_assert!(consistency_proof(&mut src, index.max(1), size).unwrap().len() <= 65);
        prop_assert!(verify_inclusion(index, size, &leaf, &proof, &root).is_ok());
        prop_assert!(verify_inclusion(index, size, &flip(&leaf, bit), &proof, &root).is_err());

        let old = index.max(1);
        let old_root = range_hash(&mut src, 0, old).unwrap();
        let cproof = consistency_proof(&mut src, old, size).unwrap();
        prop_assert!(verify_consistency(old, size, &old_root, &root, &cproof).is_ok());
        prop_assert!(verify_consistency(old, size, &flip(&old_root, bit), &root, &cproof).is_err());
    }

    #[test]
    fn any_bit_of_any_proof_hash_matters(n in 2u64..2000, frac in 0.0f64..1.0, which in 0usize..64, bit in 0usize..256) {
        let m = ((n as f64 * frac) as u64).min(n - 1);
        let mut t = tree(n);
        let root = t.root_at(n);
        let leaf = leaf_hash(&m.to_be_bytes());
        let mut proof = t.inclusion_proof(m, n).unwrap();
        let i = which % proof.len();
        proof[i] = flip(&proof[i], bit);
        prop_assert!(verify_inclusion(m, n, &leaf, &proof, &root).is_err());
    }
}

/// Found by the property test above: above 2^63 leaves a consistency proof
/// can need 65 hashes, one more than any inclusion proof.
#[test]
fn consistency_proofs_above_2_pow_63_may_hold_65_hashes() {
    let size: u64 = 12071325194869343233;
    let index = ((size as f64 * 0.00020225047710322147) as u64).min(size - 1);
    let mut src = VirtualTree::new(vec![index, index ^ 1, size / 3, size - 1]);
    let root = range_hash(&mut src, 0, size).unwrap();
    let old = index.max(1);
    let old_root = range_hash(&mut src, 0, old).unwrap();
    let cproof = consistency_proof(&mut src, old, size).unwrap();
    assert_eq!(cproof.len(), 65);
    verify_consistency(old, size, &old_root, &root, &cproof).unwrap();
    let mut longer = cproof.clone();
    longer.push(root);
    assert!(verify_consistency(old, size, &old_root, &root, &longer).is_err());
}
