//! Vienna Document Chapters I and IX across real node processes: quotas
//! refused by the author's node, replies only by the State asked, the same
//! verdicts on every node, and a party that skips its own node's check to
//! push a request beyond quota gains no obligation over the other side.

mod net;

use net::forge::{Forge, push};
use net::{Net, accept_channel, json, ok, parley, wait_until};
use parley_domain::dates::Date;
use parley_log::Timestamp;
use serde_json::{Value, json as j};

const CHANNEL: &str = "germany.vd";

fn send(net: &Net, who: &str, kind: &str, body: &Value, refs: &[&str]) -> std::process::Output {
    let file = net.path(&format!("{who}-{kind}.json"));
    std::fs::write(&file, body.to_string()).unwrap();
    let dir = net.get(who).d().to_string();
    let mut args = vec![
        "send",
        "--dir",
        &dir,
        "--channel",
        CHANNEL,
        "--kind",
        kind,
        "--body",
        file.to_str().unwrap(),
    ];
    for r in refs {
        args.extend(["--ref", r]);
    }
    parley(&args)
}

fn sent(net: &Net, who: &str, kind: &str, body: &Value, refs: &[&str]) -> String {
    let o = send(net, who, kind, body, refs);
    assert!(
        o.status.success(),
        "{who} {kind}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The first line is the entry's id, the second its hash.
    let out = String::from_utf8(o.stdout).unwrap();
    out.lines().next().unwrap().trim().to_string()
}

fn refused(net: &Net, who: &str, kind: &str, body: &Value, refs: &[&str]) -> String {
    let before = net.get(who).feed_size(CHANNEL, who);
    let o = send(net, who, kind, body, refs);
    assert_eq!(o.status.code(), Some(1), "{who} {kind} should be refused");
    assert_eq!(
        net.get(who).feed_size(CHANNEL, who),
        before,
        "nothing appended"
    );
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn example(kind: &str) -> Value {
    serde_json::from_str(&ok(&["example", kind])).unwrap()
}

fn verification(net: &Net, who: &str, year: i64) -> Value {
    json(&[
        "verification",
        "--dir",
        net.get(who).d(),
        "--year",
        &year.to_string(),
    ])
}

/// What every node must agree on: each request's standing, and the quotas.
fn verdicts(v: &Value) -> Value {
    let c = &v["channels"][0];
    let requests: Vec<Value> = c["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| j!([r["id"], r["standing"], r["counted"]]))
        .collect();
    j!({"quotas": c["quotas"], "requests": requests})
}

#[test]
fn quotas_are_refused_at_send_agreed_everywhere_and_cannot_be_forged() {
    let mut net = Net::new(&["germany", "france", "russia"]);
    net.start_all();
    ok(&[
        "channel",
        "create",
        "--dir",
        net.get("germany").d(),
        "--id",
        CHANNEL,
        "--members",
        "germany,france,russia",
        "--level",
        "military",
        "--languages",
        "en,ru",
        "--annual-exchange",
    ]);
    accept_channel(net.get("france"), CHANNEL);
    accept_channel(net.get("russia"), CHANNEL);
    let gd = net.get("germany").d().to_string();
    wait_until(20, "the channel to be active", || {
        json(&["channel", "list", "--dir", &gd])[0]["state"] == "active"
    });
    let year = Date::of(Timestamp::now()).year();
    // A visit six days ahead counts in the year it takes place (late in
    // December, the next one), and Russia reports its units for that year.
    let visit_day = Date::of(Timestamp::now()).plus_days(6);
    let visit_year = visit_day.year();

    // Russia reports one unit: a quota of one evaluation visit.
    let info = sent(
        &net,
        "russia",
        "military_information",
        &j!({
            "year": visit_year,
            "units": [{"designation": "6th Separate Tank Brigade", "location": "Mulino"}]
        }),
        &[],
    );
    for p in ["germany", "france"] {
        net.get(p).wait_holds(&info);
    }

    // Germany inspects Russia; a second from Germany the same year is refused.
    let mut inspection = example("inspection_request");
    inspection["to"] = j!("russia");
    let first = sent(&net, "germany", "inspection_request", &inspection, &[]);
    let err = refused(&net, "germany", "inspection_request", &inspection, &[]);
    assert!(
        err.contains("to: beyond quota, refused: russia has accepted 1 inspection from germany"),
        "{err}"
    );

    // Germany's visit takes the quota; France's is refused, as is a unit
    // Russia never reported.
    let mut visit = example("evaluation_visit_request");
    visit["date"] = j!(visit_day.to_string());
    let mut ghost = visit.clone();
    ghost["unit"] = j!("1st Guards Tank Army");
    let err = refused(&net, "germany", "evaluation_visit_request", &ghost, &[]);
    assert!(
        err.contains("unit: russia did not report a unit \"1st Guards Tank Army\""),
        "{err}"
    );
    let germany_visit = sent(&net, "germany", "evaluation_visit_request", &visit, &[]);
    net.get("france").wait_holds(&germany_visit);
    let err = refused(&net, "france", "evaluation_visit_request", &visit, &[]);
    assert!(err.contains("its quota is 1 visit a year"), "{err}");

    // Only the State asked replies; Russia accepts.
    net.get("france").wait_holds(&first);
    let err = refused(
        &net,
        "france",
        "verification_reply",
        &j!({"decision": "accepted"}),
        &[&first],
    );
    assert!(err.contains("only the State asked (russia)"), "{err}");
    net.get("russia").wait_holds(&first);
    let reply = sent(
        &net,
        "russia",
        "verification_reply",
        &example("verification_reply"),
        &[&first],
    );

    // Every node reaches the same verdicts.
    net.get("germany").wait_holds(&reply);
    net.get("france").wait_holds(&reply);
    net.get("russia").wait_holds(&germany_visit);
    let v = verification(&net, "russia", visit_year);
    for p in ["germany", "france"] {
        assert_eq!(
            verdicts(&verification(&net, p, visit_year)),
            verdicts(&v),
            "{p} and russia"
        );
    }
    let russia = |v: &Value| {
        v["channels"][0]["quotas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["state"] == "russia")
            .unwrap()
            .clone()
    };
    let this_year = russia(&verification(&net, "russia", year));
    assert_eq!(this_year["inspections_left"], 2, "{this_year}");
    assert_eq!(russia(&v)["evaluations_left"], 0, "{v}");
    let text = ok(&[
        "verification",
        "--dir",
        net.get("germany").d(),
        "--year",
        &visit_year.to_string(),
    ]);
    assert!(
        text.contains("1 of 1 evaluation visit (0 left; 1 unit reported)"),
        "{text}"
    );

    // France skips its own node's check: it signs a second visit with its
    // real key and pushes it itself. Russia holds it (it is a valid entry)
    // but it is beyond quota, on Russia's node and Germany's alike, and
    // puts Russia under no obligation; Germany's keeps its place.
    let france = net.get("france");
    let mut forge = Forge::from_node(france.key(), CHANNEL, france);
    net.p("france").stop();
    // It even dates it back an hour, before Germany's: the order is that
    // of Russia's signed receipts, so that gains it nothing. (Receipts are
    // to the second; two received in the same second go by the causal
    // order, so the test lets the second turn.)
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut e = forge.entry("evaluation_visit_request", visit.clone());
    e.time = Timestamp::from_unix(Timestamp::now().unix() - 3600).unwrap();
    let id = e.id();
    forge.push_bytes(e.encode().unwrap());
    let from = forge.tree.size() - 1;
    for to in ["russia", "germany"] {
        let (status, body) = push(net.get(to), &forge.update(from));
        assert_eq!(status, 200, "{to}: {body}");
        net.get(to).wait_holds(&id);
    }
    for p in ["russia", "germany"] {
        let v = verification(&net, p, visit_year);
        let forged = v["channels"][0]["requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap()
            .clone();
        assert_eq!(forged["standing"]["standing"], "beyond", "{p}: {forged}");
        assert_eq!(forged["counted"], false);
        let owed = json(&["obligations", "--dir", net.get(p).d()]);
        assert!(
            !owed["obligations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["source"] == id.as_str()),
            "{p}: the forged request obliges nothing: {owed}"
        );
    }
    assert_eq!(
        verdicts(&verification(&net, "germany", visit_year)),
        verdicts(&verification(&net, "russia", visit_year))
    );

    // France, still past its own node, answers Germany's inspection as if
    // it were Russia, refusing it for force majeure (which would free
    // Russia's quota). A reply counts only from the State asked: Germany's
    // request keeps Russia's acceptance and its place in the quota.
    let shown = json(&["show", "--dir", net.get("germany").d(), &first]);
    let first_hash = parley_log::Hash::from_hex(shown["hash"].as_str().unwrap()).unwrap();
    let mut e = forge.entry(
        "verification_reply",
        j!({"decision": "refused", "ground": "force_majeure", "explanation": "Storm."}),
    );
    e.refs = vec![first_hash];
    let false_reply = e.id();
    forge.push_bytes(e.encode().unwrap());
    let from = forge.tree.size() - 1;
    for to in ["russia", "germany"] {
        let (status, body) = push(net.get(to), &forge.update(from));
        assert_eq!(status, 200, "{to}: {body}");
        net.get(to).wait_holds(&false_reply);
    }
    for p in ["russia", "germany"] {
        let v = verification(&net, p, year);
        let asked = v["channels"][0]["requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == first.as_str())
            .unwrap()
            .clone();
        assert_eq!(asked["reply"]["id"], reply.as_str(), "{p}: {asked}");
        assert_eq!(asked["counted"], true, "{p}: {asked}");
        assert_eq!(russia(&v)["inspections_left"], 2, "{p}: {v}");
    }
}
