//! How a node reaches its PostgreSQL server, from a libpq connection string
//! (the same string `psql` and `pg_dump` take), checked before connecting.
//!
//! A database on the node's own machine (a Unix socket, or a loopback
//! address) is reached as it is. One across a network carries the whole
//! record and the database password, so it must be reached over TLS with
//! the server's certificate and name checked: `sslmode=verify-full` with
//! `sslrootcert=` the certificate of the authority that signed the
//! server's. A node refuses a remote server otherwise, unless the string
//! says `sslmode=disable`: the operator's explicit choice of clear text.
//! libpq's weaker modes (`prefer`, `require`, `verify-ca`) would let an
//! attacker on the path read or rewrite the record, and are refused.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use postgres::config::{Host, SslMode};
use postgres::{Client, Config, NoTls};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{Result, StoreError};

/// A checked connection target.
#[derive(Clone)]
pub(crate) struct Target {
    config: Config,
    tls: Option<MakeRustlsConnect>,
    local: bool,
}

impl Target {
    /// Reads and checks a connection string.
    ///
    /// # Errors
    /// The string does not parse, names a remote server without
    /// `sslmode=verify-full` (or an explicit `sslmode=disable`), or its
    /// `sslrootcert` cannot be read.
    pub(crate) fn parse(url: &str) -> Result<Target> {
        let (rest, tls) = split_tls(url)?;
        let mut config: Config = rest.parse().map_err(|e| {
            refused(format!(
                "the [storage] url is not a PostgreSQL connection string: {e}"
            ))
        })?;
        let local = config.get_hosts().iter().all(is_local);
        let mode = tls.mode.as_deref();
        let tls = match (mode, tls.root) {
            (Some("verify-full"), Some(root)) => {
                config.ssl_mode(SslMode::Require);
                Some(connector(&root)?)
            }
            (Some("verify-full"), None) => {
                return Err(refused(
                    "sslmode=verify-full needs sslrootcert=FILE: the certificate of the authority that signed the database server's".into(),
                ));
            }
            (Some(m @ ("require" | "verify-ca")), _) => {
                return Err(refused(format!(
                    "sslmode={m} does not check the database server's name; use sslmode=verify-full with sslrootcert=FILE"
                )));
            }
            (Some("disable"), _) => None,
            (_, _) if local => None,
            (m, _) => {
                return Err(refused(format!(
                    "the database server is reached across a network{}: the record and the password would cross it in clear. Add sslmode=verify-full and sslrootcert=FILE (the authority that signed the server's certificate), or sslmode=disable to accept clear text",
                    m.map(|m| format!(" and sslmode={m} may fall back to clear text"))
                        .unwrap_or_default()
                )));
            }
        };
        Ok(Target { config, tls, local })
    }

    pub(crate) fn connect(&self) -> Result<Client> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        }
        .map_err(StoreError::from)
    }

    /// How connections travel, for people.
    pub(crate) fn travel(&self) -> &'static str {
        match (&self.tls, self.local) {
            (Some(_), _) => ", over TLS with its certificate checked",
            (None, true) => "",
            (None, false) => ", in clear across a network (sslmode=disable)",
        }
    }

    /// Whether connections are made over TLS.
    #[cfg(test)]
    pub(crate) fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }
}

fn refused(message: String) -> StoreError {
    StoreError::Backend(Box::new(std::io::Error::other(message)))
}

fn is_local(h: &Host) -> bool {
    match h {
        #[cfg(unix)]
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
    }
}

fn connector(root: &PathBuf) -> Result<MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(root)
        .and_then(Iterator::collect)
        .map_err(|e| refused(format!("reading sslrootcert {}: {e}", root.display())))?;
    if certs.is_empty() {
        return Err(refused(format!(
            "sslrootcert {} holds no PEM certificate",
            root.display()
        )));
    }
    for c in certs {
        roots
            .add(c)
            .map_err(|e| refused(format!("sslrootcert {}: {e}", root.display())))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| refused(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// The libpq TLS parameters a connection string names.
#[derive(Default)]
struct TlsWanted {
    mode: Option<String>,
    root: Option<PathBuf>,
}

/// Takes `sslmode` and `sslrootcert` out of a connection string (URL or
/// `key=value` form): the driver knows neither `verify-full` nor a root
/// file, so the node applies them itself.
fn split_tls(url: &str) -> Result<(String, TlsWanted)> {
    let mut wanted = TlsWanted::default();
    let mut take = |key: &str, value: String| match key {
        "sslmode" => {
            wanted.mode = Some(value);
            true
        }
        "sslrootcert" => {
            wanted.root = Some(PathBuf::from(value));
            true
        }
        _ => false,
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            None => url.to_string(),
            Some((base, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|kv| {
                        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                        !take(k, percent_decode(v))
                    })
                    .collect();
                if kept.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        let mut kept = Vec::new();
        for (k, v, raw) in key_values(url)? {
            if !take(&k, v) {
                kept.push(raw);
            }
        }
        kept.join(" ")
    };
    Ok((rest, wanted))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(hex) = std::str::from_utf8(&b[i + 1..i + 3])
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `key=value` pairs of a libpq keyword string (values may be quoted
/// with single quotes, with `\'` and `\\` escapes), each with its raw text.
fn key_values(s: &str) -> Result<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            return Err(refused(format!(
                "the [storage] url has {key:?} without a value"
            )));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '\'').is_some() {
            loop {
                match chars.next() {
                    Some((_, '\\')) => {
                        if let Some((_, c)) = chars.next() {
                            value.push(c);
                        }
                    }
                    Some((_, '\'')) => break,
                    Some((_, c)) => value.push(c),
                    None => {
                        return Err(refused(format!(
                            "the [storage] url's value of {key:?} has no closing quote"
                        )));
                    }
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                value.push(c);
            }
        }
        let end = chars.peek().map_or(s.len(), |(i, _)| *i);
        out.push((key, value, s[start..end].trim_end().to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(url: &str) -> String {
        match Target::parse(url) {
            Ok(_) => panic!("{url} was accepted"),
            Err(e) => format!("{e}"),
        }
    }

    #[test]
    fn a_local_server_is_reached_as_it_is() {
        for url in [
            "host=/run/postgresql dbname=nato user=parley",
            "host=localhost dbname=nato",
            "postgres://parley@127.0.0.1:5432/nato",
            "postgresql://parley@[::1]/nato",
        ] {
            let t = Target::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(!t.is_tls(), "{url}");
        }
    }

    #[test]
    fn a_remote_server_needs_a_checked_certificate_or_an_explicit_choice_of_clear_text() {
        let e = refusal("host=db.example.org dbname=nato");
        assert!(
            e.contains("across a network") && e.contains("verify-full"),
            "{e}"
        );
        let e = refusal("postgres://parley@10.0.0.5/nato?sslmode=prefer");
        assert!(e.contains("sslmode=prefer may fall back"), "{e}");
        let e = refusal("host=db.example.org sslmode=require");
        assert!(
            e.contains("does not check the database server's name"),
            "{e}"
        );
        let e = refusal("postgres://db.example.org/nato?sslmode=verify-ca");
        assert!(e.contains("sslmode=verify-ca"), "{e}");
        let e = refusal("host=db.example.org sslmode=verify-full");
        assert!(e.contains("needs sslrootcert"), "{e}");
        let e = refusal("host=db.example.org sslmode=verify-full sslrootcert=/nonexistent/ca.pem");
        assert!(e.contains("reading sslrootcert /nonexistent/ca.pem"), "{e}");
        let t = Target::parse("host=db.example.org dbname=nato sslmode=disable").unwrap();
        assert!(!t.is_tls());
    }

    #[test]
    fn tls_parameters_are_taken_out_of_both_forms_and_the_rest_kept() {
        let (rest, w) = split_tls(
            "host='/run/my pg' dbname=nato sslmode=verify-full sslrootcert='/etc/ca dir/ca.pem' user=parley",
        )
        .unwrap();
        assert_eq!(rest, "host='/run/my pg' dbname=nato user=parley");
        assert_eq!(w.mode.as_deref(), Some("verify-full"));
        assert_eq!(w.root, Some(PathBuf::from("/etc/ca dir/ca.pem")));
        let (rest, w) = split_tls(
            "postgres://u:p@db/nato?sslrootcert=%2Fetc%2Fca.pem&application_name=x&sslmode=verify-full",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p@db/nato?application_name=x");
        assert_eq!(w.root, Some(PathBuf::from("/etc/ca.pem")));
        assert!(split_tls("host='unterminated").is_err());
    }
}
