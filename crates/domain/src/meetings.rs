//! Meetings: invitations and replies, agenda proposals and agreements,
//! records with each party's positions and recorded differences, their
//! confirmation, and consent to disclose them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::channel::ChannelState;
use crate::dates::Instant;
use crate::violation::Violations;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeetingLevel {
    Ambassadors,
    MilitaryRepresentatives,
    ForeignMinisters,
    DefenceMinisters,
    ChiefsOfGeneralStaff,
    HeadsOfState,
    Experts,
}

/// `meeting_invitation`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingInvitation {
    pub title: String,
    pub proposed_dates: Vec<Instant>,
    pub venue: String,
    pub level: MeetingLevel,
    /// Participants the invitation asks for, e.g. "military experts".
    #[serde(default)]
    pub required_roles: Vec<String>,
    /// The reply is due by then (else the charter's invitation_reply_days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_by: Option<Instant>,
    /// Invitees among the members; empty means every other member.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// The agreement whose periodic review this meeting is (the channel's
    /// `incidents_at_sea`, e.g. `incsea-1972@1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_of: Option<String>,
}

impl MeetingInvitation {
    pub fn check(
        &self,
        author: &str,
        sent: parley_log::Timestamp,
        channel: Option<&ChannelState>,
        v: &mut Violations,
    ) {
        v.check(!self.title.trim().is_empty(), "title", "must not be empty");
        v.check(!self.venue.trim().is_empty(), "venue", "must not be empty");
        if let (Some(r), Some(c)) = (&self.review_of, channel) {
            v.check(
                c.charter.rules.incidents_at_sea.as_deref() == Some(r.as_str()),
                "review_of",
                format!(
                    "channel {} does not follow {r:?} (rules.incidents_at_sea is {:?})",
                    c.id,
                    c.charter
                        .rules
                        .incidents_at_sea
                        .as_deref()
                        .unwrap_or("none")
                ),
            );
        }
        v.check(
            !self.proposed_dates.is_empty(),
            "proposed_dates",
            "propose at least one date",
        );
        for (i, d) in self.proposed_dates.iter().enumerate() {
            v.check(
                d.0 > sent,
                format!("proposed_dates[{i}]"),
                "a proposed date must be in the future",
            );
        }
        if let Some(r) = self.reply_by {
            v.check(
                r.0 > sent,
                "reply_by",
                "the reply-by date must be in the future",
            );
        }
        for (i, to) in self.to.iter().enumerate() {
            v.check(to != author, format!("to[{i}]"), "do not invite yourself");
            if let Some(c) = channel {
                v.check(
                    c.is_member(to),
                    format!("to[{i}]"),
                    format!("{to:?} is not a member of channel {}", c.id),
                );
            }
        }
    }

    pub fn example(now: parley_log::Timestamp) -> Value {
        let day = crate::dates::Date::of(now).plus_days(30).start();
        json!({
            "title": "NATO-Russia Council",
            "proposed_dates": [day.plus_seconds(9 * 3600).to_string()],
            "venue": "NATO Headquarters, Brussels",
            "level": "ambassadors",
            "required_roles": ["military experts"],
            "reply_by": crate::dates::Date::of(now).plus_days(14).start().plus_seconds(17 * 3600).to_string()
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Accept,
    Decline,
    CounterProposal,
}

/// `meeting_reply` to an invitation (`refs[0]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingReply {
    pub response: Response,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counter_dates: Vec<Instant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter_venue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl MeetingReply {
    pub fn check(&self, v: &mut Violations) {
        match self.response {
            Response::Decline => v.check(
                self.reason.as_ref().is_some_and(|r| !r.trim().is_empty()),
                "reason",
                "a decline must give its reason",
            ),
            Response::CounterProposal => v.check(
                !self.counter_dates.is_empty() || self.counter_venue.is_some(),
                "counter_dates",
                "a counter-proposal proposes other dates or another venue",
            ),
            Response::Accept => {}
        }
    }
}

/// One agenda item and the party that sponsors it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaItem {
    pub title: String,
    pub sponsor: String,
}

/// `agenda_proposal` for a meeting (`refs[0]`: the invitation). Items are in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaProposal {
    pub items: Vec<AgendaItem>,
}

impl AgendaProposal {
    pub fn check(&self, channel: Option<&ChannelState>, v: &mut Violations) {
        v.check(
            !self.items.is_empty(),
            "items",
            "an agenda has at least one item",
        );
        for (i, it) in self.items.iter().enumerate() {
            v.check(
                !it.title.trim().is_empty(),
                format!("items[{i}].title"),
                "must not be empty",
            );
            if let Some(c) = channel {
                v.check(
                    c.is_member(&it.sponsor),
                    format!("items[{i}].sponsor"),
                    format!("{:?} is not a member of channel {}", it.sponsor, c.id),
                );
            }
        }
    }

    pub fn example(_now: parley_log::Timestamp) -> Value {
        json!({"items": [
            {"title": "Military activities, transparency and risk reduction", "sponsor": "russia"},
            {"title": "The situation in and around Ukraine", "sponsor": "nato"}
        ]})
    }
}

/// Who attended for one party.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attendance {
    pub party: String,
    pub participants: Vec<String>,
}

/// One item of a record, with each party's stated position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordItem {
    pub title: String,
    pub positions: BTreeMap<String, String>,
}

/// `meeting_record` of a meeting (`refs[0]`: the invitation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingRecord {
    pub title: String,
    pub start: Instant,
    pub end: Instant,
    pub attendance: Vec<Attendance>,
    pub items: Vec<RecordItem>,
    /// Differences the parties record, in so many words.
    #[serde(default)]
    pub differences: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joint_statement: Option<String>,
    /// The record becomes public at this time even without every consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargo_until: Option<Instant>,
}

impl MeetingRecord {
    /// `written` is the record entry's own time: a record of a meeting that
    /// has not yet ended is not a record.
    pub fn check(
        &self,
        channel: Option<&ChannelState>,
        written: parley_log::Timestamp,
        v: &mut Violations,
    ) {
        v.check(
            self.end >= self.start,
            "end",
            "the meeting ends before it starts",
        );
        v.check(
            self.end.0 <= written,
            "end",
            format!(
                "the meeting ends at {}, after this record is written ({written}): record a meeting once it has ended",
                self.end.0
            ),
        );
        v.check(
            !self.attendance.is_empty(),
            "attendance",
            "record who attended",
        );
        for (i, it) in self.items.iter().enumerate() {
            for party in it.positions.keys() {
                if let Some(c) = channel {
                    v.check(
                        c.is_member(party),
                        format!("items[{i}].positions.{party}"),
                        format!("{party:?} is not a member of channel {}", c.id),
                    );
                }
            }
        }
    }

    pub fn example(now: parley_log::Timestamp) -> Value {
        let day = crate::dates::Date::of(now).plus_days(-1).start();
        json!({
            "title": "NATO-Russia Council",
            "start": day.plus_seconds(9 * 3600).to_string(),
            "end": day.plus_seconds(13 * 3600).to_string(),
            "attendance": [
                {"party": "nato", "participants": ["Secretary General (chair)", "Permanent Representatives"]},
                {"party": "russia", "participants": ["Deputy Foreign Minister", "Deputy Defence Minister"]}
            ],
            "items": [{"title": "Security in Europe", "positions": {
                "nato": "Every nation chooses its own path.",
                "russia": "No further enlargement; legal guarantees."
            }}],
            "differences": ["Major differences on European security remain."]
        })
    }
}

/// `record_confirmation`: a member confirms a record (`refs[0]`) or objects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordConfirmation {
    pub confirm: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objections: Vec<String>,
}

impl RecordConfirmation {
    pub fn check(&self, v: &mut Violations) {
        v.check(
            self.confirm || !self.objections.is_empty(),
            "objections",
            "an objection says what is objected to",
        );
    }
}

/// `disclosure_consent`: a member consents to publish a record (`refs[0]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisclosureConsent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
