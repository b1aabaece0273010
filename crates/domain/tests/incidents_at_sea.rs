//! Incidents at sea and in the air (INCSEA 1972): each rule in a table with
//! its article, and the annual review as an obligation.

use std::collections::BTreeMap;

use parley_domain::ledger::{Known, Ledger};
use parley_domain::obligations::{Status, derive};
use parley_domain::{ChannelState, Charter, Violation};
use parley_log::{Entry, Hash, Timestamp, leaf_hash};
use serde_json::{Value, json};

const CHANNEL: &str = "nato.sea";

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn channel(agreement: Option<&str>) -> ChannelState {
    let mut body = json!({
        "title": "Incidents at sea",
        "members": ["nato", "russia"],
        "witnesses": [],
        "level": "military",
        "languages": ["en", "ru"],
        "rules": {}
    });
    if let Some(a) = agreement {
        body["rules"]["incidents_at_sea"] = json!(a);
    }
    let charter: Charter = serde_json::from_value(body.clone()).unwrap();
    let mut c = ChannelState::from_charter(
        &Entry {
            channel: CHANNEL.into(),
            author: "nato".into(),
            seq: 0,
            time: t("2026-01-10T00:00:00Z"),
            kind: "channel_charter".into(),
            refs: vec![],
            salt: [0; 16],
            body,
        },
        charter,
        leaf_hash(b"charter"),
    );
    c.accepted.insert("russia".into());
    c
}

fn entry(author: &str, seq: u64, time: &str, kind: &str, body: Value, refs: Vec<Hash>) -> Entry {
    Entry {
        channel: CHANNEL.into(),
        author: author.into(),
        seq,
        time: t(time),
        kind: kind.into(),
        refs,
        salt: [seq as u8; 16],
        body,
    }
}

fn check(kind: &str, body: Value, c: &ChannelState) -> Result<(), Vec<Violation>> {
    parley_domain::validate(
        &entry("nato", 1, "2027-03-01T12:00:00Z", kind, body, vec![]),
        Some(c),
    )
}

fn refused(r: Result<(), Vec<Violation>>, field: &str, why: &str, rule: &str) {
    let v = r.expect_err(rule);
    assert!(
        v.iter().any(|x| x.field == field && x.rule.contains(why)),
        "{rule}: expected {field}: {why}, got {v:?}"
    );
}

/// Art. VI(1): notice of a dangerous activity, as a rule 3 to 5 days ahead.
#[test]
fn dangerous_activities_are_notified_three_days_ahead() {
    let c = channel(Some("incsea-1972@1"));
    let at = |hours: i64, late: Option<&str>| {
        let start = t("2027-03-01T12:00:00Z").plus_seconds(hours * 3600);
        let mut b = json!({
            "activity": "Missile firing",
            "area": {"type": "Polygon", "coordinates": [[[190000000, 552000000], [204000000, 552000000], [204000000, 559000000], [190000000, 552000000]]]},
            "start": start.to_string(),
            "end": start.plus_seconds(8 * 3600).to_string(),
        });
        if let Some(r) = late {
            b["late_reason"] = json!(r);
        }
        b
    };
    /// The field refused and why; none: accepted.
    type Refusal = Option<(&'static str, &'static str)>;
    let rows: &[(&str, Value, Refusal)] = &[
        ("Art. VI(1): four days ahead", at(96, None), None),
        ("Art. VI(1): exactly three days ahead", at(72, None), None),
        (
            "Art. VI(1): two days ahead, no reason",
            at(48, None),
            Some((
                "start",
                "notice 2 days ahead; as a rule at least 3 (INCSEA 1972, Art. VI(1))",
            )),
        ),
        (
            "Art. VI(1): two days ahead, with the reason",
            at(
                48,
                Some("Short-notice readiness firing ordered by the fleet"),
            ),
            None,
        ),
    ];
    for (rule, body, expected) in rows {
        let r = check("dangerous_activity_notice", body.clone(), &c);
        match expected {
            None => assert!(r.is_ok(), "{rule}: {r:?}"),
            Some((field, why)) => refused(r, field, why, rule),
        }
    }
    // A channel that follows no agreement takes no such notice.
    refused(
        check("dangerous_activity_notice", at(96, None), &channel(None)),
        "kind",
        "follows no incidents-at-sea agreement",
        "no agreement",
    );
}

/// Structured encounters: the articles are the agreement's, the figures
/// make sense.
#[test]
fn an_encounter_cites_the_agreement_s_articles_in_figures_that_make_sense() {
    let c = channel(Some("incsea-1972@1"));
    let report = |encounter: Value| {
        json!({
            "domain": "sea",
            "time": "2027-03-01T08:00:00Z",
            "position": {"longitude_e7": 198000000, "latitude_e7": 562000000},
            "units": ["USS Donald Cook (DDG-75)", "Su-24 (two)"],
            "description": {"en": "Two Su-24 made simulated attack passes at 30 m."},
            "encounter": encounter
        })
    };
    let good = json!({
        "tracks": [
            {"name": "USS Donald Cook (DDG-75)", "party": "nato", "craft": "ship", "course_degrees": 90, "speed_knots": 12},
            {"name": "Su-24 (two)", "party": "russia", "craft": "aircraft", "altitude_m": 30, "speed_knots": 400}
        ],
        "closest_approach_m": 900,
        "signals": ["IR1 (I am engaged in submarine operations)"],
        "articles": ["IV", "III.5"]
    });
    assert!(check("incident_report", report(good.clone()), &c).is_ok());
    let with = |path: &str, value: Value| {
        let mut e = good.clone();
        let mut p = &mut e;
        let parts: Vec<&str> = path.split('.').collect();
        for k in &parts[..parts.len() - 1] {
            p = match k.parse::<usize>() {
                Ok(i) => &mut p[i],
                Err(_) => &mut p[*k],
            };
        }
        p[parts[parts.len() - 1]] = value;
        report(e)
    };
    let rows: &[(&str, Value, &str, &str)] = &[
        (
            "the articles are the agreement's",
            with("articles", json!(["III.9"])),
            "encounter.articles.0",
            "\"III.9\" is not an article of Agreement on the Prevention of Incidents On and Over the High Seas (1972)",
        ),
        (
            "a ship has no altitude",
            with("tracks.0.altitude_m", json!(10)),
            "encounter.tracks.0.altitude_m",
            "only an aircraft or helicopter has an altitude",
        ),
        (
            "a course is under 360 degrees",
            with("tracks.0.course_degrees", json!(360)),
            "encounter.tracks.0.course_degrees",
            "0 to 359",
        ),
        (
            "a closest approach of 0 m is a collision",
            with("closest_approach_m", json!(0)),
            "encounter.closest_approach_m",
            "collision",
        ),
        (
            "each ship or aircraft belongs to a member",
            with("tracks.1.party", json!("china")),
            "encounter.tracks.1.party",
            "is not a member",
        ),
    ];
    for (rule, body, field, why) in rows {
        refused(check("incident_report", body.clone(), &c), field, why, rule);
    }
    refused(
        check("incident_report", report(good), &channel(None)),
        "encounter.articles.0",
        "follows no incidents-at-sea agreement",
        "articles need an agreement",
    );
}

/// Art. IX: the members meet to review the agreement every year from the
/// channel's opening; the n-th review meeting answers the n-th year.
#[test]
fn the_annual_review_is_owed_and_met_by_a_review_meeting() {
    let c = channel(Some("incsea-1972@1"));
    let ledger = |entries: &[Entry]| {
        Ledger::new(
            BTreeMap::from([(CHANNEL.to_string(), c.clone())]),
            entries
                .iter()
                .map(|e| Known {
                    hash: e.leaf_hash().unwrap(),
                    entry: e.clone(),
                    delivered: BTreeMap::new(),
                })
                .collect(),
        )
    };
    let reviews = |l: &Ledger, at: &str| {
        let mut v: Vec<(String, Status)> = derive(l, t(at))
            .into_iter()
            .filter(|o| o.rule == "agreement-review")
            .map(|o| (o.id, o.status))
            .collect();
        v.sort();
        v
    };
    let l = ledger(&[]);
    assert_eq!(
        reviews(&l, "2027-01-12T00:00:00Z"),
        vec![
            ("nato.sea#review-1#nato#russia".into(), Status::Overdue),
            ("nato.sea#review-1#russia#nato".into(), Status::Overdue),
            ("nato.sea#review-2#nato#russia".into(), Status::Open),
            ("nato.sea#review-2#russia#nato".into(), Status::Open),
        ]
    );
    let o = derive(&l, t("2026-06-01T00:00:00Z"))
        .into_iter()
        .find(|o| o.rule == "agreement-review")
        .unwrap();
    assert_eq!(o.due, Some(t("2027-01-11T00:00:00Z")));
    assert!(
        o.description.contains("(INCSEA 1972, Art. IX)"),
        "{}",
        o.description
    );

    let invitation = entry(
        "nato",
        1,
        "2026-10-01T09:00:00Z",
        "meeting_invitation",
        json!({
            "title": "INCSEA annual review", "proposed_dates": ["2026-11-20T09:00:00Z"],
            "venue": "Moscow", "level": "experts", "review_of": "incsea-1972@1"
        }),
        vec![],
    );
    parley_domain::validate(&invitation, Some(&c)).unwrap();
    let mut wrong = invitation.clone();
    wrong.body["review_of"] = json!("incsea-1986@1");
    refused(
        parley_domain::validate(&wrong, Some(&c)),
        "review_of",
        "does not follow",
        "the channel's agreement",
    );
    let record = entry(
        "russia",
        1,
        "2026-11-21T09:00:00Z",
        "meeting_record",
        json!({
            "title": "INCSEA annual review",
            "start": "2026-11-20T09:00:00Z", "end": "2026-11-20T17:00:00Z",
            "attendance": [{"party": "nato", "participants": ["Capt. A"]}, {"party": "russia", "participants": ["Capt. B"]}],
            "items": [{"title": "Incidents of the year", "positions": {"nato": "Three unsafe intercepts.", "russia": "Intercepts were professional."}}]
        }),
        vec![invitation.leaf_hash().unwrap()],
    );
    parley_domain::validate(&record, Some(&c)).unwrap();
    let l = ledger(&[invitation, record]);
    assert_eq!(
        reviews(&l, "2027-01-12T00:00:00Z")
            .iter()
            .map(|(_, s)| *s)
            .collect::<Vec<_>>(),
        [Status::Met, Status::Met, Status::Open, Status::Open]
    );
}
