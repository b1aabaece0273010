//! Proof that a log signed two checkpoints that cannot both be true.
//!
//! Two cases, both checkable offline with only the log's public key:
//! * same size, different roots;
//! * sizes `m < n`, where a consistency proof in the larger tree shows
//!   that its prefix of size `m` has a root other than the one the log
//!   signed for size `m`.

use serde_json::{Value, json};

use crate::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use crate::hash::Hash;
use crate::keys::{KeyType, VerifierKey};
use crate::merkle::verify_consistency;
use crate::note::Note;

/// Format tag of an evidence file.
pub const EVIDENCE_FORMAT: &str = "parley-equivocation/v1";

/// Two conflicting signed checkpoints of one origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Equivocation {
    /// The smaller (or equal-size) checkpoint, as a signed note.
    pub first: String,
    /// The larger checkpoint, as a signed note.
    pub second: String,
    /// When sizes differ: the root of the second tree's prefix of the first
    /// size, and the consistency proof that binds it to the second root.
    pub prefix: Option<(Hash, Vec<Hash>)>,
}

/// Why evidence does not prove equivocation.
#[derive(Debug, thiserror::Error)]
pub enum EquivocationError {
    #[error("not an evidence file: {0}")]
    Format(String),
    #[error("checkpoint {which}: {err}")]
    Checkpoint {
        which: &'static str,
        err: CheckpointError,
    },
    #[error("the two checkpoints have different origins")]
    DifferentOrigins,
    #[error("the checkpoints agree: same size and same root")]
    Consistent,
    #[error("the consistency proof does not bind the prefix root to the larger checkpoint: {0}")]
    BadProof(String),
    #[error("the prefix root equals the smaller checkpoint's root: no conflict shown")]
    PrefixAgrees,
    #[error("different sizes need a prefix root and consistency proof")]
    MissingProof,
}

/// The facts an evidence file establishes.
#[derive(Clone, Debug)]
pub struct ProvenEquivocation {
    pub origin: String,
    pub first: Checkpoint,
    pub second: Checkpoint,
}

impl Equivocation {
    pub fn to_json(&self) -> String {
        let prefix = self.prefix.as_ref().map(|(root, proof)| {
            json!({
                "root": root.to_base64(),
                "consistency_proof": proof.iter().map(Hash::to_base64).collect::<Vec<_>>(),
            })
        });
        let v = json!({
            "format": EVIDENCE_FORMAT,
            "first_checkpoint": self.first,
            "second_checkpoint": self.second,
            "prefix": prefix,
        });
        serde_json::to_string_pretty(&v).expect("JSON value serializes") + "\n"
    }

    pub fn from_json(text: &str) -> Result<Equivocation, EquivocationError> {
        let bad = |why: &str| EquivocationError::Format(why.to_string());
        let v: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        if v["format"] != EVIDENCE_FORMAT {
            return Err(bad(&format!("format must be {EVIDENCE_FORMAT:?}")));
        }
        let s = |k: &str| {
            v[k].as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("{k} must be a string")))
        };
        let prefix = match &v["prefix"] {
            Value::Null => None,
            p => {
                let root = p["root"]
                    .as_str()
                    .and_then(|r| Hash::from_base64(r).ok())
                    .ok_or_else(|| bad("prefix.root must be a base64 hash"))?;
                let proof = p["consistency_proof"]
                    .as_array()
                    .ok_or_else(|| bad("prefix.consistency_proof must be an array"))?
                    .iter()
                    .map(|h| h.as_str().and_then(|h| Hash::from_base64(h).ok()))
                    .collect::<Option<Vec<Hash>>>()
                    .ok_or_else(|| bad("prefix.consistency_proof must hold base64 hashes"))?;
                Some((root, proof))
            }
        };
        Ok(Equivocation {
            first: s("first_checkpoint")?,
            second: s("second_checkpoint")?,
            prefix,
        })
    }

    /// The origin named in the first checkpoint, so a verifier can pick the key.
    pub fn origin(&self) -> Option<String> {
        let note = Note::parse(self.first.as_bytes()).ok()?;
        Checkpoint::parse(note.text()).ok().map(|c| c.origin)
    }

    /// Checks both signatures with the log key and that the checkpoints
    /// conflict. `log_key` may be the party key: it is renamed to the origin.
    pub fn verify(&self, log_key: &VerifierKey) -> Result<ProvenEquivocation, EquivocationError> {
        let origin = self
            .origin()
            .ok_or_else(|| EquivocationError::Format("first checkpoint unreadable".into()))?;
        let key = log_key
            .with(&origin, KeyType::Ed25519)
            .map_err(|e| EquivocationError::Format(e.to_string()))?;
        let open = |which: &'static str, text: &str| {
            SignedCheckpoint::open(text.as_bytes(), &key, &[])
                .map(|s| s.checkpoint)
                .map_err(|err| EquivocationError::Checkpoint { which, err })
        };
        let first = open("first", &self.first)?;
        let second = open("second", &self.second)?;
        if first.origin != second.origin {
            return Err(EquivocationError::DifferentOrigins);
        }
        if first.size == second.size {
            if first.root == second.root {
                return Err(EquivocationError::Consistent);
            }
        } else {
            let (prefix_root, proof) = self
                .prefix
                .as_ref()
                .ok_or(EquivocationError::MissingProof)?;
            if first.size > second.size {
                return Err(EquivocationError::Format(
                    "the first checkpoint must be the smaller".into(),
                ));
            }
            verify_consistency(first.size, second.size, prefix_root, &second.root, proof)
                .map_err(|e| EquivocationError::BadProof(e.to_string()))?;
            if *prefix_root == first.root {
                return Err(EquivocationError::PrefixAgrees);
            }
        }
        Ok(ProvenEquivocation {
            origin,
            first,
            second,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::keys::SigningKey;
    use crate::merkle::MemoryTree;

    #[test]
    fn fork_at_different_sizes_is_proven() {
        let party = SigningKey::from_seed("nato", [1; 32]).unwrap();
        let feed = party.renamed("parley/c/nato").unwrap();
        let mut a = MemoryTree::new();
        let mut b = MemoryTree::new();
        for i in 0..10u8 {
            a.append(leaf_hash(&[i]));
            b.append(leaf_hash(&[if i == 4 { 99 } else { i }]));
        }
        let sign = |t: &mut MemoryTree, n: u64| {
            Checkpoint::new("parley/c/nato", n, t.root_at(n))
                .sign(&feed)
                .unwrap()
                .to_string()
        };
        let ev = Equivocation {
            first: sign(&mut b, 6),
            second: sign(&mut a, 10),
            prefix: Some((a.root_at(6), a.consistency_proof(6, 10).unwrap())),
        };
        let parsed = Equivocation::from_json(&ev.to_json()).unwrap();
        assert_eq!(parsed, ev);
        let proven = parsed.verify(&party.verifier()).unwrap();
        assert_eq!((proven.first.size, proven.second.size), (6, 10));

        // Two honest checkpoints of the same tree prove nothing.
        let honest = Equivocation {
            first: sign(&mut a, 6),
            second: sign(&mut a, 10),
            prefix: Some((a.root_at(6), a.consistency_proof(6, 10).unwrap())),
        };
        assert!(matches!(
            honest.verify(&party.verifier()),
            Err(EquivocationError::PrefixAgrees)
        ));
        // Another key cannot be blamed.
        let other = SigningKey::from_seed("nato", [2; 32]).unwrap();
        assert!(ev.verify(&other.verifier()).is_err());
    }

    #[test]
    fn same_size_fork_is_proven() {
        let party = SigningKey::from_seed("nato", [1; 32]).unwrap();
        let feed = party.renamed("parley/c/nato").unwrap();
        let cp = |r: u8| {
            Checkpoint::new("parley/c/nato", 3, Hash([r; 32]))
                .sign(&feed)
                .unwrap()
                .to_string()
        };
        let ev = Equivocation {
            first: cp(1),
            second: cp(2),
            prefix: None,
        };
        assert!(ev.verify(&party.verifier()).is_ok());
        let same = Equivocation {
            first: cp(1),
            second: cp(1),
            prefix: None,
        };
        assert!(matches!(
            same.verify(&party.verifier()),
            Err(EquivocationError::Consistent)
        ));
    }
}
