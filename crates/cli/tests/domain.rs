//! The domain across real node processes: the 2016–2022 scenario replayed
//! through the CLI, then each view checked on both parties' nodes.

mod net;

use parley_log::{Role, Timestamp};

use net::{Net, json, ok, parley, wait_until};
use serde_json::{Value, json as j};

fn scenario() -> String {
    format!(
        "{}/../../scenarios/nato-russia-2016-2022.toml",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Runs the story and waits until both parties hold each other's feeds.
fn replay() -> Net {
    let mut net = Net::new(&["nato", "russia", "osce", "usa"]);
    // The story's signatures are made by each party's signatory.
    for p in ["nato", "russia"] {
        net.get(p).add_user("signatory", "signatory");
    }
    net.start_all();
    let (n, r, o, u) = (
        net.get("nato").d().to_string(),
        net.get("russia").d().to_string(),
        net.get("osce").d().to_string(),
        net.get("usa").d().to_string(),
    );
    let out = json(&[
        "scenario",
        "run",
        &scenario(),
        "--node",
        &format!("nato={n}"),
        "--node",
        &format!("russia={r}"),
        "--node",
        &format!("osce={o}"),
        "--node",
        &format!("usa={u}"),
    ]);
    assert!(out["entries"]["council-record"].is_string(), "{out}");
    // Quiescence: each feed at the same size on both nodes, every entry receipted.
    // Russia is in every channel; NATO and the United States each in theirs.
    wait_until(30, "both nodes to hold every feed", || {
        let r = net.get("russia").status();
        [("nato", &["nato.", "osce."][..]), ("usa", &["usa."][..])]
            .iter()
            .all(|(other, channels)| {
                let a = net.get(other).status();
                same_feeds(&a, &r, |c| channels.iter().any(|p| c.starts_with(p)))
            })
    });
    net
}

/// Whether two nodes hold the channels `shared` picks at the same sizes,
/// with every entry receipted.
fn same_feeds(a: &Value, b: &Value, shared: impl Fn(&str) -> bool) -> bool {
    {
        let sizes = |s: &Value| {
            let mut v: Vec<(String, u64)> = s["feeds"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| shared(f["channel"].as_str().unwrap()))
                .map(|f| {
                    (
                        format!(
                            "{}/{}",
                            f["channel"].as_str().unwrap(),
                            f["author"].as_str().unwrap()
                        ),
                        f["size"].as_u64().unwrap(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        sizes(a) == sizes(b)
            && [a, b].iter().all(|s| {
                s["peers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|p| p["backlog_entries"] == 0)
            })
    }
}

fn at(hours: i64) -> String {
    parley_log::Timestamp::now()
        .plus_seconds(hours * 3600)
        .to_string()
}

/// The parts of an obligation both parties must agree on.
fn comparable(list: &Value) -> Vec<(String, String, String, String)> {
    let mut v: Vec<_> = list["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_string(),
                o["status"].as_str().unwrap().to_string(),
                o["due"].to_string(),
                o["met_at"].to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_story_replays_and_both_nodes_derive_the_same_obligations() {
    let net = replay();
    let (nato, russia) = (net.get("nato"), net.get("russia"));

    // One clarification request answered in part (one question of three:
    // VD11 Chapter III wants the questions answered), one left unanswered.
    let later = at(49);
    let on_nato = json(&["obligations", "--dir", nato.d(), "--at", &later]);
    let on_russia = json(&["obligations", "--dir", russia.d(), "--at", &later]);
    let (usa_channels, others): (Vec<_>, Vec<_>) = comparable(&on_russia)
        .into_iter()
        .partition(|o| o.0.starts_with("usa."));
    assert_eq!(
        comparable(&on_nato),
        others,
        "both parties see the same board"
    );
    // The United States' inspection: Russia replied within 24 hours and
    // the inspectors reported; both nodes agree.
    let on_usa = json(&["obligations", "--dir", net.get("usa").d(), "--at", &later]);
    assert_eq!(
        comparable(&on_usa),
        usa_channels,
        "the same inspection board"
    );
    let rules: Vec<(&str, &str)> = usa_channels
        .iter()
        .map(|o| (o.0.rsplit('#').nth(1).unwrap_or(""), o.1.as_str()))
        .collect();
    assert_eq!(
        rules,
        [
            ("verification-reply", "met"),
            ("verification-report", "met")
        ],
        "{usa_channels:?}"
    );
    let find = |list: &Value, source: &str, rule: &str| -> Value {
        list["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["source"] == source && o["rule"] == rule)
            .cloned()
            .unwrap_or_else(|| panic!("{source} {rule}"))
    };
    let answered = find(&on_nato, "nato.mil/nato/6", "clarification-reply");
    assert_eq!(answered["status"], "overdue", "{answered}");
    assert!(answered["met_by"].is_null());
    assert_eq!(
        answered["unanswered_questions"],
        j!([
            "2. How many troops, battle tanks and artillery pieces take part?",
            "3. When will the forces return to their normal peacetime locations?"
        ])
    );
    let unanswered = find(&on_nato, "nato.mil/nato/8", "clarification-reply");
    assert_eq!(unanswered["status"], "overdue");
    assert_eq!(unanswered["debtor"], "russia");
    // The clock starts at Russia's own receipt: its signed time, as NATO
    // stored it (the earliest of Russia's receipts covering entry 8).
    let receipt = parley_store::Store::cosignatures(
        net.get("nato").store().as_ref(),
        &parley_store::FeedId::new("nato.mil", "nato"),
        1,
    )
    .unwrap()
    .into_iter()
    .filter(|c| {
        c.cosigner == "russia" && c.statement == parley_store::Statement::Receipt && c.size > 8
    })
    .map(|c| c.time)
    .min()
    .unwrap();
    assert_eq!(
        Timestamp::parse(unanswered["starts"].as_str().unwrap())
            .unwrap()
            .unix(),
        receipt,
        "the clock starts at Russia's own receipt: {unanswered}"
    );

    // Before the 48 hours are up, it is open; the board as of a time shows it.
    let now = json(&["obligations", "--dir", russia.d(), "--overdue"]);
    assert!(
        now["obligations"].as_array().unwrap().is_empty(),
        "nothing overdue yet: {now}"
    );
    let text = ok(&[
        "obligations",
        "--dir",
        russia.d(),
        "--overdue",
        "--at",
        &later,
    ]);
    assert!(
        text.contains("OVERDUE") && text.contains("nato.mil/nato/8"),
        "{text}"
    );

    // The invitation left without reply, in the silence report a year on.
    let silence = json(&["silence", "--dir", nato.d(), "--at", &at(24 * 412)]);
    let inv = silence["silence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["source"] == "nato.nrc/nato/1")
        .unwrap()
        .clone();
    assert_eq!(
        inv["silent_for_seconds"].as_i64().unwrap() / 86_400,
        412,
        "{inv}"
    );
    assert!(
        ok(&["silence", "--dir", nato.d(), "--at", &at(24 * 412)]).contains("silent for 412 days")
    );

    // The timeline is causal: every answer after what it answers.
    let tl = json(&["timeline", "--dir", russia.d(), "--channel", "nato.mil"]);
    let ids: Vec<&str> = tl["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let pos = |id: &str| ids.iter().position(|x| *x == id).unwrap();
    assert!(
        pos("nato.mil/nato/1") < pos("nato.mil/russia/1")
            && pos("nato.mil/russia/1") < pos("nato.mil/russia/2")
    );
    // Russia's reply to the request for clarification comes after it.
    assert!(pos("nato.mil/nato/6") < pos("nato.mil/russia/9"), "{ids:?}");
    // A page of it: rows 2 and 3 of the same order, with the total.
    let page = json(&[
        "timeline",
        "--dir",
        russia.d(),
        "--channel",
        "nato.mil",
        "--from",
        "2",
        "--limit",
        "2",
    ]);
    let paged: Vec<&str> = page["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(paged, ids[2..4].to_vec());
    assert_eq!(page["total"], serde_json::json!(ids.len()));

    // Exercises carry their threshold badges.
    let ex = json(&["exercises", "--dir", nato.d()]);
    let zapad = &ex["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["designation"] == "ZAPAD")
        .unwrap()["assessment"];
    assert!(
        !zapad["notifiable"].as_array().unwrap().is_empty()
            && zapad["observation"].as_array().unwrap().is_empty()
    );
    // NATO is not a participating State: Norway notified TRIDENT JUNCTURE,
    // and NATO's own notification is refused by its node.
    assert!(
        !ex["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["author"] == "nato")
    );
    let body = net.path("nato-notification.json");
    let mut n: Value = serde_json::from_str(&ok(&["example", "prior_notification"])).unwrap();
    n["designation"] = j!("TRIDENT JUNCTURE");
    std::fs::write(&body, n.to_string()).unwrap();
    let o = parley(&[
        "send",
        "--dir",
        nato.d(),
        "--channel",
        "nato.mil",
        "--kind",
        "prior_notification",
        "--body",
        body.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("the host State notifies"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn meetings_agendas_records_and_commitments() {
    let net = replay();
    let (nato, russia, osce) = (net.get("nato"), net.get("russia"), net.get("osce"));
    for p in [nato, russia] {
        let meetings = json(&["meetings", "--dir", p.d()]);
        let council = meetings
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["invitation"]["title"] == "NATO–Russia Council on European security")
            .unwrap();
        // Answered with a counter-proposal.
        assert_eq!(
            council["replies"][0]["reply"]["response"],
            "counter_proposal"
        );
        // Ukraine first: refused; reordered: agreed by both.
        let agendas = council["agendas"].as_array().unwrap();
        let first = agendas.iter().find(|a| a["proposed_by"] == "nato").unwrap();
        assert_eq!(
            (first["agreed"].clone(), first["waiting_for"].clone()),
            (j!(false), j!(["russia"]))
        );
        let second = agendas
            .iter()
            .find(|a| a["proposed_by"] == "russia")
            .unwrap();
        assert_eq!(second["agreed"], true);
        assert_eq!(council["agreed_agenda"], second["id"]);
        assert_eq!(
            second["items"][1]["title"],
            "The situation in and around Ukraine"
        );
        // The record: differences recorded, confirmed, disclosed by consent.
        let record = &council["records"][0];
        assert!(
            !record["record"]["differences"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert_eq!(record["confirmations"][0]["party"], "russia");
        assert_eq!(record["confirmations"][0]["confirm"], true);
        // Every member consented, nobody objects, but the embargo runs:
        // an embargo means "not before".
        let d = &record["disclosure"];
        assert_eq!(d["public"], false, "{d}");
        assert_eq!(
            (d["waiting_for"].clone(), d["objected_by"].clone()),
            (j!([]), j!([]))
        );
        let after = Timestamp::parse(d["embargo_until"].as_str().unwrap())
            .unwrap()
            .plus_seconds(60)
            .to_string();
        let later = json(&["meetings", "--dir", p.d(), "--at", &after]);
        assert!(
            later.to_string().contains("\"public\":true"),
            "public once the embargo is over: {later}"
        );
        // The other invitation is still unanswered.
        let unanswered = meetings
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == "nato.nrc/nato/1")
            .unwrap();
        assert!(unanswered["replies"].as_array().unwrap().is_empty());
    }

    // A draft revised twice and signed by both is a commitment...
    let commitments = json(&["commitments", "--dir", russia.d()]);
    let c = commitments.as_array().unwrap();
    assert_eq!(
        c.len(),
        1,
        "the security guarantees were never signed: {commitments}"
    );
    assert_eq!(
        (c[0]["document"].as_str(), c[0]["version"].as_str()),
        (Some("hotline-testing"), Some("v3"))
    );
    let neg = json(&["negotiations", "--dir", nato.d()]);
    let doc = neg
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["document"] == "hotline-testing")
        .unwrap();
    let versions = doc["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[2]["parent"], versions[1]["id"]);
    assert_eq!(versions[1]["parent"], versions[0]["id"]);
    // ...and each signature, and the signed version, proves itself offline.
    let mut to_prove: Vec<String> = c[0]["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    to_prove.push(c[0]["id"].as_str().unwrap().to_string());
    for id in to_prove {
        let author = id.split('/').nth(1).unwrap().to_string();
        let holder = if author == "nato" { nato } else { russia };
        let file = net.path(&format!("{}.tlog-proof", id.replace('/', "-")));
        std::fs::write(&file, ok(&["proof", "--dir", holder.d(), &id])).unwrap();
        let out = ok(&[
            "verify",
            file.to_str().unwrap(),
            "--vkey",
            &nato.vkey(Role::Log),
            "--vkey",
            &russia.vkey(Role::Log),
            // Each receipt is required except the author's own (nobody
            // receipts its own feed).
            "--vkey",
            &nato.vkey(Role::Receipt),
            "--vkey",
            &russia.vkey(Role::Receipt),
            "--vkey",
            &osce.vkey(Role::Witness),
        ]);
        assert!(out.contains(&format!("verified: entry {id}")), "{out}");
        let other = if author == "nato" { "russia" } else { "nato" };
        assert!(out.contains(&format!("delivered to {other} at")), "{out}");
    }
}

#[test]
fn send_validates_before_anything_is_appended_and_prints_every_rule() {
    let net = replay();
    let russia = net.get("russia");
    let before = russia.feed_size("nato.mil", "russia");
    // A notification 30 days ahead, with a bad area, not marked late.
    let mut body: Value = serde_json::from_str(&ok(&["example", "prior_notification"])).unwrap();
    let start = parley_domain::dates::Date::of(parley_log::Timestamp::now()).plus_days(30);
    body["start"] = j!(start.to_string());
    body["end"] = j!(start.plus_days(3).to_string());
    body["area"]["coordinates"][0][0][1] = j!(999_000_000);
    let file = net.path("late.json");
    std::fs::write(&file, body.to_string()).unwrap();
    let o = parley(&[
        "send",
        "--dir",
        russia.d(),
        "--channel",
        "nato.mil",
        "--kind",
        "prior_notification",
        "--body",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("start: start is 30 days after notification; the Vienna Document requires 42"),
        "{err}"
    );
    assert!(err.contains("area.coordinates[0][0][1]: latitude"), "{err}");
    assert_eq!(
        russia.feed_size("nato.mil", "russia"),
        before,
        "nothing appended"
    );

    // Marked as an alert activity (VD11 Chapter V: notified when its troops
    // commence it), it is accepted, and not flagged late.
    body["area"]["coordinates"][0][0][1] = j!(520_000_000);
    body["late"] =
        j!({"kind": "alert", "reason": "Snap combat-readiness check ordered without notice"});
    body["designation"] = j!("SNAP CHECK");
    std::fs::write(&file, body.to_string()).unwrap();
    ok(&[
        "send",
        "--dir",
        russia.d(),
        "--channel",
        "nato.mil",
        "--kind",
        "prior_notification",
        "--body",
        file.to_str().unwrap(),
    ]);
    let ex = ok(&["exercises", "--dir", russia.d()]);
    assert!(
        ex.contains("SNAP CHECK")
            && ex.contains("ALERT: notified at commencement")
            && !ex.contains("SNAP CHECK (russia), 12700 troops  [NOTIFIABLE, LATE"),
        "{ex}"
    );

    // A reference to the wrong kind of entry is caught by the author's node.
    let reply = net.path("reply.json");
    std::fs::write(&reply, r#"{"text": {"en": "x"}}"#).unwrap();
    russia.wait_holds("nato.mil/nato/1");
    let o = parley(&[
        "send",
        "--dir",
        russia.d(),
        "--channel",
        "nato.mil",
        "--kind",
        "clarification_reply",
        "--refs",
        "nato.mil/nato/1",
        "--body",
        reply.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("refs[0]: a clarification_reply answers a clarification_request, but nato.mil/nato/1 is a hotline_message"));
}
