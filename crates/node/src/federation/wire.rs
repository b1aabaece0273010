//! What nodes send each other over HTTP. Every claim in these messages is
//! signed by its author (checkpoints, cosignatures, link tests); the JSON
//! around them carries nothing that is trusted unchecked.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use parley_domain::Violation;
use parley_log::Hash;
use parley_store::FeedId;
use serde::{Deserialize, Serialize};

use crate::feeds::{self, Fault, IngestError};

/// Largest request body a peer may send (a full batch of maximal entries),
/// and largest feed answer a node reads.
pub const MAX_BODY: usize = 24 * 1024 * 1024;

/// A feed's new entries with the checkpoint that covers them: the body of a
/// push (`POST /federation/v1/push`) and of a catch-up answer
/// (`GET /federation/v1/feeds/{channel}/{author}?from=N`, signed by a
/// member: see [`super::reader`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedUpdate {
    pub channel: String,
    pub author: String,
    /// The receiver's size as the sender believes it; `entries` start at
    /// this sequence number.
    pub old_size: u64,
    /// The sender's root at `old_size` (base64), present when `old_size`
    /// is not 0: with it, a fork from any size yields verifiable evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_root: Option<String>,
    /// Canonical entry bytes, standard base64, sequence numbers
    /// `old_size..old_size + entries.len()`.
    pub entries: Vec<String>,
    /// The author's signed checkpoint at `old_size + entries.len()`.
    pub checkpoint: String,
    /// RFC 9162 consistency proof from `old_size` to the checkpoint's size,
    /// base64 hashes (empty when `old_size` is 0).
    pub consistency: Vec<String>,
}

impl FeedUpdate {
    /// The update as the feed engine takes it.
    ///
    /// # Errors
    /// A refusal naming the field that is not base64 or not a hash.
    pub fn decode(self) -> Result<feeds::FeedUpdate, Refused> {
        let bad = |what: String| Refused::new(Reason::BadRequest, what);
        let entries = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, b64)| {
                STANDARD
                    .decode(b64)
                    .map_err(|_| bad(format!("entry {} is not base64", self.old_size + i as u64)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let consistency = self
            .consistency
            .iter()
            .map(|h| Hash::from_base64(h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("consistency proof: {e}")))?;
        let old_root = self
            .old_root
            .as_deref()
            .map(Hash::from_base64)
            .transpose()
            .map_err(|e| bad(format!("old_root: {e}")))?;
        Ok(feeds::FeedUpdate {
            feed: FeedId::new(&self.channel, &self.author),
            old_size: self.old_size,
            old_root,
            entries,
            checkpoint: self.checkpoint,
            consistency,
        })
    }

    /// The wire form of an update.
    pub fn encode(u: &feeds::FeedUpdate) -> FeedUpdate {
        FeedUpdate {
            channel: u.feed.channel.clone(),
            author: u.feed.author.clone(),
            old_size: u.old_size,
            old_root: u.old_root.map(|h| h.to_base64()),
            entries: u.entries.iter().map(|b| STANDARD.encode(b)).collect(),
            checkpoint: u.checkpoint.clone(),
            consistency: u.consistency.iter().map(Hash::to_base64).collect(),
        }
    }
}

/// The answer to a push: the receiver's cosignature of the checkpoint, its
/// signed, timed receipt for every entry up to `size`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushReply {
    pub size: u64,
    /// A cosignature/v1 note signature line.
    pub cosignature: String,
}

impl From<feeds::Receipt> for PushReply {
    fn from(r: feeds::Receipt) -> PushReply {
        PushReply {
            size: r.size,
            cosignature: r.cosignature,
        }
    }
}

/// Cosignatures an author collected on its feed, shared with the other
/// members (`POST /federation/v1/cosignatures`): every signature line is
/// checked on its own, so nothing in this message is trusted unchecked.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedCosignatures {
    pub channel: String,
    pub author: String,
    pub cosignatures: Vec<SharedLine>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedLine {
    pub size: u64,
    pub cosigner: String,
    /// `receipt` or `witness`.
    pub statement: String,
    pub line: String,
}

/// A receipt sent back to an author after a catch-up pull
/// (`POST /federation/v1/receipt`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptMessage {
    pub channel: String,
    pub author: String,
    pub size: u64,
    pub cosigner: String,
    pub cosignature: String,
}

/// Why a request was refused: a machine-readable reason, a message for
/// people, and for some reasons the receiver's size or rule violations.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<ViolationBody>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ViolationBody {
    pub field: String,
    pub rule: String,
}

impl From<&Violation> for ViolationBody {
    fn from(v: &Violation) -> ViolationBody {
        ViolationBody {
            field: v.field.clone(),
            rule: v.rule.clone(),
        }
    }
}

/// The machine-readable reasons a peer's input is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Malformed JSON, base64 or note.
    BadRequest,
    /// The request is larger than the node accepts.
    TooLarge,
    /// The author is not a pinned peer.
    UnknownAuthor,
    /// A signature does not verify against the pinned key.
    BadSignature,
    /// An entry is not in canonical form.
    NonCanonical,
    /// Sequence numbers have a gap, a repeat, or do not match the checkpoint.
    BadSequence,
    /// The sender's idea of the receiver's size is wrong; `size` says where to resume.
    SizeMismatch,
    /// The receiver does not know the channel yet (retry after the charter arrives).
    UnknownChannel,
    /// The author (or this node) is not a member of the channel.
    NotMember,
    /// An entry breaks its kind's rules.
    InvalidEntry,
    /// The entries do not hash to the signed checkpoint's root.
    RootMismatch,
    /// The consistency proof does not verify.
    BadConsistencyProof,
    /// The checkpoint conflicts with one the author signed before: a fork.
    Equivocation,
    /// An entry, checkpoint or cosignature is dated further ahead of the
    /// receiver's clock than it allows.
    FromTheFuture,
    /// The caller did not prove (by its TLS certificate) that it is a
    /// pinned peer, or proved it is another party than it claims.
    NotAuthenticated,
    /// The receiver cannot write (disk full, read-only); nothing was stored, retry later.
    StorageUnavailable,
    /// The receiver failed; retry later.
    Internal,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::BadRequest => "bad_request",
            Reason::TooLarge => "too_large",
            Reason::UnknownAuthor => "unknown_author",
            Reason::BadSignature => "bad_signature",
            Reason::NonCanonical => "non_canonical",
            Reason::BadSequence => "bad_sequence",
            Reason::SizeMismatch => "size_mismatch",
            Reason::UnknownChannel => "unknown_channel",
            Reason::NotMember => "not_member",
            Reason::InvalidEntry => "invalid_entry",
            Reason::RootMismatch => "root_mismatch",
            Reason::BadConsistencyProof => "bad_consistency_proof",
            Reason::Equivocation => "equivocation",
            Reason::FromTheFuture => "from_the_future",
            Reason::NotAuthenticated => "not_authenticated",
            Reason::StorageUnavailable => "storage_unavailable",
            Reason::Internal => "internal",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Reason::BadRequest | Reason::NonCanonical | Reason::BadSequence => 400,
            Reason::UnknownAuthor | Reason::BadSignature | Reason::NotMember => 403,
            Reason::TooLarge => 413,
            Reason::SizeMismatch | Reason::UnknownChannel | Reason::Equivocation => 409,
            Reason::InvalidEntry
            | Reason::RootMismatch
            | Reason::BadConsistencyProof
            | Reason::FromTheFuture => 422,
            Reason::NotAuthenticated => 401,
            Reason::StorageUnavailable => 507,
            Reason::Internal => 500,
        }
    }
}

/// A refusal of a peer's input.
#[derive(Clone, Debug)]
pub struct Refused {
    pub reason: Reason,
    pub message: String,
    pub size: Option<u64>,
    pub violations: Vec<Violation>,
}

impl Refused {
    pub fn new(reason: Reason, message: impl Into<String>) -> Refused {
        Refused {
            reason,
            message: message.into(),
            size: None,
            violations: Vec::new(),
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.reason.as_str().to_string(),
            message: self.message.clone(),
            size: self.size,
            violations: self.violations.iter().map(ViolationBody::from).collect(),
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason.as_str(), self.message)?;
        for v in &self.violations {
            write!(f, "; {v}")?;
        }
        Ok(())
    }
}

impl From<Fault> for Reason {
    fn from(f: Fault) -> Reason {
        match f {
            Fault::Malformed => Reason::BadRequest,
            Fault::UnknownAuthor => Reason::UnknownAuthor,
            Fault::BadSignature => Reason::BadSignature,
            Fault::NonCanonical => Reason::NonCanonical,
            Fault::BadSequence => Reason::BadSequence,
            Fault::SizeMismatch => Reason::SizeMismatch,
            Fault::UnknownChannel => Reason::UnknownChannel,
            Fault::NotMember => Reason::NotMember,
            Fault::InvalidEntry => Reason::InvalidEntry,
            Fault::RootMismatch => Reason::RootMismatch,
            Fault::BadConsistencyProof => Reason::BadConsistencyProof,
            Fault::Equivocation => Reason::Equivocation,
            Fault::FromTheFuture => Reason::FromTheFuture,
            Fault::StorageUnavailable => Reason::StorageUnavailable,
            Fault::Internal => Reason::Internal,
        }
    }
}

impl From<IngestError> for Refused {
    fn from(e: IngestError) -> Refused {
        Refused {
            reason: e.fault.into(),
            message: e.message,
            size: e.size,
            violations: e.violations,
        }
    }
}
