//! Any text as a key or a signature line. See `fuzz/src/targets.rs` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| parley_fuzz::targets::key_parse(data));
