//! Any text as a proof bundle, verified against fixed keys: never panics,
//! and nothing verifies unless it is signed by the fixed author key (whose
//! private half the fuzzer cannot know, apart from the seed's own bundle).
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_log::SigningKey;
use parley_log::bundle::{Trust, verify_bundle};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let nato = SigningKey::from_seed("nato", [1; 32]).unwrap();
    let russia = SigningKey::from_seed("russia", [2; 32]).unwrap();
    let trust = Trust::Keys(vec![nato.verifier(), russia.verifier()]);
    if let Ok(v) = verify_bundle(text, &trust) {
        assert_eq!(v.entry.author, "nato");
        assert!(v.cosigners.iter().any(|(n, _)| n == "russia"));
    }
});
