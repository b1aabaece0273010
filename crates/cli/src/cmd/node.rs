//! `parley init`, `parley serve`, `parley peer …`.

use anyhow::Context;
use parley_log::{KeyType, Timestamp};
use parley_node::NodeDir;
use parley_node::config::{CONFIG_FILE, DATABASE_FILE};
use parley_store::{Peer, SqliteStore, Store};
use serde_json::json;

use super::load_vkey;
use crate::cli::{InitArgs, NodeArgs, PeerCommand, ServeArgs};
use crate::output;

pub(crate) fn init(a: InitArgs) -> anyhow::Result<()> {
    let nd = NodeDir::init(&a.dir, &a.party, a.listen, a.public_url)?;
    let vkey = nd.key.verifier().to_string();
    if a.json.json {
        return output::json(&json!({
            "party": nd.config.party,
            "dir": nd.path,
            "listen": nd.config.listen.to_string(),
            "url": nd.config.public_url(),
            "vkey": vkey,
        }));
    }
    output::lines([
        format!(
            "created node {:?} in {}",
            nd.config.party,
            nd.path.display()
        ),
        format!(
            "  listens on {}, reachable at {}",
            nd.config.listen,
            nd.config.public_url()
        ),
        "give this verifier key to your peers (out of band):".to_string(),
        vkey,
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
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn open_store(dir: &std::path::Path) -> anyhow::Result<SqliteStore> {
    if !dir.join(CONFIG_FILE).exists() {
        anyhow::bail!(
            "{} is not a parley node directory (no {CONFIG_FILE})",
            dir.display()
        );
    }
    SqliteStore::open(&dir.join(DATABASE_FILE))
        .with_context(|| format!("opening {}", dir.join(DATABASE_FILE).display()))
}

pub(crate) fn peer(cmd: PeerCommand) -> anyhow::Result<()> {
    match cmd {
        PeerCommand::Add {
            dir,
            party,
            url,
            vkey,
        } => {
            parley_log::entry::check_identifier(&party)
                .map_err(|e| anyhow::anyhow!("--party: {e}"))?;
            let key = load_vkey(&vkey)?;
            if key.name() != party {
                anyhow::bail!(
                    "the vkey is named {:?}, not {party:?}: a party's key is named after the party",
                    key.name()
                );
            }
            if key.key_type() != KeyType::Ed25519 {
                anyhow::bail!("a party key is an Ed25519 (0x01) vkey");
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                anyhow::bail!("--url must start with http:// or https://");
            }
            let store = open_store(&dir.dir)?;
            store.add_peer(&Peer {
                party: party.clone(),
                url: url.trim_end_matches('/').to_string(),
                vkey: key.to_string(),
                added_at: Timestamp::now().unix(),
            })?;
            output::lines([format!("pinned {party} at {url}"), format!("  {key}")])
        }
        PeerCommand::List(NodeArgs { dir, json }) => {
            let peers = open_store(&dir.dir)?.peers()?;
            if json.json {
                let v: Vec<_> = peers
                    .iter()
                    .map(|p| json!({"party": p.party, "url": p.url, "vkey": p.vkey, "added_at": p.added_at}))
                    .collect();
                return output::json(&serde_json::Value::Array(v));
            }
            if peers.is_empty() {
                return output::lines(["no peers pinned; add one with `parley peer add`"]);
            }
            output::lines(
                peers
                    .iter()
                    .map(|p| format!("{:<16} {:<32} {}", p.party, p.url, p.vkey)),
            )
        }
    }
}
