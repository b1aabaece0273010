//! Replays every fuzz seed and every kept crash through the same checks the
//! fuzz targets run (`fuzz/src/targets.rs`), on the stable toolchain: a
//! crash once found stays fixed.

#[path = "../../../fuzz/src/targets.rs"]
#[allow(unreachable_pub)]
mod targets;

use std::path::Path;

#[test]
fn every_fuzz_seed_and_kept_crash_passes_its_target() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut replayed = 0;
    for (name, check) in targets::TARGETS {
        for dir in ["seeds", "regressions"] {
            let Ok(files) = std::fs::read_dir(fuzz.join(dir).join(name)) else {
                continue;
            };
            for f in files {
                let path = f.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let ok = std::panic::catch_unwind(|| check(&data));
                assert!(ok.is_ok(), "{name} fails on {}", path.display());
                replayed += 1;
            }
        }
    }
    assert!(
        replayed >= targets::TARGETS.len(),
        "every target has a seed"
    );
    println!(
        "fuzz regressions: {replayed} inputs replayed through {} targets",
        targets::TARGETS.len()
    );
}
