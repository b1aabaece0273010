//! Any bytes as a tlog-witness add-checkpoint request: parsing and judging
//! never panic, and a 200 never comes back for a request the log key did
//! not sign.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_log::witness::{Witnessed, judge, parse_add_checkpoint};
use parley_log::{Hash, SigningKey};

fuzz_target!(|data: &[u8]| {
    let Ok(req) = parse_add_checkpoint(data) else {
        return;
    };
    let key = SigningKey::from_seed("example.com/log", [1; 32])
        .unwrap()
        .verifier();
    let state = Witnessed {
        size: 5,
        root: Hash([9; 32]),
        note: String::new(),
    };
    if judge(&req, Some(&key), Some(&state)).is_ok() {
        assert!(req.note.verify(&[key]).is_ok());
    }
});
