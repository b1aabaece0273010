//! One feed entry and its canonical encoding (entry format 2).
//!
//! An entry has a **header** (who, where, when, what kind, what it answers)
//! and a **body** (what it says). The log leaf is the header alone, an RFC
//! 8785 canonical JSON object that commits to the body by a salted hash:
//!
//! ```json
//! {"author":"nato","body_hash":"<hex>","channel":"mil-hotline","kind":"hotline_message",
//!  "refs":["<hex leaf hash>",…],"seq":7,"time":"2026-11-22T03:00:00Z","v":2}
//! ```
//!
//! with `body_hash = SHA-256("parley-entry-body/v2\n" || salt || canonical(body))`
//! and a random 16-byte salt. The leaf hash of the header is the entry's
//! identity, which other entries cite in `refs`. So a party can show the
//! headers of its entries (to prove that none answers a request) while the
//! bodies stay committed and hidden; the salt makes a body impossible to
//! guess from its hash.
//!
//! An entry is stored and sent whole, as a canonical envelope
//! `{"body":{…},"header":{…},"salt":"<32 hex digits>"}`.

use serde_json::{Map, Value};

use crate::canonical::{self, CanonicalError};
use crate::hash::{Hash, hex_decode, hex_encode, leaf_hash, sha256};
use crate::tiles::MAX_ENTRY_BYTES;
use crate::time::Timestamp;

/// The entry format this library writes and reads.
pub const ENTRY_FORMAT_VERSION: i64 = 2;

/// Domain separation of the body commitment.
const BODY_DOMAIN: &[u8] = b"parley-entry-body/v2\n";

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

/// What anyone may see of an entry: everything but its body, to which it
/// commits. Its canonical bytes are the log leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryHeader {
    pub channel: String,
    pub author: String,
    pub seq: u64,
    pub time: Timestamp,
    pub kind: String,
    pub refs: Vec<Hash>,
    pub body_hash: Hash,
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
    #[error("the body does not match the body_hash its header commits to")]
    BodyMismatch,
}

const HEADER_FIELDS: [&str; 8] = [
    "author",
    "body_hash",
    "channel",
    "kind",
    "refs",
    "seq",
    "time",
    "v",
];
const ENVELOPE_FIELDS: [&str; 3] = ["body", "header", "salt"];

/// The salted commitment to a body.
///
/// # Errors
/// The body is not canonical-JSON encodable.
pub fn body_hash(salt: &[u8; 16], body: &Value) -> Result<Hash, EntryError> {
    let bytes = canonical::encode(body)?;
    Ok(Hash(sha256(&[BODY_DOMAIN, salt, &bytes])))
}

impl Entry {
    /// The header, with the commitment to this body.
    ///
    /// # Errors
    /// A field is invalid (names, kind, refs, body not an object).
    pub fn header(&self) -> Result<EntryHeader, EntryError> {
        self.check()?;
        Ok(EntryHeader {
            channel: self.channel.clone(),
            author: self.author.clone(),
            seq: self.seq,
            time: self.time,
            kind: self.kind.clone(),
            refs: self.refs.clone(),
            body_hash: body_hash(&self.salt, &self.body)?,
        })
    }

    /// Canonical bytes of the whole entry (the envelope stored and sent).
    ///
    /// # Errors
    /// A field is invalid, or the entry is over the size limit.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        let header = self.header()?.to_value();
        let mut m = Map::new();
        m.insert("header".into(), header);
        m.insert("salt".into(), Value::from(hex_encode(&self.salt)));
        m.insert("body".into(), self.body.clone());
        let bytes = canonical::encode(&Value::Object(m))?;
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(EntryError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// Decodes canonical entry bytes; anything not canonical, or a body
    /// that does not match its header's commitment, is refused.
    ///
    /// # Errors
    /// What is wrong, as an [`EntryError`].
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        Entry::decode_with_leaf(bytes).map(|(e, _)| e)
    }

    /// Decodes like [`Entry::decode`] and returns the leaf hash too, from
    /// the header already checked (the body is hashed once, not again).
    ///
    /// # Errors
    /// As [`Entry::decode`].
    pub fn decode_with_leaf(bytes: &[u8]) -> Result<(Entry, Hash), EntryError> {
        let (header, salt, body) = split(bytes)?;
        let header = EntryHeader::from_value(header)?;
        let leaf = header.leaf_hash();
        let salt = salt_of(&string(salt, "salt")?)?;
        if body_hash(&salt, &body)? != header.body_hash {
            return Err(EntryError::BodyMismatch);
        }
        let entry = Entry {
            channel: header.channel,
            author: header.author,
            seq: header.seq,
            time: header.time,
            kind: header.kind,
            refs: header.refs,
            salt,
            body,
        };
        entry.check()?;
        Ok((entry, leaf))
    }

    /// RFC 9162 leaf hash of the header: the entry's identity.
    ///
    /// # Errors
    /// The entry cannot be encoded.
    pub fn leaf_hash(&self) -> Result<Hash, EntryError> {
        Ok(self.header()?.leaf_hash())
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
        check_names(
            &self.channel,
            &self.author,
            &self.kind,
            self.seq,
            &self.refs,
        )?;
        if !self.body.is_object() {
            return Err(EntryError::Invalid {
                field: "body",
                why: "must be a JSON object".into(),
            });
        }
        Ok(())
    }
}

fn check_names(
    channel: &str,
    author: &str,
    kind: &str,
    seq: u64,
    refs: &[Hash],
) -> Result<(), EntryError> {
    check_identifier(channel).map_err(|why| EntryError::Invalid {
        field: "channel",
        why,
    })?;
    check_identifier(author).map_err(|why| EntryError::Invalid {
        field: "author",
        why,
    })?;
    check_kind(kind).map_err(|why| EntryError::Invalid { field: "kind", why })?;
    if seq > canonical::MAX_SAFE_INTEGER as u64 {
        return Err(EntryError::Invalid {
            field: "seq",
            why: "must be at most 2^53-1".into(),
        });
    }
    for (i, r) in refs.iter().enumerate() {
        if refs[..i].contains(r) {
            return Err(EntryError::Invalid {
                field: "refs",
                why: format!("reference {r} appears twice"),
            });
        }
    }
    Ok(())
}

/// An envelope's header object, salt and body; refuses anything else.
fn split(bytes: &[u8]) -> Result<(Value, Value, Value), EntryError> {
    if bytes.len() > MAX_ENTRY_BYTES {
        return Err(EntryError::TooLarge(bytes.len()));
    }
    let Value::Object(mut m) = canonical::decode(bytes)? else {
        return Err(EntryError::NotObject);
    };
    if let Some(k) = m.keys().find(|k| !ENVELOPE_FIELDS.contains(&k.as_str())) {
        return Err(EntryError::UnknownField(k.clone()));
    }
    let mut take = |f: &'static str| m.remove(f).ok_or(EntryError::Missing(f));
    Ok((take("header")?, take("salt")?, take("body")?))
}

/// The header bytes (the log leaf) inside stored entry bytes.
///
/// # Errors
/// The bytes are not an entry envelope with a valid header.
pub fn header_bytes_of(envelope: &[u8]) -> Result<Vec<u8>, EntryError> {
    let (header, _, _) = split(envelope)?;
    let h = EntryHeader::from_value(header)?;
    h.encode()
}

/// The leaf hash (the identity) of stored entry bytes: that of its header.
/// The body is not checked against the header here; [`Entry::decode`] does.
///
/// # Errors
/// The bytes are not an entry envelope with a valid header.
pub fn leaf_of(envelope: &[u8]) -> Result<Hash, EntryError> {
    Ok(leaf_hash(&header_bytes_of(envelope)?))
}

impl EntryHeader {
    fn to_value(&self) -> Value {
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
        m.insert("body_hash".into(), Value::from(self.body_hash.to_hex()));
        Value::Object(m)
    }

    /// Canonical bytes of the header: the log leaf.
    ///
    /// # Errors
    /// A field is invalid.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        check_names(
            &self.channel,
            &self.author,
            &self.kind,
            self.seq,
            &self.refs,
        )?;
        Ok(canonical::encode(&self.to_value())?)
    }

    /// Decodes canonical header bytes (a log leaf).
    ///
    /// # Errors
    /// The bytes are not a canonical header.
    pub fn decode(bytes: &[u8]) -> Result<EntryHeader, EntryError> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(EntryError::TooLarge(bytes.len()));
        }
        EntryHeader::from_value(canonical::decode(bytes)?)
    }

    fn from_value(v: Value) -> Result<EntryHeader, EntryError> {
        let Value::Object(mut m) = v else {
            return Err(EntryError::NotObject);
        };
        if let Some(k) = m.keys().find(|k| !HEADER_FIELDS.contains(&k.as_str())) {
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
        let h = EntryHeader {
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
            body_hash: {
                let s = string(take("body_hash")?, "body_hash")?;
                let h = Hash::from_hex(&s).map_err(|e| EntryError::Invalid {
                    field: "body_hash",
                    why: e.to_string(),
                })?;
                if h.to_hex() != s {
                    return Err(EntryError::Invalid {
                        field: "body_hash",
                        why: "must be lowercase hex".into(),
                    });
                }
                h
            },
        };
        check_names(&h.channel, &h.author, &h.kind, h.seq, &h.refs)?;
        Ok(h)
    }

    /// RFC 9162 leaf hash of the header bytes.
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.encode().expect("a decoded or built header encodes"))
    }

    /// `channel/author/seq`.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.channel, self.author, self.seq)
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

/// A party's name: an identifier without '.', because a channel's id is
/// its creator's name, a '.', and a name the creator chose.
///
/// # Errors
/// Why the name is not a party name.
pub fn check_party(s: &str) -> Result<(), String> {
    check_identifier(s)?;
    if s.contains('.') {
        return Err(format!(
            "party {s:?} must not contain '.' (it separates a channel's creator from its name)"
        ));
    }
    Ok(())
}

/// The party that created channel `id` (`<creator>.<name>`): channel ids
/// are namespaced by their creator, so that no party can take a name
/// another will use.
pub fn channel_creator(id: &str) -> Option<&str> {
    id.split_once('.')
        .filter(|(creator, name)| !creator.is_empty() && !name.is_empty())
        .map(|(creator, _)| creator)
}

/// `name` qualified as a channel of `creator`, unless it already is one.
pub fn qualify_channel(creator: &str, name: &str) -> String {
    if channel_creator(name).is_some() {
        name.to_string()
    } else {
        format!("{creator}.{name}")
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

fn salt_of(s: &str) -> Result<[u8; 16], EntryError> {
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
    fn round_trip_is_exact_and_the_leaf_is_the_header() {
        let e = sample();
        let bytes = e.encode().unwrap();
        assert_eq!(Entry::decode(&bytes).unwrap(), e);
        let s = String::from_utf8(bytes.clone()).unwrap();
        assert!(s.starts_with("{\"body\":{\"priority\":\"flash\""), "{s}");
        let header = header_bytes_of(&bytes).unwrap();
        let h = String::from_utf8(header.clone()).unwrap();
        assert!(
            h.starts_with("{\"author\":\"nato\",\"body_hash\":\""),
            "{h}"
        );
        assert!(h.ends_with("\"v\":2}"), "{h}");
        assert!(!h.contains("Test"), "the header hides the body: {h}");
        assert_eq!(leaf_of(&bytes).unwrap(), leaf_hash(&header));
        assert_eq!(e.leaf_hash().unwrap(), leaf_hash(&header));
        assert_eq!(EntryHeader::decode(&header).unwrap(), e.header().unwrap());
    }

    #[test]
    fn the_body_hash_is_salted_and_binds_the_body() {
        let e = sample();
        let mut other = e.clone();
        other.salt = [0xac; 16];
        assert_ne!(
            e.header().unwrap().body_hash,
            other.header().unwrap().body_hash
        );
        // A body swapped under a genuine header is refused.
        let good = String::from_utf8(e.encode().unwrap()).unwrap();
        let swapped = good.replace("\"Test\"", "\"Tess\"");
        assert_eq!(
            Entry::decode(swapped.as_bytes()),
            Err(EntryError::BodyMismatch)
        );
    }

    #[test]
    fn decode_rejects_anything_not_canonical_or_not_an_entry() {
        let good = String::from_utf8(sample().encode().unwrap()).unwrap();
        let cases = [
            good.replace("\"v\":2", "\"v\":1"),
            good.replace("\"seq\":7", "\"seq\":7.0"),
            good.replace("\"seq\":7", "\"seq\":-7"),
            good.replace("\"seq\":7", "\"seq\":\"7\""),
            good.replace("T03:00:00Z", "T03:00:00+00:00"),
            good.replace(&"ab".repeat(16), &"AB".repeat(16)),
            good.replace(&"ab".repeat(16), &"ab".repeat(15)),
            good.replace("\"nato\"", "\"NATO\""),
            good.replace("\"hotline_message\"", "\"Hotline\""),
            good.replace(",\"v\":2}", ",\"v\":2,\"x\":1}"),
            good.replace("\"author\":\"nato\",", ""),
            good.replace("{\"body\"", "{ \"body\""),
            good.replace("\"body\":{", "\"body\":{\"z\":0.5,"),
            good.replace(
                &leaf_hash(b"x").to_hex(),
                &leaf_hash(b"x").to_hex().to_uppercase(),
            ),
            good.replace("{\"body\"", "{\"x\":1,\"body\""),
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
