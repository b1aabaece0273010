//! C2SP tlog-proof@v1: an offline proof that an entry is in a log.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64>]
//! index <n>
//! <base64 inclusion proof hash>   (zero or more lines)
//!
//! <signed checkpoint, cosignatures included>
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::hash::Hash;
use crate::merkle::MAX_PROOF_LEN;

const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed tlog-proof. The checkpoint is kept as the signed note's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Unauthenticated application data; parley carries the entry here.
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub path: Vec<Hash>,
    pub checkpoint: String,
}

/// Why a text is not a tlog-proof. Lines are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogProofError {
    #[error("line 1 must be {HEADER:?}")]
    Header,
    #[error("line {0}: extra data is not valid standard base64")]
    BadExtra(usize),
    #[error("line {0}: expected \"index <n>\" with a decimal index")]
    BadIndex(usize),
    #[error("line {0}: inclusion proof hash is not 32 bytes of standard base64")]
    BadHash(usize),
    #[error("inclusion proof has more than {MAX_PROOF_LEN} hashes")]
    TooManyHashes,
    #[error("no empty line before the checkpoint")]
    MissingCheckpoint,
}

impl TlogProof {
    pub fn parse(text: &str) -> Result<TlogProof, TlogProofError> {
        let mut rest = text;
        let mut line_no = 0usize;
        let mut next_line = |rest: &mut &str| -> Option<(usize, String)> {
            let (line, tail) = rest.split_once('\n')?;
            *rest = tail;
            line_no += 1;
            Some((line_no, line.to_string()))
        };
        let (_, header) = next_line(&mut rest).ok_or(TlogProofError::Header)?;
        if header != HEADER {
            return Err(TlogProofError::Header);
        }
        let (mut n, mut line) = next_line(&mut rest).ok_or(TlogProofError::BadIndex(2))?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            extra = Some(
                STANDARD
                    .decode(b64)
                    .map_err(|_| TlogProofError::BadExtra(n))?,
            );
            (n, line) = next_line(&mut rest).ok_or(TlogProofError::BadIndex(n + 1))?;
        }
        let index = line
            .strip_prefix("index ")
            .and_then(parse_decimal)
            .ok_or(TlogProofError::BadIndex(n))?;
        let mut path = Vec::new();
        loop {
            let (n, line) = next_line(&mut rest).ok_or(TlogProofError::MissingCheckpoint)?;
            if line.is_empty() {
                break;
            }
            if path.len() == MAX_PROOF_LEN {
                return Err(TlogProofError::TooManyHashes);
            }
            let h = Hash::from_base64(&line).map_err(|_| TlogProofError::BadHash(n))?;
            if h.to_base64() != line {
                return Err(TlogProofError::BadHash(n));
            }
            path.push(h);
        }
        Ok(TlogProof {
            extra,
            index,
            path,
            checkpoint: rest.to_string(),
        })
    }

    pub fn to_text(&self) -> String {
        let mut s = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            s.push_str(&format!("extra {}\n", STANDARD.encode(extra)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.path {
            s.push_str(&h.to_base64());
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }
}

fn parse_decimal(s: &str) -> Option<u64> {
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
    fn round_trip_and_strictness() {
        let p = TlogProof {
            extra: Some(b"hello".to_vec()),
            index: 73894,
            path: vec![Hash([1; 32]), Hash([2; 32])],
            checkpoint:
                "o\n1\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n\n\u{2014} o AAAAAAA=\n".into(),
        };
        let text = p.to_text();
        assert_eq!(TlogProof::parse(&text).unwrap(), p);
        let no_extra = TlogProof {
            extra: None,
            ..p.clone()
        };
        assert_eq!(TlogProof::parse(&no_extra.to_text()).unwrap(), no_extra);
        assert_eq!(
            TlogProof::parse(&text.replacen("tlog-proof@v1", "tlog-proof@v2", 1)),
            Err(TlogProofError::Header)
        );
        assert_eq!(
            TlogProof::parse(&text.replace("index 73894", "index 073894")),
            Err(TlogProofError::BadIndex(3))
        );
        assert_eq!(
            TlogProof::parse(&text.replace("extra aGVsbG8=", "extra aGVsbG8")),
            Err(TlogProofError::BadExtra(2))
        );
        let one = Hash([1; 32]).to_base64();
        assert_eq!(
            TlogProof::parse(&text.replace(&one, "AQEB")),
            Err(TlogProofError::BadHash(4))
        );
        assert_eq!(
            TlogProof::parse("c2sp.org/tlog-proof@v1\nindex 1\n"),
            Err(TlogProofError::MissingCheckpoint)
        );
    }
}
