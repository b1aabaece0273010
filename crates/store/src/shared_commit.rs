//! SQLite's writer connection, shared by the writes that arrive together:
//! they run one after the other in one transaction and share its durable
//! commit (one fsync for everything ready: group commit across appends,
//! ingests, receipts and the rest).
//!
//! Each write runs on its caller's thread inside a savepoint of the open
//! transaction, so a write that fails is undone alone and the others are
//! kept. A write that finds other writes waiting for the connection leaves
//! the transaction open for them; the last one in line commits it (or the
//! first one past a bound on the batch). A caller is answered only once the
//! commit that carries its write has landed, or with that commit's error:
//! "stored before acknowledged" holds exactly as with one commit per write.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::{Result, StoreError};

/// At most this many writes share one commit, so that under a steady
/// stream a transaction is still committed (and its writers answered)
/// promptly.
const MAX_WRITES: usize = 64;
/// A transaction held open longer than this is committed by the next write
/// that lands in it, whatever is waiting.
const MAX_OPEN: Duration = Duration::from_millis(2);

/// The writer connection and the batch of writes open on it.
pub(crate) struct SharedCommit {
    writer: Mutex<Writer>,
    /// Writes waiting for the connection: a write that finds any leaves
    /// the transaction open for them to commit.
    waiting: AtomicUsize,
    /// Durable commits made (what the tests count).
    commits: AtomicU64,
    max_open: Duration,
}

struct Writer {
    conn: Connection,
    open: Option<Batch>,
}

/// The writes in the open transaction.
struct Batch {
    began: Instant,
    writes: usize,
    outcome: Arc<Outcome>,
}

/// How a batch's commit ended, for the writes that left it open.
#[derive(Default)]
struct Outcome {
    result: Mutex<Option<std::result::Result<(), Failure>>>,
    landed: Condvar,
}

/// A commit's failure, given to every write of its batch.
#[derive(Clone)]
struct Failure {
    /// Set when the storage is unavailable (full disk, I/O error), which
    /// callers treat differently from other failures.
    unavailable: Option<&'static str>,
    message: String,
}

impl Failure {
    fn of(e: &StoreError) -> Failure {
        Failure {
            unavailable: e.storage_unavailable(),
            message: e.to_string(),
        }
    }

    fn error(&self) -> StoreError {
        let source = format!(
            "the shared commit carrying this write failed: {}",
            self.message
        );
        match self.unavailable {
            Some(reason) => StoreError::Unavailable {
                reason,
                source: source.into(),
            },
            None => StoreError::Backend(source.into()),
        }
    }
}

impl Outcome {
    fn set(&self, result: std::result::Result<(), Failure>) {
        *self.result.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        self.landed.notify_all();
    }

    fn wait(&self) -> std::result::Result<(), Failure> {
        let mut r = self.result.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(result) = &*r {
                return result.clone();
            }
            r = self.landed.wait(r).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl SharedCommit {
    pub(crate) fn new(conn: Connection) -> SharedCommit {
        SharedCommit {
            writer: Mutex::new(Writer { conn, open: None }),
            waiting: AtomicUsize::new(0),
            commits: AtomicU64::new(0),
            max_open: MAX_OPEN,
        }
    }

    /// The connection alone, outside any shared transaction (settings made
    /// when the store is opened).
    pub(crate) fn with_connection<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        let w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        debug_assert!(w.open.is_none());
        f(&w.conn)
    }

    /// Durable commits made so far.
    #[cfg(test)]
    fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Runs `f` in the shared transaction and returns its result once the
    /// commit carrying it has landed.
    ///
    /// # Errors
    /// `f`'s own error (its writes undone, the others' kept), or the error
    /// of the commit that was to carry it (nothing of that batch kept).
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        if w.open.is_none() {
            if !w.conn.is_autocommit() {
                // Left open by a batch that failed and could not be undone.
                w.conn.execute_batch("ROLLBACK")?;
            }
            w.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
            w.open = Some(Batch {
                began: Instant::now(),
                writes: 0,
                outcome: Arc::default(),
            });
        }
        let first = w.open.as_ref().is_some_and(|b| b.writes == 0);
        // The first write of a transaction needs no savepoint: if it fails,
        // the transaction holds nothing else and is rolled back whole.
        // (A savepoint costs a copy of every page it changes, kept to undo.)
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if first {
                run_first(&w.conn, f)
            } else {
                run_in_savepoint(&w.conn, f)
            }
        }));
        let out = match ran {
            Ok(Ok(out)) if !w.conn.is_autocommit() => out,
            Ok(ran) => {
                // Rolled back (the first write failed, or SQLite rolled the
                // whole transaction back, as some I/O and full-disk errors
                // do), or a savepoint could not be closed: every write of
                // the batch is lost.
                let e = match ran {
                    Ok(Err(e)) | Err(e) => e,
                    Ok(Ok(_)) => StoreError::Backend("the transaction was rolled back".into()),
                };
                self.abandon(&mut w, &e);
                return Err(e);
            }
            Err(panic) => {
                self.abandon(
                    &mut w,
                    &StoreError::Backend("a write in the same transaction panicked".into()),
                );
                drop(w);
                std::panic::resume_unwind(panic);
            }
        };
        let batch = w.open.as_mut().expect("a batch is open");
        batch.writes += 1;
        let others_waiting = self.waiting.load(Ordering::SeqCst) > 0;
        let full = batch.writes >= MAX_WRITES || batch.began.elapsed() >= self.max_open;
        if others_waiting && !full {
            // Someone behind us commits; wait for it, unless our own write
            // failed (it changed nothing, so there is nothing to wait for).
            let outcome = batch.outcome.clone();
            drop(w);
            let value = out?;
            return outcome.wait().map(|()| value).map_err(|f| f.error());
        }
        let batch = w.open.take().expect("a batch is open");
        let committed = self.commit(&w.conn);
        drop(w);
        batch
            .outcome
            .set(committed.as_ref().map(|_| ()).map_err(Failure::of));
        let value = out?;
        committed.map(|()| value)
    }

    /// Gives up the open batch: undoes its transaction (or leaves it to be
    /// undone before the next begins) and fails the writes waiting on it.
    fn abandon(&self, w: &mut Writer, e: &StoreError) {
        if !w.conn.is_autocommit() {
            let _ = w.conn.execute_batch("ROLLBACK");
        }
        if let Some(batch) = w.open.take() {
            batch.outcome.set(Err(Failure::of(e)));
        }
    }

    fn commit(&self, conn: &Connection) -> Result<()> {
        match conn
            .prepare_cached("COMMIT")
            .and_then(|mut c| c.execute([]))
        {
            Ok(_) => {
                self.commits.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                if !conn.is_autocommit() {
                    // The commit failed but the transaction is still open:
                    // undo it, so the next write starts clean.
                    let _ = conn.execute_batch("ROLLBACK");
                }
                Err(e.into())
            }
        }
    }
}

/// Runs the first write of a transaction; if it fails, the transaction
/// (which holds nothing else) is rolled back. The outer error says the
/// transaction could not be undone.
fn run_first<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<Result<T>> {
    let out = f(conn);
    if out.is_err() && !conn.is_autocommit() {
        conn.execute_batch("ROLLBACK")?;
    }
    Ok(out)
}

/// Runs `f` in a savepoint: kept if it succeeds, undone if it fails. The
/// outer error says the savepoint could not be closed, so what the write
/// left in the transaction is unknown.
fn run_in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T>,
) -> Result<Result<T>> {
    conn.prepare_cached("SAVEPOINT write")?.execute([])?;
    let out = f(conn);
    if conn.is_autocommit() {
        return Ok(out);
    }
    if out.is_err() {
        conn.prepare_cached("ROLLBACK TO write")?.execute([])?;
    }
    conn.prepare_cached("RELEASE write")?.execute([])?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(dir: &tempfile::TempDir) -> SharedCommit {
        let conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)",
        )
        .unwrap();
        let mut s = SharedCommit::new(conn);
        // Long enough that the grouping below does not depend on how fast
        // the machine runs the writes.
        s.max_open = Duration::from_secs(600);
        s
    }

    fn insert(c: &Connection, k: i64) -> Result<i64> {
        c.execute("INSERT INTO t (k, v) VALUES (?1, 'x')", [k])?;
        Ok(k)
    }

    fn keys(s: &SharedCommit) -> Vec<i64> {
        s.with_connection(|c| {
            let mut st = c.prepare("SELECT k FROM t ORDER BY k").unwrap();
            st.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<Vec<i64>>>()
                .unwrap()
        })
    }

    /// Writes queued behind a held connection share one commit; those
    /// that fail (a duplicate key) are undone alone and told so, and every
    /// other is answered only with its write committed.
    #[test]
    fn writes_that_wait_together_share_one_commit_and_a_failed_one_spoils_none() {
        let dir = tempfile::tempdir().unwrap();
        let s = table(&dir);
        s.write(|c| insert(c, 5).and_then(|_| insert(c, 6)))
            .unwrap();
        assert_eq!(s.commits(), 1);
        const WRITERS: usize = 8;
        let results = std::thread::scope(|scope| {
            let held = s.writer.lock().unwrap();
            let handles: Vec<_> = (0..WRITERS as i64)
                .map(|k| {
                    let s = &s;
                    // Keys 5 and 6 exist: each fails after a first insert,
                    // which must go with it. At most one of them is the
                    // batch's first write, so the other fails inside it.
                    scope.spawn(move || {
                        s.write(|c| {
                            if k == 5 || k == 6 {
                                insert(c, 100 + k)?;
                            }
                            insert(c, k)
                        })
                    })
                })
                .collect();
            // Release the connection only once every writer waits for it.
            while s.waiting.load(Ordering::SeqCst) < WRITERS {
                std::thread::yield_now();
            }
            drop(held);
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        });
        assert_eq!(s.commits(), 2, "the eight writes shared one commit");
        for (k, r) in results.iter().enumerate() {
            match k {
                5 | 6 => assert!(r.is_err(), "key {k} exists: {r:?}"),
                _ => assert_eq!(*r.as_ref().unwrap(), k as i64),
            }
        }
        assert_eq!(keys(&s), (0..WRITERS as i64).collect::<Vec<_>>());
    }

    /// A write that panics takes its batch down with it: whoever shared
    /// the batch is told it failed and nothing of it is kept (a write told
    /// it was stored is there), and the connection takes writes again.
    #[test]
    fn a_write_that_panics_loses_its_batch_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let s = table(&dir);
        let (kept, panicked) = std::thread::scope(|scope| {
            let held = s.writer.lock().unwrap();
            let s = &s;
            let kept = scope.spawn(move || s.write(|c| insert(c, 1)));
            let panicked = scope.spawn(move || {
                s.write(|c| {
                    insert(c, 2)?;
                    panic!("a write panics halfway");
                    #[allow(unreachable_code)]
                    Ok(())
                })
            });
            while s.waiting.load(Ordering::SeqCst) < 2 {
                std::thread::yield_now();
            }
            drop(held);
            (kept.join().unwrap(), panicked.join())
        });
        assert!(panicked.is_err(), "the panic reaches its caller");
        let stored = keys(&s);
        assert!(!stored.contains(&2), "nothing of the panicking write");
        assert_eq!(
            kept.is_ok(),
            stored.contains(&1),
            "{kept:?}, stored {stored:?}"
        );
        s.write(|c| insert(c, 3)).unwrap();
        assert!(keys(&s).contains(&3));
    }

    /// A write alone commits at once.
    #[test]
    fn a_write_alone_commits_before_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        let s = table(&dir);
        for k in 0..3 {
            s.write(|c| insert(c, k)).unwrap();
            assert_eq!(s.commits(), k as u64 + 1);
        }
        let other = Connection::open(dir.path().join("t.db")).unwrap();
        let n: i64 = other
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3, "another connection sees every write");
    }
}
