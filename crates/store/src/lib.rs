//! parley's storage: the [`Store`] trait and its SQLite implementation.
//!
//! The trait is narrow and speaks the domain's nouns (feeds, entries,
//! checkpoints, cosignatures, deliveries, evidence), so a PostgreSQL
//! implementation can follow without touching the node. Every write that
//! changes a feed is one atomic [`Append`] guarded by compare-and-swap on
//! the feed's size: two writers can never fork a feed, and a crash leaves
//! either the whole append or none of it.

use parley_log::Hash;

pub mod conformance;
mod memory;
mod pg_target;
mod postgres;
mod shared_commit;
mod sqlite;
pub mod throwaway;

pub use memory::MemoryStore;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// A feed: one party's log in one channel.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedId {
    pub channel: String,
    pub author: String,
}

impl FeedId {
    pub fn new(channel: &str, author: &str) -> FeedId {
        FeedId {
            channel: channel.to_string(),
            author: author.to_string(),
        }
    }

    pub fn origin(&self) -> String {
        parley_log::feed_origin(&self.channel, &self.author)
    }
}

/// A feed's size and root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedHead {
    pub size: u64,
    pub root: Hash,
}

/// A pinned peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub party: String,
    pub url: String,
    /// Its identity file (`parley-identity/v1`): one key per statement.
    pub identity: String,
    pub added_at: i64,
}

/// What a cosignature states. Only a receipt proves delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Statement {
    /// A member verified and durably stored the feed up to the size.
    Receipt,
    /// A witness saw no other history of the log up to the size.
    Witness,
}

impl Statement {
    pub fn as_str(self) -> &'static str {
        match self {
            Statement::Receipt => "receipt",
            Statement::Witness => "witness",
        }
    }

    pub fn parse(s: &str) -> Option<Statement> {
        match s {
            "receipt" => Some(Statement::Receipt),
            "witness" => Some(Statement::Witness),
            _ => None,
        }
    }
}

/// A key rotation statement (`parley-key-rotation/v1`), as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRotation {
    pub id: i64,
    pub party: String,
    pub role: String,
    /// The signed statement.
    pub statement: String,
    pub recorded_at: i64,
}

/// A log this node witnesses, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessLog {
    /// The log's origin, e.g. `parley/mil/nato`.
    pub origin: String,
    /// The pinned party whose log key signs it.
    pub party: String,
    /// Why: `charter <hash>` or `operator`.
    pub source: String,
}

/// An entry to store with an append.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub seq: u64,
    pub hash: Hash,
    pub kind: String,
    pub time: i64,
    pub refs: Vec<Hash>,
    pub bytes: Vec<u8>,
}

/// A tile write produced by `TiledTree::append`.
#[derive(Clone, Debug)]
pub struct TileWrite {
    pub level: u8,
    pub index: u64,
    pub data: Vec<u8>,
}

/// Collects tile writes in memory so they can be committed with the
/// entries and checkpoint they belong to, in one transaction.
#[derive(Default, Debug)]
pub struct TileBuffer(pub Vec<TileWrite>);

impl parley_log::tiles::TileStore for TileBuffer {
    type Error = std::convert::Infallible;
    fn read_tile(
        &self,
        _level: u8,
        _index: u64,
    ) -> std::result::Result<Option<Vec<u8>>, Self::Error> {
        // Appending writes tiles and never reads them.
        Ok(None)
    }
    fn write_tile(
        &mut self,
        level: u8,
        index: u64,
        data: &[u8],
    ) -> std::result::Result<(), Self::Error> {
        self.0.push(TileWrite {
            level,
            index,
            data: data.to_vec(),
        });
        Ok(())
    }
}

/// Reads one feed's tiles from a store, for proofs and for restoring a
/// feed's right edge. Writing goes through [`Append`] only.
pub struct FeedTiles<'a> {
    pub store: &'a dyn Store,
    pub feed: &'a FeedId,
}

impl parley_log::tiles::TileStore for FeedTiles<'_> {
    type Error = StoreError;
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        self.store.read_tile(self.feed, level, index)
    }
    fn write_tile(&mut self, _level: u8, _index: u64, _data: &[u8]) -> Result<()> {
        Err(StoreError::Corrupt(
            "tiles are written only by appends".into(),
        ))
    }
}

/// One atomic extension of a feed: its entries, tiles, new head and signed
/// checkpoint, and (for a peer's feed) this node's receipt.
#[derive(Clone, Debug)]
pub struct Append {
    pub feed: FeedId,
    /// The size the feed must have for the append to apply.
    pub old_size: u64,
    pub entries: Vec<NewEntry>,
    pub tiles: Vec<TileWrite>,
    pub head: FeedHead,
    /// The log-signed checkpoint note at `head.size` (no cosignatures).
    pub checkpoint: String,
    pub cosignature: Option<Cosignature>,
    pub received_at: i64,
    /// Who made these entries, recorded in the action log in the same
    /// transaction (an entry and its author's action stand or fall
    /// together), in order.
    pub actions: Vec<ActionRecord>,
}

/// A cosignature line on a feed's checkpoint of some size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    pub feed: FeedId,
    pub size: u64,
    pub cosigner: String,
    /// What the signature states (receipt or witness).
    pub statement: Statement,
    /// POSIX seconds, from the signature itself.
    pub time: i64,
    /// The note signature line, `— name base64\n`.
    pub line: String,
}

/// An entry as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEntry {
    pub channel: String,
    pub author: String,
    pub seq: u64,
    pub hash: Hash,
    pub kind: String,
    pub time: i64,
    pub bytes: Vec<u8>,
    pub received_at: i64,
}

impl StoredEntry {
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.channel, self.author, self.seq)
    }

    pub fn feed(&self) -> FeedId {
        FeedId::new(&self.channel, &self.author)
    }
}

/// Which progress a delivery row tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryRole {
    /// Entries of this node's feed acknowledged by a member.
    Push,
    /// Checkpoints of a feed cosigned by a witness.
    Witness,
    /// Cosignatures on this node's feed shared with a member, by the
    /// latest cosignature time sent.
    Shared,
}

impl DeliveryRole {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryRole::Push => "push",
            DeliveryRole::Witness => "witness",
            DeliveryRole::Shared => "shared",
        }
    }
}

/// One action a person or tool took on this node (`parley audit-log`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionRecord {
    pub id: i64,
    pub time: i64,
    /// The user (console or API token), `operator` for the node's own
    /// token, `local:NAME` for a command run on the host.
    pub user: String,
    pub role: String,
    /// The client's address, or `local`.
    pub client: String,
    /// e.g. `send`, `channel-create`, `sign-in`, `user-add`.
    pub action: String,
    /// What it acted on: a channel, a kind, a user.
    pub target: String,
    /// The entry it produced, as `channel/author/seq`.
    pub entry: Option<String>,
    /// `ok`, or why it was refused.
    pub outcome: String,
}

/// What a piece of evidence shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvidenceKind {
    /// The party showed two histories of one feed (`parley-equivocation/v1`).
    Equivocation,
    /// The party signed an entry dated further ahead of the receiver's
    /// clock than it allows (`parley-future-dated/v1`).
    FutureDated,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Equivocation => "equivocation",
            EvidenceKind::FutureDated => "future_dated",
        }
    }

    pub fn parse(s: &str) -> Option<EvidenceKind> {
        [EvidenceKind::Equivocation, EvidenceKind::FutureDated]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Evidence that a party misbehaved: a fork (or an unproven conflict), or
/// an entry dated in the future.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceRecord {
    pub id: i64,
    pub kind: EvidenceKind,
    pub origin: String,
    pub party: String,
    pub detected_at: i64,
    pub detected_by: String,
    pub summary: String,
    /// The evidence file (JSON, `parley-equivocation/v1` or `parley-future-dated/v1`).
    pub evidence: String,
    /// Whether the file proves the fork on its own.
    pub proven: bool,
}

/// The latest checkpoint this node cosigned as a witness, per origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessedRecord {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub note: String,
}

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage cannot be written (or reached) just now: the disk is
    /// full, the file system read-only, an I/O error. It clears up once an
    /// operator acts, so callers refuse work with `reason` and are retried.
    #[error("{reason}: {source}")]
    Unavailable {
        reason: &'static str,
        #[source]
        source: BackendError,
    },
    /// Any other failure of the backend, with the backend's own error.
    #[error("database: {0}")]
    Backend(#[source] BackendError),
    #[error("feed {feed:?} has size {actual}, not {expected}: another append won")]
    Conflict {
        feed: FeedId,
        expected: u64,
        actual: u64,
    },
    #[error(
        "peer {0:?} is already pinned with another identity; its keys change only by a rotation it signs with the old key (a lost key is re-pinned by the operator: see docs/operator.md)"
    )]
    PeerKeyChanged(String),
    #[error(
        "this database holds record format {found}; this build reads format {known} only. There is no migration (parley has no deployments of earlier formats): create a new node directory with `parley init`"
    )]
    OldFormat { found: i64, known: i64 },
    #[error("the database schema is version {found}, newer than this build ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{}: {source}", path.display())]
    File {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl StoreError {
    /// Why the storage cannot take work just now, when that is the failure
    /// (see [`StoreError::Unavailable`]).
    pub fn storage_unavailable(&self) -> Option<&'static str> {
        match self {
            StoreError::Unavailable { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// A backend's own error, kept as the source of a [`StoreError`]: the
/// store's contract names no backend's types.
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

pub type Result<T> = std::result::Result<T, StoreError>;

/// The right to be the one active node on a store: several `parley serve`
/// processes of one party may share a database (an active node and its
/// standby), and only the holder of the lease appends, ingests and signs.
/// Compare-and-swap on every append still guards each feed if two ever
/// acted at once; the lease keeps that from being the normal case.
pub trait Lease: Send + Sync {
    /// Takes the lease if it is free, or checks that this holder still
    /// has it. `false` after a `true` means the lease was lost (the
    /// connection that held it broke): the holder must stop acting at once.
    ///
    /// Blocking: call it from a thread that may wait (not an async task).
    ///
    /// # Errors
    /// The storage cannot be reached to take or check the lease.
    fn try_hold(&self) -> Result<bool>;
}

/// Everything parley stores. Implementations must make each method atomic
/// and durable before it returns.
pub trait Store: Send + Sync {
    /// This process's handle on the store's active-node lease (not yet
    /// taken: see [`Lease::try_hold`]).
    ///
    /// # Errors
    /// The lease's own resources (a lock file) cannot be made.
    fn lease(&self) -> Result<Box<dyn Lease>>;

    // Backup.
    /// Writes a consistent copy of everything stored to `out` (which must
    /// not exist), while the node keeps running: the store as of one
    /// instant, owner-only, restorable by opening it as this backend.
    ///
    /// # Errors
    /// `out` exists or cannot be written, or the store cannot be read.
    fn snapshot_to(&self, out: &std::path::Path) -> Result<()>;

    // Peers.
    /// Pins a peer. Re-adding with the same key updates the URL; a
    /// different key is refused.
    fn add_peer(&self, peer: &Peer) -> Result<()>;
    fn peers(&self) -> Result<Vec<Peer>>;

    // Feeds.
    fn feeds(&self) -> Result<Vec<(FeedId, FeedHead)>>;
    fn feed_head(&self, feed: &FeedId) -> Result<Option<FeedHead>>;
    fn read_tile(&self, feed: &FeedId, level: u8, index: u64) -> Result<Option<Vec<u8>>>;
    /// Applies an append if the feed still has `old_size` entries.
    fn append(&self, append: &Append) -> Result<()>;
    /// The log-signed checkpoint of a feed at a size.
    fn checkpoint(&self, feed: &FeedId, size: u64) -> Result<Option<String>>;
    /// The sizes at which a feed has signed checkpoints, in `[from, to]`.
    fn checkpoint_sizes(&self, feed: &FeedId, from: u64, to: u64) -> Result<Vec<u64>>;

    // Entries.
    fn entries(&self, feed: &FeedId, from_seq: u64, limit: u64) -> Result<Vec<StoredEntry>>;
    fn entry(&self, feed: &FeedId, seq: u64) -> Result<Option<StoredEntry>>;
    fn entry_by_hash(&self, hash: &Hash) -> Result<Option<StoredEntry>>;
    /// Entries that reference `hash`.
    fn referencing(&self, hash: &Hash) -> Result<Vec<StoredEntry>>;
    /// Entries of a channel (or all channels), newest first by stated time.
    fn recent(&self, channel: Option<&str>, limit: u64) -> Result<Vec<StoredEntry>>;
    /// Every entry, in (channel, author, seq) order.
    fn all_entries(&self) -> Result<Vec<StoredEntry>>;
    /// Every cosignature, in (channel, author, size) order.
    fn all_cosignatures(&self) -> Result<Vec<Cosignature>>;
    /// Every entry of the given kinds, in (channel, author, seq) order.
    fn entries_of_kinds(&self, kinds: &[&str]) -> Result<Vec<StoredEntry>>;

    // Cosignatures.
    /// Stores a cosignature; false if that cosigner already cosigned that size.
    fn add_cosignature(&self, c: &Cosignature) -> Result<bool>;
    /// Stores a verified checkpoint of a held size (kept if one is stored
    /// already) with this node's cosignature of it, atomically, so every
    /// stored cosignature has the checkpoint it signs.
    fn add_cosigned_checkpoint(&self, note: &str, c: &Cosignature) -> Result<bool>;
    /// Stores a peer's receipt (or a witness's cosignature) and advances that
    /// peer's delivery progress for the feed, in one transaction. Returns
    /// whether the cosignature was new.
    fn add_receipt(&self, c: &Cosignature, role: DeliveryRole) -> Result<bool>;
    /// Cosignatures on a feed's checkpoints of size ≥ `min_size`.
    fn cosignatures(&self, feed: &FeedId, min_size: u64) -> Result<Vec<Cosignature>>;
    /// Cosignatures on a feed in the order this store received them, after
    /// position `after` (0: from the first), at most `limit`, each with its
    /// position. Positions only grow, and one stored later never takes a
    /// position a reader has already passed, so a reader that keeps the
    /// last position it saw misses nothing and reads nothing twice.
    fn cosignatures_stored_after(
        &self,
        feed: &FeedId,
        after: u64,
        limit: u64,
    ) -> Result<Vec<(u64, Cosignature)>>;
    /// The latest time a cosigner signed a statement on any feed.
    fn last_cosignature_by(&self, cosigner: &str, statement: Statement) -> Result<Option<i64>>;

    // Delivery progress.
    fn delivered(&self, peer: &str, feed: &FeedId, role: DeliveryRole) -> Result<u64>;
    /// Records progress; never moves it backwards.
    fn set_delivered(&self, peer: &str, feed: &FeedId, role: DeliveryRole, size: u64)
    -> Result<()>;

    // This node as a witness.
    fn witnessed(&self, origin: &str) -> Result<Option<WitnessedRecord>>;
    /// Every origin this node has cosigned as a witness.
    fn witnessed_all(&self) -> Result<Vec<WitnessedRecord>>;
    /// Replaces the record only if its size is still `expected_size`
    /// (`None`: no record yet). Returns whether it did.
    fn swap_witnessed(&self, expected_size: Option<u64>, new: &WitnessedRecord) -> Result<bool>;

    /// Replaces a pinned peer's identity if it is still `old`, and records
    /// the rotation statement that justifies it (if any), atomically.
    /// Returns whether it did.
    fn replace_peer_identity(
        &self,
        party: &str,
        old: &str,
        new: &str,
        rotation: Option<&KeyRotation>,
    ) -> Result<bool>;

    // Key rotations.
    /// Records a rotation statement; false if it was already recorded.
    fn add_rotation(&self, r: &KeyRotation) -> Result<bool>;
    /// Every rotation recorded, oldest first.
    fn rotations(&self) -> Result<Vec<KeyRotation>>;

    // Logs this node witnesses.
    /// Adds a log to witness; false if it was already there.
    fn add_witness_log(&self, log: &WitnessLog) -> Result<bool>;
    fn witness_logs(&self) -> Result<Vec<WitnessLog>>;
    fn witness_log(&self, origin: &str) -> Result<Option<WitnessLog>>;

    // Console read marks.
    fn mark_read(&self, user: &str, hash: &Hash) -> Result<()>;
    fn read_marks(&self, user: &str) -> Result<Vec<Hash>>;

    // Evidence.
    fn add_evidence(&self, e: &EvidenceRecord) -> Result<i64>;
    fn evidence(&self) -> Result<Vec<EvidenceRecord>>;

    // The action log (append-only: there is no way to change or remove).

    /// Records an action; returns its number.
    fn record_action(&self, a: &ActionRecord) -> Result<i64>;
    /// Actions after number `after` (oldest first), at most `limit`.
    fn actions(&self, after: i64, limit: u64) -> Result<Vec<ActionRecord>>;
}
