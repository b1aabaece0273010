//! Vienna Document Chapters I and II: the annual exchange of military
//! information (the units a State reports set its quota of evaluation
//! visits under Chapter IX) and of defence planning information.

use std::collections::{BTreeMap, BTreeSet};

use parley_log::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::channel::ChannelState;
use crate::dates::Date;
use crate::hotline::check_texts;
use crate::ledger::{Known, Ledger};
use crate::rules::RuleSet;
use crate::violation::{Violations, parse_body};

/// One formation or unit reported under Chapter I.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitRecord {
    /// Designation, unique within the report, e.g. "6th Tank Brigade".
    pub designation: String,
    /// Normal peacetime location.
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subordinate_to: Option<String>,
    /// Peacetime authorized personnel strength.
    #[serde(default)]
    pub personnel: u32,
}

/// `military_information`: a State's annual exchange of military
/// information (VD11 Chapter I), valid as of 1 January of `year`. An
/// empty list of units is a nil report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MilitaryInformation {
    /// The year the data are valid for (as of 1 January).
    pub year: i64,
    pub units: Vec<UnitRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

impl MilitaryInformation {
    pub fn check(&self, sent: Timestamp, v: &mut Violations) {
        let this_year = Date::of(sent).year();
        v.check(
            (this_year..=this_year + 1).contains(&self.year),
            "year",
            format!(
                "information sent in {this_year} is valid as of 1 January of {this_year} or {} (VD11 Chapter I)",
                this_year + 1
            ),
        );
        let mut seen = BTreeSet::new();
        for (i, u) in self.units.iter().enumerate() {
            v.check(
                !u.designation.trim().is_empty(),
                format!("units.{i}.designation"),
                "must not be empty",
            );
            v.check(
                !u.location.trim().is_empty(),
                format!("units.{i}.location"),
                "give the unit's normal peacetime location",
            );
            v.check(
                seen.insert(u.designation.trim().to_lowercase()),
                format!("units.{i}.designation"),
                format!("{:?} is reported twice", u.designation),
            );
        }
    }

    pub fn example(now: Timestamp) -> Value {
        json!({
            "year": Date::of(now).year() + 1,
            "units": [
                {"designation": "1st Guards Tank Army", "location": "Odintsovo", "personnel": 28000},
                {"designation": "6th Separate Tank Brigade", "location": "Mulino", "subordinate_to": "1st Guards Tank Army", "personnel": 3500},
                {"designation": "96th Reconnaissance Brigade", "location": "Nizhny Novgorod", "personnel": 1800}
            ]
        })
    }
}

/// A budget figure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub amount: u64,
    /// ISO 4217 code, e.g. "EUR".
    pub currency: String,
}

/// `defence_planning`: defence policy, force planning and budgets (VD11
/// Chapter II), due two months after the military budget is approved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefencePlanning {
    /// The fiscal year the budget is for.
    pub year: i64,
    /// When the competent national authorities approved the budget.
    pub budget_approved: Date,
    /// Defence policy and doctrine, force planning, in the channel's languages.
    pub policy: BTreeMap<String, String>,
    pub budget: Budget,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_expenditure: Option<Budget>,
}

impl DefencePlanning {
    /// The date it is due by under `rs`.
    pub fn due(&self, rs: &RuleSet) -> Date {
        self.budget_approved
            .plus_months(rs.exchange.defence_planning_months.value)
    }

    /// Days it came after it was due (none when on time).
    pub fn days_late(&self, sent: Timestamp, rs: &RuleSet) -> Option<i64> {
        let late = self.due(rs).days_until(Date::of(sent));
        (late > 0).then_some(late)
    }

    pub fn check(&self, sent: Timestamp, channel: Option<&ChannelState>, v: &mut Violations) {
        v.check(
            self.budget_approved <= Date::of(sent),
            "budget_approved",
            format!(
                "the budget cannot be approved ({}) after the information is sent ({})",
                self.budget_approved,
                Date::of(sent)
            ),
        );
        check_texts(&self.policy, "policy", channel, v);
        v.check(
            self.budget.currency.len() == 3
                && self.budget.currency.bytes().all(|b| b.is_ascii_uppercase()),
            "budget.currency",
            "an ISO 4217 code of three capital letters, e.g. EUR",
        );
    }

    pub fn example(now: Timestamp) -> Value {
        let approved = Date::of(now).plus_days(-20);
        json!({
            "year": approved.year() + 1,
            "budget_approved": approved.to_string(),
            "policy": {"en": "Territorial defence within the Alliance; no change in force structure."},
            "budget": {"amount": 6_200_000_000u64, "currency": "EUR"},
            "previous_expenditure": {"amount": 5_900_000_000u64, "currency": "EUR"}
        })
    }
}

/// The units `state` reported under Chapter I that count for visits in
/// `year` in `channel`: its latest report valid for that year, else its
/// latest for an earlier year. `None`: it has reported none.
pub fn units_reported<'a>(
    ledger: &'a Ledger,
    channel: &str,
    state: &str,
    year: i64,
) -> Option<(&'a Known, MilitaryInformation)> {
    ledger
        .causal_order(&["military_information"], channel)
        .into_iter()
        .filter(|k| k.entry.author == state)
        .filter_map(|k| Some((k, parse_body::<MilitaryInformation>(&k.entry.body).ok()?)))
        .filter(|(_, m)| m.year <= year)
        // The latest year wins; within a year, the latest report.
        .max_by_key(|(k, m)| (m.year, ledger.causal_rank(k)))
}

/// One return under Chapter I or II, with how late it came.
#[derive(Clone, Debug)]
pub struct Return<'a> {
    pub source: &'a Known,
    pub year: i64,
    /// Units reported (Chapter I).
    pub units: Option<usize>,
    /// When it was due.
    pub due: Date,
    /// Days after `due` it was sent (none: on time).
    pub days_late: Option<i64>,
}

/// Every Chapter I and II return in `channel`, in causal order.
pub fn returns<'a>(ledger: &'a Ledger, channel: &str) -> Vec<Return<'a>> {
    let rs = crate::exercises::ruleset_of(ledger.channels.get(channel));
    let sent = |k: &Known, due: Date| {
        let late = due.days_until(Date::of(k.entry.time));
        (late > 0).then_some(late)
    };
    ledger
        .causal_order(&["military_information", "defence_planning"], channel)
        .into_iter()
        .filter_map(|k| {
            if let Ok(m) = parse_body::<MilitaryInformation>(&k.entry.body) {
                let d = &rs.exchange.military_information.due;
                let due = Date::from_ymd(m.year - 1, d.month, d.day)?;
                return Some(Return {
                    source: k,
                    year: m.year,
                    units: Some(m.units.len()),
                    due,
                    days_late: sent(k, due),
                });
            }
            let p = parse_body::<DefencePlanning>(&k.entry.body).ok()?;
            Some(Return {
                source: k,
                year: p.year,
                units: None,
                due: p.due(rs),
                days_late: p.days_late(k.entry.time, rs),
            })
        })
        .collect()
}
