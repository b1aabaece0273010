//! Agreements on incidents at sea and in the air (INCSEA 1972 and the
//! bilateral agreements modelled on it): the articles an incident report
//! cites, the notice period for dangerous activities and the annual review,
//! loaded from files shipped with parley (`crates/domain/rulesets/`), as
//! the Vienna Document's rule set is.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::rules::Figure;

/// An article a report may cite.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    /// "III.5": article, and paragraph where there is one.
    pub id: String,
    pub title: String,
    pub tag: String,
    pub source: String,
}

/// An incidents-at-sea agreement.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeaAgreement {
    pub id: String,
    pub version: u32,
    pub title: String,
    /// Days ahead a dangerous activity is notified, as a rule.
    pub notice_days: Figure,
    /// Months between review meetings.
    pub review_months: Figure,
    pub articles: Vec<Article>,
}

impl SeaAgreement {
    /// `id@version`, as a charter names it.
    pub fn name(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }

    pub fn article(&self, id: &str) -> Option<&Article> {
        self.articles.iter().find(|a| a.id == id)
    }
}

const SHIPPED: &[&str] = &[include_str!("../rulesets/incsea-1972.v1.toml")];

/// Every incidents-at-sea agreement this build knows.
pub fn all() -> &'static [SeaAgreement] {
    static SETS: OnceLock<Vec<SeaAgreement>> = OnceLock::new();
    SETS.get_or_init(|| {
        SHIPPED
            .iter()
            .map(|t| toml::from_str(t).expect("shipped agreements parse (tested)"))
            .collect()
    })
}

/// An agreement by `id@version`.
pub fn get(name: &str) -> Option<&'static SeaAgreement> {
    all().iter().find(|a| a.name() == name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn shipped_agreements_parse_and_cite_their_sources() {
        let a = super::get("incsea-1972@1").unwrap();
        assert_eq!(a.notice_days.value, 3);
        assert!(a.article("III.5").is_some());
        assert!(a.articles.iter().all(|x| !x.source.is_empty()));
    }
}
