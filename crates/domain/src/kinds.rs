//! Every kind of entry, with its description, schema, example and checks.

use parley_log::Entry;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::channel::{ChannelAct, ChannelState, Charter, check_feed_start};
use crate::hotline::{Acknowledgement, HotlineMessage, LinkTest};
use crate::violation::{Violation, Violations};

/// How many entries an entry of a kind must reference, and what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refs {
    None,
    /// Exactly one: the entry named.
    One(&'static str),
    /// Any number (zero or more).
    Any,
}

/// The definition of one kind of entry.
pub struct KindSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub refs: Refs,
    schema: fn() -> Value,
    example: fn() -> Value,
    check: fn(&Entry, Option<&ChannelState>, &mut Violations),
}

impl KindSpec {
    /// The JSON Schema of the body.
    pub fn schema(&self) -> Value {
        (self.schema)()
    }

    /// A valid example body.
    pub fn example(&self) -> Value {
        (self.example)()
    }
}

fn schema_of<T: JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("schemas serialize")
}

/// Reads a body as its typed form; a mismatch names the field.
pub fn parse_body<T: DeserializeOwned>(body: &Value) -> Result<T, Violation> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        Violation::new(field, e.into_inner().to_string())
    })
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

static KINDS: &[KindSpec] = &[
    KindSpec {
        name: "channel_charter",
        title: "Channel charter",
        description: "Opens a channel: members, witnesses, level, languages and rules; every member must accept it",
        refs: Refs::None,
        schema: schema_of::<Charter>,
        example: Charter::example,
        check: |e, _, v| typed::<Charter>(e, v, |c, v| c.check(&e.author, v)),
    },
    KindSpec {
        name: "channel_acceptance",
        title: "Channel acceptance",
        description: "A member accepts the channel charter it references; traffic flows once every member has",
        refs: Refs::One("the channel charter"),
        schema: || json!({"type": "object", "additionalProperties": false}),
        example: || json!({}),
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
    },
    KindSpec {
        name: "channel_suspension",
        title: "Channel suspension",
        description: "Suspends the channel: only a resumption may follow",
        refs: Refs::Any,
        schema: schema_of::<ChannelAct>,
        example: || json!({"reason": "Practical cooperation suspended pending review"}),
        check: |e, _, v| {
            typed::<ChannelAct>(e, v, |a, v| {
                v.check(!a.reason.trim().is_empty(), "reason", "state the reason")
            })
        },
    },
    KindSpec {
        name: "channel_resumption",
        title: "Channel resumption",
        description: "Resumes a suspended channel",
        refs: Refs::Any,
        schema: schema_of::<ChannelAct>,
        example: || json!({"reason": "Dialogue at ambassador level resumes"}),
        check: |e, _, v| {
            typed::<ChannelAct>(e, v, |a, v| {
                v.check(!a.reason.trim().is_empty(), "reason", "state the reason")
            })
        },
    },
    KindSpec {
        name: "hotline_message",
        title: "Hotline message",
        description: "A message with a precedence (routine, priority, immediate, flash) in the channel's languages",
        refs: Refs::Any,
        schema: schema_of::<HotlineMessage>,
        example: HotlineMessage::example,
        check: |e, c, v| typed::<HotlineMessage>(e, v, |m, v| m.check(&e.author, c, v)),
    },
    KindSpec {
        name: "acknowledgement",
        title: "Acknowledgement",
        description: "Confirms that a person has seen the entry it references",
        refs: Refs::One("the acknowledged entry"),
        schema: schema_of::<Acknowledgement>,
        example: || json!({"by": "Duty officer, Joint Operations Centre"}),
        check: |e, _, v| typed::<Acknowledgement>(e, v, |_, _| {}),
    },
    KindSpec {
        name: "link_test",
        title: "Link test",
        description: "A recorded test message, proving the line works end to end",
        refs: Refs::None,
        schema: schema_of::<LinkTest>,
        example: || json!({"text": "The quick brown fox jumped over the lazy dog's back 1234567890"}),
        check: |e, _, v| {
            typed::<LinkTest>(e, v, |t, v| {
                v.check(!t.text.is_empty(), "text", "must not be empty")
            })
        },
    },
];

/// Every kind, in a stable order.
pub fn all() -> &'static [KindSpec] {
    KINDS
}

pub fn get(name: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|k| k.name == name)
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
        Refs::Any => {}
    }
    (spec.check)(entry, channel, &mut v);
    v.into_result()
}
