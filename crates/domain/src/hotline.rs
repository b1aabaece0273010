//! Hotline traffic: messages with a precedence, acknowledgements, link tests.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::channel::ChannelState;
use crate::violation::Violations;

/// Precedence of a hotline message, lowest first.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Routine,
    Priority,
    Immediate,
    Flash,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Routine,
        Priority::Priority,
        Priority::Immediate,
        Priority::Flash,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Routine => "routine",
            Priority::Priority => "priority",
            Priority::Immediate => "immediate",
            Priority::Flash => "flash",
        }
    }
}

/// A file sent beside an entry, committed to by its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub name: String,
    /// SHA-256 of the file, 64 lowercase hex digits.
    pub sha256: String,
    pub size: u64,
}

/// `hotline_message`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HotlineMessage {
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The text in one or more of the channel's languages, keyed by language.
    pub text: BTreeMap<String, String>,
    /// Addressees among the members; empty means every other member.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

impl HotlineMessage {
    pub fn check(&self, author: &str, channel: Option<&ChannelState>, v: &mut Violations) {
        check_texts(&self.text, "text", channel, v);
        for (i, to) in self.to.iter().enumerate() {
            v.check(
                to != author,
                format!("to[{i}]"),
                "a message is not addressed to its author",
            );
            if let Some(c) = channel {
                v.check(
                    c.is_member(to),
                    format!("to[{i}]"),
                    format!("{to:?} is not a member of channel {}", c.id),
                );
            }
        }
        if let Some(a) = &self.attachment {
            v.check(
                a.sha256.len() == 64
                    && a.sha256
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "attachment.sha256",
                "must be 64 lowercase hex digits",
            );
            v.check(!a.name.is_empty(), "attachment.name", "must not be empty");
        }
    }

    pub fn example(_now: parley_log::Timestamp) -> Value {
        json!({
            "priority": "flash",
            "subject": "Unplanned air activity",
            "text": {
                "en": "Two aircraft will cross the exercise area at 14:00Z. Acknowledge.",
                "ru": "Два самолёта пересекут район учений в 14:00Z. Подтвердите."
            }
        })
    }
}

/// Texts keyed by language: at least one, each non-empty, each in one of
/// the channel's languages.
pub fn check_texts(
    text: &BTreeMap<String, String>,
    field: &str,
    channel: Option<&ChannelState>,
    v: &mut Violations,
) {
    v.check(
        !text.is_empty(),
        field,
        "give the text in at least one language",
    );
    if let Some(a) = channel.and_then(|c| c.charter.rules.authentic_language.as_ref()) {
        v.check(
            text.is_empty() || text.contains_key(a),
            format!("{field}.{a}"),
            format!("the authentic text, in {a}, is required in this channel; other languages are translations"),
        );
    }
    for (lang, t) in text {
        v.check(
            !t.trim().is_empty(),
            format!("{field}.{lang}"),
            "must not be empty",
        );
        if let Some(c) = channel {
            v.check(
                c.charter.languages.contains(lang),
                format!("{field}.{lang}"),
                format!(
                    "{lang:?} is not a language of channel {} ({})",
                    c.id,
                    c.charter.languages.join(", ")
                ),
            );
        }
    }
}

/// `acknowledgement`: the sender confirms a human has seen the entry it
/// references (`refs[0]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    /// Who acknowledged (a duty officer's name or post), for the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `link_test`: a test message recorded in the feed, as hotlines have sent
/// since 1963 ("The quick brown fox…").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkTest {
    pub text: String,
}

/// `reply`: a reply in words to the entry it references (`refs[0]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub text: BTreeMap<String, String>,
}
