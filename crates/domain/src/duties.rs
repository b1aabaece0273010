//! What each kind of entry obliges, kind by kind: the rules the registry
//! (`kinds`) points at, and what they share. The engine that judges them
//! (met, late, paused, overdue) is `obligations`.

use parley_log::Timestamp;

use crate::channel::ChannelState;
use crate::exercises::{ObservationInvitation, PriorNotification};
use crate::hotline::{HotlineMessage, Priority};
use crate::incidents::{ClarificationRequest, MeetingRequest};
use crate::ledger::{Known, Ledger};
use crate::meetings::MeetingInvitation;
use crate::verification::Family;
use crate::violation::parse_body;

/// What a source entry obliges one debtor to do.
pub(crate) struct Duty {
    pub(crate) rule: &'static str,
    pub(crate) description: String,
    pub(crate) debtor: String,
    pub(crate) creditor: String,
    pub(crate) starts: Option<(Timestamp, bool)>,
    pub(crate) due: Option<Timestamp>,
    /// Kinds that meet it, and an extra condition on the answer.
    pub(crate) answers: &'static [&'static str],
    pub(crate) accept: fn(&Known, Option<Timestamp>) -> bool,
    /// Questions the answers must cover together (numbered from 1); empty:
    /// any accepted answer meets the duty.
    pub(crate) questions: Vec<String>,
}

impl Duty {
    /// The rest of a duty met by any entry of the kinds that answer `s`'s
    /// kind, with no questions to cover; the caller sets who owes what by
    /// when.
    fn answered_by_its_kind(s: &Source<'_>) -> Duty {
        Duty {
            rule: "",
            description: String::new(),
            debtor: String::new(),
            creditor: String::new(),
            starts: None,
            due: None,
            answers: s.answers,
            accept: any,
            questions: vec![],
        }
    }
}

fn any(_: &Known, _: Option<Timestamp>) -> bool {
    true
}

/// A meeting is convened by an invitation to it on a date no later than
/// the deadline (VD11 Chapter III: "convened within 48 hours"); agreeing to
/// meet is not convening. (A meeting record references the invitation, not
/// the request, so it is never the answer itself.)
fn convened_by(a: &Known, due: Option<Timestamp>) -> bool {
    let Some(due) = due else { return false };
    parse_body::<MeetingInvitation>(&a.entry.body)
        .is_ok_and(|m| m.proposed_dates.iter().any(|d| d.0 <= due))
}

fn hours(h: i64) -> i64 {
    h * 3600
}

/// The debtor's receipt of an entry, or its stated time when this node
/// does not hold that receipt.
fn started(k: &Known, debtor: &str) -> Option<(Timestamp, bool)> {
    if k.entry.author == debtor {
        return Some((k.entry.time, true));
    }
    k.delivered.get(debtor).map(|t| (*t, true))
}

/// Recipients: the given addressees, or every other member.
fn recipients(channel: &ChannelState, author: &str, to: &[String]) -> Vec<String> {
    if to.is_empty() {
        channel
            .charter
            .members
            .iter()
            .filter(|m| *m != author)
            .cloned()
            .collect()
    } else {
        to.to_vec()
    }
}

/// The entry a duty comes from, with its channel and rules.
#[derive(Clone, Copy)]
pub(crate) struct Source<'a> {
    pub(crate) ledger: &'a Ledger,
    pub(crate) k: &'a Known,
    pub(crate) channel: &'a ChannelState,
    pub(crate) rules: &'a crate::channel::ChannelRules,
    pub(crate) rs: &'a crate::rules::RuleSet,
    pub(crate) id: &'a str,
    /// The kinds that answer it (its kind's `answered_by`).
    pub(crate) answers: &'static [&'static str],
}

/// Kinds that oblige no one to answer.
pub(crate) fn no_duties(_: &Source<'_>) -> Vec<Duty> {
    Vec::new()
}

/// Each recipient of `s`'s entry (the addressees `to`, or every other
/// member) must answer it by `reply_by` when the entry names a date, else
/// within `seconds` of its delivery to them.
fn each_recipient(
    s: &Source<'_>,
    to: &[String],
    rule: &'static str,
    description: String,
    reply_by: Option<Timestamp>,
    seconds: i64,
) -> Vec<Duty> {
    let (k, e) = (s.k, &s.k.entry);
    recipients(s.channel, &e.author, to)
        .into_iter()
        .map(|d| {
            let starts = started(k, &d);
            Duty {
                rule,
                description: description.clone(),
                creditor: e.author.clone(),
                due: reply_by.or_else(|| starts.map(|(t, _)| t.plus_seconds(seconds))),
                debtor: d,
                starts,
                ..Duty::answered_by_its_kind(s)
            }
        })
        .collect()
}

/// The obligations an entry of kind `hotline_message` creates.
pub(crate) fn hotline_message_duties(s: &Source<'_>) -> Vec<Duty> {
    let Ok(m) = parse_body::<HotlineMessage>(&s.k.entry.body) else {
        return Vec::new();
    };
    let (rule, minutes) = match m.priority {
        Priority::Flash => ("flash-acknowledgement", s.rules.flash_ack_minutes),
        Priority::Immediate => ("immediate-acknowledgement", s.rules.immediate_ack_minutes),
        _ => return Vec::new(),
    };
    let description = format!(
        "acknowledge {} message {} within {minutes} minutes of delivery",
        m.priority.as_str(),
        s.id
    );
    each_recipient(s, &m.to, rule, description, None, i64::from(minutes) * 60)
}

/// The obligations an entry of kind `incident_report` creates.
pub(crate) fn incident_report_duties(s: &Source<'_>) -> Vec<Duty> {
    let minutes = s.rules.incident_ack_minutes;
    let description = format!(
        "acknowledge incident report {} within {minutes} minutes",
        s.id
    );
    let rule = "incident-acknowledgement";
    each_recipient(s, &[], rule, description, None, i64::from(minutes) * 60)
}

/// The obligations an entry of kind `clarification_request` creates.
pub(crate) fn clarification_request_duties(s: &Source<'_>) -> Vec<Duty> {
    let Source { k, rs, id, .. } = *s;
    let Ok(r) = parse_body::<ClarificationRequest>(&k.entry.body) else {
        return Vec::new();
    };
    let h = rs.risk_reduction.reply_hours.value;
    let starts = started(k, &r.to);
    vec![Duty {
        rule: "clarification-reply",
        description: format!(
            "answer the {} question(s) of request for clarification {id} within {h} hours of delivery (VD11 Chapter III)",
            r.questions.len()
        ),
        debtor: r.to.clone(),
        creditor: k.entry.author.clone(),
        due: starts.map(|(t, _)| t.plus_seconds(hours(h))),
        starts,
        answers: s.answers,
        accept: any,
        questions: r.questions,
    }]
}

/// The obligations an entry of kind `meeting_request` creates.
pub(crate) fn meeting_request_duties(s: &Source<'_>) -> Vec<Duty> {
    let Source { k, rs, id, .. } = *s;
    let Ok(r) = parse_body::<MeetingRequest>(&k.entry.body) else {
        return Vec::new();
    };
    let h = rs.risk_reduction.meeting_hours.value;
    let starts = started(k, &r.to);
    vec![Duty {
        rule: "meeting-convened",
        description: format!(
            "convene the {} meeting requested in {id} within {h} hours of delivery (VD11 Chapter III): a meeting held, or called for a date, within that time",
            match r.scope {
                crate::incidents::MeetingScope::Bilateral => "bilateral",
                crate::incidents::MeetingScope::AllStates => "all-States",
            }
        ),
        debtor: r.to,
        creditor: k.entry.author.clone(),
        due: starts.map(|(t, _)| t.plus_seconds(hours(h))),
        starts,
        answers: s.answers,
        accept: convened_by,
        questions: vec![],
    }]
}

/// The obligations an entry of kind `meeting_invitation` creates.
pub(crate) fn meeting_invitation_duties(s: &Source<'_>) -> Vec<Duty> {
    let Ok(m) = parse_body::<MeetingInvitation>(&s.k.entry.body) else {
        return Vec::new();
    };
    let description = format!("reply to the invitation {} ({})", s.id, m.title);
    let days = i64::from(s.rules.invitation_reply_days);
    let reply_by = m.reply_by.map(|r| r.0);
    each_recipient(
        s,
        &m.to,
        "invitation-reply",
        description,
        reply_by,
        days * 86_400,
    )
}

/// The obligations an entry of kind `briefing_request` creates.
pub(crate) fn briefing_request_duties(s: &Source<'_>) -> Vec<Duty> {
    let Source {
        ledger,
        k,
        rules,
        id,
        ..
    } = *s;
    let e = &k.entry;
    let Ok(b) = parse_body::<crate::exercises::BriefingRequest>(&e.body) else {
        return Vec::new();
    };
    let Some(debtor) = b.to.or_else(|| {
        e.refs
            .first()
            .and_then(|r| ledger.get(r))
            .map(|t| t.entry.author.clone())
    }) else {
        return Vec::new();
    };
    let starts = started(k, &debtor);
    vec![Duty {
        rule: "briefing",
        description: format!(
            "give the briefing requested in {id} within {} days",
            rules.briefing_days
        ),
        creditor: e.author.clone(),
        due: starts.map(|(t, _)| t.plus_seconds(i64::from(rules.briefing_days) * 86_400)),
        debtor,
        starts,
        ..Duty::answered_by_its_kind(s)
    }]
}

/// The obligations an entry of kind `prior_notification` creates: the
/// notifying State owes every other member an invitation to observe.
pub(crate) fn prior_notification_duties(s: &Source<'_>) -> Vec<Duty> {
    let Source {
        k, channel, rs, id, ..
    } = *s;
    let e = &k.entry;
    let Ok(n) = parse_body::<PriorNotification>(&e.body) else {
        return Vec::new();
    };
    if !n.assess(e.time, rs).observation_required() {
        return Vec::new();
    }
    let lead = rs.notification.lead_days.value;
    let deadline = n
        .start
        .plus_days(-lead)
        .start()
        .max(e.time)
        .min(n.start.start());
    recipients(channel, &e.author, &[])
        .into_iter()
        .map(|creditor| Duty {
            rule: "observation-invitation",
            description: format!(
                "invite observers to {} (notified in {id}; observation is required above the Vienna Document thresholds)",
                n.designation
            ),
            debtor: e.author.clone(),
            creditor,
            starts: Some((e.time, true)),
            due: Some(deadline),
            ..Duty::answered_by_its_kind(s)
        })
        .collect()
}

/// The obligations an entry of kind `observation_invitation` creates.
pub(crate) fn observation_invitation_duties(s: &Source<'_>) -> Vec<Duty> {
    let Ok(o) = parse_body::<ObservationInvitation>(&s.k.entry.body) else {
        return Vec::new();
    };
    let days = s.rs.observation.reply_days.value;
    let description = format!(
        "answer the invitation to observe {} within {days} days",
        s.id
    );
    let reply_by = o.reply_by.map(|r| r.0);
    each_recipient(
        s,
        &[],
        "observation-reply",
        description,
        reply_by,
        days * 86_400,
    )
}

/// The obligations an entry of kind `meeting_record` creates.
pub(crate) fn meeting_record_duties(s: &Source<'_>) -> Vec<Duty> {
    let days = s.rules.record_confirm_days;
    let description = format!(
        "confirm or object to the meeting record {} within {days} days",
        s.id
    );
    let rule = "record-confirmation";
    each_recipient(s, &[], rule, description, None, i64::from(days) * 86_400)
}

/// The obligations a request for an inspection or evaluation visit
/// creates: within quota, the State asked accepts or refuses it in time
/// (VD11 Chapter IX); once accepted, the State that asked reports to every
/// member after it ends. Beyond quota it obliges the State asked to nothing.
pub(crate) fn verification_request_duties(s: &Source<'_>) -> Vec<Duty> {
    let Source {
        ledger, k, rs, id, ..
    } = *s;
    let Some(r) = crate::verification::request(ledger, k) else {
        return Vec::new();
    };
    let (reply, report) = match r.family {
        Family::Inspection => (&rs.inspection.reply_hours, &rs.inspection.report_days),
        Family::Evaluation => (&rs.evaluation.reply_hours, &rs.evaluation.report_days),
    };
    let mut out = Vec::new();
    if r.standing == crate::verification::Standing::Within {
        let starts = started(k, &r.to);
        out.push(Duty {
            rule: "verification-reply",
            description: format!(
                "accept or refuse the request for an {} {id} within {} hours of delivery ({})",
                r.family.noun(),
                reply.value,
                reply.cite()
            ),
            debtor: r.to.clone(),
            creditor: k.entry.author.clone(),
            due: starts.map(|(t, _)| t.plus_seconds(hours(reply.value))),
            starts,
            answers: &["verification_reply"],
            accept: any,
            questions: vec![],
        });
    }
    // Accepted, even beyond quota (a State may accept more), it is reported.
    if r.accepted() {
        let end = r.latest_end(rs);
        out.extend(
            recipients(s.channel, &r.from, &[])
                .into_iter()
                .map(|creditor| Duty {
                    rule: "verification-report",
                    description: format!(
                        "report the {} requested in {id} within {} days of its end ({})",
                        r.family.noun(),
                        report.value,
                        report.cite()
                    ),
                    debtor: r.from.clone(),
                    creditor,
                    starts: Some((end, true)),
                    due: Some(end.plus_seconds(report.value * 86_400)),
                    answers: &["verification_report"],
                    accept: any,
                    questions: vec![],
                }),
        );
    }
    out
}
