//! parley's domain: what parties exchange, the rules it must follow and
//! the obligations it creates. Pure: no I/O, no clock.
//!
//! * [`kinds`]: the registry of entry kinds, each with a description,
//!   a JSON Schema, an example body and its checks.
//! * [`channel`]: the charter, acceptance, suspension and resumption, and
//!   [`channel::ChannelState`] folded from them.
//! * [`hotline`]: hotline messages, acknowledgements, link tests.
//! * [`ledger`]: what a node holds, indexed and grown event by event.
//! * [`board`]: the obligations board kept current beside a ledger
//!   ([`board::Book`] holds the two).
//! * [`violation`]: a broken rule, named by field.

pub mod agreements;
pub mod board;
pub mod channel;
pub mod dates;
mod duties;
pub mod exchange;
pub mod exercises;
pub mod geo;
pub mod hotline;
pub mod incidents;
pub mod kinds;
pub mod ledger;
pub mod meetings;
pub mod negotiation;
pub mod numbering;
pub mod obligations;
pub mod rules;
pub mod verification;
pub mod views;
pub mod violation;

pub use channel::{ChannelState, Charter, ExternalWitness, Level};
pub use kinds::validate;
pub use violation::Violation;
