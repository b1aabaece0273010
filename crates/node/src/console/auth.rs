//! Who may use the console and what each role may do: users from
//! `parley.toml` (argon2 password hashes), sessions in memory, a CSRF token
//! per session on every form, and one permission table that both hides
//! buttons and refuses requests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::http::HeaderMap;

use parley_domain::kinds::Office;

use crate::config::User;

/// A console role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    DutyOfficer,
    Diplomat,
    Expert,
    Signatory,
    Auditor,
    Administrator,
}

pub const ROLES: [Role; 6] = [
    Role::DutyOfficer,
    Role::Diplomat,
    Role::Expert,
    Role::Signatory,
    Role::Auditor,
    Role::Administrator,
];

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        ROLES.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::DutyOfficer => "duty_officer",
            Role::Diplomat => "diplomat",
            Role::Expert => "expert",
            Role::Signatory => "signatory",
            Role::Auditor => "auditor",
            Role::Administrator => "administrator",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Role::DutyOfficer => "Duty officer",
            Role::Diplomat => "Diplomat",
            Role::Expert => "Arms-control expert",
            Role::Signatory => "Signatory",
            Role::Auditor => "Auditor",
            Role::Administrator => "Administrator",
        }
    }

    /// The office this role holds in the kind registry's terms; an
    /// auditor holds none.
    pub fn office(self) -> Option<Office> {
        match self {
            Role::DutyOfficer => Some(Office::DutyOfficer),
            Role::Diplomat => Some(Office::Diplomat),
            Role::Expert => Some(Office::Expert),
            Role::Signatory => Some(Office::Signatory),
            Role::Auditor => None,
            Role::Administrator => Some(Office::Administrator),
        }
    }

    /// The kinds this role may send, in the registry's order, as each
    /// kind's entry says. Auditors send nothing; only a signatory signs a
    /// negotiated text (running the node is not a mandate to sign).
    pub fn kinds(self) -> Vec<&'static str> {
        let Some(office) = self.office() else {
            return Vec::new();
        };
        parley_domain::kinds::all()
            .iter()
            .filter(|k| k.sent_by.contains(&office))
            .map(|k| k.name)
            .collect()
    }

    pub fn may_send(self, kind: &str) -> bool {
        self.office().is_some_and(|o| {
            parley_domain::kinds::get(kind).is_some_and(|k| k.sent_by.contains(&o))
        })
    }

    /// What this role may send, in words: the kinds' titles, in the
    /// registry's order.
    pub fn sends_in_words(self) -> String {
        let titles: Vec<String> = parley_domain::kinds::all()
            .iter()
            .filter(|k| self.may_send(k.name))
            .map(|k| k.title.to_lowercase())
            .collect();
        if titles.is_empty() {
            "nothing: reads every view, verifies records, downloads proofs".into()
        } else {
            titles.join(", ")
        }
    }
}

/// The role table of the README and the user guide, generated from the
/// code (`parley roles --markdown`); a test keeps the documents equal to it.
pub fn role_table_markdown() -> String {
    let mut out = String::from("| role | title | may send |\n|---|---|---|\n");
    for r in ROLES {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            r.as_str(),
            r.title(),
            r.sends_in_words()
        ));
    }
    out
}

/// Hashes a password for `parley.toml` (argon2id, random salt).
pub fn hash_password(password: &str) -> String {
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .expect("hashing with a fresh salt cannot fail")
        .to_string()
}

/// Checks a password against a user's stored hash.
pub fn check_password(user: &User, password: &str) -> bool {
    PasswordHash::new(&user.password_hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// The users in `parley.toml`, read again whenever the file changes, so
/// that `parley user add` and `user remove` act on running sessions too.
pub struct UserDirectory {
    dir: PathBuf,
    cache: Mutex<Option<(SystemTime, Vec<User>)>>,
    at_start: Vec<User>,
}

impl UserDirectory {
    pub fn new(dir: &Path, at_start: Vec<User>) -> UserDirectory {
        UserDirectory {
            dir: dir.to_path_buf(),
            cache: Mutex::default(),
            at_start,
        }
    }

    pub fn find(&self, name: &str) -> Option<User> {
        self.find_by(|u| u.name == name)
    }

    /// The user an API token was issued to (compared by SHA-256, in
    /// constant time).
    pub fn find_by_token(&self, token: &str) -> Option<User> {
        let want = parley_log::hash::sha256_hex(token.as_bytes());
        self.find_by(|u| {
            u.token_sha256
                .as_deref()
                .is_some_and(|h| token_eq(h, &want))
        })
    }

    fn find_by(&self, pick: impl Fn(&User) -> bool) -> Option<User> {
        let modified = std::fs::metadata(crate::config::NodeDir::config_path(&self.dir))
            .and_then(|m| m.modified())
            .ok();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = modified
            && cache.as_ref().map(|c| c.0) != Some(t)
        {
            // A configuration being rewritten may not parse for an instant:
            // keep the last good list rather than sign everyone out.
            if let Ok(config) = crate::config::read_config(&self.dir) {
                *cache = Some((t, config.users));
            }
        }
        let users = cache.as_ref().map_or(&self.at_start, |c| &c.1);
        users.iter().find(|u| pick(u)).cloned()
    }
}

/// A signed-in user.
#[derive(Clone, Debug)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// The user's console language in the configuration, as it is now.
    pub language: Option<String>,
    /// Must come back with every form this session posts.
    pub csrf: String,
    expires: Instant,
}

/// Sessions live in memory: a restart signs everyone out.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

/// How long a session lasts without use.
const IDLE: Duration = Duration::from_secs(12 * 3600);

pub const COOKIE: &str = "parley_session";

impl Sessions {
    /// Starts a session; returns its cookie value.
    pub fn start(&self, user: &str, role: Role) -> String {
        let token = crate::config::random_token();
        let s = Session {
            user: user.into(),
            role,
            language: None,
            csrf: crate::config::random_token(),
            expires: Instant::now() + IDLE,
        };
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, s| s.expires > Instant::now());
        map.insert(token.clone(), s);
        token
    }

    /// The session a request carries, refreshed.
    pub fn get(&self, headers: &HeaderMap) -> Option<Session> {
        let token = cookie(headers, COOKIE)?;
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let s = map.get_mut(&token)?;
        if s.expires <= Instant::now() {
            map.remove(&token);
            return None;
        }
        s.expires = Instant::now() + IDLE;
        Some(s.clone())
    }

    /// The session a request carries, if its user is still in the
    /// configuration; with the role and language the configuration gives it
    /// now.
    pub fn current(&self, headers: &HeaderMap, users: &UserDirectory) -> Option<Session> {
        let mut s = self.get(headers)?;
        let user = users.find(&s.user);
        match user.as_ref().and_then(|u| Role::parse(&u.role)) {
            Some(role) => {
                s.role = role;
                s.language = user.and_then(|u| u.language);
                Some(s)
            }
            None => {
                self.end(headers);
                None
            }
        }
    }

    pub fn end(&self, headers: &HeaderMap) {
        if let Some(t) = cookie(headers, COOKIE) {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&t);
        }
    }
}

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Refuses a cross-site form post: the browser's Origin (or Referer) must
/// be this console, and the form must carry the session's token.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin = headers
        .get("origin")
        .or_else(|| headers.get("referer"))
        .and_then(|v| v.to_str().ok());
    match origin {
        // No Origin or Referer: a non-browser client; the token still applies.
        None => true,
        Some(o) => {
            let rest = o.split_once("://").map_or(o, |(_, r)| r);
            rest.split('/').next() == Some(host)
        }
    }
}

/// Compares tokens in constant time.
pub fn token_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_signatory_signs_and_an_auditor_sends_nothing() {
        let signers: Vec<Role> = ROLES
            .into_iter()
            .filter(|r| r.may_send("draft_signature"))
            .collect();
        assert_eq!(signers, vec![Role::Signatory]);
        assert!(Role::Auditor.kinds().is_empty());
        assert!(Role::DutyOfficer.may_send("hotline_message"));
        assert!(!Role::DutyOfficer.may_send("prior_notification"));
        assert!(Role::Expert.may_send("prior_notification"));
    }

    #[test]
    fn every_role_names_only_registered_kinds() {
        for r in ROLES {
            for k in r.kinds() {
                assert!(
                    parley_domain::kinds::get(k).is_some(),
                    "{}: {k} is no kind",
                    r.as_str()
                );
            }
        }
    }

    /// The README and the user guide show the table the code enforces.
    #[test]
    fn the_documents_role_tables_are_the_codes() {
        let table = role_table_markdown();
        for doc in ["README.md", "docs/user-guide/sign-in.md"] {
            let path = format!("{}/../../{doc}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap();
            let start = text
                .find("<!-- roles:")
                .and_then(|i| text[i..].find('\n').map(|j| i + j + 1))
                .unwrap_or_else(|| panic!("{doc} has no generated role table"));
            let end = start + text[start..].find("<!-- /roles -->").unwrap();
            assert_eq!(
                &text[start..end],
                table,
                "{doc}'s role table is not the code's: paste `parley roles --markdown` there"
            );
        }
    }

    #[test]
    fn every_kind_a_role_may_send_exists() {
        for role in ROLES {
            for kind in role.kinds() {
                assert!(
                    parley_domain::kinds::get(kind).is_some(),
                    "{} lists unknown kind {kind}",
                    role.as_str()
                );
            }
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn passwords_are_checked_against_their_argon2_hash() {
        let user = User {
            name: "duty".into(),
            role: "duty_officer".into(),
            password_hash: hash_password("correct horse"),
            token_sha256: None,
            language: None,
        };
        assert!(user.password_hash.starts_with("$argon2id$"));
        assert!(check_password(&user, "correct horse"));
        assert!(!check_password(&user, "correct hors"));
        let broken = User {
            password_hash: "not a hash".into(),
            ..user
        };
        assert!(!check_password(&broken, "correct horse"));
    }

    #[test]
    fn a_cross_site_post_is_refused() {
        let mut h = HeaderMap::new();
        h.insert("host", "127.0.0.1:7100".parse().unwrap());
        assert!(same_origin(&h), "no Origin: a script with the token");
        h.insert("origin", "http://127.0.0.1:7100".parse().unwrap());
        assert!(same_origin(&h));
        h.insert("origin", "http://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert(
            "origin",
            "http://127.0.0.1:7100.evil.example".parse().unwrap(),
        );
        assert!(!same_origin(&h));
    }

    #[test]
    fn a_session_is_found_by_its_cookie_and_ends_on_sign_out() {
        let sessions = Sessions::default();
        let token = sessions.start("duty", Role::DutyOfficer);
        let mut h = HeaderMap::new();
        h.insert("cookie", format!("a=b; {COOKIE}={token}").parse().unwrap());
        let s = sessions.get(&h).expect("session");
        assert_eq!((s.user.as_str(), s.role), ("duty", Role::DutyOfficer));
        sessions.end(&h);
        assert!(sessions.get(&h).is_none());
        assert!(token_eq("abc", "abc") && !token_eq("abc", "abd") && !token_eq("abc", "ab"));
    }
}
