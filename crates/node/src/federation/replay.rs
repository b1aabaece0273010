//! Refusing replayed requests.
//!
//! Link tests and feed reads are signed notes carrying a time and a random
//! nonce. A captured one must not work twice: the receiver refuses a time
//! further than the allowed clock skew from its own clock, and remembers
//! every nonce it accepted for as long as that time could still pass.
//! Nonces are remembered only after the signature checked out, so an
//! outsider cannot fill the memory; the memory is bounded regardless.

use std::collections::HashMap;
use std::sync::Mutex;

/// Most nonces remembered at once; beyond it, signed requests are refused
/// until old ones expire (a pinned peer flooding its own link tests).
const MAX_REMEMBERED: usize = 200_000;

pub struct ReplayGuard {
    skew: i64,
    seen: Mutex<HashMap<String, i64>>,
}

impl ReplayGuard {
    /// `skew`: the allowed distance from this clock, in seconds
    /// (`FederationConfig::clock_skew`).
    pub fn new(skew: i64) -> ReplayGuard {
        ReplayGuard {
            skew: skew.max(1),
            seen: Mutex::default(),
        }
    }

    /// Checks a signed request's time against `now`, and that its nonce
    /// (already verified under the signer's key) was never accepted.
    ///
    /// # Errors
    /// Why the request is refused, in words for the caller.
    pub fn check(&self, signer: &str, time: i64, nonce: &str, now: i64) -> Result<(), String> {
        if nonce.len() < 16 || nonce.len() > 128 {
            return Err("the nonce must be 16 to 128 characters".into());
        }
        if (now - time).abs() > self.skew {
            return Err(format!(
                "signed at {time}, {} s from this node's clock ({now}); at most {} s is allowed",
                (now - time).abs(),
                self.skew
            ));
        }
        let key = format!("{signer} {nonce}");
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= MAX_REMEMBERED {
            seen.retain(|_, expires| *expires > now);
            if seen.len() >= MAX_REMEMBERED {
                return Err("too many signed requests lately; try again later".into());
            }
        }
        if seen.get(&key).is_some_and(|expires| *expires > now) {
            return Err(format!(
                "nonce {nonce} was already used: this request is a replay"
            ));
        }
        // Past this, the time check alone refuses it.
        seen.insert(key, time + self.skew + 1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_works_once_and_times_outside_the_skew_fail() {
        let g = ReplayGuard::new(300);
        let n = "0123456789abcdef0123";
        assert!(g.check("nato", 1000, n, 1000).is_ok());
        assert!(
            g.check("nato", 1000, n, 1001)
                .unwrap_err()
                .contains("replay")
        );
        assert!(
            g.check("russia", 1000, n, 1001).is_ok(),
            "nonces are per signer"
        );
        assert!(g.check("nato", 1400, "fedcba9876543210aa", 1000).is_err());
        assert!(g.check("nato", 600, "fedcba9876543210bb", 1000).is_err());
        assert!(g.check("nato", 1000, "short", 1000).is_err());
    }
}
