//! Printing results for people and for scripts (`--json`).

use std::fmt;
use std::io::Write;

use serde_json::Value;

/// An error whose message has already been printed (as JSON on stdout and
/// as text on stderr); `main` only sets the exit code.
#[derive(Debug)]
pub(crate) struct Reported;

impl fmt::Display for Reported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("reported")
    }
}

impl std::error::Error for Reported {}

/// Prints a JSON value on stdout, one document per line.
pub(crate) fn json(v: &Value) -> anyhow::Result<()> {
    // Serialized first, so a closed pipe surfaces as an io::Error.
    let text = serde_json::to_string_pretty(v)?;
    writeln!(std::io::stdout().lock(), "{text}")?;
    Ok(())
}

/// Prints lines of text on stdout.
pub(crate) fn lines<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for l in lines {
        writeln!(out, "{}", l.as_ref())?;
    }
    Ok(())
}

/// Reports a failed check: with `--json` a `{"ok": false, "error": …}`
/// document on stdout, and always the reason on stderr; exit code 1.
pub(crate) fn failure(as_json: bool, err: impl fmt::Display) -> anyhow::Error {
    let msg = err.to_string();
    if as_json {
        let _ = json(&serde_json::json!({"ok": false, "error": msg}));
    }
    eprintln!("parley: {msg}");
    anyhow::Error::new(Reported)
}
