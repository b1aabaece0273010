//! The SQLite store: WAL journal, `synchronous=FULL` (a commit is on disk
//! before it returns), one writer connection whose transaction the writes
//! that arrive together share (see `shared_commit`), and one reader
//! connection.

use std::path::Path;
use std::sync::Mutex;

use parley_log::Hash;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::shared_commit::SharedCommit;
use crate::{
    Append, Cosignature, DeliveryRole, EvidenceRecord, FeedHead, FeedId, KeyRotation, Peer, Result,
    Statement, Store, StoreError, StoredEntry, WitnessLog, WitnessedRecord,
};

/// Migrations, applied in order; the schema version is their count.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_initial.sql"),
    include_str!("../migrations/sqlite/0002_read_marks.sql"),
    include_str!("../migrations/sqlite/0003_cosignatures_by_position.sql"),
];

/// The record format (protocol version) this build reads and writes.
const FORMAT: i64 = 2;

pub struct SqliteStore {
    writer: SharedCommit,
    reader: Mutex<Connection>,
    path: std::path::PathBuf,
}

/// The lease on a SQLite database: an exclusive lock on `<database>.lease`,
/// which the kernel releases when the holder exits however it exits.
struct LockFileLease {
    file: std::fs::File,
    held: std::sync::atomic::AtomicBool,
}

impl crate::Lease for LockFileLease {
    fn try_hold(&self) -> Result<bool> {
        use std::sync::atomic::Ordering;
        if self.held.load(Ordering::SeqCst) {
            // A lock on an open file is not lost while the file is open.
            return Ok(true);
        }
        match self.file.try_lock() {
            Ok(()) => {
                self.held.store(true, Ordering::SeqCst);
                Ok(true)
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Backend(Box::new(e))),
        }
    }
}

/// SQLite's failures in the store's own terms: those an operator clears
/// (a full disk, a read-only file system, an I/O error) are `Unavailable`,
/// the rest `Backend`; the SQLite error is kept as the source.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode::{CannotOpen, DiskFull, ReadOnly, SystemIoFailure};
        let reason = match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                DiskFull => Some("the disk holding the database is full"),
                ReadOnly => Some("the database is on a read-only file system"),
                SystemIoFailure | CannotOpen => Some("the database's disk failed to write"),
                _ => None,
            },
            _ => None,
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

/// See `open_connection`.
const WAL_PAGES_BEFORE_CHECKPOINT: i64 = 8_192;

fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Switching a new database to WAL needs it alone, and SQLite does not
    // wait for that under the busy timeout: retry while another process
    // opens the same new database.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while let Err(e) = conn.pragma_update(None, "journal_mode", "WAL") {
        let busy = e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy);
        if !busy || std::time::Instant::now() > deadline {
            return Err(e.into());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Copy the write-ahead log back into the database every 8,192 pages
    // (32 MiB) rather than SQLite's 1,000: a busy feed rewrites the same
    // pages (the head, the tiles being filled, index interiors) over and
    // over, and each copy-back writes every page once and syncs twice, on
    // the thread of the commit that crossed the mark. Durability is the
    // log's: every commit is synced to it before it returns.
    conn.pragma_update(None, "wal_autocheckpoint", WAL_PAGES_BEFORE_CHECKPOINT)?;
    // Writes that share a transaction each run in a savepoint, which keeps
    // a copy of every page it changes until released: in memory, not in a
    // temporary file written page by page.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Every statement is prepared once per connection and kept, and stays
    // prepared: without the query planner stability guarantee, SQLite
    // (built with STAT4, as rusqlite bundles it) re-parses and re-plans a
    // statement whenever a new value is bound to its `LIMIT ?` or to a
    // range it might plan differently for; the node binds new values on
    // every read of a feed, and the re-preparing cost 5 % of its CPU
    // at low load. These statements are indexed lookups with one plan.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    check_durability(&conn, path)?;
    Ok(conn)
}

/// Reads back what durability rests on: SQLite keeps its old journal mode
/// without an error when WAL cannot be used (some network or read-only
/// file systems), and a receipt must never be sent for a commit that was
/// not synced.
fn check_durability(conn: &Connection, path: &Path) -> Result<()> {
    let mode: String = conn
        .prepare_cached("PRAGMA journal_mode")?
        .query_row([], |r| r.get(0))?;
    // 2 is FULL: every commit is synced before it returns.
    let sync: i64 = conn
        .prepare_cached("PRAGMA synchronous")?
        .query_row([], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") || sync != 2 {
        return Err(StoreError::Corrupt(format!(
            "{}: the database runs with journal_mode={mode}, synchronous={sync}; parley needs \
             WAL and FULL (2) so that nothing it acknowledges can be lost. Keep the node \
             directory on a local file system that supports WAL",
            path.display()
        )));
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database and applies migrations.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        create_owner_only(path, false)?;
        let mut writer = open_connection(path)?;
        migrate(&mut writer)?;
        let reader = open_connection(path)?;
        Ok(SqliteStore {
            writer: SharedCommit::new(writer),
            reader: Mutex::new(reader),
            path: path.to_path_buf(),
        })
    }

    /// Opens for a bulk import that may be lost on a crash (no fsync per
    /// commit), e.g. building large feeds for benchmarks. A node never
    /// opens its database this way: it acknowledges only what is on disk.
    pub fn open_unsynced(path: &Path) -> Result<SqliteStore> {
        let store = SqliteStore::open(path)?;
        store
            .writer
            .with_connection(|c| c.pragma_update(None, "synchronous", "OFF"))?;
        Ok(store)
    }

    /// The schema version this build writes.
    pub fn schema_version() -> i64 {
        MIGRATIONS.len() as i64
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        Ok(f(&conn)?)
    }

    /// Runs `f` in the writer's shared transaction (its writes are one
    /// atomic unit, kept or undone whole) and returns once they are durable.
    fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.writer.write(f)
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > 0 {
        let format: Option<i64> = conn
            .query_row("SELECT version FROM parley_format", [], |r| r.get(0))
            .optional()
            .unwrap_or(None);
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
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        // Another process may open the same new database at the same
        // moment (a standby, a `parley peer add` while `serve` starts): the
        // write lock is taken first, and the version read again under it,
        // so each migration runs once.
        let tx = immediate(conn)?;
        let now: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if now > i as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// A write transaction that takes the write lock at once: one that read
/// first and wrote later would fail with "database is locked" when another
/// connection (another process on the same database) wrote in between,
/// instead of waiting its turn under the busy timeout.
fn immediate(conn: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
}

fn hash_of(row: &Row<'_>, idx: usize) -> rusqlite::Result<Hash> {
    let bytes: Vec<u8> = row.get(idx)?;
    Hash::from_slice(&bytes).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Blob, Box::new(e))
    })
}

const ENTRY_COLUMNS: &str = "channel, author, seq, hash, kind, time, bytes, received_at";

fn entry_row(row: &Row<'_>) -> rusqlite::Result<StoredEntry> {
    Ok(StoredEntry {
        channel: row.get(0)?,
        author: row.get(1)?,
        seq: row.get::<_, i64>(2)? as u64,
        hash: hash_of(row, 3)?,
        kind: row.get(4)?,
        time: row.get(5)?,
        bytes: row.get(6)?,
        received_at: row.get(7)?,
    })
}

const COSIGNATURE_COLUMNS: &str = "channel, author, size, cosigner, statement, time, line";

fn cosignature_row(row: &Row<'_>) -> rusqlite::Result<Cosignature> {
    cosignature_row_at(row, 0)
}

/// A cosignature from the row's columns `at..at + 7`.
fn cosignature_row_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Cosignature> {
    let statement: String = row.get(at + 4)?;
    Ok(Cosignature {
        feed: FeedId {
            channel: row.get(at)?,
            author: row.get(at + 1)?,
        },
        size: row.get::<_, i64>(at + 2)? as u64,
        cosigner: row.get(at + 3)?,
        statement: Statement::parse(&statement).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                at + 4,
                rusqlite::types::Type::Text,
                format!("unknown statement {statement:?}").into(),
            )
        })?,
        time: row.get(at + 5)?,
        line: row.get(at + 6)?,
    })
}

/// Keeps the first checkpoint stored for a size (a later one is the same
/// signed statement, or evidence handled elsewhere).
fn insert_checkpoint(
    conn: &Connection,
    feed: &FeedId,
    size: u64,
    note: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO checkpoint (channel, author, size, note) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![feed.channel, feed.author, size as i64, note])?;
    Ok(())
}

fn insert_cosignature(conn: &Connection, c: &Cosignature) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO cosignature (channel, author, size, cosigner, statement, time, line)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            c.feed.channel,
            c.feed.author,
            c.size as i64,
            c.cosigner,
            c.statement.as_str(),
            c.time,
            c.line
        ])?;
    Ok(n == 1)
}

fn insert_rotation(conn: &Connection, r: &KeyRotation) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO key_rotation (party, role, statement, recorded_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (statement) DO NOTHING",
        )?
        .execute(params![r.party, r.role, r.statement, r.recorded_at])?;
    Ok(n == 1)
}

fn upsert_delivery(
    conn: &Connection,
    peer: &str,
    feed: &FeedId,
    role: DeliveryRole,
    size: u64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO delivery (peer, channel, author, role, size) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (peer, channel, author, role) DO UPDATE SET size = max(size, excluded.size)",
    )?
    .execute(params![
        peer,
        feed.channel,
        feed.author,
        role.as_str(),
        size as i64
    ])?;
    Ok(())
}

impl Store for SqliteStore {
    fn lease(&self) -> Result<Box<dyn crate::Lease>> {
        let mut name = self.path.clone().into_os_string();
        name.push(".lease");
        let path = std::path::PathBuf::from(name);
        create_owner_only(&path, false)?;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|source| StoreError::File { path, source })?;
        Ok(Box::new(LockFileLease {
            file,
            held: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    /// `VACUUM INTO`: one read transaction, so the copy is the database as
    /// of one instant, and a SQLite database itself (openable as a store).
    fn snapshot_to(&self, out: &Path) -> Result<()> {
        let target = out.to_str().ok_or_else(|| {
            StoreError::Corrupt(format!("backup path {} is not UTF-8", out.display()))
        })?;
        // A backup holds every message: owner-only, like the database.
        create_owner_only(out, true)?;
        self.read(|c| c.execute("VACUUM INTO ?1", [target]).map(drop))
    }

    fn add_peer(&self, peer: &Peer) -> Result<()> {
        self.write(|conn| {
            let existing: Option<String> = conn
                .query_row(
                    "SELECT identity FROM peer WHERE party = ?1",
                    [&peer.party],
                    |r| r.get(0),
                )
                .optional()?;
            match existing {
                Some(identity) if identity != peer.identity => {
                    return Err(StoreError::PeerKeyChanged(peer.party.clone()));
                }
                Some(_) => {
                    conn.prepare_cached("UPDATE peer SET url = ?2 WHERE party = ?1")?
                        .execute(params![peer.party, peer.url])?;
                }
                None => {
                    conn.prepare_cached(
                        "INSERT INTO peer (party, url, identity, added_at) VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![
                        peer.party,
                        peer.url,
                        peer.identity,
                        peer.added_at
                    ])?;
                }
            }
            Ok(())
        })
    }

    fn peers(&self) -> Result<Vec<Peer>> {
        self.read(|c| {
            let mut st =
                c.prepare_cached("SELECT party, url, identity, added_at FROM peer ORDER BY party")?;
            st.query_map([], |r| {
                Ok(Peer {
                    party: r.get(0)?,
                    url: r.get(1)?,
                    identity: r.get(2)?,
                    added_at: r.get(3)?,
                })
            })?
            .collect()
        })
    }

    fn feeds(&self) -> Result<Vec<(FeedId, FeedHead)>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT channel, author, size, root FROM feed ORDER BY channel, author",
            )?;
            st.query_map([], |r| {
                Ok((
                    FeedId {
                        channel: r.get(0)?,
                        author: r.get(1)?,
                    },
                    FeedHead {
                        size: r.get::<_, i64>(2)? as u64,
                        root: hash_of(r, 3)?,
                    },
                ))
            })?
            .collect()
        })
    }

    fn feed_head(&self, feed: &FeedId) -> Result<Option<FeedHead>> {
        self.read(|c| {
            c.prepare_cached("SELECT size, root FROM feed WHERE channel = ?1 AND author = ?2")?
                .query_row(params![feed.channel, feed.author], |r| {
                    Ok(FeedHead {
                        size: r.get::<_, i64>(0)? as u64,
                        root: hash_of(r, 1)?,
                    })
                })
                .optional()
        })
    }

    fn read_tile(&self, feed: &FeedId, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            c.prepare_cached("SELECT data FROM tile WHERE channel = ?1 AND author = ?2 AND level = ?3 AND idx = ?4")?.query_row(
                params![feed.channel, feed.author, level, index as i64],
                |r| r.get(0),
            )
            .optional()
        })
    }

    fn append(&self, a: &Append) -> Result<()> {
        self.write(|conn| {
            let actual: u64 = conn
                .prepare_cached("SELECT size FROM feed WHERE channel = ?1 AND author = ?2")?
                .query_row(params![a.feed.channel, a.feed.author], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()?
                .unwrap_or(0) as u64;
            if actual != a.old_size {
                return Err(StoreError::Conflict {
                    feed: a.feed.clone(),
                    expected: a.old_size,
                    actual,
                });
            }
            {
                let mut ins = conn.prepare_cached(
                    "INSERT INTO entry (channel, author, seq, hash, kind, time, bytes, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                let mut ins_ref = conn.prepare_cached(
                    "INSERT OR IGNORE INTO entry_ref (channel, author, seq, ref_hash) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for e in &a.entries {
                    ins.execute(params![
                        a.feed.channel,
                        a.feed.author,
                        e.seq as i64,
                        e.hash.as_bytes(),
                        e.kind,
                        e.time,
                        e.bytes,
                        a.received_at
                    ])?;
                    for r in &e.refs {
                        ins_ref.execute(params![a.feed.channel, a.feed.author, e.seq as i64, r.as_bytes()])?;
                    }
                }
                let mut tile = conn.prepare_cached(
                    "INSERT INTO tile (channel, author, level, idx, data) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (channel, author, level, idx) DO UPDATE SET data = excluded.data
                     WHERE length(excluded.data) > length(tile.data)",
                )?;
                for t in &a.tiles {
                    tile.execute(params![a.feed.channel, a.feed.author, t.level, t.index as i64, t.data])?;
                }
            }
            conn.prepare_cached("INSERT INTO feed (channel, author, size, root) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (channel, author) DO UPDATE SET size = excluded.size, root = excluded.root")?.execute(
                params![a.feed.channel, a.feed.author, a.head.size as i64, a.head.root.as_bytes()],
            )?;
            insert_checkpoint(conn, &a.feed, a.head.size, &a.checkpoint)?;
            if let Some(c) = &a.cosignature {
                insert_cosignature(conn, c)?;
            }
            for r in &a.actions {
                insert_action(conn, r)?;
            }
            Ok(())
        })
    }

    fn checkpoint(&self, feed: &FeedId, size: u64) -> Result<Option<String>> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT note FROM checkpoint WHERE channel = ?1 AND author = ?2 AND size = ?3",
            )?
            .query_row(params![feed.channel, feed.author, size as i64], |r| {
                r.get(0)
            })
            .optional()
        })
    }

    fn checkpoint_sizes(&self, feed: &FeedId, from: u64, to: u64) -> Result<Vec<u64>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT size FROM checkpoint WHERE channel = ?1 AND author = ?2 AND size BETWEEN ?3 AND ?4
                 ORDER BY size",
            )?;
            st.query_map(params![feed.channel, feed.author, from as i64, to as i64], |r| {
                Ok(r.get::<_, i64>(0)? as u64)
            })?
            .collect()
        })
    }

    fn entries(&self, feed: &FeedId, from_seq: u64, limit: u64) -> Result<Vec<StoredEntry>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM entry WHERE channel = ?1 AND author = ?2 AND seq >= ?3
                 ORDER BY seq LIMIT ?4"
            ))?;
            st.query_map(
                params![
                    feed.channel,
                    feed.author,
                    from_seq as i64,
                    limit.min(i64::MAX as u64) as i64
                ],
                entry_row,
            )?
            .collect()
        })
    }

    fn entry(&self, feed: &FeedId, seq: u64) -> Result<Option<StoredEntry>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM entry WHERE channel = ?1 AND author = ?2 AND seq = ?3"
            ))?
            .query_row(params![feed.channel, feed.author, seq as i64], entry_row)
            .optional()
        })
    }

    fn entry_by_hash(&self, hash: &Hash) -> Result<Option<StoredEntry>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM entry WHERE hash = ?1"
            ))?
            .query_row([hash.as_bytes()], entry_row)
            .optional()
        })
    }

    fn referencing(&self, hash: &Hash) -> Result<Vec<StoredEntry>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT e.channel, e.author, e.seq, e.hash, e.kind, e.time, e.bytes, e.received_at
                 FROM entry_ref r JOIN entry e USING (channel, author, seq)
                 WHERE r.ref_hash = ?1 ORDER BY e.time, e.author, e.seq",
            )?;
            st.query_map([hash.as_bytes()], entry_row)?.collect()
        })
    }

    fn recent(&self, channel: Option<&str>, limit: u64) -> Result<Vec<StoredEntry>> {
        self.read(|c| {
            let limit = limit.min(i64::MAX as u64) as i64;
            match channel {
                Some(ch) => {
                    let mut st = c.prepare_cached(&format!(
                        "SELECT {ENTRY_COLUMNS} FROM entry WHERE channel = ?1
                         ORDER BY time DESC, received_at DESC, author, seq DESC LIMIT ?2"
                    ))?;
                    st.query_map(params![ch, limit], entry_row)?.collect()
                }
                None => {
                    let mut st = c.prepare_cached(&format!(
                        "SELECT {ENTRY_COLUMNS} FROM entry
                         ORDER BY time DESC, received_at DESC, author, seq DESC LIMIT ?1"
                    ))?;
                    st.query_map(params![limit], entry_row)?.collect()
                }
            }
        })
    }

    fn all_entries(&self) -> Result<Vec<StoredEntry>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM entry ORDER BY channel, author, seq"
            ))?;
            st.query_map([], entry_row)?.collect()
        })
    }

    fn all_cosignatures(&self) -> Result<Vec<Cosignature>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COSIGNATURE_COLUMNS} FROM cosignature ORDER BY channel, author, size"
            ))?;
            st.query_map([], cosignature_row)?.collect()
        })
    }

    fn entries_of_kinds(&self, kinds: &[&str]) -> Result<Vec<StoredEntry>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM entry WHERE kind = ?1 ORDER BY channel, author, seq"
            ))?;
            let mut out = Vec::new();
            for k in kinds {
                out.extend(
                    st.query_map([k], entry_row)?
                        .collect::<rusqlite::Result<Vec<_>>>()?,
                );
            }
            out.sort_by(|a, b| (&a.channel, &a.author, a.seq).cmp(&(&b.channel, &b.author, b.seq)));
            Ok(out)
        })
    }

    fn add_cosignature(&self, c: &Cosignature) -> Result<bool> {
        self.write(|conn| Ok(insert_cosignature(conn, c)?))
    }

    fn add_cosigned_checkpoint(&self, note: &str, c: &Cosignature) -> Result<bool> {
        self.write(|conn| {
            insert_checkpoint(conn, &c.feed, c.size, note)?;
            let fresh = insert_cosignature(conn, c)?;
            Ok(fresh)
        })
    }

    fn add_receipt(&self, c: &Cosignature, role: DeliveryRole) -> Result<bool> {
        self.write(|conn| {
            let fresh = insert_cosignature(conn, c)?;
            upsert_delivery(conn, &c.cosigner, &c.feed, role, c.size)?;
            Ok(fresh)
        })
    }

    fn cosignatures(&self, feed: &FeedId, min_size: u64) -> Result<Vec<Cosignature>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COSIGNATURE_COLUMNS} FROM cosignature
                 WHERE channel = ?1 AND author = ?2 AND size >= ?3 ORDER BY size, time, cosigner"
            ))?;
            st.query_map(
                params![feed.channel, feed.author, min_size as i64],
                cosignature_row,
            )?
            .collect()
        })
    }

    /// The position is SQLite's rowid: one writer, so rows commit in the
    /// order their rowids were given (and no row is ever deleted).
    fn cosignatures_stored_after(
        &self,
        feed: &FeedId,
        after: u64,
        limit: u64,
    ) -> Result<Vec<(u64, Cosignature)>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT rowid, {COSIGNATURE_COLUMNS} FROM cosignature
                 WHERE channel = ?1 AND author = ?2 AND rowid > ?3 ORDER BY rowid LIMIT ?4"
            ))?;
            st.query_map(
                params![
                    feed.channel,
                    feed.author,
                    after.min(i64::MAX as u64) as i64,
                    limit.min(i64::MAX as u64) as i64
                ],
                |r| {
                    let n: i64 = r.get(0)?;
                    let c = cosignature_row_at(r, 1)?;
                    Ok((n as u64, c))
                },
            )?
            .collect()
        })
    }

    fn last_cosignature_by(&self, cosigner: &str, statement: Statement) -> Result<Option<i64>> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT max(time) FROM cosignature WHERE cosigner = ?1 AND statement = ?2",
            )?
            .query_row(params![cosigner, statement.as_str()], |r| r.get(0))
        })
    }

    fn delivered(&self, peer: &str, feed: &FeedId, role: DeliveryRole) -> Result<u64> {
        self.read(|c| {
            Ok(c.prepare_cached("SELECT size FROM delivery WHERE peer = ?1 AND channel = ?2 AND author = ?3 AND role = ?4")?.query_row(
                params![peer, feed.channel, feed.author, role.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0) as u64)
        })
    }

    fn set_delivered(
        &self,
        peer: &str,
        feed: &FeedId,
        role: DeliveryRole,
        size: u64,
    ) -> Result<()> {
        self.write(|conn| {
            conn.prepare_cached("INSERT INTO delivery (peer, channel, author, role, size) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (peer, channel, author, role) DO UPDATE SET size = max(size, excluded.size)")?.execute(
                params![peer, feed.channel, feed.author, role.as_str(), size as i64],
            )?;
            Ok(())
        })
    }

    fn witnessed(&self, origin: &str) -> Result<Option<WitnessedRecord>> {
        self.read(|c| {
            c.prepare_cached("SELECT origin, size, root, note FROM witnessed WHERE origin = ?1")?
                .query_row([origin], |r| {
                    Ok(WitnessedRecord {
                        origin: r.get(0)?,
                        size: r.get::<_, i64>(1)? as u64,
                        root: hash_of(r, 2)?,
                        note: r.get(3)?,
                    })
                })
                .optional()
        })
    }

    fn witnessed_all(&self) -> Result<Vec<WitnessedRecord>> {
        self.read(|c| {
            let mut st =
                c.prepare_cached("SELECT origin, size, root, note FROM witnessed ORDER BY origin")?;
            st.query_map([], |r| {
                Ok(WitnessedRecord {
                    origin: r.get(0)?,
                    size: r.get::<_, i64>(1)? as u64,
                    root: hash_of(r, 2)?,
                    note: r.get(3)?,
                })
            })?
            .collect()
        })
    }

    fn swap_witnessed(&self, expected_size: Option<u64>, new: &WitnessedRecord) -> Result<bool> {
        self.write(|conn| {
            let n = match expected_size {
                None => conn.prepare_cached("INSERT INTO witnessed (origin, size, root, note) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT DO NOTHING")?.execute(
                    params![new.origin, new.size as i64, new.root.as_bytes(), new.note],
                )?,
                Some(old) => conn.prepare_cached("UPDATE witnessed SET size = ?2, root = ?3, note = ?4 WHERE origin = ?1 AND size = ?5")?.execute(
                    params![new.origin, new.size as i64, new.root.as_bytes(), new.note, old as i64],
                )?,
            };
            Ok(n == 1)
        })
    }

    fn add_witness_log(&self, log: &WitnessLog) -> Result<bool> {
        self.write(|conn| {
            let n = conn
                .prepare_cached(
                    "INSERT INTO witness_log (origin, party, source) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                )?
                .execute(params![log.origin, log.party, log.source])?;
            Ok(n == 1)
        })
    }

    fn witness_logs(&self) -> Result<Vec<WitnessLog>> {
        self.read(|c| {
            let mut st =
                c.prepare_cached("SELECT origin, party, source FROM witness_log ORDER BY origin")?;
            st.query_map([], |r| {
                Ok(WitnessLog {
                    origin: r.get(0)?,
                    party: r.get(1)?,
                    source: r.get(2)?,
                })
            })?
            .collect()
        })
    }

    fn witness_log(&self, origin: &str) -> Result<Option<WitnessLog>> {
        self.read(|c| {
            c.prepare_cached("SELECT origin, party, source FROM witness_log WHERE origin = ?1")?
                .query_row([origin], |r| {
                    Ok(WitnessLog {
                        origin: r.get(0)?,
                        party: r.get(1)?,
                        source: r.get(2)?,
                    })
                })
                .optional()
        })
    }

    fn replace_peer_identity(
        &self,
        party: &str,
        old: &str,
        new: &str,
        rotation: Option<&KeyRotation>,
    ) -> Result<bool> {
        self.write(|conn| {
            let n = conn
                .prepare_cached("UPDATE peer SET identity = ?3 WHERE party = ?1 AND identity = ?2")?
                .execute(params![party, old, new])?;
            if n == 1
                && let Some(r) = rotation
            {
                insert_rotation(conn, r)?;
            }
            Ok(n == 1)
        })
    }

    fn add_rotation(&self, r: &KeyRotation) -> Result<bool> {
        self.write(|conn| Ok(insert_rotation(conn, r)?))
    }

    fn rotations(&self) -> Result<Vec<KeyRotation>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, party, role, statement, recorded_at FROM key_rotation ORDER BY id",
            )?;
            st.query_map([], |r| {
                Ok(KeyRotation {
                    id: r.get(0)?,
                    party: r.get(1)?,
                    role: r.get(2)?,
                    statement: r.get(3)?,
                    recorded_at: r.get(4)?,
                })
            })?
            .collect()
        })
    }

    fn mark_read(&self, user: &str, hash: &Hash) -> Result<()> {
        self.write(|conn| {
            conn.prepare_cached("INSERT OR IGNORE INTO read_mark (user, hash) VALUES (?1, ?2)")?
                .execute(params![user, hash.as_bytes()])?;
            Ok(())
        })
    }

    fn read_marks(&self, user: &str) -> Result<Vec<Hash>> {
        self.read(|c| {
            let mut st = c.prepare_cached("SELECT hash FROM read_mark WHERE user = ?1")?;
            st.query_map([user], |r| hash_of(r, 0))?.collect()
        })
    }

    fn add_evidence(&self, e: &EvidenceRecord) -> Result<i64> {
        self.write(|conn| {
            // The same conflict seen twice is recorded once.
            let existing: Option<i64> = conn
                .query_row(
                    "SELECT id FROM evidence WHERE origin = ?1 AND evidence = ?2",
                    params![e.origin, e.evidence],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = existing {
                return Ok(id);
            }
            conn.prepare_cached("INSERT INTO evidence (kind, origin, party, detected_at, detected_by, summary, evidence, proven)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?.execute(
                params![e.kind.as_str(), e.origin, e.party, e.detected_at, e.detected_by, e.summary, e.evidence, e.proven],
            )?;
            Ok(conn.last_insert_rowid())
        })
    }

    fn record_action(&self, a: &crate::ActionRecord) -> Result<i64> {
        self.write(|conn| insert_action(conn, a))
    }

    fn actions(&self, after: i64, limit: u64) -> Result<Vec<crate::ActionRecord>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, time, user, role, client, action, target, entry, outcome
                 FROM action_log WHERE id > ?1 ORDER BY id LIMIT ?2",
            )?;
            st.query_map(
                params![after, i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| {
                    Ok(crate::ActionRecord {
                        id: r.get(0)?,
                        time: r.get(1)?,
                        user: r.get(2)?,
                        role: r.get(3)?,
                        client: r.get(4)?,
                        action: r.get(5)?,
                        target: r.get(6)?,
                        entry: r.get(7)?,
                        outcome: r.get(8)?,
                    })
                },
            )?
            .collect()
        })
    }

    fn evidence(&self) -> Result<Vec<EvidenceRecord>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, origin, party, detected_at, detected_by, summary, evidence, proven, kind
                 FROM evidence ORDER BY id",
            )?;
            st.query_map([], |r| {
                let kind: String = r.get(8)?;
                Ok(EvidenceRecord {
                    id: r.get(0)?,
                    kind: crate::EvidenceKind::parse(&kind).ok_or_else(|| {
                        rusqlite::Error::FromSqlConversionFailure(
                            8,
                            rusqlite::types::Type::Text,
                            format!("unknown evidence kind {kind:?}").into(),
                        )
                    })?,
                    origin: r.get(1)?,
                    party: r.get(2)?,
                    detected_at: r.get(3)?,
                    detected_by: r.get(4)?,
                    summary: r.get(5)?,
                    evidence: r.get(6)?,
                    proven: r.get(7)?,
                })
            })?
            .collect()
        })
    }
}

/// Creates `path` empty and owner-only (0600) if it does not exist, so that
/// SQLite, which gives the WAL and shared-memory files the database's own
/// mode, never makes any of them readable by other local users.
fn create_owner_only(path: &Path, must_be_new: bool) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if must_be_new {
        opts.create_new(true);
    } else if path.exists() {
        return Ok(());
    } else {
        opts.create(true).truncate(false);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
        .map(drop)
        .map_err(|source| StoreError::File {
            path: path.to_path_buf(),
            source,
        })
}

/// Appends to the action log; the new record's id.
fn insert_action(conn: &rusqlite::Connection, a: &crate::ActionRecord) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO action_log (time, user, role, client, action, target, entry, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        a.time, a.user, a.role, a.client, a.action, a.target, a.entry, a.outcome
    ])?;
    Ok(conn.last_insert_rowid())
}

#[cfg(test)]
mod durability_tests {
    use super::*;

    #[test]
    fn a_connection_that_would_not_sync_every_commit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let conn = open_connection(&path).unwrap();
        assert!(check_durability(&conn, &path).is_ok());
        conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
        let err = check_durability(&conn, &path).unwrap_err().to_string();
        assert!(err.contains("synchronous=1"), "{err}");
        conn.pragma_update(None, "synchronous", "FULL").unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
        let err = check_durability(&conn, &path).unwrap_err().to_string();
        assert!(err.contains("journal_mode=delete"), "{err}");
    }
}
