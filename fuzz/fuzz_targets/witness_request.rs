//! Any bytes as a tlog-witness add-checkpoint body. See `fuzz/src/targets.rs` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| parley_fuzz::targets::witness_request(data));
