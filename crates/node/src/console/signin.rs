//! Sign-in under abuse.
//!
//! A password check costs ~19 MiB and tens of milliseconds (argon2id), so a
//! flood of failed sign-ins, with or without an account, must neither
//! exhaust memory nor guess passwords at speed nor tell which names exist:
//!
//! * at most `concurrent_password_checks` checks run at once; others wait
//!   a little, then are told the node is busy (memory stays flat);
//! * failures are counted per account name and per client address; past
//!   `sign_in_failures`, that name or address is locked out for
//!   `lockout_secs`, doubling with every further failure (at most a day),
//!   and a locked sign-in is refused without checking the password;
//! * an unknown name is checked against a dummy hash with the same cost,
//!   and locks out like a real one, so neither timing nor lockout reveals
//!   which accounts exist.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::config::{LimitsConfig, User};

/// Most names and addresses tracked; beyond it, expired ones are dropped
/// first, then the oldest (a flood of fresh names cannot grow memory).
const MAX_TRACKED: usize = 50_000;
const LONGEST_LOCKOUT: Duration = Duration::from_secs(24 * 3600);
/// How long a sign-in waits for a free password check before "busy".
const QUEUE_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

/// Why a sign-in was not let through to the password check.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Locked out: try again after this long.
    Locked(Duration),
    /// Too many sign-ins at once.
    Busy,
}

pub struct SignInGuard {
    checks: Semaphore,
    /// Argon2 working memory, one buffer per concurrent check, allocated
    /// once and reused: allocating ~19 MiB per check and freeing it leaves
    /// it in the allocator's per-thread arenas, so memory grew with every
    /// blocking thread that ever checked a password.
    memory: Mutex<Vec<Vec<argon2::Block>>>,
    threshold: u32,
    lockout: Duration,
    by_name: Mutex<HashMap<String, Failures>>,
    by_address: Mutex<HashMap<IpAddr, Failures>>,
}

impl SignInGuard {
    pub fn new(limits: &LimitsConfig) -> SignInGuard {
        SignInGuard {
            checks: Semaphore::new(limits.concurrent_password_checks.max(1)),
            memory: Mutex::default(),
            threshold: limits.sign_in_failures.max(1),
            lockout: Duration::from_secs(limits.lockout_secs.max(1)),
            by_name: Mutex::default(),
            by_address: Mutex::default(),
        }
    }

    /// Checks `password` for `name` from `addr`: `Ok(true)` signs in.
    ///
    /// # Errors
    /// The name or address is locked out, or the node is busy checking
    /// other passwords.
    pub async fn check(
        &self,
        name: &str,
        user: Option<User>,
        password: &str,
        addr: IpAddr,
    ) -> Result<bool, Refusal> {
        let now = Instant::now();
        let locked = [
            locked_for(&self.by_name, &name.to_string(), now),
            locked_for(&self.by_address, &addr, now),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(wait) = locked {
            return Err(Refusal::Locked(wait));
        }
        let permit = tokio::time::timeout(QUEUE_WAIT, self.checks.acquire())
            .await
            .map_err(|_| Refusal::Busy)?
            .map_err(|_| Refusal::Busy)?;
        let pw = password.to_string();
        let mut buffer = self
            .memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default();
        let (ok, buffer) = tokio::task::spawn_blocking(move || {
            let ok = match user {
                Some(u) => verify(&u.password_hash, &pw, &mut buffer),
                None => {
                    // The same work as a real check, then no.
                    let _ = verify(dummy_hash(), &pw, &mut buffer);
                    false
                }
            };
            (ok, buffer)
        })
        .await
        .unwrap_or((false, Vec::new()));
        self.memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(buffer);
        drop(permit);
        if ok {
            self.by_name
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(name);
            self.by_address
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&addr);
        } else {
            self.fail(&self.by_name, name.to_string());
            self.fail(&self.by_address, addr);
        }
        Ok(ok)
    }

    fn fail<K: std::hash::Hash + Eq + Clone>(&self, map: &Mutex<HashMap<K, Failures>>, key: K) {
        let now = Instant::now();
        let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED && !map.contains_key(&key) {
            map.retain(|_, f| f.locked_until.is_some_and(|t| t > now));
            if map.len() >= MAX_TRACKED
                && let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, f)| f.last)
                    .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        let f = map.entry(key).or_insert(Failures {
            count: 0,
            locked_until: None,
            last: now,
        });
        f.count += 1;
        f.last = now;
        if f.count >= self.threshold {
            let doublings = (f.count - self.threshold).min(16);
            let wait = self
                .lockout
                .saturating_mul(1 << doublings)
                .min(LONGEST_LOCKOUT);
            f.locked_until = Some(now + wait);
        }
    }
}

fn locked_for<K: std::hash::Hash + Eq>(
    map: &Mutex<HashMap<K, Failures>>,
    key: &K,
    now: Instant,
) -> Option<Duration> {
    let map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.get(key)
        .and_then(|f| f.locked_until)
        .filter(|t| *t > now)
        .map(|t| t - now)
}

/// Checks `password` against an argon2 PHC string, in `memory` (grown to
/// the hash's memory cost once, then reused).
fn verify(phc: &str, password: &str, memory: &mut Vec<argon2::Block>) -> bool {
    let Ok(h) = argon2::password_hash::phc::PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        argon2::Params::try_from(&h),
        argon2::Algorithm::try_from(h.algorithm.as_str()),
    ) else {
        return false;
    };
    let version = match h.version {
        Some(v) => match argon2::Version::try_from(v) {
            Ok(v) => v,
            Err(_) => return false,
        },
        None => argon2::Version::default(),
    };
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
        return false;
    };
    memory.resize(params.block_count(), argon2::Block::default());
    let mut out = vec![0u8; expected.as_bytes().len()];
    let hasher = argon2::Argon2::new(algorithm, version, params);
    if hasher
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt.as_ref(),
            &mut out,
            &mut memory[..],
        )
        .is_err()
    {
        return false;
    }
    out.iter()
        .zip(expected.as_bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// A hash with the same parameters as real ones, of a random password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| super::auth::hash_password(&crate::config::random_token()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LimitsConfig {
        LimitsConfig {
            sign_in_failures: 3,
            lockout_secs: 60,
            ..LimitsConfig::default()
        }
    }

    #[test]
    fn the_pooled_check_agrees_with_argon2() {
        let hash = super::super::auth::hash_password("correct horse");
        let mut memory = Vec::new();
        assert!(verify(&hash, "correct horse", &mut memory));
        assert!(!verify(&hash, "correct hors", &mut memory));
        assert!(!verify("not a hash", "x", &mut memory));
    }

    #[tokio::test]
    async fn failures_lock_a_name_and_an_address_whether_or_not_the_name_exists() {
        let g = SignInGuard::new(&limits());
        let a: IpAddr = [127, 0, 0, 9].into();
        for _ in 0..3 {
            assert_eq!(g.check("ghost", None, "x", a).await, Ok(false));
        }
        assert!(matches!(
            g.check("ghost", None, "x", [127, 0, 0, 8].into()).await,
            Err(Refusal::Locked(_))
        ));
        assert!(matches!(
            g.check("other", None, "x", a).await,
            Err(Refusal::Locked(_))
        ));
        assert_eq!(
            g.check("other", None, "x", [127, 0, 0, 7].into()).await,
            Ok(false)
        );
    }
}
