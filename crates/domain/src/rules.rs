//! Versioned rule sets: the treaty figures parley checks against, each with
//! its source and confidence tag, loaded from files shipped with parley
//! (`crates/domain/rulesets/`), never written into code.

use std::sync::OnceLock;

use serde::Deserialize;

/// A figure and where it comes from.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figure {
    pub value: i64,
    /// V verified, K remembered from the primary text, U uncertain.
    pub tag: String,
    pub source: String,
}

impl Figure {
    /// The source's reference without its gloss: "VD11 Chapter IX, para. 75".
    pub fn cite(&self) -> &str {
        let end = [self.source.find(';'), self.source.find(" (")]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.source.len());
        self.source[..end]
            .trim_end()
            .trim_end_matches(" as remembered")
    }
}

/// One threshold: a field of a notification, compared with `op`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub field: String,
    pub label: String,
    /// `>=` ("meets or exceeds") or `>` ("more than").
    pub op: String,
    pub value: i64,
    pub tag: String,
    pub source: String,
}

impl Threshold {
    pub fn met_by(&self, n: i64) -> bool {
        match self.op.as_str() {
            ">" => n > self.value,
            _ => n >= self.value,
        }
    }

    /// "9,000 troops (VD11 Chapter V)".
    pub fn describe(&self) -> String {
        format!("{} {}", group(self.value), self.label)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    pub lead_days: Figure,
    /// Days after the start an alert activity may be notified (0: by the
    /// day the troops commence).
    pub alert_at_commencement: Figure,
    pub thresholds: Vec<Threshold>,
    pub sorties_to_include: Figure,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    pub thresholds: Vec<Threshold>,
    /// Alert activities lasting no more than this are exempt from observation.
    pub alert_exempt_hours: Figure,
    pub reply_days: Figure,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    /// Above these an activity needs a two-year forecast, and counts
    /// against `large_per_three_years`.
    pub thresholds: Vec<Threshold>,
    pub forecast_years_ahead: Figure,
    pub large_per_three_years: Figure,
    /// Above these an activity counts against the yearly and simultaneous limits.
    pub medium: Vec<Threshold>,
    pub medium_per_year: Figure,
    pub medium_at_once: Figure,
    /// Above these it counts against `larger_per_year` as well.
    pub larger: Vec<Threshold>,
    pub larger_per_year: Figure,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDue {
    pub month: i64,
    pub day: i64,
    pub tag: String,
    pub source: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    pub due: CalendarDue,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskReduction {
    pub reply_hours: Figure,
    pub meeting_hours: Figure,
}

/// A return due on a fixed day of each year.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnualReturn {
    pub due: CalendarDue,
}

/// Chapters I and II: the annual exchanges of information.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    pub military_information: AnnualReturn,
    /// Months after the military budget is approved.
    pub defence_planning_months: Figure,
}

/// Chapter IX: inspections of a specified area.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inspection {
    pub per_year: Figure,
    pub per_year_from_same_state: Figure,
    pub reply_hours: Figure,
    pub entry_hours: Figure,
    pub duration_hours: Figure,
    pub inspectors: Figure,
    pub report_days: Figure,
}

/// Chapter IX: evaluation visits to units at their peacetime locations.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    pub units_per_visit: Figure,
    pub per_year: Figure,
    /// The share of its quota a State accepts from the same State is one
    /// part in this many, rounded up.
    pub same_state_share: Figure,
    /// Below this quota a State accepts one visit from the same State.
    pub small_quota: Figure,
    pub per_unit_per_year: Figure,
    pub per_unit_from_same_state: Figure,
    /// Visits a State receives on one day (a visit lasts one working day).
    pub at_a_time: Figure,
    pub lead_days: Figure,
    pub reply_hours: Figure,
    pub team: Figure,
    pub duration_hours: Figure,
    pub report_days: Figure,
}

impl Evaluation {
    /// A State's passive quota for a year from the units it reported under
    /// Chapter I: one per `units_per_visit` or portion thereof, capped.
    pub fn quota(&self, units: usize) -> i64 {
        let units = i64::try_from(units).unwrap_or(i64::MAX);
        ((units + self.units_per_visit.value - 1) / self.units_per_visit.value)
            .min(self.per_year.value)
    }

    /// How many of a quota one State may take.
    pub fn from_same_state(&self, quota: i64) -> i64 {
        if quota < self.small_quota.value {
            quota.min(1)
        } else {
            (quota + self.same_state_share.value - 1) / self.same_state_share.value
        }
    }
}

/// The format of one kind of notification.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Format {
    /// The entry kind it numbers.
    pub kind: String,
    /// The regime's designation of the format, e.g. "F25" (none: the
    /// message is numbered without one).
    #[serde(default)]
    pub designation: Option<String>,
    pub title: String,
    pub tag: String,
    pub source: String,
}

/// How notifications are numbered: PREFIX/SENDER/YY/SERIAL/FORMAT.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numbering {
    pub prefix: String,
    pub tag: String,
    pub source: String,
    /// The kinds numbered, each with its format.
    pub formats: Vec<Format>,
}

impl Numbering {
    pub fn format_of(&self, kind: &str) -> Option<&Format> {
        self.formats.iter().find(|f| f.kind == kind)
    }
}

/// A rule set, e.g. the Vienna Document 2011, version 1.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub notification: Notification,
    pub observation: Observation,
    pub constraints: Constraints,
    pub calendar: Calendar,
    pub risk_reduction: RiskReduction,
    pub exchange: Exchange,
    pub inspection: Inspection,
    pub evaluation: Evaluation,
    pub numbering: Numbering,
}

impl RuleSet {
    /// `id@version`, as a charter names it.
    pub fn name(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
}

/// The rule set files shipped with this build.
const SHIPPED: &[&str] = &[include_str!("../rulesets/vienna-document-2011.v1.toml")];

/// The name of the rule set a charter gets when it names none.
pub const DEFAULT_RULESET: &str = "vienna-document-2011@1";

fn shipped() -> &'static [RuleSet] {
    static SETS: OnceLock<Vec<RuleSet>> = OnceLock::new();
    SETS.get_or_init(|| {
        SHIPPED
            .iter()
            .map(|t| toml::from_str(t).expect("shipped rule sets parse (tested)"))
            .collect()
    })
}

/// Every rule set this build knows.
pub fn all() -> &'static [RuleSet] {
    shipped()
}

/// A rule set by `id@version`.
pub fn get(name: &str) -> Option<&'static RuleSet> {
    shipped().iter().find(|r| r.name() == name)
}

/// The default rule set.
pub fn default_set() -> &'static RuleSet {
    get(DEFAULT_RULESET).expect("the default rule set ships with parley")
}

/// "1 visit", "3 visits".
pub fn count(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{} {}", group(n), if n == 1 { one } else { many })
}

/// 9000 → "9,000".
pub fn group(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_sets_parse_and_carry_sources() {
        let vd = default_set();
        assert_eq!(vd.notification.lead_days.value, 42);
        assert!(
            vd.notification
                .thresholds
                .iter()
                .all(|t| !t.source.is_empty())
        );
        assert!(["V", "K", "U"].contains(&vd.observation.reply_days.tag.as_str()));
        assert_eq!(group(13000), "13,000");
    }
}
