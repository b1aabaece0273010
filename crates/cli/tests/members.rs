//! A channel of 32 members and a witness: NATO's size. 33 `parley serve`
//! processes on 127.0.0.1; one member sends; every other member's receipt
//! reaches it; the proof bundle of its last entry carries all 31 receipts
//! and the witness's cosignature, and verifies with `parley verify` and,
//! for the log's signature among 33 lines, with Go's `note.Open` (which
//! refuses notes of more than 100 signatures: parley refuses a charter
//! whose fully cosigned checkpoint could pass that, `tests/kinds.rs` in
//! the domain crate).

mod net;

use net::{Net, json, ok, wait_until};
use parley_store::{DeliveryRole, FeedId};

const MEMBERS: usize = 32;

#[test]
fn a_channel_of_32_members_gets_every_receipt_and_its_proofs_verify() {
    let names: Vec<String> = (1..=MEMBERS).map(|i| format!("p{i:02}")).collect();
    let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
    all.push("osce");
    let mut net = Net::new(&all);
    for p in &net.parties {
        // A link test a minute, as deployed: with 32 peers each, the test
        // suite's one a second would be a thousand handshakes a second.
        p.configure(
            "link_test_interval_secs = 1",
            "link_test_interval_secs = 60",
        );
    }
    net.start_all();
    let author = net.get("p01");
    let members = names.join(",");
    ok(&[
        "channel",
        "create",
        "--dir",
        author.d(),
        "--id",
        "p01.all",
        "--members",
        &members,
        "--witness",
        "osce",
        "--level",
        "expert",
        "--languages",
        "en",
    ]);
    for name in &names[1..] {
        net::accept_channel(net.get(name), "p01.all");
    }
    let ad = author.d().to_string();
    wait_until(60, "the channel to be active", || {
        json(&["channel", "list", "--dir", &ad])[0]["state"] == "active"
    });
    let mut last = String::new();
    for i in 0..3 {
        let sent = author.send_text("p01.all", &format!("to all {MEMBERS} members, {i}"));
        last = sent.lines().next().unwrap().to_string();
    }
    let feed = FeedId::new("p01.all", "p01");
    let size = author.feed_size("p01.all", "p01");
    let store = author.store();
    wait_until(120, "every member's receipt at the sender", || {
        names[1..]
            .iter()
            .all(|m| store.delivered(m, &feed, DeliveryRole::Push).unwrap() == size)
    });
    wait_until(60, "the witness's cosignature", || {
        store
            .delivered("osce", &feed, DeliveryRole::Witness)
            .unwrap()
            == size
    });

    // The last entry's proof bundle: 1 log signature, 31 receipts, the
    // witness's cosignature.
    let bundle = ok(&["proof", "--dir", author.d(), &last]);
    let file = net.path("last.bundle");
    std::fs::write(&file, &bundle).unwrap();
    let mut args = vec!["verify".to_string(), file.display().to_string()];
    for p in &net.parties {
        args.extend(["--identity".to_string(), p.identity.clone()]);
    }
    let v = json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let receipts = v["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), MEMBERS - 1, "{v}");
    assert_eq!(v["witnesses"].as_array().unwrap().len(), 1, "{v}");

    // Go opens the checkpoint (its 33 signature lines are within its cap)
    // with the feed's log key, and reports that one signature.
    let checkpoint = parley_log::proof::TlogProof::parse(&bundle)
        .unwrap()
        .checkpoint;
    let lines = checkpoint
        .lines()
        .filter(|l| l.starts_with('\u{2014}'))
        .count();
    assert_eq!(lines, MEMBERS + 1, "{checkpoint}");
    let tmp = tempfile::tempdir().unwrap();
    if let Some(go) = net::go::build_go_peer(tmp.path()) {
        let log_key = ok(&[
            "identity",
            "log-key",
            "--identity",
            &author.identity,
            "--origin",
            &parley_log::feed_origin("p01.all", "p01"),
        ]);
        let names = net::go::go_open(&go, log_key.trim(), &checkpoint).unwrap();
        assert_eq!(names.trim(), "parley/p01.all/p01");
    }

    net::figure(format!(
        "32 members and a witness: every receipt of {size} entries at the sender; the last \
         bundle's checkpoint carries {lines} signatures and verifies ({} receipts), Go's \
         note.Open opens it",
        receipts.len()
    ));
}
