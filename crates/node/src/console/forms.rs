//! A form for every kind of entry. Field names are JSON paths into the body
//! (`forces.troops`, `items.0.title`, `text.ru`), so each violation the
//! domain reports is shown beside its field, and what was typed is shown
//! again on an error.

use crate::console::i18n::{t, text, tf, tr};
use std::collections::BTreeMap;

use maud::{Markup, html};
use parley_domain::Violation;
use parley_domain::geo::E7;
use serde_json::{Map, Value, json};

/// How a field is entered.
pub enum Widget {
    Text,
    TextArea,
    Integer,
    Select(&'static [(&'static str, &'static str)]),
    Date,
    /// An instant, entered in UTC.
    DateTime,
    /// Several instants, one per line (`YYYY-MM-DD HH:MM`, UTC).
    DateTimes,
    /// Text in each of the channel's languages, side by side.
    Languages,
    /// One member of the channel (this party included).
    Member,
    /// Several members (checkboxes; this party included).
    Members,
    /// One other member: to whom it is addressed (never this party).
    Addressee,
    /// Several other members (checkboxes; never this party).
    Addressees,
    /// A list of strings, one per line.
    Lines,
    /// A polygon in degrees, one `longitude latitude` per line.
    Area,
    /// A point in degrees.
    Position,
    Bool,
    Group(&'static [Field]),
    /// A list of objects, one row each.
    Rows(&'static [Field]),
    /// Text per member (each party's stated position).
    PerMember,
}

pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub widget: Widget,
    pub optional: bool,
}

const fn f(key: &'static str, label: &'static str, help: &'static str, widget: Widget) -> Field {
    Field {
        key,
        label,
        help,
        widget,
        optional: false,
    }
}

const fn opt(key: &'static str, label: &'static str, help: &'static str, widget: Widget) -> Field {
    Field {
        key,
        label,
        help,
        widget,
        optional: true,
    }
}

const PRIORITY: &[(&str, &str)] = &[
    ("routine", "Routine"),
    ("priority", "Priority"),
    ("immediate", "Immediate"),
    ("flash", "FLASH"),
];
const ACTIVITY: &[(&str, &str)] = &[
    ("land_exercise", "Land forces exercise"),
    ("concentration", "Concentration"),
    ("amphibious_landing", "Amphibious landing"),
    ("heliborne_landing", "Heliborne landing"),
    ("parachute_assault", "Parachute assault"),
    ("transfer", "Transfer of forces"),
    ("air_activity", "Air activity"),
    ("naval_activity", "Naval activity"),
];
const LATE: &[(&str, &str)] = &[
    ("", "Not late"),
    (
        "alert",
        "Alert activity (snap exercise, no notice to the troops)",
    ),
    ("other", "Other reason"),
];
const DOMAIN: &[(&str, &str)] = &[("air", "Air"), ("sea", "Sea"), ("land", "Land")];
const SCOPE: &[(&str, &str)] = &[
    ("bilateral", "Bilateral meeting"),
    ("all_states", "Meeting of all participating states"),
];
const RESPONSE: &[(&str, &str)] = &[
    ("accept", "Accept"),
    ("decline", "Decline"),
    ("counter_proposal", "Counter-proposal"),
];
const CONFIRM: &[(&str, &str)] = &[
    ("true", "Confirm the record"),
    ("false", "Object to the record"),
];
const LEVEL: &[(&str, &str)] = &[
    ("ambassadors", "Ambassadors"),
    ("military_representatives", "Military representatives"),
    ("foreign_ministers", "Foreign ministers"),
    ("defence_ministers", "Defence ministers"),
    ("chiefs_of_general_staff", "Chiefs of general staff"),
    ("heads_of_state", "Heads of state"),
    ("experts", "Experts"),
];
const CHANNEL_LEVEL: &[(&str, &str)] = &[
    ("military", "Military"),
    ("political", "Political"),
    ("expert", "Expert"),
];

const MEANS: &[(&str, &str)] = &[
    ("ground", "By ground"),
    ("air", "By air"),
    ("ground_and_air", "By ground and air"),
];
const DECISION: &[(&str, &str)] = &[("accepted", "Accept"), ("refused", "Refuse")];
const GROUND: &[(&str, &str)] = &[
    ("", "Not refused"),
    ("quota_used", "Quota used up (not obliged to accept)"),
    ("force_majeure", "Force majeure (not counted)"),
    ("other", "Other reason"),
];

const UNIT: &[Field] = &[
    f("designation", "Designation", "", Widget::Text),
    f("location", "Peacetime location", "", Widget::Text),
    opt("subordinate_to", "Subordinate to", "", Widget::Text),
    opt("personnel", "Personnel", "", Widget::Integer),
];
const BUDGET: &[Field] = &[
    f("amount", "Amount", "", Widget::Integer),
    f("currency", "Currency", "ISO 4217, e.g. EUR", Widget::Text),
];

const CRAFT: &[(&str, &str)] = &[
    ("ship", "Ship"),
    ("submarine", "Submarine"),
    ("aircraft", "Aircraft"),
    ("helicopter", "Helicopter"),
];
const TRACK: &[Field] = &[
    f(
        "name",
        "Ship or aircraft",
        "Name or type, hull or tail number.",
        Widget::Text,
    ),
    f("party", "Party", "", Widget::Member),
    f("craft", "Kind", "", Widget::Select(CRAFT)),
    opt("position", "Position", "", Widget::Position),
    opt("course_degrees", "Course (°)", "", Widget::Integer),
    opt("speed_knots", "Speed (knots)", "", Widget::Integer),
    opt(
        "altitude_m",
        "Altitude (m)",
        "Aircraft and helicopters only.",
        Widget::Integer,
    ),
];
const ENCOUNTER: &[Field] = &[
    f(
        "tracks",
        "Ships and aircraft",
        "One row each.",
        Widget::Rows(TRACK),
    ),
    opt(
        "closest_approach_m",
        "Closest point of approach (m)",
        "",
        Widget::Integer,
    ),
    opt(
        "signals",
        "Signals used",
        "One per line, e.g. International Code of Signals groups.",
        Widget::Lines,
    ),
    opt(
        "articles",
        "Articles breached",
        "One per line, of the channel's incidents-at-sea agreement, e.g. III.5 (see `parley rules`).",
        Widget::Lines,
    ),
];

const LINK: &[Field] = &[
    f("entry", "Version", "channel/author/seq", Widget::Text),
    f("hash", "Its hash", "", Widget::Text),
];
const ARTICLE_STATE: &[(&str, &str)] = &[
    ("tabled", "Tabled"),
    ("bracketed", "Bracketed"),
    ("agreed_ad_referendum", "Agreed ad referendum"),
    ("rejected", "Rejected"),
];
const ARTICLE: &[Field] = &[
    f("article", "Article", "e.g. 4 or 4.2", Widget::Text),
    f("status", "Status", "", Widget::Select(ARTICLE_STATE)),
    opt("note", "Note", "", Widget::Text),
];

const FORCES: &[Field] = &[
    opt("troops", "Troops", "", Widget::Integer),
    opt("battle_tanks", "Battle tanks", "", Widget::Integer),
    opt(
        "armoured_combat_vehicles",
        "Armoured combat vehicles",
        "",
        Widget::Integer,
    ),
    opt(
        "artillery_pieces",
        "Artillery, mortars, MRL ≥ 100 mm",
        "",
        Widget::Integer,
    ),
    opt(
        "combat_aircraft_sorties",
        "Combat aircraft sorties",
        "",
        Widget::Integer,
    ),
    opt(
        "airborne_amphibious_troops",
        "Amphibious, heliborne, parachute troops",
        "",
        Widget::Integer,
    ),
];
const LATE_FIELDS: &[Field] = &[
    opt(
        "kind",
        "Late notification",
        "Only alert activities are exempt from the 42 days.",
        Widget::Select(LATE),
    ),
    opt("reason", "Reason it is late", "", Widget::TextArea),
];
const CAL_ACTIVITY: &[Field] = &[
    f("designation", "Designation", "", Widget::Text),
    f("activity_type", "Type", "", Widget::Select(ACTIVITY)),
    f("purpose", "Purpose", "", Widget::Text),
    f("start", "Start", "", Widget::Date),
    f("end", "End", "", Widget::Date),
    f("area_description", "Area", "", Widget::Text),
    opt("forces", "Numbers", "", Widget::Group(FORCES)),
];
const QUESTION_ANSWER: &[Field] = &[
    f("question", "Question number", "", Widget::Integer),
    f("answer", "Answer", "", Widget::TextArea),
];
const AGENDA_ITEM: &[Field] = &[
    f("title", "Item", "", Widget::Text),
    f("sponsor", "Sponsor", "", Widget::Member),
];
const ATTENDANCE: &[Field] = &[
    f("party", "Party", "", Widget::Member),
    f(
        "participants",
        "Participants",
        "One per line.",
        Widget::Lines,
    ),
];
const RECORD_ITEM: &[Field] = &[
    f("title", "Item", "", Widget::Text),
    f("positions", "Stated positions", "", Widget::PerMember),
];
const RULES: &[Field] = &[
    opt(
        "flash_ack_minutes",
        "Minutes to acknowledge a flash message",
        "",
        Widget::Integer,
    ),
    opt(
        "immediate_ack_minutes",
        "Minutes to acknowledge an immediate message",
        "",
        Widget::Integer,
    ),
    opt(
        "annual_calendar",
        "Members owe annual calendars (Vienna Document Chapter VII)",
        "",
        Widget::Bool,
    ),
    opt(
        "authentic_language",
        "Authentic language",
        "Every text is given in it; the others are translations (e.g. en).",
        Widget::Text,
    ),
    opt(
        "translations_required",
        "Every text in every language of the channel (a missing translation is marked)",
        "",
        Widget::Bool,
    ),
    opt(
        "incidents_at_sea",
        "Incidents-at-sea agreement followed",
        "e.g. incsea-1972@1 (see `parley rules`).",
        Widget::Text,
    ),
    opt(
        "annual_exchange",
        "Members owe the annual exchange of military information (Vienna Document Chapter I)",
        "",
        Widget::Bool,
    ),
];

/// The form of a kind.
pub fn spec(kind: &str) -> &'static [Field] {
    match kind {
        "hotline_message" => {
            const {
                &[
                    f(
                        "priority",
                        "Precedence",
                        "Flash and immediate messages must be acknowledged within the channel's limits.",
                        Widget::Select(PRIORITY),
                    ),
                    opt("subject", "Subject", "", Widget::Text),
                    f(
                        "text",
                        "Message",
                        "Write it in one or more of the channel's languages.",
                        Widget::Languages,
                    ),
                    opt(
                        "to",
                        "To",
                        "Leave empty for every other member.",
                        Widget::Addressees,
                    ),
                ]
            }
        }
        "acknowledgement" => {
            const {
                &[
                    opt(
                        "by",
                        "Acknowledged by",
                        "Your name or post, for the record.",
                        Widget::Text,
                    ),
                    opt("note", "Note", "", Widget::Text),
                ]
            }
        }
        "reply" | "briefing" => const { &[f("text", "Text", "", Widget::Languages)] },
        "clarification_reply" => {
            const {
                &[
                    f("text", "Text", "", Widget::Languages),
                    opt(
                        "answers",
                        "Answers",
                        "One row per question answered, by its number in the request.",
                        Widget::Rows(QUESTION_ANSWER),
                    ),
                ]
            }
        }
        "link_test" => const { &[f("text", "Test text", "", Widget::Text)] },
        "activity_forecast" => {
            const {
                &[
                    f(
                        "year",
                        "Year of the activities",
                        "Due by 15 November two years before (Vienna Document Chapter VIII).",
                        Widget::Integer,
                    ),
                    f(
                        "activities",
                        "Activities above 40,000 troops (or 900 tanks, 2,000 ACV, 900 artillery)",
                        "",
                        Widget::Rows(CAL_ACTIVITY),
                    ),
                ]
            }
        }
        "annual_calendar" => {
            const {
                &[
                    f(
                        "year",
                        "Year",
                        "The calendar is for next year; due by 15 November.",
                        Widget::Integer,
                    ),
                    opt(
                        "activities",
                        "Notifiable activities",
                        "Leave every row empty for a nil calendar.",
                        Widget::Rows(CAL_ACTIVITY),
                    ),
                ]
            }
        }
        "prior_notification" => {
            const {
                &[
                    f("designation", "Designation", "", Widget::Text),
                    f("purpose", "Purpose", "", Widget::Text),
                    f(
                        "activity_type",
                        "Type of activity",
                        "",
                        Widget::Select(ACTIVITY),
                    ),
                    f(
                        "participating_states",
                        "Participating states",
                        "One per line.",
                        Widget::Lines,
                    ),
                    f(
                        "command_level",
                        "Level of command",
                        "e.g. army, corps, division",
                        Widget::Text,
                    ),
                    f(
                        "start",
                        "Start",
                        "At least 42 days after today (Vienna Document Chapter V).",
                        Widget::Date,
                    ),
                    f("end", "End", "", Widget::Date),
                    f(
                        "area",
                        "Area",
                        "The corners of the area, one per line: longitude latitude in degrees, e.g. 26.0 52.0",
                        Widget::Area,
                    ),
                    opt("area_description", "Area description", "", Widget::Text),
                    f(
                        "forces",
                        "Numbers",
                        "Notifiable from 9,000 troops, 250 tanks, 500 ACV, 250 artillery or 3,000 airborne troops; observation from 13,000 troops.",
                        Widget::Group(FORCES),
                    ),
                    opt("late", "Late notification", "", Widget::Group(LATE_FIELDS)),
                    opt("remarks", "Remarks", "", Widget::TextArea),
                ]
            }
        }
        "military_information" => {
            const {
                &[
                    f(
                        "year",
                        "Valid as of 1 January of",
                        "Due by 15 December of the year before (Vienna Document Chapter I).",
                        Widget::Integer,
                    ),
                    opt(
                        "units",
                        "Formations and units",
                        "Leave every row empty for a nil report. The number of units sets the quota of evaluation visits (one per 60, at most 15).",
                        Widget::Rows(UNIT),
                    ),
                    opt("remarks", "Remarks", "", Widget::TextArea),
                ]
            }
        }
        "defence_planning" => {
            const {
                &[
                    f("year", "Fiscal year", "", Widget::Integer),
                    f(
                        "budget_approved",
                        "Budget approved on",
                        "Due two months after (Vienna Document Chapter II).",
                        Widget::Date,
                    ),
                    f(
                        "policy",
                        "Defence policy and force planning",
                        "",
                        Widget::Languages,
                    ),
                    f("budget", "Military budget", "", Widget::Group(BUDGET)),
                    opt(
                        "previous_expenditure",
                        "Expenditure of the previous year",
                        "",
                        Widget::Group(BUDGET),
                    ),
                ]
            }
        }
        "inspection_request" => {
            const {
                &[
                    f(
                        "to",
                        "State to inspect",
                        "It replies within 24 hours; no State accepts more than 3 a year, or 1 from the same State (Vienna Document Chapter IX).",
                        Widget::Addressee,
                    ),
                    f(
                        "reasons",
                        "Reasons",
                        "Why compliance is in doubt.",
                        Widget::TextArea,
                    ),
                    f(
                        "specified_area",
                        "Specified area",
                        "The corners, one per line: longitude latitude in degrees.",
                        Widget::Area,
                    ),
                    f("area_description", "Area description", "", Widget::Text),
                    f("point_of_entry", "Point of entry", "", Widget::Text),
                    f("transport", "Means of transport", "", Widget::Text),
                    f("means", "Inspection", "", Widget::Select(MEANS)),
                    f(
                        "inspectors",
                        "Inspectors",
                        "One per line, up to four.",
                        Widget::Lines,
                    ),
                    opt(
                        "auxiliary_personnel",
                        "Auxiliary personnel",
                        "",
                        Widget::Integer,
                    ),
                ]
            }
        }
        "evaluation_visit_request" => {
            const {
                &[
                    f(
                        "to",
                        "State to visit",
                        "Within its quota: one visit per 60 units it reported under Chapter I, at most 15 a year.",
                        Widget::Addressee,
                    ),
                    f(
                        "unit",
                        "Unit",
                        "Its designation as reported under Chapter I.",
                        Widget::Text,
                    ),
                    f("location", "Peacetime location", "", Widget::Text),
                    f(
                        "date",
                        "Date of the visit",
                        "At least five days ahead.",
                        Widget::Date,
                    ),
                    f("point_of_entry", "Point of entry", "", Widget::Text),
                    f("team", "Team", "One per line.", Widget::Lines),
                ]
            }
        }
        "dangerous_activity_notice" => {
            const {
                &[
                    f(
                        "activity",
                        "Activity",
                        "e.g. missile firing, gunnery exercise",
                        Widget::Text,
                    ),
                    f(
                        "area",
                        "Area",
                        "The corners, one per line: longitude latitude in degrees.",
                        Widget::Area,
                    ),
                    f(
                        "start",
                        "Start (UTC)",
                        "As a rule at least 3 days ahead (INCSEA Art. VI).",
                        Widget::DateTime,
                    ),
                    f("end", "End (UTC)", "", Widget::DateTime),
                    opt(
                        "broadcast_warning",
                        "Broadcast warning",
                        "The NAVAREA warning or NOTAM that also gives it.",
                        Widget::Text,
                    ),
                    opt("late_reason", "Why it is late", "", Widget::TextArea),
                ]
            }
        }
        "verification_reply" => {
            const {
                &[
                    f("decision", "Decision", "", Widget::Select(DECISION)),
                    opt("ground", "Ground for refusal", "", Widget::Select(GROUND)),
                    opt("explanation", "Explanation", "", Widget::TextArea),
                    opt(
                        "arrival",
                        "Team received at the point of entry (UTC)",
                        "For an inspection, within 36 hours of the request.",
                        Widget::DateTime,
                    ),
                    opt("escort", "Escort", "", Widget::Text),
                ]
            }
        }
        "verification_report" => {
            const {
                &[
                    f("arrived", "Team arrived (UTC)", "", Widget::DateTime),
                    f("ended", "Ended (UTC)", "", Widget::DateTime),
                    f("findings", "Findings", "", Widget::Languages),
                ]
            }
        }
        "observation_invitation" => {
            const {
                &[
                    f(
                        "observers_per_state",
                        "Observers per state",
                        "Up to two.",
                        Widget::Integer,
                    ),
                    f("programme", "Programme", "", Widget::TextArea),
                    opt("reply_by", "Reply by (UTC)", "", Widget::DateTime),
                ]
            }
        }
        "briefing_request" => {
            const {
                &[
                    f("subject", "Subject", "", Widget::Text),
                    f("questions", "Questions", "", Widget::TextArea),
                    opt(
                        "to",
                        "Asked of",
                        "By default the author of the activity referenced.",
                        Widget::Addressee,
                    ),
                ]
            }
        }
        "incident_report" => {
            const {
                &[
                    f("domain", "Domain", "", Widget::Select(DOMAIN)),
                    f("time", "When (UTC)", "", Widget::DateTime),
                    f("position", "Position", "", Widget::Position),
                    f("units", "Units involved", "One per line.", Widget::Lines),
                    f("description", "What happened", "", Widget::Languages),
                    opt("requested_action", "Requested action", "", Widget::Text),
                    opt(
                        "encounter",
                        "The encounter in figures",
                        "At sea or in the air: who, where, how close, signals, the articles breached.",
                        Widget::Group(ENCOUNTER),
                    ),
                ]
            }
        }
        "clarification_request" => {
            const {
                &[
                    f(
                        "to",
                        "Asked of",
                        "The state where the activity takes place. The reply is due 48 hours after delivery.",
                        Widget::Addressee,
                    ),
                    f("concerns", "Causes of concern", "", Widget::Languages),
                    f(
                        "questions",
                        "Questions",
                        "One per line. The reply must answer each (VD11 Chapter III); unanswered ones stay visible.",
                        Widget::Lines,
                    ),
                    opt("activity_type", "Type of activity", "", Widget::Text),
                    opt("location", "Location", "", Widget::Text),
                ]
            }
        }
        "meeting_request" => {
            const {
                &[
                    f(
                        "to",
                        "Asked of",
                        "The meeting is to be convened within 48 hours.",
                        Widget::Addressee,
                    ),
                    f("scope", "Meeting", "", Widget::Select(SCOPE)),
                    f(
                        "reason",
                        "Why the reply does not satisfy",
                        "",
                        Widget::TextArea,
                    ),
                ]
            }
        }
        "meeting_invitation" => {
            const {
                &[
                    f("title", "Title", "", Widget::Text),
                    f(
                        "proposed_dates",
                        "Proposed dates (UTC)",
                        "One per line: YYYY-MM-DD HH:MM",
                        Widget::DateTimes,
                    ),
                    f("venue", "Venue", "", Widget::Text),
                    f("level", "Level", "", Widget::Select(LEVEL)),
                    opt(
                        "required_roles",
                        "Participants asked for",
                        "One per line, e.g. military experts.",
                        Widget::Lines,
                    ),
                    opt("reply_by", "Reply by (UTC)", "", Widget::DateTime),
                    opt(
                        "to",
                        "Invitees",
                        "Leave empty for every other member.",
                        Widget::Addressees,
                    ),
                    opt(
                        "review_of",
                        "Review of an agreement",
                        "For the annual review of the channel's incidents-at-sea agreement: its name, e.g. incsea-1972@1.",
                        Widget::Text,
                    ),
                ]
            }
        }
        "meeting_reply" => {
            const {
                &[
                    f("response", "Response", "", Widget::Select(RESPONSE)),
                    opt(
                        "reason",
                        "Reason (required to decline)",
                        "",
                        Widget::TextArea,
                    ),
                    opt(
                        "counter_dates",
                        "Counter-proposed dates (UTC)",
                        "One per line: YYYY-MM-DD HH:MM",
                        Widget::DateTimes,
                    ),
                    opt("counter_venue", "Counter-proposed venue", "", Widget::Text),
                    opt("note", "Note", "", Widget::TextArea),
                ]
            }
        }
        "agenda_proposal" => {
            const {
                &[f(
                    "items",
                    "Agenda, in order",
                    "",
                    Widget::Rows(AGENDA_ITEM),
                )]
            }
        }
        "agenda_agreement" | "disclosure_consent" | "channel_acceptance" => const { &[] },
        "meeting_record" => {
            const {
                &[
                    f("title", "Title", "", Widget::Text),
                    f("start", "Started (UTC)", "", Widget::DateTime),
                    f("end", "Ended (UTC)", "", Widget::DateTime),
                    f("attendance", "Attendance", "", Widget::Rows(ATTENDANCE)),
                    f(
                        "items",
                        "Items and positions",
                        "",
                        Widget::Rows(RECORD_ITEM),
                    ),
                    opt(
                        "differences",
                        "Recorded differences",
                        "One per line.",
                        Widget::Lines,
                    ),
                    opt("joint_statement", "Joint statement", "", Widget::TextArea),
                    opt(
                        "embargo_until",
                        "Public from (UTC), unless every member consents earlier",
                        "",
                        Widget::DateTime,
                    ),
                ]
            }
        }
        "record_confirmation" => {
            const {
                &[
                    f("confirm", "Decision", "", Widget::Select(CONFIRM)),
                    opt("objections", "Objections", "One per line.", Widget::Lines),
                ]
            }
        }
        "draft_document" => {
            const {
                &[
                    f(
                        "document",
                        "Document",
                        "A short identifier shared by every version, e.g. hotline-testing.",
                        Widget::Text,
                    ),
                    f("title", "Title", "", Widget::Text),
                    f("version", "Version", "e.g. v2", Widget::Text),
                    f("text", "Text", "", Widget::Languages),
                    f(
                        "signatories",
                        "Signatories",
                        "Whose signatures make this version a commitment.",
                        Widget::Members,
                    ),
                    opt(
                        "negotiation",
                        "Negotiation",
                        "When the same text is negotiated in several channels: one identifier for all of them, e.g. security-guarantees-2021.",
                        Widget::Text,
                    ),
                    opt(
                        "links",
                        "Versions in other tracks",
                        "The version this one continues or answers in another channel: its id and its hash (on its page).",
                        Widget::Rows(LINK),
                    ),
                    opt(
                        "articles",
                        "Status of each article",
                        "",
                        Widget::Rows(ARTICLE),
                    ),
                ]
            }
        }
        "draft_signature" => {
            const {
                &[f(
                    "signed_by",
                    "Signed by",
                    "The name or office signing.",
                    Widget::Text,
                )]
            }
        }
        "channel_suspension" | "channel_resumption" => {
            const { &[f("reason", "Reason", "", Widget::TextArea)] }
        }
        "channel_charter" => {
            const {
                &[
                    opt("title", "Title", "", Widget::Text),
                    f(
                        "members",
                        "Members",
                        "This party and the pinned peers who are members.",
                        Widget::Members,
                    ),
                    opt(
                        "witnesses",
                        "Witnesses",
                        "Neutral parties: they see checkpoints, never content.",
                        Widget::Members,
                    ),
                    f("level", "Level", "", Widget::Select(CHANNEL_LEVEL)),
                    f(
                        "languages",
                        "Languages",
                        "Two-letter codes, one per line.",
                        Widget::Lines,
                    ),
                    opt("rules", "Rules", "", Widget::Group(RULES)),
                ]
            }
        }
        _ => const { &[] },
    }
}

/// Submitted values by field name (several for checkboxes).
pub type Values = BTreeMap<String, Vec<String>>;

fn one<'a>(v: &'a Values, name: &str) -> &'a str {
    v.get(name)
        .and_then(|x| x.first())
        .map_or("", String::as_str)
}

/// The choices for member pickers: `(value, label)`.
pub struct Choices<'a> {
    /// Every member of the channel (or every party, for a charter).
    pub parties: &'a [String],
    /// This party: never offered as an addressee.
    pub me: &'a str,
    /// The channel's languages.
    pub languages: &'a [String],
}

impl Choices<'_> {
    /// The parties a member picker offers: addressees never include us.
    fn offered(&self, w: &Widget) -> impl Iterator<Item = &String> {
        let others_only = matches!(w, Widget::Addressee | Widget::Addressees);
        self.parties
            .iter()
            .filter(move |p| !(others_only && p.as_str() == self.me))
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn rows_in(v: &Values, prefix: &str) -> usize {
    let pre = format!("{prefix}.");
    v.keys()
        .filter_map(|k| {
            k.strip_prefix(&pre)?
                .split('.')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .map(|i| i + 1)
        .max()
        .unwrap_or(0)
}

/// Renders the fields of a form with the values given and the errors
/// (by normalized path) beside their fields.
pub fn render(
    fields: &[Field],
    prefix: &str,
    v: &Values,
    errors: &BTreeMap<String, Vec<String>>,
    c: &Choices<'_>,
) -> Markup {
    html! {
        @for field in fields {
            @let name = join(prefix, field.key);
            @let errs = errors.get(&name).cloned().unwrap_or_default();
            @let id = name.replace('.', "-");
            div.field.invalid[!errs.is_empty()] {
                @match &field.widget {
                    Widget::Group(sub) => {
                        fieldset { legend { (text(field.label)) } @if !field.help.is_empty() { p.help { (text(field.help)) } }
                            div.numbers { (render(sub, &name, v, errors, c)) } }
                    }
                    Widget::Rows(sub) => {
                        fieldset { legend { (text(field.label)) } @if !field.help.is_empty() { p.help { (text(field.help)) } }
                            @for i in 0..(rows_in(v, &name) + 2).max(3) {
                                fieldset { legend { "#" (i + 1) } (render(sub, &format!("{name}.{i}"), v, errors, c)) }
                            }
                        }
                    }
                    _ => {
                        label for=(id) { (text(field.label)) @if field.optional { " " span.muted { (t!("(optional)")) } } }
                        @if !field.help.is_empty() { p.help { (text(field.help)) } }
                        (input(field, &name, &id, v, c))
                    }
                }
                @for e in &errs { div.error { (tr(e)) } }
            }
        }
    }
}

fn input(field: &Field, name: &str, id: &str, v: &Values, c: &Choices<'_>) -> Markup {
    let val = one(v, name);
    match &field.widget {
        Widget::Text => html! { input type="text" id=(id) name=(name) value=(val); },
        Widget::TextArea => html! { textarea id=(id) name=(name) { (val) } },
        Widget::Integer => {
            html! { input type="number" min="0" step="1" id=(id) name=(name) value=(val); }
        }
        Widget::Select(opts) => html! {
            select id=(id) name=(name) { @for (value, label) in *opts { option value=(value) selected[*value == val] { (text(label)) } } }
        },
        // The browser's own pickers: they may show the date in the
        // browser's locale, but they send ISO (YYYY-MM-DD, YYYY-MM-DDTHH:MM),
        // and every time here is read as UTC, as the labels say.
        Widget::Date => {
            html! { input type="date" id=(id) name=(name) value=(val); }
        }
        Widget::DateTime => {
            let local = val.trim_end_matches('Z');
            let local = local.get(..16).unwrap_or(local);
            html! { input type="datetime-local" id=(id) name=(name) value=(local); span.help { (t!("UTC")) } }
        }
        Widget::DateTimes | Widget::Lines | Widget::Area => {
            html! { textarea id=(id) name=(name) { (val) } }
        }
        Widget::Languages => html! {
            div.side-by-side {
                @for lang in c.languages {
                    @let n = format!("{name}.{lang}");
                    div { label for=(n.replace('.', "-")) { (lang.to_uppercase()) } textarea id=(n.replace('.', "-")) name=(n) lang=(lang) { (one(v, &n)) } }
                }
            }
        },
        Widget::PerMember => html! {
            div.side-by-side {
                @for p in c.parties {
                    @let n = format!("{name}.{p}");
                    div { label for=(n.replace('.', "-")) { (p) } textarea id=(n.replace('.', "-")) name=(n) { (one(v, &n)) } }
                }
            }
        },
        Widget::Member | Widget::Addressee => html! {
            select id=(id) name=(name) {
                @if field.optional { option value="" { "—" } }
                @for p in c.offered(&field.widget) { option value=(p) selected[p == val] { (p) } }
            }
        },
        Widget::Members | Widget::Addressees => {
            let chosen = v.get(name).cloned().unwrap_or_default();
            html! { @for p in c.offered(&field.widget) { label.muted { input type="checkbox" name=(name) value=(p) checked[chosen.contains(p)]; " " (p) } " " } }
        }
        Widget::Position => {
            let (lo, la) = (format!("{name}.longitude"), format!("{name}.latitude"));
            html! {
                div.side-by-side {
                    div { label for=(lo.replace('.', "-")) { (t!("Longitude (degrees, east positive)")) } input type="text" id=(lo.replace('.', "-")) name=(lo) value=(one(v, &lo)); }
                    div { label for=(la.replace('.', "-")) { (t!("Latitude (degrees, north positive)")) } input type="text" id=(la.replace('.', "-")) name=(la) value=(one(v, &la)); }
                }
            }
        }
        Widget::Bool => {
            html! { input type="checkbox" id=(id) name=(name) value="true" checked[val == "true"]; }
        }
        Widget::Group(_) | Widget::Rows(_) => html! {},
    }
}

/// Builds the body from the submitted values. Values that cannot even be
/// read (a word in a number field) come back as violations.
pub fn to_body(
    fields: &[Field],
    prefix: &str,
    v: &Values,
    c: &Choices<'_>,
    errs: &mut Vec<Violation>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for field in fields {
        let name = join(prefix, field.key);
        let raw = one(v, &name).trim();
        let value: Option<Value> = match &field.widget {
            Widget::Text
            | Widget::TextArea
            | Widget::Select(_)
            | Widget::Member
            | Widget::Addressee => (!raw.is_empty()).then(|| json!(raw)),
            Widget::Date => (!raw.is_empty()).then(|| json!(raw)),
            Widget::Integer => {
                if raw.is_empty() {
                    None
                } else {
                    match raw.replace([',', ' '], "").parse::<u64>() {
                        Ok(n) => Some(json!(n)),
                        Err(_) => {
                            errs.push(Violation::new(name.clone(), t!("must be a whole number")));
                            None
                        }
                    }
                }
            }
            Widget::DateTime => match utc(raw) {
                _ if raw.is_empty() => None,
                Ok(t) => Some(json!(t)),
                Err(e) => {
                    errs.push(Violation::new(name.clone(), e));
                    None
                }
            },
            Widget::DateTimes => {
                let mut list: Vec<Value> = Vec::new();
                let lines = raw.lines().map(str::trim).filter(|l| !l.is_empty());
                for (i, l) in lines.enumerate() {
                    match utc(l) {
                        Ok(t) => list.push(json!(t)),
                        Err(e) => errs.push(Violation::new(
                            name.clone(),
                            tf("line {line}: {why}", &[("line", &(i + 1)), ("why", &e)]),
                        )),
                    }
                }
                (!list.is_empty()).then(|| json!(list))
            }
            Widget::Lines => {
                let list: Vec<Value> = raw
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| json!(l))
                    .collect();
                (!list.is_empty()).then(|| json!(list))
            }
            Widget::Languages => {
                let m: Map<String, Value> = c
                    .languages
                    .iter()
                    .filter_map(|l| {
                        let t = one(v, &format!("{name}.{l}")).trim();
                        (!t.is_empty()).then(|| (l.clone(), json!(t)))
                    })
                    .collect();
                (!m.is_empty() || !field.optional).then_some(Value::Object(m))
            }
            Widget::PerMember => {
                let m: Map<String, Value> = c
                    .parties
                    .iter()
                    .filter_map(|p| {
                        let t = one(v, &format!("{name}.{p}")).trim();
                        (!t.is_empty()).then(|| (p.clone(), json!(t)))
                    })
                    .collect();
                Some(Value::Object(m))
            }
            Widget::Members | Widget::Addressees => {
                let list = v.get(&name).cloned().unwrap_or_default();
                (!list.is_empty() || !field.optional).then(|| json!(list))
            }
            Widget::Bool => Some(json!(raw == "true")),
            Widget::Area => {
                if raw.is_empty() {
                    None
                } else {
                    match area(raw) {
                        Ok(a) => Some(a),
                        Err(e) => {
                            errs.push(Violation::new(name.clone(), e));
                            None
                        }
                    }
                }
            }
            Widget::Position => {
                let (lo, la) = (
                    one(v, &format!("{name}.longitude")).trim(),
                    one(v, &format!("{name}.latitude")).trim(),
                );
                match (degrees(lo), degrees(la)) {
                    (Some(lo), Some(la)) => Some(json!({"longitude_e7": lo, "latitude_e7": la})),
                    _ if lo.is_empty() && la.is_empty() => None,
                    _ => {
                        errs.push(Violation::new(
                            name.clone(),
                            t!(
                                "give longitude and latitude in decimal degrees, e.g. 19.8 and 56.2"
                            ),
                        ));
                        None
                    }
                }
            }
            Widget::Group(sub) => {
                let m = to_body(sub, &name, v, c, errs);
                (!m.is_empty()).then_some(Value::Object(m))
            }
            Widget::Rows(sub) => {
                let rows: Vec<Value> = (0..rows_in(v, &name))
                    .map(|i| to_body(sub, &format!("{name}.{i}"), v, c, errs))
                    .filter(|m| !m.is_empty())
                    .map(Value::Object)
                    .collect();
                (!rows.is_empty() || !field.optional).then(|| json!(rows))
            }
        };
        if let Some(x) = value {
            out.insert(field.key.to_string(), x);
        }
    }
    // A late notice without a kind means "not late".
    if out.get("late").and_then(|l| l.get("kind")).is_none() {
        out.remove("late");
    }
    if out
        .get("confirm")
        .is_some_and(|c| c == "true" || c == "false")
    {
        let b = out["confirm"] == "true";
        out.insert("confirm".into(), json!(b));
    }
    out
}

/// What the form asks for (`2026-11-22 14:00`), what a datetime-local
/// input sends (`2026-11-22T14:00`), with or without seconds and `Z`, all
/// read as UTC → RFC 3339; anything else is refused in the form's own words.
fn utc(s: &str) -> Result<String, String> {
    let t = s.trim().replacen(' ', "T", 1);
    let t = t.strip_suffix('Z').unwrap_or(&t);
    let full = match t.len() {
        16 => format!("{t}:00Z"),
        19 => format!("{t}Z"),
        _ => String::new(),
    };
    parley_log::Timestamp::parse(&full)
        .map(|ts| ts.to_string())
        .map_err(|_| {
            tf(
                "{value} is not a date and time: write YYYY-MM-DD HH:MM (UTC), e.g. 2026-12-05 14:00",
                &[("value", &format!("{s:?}"))],
            )
        })
}

fn degrees(s: &str) -> Option<i64> {
    let d: f64 = s.parse().ok()?;
    d.is_finite().then(|| (d * E7).round() as i64)
}

/// Lines of `longitude latitude` in degrees → a closed GeoJSON polygon.
fn area(raw: &str) -> Result<Value, String> {
    let mut ring: Vec<[i64; 2]> = Vec::new();
    for (i, line) in raw
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let parts: Vec<&str> = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .collect();
        match parts[..] {
            [lo, la] => match (degrees(lo), degrees(la)) {
                (Some(lo), Some(la)) => ring.push([lo, la]),
                _ => {
                    return Err(tf(
                        "line {line}: give longitude and latitude in degrees, e.g. 26.0 52.0",
                        &[("line", &(i + 1))],
                    ));
                }
            },
            _ => {
                return Err(tf(
                    "line {line}: give longitude and latitude in degrees, e.g. 26.0 52.0",
                    &[("line", &(i + 1))],
                ));
            }
        }
    }
    if ring.len() >= 3 && ring.first() != ring.last() {
        ring.push(ring[0]);
    }
    Ok(json!({"type": "Polygon", "coordinates": [ring]}))
}

/// The form values that show an existing body (to revise a draft).
pub fn from_body(fields: &[Field], prefix: &str, body: &Value, out: &mut Values) {
    for field in fields {
        let name = join(prefix, field.key);
        let Some(x) = body.get(field.key) else {
            continue;
        };
        match &field.widget {
            Widget::Languages | Widget::PerMember => {
                for (k, t) in x.as_object().into_iter().flatten() {
                    out.insert(
                        format!("{name}.{k}"),
                        vec![t.as_str().unwrap_or("").to_string()],
                    );
                }
            }
            Widget::Members | Widget::Addressees => {
                out.insert(
                    name,
                    x.as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                );
            }
            Widget::Lines | Widget::DateTimes => {
                let lines: Vec<&str> = x
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                out.insert(name, vec![lines.join("\n")]);
            }
            Widget::Group(sub) => from_body(sub, &name, x, out),
            Widget::Rows(sub) => {
                for (i, row) in x.as_array().into_iter().flatten().enumerate() {
                    from_body(sub, &format!("{name}.{i}"), row, out);
                }
            }
            _ => {
                let s = match x {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.insert(name, vec![s]);
            }
        }
    }
}

/// The form field a violation belongs to: `items[0].sponsor` →
/// `items.0.sponsor`; a deeper path (inside an area) goes to the field
/// that holds it.
pub fn field_of(fields: &[Field], violation: &str) -> Option<String> {
    let norm = violation
        .replace('[', ".")
        .replace(']', "")
        .replace("..", ".");
    let mut names = Vec::new();
    collect_names(fields, "", &mut names);
    names
        .into_iter()
        .filter(|n| norm == *n || norm.starts_with(&format!("{n}.")))
        .max_by_key(String::len)
}

fn collect_names(fields: &[Field], prefix: &str, out: &mut Vec<String>) {
    for field in fields {
        let name = join(prefix, field.key);
        match &field.widget {
            Widget::Group(sub) => collect_names(sub, &name, out),
            Widget::Rows(sub) => {
                for i in 0..50 {
                    collect_names(sub, &format!("{name}.{i}"), out);
                }
            }
            _ => {}
        }
        out.push(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_form() {
        for k in parley_domain::kinds::all() {
            let s = spec(k.name);
            let empty = matches!(
                k.name,
                "agenda_agreement" | "disclosure_consent" | "channel_acceptance"
            );
            assert_eq!(s.is_empty(), empty, "{}", k.name);
        }
    }

    #[test]
    fn violations_find_their_fields() {
        let s = spec("prior_notification");
        assert_eq!(
            field_of(s, "forces.troops").as_deref(),
            Some("forces.troops")
        );
        assert_eq!(
            field_of(s, "area.coordinates[0][1][1]").as_deref(),
            Some("area")
        );
        assert_eq!(field_of(s, "start").as_deref(), Some("start"));
        assert_eq!(
            field_of(spec("hotline_message"), "text.fr").as_deref(),
            Some("text")
        );
        assert_eq!(
            field_of(spec("agenda_proposal"), "items[1].sponsor").as_deref(),
            Some("items.1.sponsor")
        );
    }

    #[test]
    fn forms_build_bodies() {
        let c = Choices {
            parties: &["nato".into(), "russia".into()],
            me: "nato",
            languages: &["en".into(), "ru".into()],
        };
        let mut v = Values::new();
        for (k, x) in [
            ("designation", "ZAPAD"),
            ("area", "26 52\n31 52\n31 55.5\n26 55.5"),
            ("forces.troops", "12,700"),
            ("start", "2027-01-20"),
        ] {
            v.insert(k.into(), vec![x.into()]);
        }
        let mut errs = vec![];
        let b = to_body(spec("prior_notification"), "", &v, &c, &mut errs);
        assert!(errs.is_empty());
        assert_eq!(b["forces"]["troops"], 12700);
        assert_eq!(
            b["area"]["coordinates"][0].as_array().unwrap().len(),
            5,
            "closed"
        );
        assert_eq!(b["area"]["coordinates"][0][2][1], 555_000_000);
        v.insert("forces.troops".into(), vec!["many".into()]);
        to_body(spec("prior_notification"), "", &v, &c, &mut errs);
        assert_eq!(errs[0].field, "forces.troops");
    }
}
