//! parley against a C2SP witness it did not write: a small tlog-witness
//! built from Go's golang.org/x/mod (`tests/go/c2sp.go`, GOPATH mode, the
//! Debian packages `golang-go` and `golang-golang-x-mod-dev`). A channel
//! names it by submission URL and cosignature/v1 vkey; the members submit
//! to it exactly as tlog-witness says; bundles carry its cosignature and
//! verify with the tlog-policy `parley channel policy` prints; Go's
//! `note.Open` opens parley's checkpoints with the per-origin log key.

mod net;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use net::forge::get_as;
use net::{Net, accept_channel, free_port, json, ok, parley, wait_until};

struct GoWitness(Child);

impl Drop for GoWitness {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the Go witness; returns it and its vkey (first line it prints).
fn start_witness(bin: &Path, port: u16, logs: &[(String, String)]) -> (GoWitness, String) {
    let mut cmd = Command::new(bin);
    cmd.args([
        "witness",
        &format!("127.0.0.1:{port}"),
        "witness.example.org/w1",
        &"42".repeat(32),
    ]);
    for (origin, vkey) in logs {
        cmd.arg(format!("{origin}={vkey}"));
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (GoWitness(child), line.trim().to_string())
}

#[test]
fn a_channel_witnessed_by_an_independent_go_witness() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(go) = net::go::build_go_peer(tmp.path()) else {
        return;
    };
    let mut net = Net::new(&["nato", "russia"]);
    net.start_all();
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    // The per-origin log keys a witness operator configures.
    let logs: Vec<(String, String)> = [nato, russia]
        .iter()
        .map(|p| {
            let origin = format!("parley/nato.ext/{}", p.name);
            let vkey = ok(&[
                "identity",
                "log-key",
                "--identity",
                &p.identity,
                "--origin",
                &origin,
            ]);
            (origin, vkey.trim().to_string())
        })
        .collect();
    // Learn the witness's vkey from a first run, then stop it: the channel
    // is created while the witness is down, so delivery to it must retry.
    let port = free_port();
    let (first, vkey) = start_witness(&go, port, &logs);
    drop(first);
    assert!(vkey.starts_with("witness.example.org/w1+"), "{vkey}");
    let url = format!("http://127.0.0.1:{port}");
    ok(&[
        "channel",
        "create",
        "--dir",
        nato.d(),
        "--id",
        "nato.ext",
        "--members",
        "nato,russia",
        "--external-witness",
        &format!("{url} {vkey}"),
        "--level",
        "expert",
        "--languages",
        "en",
    ]);
    accept_channel(russia, "nato.ext");
    // NATO may send once Russia's acceptance has reached it.
    let nd = nato.d().to_string();
    wait_until(20, "the channel to be active at nato", || {
        json(&["channel", "list", "--dir", &nd])
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "nato.ext" && c["state"] == "active")
    });
    let sent = json(&[
        "send",
        "--dir",
        nato.d(),
        "--channel",
        "nato.ext",
        "--text",
        "witnessed from outside",
    ]);
    let id = sent["id"].as_str().unwrap().to_string();
    let nd = nato.d().to_string();
    wait_until(20, "nato to see the witness down", || {
        json(&["status", "--dir", &nd])["external_witnesses"][0]["link"] == "down"
    });

    let (_witness, again) = start_witness(&go, port, &logs);
    assert_eq!(again, vkey);
    wait_until(
        30,
        "the Go witness to cosign the message's checkpoint",
        || {
            let shown = json(&["show", "--dir", &nd, &id]);
            shown["witnessed"]
                .as_array()
                .is_some_and(|w| w.iter().any(|w| w["witness"] == "witness.example.org/w1"))
                && !shown["delivery"][0]["delivered_at"].is_null()
        },
    );
    let status = ok(&["status", "--dir", nato.d()]);
    assert!(
        status.contains("witness witness.example.org/w1 at http://127.0.0.1"),
        "{status}"
    );

    // The policy names each feed's log key, the receipts and the witness.
    let policy = ok(&["channel", "policy", "--dir", nato.d(), "--id", "nato.ext"]);
    for (origin, log_vkey) in &logs {
        assert!(
            policy.contains(&format!("log {log_vkey}\n")),
            "{origin}: {policy}"
        );
    }
    assert!(policy.contains(&format!("{vkey} {url}\n")), "{policy}");
    let policy_file = net.path("ext.policy");
    std::fs::write(&policy_file, &policy).unwrap();
    let bundle = net.path("ext.tlog-proof");
    std::fs::write(&bundle, ok(&["proof", "--dir", nato.d(), &id])).unwrap();
    let out = ok(&[
        "verify",
        bundle.to_str().unwrap(),
        "--policy",
        policy_file.to_str().unwrap(),
    ]);
    assert!(out.contains("delivered to russia at"), "{out}");
    assert!(
        out.contains("witnessed by witness.example.org/w1 at"),
        "{out}"
    );
    // Without the witness's cosignature the policy's quorum is not met.
    let text = std::fs::read_to_string(&bundle).unwrap();
    let stripped: String = text
        .lines()
        .filter(|l| !l.starts_with("\u{2014} witness.example.org/w1 "))
        .map(|l| format!("{l}\n"))
        .collect();
    let stripped_file = net.path("stripped.tlog-proof");
    std::fs::write(&stripped_file, stripped).unwrap();
    let o = parley(&[
        "verify",
        stripped_file.to_str().unwrap(),
        "--policy",
        policy_file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("quorum"));

    // Go's note.Open opens a parley checkpoint with the per-origin key,
    // and not with the party's key under its own name.
    let (s, checkpoint) = get_as(
        russia,
        &format!("{}/tlog/nato.ext/nato/checkpoint", nato.url()),
    );
    assert_eq!(s, 200);
    let open = |vkey: &str| net::go::go_open(&go, vkey, &checkpoint);
    let names = open(&logs[0].1).unwrap();
    assert_eq!(names.trim(), "parley/nato.ext/nato");
    assert!(open(&nato.vkey(parley_log::Role::Log)).is_err());
}
