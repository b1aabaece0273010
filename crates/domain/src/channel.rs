//! Channels: the charter every member agrees to before traffic flows, and
//! the recorded acts that suspend and resume it.

use std::collections::{BTreeMap, BTreeSet};

use parley_log::{Entry, Hash, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::violation::{Violation, Violations};

/// The level of a line of communication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Military,
    Political,
    Expert,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Military => "military",
            Level::Political => "political",
            Level::Expert => "expert",
        }
    }
}

/// Rules a channel's members agree to in its charter. Treaty figures come
/// from the named rule set; the rest are the members' own agreement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelRules {
    /// Minutes each recipient has to acknowledge a flash message.
    #[serde(default = "default_flash")]
    pub flash_ack_minutes: u32,
    /// Minutes each recipient has to acknowledge an immediate message.
    #[serde(default = "default_immediate")]
    pub immediate_ack_minutes: u32,
    /// The treaty rule set notifications are checked against (`id@version`).
    #[serde(default = "default_ruleset")]
    pub ruleset: String,
    /// Whether each member owes an annual calendar (VD11 Chapter VII).
    #[serde(default)]
    pub annual_calendar: bool,
    /// The language whose text is authentic: every text in the channel
    /// is given in it; texts in its other languages are translations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentic_language: Option<String>,
    /// Every text is to come in every language of the channel: a missing
    /// translation is marked where the text is shown (not refused: a flash
    /// message is not held back for its translation).
    #[serde(default)]
    pub translations_required: bool,
    /// The incidents-at-sea agreement the members follow (`id@version`,
    /// e.g. `incsea-1972@1`): incident reports cite its articles, notices
    /// of dangerous activities keep its notice period, and the members owe
    /// each other its annual review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incidents_at_sea: Option<String>,
    /// Whether each member owes the annual exchange of military
    /// information (VD11 Chapter I).
    #[serde(default)]
    pub annual_exchange: bool,
    /// Minutes each member has to acknowledge an incident report.
    #[serde(default = "default_incident")]
    pub incident_ack_minutes: u32,
    /// Days to give a requested briefing.
    #[serde(default = "default_briefing")]
    pub briefing_days: u32,
    /// Days to answer a meeting invitation that sets no reply-by date.
    #[serde(default = "default_invitation")]
    pub invitation_reply_days: u32,
    /// Days each member has to confirm a meeting record or object to it.
    #[serde(default = "default_record")]
    pub record_confirm_days: u32,
    /// The members that are participating States of the rule set's treaty
    /// (the Vienna Document). Only they notify military activities and owe
    /// annual calendars: the host State notifies, and an alliance such as
    /// NATO is not a participating State. Empty: every member is one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participating_states: Vec<String>,
}

fn default_flash() -> u32 {
    5
}
fn default_immediate() -> u32 {
    30
}
fn default_ruleset() -> String {
    crate::rules::DEFAULT_RULESET.to_string()
}
fn default_incident() -> u32 {
    60
}
fn default_briefing() -> u32 {
    14
}
fn default_invitation() -> u32 {
    30
}
fn default_record() -> u32 {
    14
}

impl Default for ChannelRules {
    fn default() -> ChannelRules {
        ChannelRules {
            flash_ack_minutes: default_flash(),
            immediate_ack_minutes: default_immediate(),
            ruleset: default_ruleset(),
            annual_calendar: false,
            annual_exchange: false,
            incidents_at_sea: None,
            authentic_language: None,
            translations_required: false,
            incident_ack_minutes: default_incident(),
            briefing_days: default_briefing(),
            invitation_reply_days: default_invitation(),
            record_confirm_days: default_record(),
            participating_states: Vec::new(),
        }
    }
}

/// `channel_charter`: the first entry of the creator's feed in a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Charter {
    /// A human title, e.g. "NATO–Russia military line".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Member parties, the creator included.
    pub members: Vec<String>,
    /// Neutral witnesses that are parley nodes (pinned parties): they
    /// receive checkpoints only, never content.
    #[serde(default)]
    pub witnesses: Vec<String>,
    /// Witnesses outside parley that speak C2SP tlog-witness (e.g. the
    /// public witness network): each by its cosignature/v1 key and its
    /// submission URL prefix. Agreed by every member with the charter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_witnesses: Vec<ExternalWitness>,
    pub level: Level,
    /// ISO 639-1 codes of the languages messages are written in.
    pub languages: Vec<String>,
    #[serde(default)]
    pub rules: ChannelRules,
}

/// A C2SP witness outside parley.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalWitness {
    /// Its verifier key: a cosignature/v1 (0x04) vkey with any C2SP-legal
    /// name, e.g. `witness.example.org/w1+1234abcd+BA…` (a 0x01 vkey of the
    /// same key is accepted and read as its 0x04 form).
    pub vkey: String,
    /// Its submission prefix: `add-checkpoint` is POSTed to `<url>/add-checkpoint`.
    pub url: String,
}

impl ExternalWitness {
    /// Its cosignature/v1 key.
    ///
    /// # Errors
    /// The vkey does not parse.
    pub fn key(&self) -> Result<parley_log::VerifierKey, parley_log::keys::KeyError> {
        let k = parley_log::VerifierKey::parse(&self.vkey)?;
        Ok(k.as_cosigner())
    }

    /// The name its cosignatures carry.
    pub fn name(&self) -> String {
        self.key()
            .map(|k| k.name().to_string())
            .unwrap_or_else(|_| self.vkey.clone())
    }

    fn check(&self, field: &str, v: &mut Violations) {
        match self.key() {
            Err(e) => v.push(format!("{field}.vkey"), e.to_string()),
            Ok(k) if parley_log::identity::receipt_party(k.name()).is_some() => v.push(
                format!("{field}.vkey"),
                format!(
                    "{:?} is named like a member's receipt key; a witness's cosignature must never pass for a receipt",
                    k.name()
                ),
            ),
            Ok(_) => {}
        }
        v.check(
            (self.url.starts_with("https://") || self.url.starts_with("http://"))
                && !self.url.contains(char::is_whitespace),
            format!("{field}.url"),
            "the submission prefix is an http(s) URL, e.g. https://witness.example.org/w1",
        );
    }
}

impl Charter {
    pub fn check(&self, author: &str, v: &mut Violations) {
        v.check(
            self.members.len() >= 2,
            "members",
            "a channel needs at least two members",
        );
        v.check(
            self.members.iter().any(|m| m == author),
            "members",
            format!("the creator {author:?} must be a member"),
        );
        // A checkpoint cosigned by everyone the charter names carries the
        // log's signature, every member's and every witness's: verifiers
        // of C2SP signed notes may refuse more (Go's, and parley's, cap).
        let signatures =
            1 + self.members.len() + self.witnesses.len() + self.external_witnesses.len();
        v.check(
            signatures <= parley_log::note::MAX_SIGNATURES,
            "members",
            format!(
                "{} members and {} witnesses would put {signatures} signatures on a fully \
                 cosigned checkpoint; C2SP verifiers accept at most {} signatures: split the \
                 parties into channels",
                self.members.len(),
                self.witnesses.len() + self.external_witnesses.len(),
                parley_log::note::MAX_SIGNATURES
            ),
        );
        for (i, m) in self.members.iter().enumerate() {
            if let Err(e) = parley_log::entry::check_party(m) {
                v.push(format!("members[{i}]"), e);
            }
            if self.members[..i].contains(m) {
                v.push(format!("members[{i}]"), format!("{m:?} is listed twice"));
            }
        }
        for (i, w) in self.witnesses.iter().enumerate() {
            if let Err(e) = parley_log::entry::check_party(w) {
                v.push(format!("witnesses[{i}]"), e);
            }
            if self.members.contains(w) {
                v.push(
                    format!("witnesses[{i}]"),
                    format!("{w:?} is a member; a witness must be neutral"),
                );
            }
            if self.witnesses[..i].contains(w) {
                v.push(format!("witnesses[{i}]"), format!("{w:?} is listed twice"));
            }
        }
        for (i, p) in self.rules.participating_states.iter().enumerate() {
            v.check(
                self.members.contains(p),
                format!("rules.participating_states[{i}]"),
                format!("{p:?} is not a member of the channel"),
            );
        }
        for (i, w) in self.external_witnesses.iter().enumerate() {
            w.check(&format!("external_witnesses[{i}]"), v);
            if self.external_witnesses[..i]
                .iter()
                .any(|o| o.name() == w.name())
            {
                v.push(
                    format!("external_witnesses[{i}]"),
                    format!("{:?} is listed twice", w.name()),
                );
            }
        }
        v.check(
            !self.languages.is_empty(),
            "languages",
            "at least one language is needed",
        );
        for (i, l) in self.languages.iter().enumerate() {
            v.check(
                is_language_code(l),
                format!("languages[{i}]"),
                format!("{l:?} is not a two-letter ISO 639-1 code such as \"en\" or \"ru\""),
            );
        }
        if let Some(a) = &self.rules.authentic_language {
            v.check(
                self.languages.contains(a),
                "rules.authentic_language",
                format!(
                    "{a:?} is not one of the channel's languages ({})",
                    self.languages.join(", ")
                ),
            );
        }
        v.check(
            self.rules.flash_ack_minutes >= 1,
            "rules.flash_ack_minutes",
            "must be at least 1",
        );
        v.check(
            self.rules.immediate_ack_minutes >= self.rules.flash_ack_minutes,
            "rules.immediate_ack_minutes",
            "must not be shorter than the flash acknowledgement time",
        );
        v.check(
            self.rules
                .incidents_at_sea
                .as_deref()
                .is_none_or(|a| crate::agreements::get(a).is_some()),
            "rules.incidents_at_sea",
            format!(
                "{:?} is not an incidents-at-sea agreement this build knows ({})",
                self.rules.incidents_at_sea.as_deref().unwrap_or(""),
                crate::agreements::all()
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        v.check(
            crate::rules::get(&self.rules.ruleset).is_some(),
            "rules.ruleset",
            format!(
                "{:?} is not a rule set this build knows ({})",
                self.rules.ruleset,
                crate::rules::all()
                    .iter()
                    .map(|r| r.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }

    pub fn example(_now: parley_log::Timestamp) -> Value {
        json!({
            "title": "NATO–Russia military line",
            "members": ["nato", "russia"],
            "witnesses": ["osce"],
            "level": "military",
            "languages": ["en", "ru"],
            "rules": {"flash_ack_minutes": 5, "immediate_ack_minutes": 30, "annual_calendar": true}
        })
    }
}

/// Two lowercase letters.
pub fn is_language_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase())
}

/// `channel_suspension` and `channel_resumption`: a recorded act with a reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelAct {
    pub reason: String,
}

/// What a node knows of a channel, folded from the entries it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelState {
    pub id: String,
    pub creator: String,
    pub charter_hash: Hash,
    pub charter: Charter,
    pub created_at: Timestamp,
    /// Members whose acceptance is known (the creator accepts by creating).
    pub accepted: BTreeSet<String>,
    /// Each member's latest suspension or resumption, by its own feed's
    /// order. A suspension belongs to the member who made it: only that
    /// member's resumption lifts it.
    pub acts: BTreeMap<String, Act>,
    /// Every act, for the periods a channel was suspended.
    pub history: Vec<Act>,
}

/// A suspension or resumption.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Act {
    pub suspended: bool,
    pub by: String,
    pub time: Timestamp,
    pub seq: u64,
    pub reason: String,
}

/// Why this node may not append an entry to a channel now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChannelRefusal {
    #[error("channel {0:?} does not exist here")]
    Unknown(String),
    #[error("{party:?} is not a member of channel {channel:?}")]
    NotMember { party: String, channel: String },
    #[error(
        "channel {channel:?} is not yet accepted by {waiting}; only acceptances flow until every member has accepted"
    )]
    NotAccepted { channel: String, waiting: String },
    #[error("{0:?} has already accepted this channel")]
    AlreadyAccepted(String),
    #[error(
        "channel {channel:?} is suspended (by {by} at {time}: {reason}); only channel acts may be sent until it is resumed"
    )]
    Suspended {
        channel: String,
        by: String,
        time: Timestamp,
        reason: String,
    },
    #[error("channel {0:?} is not suspended")]
    NotSuspended(String),
    #[error(
        "channel {channel:?} is suspended by {by}; a suspension belongs to the party that made it, and only {by} may resume it"
    )]
    NotYours { channel: String, by: String },
}

impl ChannelState {
    /// The state right after the charter entry.
    pub fn from_charter(entry: &Entry, charter: Charter, hash: Hash) -> ChannelState {
        ChannelState {
            id: entry.channel.clone(),
            creator: entry.author.clone(),
            charter_hash: hash,
            created_at: entry.time,
            accepted: BTreeSet::from([entry.author.clone()]),
            charter,
            acts: BTreeMap::new(),
            history: Vec::new(),
        }
    }

    /// Folds one more entry of the channel into the state. Order across
    /// feeds does not matter: acceptances only grow the set, and each
    /// member's suspension or resumption is decided by its own feed's
    /// sequence (never by a stated time, which another member could set in
    /// the future to win).
    pub fn apply(&mut self, entry: &Entry) {
        match entry.kind.as_str() {
            "channel_acceptance" if entry.refs.first() == Some(&self.charter_hash) => {
                self.accepted.insert(entry.author.clone());
            }
            "channel_suspension" | "channel_resumption" => {
                let act = Act {
                    suspended: entry.kind == "channel_suspension",
                    by: entry.author.clone(),
                    time: entry.time,
                    seq: entry.seq,
                    reason: entry
                        .body
                        .get("reason")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                };
                let newer = self.acts.get(&act.by).is_none_or(|prev| act.seq > prev.seq);
                if !self
                    .history
                    .iter()
                    .any(|a| a.by == act.by && a.seq == act.seq)
                {
                    self.history.push(act.clone());
                    self.history
                        .sort_by(|a, b| (&a.by, a.seq).cmp(&(&b.by, b.seq)));
                }
                if newer {
                    self.acts.insert(act.by.clone(), act);
                }
            }
            _ => {}
        }
    }

    pub fn is_member(&self, party: &str) -> bool {
        self.charter.members.iter().any(|m| m == party)
    }

    pub fn is_witness(&self, party: &str) -> bool {
        self.charter.witnesses.iter().any(|w| w == party)
    }

    /// Whether `party` is a participating State of the channel's treaty.
    /// The incidents-at-sea agreement the channel follows, if any.
    pub fn incidents_at_sea(&self) -> Option<&'static crate::agreements::SeaAgreement> {
        self.charter
            .rules
            .incidents_at_sea
            .as_deref()
            .and_then(crate::agreements::get)
    }

    pub fn is_participating_state(&self, party: &str) -> bool {
        let ps = &self.charter.rules.participating_states;
        self.is_member(party) && (ps.is_empty() || ps.iter().any(|p| p == party))
    }

    /// Members whose acceptance is not yet known.
    pub fn waiting_for(&self) -> Vec<String> {
        self.charter
            .members
            .iter()
            .filter(|m| !self.accepted.contains(*m))
            .cloned()
            .collect()
    }

    pub fn is_accepted(&self) -> bool {
        self.waiting_for().is_empty()
    }

    /// A suspension in force (the earliest stated, when several members
    /// suspended the channel).
    pub fn suspension(&self) -> Option<&Act> {
        self.acts
            .values()
            .filter(|a| a.suspended)
            .min_by_key(|a| (a.time, &a.by))
    }

    /// Every suspension in force, by member.
    pub fn suspensions(&self) -> impl Iterator<Item = &Act> {
        self.acts.values().filter(|a| a.suspended)
    }

    /// Whether `party` may not send ordinary traffic because another member
    /// suspended the channel (its own suspension it can lift itself).
    pub fn barred_by_others(&self, party: &str) -> bool {
        self.suspensions().any(|a| a.by != party)
    }

    /// The periods in which a member other than `party` held the channel
    /// suspended, by stated times: `[from, until)` (`until` None: still).
    pub fn suspended_for(&self, party: &str) -> Vec<(Timestamp, Option<Timestamp>)> {
        let mut out = Vec::new();
        let mut open: BTreeMap<&str, Timestamp> = BTreeMap::new();
        for a in self.history.iter().filter(|a| a.by != party) {
            match (a.suspended, open.get(a.by.as_str())) {
                (true, None) => {
                    open.insert(&a.by, a.time);
                }
                (false, Some(from)) => {
                    out.push((*from, Some(a.time.max(*from))));
                    open.remove(a.by.as_str());
                }
                _ => {}
            }
        }
        out.extend(open.values().map(|from| (*from, None)));
        out
    }

    /// Open for ordinary traffic: accepted by all and not suspended.
    pub fn is_active(&self) -> bool {
        self.is_accepted() && self.suspension().is_none()
    }

    /// Whether `party` may append an entry of `kind` now. This is enforced
    /// by the author's own node; receivers check only what an entry and its
    /// own feed prove, so that no feed is ever blocked by another's state.
    pub fn may_append(&self, party: &str, kind: &str) -> Result<(), ChannelRefusal> {
        if !self.is_member(party) {
            return Err(ChannelRefusal::NotMember {
                party: party.into(),
                channel: self.id.clone(),
            });
        }
        match kind {
            "channel_acceptance" if self.accepted.contains(party) => {
                Err(ChannelRefusal::AlreadyAccepted(party.into()))
            }
            "channel_acceptance" => Ok(()),
            _ if !self.is_accepted() => Err(ChannelRefusal::NotAccepted {
                channel: self.id.clone(),
                waiting: self.waiting_for().join(", "),
            }),
            "channel_resumption" => match self.acts.get(party) {
                Some(a) if a.suspended => Ok(()),
                _ => match self.suspension() {
                    Some(s) => Err(ChannelRefusal::NotYours {
                        channel: self.id.clone(),
                        by: s.by.clone(),
                    }),
                    None => Err(ChannelRefusal::NotSuspended(self.id.clone())),
                },
            },
            "channel_suspension" => Ok(()),
            _ => match self.suspension() {
                Some(s) => Err(ChannelRefusal::Suspended {
                    channel: self.id.clone(),
                    by: s.by.clone(),
                    time: s.time,
                    reason: s.reason.clone(),
                }),
                None => Ok(()),
            },
        }
    }
}

/// A channel's id must be its creator's name, a '.', and a name: a charter
/// for `russia.x` can only come from russia, so no party can take a
/// channel name another party will use.
pub fn check_channel_id(id: &str, creator: &str, v: &mut Violations) {
    match parley_log::entry::channel_creator(id) {
        Some(c) if c == creator => {}
        Some(c) => v.push(
            "channel",
            format!(
                "channel {id:?} belongs to {c:?}; {creator}'s channels are named {creator}.NAME"
            ),
        ),
        None => v.push(
            "channel",
            format!("a channel id is CREATOR.NAME, e.g. {creator}.{id}"),
        ),
    }
}

/// Checks that the first entry of a member's feed is what it must be: the
/// charter in the creator's feed, an acceptance in every other member's.
pub fn check_feed_start(entry: &Entry, creator: &str) -> Result<(), Violation> {
    if entry.seq != 0 {
        return Ok(());
    }
    let want = if entry.author == creator {
        "channel_charter"
    } else {
        "channel_acceptance"
    };
    if entry.kind == want {
        Ok(())
    } else {
        Err(Violation::new(
            "kind",
            format!(
                "the first entry of {}'s feed must be a {want}, not {}",
                entry.author, entry.kind
            ),
        ))
    }
}
