//! The verifiable-log library parley stands on. Pure: no I/O, no async,
//! no clocks except where a caller asks for `Timestamp::now`.
//!
//! * [`hash`], [`merkle`]: RFC 9162 §2.1 hashing, roots, inclusion and
//!   consistency proofs (generation and the RFC's verification algorithms).
//! * [`tiles`]: C2SP tlog-tiles, the tree persisted as tiles of height 8
//!   behind the [`tiles::TileStore`] trait.
//! * [`keys`], [`note`]: C2SP signed-note and vkeys (Ed25519 0x01,
//!   cosignature/v1 0x04).
//! * [`checkpoint`]: C2SP tlog-checkpoint; cosignatures are note signatures
//!   made with [`note::Note::cosign`].
//! * [`entry`], [`canonical`], [`time`]: a feed entry in RFC 8785 canonical
//!   JSON with RFC 3339 UTC times.
//! * [`proof`], [`policy`], [`bundle`]: C2SP tlog-proof, tlog-policy and the
//!   offline proof bundle built from them.
//! * [`equivocation`]: evidence that a log forked.
//! * [`identity`]: a party's public keys, one per statement.

pub mod bundle;
pub mod canonical;
pub mod checkpoint;
pub mod entry;
pub mod equivocation;
pub mod hash;
pub mod identity;
pub mod keys;
pub mod merkle;
pub mod note;
pub mod policy;
pub mod proof;
pub mod silence;
pub mod tiles;
pub mod time;
pub mod witness;

pub use bundle::{Trust, VerifiedBundle, feed_origin, make_bundle, verify_bundle};
pub use checkpoint::{Checkpoint, SignedCheckpoint};
pub use entry::Entry;
pub use hash::{Hash, leaf_hash, node_hash};
pub use identity::{Identity, Role, Rotation};
pub use keys::{KeyType, SigningKey, VerifierKey};
pub use note::{Note, NoteSignature, VerifiedSignature};
pub use time::Timestamp;
