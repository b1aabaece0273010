//! Federation: how nodes exchange feeds, receipts, link tests and
//! witness cosignatures.

pub mod client;
pub mod link;
pub mod outbox;
pub mod reader;
pub mod replay;
pub mod server;
pub mod wire;
pub mod witness;
pub mod witness_client;
