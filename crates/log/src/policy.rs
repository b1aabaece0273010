//! C2SP tlog-policy: which logs a verifier trusts and which witnesses must
//! have cosigned a checkpoint.
//!
//! ```text
//! log <vkey> [<url>]
//! witness <name> <vkey> [<url>]
//! group <name> all|any|<k> <member>...
//! quorum <name>|none
//! ```

use std::collections::HashSet;

use crate::keys::{KeyType, VerifierKey};

/// A parsed policy.
#[derive(Clone, Debug)]
pub struct Policy {
    pub logs: Vec<PolicyLog>,
    pub witnesses: Vec<PolicyWitness>,
    groups: Vec<Group>,
    quorum: Quorum,
}

#[derive(Clone, Debug)]
pub struct PolicyLog {
    pub key: VerifierKey,
    pub url: Option<String>,
}

#[derive(Clone, Debug)]
pub struct PolicyWitness {
    pub name: String,
    /// Always the cosignature/v1 (0x04) form of the key.
    pub key: VerifierKey,
    pub url: Option<String>,
}

#[derive(Clone, Debug)]
struct Group {
    name: String,
    threshold: usize,
    members: Vec<Member>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member {
    Witness(usize),
    Group(usize),
}

#[derive(Clone, Copy, Debug)]
enum Quorum {
    None,
    Of(Member),
}

/// Why a policy file is invalid, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy line {line}: {why}")]
pub struct PolicyError {
    pub line: usize,
    pub why: String,
}

impl Policy {
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let mut p = Policy {
            logs: Vec::new(),
            witnesses: Vec::new(),
            groups: Vec::new(),
            quorum: Quorum::None,
        };
        let mut quorum_seen = false;
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let err = |why: String| PolicyError { line, why };
            if let Some(c) = raw.bytes().find(|&b| b < 0x20 && b != b'\t' || b == 0x7f) {
                return Err(err(format!("control character 0x{c:02x} is not allowed")));
            }
            let words: Vec<&str> = raw.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
            let Some(&keyword) = words.first() else {
                continue;
            };
            if keyword.starts_with('#') {
                continue;
            }
            match keyword {
                "log" => {
                    let (vkey, url) = match &words[1..] {
                        [v] => (*v, None),
                        [v, u] => (*v, Some(u.to_string())),
                        _ => return Err(err("expected: log <vkey> [<url>]".into())),
                    };
                    let key = VerifierKey::parse(vkey).map_err(|e| err(e.to_string()))?;
                    if key.key_type() != KeyType::Ed25519 {
                        return Err(err("a log key must be an Ed25519 (0x01) vkey".into()));
                    }
                    if p.logs.iter().any(|l| l.key.same_key(&key)) {
                        return Err(err("duplicate log key".into()));
                    }
                    p.logs.push(PolicyLog { key, url });
                }
                "witness" => {
                    let (name, vkey, url) = match &words[1..] {
                        [n, v] => (*n, *v, None),
                        [n, v, u] => (*n, *v, Some(u.to_string())),
                        _ => return Err(err("expected: witness <name> <vkey> [<url>]".into())),
                    };
                    p.check_new_name(name).map_err(err)?;
                    // A 0x01 vkey is accepted and read as the same key's
                    // cosignature/v1 identity (the Armored Witness publishes
                    // its keys that way).
                    let key = VerifierKey::parse(vkey)
                        .map_err(|e| err(e.to_string()))?
                        .as_cosigner();
                    if p.witnesses.iter().any(|w| w.key.same_key(&key)) {
                        return Err(err("duplicate witness key".into()));
                    }
                    p.witnesses.push(PolicyWitness {
                        name: name.to_string(),
                        key,
                        url,
                    });
                }
                "group" => {
                    if words.len() < 4 {
                        return Err(err("expected: group <name> all|any|<k> <member>...".into()));
                    }
                    let name = words[1];
                    p.check_new_name(name).map_err(err)?;
                    let mut members = Vec::new();
                    for m in &words[3..] {
                        let member = p.lookup(m).ok_or_else(|| {
                            err(format!("{m:?} is not defined on an earlier line"))
                        })?;
                        if members.contains(&member) {
                            return Err(err(format!("{m:?} is listed twice")));
                        }
                        members.push(member);
                    }
                    let n = members.len();
                    let threshold = match words[2] {
                        "all" => n,
                        "any" => 1,
                        k => match k.parse::<usize>() {
                            Ok(k) if (1..=n).contains(&k) && k.to_string() == words[2] => k,
                            _ => {
                                return Err(err(format!(
                                    "threshold {k:?} must be all, any or 1..{n}"
                                )));
                            }
                        },
                    };
                    p.groups.push(Group {
                        name: name.to_string(),
                        threshold,
                        members,
                    });
                }
                "quorum" => {
                    if quorum_seen {
                        return Err(err("a policy has exactly one quorum line".into()));
                    }
                    let [_, name] = words[..] else {
                        return Err(err("expected: quorum <name>|none".into()));
                    };
                    quorum_seen = true;
                    p.quorum = if name == "none" {
                        Quorum::None
                    } else {
                        Quorum::Of(p.lookup(name).ok_or_else(|| {
                            err(format!("{name:?} is not defined on an earlier line"))
                        })?)
                    };
                }
                other => return Err(err(format!("unknown keyword {other:?}"))),
            }
        }
        if !quorum_seen {
            return Err(PolicyError {
                line: text.split('\n').count(),
                why: "the policy has no quorum line".into(),
            });
        }
        Ok(p)
    }

    fn check_new_name(&self, name: &str) -> Result<(), String> {
        if name == "none" {
            return Err("\"none\" is reserved".into());
        }
        if self.lookup(name).is_some() {
            return Err(format!("{name:?} is already defined"));
        }
        Ok(())
    }

    fn lookup(&self, name: &str) -> Option<Member> {
        if let Some(i) = self.witnesses.iter().position(|w| w.name == name) {
            return Some(Member::Witness(i));
        }
        self.groups
            .iter()
            .position(|g| g.name == name)
            .map(Member::Group)
    }

    /// The log key whose name is `origin`, if the policy lists one.
    pub fn log_for_origin(&self, origin: &str) -> Option<&VerifierKey> {
        self.logs
            .iter()
            .map(|l| &l.key)
            .find(|k| k.name() == origin)
    }

    /// The cosigner keys of every witness.
    pub fn witness_keys(&self) -> Vec<VerifierKey> {
        self.witnesses.iter().map(|w| w.key.clone()).collect()
    }

    /// Whether witnesses whose cosignatures verified (given by key name and
    /// key ID) satisfy the quorum.
    pub fn quorum_met(&self, cosigned: &[(String, u32)]) -> bool {
        let signed: HashSet<usize> = self
            .witnesses
            .iter()
            .enumerate()
            .filter(|(_, w)| {
                cosigned
                    .iter()
                    .any(|(n, id)| n == w.key.name() && *id == w.key.id())
            })
            .map(|(i, _)| i)
            .collect();
        match self.quorum {
            Quorum::None => true,
            Quorum::Of(m) => self.member_met(m, &signed),
        }
    }

    fn member_met(&self, m: Member, signed: &HashSet<usize>) -> bool {
        match m {
            Member::Witness(i) => signed.contains(&i),
            Member::Group(g) => {
                let group = &self.groups[g];
                group
                    .members
                    .iter()
                    .filter(|&&m| self.member_met(m, signed))
                    .count()
                    >= group.threshold
            }
        }
    }

    /// A human description of the quorum rule.
    pub fn describe_quorum(&self) -> String {
        match self.quorum {
            Quorum::None => "none".into(),
            Quorum::Of(Member::Witness(i)) => format!("witness {}", self.witnesses[i].name),
            Quorum::Of(Member::Group(g)) => format!("group {}", self.groups[g].name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;

    fn key(name: &str, seed: u8) -> SigningKey {
        SigningKey::from_seed(name, [seed; 32]).unwrap()
    }

    #[test]
    fn two_level_quorum() {
        let (x1, x2, x3, y1) = (
            key("x1.example", 1),
            key("x2.example", 2),
            key("x3.example", 3),
            key("y1.example", 4),
        );
        let log = key("parley/c/nato", 9);
        let text = format!(
            "# example\nlog {}\n\nwitness X1 {}\nwitness X2 {}\n\twitness X3 {} https://x3.example/\ngroup X 2 X1 X2 X3\nwitness Y1 {}\ngroup XY all X Y1\nquorum XY\n",
            log.verifier(),
            x1.cosigner(),
            x2.cosigner(),
            x3.verifier(), // a 0x01 vkey is read as its cosigner form
            y1.cosigner()
        );
        let p = Policy::parse(&text).unwrap();
        let sig = |k: &SigningKey| (k.cosigner().name().to_string(), k.cosigner().id());
        assert!(p.log_for_origin("parley/c/nato").is_some());
        assert!(!p.quorum_met(&[sig(&x1), sig(&y1)]));
        assert!(p.quorum_met(&[sig(&x1), sig(&x3), sig(&y1)]));
        assert!(!p.quorum_met(&[sig(&x1), sig(&x2)]));
    }

    #[test]
    fn errors_name_the_line() {
        let w = key("w.example", 1).cosigner();
        let cases = [
            ("quorum W\n".to_string(), 1, "not defined"),
            (
                format!("witness W {w}\ngroup G 3 W\nquorum G\n"),
                2,
                "threshold",
            ),
            (
                format!("witness W {w}\ngroup G any W W\nquorum G\n"),
                2,
                "twice",
            ),
            (
                format!("witness W {w}\nwitness W2 {w}\nquorum W\n"),
                2,
                "duplicate witness",
            ),
            (format!("witness none {w}\nquorum none\n"), 1, "reserved"),
            (format!("witness W {w}\n"), 2, "no quorum"),
            ("quorum none\nquorum none\n".to_string(), 2, "exactly one"),
            ("lag x\nquorum none\n".to_string(), 1, "unknown keyword"),
            (format!("log {w}\nquorum none\n"), 1, "Ed25519"),
        ];
        for (text, line, what) in cases {
            let e = Policy::parse(&text).unwrap_err();
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.why.contains(what), "{text}: {e}");
        }
    }
}
