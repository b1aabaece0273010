//! RFC 9162 §2.1 hashing: the only two hash functions a Merkle log needs.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// A SHA-256 value: a leaf hash, an interior node hash or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

/// Length in bytes of every hash in a log.
pub const HASH_LEN: usize = 32;

impl Hash {
    /// `MTH({}) = SHA-256()`: the root of the empty tree.
    pub const EMPTY_ROOT: Hash = Hash([
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9,
        0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
        0xb8, 0x55,
    ]);

    /// Takes exactly 32 bytes; anything else is an error, never a panic.
    pub fn from_slice(bytes: &[u8]) -> Result<Hash, HashParseError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| HashParseError::Length(bytes.len()))?;
        Ok(Hash(arr))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex_encode(&self.0)
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    pub fn from_hex(s: &str) -> Result<Hash, HashParseError> {
        let bytes = hex_decode(s).ok_or(HashParseError::Encoding)?;
        Hash::from_slice(&bytes)
    }

    pub fn from_base64(s: &str) -> Result<Hash, HashParseError> {
        let bytes = STANDARD.decode(s).map_err(|_| HashParseError::Encoding)?;
        Hash::from_slice(&bytes)
    }

    /// Accepts hex (64 digits, either case) or standard base64. The forms
    /// cannot be confused: 32 bytes of padded base64 always end in '='.
    pub fn parse(s: &str) -> Result<Hash, HashParseError> {
        let s = s.trim();
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            if s.len() != 64 {
                return Err(HashParseError::HexLength(s.len()));
            }
            Hash::from_hex(s)
        } else {
            Hash::from_base64(s)
        }
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Why a string or byte slice is not a hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    #[error("a hash must be 32 bytes, got {0}")]
    Length(usize),
    #[error("a hash must be 64 hex digits or standard base64")]
    Encoding,
    #[error("a hex hash has 64 digits, this one has {0}")]
    HexLength(usize),
}

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    Hash(h.finalize().into())
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// Plain SHA-256, for key IDs and origin hashes.
/// SHA-256 of `data`, as lowercase hex (e.g. to store a token's digest).
pub fn sha256_hex(data: &[u8]) -> String {
    hex_encode(&sha256(&[data]))
}

pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Lowercase hex.
pub fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    s
}

/// Hex (either case) to bytes; `None` if not an even number of hex digits.
pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    s.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(Hash(sha256(&[])), Hash::EMPTY_ROOT);
    }

    #[test]
    fn parse_accepts_hex_and_base64_and_rejects_short() {
        let h = leaf_hash(b"");
        assert_eq!(Hash::parse(&h.to_hex()).unwrap(), h);
        assert_eq!(Hash::parse(&h.to_hex().to_uppercase()).unwrap(), h);
        assert_eq!(Hash::parse(&h.to_base64()).unwrap(), h);
        assert_eq!(Hash::parse("AAA="), Err(HashParseError::Length(2)));
        assert_eq!(Hash::parse("0000"), Err(HashParseError::HexLength(4)));
        assert_eq!(Hash::parse("zz"), Err(HashParseError::Encoding));
    }
}
