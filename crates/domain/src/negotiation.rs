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
    /// The negotiation this text belongs to when it is negotiated in more
    /// than one channel (a track each), e.g. "security-guarantees-2021".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negotiation: Option<String>,
    /// Versions in other channels (tracks) this one continues or answers:
    /// named by id and entry hash, so a member of that channel verifies the
    /// link, and one that is not sees it named but unverifiable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<VersionLink>,
    /// Where each article stands in this version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub articles: Vec<ArticleStatus>,
}

/// A version in another channel, by id and entry hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionLink {
    /// `channel/author/seq`.
    pub entry: String,
    /// The entry's leaf hash, hex.
    pub hash: String,
}

impl VersionLink {
    /// The channel its id names (a channel id may hold dots, never '/').
    pub fn channel(&self) -> Option<&str> {
        self.entry.rsplitn(3, '/').nth(2)
    }
}

/// Where an article of a negotiated text stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ArticleState {
    /// Put on the table by one side.
    Tabled,
    /// Text in square brackets: not agreed.
    Bracketed,
    /// Agreed by the negotiators subject to their governments' approval.
    AgreedAdReferendum,
    Rejected,
}

impl ArticleState {
    pub const ALL: [ArticleState; 4] = [
        ArticleState::Tabled,
        ArticleState::Bracketed,
        ArticleState::AgreedAdReferendum,
        ArticleState::Rejected,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ArticleState::Tabled => "TABLED",
            ArticleState::Bracketed => "BRACKETED",
            ArticleState::AgreedAdReferendum => "AGREED AD REFERENDUM",
            ArticleState::Rejected => "REJECTED",
        }
    }
}

/// One article's status in a version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleStatus {
    /// "1", "4.2".
    pub article: String,
    pub status: ArticleState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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
        if let Some(n) = &self.negotiation {
            v.check(
                parley_log::entry::check_identifier(n).is_ok(),
                "negotiation",
                "use a-z, 0-9, '.', '_' or '-'",
            );
        }
        for (i, l) in self.links.iter().enumerate() {
            let channel_of = l.channel();
            v.check(
                channel_of.is_some()
                    && l.entry
                        .rsplit('/')
                        .next()
                        .is_some_and(|s| s.parse::<u64>().is_ok()),
                format!("links.{i}.entry"),
                "name the version as channel/author/seq",
            );
            if let (Some(c), Some(other)) = (channel, channel_of) {
                v.check(
                    other != c.id,
                    format!("links.{i}.entry"),
                    "a version in this channel is referenced (refs), not linked",
                );
            }
            v.check(
                parley_log::Hash::from_hex(&l.hash).is_ok(),
                format!("links.{i}.hash"),
                "the version's entry hash, 64 hex digits",
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, a) in self.articles.iter().enumerate() {
            v.check(
                !a.article.trim().is_empty() && seen.insert(a.article.trim().to_string()),
                format!("articles.{i}.article"),
                "number each article once",
            );
        }
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

/// What the author's node checks before it sends a version: each linked
/// version is one it holds, under that id and hash, and a draft.
pub fn check_links(
    entry: &parley_log::Entry,
    ledger: &crate::ledger::Ledger,
) -> Vec<crate::Violation> {
    let mut v = Violations::default();
    let Ok(d) = crate::violation::parse_body::<DraftDocument>(&entry.body) else {
        return v.0;
    };
    for (i, l) in d.links.iter().enumerate() {
        let held = parley_log::Hash::from_hex(&l.hash)
            .ok()
            .and_then(|h| ledger.get(&h));
        match held {
            None => v.push(
                format!("links.{i}"),
                format!(
                    "this node holds no version {} with hash {}: link only to what you can see",
                    l.entry, l.hash
                ),
            ),
            Some(k) => {
                v.check(
                    k.id() == l.entry,
                    format!("links.{i}.entry"),
                    format!("hash {} is entry {}, not {}", l.hash, k.id(), l.entry),
                );
                v.check(
                    k.entry.kind == "draft_document",
                    format!("links.{i}"),
                    format!("{} is a {}, not a draft version", k.id(), k.entry.kind),
                );
            }
        }
    }
    v.0
}
