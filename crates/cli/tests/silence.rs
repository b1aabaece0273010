//! Proofs of silence, made by running nodes and checked offline: "we
//! invited you, it was delivered at T, and as of T' after the deadline
//! your feed holds no reply", revealing only the headers of the debtor's
//! entries; refused when the debtor replied in time; showing when a late
//! reply came.

mod net;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use net::{Net, json, ok, open_channel, parley, wait_until};
use parley_log::Timestamp;
use serde_json::{Value, json as j};

/// NATO invites Russia with a reply-by `secs` seconds from now; returns the
/// invitation's id and its deadline.
fn invite(net: &Net, title: &str, secs: i64) -> (String, Timestamp) {
    let nato = net.get("nato");
    let now = Timestamp::now();
    let reply_by = now.plus_seconds(secs);
    let body = j!({
        "title": title,
        "venue": "NATO Headquarters, Brussels",
        "level": "ambassadors",
        "proposed_dates": [now.plus_seconds(30 * 86_400).to_string()],
        "reply_by": reply_by.to_string(),
    });
    let file = net.path(&format!("{title}.json"));
    std::fs::write(&file, body.to_string()).unwrap();
    let id = json(&[
        "send",
        "--dir",
        nato.d(),
        "--channel",
        "nato.mil",
        "--kind",
        "meeting_invitation",
        "--body",
        file.to_str().unwrap(),
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let nd = nato.d().to_string();
    wait_until(20, "russia's receipt of the invitation", || {
        !json(&["show", "--dir", &nd, &id])["delivery"][0]["delivered_at"].is_null()
    });
    (id, reply_by)
}

/// Russia replies to an invitation.
fn reply(net: &Net, to: &str) {
    let file = net.path("reply.json");
    std::fs::write(
        &file,
        j!({"response": "decline", "reason": "not now"}).to_string(),
    )
    .unwrap();
    let russia = net.get("russia");
    let nato = net.get("nato");
    let before = nato.feed_size("nato.mil", "russia");
    russia.wait_holds(to);
    ok(&[
        "send",
        "--dir",
        russia.d(),
        "--channel",
        "nato.mil",
        "--kind",
        "meeting_reply",
        "--body",
        file.to_str().unwrap(),
        "--refs",
        to,
    ]);
    wait_until(20, "nato to receive russia's reply", || {
        nato.feed_size("nato.mil", "russia") > before
    });
}

/// Waits until the OSCE has cosigned Russia's feed, as NATO holds it, at
/// a time after `t` (witnesses re-cosign idle feeds every second here).
fn witnessed_after(net: &Net, t: Timestamp) {
    let nato = net.get("nato");
    wait_until(
        30,
        "a witness cosignature of russia's feed after the deadline",
        || {
            nato.store()
                .cosignatures(&parley_store::FeedId::new("nato.mil", "russia"), 1)
                .unwrap()
                .iter()
                .any(|c| c.cosigner == "osce" && c.time > t.unix())
        },
    );
}

fn verify(net: &Net, file: &std::path::Path) -> std::process::Output {
    let (n, r, o) = (net.get("nato"), net.get("russia"), net.get("osce"));
    parley(&[
        "verify",
        file.to_str().unwrap(),
        "--identity",
        &n.identity,
        "--identity",
        &r.identity,
        "--identity",
        &o.identity,
    ])
}

#[test]
fn silence_is_proven_offline_refused_after_an_answer_and_dated_after_a_late_one() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    for p in &net.parties {
        p.configure("witness_refresh_secs = 3600", "witness_refresh_secs = 1");
    }
    net.start_all();
    open_channel(&net);
    net.get("russia")
        .send_text("nato.mil", "SECRET-BODY: only members may read this");

    let (unanswered, due_a) = invite(&net, "council-a", 3);
    // A free reply refers to the invitation but does not answer it: one rule
    // of what answers what, in `show`, in the obligations and in the proof.
    let free = net.path("free-reply.json");
    std::fs::write(
        &free,
        j!({"text": {"en": "We are studying it."}}).to_string(),
    )
    .unwrap();
    net.get("russia").wait_holds(&unanswered);
    ok(&[
        "send",
        "--dir",
        net.get("russia").d(),
        "--channel",
        "nato.mil",
        "--kind",
        "reply",
        "--body",
        free.to_str().unwrap(),
        "--refs",
        &unanswered,
    ]);
    let nd = net.get("nato").d().to_string();
    wait_until(20, "nato to see russia's free reply", || {
        json(&["show", "--dir", &nd, &unanswered])["delivery"][0]["referenced"]
            .as_array()
            .is_some_and(|r| r.len() == 1)
    });
    let shown = json(&["show", "--dir", &nd, &unanswered]);
    assert_eq!(shown["delivery"][0]["answered"], j!([]), "{shown}");
    let (answered, _) = invite(&net, "council-b", 60);
    reply(&net, &answered);
    let (late, due_c) = invite(&net, "council-c", 3);
    witnessed_after(&net, due_a.max(due_c));
    reply(&net, &late);

    let nato = net.get("nato");
    // 1. Never answered: proven, offline, with bodies hidden.
    let file = net.path("silence-a.json");
    let out = ok(&[
        "silence",
        "--dir",
        nato.d(),
        "--proof",
        &unanswered,
        "--debtor",
        "russia",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(out.contains("wrote the proof"), "{out}");
    let o = verify(&net, &file);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        text.contains(&format!(
            "proven: russia has not answered {unanswered} (meeting_invitation)"
        )),
        "{text}"
    );
    assert!(text.contains("delivered to russia at"), "{text}");
    assert!(text.contains("after it"), "{text}");
    assert!(
        text.contains("referenced without an answer by nato.mil/russia/"),
        "{text}"
    );
    let overdue = json(&["obligations", "--dir", nato.d(), "--overdue"]);
    assert!(
        overdue["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["source"] == unanswered.as_str() && o["debtor"] == "russia"),
        "{overdue}"
    );
    let proof: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let headers = proof["headers"].as_array().unwrap();
    assert!(!headers.is_empty());
    for h in headers {
        let bytes = STANDARD.decode(h.as_str().unwrap()).unwrap();
        let s = String::from_utf8(bytes).unwrap();
        assert!(!s.contains("SECRET") && s.contains("body_hash"), "{s}");
    }
    assert!(!std::fs::read_to_string(&file).unwrap().contains("SECRET"));
    // Dropping one header (hiding an answer, say) breaks it.
    let mut cut = proof.clone();
    cut["headers"].as_array_mut().unwrap().pop();
    let cut_file = net.path("silence-cut.json");
    std::fs::write(&cut_file, cut.to_string()).unwrap();
    let o = verify(&net, &cut_file);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("hash to"));

    // 2. Answered in time: no proof can be made.
    let o = parley(&[
        "silence",
        "--dir",
        nato.d(),
        "--proof",
        &answered,
        "--debtor",
        "russia",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not silent: russia answered"), "{err}");

    // 3. Answered late: the proof shows the silence past the deadline.
    let file = net.path("silence-c.json");
    ok(&[
        "silence",
        "--dir",
        nato.d(),
        "--proof",
        &late,
        "--debtor",
        "russia",
        "--out",
        file.to_str().unwrap(),
    ]);
    let o = verify(&net, &file);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        text.contains(&format!("deadline {due_c}: still no answer")),
        "{text}"
    );
    // Nor can it be turned against the answered invitation: with that
    // request in it, the headers show Russia's reply.
    let mut forged: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    forged["request"] = j!(ok(&["proof", "--dir", nato.d(), &answered]));
    let forged_file = net.path("silence-forged.json");
    std::fs::write(&forged_file, forged.to_string()).unwrap();
    let o = verify(&net, &forged_file);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not silent: russia answered"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Without a witness, the creditor's own receipt of the debtor's feed,
/// re-affirmed while the feed stays idle, dates the silence.
#[test]
fn without_a_witness_the_creditors_fresh_receipt_dates_the_silence() {
    let mut net = Net::new(&["nato", "russia"]);
    for p in &net.parties {
        p.configure("witness_refresh_secs = 3600", "witness_refresh_secs = 1");
    }
    net.start_all();
    let (nato, russia) = (net.get("nato"), net.get("russia"));
    ok(&[
        "channel",
        "create",
        "--dir",
        nato.d(),
        "--id",
        "nato.mil",
        "--members",
        "nato,russia",
        "--level",
        "military",
        "--languages",
        "en",
    ]);
    net::accept_channel(russia, "nato.mil");
    let nd = nato.d().to_string();
    wait_until(30, "the channel to be active at nato", || {
        net::json(&["channel", "list", "--dir", &nd])[0]["state"] == "active"
    });
    let (id, due) = invite(&net, "council-alone", 2);
    wait_until(
        30,
        "nato's fresh receipt of russia's feed after the deadline",
        || {
            nato.store()
                .cosignatures(&parley_store::FeedId::new("nato.mil", "russia"), 1)
                .unwrap()
                .iter()
                .any(|c| c.cosigner == "nato" && c.time > due.unix())
        },
    );
    let file = net.path("silence-alone.json");
    ok(&[
        "silence",
        "--dir",
        nato.d(),
        "--proof",
        &id,
        "--debtor",
        "russia",
        "--out",
        file.to_str().unwrap(),
    ]);
    let o = parley(&[
        "verify",
        file.to_str().unwrap(),
        "--identity",
        &nato.identity,
        "--identity",
        &russia.identity,
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("(cosigned by nato (receipt))"), "{text}");
    assert!(text.contains("still no answer"), "{text}");
    nato.audit();
}
