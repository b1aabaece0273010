//! One module per command family.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use parley_log::VerifierKey;

use crate::cli::{Cli, Command};

mod api;
mod bench;
mod channel;
mod demo;
mod domain;
mod entries;
mod evidence;
mod key;
mod node;
mod note;
mod ports;
pub(crate) mod scenario;
mod tree;
mod verify;

pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    api::act_as(cli.as_user);
    match cli.command {
        Command::Key(c) => key::run(c),
        Command::Note(c) => note::run(c),
        Command::Tree(c) => tree::run(c),
        Command::Verify(a) => verify::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Init(a) => node::init(a),
        Command::Serve(a) => node::serve(a),
        Command::Peer(c) => node::peer(c),
        Command::Identity(c) => node::identity(c),
        Command::Witness(c) => node::witness(c),
        Command::User(c) => node::user(c),
        Command::Channel(c) => channel::run(c),
        Command::Send(a) => entries::send(a),
        Command::Inbox(a) => entries::inbox(a),
        Command::Show(a) => entries::show(a),
        Command::Proof(a) => entries::proof(a),
        Command::Status(a) => entries::status(a),
        Command::Backup(a) => node::backup(a),
        Command::AuditLog(a) => node::audit_log(a),
        Command::Audit(a) => node::audit(a),
        Command::Evidence(c) => evidence::run(c),
        Command::Bench(a) => bench::run(a),
        Command::Scenario(crate::cli::ScenarioCommand::Run { file, nodes, json }) => {
            run_scenario(&file, &nodes, json.json)
        }
        Command::Kinds(a) => domain::kinds(a),
        Command::Roles(a) => domain::roles(a),
        Command::Schema { kind } => domain::schema(&kind),
        Command::Example { kind } => domain::example(&kind),
        Command::Rules(a) => domain::rules(a),
        Command::Obligations(a) => domain::obligations(a),
        Command::Timeline(a) => domain::timeline(a),
        Command::Silence(a) => domain::silence(a),
        Command::Exercises(a) => domain::exercises(a),
        Command::Verification(a) => domain::verification(a),
        Command::Meetings(a) => domain::meetings(a),
        Command::Negotiations(a) => domain::negotiations(a),
        Command::Commitments(a) => domain::commitments(a),
    }
}

fn run_scenario(file: &Path, nodes: &[String], as_json: bool) -> anyhow::Result<()> {
    let s = scenario::Scenario::load(file)?;
    let mut dirs = std::collections::BTreeMap::new();
    for n in nodes {
        let (party, dir) = n
            .split_once('=')
            .with_context(|| format!("--node {n:?}: give PARTY=DIR"))?;
        dirs.insert(party.to_string(), std::path::PathBuf::from(dir));
    }
    if !as_json {
        println!("{}\n{}\n", s.title, s.description);
    }
    let labels = scenario::run(&s, &dirs, None, &mut |line| {
        if !as_json {
            println!("{line}");
        }
    })?;
    if as_json {
        return crate::output::json(&serde_json::json!({"title": s.title, "entries": labels}));
    }
    Ok(())
}

/// Reads all of stdin, refusing more than `limit` bytes.
pub(crate) fn read_stdin(limit: usize) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .context("reading standard input")?;
    if buf.len() > limit {
        anyhow::bail!("standard input is larger than {limit} bytes");
    }
    Ok(buf)
}

/// Reads a file, or stdin for `-`.
pub(crate) fn read_input(path: &Path, limit: usize) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        return read_stdin(limit);
    }
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.len() > limit as u64 {
        anyhow::bail!("{} is larger than {limit} bytes", path.display());
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// A vkey given on the command line, or the path of a file holding one.
pub(crate) fn load_vkey(arg: &str) -> anyhow::Result<VerifierKey> {
    match VerifierKey::parse(arg) {
        Ok(k) => Ok(k),
        Err(parse_err) => {
            let path = Path::new(arg);
            if !path.exists() {
                anyhow::bail!("{arg:?} is neither a verifier key ({parse_err}) nor a file");
            }
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {arg}"))?;
            VerifierKey::parse(text.trim())
                .with_context(|| format!("{arg} does not hold a verifier key"))
        }
    }
}

/// An identity file (`parley-identity/v1`).
pub(crate) fn load_identity(path: &Path) -> anyhow::Result<parley_log::Identity> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parley_log::Identity::parse(&text)
        .with_context(|| format!("{} is not a valid identity file", path.display()))
}

/// Log keys from a vkey, a file holding one, or an identity file (all its
/// log keys, current and retired).
pub(crate) fn load_log_keys(arg: &str) -> anyhow::Result<Vec<VerifierKey>> {
    let path = Path::new(arg);
    if path.exists()
        && let Ok(text) = std::fs::read_to_string(path)
        && text.starts_with(parley_log::identity::IDENTITY_HEADER)
    {
        let id = load_identity(path)?;
        return Ok(id.all(parley_log::Role::Log).cloned().collect());
    }
    Ok(vec![load_vkey(arg)?])
}
