//! A party's public identity: one key per statement.
//!
//! C2SP signed-note says a key SHOULD NOT sign two signature types, and
//! tlog-cosignature says a (name, key) pair MUST imply one set of
//! statements. A party therefore holds four Ed25519 keys, each with its own
//! name and its own meaning:
//!
//! | role | type | name | what a signature by it states |
//! |---|---|---|---|
//! | log | 0x01 | `<party>` (per feed: the origin) | "this is my feed up to this size" (checkpoints) |
//! | receipt | 0x04 | `<party>/receipt` | "I, a member, verified and durably stored this feed up to this size" |
//! | witness | 0x04 | `<party>/witness` | "I have seen no other history of this log" |
//! | node | 0x01 | `<party>/node` | "this request or link test comes from my node" |
//!
//! A receipt key and a witness key never share a name or a key, so no
//! witness cosignature can ever pass for a receipt, or the reverse.
//!
//! The identity file (`parley-identity/v1`) carries a party's public keys,
//! exchanged out of band as one file:
//!
//! ```text
//! parley-identity/v1
//! party nato
//! log nato+1a2b3c4d+AQ…
//! receipt nato/receipt+5e6f7a8b+BA…
//! witness nato/witness+…+BA…
//! node nato/node+…+AQ…
//! ```
//!
//! A role may list several keys: after a rotation the newest (last) is
//! current and the older ones still verify what they signed before.

use std::fmt;

use crate::entry::check_identifier;
use crate::keys::{KeyType, VerifierKey};

/// The first line of an identity file.
pub const IDENTITY_HEADER: &str = "parley-identity/v1";

/// What a key states when it signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Checkpoints of the party's own feeds (0x01, named after each origin).
    Log,
    /// Receipts: cosignatures of other members' feeds after ingest (0x04).
    Receipt,
    /// Witness cosignatures of logs this party witnesses (0x04).
    Witness,
    /// Node-to-node requests: link tests, catch-up reads (0x01).
    Node,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Log, Role::Receipt, Role::Witness, Role::Node];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Log => "log",
            Role::Receipt => "receipt",
            Role::Witness => "witness",
            Role::Node => "node",
        }
    }

    /// Parses `log`, `receipt`, `witness` or `node`.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The signature type this role signs with.
    pub fn key_type(self) -> KeyType {
        match self {
            Role::Log | Role::Node => KeyType::Ed25519,
            Role::Receipt | Role::Witness => KeyType::CosignatureV1,
        }
    }

    /// The key name this role uses for `party`.
    pub fn key_name(self, party: &str) -> String {
        match self {
            Role::Log => party.to_string(),
            r => format!("{party}/{}", r.as_str()),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The party whose receipt key has this name (`<party>/receipt`), if any.
pub fn receipt_party(key_name: &str) -> Option<&str> {
    key_name
        .strip_suffix("/receipt")
        .filter(|p| check_identifier(p).is_ok())
}

/// The party whose witness key has this name (`<party>/witness`), if any.
pub fn witness_party(key_name: &str) -> Option<&str> {
    key_name
        .strip_suffix("/witness")
        .filter(|p| check_identifier(p).is_ok())
}

/// Why an identity file is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("line {line}: {why}")]
    Line { line: usize, why: String },
    #[error("the identity has no {0} key")]
    Missing(Role),
    #[error("not a parley identity: the first line must be {IDENTITY_HEADER:?}")]
    Header,
}

/// A party's public keys, by role, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub party: String,
    keys: Vec<(Role, VerifierKey)>,
}

impl Identity {
    /// An identity from one key per role.
    ///
    /// # Errors
    /// A key whose name or type does not fit its role and the party.
    pub fn new(
        party: &str,
        keys: impl IntoIterator<Item = (Role, VerifierKey)>,
    ) -> Result<Identity, IdentityError> {
        let mut id = Identity {
            party: party.to_string(),
            keys: Vec::new(),
        };
        for (i, (role, key)) in keys.into_iter().enumerate() {
            id.push(role, key)
                .map_err(|why| IdentityError::Line { line: i + 1, why })?;
        }
        id.complete()?;
        Ok(id)
    }

    fn push(&mut self, role: Role, key: VerifierKey) -> Result<(), String> {
        let want = role.key_name(&self.party);
        if key.name() != want {
            return Err(format!(
                "a {role} key of {} is named {want:?}, not {:?}",
                self.party,
                key.name()
            ));
        }
        if key.key_type() != role.key_type() {
            return Err(format!(
                "a {role} key is a 0x{:02x} key, not 0x{:02x}",
                role.key_type().byte(),
                key.key_type().byte()
            ));
        }
        if self.keys.iter().any(|(_, k)| k.same_key(&key)) {
            return Err(format!(
                "the key of {} is listed twice: every statement has its own key",
                key.name()
            ));
        }
        self.keys.push((role, key));
        Ok(())
    }

    fn complete(&self) -> Result<(), IdentityError> {
        for role in Role::ALL {
            if self.current(role).is_none() {
                return Err(IdentityError::Missing(role));
            }
        }
        Ok(())
    }

    /// Parses an identity file.
    ///
    /// # Errors
    /// The first line is not the header, a line is malformed, a key does not
    /// fit its role, or a role has no key.
    pub fn parse(text: &str) -> Result<Identity, IdentityError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
        match lines.next() {
            Some((_, IDENTITY_HEADER)) => {}
            _ => return Err(IdentityError::Header),
        }
        let bad = |line: usize, why: String| IdentityError::Line { line, why };
        let (n, party_line) = lines
            .next()
            .ok_or_else(|| bad(2, "the second line must be \"party NAME\"".into()))?;
        let party = party_line
            .strip_prefix("party ")
            .ok_or_else(|| bad(n, "the second line must be \"party NAME\"".into()))?;
        check_identifier(party).map_err(|e| bad(n, format!("party: {e}")))?;
        let mut id = Identity {
            party: party.to_string(),
            keys: Vec::new(),
        };
        for (n, line) in lines {
            let (word, vkey) = line
                .split_once(' ')
                .ok_or_else(|| bad(n, format!("expected \"ROLE VKEY\", found {line:?}")))?;
            let role = Role::parse(word).ok_or_else(|| {
                bad(
                    n,
                    format!("unknown role {word:?} (log, receipt, witness or node)"),
                )
            })?;
            let key = VerifierKey::parse(vkey).map_err(|e| bad(n, e.to_string()))?;
            id.push(role, key).map_err(|why| bad(n, why))?;
        }
        id.complete()?;
        Ok(id)
    }

    /// The current (newest) key of a role.
    pub fn current(&self, role: Role) -> Option<&VerifierKey> {
        self.keys
            .iter()
            .rev()
            .find(|(r, _)| *r == role)
            .map(|(_, k)| k)
    }

    /// Every key of a role, oldest first (retired keys still verify).
    pub fn all(&self, role: Role) -> impl Iterator<Item = &VerifierKey> {
        self.keys
            .iter()
            .filter(move |(r, _)| *r == role)
            .map(|(_, k)| k)
    }

    /// Every key with its role, oldest first.
    pub fn keys(&self) -> &[(Role, VerifierKey)] {
        &self.keys
    }

    /// The current log key under a feed's origin name (C2SP: the log's key
    /// name is its origin).
    pub fn log_key_for(&self, origin: &str) -> VerifierKey {
        self.current(Role::Log)
            .expect("a complete identity has a log key")
            .with(origin, KeyType::Ed25519)
            .expect("origins are valid key names")
    }

    /// Every log key (current and retired) under a feed's origin name.
    pub fn log_keys_for(&self, origin: &str) -> Vec<VerifierKey> {
        self.all(Role::Log)
            .map(|k| {
                k.with(origin, KeyType::Ed25519)
                    .expect("origins are valid key names")
            })
            .collect()
    }

    /// Adds a newer key for a role (after a verified rotation).
    ///
    /// # Errors
    /// The key does not fit the role, or is already in this identity.
    pub fn rotate(&mut self, role: Role, key: VerifierKey) -> Result<(), String> {
        self.push(role, key)
    }

    /// The identity file's text.
    pub fn to_text(&self) -> String {
        let mut s = format!("{IDENTITY_HEADER}\nparty {}\n", self.party);
        for (role, key) in &self.keys {
            s.push_str(&format!("{role} {key}\n"));
        }
        s
    }
}

/// The first line of a key rotation statement.
pub const ROTATION_HEADER: &str = "parley-key-rotation/v1";

/// "From `time` on, `party` signs `role` statements with `new` instead of
/// `old`", signed by both keys.
///
/// The statement is a signed note whose text starts with
/// `parley-key-rotation/v1`, and each signature is Ed25519 over that text
/// under the key's own (name, key ID). This is the one message a receipt
/// or witness key signs that is not a cosignature: it cannot be mistaken
/// for one (a cosigned message starts `cosignature/v1`), nor for a
/// checkpoint (its second line is not a tree size), so it makes no
/// statement of the kinds those keys make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    pub party: String,
    pub role: Role,
    pub old: VerifierKey,
    pub new: VerifierKey,
    /// POSIX seconds.
    pub time: u64,
}

/// Why a rotation statement is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotationError {
    #[error("not a key rotation statement: {0}")]
    Format(String),
    #[error("the statement rotates {party}'s keys, not {expected}'s")]
    WrongParty { party: String, expected: String },
    #[error("the old {role} key {key} is not one of {party}'s pinned keys")]
    UnknownOldKey {
        party: String,
        role: Role,
        key: String,
    },
    #[error("the statement is not signed by the {0} key")]
    MissingSignature(&'static str),
    #[error("the new key does not fit: {0}")]
    BadNewKey(String),
}

impl Rotation {
    /// The statement's text.
    pub fn text(&self) -> String {
        format!(
            "{ROTATION_HEADER}\nparty {}\nrole {}\nold {}\nnew {}\ntime {}\n",
            self.party, self.role, self.old, self.new, self.time
        )
    }

    /// The signed statement: the text, signed by the old and the new key.
    ///
    /// # Panics
    /// If the keys are not the ones the statement names.
    pub fn sign(&self, old: &crate::keys::SigningKey, new: &crate::keys::SigningKey) -> String {
        let text = self.text();
        let mut note = crate::note::Note::new(&text).expect("well-formed text");
        for (vk, sk) in [(&self.old, old), (&self.new, new)] {
            assert_eq!(
                sk.verifier().public_bytes(),
                vk.public_bytes(),
                "signing key matches the statement"
            );
            note.add_signature(crate::note::NoteSignature {
                name: vk.name().to_string(),
                key_id: vk.id(),
                sig: sk.sign_raw(text.as_bytes()).to_vec(),
            });
        }
        note.to_string()
    }

    /// Parses a signed statement and checks it against `identity`: the old
    /// key is one of the party's keys for that role, both signatures
    /// verify, and the new key fits the role.
    ///
    /// # Errors
    /// A [`RotationError`] saying which check failed.
    pub fn verify(signed: &str, identity: &Identity) -> Result<Rotation, RotationError> {
        let fmt = |w: &str| RotationError::Format(w.to_string());
        let note = crate::note::Note::parse(signed.as_bytes()).map_err(|e| fmt(&e.to_string()))?;
        let text = note.text();
        let lines: Vec<&str> = text.lines().collect();
        let field = |i: usize, name: &str| -> Result<&str, RotationError> {
            lines
                .get(i)
                .and_then(|l| l.strip_prefix(name))
                .and_then(|l| l.strip_prefix(' '))
                .ok_or_else(|| fmt(&format!("line {} must be \"{name} …\"", i + 1)))
        };
        if lines.first() != Some(&ROTATION_HEADER) || lines.len() != 6 {
            return Err(fmt(&format!(
                "it must be 6 lines starting {ROTATION_HEADER}"
            )));
        }
        let party = field(1, "party")?.to_string();
        let role = Role::parse(field(2, "role")?).ok_or_else(|| fmt("unknown role"))?;
        let old = VerifierKey::parse(field(3, "old")?).map_err(|e| fmt(&e.to_string()))?;
        let new = VerifierKey::parse(field(4, "new")?).map_err(|e| fmt(&e.to_string()))?;
        let time = field(5, "time")?
            .parse()
            .map_err(|_| fmt("time is not a number"))?;
        let r = Rotation {
            party,
            role,
            old,
            new,
            time,
        };
        if r.text() != text {
            return Err(fmt("not in canonical form"));
        }
        if r.party != identity.party {
            return Err(RotationError::WrongParty {
                party: r.party,
                expected: identity.party.clone(),
            });
        }
        if !identity.all(role).any(|k| *k == r.old) {
            return Err(RotationError::UnknownOldKey {
                party: r.party,
                role,
                key: r.old.to_string(),
            });
        }
        for (which, key) in [("old", &r.old), ("new", &r.new)] {
            let signed = note.signatures().iter().any(|s| {
                s.name == key.name()
                    && s.key_id == key.id()
                    && key.verify_ed25519(text.as_bytes(), &s.sig)
            });
            if !signed {
                return Err(RotationError::MissingSignature(which));
            }
        }
        let mut check = identity.clone();
        if !check.all(role).any(|k| *k == r.new) {
            check
                .rotate(role, r.new.clone())
                .map_err(RotationError::BadNewKey)?;
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;

    fn key(role: Role, party: &str, seed: u8) -> VerifierKey {
        let k = SigningKey::from_seed(&role.key_name(party), [seed; 32]).unwrap();
        match role.key_type() {
            KeyType::Ed25519 => k.verifier(),
            KeyType::CosignatureV1 => k.cosigner(),
        }
    }

    fn nato() -> Identity {
        Identity::new(
            "nato",
            Role::ALL
                .into_iter()
                .enumerate()
                .map(|(i, r)| (r, key(r, "nato", i as u8 + 1))),
        )
        .unwrap()
    }

    #[test]
    fn round_trips() {
        let id = nato();
        let text = id.to_text();
        assert!(text.starts_with("parley-identity/v1\nparty nato\nlog nato+"));
        assert_eq!(Identity::parse(&text).unwrap(), id);
        assert_eq!(id.current(Role::Receipt).unwrap().name(), "nato/receipt");
        assert_eq!(receipt_party("nato/receipt"), Some("nato"));
        assert_eq!(receipt_party("nato/witness"), None);
        assert_eq!(witness_party("osce/witness"), Some("osce"));
    }

    #[test]
    fn one_key_per_statement() {
        let same = SigningKey::from_seed("x", [9; 32]).unwrap();
        let r = Identity::new(
            "nato",
            [
                (Role::Log, same.renamed("nato").unwrap().verifier()),
                (
                    Role::Receipt,
                    same.renamed("nato/receipt").unwrap().cosigner(),
                ),
            ],
        );
        assert!(
            matches!(r, Err(IdentityError::Line { line: 2, .. })),
            "{r:?}"
        );
    }

    #[test]
    fn refuses_misnamed_and_mistyped_keys() {
        let text = nato().to_text();
        let swapped = text.replacen("receipt nato/receipt", "witness nato/receipt", 1);
        assert!(Identity::parse(&swapped).is_err());
        let other_party = text.replacen("party nato", "party russia", 1);
        assert!(Identity::parse(&other_party).is_err());
        let missing: String = text
            .lines()
            .filter(|l| !l.starts_with("node "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            Identity::parse(&missing),
            Err(IdentityError::Missing(Role::Node))
        );
        assert_eq!(Identity::parse("hello"), Err(IdentityError::Header));
    }

    #[test]
    fn a_rotation_is_signed_by_both_keys_and_checked_against_the_pinned_one() {
        let id = nato();
        let old = SigningKey::from_seed("nato/receipt", [2; 32]).unwrap();
        let new = SigningKey::from_seed("nato/receipt", [77; 32]).unwrap();
        let r = Rotation {
            party: "nato".into(),
            role: Role::Receipt,
            old: old.cosigner(),
            new: new.cosigner(),
            time: 1_800_000_000,
        };
        let signed = r.sign(&old, &new);
        assert_eq!(Rotation::verify(&signed, &id), Ok(r.clone()));
        // Signed by the old key only: refused.
        let other = SigningKey::from_seed("nato/receipt", [78; 32]).unwrap();
        let forged = Rotation {
            new: other.cosigner(),
            ..r.clone()
        };
        let text = forged.text();
        let mut note = crate::note::Note::new(&text).unwrap();
        note.add_signature(crate::note::NoteSignature {
            name: "nato/receipt".into(),
            key_id: old.cosigner().id(),
            sig: old.sign_raw(text.as_bytes()).to_vec(),
        });
        assert_eq!(
            Rotation::verify(&note.to_string(), &id),
            Err(RotationError::MissingSignature("new"))
        );
        // An old key nobody pinned cannot rotate anything.
        let stranger = Rotation {
            old: other.cosigner(),
            new: new.cosigner(),
            ..r.clone()
        };
        assert!(matches!(
            Rotation::verify(&stranger.sign(&other, &new), &id),
            Err(RotationError::UnknownOldKey { .. })
        ));
        // Another party's statement does not apply.
        let mut russia = id.clone();
        russia.party = "russia".into();
        assert!(matches!(
            Rotation::verify(&signed, &russia),
            Err(RotationError::WrongParty { .. })
        ));
        // It can never be read as a checkpoint.
        assert!(crate::checkpoint::Checkpoint::parse(&r.text()).is_err());
    }

    #[test]
    fn rotation_keeps_old_keys() {
        let mut id = nato();
        let new = key(Role::Receipt, "nato", 42);
        id.rotate(Role::Receipt, new.clone()).unwrap();
        assert_eq!(id.current(Role::Receipt), Some(&new));
        assert_eq!(id.all(Role::Receipt).count(), 2);
        assert_eq!(Identity::parse(&id.to_text()).unwrap(), id);
    }
}
