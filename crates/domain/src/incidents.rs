//! Incidents and risk reduction: incident reports, requests for
//! clarification of unusual military activity (VD11 Chapter III), their
//! replies, and requests for a meeting when a reply does not satisfy.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::channel::ChannelState;
use crate::dates::Instant;
use crate::geo::{Area, Position};
use crate::hotline::check_texts;
use crate::violation::Violations;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IncidentDomain {
    Air,
    Sea,
    Land,
}

/// `incident_report`: a hazardous incident of a military nature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentReport {
    pub domain: IncidentDomain,
    /// When the incident happened.
    pub time: Instant,
    pub position: Position,
    /// Units, ships or aircraft involved.
    pub units: Vec<String>,
    pub description: BTreeMap<String, String>,
    /// What the reporting party asks the others to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_action: Option<String>,
    /// The encounter in figures (incidents at sea and in the air).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Encounter>,
}

/// What a unit in an encounter is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Craft {
    Ship,
    Submarine,
    Aircraft,
    Helicopter,
}

impl Craft {
    fn flies(self) -> bool {
        matches!(self, Craft::Aircraft | Craft::Helicopter)
    }
}

/// One ship or aircraft in an encounter, as observed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Track {
    /// Name or type and hull or tail number, e.g. "USS Donald Cook (DDG-75)".
    pub name: String,
    /// The party it belongs to.
    pub party: String,
    pub craft: Craft,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// True course in degrees (0–359).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_degrees: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_knots: Option<u16>,
    /// Altitude in metres (aircraft and helicopters only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub altitude_m: Option<u32>,
}

/// An encounter at sea or in the air, in figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Encounter {
    pub tracks: Vec<Track>,
    /// Closest point of approach, in metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closest_approach_m: Option<u32>,
    /// Signals used, e.g. International Code of Signals groups ("IR1").
    #[serde(default)]
    pub signals: Vec<String>,
    /// The articles of the channel's agreement the conduct is held to
    /// breach, e.g. "III.5" (see `parley rules`).
    #[serde(default)]
    pub articles: Vec<String>,
}

impl Encounter {
    fn check(&self, channel: Option<&ChannelState>, v: &mut Violations) {
        v.check(
            !self.tracks.is_empty(),
            "encounter.tracks",
            "give at least one ship or aircraft",
        );
        for (i, t) in self.tracks.iter().enumerate() {
            let f = |k: &str| format!("encounter.tracks.{i}.{k}");
            v.check(!t.name.trim().is_empty(), f("name"), "must not be empty");
            if let Some(c) = channel {
                v.check(
                    c.is_member(&t.party),
                    f("party"),
                    format!("{:?} is not a member of channel {}", t.party, c.id),
                );
            }
            if let Some(p) = &t.position {
                p.check(&f("position"), v);
            }
            v.check(
                t.course_degrees.is_none_or(|c| c < 360),
                f("course_degrees"),
                "a course is 0 to 359 degrees",
            );
            v.check(
                t.altitude_m.is_none() || t.craft.flies(),
                f("altitude_m"),
                "only an aircraft or helicopter has an altitude",
            );
        }
        v.check(
            self.closest_approach_m != Some(0),
            "encounter.closest_approach_m",
            "a closest approach of 0 m is a collision: say so in the description",
        );
        let agreement = channel.and_then(ChannelState::incidents_at_sea);
        for (i, a) in self.articles.iter().enumerate() {
            match (channel, agreement) {
                (Some(c), None) => v.push(
                    format!("encounter.articles.{i}"),
                    format!(
                        "channel {} follows no incidents-at-sea agreement (rules.incidents_at_sea) whose articles a report could cite",
                        c.id
                    ),
                ),
                (_, Some(ag)) => v.check(
                    ag.article(a).is_some(),
                    format!("encounter.articles.{i}"),
                    format!(
                        "{a:?} is not an article of {} ({})",
                        ag.title,
                        ag.articles
                            .iter()
                            .map(|x| x.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                (None, None) => {}
            }
        }
    }
}

impl IncidentReport {
    pub fn check(
        &self,
        channel: Option<&ChannelState>,
        sent: parley_log::Timestamp,
        v: &mut Violations,
    ) {
        self.position.check("position", v);
        v.check(!self.units.is_empty(), "units", "name the units involved");
        check_texts(&self.description, "description", channel, v);
        v.check(
            self.time.0 <= sent,
            "time",
            "an incident is reported after it happens",
        );
        if let Some(e) = &self.encounter {
            e.check(channel, v);
        }
    }

    pub fn example(now: parley_log::Timestamp) -> Value {
        json!({
            "domain": "air",
            "time": now.plus_seconds(-3600).to_string(),
            "position": {"longitude_e7": 198000000, "latitude_e7": 562000000},
            "units": ["Su-27 (two)", "RC-135 reconnaissance aircraft"],
            "description": {"en": "Intercept within 20 m over the Baltic Sea, no transponder."},
            "requested_action": "Explain the intercept and confirm the minimum distance in future"
        })
    }
}

/// `clarification_request`: a request for explanation of an unusual
/// military activity, to the state where it takes place. The reply is due
/// 48 hours after the request is delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClarificationRequest {
    /// The party asked (where the activity takes place).
    pub to: String,
    /// The causes of concern.
    pub concerns: BTreeMap<String, String>,
    /// The questions to answer (VD11 Chapter III: the reply answers the
    /// questions raised). Numbered from 1 in replies.
    pub questions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<Area>,
}

impl ClarificationRequest {
    pub fn check(&self, author: &str, channel: Option<&ChannelState>, v: &mut Violations) {
        check_to(&self.to, author, channel, v);
        check_texts(&self.concerns, "concerns", channel, v);
        v.check(
            !self.questions.is_empty(),
            "questions",
            "ask at least one question: the reply must answer the questions raised (VD11 Chapter III)",
        );
        for (i, q) in self.questions.iter().enumerate() {
            v.check(
                !q.trim().is_empty(),
                format!("questions[{i}]"),
                "must not be empty",
            );
        }
        if let Some(a) = &self.area {
            a.check("area", v);
        }
    }

    pub fn example(_now: parley_log::Timestamp) -> Value {
        json!({
            "to": "russia",
            "concerns": {"en": "Live-fire and tank exercises near the Ukrainian border; please explain their purpose and scale."},
            "questions": [
                "What is the purpose of the activity?",
                "How many troops and battle tanks take part?",
                "When will the forces return to their peacetime locations?"
            ],
            "activity_type": "concentration",
            "location": "Voronezh and Rostov regions"
        })
    }
}

/// `clarification_reply`: the answer to a clarification request (`refs[0]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClarificationReply {
    /// A covering text, in the channel's languages.
    pub text: BTreeMap<String, String>,
    /// Answers to the request's questions, by number (from 1).
    #[serde(default)]
    pub answers: Vec<QuestionAnswer>,
}

/// The answer to one question of a clarification request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionAnswer {
    /// The question's number in the request, from 1.
    pub question: u32,
    pub answer: String,
}

impl ClarificationReply {
    pub fn check(&self, channel: Option<&ChannelState>, v: &mut Violations) {
        check_texts(&self.text, "text", channel, v);
        for (i, a) in self.answers.iter().enumerate() {
            v.check(
                a.question >= 1,
                format!("answers[{i}].question"),
                "questions are numbered from 1",
            );
            v.check(
                !a.answer.trim().is_empty(),
                format!("answers[{i}].answer"),
                "must not be empty",
            );
        }
    }

    /// The question numbers this reply answers.
    pub fn answered(&self) -> Vec<u32> {
        self.answers.iter().map(|a| a.question).collect()
    }
}

/// `meeting_request`: after an unsatisfactory reply, a request to meet
/// (`refs[0]`: the reply, or the unanswered request), convened within 48 hours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingRequest {
    pub to: String,
    /// A bilateral meeting, or a meeting of all participating states.
    pub scope: MeetingScope,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeetingScope {
    Bilateral,
    AllStates,
}

/// The addressee must be another member of the channel.
pub fn check_to(to: &str, author: &str, channel: Option<&ChannelState>, v: &mut Violations) {
    v.check(to != author, "to", "address another member, not yourself");
    if let Some(c) = channel {
        v.check(
            c.is_member(to),
            "to",
            format!("{to:?} is not a member of channel {}", c.id),
        );
    }
}

/// `dangerous_activity_notice`: notice of an action on the high seas that
/// represents a danger to navigation or to aircraft in flight (INCSEA
/// Art. VI(1)), as a rule 3 to 5 days ahead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DangerousActivityNotice {
    /// What, e.g. "missile firing", "gunnery exercise".
    pub activity: String,
    pub area: Area,
    pub start: Instant,
    pub end: Instant,
    /// The broadcast warning it was also given by (NAVAREA, NOTAM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broadcast_warning: Option<String>,
    /// Why it comes later than the notice period, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

impl DangerousActivityNotice {
    pub fn check(
        &self,
        channel: Option<&ChannelState>,
        sent: parley_log::Timestamp,
        v: &mut Violations,
    ) {
        v.check(
            !self.activity.trim().is_empty(),
            "activity",
            "must not be empty",
        );
        self.area.check("area", v);
        v.check(
            self.end.0 > self.start.0,
            "end",
            "the activity ends after it starts",
        );
        let Some(ag) = channel.and_then(ChannelState::incidents_at_sea) else {
            if let Some(c) = channel {
                v.push(
                    "kind",
                    format!(
                        "channel {} follows no incidents-at-sea agreement (rules.incidents_at_sea)",
                        c.id
                    ),
                );
            }
            return;
        };
        let days = ag.notice_days.value;
        let ahead = (self.start.0.unix() - sent.unix()) / 86_400;
        if ahead < days
            && self
                .late_reason
                .as_ref()
                .is_none_or(|r| r.trim().is_empty())
        {
            v.push(
                "start",
                format!(
                    "notice {ahead} days ahead; as a rule at least {days} ({}): move the start to {} or later, or give the reason it is late",
                    ag.notice_days.cite(),
                    sent.plus_seconds(days * 86_400)
                ),
            );
        }
    }

    pub fn example(now: parley_log::Timestamp) -> Value {
        json!({
            "activity": "Surface-to-air missile firing",
            "area": Area::rectangle(19.0, 55.2, 20.4, 55.9),
            "start": now.plus_seconds(4 * 86_400).to_string(),
            "end": now.plus_seconds(4 * 86_400 + 8 * 3600).to_string(),
            "broadcast_warning": "NAVAREA I 123/27"
        })
    }
}
