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
        let mut seeds = 0;
        for dir in ["seeds", "regressions"] {
            let folder = fuzz.join(dir).join(name);
            // Every target has seeds; kept crashes are optional.
            let files = match std::fs::read_dir(&folder) {
                Ok(f) => f,
                Err(_) if dir == "regressions" => continue,
                Err(e) => panic!("{name} has no seeds: {}: {e}", folder.display()),
            };
            for f in files {
                let path = f.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let ok = std::panic::catch_unwind(|| check(&data));
                assert!(ok.is_ok(), "{name} fails on {}", path.display());
                replayed += 1;
                seeds += usize::from(dir == "seeds");
            }
        }
        assert!(seeds > 0, "{name} has no seed in fuzz/seeds/{name}");
    }
    println!(
        "fuzz regressions: {replayed} inputs replayed through {} targets",
        targets::TARGETS.len()
    );
}
