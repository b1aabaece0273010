//! Any bytes: parsing never panics, and whatever parses formats back to
//! the same bytes and verifies without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_log::{Note, SigningKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = Note::parse(data) {
        assert_eq!(
            note.to_string().as_bytes(),
            data,
            "parse/format must round-trip"
        );
        let key = SigningKey::from_seed("fuzz.example", [7; 32]).unwrap();
        let _ = note.verify(&[key.verifier(), key.cosigner()]);
    }
});
