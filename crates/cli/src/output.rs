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

/// Whether a character could rewrite a terminal or reorder text on it:
/// C0 controls other than newline and tab (ESC starts every terminal
/// escape sequence), DEL, C1 controls (U+009B is a one-character CSI), and
/// the Unicode bidirectional embeddings, overrides, isolates and marks.
pub(crate) fn is_unsafe(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
        || matches!(
            c,
            '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Text from a peer made safe for a terminal: every unsafe character is
/// shown as `\u{…}` instead of acting (visibly, so nothing is hidden).
pub(crate) fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    escape_unsafe(text, |c| format!("\\u{{{c:x}}}"))
}

/// JSON text with every unsafe character written as a `\uXXXX` escape:
/// the same JSON value, but nothing a terminal acts on (serde_json escapes
/// C0 controls but writes C1 controls and bidi overrides raw).
pub(crate) fn safe_json(text: &str) -> std::borrow::Cow<'_, str> {
    escape_unsafe(text, |c| format!("\\u{c:04x}"))
}

/// `text` with each unsafe character replaced by `escape(code point)`.
fn escape_unsafe(text: &str, escape: impl Fn(u32) -> String) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            out.push_str(&escape(u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Prints a JSON value on stdout, one document per line.
pub(crate) fn json(v: &Value) -> anyhow::Result<()> {
    // Serialized first, so a closed pipe surfaces as an io::Error.
    let text = serde_json::to_string_pretty(v)?;
    writeln!(std::io::stdout().lock(), "{}", safe_json(&text))?;
    Ok(())
}

/// Prints lines of text on stdout, with peers' control characters shown,
/// never acted on.
pub(crate) fn lines<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for l in lines {
        writeln!(out, "{}", safe(l.as_ref()))?;
    }
    Ok(())
}

/// Prints text as it is, but for its unsafe characters (see [`safe`]).
pub(crate) fn text(t: &str) -> anyhow::Result<()> {
    write!(std::io::stdout().lock(), "{}", safe(t))?;
    Ok(())
}

/// Reports a failed check: with `--json` a `{"ok": false, "error": …}`
/// document on stdout, and always the reason on stderr; exit code 1.
pub(crate) fn failure(as_json: bool, err: impl fmt::Display) -> anyhow::Error {
    let msg = err.to_string();
    if as_json {
        let _ = json(&serde_json::json!({"ok": false, "error": msg}));
    }
    eprintln!("parley: {}", safe(&msg));
    anyhow::Error::new(Reported)
}

/// "1 entry", "3 entries".
pub(crate) fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_overrides_are_shown_not_acted_on() {
        let hostile =
            "ok\u{1b}[2K\u{1b}[1A\u{1b}[31mred\u{1b}]0;title\u{7}\u{9b}2J\u{202e}txet\ttab\nline";
        let shown = safe(hostile);
        assert!(!shown.chars().any(is_unsafe), "{shown}");
        assert_eq!(
            shown,
            "ok\\u{1b}[2K\\u{1b}[1A\\u{1b}[31mred\\u{1b}]0;title\\u{7}\\u{9b}2J\\u{202e}txet\ttab\nline"
        );
        let v = serde_json::json!({"text": hostile});
        let j = serde_json::to_string(&v).unwrap();
        let safe = safe_json(&j);
        assert!(!safe.chars().any(is_unsafe));
        assert_eq!(
            serde_json::from_str::<Value>(&safe).unwrap(),
            v,
            "the same JSON value"
        );
        assert_eq!(super::safe("Привет, 你好"), "Привет, 你好");
    }
}
