//! Any text: checkpoint parsing never panics and round-trips; opening a
//! signed checkpoint never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_log::{Checkpoint, SignedCheckpoint, SigningKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cp) = Checkpoint::parse(text) {
            assert_eq!(cp.to_text(), text);
        }
    }
    let key = SigningKey::from_seed("example.com/log", [1; 32]).unwrap();
    let _ = SignedCheckpoint::open(data, &key.verifier(), &[key.cosigner()]);
});
