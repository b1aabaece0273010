//! The store contract, in memory: the second backend, so that the contract
//! cannot lean on what only SQL gives.

use parley_store::{MemoryStore, Store};

/// Fresh storage: a new memory store, and an opener of it (each "opening"
/// is another handle on the same storage, as a second connection would be).
fn fresh() -> ((), impl Fn() -> Box<dyn Store> + Sync) {
    let store = MemoryStore::new();
    let open = move || -> Box<dyn Store> { Box::new(store.clone()) };
    ((), open)
}

parley_store::conformance_suite!(fresh);
