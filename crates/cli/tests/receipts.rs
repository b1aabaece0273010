//! A receipt proves delivery, and nothing else can pass for one. Each test
//! plays an attack found against parley's receipts and witnesses, against
//! real nodes over HTTP, and checks it is refused and leaves evidence
//! where a party signed two histories.

mod net;

use net::forge::{Forge, get, get_as, post, post_as, push};
use net::{Net, flip_signature, json, ok, open_channel, parley, wait_until};
use parley_log::witness::{format_add_checkpoint, origin_hash};
use parley_log::{Role, feed_origin};
use serde_json::{Value, json as j};

/// POSTs a tlog-witness `add-checkpoint` body; returns status and body.
fn add_checkpoint(
    witness_url: &str,
    old: u64,
    proof: &[parley_log::Hash],
    note: &str,
) -> (u16, String) {
    post(
        &format!("{witness_url}/witness/v1/add-checkpoint"),
        format_add_checkpoint(old, proof, note).into_bytes(),
        "text/plain",
    )
}

/// POSTs a receipt message to an author's node, as a catch-up reader
/// would: over a connection showing the claimed cosigner's own node
/// certificate (the strongest such attacker is that party itself).
fn post_receipt(net: &Net, author_url: &str, msg: &Value) -> (u16, Value) {
    let cosigner = net.get(msg["cosigner"].as_str().unwrap());
    let (s, body) = post_as(
        cosigner,
        &format!("{author_url}/federation/v1/receipt"),
        msg.to_string().into_bytes(),
        "application/json",
    );
    (
        s,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

/// The witness's latest cosigned size for an origin (0 if none).
fn witnessed_size(witness_url: &str, origin: &str) -> u64 {
    let (s, body) = get(&format!(
        "{witness_url}/witness/v1/{}/checkpoint",
        origin_hash(origin)
    ));
    if s != 200 {
        return 0;
    }
    body.lines().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_receipt_for_an_entry_never_delivered_cannot_be_manufactured() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    let origin = feed_origin("nato.mil", "nato");
    let size = net.get("nato").feed_size("nato.mil", "nato");
    wait_until(30, "the witness to cosign nato's feed", || {
        witnessed_size(&net.get("osce").url(), &origin) == size
    });
    // NATO's node loses its route to Russia; Russia keeps running.
    net.p("nato").stop();
    net.get("nato")
        .repin(net.get("russia"), "https://127.0.0.1:9");
    net.p("nato").start();
    let (nato, russia, osce) = (net.get("nato"), net.get("russia"), net.get("osce"));
    let sent = json(&[
        "send",
        "--dir",
        nato.d(),
        "--channel",
        "nato.mil",
        "--priority",
        "flash",
        "--text",
        "Unplanned air activity at 14:00Z",
    ]);
    let id = sent["id"].as_str().unwrap().to_string();
    let n = nato.feed_size("nato.mil", "nato");
    wait_until(30, "the witness to cosign the new size", || {
        witnessed_size(&osce.url(), &origin) == n
    });

    // The witness (or any member) reads NATO's checkpoint...
    let (s, checkpoint) = get_as(
        osce,
        &format!("{}/tlog/nato.mil/nato/checkpoint", nato.url()),
    );
    assert_eq!(s, 200);
    // ...and asks Russia's witness endpoint to cosign it: Russia witnesses
    // no such log, so it cosigns nothing.
    let (s, body) = add_checkpoint(&russia.url(), 0, &[], &checkpoint);
    assert_eq!(
        s, 404,
        "russia's witness endpoint cosigned a log it does not witness: {body}"
    );

    // The real witness's cosignature, obtained by anyone, is not a receipt.
    let (s, witness_note) = get(&format!(
        "{}/witness/v1/{}/checkpoint",
        osce.url(),
        origin_hash(&origin)
    ));
    assert_eq!(s, 200);
    let osce_line = witness_note
        .lines()
        .find(|l| l.starts_with("\u{2014} osce/witness "))
        .expect("the witness's line")
        .to_string()
        + "\n";
    for (cosigner, reason) in [("russia", "bad_signature"), ("osce", "not_member")] {
        let (s, r) = post_receipt(
            &net,
            &nato.url(),
            &j!({"channel": "nato.mil", "author": "nato", "size": n, "cosigner": cosigner, "cosignature": osce_line}),
        );
        assert_eq!(
            (s, r["error"].as_str()),
            (403, Some(reason)),
            "a witness cosignature presented as {cosigner}'s receipt: {r}"
        );
    }
    // Russia's genuine receipt of an earlier size, replayed for this size,
    // does not verify.
    let earlier = nato
        .store()
        .cosignatures(&parley_store::FeedId::new("nato.mil", "nato"), 1)
        .unwrap()
        .into_iter()
        .find(|c| c.cosigner == "russia")
        .expect("russia receipted the charter");
    let (s, r) = post_receipt(
        &net,
        &nato.url(),
        &j!({"channel": "nato.mil", "author": "nato", "size": n, "cosigner": "russia", "cosignature": earlier.line}),
    );
    assert_eq!(
        (s, r["error"].as_str()),
        (403, Some("bad_signature")),
        "{r}"
    );

    // NATO's node shows no delivery, and no deadline runs against Russia.
    let shown = json(&["show", "--dir", nato.d(), &id]);
    let to_russia = &shown["delivery"][0];
    assert_eq!(to_russia["party"], "russia");
    assert!(to_russia["delivered_at"].is_null(), "{shown}");
    assert!(
        shown["witnessed"].as_array().is_some_and(|w| !w.is_empty()),
        "{shown}"
    );
    let obligations = json(&["obligations", "--dir", nato.d()]);
    for o in obligations["obligations"].as_array().unwrap() {
        if o["source"] == id.as_str() {
            assert_ne!(o["status"], "overdue", "{o}");
            assert!(o["starts"].is_null(), "a deadline without a receipt: {o}");
        }
    }
    // The proof bundle says the same offline: witnessed, not delivered, and
    // refused when Russia's receipt is required.
    let bundle = net.path("flash.tlog-proof");
    std::fs::write(&bundle, ok(&["proof", "--dir", nato.d(), &id])).unwrap();
    let b = bundle.to_str().unwrap();
    let out = ok(&[
        "verify",
        b,
        "--identity",
        &nato.identity,
        "--identity",
        &russia.identity,
        "--identity",
        &osce.identity,
    ]);
    assert!(out.contains("delivery: not proven"), "{out}");
    assert!(out.contains("witnessed by osce/witness at"), "{out}");
    let o = parley(&[
        "verify",
        b,
        "--vkey",
        &nato.vkey(Role::Log),
        "--vkey",
        &russia.vkey(Role::Receipt),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no receipt from russia"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Even a witness key presented as Russia's receipt key proves nothing.
    let o = parley(&[
        "verify",
        b,
        "--vkey",
        &nato.vkey(Role::Log),
        "--vkey",
        &osce.vkey(Role::Witness),
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("delivery: not proven"));
    assert!(
        russia
            .store()
            .entry(&parley_store::FeedId::new("nato.mil", "nato"), n - 1)
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_witness_cosigns_only_logs_it_witnesses_and_keeps_evidence_of_forks() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    net.get("nato").send_text("nato.mil", "before the fork");
    let n = net.get("nato").feed_size("nato.mil", "nato");
    wait_until(20, "russia to hold nato's feed", || {
        net.get("russia").feed_size("nato.mil", "nato") == n
    });
    let mut fork = Forge::from_node(net.get("nato").key(), "nato.mil", net.get("nato"));
    net.p("nato").stop();
    let (nato, russia, osce) = (net.get("nato"), net.get("russia"), net.get("osce"));

    // A channel that does not exist: signed by NATO's real key, cosigned by nobody.
    let mut t9 = Forge::new(nato.key(), "nato.t9");
    t9.message("a channel nobody agreed to");
    for w in [osce, russia] {
        let (s, body) = add_checkpoint(&w.url(), 0, &[], &t9.checkpoint());
        assert_eq!(s, 404, "{} cosigned parley/nato.t9/nato: {body}", w.name);
    }
    let origins: Vec<String> = json(&["witness", "list", "--dir", osce.d()])
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["origin"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        origins,
        ["parley/nato.mil/nato", "parley/nato.mil/russia"],
        "from the charter only"
    );

    // NATO signs another history at a size Russia holds and asks Russia's
    // witness endpoint to cosign it: refused, and the fork is kept.
    fork.entries.pop();
    fork.tree = parley_log::merkle::MemoryTree::new();
    let kept = fork.entries.clone();
    fork.entries.clear();
    for e in kept {
        fork.push_bytes(e);
    }
    fork.message("a different last message");
    assert_eq!(fork.tree.size(), n);
    let (s, body) = add_checkpoint(&russia.url(), 0, &[], &fork.checkpoint());
    assert_eq!(s, 404, "{body}");
    wait_until(10, "russia to keep the fork as evidence", || {
        russia.store().evidence().unwrap().len() == 1
    });
    // Witnessing it explicitly changes nothing: the fork contradicts the
    // copy Russia holds, so it is refused with 422 and kept again.
    ok(&[
        "witness",
        "add",
        "--dir",
        russia.d(),
        "--origin",
        "parley/nato.mil/nato",
        "--party",
        "nato",
    ]);
    let (s, body) = add_checkpoint(&russia.url(), 0, &[], &fork.checkpoint());
    assert_eq!(s, 422, "{body}");
    assert_eq!(
        russia.store().evidence().unwrap().len(),
        1,
        "the same fork is kept once"
    );
    assert!(
        russia.store().witnessed_all().unwrap().is_empty(),
        "nothing was cosigned"
    );
    for e in json(&["evidence", "list", "--dir", russia.d()])
        .as_array()
        .unwrap()
    {
        assert_eq!(
            (e["party"].as_str(), e["proven"].as_bool()),
            (Some("nato"), Some(true)),
            "{e}"
        );
        let file = net.path(&format!("fork-{}.json", e["id"]));
        std::fs::write(
            &file,
            ok(&[
                "evidence",
                "export",
                "--dir",
                russia.d(),
                &e["id"].to_string(),
            ]),
        )
        .unwrap();
        let out = ok(&[
            "evidence",
            "verify",
            file.to_str().unwrap(),
            "--vkey",
            &nato.identity,
        ]);
        assert!(
            out.starts_with("proven: nato signed two different roots"),
            "{out}"
        );
    }
}

#[test]
fn a_fork_from_a_power_of_two_size_leaves_evidence() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    while net.get("nato").feed_size("nato.mil", "nato") < 4 {
        net.get("nato").send_text("nato.mil", "filler");
    }
    assert_eq!(net.get("nato").feed_size("nato.mil", "nato"), 4);
    let origin = feed_origin("nato.mil", "nato");
    wait_until(30, "russia and the witness to hold size 4", || {
        net.get("russia").feed_size("nato.mil", "nato") == 4
            && witnessed_size(&net.get("osce").url(), &origin) == 4
    });
    let mut fork = Forge::from_node(net.get("nato").key(), "nato.mil", net.get("nato"));
    net.p("nato").stop();
    let (nato, russia, osce) = (net.get("nato"), net.get("russia"), net.get("osce"));
    // Another history whose first four entries differ at the last one, then two more.
    let first3: Vec<Vec<u8>> = fork.entries[..3].to_vec();
    fork.entries.clear();
    fork.tree = parley_log::merkle::MemoryTree::new();
    for e in first3 {
        fork.push_bytes(e);
    }
    for text in ["rewritten", "five", "six"] {
        fork.message(text);
    }
    assert_eq!(fork.tree.size(), 6);

    // Without the sender's old root the proof cannot show the other prefix:
    // refused, and kept as an unproven alarm.
    let (s, r) = push(russia, &fork.update_without_root(4));
    assert_eq!(
        (s, r["error"].as_str()),
        (422, Some("bad_consistency_proof")),
        "{r}"
    );
    let ev = russia.store().evidence().unwrap();
    assert_eq!(ev.len(), 1);
    assert!(!ev[0].proven);
    // With it (what every parley node sends), the fork is proven.
    let (s, r) = push(russia, &fork.update(4));
    assert_eq!((s, r["error"].as_str()), (409, Some("equivocation")), "{r}");
    let ev = russia.store().evidence().unwrap();
    assert_eq!(ev.len(), 2);
    assert!(ev[1].proven, "{}", ev[1].summary);
    let file = net.path("pow2.json");
    std::fs::write(&file, &ev[1].evidence).unwrap();
    let out = ok(&[
        "evidence",
        "verify",
        file.to_str().unwrap(),
        "--vkey",
        &nato.identity,
    ]);
    assert!(out.contains("size 4") && out.contains("size 6"), "{out}");
    assert_eq!(
        russia.feed_size("nato.mil", "nato"),
        4,
        "nothing of the fork was stored"
    );

    // The witness, given only what tlog-witness carries, refuses it and
    // keeps the conflicting signed checkpoint.
    let proof = fork.tree.consistency_proof(4, 6).unwrap();
    let (s, body) = add_checkpoint(&osce.url(), 4, &proof, &fork.checkpoint());
    assert_eq!(s, 422, "{body}");
    assert_eq!(witnessed_size(&osce.url(), &origin), 4);
    assert_eq!(osce.store().evidence().unwrap().len(), 1);
}

/// The receipt keys a node has pinned for `peer` (current last).
fn pinned_keys(at: &net::Party, peer: &str, role: &str) -> Vec<String> {
    at.peer_status(peer)["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["role"] == role)
        .map(|k| k["vkey"].as_str().unwrap().to_string())
        .collect()
}

fn send_and_wait_for_receipt(net: &Net, text: &str) -> String {
    let nato = net.get("nato");
    let id = json(&[
        "send",
        "--dir",
        nato.d(),
        "--channel",
        "nato.mil",
        "--text",
        text,
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let nd = nato.d().to_string();
    wait_until(30, &format!("russia's receipt for {id}"), || {
        !json(&["show", "--dir", &nd, &id])["delivery"][0]["delivered_at"].is_null()
    });
    id
}

#[test]
fn a_rotated_key_is_taken_by_peers_and_old_records_still_verify() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    let first = send_and_wait_for_receipt(&net, "before any rotation");
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    let old_bundle = net.path("first.tlog-proof");
    std::fs::write(&old_bundle, ok(&["proof", "--dir", nato.d(), &first])).unwrap();
    let old_receipt_key = russia.vkey(Role::Receipt);

    // Russia rotates its receipt key: NATO takes the new key by itself.
    let out = ok(&[
        "identity",
        "rotate",
        "--dir",
        russia.d(),
        "--role",
        "receipt",
    ]);
    assert!(out.contains("rotated the receipt key"), "{out}");
    let new_receipt_key = russia.vkey(Role::Receipt);
    assert_ne!(new_receipt_key, old_receipt_key);
    wait_until(20, "nato to pin russia's new receipt key", || {
        pinned_keys(nato, "russia", "receipt") == [old_receipt_key.clone(), new_receipt_key.clone()]
    });
    let status = ok(&["status", "--dir", nato.d()]);
    assert!(
        status.contains("key rotation: russia rotated its receipt key"),
        "{status}"
    );
    // NATO rotates its log and node keys: Russia keeps taking its feed and
    // its link tests.
    ok(&["identity", "rotate", "--dir", nato.d(), "--role", "log"]);
    ok(&["identity", "rotate", "--dir", nato.d(), "--role", "node"]);
    let second = send_and_wait_for_receipt(&net, "after the rotations");
    let shown = json(&["show", "--dir", nato.d(), &second]);
    let receipt_line = shown["delivery"][0]["receipt"].as_str().unwrap();
    assert!(
        receipt_line.starts_with("\u{2014} russia/receipt "),
        "{receipt_line}"
    );
    wait_until(20, "the link to stay up under nato's new node key", || {
        russia.peer_status("nato")["link"] == "up"
            && russia.peer_status("nato")["last_error"].is_null()
    });

    // Both bundles verify with the identity files as they are now (old
    // keys retired, not removed), and the old one with the old key alone.
    let new_bundle = net.path("second.tlog-proof");
    std::fs::write(&new_bundle, ok(&["proof", "--dir", nato.d(), &second])).unwrap();
    for b in [&old_bundle, &new_bundle] {
        let out = ok(&[
            "verify",
            b.to_str().unwrap(),
            "--identity",
            &nato.identity,
            "--identity",
            &russia.identity,
        ]);
        assert!(out.contains("delivered to russia at"), "{out}");
    }
    let out = ok(&[
        "verify",
        old_bundle.to_str().unwrap(),
        "--identity",
        &nato.identity,
        "--vkey",
        &old_receipt_key,
    ]);
    assert!(out.contains("delivered to russia at"), "{out}");
    nato.audit();
    russia.audit();

    // A rotation is accepted only with the pinned old key's signature.
    let thief = parley_log::SigningKey::generate("russia/receipt").unwrap();
    let forged = parley_log::Rotation {
        party: "russia".into(),
        role: Role::Receipt,
        old: thief.cosigner(),
        new: thief.cosigner(),
        time: 1,
    };
    let (s, body) = post(
        &format!("{}/federation/v1/rotation", nato.url()),
        forged.sign(&thief, &thief).into_bytes(),
        "text/plain",
    );
    assert_eq!(s, 403, "{body}");
    assert_eq!(pinned_keys(nato, "russia", "receipt").len(), 2);
}

/// A batch of shared cosignatures is verified on every core, and refused
/// whole when any line is forged, naming the first forged line in the
/// batch's order (whichever thread found it); the same batch without the
/// forgeries is taken.
#[test]
fn a_shared_batch_with_forged_lines_is_refused_whole_naming_the_first() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    for i in 0..12 {
        send_and_wait_for_receipt(&net, &format!("message {i}"));
    }
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    let feed = parley_store::FeedId::new("nato.mil", "nato");
    // Quiet first: the witness has cosigned nato's last checkpoint (its
    // submissions are paced, so that may come a moment later) and nato has
    // shared each of the witness's cosignatures with russia. Otherwise a
    // genuine line shared in the meantime would show as "stored" below.
    let size = nato.feed_size("nato.mil", "nato");
    wait_until(
        30,
        "the witness's cosignature of nato's last checkpoint, shared with russia",
        || {
            let theirs = russia.store().cosignatures(&feed, 1).unwrap();
            let witnessed: Vec<_> = nato
                .store()
                .cosignatures(&feed, 1)
                .unwrap()
                .into_iter()
                .filter(|c| c.cosigner == "osce")
                .collect();
            witnessed.iter().any(|c| c.size == size)
                && witnessed.iter().all(|c| {
                    theirs
                        .iter()
                        .any(|t| t.cosigner == "osce" && t.size == c.size)
                })
        },
    );
    // Every cosignature nato holds on its feed at a size russia holds too.
    let held: Vec<u64> = russia
        .store()
        .checkpoint_sizes(&feed, 1, u64::MAX >> 1)
        .unwrap();
    let lines: Vec<parley_store::Cosignature> = nato
        .store()
        .cosignatures(&feed, 1)
        .unwrap()
        .into_iter()
        .filter(|c| held.contains(&c.size))
        .collect();
    // The lines again and again (sharing the same line again is harmless)
    // until there are enough for the check to be spread over two threads
    // (32): the first copy is in the first thread's half, the last in the
    // second's. Forged: a witness's line in the first copy, a receipt in
    // the last. (Witness submissions are paced, so how many sizes the
    // witness cosigned varies.)
    let copies = 32usize.div_ceil(lines.len()).max(2);
    let first = lines
        .iter()
        .position(|c| c.cosigner == "osce")
        .expect("a witness cosignature");
    let later = (copies - 1) * lines.len()
        + lines
            .iter()
            .rposition(|c| c.cosigner == "russia")
            .expect("a receipt");
    let lines: Vec<_> = std::iter::repeat_n(&lines, copies)
        .flatten()
        .cloned()
        .collect();
    let batch = |forged: &[usize]| {
        let cosignatures: Vec<Value> = lines
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let line = if forged.contains(&i) {
                    flip_signature(&c.line)
                } else {
                    c.line.clone()
                };
                j!({"size": c.size, "cosigner": c.cosigner, "statement": c.statement.as_str(), "line": line})
            })
            .collect();
        post_as(
            nato,
            &format!("{}/federation/v1/cosignatures", russia.url()),
            j!({"channel": "nato.mil", "author": "nato", "cosignatures": cosignatures})
                .to_string()
                .into_bytes(),
            "application/json",
        )
    };
    let stored = || russia.store().cosignatures(&feed, 1).unwrap();
    let before = stored();
    let (s, body) = batch(&[later, first]);
    assert_eq!(s, 403, "{body}");
    assert!(
        body.contains("osce") && !body.contains("russia"),
        "the witness's line (the first forged) is named: {body}"
    );
    println!("refused: {body}");
    assert_eq!(stored(), before, "nothing of a refused batch is stored");
    let (s, body) = batch(&[]);
    assert_eq!(s, 204, "{body}");
}

/// Cosignatures shared among members, and charters shown to a witness, are
/// what a peer or an outsider could forge: each is checked on its own.
#[test]
fn shared_cosignatures_and_charters_shown_to_a_witness_cannot_be_forged() {
    use base64::Engine as _;
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    send_and_wait_for_receipt(&net, "a message with a receipt");
    let (nato, russia, osce) = (net.get("nato"), net.get("russia"), net.get("osce"));
    let feed = parley_store::FeedId::new("nato.mil", "nato");
    let n = nato.feed_size("nato.mil", "nato");
    // Witness submissions are paced: the witness's cosignature may come a
    // moment after russia's receipt.
    let witness_cosignature = || {
        nato.store()
            .cosignatures(&feed, 1)
            .unwrap()
            .into_iter()
            .find(|c| c.cosigner == "osce")
    };
    wait_until(30, "the witness's cosignature of nato's feed", || {
        witness_cosignature().is_some()
    });
    let witness_line = witness_cosignature().expect("waited for").line;
    let held = || russia.store().cosignatures(&feed, 1).unwrap().len();
    let before = held();
    let share = |cosigner: &str, statement: &str, line: &str| {
        let (s, body) = post_as(
            nato,
            &format!("{}/federation/v1/cosignatures", russia.url()),
            j!({"channel": "nato.mil", "author": "nato", "cosignatures": [
                {"size": n, "cosigner": cosigner, "statement": statement, "line": line}
            ]})
            .to_string()
            .into_bytes(),
            "application/json",
        );
        (
            s,
            serde_json::from_str::<Value>(&body).unwrap_or(Value::Null),
        )
    };
    // A witness's cosignature passed off as a member's receipt, or as the
    // author's own receipt; a line that is not a signature.
    for (cosigner, statement, line, status) in [
        ("osce", "receipt", witness_line.as_str(), 403),
        ("nato", "receipt", witness_line.as_str(), 403),
        ("russia", "receipt", witness_line.as_str(), 403),
        ("osce", "witness", "— osce/witness AAAA\n", 400),
    ] {
        let (s, r) = share(cosigner, statement, line);
        assert_eq!(s, status, "{cosigner} {statement}: {r}");
    }
    // The author may share genuine cosignatures meanwhile (the witness's,
    // paced): what must not be there is any of the forgeries.
    let forged: Vec<_> = russia
        .store()
        .cosignatures(&feed, 1)
        .unwrap()
        .into_iter()
        .filter(|c| {
            (c.statement == parley_store::Statement::Receipt
                && (c.cosigner != "russia" || c.line == witness_line))
                || c.line.contains("AAAA\n")
        })
        .collect();
    assert!(forged.is_empty(), "forgeries were stored: {forged:?}");
    assert!(held() >= before);

    // A charter shown to the witness: one that does not name it, and one
    // whose checkpoint another key signed, change nothing.
    let logs = || {
        json(&["witness", "list", "--dir", osce.d()])
            .as_array()
            .unwrap()
            .len()
    };
    let witnessed = logs();
    let present = |forge: &mut Forge| {
        let body = j!({
            "entry": base64::engine::general_purpose::STANDARD.encode(&forge.entries[0]),
            "checkpoint": forge.checkpoint(),
            "proof": Vec::<String>::new(),
        });
        let (s, b) = post_as(
            nato,
            &format!("{}/federation/v1/witness-charter", osce.url()),
            body.to_string().into_bytes(),
            "application/json",
        );
        (s, b)
    };
    let charter = |witnesses: Value| j!({"members": ["nato", "russia"], "witnesses": witnesses, "level": "military", "languages": ["en"]});
    let mut unnamed = Forge::new(nato.key(), "nato.fake");
    let e = unnamed.entry("channel_charter", charter(j!([])));
    unnamed.push_bytes(e.encode().unwrap());
    let (s, b) = present(&mut unnamed);
    assert_eq!(s, 403, "{b}");
    let mut impostor = Forge::new(
        parley_log::SigningKey::generate("nato").unwrap(),
        "nato.fake",
    );
    let e = impostor.entry("channel_charter", charter(j!(["osce"])));
    impostor.push_bytes(e.encode().unwrap());
    let (s, b) = present(&mut impostor);
    assert_eq!(s, 403, "{b}");
    assert_eq!(logs(), witnessed, "the witness took on no log");
}
