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

/// A CA and a server certificate for `names`, signed by it: (CA PEM,
/// certificate PEM, key PEM).
fn certificates(names: &[&str]) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "parley test database CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

/// The server's data directory owner, who must own its key file.
#[cfg(unix)]
fn give_to_server(path: &std::path::Path, url: &str) {
    use std::os::unix::fs::MetadataExt;
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let data: String = c
        .query_one("SELECT current_setting('data_directory')", &[])
        .unwrap()
        .get(0);
    let m = std::fs::metadata(&data).unwrap();
    // Only root may give a file away; otherwise the server runs as us.
    let _ = std::os::unix::fs::chown(path, Some(m.uid()), Some(m.gid()));
}

/// The server's TLS switched on with a certificate for `localhost`, and
/// off again when dropped.
struct ServerTls {
    admin: String,
}

impl ServerTls {
    fn on(admin: &str, cert: &std::path::Path, key: &std::path::Path) -> ServerTls {
        let mut c = postgres::Client::connect(admin, postgres::NoTls).unwrap();
        // ALTER SYSTEM runs alone, outside a transaction.
        for sql in [
            format!("ALTER SYSTEM SET ssl_cert_file = '{}'", cert.display()),
            format!("ALTER SYSTEM SET ssl_key_file = '{}'", key.display()),
            "ALTER SYSTEM SET ssl = on".into(),
            "SELECT pg_reload_conf()".into(),
        ] {
            c.batch_execute(&sql).unwrap();
        }
        // The reload is asynchronous: a new session sees it once done.
        for _ in 0..200 {
            let mut c = postgres::Client::connect(admin, postgres::NoTls).unwrap();
            let on: String = c.query_one("SHOW ssl", &[]).unwrap().get(0);
            if on == "on" {
                return ServerTls {
                    admin: admin.to_string(),
                };
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the server did not switch TLS on (see its log: is the key file readable by it?)");
    }
}

impl Drop for ServerTls {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            for sql in [
                "ALTER SYSTEM RESET ssl",
                "ALTER SYSTEM RESET ssl_cert_file",
                "ALTER SYSTEM RESET ssl_key_file",
                "SELECT pg_reload_conf()",
            ] {
                let _ = c.batch_execute(sql);
            }
        }
    }
}

/// An attacker on the path to a database across a network would read the
/// record and the password, or answer in the server's place. A node
/// reaches such a server only over TLS with the server's certificate and
/// name checked against the authority the operator names; a server whose
/// certificate another authority signed, or that answers for another
/// name, is refused, and nothing is stored.
#[test]
fn a_database_over_tls_is_reached_only_with_its_certificate_and_name_checked() {
    let Some(s) = server() else { return };
    let db = ThrowawayDatabase::create(&s, "tls").unwrap();
    let config: postgres::Config = db.url.parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let (ca, cert, key) = certificates(&["localhost"]);
    let (other_ca, _, _) = certificates(&["localhost"]);
    let (ca, other_ca, cert, key) = (
        write("ca.pem", &ca),
        write("other-ca.pem", &other_ca),
        write("server.crt", &cert),
        write("server.key", &key),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        give_to_server(&key, &s);
        give_to_server(&cert, &s);
    }
    let _tls = ServerTls::on(&s, &cert, &key);
    let password = config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default();
    let url = |host: &str, root: &std::path::Path| {
        format!(
            "host={host} port={} user='{}' password='{}' dbname={} application_name=parley_tls_test sslmode=verify-full sslrootcert='{}'",
            config.get_ports().first().copied().unwrap_or(5432),
            config.get_user().unwrap_or("postgres"),
            password,
            dbname(&db.url),
            root.display()
        )
    };

    // Checked against the right authority, for the right name: connected
    // over TLS (the server says so of every session the store opened).
    let store = PostgresStore::open(&url("localhost", &ca)).unwrap();
    assert!(PostgresStore::describe(&url("localhost", &ca)).contains("over TLS"));
    store.peers().unwrap();
    let mut c = postgres::Client::connect(&s, postgres::NoTls).unwrap();
    let sessions: Vec<bool> = c
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'parley_tls_test'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        !sessions.is_empty() && sessions.iter().all(|s| *s),
        "{sessions:?}"
    );
    drop(store);

    // Another authority's certificate, or another name: refused.
    let e = PostgresStore::open(&url("localhost", &other_ca))
        .err()
        .expect("another CA");
    let chain = format!("{:?}", anyhow_chain(&e));
    assert!(
        chain.contains("certificate") || chain.contains("UnknownIssuer"),
        "{chain}"
    );
    let e = PostgresStore::open(&url("127.0.0.1", &ca))
        .err()
        .expect("another name");
    let chain = format!("{:?}", anyhow_chain(&e));
    assert!(
        chain.contains("certificate") || chain.contains("NotValidForName"),
        "{chain}"
    );
}

/// An error and its sources, for messages.
fn anyhow_chain(e: &StoreError) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut s = std::error::Error::source(e);
    while let Some(x) = s {
        out.push(format!("{x} / {x:?}"));
        s = x.source();
    }
    out
}
