//! Throwaway PostgreSQL databases, for tests and benchmarks: each is created
//! empty on the server the environment names and dropped when it goes.
//!
//! The server is given by `PARLEY_TEST_PG_URL`, or by the `PG*` variables
//! that `pg_virtualenv` sets (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`).

use std::sync::atomic::{AtomicU64, Ordering};

use postgres::config::Host;
use postgres::{Config, NoTls};

use crate::{Result, StoreError};

/// An empty database that is dropped (with its connections) when this is.
pub struct ThrowawayDatabase {
    admin: String,
    name: String,
    /// How to open it: a key=value connection string.
    pub url: String,
}

impl ThrowawayDatabase {
    /// The server to make databases on, if the environment names one.
    pub fn server() -> Option<String> {
        if let Ok(url) = std::env::var("PARLEY_TEST_PG_URL")
            && !url.is_empty()
        {
            return Some(url);
        }
        std::env::var("PGHOST").ok().map(|host| {
            let var = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.into());
            format!(
                "host={} port={} user={} password={} dbname={}",
                quote(&host),
                quote(&var("PGPORT", "5432")),
                quote(&var("PGUSER", "postgres")),
                quote(&var("PGPASSWORD", "")),
                quote(&var("PGDATABASE", "postgres")),
            )
        })
    }

    /// Creates an empty database named `parley_<tag>_<pid>_<n>` on `server`.
    ///
    /// # Errors
    /// The server cannot be reached or refuses to create it.
    pub fn create(server: &str, tag: &str) -> Result<ThrowawayDatabase> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "parley_{}_{}_{}",
            tag.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase(),
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin(server, format!("CREATE DATABASE {name}"))?;
        let url = with_database(server, &name)?;
        Ok(ThrowawayDatabase {
            admin: server.to_string(),
            name,
            url,
        })
    }
}

impl Drop for ThrowawayDatabase {
    fn drop(&mut self) {
        let _ = admin(
            &self.admin,
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Runs one statement on the server's own database, on a thread of its
/// own (the driver's runtime must not start inside a caller's).
fn admin(server: &str, sql: String) -> Result<()> {
    let server = server.to_string();
    std::thread::spawn(move || -> Result<()> {
        let mut c = postgres::Client::connect(&server, NoTls)?;
        c.batch_execute(&sql)?;
        Ok(())
    })
    .join()
    .map_err(|_| StoreError::Corrupt("the database admin thread panicked".into()))?
}

/// The server's connection string, naming another database.
fn with_database(server: &str, name: &str) -> Result<String> {
    let config: Config = server
        .parse()
        .map_err(|e: postgres::Error| StoreError::Backend(Box::new(e)))?;
    let mut out = Vec::new();
    if let Some(host) = config.get_hosts().first() {
        let host = match host {
            Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            Host::Unix(p) => p.display().to_string(),
        };
        out.push(format!("host={}", quote(&host)));
    }
    if let Some(port) = config.get_ports().first() {
        out.push(format!("port={port}"));
    }
    if let Some(user) = config.get_user() {
        out.push(format!("user={}", quote(user)));
    }
    if let Some(pw) = config.get_password() {
        out.push(format!("password={}", quote(&String::from_utf8_lossy(pw))));
    }
    out.push(format!("dbname={name}"));
    Ok(out.join(" "))
}

/// A value in a key=value connection string.
fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}
