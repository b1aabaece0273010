//! C2SP tlog-witness: the `add-checkpoint` request and the witness's
//! decision, with the spec's status codes in the spec's order.
//!
//! The caller (a node) keeps one witnessed state per origin and must update
//! it with compare-and-swap, durably, before returning a cosignature.

use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::equivocation::Equivocation;
use crate::hash::Hash;
use crate::keys::VerifierKey;
use crate::merkle::{MAX_PROOF_LEN, consistency_roots, verify_consistency};
use crate::note::Note;

/// Largest request body a witness reads.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Content type of a 409 response body (`<size>\n`).
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// A parsed `add-checkpoint` request.
#[derive(Clone, Debug)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    pub note: Note,
    pub checkpoint: Checkpoint,
}

/// The witness's latest cosigned checkpoint for one origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witnessed {
    pub size: u64,
    pub root: Hash,
    /// The signed checkpoint note as received.
    pub note: String,
}

/// A refusal: the HTTP status, a reason, and what the caller should keep.
#[derive(Clone, Debug)]
pub struct Refusal {
    pub status: u16,
    pub reason: String,
    /// For 409: the size the witness last cosigned.
    pub latest_size: Option<u64>,
    /// A validly signed checkpoint that provably conflicts with the one
    /// the witness cosigned before.
    pub evidence: Option<Box<Equivocation>>,
}

impl Refusal {
    fn new(status: u16, reason: impl Into<String>) -> Refusal {
        Refusal {
            status,
            reason: reason.into(),
            latest_size: None,
            evidence: None,
        }
    }
}

/// `hex(SHA-256(origin))`: the path element of the monitoring endpoint
/// `GET <monitoring prefix>/<origin hash>/checkpoint`.
pub fn origin_hash(origin: &str) -> String {
    crate::hash::hex_encode(&crate::hash::sha256(&[origin.as_bytes()]))
}

/// Parses `old <size>\n` + up to 63 base64 hashes + `\n` + signed checkpoint.
/// Errors are 400s.
pub fn parse_add_checkpoint(body: &[u8]) -> Result<AddCheckpoint, Refusal> {
    let bad = |why: &str| Refusal::new(400, why);
    if body.len() > MAX_REQUEST_BYTES {
        return Err(bad("request body too large"));
    }
    let text = std::str::from_utf8(body).map_err(|_| bad("request body is not UTF-8"))?;
    let (first, mut rest) = text
        .split_once('\n')
        .ok_or_else(|| bad("missing old line"))?;
    let old_size = first
        .strip_prefix("old ")
        .filter(|s| {
            !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && (s.len() == 1 || !s.starts_with('0'))
        })
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("first line must be \"old <size>\""))?;
    let mut proof = Vec::new();
    loop {
        let (line, tail) = rest
            .split_once('\n')
            .ok_or_else(|| bad("missing empty line before the checkpoint"))?;
        rest = tail;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LEN - 1 {
            return Err(bad("more than 63 consistency proof lines"));
        }
        let h = Hash::from_base64(line)
            .map_err(|_| bad("consistency proof line is not a base64 hash"))?;
        proof.push(h);
    }
    let note = Note::parse(rest.as_bytes()).map_err(|e| bad(&format!("checkpoint note: {e}")))?;
    let checkpoint =
        Checkpoint::parse(note.text()).map_err(|e| bad(&format!("checkpoint: {e}")))?;
    Ok(AddCheckpoint {
        old_size,
        proof,
        note,
        checkpoint,
    })
}

/// Formats an `add-checkpoint` request body.
pub fn format_add_checkpoint(old_size: u64, proof: &[Hash], signed_checkpoint: &str) -> String {
    let mut s = format!("old {old_size}\n");
    for h in proof {
        s.push_str(&h.to_base64());
        s.push('\n');
    }
    s.push('\n');
    s.push_str(signed_checkpoint);
    s
}

/// Decides an `add-checkpoint` request. `log_key` is the key configured for
/// the request's origin (`None`: unknown origin); `state` is what the
/// witness last cosigned for it. `Ok` means: persist the new state with
/// compare-and-swap against `state`, then cosign.
pub fn judge(
    req: &AddCheckpoint,
    log_key: Option<&VerifierKey>,
    state: Option<&Witnessed>,
) -> Result<(), Refusal> {
    let cp = &req.checkpoint;
    let Some(log_key) = log_key else {
        return Err(Refusal::new(404, format!("unknown origin {:?}", cp.origin)));
    };
    SignedCheckpoint::open_note(req.note.clone(), log_key, &[])
        .map_err(|e| Refusal::new(403, format!("checkpoint signature: {e}")))?;
    if req.old_size > cp.size {
        return Err(Refusal::new(
            400,
            format!(
                "old size {} is beyond the checkpoint size {}",
                req.old_size, cp.size
            ),
        ));
    }
    let latest = state.map_or(0, |s| s.size);
    if req.old_size != latest {
        return Err(Refusal {
            latest_size: Some(latest),
            ..Refusal::new(
                409,
                format!(
                    "old size {} is not the latest cosigned size {latest}",
                    req.old_size
                ),
            )
        });
    }
    if cp.size == 0 && cp.root != Hash::EMPTY_ROOT {
        return Err(Refusal::new(
            422,
            "a size-0 checkpoint must carry the empty root",
        ));
    }
    let Some(state) = state.filter(|s| s.size > 0) else {
        return if req.proof.is_empty() {
            Ok(())
        } else {
            Err(Refusal::new(422, "old size 0 needs an empty proof"))
        };
    };
    let conflict = |prefix| Equivocation {
        first: state.note.clone(),
        second: req.note.to_string(),
        prefix,
    };
    if state.size == cp.size {
        if state.root != cp.root {
            return Err(Refusal {
                evidence: Some(Box::new(conflict(None))),
                ..Refusal::new(
                    422,
                    format!("a different root for size {} was cosigned before", cp.size),
                )
            });
        }
        return if req.proof.is_empty() {
            Ok(())
        } else {
            Err(Refusal::new(422, "equal sizes need an empty proof"))
        };
    }
    if let Err(e) = verify_consistency(state.size, cp.size, &state.root, &cp.root, &req.proof) {
        // If the proof is sound for the new root, it names the new tree's
        // prefix root: when that differs from what was cosigned, the log forked.
        let evidence = match consistency_roots(state.size, cp.size, &state.root, &req.proof) {
            Ok((prefix, new))
                if !state.size.is_power_of_two() && new == cp.root && prefix != state.root =>
            {
                Some(Box::new(conflict(Some((prefix, req.proof.clone())))))
            }
            _ => None,
        };
        return Err(Refusal {
            evidence,
            ..Refusal::new(
                422,
                format!(
                    "consistency proof from {} to {} fails: {e}",
                    state.size, cp.size
                ),
            )
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::keys::SigningKey;
    use crate::merkle::MemoryTree;

    struct Log {
        key: SigningKey,
        tree: MemoryTree,
    }

    impl Log {
        fn new(fork: u8) -> Log {
            let mut tree = MemoryTree::new();
            for i in 0..20u8 {
                tree.append(leaf_hash(&[i, if i >= 10 { fork } else { 0 }]));
            }
            Log {
                key: SigningKey::from_seed("example.com/log", [1; 32]).unwrap(),
                tree,
            }
        }
        fn note(&mut self, size: u64) -> String {
            Checkpoint::new("example.com/log", size, self.tree.root_at(size))
                .sign(&self.key)
                .unwrap()
                .to_string()
        }
        fn request(&mut self, old: u64, size: u64) -> AddCheckpoint {
            let proof = if old == 0 || old == size {
                vec![]
            } else {
                self.tree.consistency_proof(old, size).unwrap()
            };
            parse_add_checkpoint(format_add_checkpoint(old, &proof, &self.note(size)).as_bytes())
                .unwrap()
        }
        fn state(&mut self, size: u64) -> Witnessed {
            Witnessed {
                size,
                root: self.tree.root_at(size),
                note: self.note(size),
            }
        }
    }

    #[test]
    fn status_matrix() {
        let mut log = Log::new(0);
        let key = log.key.verifier();
        let st = log.state(5);
        let status = |r: Result<(), Refusal>| r.map_or_else(|e| e.status, |()| 200);
        assert_eq!(status(judge(&log.request(5, 8), None, Some(&st))), 404);
        let stranger = SigningKey::from_seed("example.com/log", [2; 32])
            .unwrap()
            .verifier();
        assert_eq!(
            status(judge(&log.request(5, 8), Some(&stranger), Some(&st))),
            403
        );
        let mut r = log.request(5, 8);
        r.old_size = 9;
        assert_eq!(status(judge(&r, Some(&key), Some(&st))), 400);
        let refusal = judge(&log.request(3, 8), Some(&key), Some(&st)).unwrap_err();
        assert_eq!((refusal.status, refusal.latest_size), (409, Some(5)));
        assert_eq!(
            status(judge(&log.request(5, 8), Some(&key), Some(&st))),
            200
        );
        assert_eq!(status(judge(&log.request(0, 8), Some(&key), None)), 200);
        let mut r = log.request(0, 8);
        r.proof = vec![Hash([0; 32])];
        assert_eq!(status(judge(&r, Some(&key), None)), 422);
        assert_eq!(
            status(judge(&log.request(5, 5), Some(&key), Some(&st))),
            200
        );
    }

    #[test]
    fn forks_yield_verifiable_evidence() {
        let mut honest = Log::new(0);
        let mut fork = Log::new(1);
        let key = honest.key.verifier();
        // Same size, different roots.
        let st = honest.state(12);
        let refusal = judge(&fork.request(12, 12), Some(&key), Some(&st)).unwrap_err();
        assert_eq!(refusal.status, 422);
        refusal.evidence.unwrap().verify(&key).unwrap();
        // Different sizes: the fork's own proof names its prefix root.
        let st = honest.state(11);
        let refusal = judge(&fork.request(11, 15), Some(&key), Some(&st)).unwrap_err();
        assert_eq!(refusal.status, 422);
        refusal.evidence.unwrap().verify(&key).unwrap();
    }
}
