//! The node, end to end: separate `parley serve` processes talking HTTP on
//! 127.0.0.1, storing in SQLite (or PostgreSQL, in the test command's
//! second leg), driven through the CLI as a user would.

mod net;

use parley_log::Role;

use net::{Net, json, ok, open_channel, parley, wait_until};
use parley_store::{DeliveryRole, FeedId, Store};

#[test]
fn messages_flow_both_ways_with_receipts_and_a_witness_that_never_sees_content() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    let (nato, russia, osce) = (net.get("nato"), net.get("russia"), net.get("osce"));

    let sent = json(&[
        "send",
        "--dir",
        nato.d(),
        "--channel",
        "nato.mil",
        "--text",
        "Exercise notice follows",
        "--priority",
        "flash",
    ]);
    let id = sent["id"].as_str().unwrap().to_string();
    assert_eq!(id, "nato.mil/nato/1");
    // Russia answers what it holds: a reply refers only to a received entry.
    wait_until(30, "russia to receive nato's message", || {
        russia.feed_size("nato.mil", "nato") >= 2
    });
    let reply = json(&[
        "send",
        "--dir",
        russia.d(),
        "--channel",
        "nato.mil",
        "--text",
        "Принято",
        "--lang",
        "ru",
        "--refs",
        &id,
    ]);
    assert_eq!(reply["id"], "nato.mil/russia/1");

    // Each receipt arrives: the recipient's cosignature, with its time.
    let nd = nato.d().to_string();
    wait_until(20, "russia's receipt for nato's message", || {
        json(&["show", "--dir", &nd, &id])["delivery"][0]["delivered_at"].is_i64()
    });
    let rd = russia.d().to_string();
    wait_until(20, "nato's receipt for russia's reply", || {
        json(&["show", "--dir", &rd, "nato.mil/russia/1"])["delivery"][0]["delivered_at"].is_i64()
    });
    let shown = json(&["show", "--dir", nato.d(), &id]);
    assert_eq!(shown["delivery"][0]["party"], "russia");
    assert_eq!(
        shown["delivery"][0]["answered"][0]["id"],
        "nato.mil/russia/1"
    );
    let text = ok(&["inbox", "--dir", russia.d()]);
    assert!(
        text.contains("nato.mil/nato/1")
            && text.contains("[FLASH]")
            && text.contains("Exercise notice follows"),
        "{text}"
    );

    // The witness cosigned both feeds' checkpoints and holds no entry at all.
    wait_until(20, "osce to cosign both feeds", || {
        let s = nato.store();
        ["nato", "russia"].iter().all(|a| {
            s.cosignatures(&FeedId::new("nato.mil", a), 2)
                .unwrap()
                .iter()
                .any(|c| c.cosigner == "osce")
        })
    });
    let w = osce.store();
    assert!(w.feeds().unwrap().is_empty(), "the witness holds no feed");
    assert!(
        w.recent(None, 10).unwrap().is_empty(),
        "the witness holds no entry"
    );
    assert_eq!(
        w.witnessed_all().unwrap().len(),
        2,
        "it cosigned nato's and russia's feeds"
    );

    // The proof bundle verifies offline with only the vkeys...
    let bundle = net.path("message.tlog-proof");
    std::fs::write(&bundle, ok(&["proof", "--dir", nato.d(), &id])).unwrap();
    let b = bundle.to_str().unwrap();
    let out = ok(&[
        "verify",
        b,
        "--vkey",
        &nato.vkey(Role::Log),
        "--vkey",
        &russia.vkey(Role::Receipt),
        "--vkey",
        &osce.vkey(Role::Witness),
    ]);
    assert!(
        out.contains("verified: entry nato.mil/nato/1 (hotline_message)"),
        "{out}"
    );
    assert!(
        out.contains("delivered to russia at") && out.contains("witnessed by osce/witness at"),
        "{out}"
    );
    // ...and fails after any one-byte change.
    let bytes = std::fs::read(&bundle).unwrap();
    let changed = net.path("changed.tlog-proof");
    for i in 0..bytes.len() {
        let mut m = bytes.clone();
        m[i] = if m[i] == b'A' { b'B' } else { b'A' };
        std::fs::write(&changed, &m).unwrap();
        let o = parley(&[
            "verify",
            changed.to_str().unwrap(),
            "--vkey",
            &nato.vkey(Role::Log),
            "--vkey",
            &russia.vkey(Role::Receipt),
            "--vkey",
            &osce.vkey(Role::Witness),
        ]);
        assert_eq!(
            o.status.code(),
            Some(1),
            "byte {i} changed and the bundle still verified"
        );
    }
}

#[test]
fn a_receiver_killed_mid_stream_ends_with_every_entry_once_and_every_receipt() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    let total = 1000u64;
    let nato_dir = net.get("nato").dir.clone();
    let port = net.get("nato").console_port;
    let token = net.get("nato").token();
    // The sender stops halfway until the receiver is killed, so the kill
    // lands mid-stream by construction, not by a race with the sender.
    let (killed_tx, killed_rx) = std::sync::mpsc::channel::<()>();
    let sender =
        std::thread::spawn(move || {
            parley_node::install_crypto();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
            let client = reqwest::Client::new();
            for i in 0..total {
                if i == total / 2 {
                    killed_rx.recv().unwrap();
                }
                let body = serde_json::json!({
                    "channel": "nato.mil", "kind": "hotline_message",
                    "body": {"priority": "routine", "text": {"en": format!("stream message {i}")}}
                });
                let r = client
                    .post(format!("http://127.0.0.1:{port}/api/v1/entries"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "send {i}: {}", r.text().await.unwrap());
            }
        });
            let _ = nato_dir;
        });
    // Kill the receiver while the stream is flowing.
    wait_until(60, "the stream to reach russia", || {
        net.get("russia").feed_size("nato.mil", "nato") > 200
    });
    net.p("russia").kill();
    let sent_at_kill = net.get("nato").feed_size("nato.mil", "nato");
    assert!(
        sent_at_kill <= total / 2 + 1,
        "the sender waits halfway (nato had sent {sent_at_kill})"
    );
    killed_tx.send(()).unwrap();
    sender.join().unwrap();
    let russia = net.p("russia");
    russia.start();

    let size = total + 1; // the charter, then the stream
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    assert_eq!(nato.feed_size("nato.mil", "nato"), size);
    wait_until(120, "russia to hold every entry", || {
        russia.feed_size("nato.mil", "nato") == size
    });
    wait_until(60, "nato to hold russia's receipt for every entry", || {
        nato.store()
            .delivered(
                "russia",
                &FeedId::new("nato.mil", "nato"),
                DeliveryRole::Push,
            )
            .unwrap()
            == size
    });
    // Exactly once, no gaps: sequence numbers 0..size, each once.
    let stored = russia
        .store()
        .entries(&FeedId::new("nato.mil", "nato"), 0, size + 10)
        .unwrap();
    assert_eq!(stored.len() as u64, size);
    assert!(stored.iter().enumerate().all(|(i, e)| e.seq == i as u64));
    // Every entry has a receipt: some russia cosignature covers it.
    let cosigs = nato
        .store()
        .cosignatures(&FeedId::new("nato.mil", "nato"), 1)
        .unwrap();
    let max_receipt = cosigs
        .iter()
        .filter(|c| c.cosigner == "russia")
        .map(|c| c.size)
        .max()
        .unwrap();
    assert_eq!(max_receipt, size);
    // The roots agree.
    assert_eq!(
        nato.feed_root("nato.mil", "nato"),
        russia.feed_root("nato.mil", "nato")
    );
}

#[test]
fn a_stopped_peer_queues_messages_shows_link_down_and_catches_up() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    net.p("russia").stop();
    let nato = net.get("nato");
    for i in 0..20 {
        nato.send_text("nato.mil", &format!("queued {i}"));
    }
    wait_until(20, "nato to see russia down with 20 waiting", || {
        let p = nato.peer_status("russia");
        p["link"] == "down" && p["backlog_entries"] == 20
    });
    let text = ok(&["status", "--dir", nato.d()]);
    assert!(
        text.contains("russia")
            && text.contains("link down since")
            && text.contains("waiting: 20 entries"),
        "{text}"
    );

    net.p("russia").start();
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    wait_until(30, "everything to be delivered", || {
        let p = nato.peer_status("russia");
        p["link"] == "up" && p["backlog_entries"] == 0
    });
    assert_eq!(russia.feed_size("nato.mil", "nato"), 21);
    let inbox = ok(&["inbox", "--dir", russia.d(), "--limit", "100"]);
    for i in 0..20 {
        assert!(inbox.contains(&format!("queued {i}")), "missing queued {i}");
    }
}

#[test]
fn serve_refuses_a_bad_directory_key_or_port_with_distinct_exit_codes() {
    let mut net = Net::new(&["nato"]);
    let nato = net.p("nato");
    let missing = parley(&["serve", "--dir", "/nonexistent/parley"]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not a parley node directory"));

    let cfg = nato.dir.join("parley.toml");
    let good = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, good.replace("party = ", "partyy = ")).unwrap();
    let bad_cfg = parley(&["serve", "--dir", nato.d()]);
    assert_eq!(
        bad_cfg.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&bad_cfg.stderr)
    );
    std::fs::write(&cfg, &good).unwrap();

    let key = nato.dir.join("keys/receipt.key");
    let good_key = std::fs::read_to_string(&key).unwrap();
    std::fs::write(&key, "PRIVATE+KEY+nato/receipt+00000000+AAAA\n").unwrap();
    let bad_key = parley(&["serve", "--dir", nato.d()]);
    assert_eq!(bad_key.status.code(), Some(4));
    std::fs::write(&key, &good_key).unwrap();

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let exposed = parley(&["serve", "--dir", nato.d()]);
        assert_eq!(exposed.status.code(), Some(4));
        assert!(String::from_utf8_lossy(&exposed.stderr).contains("chmod 600"));
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    let _busy = std::net::TcpListener::bind(("127.0.0.1", nato.port)).unwrap();
    let busy = parley(&["serve", "--dir", nato.d()]);
    assert_eq!(busy.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&busy.stderr).contains("cannot listen on"));
}

#[test]
fn init_creates_a_node_directory_with_private_files() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("nato");
    let out = ok(&[
        "init",
        "--party",
        "nato",
        "--dir",
        dir.to_str().unwrap(),
        "--listen",
        "127.0.0.1:7999",
    ]);
    let identity = std::fs::read_to_string(dir.join("party.identity")).unwrap();
    assert!(
        out.contains(identity.trim()),
        "init prints the identity: {out}"
    );
    let id = parley_log::Identity::parse(&identity).unwrap();
    assert_eq!(id.party, "nato");
    // One key per statement: four distinct keys, each named for its role.
    for role in Role::ALL {
        assert_eq!(id.current(role).unwrap().name(), role.key_name("nato"));
    }
    assert_eq!(
        ok(&["identity", "export", "--dir", dir.to_str().unwrap()]),
        identity
    );
    let cfg = std::fs::read_to_string(dir.join("parley.toml")).unwrap();
    assert!(
        cfg.contains("party = \"nato\"") && cfg.contains("listen = \"127.0.0.1:7999\""),
        "{cfg}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in [
            "keys/log.key",
            "keys/receipt.key",
            "keys/witness.key",
            "keys/node.key",
            "api.token",
            "parley.toml",
            "parley.db",
        ] {
            let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
    }
    let conn = parley_store::SqliteStore::open(&dir.join("parley.db")).unwrap();
    assert!(conn.peers().unwrap().is_empty() && conn.feeds().unwrap().is_empty());
    // A second init in the same place is refused; nothing is overwritten.
    let again = parley(&[
        "init",
        "--party",
        "nato",
        "--dir",
        dir.to_str().unwrap(),
        "--listen",
        "127.0.0.1:7999",
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(dir.join("party.identity")).unwrap(),
        identity
    );
}

#[test]
fn serve_shuts_down_cleanly_on_sigterm() {
    let mut net = Net::new(&["nato"]);
    let nato = net.p("nato");
    nato.start();
    nato.stop();
    assert!(nato.log().contains("parley node stopped"), "{}", nato.log());
}

#[test]
fn channel_rules_are_enforced_by_the_author_node() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    ok(&[
        "channel",
        "create",
        "--dir",
        nato.d(),
        "--id",
        "nato.pol",
        "--members",
        "nato,russia",
        "--level",
        "political",
    ]);
    // Before russia accepts, nothing but acceptances flows.
    let o = parley(&[
        "send",
        "--dir",
        nato.d(),
        "--channel",
        "nato.pol",
        "--text",
        "too early",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not yet accepted by russia"));
    let rd = russia.d().to_string();
    wait_until(20, "the charter at russia", || {
        parley(&["channel", "accept", "--dir", &rd, "--id", "nato.pol"])
            .status
            .success()
    });
    let nd = nato.d().to_string();
    wait_until(20, "pol active", || {
        json(&["channel", "list", "--dir", &nd])[0]["state"] == "active"
    });
    nato.send_text("nato.pol", "now");

    // A suspended channel refuses everything but resumption, with a clear error.
    ok(&[
        "channel",
        "suspend",
        "--dir",
        nato.d(),
        "--id",
        "nato.pol",
        "--reason",
        "Practical cooperation suspended",
    ]);
    let o = parley(&[
        "send",
        "--dir",
        nato.d(),
        "--channel",
        "nato.pol",
        "--text",
        "during suspension",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("is suspended") && err.contains("Practical cooperation suspended"),
        "{err}"
    );
    wait_until(20, "russia to see the suspension", || {
        json(&["channel", "list", "--dir", &rd])[0]["state"] == "suspended"
    });
    let o = parley(&[
        "send",
        "--dir",
        russia.d(),
        "--channel",
        "nato.pol",
        "--text",
        "during suspension",
    ]);
    assert_eq!(o.status.code(), Some(1));
    // NATO's suspension is NATO's: Russia cannot lift it.
    let o = parley(&[
        "channel",
        "resume",
        "--dir",
        russia.d(),
        "--id",
        "nato.pol",
        "--reason",
        "Dialogue resumes",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("only nato may resume it"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    ok(&[
        "channel",
        "resume",
        "--dir",
        nato.d(),
        "--id",
        "nato.pol",
        "--reason",
        "Dialogue resumes",
    ]);
    wait_until(20, "russia to see the resumption", || {
        json(&["channel", "list", "--dir", &rd])[0]["state"] == "active"
    });
    russia.send_text("nato.pol", "after resumption");

    // Sending to a channel with a language it does not have names the rule.
    let o = parley(&[
        "send",
        "--dir",
        russia.d(),
        "--channel",
        "nato.pol",
        "--text",
        "bonjour",
        "--lang",
        "fr",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"], "invalid_entry");
    assert_eq!(v["violations"][0]["field"], "text.fr");
}

#[test]
fn a_backup_of_a_running_node_holds_every_entry_and_opens_as_a_node_database() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    let nato = net.get("nato");
    for i in 0..10 {
        nato.send_text("nato.mil", &format!("m{i}"));
    }
    let out = net.path("nato-backup.db");
    let report = json(&["backup", "--dir", nato.d(), "--out", out.to_str().unwrap()]);
    // Charters, acceptances and ten messages: nato's feed 11, russia's 1.
    assert_eq!(report["entries"], 12, "{report}");
    // The copy is restored and opened as a store of its backend.
    let restored = net::node_database("restored");
    let copy: Box<dyn parley_store::Store> = match &restored {
        None => Box::new(parley_store::SqliteStore::open(&out).unwrap()),
        Some(db) => {
            let run = std::process::Command::new("pg_restore")
                .args(["--no-owner", "--dbname", &db.url])
                .arg(&out)
                .output()
                .unwrap();
            assert!(
                run.status.success(),
                "{}",
                String::from_utf8_lossy(&run.stderr)
            );
            Box::new(parley_store::PostgresStore::open(&db.url).unwrap())
        }
    };
    let feeds = copy.feeds().unwrap();
    let size = |author: &str| {
        feeds
            .iter()
            .find(|(f, _)| f.channel == "nato.mil" && f.author == author)
            .map(|(_, h)| (h.size, h.root.to_string()))
            .unwrap()
    };
    assert_eq!(size("nato").0, 11);
    assert_eq!(size("nato").1, nato.feed_root("nato.mil", "nato"));

    let again = parley(&["backup", "--dir", nato.d(), "--out", out.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1), "a backup never overwrites");
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
}

/// Group commit: sends that arrive together are committed together, and
/// that must change nothing a sender or a member can see. Forty senders at
/// once, every fourth with a body that breaks a rule: each valid one is
/// acknowledged with its own sequence number (no gaps, none twice), each
/// invalid one is refused with its rule and takes no number, every
/// acknowledged entry reaches Russia once with a receipt, and both copies
/// audit.
#[test]
fn sends_committed_together_are_each_acknowledged_once_and_a_bad_one_spoils_none() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    net::open_channel(&net);
    let port = net.get("nato").console_port;
    let token = net.get("nato").token();
    let before = net.get("nato").feed_size("nato.mil", "nato");
    parley_node::install_crypto();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let answers: Vec<(usize, u16, serde_json::Value)> = rt.block_on(async {
        let client = reqwest::Client::new();
        let sends = (0..40).map(|i| {
            let (client, token) = (client.clone(), token.clone());
            async move {
                let body = if i % 4 == 3 {
                    // No text: the hotline_message schema requires it.
                    serde_json::json!({"priority": "routine"})
                } else {
                    serde_json::json!({"priority": "routine", "text": {"en": format!("together {i}")}})
                };
                let r = client
                    .post(format!("http://127.0.0.1:{port}/api/v1/entries"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"channel": "nato.mil", "kind": "hotline_message", "body": body}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                (i, status, r.json::<serde_json::Value>().await.unwrap())
            }
        });
        futures_join_all(sends).await
    });
    let mut seqs: Vec<u64> = Vec::new();
    for (i, status, v) in &answers {
        if i % 4 == 3 {
            assert_eq!(*status, 422, "send {i}: {v}");
            assert!(
                v.to_string().contains("text"),
                "send {i} names the rule: {v}"
            );
        } else {
            assert_eq!(*status, 200, "send {i}: {v}");
            seqs.push(v["seq"].as_u64().unwrap());
        }
    }
    seqs.sort_unstable();
    let expected: Vec<u64> = (before..before + 30).collect();
    assert_eq!(seqs, expected, "thirty numbers, consecutive, none twice");
    let size = before + 30;
    assert_eq!(net.get("nato").feed_size("nato.mil", "nato"), size);
    let commits = net
        .get("nato")
        .store()
        .checkpoint_sizes(
            &parley_store::FeedId::new("nato.mil", "nato"),
            before + 1,
            size,
        )
        .unwrap()
        .len();
    net::figure(format!(
        "group commit: 40 sends at once (10 refused) were committed in {commits} commits of nato's feed"
    ));
    wait_until(
        60,
        "russia to hold every entry and nato its receipt",
        || {
            net.get("russia").feed_size("nato.mil", "nato") == size
                && net.get("nato").peer_status("russia")["backlog_entries"] == 0
        },
    );
    assert_eq!(
        net.get("russia").feed_root("nato.mil", "nato"),
        net.get("nato").feed_root("nato.mil", "nato")
    );
    for p in ["nato", "russia"] {
        assert_eq!(net.get(p).audit()["ok"], true, "{p}'s store audits");
    }
}

/// Runs futures together on the current runtime and collects their
/// results in order.
async fn futures_join_all<F>(fs: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
