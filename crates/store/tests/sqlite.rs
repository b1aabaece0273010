//! The SQLite store on real database files: the store contract every
//! backend meets (`parley_store::conformance`), then what is SQLite's own.

use parley_store::{SqliteStore, Store, StoreError};

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("parley.db")).unwrap();
    (dir, store)
}

/// Fresh storage: a new database file, and an opener of it.
fn fresh() -> (tempfile::TempDir, impl Fn() -> Box<dyn Store> + Sync) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    let open = move || -> Box<dyn Store> { Box::new(SqliteStore::open(&path).unwrap()) };
    (dir, open)
}

// The store contract, on SQLite.
parley_store::conformance_suite!(fresh);

#[test]
fn schema_version_is_recorded_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, SqliteStore::schema_version());
    conn.pragma_update(None, "user_version", v + 1).unwrap();
    drop(conn);
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::SchemaTooNew { .. })
    ));
}

#[test]
fn the_action_log_is_append_only() {
    let (dir, store) = open();
    let rec = parley_store::conformance::sample_action();
    // Recording and reading back in order is the contract's
    // (`actions_are_numbered_in_order`, run above); here, SQLite's triggers.
    store.record_action(&rec).unwrap();
    store.record_action(&rec).unwrap();
    // UPDATE and DELETE through SQLite are refused. (Whoever can write the
    // file could drop the triggers: the file is owner-only, and backups
    // and peers hold what was sent.)
    let conn = rusqlite::Connection::open(dir.path().join("parley.db")).unwrap();
    for sql in [
        "UPDATE action_log SET user = 'nobody'",
        "DELETE FROM action_log",
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(store.actions(0, 10).unwrap().len(), 2);
}
