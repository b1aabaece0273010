//! Vienna Document Chapters I, II and IX on hand-built ledgers: each rule
//! in a table with its paragraph, the quotas counted in causal order, the
//! obligations they create, and the board kept current as requests arrive
//! out of order.

use std::collections::BTreeMap;

use parley_domain::board::Book;
use parley_domain::exchange::DefencePlanning;
use parley_domain::kinds;
use parley_domain::ledger::{Known, Ledger};
use parley_domain::obligations::{Obligation, Status, derive};
use parley_domain::rules::default_set;
use parley_domain::verification::{self, Standing};
use parley_domain::{ChannelState, Charter};
use parley_log::{Entry, Timestamp, leaf_hash};
use serde_json::{Value, json};

const CHANNEL: &str = "vd.osce";
const STATES: [&str; 5] = ["germany", "france", "poland", "netherlands", "russia"];

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn channel() -> ChannelState {
    let body = json!({
        "title": "Vienna Document verification",
        "members": STATES,
        "witnesses": [],
        "level": "military",
        "languages": ["en", "ru"],
        "rules": {"annual_exchange": true}
    });
    let charter: Charter = serde_json::from_value(body.clone()).unwrap();
    let mut c = ChannelState::from_charter(
        &Entry {
            channel: CHANNEL.into(),
            author: "germany".into(),
            seq: 0,
            time: t("2026-06-01T00:00:00Z"),
            kind: "channel_charter".into(),
            refs: vec![],
            salt: [0; 16],
            body,
        },
        charter,
        leaf_hash(b"charter"),
    );
    c.accepted.extend(STATES.map(String::from));
    c
}

/// A history: entries in the order written, each delivered to every other
/// member an hour after it is written.
struct History {
    entries: Vec<Known>,
    seqs: BTreeMap<String, u64>,
}

impl History {
    fn new() -> History {
        History {
            entries: vec![],
            seqs: BTreeMap::new(),
        }
    }

    fn entry(
        &mut self,
        author: &str,
        time: &str,
        kind: &str,
        body: Value,
        refs: &[usize],
    ) -> Entry {
        let seq = self.seqs.entry(author.into()).or_insert(1);
        let e = Entry {
            channel: CHANNEL.into(),
            author: author.into(),
            seq: *seq,
            time: t(time),
            kind: kind.into(),
            refs: refs.iter().map(|&i| self.entries[i].hash).collect(),
            salt: [*seq as u8; 16],
            body,
        };
        *seq += 1;
        e
    }

    /// Writes an entry that passes every check, the history's included.
    fn add(&mut self, author: &str, time: &str, kind: &str, body: Value, refs: &[usize]) -> usize {
        let e = self.entry(author, time, kind, body, refs);
        let c = channel();
        parley_domain::validate(&e, Some(&c)).unwrap_or_else(|v| panic!("{kind}: {v:?}"));
        let v = kinds::check_in_history(&e, &self.ledger());
        assert!(v.is_empty(), "{kind} by {author}: {v:?}");
        self.push(e)
    }

    /// Writes an entry without the history's checks (as two capitals
    /// sending at once would: neither sees the other's request).
    fn push(&mut self, e: Entry) -> usize {
        let at = e.time.plus_seconds(3600);
        self.push_delivered(e, at)
    }

    /// Writes an entry delivered to every other member at `at`.
    fn push_delivered(&mut self, e: Entry, at: Timestamp) -> usize {
        let delivered = STATES
            .iter()
            .filter(|s| **s != e.author)
            .map(|s| (s.to_string(), at))
            .collect();
        self.entries.push(Known {
            hash: e.leaf_hash().unwrap(),
            entry: e,
            delivered,
        });
        self.entries.len() - 1
    }

    fn ledger(&self) -> Ledger {
        Ledger::new(
            BTreeMap::from([(CHANNEL.to_string(), channel())]),
            self.entries.clone(),
        )
    }

    fn inspect(&mut self, from: &str, to: &str, time: &str) -> usize {
        let mut body = verification_example("inspection_request");
        body["to"] = json!(to);
        self.add(from, time, "inspection_request", body, &[])
    }

    fn reply(&mut self, by: &str, request: usize, time: &str, body: Value) -> usize {
        self.add(by, time, "verification_reply", body, &[request])
    }

    /// Chapter I information with `units` units, valid for `year`.
    fn report_units(&mut self, state: &str, year: i64, units: usize, time: &str) -> usize {
        let units: Vec<Value> = (0..units)
            .map(|i| json!({"designation": format!("Unit {i}"), "location": "Garrison"}))
            .collect();
        self.add(
            state,
            time,
            "military_information",
            json!({"year": year, "units": units}),
            &[],
        )
    }

    fn visit_body(to: &str, unit: &str, date: &str) -> Value {
        json!({"to": to, "unit": unit, "location": "Garrison", "date": date,
               "point_of_entry": "Airport", "team": ["A", "B"]})
    }

    fn visit(&mut self, from: &str, to: &str, unit: &str, date: &str, time: &str) -> usize {
        self.add(
            from,
            time,
            "evaluation_visit_request",
            History::visit_body(to, unit, date),
            &[],
        )
    }
}

fn verification_example(kind: &str) -> Value {
    kinds::get(kind).unwrap().example(t("2027-03-01T00:00:00Z"))
}

fn standing(l: &Ledger, i: usize, h: &History) -> Standing {
    verification::request(l, &h.entries[i]).unwrap().standing
}

fn beyond(s: &Standing) -> &str {
    match s {
        Standing::Beyond { rule } => rule,
        Standing::Within => panic!("expected beyond quota"),
    }
}

fn rules_of<'a>(list: &'a [Obligation], source: &str) -> Vec<(&'a str, &'a str, Status)> {
    list.iter()
        .filter(|o| o.source == source)
        .map(|o| (o.rule, o.debtor.as_str(), o.status))
        .collect()
}

/// Inspections, VD11 Chapter IX paras. 75–77 (as remembered): each row a
/// history, the request judged, and what the paragraph says of it.
#[test]
fn inspection_quotas_by_paragraph() {
    type Setup = fn(&mut History) -> usize;
    let rows: &[(&str, Setup, Option<&str>)] = &[
        (
            "para. 75: a fourth inspection of the same State in a year is beyond quota",
            |h| {
                h.inspect("germany", "russia", "2027-02-01T09:00:00Z");
                h.inspect("france", "russia", "2027-03-01T09:00:00Z");
                h.inspect("poland", "russia", "2027-04-01T09:00:00Z");
                let e = h.entry(
                    "netherlands",
                    "2027-05-01T09:00:00Z",
                    "inspection_request",
                    json!(verification_example("inspection_request")),
                    &[],
                );
                h.push(e)
            },
            Some(
                "no State is obliged to accept more than 3 a calendar year (VD11 Chapter IX, para. 75)",
            ),
        ),
        (
            "para. 76: a second inspection from the same State in a year is beyond quota",
            |h| {
                h.inspect("germany", "russia", "2027-02-01T09:00:00Z");
                let e = h.entry(
                    "germany",
                    "2027-09-01T09:00:00Z",
                    "inspection_request",
                    json!(verification_example("inspection_request")),
                    &[],
                );
                h.push(e)
            },
            Some("no more than 1 a year from the same State (VD11 Chapter IX, para. 76)"),
        ),
        (
            "para. 77: an inspection refused for force majeure is not counted",
            |h| {
                h.inspect("germany", "russia", "2027-02-01T09:00:00Z");
                let fm = h.inspect("france", "russia", "2027-03-01T09:00:00Z");
                h.reply(
                    "russia",
                    fm,
                    "2027-03-01T12:00:00Z",
                    json!({
                    "decision": "refused", "ground": "force_majeure",
                    "explanation": "Flooding closes the area."}),
                );
                h.inspect("poland", "russia", "2027-04-01T09:00:00Z");
                h.inspect("netherlands", "russia", "2027-05-01T09:00:00Z")
            },
            None,
        ),
        (
            "para. 75: the quota is per calendar year",
            |h| {
                h.inspect("germany", "russia", "2027-02-01T09:00:00Z");
                h.inspect("france", "russia", "2027-03-01T09:00:00Z");
                h.inspect("poland", "russia", "2027-04-01T09:00:00Z");
                h.inspect("netherlands", "russia", "2028-01-02T09:00:00Z")
            },
            None,
        ),
        (
            "para. 75: the quota is per receiving State",
            |h| {
                h.inspect("germany", "russia", "2027-02-01T09:00:00Z");
                h.inspect("france", "russia", "2027-03-01T09:00:00Z");
                h.inspect("poland", "russia", "2027-04-01T09:00:00Z");
                h.inspect("russia", "netherlands", "2027-05-01T09:00:00Z")
            },
            None,
        ),
    ];
    for (rule, setup, expected) in rows {
        let mut h = History::new();
        let i = setup(&mut h);
        let l = h.ledger();
        let s = standing(&l, i, &h);
        match expected {
            None => assert_eq!(s, Standing::Within, "{rule}"),
            Some(why) => assert!(beyond(&s).contains(why), "{rule}: {s:?}"),
        }
    }
}

/// Beyond quota the author's node refuses to send; the State asked owes
/// no reply; the quota left is shown per State and year.
#[test]
fn a_request_beyond_quota_is_refused_and_obliges_nothing() {
    let mut h = History::new();
    for (from, time) in [
        ("germany", "2027-02-01T09:00:00Z"),
        ("france", "2027-03-01T09:00:00Z"),
        ("poland", "2027-04-01T09:00:00Z"),
    ] {
        h.inspect(from, "russia", time);
    }
    let fourth = h.entry(
        "netherlands",
        "2027-05-01T09:00:00Z",
        "inspection_request",
        verification_example("inspection_request"),
        &[],
    );
    let refused = kinds::check_in_history(&fourth, &h.ledger());
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].field, "to");
    assert!(
        refused[0]
            .rule
            .starts_with("beyond quota, refused: russia has accepted 3 inspections in 2027")
    );

    let l = h.ledger();
    let q = verification::quotas(&l, CHANNEL, 2027);
    let russia = q.iter().find(|q| q.state == "russia").unwrap();
    assert_eq!((russia.inspections, russia.inspections_left()), (3, 0));
    let germany = q.iter().find(|q| q.state == "germany").unwrap();
    assert_eq!(germany.inspections_left(), 3);

    // Sent anyway from a node that did not see the others (two capitals at
    // once): the order decides, and the late one obliges nothing.
    let i = h.push(fourth);
    let l = h.ledger();
    let all = derive(&l, t("2027-05-03T00:00:00Z"));
    assert!(rules_of(&all, &h.entries[i].id()).is_empty());
}

/// The State asked replies within 24 hours of its receipt (para. 84 as
/// remembered); accepted, the State that asked owes every member its
/// report within 14 days of the end [U]; the end is the arrival the reply
/// gives plus 48 hours (para. 88).
#[test]
fn replies_and_reports_fall_due_from_proven_times() {
    let mut h = History::new();
    let r = h.inspect("germany", "russia", "2027-02-01T09:00:00Z");
    let id = h.entries[r].id();
    // Delivered at 10:00: due 24 hours later.
    let l = h.ledger();
    let at = t("2027-02-02T09:59:00Z");
    let reply = derive(&l, at).into_iter().find(|o| o.source == id).unwrap();
    assert_eq!(reply.rule, "verification-reply");
    assert_eq!(reply.debtor, "russia");
    assert_eq!(reply.due, Some(t("2027-02-02T10:00:00Z")));
    assert_eq!(reply.status, Status::Open);
    assert!(reply.description.contains("VD11 Chapter IX, para. 84"));

    h.reply(
        "russia",
        r,
        "2027-02-01T20:00:00Z",
        json!({
        "decision": "accepted", "arrival": "2027-02-02T18:00:00Z"}),
    );
    let l = h.ledger();
    let all = derive(&l, t("2027-02-10T00:00:00Z"));
    let mut got = rules_of(&all, &id);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("verification-reply", "russia", Status::Met),
            ("verification-report", "germany", Status::Open),
            ("verification-report", "germany", Status::Open),
            ("verification-report", "germany", Status::Open),
            ("verification-report", "germany", Status::Open),
        ]
    );
    let report = all
        .iter()
        .find(|o| o.rule == "verification-report")
        .unwrap();
    // Arrival 2 Feb 18:00 + 48 h + 14 days.
    assert_eq!(report.due, Some(t("2027-02-18T18:00:00Z")));

    h.add(
        "germany",
        "2027-02-06T09:00:00Z",
        "verification_report",
        json!({
        "arrived": "2027-02-02T18:00:00Z", "ended": "2027-02-05T10:00:00Z",
        "findings": {"en": "Nothing notifiable found."}}),
        &[r],
    );
    let l = h.ledger();
    let all = derive(&l, t("2027-02-10T00:00:00Z"));
    assert!(
        rules_of(&all, &id)
            .iter()
            .all(|(_, _, s)| *s == Status::Met)
    );
    // The inspection ran 64 hours: more than para. 88 allows, and shown.
    let req = verification::request(&l, &h.entries[r]).unwrap();
    assert_eq!(req.findings.len(), 1, "{:?}", req.findings);
    assert!(req.findings[0].starts_with("lasted 64 h: the inspection ends within 48 hours"));
}

/// Only the State asked replies, and only the State that asked reports.
#[test]
fn only_the_parties_to_a_request_answer_it() {
    let mut h = History::new();
    let r = h.inspect("germany", "russia", "2027-02-01T09:00:00Z");
    let by_france = h.entry(
        "france",
        "2027-02-01T10:00:00Z",
        "verification_reply",
        json!({"decision": "accepted"}),
        &[r],
    );
    let v = kinds::check_in_history(&by_france, &h.ledger());
    assert_eq!(v.len(), 1);
    assert!(v[0].rule.contains("only the State asked (russia)"), "{v:?}");
    let by_russia = h.entry(
        "russia",
        "2027-02-09T10:00:00Z",
        "verification_report",
        verification_example("verification_report"),
        &[r],
    );
    let v = kinds::check_in_history(&by_russia, &h.ledger());
    assert!(
        v[0].rule.contains("only the State that asked (germany)"),
        "{v:?}"
    );
}

/// Evaluation visits: the passive quota from Chapter I (para. 107–109 as
/// remembered), table-driven.
#[test]
fn evaluation_quotas_from_units_reported() {
    let ev = &default_set().evaluation;
    for (units, quota) in [
        (0, 0),
        (1, 1),
        (60, 1),
        (61, 2),
        (130, 3),
        (600, 10),
        (900, 15),
        (5000, 15),
    ] {
        assert_eq!(ev.quota(units), quota, "{units} units (para. 107–108)");
    }
    for (quota, share) in [
        (0, 0),
        (1, 1),
        (4, 1),
        (5, 1),
        (6, 2),
        (10, 2),
        (11, 3),
        (15, 3),
    ] {
        assert_eq!(
            ev.from_same_state(quota),
            share,
            "quota {quota} (para. 109)"
        );
    }

    type Setup = fn(&mut History) -> Entry;
    /// The field refused and why; none: accepted.
    type Refusal = Option<(&'static str, &'static str)>;
    let rows: &[(&str, usize, Setup, Refusal)] = &[
        (
            "para. 107: a quota of 3 for 130 units; a fourth visit is beyond",
            130,
            |h| {
                h.visit(
                    "germany",
                    "russia",
                    "Unit 1",
                    "2027-03-01",
                    "2027-02-01T09:00:00Z",
                );
                h.visit(
                    "france",
                    "russia",
                    "Unit 2",
                    "2027-04-01",
                    "2027-03-01T09:00:00Z",
                );
                h.visit(
                    "poland",
                    "russia",
                    "Unit 3",
                    "2027-05-01",
                    "2027-04-01T09:00:00Z",
                );
                h.entry(
                    "netherlands",
                    "2027-05-01T09:00:00Z",
                    "evaluation_visit_request",
                    History::visit_body("russia", "Unit 4", "2027-06-01"),
                    &[],
                )
            },
            Some(("to", "its quota is 3 visits a year")),
        ),
        (
            "para. 109: a quota below five takes one visit from the same State",
            130,
            |h| {
                h.visit(
                    "germany",
                    "russia",
                    "Unit 1",
                    "2027-03-01",
                    "2027-02-01T09:00:00Z",
                );
                h.entry(
                    "germany",
                    "2027-05-01T09:00:00Z",
                    "evaluation_visit_request",
                    History::visit_body("russia", "Unit 4", "2027-06-01"),
                    &[],
                )
            },
            Some(("to", "no more than 1 from the same State")),
        ),
        (
            "para. 109: one fifth of a quota of 10 is 2 from the same State",
            600,
            |h| {
                h.visit(
                    "germany",
                    "russia",
                    "Unit 1",
                    "2027-03-01",
                    "2027-02-01T09:00:00Z",
                );
                h.entry(
                    "germany",
                    "2027-05-01T09:00:00Z",
                    "evaluation_visit_request",
                    History::visit_body("russia", "Unit 4", "2027-06-01"),
                    &[],
                )
            },
            None,
        ),
        (
            "para. 109: a third from the same State is beyond one fifth of 10",
            600,
            |h| {
                h.visit(
                    "germany",
                    "russia",
                    "Unit 1",
                    "2027-03-01",
                    "2027-02-01T09:00:00Z",
                );
                h.visit(
                    "germany",
                    "russia",
                    "Unit 2",
                    "2027-04-01",
                    "2027-03-01T09:00:00Z",
                );
                h.entry(
                    "germany",
                    "2027-05-01T09:00:00Z",
                    "evaluation_visit_request",
                    History::visit_body("russia", "Unit 4", "2027-06-01"),
                    &[],
                )
            },
            Some(("to", "no more than 2 from the same State")),
        ),
        (
            "a unit is visited no more than twice a year",
            600,
            |h| {
                h.visit(
                    "germany",
                    "russia",
                    "Unit 1",
                    "2027-03-01",
                    "2027-02-01T09:00:00Z",
                );
                h.visit(
                    "france",
                    "russia",
                    "Unit 1",
                    "2027-04-01",
                    "2027-03-01T09:00:00Z",
                );
                h.entry(
                    "poland",
                    "2027-05-01T09:00:00Z",
                    "evaluation_visit_request",
                    History::visit_body("russia", "Unit 1", "2027-06-01"),
                    &[],
                )
            },
            Some(("unit", "no more than 2 a year")),
        ),
        (
            "a unit is visited once a year by the same State",
            600,
            |h| {
                h.visit(
                    "germany",
                    "russia",
                    "Unit 1",
                    "2027-03-01",
                    "2027-02-01T09:00:00Z",
                );
                h.entry(
                    "germany",
                    "2027-05-01T09:00:00Z",
                    "evaluation_visit_request",
                    History::visit_body("russia", "Unit 1", "2027-06-01"),
                    &[],
                )
            },
            Some(("unit", "no more than 1 a year by the same State")),
        ),
        (
            "only one visit at a time on a territory",
            600,
            |h| {
                h.visit(
                    "germany",
                    "russia",
                    "Unit 1",
                    "2027-06-01",
                    "2027-02-01T09:00:00Z",
                );
                h.entry(
                    "france",
                    "2027-05-01T09:00:00Z",
                    "evaluation_visit_request",
                    History::visit_body("russia", "Unit 2", "2027-06-01"),
                    &[],
                )
            },
            Some(("date", "russia receives a visit from germany on 2027-06-01")),
        ),
        (
            "a visit names a unit the State reported under Chapter I",
            600,
            |h| {
                h.entry(
                    "germany",
                    "2027-05-01T09:00:00Z",
                    "evaluation_visit_request",
                    History::visit_body("russia", "Unit 9999", "2027-06-01"),
                    &[],
                )
            },
            Some(("unit", "did not report a unit \"Unit 9999\"")),
        ),
    ];
    for (rule, units, setup, expected) in rows {
        let mut h = History::new();
        h.report_units("russia", 2027, *units, "2026-12-10T09:00:00Z");
        let e = setup(&mut h);
        let v = kinds::check_in_history(&e, &h.ledger());
        match expected {
            None => assert!(v.is_empty(), "{rule}: {v:?}"),
            Some((field, why)) => {
                assert_eq!(v.len(), 1, "{rule}: {v:?}");
                assert_eq!(v[0].field, *field, "{rule}");
                assert!(v[0].rule.contains(why), "{rule}: {}", v[0].rule);
            }
        }
    }
}

/// Without Chapter I information the quota is unknown: a visit is not
/// refused, and the quota shows as not known.
#[test]
fn without_chapter_one_information_the_quota_is_unknown() {
    let mut h = History::new();
    let i = h.visit(
        "germany",
        "russia",
        "6th Tank Brigade",
        "2027-03-01",
        "2027-02-01T09:00:00Z",
    );
    let l = h.ledger();
    assert_eq!(standing(&l, i, &h), Standing::Within);
    let q = verification::quotas(&l, CHANNEL, 2027);
    let russia = q.iter().find(|q| q.state == "russia").unwrap();
    assert_eq!(
        (russia.units, russia.evaluation_quota, russia.evaluations),
        (None, None, 1)
    );
    // The request's timing: at least five days ahead [U].
    let early = h.entry(
        "france",
        "2027-02-27T09:00:00Z",
        "evaluation_visit_request",
        History::visit_body("russia", "Unit 1", "2027-03-01"),
        &[],
    );
    let v = parley_domain::validate(&early, Some(&channel())).unwrap_err();
    assert_eq!(v[0].field, "date");
    assert!(v[0].rule.contains("at least 5 days ahead"), "{v:?}");
}

/// Chapter I is owed by 15 December for the next year (para. 10); Chapter
/// II two months after the budget is approved (para. 15).
#[test]
fn chapter_one_and_two_fall_due() {
    let mut h = History::new();
    let l = h.ledger();
    let owed: Vec<Obligation> = derive(&l, t("2026-12-16T00:00:00Z"))
        .into_iter()
        .filter(|o| o.rule == "military-information" && o.debtor == "russia")
        .filter(|o| o.description.contains("for 2027"))
        .collect();
    assert_eq!(owed.len(), 4, "one per other member");
    assert!(owed.iter().all(|o| o.status == Status::Overdue));
    assert_eq!(owed[0].due, Some(t("2026-12-16T00:00:00Z")));
    assert!(
        owed[0]
            .description
            .contains("for 2027 by 2026-12-15 (VD11 Chapter I)")
    );
    h.report_units("russia", 2027, 3, "2026-12-20T09:00:00Z");
    let l = h.ledger();
    assert!(
        derive(&l, t("2026-12-22T00:00:00Z"))
            .iter()
            .filter(|o| o.rule == "military-information" && o.debtor == "russia")
            .filter(|o| o.description.contains("for 2027"))
            .all(|o| o.status == Status::MetLate)
    );

    let rs = default_set();
    let d: DefencePlanning = serde_json::from_value(json!({
        "year": 2027, "budget_approved": "2026-12-20",
        "policy": {"en": "No change."}, "budget": {"amount": 1, "currency": "EUR"}}))
    .unwrap();
    assert_eq!(d.due(rs).to_string(), "2027-02-20");
    assert_eq!(d.days_late(t("2027-02-20T12:00:00Z"), rs), None);
    assert_eq!(d.days_late(t("2027-03-02T12:00:00Z"), rs), Some(10));
}

/// A requester that dates its request back gains nothing: requests count
/// in the order the State asked received them (its signed receipts), so
/// the three received first keep their places and their clocks.
#[test]
fn a_request_dated_back_takes_no_one_s_place() {
    let mut h = History::new();
    let first: Vec<usize> = [
        ("germany", "2027-02-01T09:00:00Z"),
        ("france", "2027-03-01T09:00:00Z"),
        ("poland", "2027-04-01T09:00:00Z"),
    ]
    .iter()
    .map(|(from, time)| h.inspect(from, "russia", time))
    .collect();
    // Stated 1 January, received by Russia on 1 May.
    let e = h.entry(
        "netherlands",
        "2027-01-01T09:00:00Z",
        "inspection_request",
        verification_example("inspection_request"),
        &[],
    );
    let late = h.push_delivered(e, t("2027-05-01T09:00:00Z"));
    let l = h.ledger();
    assert!(beyond(&standing(&l, late, &h)).contains("has accepted 3 inspections"));
    for i in first {
        assert_eq!(standing(&l, i, &h), Standing::Within);
    }
    // A receipt dated before the request's stated time counts from that
    // time: a State asked cannot put one request ahead of another it
    // received earlier by backdating its receipt either.
    let mut h = History::new();
    let g = h.inspect("germany", "russia", "2027-02-01T09:00:00Z");
    let e = h.entry(
        "germany",
        "2027-03-01T09:00:00Z",
        "inspection_request",
        verification_example("inspection_request"),
        &[],
    );
    let second = h.push_delivered(e, t("2027-01-01T00:00:00Z"));
    let l = h.ledger();
    assert_eq!(standing(&l, g, &h), Standing::Within);
    assert!(beyond(&standing(&l, second, &h)).contains("from the same State"));
}

/// Two requests sent at once: the one the State asked received first
/// counts, on every node, and a node's board kept current as entries and
/// receipts arrive in any order says the same as deriving everything.
#[test]
fn the_order_decides_and_the_board_keeps_up() {
    let mut h = History::new();
    h.inspect("germany", "russia", "2027-02-01T09:00:00Z");
    h.inspect("france", "russia", "2027-03-01T09:00:00Z");
    // Poland and the Netherlands ask on the same day, neither seeing the other.
    let body = verification_example("inspection_request");
    let nl = h.entry(
        "netherlands",
        "2027-04-01T10:00:00Z",
        "inspection_request",
        body.clone(),
        &[],
    );
    let pl = h.entry(
        "poland",
        "2027-04-01T09:00:00Z",
        "inspection_request",
        body,
        &[],
    );
    let (nl, pl) = (h.push(nl), h.push(pl));
    let at = t("2027-04-03T00:00:00Z");
    let whole = derive(&h.ledger(), at);
    assert!(
        !rules_of(&whole, &h.entries[pl].id()).is_empty(),
        "Poland's came first"
    );
    assert!(
        rules_of(&whole, &h.entries[nl].id()).is_empty(),
        "the Netherlands' is beyond"
    );

    let channels = BTreeMap::from([(CHANNEL.to_string(), channel())]);
    for order in [[0, 1, nl, pl], [0, 1, pl, nl], [nl, 0, 1, pl]] {
        let mut book = Book::empty(channels.clone());
        for i in order {
            book.insert(h.entries[i].clone());
            book.refresh(at);
            let board: Vec<String> = book
                .board()
                .all(&book, at)
                .iter()
                .map(|o| o.id.clone())
                .collect();
            let derived: Vec<String> = derive(&book, at).iter().map(|o| o.id.clone()).collect();
            assert_eq!(board, derived, "order {order:?}");
        }
    }
}

/// Message numbers: a serial per sender and year in feed order, the
/// format's designation from the rule set, found by any prefix.
#[test]
fn notifications_are_numbered_per_sender_and_year() {
    use parley_domain::numbering::{find, number, numbers};
    let mut h = History::new();
    let a = h.report_units("russia", 2027, 3, "2026-12-10T09:00:00Z");
    let b = h.inspect("germany", "russia", "2026-12-20T09:00:00Z");
    let c = h.inspect("france", "russia", "2027-01-02T09:00:00Z");
    let reply = h.reply(
        "russia",
        c,
        "2027-01-02T12:00:00Z",
        json!({"decision": "accepted"}),
    );
    // Not numbered: a hotline message.
    let msg = h.add(
        "russia",
        "2027-01-03T09:00:00Z",
        "hotline_message",
        json!({"priority": "routine", "text": {"en": "Noted."}}),
        &[],
    );
    let d = h.report_units("russia", 2028, 3, "2027-12-10T09:00:00Z");
    let l = h.ledger();
    let text = |i: usize| number(&l, &h.entries[i]).map(|n| n.text);
    assert_eq!(text(a).as_deref(), Some("CBM/RUSSIA/26/0001/F10"));
    assert_eq!(text(b).as_deref(), Some("CBM/GERMANY/26/0001/F40"));
    assert_eq!(text(c).as_deref(), Some("CBM/FRANCE/27/0001/F40"));
    // Russia's first numbered message of 2027, whatever its kind.
    assert_eq!(text(reply).as_deref(), Some("CBM/RUSSIA/27/0001/F41"));
    assert_eq!(text(d).as_deref(), Some("CBM/RUSSIA/27/0002/F10"));
    assert_eq!(text(msg), None);
    assert_eq!(numbers(&l).len(), 5);
    let found: Vec<String> = find(&l, "cbm/russia/27")
        .iter()
        .map(|(_, n)| n.text.clone())
        .collect();
    assert_eq!(found, ["CBM/RUSSIA/27/0002/F10", "CBM/RUSSIA/27/0001/F41"]);
    for f in &default_set().numbering.formats {
        assert!(kinds::get(&f.kind).is_some(), "{} is no kind", f.kind);
    }
}
