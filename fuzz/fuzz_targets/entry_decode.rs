//! Any bytes: an entry decodes only if it is canonical, so decoding then
//! encoding gives back exactly the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_log::Entry;

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = Entry::decode(data) {
        assert_eq!(
            entry.encode().unwrap(),
            data,
            "decode accepted a non-canonical entry"
        );
    }
});
