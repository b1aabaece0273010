//! A party's standby node: two `parley serve` processes of NATO on one
//! PostgreSQL database, one active (holding the lease), one standing by.
//! The active one is killed under load; the standby takes over.
//!
//! Runs in the test command's PostgreSQL leg (`PARLEY_TEST_BACKEND=postgres`);
//! SQLite keeps a node's record in its own directory, with no second process.

mod net;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use net::{Net, Party, json, ok, open_channel, wait_until};
use parley_store::{DeliveryRole, FeedId};
use serde_json::{Value, json as j};

/// nato's second node: a copy of its directory (keys, token, identity,
/// configuration naming the same database) on ports of its own.
fn second_node(net: &Net) -> Party {
    let a = net.get("nato");
    let dir = net.root.path().join("nato-b");
    let copied = std::process::Command::new("cp")
        .args(["-a", a.d(), dir.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(copied.success());
    for f in ["serve.log", "parley.db", "parley.db.lease"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    let b = Party::at("nato", &dir);
    let (port, console) = (net::free_port(), net::free_port());
    b.configure(
        &format!("listen = \"127.0.0.1:{}\"", a.port),
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    b.configure(
        &format!("listen = \"127.0.0.1:{}\"", a.console_port),
        &format!("listen = \"127.0.0.1:{console}\""),
    );
    Party::at("nato", &dir)
}

/// GET the local API's status: 200 from the active node, 503 `not_active`
/// from a standby, 0 when nothing answers.
fn status(rt: &tokio::runtime::Runtime, c: &reqwest::Client, p: &Party) -> (u16, Value) {
    rt.block_on(async {
        match c
            .get(format!("{}/api/v1/status", p.console_url()))
            .bearer_auth(p.token())
            .send()
            .await
        {
            Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
            Err(_) => (0, Value::Null),
        }
    })
}

/// Sends hotline messages to whichever of nato's nodes takes them, until
/// told to stop. Each text is sent once: a send that fails is not retried
/// (a retry of a send whose answer was lost could store it twice, which a
/// user would see as two messages, not as a loss).
fn load(
    consoles: Vec<String>,
    token: String,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<BTreeMap<String, String>>>,
) -> std::thread::JoinHandle<(u64, u64)> {
    std::thread::spawn(move || {
        let (rt, c) = net::http();
        let (mut sent, mut refused) = (0u64, 0u64);
        let mut at = 0;
        while !stop.load(Ordering::SeqCst) {
            let text = format!("load {sent}");
            sent += 1;
            let answer = rt.block_on(async {
                let r = c
                    .post(format!("{}/api/v1/entries", consoles[at]))
                    .bearer_auth(&token)
                    .timeout(Duration::from_secs(5))
                    .json(&j!({"channel": "nato.mil", "kind": "hotline_message",
                        "body": {"priority": "routine", "text": {"en": text}}}))
                    .send()
                    .await
                    .ok()?;
                if !r.status().is_success() {
                    return None;
                }
                r.json::<Value>().await.ok()
            });
            match answer.and_then(|a| a["id"].as_str().map(str::to_string)) {
                Some(id) => {
                    acked.lock().unwrap().insert(id, text);
                }
                None => {
                    refused += 1;
                    at = (at + 1) % consoles.len();
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        (sent, refused)
    })
}

#[test]
fn the_standby_takes_over_when_the_active_node_is_killed_under_load() {
    if !net::on_postgres() {
        return;
    }
    let mut net = Net::new(&["nato", "russia", "osce"]);
    let mut b = second_node(&net);
    // Russia and the OSCE pin both of nato's addresses.
    let both = [net.get("nato").url(), b.url()];
    for p in ["russia", "osce"] {
        let d = net.get(p).d().to_string();
        let identity = net.get("nato").identity.clone();
        ok(&[
            "peer",
            "add",
            "--dir",
            &d,
            "--identity",
            &identity,
            "--url",
            &both[0],
            "--url",
            &both[1],
        ]);
    }
    net.start_all();
    open_channel(&net);
    b.spawn();
    let (rt, c) = net::http();
    wait_until(20, "nato's second node to stand by", || {
        let (code, body) = status(&rt, &c, &b);
        code == 503 && body["error"] == "not_active"
    });

    let acked = Arc::new(Mutex::new(BTreeMap::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let consoles = vec![net.get("nato").console_url(), b.console_url()];
    let loader = load(
        consoles,
        net.get("nato").token(),
        stop.clone(),
        acked.clone(),
    );
    wait_until(30, "load on the active node", || {
        acked.lock().unwrap().len() >= 30
    });
    let before = acked.lock().unwrap().len();

    // SIGKILL the active node under load.
    net.p("nato").kill();
    let killed = Instant::now();
    wait_until(30, "the standby to take over", || {
        status(&rt, &c, &b).0 == 200
    });
    let takeover = killed.elapsed();
    assert!(
        takeover < Duration::from_secs(10),
        "the standby took over after {takeover:?}; it must within 10 s"
    );
    // Russia's message during the change reaches nato's new active node.
    net.get("russia")
        .send_text("nato.mil", "to nato across its takeover");
    wait_until(60, "load on the standby", || {
        acked.lock().unwrap().len() >= before + 30
    });
    stop.store(true, Ordering::SeqCst);
    let (sent, refused) = loader.join().unwrap();
    let acked = acked.lock().unwrap().clone();

    // Every acknowledged entry is there, once, with the text it was sent
    // with; the feed has no entry twice.
    let store = b.store();
    let feed = FeedId::new("nato.mil", "nato");
    let size = store.feed_head(&feed).unwrap().unwrap().size;
    let entries = store.entries(&feed, 0, size).unwrap();
    assert_eq!(entries.len() as u64, size, "one entry per position");
    let mut texts = BTreeMap::new();
    for e in &entries {
        *texts
            .entry(String::from_utf8_lossy(&e.bytes).to_string())
            .or_insert(0) += 1;
    }
    for (id, text) in &acked {
        let seq: u64 = id.rsplit('/').next().unwrap().parse().unwrap();
        let e = store
            .entry(&feed, seq)
            .unwrap()
            .unwrap_or_else(|| panic!("{id} lost"));
        let body = String::from_utf8_lossy(&e.bytes).to_string();
        assert!(body.contains(&format!("\"{text}\"")), "{id} holds {body}");
        let copies = entries
            .iter()
            .filter(|x| String::from_utf8_lossy(&x.bytes).contains(&format!("\"{text}\"")))
            .count();
        assert_eq!(copies, 1, "{text:?} is stored {copies} times");
    }
    assert!(texts.values().all(|n| *n == 1), "no entry stored twice");

    // No fork: nato's record audits, and Russia holds the same history.
    let audit = json(&["audit", "--dir", b.d()]);
    assert_eq!(audit["ok"], true, "{audit}");
    let russia = net.get("russia");
    wait_until(60, "russia to hold nato's whole feed", || {
        russia.feed_size("nato.mil", "nato") == size
    });
    assert_eq!(
        russia.feed_root("nato.mil", "nato"),
        b.feed_root("nato.mil", "nato")
    );
    // Receipts continue: Russia's receipts for every entry reach nato, and
    // nato's receipt for Russia's message reaches Russia.
    wait_until(60, "russia's receipt of nato's whole feed at nato", || {
        store
            .delivered("russia", &feed, DeliveryRole::Push)
            .unwrap()
            == size
    });
    let rfeed = FeedId::new("nato.mil", "russia");
    let rsize = russia.feed_size("nato.mil", "russia");
    wait_until(60, "nato's receipt of russia's message at russia", || {
        russia
            .store()
            .delivered("nato", &rfeed, DeliveryRole::Push)
            .unwrap()
            == rsize
    });
    net::figure(format!(
        "standby takeover on PostgreSQL: SIGKILL of the active node under load; the standby \
         answered as active after {:.2} s; {} sends acknowledged ({before} before the kill), \
         {refused} of {sent} refused or unanswered while it changed, none lost or doubled; \
         nato's feed of {size} entries audits and equals Russia's copy",
        takeover.as_secs_f64(),
        acked.len(),
    ));

    // The first node, started again, stands by behind the second.
    net.p("nato").spawn();
    let a = net.get("nato");
    wait_until(20, "the first node to stand by", || {
        status(&rt, &c, a).1["error"] == "not_active"
    });
    // The active node's lease session is cut at the server (a network
    // partition between it and the database, a DBA's mistake): it must
    // stop acting at once and stand by, and the standby takes over.
    // The lease is the session advisory lock (0x7061726c, 5) in nato's
    // database (each party's node holds one in its own).
    let cut = std::process::Command::new("psql")
        .args([
            "-Atc",
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' \
             AND classid = 1885434476 AND objid = 5 AND objsubid = 2 AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &net.databases[0].url,
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&cut.stdout).trim(), "1", "{cut:?}");
    wait_until(20, "the first node to take over again", || {
        status(&rt, &c, net.get("nato")).0 == 200
    });
    // The node whose lease was cut stopped acting and stands by.
    wait_until(20, "the second node to stand by again", || {
        status(&rt, &c, &b).1["error"] == "not_active"
    });
    let log = std::fs::read_to_string(b.dir.with_extension("log")).unwrap();
    assert!(
        log.contains("lost the lease"),
        "the node says why it stopped"
    );
}
