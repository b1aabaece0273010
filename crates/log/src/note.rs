//! C2SP signed-note: a text followed by a blank line and signature lines
//! `— <name> <base64(key ID || signature)>`.

use std::collections::HashSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::keys::{KeyType, SigningKey, VerifierKey, check_key_name};

/// Largest note accepted, signatures included.
pub const MAX_NOTE_BYTES: usize = 1 << 20;
/// Most signature lines accepted (Go's limit; C2SP requires at least 16).
pub const MAX_SIGNATURES: usize = 100;

const SIG_PREFIX: &str = "\u{2014} ";

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    /// The signature bytes after the key ID (for cosignature/v1: the
    /// 8-byte timestamp followed by the Ed25519 signature).
    pub sig: Vec<u8>,
}

impl NoteSignature {
    /// The line as it appears in a note, with its final newline.
    pub fn to_line(&self) -> String {
        let mut raw = self.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.sig);
        format!("{SIG_PREFIX}{} {}\n", self.name, STANDARD.encode(raw))
    }

    /// Parses one signature line (with or without its final newline), as
    /// returned by a witness or sent as a receipt.
    pub fn parse_line(line: &str) -> Result<NoteSignature, NoteError> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        if line.contains('\n') {
            return Err(NoteError::MalformedSignatureLine(1));
        }
        check_text(line)?;
        parse_signature_line(line, 1)
    }

    /// The timestamp of a cosignature/v1 line (the first 8 signature bytes).
    pub fn cosignature_time(&self) -> Option<u64> {
        let t: [u8; 8] = self.sig.get(..8)?.try_into().ok()?;
        Some(u64::from_be_bytes(t))
    }
}

/// A note: its text (ending in a newline) and its signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// Why a note is malformed or does not verify. Positions are 1-based lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("note is {0} bytes; the limit is {MAX_NOTE_BYTES}")]
    TooLong(usize),
    #[error("note is not valid UTF-8 (at byte {0})")]
    InvalidUtf8(usize),
    #[error("carriage return at line {0}: notes use \\n line endings only")]
    CarriageReturn(usize),
    #[error("control character U+{code:04X} at line {line}: only \\n is allowed")]
    ControlCharacter { line: usize, code: u32 },
    #[error("note does not end with a newline")]
    MissingFinalNewline,
    #[error("note text is empty")]
    EmptyText,
    #[error("no blank line separates the text from signatures")]
    MissingSignatureBlock,
    #[error("note has no signature lines")]
    NoSignatures,
    #[error("line {0} is not a signature line (\"\u{2014} <name> <base64>\")")]
    MalformedSignatureLine(usize),
    #[error("line {line}: {why}")]
    BadKeyName { line: usize, why: String },
    #[error("line {0}: signature is not valid standard base64")]
    BadBase64(usize),
    #[error("line {0}: signature is shorter than a key ID and one byte")]
    SignatureTooShort(usize),
    #[error("note has {0} signatures; the limit is {MAX_SIGNATURES}")]
    TooManySignatures(usize),
    #[error("line {line}: duplicate signature line from {name}")]
    DuplicateSignature { line: usize, name: String },
    #[error("signature from known key {name}+{key_id:08x} does not verify")]
    BadSignature { name: String, key_id: u32 },
    #[error("cosignature from {name}+{key_id:08x} has timestamp {time}, beyond 2^63-1")]
    BadTimestamp {
        name: String,
        key_id: u32,
        time: u64,
    },
    #[error("no signature from a known key (the note is signed by: {0})")]
    NoKnownSignature(String),
}

/// A signature that verified against a known key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub name: String,
    pub key_id: u32,
    pub key_type: KeyType,
    /// For cosignature/v1: the POSIX time the cosigner signed at.
    pub time: Option<u64>,
}

impl Note {
    /// A note with no signatures yet. The text must end in a newline and
    /// carry no control characters other than newlines.
    pub fn new(text: &str) -> Result<Note, NoteError> {
        check_text(text)?;
        if text.is_empty() {
            return Err(NoteError::EmptyText);
        }
        if !text.ends_with('\n') {
            return Err(NoteError::MissingFinalNewline);
        }
        Ok(Note {
            text: text.to_string(),
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note strictly. Signatures are not verified here.
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLong(bytes.len()));
        }
        let s = std::str::from_utf8(bytes).map_err(|e| NoteError::InvalidUtf8(e.valid_up_to()))?;
        check_text(s)?;
        if !s.ends_with('\n') {
            return Err(NoteError::MissingFinalNewline);
        }
        let split = s.rfind("\n\n").ok_or(NoteError::MissingSignatureBlock)?;
        let text = &s[..split + 1];
        let block = &s[split + 2..];
        if block.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let first_line = text.matches('\n').count() + 2;
        let mut signatures = Vec::new();
        let mut seen = HashSet::new();
        for (i, line) in block.trim_end_matches('\n').split('\n').enumerate() {
            let line_no = first_line + i;
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures(block.matches('\n').count()));
            }
            let sig = parse_signature_line(line, line_no)?;
            if !seen.insert(line) {
                return Err(NoteError::DuplicateSignature {
                    line: line_no,
                    name: sig.name,
                });
            }
            signatures.push(sig);
        }
        Ok(Note {
            text: text.to_string(),
            signatures,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line unless the very same line is already there.
    pub fn add_signature(&mut self, sig: NoteSignature) {
        if !self.signatures.contains(&sig) {
            self.signatures.push(sig);
        }
    }

    /// Keeps only the signatures `keep` accepts (e.g. the log's own, to
    /// store a checkpoint apart from its cosignatures).
    pub fn retain_signatures(&mut self, keep: impl FnMut(&NoteSignature) -> bool) {
        self.signatures.retain(keep);
    }

    /// Signs the text with an Ed25519 (0x01) signature.
    pub fn sign(&mut self, key: &SigningKey) {
        let sig = key.sign_raw(self.text.as_bytes()).to_vec();
        self.add_signature(NoteSignature {
            name: key.name().to_string(),
            key_id: key.verifier().id(),
            sig,
        });
    }

    /// Adds a cosignature/v1 (0x04) signature at `time` (POSIX seconds).
    pub fn cosign(&mut self, key: &SigningKey, time: u64) {
        self.add_signature(cosignature_line(key, &self.text, time));
    }

    /// Verifies the note against known keys (C2SP semantics): signatures
    /// from unknown (name, ID) pairs are ignored, every signature from a
    /// known key must verify, and at least one must. Each known key appears
    /// once in the result, with its latest cosignature time.
    pub fn verify(&self, known: &[VerifierKey]) -> Result<Vec<VerifiedSignature>, NoteError> {
        let mut out: Vec<VerifiedSignature> = Vec::new();
        for s in &self.signatures {
            let Some(key) = known
                .iter()
                .find(|k| k.name() == s.name && k.id() == s.key_id)
            else {
                continue;
            };
            let time = verify_one(key, &self.text, s)?;
            match out
                .iter_mut()
                .find(|v| v.name == s.name && v.key_id == s.key_id)
            {
                Some(prev) => prev.time = prev.time.max(time),
                None => out.push(VerifiedSignature {
                    name: s.name.clone(),
                    key_id: s.key_id,
                    key_type: key.key_type(),
                    time,
                }),
            }
        }
        if out.is_empty() {
            let names: Vec<String> = self
                .signatures
                .iter()
                .map(|s| format!("{}+{:08x}", s.name, s.key_id))
                .collect();
            return Err(NoteError::NoKnownSignature(names.join(", ")));
        }
        Ok(out)
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for s in &self.signatures {
            f.write_str(&s.to_line())?;
        }
        Ok(())
    }
}

/// The message a cosignature/v1 signs: `cosignature/v1\ntime <t>\n<body>`.
pub fn cosignature_message(body: &str, time: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {time}\n{body}").into_bytes()
}

/// A cosignature/v1 line by `key` over `body` at `time`.
pub fn cosignature_line(key: &SigningKey, body: &str, time: u64) -> NoteSignature {
    let mut sig = time.to_be_bytes().to_vec();
    sig.extend_from_slice(&key.sign_raw(&cosignature_message(body, time)));
    NoteSignature {
        name: key.name().to_string(),
        key_id: key.cosigner().id(),
        sig,
    }
}

/// Verifies one signature line against the key it names; returns the
/// cosignature time for cosignature/v1.
pub fn verify_one(
    key: &VerifierKey,
    text: &str,
    s: &NoteSignature,
) -> Result<Option<u64>, NoteError> {
    let bad = || NoteError::BadSignature {
        name: s.name.clone(),
        key_id: s.key_id,
    };
    match key.key_type() {
        KeyType::Ed25519 => {
            if key.verify_ed25519(text.as_bytes(), &s.sig) {
                Ok(None)
            } else {
                Err(bad())
            }
        }
        KeyType::CosignatureV1 => {
            if s.sig.len() != 72 {
                return Err(bad());
            }
            let time = s.cosignature_time().ok_or_else(bad)?;
            if time > i64::MAX as u64 {
                return Err(NoteError::BadTimestamp {
                    name: s.name.clone(),
                    key_id: s.key_id,
                    time,
                });
            }
            if key.verify_ed25519(&cosignature_message(text, time), &s.sig[8..]) {
                Ok(Some(time))
            } else {
                Err(bad())
            }
        }
    }
}

fn check_text(s: &str) -> Result<(), NoteError> {
    let mut line = 1;
    for c in s.chars() {
        match c {
            '\n' => line += 1,
            '\r' => return Err(NoteError::CarriageReturn(line)),
            c if (c as u32) < 0x20 => {
                return Err(NoteError::ControlCharacter {
                    line,
                    code: c as u32,
                });
            }
            _ => {}
        }
    }
    Ok(())
}

fn parse_signature_line(line: &str, line_no: usize) -> Result<NoteSignature, NoteError> {
    let rest = line
        .strip_prefix(SIG_PREFIX)
        .ok_or(NoteError::MalformedSignatureLine(line_no))?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or(NoteError::MalformedSignatureLine(line_no))?;
    check_key_name(name).map_err(|e| NoteError::BadKeyName {
        line: line_no,
        why: e.to_string(),
    })?;
    if b64.contains(' ') {
        return Err(NoteError::MalformedSignatureLine(line_no));
    }
    let raw = STANDARD
        .decode(b64)
        .map_err(|_| NoteError::BadBase64(line_no))?;
    if raw.len() < 5 {
        return Err(NoteError::SignatureTooShort(line_no));
    }
    Ok(NoteSignature {
        name: name.to_string(),
        key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
        sig: raw[4..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PETER: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";

    #[test]
    fn sign_reproduces_go_byte_for_byte() {
        let key = SigningKey::parse(PETER).unwrap();
        let mut n = Note::new(TEXT).unwrap();
        n.sign(&key);
        assert_eq!(
            n.to_string(),
            format!(
                "{TEXT}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
            )
        );
    }

    #[test]
    fn cosignature_round_trip_and_tamper() {
        let log = SigningKey::from_seed("example.com/log", [1; 32]).unwrap();
        let w = SigningKey::from_seed("witness.example", [2; 32]).unwrap();
        let mut n = Note::new("example.com/log\n3\nWqx3HImawpLnS/Gv4ubjAvi1WIOy0b8Ze0amvqbavKk=\n")
            .unwrap();
        n.sign(&log);
        n.cosign(&w, 1_700_000_000);
        let parsed = Note::parse(n.to_string().as_bytes()).unwrap();
        let v = parsed.verify(&[log.verifier(), w.cosigner()]).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].time, Some(1_700_000_000));
        // The witness's 0x01 key does not verify a 0x04 line: different ID, ignored.
        let only_w01 = parsed.verify(&[w.verifier()]);
        assert!(matches!(only_w01, Err(NoteError::NoKnownSignature(_))));
        // A different timestamp breaks the signature.
        let mut forged = parsed.clone();
        forged.signatures[1].sig[7] ^= 1;
        assert!(matches!(
            forged.verify(&[w.cosigner()]),
            Err(NoteError::BadSignature { .. })
        ));
    }

    #[test]
    fn single_lines_parse() {
        let w = SigningKey::from_seed("witness.example", [2; 32]).unwrap();
        let line = cosignature_line(
            &w,
            "o\n1\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n",
            5,
        )
        .to_line();
        let sig = NoteSignature::parse_line(&line).unwrap();
        assert_eq!(sig.cosignature_time(), Some(5));
        assert!(NoteSignature::parse_line(&format!("{line}{line}")).is_err());
        assert!(NoteSignature::parse_line("— w\n").is_err());
    }

    #[test]
    fn malformed_inputs_have_specific_errors() {
        let key = SigningKey::parse(PETER).unwrap();
        let mut n = Note::new(TEXT).unwrap();
        n.sign(&key);
        let good = n.to_string();
        let line = good.lines().last().unwrap().to_string();
        type Check = fn(&NoteError) -> bool;
        let cases: Vec<(String, Check)> = vec![
            (good.replace('\n', "\r\n"), |e| {
                matches!(e, NoteError::CarriageReturn(1))
            }),
            (good.trim_end().to_string(), |e| {
                matches!(e, NoteError::MissingFinalNewline)
            }),
            (TEXT.to_string(), |e| {
                matches!(e, NoteError::MissingSignatureBlock)
            }),
            (format!("{TEXT}\n"), |e| {
                matches!(e, NoteError::NoSignatures)
            }),
            (format!("{good}{line}\n"), |e| {
                matches!(e, NoteError::DuplicateSignature { line: 5, .. })
            }),
            (good.replace("x08go", "x08g!"), |e| {
                matches!(e, NoteError::BadBase64(4))
            }),
            (good.replace("PeterNeumann", "Peter+Neumann"), |e| {
                matches!(e, NoteError::BadKeyName { .. })
            }),
            (format!("{TEXT}\n\u{2014} a AAAA\n"), |e| {
                matches!(e, NoteError::SignatureTooShort(4))
            }),
            (format!("{TEXT}\n- a AAAAAAA=\n"), |e| {
                matches!(e, NoteError::MalformedSignatureLine(4))
            }),
            (format!("\u{1}{good}"), |e| {
                matches!(e, NoteError::ControlCharacter { code: 1, .. })
            }),
            ("x".repeat(MAX_NOTE_BYTES + 1), |e| {
                matches!(e, NoteError::TooLong(_))
            }),
        ];
        for (input, check) in cases {
            let err = Note::parse(input.as_bytes()).unwrap_err();
            assert!(check(&err), "{input:?} gave {err}");
        }
        assert!(matches!(
            Note::parse(b"\xffabc\n\n\xe2\x80\x94 a AAAAAAA=\n"),
            Err(NoteError::InvalidUtf8(0))
        ));
    }
}
