//! Proof bundles: one file that proves an entry was in its author's feed,
//! verifiable offline with nothing but the bundle and the verifier keys.
//!
//! A bundle *is* a C2SP tlog-proof@v1 file (extension `.tlog-proof`): the
//! entry's canonical bytes ride in the `extra` line, so the record hash is
//! computed from the bundle itself, and the checkpoint carries the author's
//! signature plus every receipt (peer cosignature) and witness cosignature
//! collected for it. The entry's own `v` field versions its format.

use crate::checkpoint::{CheckpointError, SignedCheckpoint};
use crate::entry::{Entry, EntryError};
use crate::hash::{Hash, leaf_hash};
use crate::keys::{KeyType, VerifierKey};
use crate::merkle::{VerifyError, verify_inclusion};
use crate::note::Note;
use crate::policy::Policy;
use crate::proof::{TlogProof, TlogProofError};

/// The origin line of a party's feed in a channel.
pub fn feed_origin(channel: &str, author: &str) -> String {
    format!("parley/{channel}/{author}")
}

/// What a verifier trusts: plain keys, or a tlog-policy.
#[derive(Clone, Debug)]
pub enum Trust {
    /// The author's key (its party key, or its feed key named after the
    /// origin) and the keys of cosigners that must all have cosigned (0x01
    /// or 0x04 vkeys). Use a policy for "k of n" rules.
    Keys(Vec<VerifierKey>),
    /// A tlog-policy: logs by origin, witnesses and a quorum.
    Policy(Policy),
}

/// Why a bundle does not verify.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("not a tlog-proof: {0}")]
    Format(#[from] TlogProofError),
    #[error("the proof carries no entry (no extra line); it is not a parley bundle")]
    NoEntry,
    #[error("the entry is invalid: {0}")]
    Entry(#[from] EntryError),
    #[error("the proof is for index {index}, but the entry's sequence number is {seq}")]
    IndexMismatch { index: u64, seq: u64 },
    #[error("the checkpoint origin {found:?} is not the feed of the entry's author ({expected:?})")]
    WrongFeed { expected: String, found: String },
    #[error(
        "no trusted key for {author:?}: give the party's vkey (named {author:?}) or the feed's (named {origin:?})"
    )]
    UnknownAuthor { author: String, origin: String },
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("inclusion proof: {0}")]
    Inclusion(#[from] VerifyError),
    #[error("cosignatures do not meet the policy's quorum ({0})")]
    Quorum(String),
    #[error("{0} did not cosign this checkpoint: the bundle holds no receipt from {0}")]
    MissingCosignature(String),
}

/// What a verified bundle proves.
#[derive(Clone, Debug)]
pub struct VerifiedBundle {
    pub entry: Entry,
    pub leaf_hash: Hash,
    pub origin: String,
    pub tree_size: u64,
    pub root: Hash,
    /// Cosigners whose signatures verified, with their times (POSIX seconds).
    pub cosigners: Vec<(String, u64)>,
}

/// Builds a bundle from an entry's bytes, its index, the inclusion proof
/// and the signed checkpoint (with cosignatures).
pub fn make_bundle(entry_bytes: &[u8], index: u64, path: Vec<Hash>, checkpoint: &Note) -> String {
    TlogProof {
        extra: Some(entry_bytes.to_vec()),
        index,
        path,
        checkpoint: checkpoint.to_string(),
    }
    .to_text()
}

/// Verifies a bundle: the entry is canonical, the checkpoint is signed by
/// the author's feed key, the inclusion proof leads from the entry's leaf
/// hash to the checkpoint's root, and (with a policy) the quorum is met.
pub fn verify_bundle(text: &str, trust: &Trust) -> Result<VerifiedBundle, BundleError> {
    let proof = TlogProof::parse(text)?;
    let entry_bytes = proof.extra.as_deref().ok_or(BundleError::NoEntry)?;
    let entry = Entry::decode(entry_bytes)?;
    if proof.index != entry.seq {
        return Err(BundleError::IndexMismatch {
            index: proof.index,
            seq: entry.seq,
        });
    }
    let origin = feed_origin(&entry.channel, &entry.author);
    let note = Note::parse(proof.checkpoint.as_bytes()).map_err(CheckpointError::from)?;
    let (log_key, cosigner_keys) = keys_for(trust, &entry.author, &origin)?;
    let signed =
        SignedCheckpoint::open_note(note, &log_key, &cosigner_keys).map_err(|e| match e {
            CheckpointError::OriginMismatch { origin: found, .. } => BundleError::WrongFeed {
                expected: origin.clone(),
                found,
            },
            e => BundleError::Checkpoint(e),
        })?;
    let cp = &signed.checkpoint;
    let leaf = leaf_hash(entry_bytes);
    verify_inclusion(proof.index, cp.size, &leaf, &proof.path, &cp.root)?;
    let cosigned: Vec<(String, u32)> = signed
        .cosignatures
        .iter()
        .map(|c| (c.name.clone(), c.key_id))
        .collect();
    match trust {
        Trust::Policy(policy) if !policy.quorum_met(&cosigned) => {
            return Err(BundleError::Quorum(policy.describe_quorum()));
        }
        Trust::Policy(_) => {}
        Trust::Keys(_) => {
            if let Some(missing) = cosigner_keys.iter().find(|k| {
                !cosigned
                    .iter()
                    .any(|(n, id)| n == k.name() && *id == k.id())
            }) {
                return Err(BundleError::MissingCosignature(missing.name().to_string()));
            }
        }
    }
    Ok(VerifiedBundle {
        leaf_hash: leaf,
        origin: cp.origin.clone(),
        tree_size: cp.size,
        root: cp.root,
        cosigners: signed
            .cosignatures
            .iter()
            .filter_map(|c| Some((c.name.clone(), c.time?)))
            .collect(),
        entry,
    })
}

/// The author's feed key and the cosigner keys, from what the verifier trusts.
fn keys_for(
    trust: &Trust,
    author: &str,
    origin: &str,
) -> Result<(VerifierKey, Vec<VerifierKey>), BundleError> {
    let unknown = || BundleError::UnknownAuthor {
        author: author.to_string(),
        origin: origin.to_string(),
    };
    match trust {
        Trust::Policy(p) => {
            let log = p.log_for_origin(origin).ok_or_else(unknown)?.clone();
            Ok((log, p.witness_keys()))
        }
        Trust::Keys(keys) => {
            let author_key = keys
                .iter()
                .filter(|k| k.key_type() == KeyType::Ed25519)
                .find(|k| k.name() == origin || k.name() == author)
                .ok_or_else(unknown)?;
            let log = author_key
                .with(origin, KeyType::Ed25519)
                .map_err(|_| unknown())?;
            let cosigners = keys
                .iter()
                .filter(|k| !k.same_key(author_key))
                .map(|k| k.as_cosigner())
                .collect();
            Ok((log, cosigners))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;
    use crate::keys::SigningKey;
    use crate::merkle::MemoryTree;
    use crate::time::Timestamp;
    use serde_json::json;

    fn setup() -> (String, SigningKey, SigningKey, SigningKey) {
        let nato = SigningKey::from_seed("nato", [1; 32]).unwrap();
        let russia = SigningKey::from_seed("russia", [2; 32]).unwrap();
        let osce = SigningKey::from_seed("osce", [3; 32]).unwrap();
        let mut tree = MemoryTree::new();
        let mut entries = Vec::new();
        for seq in 0..5u64 {
            let e = Entry {
                channel: "hotline".into(),
                author: "nato".into(),
                seq,
                time: Timestamp::from_unix(1_700_000_000 + seq as i64).unwrap(),
                kind: "hotline_message".into(),
                refs: vec![],
                salt: [seq as u8; 16],
                body: json!({"text": {"en": format!("message {seq}")}}),
            };
            let bytes = e.encode().unwrap();
            tree.append(leaf_hash(&bytes));
            entries.push(bytes);
        }
        let origin = feed_origin("hotline", "nato");
        let cp = Checkpoint::new(&origin, 5, tree.root());
        let mut note = cp.sign(&nato.renamed(&origin).unwrap()).unwrap();
        note.cosign(&russia, 1_700_000_100);
        note.cosign(&osce, 1_700_000_200);
        let path = tree.inclusion_proof(3, 5).unwrap();
        (make_bundle(&entries[3], 3, path, &note), nato, russia, osce)
    }

    #[test]
    fn verifies_with_party_keys_and_reports_cosigners() {
        let (bundle, nato, russia, osce) = setup();
        let trust = Trust::Keys(vec![nato.verifier(), russia.verifier(), osce.cosigner()]);
        let v = verify_bundle(&bundle, &trust).unwrap();
        let absent = SigningKey::from_seed("absent", [8; 32]).unwrap();
        let more = Trust::Keys(vec![nato.verifier(), absent.verifier()]);
        assert!(
            matches!(verify_bundle(&bundle, &more), Err(BundleError::MissingCosignature(n)) if n == "absent")
        );
        assert_eq!(v.entry.seq, 3);
        assert_eq!(v.tree_size, 5);
        assert_eq!(
            v.cosigners,
            vec![
                ("russia".to_string(), 1_700_000_100),
                ("osce".to_string(), 1_700_000_200)
            ]
        );
    }

    #[test]
    fn verifies_with_policy_quorum() {
        let (bundle, nato, russia, osce) = setup();
        let log = nato.renamed("parley/hotline/nato").unwrap().verifier();
        let policy = |q: &str| {
            Policy::parse(&format!(
                "log {log}\nwitness R {}\nwitness O {}\nwitness X {}\n{q}",
                russia.cosigner(),
                osce.cosigner(),
                SigningKey::from_seed("x", [9; 32]).unwrap().cosigner()
            ))
            .unwrap()
        };
        assert!(
            verify_bundle(
                &bundle,
                &Trust::Policy(policy("group G all R O\nquorum G\n"))
            )
            .is_ok()
        );
        assert!(matches!(
            verify_bundle(
                &bundle,
                &Trust::Policy(policy("group G all R O X\nquorum G\n"))
            ),
            Err(BundleError::Quorum(_))
        ));
    }

    #[test]
    fn any_single_byte_change_is_detected() {
        let (bundle, nato, russia, osce) = setup();
        let trust = Trust::Keys(vec![nato.verifier(), russia.verifier(), osce.verifier()]);
        let bytes = bundle.as_bytes();
        for i in 0..bytes.len() {
            let mut b = bytes.to_vec();
            b[i] ^= 0x01;
            let Ok(s) = String::from_utf8(b) else {
                continue;
            };
            assert!(
                verify_bundle(&s, &trust).is_err(),
                "byte {i} changed without detection"
            );
        }
    }

    #[test]
    fn wrong_author_key_is_refused() {
        let (bundle, _, russia, _) = setup();
        let impostor = SigningKey::from_seed("nato", [7; 32]).unwrap();
        assert!(matches!(
            verify_bundle(&bundle, &Trust::Keys(vec![impostor.verifier()])),
            Err(BundleError::Checkpoint(
                CheckpointError::MissingLogSignature(_)
            ))
        ));
        assert!(matches!(
            verify_bundle(&bundle, &Trust::Keys(vec![russia.verifier()])),
            Err(BundleError::UnknownAuthor { .. })
        ));
    }
}
