//! `parley init`, `parley serve`, `parley peer …`.

use anyhow::Context;
use parley_log::Timestamp;
use parley_node::NodeDir;
use parley_node::config::{CONFIG_FILE, DATABASE_FILE};
use parley_store::{Peer, Store};
use serde_json::json;

use super::load_identity;
use crate::cli::{
    IdentityCommand, InitArgs, NodeArgs, PeerCommand, ServeArgs, UserCommand, WitnessCommand,
};
use crate::output;

pub(crate) fn init(a: InitArgs) -> anyhow::Result<()> {
    let console = match a.console {
        Some(c) => c,
        None => {
            let port = a.listen.port().checked_add(1000).with_context(|| {
                format!(
                    "port {} + 1000 is not a port: give --console",
                    a.listen.port()
                )
            })?;
            std::net::SocketAddr::from(([127, 0, 0, 1], port))
        }
    };
    let storage = parley_node::config::StorageConfig {
        url: a.database.clone(),
    };
    let nd = NodeDir::init(&a.dir, &a.party, a.listen, console, a.public_url, storage)?;
    let identity_path = nd.path.join(parley_node::config::IDENTITY_FILE);
    let identity = std::fs::read_to_string(&identity_path)?;
    if a.json.json {
        return output::json(&json!({
            "party": nd.config.party,
            "dir": nd.path,
            "listen": nd.config.listen.to_string(),
            "url": nd.config.public_url(),
            "console": nd.config.console_url(),
            "identity": identity,
            "identity_file": identity_path,
            "storage": nd.config.storage.describe(&nd.path),
        }));
    }
    output::lines([
        format!(
            "created node {:?} in {}",
            nd.config.party,
            nd.path.display()
        ),
        format!(
            "  peers reach it at {} (mutual TLS, listening on {})",
            nd.config.public_url(),
            nd.config.listen,
        ),
        format!("  console and local API: {}", nd.config.console_url()),
        format!("  record kept in {}", nd.config.storage.describe(&nd.path)),
        format!(
            "give {} to your peers (out of band); they pin it with `parley peer add --identity`:",
            identity_path.display()
        ),
        identity.trim_end().to_string(),
    ])
}

pub(crate) fn serve(a: ServeArgs) -> anyhow::Result<()> {
    init_logging(a.log_json);
    let code = match NodeDir::load(&a.dir.dir) {
        Err(e) => {
            eprintln!("parley: {e}");
            e.exit_code()
        }
        Ok(nd) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            match rt.block_on(parley_node::serve(nd, None)) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("parley: {e}");
                    if let parley_node::ServeError::Listen { addr, .. } = &e
                        && let Some(who) = super::ports::holder(*addr)
                    {
                        eprintln!("parley: port {} is held by {who}", addr.port());
                    }
                    e.exit_code()
                }
            }
        }
    };
    if code == 0 {
        return Ok(());
    }
    std::process::exit(i32::from(code));
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,tower_http=warn,hyper=warn,reqwest=warn")
    });
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        // When the log's disk is full, a line is lost; reporting that with
        // eprintln! would panic the task that logged (it fails the same way).
        .log_internal_errors(false)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn open_store(dir: &std::path::Path) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    if !dir.join(CONFIG_FILE).exists() {
        anyhow::bail!(
            "{} is not a parley node directory (no {CONFIG_FILE})",
            dir.display()
        );
    }
    let storage = parley_node::config::storage_at(dir)?;
    storage
        .open(dir)
        .with_context(|| format!("opening {}", storage.describe(dir)))
}

/// A peer's address: https:// (plain http:// only behind a TLS proxy), one
/// URL (no spaces or commas: they separate a party's addresses).
fn check_peer_url(url: &str, plaintext: bool) -> anyhow::Result<()> {
    if url.starts_with("http://") && !plaintext {
        anyhow::bail!(
            "--url {url}: peers are reached over mutual TLS (https://); plain http:// \
             needs `plaintext = true` under [federation] in parley.toml (only behind a \
             TLS-terminating proxy)"
        );
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        anyhow::bail!("--url must start with https:// (or http:// with federation.plaintext)");
    }
    if url.contains(|c: char| c == ',' || c.is_whitespace()) {
        anyhow::bail!(
            "--url {url:?} holds a space or comma: give each of a party's addresses with its own --url"
        );
    }
    Ok(())
}

pub(crate) fn peer(cmd: PeerCommand) -> anyhow::Result<()> {
    match cmd {
        PeerCommand::Add {
            dir,
            identity,
            url,
            party,
            replace,
        } => {
            let id = load_identity(&identity)?;
            if let Some(p) = &party
                && *p != id.party
            {
                anyhow::bail!(
                    "{} is the identity of {:?}, not {p:?}",
                    identity.display(),
                    id.party
                );
            }
            let own = parley_node::config::read_config(&dir.dir)?;
            if id.party == own.party {
                anyhow::bail!("{} is this node's own identity", identity.display());
            }
            parley_log::entry::check_party(&id.party)
                .map_err(|e| anyhow::anyhow!("{}: {e}", identity.display()))?;
            for url in &url {
                check_peer_url(url, own.federation.plaintext)?;
            }
            let url = url
                .iter()
                .map(|u| u.trim_end_matches('/'))
                .collect::<Vec<_>>()
                .join(" ");
            let store = open_store(&dir.dir)?;
            let pinned = store.peers()?.into_iter().find(|p| p.party == id.party);
            match pinned {
                Some(old) if replace && old.identity != id.to_text() => {
                    if !store.replace_peer_identity(
                        &id.party,
                        &old.identity,
                        &id.to_text(),
                        None,
                    )? {
                        anyhow::bail!(
                            "the pinned identity of {} changed meanwhile; run again",
                            id.party
                        );
                    }
                    store.add_peer(&Peer {
                        party: id.party.clone(),
                        url: url.clone(),
                        identity: id.to_text(),
                        added_at: old.added_at,
                    })?;
                }
                _ => store.add_peer(&Peer {
                    party: id.party.clone(),
                    url: url.clone(),
                    identity: id.to_text(),
                    added_at: Timestamp::now().unix(),
                })?,
            }
            let mut out = vec![format!("pinned {} at {url}", id.party)];
            out.extend(id.keys().iter().map(|(role, k)| format!("  {role:<8} {k}")));
            output::lines(out)
        }
        PeerCommand::List(NodeArgs { dir, json }) => {
            let peers = open_store(&dir.dir)?.peers()?;
            if json.json {
                let v: Vec<_> = peers
                    .iter()
                    .map(|p| json!({"party": p.party, "url": p.url, "identity": p.identity, "added_at": p.added_at}))
                    .collect();
                return output::json(&serde_json::Value::Array(v));
            }
            if peers.is_empty() {
                return output::lines(["no peers pinned; add one with `parley peer add`"]);
            }
            output::lines(peers.iter().map(|p| {
                let log = parley_log::Identity::parse(&p.identity)
                    .ok()
                    .and_then(|i| i.current(parley_log::Role::Log).map(ToString::to_string))
                    .unwrap_or_else(|| "(unreadable identity)".into());
                format!("{:<16} {:<32} {}", p.party, p.url, log)
            }))
        }
    }
}

pub(crate) fn witness(cmd: WitnessCommand) -> anyhow::Result<()> {
    match cmd {
        WitnessCommand::Add { dir, origin, party } => {
            parley_log::keys::check_key_name(&origin)
                .map_err(|e| anyhow::anyhow!("--origin: {e}"))?;
            let store = open_store(&dir.dir)?;
            let Some(peer) = store.peers()?.into_iter().find(|p| p.party == party) else {
                anyhow::bail!(
                    "{party:?} is not a pinned peer: pin it first with `parley peer add`"
                );
            };
            let id = parley_log::Identity::parse(&peer.identity)?;
            let added = store.add_witness_log(&parley_store::WitnessLog {
                origin: origin.clone(),
                party: party.clone(),
                source: "operator".into(),
            })?;
            output::lines([
                if added {
                    format!("witnessing {origin}, signed by {party}")
                } else {
                    format!("already witnessing {origin}")
                },
                format!("  log key {}", id.log_key_for(&origin)),
            ])
        }
        WitnessCommand::List(NodeArgs { dir, json }) => {
            let store = open_store(&dir.dir)?;
            let logs = store.witness_logs()?;
            let sizes: std::collections::HashMap<String, u64> = store
                .witnessed_all()?
                .into_iter()
                .map(|r| (r.origin, r.size))
                .collect();
            if json.json {
                return output::json(&serde_json::Value::Array(
                    logs.iter()
                        .map(|l| json!({"origin": l.origin, "party": l.party, "source": l.source, "cosigned_size": sizes.get(&l.origin)}))
                        .collect(),
                ));
            }
            if logs.is_empty() {
                return output::lines(["this node witnesses no log"]);
            }
            output::lines(logs.iter().map(|l| {
                format!(
                    "{:<32} {:<12} cosigned up to {:<8} ({})",
                    l.origin,
                    l.party,
                    sizes.get(&l.origin).copied().unwrap_or(0),
                    l.source
                )
            }))
        }
    }
}

pub(crate) fn identity(cmd: IdentityCommand) -> anyhow::Result<()> {
    match cmd {
        IdentityCommand::Export(NodeArgs { dir, json }) => {
            let nd = NodeDir::load(&dir.dir)?;
            let id = nd.identity.clone();
            if json.json {
                return output::json(&json!({
                    "party": id.party,
                    "identity": id.to_text(),
                    "keys": id.keys().iter().map(|(r, k)| json!({"role": r.as_str(), "vkey": k.to_string()})).collect::<Vec<_>>(),
                }));
            }
            print!("{}", id.to_text());
            Ok(())
        }
        IdentityCommand::Rotate { dir, role, json } => {
            let api = super::api::Api::open(&dir.dir)?;
            let r = api
                .post("/identity/rotate", &json!({"role": role}))
                .map_err(|e| super::api::report(json.json, e))?;
            if json.json {
                return output::json(&r);
            }
            output::lines([
                format!("rotated the {role} key; the new key:"),
                format!("  {}", r["key"].as_str().unwrap_or("")),
                "the rotation statement (signed by the old and the new key) goes to every peer; the identity file now lists both keys:".to_string(),
                r["identity"].as_str().unwrap_or("").trim_end().to_string(),
            ])
        }
        IdentityCommand::LogKey { identity, origin } => {
            let id = load_identity(&identity)?;
            parley_log::keys::check_key_name(&origin)
                .map_err(|e| anyhow::anyhow!("--origin: {e}"))?;
            output::lines([id.log_key_for(&origin).to_string()])
        }
    }
}

pub(crate) fn user(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            dir,
            name,
            role,
            password,
            token,
            language,
        } => {
            let mut config = parley_node::config::read_config(&dir.dir)?;
            let password = match password {
                Some(p) => p,
                None => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("reading the password from stdin")?;
                    line.trim_end_matches(['\n', '\r']).to_string()
                }
            };
            if password.chars().count() < 8 {
                anyhow::bail!("the password must have at least 8 characters");
            }
            if name.is_empty() || name.contains(char::is_whitespace) {
                anyhow::bail!("--name must be non-empty, without spaces");
            }
            if name == parley_node::actor::OPERATOR {
                anyhow::bail!(
                    "{name:?} is the node operator's (the holder of api.token); choose another name"
                );
            }
            let user = parley_node::config::User {
                name: name.clone(),
                role: role.clone(),
                password_hash: parley_node::console::auth::hash_password(&password),
                token_sha256: None,
                language,
            };
            config.users.retain(|u| u.name != name);
            config.users.push(user);
            parley_node::config::write_config(&dir.dir, &config)?;
            record_local(&dir.dir, "user-add", &format!("{name} ({role})"));
            let mut out = vec![format!(
                "console user {name} ({role}) saved in {}",
                dir.dir.join(CONFIG_FILE).display()
            )];
            if token {
                out.push(issue_token(&dir.dir, &name)?);
            }
            output::lines(out)
        }
        UserCommand::Token { dir, name } => output::lines([issue_token(&dir.dir, &name)?]),
        UserCommand::Remove { dir, name } => {
            let mut config = parley_node::config::read_config(&dir.dir)?;
            let before = config.users.len();
            config.users.retain(|u| u.name != name);
            if config.users.len() == before {
                anyhow::bail!(
                    "there is no console user {name:?} in {}",
                    dir.dir.join(CONFIG_FILE).display()
                );
            }
            parley_node::config::write_config(&dir.dir, &config)?;
            let _ = std::fs::remove_file(parley_node::config::user_token_path(&dir.dir, &name));
            record_local(&dir.dir, "user-remove", &name);
            output::lines([format!("console user {name} removed")])
        }
        UserCommand::List(NodeArgs { dir, json }) => {
            let config = parley_node::config::read_config(&dir.dir)?;
            if json.json {
                let v: Vec<_> = config
                    .users
                    .iter()
                    .map(|u| json!({"name": u.name, "role": u.role}))
                    .collect();
                return output::json(&serde_json::Value::Array(v));
            }
            if config.users.is_empty() {
                return output::lines(["no console users; add one with `parley user add`"]);
            }
            output::lines(
                config
                    .users
                    .iter()
                    .map(|u| format!("{:<16} {}", u.name, u.role)),
            )
        }
    }
}

/// Issues a fresh API token for a user: the token in DIR/tokens (0600),
/// its SHA-256 in parley.toml.
fn issue_token(dir: &std::path::Path, name: &str) -> anyhow::Result<String> {
    let mut config = parley_node::config::read_config(dir)?;
    let user = config
        .users
        .iter_mut()
        .find(|u| u.name == name)
        .with_context(|| format!("there is no user {name:?}; add one with `parley user add`"))?;
    let token = parley_node::config::random_token();
    user.token_sha256 = Some(parley_log::hash::sha256_hex(token.as_bytes()));
    let folder = dir.join(parley_node::config::TOKENS_DIR);
    std::fs::create_dir_all(&folder)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700))?;
    }
    let path = parley_node::config::user_token_path(dir, name);
    parley_node::config::replace_private(&path, format!("{token}\n").as_bytes())?;
    parley_node::config::write_config(dir, &config)?;
    record_local(dir, "user-token", name);
    Ok(format!(
        "API token for {name} written to {} (act as them with `parley --as {name} …`)",
        path.display()
    ))
}

/// Records a change made on the host (users, tokens) in the action log.
fn record_local(dir: &std::path::Path, action: &str, target: &str) {
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let rec = parley_store::ActionRecord {
        id: 0,
        time: Timestamp::now().unix(),
        user: format!("local:{who}"),
        role: "host".into(),
        client: "local".into(),
        action: action.into(),
        target: target.into(),
        entry: None,
        outcome: "ok".into(),
    };
    if let Err(e) = open_store(dir).and_then(|s| Ok(s.record_action(&rec)?)) {
        eprintln!("parley: warning: could not record {action} in the action log: {e}");
    }
}

/// `parley audit-log`: the action log, read from the database.
pub(crate) fn audit_log(a: crate::cli::AuditLogArgs) -> anyhow::Result<()> {
    let store = open_store(&a.dir.dir)?;
    let rows: Vec<_> = store
        .actions(a.after, a.limit)?
        .into_iter()
        .filter(|r| a.user.as_ref().is_none_or(|u| *u == r.user))
        .collect();
    if a.json.json {
        return output::json(&serde_json::Value::Array(
            rows.iter()
                .map(|r| {
                    json!({"id": r.id, "time": Timestamp::from_unix(r.time).map(|t| t.to_string()), "user": r.user,
                        "role": r.role, "client": r.client, "action": r.action, "target": r.target,
                        "entry": r.entry, "outcome": r.outcome})
                })
                .collect(),
        ));
    }
    if rows.is_empty() {
        return output::lines(["no actions recorded"]);
    }
    output::lines(rows.iter().map(|r| {
        format!(
            "#{:<5} {} {:<14} {:<13} {:<22} {:<28} {:<18} {} {}",
            r.id,
            Timestamp::from_unix(r.time).map_or_else(|| r.time.to_string(), |t| t.to_string()),
            r.user,
            r.role,
            r.client,
            r.action,
            r.target,
            r.entry.as_deref().unwrap_or("-"),
            r.outcome
        )
    }))
}

pub(crate) fn backup(a: crate::cli::BackupArgs) -> anyhow::Result<()> {
    let dir = &a.dir.dir;
    if a.out.exists() {
        anyhow::bail!("{} exists; a backup never overwrites", a.out.display());
    }
    let store = open_store(dir)?;
    let storage = parley_node::config::storage_at(dir)?;
    store
        .snapshot_to(&a.out)
        .with_context(|| format!("writing {}", a.out.display()))?;
    // What the copy holds, read back from the copy where it opens as a
    // store; a PostgreSQL dump is checked by pg_restore and counted on the
    // database (the dump is that database as of one instant).
    let (feeds, restore) = if storage.is_embedded() {
        let copy = parley_store::SqliteStore::open(&a.out)
            .with_context(|| format!("checking {}", a.out.display()))?;
        (
            parley_store::Store::feeds(&copy)?,
            format!("restore: copy it to {DATABASE_FILE} in a new node directory"),
        )
    } else {
        let listed = std::process::Command::new("pg_restore")
            .arg("--list")
            .arg(&a.out)
            .output()
            .context("running pg_restore (Debian package postgresql-client) to check the dump")?;
        if !listed.status.success() {
            anyhow::bail!(
                "pg_restore cannot read {}: {}",
                a.out.display(),
                String::from_utf8_lossy(&listed.stderr).trim()
            );
        }
        (
            store.feeds()?,
            format!(
                "restore: createdb NEW && pg_restore --no-owner --dbname NEW {}, then set [storage] url",
                a.out.display()
            ),
        )
    };
    let entries: u64 = feeds.iter().map(|(_, head)| head.size).sum();
    let bytes = std::fs::metadata(&a.out)?.len();
    if a.json.json {
        return output::json(&json!({
            "out": a.out, "bytes": bytes, "feeds": feeds.len(), "entries": entries,
            "format": if storage.is_embedded() { "sqlite" } else { "pg_dump" },
        }));
    }
    output::lines([
        format!("backup written to {} ({bytes} bytes)", a.out.display()),
        format!(
            "  {}, {}",
            output::count(feeds.len() as u64, "feed", "feeds"),
            output::count(entries, "entry", "entries")
        ),
        format!("  {restore}"),
        "  the keys are not in it: keep the keys' own copy offline".to_string(),
    ])
}

pub(crate) fn audit(a: crate::cli::AuditArgs) -> anyhow::Result<()> {
    use parley_node::audit::{AuditKeys, audit_all};
    let dir = NodeDir::load(&a.dir.dir)?;
    let store = dir
        .open_store()
        .with_context(|| format!("opening {}", dir.config.storage.describe(&dir.path)))?;
    let started = std::time::Instant::now();
    let own = dir.identity.clone();
    let keys = AuditKeys::of_node(store.as_ref(), own)?;
    let feeds = match audit_all(store.as_ref(), &keys) {
        Ok(f) => f,
        Err(e) => return Err(output::failure(a.json.json, format!("audit failed: {e}"))),
    };
    let secs = started.elapsed().as_secs_f64();
    let total = |f: fn(&parley_node::audit::FeedAudit) -> u64| feeds.iter().map(f).sum::<u64>();
    let (entries, tiles, checkpoints, cosignatures) = (
        total(|f| f.entries),
        total(|f| f.tiles),
        total(|f| f.checkpoints),
        total(|f| f.cosignatures),
    );
    if a.json.json {
        return output::json(&json!({
            "ok": true, "feeds": feeds, "entries": entries, "tiles": tiles,
            "checkpoints": checkpoints, "cosignatures": cosignatures, "seconds": secs,
        }));
    }
    let mut lines = vec![format!(
        "audit passed: {}, {}, {}, {}, {} in {secs:.2} s",
        output::count(feeds.len() as u64, "feed", "feeds"),
        output::count(entries, "entry", "entries"),
        output::count(tiles, "tile", "tiles"),
        output::count(checkpoints, "checkpoint", "checkpoints"),
        output::count(cosignatures, "cosignature", "cosignatures"),
    )];
    lines.extend(feeds.iter().map(|f| {
        format!(
            "  {}/{}: {}, root {}",
            f.channel,
            f.author,
            output::count(f.entries, "entry", "entries"),
            f.root
        )
    }));
    output::lines(lines)
}
