//! One verdict everywhere: obligations are a function of the signed record
//! and an instant, and every member holds the same record (entries, and the
//! receipts each author shares), so three members' nodes print the same
//! board byte for byte, also after one of them was offline.

mod net;

use net::{Net, accept_channel, json, ok, wait_until};
use parley_log::Timestamp;
use serde_json::json as j;

fn board(net: &Net, party: &str, at: &str) -> String {
    let p = net.get(party);
    let out = net::parley(&["obligations", "--dir", p.d(), "--at", at, "--json"]);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn send_body(net: &Net, party: &str, kind: &str, body: serde_json::Value, refs: &[&str]) -> String {
    let file = net.path(&format!("{party}-{kind}.json"));
    std::fs::write(&file, body.to_string()).unwrap();
    let p = net.get(party);
    let mut args = vec![
        "send",
        "--dir",
        p.d(),
        "--channel",
        "nato.tri",
        "--kind",
        kind,
        "--body",
        file.to_str().unwrap(),
    ];
    for r in refs {
        p.wait_holds(r);
        args.extend(["--refs", r]);
    }
    json(&args)["id"].as_str().unwrap().to_string()
}

#[test]
fn three_members_print_the_same_obligations_before_and_after_one_was_offline() {
    let mut net = Net::new(&["nato", "russia", "ukraine", "osce"]);
    net.start_all();
    ok(&[
        "channel",
        "create",
        "--dir",
        net.get("nato").d(),
        "--id",
        "nato.tri",
        "--members",
        "nato,russia,ukraine",
        "--witness",
        "osce",
        "--level",
        "political",
        "--languages",
        "en",
        "--annual-calendar",
        "--ruleset",
        "vienna-document-2011@1",
    ]);
    accept_channel(net.get("russia"), "nato.tri");
    accept_channel(net.get("ukraine"), "nato.tri");
    let nd = net.get("nato").d().to_string();
    wait_until(20, "the channel to be active", || {
        json(&["channel", "list", "--dir", &nd])[0]["state"] == "active"
    });

    let flash = json(&[
        "send",
        "--dir",
        net.get("nato").d(),
        "--channel",
        "nato.tri",
        "--priority",
        "flash",
        "--text",
        "Unannounced air activity over the Black Sea",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    send_body(
        &net,
        "russia",
        "acknowledgement",
        j!({"by": "duty officer"}),
        &[&flash],
    );
    let request = send_body(
        &net,
        "ukraine",
        "clarification_request",
        j!({"to": "russia", "concerns": {"en": "Forces near the border."},
            "questions": ["Purpose?", "Numbers?"]}),
        &[],
    );
    // Russia holds the request before Ukraine goes offline (else the
    // answer below would refer to an entry Russia has not received yet).
    wait_until(30, "russia to hold ukraine's request", || {
        net.get("russia").feed_size("nato.tri", "ukraine") >= 2
    });
    // Ukraine goes offline; Russia answers one question; NATO invites.
    net.p("ukraine").stop();
    send_body(
        &net,
        "russia",
        "clarification_reply",
        j!({"text": {"en": "Training."}, "answers": [{"question": 1, "answer": "Training."}]}),
        &[&request],
    );
    let mut inv: serde_json::Value =
        serde_json::from_str(&ok(&["example", "meeting_invitation"])).unwrap();
    inv["reply_by"] = j!(Timestamp::now().plus_seconds(86_400).to_string());
    inv["proposed_dates"] = j!([Timestamp::now().plus_seconds(3 * 86_400).to_string()]);
    send_body(&net, "nato", "meeting_invitation", inv, &[]);
    net.p("ukraine").start();

    // The board three days on, on every member's node, once they converge.
    let at = Timestamp::now().plus_seconds(3 * 86_400).to_string();
    let mut last = (String::new(), String::new(), String::new());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        last = (
            board(&net, "nato", &at),
            board(&net, "russia", &at),
            board(&net, "ukraine", &at),
        );
        if last.0 == last.1 && last.1 == last.2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let pretty = |s: &str| {
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(s).unwrap())
            .unwrap()
    };
    assert_eq!(pretty(&last.0), pretty(&last.1), "nato and russia disagree");
    assert_eq!(
        pretty(&last.1),
        pretty(&last.2),
        "russia and ukraine disagree"
    );
    let (b, _, _) = &last;
    let v: serde_json::Value = serde_json::from_str(b).unwrap();
    let list = v["obligations"].as_array().unwrap();
    // Ukraine's flash acknowledgement is owed and overdue, Russia's met;
    // Russia's reply left a question open; every delivery is proven on
    // every node (receipts are shared).
    let flash_duties: Vec<_> = list
        .iter()
        .filter(|o| o["source"] == flash.as_str())
        .collect();
    assert_eq!(flash_duties.len(), 2, "{b}");
    assert!(
        flash_duties
            .iter()
            .any(|o| o["debtor"] == "russia" && o["status"] == "met"),
        "{b}"
    );
    assert!(
        flash_duties
            .iter()
            .any(|o| o["debtor"] == "ukraine" && o["status"] == "overdue"),
        "{b}"
    );
    assert!(
        list.iter()
            .filter(|o| o["rule"] != "annual-calendar")
            .all(|o| o["starts_proven"] == true),
        "{b}"
    );
    // The charter asked for annual calendars: each member owes one.
    let debtors: std::collections::BTreeSet<&str> = list
        .iter()
        .filter(|o| o["rule"] == "annual-calendar")
        .filter_map(|o| o["debtor"].as_str())
        .collect();
    assert_eq!(debtors.len(), 3, "{b}");
    let clar = list
        .iter()
        .find(|o| o["source"] == request.as_str())
        .unwrap();
    assert_eq!(clar["unanswered_questions"], j!(["2. Numbers?"]), "{b}");

    // The board a running node kept current event by event is the board
    // it derives from its store after a restart, now and three days on.
    let now = Timestamp::now().plus_seconds(5).to_string();
    let kept = (board(&net, "nato", &now), board(&net, "nato", &at));
    net.p("nato").stop();
    net.p("nato").start();
    let reread = (board(&net, "nato", &now), board(&net, "nato", &at));
    assert_eq!(pretty(&kept.0), pretty(&reread.0), "kept vs re-read, now");
    assert_eq!(
        pretty(&kept.1),
        pretty(&reread.1),
        "kept vs re-read, in three days"
    );
}
