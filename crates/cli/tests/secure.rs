//! Secure by default: each finding of the attack on parley's network,
//! console, API and host files, played against running nodes on loopback
//! and now refused or bounded. Every test is bounded in time.

mod net;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use net::forge::{Forge, get, get_as, post, post_as, push};
use net::{Net, Party, connect_from, json, ok, open_channel, parley, wait_until};
use parley_log::{Note, Role, Timestamp};
use serde_json::{Value, json as j};

/// A TCP proxy that forwards to `target` and keeps every byte that
/// crosses it, both ways: what an on-path observer sees.
struct Recorder {
    port: u16,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl Recorder {
    fn start(target: u16) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let s = s.clone();
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16384];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                            s.lock().unwrap().extend_from_slice(&buf[..n]);
                        }
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Recorder { port, seen }
    }

    fn bytes(&self) -> Vec<u8> {
        self.seen.lock().unwrap().clone()
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn body_json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or(Value::String(s.to_string()))
}

/// A node directory that no one pinned: an outsider with its own keys.
fn stranger(net: &Net) -> Party {
    let dir = net.path("stranger");
    json(&[
        "init",
        "--party",
        "stranger",
        "--dir",
        dir.to_str().unwrap(),
        "--listen",
        "127.0.0.1:1",
        "--console",
        "127.0.0.1:2",
    ]);
    Party::at("stranger", &dir)
}

#[test]
fn nodes_speak_mutual_tls_only_to_pinned_peers_and_a_capture_shows_no_message_text() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    // NATO reaches Russia through an on-path recorder; and its address for
    // the OSCE is Russia's port: a server that is not the pinned OSCE.
    let recorder = Recorder::start(net.get("russia").port);
    let (russia_port, nato) = (net.get("russia").port, net.get("nato"));
    nato.repin(
        net.get("russia"),
        &format!("https://127.0.0.1:{}", recorder.port),
    );
    nato.repin(net.get("osce"), &format!("https://127.0.0.1:{russia_port}"));
    net.start_all();
    open_channel(&net);
    let (nato, russia, osce) = (net.get("nato"), net.get("russia"), net.get("osce"));
    let secret = "Unplanned air activity over grid NK-4711 at 14:00Z";
    nato.send_text("nato.mil", secret);
    let n = nato.feed_size("nato.mil", "nato");
    wait_until(30, "russia to hold the message", || {
        russia.feed_size("nato.mil", "nato") == n
    });

    // The capture: TLS records only; no text, kind, channel or origin.
    let seen = recorder.bytes();
    assert!(
        seen.len() > 2000,
        "the capture holds the traffic ({} bytes)",
        seen.len()
    );
    assert_eq!(seen[0], 0x16, "a TLS handshake record opens the connection");
    for needle in [
        secret,
        "NK-4711",
        "hotline_message",
        "nato.mil",
        "parley/",
        "HTTP/1.1",
    ] {
        assert!(!contains(&seen, needle), "the capture shows {needle:?}");
    }
    println!(
        "capture: {} bytes between nato and russia, no message text",
        seen.len()
    );

    // The node that is not the pinned OSCE is never spoken to.
    wait_until(20, "nato to refuse the server posing as osce", || {
        nato.peer_status("osce")["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("pinned node key"))
    });

    // Plain HTTP on the peers' port gets no HTTP answer.
    let mut plain = TcpStream::connect(("127.0.0.1", nato.port)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    plain
        .write_all(b"GET /tlog/nato.mil/nato/checkpoint HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );

    // Whoever is not a pinned peer is refused before its content is read;
    // a pinned peer cannot speak for another.
    let update = nato.feed_update("nato.mil", 0);
    let push_url = format!("{}/federation/v1/push", russia.url());
    let outsider = stranger(&net);
    for (who, status) in [
        (
            None,
            post(
                &push_url,
                update.to_string().into_bytes(),
                "application/json",
            ),
        ),
        (
            Some("stranger"),
            post_as(
                &outsider,
                &push_url,
                update.to_string().into_bytes(),
                "application/json",
            ),
        ),
        (
            Some("osce"),
            post_as(
                osce,
                &push_url,
                update.to_string().into_bytes(),
                "application/json",
            ),
        ),
    ] {
        let (s, body) = status;
        assert_eq!(
            (s, body_json(&body)["error"].as_str()),
            (401, Some("not_authenticated")),
            "{who:?} pushing nato's feed: {body}"
        );
    }
    let receipt = j!({"channel": "nato.mil", "author": "nato", "size": n, "cosigner": "russia", "cosignature": "— russia/receipt AAAA\n"});
    let (s, body) = post_as(
        osce,
        &format!("{}/federation/v1/receipt", nato.url()),
        receipt.to_string().into_bytes(),
        "application/json",
    );
    assert_eq!(
        (s, body_json(&body)["error"].as_str()),
        (401, Some("not_authenticated")),
        "{body}"
    );
    // Peers' URLs are https: a plain one is refused unless the operator
    // chose plaintext.
    let o = parley(&[
        "peer",
        "add",
        "--dir",
        nato.d(),
        "--identity",
        &russia.identity,
        "--url",
        "http://127.0.0.1:9",
        "--replace",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("mutual TLS"));
}

/// A form body (names and values here are plain ASCII words and spaces).
fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
        .collect::<Vec<_>>()
        .join("&")
}

/// Posts the sign-in form from `from` (a loopback address); returns the
/// status and how long the answer took.
fn sign_in(
    p: &Party,
    from: [u8; 4],
    name: &str,
    password: &str,
) -> (u16, Duration, Option<String>) {
    let (rt, _) = net::http();
    let client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(from))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    rt.block_on(async {
        let t = Instant::now();
        let r = client
            .post(format!("{}/login", p.console_url()))
            .header("origin", p.console_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("name", name), ("password", password)]))
            .send()
            .await
            .unwrap();
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_string);
        (r.status().as_u16(), t.elapsed(), cookie)
    })
}

#[test]
fn sign_in_floods_are_bounded_throttled_and_do_not_tell_which_names_exist() {
    let mut net = Net::new(&["nato"]);
    for (user, role) in [
        ("duty", "duty_officer"),
        ("officer", "duty_officer"),
        ("admin", "administrator"),
    ] {
        net.get("nato").add_user(user, role);
    }
    net.p("nato").start();
    let nato = net.get("nato");
    const PW: &str = "correct horse battery";

    // Timing: a real name with a wrong password and an unknown name cost
    // the same (each from its own address, under the lockout threshold).
    let mean = |name: &dyn Fn(u8) -> String, net3: u8| -> f64 {
        let times: Vec<f64> = (1..=4)
            .map(|i| {
                let (s, t, _) = sign_in(nato, [127, 0, net3, i], &name(i), "wrong password");
                assert_eq!(s, 401);
                t.as_secs_f64()
            })
            .collect();
        times.iter().sum::<f64>() / times.len() as f64
    };
    let known = mean(&|_| "duty".to_string(), 2);
    let unknown = mean(&|i| format!("ghost{i}"), 3);
    let ratio = known / unknown;
    println!(
        "sign-in timing: real name {:.1} ms, unknown name {:.1} ms (ratio {ratio:.2})",
        known * 1e3,
        unknown * 1e3
    );
    assert!(
        (0.33..3.0).contains(&ratio),
        "timing tells names apart: ratio {ratio:.2}"
    );

    // Throttling: 30 wrong passwords, then the right one, are refused;
    // the lockout holds for the account from any address.
    let statuses: Vec<u16> = (0..30)
        .map(|_| sign_in(nato, [127, 0, 4, 1], "officer", "wrong password").0)
        .collect();
    assert!(statuses[..5].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(sign_in(nato, [127, 0, 4, 1], "officer", PW).0, 429);
    assert_eq!(
        sign_in(nato, [127, 0, 4, 2], "officer", PW).0,
        429,
        "locked from any address"
    );
    // ...and so does an unknown name's: lockouts do not tell names apart.
    for _ in 0..5 {
        sign_in(nato, [127, 0, 4, 3], "nobody", "wrong password");
    }
    assert_eq!(sign_in(nato, [127, 0, 4, 4], "nobody", "x").0, 429);

    // A flood: 3 rounds of 96 concurrent failed sign-ins, each from its own
    // address and name. Memory stays bounded (the node checks at most two
    // passwords at once); the node still signs in a real user afterwards.
    let before = nato.rss_kib();
    for round in 0..3u8 {
        let threads: Vec<_> = (0..96u8)
            .map(|i| {
                let p = Party::at("nato", &nato.dir);
                std::thread::spawn(move || {
                    sign_in(
                        &p,
                        [127, 1, round, i + 1],
                        &format!("flood{round}x{i}"),
                        "wrong",
                    )
                    .0
                })
            })
            .collect();
        for t in threads {
            let s = t.join().unwrap();
            assert!(matches!(s, 401 | 429 | 503), "{s}");
        }
    }
    let peak = nato.peak_rss_kib();
    println!(
        "sign-in flood: 288 failed sign-ins, 96 at a time: resident {} MiB before, peak {} MiB (bound 200 MiB)",
        before / 1024,
        peak / 1024
    );
    assert!(peak < 200 * 1024, "peak resident memory {peak} KiB");
    let (s, _, cookie) = sign_in(nato, [127, 0, 0, 1], "admin", PW);
    assert_eq!((s, cookie.is_some()), (303, true));
}

#[test]
fn slow_idle_and_flooding_clients_are_cut_off_and_others_are_served() {
    let mut net = Net::new(&["nato"]);
    net.get("nato")
        .configure("header_timeout_secs = 10", "header_timeout_secs = 2");
    net.get("nato")
        .configure("request_timeout_secs = 30", "request_timeout_secs = 2");
    net.p("nato").start();
    let nato = net.get("nato");
    // A body trickled to the console is timed out like a peer's (408).
    let mut s = TcpStream::connect(("127.0.0.1", nato.console_port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.write_all(b"POST /login HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 1000\r\n\r\n")
        .unwrap();
    let t = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while t.elapsed() < Duration::from_secs(15) && !answer.windows(2).any(|w| w == b"\r\n") {
        let _ = s.write_all(b"n");
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        if let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
    }
    let line = String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    assert!(
        line.contains("408"),
        "a trickled body: {line:?} after {:?}",
        t.elapsed()
    );
    // Headers trickled one byte every 500 ms: cut off after the header
    // timeout, on the console, and on the peers' port a TLS handshake
    // trickled the same way (a record header announcing a ClientHello).
    let http_head =
        b"GET /login HTTP/1.1\r\nhost: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            .to_vec();
    let mut tls_head = vec![
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ];
    tls_head.extend([0u8; 48]);
    for (port, head) in [(nato.console_port, http_head), (nato.port, tls_head)] {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let t = Instant::now();
        let mut cut = false;
        for b in &head {
            if s.write_all(&[*b]).is_err() {
                cut = true;
                break;
            }
            let mut buf = [0u8; 256];
            match s.read(&mut buf) {
                Ok(0) => {
                    cut = true;
                    break;
                }
                Ok(_) => {}
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => {
                    cut = true;
                    break;
                }
            }
            if t.elapsed() > Duration::from_secs(20) {
                break;
            }
        }
        assert!(
            cut,
            "port {port}: a trickling client was still connected after {:?}",
            t.elapsed()
        );
        assert!(
            t.elapsed() >= Duration::from_millis(1500),
            "port {port}: cut before the timeout, for another reason"
        );
        println!(
            "port {port}: a trickling client was cut off after {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    // 300 idle connections from another host on each port: this host is
    // still served on both.
    let idle: Vec<TcpStream> = [nato.console_port, nato.port]
        .iter()
        .flat_map(|port| (0..300).map(|_| connect_from([127, 0, 0, 2], *port)))
        .collect();
    assert_eq!(nato.status()["party"], "nato");
    let (s, body) = get_as(
        nato,
        &format!("{}/tlog/nowhere/nato/checkpoint", nato.url()),
    );
    assert!(matches!(s, 403 | 404), "{s} {body}");
    drop(idle);
}

#[test]
fn replayed_reads_and_link_tests_are_refused_and_entries_from_the_future_leave_evidence() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    let (rt, _) = net::http();
    let as_russia = net::tls::client(Some(russia));

    // A captured read request works once.
    let feed = parley_store::FeedId::new("nato.mil", "nato");
    let header =
        parley_node::federation::reader::request(&russia.role_key(Role::Node), "russia", &feed, 0);
    let url = format!("{}/federation/v1/feeds/nato.mil/nato?from=0", nato.url());
    let read = |h: &str| {
        rt.block_on(async {
            let r = as_russia
                .get(&url)
                .header(parley_node::federation::reader::HEADER, h)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    };
    assert_eq!(read(&header).0, 200);
    let (s, body) = read(&header);
    assert_eq!(s, 400);
    assert!(body.contains("replay"), "{body}");

    // A captured link test works once.
    let text = format!(
        "parley/link-test/v1\nfrom russia\nto nato\ntime {}\nnonce 00112233445566778899aabbccddeeff\n",
        Timestamp::now().unix()
    );
    let mut note = Note::new(&text).unwrap();
    note.sign(&russia.role_key(Role::Node));
    let ping = |n: &Note| {
        post_as(
            russia,
            &format!("{}/federation/v1/ping", nato.url()),
            n.to_string().into_bytes(),
            "text/plain",
        )
    };
    assert_eq!(ping(&note).0, 200);
    let (s, body) = ping(&note);
    assert_eq!(s, 400);
    assert!(body.contains("replay"), "{body}");

    // A suspension dated 2099: refused, nothing stored, evidence kept.
    let mut f = Forge::from_node(russia.key(), "nato.mil", russia);
    let before = f.entries.len() as u64;
    let mut e = f.entry("channel_suspension", j!({"reason": "forever"}));
    e.time = Timestamp::parse("2099-01-01T00:00:00Z").unwrap();
    f.push_bytes(e.encode().unwrap());
    let (s, r) = push(nato, &f.update(before));
    assert_eq!(
        (s, r["error"].as_str()),
        (422, Some("from_the_future")),
        "{r}"
    );
    assert!(r["message"].as_str().unwrap().contains("2099"), "{r}");
    assert_eq!(nato.feed_size("nato.mil", "russia"), before);
    let evidence = json(&["evidence", "list", "--dir", nato.d()]);
    let ev = evidence
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "future_dated")
        .unwrap_or_else(|| panic!("no evidence: {evidence}"));
    assert_eq!(ev["party"], "russia");
    let exported = ok(&[
        "evidence",
        "export",
        "--dir",
        nato.d(),
        &ev["id"].to_string(),
    ]);
    assert!(
        exported.contains("parley-future-dated/v1") && exported.contains("2099-01-01T00:00:00Z")
    );
    assert_eq!(
        json(&["channel", "list", "--dir", nato.d()])[0]["state"],
        "active"
    );
}

#[test]
fn a_pushed_charter_cannot_take_a_channel_name_and_empty_feeds_are_not_stored() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    let charter = j!({"members": ["nato", "russia"], "witnesses": [], "level": "military", "languages": ["en"]});
    for id in ["squat", "nato.squat"] {
        let mut f = Forge::new(russia.key(), id);
        let e = f.entry("channel_charter", charter.clone());
        f.push_bytes(e.encode().unwrap());
        let (s, r) = push(nato, &f.update(0));
        assert_eq!(
            (s, r["error"].as_str()),
            (422, Some("invalid_entry")),
            "{id}: {r}"
        );
        assert_eq!(r["violations"][0]["field"], "channel", "{r}");
    }
    // NATO's own channel of that name is NATO's.
    let created = json(&[
        "channel",
        "create",
        "--dir",
        nato.d(),
        "--id",
        "squat",
        "--members",
        "nato,russia",
        "--level",
        "military",
        "--languages",
        "en",
    ]);
    assert!(created.to_string().contains("nato.squat"), "{created}");
    // Empty feeds of channels nobody made: neither stored nor receipted.
    for id in ["russia.zz1", "russia.zz2"] {
        let mut f = Forge::new(russia.key(), id);
        let (s, r) = push(nato, &f.update(0));
        assert_eq!(s, 400, "{id}: {r}");
    }
    let feeds: Vec<String> = nato
        .store()
        .feeds()
        .unwrap()
        .into_iter()
        .map(|(f, _)| f.channel)
        .collect();
    assert!(
        !feeds.iter().any(|c| c.starts_with("russia.zz")),
        "{feeds:?}"
    );
}

#[cfg(unix)]
#[test]
fn files_holding_content_or_secrets_are_owner_only_and_serve_refuses_exposed_ones() {
    use std::os::unix::fs::PermissionsExt;
    let mut net = Net::new(&["nato"]);
    net.get("nato").add_user("duty", "duty_officer");
    net.p("nato").start();
    let nato = net.get("nato");
    let out = net.path("nato.backup");
    ok(&["backup", "--dir", nato.d(), "--out", out.to_str().unwrap()]);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // On PostgreSQL the record is the server's, not a file here.
    let sqlite = !net::on_postgres();
    for f in [
        "parley.db",
        "parley.db-wal",
        "parley.db-shm",
        "api.token",
        "parley.toml",
        "tokens/duty.token",
    ] {
        if sqlite || !f.starts_with("parley.db") {
            assert_eq!(mode(&nato.dir.join(f)), 0o600, "{f}");
        }
    }
    assert_eq!(mode(&nato.dir.join("tokens")), 0o700);
    assert_eq!(mode(&out), 0o600, "the backup");
    net.p("nato").stop();
    let nato = net.get("nato");
    for f in ["api.token", "parley.db", "parley.toml"] {
        if !sqlite && f == "parley.db" {
            continue;
        }
        let path = nato.dir.join(f);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = parley(&["serve", "--dir", nato.d()]);
        assert_eq!(o.status.code(), Some(4), "{f}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("readable by other users") && err.contains(f),
            "{err}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
fn a_peers_control_characters_never_reach_the_terminal_and_the_console_marks_bidi() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.get("nato").add_user("duty", "duty_officer");
    net.start_all();
    open_channel(&net);
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    let hostile = "ok\u{1b}[2K\u{1b}[1A\u{1b}[31mALL CLEAR\u{1b}]0;pwned\u{7} \u{9b}2J 1 \u{202e}0001\u{202c} km";
    // Sent as a hostile peer would: straight into its signed feed.
    let mut f = Forge::from_node(russia.key(), "nato.mil", russia);
    let before = f.entries.len() as u64;
    let e = f.entry(
        "hotline_message",
        j!({"priority": "routine", "text": {"en": hostile}}),
    );
    f.push_bytes(e.encode().unwrap());
    let (s, r) = push(nato, &f.update(before));
    assert_eq!(s, 200, "{r}");
    let id = format!("nato.mil/russia/{before}");
    for args in [
        vec!["inbox", "--dir", nato.d()],
        vec!["show", "--dir", nato.d(), &id],
        vec!["show", "--dir", nato.d(), &id, "--json"],
        vec!["inbox", "--dir", nato.d(), "--json"],
    ] {
        let o = parley(&args);
        assert!(o.status.success(), "{args:?}");
        let out = String::from_utf8(o.stdout).unwrap();
        assert!(
            !out.chars()
                .any(|c| matches!(c, '\u{1b}' | '\u{7}' | '\u{9b}' | '\u{202e}' | '\u{202c}')),
            "{args:?} wrote a control character: {out:?}"
        );
        assert!(out.contains("ALL CLEAR"), "{args:?}: {out}");
    }
    let shown = ok(&["show", "--dir", nato.d(), &id]);
    assert!(
        shown.contains("\\u{1b}[31m") && shown.contains("\\u{202e}"),
        "{shown}"
    );
    let as_json = json(&["show", "--dir", nato.d(), &id]);
    assert!(
        as_json.to_string().contains("ALL CLEAR"),
        "the JSON value is intact"
    );

    // The console shows the override as a marked tag, never applied.
    let (_, _, cookie) = sign_in(nato, [127, 0, 0, 1], "duty", "correct horse battery");
    let (rt, c) = net::http();
    let page = rt.block_on(async {
        c.get(format!("{}/entry/{id}", nato.console_url()))
            .header("cookie", cookie.unwrap())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(
        page.contains("class=\"bidi\"") && page.contains("⟨RLO⟩"),
        "{page}"
    );
    assert!(!page.contains('\u{202e}'));
}

#[test]
fn api_tokens_act_for_named_users_with_their_roles_and_every_action_is_logged() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    for (u, r) in [
        ("duty", "duty_officer"),
        ("signatory", "signatory"),
        ("diplomat", "diplomat"),
    ] {
        net.get("nato").add_user(u, r);
    }
    net.start_all();
    open_channel(&net);
    let nato = net.get("nato");
    let (draft_body, sign_body) = (net.path("draft.json"), net.path("sign.json"));
    std::fs::write(
        &draft_body,
        r#"{"document": "t", "title": "T", "version": "v1", "signatories": ["nato", "russia"], "text": {"en": "1."}}"#,
    )
    .unwrap();
    std::fs::write(&sign_body, r#"{"signed_by": "Secretary General"}"#).unwrap();
    let draft = json(&[
        "send",
        "--dir",
        nato.d(),
        "--channel",
        "nato.mil",
        "--kind",
        "draft_document",
        "--body",
        draft_body.to_str().unwrap(),
    ]);
    let draft_id = draft["id"].as_str().unwrap().to_string();
    let sign = |user: Option<&str>| {
        let mut args = vec![];
        if let Some(u) = user {
            args.extend(["--as", u]);
        }
        args.extend([
            "send",
            "--dir",
            nato.d(),
            "--channel",
            "nato.mil",
            "--kind",
            "draft_signature",
            "--ref",
            &draft_id,
            "--body",
            sign_body.to_str().unwrap(),
        ]);
        parley(&args)
    };
    // The node's own token is the operator's (an administrator): no signing.
    for user in [None, Some("duty"), Some("diplomat")] {
        let o = sign(user);
        assert!(!o.status.success(), "{user:?} signed");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("may not send draft_signature"),
            "{user:?}"
        );
    }
    assert!(sign(Some("signatory")).status.success());
    // A token that is nobody's is refused.
    std::fs::write(nato.dir.join("tokens/ghost.token"), "0".repeat(64)).unwrap();
    assert!(
        !parley(&["--as", "ghost", "status", "--dir", nato.d()])
            .status
            .success()
    );

    let log = json(&["audit-log", "--dir", nato.d()]);
    let rows = log.as_array().unwrap();
    let find = |user: &str, outcome: &str| {
        rows.iter()
            .find(|r| {
                r["user"] == user
                    && r["action"] == "send draft_signature"
                    && r["outcome"].as_str().unwrap().starts_with(outcome)
            })
            .unwrap_or_else(|| panic!("no {user} {outcome} in {log}"))
    };
    let signed = find("signatory", "ok");
    assert!(
        signed["entry"]
            .as_str()
            .unwrap()
            .starts_with("nato.mil/nato/")
    );
    assert!(signed["client"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert_eq!(signed["role"], "signatory");
    find("duty", "refused");
    find("operator", "refused");
    assert!(rows.iter().any(
        |r| r["action"] == "user-add" && r["target"].as_str().unwrap().starts_with("signatory")
    ));
    assert!(rows.iter().any(|r| r["action"] == "send channel_charter"
        && r["user"] == "operator"
        && r["outcome"] == "ok"));
    let text = ok(&["audit-log", "--dir", nato.d(), "--user", "signatory"]);
    assert!(
        text.contains("send draft_signature") && !text.contains("duty"),
        "{text}"
    );
}

#[test]
fn console_answers_carry_security_headers_and_sign_out_ends_the_session_on_the_server() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.get("nato").add_user("duty", "duty_officer");
    net.start_all();
    open_channel(&net);
    let (nato, russia, osce) = (net.get("nato"), net.get("russia"), net.get("osce"));
    let (rt, c) = net::http();
    let headers = rt.block_on(async {
        c.get(format!("{}/login", nato.console_url()))
            .send()
            .await
            .unwrap()
            .headers()
            .clone()
    });
    let h = |n: &str| {
        headers
            .get(n)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert!(
        h("content-security-policy").contains("frame-ancestors 'none'"),
        "{headers:?}"
    );
    assert!(h("content-security-policy").contains("script-src 'self'"));
    assert_eq!(h("x-frame-options"), "DENY");
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("referrer-policy"), "same-origin");
    assert_eq!(h("cache-control"), "no-store");

    let (_, _, cookie) = sign_in(nato, [127, 0, 0, 1], "duty", "correct horse battery");
    let cookie = cookie.unwrap();
    let inbox = |cookie: &str| {
        let c = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        rt.block_on(async {
            c.get(format!("{}/inbox", nato.console_url()))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    assert_eq!(inbox(&cookie), 200);
    rt.block_on(async {
        c.post(format!("{}/logout", nato.console_url()))
            .header("cookie", &cookie)
            .header("origin", nato.console_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", "wrong")]))
            .send()
            .await
            .unwrap()
    });
    assert_ne!(
        inbox(&cookie),
        200,
        "the session still works after sign-out"
    );

    // Tiles and checkpoints: members and witnesses only, unless opened.
    let url = format!("{}/tlog/nato.mil/nato/checkpoint", nato.url());
    assert_eq!(get(&url).0, 403, "an outsider reads the checkpoint");
    assert_eq!(
        get(&format!("{}/tlog/nato.none/nato/checkpoint", nato.url())).0,
        403,
        "existence leaks"
    );
    assert_eq!(get_as(russia, &url).0, 200);
    assert_eq!(get_as(osce, &url).0, 200);
    net.p("nato").stop();
    let nato = net.get("nato");
    nato.configure("[tlog]", "[tlog]\npublic_channels = [\"nato.mil\"]");
    net.p("nato").start();
    assert_eq!(get(&url).0, 200, "opened by the operator");
    let status = ok(&["status", "--dir", net.get("nato").d()]);
    assert!(
        !status.contains("tlog.public is set"),
        "only one channel was opened: {status}"
    );
}

#[cfg(unix)]
#[test]
fn the_console_serves_https_with_its_own_certificate_which_the_cli_pins() {
    use std::os::unix::fs::PermissionsExt;
    let mut net = Net::new(&["nato"]);
    net.get("nato").add_user("duty", "duty_officer");
    let nato = net.get("nato");
    // A certificate from any CA (here self-signed), for a name the CLI
    // does not connect by.
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["console.nato.example".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(nato.dir.join("console.crt"), cert.pem()).unwrap();
    std::fs::write(nato.dir.join("console.key"), key.serialize_pem()).unwrap();
    let key_file = nato.dir.join("console.key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let listen = format!("listen = \"127.0.0.1:{}\"", nato.console_port);
    nato.configure(
        &listen,
        &format!("{listen}\ntls_certificate = \"console.crt\"\ntls_key = \"console.key\""),
    );
    net.p("nato").start(); // waits for `parley status`: the CLI pinned the certificate
    let nato = net.get("nato");
    let https = format!("https://127.0.0.1:{}", nato.console_port);
    let (rt, c) = net::http();
    let (status, cookie) = rt.block_on(async {
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tls_backend_preconfigured(
                rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates({
                    let mut roots = rustls::RootCertStore::empty();
                    roots.add(cert.der().clone()).unwrap();
                    roots
                })
                .with_no_client_auth(),
            )
            .resolve(
                "console.nato.example",
                ([127, 0, 0, 1], nato.console_port).into(),
            )
            .build()
            .unwrap()
            .post(format!(
                "https://console.nato.example:{}/login",
                nato.console_port
            ))
            .header(
                "origin",
                format!("https://console.nato.example:{}", nato.console_port),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("name", "duty"),
                ("password", "correct horse battery"),
            ]))
            .send()
            .await
            .unwrap();
        let cookie = r
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_string());
        (r.status().as_u16(), cookie)
    });
    assert_eq!(status, 303, "a browser trusting the certificate signs in");
    assert!(
        cookie.unwrap().contains("Secure"),
        "the session cookie is Secure over HTTPS"
    );
    // Plain HTTP on the console's port gets no page.
    let plain = rt.block_on(async {
        c.get(format!("http://127.0.0.1:{}/login", nato.console_port))
            .send()
            .await
    });
    assert!(plain.map(|r| r.status().as_u16() != 200).unwrap_or(true));
    assert_eq!(json(&["status", "--dir", nato.d()])["console"], https);
    // A key others can read: refused.
    net.p("nato").stop();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = parley(&["serve", "--dir", net.get("nato").d()]);
    assert_eq!(o.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&o.stderr).contains("console.key"));
}

#[test]
fn a_pinned_party_outside_a_channel_reads_none_of_it_and_a_removed_users_token_stops_working() {
    let mut net = Net::new(&["nato", "russia", "osce", "ukraine"]);
    net.get("nato").add_user("duty", "duty_officer");
    net.start_all();
    open_channel(&net);
    let (nato, ukraine) = (net.get("nato"), net.get("ukraine"));
    // Ukraine is pinned by NATO, but neither a member nor a witness of
    // nato.mil: its certificate opens no tiles and no entries.
    let url = format!("{}/tlog/nato.mil/nato/checkpoint", nato.url());
    assert_eq!(get_as(ukraine, &url).0, 403);
    let tile = format!("{}/tlog/nato.mil/nato/tile/0/000.p/1", nato.url());
    assert_eq!(get_as(ukraine, &tile).0, 403);
    let (s, r) = nato.feed_update_for(ukraine, "nato.mil", 0);
    assert_eq!((s, r["error"].as_str()), (403, Some("not_member")), "{r}");
    // A user removed from the node: the token they kept a copy of is
    // refused at once.
    assert!(
        parley(&["--as", "duty", "status", "--dir", nato.d()])
            .status
            .success()
    );
    let token = nato.dir.join("tokens/duty.token");
    let kept = std::fs::read(&token).unwrap();
    ok(&["user", "remove", "--dir", nato.d(), "--name", "duty"]);
    assert!(!token.exists(), "the token file goes with the user");
    std::fs::write(&token, kept).unwrap();
    let o = parley(&["--as", "duty", "status", "--dir", nato.d()]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("API token"),
        "{o:?}"
    );
}
