//! Any text as a tile path, any bytes as an entry bundle. See `fuzz/src/targets.rs` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| parley_fuzz::targets::tile_path(data));
