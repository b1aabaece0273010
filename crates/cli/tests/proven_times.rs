//! Delivery times and deadlines come from signed receipts, never from the
//! sender's clock: checked where they are made, at the node.

mod net;

use net::forge::{Forge, push};
use net::{Net, json, ok, open_channel, wait_until};
use parley_log::Timestamp;
use parley_store::{FeedId, Statement};
use serde_json::Value;

/// The earliest receipt by `by` that covers entry `seq` of `feed`, as the
/// node stored it (the cosignature's signed time).
fn receipt_time(p: &net::Party, feed: &FeedId, by: &str, seq: u64) -> i64 {
    p.store()
        .cosignatures(feed, 1)
        .unwrap()
        .into_iter()
        .filter(|c| c.cosigner == by && c.statement == Statement::Receipt && c.size > seq)
        .map(|c| c.time)
        .min()
        .unwrap_or_else(|| panic!("no receipt by {by} covers {seq}"))
}

#[test]
fn deadlines_start_at_the_recipients_signed_receipt_not_at_the_senders_clock() {
    let mut net = Net::new(&["nato", "russia", "osce"]);
    net.start_all();
    open_channel(&net);
    let (nato, russia) = (net.get("nato"), net.get("russia"));

    // A delivery time shown is the recipient's signed receipt time.
    let sent = json(&[
        "send",
        "--dir",
        nato.d(),
        "--channel",
        "nato.mil",
        "--priority",
        "flash",
        "--text",
        "Acknowledge.",
    ]);
    let id = sent["id"].as_str().unwrap().to_string();
    let seq: u64 = id.rsplit('/').next().unwrap().parse().unwrap();
    let nd = nato.d().to_string();
    wait_until(30, "russia's receipt", || {
        !json(&["show", "--dir", &nd, &id])["delivery"][0]["delivered_at"].is_null()
    });
    let shown = json(&["show", "--dir", &nd, &id])["delivery"][0]["delivered_at"]
        .as_i64()
        .unwrap();
    assert_eq!(
        shown,
        receipt_time(nato, &FeedId::new("nato.mil", "nato"), "russia", seq)
    );

    // Both nodes start Russia's deadline for NATO's request at Russia's
    // signed receipt.
    let body = net.path("request.json");
    let mut request: Value =
        serde_json::from_str(&ok(&["example", "clarification_request"])).unwrap();
    request["to"] = "russia".into();
    std::fs::write(&body, request.to_string()).unwrap();
    let asked = json(&[
        "send",
        "--dir",
        &nd,
        "--channel",
        "nato.mil",
        "--kind",
        "clarification_request",
        "--body",
        body.to_str().unwrap(),
    ]);
    let asked_id = asked["id"].as_str().unwrap().to_string();
    let asked_seq: u64 = asked_id.rsplit('/').next().unwrap().parse().unwrap();
    wait_until(30, "russia's receipt of the request", || {
        !json(&["show", "--dir", &nd, &asked_id])["delivery"][0]["delivered_at"].is_null()
    });
    let receipt = receipt_time(nato, &FeedId::new("nato.mil", "nato"), "russia", asked_seq);
    for p in [nato, russia] {
        let d = p.d().to_string();
        wait_until(30, &format!("{} to hold the receipt", p.name), || {
            json(&["obligations", "--dir", &d])["obligations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| {
                    o["source"] == asked_id.as_str()
                        && o["debtor"] == "russia"
                        && !o["starts"].is_null()
                })
        });
        let board = json(&["obligations", "--dir", &d]);
        let o = board["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["source"] == asked_id.as_str() && o["debtor"] == "russia")
            .unwrap()
            .clone();
        let starts = Timestamp::parse(o["starts"].as_str().unwrap())
            .unwrap()
            .unix();
        assert_eq!(starts, receipt, "on {}'s node: {o}", p.name);
    }

    // Russia, its clock three days behind, signs (with its real key)
    // entries that each put NATO under a deadline.
    let mut f = Forge::from_node(russia.key(), "nato.mil", russia);
    let before = f.entries.len() as u64;
    net.p("russia").stop(); // its node would not know these entries
    let nato = net.get("nato");
    let three_days_ago = Timestamp::from_unix(Timestamp::now().unix() - 3 * 86_400).unwrap();
    let kinds = [
        "hotline_message", // flash
        "hotline_message", // immediate
        "clarification_request",
        "briefing_request",
        "meeting_invitation",
        "incident_report",
        // NATO owes a confirmation of (or an objection to) the record.
        "meeting_record",
    ];
    let mut invitation = None;
    for (i, kind) in kinds.into_iter().enumerate() {
        let mut body: Value = serde_json::from_str(&ok(&["example", kind])).unwrap();
        if i < 2 {
            body["priority"] = ["flash", "immediate"][i].into();
        }
        if body.get("to").is_some() {
            body["to"] = "nato".into();
        }
        if kind == "meeting_record" {
            // A meeting held (by its clock) before the record was written.
            body["start"] = Timestamp::from_unix(three_days_ago.unix() - 5 * 3600)
                .unwrap()
                .to_string()
                .into();
            body["end"] = Timestamp::from_unix(three_days_ago.unix() - 3600)
                .unwrap()
                .to_string()
                .into();
        }
        if body.get("time").is_some() {
            // What it reports happened before it was (by its clock) written.
            let before = Timestamp::from_unix(three_days_ago.unix() - 3600).unwrap();
            body["time"] = before.to_string().into();
        }
        let mut e = f.entry(kind, body);
        e.time = three_days_ago;
        if kind == "meeting_record" {
            e.refs = vec![invitation.expect("the invitation comes first")];
        }
        if kind == "meeting_invitation" {
            invitation = Some(e.leaf_hash().unwrap());
        }
        f.push_bytes(e.encode().unwrap());
    }
    let (s, r) = push(nato, &f.update(before));
    assert_eq!(s, 200, "{r}");
    let russia_feed = FeedId::new("nato.mil", "russia");
    let board = json(&["obligations", "--dir", nato.d()]);
    for (i, kind) in kinds.iter().enumerate() {
        let seq = before + i as u64;
        let source = format!("nato.mil/russia/{seq}");
        let received = receipt_time(nato, &russia_feed, "nato", seq);
        let owed: Vec<&Value> = board["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["source"] == source.as_str() && o["debtor"] == "nato")
            .collect();
        assert!(
            !owed.is_empty(),
            "{kind} puts NATO under no deadline: {board}"
        );
        for o in owed {
            let starts = Timestamp::parse(o["starts"].as_str().unwrap())
                .unwrap()
                .unix();
            assert_eq!(
                starts, received,
                "{kind}: the deadline starts at NATO's signed receipt: {o}"
            );
            assert_eq!(o["starts_proven"], true, "{o}");
            assert_ne!(
                o["status"], "overdue",
                "{kind} is overdue by the sender's clock: {o}"
            );
            let due = Timestamp::parse(o["due"].as_str().unwrap()).unwrap().unix();
            assert!(due > Timestamp::now().unix(), "{o}");
            println!(
                "{kind}: dated {}, received {received}, due {due}",
                three_days_ago
            );
        }
    }
}
