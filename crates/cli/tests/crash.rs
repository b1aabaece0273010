//! Crash loop: three member nodes of one channel under steady load; each
//! round SIGKILLs a random node at a random moment and restarts it. After
//! the last round, every send a node acknowledged is on every node exactly
//! once with its text, has both other members' receipts, and every node's
//! database passes a full audit with the same roots.
//!
//! Bounded: `PARLEY_CRASH_ROUNDS` rounds (default 20), each under 1.5 s of
//! load; replay a run with the printed `PARLEY_SEED`.

mod net;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use net::{Net, Rng, http, json, ok, wait_until};
use parley_store::FeedId;
use serde_json::json as j;

const MEMBERS: [&str; 3] = ["nato", "russia", "osce"];

fn open_three_party_channel(net: &Net) {
    ok(&[
        "channel",
        "create",
        "--dir",
        net.get("nato").d(),
        "--id",
        "nato.mil",
        "--members",
        "nato,russia,osce",
        "--level",
        "military",
        "--languages",
        "en",
    ]);
    for p in ["russia", "osce"] {
        let d = net.get(p).d().to_string();
        wait_until(20, "the charter to arrive", || {
            json(&["channel", "list", "--dir", &d])
                .as_array()
                .is_some_and(|a| !a.is_empty())
        });
        ok(&["channel", "accept", "--dir", &d, "--id", "nato.mil"]);
    }
    for p in MEMBERS {
        let d = net.get(p).d().to_string();
        wait_until(20, "the channel to be active everywhere", || {
            json(&["channel", "list", "--dir", &d])[0]["state"] == "active"
        });
    }
}

/// What the load generators saw acknowledged: (author, seq) → text.
type Acked = Arc<Mutex<HashMap<(String, u64), String>>>;

/// One sender per member, sending as fast as its node answers; a node
/// that is down just fails the request (nothing is acknowledged).
fn start_load(net: &Net, stop: Arc<AtomicBool>, acked: Acked) -> Vec<std::thread::JoinHandle<u64>> {
    MEMBERS
        .iter()
        .map(|name| {
            let p = net.get(name);
            let (port, token, name) = (p.console_port, p.token(), name.to_string());
            let (stop, acked) = (stop.clone(), acked.clone());
            std::thread::spawn(move || {
                let (rt, client) = http();
                let mut refused = 0u64;
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let text = format!("{name} crash-loop message {i}");
                    let seq = rt.block_on(async {
                        let r = client
                            .post(format!("http://127.0.0.1:{port}/api/v1/entries"))
                            .bearer_auth(&token)
                            .json(&j!({"channel": "nato.mil", "kind": "hotline_message",
                                "body": {"priority": "routine", "text": {"en": text}}}))
                            .timeout(Duration::from_secs(3))
                            .send()
                            .await
                            .ok()?;
                        if !r.status().is_success() {
                            return None;
                        }
                        r.json::<serde_json::Value>().await.ok()?["seq"].as_u64()
                    });
                    match seq {
                        Some(seq) => {
                            let prev = acked.lock().unwrap().insert((name.clone(), seq), text);
                            assert!(prev.is_none(), "{name} acknowledged seq {seq} twice");
                        }
                        None => {
                            refused += 1;
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
                refused
            })
        })
        .collect()
}

#[test]
fn random_sigkills_under_load_lose_nothing_and_duplicate_nothing() {
    let rounds: u64 = std::env::var("PARLEY_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut rng = Rng::from_env();
    let mut net = Net::new(&MEMBERS);
    net.start_all();
    open_three_party_channel(&net);

    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Acked = Arc::default();
    let load = start_load(&net, stop.clone(), acked.clone());
    let mut kills: HashMap<&str, u64> = HashMap::new();
    for _ in 0..rounds {
        std::thread::sleep(Duration::from_millis(100 + rng.below(900)));
        let victim = MEMBERS[rng.below(3) as usize];
        net.p(victim).kill();
        *kills.entry(victim).or_default() += 1;
        std::thread::sleep(Duration::from_millis(rng.below(300)));
        net.p(victim).start();
    }
    stop.store(true, Ordering::Relaxed);
    let refused: u64 = load.into_iter().map(|h| h.join().unwrap()).sum();
    let acked = acked.lock().unwrap().clone();

    // Everything converges: each feed complete on every node, with both
    // other members' receipts at its author.
    for author in MEMBERS {
        let size = net.get(author).feed_size("nato.mil", author);
        for holder in MEMBERS {
            let h = net.get(holder);
            wait_until(
                120,
                &format!("{holder} to hold all of {author}'s feed"),
                || h.feed_size("nato.mil", author) == size,
            );
        }
        let a = net.get(author);
        let feed = FeedId::new("nato.mil", author);
        for other in MEMBERS.iter().filter(|o| **o != author) {
            wait_until(
                60,
                &format!("{author} to hold {other}'s receipt of everything"),
                || {
                    a.store()
                        .cosignatures(&feed, size)
                        .unwrap()
                        .iter()
                        .any(|c| c.cosigner == *other && c.size == size)
                },
            );
        }
    }
    // The same roots everywhere, and every database passes a full audit.
    let mut checked = 0;
    for author in MEMBERS {
        let root = net.get(author).feed_root("nato.mil", author);
        for holder in MEMBERS {
            assert_eq!(
                net.get(holder).feed_root("nato.mil", author),
                root,
                "{holder}'s copy of {author}'s feed"
            );
        }
    }
    let mut audited = 0;
    for holder in MEMBERS {
        audited += net.get(holder).audit()["entries"].as_u64().unwrap();
    }
    // Every acknowledged send is on every node at its sequence number,
    // with its text, exactly once.
    for holder in MEMBERS {
        let store = net.get(holder).store();
        for author in MEMBERS {
            let feed = FeedId::new("nato.mil", author);
            let entries = store.entries(&feed, 0, u64::MAX >> 1).unwrap();
            let mut texts: HashMap<String, u64> = HashMap::new();
            for (i, e) in entries.iter().enumerate() {
                assert_eq!(
                    e.seq, i as u64,
                    "{holder}'s copy of {author}'s feed has a gap"
                );
                let entry = parley_log::Entry::decode(&e.bytes).unwrap();
                if let Some(t) = entry.body["text"]["en"].as_str() {
                    *texts.entry(t.to_string()).or_default() += 1;
                }
            }
            assert!(
                texts.values().all(|n| *n == 1),
                "{holder} holds a text of {author} twice"
            );
            for ((a, seq), text) in acked.iter().filter(|((a, _), _)| a == author) {
                let e = entries
                    .get(*seq as usize)
                    .unwrap_or_else(|| panic!("{holder} lost {a}'s acknowledged entry {seq}"));
                let entry = parley_log::Entry::decode(&e.bytes).unwrap();
                assert_eq!(entry.body["text"]["en"], *text, "{holder}: {a} #{seq}");
                checked += 1;
            }
        }
    }
    let per_party: Vec<String> = MEMBERS
        .iter()
        .map(|m| format!("{m} {}", kills.get(m).copied().unwrap_or(0)))
        .collect();
    net::figure(format!(
        "crash loop: {rounds} rounds of SIGKILL ({}), {} sends acknowledged, {refused} refused while a node was down; \
         {checked} acknowledged entries checked on 3 nodes, {audited} entries audited; {:.1} s",
        per_party.join(", "),
        acked.len(),
        started.elapsed().as_secs_f64()
    ));
    assert!(
        acked.len() as u64 > rounds * 5,
        "the load must keep flowing between kills"
    );
}
