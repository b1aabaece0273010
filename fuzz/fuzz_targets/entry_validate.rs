//! Any JSON as the body of every kind of entry, validated. See `fuzz/src/targets.rs` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| parley_fuzz::targets::entry_validate(data));
