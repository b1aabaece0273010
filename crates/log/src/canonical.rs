//! RFC 8785 (JCS) canonical JSON, restricted to the profile parley signs:
//! integers only, within ±(2^53 − 1), so every number has one spelling in
//! every language.
//!
//! Encoding sorts object members by their UTF-16 code units (RFC 8785
//! §3.2.3) and escapes strings as ECMAScript `JSON.stringify` does (which is
//! what `serde_json` writes). Decoding accepts a document only if encoding
//! it again gives back the very same bytes.

use serde_json::Value;

/// `2^53 − 1`, the largest integer every JSON implementation holds exactly.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Why a document cannot be, or is not, canonical.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("invalid JSON: {0}")]
    Syntax(String),
    #[error("{path}: numbers must be integers (no fractions or exponents)")]
    NotInteger { path: String },
    #[error("{path}: integer is outside ±(2^53-1)")]
    IntegerOutOfRange { path: String },
    #[error("not in canonical (RFC 8785) form: first difference at byte {offset}")]
    NotCanonical { offset: usize },
}

/// Encodes a value canonically.
pub fn encode(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out, &mut String::from("$"))?;
    Ok(out)
}

/// Parses a document and checks that it is canonical.
pub fn decode(bytes: &[u8]) -> Result<Value, CanonicalError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| CanonicalError::Syntax(e.to_string()))?;
    let again = encode(&value)?;
    if again != bytes {
        let offset = again
            .iter()
            .zip(bytes)
            .position(|(a, b)| a != b)
            .unwrap_or(again.len().min(bytes.len()));
        return Err(CanonicalError::NotCanonical { offset });
    }
    Ok(value)
}

fn write_value(v: &Value, out: &mut Vec<u8>, path: &mut String) -> Result<(), CanonicalError> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            let i = if let Some(i) = n.as_i64() {
                i
            } else if n.as_u64().is_some() {
                return Err(CanonicalError::IntegerOutOfRange { path: path.clone() });
            } else {
                return Err(CanonicalError::NotInteger { path: path.clone() });
            };
            if !(-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i) {
                return Err(CanonicalError::IntegerOutOfRange { path: path.clone() });
            }
            out.extend_from_slice(i.to_string().as_bytes());
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                write_value(item, out, path)?;
                path.truncate(len);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (k, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                let len = path.len();
                path.push('.');
                path.push_str(k);
                write_value(item, out, path)?;
                path.truncate(len);
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    serde_json::to_writer(out, s).expect("writing a str to a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_by_utf16_and_escapes_like_ecmascript() {
        // RFC 8785 §3.2.3's sorting example, restricted to string values.
        let v = json!({
            "\u{20ac}": "Euro Sign",
            "\r": "Carriage Return",
            "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\u{1f600}": "Emoji: Grinning Face",
            "\u{80}": "Control",
            "\u{f6}": "Latin Small Letter O With Diaeresis"
        });
        let s = String::from_utf8(encode(&v).unwrap()).unwrap();
        let keys: Vec<&str> = s.split("\":\"").collect();
        assert!(s.starts_with("{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":"));
        // The emoji (a surrogate pair, 0xD83D) sorts before U+FB33 in UTF-16.
        assert!(
            s.find('\u{1f600}').unwrap() < s.find('\u{fb33}').unwrap(),
            "{keys:?}"
        );
        assert_eq!(
            String::from_utf8(encode(&json!("\u{1}\u{1f}\"\\/\u{7f}é")).unwrap()).unwrap(),
            "\"\\u0001\\u001f\\\"\\\\/\u{7f}é\""
        );
    }

    #[test]
    fn rejects_non_canonical_and_non_integers() {
        assert!(decode(br#"{"a":1,"b":[true,null,"x"]}"#).is_ok());
        for bad in [
            &br#"{"b":1,"a":2}"#[..],
            br#"{"a": 1}"#,
            br#"{"a":1,"a":1}"#,
            br#"{"a":1.0}"#,
            br#"{"a":1e3}"#,
            br#"{"a":-0}"#,
            br#"{"a":"\u0041"}"#,
            br#"{"a":9007199254740992}"#,
            b"{\"a\":1}\n",
            br#"{"a":"\/"}"#,
        ] {
            assert!(decode(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            encode(&json!({"x": {"y": 0.5}})),
            Err(CanonicalError::NotInteger {
                path: "$.x.y".into()
            })
        );
    }
}
