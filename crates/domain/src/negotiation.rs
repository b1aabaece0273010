//! Negotiated texts: versions of a draft, and signatures on a version. A
//! version signed by every named signatory is a commitment.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::channel::ChannelState;
use crate::hotline::check_texts;
use crate::violation::Violations;

/// `draft_document`: one version of a text. A revision references its
/// parent version (`refs[0]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftDocument {
    /// Stable identifier of the document across versions.
    pub document: String,
    pub title: String,
    /// A label for this version, e.g. "v2".
    pub version: String,
    /// The text, by language.
    pub text: BTreeMap<String, String>,
    /// Parties whose signatures make this version a commitment.
    pub signatories: Vec<String>,
}

impl DraftDocument {
    pub fn check(&self, channel: Option<&ChannelState>, v: &mut Violations) {
        v.check(
            parley_log::entry::check_identifier(&self.document).is_ok(),
            "document",
            "use a-z, 0-9, '.', '_' or '-'",
        );
        v.check(!self.title.trim().is_empty(), "title", "must not be empty");
        check_texts(&self.text, "text", channel, v);
        v.check(
            !self.signatories.is_empty(),
            "signatories",
            "name who is to sign",
        );
        if let Some(c) = channel {
            for (i, s) in self.signatories.iter().enumerate() {
                v.check(
                    c.is_member(s),
                    format!("signatories[{i}]"),
                    format!("{s:?} is not a member of channel {}", c.id),
                );
            }
        }
    }

    pub fn example(_now: parley_log::Timestamp) -> Value {
        json!({
            "document": "hotline-testing",
            "title": "Memorandum on the testing of the military hotline",
            "version": "v1",
            "text": {"en": "1. The Parties test the line every hour.\n2. Each test is acknowledged within five minutes."},
            "signatories": ["nato", "russia"]
        })
    }
}

/// `draft_signature`: a party signs a draft version (`refs[0]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftSignature {
    /// Who signs, for the record (a name or office).
    pub signed_by: String,
}
