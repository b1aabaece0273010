//! The independent C2SP code the tests build: `tests/go/c2sp.go`, a
//! tlog-witness and a `note.Open` check from Go's golang.org/x/mod, in
//! GOPATH mode from the Debian packages `golang-go` and
//! `golang-golang-x-mod-dev`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Builds the Go peer, or fails (skips only where PARLEY_ALLOW_SKIP names `go`).
pub fn build_go_peer(out: &Path) -> Option<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go/c2sp.go");
    let bin = out.join("c2sp");
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg(&src)
        .env("GOPATH", "/usr/share/gocode")
        .env("GO111MODULE", "off")
        .env("GOCACHE", out.join("gocache"))
        .env("GOFLAGS", "")
        .output();
    match built {
        Ok(o) if o.status.success() => Some(bin),
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            let allowed = std::env::var("PARLEY_ALLOW_SKIP")
                .is_ok_and(|s| s.split(',').any(|x| x.trim() == "go"));
            assert!(
                allowed,
                "the Go C2SP peer cannot be built ({why}); install golang-go and golang-golang-x-mod-dev, or set PARLEY_ALLOW_SKIP=go"
            );
            eprintln!("SKIPPED (PARLEY_ALLOW_SKIP=go): the Go C2SP peer cannot be built: {why}");
            None
        }
    }
}

/// Opens a signed note with Go's `note.Open` and the given verifier key;
/// the names of the signatures it verified, or Go's refusal.
pub fn go_open(go: &Path, vkey: &str, note: &str) -> Result<String, String> {
    let mut child = Command::new(go)
        .args(["open", vkey])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), note.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}
