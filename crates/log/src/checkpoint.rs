//! C2SP tlog-checkpoint: `<origin>\n<size>\n<base64 root>\n[<extension>\n]*`,
//! carried as the text of a signed note.

use crate::hash::Hash;
use crate::keys::{KeyType, SigningKey, VerifierKey};
use crate::note::{Note, NoteError, VerifiedSignature};

/// The body of a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Optional extension lines (NOT RECOMMENDED by the spec; parley writes none).
    pub extensions: Vec<String>,
}

/// Why a checkpoint is malformed or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint text must end with a newline")]
    MissingFinalNewline,
    #[error("checkpoint has {0} lines; it needs origin, size and root hash")]
    TooFewLines(usize),
    #[error("checkpoint origin line is empty")]
    EmptyOrigin,
    #[error("checkpoint size {0:?} is not a decimal number without leading zeros")]
    BadSize(String),
    #[error("checkpoint root hash {0:?} is not 32 bytes of standard base64")]
    BadRoot(String),
    #[error("checkpoint extension line {0} is empty")]
    EmptyExtension(usize),
    #[error("signed checkpoint: {0}")]
    Note(#[from] NoteError),
    #[error("checkpoint is not signed by the log key {0}")]
    MissingLogSignature(String),
    #[error("checkpoint origin {origin:?} is not the log key's name {key_name:?}")]
    OriginMismatch { origin: String, key_name: String },
    #[error("the log key must be an Ed25519 (0x01) key")]
    LogKeyType,
}

impl Checkpoint {
    pub fn new(origin: &str, size: u64, root: Hash) -> Checkpoint {
        Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(CheckpointError::TooFewLines(lines.len()));
        }
        if lines[0].is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_size(lines[1]).ok_or_else(|| CheckpointError::BadSize(lines[1].into()))?;
        let root =
            Hash::from_base64(lines[2]).map_err(|_| CheckpointError::BadRoot(lines[2].into()))?;
        // A root that does not re-encode identically is not canonical base64.
        if root.to_base64() != lines[2] {
            return Err(CheckpointError::BadRoot(lines[2].into()));
        }
        let mut extensions = Vec::new();
        for (i, ext) in lines[3..].iter().enumerate() {
            if ext.is_empty() {
                return Err(CheckpointError::EmptyExtension(i + 4));
            }
            extensions.push((*ext).to_string());
        }
        Ok(Checkpoint {
            origin: lines[0].to_string(),
            size,
            root,
            extensions,
        })
    }

    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Signs the checkpoint with the log key, whose name must be the origin.
    pub fn sign(&self, key: &SigningKey) -> Result<Note, CheckpointError> {
        if key.name() != self.origin {
            return Err(CheckpointError::OriginMismatch {
                origin: self.origin.clone(),
                key_name: key.name().to_string(),
            });
        }
        let mut note = Note::new(&self.to_text())?;
        note.sign(key);
        Ok(note)
    }
}

/// A checkpoint whose log signature verified, with the cosignatures that
/// verified against the cosigner keys given.
#[derive(Clone, Debug)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub note: Note,
    pub cosignatures: Vec<VerifiedSignature>,
}

impl SignedCheckpoint {
    /// Parses and verifies a signed checkpoint: the log key (named after the
    /// origin) must have signed it; cosigner keys are checked when present.
    pub fn open(
        bytes: &[u8],
        log_key: &VerifierKey,
        cosigners: &[VerifierKey],
    ) -> Result<SignedCheckpoint, CheckpointError> {
        let note = Note::parse(bytes)?;
        SignedCheckpoint::open_note(note, log_key, cosigners)
    }

    pub fn open_note(
        note: Note,
        log_key: &VerifierKey,
        cosigners: &[VerifierKey],
    ) -> Result<SignedCheckpoint, CheckpointError> {
        if log_key.key_type() != KeyType::Ed25519 {
            return Err(CheckpointError::LogKeyType);
        }
        let checkpoint = Checkpoint::parse(note.text())?;
        if checkpoint.origin != log_key.name() {
            return Err(CheckpointError::OriginMismatch {
                origin: checkpoint.origin,
                key_name: log_key.name().to_string(),
            });
        }
        let mut known = vec![log_key.clone()];
        known.extend(cosigners.iter().cloned());
        let verified = note.verify(&known).map_err(|e| match e {
            NoteError::NoKnownSignature(_) => {
                CheckpointError::MissingLogSignature(log_key.to_string())
            }
            e => CheckpointError::Note(e),
        })?;
        let (log_sigs, cosignatures): (Vec<_>, Vec<_>) = verified
            .into_iter()
            .partition(|v| v.name == log_key.name() && v.key_id == log_key.id());
        if log_sigs.is_empty() {
            return Err(CheckpointError::MissingLogSignature(log_key.to_string()));
        }
        Ok(SignedCheckpoint {
            checkpoint,
            note,
            cosignatures,
        })
    }
}

fn parse_size(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_spec_example() {
        let cp = Checkpoint::parse(
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        )
        .unwrap();
        assert_eq!(cp.origin, "example.com/behind-the-sofa");
        assert_eq!(cp.size, 20_852_163);
        assert_eq!(cp.to_text().lines().count(), 3);
    }

    #[test]
    fn malformed_checkpoints() {
        let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
        let cases = [
            (format!("o\n1\n{root}"), "newline"),
            ("o\n1\n".to_string(), "lines"),
            (format!("\n1\n{root}\n"), "origin"),
            (format!("o\n01\n{root}\n"), "size"),
            (format!("o\n-1\n{root}\n"), "size"),
            (format!("o\n18446744073709551616\n{root}\n"), "size"),
            ("o\n1\nAAAA\n".to_string(), "root"),
            (format!("o\n1\n{root}\n\n"), "extension"),
        ];
        for (text, what) in cases {
            let e = Checkpoint::parse(&text).unwrap_err().to_string();
            assert!(e.contains(what), "{text:?}: {e}");
        }
    }

    #[test]
    fn sign_and_open() {
        let key = SigningKey::from_seed("parley/c/a", [3; 32]).unwrap();
        let w = SigningKey::from_seed("w", [4; 32]).unwrap();
        let cp = Checkpoint::new("parley/c/a", 5, Hash([9; 32]));
        let mut note = cp.sign(&key).unwrap();
        note.cosign(&w, 42);
        let opened = SignedCheckpoint::open(
            note.to_string().as_bytes(),
            &key.verifier(),
            &[w.cosigner()],
        )
        .unwrap();
        assert_eq!(opened.checkpoint, cp);
        assert_eq!(opened.cosignatures[0].time, Some(42));
        // Signed only by the witness: not a log checkpoint.
        let other = SigningKey::from_seed("parley/c/a", [5; 32]).unwrap();
        assert!(matches!(
            SignedCheckpoint::open(
                note.to_string().as_bytes(),
                &other.verifier(),
                &[w.cosigner()]
            ),
            Err(CheckpointError::MissingLogSignature(_))
        ));
    }
}
