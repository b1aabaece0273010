//! Random and mutated requests against a running node: its peer API, its
//! local API and its console, with real requests as seeds. Whatever comes
//! in, the node answers (never a 5xx, never a dropped connection), keeps
//! serving, and its database still passes a full audit.
//!
//! Bounded: `PROPTEST_CASES` requests (default 1000). A failing input is
//! kept in `tests/regressions/api_fuzz.txt` and replayed first next time.

mod net;

use net::{Net, Party, http, open_channel, wait_until};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::json as j;

/// A request: method, path, headers, body.
#[derive(Clone, Debug)]
struct Req {
    method: &'static str,
    path: String,
    /// Sent to the peers' listener (mutual TLS, as russia), not the console's.
    peer: bool,
    token: bool,
    content_type: &'static str,
    body: Vec<u8>,
}

fn seeds(nato: &Party, russia: &Party) -> Vec<Req> {
    let update = russia.feed_update("nato.mil", 0);
    let checkpoint = update["checkpoint"].as_str().unwrap().to_string();
    let to_peers = |path: &str| {
        ["/federation", "/witness", "/tlog"]
            .iter()
            .any(|p| path.starts_with(p))
    };
    let post = |path: &str, token, content_type, body: Vec<u8>| Req {
        method: "POST",
        peer: to_peers(path),
        path: path.into(),
        token,
        content_type,
        body,
    };
    let get = |path: &str, token| Req {
        method: "GET",
        peer: to_peers(path),
        path: path.into(),
        token,
        content_type: "text/plain",
        body: vec![],
    };
    let _ = nato;
    vec![
        post("/federation/v1/push", false, "application/json", serde_json::to_vec(&update).unwrap()),
        post("/federation/v1/receipt", false, "application/json", serde_json::to_vec(&j!({
            "channel": "nato.mil", "author": "nato", "size": 1, "cosigner": "russia",
            "cosignature": "— russia AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"})).unwrap()),
        post("/federation/v1/ping", false, "text/plain; charset=utf-8",
            format!("parley/link-test/v1\nfrom russia\nto nato\ntime 1\n\n{}", checkpoint.lines().last().unwrap_or("")).into_bytes()),
        post("/witness/v1/add-checkpoint", false, "text/plain", format!("old 0\n\n{checkpoint}").into_bytes()),
        post("/api/v1/entries", true, "application/json", serde_json::to_vec(&j!({
            "channel": "nato.mil", "kind": "hotline_message",
            "body": {"priority": "routine", "text": {"en": "fuzz"}}})).unwrap()),
        post("/api/v1/channels", true, "application/json", serde_json::to_vec(&j!({
            "id": "fuzz", "charter": {"members": ["nato", "russia"], "level": "expert", "languages": ["en"]}})).unwrap()),
        post("/api/v1/channels/nato.mil/suspend", true, "application/json", b"{\"reason\": \"x\"}".to_vec()),
        post("/login", false, "application/x-www-form-urlencoded", b"user=duty&password=wrong".to_vec()),
        get("/federation/v1/feeds/nato.mil/nato?from=0", false),
        get("/tlog/nato.mil/nato/tile/0/000.p/2", false),
        get("/tlog/nato.mil/nato/checkpoint", false),
        get("/api/v1/entries/nato.mil/russia/1/proof", true),
        get("/api/v1/obligations?party=russia&at=2026-01-01T00:00:00Z", true),
        get("/entry/nato.mil/russia/1", false),
    ]
}

#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    PathJunk(usize, String),
    Replace(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        2 => any::<usize>().prop_map(Mutation::Truncate),
        2 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, v)| Mutation::Insert(i, v)),
        1 => (any::<usize>(), "[a-z0-9%./?=&-]{0,12}").prop_map(|(i, s)| Mutation::PathJunk(i, s)),
        1 => prop::collection::vec(any::<u8>(), 0..256).prop_map(Mutation::Replace),
    ]
}

fn apply(mut r: Req, muts: &[Mutation]) -> Req {
    for m in muts {
        match m {
            Mutation::FlipBit(i, b) if !r.body.is_empty() => {
                let n = r.body.len();
                r.body[i % n] ^= 1 << b;
            }
            Mutation::Truncate(i) => r.body.truncate(i % (r.body.len() + 1)),
            Mutation::Insert(i, v) => {
                let at = i % (r.body.len() + 1);
                r.body.splice(at..at, v.iter().copied());
            }
            Mutation::PathJunk(i, s) => {
                let mut at = i % (r.path.len() + 1);
                while !r.path.is_char_boundary(at) {
                    at -= 1;
                }
                r.path.insert_str(at.max(1), s);
            }
            Mutation::Replace(v) => r.body = v.clone(),
            Mutation::FlipBit(..) => {}
        }
    }
    r
}

#[test]
fn random_and_mutated_requests_never_break_a_node() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    russia.send_text("nato.mil", "a message to seed the peer requests");
    let rs = russia.feed_size("nato.mil", "russia");
    wait_until(30, "nato to hold russia's message", || {
        nato.feed_size("nato.mil", "russia") == rs
    });
    let seeds = seeds(nato, russia);
    let (rt, console_client) = http();
    let peer_client = net::tls::client(Some(russia));
    let (peer_base, console_base, token) = (nato.url(), nato.console_url(), nato.token());

    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/regressions/api_fuzz.txt",
        ))),
        ..Config::default()
    });
    let statuses = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u64>::new());
    let strategy = (
        0..seeds.len(),
        prop::collection::vec(mutation(), 0..4),
        any::<bool>(),
    );
    let result = runner.run(&strategy, |(i, muts, swap_method)| {
        let mut r = apply(seeds[i].clone(), &muts);
        if swap_method {
            r.method = if r.method == "GET" { "POST" } else { "GET" };
        }
        let (base, client) = if r.peer {
            (&peer_base, &peer_client)
        } else {
            (&console_base, &console_client)
        };
        let url = format!("{base}{}", r.path);
        let answer = rt.block_on(async {
            let Ok(method) = reqwest::Method::from_bytes(r.method.as_bytes()) else {
                return Ok(0);
            };
            let mut req = client
                .request(method, &url)
                .header("content-type", r.content_type)
                .header("origin", base.as_str())
                .body(r.body.clone());
            if r.token {
                req = req.bearer_auth(&token);
            }
            match req.send().await {
                Ok(resp) => {
                    let s = resp.status().as_u16();
                    let _ = resp.bytes().await;
                    Ok(s)
                }
                // A URL reqwest itself refuses to send is not the node's doing.
                Err(e) if e.is_builder() => Ok(0),
                Err(e) => Err(e.to_string()),
            }
        });
        let status = answer
            .map_err(|e| TestCaseError::fail(format!("{} {url}: no answer: {e}", r.method)))?;
        *statuses.borrow_mut().entry(status).or_default() += 1;
        prop_assert!(status < 500, "{} {url} answered {status}", r.method);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Still serving, and nothing it stored is inconsistent.
    assert_eq!(nato.status()["party"], "nato");
    let audit = nato.audit();
    let statuses = statuses.into_inner();
    net::figure(format!(
        "api fuzz: {cases} requests from {} seeds; answers by status {statuses:?}; {} entries audited afterwards",
        seeds.len(),
        audit["entries"]
    ));
}
