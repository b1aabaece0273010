//! Numbers and dates as each language writes them. Times are always UTC,
//! as the whole network keeps them; only how they are written changes.
//!
//! English: `12,700`, `2026-11-22 06:39Z` (ISO 8601, what English-speaking
//! watch floors write). Russian: `12 700` (a no-break space groups digits),
//! `22.11.2026 06:39 UTC` (day.month.year, GOST R 7.0.97).

use parley_log::Timestamp;

use super::{Lang, current};

/// `12700` → `12,700` / `12 700`.
pub fn number(n: u64) -> String {
    let sep = match current() {
        Lang::En => ',',
        Lang::Ru => '\u{a0}',
    };
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// The parts of a UTC time: `YYYY-MM-DDTHH:MM:SSZ` cut up.
fn parts(unix: i64) -> Option<(String, String, String, String)> {
    let t = Timestamp::from_unix(unix)?.to_string();
    Some((
        t[..4].to_string(),
        t[5..7].to_string(),
        t[8..10].to_string(),
        t[11..19].to_string(),
    ))
}

/// A day: `2026-11-22` / `22.11.2026`.
pub fn date(unix: i64) -> String {
    let Some((y, m, d, _)) = parts(unix) else {
        return unix.to_string();
    };
    match current() {
        Lang::En => format!("{y}-{m}-{d}"),
        Lang::Ru => format!("{d}.{m}.{y}"),
    }
}

/// A time to the minute: `2026-11-22 06:39Z` / `22.11.2026 06:39 UTC`.
pub fn date_time(unix: i64) -> String {
    written(unix, 5)
}

/// A time to the second (a deadline within the hour).
pub fn date_time_seconds(unix: i64) -> String {
    written(unix, 8)
}

fn written(unix: i64, clock_len: usize) -> String {
    let Some((y, m, d, hms)) = parts(unix) else {
        return unix.to_string();
    };
    let clock = &hms[..clock_len];
    match current() {
        Lang::En => format!("{y}-{m}-{d} {clock}Z"),
        Lang::Ru => format!("{d}.{m}.{y} {clock} UTC"),
    }
}
