//! The machine's bounds, measured in the same run: SHA-256 and Ed25519 on
//! one core (and verification on all cores), through the same code parley
//! uses.

use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use parley_log::hash::{Hash, leaf_hash, node_hash};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Hardware {
    /// SHA-256 over 1 MiB buffers.
    pub(crate) sha256_mb_per_s: f64,
    /// One RFC 9162 interior-node hash (65 bytes hashed).
    pub(crate) node_hashes_per_s: f64,
    /// One leaf hash of a typical 400-byte entry.
    pub(crate) entry_hashes_per_s: f64,
    pub(crate) ed25519_signs_per_s: f64,
    pub(crate) ed25519_verifies_per_s: f64,
    /// Verifications per second in batches of 64 (parley does not batch:
    /// a batch checks the cofactored equation; shown as a ceiling).
    pub(crate) ed25519_batch_verifies_per_s: f64,
    /// Strict verifications per second on every core at once (what the
    /// audit, which spreads its checks over the cores, is bound by).
    pub(crate) ed25519_verifies_all_cores_per_s: f64,
    pub(crate) cores: u64,
}

/// Runs `f` (which does `per_call` operations) repeatedly for about `secs`;
/// returns operations per second.
pub(crate) fn rate(secs: f64, per_call: u64, mut f: impl FnMut()) -> f64 {
    let budget = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut calls = 0u64;
    while calls < 3 || start.elapsed() < budget {
        f();
        calls += 1;
    }
    (calls * per_call) as f64 / start.elapsed().as_secs_f64()
}

pub(crate) fn measure(secs: f64) -> Hardware {
    let big = vec![0x5au8; 1 << 20];
    let sha = rate(secs, 1, || {
        std::hint::black_box(leaf_hash(std::hint::black_box(&big)));
    });
    let (a, b) = (Hash([1; 32]), Hash([2; 32]));
    let nodes = rate(secs, 1000, || {
        for _ in 0..1000 {
            std::hint::black_box(node_hash(std::hint::black_box(&a), &b));
        }
    });
    let entry = vec![0x41u8; 400];
    let entries = rate(secs, 1000, || {
        for _ in 0..1000 {
            std::hint::black_box(leaf_hash(std::hint::black_box(&entry)));
        }
    });
    let key = SigningKey::from_bytes(&[7; 32]);
    let msg = b"parley/bench/nato\n1000\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let signs = rate(secs, 1, || {
        std::hint::black_box(key.sign(std::hint::black_box(msg)));
    });
    let sig = key.sign(msg);
    let vk: VerifyingKey = key.verifying_key();
    let verifies = rate(secs, 1, || {
        assert!(vk.verify_strict(std::hint::black_box(msg), &sig).is_ok());
    });
    let keys: Vec<SigningKey> = (0..64u8)
        .map(|i| SigningKey::from_bytes(&[i; 32]))
        .collect();
    let msgs: Vec<Vec<u8>> = (0..64u8).map(|i| [msg.as_slice(), &[i]].concat()).collect();
    let sigs: Vec<_> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
    let vks: Vec<VerifyingKey> = keys.iter().map(SigningKey::verifying_key).collect();
    let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
    let batch = rate(secs, 64, || {
        assert!(ed25519_dalek::verify_batch(&refs, &sigs, &vks).is_ok());
    });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let all_cores: f64 = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..cores)
            .map(|_| {
                scope.spawn(|| {
                    rate(secs, 1, || {
                        assert!(vk.verify_strict(std::hint::black_box(msg), &sig).is_ok());
                    })
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("verifying does not panic"))
            .sum()
    });
    Hardware {
        sha256_mb_per_s: sha * (big.len() as f64) / 1e6,
        node_hashes_per_s: nodes,
        entry_hashes_per_s: entries,
        ed25519_signs_per_s: signs,
        ed25519_verifies_per_s: verifies,
        ed25519_batch_verifies_per_s: batch,
        ed25519_verifies_all_cores_per_s: all_cores,
        cores: cores as u64,
    }
}
