//! A proof of silence: "this request was delivered to the debtor at T, and
//! the debtor's feed, as of T' (cosigned), holds no entry that answers it",
//! checkable offline with the parties' keys, revealing only the headers
//! (kind, references, time, author, sequence) of the debtor's entries,
//! never their bodies.
//!
//! The file (`parley-silence/v1`, JSON) carries:
//!
//! * `request`: the request's proof bundle (C2SP tlog-proof with the entry),
//!   whose checkpoint carries the debtor's receipt;
//! * `debtor_checkpoint`: the debtor's feed checkpoint in that channel at
//!   size N, signed by the debtor and cosigned (by witnesses, and the
//!   creditor's receipt) with times;
//! * `headers`: the headers of all N entries of the debtor's feed. They
//!   hash to the checkpoint's root, so none can be left out;
//! * `answered_by`: the kinds that would answer the request (the verifier
//!   checks them against its own kind registry), and the `deadline` the
//!   prover computed (informative: the verifier compares it with the times).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::bundle::{BundleError, Trust, VerifiedBundle, feed_origin, verify_bundle};
use crate::checkpoint::{CheckpointError, SignedCheckpoint};
use crate::entry::{EntryError, EntryHeader};
use crate::identity::receipt_party;
use crate::keys::{KeyType, VerifierKey};
use crate::merkle::MemoryTree;
use crate::note::Note;
use crate::time::Timestamp;

/// Format tag of a silence proof file.
pub const SILENCE_FORMAT: &str = "parley-silence/v1";

/// A proof of silence, as written to a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SilenceProof {
    pub request: String,
    pub debtor: String,
    pub debtor_checkpoint: String,
    pub headers: Vec<Vec<u8>>,
    pub answered_by: Vec<String>,
    pub deadline: Option<Timestamp>,
}

/// Why a proof of silence does not hold.
#[derive(Debug, thiserror::Error)]
pub enum SilenceError {
    #[error("not a proof of silence: {0}")]
    Format(String),
    #[error("the request: {0}")]
    Request(#[from] BundleError),
    #[error("the request carries no receipt from {0}: its delivery is not proven")]
    NotDelivered(String),
    #[error("no trusted log key for {0}")]
    UnknownDebtor(String),
    #[error("the debtor's checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("the debtor's checkpoint carries no cosignature with a time from a trusted key")]
    Uncosigned,
    #[error("header {index}: {why}")]
    Header { index: usize, why: String },
    #[error(
        "the {count} headers hash to {computed}, not to the root {root} the debtor signed for size {size}"
    )]
    Incomplete {
        count: usize,
        size: u64,
        root: String,
        computed: String,
    },
    #[error("not silent: {debtor} answered with {id} ({kind}, stated {time})")]
    Answered {
        debtor: String,
        id: String,
        kind: String,
        time: String,
    },
}

/// What a proof of silence establishes.
#[derive(Clone, Debug)]
pub struct ProvenSilence {
    pub request: VerifiedBundle,
    pub debtor: String,
    /// The debtor's receipt time of the request.
    pub delivered_at: u64,
    /// Size of the debtor's feed the headers cover.
    pub size: u64,
    /// The latest cosignature time on that checkpoint, and who made it.
    pub as_of: u64,
    pub as_of_by: String,
    /// Every cosignature on it: (name, time).
    pub cosigned: Vec<(String, u64)>,
    pub deadline: Option<Timestamp>,
    /// Entries of the debtor that reference the request without answering
    /// it (e.g. an acknowledgement): (id, kind).
    pub referencing: Vec<(String, String)>,
}

impl SilenceProof {
    pub fn to_json(&self) -> String {
        let v = json!({
            "format": SILENCE_FORMAT,
            "debtor": self.debtor,
            "answered_by": self.answered_by,
            "deadline": self.deadline.map(|t| t.to_string()),
            "request": self.request,
            "debtor_checkpoint": self.debtor_checkpoint,
            "headers": self.headers.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&v).expect("JSON value serializes") + "\n"
    }

    /// # Errors
    /// The text is not a `parley-silence/v1` file.
    pub fn from_json(text: &str) -> Result<SilenceProof, SilenceError> {
        let bad = |w: &str| SilenceError::Format(w.to_string());
        let v: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        if v["format"] != SILENCE_FORMAT {
            return Err(bad(&format!("format must be {SILENCE_FORMAT:?}")));
        }
        let s = |k: &str| {
            v[k].as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("{k} must be a string")))
        };
        let headers = v["headers"]
            .as_array()
            .ok_or_else(|| bad("headers must be an array"))?
            .iter()
            .map(|h| h.as_str().and_then(|h| STANDARD.decode(h).ok()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("headers must hold base64 strings"))?;
        let answered_by = v["answered_by"]
            .as_array()
            .ok_or_else(|| bad("answered_by must be an array"))?
            .iter()
            .map(|k| k.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("answered_by must hold kinds"))?;
        let deadline = match &v["deadline"] {
            Value::Null => None,
            Value::String(t) => Some(Timestamp::parse(t).map_err(|e| bad(&e.to_string()))?),
            _ => return Err(bad("deadline must be an RFC 3339 time or null")),
        };
        Ok(SilenceProof {
            request: s("request")?,
            debtor: s("debtor")?,
            debtor_checkpoint: s("debtor_checkpoint")?,
            headers,
            answered_by,
            deadline,
        })
    }

    /// Checks the proof. `answering` gives, for a request kind, the kinds
    /// that answer it (the verifier's own registry); the file's list is not
    /// trusted. Any entry referencing the request with one of those kinds
    /// defeats the proof.
    ///
    /// # Errors
    /// The first check that fails, as a [`SilenceError`].
    pub fn verify(
        &self,
        trust: &Trust,
        answering: &dyn Fn(&str) -> Vec<String>,
    ) -> Result<ProvenSilence, SilenceError> {
        let request = verify_bundle(&self.request, trust)?;
        let delivered_at = request
            .receipts()
            .find(|(p, _)| *p == self.debtor)
            .map(|(_, t)| t)
            .ok_or_else(|| SilenceError::NotDelivered(self.debtor.clone()))?;
        let channel = request.entry.channel.clone();
        let origin = feed_origin(&channel, &self.debtor);
        let (log_keys, cosigners) = keys_of(trust, &self.debtor, &origin)?;
        let note = Note::parse(self.debtor_checkpoint.as_bytes()).map_err(CheckpointError::from)?;
        let mut last = None;
        let signed = log_keys
            .iter()
            .find_map(|k| {
                SignedCheckpoint::open_note(note.clone(), k, &cosigners)
                    .map_err(|e| last = Some(e))
                    .ok()
            })
            .ok_or_else(|| {
                SilenceError::Checkpoint(
                    last.unwrap_or(CheckpointError::MissingLogSignature(origin.clone())),
                )
            })?;
        let cp = &signed.checkpoint;
        // A receipt by the debtor itself says nothing about its own feed.
        let own = format!("{}/receipt", self.debtor);
        let cosigned: Vec<(String, u64)> = signed
            .cosignatures
            .iter()
            .filter(|c| c.name != own)
            .filter_map(|c| Some((c.name.clone(), c.time?)))
            .collect();
        let (as_of_by, as_of) = cosigned
            .iter()
            .max_by_key(|(_, t)| *t)
            .cloned()
            .ok_or(SilenceError::Uncosigned)?;
        let mut tree = MemoryTree::new();
        let request_leaf = request.leaf_hash;
        let answers = answering(&request.entry.kind);
        let mut referencing = Vec::new();
        for (i, bytes) in self.headers.iter().enumerate() {
            let h = EntryHeader::decode(bytes).map_err(|e: EntryError| SilenceError::Header {
                index: i,
                why: e.to_string(),
            })?;
            if h.channel != channel || h.author != self.debtor || h.seq != i as u64 {
                return Err(SilenceError::Header {
                    index: i,
                    why: format!("it is {}, not {channel}/{}/{i}", h.id(), self.debtor),
                });
            }
            if h.refs.contains(&request_leaf) {
                if answers.contains(&h.kind) {
                    return Err(SilenceError::Answered {
                        debtor: self.debtor.clone(),
                        id: h.id(),
                        kind: h.kind.clone(),
                        time: h.time.to_string(),
                    });
                }
                referencing.push((h.id(), h.kind.clone()));
            }
            tree.append(h.leaf_hash());
        }
        if tree.size() != cp.size || tree.root() != cp.root {
            return Err(SilenceError::Incomplete {
                count: self.headers.len(),
                size: cp.size,
                root: cp.root.to_base64(),
                computed: tree.root().to_base64(),
            });
        }
        Ok(ProvenSilence {
            delivered_at,
            debtor: self.debtor.clone(),
            size: cp.size,
            as_of,
            as_of_by: receipt_party(&as_of_by)
                .map(|p| format!("{p} (receipt)"))
                .unwrap_or(as_of_by),
            cosigned,
            deadline: self.deadline,
            referencing,
            request,
        })
    }
}

/// The debtor's log keys and every cosigner key the verifier trusts.
fn keys_of(
    trust: &Trust,
    debtor: &str,
    origin: &str,
) -> Result<(Vec<VerifierKey>, Vec<VerifierKey>), SilenceError> {
    match trust {
        Trust::Policy(p) => {
            let log = p
                .log_for_origin(origin)
                .ok_or_else(|| SilenceError::UnknownDebtor(debtor.to_string()))?;
            Ok((vec![log.clone()], p.witness_keys()))
        }
        Trust::Keys { known, required } => {
            let all = || known.iter().chain(required);
            let logs: Vec<VerifierKey> = all()
                .filter(|k| k.key_type() == KeyType::Ed25519)
                .filter(|k| k.name() == origin || k.name() == debtor)
                .filter_map(|k| k.with(origin, KeyType::Ed25519).ok())
                .collect();
            if logs.is_empty() {
                return Err(SilenceError::UnknownDebtor(debtor.to_string()));
            }
            let cosigners = all()
                .filter(|k| k.key_type() == KeyType::CosignatureV1)
                .cloned()
                .collect();
            Ok((logs, cosigners))
        }
    }
}
