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
use crate::hash::Hash;
use crate::identity::{Role, receipt_party};
use crate::keys::{KeyType, VerifierKey};
use crate::merkle::{VerifyError, verify_inclusion};
use crate::note::Note;
use crate::policy::Policy;
use crate::proof::{TlogProof, TlogProofError};

/// The origin line of a party's feed in a channel.
pub fn feed_origin(channel: &str, author: &str) -> String {
    format!("parley/{channel}/{author}")
}

/// What a verifier trusts: keys, or a tlog-policy.
#[derive(Clone, Debug)]
pub enum Trust {
    /// Keys the verifier holds. The author's log key is the 0x01 key named
    /// after the author (or the feed's origin); 0x04 keys are cosigners
    /// (receipt keys `<party>/receipt`, witness keys). Cosigners in
    /// `required` must all have cosigned, except the author's own receipt
    /// key (an author never receipts its own feed); `known` ones are
    /// verified and reported where present.
    Keys {
        known: Vec<VerifierKey>,
        required: Vec<VerifierKey>,
    },
    /// A tlog-policy: logs by origin, witnesses and a quorum.
    Policy(Policy),
}

impl Trust {
    /// Every key required: the author's among them, every other cosigner
    /// must have cosigned.
    pub fn required(keys: Vec<VerifierKey>) -> Trust {
        Trust::Keys {
            known: Vec::new(),
            required: keys,
        }
    }

    /// Every key known, none required.
    pub fn known(keys: Vec<VerifierKey>) -> Trust {
        Trust::Keys {
            known: keys,
            required: Vec::new(),
        }
    }
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
        "no trusted key for {author:?}: give the party's log key (named {author:?}, in its identity file) or the feed's (named {origin:?})"
    )]
    UnknownAuthor { author: String, origin: String },
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("inclusion proof: {0}")]
    Inclusion(#[from] VerifyError),
    #[error("cosignatures do not meet the policy's quorum ({0})")]
    Quorum(String),
    #[error("{}", missing_message(.0))]
    MissingCosignature(String),
}

fn missing_message(name: &str) -> String {
    match receipt_party(name) {
        Some(p) => format!("no receipt from {p}: the bundle does not prove delivery to {p}"),
        None => format!(
            "{name} did not cosign this checkpoint: the bundle holds no cosignature from {name}"
        ),
    }
}

/// What a cosignature in a verified bundle states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cosigned {
    /// A member's receipt: `party` verified and stored the feed up to the
    /// checkpoint's size at `time`.
    Receipt { party: String, time: u64 },
    /// A witness's cosignature: `name` had seen no other history of this
    /// log at `time`. It says nothing about delivery.
    Witness { name: String, time: u64 },
}

impl Cosigned {
    pub fn time(&self) -> u64 {
        match self {
            Cosigned::Receipt { time, .. } | Cosigned::Witness { time, .. } => *time,
        }
    }
}

/// What a verified bundle proves.
#[derive(Clone, Debug)]
pub struct VerifiedBundle {
    pub entry: Entry,
    pub leaf_hash: Hash,
    pub origin: String,
    pub tree_size: u64,
    pub root: Hash,
    /// Cosignatures that verified, receipts first, each with its time.
    pub cosigned: Vec<Cosigned>,
}

impl VerifiedBundle {
    /// The receipts: (party, time).
    pub fn receipts(&self) -> impl Iterator<Item = (&str, u64)> {
        self.cosigned.iter().filter_map(|c| match c {
            Cosigned::Receipt { party, time } => Some((party.as_str(), *time)),
            Cosigned::Witness { .. } => None,
        })
    }

    /// The witness cosignatures: (key name, time).
    pub fn witnesses(&self) -> impl Iterator<Item = (&str, u64)> {
        self.cosigned.iter().filter_map(|c| match c {
            Cosigned::Witness { name, time } => Some((name.as_str(), *time)),
            Cosigned::Receipt { .. } => None,
        })
    }
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
/// hash to the checkpoint's root, and the required cosignatures (or the
/// policy's quorum) are present. A cosignature by the author's own receipt
/// key is ignored: nobody receipts its own feed.
///
/// # Errors
/// Any of [`BundleError`]: the first check that fails.
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
    let (log_keys, cosigner_keys) = keys_for(trust, &entry.author, &origin)?;
    let own_receipt = Role::Receipt.key_name(&entry.author);
    let cosigner_keys: Vec<VerifierKey> = cosigner_keys
        .into_iter()
        .filter(|k| k.name() != own_receipt)
        .collect();
    let signed = open_with_any(&note, &log_keys, &cosigner_keys, &origin)?;
    let cp = &signed.checkpoint;
    let leaf = entry.leaf_hash()?;
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
        Trust::Keys { required, .. } => {
            if let Some(missing) = required
                .iter()
                .filter(|k| k.key_type() == KeyType::CosignatureV1 && k.name() != own_receipt)
                .find(|k| {
                    !cosigned
                        .iter()
                        .any(|(n, id)| n == k.name() && *id == k.id())
                })
            {
                return Err(BundleError::MissingCosignature(missing.name().to_string()));
            }
        }
    }
    let mut out: Vec<Cosigned> = signed
        .cosignatures
        .iter()
        .filter_map(|c| {
            let time = c.time?;
            Some(match receipt_party(&c.name) {
                Some(p) => Cosigned::Receipt {
                    party: p.to_string(),
                    time,
                },
                None => Cosigned::Witness {
                    name: c.name.clone(),
                    time,
                },
            })
        })
        .collect();
    out.sort_by_key(|c| matches!(c, Cosigned::Witness { .. }));
    Ok(VerifiedBundle {
        leaf_hash: leaf,
        origin: cp.origin.clone(),
        tree_size: cp.size,
        root: cp.root,
        cosigned: out,
        entry,
    })
}

/// Opens the checkpoint with the first of the author's log keys (current or
/// retired) that signed it.
fn open_with_any(
    note: &Note,
    log_keys: &[VerifierKey],
    cosigners: &[VerifierKey],
    origin: &str,
) -> Result<SignedCheckpoint, BundleError> {
    let mut last = None;
    for key in log_keys {
        match SignedCheckpoint::open_note(note.clone(), key, cosigners) {
            Ok(s) => return Ok(s),
            Err(CheckpointError::OriginMismatch { origin: found, .. }) => {
                return Err(BundleError::WrongFeed {
                    expected: origin.to_string(),
                    found,
                });
            }
            Err(e) => last = Some(e),
        }
    }
    Err(BundleError::Checkpoint(
        last.expect("keys_for returns at least one log key"),
    ))
}

/// The author's feed keys and the cosigner keys, from what the verifier trusts.
fn keys_for(
    trust: &Trust,
    author: &str,
    origin: &str,
) -> Result<(Vec<VerifierKey>, Vec<VerifierKey>), BundleError> {
    let unknown = || BundleError::UnknownAuthor {
        author: author.to_string(),
        origin: origin.to_string(),
    };
    match trust {
        Trust::Policy(p) => {
            let log = p.log_for_origin(origin).ok_or_else(unknown)?.clone();
            Ok((vec![log], p.witness_keys()))
        }
        Trust::Keys { known, required } => {
            let all = || known.iter().chain(required);
            let logs: Vec<VerifierKey> = all()
                .filter(|k| k.key_type() == KeyType::Ed25519)
                .filter(|k| k.name() == origin || k.name() == author)
                .filter_map(|k| k.with(origin, KeyType::Ed25519).ok())
                .collect();
            if logs.is_empty() {
                return Err(unknown());
            }
            let cosigners = all()
                .filter(|k| k.key_type() == KeyType::CosignatureV1)
                .cloned()
                .collect();
            Ok((logs, cosigners))
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
        let russia = SigningKey::from_seed("russia/receipt", [2; 32]).unwrap();
        let osce = SigningKey::from_seed("osce/witness", [3; 32]).unwrap();
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
            tree.append(e.leaf_hash().unwrap());
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
    fn verifies_with_party_keys_and_tells_receipts_from_witnesses() {
        let (bundle, nato, russia, osce) = setup();
        let trust = Trust::required(vec![nato.verifier(), russia.cosigner(), osce.cosigner()]);
        let v = verify_bundle(&bundle, &trust).unwrap();
        let absent = SigningKey::from_seed("ukraine/receipt", [8; 32]).unwrap();
        let more = Trust::required(vec![nato.verifier(), absent.cosigner()]);
        let err = verify_bundle(&bundle, &more).unwrap_err();
        assert!(matches!(&err, BundleError::MissingCosignature(n) if n == "ukraine/receipt"));
        assert_eq!(
            err.to_string(),
            "no receipt from ukraine: the bundle does not prove delivery to ukraine"
        );
        assert_eq!(v.entry.seq, 3);
        assert_eq!(v.tree_size, 5);
        assert_eq!(
            v.receipts().collect::<Vec<_>>(),
            vec![("russia", 1_700_000_100)]
        );
        assert_eq!(
            v.witnesses().collect::<Vec<_>>(),
            vec![("osce/witness", 1_700_000_200)]
        );
        // A 0x01 key is never taken as a cosigner: a party's log key does
        // not stand in for its receipt key.
        let as_log = SigningKey::from_seed("russia", [2; 32]).unwrap();
        let v = verify_bundle(
            &bundle,
            &Trust::required(vec![nato.verifier(), as_log.verifier()]),
        )
        .unwrap();
        assert_eq!(v.receipts().count(), 0);
    }

    #[test]
    fn an_authors_own_receipt_never_counts() {
        let (bundle, nato, russia, _) = setup();
        let mut proof = crate::proof::TlogProof::parse(&bundle).unwrap();
        let mut note = Note::parse(proof.checkpoint.as_bytes()).unwrap();
        let own = SigningKey::from_seed("nato/receipt", [4; 32]).unwrap();
        note.cosign(&own, 1_700_000_300);
        proof.checkpoint = note.to_string();
        let bundle = proof.to_text();
        let v = verify_bundle(
            &bundle,
            &Trust::known(vec![nato.verifier(), own.cosigner(), russia.cosigner()]),
        )
        .unwrap();
        assert_eq!(
            v.receipts().collect::<Vec<_>>(),
            vec![("russia", 1_700_000_100)]
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
        let trust = Trust::required(vec![nato.verifier(), russia.cosigner(), osce.cosigner()]);
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
            verify_bundle(&bundle, &Trust::required(vec![impostor.verifier()])),
            Err(BundleError::Checkpoint(
                CheckpointError::MissingLogSignature(_)
            ))
        ));
        assert!(matches!(
            verify_bundle(&bundle, &Trust::required(vec![russia.cosigner()])),
            Err(BundleError::UnknownAuthor { .. })
        ));
    }
}
