//! The node's clock: the system clock, or — for `parley demo` only — a
//! story clock the demo's nodes share.
//!
//! The demo tells a story that spans two months in a few seconds. Its
//! entries must stay honest (each is dated when it was written), so the
//! demo's nodes do not pretend: they all run on one declared clock that
//! starts two months back and jumps forward between the story's chapters,
//! then catches up with real time before live traffic begins. The clock is
//! a file holding an offset from real time in seconds (never positive: the
//! story clock never runs ahead), written atomically by `parley demo` and
//! read afresh on every reading, so that no node can see another's entry
//! "from the future" after a jump. `parley status` and the console's header
//! say when a node runs on it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use parley_log::Timestamp;

static STORY: OnceLock<PathBuf> = OnceLock::new();

/// The time now, by this node's clock.
pub fn now() -> Timestamp {
    let real = Timestamp::now();
    match offset() {
        0 => real,
        o => real.plus_seconds(o),
    }
}

/// Seconds the story clock runs behind real time (0 on a real clock).
pub fn offset() -> i64 {
    STORY.get().map_or(0, |p| read_offset(p))
}

/// Whether this process runs on a demo's story clock.
pub fn is_story_clock() -> bool {
    STORY.get().is_some()
}

/// Puts this process on the story clock kept in `path` (once; later calls
/// with another path are ignored: one process, one clock).
pub fn use_story_clock(path: &Path) {
    let _ = STORY.set(path.to_path_buf());
}

/// The offset in `path`; 0 when it is missing or unreadable (real time),
/// and never ahead of real time.
pub fn read_offset(path: &Path) -> i64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map_or(0, |o| o.min(0))
}

/// Starts a story clock in `path`, `offset` seconds (≤ 0) from real time,
/// before any node runs on it.
///
/// # Errors
/// The file cannot be written.
pub fn start_story_clock(path: &Path, offset: i64) -> std::io::Result<()> {
    write_offset(path, offset.min(0))
}

/// Moves the story clock in `path` forward to `offset` seconds from real
/// time (it never moves back, nor ahead of real time), atomically.
///
/// # Errors
/// The file cannot be written.
pub fn advance_story_clock(path: &Path, offset: i64) -> std::io::Result<i64> {
    let now = read_offset(path);
    let next = offset.clamp(now, 0);
    if next != now {
        write_offset(path, next)?;
    }
    Ok(next)
}

fn write_offset(path: &Path, offset: i64) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{offset}\n"))?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_story_clock_only_moves_forward_and_never_runs_ahead() {
        let dir = std::env::temp_dir().join(format!("parley-clock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("clock");
        assert_eq!(read_offset(&p), 0, "no file: real time");
        assert_eq!(advance_story_clock(&p, -86_400).unwrap(), 0, "not back");
        start_story_clock(&p, -86_400 * 60).unwrap();
        assert_eq!(read_offset(&p), -86_400 * 60);
        assert_eq!(advance_story_clock(&p, -86_400 * 61).unwrap(), -86_400 * 60);
        assert_eq!(advance_story_clock(&p, -86_400).unwrap(), -86_400);
        assert_eq!(advance_story_clock(&p, 3600).unwrap(), 0, "never ahead");
        std::fs::write(&p, "7200\n").unwrap();
        assert_eq!(read_offset(&p), 0, "a positive offset is not honoured");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
