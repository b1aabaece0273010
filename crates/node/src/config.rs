//! A node directory and its configuration file.
//!
//! ```text
//! DIR/parley.toml      configuration (TOML)
//! DIR/keys/ROLE.key    the party's private keys, one per statement:
//!                      log, receipt, witness, node (mode 0600)
//! DIR/party.identity   its public keys (parley-identity/v1), to hand to peers
//! DIR/api.token        the operator's bearer token for the local API (0600)
//! DIR/tokens/U.token   user U's API token (0600)
//! DIR/parley.db        SQLite database (WAL)
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use parley_log::SigningKey;
use parley_log::identity::Role;
use serde::{Deserialize, Serialize};

use crate::keyring::PartyKeys;

pub const CONFIG_FILE: &str = "parley.toml";
/// The folder of private keys, one file per role (`log.key`, …).
pub const KEYS_DIR: &str = "keys";
/// The party's public identity file.
pub const IDENTITY_FILE: &str = "party.identity";
pub const TOKEN_FILE: &str = "api.token";
/// The folder of users' API tokens (`NAME.token`, mode 0600).
pub const TOKENS_DIR: &str = "tokens";
pub const DATABASE_FILE: &str = "parley.db";

/// `parley.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// This node's party name (the key name, e.g. "nato").
    pub party: String,
    /// Address peers reach this node on (mutual TLS), e.g. "0.0.0.0:7101".
    pub listen: SocketAddr,
    /// URL peers use to reach this node (default: https://<listen>).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// The web console and the local API, for this party's own people.
    pub console: ConsoleConfig,
    #[serde(default)]
    pub federation: FederationConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub tlog: TlogConfig,
    #[serde(default, skip_serializing_if = "StorageConfig::is_embedded")]
    pub storage: StorageConfig,
    /// People who may sign in to the web console.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<User>,
    /// Set by `parley demo` only: never in a deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demo: Option<DemoConfig>,
}

/// A demo node's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {
    /// The story clock the demo's nodes share (see `clock.rs`); relative
    /// paths are in the node directory.
    pub story_clock: PathBuf,
}

/// A console user: a name, a role, and an argon2 password hash.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    /// duty_officer, diplomat, expert, signatory, auditor or administrator.
    pub role: String,
    /// PHC string (`$argon2id$…`); never the password itself.
    pub password_hash: String,
    /// SHA-256 (hex) of the user's API token, if one was issued
    /// (`parley user token`); never the token itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_sha256: Option<String>,
    /// The console's language for this user (`en`, `ru`) unless the URL or
    /// the console's language switch says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// Where the console and local API listen, and how.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// e.g. "127.0.0.1:8101". Plain HTTP is served only on a loopback
    /// address, unless `plaintext` says otherwise.
    pub listen: SocketAddr,
    /// PEM certificate chain and private key for HTTPS (any CA the
    /// browsers of this party trust); relative paths are in the node
    /// directory. The key must be owner-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_certificate: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address (only behind a
    /// TLS-terminating proxy). `parley status` warns while it is set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub plaintext: bool,
    /// The console's accent colour, so that two parties' consoles open side
    /// by side are not confused; by default one picked from the party name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent: Option<Accent>,
}

/// A console accent: quiet hues that stay readable on the dark console and
/// never look like an alarm (no red, amber or green).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Accent {
    Blue,
    Teal,
    Violet,
    Ochre,
    Slate,
    Rose,
}

impl Accent {
    pub const ALL: [Accent; 6] = [
        Accent::Blue,
        Accent::Teal,
        Accent::Violet,
        Accent::Ochre,
        Accent::Slate,
        Accent::Rose,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Accent::Blue => "blue",
            Accent::Teal => "teal",
            Accent::Violet => "violet",
            Accent::Ochre => "ochre",
            Accent::Slate => "slate",
            Accent::Rose => "rose",
        }
    }
}

/// What one client may hold on either listener.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Open connections in all, per listener.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Open connections from one client address, per listener.
    #[serde(default = "default_per_address")]
    pub connections_per_address: usize,
    /// Seconds a client has to finish its TLS handshake, and then each
    /// request's headers.
    #[serde(default = "default_header_timeout")]
    pub header_timeout_secs: u64,
    /// Seconds a request (its body and its answer) may take on any route
    /// (event streams, once open, are not cut).
    #[serde(default = "default_request_limit")]
    pub request_timeout_secs: u64,
    /// Password checks running at once (each holds ~19 MiB).
    #[serde(default = "default_password_checks")]
    pub concurrent_password_checks: usize,
    /// Failed sign-ins, per account or per client address, before a
    /// temporary lockout.
    #[serde(default = "default_failures")]
    pub sign_in_failures: u32,
    /// Seconds a lockout lasts; each further failure doubles it (at most a day).
    #[serde(default = "default_lockout")]
    pub lockout_secs: u64,
}

fn default_max_connections() -> usize {
    512
}
fn default_per_address() -> usize {
    64
}
fn default_header_timeout() -> u64 {
    10
}
fn default_request_limit() -> u64 {
    30
}
fn default_password_checks() -> usize {
    2
}
fn default_failures() -> u32 {
    5
}
fn default_lockout() -> u64 {
    60
}

impl Default for LimitsConfig {
    fn default() -> LimitsConfig {
        LimitsConfig {
            max_connections: default_max_connections(),
            connections_per_address: default_per_address(),
            header_timeout_secs: default_header_timeout(),
            request_timeout_secs: default_request_limit(),
            concurrent_password_checks: default_password_checks(),
            sign_in_failures: default_failures(),
            lockout_secs: default_lockout(),
        }
    }
}

/// Where the node keeps its record: the embedded SQLite database in the
/// node directory (the default), or a PostgreSQL database that an active
/// node and its standby share.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// A PostgreSQL connection string (`postgres://user:password@host/db`
    /// or `host=… user=… dbname=…`). Absent: `parley.db` in the directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl StorageConfig {
    pub fn is_embedded(&self) -> bool {
        self.url.is_none()
    }

    /// Opens the store this configuration names, for the node directory
    /// `dir`: the one place that knows which backends exist.
    ///
    /// # Errors
    /// The database cannot be opened or reached, is of another record
    /// format, or does not run with the durability parley needs.
    pub fn open(
        &self,
        dir: &Path,
    ) -> Result<std::sync::Arc<dyn parley_store::Store>, parley_store::StoreError> {
        Ok(match &self.url {
            Some(url) => std::sync::Arc::new(parley_store::PostgresStore::open(url)?),
            None => std::sync::Arc::new(parley_store::SqliteStore::open(&dir.join(DATABASE_FILE))?),
        })
    }

    /// Where the record is, for people: the file, or the server and
    /// database (never the password).
    pub fn describe(&self, dir: &Path) -> String {
        match &self.url {
            None => dir.join(DATABASE_FILE).display().to_string(),
            Some(url) => parley_store::PostgresStore::describe(url),
        }
    }
}

/// Who may read the C2SP tlog-tiles API (`/tlog/…`): checkpoints and tiles
/// tell which channels exist, how much each party sent and when it was
/// cosigned. By default only the channel's members and witnesses, over
/// mutual TLS.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlogConfig {
    /// Open every channel's tiles to anyone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public: bool,
    /// Open these channels' tiles to anyone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_channels: Vec<String>,
}

impl TlogConfig {
    pub fn is_public(&self, channel: &str) -> bool {
        self.public || self.public_channels.iter().any(|c| c == channel)
    }
}

/// Federation timing and limits.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// Seconds between signed link tests to each peer.
    #[serde(default = "default_link_test")]
    pub link_test_interval_secs: u64,
    /// First retry delay after a failed delivery, in milliseconds.
    #[serde(default = "default_retry_initial")]
    pub retry_initial_ms: u64,
    /// Longest retry delay, in milliseconds.
    #[serde(default = "default_retry_max")]
    pub retry_max_ms: u64,
    /// Most entries in one push.
    #[serde(default = "default_batch")]
    pub max_batch_entries: u64,
    /// Seconds to wait for a peer's answer.
    #[serde(default = "default_timeout")]
    pub request_timeout_secs: u64,
    /// Seconds after which an unchanged checkpoint is submitted to the
    /// witnesses again, for a fresh cosignature: "as of T the feed was
    /// still size N", which proofs of silence rest on.
    #[serde(default = "default_witness_refresh")]
    pub witness_refresh_secs: u64,
    /// Seconds an entry, checkpoint, cosignature or signed request may be
    /// dated ahead of this node's clock (or a request behind it).
    #[serde(default = "default_skew")]
    pub max_clock_skew_secs: u64,
    /// Speak plain HTTP to peers and accept it from them (only behind a
    /// TLS-terminating proxy). `parley status` warns while it is set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub plaintext: bool,
    /// A PEM certificate chain for the node key, issued by the party's own
    /// CA; by default the node makes a self-signed one. Peers check only
    /// that it holds the node key they pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_certificate: Option<PathBuf>,
}

fn default_link_test() -> u64 {
    60
}
fn default_retry_initial() -> u64 {
    500
}
fn default_retry_max() -> u64 {
    60_000
}
fn default_batch() -> u64 {
    256
}
fn default_timeout() -> u64 {
    20
}
fn default_witness_refresh() -> u64 {
    3600
}
fn default_skew() -> u64 {
    300
}

impl FederationConfig {
    /// `max_clock_skew_secs` as the signed seconds times are compared in
    /// (at least one).
    pub fn clock_skew(&self) -> i64 {
        i64::try_from(self.max_clock_skew_secs)
            .unwrap_or(i64::MAX / 4)
            .max(1)
    }
}

impl Default for FederationConfig {
    fn default() -> FederationConfig {
        FederationConfig {
            link_test_interval_secs: default_link_test(),
            retry_initial_ms: default_retry_initial(),
            retry_max_ms: default_retry_max(),
            max_batch_entries: default_batch(),
            request_timeout_secs: default_timeout(),
            witness_refresh_secs: default_witness_refresh(),
            max_clock_skew_secs: default_skew(),
            plaintext: false,
            tls_certificate: None,
        }
    }
}

impl Config {
    pub fn public_url(&self) -> String {
        let scheme = if self.federation.plaintext {
            "http"
        } else {
            "https"
        };
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{}", self.listen))
    }

    /// The console's URL, for people and for the CLI's calls to the local API.
    pub fn console_url(&self) -> String {
        let mut addr = self.console.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let scheme = if self.console.tls_certificate.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{addr}")
    }

    /// What in this configuration weakens the defaults, for `status`.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.federation.plaintext {
            out.push(
                "federation.plaintext is set: peers are reached and accepted over plain HTTP; \
                 anyone on the path reads and alters traffic unless a TLS proxy carries it"
                    .to_string(),
            );
        }
        if self.console.plaintext && !self.console.listen.ip().is_loopback() {
            out.push(format!(
                "console.plaintext is set: the console and API answer plain HTTP on {}; \
                 passwords and tokens cross the network in clear unless a TLS proxy carries them",
                self.console.listen
            ));
        }
        if self.tlog.public {
            out.push(
                "tlog.public is set: anyone may read every channel's checkpoints and tiles".into(),
            );
        }
        if let Some(demo) = &self.demo {
            out.push(format!(
                "a demo node: it runs on the story clock in {}, not on real time alone",
                demo.story_clock.display()
            ));
        }
        out
    }

    /// Refuses a console that would serve plain HTTP beyond this host.
    ///
    /// # Errors
    /// Why the console configuration is unsafe.
    pub fn check_console(&self) -> Result<(), String> {
        let c = &self.console;
        if c.tls_certificate.is_some() != c.tls_key.is_some() {
            return Err("console: tls_certificate and tls_key go together".into());
        }
        if c.tls_certificate.is_none() && !c.listen.ip().is_loopback() && !c.plaintext {
            return Err(format!(
                "console: listening on {} (beyond this host) needs tls_certificate and tls_key, \
                 or plaintext = true behind a TLS-terminating proxy",
                c.listen
            ));
        }
        if c.listen == self.listen {
            return Err("console.listen must differ from listen (the peers' address)".into());
        }
        Ok(())
    }
}

/// What is wrong with a node directory. Each has its own exit code.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    #[error("{} is not a parley node directory (no {CONFIG_FILE}); create one with `parley init`", .0.display())]
    NotANode(PathBuf),
    #[error("{}: {why}", path.display())]
    BadConfig { path: PathBuf, why: String },
    #[error("{}: {why}", path.display())]
    BadKey { path: PathBuf, why: String },
    #[error("{} is readable by other users (mode {mode:o}): it holds message texts or secrets; run chmod 600 on it", path.display())]
    Exposed { path: PathBuf, mode: u32 },
    #[error("{} already holds a parley node; choose another directory", .0.display())]
    Exists(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl DirError {
    /// Exit codes for `parley serve`: 3 directory or configuration, 4 key.
    pub fn exit_code(&self) -> u8 {
        match self {
            DirError::BadKey { .. } | DirError::Exposed { .. } => 4,
            _ => 3,
        }
    }
}

/// A node directory, loaded and checked.
#[derive(Clone, Debug)]
pub struct NodeDir {
    pub path: PathBuf,
    pub config: Config,
    pub keys: PartyKeys,
    /// The party's public keys with their history (`party.identity`).
    pub identity: parley_log::Identity,
    pub token: String,
}

/// The private key file of a role.
pub fn key_path(dir: &Path, role: Role) -> PathBuf {
    dir.join(KEYS_DIR).join(format!("{role}.key"))
}

/// Reads one private key, refusing a file others can read and a key not
/// named for its role.
fn load_key(dir: &Path, party: &str, role: Role) -> Result<SigningKey, DirError> {
    let path = key_path(dir, role);
    let bad = |why: String| DirError::BadKey {
        path: path.clone(),
        why,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .map(|m| m.permissions().mode())
            .unwrap_or(0);
        if mode & 0o077 != 0 {
            return Err(bad(format!(
                "the private key is readable by others (mode {:o}); run chmod 600 on it",
                mode & 0o777
            )));
        }
    }
    let key = SigningKey::parse(text.trim()).map_err(|e| bad(e.to_string()))?;
    let want = role.key_name(party);
    if key.name() != want {
        return Err(bad(format!(
            "the {role} key is named {:?} but must be {want:?} for party {party:?}",
            key.name()
        )));
    }
    Ok(key)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DirError + '_ {
    move |source| DirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl NodeDir {
    pub fn config_path(dir: &Path) -> PathBuf {
        dir.join(CONFIG_FILE)
    }

    pub fn database_path(&self) -> PathBuf {
        self.path.join(DATABASE_FILE)
    }

    /// Opens this node's store, as `[storage]` says.
    ///
    /// # Errors
    /// As [`StorageConfig::open`].
    pub fn open_store(
        &self,
    ) -> Result<std::sync::Arc<dyn parley_store::Store>, parley_store::StoreError> {
        self.config.storage.open(&self.path)
    }

    /// Loads and checks everything `parley serve` needs.
    pub fn load(dir: &Path) -> Result<NodeDir, DirError> {
        let cfg_path = NodeDir::config_path(dir);
        if !cfg_path.exists() {
            return Err(DirError::NotANode(dir.to_path_buf()));
        }
        let text = std::fs::read_to_string(&cfg_path).map_err(io(&cfg_path))?;
        let config: Config = toml::from_str(&text).map_err(|e| DirError::BadConfig {
            path: cfg_path.clone(),
            why: e.to_string(),
        })?;
        parley_log::entry::check_party(&config.party).map_err(|why| DirError::BadConfig {
            path: cfg_path.clone(),
            why: format!("party: {why}"),
        })?;
        config.check_console().map_err(|why| DirError::BadConfig {
            path: cfg_path.clone(),
            why,
        })?;
        for file in [cfg_path.clone(), dir.join(TOKEN_FILE)] {
            check_owner_only(&file)?;
        }
        if let Some(key) = &config.console.tls_key {
            check_owner_only(&dir.join(key))?;
        }
        let db = dir.join(DATABASE_FILE);
        for file in [db.clone(), wal_path(&db), db.with_extension("db-shm")] {
            if file.exists() {
                check_owner_only(&file)?;
            }
        }
        let keys = PartyKeys {
            log: load_key(dir, &config.party, Role::Log)?,
            receipt: load_key(dir, &config.party, Role::Receipt)?,
            witness: load_key(dir, &config.party, Role::Witness)?,
            node: load_key(dir, &config.party, Role::Node)?,
        };
        let identity_path = dir.join(IDENTITY_FILE);
        let identity = std::fs::read_to_string(&identity_path)
            .map_err(|e| e.to_string())
            .and_then(|t| parley_log::Identity::parse(&t).map_err(|e| e.to_string()))
            .and_then(|id| {
                crate::keyring::Keyring::with_history(id.clone(), keys.clone()).map(|_| id)
            })
            .map_err(|why| DirError::BadKey {
                path: identity_path.clone(),
                why,
            })?;
        if identity.party != config.party {
            return Err(DirError::BadKey {
                path: identity_path,
                why: format!(
                    "the identity is {:?}'s, not {:?}'s",
                    identity.party, config.party
                ),
            });
        }
        let token_path = dir.join(TOKEN_FILE);
        let token = std::fs::read_to_string(&token_path)
            .map_err(io(&token_path))?
            .trim()
            .to_string();
        if token.len() < 32 {
            return Err(DirError::BadConfig {
                path: token_path,
                why: "the API token is too short (at least 32 characters)".into(),
            });
        }
        Ok(NodeDir {
            path: dir.to_path_buf(),
            config,
            keys,
            identity,
            token,
        })
    }

    /// The keyring of this node's own keys, with their history.
    pub fn keyring(&self) -> crate::keyring::Keyring {
        crate::keyring::Keyring::with_history(self.identity.clone(), self.keys.clone())
            .expect("checked when the directory was loaded")
    }

    /// Creates a node directory: configuration, key (0600), token (0600)
    /// and an empty database. Refuses a directory that already holds a node.
    pub fn init(
        dir: &Path,
        party: &str,
        listen: SocketAddr,
        console: SocketAddr,
        public_url: Option<String>,
        storage: StorageConfig,
    ) -> Result<NodeDir, DirError> {
        let bad = |why: String| DirError::BadConfig {
            path: dir.to_path_buf(),
            why,
        };
        parley_log::entry::check_party(party).map_err(|w| bad(format!("party: {w}")))?;
        if NodeDir::config_path(dir).exists() || dir.join(KEYS_DIR).exists() {
            return Err(DirError::Exists(dir.to_path_buf()));
        }
        std::fs::create_dir_all(dir.join(KEYS_DIR)).map_err(io(dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let keys_dir = dir.join(KEYS_DIR);
            std::fs::set_permissions(&keys_dir, std::fs::Permissions::from_mode(0o700))
                .map_err(io(&keys_dir))?;
        }
        let keys = PartyKeys::generate(party).map_err(|e| bad(e.to_string()))?;
        for role in Role::ALL {
            write_private(
                &key_path(dir, role),
                &format!("{}\n", keys.get(role).to_private_string()),
            )?;
        }
        let identity = crate::keyring::Keyring::new(party, keys.clone())
            .map_err(|e| bad(e.to_string()))?
            .identity();
        std::fs::write(dir.join(IDENTITY_FILE), identity.to_text()).map_err(io(dir))?;
        let token = random_token();
        write_private(&dir.join(TOKEN_FILE), &format!("{token}\n"))?;
        let config = Config {
            party: party.to_string(),
            listen,
            public_url,
            console: ConsoleConfig {
                listen: console,
                tls_certificate: None,
                tls_key: None,
                plaintext: false,
                accent: None,
            },
            federation: FederationConfig::default(),
            limits: LimitsConfig::default(),
            tlog: TlogConfig::default(),
            storage,
            users: Vec::new(),
            demo: None,
        };
        config.check_console().map_err(bad)?;
        write_config(dir, &config)?;
        let nd = NodeDir {
            path: dir.to_path_buf(),
            config,
            keys,
            identity,
            token,
        };
        // The store creates the file owner-only (and so its WAL).
        nd.open_store()
            .map_err(|e| bad(format!("creating the database: {e}")))?;
        Ok(nd)
    }
}

/// Opens the store of the node directory at `dir` without loading its keys
/// (for commands that only read or pin, such as `peer add` and `backup`).
///
/// # Errors
/// `parley.toml` cannot be read or parsed, or as [`StorageConfig::open`].
pub fn open_store_at(dir: &Path) -> anyhow::Result<std::sync::Arc<dyn parley_store::Store>> {
    Ok(storage_at(dir)?.open(dir)?)
}

/// The `[storage]` section of the node directory at `dir`.
///
/// # Errors
/// `parley.toml` cannot be read or parsed.
pub fn storage_at(dir: &Path) -> Result<StorageConfig, DirError> {
    let path = NodeDir::config_path(dir);
    if !path.exists() {
        return Err(DirError::NotANode(dir.to_path_buf()));
    }
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let config: Config = toml::from_str(&text).map_err(|e| DirError::BadConfig {
        path: path.clone(),
        why: e.to_string(),
    })?;
    Ok(config.storage)
}

/// Writes `parley.toml` (atomically: a temporary file, then a rename).
pub fn write_config(dir: &Path, config: &Config) -> Result<(), DirError> {
    let path = NodeDir::config_path(dir);
    let text = toml::to_string_pretty(config).map_err(|e| DirError::BadConfig {
        path: path.clone(),
        why: e.to_string(),
    })?;
    let header = "# parley node configuration: see the configuration reference in README.md\n# and docs/operator.md. Users are added with `parley user add`.\n\n";
    // Owner-only, because it holds the users' password hashes.
    replace_private(&path, format!("{header}{text}").as_bytes())
}

/// Replaces `path` with `contents`, owner-only (0600): written whole to a
/// temporary file beside it, synced, then renamed, so a reader (a running
/// node) never sees half a file.
///
/// # Errors
/// The file cannot be written or renamed.
pub fn replace_private(path: &Path, contents: &[u8]) -> Result<(), DirError> {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    let tmp = path.with_file_name(format!(".{}", name.to_string_lossy()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(io(&tmp))?;
    std::io::Write::write_all(&mut file, contents).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Reads `parley.toml` alone (no key or token), e.g. to reload users.
pub fn read_config(dir: &Path) -> Result<Config, DirError> {
    let path = NodeDir::config_path(dir);
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    toml::from_str(&text).map_err(|e| DirError::BadConfig {
        path,
        why: e.to_string(),
    })
}

/// Where a user's API token is kept (`parley user token`).
pub fn user_token_path(dir: &Path, user: &str) -> PathBuf {
    dir.join(TOKENS_DIR).join(format!("{user}.token"))
}

/// The write-ahead log beside a SQLite database.
pub fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Refuses a file that holds content or secrets and that others can read:
/// any local user could copy message texts or the API token from it.
///
/// # Errors
/// [`DirError::Exposed`] with the command that fixes it.
pub fn check_owner_only(path: &Path) -> Result<(), DirError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(io(path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(DirError::Exposed {
                path: path.to_path_buf(),
                mode: mode & 0o777,
            });
        }
    }
    Ok(())
}

/// 32 random bytes as hex.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the OS random source is available");
    parley_log::hash::hex_encode(&b)
}

fn write_private(path: &Path, contents: &str) -> Result<(), DirError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(contents.as_bytes()).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}
