//! One module per console view.

pub mod compose;
pub mod entry;
pub mod exercises;
pub mod inbox;
pub mod links;
pub mod meetings;
pub mod negotiations;
pub mod obligations;
pub mod silence;
pub mod timeline;
pub mod verification;
pub mod verify;
