//! The PostgreSQL store: the same contract as SQLite's, on a server that
//! several `parley serve` processes of one party can share (an active node
//! and its standby).
//!
//! Every call runs on one of a few connection threads that own a
//! `postgres::Client` each. The driver's synchronous client drives its own
//! small runtime, which must not start inside the node's async runtime; a
//! thread of its own keeps the store callable from anywhere, like SQLite's.
//!
//! Durability is the server's: a commit returns once PostgreSQL has flushed
//! it (`synchronous_commit` must not be `off`; [`PostgresStore::open`]
//! refuses a server that would lose acknowledged commits).

use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};

use parley_log::Hash;
use postgres::{Client, GenericClient, Row};

use crate::pg_target::Target;

use crate::{
    ActionRecord, Append, Cosignature, DeliveryRole, EvidenceKind, EvidenceRecord, FeedHead,
    FeedId, KeyRotation, Peer, Result, Statement, Store, StoreError, StoredEntry, WitnessLog,
    WitnessedRecord,
};

/// Migrations, applied in order; the schema version is their count.
const MIGRATIONS: &[&str] = &[include_str!("../migrations/postgres/0001_initial.sql")];

/// The record format (protocol version) this build reads and writes.
const FORMAT: i64 = 2;

/// Connections (and threads) per store: reads of console pages run beside
/// the appends of federation.
const CONNECTIONS: usize = 4;

/// The advisory-lock key space parley uses (`pg_advisory_xact_lock(KEYS, n)`):
/// "parl" in ASCII.
const LOCK_SPACE: i32 = 0x7061_726c;
const LOCK_MIGRATE: i32 = 1;
const LOCK_ACTIONS: i32 = 2;
const LOCK_EVIDENCE: i32 = 3;
const LOCK_PEERS: i32 = 4;
const LOCK_COSIGNATURES: i32 = 6;
/// Held (per session) by the active node of the party whose database it is.
const LOCK_ACTIVE: i32 = 5;

/// How long the server keeps a lease whose holder went silent (its machine
/// died without closing the connection): the holder checks every second,
/// so an idle lease session means its holder is gone.
const LEASE_SILENCE: &str = "5s";

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// A store on a PostgreSQL database, given by URL
/// (`postgres://user:password@host:port/database`, or key=value form).
pub struct PostgresStore {
    /// The connection string as given (for `pg_dump`, which reads the
    /// TLS parameters itself).
    url: String,
    target: Target,
    jobs: Mutex<Sender<Job>>,
}

/// One connection thread's client, made again after the server went away.
struct Connection {
    target: Target,
    client: Option<Client>,
}

impl Connection {
    fn client(&mut self) -> Result<&mut Client> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
        if self.client.is_none() {
            self.client = Some(self.target.connect()?);
        }
        Ok(self.client.as_mut().expect("connected just above"))
    }
}

/// PostgreSQL's failures in the store's own terms: a server that cannot be
/// reached, is shutting down, or has no room (connection exceptions, class
/// 08; insufficient resources, 53; operator intervention, 57; a read-only
/// transaction on a standby server, 25006) is `Unavailable`; the rest is
/// `Backend`. The driver's error is kept as the source.
impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> StoreError {
        let code = e.code().map(|c| c.code().to_string());
        let reason = match code.as_deref() {
            Some(c) if c.starts_with("08") => Some("the database server cannot be reached"),
            Some(c) if c.starts_with("53") => Some("the database server has no room"),
            Some(c) if c.starts_with("57") => Some("the database server is shutting down"),
            Some("25006") => Some("the database server is read-only (a standby?)"),
            Some(_) => None,
            None if e.is_closed() || io_failure(&e) => {
                Some("the database server cannot be reached")
            }
            None => None,
        };
        match reason {
            Some(reason) => StoreError::Unavailable {
                reason,
                source: Box::new(e),
            },
            None => StoreError::Backend(Box::new(e)),
        }
    }
}

/// Whether the driver failed on the connection itself (refused, reset).
fn io_failure(e: &postgres::Error) -> bool {
    std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

impl PostgresStore {
    /// Connects, checks that commits are durable, and applies migrations.
    ///
    /// # Errors
    /// The server cannot be reached, runs without durable commits, holds
    /// another record format, or a newer schema.
    pub fn open(url: &str) -> Result<PostgresStore> {
        // The driver's runtime must not start on a thread of the caller's
        // runtime (`parley serve` opens its store from async code).
        let url = url.to_string();
        std::thread::spawn(move || PostgresStore::open_here(&url))
            .join()
            .map_err(|_| StoreError::Corrupt("opening the database panicked".into()))?
    }

    /// The server, database and user a connection string names, for
    /// messages and logs (never the password).
    pub fn describe(url: &str) -> String {
        let Ok(target) = Target::parse(url) else {
            return "(a PostgreSQL connection string that does not parse or is refused)".into();
        };
        let config = target.config();
        let host = match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        format!(
            "PostgreSQL database {:?} on {host}:{port} as {:?}{}",
            config.get_dbname().unwrap_or("(default)"),
            config.get_user().unwrap_or("(default)"),
            target.travel()
        )
    }

    fn open_here(url: &str) -> Result<PostgresStore> {
        let target = Target::parse(url)?;
        let mut first = target.connect()?;
        check_durability(&mut first)?;
        migrate(&mut first)?;
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        // The checked connection serves the first thread; the others
        // connect on first use.
        let mut first = Some(first);
        for i in 0..CONNECTIONS {
            let queue = queue.clone();
            let client = first.take();
            let conn = Connection {
                target: target.clone(),
                client,
            };
            std::thread::Builder::new()
                .name(format!("parley-pg-{i}"))
                .spawn(move || serve_jobs(conn, &queue))
                .map_err(|e| StoreError::Backend(Box::new(e)))?;
        }
        Ok(PostgresStore {
            url: url.to_string(),
            target,
            jobs: Mutex::new(jobs),
        })
    }

    /// The schema version this build writes.
    pub fn schema_version() -> i64 {
        MIGRATIONS.len() as i64
    }

    /// Runs `f` on a connection thread and waits for its result.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx): (SyncSender<Result<T>>, Receiver<Result<T>>) = sync_channel(1);
        let job: Job = Box::new(move |conn: &mut Connection| {
            let result = conn.client().and_then(f);
            let _ = tx.send(result);
        });
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job)
            .map_err(|_| StoreError::Corrupt("the database connection threads are gone".into()))?;
        rx.recv()
            .map_err(|_| StoreError::Corrupt("a database connection thread panicked".into()))?
    }

    /// Runs `f` in one transaction (read committed, plus the advisory locks
    /// `f` takes), committed before it returns.
    fn transaction<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.run(move |c| {
            let mut tx = c.transaction()?;
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(out)
        })
    }
}

fn serve_jobs(mut conn: Connection, queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = match queue.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(job) => job,
            // The store was dropped.
            Err(_) => return,
        };
        job(&mut conn);
    }
}

/// Refuses a server that acknowledges commits before they are on disk: a
/// receipt must never be sent for a commit that a crash could undo.
fn check_durability(c: &mut Client) -> Result<()> {
    let fsync: String = c.query_one("SHOW fsync", &[])?.try_get(0)?;
    let sync: String = c.query_one("SHOW synchronous_commit", &[])?.try_get(0)?;
    if fsync != "on" || sync == "off" {
        return Err(StoreError::Corrupt(format!(
            "the database server runs with fsync={fsync}, synchronous_commit={sync}; parley \
             needs fsync=on and synchronous_commit on (or remote_write, remote_apply) so that \
             nothing it acknowledges can be lost"
        )));
    }
    Ok(())
}

fn migrate(c: &mut Client) -> Result<()> {
    let mut tx = c.transaction()?;
    // Two processes of one party may start on a new database at once.
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&LOCK_SPACE, &LOCK_MIGRATE],
    )?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS parley_schema (version BIGINT NOT NULL)")?;
    let version: i64 = match tx.query_opt("SELECT version FROM parley_schema", &[])? {
        Some(r) => r.try_get(0)?,
        None => {
            tx.execute("INSERT INTO parley_schema (version) VALUES (0)", &[])?;
            0
        }
    };
    if version > 0 {
        let format: Option<i64> = tx
            .query_opt("SELECT version FROM parley_format", &[])?
            .map(|r| r.try_get(0))
            .transpose()?;
        if format != Some(FORMAT) {
            return Err(StoreError::OldFormat {
                found: format.unwrap_or(1),
                known: FORMAT,
            });
        }
    }
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::SchemaTooNew {
            found: version,
            known,
        });
    }
    for sql in MIGRATIONS.iter().skip(version as usize) {
        tx.batch_execute(sql)?;
    }
    tx.execute("UPDATE parley_schema SET version = $1", &[&known])?;
    tx.commit()?;
    Ok(())
}

fn lock(c: &mut impl GenericClient, which: i32) -> Result<()> {
    c.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&LOCK_SPACE, &which],
    )?;
    Ok(())
}

fn int(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} does not fit a BIGINT")))
}

fn uint(row: &Row, idx: usize) -> Result<u64> {
    let n: i64 = row.try_get(idx)?;
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative size or number {n}")))
}

fn hash_of(row: &Row, idx: usize) -> Result<Hash> {
    let bytes: Vec<u8> = row.try_get(idx)?;
    Hash::from_slice(&bytes).map_err(|e| StoreError::Corrupt(format!("stored hash: {e}")))
}

const ENTRY_COLUMNS: &str = "channel, author, seq, hash, kind, time, bytes, received_at";

fn entry_row(row: &Row) -> Result<StoredEntry> {
    Ok(StoredEntry {
        channel: row.try_get(0)?,
        author: row.try_get(1)?,
        seq: uint(row, 2)?,
        hash: hash_of(row, 3)?,
        kind: row.try_get(4)?,
        time: row.try_get(5)?,
        bytes: row.try_get(6)?,
        received_at: row.try_get(7)?,
    })
}

fn entries_of(rows: &[Row]) -> Result<Vec<StoredEntry>> {
    rows.iter().map(entry_row).collect()
}

const COSIGNATURE_COLUMNS: &str = "channel, author, size, cosigner, statement, time, line";

fn cosignature_row(row: &Row) -> Result<Cosignature> {
    let statement: String = row.try_get(4)?;
    Ok(Cosignature {
        feed: FeedId {
            channel: row.try_get(0)?,
            author: row.try_get(1)?,
        },
        size: uint(row, 2)?,
        cosigner: row.try_get(3)?,
        statement: Statement::parse(&statement)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown statement {statement:?}")))?,
        time: row.try_get(5)?,
        line: row.try_get(6)?,
    })
}

fn cosignatures_of(rows: &[Row]) -> Result<Vec<Cosignature>> {
    rows.iter().map(cosignature_row).collect()
}

fn insert_checkpoint(
    c: &mut impl GenericClient,
    feed: &FeedId,
    size: u64,
    note: &str,
) -> Result<()> {
    c.execute(
        "INSERT INTO checkpoint (channel, author, size, note) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        &[&feed.channel, &feed.author, &int(size)?, &note],
    )?;
    Ok(())
}

/// Stores a cosignature under a lock held to commit, so positions
/// (`stored`) become visible in order (see `cosignatures_stored_after`).
fn insert_cosignature(c: &mut impl GenericClient, s: &Cosignature) -> Result<bool> {
    lock(c, LOCK_COSIGNATURES)?;
    let n = c.execute(
        "INSERT INTO cosignature (channel, author, size, cosigner, statement, time, line)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        &[
            &s.feed.channel,
            &s.feed.author,
            &int(s.size)?,
            &s.cosigner,
            &s.statement.as_str(),
            &s.time,
            &s.line,
        ],
    )?;
    Ok(n == 1)
}

fn insert_rotation(c: &mut impl GenericClient, r: &KeyRotation) -> Result<bool> {
    let n = c.execute(
        "INSERT INTO key_rotation (party, role, statement, recorded_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (statement) DO NOTHING",
        &[&r.party, &r.role, &r.statement, &r.recorded_at],
    )?;
    Ok(n == 1)
}

fn upsert_delivery(
    c: &mut impl GenericClient,
    peer: &str,
    feed: &FeedId,
    role: DeliveryRole,
    size: u64,
) -> Result<()> {
    c.execute(
        "INSERT INTO delivery (peer, channel, author, role, size) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (peer, channel, author, role)
         DO UPDATE SET size = GREATEST(delivery.size, excluded.size)",
        &[
            &peer,
            &feed.channel,
            &feed.author,
            &role.as_str(),
            &int(size)?,
        ],
    )?;
    Ok(())
}

/// Appends to the action log; the new record's number. Numbers are taken
/// under a lock held to commit, so they become visible in order and a
/// reader paging by number never skips one that commits later.
fn insert_action(c: &mut impl GenericClient, a: &ActionRecord) -> Result<i64> {
    lock(c, LOCK_ACTIONS)?;
    let row = c.query_one(
        "INSERT INTO action_log (time, \"user\", role, client, action, target, entry, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        &[
            &a.time, &a.user, &a.role, &a.client, &a.action, &a.target, &a.entry, &a.outcome,
        ],
    )?;
    Ok(row.try_get(0)?)
}

fn apply_append(tx: &mut postgres::Transaction<'_>, a: &Append) -> Result<()> {
    // One writer per feed at a time, whichever process it is in.
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&format!("feed\n{}\n{}", a.feed.channel, a.feed.author)],
    )?;
    let actual = match tx.query_opt(
        "SELECT size FROM feed WHERE channel = $1 AND author = $2",
        &[&a.feed.channel, &a.feed.author],
    )? {
        Some(r) => uint(&r, 0)?,
        None => 0,
    };
    if actual != a.old_size {
        return Err(StoreError::Conflict {
            feed: a.feed.clone(),
            expected: a.old_size,
            actual,
        });
    }
    let ins = tx.prepare(
        "INSERT INTO entry (channel, author, seq, hash, kind, time, bytes, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )?;
    let ins_ref = tx.prepare(
        "INSERT INTO entry_ref (channel, author, seq, ref_hash) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )?;
    for e in &a.entries {
        let seq = int(e.seq)?;
        tx.execute(
            &ins,
            &[
                &a.feed.channel,
                &a.feed.author,
                &seq,
                &&e.hash.as_bytes()[..],
                &e.kind,
                &e.time,
                &e.bytes,
                &a.received_at,
            ],
        )?;
        for r in &e.refs {
            tx.execute(
                &ins_ref,
                &[&a.feed.channel, &a.feed.author, &seq, &&r.as_bytes()[..]],
            )?;
        }
    }
    let tile = tx.prepare(
        "INSERT INTO tile (channel, author, level, idx, data) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (channel, author, level, idx) DO UPDATE SET data = excluded.data
         WHERE octet_length(excluded.data) > octet_length(tile.data)",
    )?;
    for t in &a.tiles {
        tx.execute(
            &tile,
            &[
                &a.feed.channel,
                &a.feed.author,
                &i16::from(t.level),
                &int(t.index)?,
                &t.data,
            ],
        )?;
    }
    tx.execute(
        "INSERT INTO feed (channel, author, size, root) VALUES ($1, $2, $3, $4)
         ON CONFLICT (channel, author) DO UPDATE SET size = excluded.size, root = excluded.root",
        &[
            &a.feed.channel,
            &a.feed.author,
            &int(a.head.size)?,
            &&a.head.root.as_bytes()[..],
        ],
    )?;
    insert_checkpoint(tx, &a.feed, a.head.size, &a.checkpoint)?;
    if let Some(c) = &a.cosignature {
        insert_cosignature(tx, c)?;
    }
    for r in &a.actions {
        insert_action(tx, r)?;
    }
    Ok(())
}

fn peer_row(r: &Row) -> Result<Peer> {
    Ok(Peer {
        party: r.try_get(0)?,
        url: r.try_get(1)?,
        identity: r.try_get(2)?,
        added_at: r.try_get(3)?,
    })
}

fn witnessed_row(r: &Row) -> Result<WitnessedRecord> {
    Ok(WitnessedRecord {
        origin: r.try_get(0)?,
        size: uint(r, 1)?,
        root: hash_of(r, 2)?,
        note: r.try_get(3)?,
    })
}

fn witness_log_row(r: &Row) -> Result<WitnessLog> {
    Ok(WitnessLog {
        origin: r.try_get(0)?,
        party: r.try_get(1)?,
        source: r.try_get(2)?,
    })
}

/// The lease on a PostgreSQL database: a session advisory lock, held by a
/// connection of its own. The server releases it when that session ends:
/// at once when the holder exits or is killed (its socket closes), within
/// [`LEASE_SILENCE`] when its machine vanishes.
struct AdvisoryLease {
    target: Target,
    session: Mutex<Option<Client>>,
    held: std::sync::atomic::AtomicBool,
}

impl AdvisoryLease {
    fn try_hold_here(&self) -> Result<bool> {
        use std::sync::atomic::Ordering;
        let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        if self.held.load(Ordering::SeqCst) {
            let alive = session
                .as_mut()
                .is_some_and(|c| c.simple_query("SELECT 1").is_ok());
            if !alive {
                self.held.store(false, Ordering::SeqCst);
                *session = None;
            }
            return Ok(alive);
        }
        if session.as_ref().is_none_or(Client::is_closed) {
            let mut c = self.target.connect()?;
            c.batch_execute(&format!("SET idle_session_timeout = '{LEASE_SILENCE}'"))?;
            *session = Some(c);
        }
        let c = session.as_mut().expect("connected just above");
        let got: bool = c
            .query_one(
                "SELECT pg_try_advisory_lock($1, $2)",
                &[&LOCK_SPACE, &LOCK_ACTIVE],
            )?
            .try_get(0)?;
        self.held.store(got, Ordering::SeqCst);
        Ok(got)
    }
}

/// Ending the session releases the lock. The driver closes a client by
/// running its own runtime, which must not start on a thread of the
/// caller's: the client is dropped on a thread of its own.
impl Drop for AdvisoryLease {
    fn drop(&mut self) {
        let session = self
            .session
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(client) = session {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

impl crate::Lease for AdvisoryLease {
    fn try_hold(&self) -> Result<bool> {
        // The driver's runtime must not start on a thread of the caller's.
        std::thread::scope(|s| {
            s.spawn(|| self.try_hold_here())
                .join()
                .map_err(|_| StoreError::Corrupt("checking the lease panicked".into()))?
        })
    }
}

impl Store for PostgresStore {
    fn lease(&self) -> Result<Box<dyn crate::Lease>> {
        Ok(Box::new(AdvisoryLease {
            target: self.target.clone(),
            session: Mutex::new(None),
            held: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    /// `pg_dump` in PostgreSQL's custom format: one repeatable-read
    /// snapshot of the database, restored with `pg_restore` into an empty
    /// database that a node then opens by URL.
    fn snapshot_to(&self, out: &Path) -> Result<()> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode_owner_only()
            .open(out)
            .map_err(|source| StoreError::File {
                path: out.to_path_buf(),
                source,
            })?;
        let status = std::process::Command::new("pg_dump")
            .args(["--format=custom", "--no-owner", "--dbname", &self.url])
            .stdout(file)
            .status();
        match status {
            Ok(s) if s.success() => Ok(()),
            other => {
                let _ = std::fs::remove_file(out);
                Err(StoreError::Backend(
                    format!(
                        "pg_dump (PostgreSQL's client tools, Debian package postgresql-client) \
                         did not make the backup: {}",
                        match other {
                            Ok(s) => s.to_string(),
                            Err(e) => e.to_string(),
                        }
                    )
                    .into(),
                ))
            }
        }
    }

    fn add_peer(&self, peer: &Peer) -> Result<()> {
        let peer = peer.clone();
        self.transaction(move |tx| {
            lock(tx, LOCK_PEERS)?;
            let existing: Option<String> = tx
                .query_opt("SELECT identity FROM peer WHERE party = $1", &[&peer.party])?
                .map(|r| r.try_get(0))
                .transpose()?;
            match existing {
                Some(identity) if identity != peer.identity => {
                    Err(StoreError::PeerKeyChanged(peer.party.clone()))
                }
                Some(_) => {
                    tx.execute(
                        "UPDATE peer SET url = $2 WHERE party = $1",
                        &[&peer.party, &peer.url],
                    )?;
                    Ok(())
                }
                None => {
                    tx.execute(
                        "INSERT INTO peer (party, url, identity, added_at) VALUES ($1, $2, $3, $4)",
                        &[&peer.party, &peer.url, &peer.identity, &peer.added_at],
                    )?;
                    Ok(())
                }
            }
        })
    }

    fn peers(&self) -> Result<Vec<Peer>> {
        self.run(|c| {
            c.query(
                "SELECT party, url, identity, added_at FROM peer ORDER BY party",
                &[],
            )?
            .iter()
            .map(peer_row)
            .collect()
        })
    }

    fn feeds(&self) -> Result<Vec<(FeedId, FeedHead)>> {
        self.run(|c| {
            c.query(
                "SELECT channel, author, size, root FROM feed ORDER BY channel, author",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok((
                    FeedId {
                        channel: r.try_get(0)?,
                        author: r.try_get(1)?,
                    },
                    FeedHead {
                        size: uint(r, 2)?,
                        root: hash_of(r, 3)?,
                    },
                ))
            })
            .collect()
        })
    }

    fn feed_head(&self, feed: &FeedId) -> Result<Option<FeedHead>> {
        let feed = feed.clone();
        self.run(move |c| {
            c.query_opt(
                "SELECT size, root FROM feed WHERE channel = $1 AND author = $2",
                &[&feed.channel, &feed.author],
            )?
            .map(|r| {
                Ok(FeedHead {
                    size: uint(&r, 0)?,
                    root: hash_of(&r, 1)?,
                })
            })
            .transpose()
        })
    }

    fn read_tile(&self, feed: &FeedId, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        let feed = feed.clone();
        let index = int(index)?;
        self.run(move |c| {
            c.query_opt(
                "SELECT data FROM tile WHERE channel = $1 AND author = $2 AND level = $3 AND idx = $4",
                &[&feed.channel, &feed.author, &i16::from(level), &index],
            )?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
        })
    }

    fn append(&self, a: &Append) -> Result<()> {
        let a = a.clone();
        self.transaction(move |tx| apply_append(tx, &a))
    }

    fn checkpoint(&self, feed: &FeedId, size: u64) -> Result<Option<String>> {
        let feed = feed.clone();
        let size = int(size)?;
        self.run(move |c| {
            c.query_opt(
                "SELECT note FROM checkpoint WHERE channel = $1 AND author = $2 AND size = $3",
                &[&feed.channel, &feed.author, &size],
            )?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
        })
    }

    fn checkpoint_sizes(&self, feed: &FeedId, from: u64, to: u64) -> Result<Vec<u64>> {
        let feed = feed.clone();
        let (from, to) = (int(from)?, int(to.min(i64::MAX as u64))?);
        self.run(move |c| {
            c.query(
                "SELECT size FROM checkpoint WHERE channel = $1 AND author = $2
                 AND size BETWEEN $3 AND $4 ORDER BY size",
                &[&feed.channel, &feed.author, &from, &to],
            )?
            .iter()
            .map(|r| uint(r, 0))
            .collect()
        })
    }

    fn entries(&self, feed: &FeedId, from_seq: u64, limit: u64) -> Result<Vec<StoredEntry>> {
        let feed = feed.clone();
        let (from, limit) = (int(from_seq)?, int(limit.min(i64::MAX as u64))?);
        self.run(move |c| {
            entries_of(&c.query(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM entry WHERE channel = $1 AND author = $2
                     AND seq >= $3 ORDER BY seq LIMIT $4"
                ),
                &[&feed.channel, &feed.author, &from, &limit],
            )?)
        })
    }

    fn entry(&self, feed: &FeedId, seq: u64) -> Result<Option<StoredEntry>> {
        let feed = feed.clone();
        let seq = int(seq)?;
        self.run(move |c| {
            c.query_opt(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM entry WHERE channel = $1 AND author = $2 AND seq = $3"
                ),
                &[&feed.channel, &feed.author, &seq],
            )?
            .map(|r| entry_row(&r))
            .transpose()
        })
    }

    fn entry_by_hash(&self, hash: &Hash) -> Result<Option<StoredEntry>> {
        let hash = hash.as_bytes().to_vec();
        self.run(move |c| {
            c.query_opt(
                &format!("SELECT {ENTRY_COLUMNS} FROM entry WHERE hash = $1"),
                &[&hash],
            )?
            .map(|r| entry_row(&r))
            .transpose()
        })
    }

    fn referencing(&self, hash: &Hash) -> Result<Vec<StoredEntry>> {
        let hash = hash.as_bytes().to_vec();
        self.run(move |c| {
            entries_of(&c.query(
                "SELECT e.channel, e.author, e.seq, e.hash, e.kind, e.time, e.bytes, e.received_at
                 FROM entry_ref r JOIN entry e USING (channel, author, seq)
                 WHERE r.ref_hash = $1 ORDER BY e.time, e.author, e.seq",
                &[&hash],
            )?)
        })
    }

    fn recent(&self, channel: Option<&str>, limit: u64) -> Result<Vec<StoredEntry>> {
        let channel = channel.map(str::to_string);
        let limit = int(limit.min(i64::MAX as u64))?;
        self.run(move |c| {
            let rows = match channel {
                Some(ch) => c.query(
                    &format!(
                        "SELECT {ENTRY_COLUMNS} FROM entry WHERE channel = $1
                         ORDER BY time DESC, received_at DESC, author, seq DESC LIMIT $2"
                    ),
                    &[&ch, &limit],
                )?,
                None => c.query(
                    &format!(
                        "SELECT {ENTRY_COLUMNS} FROM entry
                         ORDER BY time DESC, received_at DESC, author, seq DESC LIMIT $1"
                    ),
                    &[&limit],
                )?,
            };
            entries_of(&rows)
        })
    }

    fn all_entries(&self) -> Result<Vec<StoredEntry>> {
        self.run(|c| {
            entries_of(&c.query(
                &format!("SELECT {ENTRY_COLUMNS} FROM entry ORDER BY channel, author, seq"),
                &[],
            )?)
        })
    }

    fn all_cosignatures(&self) -> Result<Vec<Cosignature>> {
        self.run(|c| {
            cosignatures_of(&c.query(
                &format!(
                    "SELECT {COSIGNATURE_COLUMNS} FROM cosignature ORDER BY channel, author, size"
                ),
                &[],
            )?)
        })
    }

    fn entries_of_kinds(&self, kinds: &[&str]) -> Result<Vec<StoredEntry>> {
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_string()).collect();
        self.run(move |c| {
            entries_of(&c.query(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM entry WHERE kind = ANY($1)
                     ORDER BY channel, author, seq"
                ),
                &[&kinds],
            )?)
        })
    }

    fn add_cosignature(&self, s: &Cosignature) -> Result<bool> {
        let s = s.clone();
        self.transaction(move |tx| insert_cosignature(tx, &s))
    }

    fn cosignatures_stored_after(
        &self,
        feed: &FeedId,
        after: u64,
        limit: u64,
    ) -> Result<Vec<(u64, Cosignature)>> {
        let feed = feed.clone();
        let (after, limit) = (
            int(after.min(i64::MAX as u64))?,
            int(limit.min(i64::MAX as u64))?,
        );
        self.run(move |c| {
            c.query(
                &format!(
                    "SELECT {COSIGNATURE_COLUMNS}, stored FROM cosignature
                     WHERE channel = $1 AND author = $2 AND stored > $3 ORDER BY stored LIMIT $4"
                ),
                &[&feed.channel, &feed.author, &after, &limit],
            )?
            .iter()
            .map(|r| Ok((uint(r, 7)?, cosignature_row(r)?)))
            .collect()
        })
    }

    fn add_cosigned_checkpoint(&self, note: &str, s: &Cosignature) -> Result<bool> {
        let (note, s) = (note.to_string(), s.clone());
        self.transaction(move |tx| {
            insert_checkpoint(tx, &s.feed, s.size, &note)?;
            insert_cosignature(tx, &s)
        })
    }

    fn add_receipt(&self, s: &Cosignature, role: DeliveryRole) -> Result<bool> {
        let s = s.clone();
        self.transaction(move |tx| {
            let fresh = insert_cosignature(tx, &s)?;
            upsert_delivery(tx, &s.cosigner, &s.feed, role, s.size)?;
            Ok(fresh)
        })
    }

    fn cosignatures(&self, feed: &FeedId, min_size: u64) -> Result<Vec<Cosignature>> {
        let feed = feed.clone();
        let min = int(min_size)?;
        self.run(move |c| {
            cosignatures_of(&c.query(
                &format!(
                    "SELECT {COSIGNATURE_COLUMNS} FROM cosignature
                     WHERE channel = $1 AND author = $2 AND size >= $3
                     ORDER BY size, time, cosigner"
                ),
                &[&feed.channel, &feed.author, &min],
            )?)
        })
    }

    fn last_cosignature_by(&self, cosigner: &str, statement: Statement) -> Result<Option<i64>> {
        let cosigner = cosigner.to_string();
        self.run(move |c| {
            Ok(c.query_one(
                "SELECT max(time) FROM cosignature WHERE cosigner = $1 AND statement = $2",
                &[&cosigner, &statement.as_str()],
            )?
            .try_get(0)?)
        })
    }

    fn delivered(&self, peer: &str, feed: &FeedId, role: DeliveryRole) -> Result<u64> {
        let (peer, feed) = (peer.to_string(), feed.clone());
        self.run(move |c| {
            c.query_opt(
                "SELECT size FROM delivery
                 WHERE peer = $1 AND channel = $2 AND author = $3 AND role = $4",
                &[&peer, &feed.channel, &feed.author, &role.as_str()],
            )?
            .map_or(Ok(0), |r| uint(&r, 0))
        })
    }

    fn set_delivered(
        &self,
        peer: &str,
        feed: &FeedId,
        role: DeliveryRole,
        size: u64,
    ) -> Result<()> {
        let (peer, feed) = (peer.to_string(), feed.clone());
        self.run(move |c| upsert_delivery(c, &peer, &feed, role, size))
    }

    fn witnessed(&self, origin: &str) -> Result<Option<WitnessedRecord>> {
        let origin = origin.to_string();
        self.run(move |c| {
            c.query_opt(
                "SELECT origin, size, root, note FROM witnessed WHERE origin = $1",
                &[&origin],
            )?
            .map(|r| witnessed_row(&r))
            .transpose()
        })
    }

    fn witnessed_all(&self) -> Result<Vec<WitnessedRecord>> {
        self.run(|c| {
            c.query(
                "SELECT origin, size, root, note FROM witnessed ORDER BY origin",
                &[],
            )?
            .iter()
            .map(witnessed_row)
            .collect()
        })
    }

    fn swap_witnessed(&self, expected_size: Option<u64>, new: &WitnessedRecord) -> Result<bool> {
        let new = new.clone();
        self.run(move |c| {
            let (size, root) = (int(new.size)?, new.root.as_bytes().to_vec());
            let n = match expected_size {
                None => c.execute(
                    "INSERT INTO witnessed (origin, size, root, note) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                    &[&new.origin, &size, &root, &new.note],
                )?,
                Some(old) => c.execute(
                    "UPDATE witnessed SET size = $2, root = $3, note = $4
                     WHERE origin = $1 AND size = $5",
                    &[&new.origin, &size, &root, &new.note, &int(old)?],
                )?,
            };
            Ok(n == 1)
        })
    }

    fn replace_peer_identity(
        &self,
        party: &str,
        old: &str,
        new: &str,
        rotation: Option<&KeyRotation>,
    ) -> Result<bool> {
        let (party, old, new) = (party.to_string(), old.to_string(), new.to_string());
        let rotation = rotation.cloned();
        self.transaction(move |tx| {
            let n = tx.execute(
                "UPDATE peer SET identity = $3 WHERE party = $1 AND identity = $2",
                &[&party, &old, &new],
            )?;
            if n == 1
                && let Some(r) = &rotation
            {
                insert_rotation(tx, r)?;
            }
            Ok(n == 1)
        })
    }

    fn add_rotation(&self, r: &KeyRotation) -> Result<bool> {
        let r = r.clone();
        self.run(move |c| insert_rotation(c, &r))
    }

    fn rotations(&self) -> Result<Vec<KeyRotation>> {
        self.run(|c| {
            c.query(
                "SELECT id, party, role, statement, recorded_at FROM key_rotation ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(KeyRotation {
                    id: r.try_get(0)?,
                    party: r.try_get(1)?,
                    role: r.try_get(2)?,
                    statement: r.try_get(3)?,
                    recorded_at: r.try_get(4)?,
                })
            })
            .collect()
        })
    }

    fn add_witness_log(&self, log: &WitnessLog) -> Result<bool> {
        let log = log.clone();
        self.run(move |c| {
            let n = c.execute(
                "INSERT INTO witness_log (origin, party, source) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&log.origin, &log.party, &log.source],
            )?;
            Ok(n == 1)
        })
    }

    fn witness_logs(&self) -> Result<Vec<WitnessLog>> {
        self.run(|c| {
            c.query(
                "SELECT origin, party, source FROM witness_log ORDER BY origin",
                &[],
            )?
            .iter()
            .map(witness_log_row)
            .collect()
        })
    }

    fn witness_log(&self, origin: &str) -> Result<Option<WitnessLog>> {
        let origin = origin.to_string();
        self.run(move |c| {
            c.query_opt(
                "SELECT origin, party, source FROM witness_log WHERE origin = $1",
                &[&origin],
            )?
            .map(|r| witness_log_row(&r))
            .transpose()
        })
    }

    fn mark_read(&self, user: &str, hash: &Hash) -> Result<()> {
        let (user, hash) = (user.to_string(), hash.as_bytes().to_vec());
        self.run(move |c| {
            c.execute(
                "INSERT INTO read_mark (\"user\", hash) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&user, &hash],
            )?;
            Ok(())
        })
    }

    fn read_marks(&self, user: &str) -> Result<Vec<Hash>> {
        let user = user.to_string();
        self.run(move |c| {
            c.query("SELECT hash FROM read_mark WHERE \"user\" = $1", &[&user])?
                .iter()
                .map(|r| hash_of(r, 0))
                .collect()
        })
    }

    fn add_evidence(&self, e: &EvidenceRecord) -> Result<i64> {
        let e = e.clone();
        self.transaction(move |tx| {
            // The same conflict seen twice (by two processes) is recorded once.
            lock(tx, LOCK_EVIDENCE)?;
            if let Some(r) = tx.query_opt(
                "SELECT id FROM evidence WHERE origin = $1 AND evidence = $2",
                &[&e.origin, &e.evidence],
            )? {
                return Ok(r.try_get(0)?);
            }
            Ok(tx
                .query_one(
                    "INSERT INTO evidence
                     (kind, origin, party, detected_at, detected_by, summary, evidence, proven)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    &[
                        &e.kind.as_str(),
                        &e.origin,
                        &e.party,
                        &e.detected_at,
                        &e.detected_by,
                        &e.summary,
                        &e.evidence,
                        &e.proven,
                    ],
                )?
                .try_get(0)?)
        })
    }

    fn evidence(&self) -> Result<Vec<EvidenceRecord>> {
        self.run(|c| {
            c.query(
                "SELECT id, origin, party, detected_at, detected_by, summary, evidence, proven, kind
                 FROM evidence ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| {
                let kind: String = r.try_get(8)?;
                Ok(EvidenceRecord {
                    id: r.try_get(0)?,
                    kind: EvidenceKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown evidence kind {kind:?}")))?,
                    origin: r.try_get(1)?,
                    party: r.try_get(2)?,
                    detected_at: r.try_get(3)?,
                    detected_by: r.try_get(4)?,
                    summary: r.try_get(5)?,
                    evidence: r.try_get(6)?,
                    proven: r.try_get(7)?,
                })
            })
            .collect()
        })
    }

    fn record_action(&self, a: &ActionRecord) -> Result<i64> {
        let a = a.clone();
        self.transaction(move |tx| insert_action(tx, &a))
    }

    fn actions(&self, after: i64, limit: u64) -> Result<Vec<ActionRecord>> {
        let limit = int(limit.min(i64::MAX as u64))?;
        self.run(move |c| {
            c.query(
                "SELECT id, time, \"user\", role, client, action, target, entry, outcome
                 FROM action_log WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &limit],
            )?
            .iter()
            .map(|r| {
                Ok(ActionRecord {
                    id: r.try_get(0)?,
                    time: r.try_get(1)?,
                    user: r.try_get(2)?,
                    role: r.try_get(3)?,
                    client: r.try_get(4)?,
                    action: r.try_get(5)?,
                    target: r.try_get(6)?,
                    entry: r.try_get(7)?,
                    outcome: r.try_get(8)?,
                })
            })
            .collect()
        })
    }
}

/// Owner-only creation (0600) for a backup file: it holds every message.
trait OwnerOnly {
    fn mode_owner_only(&mut self) -> &mut Self;
}

impl OwnerOnly for std::fs::OpenOptions {
    fn mode_owner_only(&mut self) -> &mut Self {
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(self, 0o600);
        self
    }
}
