//! One feed entry and its canonical encoding.
//!
//! An entry is an RFC 8785 canonical JSON object:
//!
//! ```json
//! {"author":"nato","body":{…},"channel":"mil-hotline","kind":"hotline_message",
//!  "refs":["<hex leaf hash>",…],"salt":"<32 hex digits>","seq":7,
//!  "time":"2026-11-22T03:00:00Z","v":1}
//! ```
//!
//! The bytes are the log leaf; its RFC 9162 leaf hash is the entry's
//! identity, which other entries cite in `refs`. The random salt makes the
//! leaf hash of a confidential entry impossible to guess from its content.

use serde_json::{Map, Value};

use crate::canonical::{self, CanonicalError};
use crate::hash::{Hash, hex_decode, hex_encode, leaf_hash};
use crate::tiles::MAX_ENTRY_BYTES;
use crate::time::Timestamp;

/// The entry format this library writes and reads.
pub const ENTRY_FORMAT_VERSION: i64 = 1;

/// A feed entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub channel: String,
    pub author: String,
    pub seq: u64,
    pub time: Timestamp,
    pub kind: String,
    pub refs: Vec<Hash>,
    pub salt: [u8; 16],
    /// A JSON object; its schema depends on `kind` (checked by the domain).
    pub body: Value,
}

/// Why bytes are not an entry, or an entry cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("entry is {0} bytes; the limit is {MAX_ENTRY_BYTES}")]
    TooLarge(usize),
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
    #[error("entry must be a JSON object")]
    NotObject,
    #[error("entry field {0:?} is missing")]
    Missing(&'static str),
    #[error("entry has unknown field {0:?}")]
    UnknownField(String),
    #[error("entry field {field:?}: {why}")]
    Invalid { field: &'static str, why: String },
    #[error(
        "entry format version {0} is not supported (this build reads version {ENTRY_FORMAT_VERSION})"
    )]
    Version(i64),
}

const FIELDS: [&str; 9] = [
    "author", "body", "channel", "kind", "refs", "salt", "seq", "time", "v",
];

impl Entry {
    /// Canonical bytes of the entry (the log leaf).
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        self.check()?;
        let mut m = Map::new();
        m.insert("v".into(), Value::from(ENTRY_FORMAT_VERSION));
        m.insert("channel".into(), Value::from(self.channel.clone()));
        m.insert("author".into(), Value::from(self.author.clone()));
        m.insert("seq".into(), Value::from(self.seq));
        m.insert("time".into(), Value::from(self.time.to_string()));
        m.insert("kind".into(), Value::from(self.kind.clone()));
        m.insert(
            "refs".into(),
            Value::Array(self.refs.iter().map(|h| Value::from(h.to_hex())).collect()),
        );
        m.insert("salt".into(), Value::from(hex_encode(&self.salt)));
        m.insert("body".into(), self.body.clone());
        let bytes = canonical::encode(&Value::Object(m))?;
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(EntryError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// Decodes canonical entry bytes; anything not canonical is refused.
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(EntryError::TooLarge(bytes.len()));
        }
        let Value::Object(mut m) = canonical::decode(bytes)? else {
            return Err(EntryError::NotObject);
        };
        if let Some(k) = m.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(EntryError::UnknownField(k.clone()));
        }
        let mut take = |f: &'static str| m.remove(f).ok_or(EntryError::Missing(f));
        let v = take("v")?.as_i64().ok_or(EntryError::Invalid {
            field: "v",
            why: "must be an integer".into(),
        })?;
        if v != ENTRY_FORMAT_VERSION {
            return Err(EntryError::Version(v));
        }
        let entry = Entry {
            channel: string(take("channel")?, "channel")?,
            author: string(take("author")?, "author")?,
            seq: take("seq")?.as_u64().ok_or(EntryError::Invalid {
                field: "seq",
                why: "must be a non-negative integer".into(),
            })?,
            time: {
                let s = string(take("time")?, "time")?;
                Timestamp::parse(&s).map_err(|e| EntryError::Invalid {
                    field: "time",
                    why: e.to_string(),
                })?
            },
            kind: string(take("kind")?, "kind")?,
            refs: refs(take("refs")?)?,
            salt: salt(&string(take("salt")?, "salt")?)?,
            body: take("body")?,
        };
        entry.check()?;
        Ok(entry)
    }

    /// RFC 9162 leaf hash of the canonical bytes: the entry's identity.
    pub fn leaf_hash(&self) -> Result<Hash, EntryError> {
        Ok(leaf_hash(&self.encode()?))
    }

    /// `channel/author/seq`, the human-readable entry ID.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.channel, self.author, self.seq)
    }

    /// A fresh random salt.
    pub fn random_salt() -> [u8; 16] {
        let mut s = [0u8; 16];
        getrandom::fill(&mut s).expect("the OS random source is available");
        s
    }

    fn check(&self) -> Result<(), EntryError> {
        check_identifier(&self.channel).map_err(|why| EntryError::Invalid {
            field: "channel",
            why,
        })?;
        check_identifier(&self.author).map_err(|why| EntryError::Invalid {
            field: "author",
            why,
        })?;
        check_kind(&self.kind).map_err(|why| EntryError::Invalid { field: "kind", why })?;
        if self.seq > canonical::MAX_SAFE_INTEGER as u64 {
            return Err(EntryError::Invalid {
                field: "seq",
                why: "must be at most 2^53-1".into(),
            });
        }
        for (i, r) in self.refs.iter().enumerate() {
            if self.refs[..i].contains(r) {
                return Err(EntryError::Invalid {
                    field: "refs",
                    why: format!("reference {r} appears twice"),
                });
            }
        }
        if !self.body.is_object() {
            return Err(EntryError::Invalid {
                field: "body",
                why: "must be a JSON object".into(),
            });
        }
        Ok(())
    }
}

/// Party and channel names: 1–64 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn check_identifier(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit"
        ))
    }
}

/// Entry kinds: 1–64 of `a-z 0-9 _`, starting with a letter.
pub fn check_kind(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.as_bytes()[0].is_ascii_lowercase()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} must be 1-64 characters of a-z, 0-9 or '_', starting with a letter"
        ))
    }
}

fn string(v: Value, field: &'static str) -> Result<String, EntryError> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err(EntryError::Invalid {
            field,
            why: "must be a string".into(),
        }),
    }
}

fn refs(v: Value) -> Result<Vec<Hash>, EntryError> {
    let bad = |why: String| EntryError::Invalid { field: "refs", why };
    let Value::Array(items) = v else {
        return Err(bad("must be an array of hashes".into()));
    };
    items
        .into_iter()
        .map(|item| {
            let s = item
                .as_str()
                .ok_or_else(|| bad("must hold strings".into()))?;
            let h = Hash::from_hex(s).map_err(|e| bad(format!("{s:?}: {e}")))?;
            if h.to_hex() != s {
                return Err(bad(format!("{s:?} must be lowercase hex")));
            }
            Ok(h)
        })
        .collect()
}

fn salt(s: &str) -> Result<[u8; 16], EntryError> {
    let bad = || EntryError::Invalid {
        field: "salt",
        why: "must be 32 lowercase hex digits".into(),
    };
    let bytes = hex_decode(s).ok_or_else(bad)?;
    if hex_encode(&bytes) != s {
        return Err(bad());
    }
    bytes.try_into().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Entry {
        Entry {
            channel: "mil-hotline".into(),
            author: "nato".into(),
            seq: 7,
            time: Timestamp::parse("2026-11-22T03:00:00Z").unwrap(),
            kind: "hotline_message".into(),
            refs: vec![leaf_hash(b"x")],
            salt: [0xab; 16],
            body: json!({"priority": "flash", "text": {"en": "Test", "ru": "Тест"}}),
        }
    }

    #[test]
    fn round_trip_is_exact() {
        let e = sample();
        let bytes = e.encode().unwrap();
        assert_eq!(Entry::decode(&bytes).unwrap(), e);
        let s = String::from_utf8(bytes).unwrap();
        assert!(
            s.starts_with("{\"author\":\"nato\",\"body\":{\"priority\":\"flash\""),
            "{s}"
        );
        assert!(s.ends_with("\"v\":1}"), "{s}");
    }

    #[test]
    fn decode_rejects_anything_not_canonical_or_not_an_entry() {
        let good = String::from_utf8(sample().encode().unwrap()).unwrap();
        let cases = [
            good.replace("\"v\":1", "\"v\":2"),
            good.replace("\"seq\":7", "\"seq\":7.0"),
            good.replace("\"seq\":7", "\"seq\":-7"),
            good.replace("\"seq\":7", "\"seq\":\"7\""),
            good.replace("T03:00:00Z", "T03:00:00+00:00"),
            good.replace(&"ab".repeat(16), &"AB".repeat(16)),
            good.replace(&"ab".repeat(16), &"ab".repeat(15)),
            good.replace("\"nato\"", "\"NATO\""),
            good.replace("\"hotline_message\"", "\"Hotline\""),
            good.replace(",\"v\":1}", ",\"v\":1,\"x\":1}"),
            good.replace("\"author\":\"nato\",", ""),
            good.replace("{\"author\"", "{ \"author\""),
            good.replace("\"body\":{", "\"body\":{\"z\":0.5,"),
            good.replace(
                &leaf_hash(b"x").to_hex(),
                &leaf_hash(b"x").to_hex().to_uppercase(),
            ),
        ];
        for c in cases {
            assert!(Entry::decode(c.as_bytes()).is_err(), "{c}");
        }
    }

    #[test]
    fn oversized_entries_refused() {
        let mut e = sample();
        e.body = json!({"text": "x".repeat(MAX_ENTRY_BYTES)});
        assert!(matches!(e.encode(), Err(EntryError::TooLarge(_))));
    }
}
