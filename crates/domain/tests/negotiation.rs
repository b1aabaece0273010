//! Negotiations in several tracks, as one node sees them: links verified,
//! false, missing or out of sight; superseded versions and the signatures
//! made on them.

use std::collections::BTreeMap;

use parley_domain::ledger::{Known, Ledger};
use parley_domain::views::{LinkSeen, negotiations};
use parley_domain::{ChannelState, Charter};
use parley_log::{Entry, Timestamp, leaf_hash};
use serde_json::{Value, json};

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn channel(id: &str) -> ChannelState {
    let body = json!({"members": ["nato", "russia"], "witnesses": [], "level": "political", "languages": ["en"]});
    let charter: Charter = serde_json::from_value(body.clone()).unwrap();
    let e = Entry {
        channel: id.into(),
        author: "nato".into(),
        seq: 0,
        time: t("2027-01-01T00:00:00Z"),
        kind: "channel_charter".into(),
        refs: vec![],
        salt: [0; 16],
        body,
    };
    let mut c = ChannelState::from_charter(&e, charter, leaf_hash(id.as_bytes()));
    c.accepted.insert("russia".into());
    c
}

fn known(
    channel: &str,
    author: &str,
    seq: u64,
    time: &str,
    kind: &str,
    body: Value,
    refs: Vec<parley_log::Hash>,
) -> Known {
    let entry = Entry {
        channel: channel.into(),
        author: author.into(),
        seq,
        time: t(time),
        kind: kind.into(),
        refs,
        salt: [seq as u8; 16],
        body,
    };
    Known {
        hash: entry.leaf_hash().unwrap(),
        entry,
        delivered: BTreeMap::new(),
    }
}

fn draft(version: &str, links: Vec<(String, String)>) -> Value {
    json!({
        "document": "d", "title": "Draft", "version": version, "text": {"en": version},
        "signatories": ["nato", "russia"], "negotiation": "n",
        "links": links.iter().map(|(e, h)| json!({"entry": e, "hash": h})).collect::<Vec<_>>(),
    })
}

#[test]
fn links_are_verified_false_missing_or_out_of_sight() {
    let a1 = known(
        "nato.a",
        "nato",
        1,
        "2027-01-02T00:00:00Z",
        "draft_document",
        draft("v1", vec![]),
        vec![],
    );
    let other = known(
        "nato.a",
        "nato",
        2,
        "2027-01-02T01:00:00Z",
        "hotline_message",
        json!({"priority": "routine", "text": {"en": "x"}}),
        vec![],
    );
    let links = vec![
        (a1.id(), a1.hash.to_hex()),                    // verified
        (a1.id(), other.hash.to_hex()),                 // another entry's hash
        ("nato.a/nato/9".to_string(), "ab".repeat(32)), // in our channel, not held
        ("usa.b/usa/1".to_string(), "cd".repeat(32)),   // not our channel
    ];
    let b1 = known(
        "nato.b",
        "russia",
        1,
        "2027-01-03T00:00:00Z",
        "draft_document",
        draft("v1", links),
        vec![],
    );
    // A revision of a1, then a signature on a1 after it.
    let a2 = known(
        "nato.a",
        "russia",
        1,
        "2027-01-04T00:00:00Z",
        "draft_document",
        draft("v2", vec![]),
        vec![a1.hash],
    );
    let late = known(
        "nato.a",
        "nato",
        3,
        "2027-01-05T00:00:00Z",
        "draft_signature",
        json!({"signed_by": "SG"}),
        vec![a1.hash],
    );
    let channels = BTreeMap::from([
        ("nato.a".to_string(), channel("nato.a")),
        ("nato.b".to_string(), channel("nato.b")),
    ]);
    let l = Ledger::new(
        channels,
        vec![a1.clone(), other, b1.clone(), a2.clone(), late],
    );
    let docs = negotiations(&l);
    let version = |id: &str| {
        docs.iter()
            .flat_map(|d| &d.versions)
            .find(|v| v.source.id() == id)
            .unwrap()
    };
    let seen: Vec<LinkSeen> = version(&b1.id()).links.iter().map(|l| l.seen).collect();
    assert_eq!(
        seen,
        [
            LinkSeen::Verified,
            LinkSeen::Mismatch,
            LinkSeen::Missing,
            LinkSeen::NotVisible
        ]
    );
    // a1 is superseded by its revision and by the version linking to it;
    // nato's signature came after both.
    let v1 = version(&a1.id());
    let mut by: Vec<&str> = v1.superseded_by.iter().map(|(id, _)| id.as_str()).collect();
    by.sort_unstable();
    let mut want = [b1.id(), a2.id()];
    want.sort();
    assert_eq!(by, want);
    assert_eq!(v1.signed_superseded(), [("nato", b1.id().as_str())]);
    assert!(version(&a2.id()).signed_superseded().is_empty());
}

/// A channel with an authentic language takes no text without it; the
/// translations are optional to send (their absence is shown, not refused).
#[test]
fn the_authentic_text_is_required() {
    let mut c = channel("nato.a");
    c.charter.languages = vec!["en".into(), "ru".into()];
    c.charter.rules.authentic_language = Some("en".into());
    c.charter.rules.translations_required = true;
    let msg = |text: Value| {
        known(
            "nato.a",
            "nato",
            1,
            "2027-01-02T00:00:00Z",
            "hotline_message",
            json!({"priority": "routine", "text": text}),
            vec![],
        )
        .entry
    };
    assert!(
        parley_domain::validate(&msg(json!({"en": "Hello", "ru": "Привет"})), Some(&c)).is_ok()
    );
    assert!(
        parley_domain::validate(&msg(json!({"en": "Hello"})), Some(&c)).is_ok(),
        "a translation may follow"
    );
    let v = parley_domain::validate(&msg(json!({"ru": "Привет"})), Some(&c)).unwrap_err();
    assert_eq!(v[0].field, "text.en");
    assert!(
        v[0].rule.contains("the authentic text, in en, is required"),
        "{v:?}"
    );
    // A charter's authentic language is one of its languages.
    let mut charter = c.charter.clone();
    charter.rules.authentic_language = Some("fr".into());
    let mut vs = parley_domain::violation::Violations::default();
    charter.check("nato", &mut vs);
    assert!(
        vs.0.iter().any(|x| x.field == "rules.authentic_language"),
        "{:?}",
        vs.0
    );
}
