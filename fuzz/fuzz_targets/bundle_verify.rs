//! Any text as a proof bundle, verified against fixed keys. See `fuzz/src/targets.rs` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| parley_fuzz::targets::bundle_verify(data));
