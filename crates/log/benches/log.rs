//! Log library benchmarks: `cargo bench -p parley-log`.
//!
//! The `baseline_*` benchmarks measure the hardware bound in the same run:
//! raw SHA-256 of a 64-byte block and of a 300-byte entry, and one raw
//! Ed25519 strict verification. Every other benchmark reports items per
//! second, to be read as a ratio against them (an append costs about two
//! SHA-256 calls; a checkpoint verification about one Ed25519 verify).

use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use parley_log::SigningKey;
use parley_log::checkpoint::{Checkpoint, SignedCheckpoint};
use parley_log::hash::{Hash, leaf_hash};
use parley_log::merkle::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion,
};
use parley_log::tiles::{MemoryTileStore, TileNodes, TiledTree};
use sha2::{Digest, Sha256};

fn main() {
    divan::main();
}

/// A 300-byte stand-in for an encoded entry (a short hotline message).
fn entry(i: u64) -> Vec<u8> {
    let mut e = vec![b'x'; 300];
    e[..8].copy_from_slice(&i.to_be_bytes());
    e
}

#[divan::bench(name = "baseline_sha256_64B")]
fn baseline_sha256_64(b: Bencher) {
    let block = [7u8; 64];
    b.counter(BytesCount::new(64usize))
        .bench(|| Sha256::digest(black_box(&block)));
}

#[divan::bench(name = "baseline_sha256_300B")]
fn baseline_sha256_300(b: Bencher) {
    let e = entry(1);
    b.counter(BytesCount::new(300usize))
        .bench(|| Sha256::digest(black_box(&e)));
}

#[divan::bench(name = "baseline_ed25519_verify")]
fn baseline_ed25519_verify(b: Bencher) {
    let key = SigningKey::from_seed("bench", [1; 32]).unwrap();
    let msg = b"parley/bench/nato\n1000000\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let sig = key.sign_raw(msg);
    let v = key.verifier();
    b.counter(ItemsCount::new(1usize))
        .bench(|| assert!(v.verify_ed25519(black_box(msg), black_box(&sig))));
}

/// Appending entries: leaf hashing, interior hashing and tile writes, in
/// batches of 256 (one checkpoint per batch).
#[divan::bench(name = "append_entries", args = [1_000, 100_000])]
fn append(b: Bencher, n: u64) {
    let entries: Vec<Vec<u8>> = (0..n).map(entry).collect();
    b.counter(ItemsCount::new(n as usize)).bench(|| {
        let mut store = MemoryTileStore::new();
        let mut tree = TiledTree::new();
        for batch in entries.chunks(256) {
            let leaves: Vec<Hash> = batch.iter().map(|e| leaf_hash(e)).collect();
            tree.append(&leaves, &mut store).unwrap();
        }
        tree.root()
    });
}

fn big_tree(n: u64) -> MemoryTileStore {
    let mut store = MemoryTileStore::new();
    let mut tree = TiledTree::new();
    let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&entry(i))).collect();
    for batch in leaves.chunks(4096) {
        tree.append(batch, &mut store).unwrap();
    }
    store
}

const PROOF_TREE: u64 = 1_000_003;

/// An inclusion proof computed from stored tiles in a tree of 1,000,003.
#[divan::bench(name = "inclusion_proof_from_tiles")]
fn prove_inclusion(b: Bencher) {
    let store = big_tree(PROOF_TREE);
    let mut i = 0u64;
    b.counter(ItemsCount::new(1usize)).bench_local(|| {
        i = (i + 7919) % PROOF_TREE;
        let mut nodes = TileNodes::new(&store);
        inclusion_proof(&mut nodes, i, PROOF_TREE).unwrap()
    });
}

#[divan::bench(name = "consistency_proof_from_tiles")]
fn prove_consistency(b: Bencher) {
    let store = big_tree(PROOF_TREE);
    b.counter(ItemsCount::new(1usize)).bench_local(|| {
        let mut nodes = TileNodes::new(&store);
        consistency_proof(&mut nodes, 777_777, PROOF_TREE).unwrap()
    });
}

#[divan::bench(name = "verify_inclusion_proof")]
fn verify_incl(b: Bencher) {
    let store = big_tree(PROOF_TREE);
    let mut nodes = TileNodes::new(&store);
    let root = parley_log::merkle::root(&mut nodes, PROOF_TREE).unwrap();
    let proof = inclusion_proof(&mut nodes, 123_456, PROOF_TREE).unwrap();
    let leaf = leaf_hash(&entry(123_456));
    b.counter(ItemsCount::new(1usize)).bench(|| {
        verify_inclusion(
            123_456,
            PROOF_TREE,
            black_box(&leaf),
            black_box(&proof),
            &root,
        )
        .unwrap()
    });
}

#[divan::bench(name = "verify_consistency_proof")]
fn verify_cons(b: Bencher) {
    let store = big_tree(PROOF_TREE);
    let mut nodes = TileNodes::new(&store);
    let old = parley_log::merkle::root(&mut nodes, 777_777).unwrap();
    let new = parley_log::merkle::root(&mut nodes, PROOF_TREE).unwrap();
    let proof = consistency_proof(&mut nodes, 777_777, PROOF_TREE).unwrap();
    b.counter(ItemsCount::new(1usize))
        .bench(|| verify_consistency(777_777, PROOF_TREE, &old, &new, black_box(&proof)).unwrap());
}

/// Parsing a signed checkpoint note and verifying its log signature.
#[divan::bench(name = "verify_checkpoint_signature")]
fn verify_checkpoint(b: Bencher) {
    let key = SigningKey::from_seed("parley/bench/nato", [1; 32]).unwrap();
    let note = Checkpoint::new("parley/bench/nato", PROOF_TREE, Hash([3; 32]))
        .sign(&key)
        .unwrap()
        .to_string();
    let v = key.verifier();
    b.counter(ItemsCount::new(1usize))
        .bench(|| SignedCheckpoint::open(black_box(note.as_bytes()), &v, &[]).unwrap());
}

/// A checkpoint with a receipt from each of 3 peers and 1 witness.
#[divan::bench(name = "verify_checkpoint_with_4_cosignatures")]
fn verify_cosigned(b: Bencher) {
    let key = SigningKey::from_seed("parley/bench/nato", [1; 32]).unwrap();
    let cosigners: Vec<SigningKey> = (0..4u8)
        .map(|i| SigningKey::from_seed(&format!("peer{i}"), [10 + i; 32]).unwrap())
        .collect();
    let mut note = Checkpoint::new("parley/bench/nato", PROOF_TREE, Hash([3; 32]))
        .sign(&key)
        .unwrap();
    for c in &cosigners {
        note.cosign(c, 1_700_000_000);
    }
    let text = note.to_string();
    let keys: Vec<_> = cosigners.iter().map(SigningKey::cosigner).collect();
    let v = key.verifier();
    b.counter(ItemsCount::new(1usize))
        .bench(|| SignedCheckpoint::open(black_box(text.as_bytes()), &v, &keys).unwrap());
}
