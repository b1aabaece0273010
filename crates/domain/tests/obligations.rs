//! The obligations engine on hand-built ledgers.

use std::collections::BTreeMap;

use parley_domain::kinds;
use parley_domain::ledger::{Known, Ledger};
use parley_domain::obligations::{Status, derive, silence};
use parley_domain::views;
use parley_domain::{ChannelState, Charter};
use parley_log::{Entry, Timestamp, leaf_hash};
use serde_json::{Value, json};

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

struct Book {
    channel: ChannelState,
    entries: Vec<Known>,
    seqs: BTreeMap<String, u64>,
}

impl Book {
    fn new(created: &str, annual_calendar: bool) -> Book {
        let mut body = Charter::example(t(created));
        body["rules"]["annual_calendar"] = json!(annual_calendar);
        let charter: Charter = serde_json::from_value(body.clone()).unwrap();
        let mut b = Book {
            channel: ChannelState::from_charter(
                &Entry {
                    channel: "nato.mil".into(),
                    author: "nato".into(),
                    seq: 0,
                    time: t(created),
                    kind: "channel_charter".into(),
                    refs: vec![],
                    salt: [0; 16],
                    body: body.clone(),
                },
                charter,
                leaf_hash(b"charter"),
            ),
            entries: vec![],
            seqs: BTreeMap::new(),
        };
        b.channel.accepted.insert("russia".into());
        b
    }

    /// Adds an entry by `author` at `time`, delivered to the other member at
    /// `delivered` (if any); returns its index.
    fn add(
        &mut self,
        author: &str,
        time: &str,
        kind: &str,
        body: Value,
        refs: &[usize],
        delivered: Option<&str>,
    ) -> usize {
        let seq = self.seqs.entry(author.into()).or_insert(1);
        let e = Entry {
            channel: "nato.mil".into(),
            author: author.into(),
            seq: *seq,
            time: t(time),
            kind: kind.into(),
            refs: refs.iter().map(|&i| self.entries[i].hash).collect(),
            salt: [*seq as u8; 16],
            body,
        };
        *seq += 1;
        parley_domain::validate(&e, Some(&self.channel))
            .unwrap_or_else(|v| panic!("{kind}: {v:?}"));
        let other = if author == "nato" { "russia" } else { "nato" };
        let mut d = BTreeMap::new();
        if let Some(at) = delivered {
            d.insert(other.to_string(), t(at));
        }
        self.entries.push(Known {
            hash: e.leaf_hash().unwrap(),
            entry: e,
            delivered: d,
        });
        self.entries.len() - 1
    }

    fn ledger(&self) -> Ledger {
        Ledger::new(
            BTreeMap::from([("nato.mil".to_string(), self.channel.clone())]),
            self.entries.clone(),
        )
    }
}

fn one(ledger: &Ledger, at: &str, rule: &str) -> parley_domain::obligations::Obligation {
    let all = derive(ledger, t(at));
    let mut found: Vec<_> = all.into_iter().filter(|o| o.rule == rule).collect();
    assert_eq!(found.len(), 1, "one {rule} obligation at {at}");
    found.remove(0)
}

#[test]
fn clarification_reply_is_due_48_hours_after_the_receivers_receipt() {
    let mut b = Book::new("2026-01-01T00:00:00Z", false);
    let body = kinds::get("clarification_request")
        .unwrap()
        .example(t("2026-02-01T00:00:00Z"));
    // Sent at 10:00 by NATO's clock; Russia's node receipted it at 12:00.
    let req = b.add(
        "nato",
        "2026-02-01T10:00:00Z",
        "clarification_request",
        body,
        &[],
        Some("2026-02-01T12:00:00Z"),
    );
    let l = b.ledger();
    let o = one(&l, "2026-02-03T11:59:59Z", "clarification-reply");
    assert_eq!((o.debtor.as_str(), o.creditor.as_str()), ("russia", "nato"));
    assert_eq!(
        o.starts,
        Some(t("2026-02-01T12:00:00Z")),
        "the clock starts at the receipt, not the sender's clock"
    );
    assert_eq!(o.due, Some(t("2026-02-03T12:00:00Z")));
    assert_eq!(o.status, Status::Open);
    assert_eq!(
        one(&l, "2026-02-03T12:00:00Z", "clarification-reply").status,
        Status::Overdue
    );
    // Before the request existed there was nothing; before delivery, no clock.
    assert!(derive(&l, t("2026-02-01T09:00:00Z")).is_empty());
    assert_eq!(
        one(&l, "2026-02-01T11:00:00Z", "clarification-reply").status,
        Status::Pending
    );

    // A reply answering every question, delivered back to NATO a day
    // later, meets it from then on.
    let reply = kinds::get("clarification_reply")
        .unwrap()
        .example(t("2026-02-02T09:00:00Z"));
    b.add(
        "russia",
        "2026-02-02T09:00:00Z",
        "clarification_reply",
        reply,
        &[req],
        Some("2026-02-02T09:00:05Z"),
    );
    let l = b.ledger();
    let o = one(&l, "2026-02-10T00:00:00Z", "clarification-reply");
    assert_eq!(o.status, Status::Met);
    assert_eq!(o.met_at, Some(t("2026-02-02T09:00:05Z")));
    assert!(o.met_proven);
    assert_eq!(
        one(&l, "2026-02-02T09:00:00Z", "clarification-reply").status,
        Status::Open,
        "not yet received by NATO"
    );
}

#[test]
fn flash_messages_must_be_acknowledged_by_each_recipient() {
    let mut b = Book::new("2026-01-01T00:00:00Z", false);
    let msg = json!({"priority": "flash", "text": {"en": "Two aircraft crossing at 14:00Z"}});
    let m = b.add(
        "nato",
        "2026-03-01T13:00:00Z",
        "hotline_message",
        msg,
        &[],
        Some("2026-03-01T13:00:02Z"),
    );
    let l = b.ledger();
    assert_eq!(
        one(&l, "2026-03-01T13:05:01Z", "flash-acknowledgement").status,
        Status::Open,
        "5 minutes from the receipt"
    );
    assert_eq!(
        one(&l, "2026-03-01T13:05:02Z", "flash-acknowledgement").status,
        Status::Overdue
    );
    b.add(
        "russia",
        "2026-03-01T13:06:00Z",
        "acknowledgement",
        json!({"by": "Duty officer"}),
        &[m],
        Some("2026-03-01T13:06:01Z"),
    );
    let l = b.ledger();
    let o = one(&l, "2026-03-01T14:00:00Z", "flash-acknowledgement");
    assert_eq!(
        o.status,
        Status::MetLate,
        "acknowledged, but after the five minutes"
    );
    let routine = json!({"priority": "routine", "text": {"en": "Routine"}});
    b.add(
        "nato",
        "2026-03-01T15:00:00Z",
        "hotline_message",
        routine,
        &[],
        Some("2026-03-01T15:00:01Z"),
    );
    assert_eq!(
        derive(&b.ledger(), t("2026-03-02T00:00:00Z")).len(),
        1,
        "routine messages oblige nothing"
    );
}

#[test]
fn invitations_counter_proposals_and_silence() {
    let mut b = Book::new("2026-01-01T00:00:00Z", false);
    let mut inv = kinds::get("meeting_invitation")
        .unwrap()
        .example(t("2026-04-01T00:00:00Z"));
    inv["reply_by"] = json!("2026-04-20T00:00:00Z");
    let i = b.add(
        "nato",
        "2026-04-01T08:00:00Z",
        "meeting_invitation",
        inv.clone(),
        &[],
        Some("2026-04-01T08:00:01Z"),
    );
    // Unanswered a year on: overdue, and silent for 412 days.
    let l = b.ledger();
    let at = "2027-05-18T08:00:01Z";
    let all = derive(&l, t(at));
    assert_eq!(all[0].status, Status::Overdue);
    let s = silence(&all, t(at));
    assert_eq!(s[0].1 / 86_400, 412);
    // A counter-proposal is a reply.
    let counter =
        json!({"response": "counter_proposal", "counter_dates": ["2026-05-02T09:00:00Z"]});
    b.add(
        "russia",
        "2026-04-10T08:00:00Z",
        "meeting_reply",
        counter,
        &[i],
        Some("2026-04-10T08:00:02Z"),
    );
    assert_eq!(one(&b.ledger(), at, "invitation-reply").status, Status::Met);
}

#[test]
fn annual_calendars_fall_due_each_15_november_after_the_channel_opens() {
    let mut b = Book::new("2026-11-22T10:00:00Z", true);
    let l = b.ledger();
    // Opened after 15 November 2026: the first calendar due is for 2028.
    let os = derive(&l, t("2026-12-01T00:00:00Z"));
    assert_eq!(os.len(), 2, "one per member towards the other");
    assert!(
        os.iter()
            .all(|o| o.due == Some(t("2027-11-16T00:00:00Z")) && o.status == Status::Open)
    );
    // Their silence has not begun: the calendar is owed from 1 January 2027
    // (the console once showed "-30 days" here, the CLI "30 days").
    assert!(
        silence(&os, t("2026-12-01T00:00:00Z")).is_empty(),
        "a duty that starts next year is not a silence yet"
    );
    let in_march = derive(&l, t("2027-03-01T00:00:00Z"));
    let silent = silence(&in_march, t("2027-03-01T00:00:00Z"));
    assert_eq!(silent.len(), 2);
    assert!(
        silent.iter().all(|(_, secs)| *secs == 59 * 86_400),
        "{silent:?}"
    );
    let later = derive(&l, t("2028-12-01T00:00:00Z"));
    assert_eq!(
        later.iter().filter(|o| o.status == Status::Overdue).count(),
        4,
        "2028 and 2029 overdue"
    );
    let cal = json!({"year": 2028, "activities": []});
    b.add(
        "russia",
        "2027-11-01T00:00:00Z",
        "annual_calendar",
        cal,
        &[],
        Some("2027-11-01T00:00:01Z"),
    );
    let os = derive(&b.ledger(), t("2027-12-01T00:00:00Z"));
    let russia = os
        .iter()
        .find(|o| o.debtor == "russia" && o.id.contains("2028"))
        .unwrap();
    assert_eq!(russia.status, Status::Met, "a nil calendar meets it");
    assert!(
        os.iter()
            .any(|o| o.debtor == "nato" && o.id.contains("2028") && o.status == Status::Overdue)
    );
    assert!(
        os.iter()
            .any(|o| o.debtor == "russia" && o.id.contains("2029") && o.status == Status::Open)
    );
}

#[test]
fn notifications_above_observation_thresholds_oblige_an_invitation() {
    let mut b = Book::new("2026-01-01T00:00:00Z", false);
    let mut n = kinds::get("prior_notification")
        .unwrap()
        .example(t("2026-05-01T00:00:00Z"));
    n["forces"]["troops"] = json!(13000);
    n["start"] = json!("2026-07-01");
    n["end"] = json!("2026-07-05");
    let src = b.add(
        "russia",
        "2026-05-01T00:00:00Z",
        "prior_notification",
        n,
        &[],
        Some("2026-05-01T00:00:01Z"),
    );
    let o = one(
        &b.ledger(),
        "2026-05-10T00:00:00Z",
        "observation-invitation",
    );
    assert_eq!((o.debtor.as_str(), o.creditor.as_str()), ("russia", "nato"));
    assert_eq!(
        o.due,
        Some(t("2026-05-20T00:00:00Z")),
        "42 days before the start"
    );
    let inv = json!({"observers_per_state": 2, "programme": "Three days in the field."});
    b.add(
        "russia",
        "2026-05-05T00:00:00Z",
        "observation_invitation",
        inv,
        &[src],
        Some("2026-05-05T00:00:01Z"),
    );
    let l = b.ledger();
    assert_eq!(
        one(&l, "2026-05-10T00:00:00Z", "observation-invitation").status,
        Status::Met
    );
    // The invitation in turn obliges an answer within 21 days.
    assert_eq!(
        one(&l, "2026-05-27T00:00:00Z", "observation-reply").status,
        Status::Overdue
    );
    let ex = views::exercises(&l);
    assert!(ex[0].assessment.observation_required() && !ex[0].assessment.late);
}

#[test]
fn timeline_puts_answers_after_what_they_answer() {
    let mut b = Book::new("2026-01-01T00:00:00Z", false);
    let q = b.add(
        "nato",
        "2026-06-01T10:00:00Z",
        "hotline_message",
        json!({"priority": "routine", "text": {"en": "Q"}}),
        &[],
        None,
    );
    // Russia's clock is behind: its answer claims an earlier time.
    b.add(
        "russia",
        "2026-06-01T09:00:00Z",
        "reply",
        json!({"text": {"en": "A"}}),
        &[q],
        None,
    );
    let l = b.ledger();
    let order: Vec<String> = l
        .timeline("nato.mil")
        .map(|k| k.entry.kind.clone())
        .collect();
    assert_eq!(order, vec!["hotline_message", "reply"]);
}

/// Issue: the other side could lift a suspension, and a party barred from
/// sending was shown overdue. A suspension belongs to its author; while
/// another member holds the channel suspended, the debtor's clock stops.
#[test]
fn a_suspension_belongs_to_its_author_and_pauses_the_other_sides_duties() {
    let mut b = Book::new("2026-01-01T00:00:00Z", false);
    let body = kinds::get("briefing_request")
        .unwrap()
        .example(t("2026-03-01T00:00:00Z"));
    let mut body = body;
    body["to"] = json!("russia");
    b.add(
        "nato",
        "2026-03-01T00:00:00Z",
        "briefing_request",
        body,
        &[],
        Some("2026-03-01T00:00:00Z"),
    );
    // NATO suspends on day 2; Russia's "resumption" (refused at Russia's
    // node, but even if its feed held one) lifts nothing of NATO's.
    let s = b.add(
        "nato",
        "2026-03-02T00:00:00Z",
        "channel_suspension",
        json!({"reason": "review"}),
        &[],
        None,
    );
    b.channel.apply(&b.entries[s].entry.clone());
    let refused = b
        .channel
        .may_append("russia", "channel_resumption")
        .unwrap_err();
    assert!(
        refused.to_string().contains("only nato may resume it"),
        "{refused}"
    );
    let mut rogue = b.entries[s].entry.clone();
    rogue.author = "russia".into();
    rogue.kind = "channel_resumption".into();
    rogue.time = t("2099-01-01T00:00:00Z");
    b.channel.apply(&rogue);
    assert_eq!(b.channel.suspension().map(|a| a.by.as_str()), Some("nato"));
    // Briefing due in 14 days (15 March); suspended from 2 March.
    let o = one(&b.ledger(), "2026-03-20T00:00:00Z", "briefing");
    assert_eq!(o.status, Status::Paused, "russia cannot send the briefing");
    // NATO resumes on 12 March: the deadline moves by the 10 days barred.
    let r = b.add(
        "nato",
        "2026-03-12T00:00:00Z",
        "channel_resumption",
        json!({"reason": "resumed"}),
        &[],
        None,
    );
    b.channel.apply(&b.entries[r].entry.clone());
    assert!(b.channel.suspension().is_none());
    let o = one(&b.ledger(), "2026-03-20T00:00:00Z", "briefing");
    assert_eq!(o.status, Status::Open, "{o:?}");
    assert_eq!(o.due, Some(t("2026-03-25T00:00:00Z")));
    let o = one(&b.ledger(), "2026-03-26T00:00:00Z", "briefing");
    assert_eq!(o.status, Status::Overdue);
}

/// Issue: a record showed PUBLIC with no consent and over an objection once
/// its embargo passed. An embargo means "not before"; publication needs
/// every member's consent, and an objection blocks it.
#[test]
fn a_record_is_public_only_with_every_consent_no_objection_and_its_embargo_over() {
    use parley_domain::views::{Disclosure, meetings};
    let mut b = Book::new("2026-01-01T00:00:00Z", false);
    let inv = kinds::get("meeting_invitation")
        .unwrap()
        .example(t("2026-04-01T00:00:00Z"));
    let i = b.add(
        "nato",
        "2026-04-01T00:00:00Z",
        "meeting_invitation",
        inv,
        &[],
        None,
    );
    let mut rec = kinds::get("meeting_record")
        .unwrap()
        .example(t("2026-05-02T00:00:00Z"));
    rec["embargo_until"] = json!("2026-06-01T00:00:00Z");
    let r = b.add(
        "nato",
        "2026-05-02T00:00:00Z",
        "meeting_record",
        rec,
        &[i],
        None,
    );
    let disclosure = |b: &Book, at: &str| {
        let l = b.ledger();
        let m = meetings(&l, t(at));
        m[0].records[0].disclosure.clone()
    };
    // Embargo over, nobody consented: still confidential.
    assert!(matches!(
        disclosure(&b, "2026-07-01T00:00:00Z"),
        Disclosure::Confidential { ref waiting, embargo: None, .. } if waiting.len() == 2
    ));
    b.add(
        "nato",
        "2026-05-03T00:00:00Z",
        "disclosure_consent",
        json!({}),
        &[r],
        None,
    );
    b.add(
        "russia",
        "2026-05-03T00:00:00Z",
        "disclosure_consent",
        json!({}),
        &[r],
        None,
    );
    // Every consent, but the embargo runs: not before.
    assert!(matches!(
        disclosure(&b, "2026-05-20T00:00:00Z"),
        Disclosure::Confidential {
            embargo: Some(_),
            ..
        }
    ));
    // Russia objects to the record: its objection blocks publication.
    b.add(
        "russia",
        "2026-05-04T00:00:00Z",
        "record_confirmation",
        json!({"confirm": false, "objections": ["item 1 misstates our position"]}),
        &[r],
        None,
    );
    assert!(matches!(
        disclosure(&b, "2026-07-01T00:00:00Z"),
        Disclosure::Confidential { ref objected_by, .. } if objected_by == &["russia".to_string()]
    ));
    // Russia confirms a corrected reading: public, after the embargo only.
    b.add(
        "russia",
        "2026-05-05T00:00:00Z",
        "record_confirmation",
        json!({"confirm": true}),
        &[r],
        None,
    );
    assert_eq!(disclosure(&b, "2026-07-01T00:00:00Z"), Disclosure::Public);
}

/// VD11 Chapter III: the reply must answer the questions raised (a reply
/// that answers none leaves the duty open, and each unanswered question
/// shows), and a requested meeting must be convened within 48 hours, not
/// merely agreed to.
#[test]
fn chapter_three_replies_answer_the_questions_and_meetings_are_convened() {
    let mut b = Book::new("2026-01-01T00:00:00Z", false);
    let req = kinds::get("clarification_request")
        .unwrap()
        .example(t("2026-02-01T00:00:00Z"));
    let r = b.add(
        "nato",
        "2026-02-01T10:00:00Z",
        "clarification_request",
        req,
        &[],
        Some("2026-02-01T10:00:00Z"),
    );
    let reply = |answers: Value| json!({"text": {"en": "Normal training."}, "answers": answers});
    b.add(
        "russia",
        "2026-02-01T12:00:00Z",
        "clarification_reply",
        reply(json!([])),
        &[r],
        Some("2026-02-01T12:00:00Z"),
    );
    let o = one(&b.ledger(), "2026-02-02T00:00:00Z", "clarification-reply");
    assert_eq!(
        o.status,
        Status::Open,
        "a reply that answers nothing does not close it"
    );
    assert_eq!(o.unanswered.len(), 3);
    b.add(
        "russia",
        "2026-02-02T12:00:00Z",
        "clarification_reply",
        reply(json!([{"question": 1, "answer": "Readiness."}, {"question": 2, "answer": "8,000 troops."}])),
        &[r],
        Some("2026-02-02T12:00:00Z"),
    );
    let o = one(&b.ledger(), "2026-02-03T09:00:00Z", "clarification-reply");
    assert_eq!(
        o.unanswered,
        vec!["3. When will the forces return to their peacetime locations?".to_string()]
    );
    assert_eq!(o.status, Status::Open);
    let o = one(&b.ledger(), "2026-02-04T00:00:00Z", "clarification-reply");
    assert_eq!(
        o.status,
        Status::Overdue,
        "48 hours passed with question 3 open"
    );
    b.add(
        "russia",
        "2026-02-04T01:00:00Z",
        "clarification_reply",
        reply(json!([{"question": 3, "answer": "Within a week."}])),
        &[r],
        Some("2026-02-04T01:00:00Z"),
    );
    let o = one(&b.ledger(), "2026-02-05T00:00:00Z", "clarification-reply");
    assert_eq!((o.status, o.unanswered.len()), (Status::MetLate, 0));

    // A meeting request: agreeing is not convening; a meeting called for a
    // date within 48 hours is.
    let m = b.add(
        "nato",
        "2026-02-05T00:00:00Z",
        "meeting_request",
        json!({"to": "russia", "scope": "bilateral", "reason": "The reply did not dispel our concern."}),
        &[r],
        Some("2026-02-05T00:00:00Z"),
    );
    b.add(
        "russia",
        "2026-02-05T06:00:00Z",
        "meeting_reply",
        json!({"response": "accept"}),
        &[m],
        Some("2026-02-05T06:00:00Z"),
    );
    let o = one(&b.ledger(), "2026-02-07T01:00:00Z", "meeting-convened");
    assert_eq!(o.status, Status::Overdue, "an acceptance convenes nothing");
    let mut inv = kinds::get("meeting_invitation")
        .unwrap()
        .example(t("2026-02-05T00:00:00Z"));
    inv["proposed_dates"] = json!(["2026-02-06T09:00:00Z"]);
    inv["reply_by"] = json!("2026-02-05T20:00:00Z");
    b.add(
        "russia",
        "2026-02-05T07:00:00Z",
        "meeting_invitation",
        inv,
        &[m],
        Some("2026-02-05T07:00:00Z"),
    );
    let o = one(&b.ledger(), "2026-02-07T01:00:00Z", "meeting-convened");
    assert_eq!(o.status, Status::Met, "{o:?}");
}

/// VD11 Chapter V: the participating State on whose territory an activity
/// takes place notifies it; an alliance is not a participating State, so it
/// neither notifies nor owes an annual calendar.
#[test]
fn only_participating_states_notify_and_owe_calendars() {
    let mut b = Book::new("2026-01-01T00:00:00Z", true);
    b.channel.charter.rules.participating_states = vec!["russia".into()];
    let mut notification = kinds::get("prior_notification")
        .unwrap()
        .example(t("2026-03-01T00:00:00Z"));
    notification["participating_states"] = json!(["norway"]);
    let e = Entry {
        channel: "nato.mil".into(),
        author: "nato".into(),
        seq: 9,
        time: t("2026-03-01T00:00:00Z"),
        kind: "prior_notification".into(),
        refs: vec![],
        salt: [9; 16],
        body: notification.clone(),
    };
    let v = parley_domain::validate(&e, Some(&b.channel)).unwrap_err();
    assert!(
        v.iter()
            .any(|v| v.field == "author" && v.rule.contains("the host State notifies")),
        "{v:?}"
    );
    let mut by_russia = e.clone();
    by_russia.author = "russia".into();
    assert!(parley_domain::validate(&by_russia, Some(&b.channel)).is_ok());
    let debtors: Vec<String> = derive(&b.ledger(), t("2026-12-01T00:00:00Z"))
        .into_iter()
        .filter(|o| o.rule == "annual-calendar")
        .map(|o| o.debtor)
        .collect();
    assert!(
        !debtors.is_empty() && debtors.iter().all(|d| d == "russia"),
        "{debtors:?}"
    );
}

/// VD11 Chapter VIII: an activity above 40,000 troops needs a forecast
/// communicated by 15 November two years ahead, and at most one such in
/// three calendar years; at most six above 13,000 troops a year, three of
/// them above 25,000, and three at once.
#[test]
fn chapter_eight_forecasts_and_frequency_limits() {
    use parley_domain::views::exercises;
    let mut b = Book::new("2020-01-01T00:00:00Z", false);
    let notify = |b: &mut Book, name: &str, troops: u32, start: &str, end: &str| {
        let mut n = kinds::get("prior_notification")
            .unwrap()
            .example(t("2027-01-01T00:00:00Z"));
        n["designation"] = json!(name);
        n["forces"]["troops"] = json!(troops);
        n["start"] = json!(start);
        n["end"] = json!(end);
        // Sent 60 days ahead.
        let sent = parley_log::Timestamp::parse(&format!("{start}T00:00:00Z"))
            .unwrap()
            .plus_seconds(-60 * 86_400)
            .to_string();
        b.add("russia", &sent, "prior_notification", n, &[], None);
    };
    let breaches = |b: &Book, name: &str| -> Vec<String> {
        let l = b.ledger();
        exercises(&l)
            .into_iter()
            .find(|x| x.notification.designation == name)
            .unwrap()
            .chapter_viii
    };
    // 45,000 troops in 2028 with no forecast: may not be carried out.
    notify(&mut b, "ZAPAD-2028", 45_000, "2028-09-10", "2028-09-16");
    let z = breaches(&b, "ZAPAD-2028");
    assert!(
        z.iter()
            .any(|r| r.starts_with("not communicated by 15 November 2026")),
        "{z:?}"
    );
    // Forecast in time (by 15 November 2026): clean.
    let mut f = kinds::get("activity_forecast")
        .unwrap()
        .example(t("2026-06-01T00:00:00Z"));
    f["activities"][0]["designation"] = json!("ZAPAD-2028");
    b.add(
        "russia",
        "2026-11-15T12:00:00Z",
        "activity_forecast",
        f,
        &[],
        None,
    );
    assert_eq!(breaches(&b, "ZAPAD-2028"), Vec::<String>::new());
    // A second activity above 40,000 in 2029: two in three calendar years.
    notify(&mut b, "VOSTOK-2029", 41_000, "2029-09-10", "2029-09-16");
    assert!(
        breaches(&b, "VOSTOK-2029")
            .iter()
            .any(|r| r.contains("three calendar years"))
    );
    // Four activities above 13,000 at once in 2030 (limit three).
    for i in 0..4 {
        notify(
            &mut b,
            &format!("SNAP-{i}"),
            14_000,
            "2030-03-01",
            "2030-03-05",
        );
    }
    assert!(breaches(&b, "SNAP-0").iter().any(|r| r.contains("at once")));
    // Seven above 13,000 in 2031 (limit six), on separate dates.
    for i in 0..7 {
        notify(
            &mut b,
            &format!("Y31-{i}"),
            14_000,
            &format!("2031-0{}-01", i + 1),
            &format!("2031-0{}-03", i + 1),
        );
    }
    assert!(
        breaches(&b, "Y31-0")
            .iter()
            .any(|r| r.contains("more than 6 such activities in 2031"))
    );
    assert!(!breaches(&b, "Y31-0").iter().any(|r| r.contains("at once")));
}

/// Found by the board's equality test: a suspension made after a late
/// answer moved the deadline past the answer, so a late answer turned
/// "met in time" the longer the other side kept the channel suspended.
/// An answer is judged by the deadline as it stood when it came, and a
/// suspension that begins after the deadline passed does not revive it.
#[test]
fn a_suspension_after_the_deadline_or_the_answer_changes_no_verdict() {
    let mut b = Book::new("2026-01-01T00:00:00Z", false);
    let mut body = kinds::get("briefing_request")
        .unwrap()
        .example(t("2026-03-01T00:00:00Z"));
    body["to"] = json!("russia");
    let req = b.add(
        "nato",
        "2026-03-01T00:00:00Z",
        "briefing_request",
        body,
        &[],
        Some("2026-03-01T00:00:00Z"),
    );
    // Due 15 March; Russia briefs on 20 March, late.
    let briefing = kinds::get("briefing")
        .unwrap()
        .example(t("2026-03-20T00:00:00Z"));
    b.add(
        "russia",
        "2026-03-20T00:00:00Z",
        "briefing",
        briefing,
        &[req],
        Some("2026-03-20T00:00:00Z"),
    );
    let late = one(&b.ledger(), "2026-03-21T00:00:00Z", "briefing");
    assert_eq!(late.status, Status::MetLate);
    // NATO suspends the channel on 25 March and keeps it suspended.
    let s = b.add(
        "nato",
        "2026-03-25T00:00:00Z",
        "channel_suspension",
        json!({"reason": "review"}),
        &[],
        None,
    );
    b.channel.apply(&b.entries[s].entry.clone());
    let after = one(&b.ledger(), "2026-06-01T00:00:00Z", "briefing");
    assert_eq!(after.status, Status::MetLate, "still late");
    assert_eq!(
        after.due, late.due,
        "the deadline does not move after the answer"
    );
}
