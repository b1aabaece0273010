//! `parley key generate`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use parley_log::SigningKey;
use serde_json::json;

use crate::cli::KeyCommand;
use crate::output;

pub(crate) fn run(cmd: KeyCommand) -> anyhow::Result<()> {
    match cmd {
        KeyCommand::Generate { name, out, json } => {
            let key = SigningKey::generate(&name)?;
            let (key_path, vkey_path) = write_key_pair(&key, &out)?;
            let vkey = key.verifier().to_string();
            if json.json {
                output::json(&json!({
                    "name": name,
                    "vkey": vkey,
                    "cosigner_vkey": key.cosigner().to_string(),
                    "key_file": key_path,
                    "vkey_file": vkey_path,
                }))
            } else {
                output::lines([
                    format!("private key: {} (keep it secret)", key_path.display()),
                    format!("verifier key: {}", vkey_path.display()),
                    vkey,
                ])
            }
        }
    }
}

/// Writes `<dir>/<name>.key` (mode 0600, never overwritten) and
/// `<dir>/<name>.vkey`. A '/' in the name becomes '_' in file names.
pub(crate) fn write_key_pair(key: &SigningKey, dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let stem = key.name().replace('/', "_");
    let key_path = dir.join(format!("{stem}.key"));
    let vkey_path = dir.join(format!("{stem}.vkey"));
    write_private(&key_path, &format!("{}\n", key.to_private_string()))?;
    fs::write(&vkey_path, format!("{}\n", key.verifier()))
        .with_context(|| format!("writing {}", vkey_path.display()))?;
    Ok((key_path, vkey_path))
}

/// Creates a file readable only by its owner; refuses to replace one.
pub(crate) fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| {
        format!(
            "creating {} (an existing key is never overwritten)",
            path.display()
        )
    })?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// Reads a private key file.
pub(crate) fn read_private(path: &Path) -> anyhow::Result<SigningKey> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    SigningKey::parse(text.trim())
        .with_context(|| format!("{} does not hold a private key", path.display()))
}
