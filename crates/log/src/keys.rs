//! Ed25519 keys in C2SP signed-note form.
//!
//! A verifier key ("vkey") is `<name>+<hex key ID>+<base64(type || key)>`;
//! the key ID is `SHA-256(name || 0x0A || type || key)[:4]`. A private key
//! uses the Go convention, `PRIVATE+KEY+<name>+<hex ID>+<base64(0x01 || seed)>`,
//! so keys interoperate with Go's `sumdb/note` and the tools built on it.
//!
//! One Ed25519 key serves two signature types: `0x01` signs a party's own
//! checkpoints, `0x04` (cosignature/v1) cosigns other logs' checkpoints. The
//! signed messages are domain-separated: a cosigned message always begins
//! `cosignature/v1\n`, which no parley origin line can be.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature as EdSignature, Signer as _};

use crate::hash::{hex_encode, sha256};

/// The signature types parley reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `0x01`: Ed25519 over the note text (C2SP signed-note).
    Ed25519,
    /// `0x04`: timestamped Ed25519 cosignature (C2SP tlog-cosignature).
    CosignatureV1,
}

impl KeyType {
    pub fn byte(self) -> u8 {
        match self {
            KeyType::Ed25519 => 0x01,
            KeyType::CosignatureV1 => 0x04,
        }
    }

    fn from_byte(b: u8) -> Option<KeyType> {
        match b {
            0x01 => Some(KeyType::Ed25519),
            0x04 => Some(KeyType::CosignatureV1),
            _ => None,
        }
    }
}

/// Why a key string is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key name {0:?} is invalid: it must be non-empty, without spaces or '+'")]
    BadName(String),
    #[error("a verifier key has the form <name>+<8 hex digits>+<base64>")]
    BadFormat,
    #[error("a private key has the form PRIVATE+KEY+<name>+<8 hex digits>+<base64>")]
    BadPrivateFormat,
    #[error("key ID {0:?} is not 8 hex digits")]
    BadKeyId(String),
    #[error("the key material is not valid standard base64")]
    BadBase64,
    #[error(
        "signature type 0x{0:02x} is not supported (parley reads 0x01 Ed25519 and 0x04 cosignature/v1)"
    )]
    UnsupportedType(u8),
    #[error("an Ed25519 key is 32 bytes; this one is {0}")]
    BadLength(usize),
    #[error("the key is not a valid Ed25519 public key")]
    BadPoint,
    #[error("the key is a weak (small-order) Ed25519 key")]
    WeakKey,
    #[error("key ID {stated:08x} does not match {computed:08x}, the ID of this name and key")]
    WrongKeyId { stated: u32, computed: u32 },
}

/// `SHA-256(name || 0x0A || type || key)[:4]`, big-endian.
pub fn key_id(name: &str, key_type: KeyType, public: &[u8; 32]) -> u32 {
    let h = sha256(&[name.as_bytes(), b"\n", &[key_type.byte()], public]);
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

/// A key name: non-empty, no Unicode whitespace, no `+`.
pub fn check_key_name(name: &str) -> Result<(), KeyError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(KeyError::BadName(name.to_string()));
    }
    Ok(())
}

/// A public key that can verify signatures of one type under one name.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_type: KeyType,
    id: u32,
    public: ed25519_dalek::VerifyingKey,
}

impl VerifierKey {
    /// Builds a verifier key and computes its ID. Rejects weak keys.
    pub fn new(name: &str, key_type: KeyType, public: [u8; 32]) -> Result<VerifierKey, KeyError> {
        check_key_name(name)?;
        let vk =
            ed25519_dalek::VerifyingKey::from_bytes(&public).map_err(|_| KeyError::BadPoint)?;
        if vk.is_weak() {
            return Err(KeyError::WeakKey);
        }
        Ok(VerifierKey {
            name: name.to_string(),
            key_type,
            id: key_id(name, key_type, &public),
            public: vk,
        })
    }

    /// Parses a vkey, checking the stated key ID against the name and key.
    pub fn parse(vkey: &str) -> Result<VerifierKey, KeyError> {
        let vkey = vkey.trim_end_matches(['\n', '\r']);
        let (name, rest) = vkey.split_once('+').ok_or(KeyError::BadFormat)?;
        let (id_hex, b64) = rest.split_once('+').ok_or(KeyError::BadFormat)?;
        check_key_name(name)?;
        let stated = parse_key_id(id_hex)?;
        let raw = STANDARD.decode(b64).map_err(|_| KeyError::BadBase64)?;
        let (&type_byte, key) = raw.split_first().ok_or(KeyError::BadLength(0))?;
        let key_type = KeyType::from_byte(type_byte).ok_or(KeyError::UnsupportedType(type_byte))?;
        let public: [u8; 32] = key.try_into().map_err(|_| KeyError::BadLength(key.len()))?;
        let v = VerifierKey::new(name, key_type, public)?;
        if v.id != stated {
            return Err(KeyError::WrongKeyId {
                stated,
                computed: v.id,
            });
        }
        Ok(v)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn public_bytes(&self) -> [u8; 32] {
        self.public.to_bytes()
    }

    /// The same public key under another name and/or signature type; the
    /// key ID is recomputed. This is how a party's vkey yields the key of
    /// each of its feeds (name = origin) and its cosigner key (type 0x04).
    pub fn with(&self, name: &str, key_type: KeyType) -> Result<VerifierKey, KeyError> {
        VerifierKey::new(name, key_type, self.public_bytes())
    }

    /// The cosignature/v1 form of this key under the same name.
    pub fn as_cosigner(&self) -> VerifierKey {
        self.with(&self.name.clone(), KeyType::CosignatureV1)
            .expect("name and key already validated")
    }

    /// Verifies a raw Ed25519 signature over `msg` (RFC 8032, strict:
    /// non-canonical encodings and small-order components are refused).
    pub fn verify_ed25519(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(sig) else {
            return false;
        };
        self.public
            .verify_strict(msg, &EdSignature::from_bytes(&sig))
            .is_ok()
    }

    /// True when both keys wrap the same public key (whatever name or type).
    pub fn same_key(&self, other: &VerifierKey) -> bool {
        self.public == other.public
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![self.key_type.byte()];
        raw.extend_from_slice(self.public.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, STANDARD.encode(raw))
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

fn parse_key_id(s: &str) -> Result<u32, KeyError> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyError::BadKeyId(s.to_string()));
    }
    u32::from_str_radix(s, 16).map_err(|_| KeyError::BadKeyId(s.to_string()))
}

/// A private Ed25519 key with its name.
#[derive(Clone)]
pub struct SigningKey {
    name: String,
    secret: ed25519_dalek::SigningKey,
}

impl SigningKey {
    /// A fresh key from the operating system's random source.
    pub fn generate(name: &str) -> Result<SigningKey, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("the OS random source is available");
        SigningKey::from_seed(name, seed)
    }

    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<SigningKey, KeyError> {
        check_key_name(name)?;
        Ok(SigningKey {
            name: name.to_string(),
            secret: ed25519_dalek::SigningKey::from_bytes(&seed),
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex ID>+<base64(0x01 || seed)>`.
    pub fn parse(skey: &str) -> Result<SigningKey, KeyError> {
        let skey = skey.trim_end_matches(['\n', '\r']);
        let rest = skey
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(KeyError::BadPrivateFormat)?;
        let (name, rest) = rest.split_once('+').ok_or(KeyError::BadPrivateFormat)?;
        let (id_hex, b64) = rest.split_once('+').ok_or(KeyError::BadPrivateFormat)?;
        let stated = parse_key_id(id_hex)?;
        let raw = STANDARD.decode(b64).map_err(|_| KeyError::BadBase64)?;
        let (&type_byte, seed) = raw.split_first().ok_or(KeyError::BadLength(0))?;
        if type_byte != KeyType::Ed25519.byte() {
            return Err(KeyError::UnsupportedType(type_byte));
        }
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| KeyError::BadLength(seed.len()))?;
        let key = SigningKey::from_seed(name, seed)?;
        let computed = key.verifier().id;
        if computed != stated {
            return Err(KeyError::WrongKeyId { stated, computed });
        }
        Ok(key)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `0x01` verifier key for this key's own signatures.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey::new(
            &self.name,
            KeyType::Ed25519,
            self.secret.verifying_key().to_bytes(),
        )
        .expect("a generated key is valid")
    }

    /// The `0x04` verifier key for this key's cosignatures.
    pub fn cosigner(&self) -> VerifierKey {
        self.verifier().as_cosigner()
    }

    /// The Go-format private key string.
    pub fn to_private_string(&self) -> String {
        let mut raw = vec![KeyType::Ed25519.byte()];
        raw.extend_from_slice(&self.secret.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex_encode(&self.verifier().id.to_be_bytes()),
            STANDARD.encode(raw)
        )
    }

    /// The same key material under another name (a feed's origin).
    pub fn renamed(&self, name: &str) -> Result<SigningKey, KeyError> {
        SigningKey::from_seed(name, self.secret.to_bytes())
    }

    /// The private key as PKCS#8 v1 DER (RFC 8410), for TLS: a node's
    /// certificate is bound to its node key.
    pub fn pkcs8_der(&self) -> Vec<u8> {
        const PREFIX: [u8; 16] = [
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        let mut der = PREFIX.to_vec();
        der.extend_from_slice(&self.secret.to_bytes());
        der
    }

    pub fn sign_raw(&self, msg: &[u8]) -> [u8; 64] {
        self.secret.sign(msg).to_bytes()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({}, <secret>)", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_peter_neumann_key_round_trips() {
        let skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let k = SigningKey::parse(skey).unwrap();
        assert_eq!(k.to_private_string(), skey);
        assert_eq!(k.verifier().to_string(), vkey);
        assert_eq!(VerifierKey::parse(vkey).unwrap(), k.verifier());
    }

    #[test]
    fn every_mutation_of_a_vkey_is_rejected() {
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        for i in 0..vkey.len() {
            let sub = &vkey[..i];
            assert!(VerifierKey::parse(sub).is_err(), "prefix {sub:?}");
            let mut b = vkey.as_bytes().to_vec();
            b[i] = b[i].wrapping_add(1);
            if let Ok(s) = String::from_utf8(b) {
                assert!(VerifierKey::parse(&s).is_err(), "mutation {s:?}");
            }
        }
    }

    #[test]
    fn cosigner_key_has_its_own_id() {
        let k = SigningKey::from_seed("witness.example", [7; 32]).unwrap();
        let v = k.verifier();
        let c = k.cosigner();
        assert_eq!(c.key_type(), KeyType::CosignatureV1);
        assert_ne!(v.id(), c.id());
        assert!(c.to_string().split('+').nth(2).unwrap().starts_with('B'));
        assert_eq!(VerifierKey::parse(&c.to_string()).unwrap(), c);
    }

    #[test]
    fn bad_names_rejected() {
        for n in ["", "a b", "a+b", "a\u{2003}b"] {
            assert!(SigningKey::from_seed(n, [1; 32]).is_err());
        }
    }
}
