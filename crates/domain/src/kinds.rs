//! Every kind of entry, with its description, schema, example and checks.

use parley_log::{Entry, Timestamp};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::channel::{ChannelAct, ChannelState, Charter, check_feed_start};
use crate::exchange::{DefencePlanning, MilitaryInformation};
use crate::exercises::{
    ActivityForecast, AnnualCalendar, Briefing, BriefingRequest, ObservationInvitation,
    PriorNotification, ruleset_of,
};
use crate::hotline::{Acknowledgement, HotlineMessage, LinkTest, Reply, check_texts};
use crate::incidents::{
    ClarificationReply, ClarificationRequest, DangerousActivityNotice, IncidentReport,
    MeetingRequest, check_to,
};
use crate::ledger::Ledger;
use crate::meetings::{
    AgendaProposal, DisclosureConsent, MeetingInvitation, MeetingRecord, MeetingReply,
    RecordConfirmation,
};
use crate::negotiation::{DraftDocument, DraftSignature};
use crate::verification::{
    EvaluationVisitRequest, InspectionRequest, VerificationReply, VerificationReport,
};
pub use crate::violation::parse_body;
use crate::violation::{Violation, Violations};
// Short names for the offices in the registry's `sent_by` lists.
use Office::{
    Administrator as ADMIN, Diplomat as DIPLOMAT, DutyOfficer as DUTY, Expert as EXPERT,
    Signatory as SIGNATORY,
};

/// How many entries an entry of a kind must reference, and what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refs {
    None,
    /// Exactly one: the entry named.
    One(&'static str),
    /// None or one.
    AtMostOne(&'static str),
    /// Any number (zero or more).
    Any,
}

/// An office in a party's centre, by what it may send: the console's
/// roles are these (an auditor holds none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Office {
    DutyOfficer,
    Expert,
    Diplomat,
    Signatory,
    Administrator,
}

/// Whose entry of a kind a follow-up is offered on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whose {
    /// Another party's.
    Theirs,
    /// Anyone's, this party's own included.
    Anyone,
    /// A draft naming this party as a signatory that it has not signed.
    ToSign,
    /// This party's own.
    Own,
}

/// An entry of another kind that naturally follows one of this kind (the
/// console offers it on the entry's page).
#[derive(Clone, Copy, Debug)]
pub struct FollowUp {
    pub kind: &'static str,
    pub label: &'static str,
    pub whose: Whose,
}

const fn theirs(kind: &'static str, label: &'static str) -> FollowUp {
    FollowUp {
        kind,
        label,
        whose: Whose::Theirs,
    }
}

const fn own(kind: &'static str, label: &'static str) -> FollowUp {
    FollowUp {
        kind,
        label,
        whose: Whose::Own,
    }
}

/// A return each participating State owes every other member once a year
/// by a fixed day, for the next year (`year` in its body).
#[derive(Clone, Copy)]
pub struct Annual {
    /// The obligation's rule name.
    pub rule: &'static str,
    /// What is owed, in words, and under which chapter.
    pub what: &'static str,
    pub chapter: &'static str,
    pub due: fn(&crate::rules::RuleSet) -> &crate::rules::CalendarDue,
    /// Whether a channel's members owe it.
    pub owed: fn(&crate::channel::ChannelRules) -> bool,
}

const fn anyone(kind: &'static str, label: &'static str) -> FollowUp {
    FollowUp {
        kind,
        label,
        whose: Whose::Anyone,
    }
}

/// The definition of one kind of entry.
pub struct KindSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub refs: Refs,
    /// Kinds the first reference may point to (empty: any). Checked by the
    /// author's node, which holds the referenced entry.
    pub ref_kinds: &'static [&'static str],
    /// The kinds of entry, by the debtor, that meet what an entry of this
    /// kind obliges: the one rule for "what answers what".
    pub answered_by: &'static [&'static str],
    /// The offices that may send it.
    pub sent_by: &'static [Office],
    /// What the console offers on an entry of this kind.
    pub follow_ups: &'static [FollowUp],
    schema: fn() -> Value,
    example: fn(Timestamp) -> Value,
    check: fn(&Entry, Option<&ChannelState>, &mut Violations),
    /// The obligations an entry of this kind creates.
    pub(crate) duties: fn(&crate::duties::Source<'_>) -> Vec<crate::duties::Duty>,
    /// What the author's node checks against the history it holds before
    /// sending one (quotas; who may answer what).
    history: Option<fn(&Entry, &Ledger) -> Vec<Violation>>,
    /// Kinds whose obligations an entry of this kind can change anywhere
    /// in its channel, not only in what it references (a quota counts
    /// every request in order).
    pub(crate) reconsiders: &'static [&'static str],
    /// The yearly return an entry of this kind is.
    pub annual: Option<Annual>,
}

/// What most kinds have: no history to check, nothing to reconsider, no
/// yearly return.
const PLAIN: KindSpec = KindSpec {
    name: "",
    title: "",
    description: "",
    refs: Refs::None,
    ref_kinds: &[],
    answered_by: &[],
    sent_by: &[],
    follow_ups: &[],
    schema: empty_schema,
    example: |_| json!({}),
    check: |_, _, _| {},
    duties: crate::duties::no_duties,
    history: None,
    reconsiders: &[],
    annual: None,
};

impl KindSpec {
    /// The JSON Schema of the body.
    pub fn schema(&self) -> Value {
        (self.schema)()
    }

    /// A valid example body for an entry written at `now`.
    pub fn example(&self, now: Timestamp) -> Value {
        (self.example)(now)
    }
}

fn schema_of<T: JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("schemas serialize")
}

/// Vienna Document notifications and calendars come from participating
/// States only (VD11 Chapter V: the State on whose territory the activity
/// takes place notifies it).
fn participating_state(e: &Entry, c: Option<&ChannelState>, v: &mut Violations) {
    if let Some(c) = c
        && !c.is_participating_state(&e.author)
    {
        v.push(
            "author",
            format!(
                "{} is not a participating State of the Vienna Document in channel {} ({}); the host State notifies its activities (VD11 Chapter V)",
                e.author,
                c.id,
                c.charter.rules.participating_states.join(", ")
            ),
        );
    }
}

fn typed<T: DeserializeOwned>(
    e: &Entry,
    v: &mut Violations,
    then: impl FnOnce(T, &mut Violations),
) {
    match parse_body::<T>(&e.body) {
        Ok(t) => then(t, v),
        Err(violation) => v.0.push(violation),
    }
}

fn texts(e: &Entry, c: Option<&ChannelState>, v: &mut Violations) {
    typed::<Reply>(e, v, |r, v| check_texts(&r.text, "text", c, v));
}

fn empty_schema() -> Value {
    json!({"type": "object", "additionalProperties": false})
}

macro_rules! kind {
    ($name:literal, $title:literal, $desc:literal, $refs:expr, $ref_kinds:expr, $ty:ty, $example:expr, $check:expr,
     answered_by: $answered_by:expr, sent_by: $sent_by:expr, follow_ups: $follow_ups:expr, duties: $duties:expr
     $(, $field:ident: $value:expr)* $(,)?) => {
        KindSpec {
            name: $name,
            title: $title,
            description: $desc,
            refs: $refs,
            ref_kinds: $ref_kinds,
            answered_by: $answered_by,
            sent_by: $sent_by,
            follow_ups: $follow_ups,
            schema: schema_of::<$ty>,
            example: $example,
            check: $check,
            duties: $duties,
            $($field: $value,)*
            ..PLAIN
        }
    };
}

static KINDS: &[KindSpec] = &[
    kind!(
        "channel_charter",
        "Channel charter",
        "Opens a channel: members, witnesses, level, languages and rules; every member must accept it",
        Refs::None,
        &[],
        Charter,
        Charter::example,
        |e, _, v| typed::<Charter>(e, v, |c, v| {
            c.check(&e.author, v);
            crate::channel::check_channel_id(&e.channel, &e.author, v);
        }),
        answered_by: &[],
        sent_by: &[DIPLOMAT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
    KindSpec {
        name: "channel_acceptance",
        title: "Channel acceptance",
        description: "A member accepts the channel charter it references; traffic flows once every member has",
        refs: Refs::One("the channel charter"),
        ref_kinds: &["channel_charter"],
        answered_by: &[],
        sent_by: &[DIPLOMAT, ADMIN],
        follow_ups: &[],
        schema: empty_schema,
        example: |_| json!({}),
        check: |e, c, v| {
            typed::<serde_json::Map<String, Value>>(e, v, |m, v| {
                v.check(m.is_empty(), "body", "an acceptance has an empty body");
            });
            if let (Some(c), Some(r)) = (c, e.refs.first()) {
                v.check(
                    *r == c.charter_hash,
                    "refs[0]",
                    "must be the hash of the channel charter",
                );
            }
        },
        ..PLAIN
    },
    kind!(
        "channel_suspension",
        "Channel suspension",
        "Suspends the channel: only a resumption may follow",
        Refs::Any,
        &[],
        ChannelAct,
        |_| json!({"reason": "Practical cooperation suspended pending review"}),
        |e, _, v| typed::<ChannelAct>(e, v, |a, v| v.check(
            !a.reason.trim().is_empty(),
            "reason",
            "state the reason"
        )),
        answered_by: &[],
        sent_by: &[DIPLOMAT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
    kind!(
        "channel_resumption",
        "Channel resumption",
        "Resumes a suspended channel",
        Refs::Any,
        &[],
        ChannelAct,
        |_| json!({"reason": "Dialogue at ambassador level resumes"}),
        |e, _, v| typed::<ChannelAct>(e, v, |a, v| v.check(
            !a.reason.trim().is_empty(),
            "reason",
            "state the reason"
        )),
        answered_by: &[],
        sent_by: &[DIPLOMAT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
    kind!(
        "link_test",
        "Link test",
        "A recorded test message, proving the line works end to end",
        Refs::None,
        &[],
        LinkTest,
        |_| json!({"text": "The quick brown fox jumped over the lazy dog's back 1234567890"}),
        |e, _, v| typed::<LinkTest>(e, v, |t, v| v.check(
            !t.text.is_empty(),
            "text",
            "must not be empty"
        )),
        answered_by: &[],
        sent_by: &[DUTY, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
    kind!(
        "hotline_message",
        "Hotline message",
        "A message with a precedence (routine, priority, immediate, flash) in the channel's languages; flash and immediate must be acknowledged",
        Refs::Any,
        &[],
        HotlineMessage,
        HotlineMessage::example,
        |e, c, v| typed::<HotlineMessage>(e, v, |m, v| m.check(&e.author, c, v)),
        answered_by: &["acknowledgement", "reply", "hotline_message"],
        sent_by: &[DUTY, DIPLOMAT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::hotline_message_duties
    ),
    kind!(
        "acknowledgement",
        "Acknowledgement",
        "Confirms that a person has seen the entry it references",
        Refs::One("the acknowledged entry"),
        &[],
        Acknowledgement,
        |_| json!({"by": "Duty officer, Joint Operations Centre"}),
        |e, _, v| typed::<Acknowledgement>(e, v, |_, _| {}),
        answered_by: &[],
        sent_by: &[DUTY, EXPERT, DIPLOMAT, SIGNATORY, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
    kind!(
        "reply",
        "Reply",
        "A reply in words to the entry it references",
        Refs::One("the entry answered"),
        &[],
        Reply,
        |_| json!({"text": {"en": "Received; our experts will attend."}}),
        texts,
        answered_by: &[],
        sent_by: &[DUTY, EXPERT, DIPLOMAT, SIGNATORY, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
    kind!(
        "annual_calendar",
        "Annual calendar",
        "The notifiable military activities forecast for next year (due by 15 November; an empty list is a nil calendar)",
        Refs::None,
        &[],
        AnnualCalendar,
        AnnualCalendar::example,
        |e, c, v| {
            typed::<AnnualCalendar>(e, v, |a, v| a.check(e.time, v));
            participating_state(e, c, v);
        },
        answered_by: &[],
        sent_by: &[EXPERT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties,
        annual: Some(Annual {
            rule: "annual-calendar",
            what: "the annual calendar of notifiable activities",
            chapter: "VD11 Chapter VII",
            due: |rs| &rs.calendar.due,
            owed: |r| r.annual_calendar,
        })
    ),
    kind!(
        "military_information",
        "Annual exchange of military information",
        "Chapter I: the State's formations and units with their peacetime locations, valid as of 1 January (due by 15 December); the units reported set its quota of evaluation visits",
        Refs::None,
        &[],
        MilitaryInformation,
        MilitaryInformation::example,
        |e, c, v| {
            typed::<MilitaryInformation>(e, v, |m, v| m.check(e.time, v));
            participating_state(e, c, v);
        },
        answered_by: &[],
        sent_by: &[EXPERT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties,
        reconsiders: crate::verification::RECONSIDERS,
        annual: Some(Annual {
            rule: "military-information",
            what: "the annual exchange of military information",
            chapter: "VD11 Chapter I",
            due: |rs| &rs.exchange.military_information.due,
            owed: |r| r.annual_exchange,
        })
    ),
    kind!(
        "defence_planning",
        "Defence planning information",
        "Chapter II: defence policy, force planning and budgets, due two months after the military budget is approved",
        Refs::None,
        &[],
        DefencePlanning,
        DefencePlanning::example,
        |e, c, v| {
            typed::<DefencePlanning>(e, v, |d, v| d.check(e.time, c, v));
            participating_state(e, c, v);
        },
        answered_by: &[],
        sent_by: &[EXPERT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
    kind!(
        "activity_forecast",
        "Two-year forecast of a large activity",
        "Communicates an activity above the Chapter VIII thresholds (40,000 troops and others) by 15 November two years ahead; without it the activity may not be carried out",
        Refs::None,
        &[],
        ActivityForecast,
        ActivityForecast::example,
        |e, c, v| {
            typed::<ActivityForecast>(e, v, |a, v| a.check(v));
            participating_state(e, c, v);
        },
        answered_by: &[],
        sent_by: &[EXPERT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
    kind!(
        "prior_notification",
        "Prior notification of a military activity",
        "Notifies an exercise or activity 42 days ahead, checked against the Vienna Document thresholds; observation may be required",
        Refs::AtMostOne("the entry it amends"),
        &["prior_notification", "annual_calendar"],
        PriorNotification,
        PriorNotification::example,
        |e, c, v| {
            typed::<PriorNotification>(e, v, |n, v| n.check(e.time, ruleset_of(c), v));
            participating_state(e, c, v);
        },
        answered_by: &["observation_invitation"],
        sent_by: &[EXPERT, ADMIN],
        follow_ups: &[theirs("briefing_request", "Request a briefing")],
        duties: crate::duties::prior_notification_duties
    ),
    kind!(
        "observation_invitation",
        "Invitation to observe",
        "Invites the other states to observe a notified activity; each must answer",
        Refs::One("the notification"),
        &["prior_notification"],
        ObservationInvitation,
        |_| json!({"observers_per_state": 2, "programme": "Arrival at Minsk on the first day; three days in the field."}),
        |e, _, v| typed::<ObservationInvitation>(e, v, |o, v| {
            v.check(
                (1..=2).contains(&o.observers_per_state),
                "observers_per_state",
                "the Vienna Document provides for up to two observers per state",
            );
        }),
        answered_by: &["reply"],
        sent_by: &[EXPERT, ADMIN],
        follow_ups: &[theirs("reply", "Answer the invitation")],
        duties: crate::duties::observation_invitation_duties
    ),
    kind!(
        "briefing_request",
        "Request for a briefing",
        "Asks for a briefing on an activity, report or notification",
        Refs::AtMostOne("the activity it is about"),
        &[],
        BriefingRequest,
        |_| json!({"subject": "ZAPAD", "questions": "Scenario, numbers and areas of each phase.", "to": "russia"}),
        |e, c, v| typed::<BriefingRequest>(e, v, |b, v| {
            v.check(
                !b.questions.trim().is_empty(),
                "questions",
                "say what the briefing should cover",
            );
            if let Some(to) = &b.to {
                check_to(to, &e.author, c, v);
            }
            v.check(
                b.to.is_some() || !e.refs.is_empty(),
                "to",
                "name who is asked, or reference the activity",
            );
        }),
        answered_by: &["briefing"],
        sent_by: &[EXPERT, ADMIN],
        follow_ups: &[theirs("briefing", "Give the briefing")],
        duties: crate::duties::briefing_request_duties
    ),
    kind!(
        "briefing",
        "Briefing",
        "The briefing that answers a request",
        Refs::One("the request for a briefing"),
        &["briefing_request"],
        Briefing,
        |_| json!({"text": {"en": "The exercise has three phases…"}}),
        |e, c, v| typed::<Briefing>(e, v, |b, v| b.check(c, v)),
        answered_by: &[],
        sent_by: &[EXPERT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
    kind!(
        "inspection_request",
        "Request for an inspection",
        "Chapter IX: asks to inspect a specified area where compliance is in doubt; within quota (3 a year, 1 from the same State) the State asked replies within 24 hours",
        Refs::AtMostOne("a related entry"),
        &[],
        InspectionRequest,
        InspectionRequest::example,
        |e, c, v| {
            typed::<InspectionRequest>(e, v, |r, v| r.check(&e.author, c, v));
            participating_state(e, c, v);
        },
        answered_by: &["verification_reply", "verification_report"],
        sent_by: &[EXPERT, ADMIN],
        follow_ups: &[theirs("verification_reply", "Accept or refuse"), own("verification_report", "Report the inspection")],
        duties: crate::duties::verification_request_duties,
        history: Some(crate::verification::check_in_history),
        reconsiders: crate::verification::RECONSIDERS
    ),
    kind!(
        "evaluation_visit_request",
        "Request for an evaluation visit",
        "Chapter IX: asks to visit a unit reported under Chapter I at its peacetime location, within the State's quota of one per 60 units (at most 15 a year)",
        Refs::AtMostOne("the Chapter I information it checks"),
        &["military_information"],
        EvaluationVisitRequest,
        EvaluationVisitRequest::example,
        |e, c, v| {
            typed::<EvaluationVisitRequest>(e, v, |r, v| r.check(e.time, &e.author, c, v));
            participating_state(e, c, v);
        },
        answered_by: &["verification_reply", "verification_report"],
        sent_by: &[EXPERT, ADMIN],
        follow_ups: &[theirs("verification_reply", "Accept or refuse"), own("verification_report", "Report the visit")],
        duties: crate::duties::verification_request_duties,
        history: Some(crate::verification::check_in_history),
        reconsiders: crate::verification::RECONSIDERS
    ),
    kind!(
        "verification_reply",
        "Reply to a request for verification",
        "Accepts a request for an inspection or evaluation visit, or refuses it (quota used, force majeure, other)",
        Refs::One("the request"),
        &["inspection_request", "evaluation_visit_request"],
        VerificationReply,
        VerificationReply::example,
        |e, _, v| typed::<VerificationReply>(e, v, |r, v| r.check(v)),
        answered_by: &[],
        sent_by: &[EXPERT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties,
        history: Some(crate::verification::check_in_history),
        reconsiders: crate::verification::RECONSIDERS
    ),
    kind!(
        "verification_report",
        "Report of an inspection or evaluation visit",
        "The requesting State's report, to every member, of an inspection or visit carried out",
        Refs::One("the request"),
        &["inspection_request", "evaluation_visit_request"],
        VerificationReport,
        VerificationReport::example,
        |e, c, v| typed::<VerificationReport>(e, v, |r, v| r.check(c, v)),
        answered_by: &[],
        sent_by: &[EXPERT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties,
        history: Some(crate::verification::check_in_history)
    ),
    kind!(
        "incident_report",
        "Incident report",
        "An air, sea or land encounter: time, position, units, what happened, what is asked",
        Refs::Any,
        &[],
        IncidentReport,
        IncidentReport::example,
        |e, c, v| typed::<IncidentReport>(e, v, |r, v| r.check(c, e.time, v)),
        answered_by: &["acknowledgement", "reply"],
        sent_by: &[DUTY, EXPERT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::incident_report_duties
    ),
    kind!(
        "dangerous_activity_notice",
        "Notice of a dangerous activity at sea",
        "An action on the high seas dangerous to navigation or to aircraft in flight (missile firing, gunnery): area and times, as a rule 3 to 5 days ahead (INCSEA Art. VI)",
        Refs::None,
        &[],
        DangerousActivityNotice,
        DangerousActivityNotice::example,
        |e, c, v| typed::<DangerousActivityNotice>(e, v, |n, v| n.check(c, e.time, v)),
        answered_by: &[],
        sent_by: &[DUTY, EXPERT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
    kind!(
        "clarification_request",
        "Request for clarification",
        "Asks the state where an unusual military activity takes place to explain it; the reply is due 48 hours after delivery",
        Refs::AtMostOne("a related entry"),
        &[],
        ClarificationRequest,
        ClarificationRequest::example,
        |e, c, v| typed::<ClarificationRequest>(e, v, |r, v| r.check(&e.author, c, v)),
        answered_by: &["clarification_reply"],
        sent_by: &[DUTY, EXPERT, ADMIN],
        follow_ups: &[theirs("clarification_reply", "Reply to this request")],
        duties: crate::duties::clarification_request_duties
    ),
    kind!(
        "clarification_reply",
        "Reply to a request for clarification",
        "Explains the activity a request asked about",
        Refs::One("the request for clarification"),
        &["clarification_request"],
        ClarificationReply,
        |_| json!({
            "text": {"en": "These are normal training activities of the forces of the district."},
            "answers": [
                {"question": 1, "answer": "A scheduled combat-readiness exercise."},
                {"question": 2, "answer": "Below the Vienna Document thresholds."},
                {"question": 3, "answer": "By the end of the month."}
            ]
        }),
        |e, c, v| typed::<ClarificationReply>(e, v, |r, v| r.check(c, v)),
        answered_by: &[],
        sent_by: &[DUTY, EXPERT, ADMIN],
        follow_ups: &[theirs("meeting_request", "Not satisfied: request a meeting")],
        duties: crate::duties::no_duties
    ),
    kind!(
        "meeting_request",
        "Request for a meeting",
        "After an unsatisfactory (or missing) reply, asks for a meeting convened within 48 hours",
        Refs::One("the reply, or the unanswered request"),
        &["clarification_reply", "clarification_request"],
        MeetingRequest,
        |_| json!({"to": "russia", "scope": "bilateral", "reason": "The reply does not answer the questions raised."}),
        |e, c, v| typed::<MeetingRequest>(e, v, |r, v| {
            check_to(&r.to, &e.author, c, v);
            v.check(
                !r.reason.trim().is_empty(),
                "reason",
                "say why the reply does not satisfy",
            );
        }),
        answered_by: &["meeting_invitation"],
        sent_by: &[DUTY, EXPERT, DIPLOMAT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::meeting_request_duties
    ),
    kind!(
        "meeting_invitation",
        "Meeting invitation",
        "Proposes dates, venue and level; each invitee must reply by the reply-by date",
        Refs::AtMostOne("the request it answers"),
        &[],
        MeetingInvitation,
        MeetingInvitation::example,
        |e, c, v| typed::<MeetingInvitation>(e, v, |m, v| m.check(&e.author, e.time, c, v)),
        answered_by: &["meeting_reply"],
        sent_by: &[DIPLOMAT, ADMIN],
        follow_ups: &[theirs("meeting_reply", "Reply to the invitation")],
        duties: crate::duties::meeting_invitation_duties
    ),
    kind!(
        "meeting_reply",
        "Reply to a meeting invitation",
        "Accepts, declines (with reason) or counter-proposes",
        Refs::One("the meeting invitation"),
        &["meeting_invitation"],
        MeetingReply,
        |_| json!({"response": "counter_proposal", "counter_dates": ["2027-01-13T10:00:00Z"], "note": "Military experts will attend."}),
        |e, _, v| typed::<MeetingReply>(e, v, |r, v| r.check(v)),
        answered_by: &[],
        sent_by: &[DIPLOMAT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
    kind!(
        "agenda_proposal",
        "Agenda proposal",
        "An ordered agenda for a meeting, each item with its sponsor",
        Refs::One("the meeting invitation"),
        &["meeting_invitation"],
        AgendaProposal,
        AgendaProposal::example,
        |e, c, v| typed::<AgendaProposal>(e, v, |a, v| a.check(c, v)),
        answered_by: &[],
        sent_by: &[DIPLOMAT, ADMIN],
        follow_ups: &[anyone("agenda_agreement", "Agree to this agenda")],
        duties: crate::duties::no_duties
    ),
    KindSpec {
        name: "agenda_agreement",
        title: "Agenda agreement",
        description: "Agrees to the agenda proposal it references; an agenda is agreed when every member has",
        refs: Refs::One("the agenda proposal"),
        ref_kinds: &["agenda_proposal"],
        answered_by: &[],
        sent_by: &[DIPLOMAT, ADMIN],
        follow_ups: &[],
        schema: empty_schema,
        example: |_| json!({}),
        check: |e, _, v| {
            typed::<serde_json::Map<String, Value>>(e, v, |m, v| {
                v.check(m.is_empty(), "body", "an agreement has an empty body");
            })
        },
        ..PLAIN
    },
    kind!(
        "meeting_record",
        "Meeting record",
        "Attendance, duration, each party's position per item, recorded differences, any joint statement; each member confirms or objects",
        Refs::One("the meeting invitation"),
        &["meeting_invitation"],
        MeetingRecord,
        MeetingRecord::example,
        |e, c, v| typed::<MeetingRecord>(e, v, |r, v| r.check(c, e.time, v)),
        answered_by: &["record_confirmation"],
        sent_by: &[DIPLOMAT, ADMIN],
        follow_ups: &[theirs("record_confirmation", "Confirm or object"), anyone("disclosure_consent", "Consent to disclose")],
        duties: crate::duties::meeting_record_duties
    ),
    kind!(
        "record_confirmation",
        "Confirmation of a record",
        "Confirms a meeting record, or objects to it",
        Refs::One("the meeting record"),
        &["meeting_record"],
        RecordConfirmation,
        |_| json!({"confirm": true}),
        |e, _, v| typed::<RecordConfirmation>(e, v, |r, v| r.check(v)),
        answered_by: &[],
        sent_by: &[DIPLOMAT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
    kind!(
        "disclosure_consent",
        "Consent to disclose",
        "Consents to make a meeting record public",
        Refs::One("the meeting record"),
        &["meeting_record"],
        DisclosureConsent,
        |_| json!({}),
        |e, _, v| typed::<DisclosureConsent>(e, v, |_, _| {}),
        answered_by: &[],
        sent_by: &[DIPLOMAT, ADMIN],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
    kind!(
        "draft_document",
        "Draft document",
        "A version of a negotiated text; a revision references its parent version",
        Refs::AtMostOne("the parent version"),
        &["draft_document"],
        DraftDocument,
        DraftDocument::example,
        |e, c, v| typed::<DraftDocument>(e, v, |d, v| d.check(c, v)),
        answered_by: &[],
        sent_by: &[DIPLOMAT, ADMIN],
        follow_ups: &[FollowUp { kind: "draft_signature", label: "Sign this version", whose: Whose::ToSign }, anyone("draft_document", "Revise")],
        duties: crate::duties::no_duties,
        history: Some(crate::negotiation::check_links)
    ),
    kind!(
        "draft_signature",
        "Signature on a draft",
        "Signs a draft version; signed by every named signatory it is a commitment",
        Refs::One("the draft version"),
        &["draft_document"],
        DraftSignature,
        |_| json!({"signed_by": "Permanent Representative"}),
        |e, _, v| typed::<DraftSignature>(e, v, |d, v| v.check(
            !d.signed_by.trim().is_empty(),
            "signed_by",
            "say who signs"
        )),
        answered_by: &[],
        sent_by: &[SIGNATORY],
        follow_ups: &[],
        duties: crate::duties::no_duties
    ),
];

/// Every kind, in a stable order.
pub fn all() -> &'static [KindSpec] {
    KINDS
}

pub fn get(name: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|k| k.name == name)
}

/// What the author's node checks against the history it holds (see
/// [`KindSpec`]'s `history`): empty for kinds that check none.
pub fn check_in_history(entry: &Entry, ledger: &Ledger) -> Vec<Violation> {
    get(&entry.kind)
        .and_then(|k| k.history)
        .map_or_else(Vec::new, |check| check(entry, ledger))
}

impl KindSpec {
    /// Whether sending one needs the history (see [`check_in_history`]).
    pub fn checks_history(&self) -> bool {
        self.history.is_some()
    }
}

/// Checks an entry against its kind and, when known, its channel: the
/// author is a member, the body fits the kind's schema and rules, the
/// references are what the kind needs. Returns every violation, not just
/// the first.
pub fn validate(entry: &Entry, channel: Option<&ChannelState>) -> Result<(), Vec<Violation>> {
    let Some(spec) = get(&entry.kind) else {
        return Err(vec![Violation::new(
            "kind",
            format!("unknown kind {:?}; `parley kinds` lists them", entry.kind),
        )]);
    };
    let mut v = Violations::default();
    if let Some(c) = channel {
        v.check(
            c.is_member(&entry.author),
            "author",
            format!("{:?} is not a member of channel {}", entry.author, c.id),
        );
        if let Err(violation) = check_feed_start(entry, &c.creator) {
            v.0.push(violation);
        }
    }
    match spec.refs {
        Refs::None => v.check(
            entry.refs.is_empty(),
            "refs",
            format!("a {} references nothing", spec.name),
        ),
        Refs::One(what) => v.check(
            entry.refs.len() == 1,
            "refs",
            format!("a {} references exactly one entry: {what}", spec.name),
        ),
        Refs::AtMostOne(what) => v.check(
            entry.refs.len() <= 1,
            "refs",
            format!("a {} references at most one entry: {what}", spec.name),
        ),
        Refs::Any => {}
    }
    (spec.check)(entry, channel, &mut v);
    v.into_result()
}
