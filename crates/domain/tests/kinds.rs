//! Every kind: its example validates, its schema is published, and each
//! broken rule is reported on the field it concerns.

use parley_domain::kinds::{self, Refs};
use parley_domain::{ChannelState, Charter, validate};
use parley_log::{Entry, Hash, Timestamp, leaf_hash};
use serde_json::{Value, json};

const NOW: &str = "2026-11-22T10:00:00Z";

fn now() -> Timestamp {
    Timestamp::parse(NOW).unwrap()
}

fn channel() -> ChannelState {
    let mut body = Charter::example(now());
    // Every kind's example fits: incidents at sea need an agreement.
    body["rules"]["incidents_at_sea"] = serde_json::json!("incsea-1972@1");
    let charter: Charter = serde_json::from_value(body.clone()).unwrap();
    let e = entry("nato", 0, "channel_charter", body, vec![]);
    let mut c = ChannelState::from_charter(&e, charter, leaf_hash(b"charter"));
    c.accepted.insert("russia".into());
    c
}

fn entry(author: &str, seq: u64, kind: &str, body: Value, refs: Vec<Hash>) -> Entry {
    Entry {
        channel: "nato.mil".into(),
        author: author.into(),
        seq,
        time: now(),
        kind: kind.into(),
        refs,
        salt: [0; 16],
        body,
    }
}

/// An entry of `kind` with `body` and the references its kind needs.
fn valid_refs(kind: &str) -> Vec<Hash> {
    match kinds::get(kind).unwrap().refs {
        Refs::One(_) if kind == "channel_acceptance" => vec![leaf_hash(b"charter")],
        Refs::One(_) => vec![leaf_hash(b"referenced")],
        _ => vec![],
    }
}

fn check(kind: &str, body: Value) -> Result<(), Vec<parley_domain::Violation>> {
    check_at(kind, body, now())
}

/// Validates `body` as an entry of `kind` written at `at`.
fn check_at(kind: &str, body: Value, at: Timestamp) -> Result<(), Vec<parley_domain::Violation>> {
    let c = channel();
    let (author, seq) = match kind {
        "channel_charter" => ("nato", 0),
        "channel_acceptance" => ("russia", 0),
        _ => ("nato", 5),
    };
    let mut e = entry(author, seq, kind, body, valid_refs(kind));
    e.time = at;
    validate(&e, Some(&c))
}

#[test]
fn every_example_is_valid_and_every_schema_is_published() {
    assert!(kinds::all().len() >= 25);
    for k in kinds::all() {
        // Valid on any day (`parley example` dates are relative to today):
        // the fixed day of these tests, today, and each month of a year.
        let days = [now(), Timestamp::now()]
            .into_iter()
            .chain((0..12).map(|m| now().plus_seconds(m * 31 * 86_400)));
        for at in days {
            let example = k.example(at);
            if let Err(v) = check_at(k.name, example.clone(), at) {
                panic!(
                    "the example of {} at {at} is invalid: {v:?}\n{example:#}",
                    k.name
                );
            }
        }
        let schema = k.schema();
        assert!(schema.is_object(), "{}", k.name);
        assert!(!k.description.is_empty() && !k.title.is_empty());
    }
}

/// The registry is the one place a kind's rules live: what answers it, who
/// sends it and what follows it name only registered kinds, every kind has
/// an office that may send it, and a kind that answers names what it
/// answers (`ref_kinds`) consistently with what it is an answer to.
#[test]
fn the_registry_names_only_registered_kinds_and_every_kind_has_a_sender() {
    for k in kinds::all() {
        for a in k.answered_by {
            let answer =
                kinds::get(a).unwrap_or_else(|| panic!("{}: answered by unknown {a}", k.name));
            assert!(
                answer.ref_kinds.is_empty() || answer.ref_kinds.contains(&k.name),
                "{} is answered by {a}, but an entry of kind {a} may not reference one of kind {}",
                k.name,
                k.name
            );
        }
        for f in k.follow_ups {
            assert!(
                kinds::get(f.kind).is_some(),
                "{}: follow-up {} is no kind",
                k.name,
                f.kind
            );
        }
        assert!(!k.sent_by.is_empty(), "no office may send a {}", k.name);
    }
}

#[test]
fn unknown_kinds_and_wrong_references_are_refused() {
    let c = channel();
    let e = entry("nato", 5, "telegram", json!({}), vec![]);
    assert_eq!(validate(&e, Some(&c)).unwrap_err()[0].field, "kind");
    let ack = entry("nato", 5, "acknowledgement", json!({}), vec![]);
    let v = validate(&ack, Some(&c)).unwrap_err();
    assert!(
        v.iter()
            .any(|v| v.field == "refs" && v.rule.contains("exactly one")),
        "{v:?}"
    );
    let outsider = entry(
        "osce",
        0,
        "hotline_message",
        kinds::get("hotline_message").unwrap().example(now()),
        vec![],
    );
    let v = validate(&outsider, Some(&c)).unwrap_err();
    assert!(v.iter().any(|v| v.field == "author"), "{v:?}");
}

/// (kind, a change to the example, the field reported, words in the rule).
type Case = (&'static str, fn(&mut Value), &'static str, &'static str);

#[test]
fn each_rule_is_reported_on_its_field() {
    let cases: &[Case] = &[
        (
            "hotline_message",
            |b| b["priority"] = json!("urgent"),
            "priority",
            "unknown variant",
        ),
        (
            "hotline_message",
            |b| b["text"] = json!({"fr": "bonjour"}),
            "text.fr",
            "not a language of channel",
        ),
        (
            "hotline_message",
            |b| b["text"] = json!({}),
            "text",
            "at least one language",
        ),
        (
            "hotline_message",
            |b| b["to"] = json!(["osce"]),
            "to[0]",
            "not a member",
        ),
        (
            "hotline_message",
            |b| b["colour"] = json!("red"),
            "colour",
            "unknown field",
        ),
        (
            "channel_charter",
            |b| b["members"] = json!(["nato"]),
            "members",
            "at least two members",
        ),
        (
            "channel_charter",
            |b| b["witnesses"] = json!(["russia"]),
            "witnesses[0]",
            "neutral",
        ),
        (
            // 101 members and a witness: 103 signatures on a fully
            // cosigned checkpoint, beyond what C2SP verifiers accept.
            "channel_charter",
            |b| {
                b["members"] = json!(
                    std::iter::once("nato".to_string())
                        .chain((1..=100).map(|i| format!("q{i:03}")))
                        .collect::<Vec<_>>()
                )
            },
            "members",
            "at most 100 signatures",
        ),
        (
            "channel_charter",
            |b| b["languages"] = json!(["english"]),
            "languages[0]",
            "ISO 639-1",
        ),
        (
            "channel_charter",
            |b| b["rules"]["ruleset"] = json!("vienna-document-1999@1"),
            "rules.ruleset",
            "not a rule set",
        ),
        (
            "prior_notification",
            |b| b["start"] = json!("2026-12-22"),
            "start",
            "start is 30 days after notification; the Vienna Document requires 42",
        ),
        (
            "prior_notification",
            |b| b["end"] = json!("2020-01-01"),
            "end",
            "ends",
        ),
        (
            "prior_notification",
            |b| b["forces"]["troops"] = json!(-5),
            "forces.troops",
            "invalid value",
        ),
        (
            "prior_notification",
            |b| b["area"]["coordinates"][0][1][1] = json!(950000000),
            "area.coordinates[0][1][1]",
            "latitude",
        ),
        (
            "prior_notification",
            |b| {
                b["area"]["coordinates"][0].as_array_mut().unwrap().pop();
            },
            "area.coordinates[0]",
            "closed",
        ),
        (
            "prior_notification",
            |b| b["designation"] = json!(" "),
            "designation",
            "empty",
        ),
        (
            "prior_notification",
            |b| {
                b["start"] = json!("2026-12-01");
                b["late"] = json!({"kind": "alert", "reason": ""});
            },
            "late.reason",
            "reason",
        ),
        (
            "annual_calendar",
            |b| b["year"] = json!(2020),
            "year",
            "already past",
        ),
        (
            "annual_calendar",
            |b| b["activities"][0]["start"] = json!("2031-05-10"),
            "activities[0].start",
            "not in the calendar's year",
        ),
        (
            "observation_invitation",
            |b| b["observers_per_state"] = json!(3),
            "observers_per_state",
            "up to two",
        ),
        (
            "incident_report",
            |b| b["domain"] = json!("space"),
            "domain",
            "unknown variant",
        ),
        (
            "incident_report",
            |b| b["time"] = json!("2099-01-01T00:00:00Z"),
            "time",
            "after it happens",
        ),
        (
            "incident_report",
            |b| b["units"] = json!([]),
            "units",
            "units involved",
        ),
        (
            "clarification_request",
            |b| b["to"] = json!("nato"),
            "to",
            "not yourself",
        ),
        (
            "clarification_request",
            |b| b["to"] = json!("belarus"),
            "to",
            "not a member",
        ),
        (
            "meeting_request",
            |b| b["scope"] = json!("trilateral"),
            "scope",
            "unknown variant",
        ),
        (
            "meeting_invitation",
            |b| b["proposed_dates"] = json!(["2020-01-01T00:00:00Z"]),
            "proposed_dates[0]",
            "future",
        ),
        (
            "meeting_invitation",
            |b| b["reply_by"] = json!("2026-01-12"),
            "reply_by",
            "RFC 3339",
        ),
        (
            "meeting_reply",
            |b| {
                b["response"] = json!("decline");
                b.as_object_mut().unwrap().remove("counter_dates");
            },
            "reason",
            "decline must give its reason",
        ),
        (
            "meeting_reply",
            |b| {
                b.as_object_mut().unwrap().remove("counter_dates");
            },
            "counter_dates",
            "other dates or another venue",
        ),
        (
            "agenda_proposal",
            |b| b["items"][0]["sponsor"] = json!("osce"),
            "items[0].sponsor",
            "not a member",
        ),
        (
            "agenda_proposal",
            |b| b["items"] = json!([]),
            "items",
            "at least one item",
        ),
        (
            "meeting_record",
            |b| b["end"] = json!("2000-01-01T00:00:00Z"),
            "end",
            "ends before it starts",
        ),
        (
            "record_confirmation",
            |b| b["confirm"] = json!(false),
            "objections",
            "what is objected to",
        ),
        (
            "draft_document",
            |b| b["signatories"] = json!(["nato", "osce"]),
            "signatories[1]",
            "not a member",
        ),
        (
            "draft_document",
            |b| b["document"] = json!("Hotline Testing"),
            "document",
            "a-z",
        ),
        (
            "draft_signature",
            |b| b["signed_by"] = json!(""),
            "signed_by",
            "who signs",
        ),
        (
            "channel_suspension",
            |b| b["reason"] = json!(""),
            "reason",
            "state the reason",
        ),
    ];
    for (kind, change, field, words) in cases {
        let mut body = kinds::get(kind).unwrap().example(now());
        change(&mut body);
        let violations = check(kind, body.clone()).expect_err(&format!("{kind}: {body}"));
        assert!(
            violations
                .iter()
                .any(|v| v.field == *field && v.rule.contains(words)),
            "{kind}: expected {field}: …{words}…, got {violations:?}"
        );
    }
}
