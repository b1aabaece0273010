//! Bad input from peers and equivocating peers, sent over real HTTP to
//! real nodes. Each bad input is refused with its machine-readable reason
//! and leaves the receiver's database unchanged; a party that signs two
//! forks is caught by the peer and by the witness.

mod net;

use net::forge::{Forge, get, http, post, post_as, push};
use net::{Net, Party, json, ok, open_channel, parley, wait_until};
use parley_log::witness::format_add_checkpoint;
use parley_log::{Hash, SigningKey, feed_origin};
use serde_json::{Value, json as j};

/// The party's log key (it signs the party's feeds' checkpoints).
fn key_of(p: &Party) -> SigningKey {
    p.key()
}

/// Announces a push of `len` bytes over TLS as `from`; returns the whole answer.
fn oversized_push(from: &Party, port: u16, len: usize) -> String {
    let head = format!(
        "POST /federation/v1/push HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
    );
    net::tls::exchange(
        from,
        port,
        &head,
        vec![vec![b' '; 1 << 20]; 4],
        std::time::Duration::ZERO,
    )
}

/// What a receiver holds: every feed's size and root, entry and evidence counts.
fn snapshot(p: &Party) -> (Vec<(String, u64, String)>, usize, usize) {
    let s = p.store();
    let feeds = s
        .feeds()
        .unwrap()
        .into_iter()
        .map(|(f, h)| {
            (
                format!("{}/{}", f.channel, f.author),
                h.size,
                h.root.to_hex(),
            )
        })
        .collect();
    (
        feeds,
        s.recent(None, 100_000).unwrap().len(),
        s.evidence().unwrap().len(),
    )
}

#[test]
fn every_bad_input_is_refused_with_its_reason_and_changes_nothing() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    net.get("nato").send_text("nato.mil", "one real message");
    let nato_key = key_of(net.get("nato"));
    let osce_key = key_of(net.get("osce"));
    let honest = Forge::from_node(nato_key.clone(), "nato.mil", net.get("nato"));
    let russia = net.get("russia");
    wait_until(20, "russia to hold nato's feed", || {
        russia.feed_size("nato.mil", "nato") == honest.tree.size()
    });
    net.p("nato").stop();
    let russia = net.get("russia");
    let n = honest.tree.size();
    let mut before = snapshot(russia);

    let mut cases: Vec<(&str, u16, &str, Value)> = Vec::new();

    // Not JSON at all.
    cases.push((
        "malformed body",
        400,
        "bad_request",
        Value::String("{not json".into()),
    ));

    // An author this node never pinned.
    let mut stranger = Forge::new(SigningKey::generate("stranger").unwrap(), "nato.mil");
    stranger.message("hello");
    // Not a pinned party: refused at the door, before its content is read.
    cases.push((
        "unknown party",
        401,
        "not_authenticated",
        stranger.update(0),
    ));

    // nato's name, another key.
    let mut impostor = honest.clone();
    impostor.key = SigningKey::generate("nato").unwrap();
    impostor.message("forged");
    cases.push(("bad signature", 403, "bad_signature", impostor.update(n)));

    // An entry with a space that canonical JSON does not have.
    let mut f = honest.clone();
    let e = f.entry(
        "hotline_message",
        j!({"priority": "routine", "text": {"en": "x"}}),
    );
    let spaced =
        String::from_utf8(e.encode().unwrap())
            .unwrap()
            .replacen("{\"author\"", "{ \"author\"", 1);
    f.push_bytes(spaced.into_bytes());
    cases.push(("non-canonical entry", 400, "non_canonical", f.update(n)));

    // A gap: the entry claims a sequence number beyond the next.
    let mut f = honest.clone();
    let mut e = f.entry(
        "hotline_message",
        j!({"priority": "routine", "text": {"en": "x"}}),
    );
    e.seq += 1;
    f.push_bytes(e.encode().unwrap());
    cases.push(("gap in sequence", 400, "bad_sequence", f.update(n)));

    // A replay: an old entry sent again as the next one.
    let mut f = honest.clone();
    let old = f.entries[1].clone();
    f.push_bytes(old);
    cases.push(("replay in sequence", 400, "bad_sequence", f.update(n)));

    // A push that does not start where the receiver is.
    let mut f = honest.clone();
    f.message("a");
    f.message("b");
    let mut skip = f.update(n);
    skip["old_size"] = j!(n + 1);
    skip["entries"] = j!([skip["entries"][1].clone()]);
    cases.push(("skipped entries", 409, "size_mismatch", skip));

    // Entries that do not hash to the signed root.
    let mut f = honest.clone();
    f.message("signed");
    let mut u = f.update(n);
    let mut other = honest.clone();
    other.message("sent instead");
    u["entries"] = other.update(n)["entries"].clone();
    cases.push((
        "entries not matching the checkpoint",
        422,
        "root_mismatch",
        u,
    ));

    // A consistency proof that does not verify.
    let mut f = honest.clone();
    f.message("x");
    let mut u = f.update(n);
    u["consistency"] = j!([Hash([7; 32]).to_base64()]);
    cases.push((
        "inconsistent checkpoint proof",
        422,
        "bad_consistency_proof",
        u,
    ));

    // A pinned party that is not a member of the channel.
    let mut outsider = Forge::new(osce_key, "nato.mil");
    outsider.message("let me in");
    cases.push(("non-member author", 403, "not_member", outsider.update(0)));

    // An entry that breaks its kind's rules.
    let mut f = honest.clone();
    let e = f.entry(
        "hotline_message",
        j!({"priority": "urgent", "text": {"en": "x"}}),
    );
    f.push_bytes(e.encode().unwrap());
    cases.push(("invalid entry", 422, "invalid_entry", f.update(n)));

    for (what, status, reason, body) in &cases {
        let (got, answer) = match body {
            Value::String(raw) => {
                let (s, b) = post_as(
                    net.get("nato"),
                    &format!("{}/federation/v1/push", russia.url()),
                    raw.clone().into_bytes(),
                    "application/json",
                );
                (s, serde_json::from_str(&b).unwrap())
            }
            u => push(russia, u),
        };
        assert_eq!(got, *status, "{what}: {answer}");
        assert_eq!(answer["error"], *reason, "{what}: {answer}");
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: a message for people"
        );
        let (feeds, entries, evidence) = snapshot(russia);
        assert_eq!(
            (feeds, entries),
            (before.0.clone(), before.1),
            "{what} changed the receiver's database"
        );
        // A validly signed checkpoint whose proof fails is kept as an
        // unproven alarm (it may be a fork the proof does not show); every
        // other bad input leaves no trace.
        let alarm = usize::from(*what == "inconsistent checkpoint proof");
        assert_eq!(evidence, before.2 + alarm, "{what}: evidence");
        before.2 = evidence;
    }

    // Larger than any legitimate push: refused on its announced length,
    // before the body is read (so the answer may cut the upload short).
    let b = oversized_push(net.get("nato"), russia.port, 25 * 1024 * 1024);
    assert!(b.starts_with("HTTP/1.1 413"), "{b}");
    let body = &b[b.find("\r\n\r\n").unwrap() + 4..];
    assert_eq!(
        serde_json::from_str::<Value>(body).unwrap()["error"],
        "too_large"
    );
    assert_eq!(snapshot(russia), before);

    // Every refusal is in the receiver's log with its reason.
    let log = russia.log();
    for (_, _, reason, _) in &cases {
        assert!(
            log.contains(&format!("reason=\"{reason}\""))
                || log.contains(&format!("reason={reason}")),
            "{reason} not logged"
        );
    }

    // The honest continuation still goes through, and the same push twice
    // changes nothing (the same receipt comes back).
    let mut f = honest.clone();
    f.message("honest");
    let u = f.update(n);
    let (s1, r1) = push(russia, &u);
    let (s2, r2) = push(russia, &u);
    assert_eq!((s1, s2), (200, 200), "{r1} {r2}");
    assert_eq!(r1["cosignature"], r2["cosignature"]);
    assert_eq!(russia.feed_size("nato.mil", "nato"), n + 1);
}

#[test]
fn an_equivocating_party_is_caught_by_the_peer_and_the_witness() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    net.get("nato").send_text("nato.mil", "before the fork");
    let nato_key = key_of(net.get("nato"));
    let base = Forge::from_node(nato_key, "nato.mil", net.get("nato"));
    let n = base.tree.size();
    let origin = feed_origin("nato.mil", "nato");
    let (russia, osce) = (net.get("russia"), net.get("osce"));
    let witnessed_size = || {
        let (s, body) = get(&format!(
            "{}/witness/v1/{}/checkpoint",
            osce.url(),
            parley_log::witness::origin_hash(&origin)
        ));
        if s != 200 {
            return 0;
        }
        body.lines().nth(1).unwrap().parse::<u64>().unwrap()
    };
    wait_until(20, "russia and the witness to reach nato's size", || {
        russia.feed_size("nato.mil", "nato") == n && witnessed_size() == n
    });
    net.p("nato").stop();
    let (russia, osce) = (net.get("russia"), net.get("osce"));

    // The helper signs two forks of nato's feed at the same size.
    let mut fork_a = base.clone();
    fork_a.message("we accept the invitation");
    let mut fork_b = base.clone();
    fork_b.message("we decline the invitation");
    // Fork B goes to the witness...
    let proof_b = fork_b.tree.consistency_proof(n, n + 1).unwrap();
    let body = format_add_checkpoint(n, &proof_b, &fork_b.checkpoint());
    let (s, lines) = post(
        &format!("{}/witness/v1/add-checkpoint", osce.url()),
        body.into_bytes(),
        "text/plain",
    );
    assert_eq!(s, 200, "the witness cosigns fork B: {lines}");
    // ...fork A to the peer.
    let (s, r) = push(russia, &fork_a.update(n));
    assert_eq!(s, 200, "{r}");

    // The peer submits what it holds to the witness: the witness catches the
    // fork, and so does the peer (it reads the witness's checkpoint).
    wait_until(30, "the witness to record the fork", || {
        !osce.store().evidence().unwrap().is_empty()
    });
    wait_until(30, "the peer to record the fork", || {
        !russia.store().evidence().unwrap().is_empty()
    });
    // Fork B pushed straight to the peer is refused as equivocation.
    let (s, r) = push(russia, &fork_b.update(n));
    assert_eq!((s, r["error"].as_str()), (409, Some("equivocation")), "{r}");
    assert_eq!(
        russia.feed_size("nato.mil", "nato"),
        n + 1,
        "the peer kept fork A only"
    );

    for p in [russia, osce] {
        let status = ok(&["status", "--dir", p.d()]);
        assert!(
            status.contains("ALARM: equivocation by nato"),
            "{}: {status}",
            p.name
        );
        let list = json(&["evidence", "list", "--dir", p.d()]);
        for e in list.as_array().unwrap() {
            assert_eq!(e["party"], "nato");
            let file = net.path(&format!("evidence-{}-{}.json", p.name, e["id"]));
            std::fs::write(
                &file,
                ok(&["evidence", "export", "--dir", p.d(), &e["id"].to_string()]),
            )
            .unwrap();
            let f = file.to_str().unwrap();
            let nato_identity = net.get("nato").identity.clone();
            let out = ok(&["evidence", "verify", f, "--vkey", &nato_identity]);
            assert!(out.starts_with("proven: nato signed"), "{out}");
            // It proves nothing against anyone else.
            let o = parley(&[
                "evidence",
                "verify",
                f,
                "--vkey",
                &net.get("russia").identity,
            ]);
            assert_eq!(o.status.code(), Some(1));
        }
    }
    assert!(russia.log().contains("EQUIVOCATION"));
    assert!(osce.log().contains("EQUIVOCATION"));
}

#[test]
fn the_witness_speaks_c2sp_status_codes_over_http() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.p("osce").start();
    let osce = net.get("osce");
    let url = format!("{}/witness/v1/add-checkpoint", osce.url());
    let mut feed = Forge::new(key_of(net.get("nato")), "nato.mil");
    for i in 0..5 {
        feed.message(&format!("m{i}"));
    }
    let send = |old: u64, proof: &[Hash], note: &str| {
        post(
            &url,
            format_add_checkpoint(old, proof, note).into_bytes(),
            "text/plain",
        )
    };

    // Unknown origin: a party the witness never pinned.
    let mut stranger = Forge::new(SigningKey::generate("stranger").unwrap(), "nato.mil");
    stranger.message("x");
    assert_eq!(send(0, &[], &stranger.checkpoint()).0, 404);
    // A pinned party's log that the witness was not asked to witness.
    assert_eq!(send(0, &[], &feed.checkpoint()).0, 404);
    ok(&[
        "witness",
        "add",
        "--dir",
        osce.d(),
        "--origin",
        "parley/nato.mil/nato",
        "--party",
        "nato",
    ]);
    // A pinned origin signed by another key.
    let mut impostor = feed.clone();
    impostor.key = SigningKey::generate("nato").unwrap();
    assert_eq!(send(0, &[], &impostor.checkpoint()).0, 403);
    // Malformed body.
    assert_eq!(post(&url, b"old x\n".to_vec(), "text/plain").0, 400);
    // First contact at size 5, then a stale `old`: 409 with the size, typed.
    let (s, lines) = send(0, &[], &feed.checkpoint());
    assert_eq!(s, 200, "{lines}");
    assert!(lines.starts_with("\u{2014} osce/witness "), "{lines}");
    let (rt, c) = http();
    let (status, ctype, body) = rt.block_on(async {
        let r = c
            .post(&url)
            .body(format_add_checkpoint(2, &[], &feed.checkpoint()))
            .send()
            .await
            .unwrap();
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        (r.status().as_u16(), ct, r.text().await.unwrap())
    });
    assert_eq!(
        (status, ctype.as_str(), body.as_str()),
        (409, "text/x.tlog.size", "5\n")
    );
    // old beyond the checkpoint: 400; a consistent extension: 200.
    let mut fork = feed.clone();
    fork.message("m5, another text");
    feed.message("m5");
    let proof = feed.tree.consistency_proof(5, 6).unwrap();
    assert_eq!(send(7, &proof, &feed.checkpoint()).0, 400);
    assert_eq!(
        send(5, &[Hash([1; 32])], &feed.checkpoint()).0,
        422,
        "a bad proof"
    );
    assert_eq!(send(5, &proof, &feed.checkpoint()).0, 200);
    // The tree it cosigned, submitted again (each member submits the
    // feeds it holds): a fresh cosignature. Another tree of that size: 422.
    let (s, again) = send(6, &[], &feed.checkpoint());
    assert_eq!(s, 200, "{again}");
    assert!(again.starts_with("\u{2014} osce/witness "), "{again}");
    assert_eq!(send(6, &[], &fork.checkpoint()).0, 422, "a fork at size 6");
    // The monitoring endpoint serves the latest cosigned checkpoint.
    let origin = feed_origin("nato.mil", "nato");
    let (s, text) = get(&format!(
        "{}/witness/v1/{}/checkpoint",
        osce.url(),
        parley_log::witness::origin_hash(&origin)
    ));
    assert_eq!(s, 200);
    assert!(
        text.starts_with("parley/nato.mil/nato\n6\n") && text.contains("\u{2014} osce/witness "),
        "{text}"
    );
}
