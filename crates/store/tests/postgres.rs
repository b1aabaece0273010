//! The PostgreSQL store on a real server: the store contract every backend
//! meets (`parley_store::conformance`), then what is PostgreSQL's own.
//!
//! The server is the one `pg_virtualenv` starts for the README's test
//! command (or `PARLEY_TEST_PG_URL`). Without one these tests fail, unless
//! `PARLEY_ALLOW_SKIP` names `postgres`: then each says it did not run.

use parley_store::throwaway::ThrowawayDatabase;
use parley_store::{PostgresStore, Store, StoreError};

/// Fresh storage: a new database, and an opener of it (each opening is a
/// new store with its own connections, as a second process would have).
fn fresh() -> (
    Option<ThrowawayDatabase>,
    impl Fn() -> Box<dyn Store> + Sync,
) {
    let db = server().map(|s| ThrowawayDatabase::create(&s, "conformance").unwrap());
    let url = db.as_ref().map(|d| d.url.clone());
    // Skipping was allowed and said: the check runs on memory.
    let memory = parley_store::MemoryStore::new();
    let open = move || -> Box<dyn Store> {
        match &url {
            Some(url) => Box::new(PostgresStore::open(url).unwrap()),
            None => Box::new(memory.clone()),
        }
    };
    (db, open)
}

fn server() -> Option<String> {
    let s = ThrowawayDatabase::server();
    if s.is_none() {
        let why = "no PostgreSQL server (run inside pg_virtualenv, as scripts/test-all.sh does, or set PARLEY_TEST_PG_URL)";
        let allowed = std::env::var("PARLEY_ALLOW_SKIP").unwrap_or_default();
        assert!(
            allowed
                .split(',')
                .any(|a| a.trim() == "postgres" || a.trim() == "all"),
            "{why}; or allow the skip with PARLEY_ALLOW_SKIP=postgres"
        );
        eprintln!("SKIPPED (postgres): {why}");
    }
    s
}

// The store contract, on PostgreSQL.
parley_store::conformance_suite!(fresh);

fn admin(url: &str, sql: &str) -> Result<u64, postgres::Error> {
    let mut c = postgres::Client::connect(url, postgres::NoTls)?;
    c.execute(sql, &[])
}

#[test]
fn schema_version_is_recorded_and_a_newer_schema_is_refused() {
    let Some(s) = server() else { return };
    let db = ThrowawayDatabase::create(&s, "schema").unwrap();
    drop(PostgresStore::open(&db.url).unwrap());
    // Opening again applies nothing and is accepted.
    drop(PostgresStore::open(&db.url).unwrap());
    admin(&db.url, "UPDATE parley_schema SET version = version + 1").unwrap();
    assert!(matches!(
        PostgresStore::open(&db.url),
        Err(StoreError::SchemaTooNew { .. })
    ));
}

#[test]
fn two_processes_opening_a_new_database_at_once_migrate_it_once() {
    let Some(s) = server() else { return };
    let db = ThrowawayDatabase::create(&s, "race").unwrap();
    std::thread::scope(|scope| {
        let opens: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| PostgresStore::open(&db.url).map(drop)))
            .collect();
        for o in opens {
            o.join().unwrap().unwrap();
        }
    });
}

#[test]
fn a_server_that_acknowledges_before_flushing_is_refused() {
    let Some(s) = server() else { return };
    let db = ThrowawayDatabase::create(&s, "durability").unwrap();
    let role = format!(
        "ALTER DATABASE {} SET synchronous_commit = off",
        dbname(&db.url)
    );
    admin(&db.url, &role).unwrap();
    let err = PostgresStore::open(&db.url)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("synchronous_commit=off"), "{err}");
}

#[test]
fn the_action_log_is_append_only() {
    let Some(s) = server() else { return };
    let db = ThrowawayDatabase::create(&s, "actions").unwrap();
    let store = PostgresStore::open(&db.url).unwrap();
    let rec = parley_store::conformance::sample_action();
    store.record_action(&rec).unwrap();
    store.record_action(&rec).unwrap();
    for sql in [
        "UPDATE action_log SET \"user\" = 'nobody'",
        "DELETE FROM action_log",
        "TRUNCATE action_log",
    ] {
        let err = admin(&db.url, sql).unwrap_err();
        let msg = err
            .as_db_error()
            .map(|e| e.message().to_string())
            .unwrap_or_default();
        assert!(msg.contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(store.actions(0, 10).unwrap().len(), 2);
}

#[test]
fn an_unreachable_server_is_unavailable_not_corrupt() {
    // A port nothing listens on: the node refuses work and retries.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = PostgresStore::open(&format!("host=127.0.0.1 port={port} user=x dbname=x"))
        .err()
        .expect("no server");
    assert!(err.storage_unavailable().is_some(), "{err:?}");
}

fn dbname(url: &str) -> String {
    url.split_whitespace()
        .find_map(|kv| kv.strip_prefix("dbname="))
        .unwrap()
        .to_string()
}
