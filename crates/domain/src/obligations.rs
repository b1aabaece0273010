//! The obligations engine: who owes whom what by when, derived from the
//! feeds, never stored by hand.
//!
//! A deadline starts at a proven time: the debtor's own receipt (its
//! cosignature) of the entry that creates the obligation, never the
//! sender's clock. An obligation is met by the debtor's first entry of the
//! answering kind that references the source; it counts as met when the
//! creditor's receipt of that answer says so.

use parley_log::{Hash, Timestamp};
use serde::Serialize;

use crate::dates::Date;
use crate::duties::{Duty, Source};
use crate::exercises::ruleset_of;
use crate::kinds::parse_body;
use crate::ledger::{Known, Ledger};

/// Where an obligation stands at the time of evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Past its deadline and not met.
    Overdue,
    /// Running: not met, deadline ahead.
    Open,
    /// The debtor is barred from answering in the channel (another member
    /// suspended it): the clock stops, and the deadline moves by as long.
    Paused,
    /// The source has not been delivered to the debtor yet: no clock runs.
    Pending,
    /// Met after the deadline.
    MetLate,
    /// Met in time.
    Met,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Overdue => "overdue",
            Status::Open => "open",
            Status::Paused => "paused",
            Status::Pending => "pending",
            Status::MetLate => "met_late",
            Status::Met => "met",
        }
    }

    pub fn is_met(self) -> bool {
        matches!(self, Status::Met | Status::MetLate)
    }
}

/// One obligation.
#[derive(Clone, Debug)]
pub struct Obligation {
    /// Stable: `<source id>#<rule>#<debtor>`.
    pub id: String,
    pub channel: String,
    pub rule: &'static str,
    /// What is owed, in words.
    pub description: String,
    pub debtor: String,
    pub creditor: String,
    /// The entry that creates it (`channel/author/seq`).
    pub source: String,
    pub source_kind: String,
    pub source_hash: String,
    /// When the clock started: the debtor's receipt of the source.
    pub starts: Option<Timestamp>,
    /// Whether `starts` is a receipt this node holds (else the stated time).
    pub starts_proven: bool,
    pub due: Option<Timestamp>,
    pub met_by: Option<String>,
    /// The kinds of entry by the debtor that would meet it.
    pub answered_by: Vec<String>,
    /// Questions asked and not yet answered (a request for clarification).
    pub unanswered: Vec<String>,
    pub met_at: Option<Timestamp>,
    /// Whether `met_at` is the creditor's receipt (else the stated time).
    pub met_proven: bool,
    pub status: Status,
}

impl Obligation {
    /// Seconds until the deadline at `at` (negative: overdue by that much).
    pub fn remaining(&self, at: Timestamp) -> Option<i64> {
        self.due.map(|d| d.unix() - at.unix())
    }
}

/// What answers an entry of `kind`: the one rule for "what answers what",
/// used by obligations, the silence report and proofs of silence.
pub fn answering_kinds(kind: &str) -> &'static [&'static str] {
    crate::kinds::get(kind).map_or(&[], |k| k.answered_by)
}

/// What an entry obliges, by its kind's rule in the registry.
fn duties(ledger: &Ledger, k: &Known) -> Vec<Duty> {
    let e = &k.entry;
    let (Some(channel), Some(spec)) = (ledger.channels.get(&e.channel), crate::kinds::get(&e.kind))
    else {
        return vec![];
    };
    let id = e.id();
    let source = Source {
        ledger,
        k,
        channel,
        rules: &channel.charter.rules,
        rs: ruleset_of(Some(channel)),
        id: &id,
        answers: spec.answered_by,
    };
    (spec.duties)(&source)
}

/// The first answer by the debtor that meets a duty, with the time it
/// counts from: the creditor's receipt where this node holds it.
fn answer<'a>(
    ledger: &'a Ledger,
    source: &Hash,
    duty: &Duty,
) -> Option<(&'a Known, Timestamp, bool)> {
    let mut answers: Vec<(&Known, Timestamp, bool)> = ledger
        .referencing(source)
        .filter(|a| {
            a.entry.author == duty.debtor
                && duty.answers.contains(&a.entry.kind.as_str())
                && (duty.accept)(a, duty.due)
        })
        .map(|a| held_by(a, &duty.creditor))
        .collect();
    answers.sort_by_key(|(a, t, _)| (*t, a.entry.seq));
    if duty.questions.is_empty() {
        return answers.into_iter().next();
    }
    // Met by the answer that completes the set of questions answered.
    let mut answered = std::collections::BTreeSet::new();
    for a in answers {
        answered.extend(answered_questions(a.0));
        if (1..=duty.questions.len() as u32).all(|q| answered.contains(&q)) {
            return Some(a);
        }
    }
    None
}

/// The question numbers an entry answers.
fn answered_questions(k: &Known) -> Vec<u32> {
    parse_body::<crate::incidents::ClarificationReply>(&k.entry.body)
        .map(|r| r.answered())
        .unwrap_or_default()
}

/// The questions of a duty not yet answered by the debtor as of `at`.
fn unanswered(ledger: &Ledger, source: &Hash, duty: &Duty, at: Timestamp) -> Vec<String> {
    if duty.questions.is_empty() {
        return vec![];
    }
    let answered: std::collections::BTreeSet<u32> = ledger
        .referencing(source)
        .filter(|a| a.entry.author == duty.debtor && a.entry.time <= at)
        .filter(|a| duty.answers.contains(&a.entry.kind.as_str()))
        .flat_map(answered_questions)
        .collect();
    duty.questions
        .iter()
        .enumerate()
        .filter(|(i, _)| !answered.contains(&(*i as u32 + 1)))
        .map(|(i, q)| format!("{}. {q}", i + 1))
        .collect()
}

fn status(
    starts: Option<Timestamp>,
    due: Option<Timestamp>,
    met_at: Option<Timestamp>,
    at: Timestamp,
) -> Status {
    match (met_at, due, starts) {
        (Some(m), Some(d), _) if m <= at && m > d => Status::MetLate,
        (Some(m), _, _) if m <= at => Status::Met,
        (_, _, None) => Status::Pending,
        (_, Some(d), _) if d <= at => Status::Overdue,
        _ => Status::Open,
    }
}

/// Every obligation that exists at `at`, as of what the ledger holds.
/// Entries stated after `at` are left out, so `at` in the past shows the
/// board as it stood then, and in the future what will be overdue by then.
///
/// This reads the whole history; a node keeps the same answers current in
/// [`crate::board::Board`] instead, and tests hold the two equal.
pub fn derive(ledger: &Ledger, at: Timestamp) -> Vec<Obligation> {
    let mut out: Vec<Obligation> = ledger
        .entries()
        .flat_map(|k| of_entry(ledger, k, at))
        .collect();
    out.extend(recurring(ledger, at));
    sort(&mut out);
    out
}

/// The obligations that come with the calendar, not with an entry: yearly
/// returns and review meetings.
pub(crate) fn recurring(ledger: &Ledger, at: Timestamp) -> Vec<Obligation> {
    let mut out = annual_returns(ledger, at);
    out.extend(reviews(ledger, at));
    out
}

/// When `creditor` had `k`: its receipt where this node holds it (proven),
/// else the stated time.
fn held_by<'a>(k: &'a Known, creditor: &str) -> (&'a Known, Timestamp, bool) {
    match k.delivered.get(creditor) {
        Some(t) => (k, *t, true),
        None => (k, k.entry.time, false),
    }
}

/// An obligation the calendar makes under a channel's charter (not an
/// entry): owed from `starts`, due by `due`.
struct ByTheCalendar<'a> {
    channel: &'a crate::channel::ChannelState,
    id: String,
    rule: &'static str,
    description: String,
    debtor: &'a str,
    creditor: &'a str,
    starts: Timestamp,
    due: Timestamp,
    answered_by: &'a str,
}

impl ByTheCalendar<'_> {
    /// The obligation as it stands at `at`, met by `found` if anything.
    fn judged(self, found: Option<(&Known, Timestamp, bool)>, at: Timestamp) -> Obligation {
        let c = self.channel;
        Obligation {
            id: self.id,
            channel: c.id.clone(),
            rule: self.rule,
            description: self.description,
            debtor: self.debtor.to_string(),
            creditor: self.creditor.to_string(),
            source: format!("{}/{}/0", c.id, c.creator),
            source_kind: "channel_charter".into(),
            source_hash: c.charter_hash.to_hex(),
            starts: Some(self.starts),
            starts_proven: true,
            due: Some(self.due),
            met_by: found.map(|f| f.0.id()),
            answered_by: vec![self.answered_by.to_string()],
            unanswered: vec![],
            met_at: found.map(|f| f.1),
            met_proven: found.is_some_and(|f| f.2),
            status: status(Some(self.starts), Some(self.due), found.map(|f| f.1), at),
        }
    }
}

/// INCSEA Art. IX: in a channel that follows an incidents-at-sea
/// agreement, the members meet to review it within each `review_months`
/// from the channel's opening. The n-th review meeting (a meeting record
/// of an invitation with `review_of` the agreement) answers the n-th
/// period; each member owes every other its part in it.
pub(crate) fn reviews(ledger: &Ledger, at: Timestamp) -> Vec<Obligation> {
    let mut out = Vec::new();
    for c in ledger.channels.values() {
        let Some(ag) = c.incidents_at_sea() else {
            continue;
        };
        let name = ag.name();
        let mut records: Vec<(&Known, Timestamp)> = ledger
            .causal_order(&["meeting_record"], &c.id)
            .into_iter()
            .filter(|k| {
                k.entry
                    .refs
                    .first()
                    .and_then(|r| ledger.get(r))
                    .and_then(|i| {
                        parse_body::<crate::meetings::MeetingInvitation>(&i.entry.body).ok()
                    })
                    .is_some_and(|i| i.review_of.as_deref() == Some(name.as_str()))
            })
            .filter_map(|k| {
                let r = parse_body::<crate::meetings::MeetingRecord>(&k.entry.body).ok()?;
                Some((k, r.start.0))
            })
            .collect();
        records.sort_by_key(|(k, start)| (*start, ledger.causal_rank(k)));
        let opened = Date::of(c.created_at);
        let months = ag.review_months.value;
        for n in 1_i64.. {
            let starts = if n == 1 {
                c.created_at
            } else {
                opened.plus_months(months * (n - 1)).start()
            };
            let due = opened.plus_months(months * n).end();
            if starts > at {
                break;
            }
            let record = records.get(usize::try_from(n - 1).unwrap_or(usize::MAX));
            for debtor in &c.charter.members {
                for creditor in c.charter.members.iter().filter(|m| *m != debtor) {
                    let found = record
                        .map(|(k, _)| held_by(k, creditor))
                        .filter(|(_, t, _)| *t <= at);
                    let owed = ByTheCalendar {
                        channel: c,
                        id: format!("{}#review-{n}#{debtor}#{creditor}", c.id),
                        rule: "agreement-review",
                        description: format!(
                            "meet to review the {} (review {n}, by {}) ({})",
                            ag.title,
                            Date::of(due.plus_seconds(-1)),
                            ag.review_months.cite()
                        ),
                        debtor,
                        creditor,
                        starts,
                        due,
                        answered_by: "meeting_record",
                    };
                    out.push(owed.judged(found, at));
                }
            }
        }
    }
    out
}

/// The board's order: overdue first, then by deadline.
pub fn sort(list: &mut [Obligation]) {
    list.sort_by(|a, b| (a.status, a.due, &a.id).cmp(&(b.status, b.due, &b.id)));
}

/// The obligations one entry creates, standing at `at`.
pub fn of_entry(ledger: &Ledger, k: &Known, at: Timestamp) -> Vec<Obligation> {
    let mut out = Vec::new();
    if k.entry.time > at {
        return out;
    }
    let pauses_of = |debtor: &str| {
        ledger
            .channels
            .get(&k.entry.channel)
            .map(|c| c.suspended_for(debtor))
            .unwrap_or_default()
            .into_iter()
            .filter(|(from, _)| *from <= at)
            .collect::<Vec<_>>()
    };
    for mut d in duties(ledger, k) {
        let found = answer(ledger, &k.hash, &d).filter(|(_, t, _)| *t <= at);
        let starts = d.starts.map(|(t, _)| t).filter(|t| *t <= at);
        let pauses = pauses_of(&d.debtor);
        let open_questions = unanswered(ledger, &k.hash, &d, at);
        let paused_now = pauses.iter().any(|(_, until)| until.is_none_or(|u| u > at));
        if let (Some(s), Some(due)) = (starts, d.due) {
            d.due = Some(barred_deadline(
                due,
                s,
                &pauses,
                found.map_or(at, |f| f.1.min(at)),
            ));
        }
        out.push(Obligation {
            id: format!("{}#{}#{}", k.id(), d.rule, d.debtor),
            channel: k.entry.channel.clone(),
            rule: d.rule,
            description: d.description,
            source: k.id(),
            source_kind: k.entry.kind.clone(),
            source_hash: k.hash.to_hex(),
            starts_proven: d.starts.is_some_and(|(_, p)| p),
            due: d
                .due
                .filter(|_| starts.is_some() || d.rule == "observation-invitation"),
            status: match status(starts, d.due, found.map(|f| f.1), at) {
                Status::Open | Status::Overdue if paused_now => Status::Paused,
                s => s,
            },
            met_by: found.map(|f| f.0.id()),
            answered_by: d.answers.iter().map(|k| k.to_string()).collect(),
            unanswered: open_questions,
            met_at: found.map(|f| f.1),
            met_proven: found.is_some_and(|f| f.2),
            starts,
            debtor: d.debtor,
            creditor: d.creditor,
        });
    }
    out
}

/// A deadline moved by the time the debtor was barred from answering
/// between the start of the clock and `end` (now, or when it answered).
/// Overlapping suspensions count once, and a suspension that begins after
/// the deadline (as moved so far) has passed does not revive it: what was
/// late stays late, and an answer is judged by the deadline as it stood
/// when it came.
fn barred_deadline(
    due: Timestamp,
    starts: Timestamp,
    pauses: &[(Timestamp, Option<Timestamp>)],
    end: Timestamp,
) -> Timestamp {
    let mut spans: Vec<(i64, i64)> = pauses
        .iter()
        .map(|(from, until)| {
            let a = from.unix().max(starts.unix());
            let b = until.map_or(end, |u| u.min(end)).unix();
            (a, b)
        })
        .filter(|(a, b)| b > a)
        .collect();
    spans.sort_unstable();
    let mut moved = due.unix();
    let mut covered = i64::MIN;
    for (a, b) in spans {
        let a = a.max(covered);
        if a >= moved {
            break;
        }
        if b > a {
            moved += b - a;
            covered = b;
        }
    }
    due.plus_seconds(moved - due.unix())
}

/// The first time after `at` at which [`of_entry`] could answer
/// differently with the ledger unchanged (a deadline passing, a stated
/// time or receipt time reached, a suspension beginning or ending), or
/// `None` if never.
pub(crate) fn changes_after(
    ledger: &Ledger,
    k: &Known,
    list: &[Obligation],
    at: Timestamp,
) -> Option<Timestamp> {
    let second = at.plus_seconds(1);
    // While a debtor is barred its deadline moves with the clock.
    if list.iter().any(|o| o.status == Status::Paused) {
        return Some(second);
    }
    let mut times: Vec<Timestamp> = vec![k.entry.time];
    times.extend(k.delivered.values().copied());
    for a in ledger.referencing(&k.hash) {
        times.push(a.entry.time);
        times.extend(a.delivered.values().copied());
    }
    if let Some(c) = ledger.channels.get(&k.entry.channel) {
        times.extend(c.history.iter().map(|a| a.time));
    }
    times.extend(list.iter().filter_map(|o| o.due));
    times.into_iter().filter(|t| *t > at).min()
}

/// The yearly returns (the registry's [`crate::kinds::Annual`]): in
/// channels that agree to one, each participating State owes the others
/// the return for year Y+1 by its day of year Y (the annual calendar by 15
/// November, VD11 Chapter VII; military information by 15 December,
/// Chapter I), from the first such day after the channel opened.
pub(crate) fn annual_returns(ledger: &Ledger, at: Timestamp) -> Vec<Obligation> {
    let mut out = Vec::new();
    for spec in crate::kinds::all() {
        let Some(annual) = spec.annual else { continue };
        for c in ledger
            .channels
            .values()
            .filter(|c| (annual.owed)(&c.charter.rules))
        {
            out.extend(annual_return(ledger, c, spec.name, &annual, at));
        }
    }
    out
}

fn annual_return(
    ledger: &Ledger,
    c: &crate::channel::ChannelState,
    kind: &'static str,
    annual: &crate::kinds::Annual,
    at: Timestamp,
) -> Vec<Obligation> {
    let mut out = Vec::new();
    let due = (annual.due)(ruleset_of(Some(c)));
    let due_of = |y: i64| Date::from_ymd(y, due.month, due.day).map(Date::end);
    let opened = c.created_at;
    let mut year = Date::of(opened).year();
    if due_of(year).is_none_or(|d| d <= opened) {
        year += 1;
    }
    // Every due date up to `at`, and the next one ahead.
    while let Some(deadline) = due_of(year) {
        // Silence is counted from the start of the year it falls due in.
        let starts = Date::from_ymd(year, 1, 1).map_or(opened, |d| d.start().max(opened));
        for debtor in c
            .charter
            .members
            .iter()
            .filter(|m| c.is_participating_state(m))
        {
            let returns: Vec<&Known> = ledger
                .of_kind(kind)
                .filter(|k| k.entry.channel == c.id && k.entry.author == *debtor)
                .filter(|k| k.entry.body.get("year").and_then(|y| y.as_i64()) == Some(year + 1))
                .collect();
            for creditor in c.charter.members.iter().filter(|m| *m != debtor) {
                let found = returns
                    .iter()
                    .map(|k| held_by(k, creditor))
                    .filter(|(_, t, _)| *t <= at)
                    .min_by_key(|(_, t, _)| *t);
                let owed = ByTheCalendar {
                    channel: c,
                    id: format!("{}#{}-{}#{debtor}", c.id, annual.rule, year + 1),
                    rule: annual.rule,
                    description: format!(
                        "send {} for {} by {}-{:02}-{:02} ({})",
                        annual.what,
                        year + 1,
                        year,
                        due.month,
                        due.day,
                        annual.chapter
                    ),
                    debtor,
                    creditor,
                    starts,
                    due: deadline,
                    answered_by: kind,
                };
                out.push(owed.judged(found, at));
            }
        }
        if deadline > at {
            break;
        }
        year += 1;
    }
    out
}

/// What has gone unanswered, and for how long, at `at`: every obligation
/// not met, longest silence first.
pub fn silence(obligations: &[Obligation], at: Timestamp) -> Vec<(&Obligation, i64)> {
    let mut out: Vec<(&Obligation, i64)> = obligations
        .iter()
        .filter(|o| !o.status.is_met())
        // A duty that starts later (next year's calendar) is no silence yet.
        .filter(|o| o.starts.is_none_or(|s| s <= at))
        .map(|o| (o, at.unix() - o.starts.unwrap_or(at).unix()))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.id.cmp(&b.0.id)));
    out
}
