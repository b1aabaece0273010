//! What an append of this node's own produces, why it can be refused, and
//! an append waiting for its feed's next group commit. Apart from the feed
//! engine so that the node's state can hold the waiting appends without
//! reaching into the engine.

use parley_domain::Violation;
use parley_log::{Hash, Timestamp};
use parley_store::{ActionRecord, StoreError};
use serde_json::Value;

/// What an append produced.
#[derive(Clone, Debug)]
pub struct Appended {
    pub id: String,
    pub seq: u64,
    pub hash: Hash,
    pub time: Timestamp,
}

/// Why this node refuses to append.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("the entry breaks {} rule(s)", .0.len())]
    Invalid(Vec<Violation>),
    #[error(transparent)]
    Refused(#[from] parley_domain::channel::ChannelRefusal),
    #[error("channel {0:?} does not exist on this node")]
    UnknownChannel(String),
    #[error("channel {0:?} already exists")]
    ChannelExists(String),
    /// The acting user's role may not send this kind.
    #[error("{0}")]
    NotPermitted(String),
    #[error(transparent)]
    Entry(#[from] parley_log::entry::EntryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the outcome of one waiting append is sent.
pub(crate) type Reply = tokio::sync::oneshot::Sender<Result<Appended, AppendError>>;

/// One entry waiting for its feed's next commit, and who waits for it.
pub struct Pending {
    pub(crate) kind: String,
    pub(crate) body: Value,
    pub(crate) refs: Vec<Hash>,
    pub(crate) action: Option<ActionRecord>,
    pub(crate) reply: Reply,
}
