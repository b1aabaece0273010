//! Vienna Document Chapter IX: inspections of a specified area and
//! evaluation visits to units, the replies and reports, and the quotas that
//! limit what a State is obliged to accept.
//!
//! Whether a request is within quota is decided by when it reached the
//! State asked: requests to the same State in the same calendar year count
//! in the order of that State's signed receipts of them (every member holds
//! every receipt, so every node computes the same order); requests received
//! in the same second, and those not yet received, in the channel's causal
//! order. A request
//! beyond a quota obliges nothing, and one whose reply refuses it for force
//! majeure does not count (VD11 para. 77 and 110 as remembered). The
//! author's node refuses to send a request it can already see is beyond.
//!
//! Why receipts and not stated times: a stated time is its author's word,
//! so a requester that dated its request back could take the place of one
//! sent before it. A receipt time is the State asked's own signature, and
//! it counts from no earlier than the request's stated time, so the State
//! asked cannot move an honest request ahead of one it received before
//! either: once a request within quota is received, its clock runs and no
//! later request can take its place.

use std::collections::BTreeMap;

use parley_log::{Entry, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::channel::ChannelState;
use crate::dates::{Date, Instant};
use crate::exchange::units_reported;
use crate::exercises::ruleset_of;
use crate::geo::Area;
use crate::hotline::check_texts;
use crate::incidents::check_to;
use crate::ledger::{Known, Ledger};
use crate::rules::{Figure, RuleSet, count};
use crate::violation::{Violation, Violations, parse_body};

/// How the inspection team moves in the specified area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Means {
    Ground,
    Air,
    GroundAndAir,
}

/// `inspection_request`: a request to inspect a specified area where
/// compliance with the agreed measures is in doubt (VD11 Chapter IX).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionRequest {
    /// The State on whose territory the area lies.
    pub to: String,
    /// Why compliance is in doubt. A dispute over the reasons does not
    /// delay the inspection.
    pub reasons: String,
    pub specified_area: Area,
    pub area_description: String,
    pub point_of_entry: String,
    /// The means of transport to the point of entry.
    pub transport: String,
    pub means: Means,
    /// The inspectors' names.
    pub inspectors: Vec<String>,
    #[serde(default)]
    pub auxiliary_personnel: u32,
}

/// `evaluation_visit_request`: a request to visit a unit reported under
/// Chapter I at its normal peacetime location (VD11 Chapter IX).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationVisitRequest {
    pub to: String,
    /// The unit's designation, as reported under Chapter I.
    pub unit: String,
    pub location: String,
    /// The day proposed for the visit.
    pub date: Date,
    pub point_of_entry: String,
    /// The team's members.
    pub team: Vec<String>,
}

/// Whether a request is accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accepted,
    Refused,
}

/// Why a request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    /// The quota is used up: the receiving State is not obliged to accept.
    QuotaUsed,
    /// The visit cannot be carried out; it is not counted.
    ForceMajeure,
    /// Any other reason (not one the Vienna Document allows within quota).
    Other,
}

/// `verification_reply`: the receiving State accepts or refuses a request
/// for an inspection or an evaluation visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationReply {
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ground: Option<Ground>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// When the team will be received at the point of entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<Instant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escort: Option<String>,
}

/// `verification_report`: the requesting State's report of an inspection
/// or evaluation visit, to every member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationReport {
    /// When the team arrived in the area or at the unit.
    pub arrived: Instant,
    pub ended: Instant,
    pub findings: BTreeMap<String, String>,
}

fn names(list: &[String], field: &str, max: &Figure, what: &str, v: &mut Violations) {
    v.check(
        !list.is_empty() && i64::try_from(list.len()).is_ok_and(|n| n <= max.value),
        field,
        format!(
            "name 1 to {} {what}, not {} ({})",
            max.value,
            list.len(),
            max.cite()
        ),
    );
    for (i, n) in list.iter().enumerate() {
        v.check(
            !n.trim().is_empty(),
            format!("{field}.{i}"),
            "must not be empty",
        );
    }
}

/// The receiving State must be a participating State of the rule set's
/// treaty, and another member.
fn receiving_state(to: &str, author: &str, c: Option<&ChannelState>, v: &mut Violations) {
    check_to(to, author, c, v);
    if let Some(c) = c {
        v.check(
            c.is_participating_state(to),
            "to",
            format!("{to} is not a participating State in channel {}", c.id),
        );
    }
}

impl InspectionRequest {
    pub fn check(&self, author: &str, c: Option<&ChannelState>, v: &mut Violations) {
        receiving_state(&self.to, author, c, v);
        let rs = ruleset_of(c);
        for (field, s) in [
            ("reasons", &self.reasons),
            ("area_description", &self.area_description),
            ("point_of_entry", &self.point_of_entry),
            ("transport", &self.transport),
        ] {
            v.check(!s.trim().is_empty(), field, "must not be empty");
        }
        self.specified_area.check("specified_area", v);
        names(
            &self.inspectors,
            "inspectors",
            &rs.inspection.inspectors,
            "inspectors",
            v,
        );
    }

    pub fn example(_: Timestamp) -> Value {
        json!({
            "to": "russia",
            "reasons": "Forces above the notification thresholds are reported concentrating near Pskov without a notification.",
            "specified_area": Area::rectangle(28.0, 57.2, 29.6, 58.2),
            "area_description": "Pskov region, west of the Velikaya river",
            "point_of_entry": "Pskov (Kresty) airfield",
            "transport": "Aircraft of the inspecting State",
            "means": "ground_and_air",
            "inspectors": ["Col. A. Brandt", "Lt-Col. M. Keller", "Maj. S. Olsen", "Capt. J. Novak"],
            "auxiliary_personnel": 2
        })
    }
}

impl EvaluationVisitRequest {
    pub fn check(
        &self,
        sent: Timestamp,
        author: &str,
        c: Option<&ChannelState>,
        v: &mut Violations,
    ) {
        receiving_state(&self.to, author, c, v);
        let rs = ruleset_of(c);
        for (field, s) in [
            ("unit", &self.unit),
            ("location", &self.location),
            ("point_of_entry", &self.point_of_entry),
        ] {
            v.check(!s.trim().is_empty(), field, "must not be empty");
        }
        let lead = rs.evaluation.lead_days.value;
        let earliest = Date::of(sent).plus_days(lead);
        v.check(
            self.date >= earliest,
            "date",
            format!(
                "a visit is requested at least {lead} days ahead ({}): {earliest} or later",
                rs.evaluation.lead_days.cite()
            ),
        );
        names(&self.team, "team", &rs.evaluation.team, "team members", v);
    }

    pub fn example(now: Timestamp) -> Value {
        json!({
            "to": "russia",
            "unit": "6th Separate Tank Brigade",
            "location": "Mulino",
            "date": Date::of(now).plus_days(7).to_string(),
            "point_of_entry": "Nizhny Novgorod (Strigino) airport",
            "team": ["Lt-Col. P. Laine", "Maj. K. Virtanen"]
        })
    }
}

impl VerificationReply {
    pub fn check(&self, v: &mut Violations) {
        match self.decision {
            Decision::Accepted => v.check(
                self.ground.is_none(),
                "ground",
                "an accepted request has no ground for refusal",
            ),
            Decision::Refused => {
                v.check(
                    self.ground.is_some(),
                    "ground",
                    "say why: quota_used, force_majeure or other",
                );
                v.check(
                    self.explanation
                        .as_ref()
                        .is_some_and(|e| !e.trim().is_empty()),
                    "explanation",
                    "explain the refusal",
                );
            }
        }
    }

    pub fn example(now: Timestamp) -> Value {
        json!({
            "decision": "accepted",
            "arrival": now.plus_seconds(30 * 3600).to_string(),
            "escort": "Escort team of the Ministry of Defence, Pskov"
        })
    }
}

impl VerificationReport {
    pub fn check(&self, c: Option<&ChannelState>, v: &mut Violations) {
        v.check(
            self.ended >= self.arrived,
            "ended",
            format!(
                "ends ({}) before the team arrived ({})",
                self.ended.0, self.arrived.0
            ),
        );
        check_texts(&self.findings, "findings", c, v);
    }

    pub fn example(now: Timestamp) -> Value {
        json!({
            "arrived": now.plus_seconds(-60 * 3600).to_string(),
            "ended": now.plus_seconds(-20 * 3600).to_string(),
            "findings": {"en": "Two motor-rifle battalions in field positions; numbers below the notification thresholds."}
        })
    }
}

/// Inspections or evaluation visits: each has its own quotas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Inspection,
    Evaluation,
}

impl Family {
    /// The kind of entry that requests it.
    pub fn request_kind(self) -> &'static str {
        match self {
            Family::Inspection => "inspection_request",
            Family::Evaluation => "evaluation_visit_request",
        }
    }

    pub fn of_kind(kind: &str) -> Option<Family> {
        [Family::Inspection, Family::Evaluation]
            .into_iter()
            .find(|f| f.request_kind() == kind)
    }

    pub fn noun(self) -> &'static str {
        match self {
            Family::Inspection => "inspection",
            Family::Evaluation => "evaluation visit",
        }
    }
}

/// What a request is, read from its body.
#[derive(Clone, Debug)]
struct Asked {
    family: Family,
    from: String,
    to: String,
    year: i64,
    /// The unit visited and the day (evaluation visits).
    unit: Option<String>,
    visit_date: Option<Date>,
}

impl Asked {
    fn of(e: &Entry) -> Option<Asked> {
        let family = Family::of_kind(&e.kind)?;
        let (to, unit, visit_date) = match family {
            Family::Inspection => {
                let r = parse_body::<InspectionRequest>(&e.body).ok()?;
                (r.to, None, None)
            }
            Family::Evaluation => {
                let r = parse_body::<EvaluationVisitRequest>(&e.body).ok()?;
                (r.to, Some(r.unit), Some(r.date))
            }
        };
        Some(Asked {
            family,
            from: e.author.clone(),
            to,
            // A visit counts in the year it is to take place, an
            // inspection in the year it is requested (it follows within
            // 36 hours).
            year: visit_date.map_or_else(|| Date::of(e.time).year(), Date::year),
            unit,
            visit_date,
        })
    }
}

/// Where a request stands against the quotas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "standing", rename_all = "snake_case")]
pub enum Standing {
    /// Within every quota: the receiving State is obliged to accept it.
    Within,
    /// Beyond a quota: the receiving State is not obliged to accept it.
    Beyond { rule: String },
}

/// One request with its standing, reply and report.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub source: &'a Known,
    pub family: Family,
    pub from: String,
    pub to: String,
    pub year: i64,
    pub unit: Option<String>,
    /// The day proposed for an evaluation visit.
    pub visit_date: Option<Date>,
    pub standing: Standing,
    /// Whether it counts against the receiving State's quota.
    pub counted: bool,
    /// The receiving State's first reply.
    pub reply: Option<(&'a Known, VerificationReply)>,
    /// The requesting State's first report.
    pub report: Option<(&'a Known, VerificationReport)>,
    /// What the rules say about how it went (a refusal within quota, a
    /// late arrival, an inspection that ran over).
    pub findings: Vec<String>,
}

/// What one State accepted in one year, against its quotas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuotaLeft {
    pub state: String,
    pub year: i64,
    pub inspections: i64,
    pub inspection_quota: i64,
    /// Units reported under Chapter I (none: no information exchanged).
    pub units: Option<usize>,
    pub evaluations: i64,
    /// The passive quota of evaluation visits (none: not known).
    pub evaluation_quota: Option<i64>,
}

impl QuotaLeft {
    pub fn inspections_left(&self) -> i64 {
        (self.inspection_quota - self.inspections).max(0)
    }

    pub fn evaluations_left(&self) -> Option<i64> {
        self.evaluation_quota.map(|q| (q - self.evaluations).max(0))
    }
}

/// What counted so far, in causal order.
#[derive(Default)]
struct Counts {
    /// (family, to, year) → counted.
    total: BTreeMap<(Family, String, i64), i64>,
    /// (family, to, from, year) → counted.
    pair: BTreeMap<(Family, String, String, i64), i64>,
    /// (to, unit, year) → counted visits.
    unit: BTreeMap<(String, String, i64), i64>,
    /// (to, unit, from, year) → counted visits.
    unit_pair: BTreeMap<(String, String, String, i64), i64>,
}

impl Counts {
    fn add(&mut self, a: &Asked) {
        *self
            .total
            .entry((a.family, a.to.clone(), a.year))
            .or_default() += 1;
        *self
            .pair
            .entry((a.family, a.to.clone(), a.from.clone(), a.year))
            .or_default() += 1;
        if let Some(u) = &a.unit {
            let u = u.trim().to_lowercase();
            *self
                .unit
                .entry((a.to.clone(), u.clone(), a.year))
                .or_default() += 1;
            *self
                .unit_pair
                .entry((a.to.clone(), u, a.from.clone(), a.year))
                .or_default() += 1;
        }
    }

    fn total(&self, f: Family, to: &str, year: i64) -> i64 {
        self.total
            .get(&(f, to.to_string(), year))
            .copied()
            .unwrap_or(0)
    }
}

/// Whether one more request `a` fits the quotas after `counts`.
fn standing(ledger: &Ledger, channel: &str, rs: &RuleSet, counts: &Counts, a: &Asked) -> Standing {
    match beyond(ledger, channel, rs, counts, a) {
        None => Standing::Within,
        Some((_, rule)) => Standing::Beyond { rule },
    }
}

/// The quota one more request `a` would exceed after `counts`: the field
/// of the request it concerns, and the rule in words.
fn beyond(
    ledger: &Ledger,
    channel: &str,
    rs: &RuleSet,
    counts: &Counts,
    a: &Asked,
) -> Option<(&'static str, String)> {
    let total = counts.total(a.family, &a.to, a.year);
    let pair = counts
        .pair
        .get(&(a.family, a.to.clone(), a.from.clone(), a.year))
        .copied()
        .unwrap_or(0);
    match a.family {
        Family::Inspection => {
            let i = &rs.inspection;
            if total >= i.per_year.value {
                return Some((
                    "to",
                    format!(
                        "{} has accepted {} in {}: no State is obliged to accept more than {} a calendar year ({})",
                        a.to,
                        count(total, "inspection", "inspections"),
                        a.year,
                        i.per_year.value,
                        i.per_year.cite()
                    ),
                ));
            }
            if pair >= i.per_year_from_same_state.value {
                return Some((
                    "to",
                    format!(
                        "{} has accepted {} from {} in {}: no more than {} a year from the same State ({})",
                        a.to,
                        count(pair, "inspection", "inspections"),
                        a.from,
                        a.year,
                        i.per_year_from_same_state.value,
                        i.per_year_from_same_state.cite()
                    ),
                ));
            }
        }
        Family::Evaluation => {
            let ev = &rs.evaluation;
            if let Some((_, info)) = units_reported(ledger, channel, &a.to, a.year) {
                let quota = ev.quota(info.units.len());
                if total >= quota {
                    return Some((
                        "to",
                        format!(
                            "{} reported {} under Chapter I for {}: its quota is {} a year (one per {} units, at most {}; {}), and {} accepted",
                            a.to,
                            count(
                                i64::try_from(info.units.len()).unwrap_or(i64::MAX),
                                "unit",
                                "units"
                            ),
                            info.year,
                            count(quota, "visit", "visits"),
                            ev.units_per_visit.value,
                            ev.per_year.value,
                            ev.units_per_visit.cite(),
                            if total == 1 {
                                "1 is".to_string()
                            } else {
                                format!("{total} are")
                            }
                        ),
                    ));
                }
                let share = ev.from_same_state(quota);
                if pair >= share {
                    return Some((
                        "to",
                        format!(
                            "{} has accepted {pair} of its {} in {} from {}: no more than {share} from the same State ({})",
                            a.to,
                            count(quota, "visit", "visits"),
                            a.year,
                            a.from,
                            ev.same_state_share.cite()
                        ),
                    ));
                }
            }
            if let Some(u) = &a.unit {
                let u = u.trim().to_lowercase();
                let n = counts
                    .unit
                    .get(&(a.to.clone(), u.clone(), a.year))
                    .copied()
                    .unwrap_or(0);
                if n >= ev.per_unit_per_year.value {
                    return Some((
                        "unit",
                        format!(
                            "the unit was visited {} in {}: no more than {} a year ({})",
                            count(n, "time", "times"),
                            a.year,
                            ev.per_unit_per_year.value,
                            ev.per_unit_per_year.cite()
                        ),
                    ));
                }
                let n = counts
                    .unit_pair
                    .get(&(a.to.clone(), u, a.from.clone(), a.year))
                    .copied()
                    .unwrap_or(0);
                if n >= ev.per_unit_from_same_state.value {
                    return Some((
                        "unit",
                        format!(
                            "{} visited the unit in {} already: no more than {} a year by the same State ({})",
                            a.from,
                            a.year,
                            ev.per_unit_from_same_state.value,
                            ev.per_unit_from_same_state.cite()
                        ),
                    ));
                }
            }
        }
    }
    None
}

/// The first entry of `kind` by `author` referencing `k`, in causal order.
fn first_by<'a, T: serde::de::DeserializeOwned>(
    ledger: &'a Ledger,
    k: &Known,
    kind: &str,
    author: &str,
) -> Option<(&'a Known, T)> {
    ledger
        .referencing(&k.hash)
        .filter(|a| a.entry.kind == kind && a.entry.author == author)
        .filter_map(|a| Some((a, parse_body::<T>(&a.entry.body).ok()?)))
        .min_by_key(|(a, _)| ledger.causal_rank(a))
}

/// Every request for an inspection or evaluation visit in `channel`, in
/// causal order, with its standing against the quotas; and the counts.
fn requests_with_counts<'a>(ledger: &'a Ledger, channel: &str) -> (Vec<Request<'a>>, Counts) {
    let c = ledger.channels.get(channel);
    let rs = ruleset_of(c);
    let mut counts = Counts::default();
    let mut out = Vec::new();
    let kinds = [
        Family::Inspection.request_kind(),
        Family::Evaluation.request_kind(),
    ];
    let mut asked: Vec<(usize, &Known, Asked)> = ledger
        .causal_order(&kinds, channel)
        .into_iter()
        .enumerate()
        .filter_map(|(i, k)| Some((i, k, Asked::of(&k.entry)?)))
        .collect();
    // Received first, by when (quotas are per State asked, so only each
    // State's own receipts are ever compared); then the rest.
    asked.sort_by_key(|(i, k, a)| match k.delivered.get(&a.to) {
        Some(t) => (0, (*t).max(k.entry.time), *i),
        None => (1, k.entry.time, *i),
    });
    for (_, k, a) in asked {
        let standing = standing(ledger, channel, rs, &counts, &a);
        let reply = first_by::<VerificationReply>(ledger, k, "verification_reply", &a.to);
        let report = first_by::<VerificationReport>(ledger, k, "verification_report", &a.from);
        let force_majeure = reply
            .as_ref()
            .is_some_and(|(_, r)| r.ground == Some(Ground::ForceMajeure));
        let counted = standing == Standing::Within && !force_majeure;
        if counted {
            counts.add(&a);
        }
        let mut r = Request {
            source: k,
            family: a.family,
            from: a.from,
            to: a.to,
            year: a.year,
            unit: a.unit,
            visit_date: a.visit_date,
            standing,
            counted,
            reply,
            report,
            findings: vec![],
        };
        r.findings = findings(&r, rs);
        out.push(r);
    }
    out.sort_by_cached_key(|r| ledger.causal_rank(r.source));
    (out, counts)
}

/// Every request for an inspection or evaluation visit in `channel`, in
/// causal order, with its standing against the quotas.
pub fn requests<'a>(ledger: &'a Ledger, channel: &str) -> Vec<Request<'a>> {
    requests_with_counts(ledger, channel).0
}

/// One request's standing, or `None` if `k` is not a request.
pub fn request<'a>(ledger: &'a Ledger, k: &Known) -> Option<Request<'a>> {
    requests(ledger, &k.entry.channel)
        .into_iter()
        .find(|r| r.source.hash == k.hash)
}

/// What the rules say about how a request went.
fn findings(r: &Request<'_>, rs: &RuleSet) -> Vec<String> {
    let mut out = Vec::new();
    let asked = r.source.entry.time;
    if let Some((_, reply)) = &r.reply {
        if reply.decision == Decision::Refused
            && r.standing == Standing::Within
            && reply.ground != Some(Ground::ForceMajeure)
        {
            out.push(format!(
                "refused within quota: {} is obliged to accept this {}",
                r.to,
                r.family.noun()
            ));
        }
        if r.family == Family::Inspection
            && let Some(arrival) = reply.arrival
        {
            let limit = asked.plus_seconds(rs.inspection.entry_hours.value * 3600);
            if arrival.0 > limit {
                out.push(format!(
                    "the team is received {} after the request: entry is due within {} hours ({})",
                    hours_between(asked, arrival.0),
                    rs.inspection.entry_hours.value,
                    rs.inspection.entry_hours.cite()
                ));
            }
        }
    }
    if let Some((_, report)) = &r.report {
        let limit = match r.family {
            Family::Inspection => &rs.inspection.duration_hours,
            Family::Evaluation => &rs.evaluation.duration_hours,
        };
        let took = report.ended.0.unix() - report.arrived.0.unix();
        if took > limit.value * 3600 {
            out.push(format!(
                "lasted {}: the {} ends within {} hours ({})",
                hours_between(report.arrived.0, report.ended.0),
                r.family.noun(),
                limit.value,
                limit.cite()
            ));
        }
    }
    out
}

fn hours_between(a: Timestamp, b: Timestamp) -> String {
    format!("{} h", (b.unix() - a.unix()) / 3600)
}

/// What each participating State of `channel` accepted in `year`, against
/// its quotas.
pub fn quotas(ledger: &Ledger, channel: &str, year: i64) -> Vec<QuotaLeft> {
    let Some(c) = ledger.channels.get(channel) else {
        return vec![];
    };
    let rs = ruleset_of(Some(c));
    let (_, counts) = requests_with_counts(ledger, channel);
    c.charter
        .members
        .iter()
        .filter(|m| c.is_participating_state(m))
        .map(|state| {
            let units = units_reported(ledger, channel, state, year).map(|(_, i)| i.units.len());
            QuotaLeft {
                state: state.clone(),
                year,
                inspections: counts.total(Family::Inspection, state, year),
                inspection_quota: rs.inspection.per_year.value,
                units,
                evaluations: counts.total(Family::Evaluation, state, year),
                evaluation_quota: units.map(|u| rs.evaluation.quota(u)),
            }
        })
        .collect()
}

/// What the author's node checks before it sends a request, a reply or a
/// report, against the history it holds: a request beyond a quota is
/// refused; a reply comes from the State asked, a report from the State
/// that asked; an evaluation visit names a unit the State reported.
pub fn check_in_history(entry: &Entry, ledger: &Ledger) -> Vec<Violation> {
    let mut v = Violations::default();
    if let Some(a) = Asked::of(entry) {
        let c = ledger.channels.get(&entry.channel);
        let rs = ruleset_of(c);
        let (held, counts) = requests_with_counts(ledger, &entry.channel);
        if let Some((field, rule)) = beyond(ledger, &entry.channel, rs, &counts, &a) {
            v.push(field, format!("beyond quota, refused: {rule}"));
        }
        if let Some(day) = a.visit_date {
            let same_day: Vec<Request<'_>> = held
                .into_iter()
                .filter(|r| {
                    r.family == Family::Evaluation && r.to == a.to && r.visit_date == Some(day)
                })
                .filter(|r| r.standing == Standing::Within)
                .filter(|r| {
                    !r.reply
                        .as_ref()
                        .is_some_and(|(_, b)| b.decision == Decision::Refused)
                })
                .collect();
            let limit = &rs.evaluation.at_a_time;
            if i64::try_from(same_day.len()).is_ok_and(|n| n >= limit.value) {
                v.push(
                    "date",
                    format!(
                        "{} receives a visit from {} on {day} ({}): only {} at a time on its territory ({})",
                        a.to,
                        same_day[0].from,
                        same_day[0].source.id(),
                        limit.value,
                        limit.cite()
                    ),
                );
            }
        }
        if let Some(unit) = &a.unit
            && let Some((k, info)) = units_reported(ledger, &entry.channel, &a.to, a.year)
        {
            let want = unit.trim().to_lowercase();
            v.check(
                info.units
                    .iter()
                    .any(|u| u.designation.trim().to_lowercase() == want),
                "unit",
                format!(
                    "{} did not report a unit {unit:?} under Chapter I for {} ({})",
                    a.to,
                    info.year,
                    k.id()
                ),
            );
        }
    }
    let answers = [
        ("verification_reply", "the State asked", true),
        ("verification_report", "the State that asked", false),
    ];
    for (kind, who, by_receiver) in answers {
        if entry.kind != kind {
            continue;
        }
        let Some(target) = entry.refs.first().and_then(|r| ledger.get(r)) else {
            continue;
        };
        if let Some(a) = Asked::of(&target.entry) {
            let must = if by_receiver { &a.to } else { &a.from };
            v.check(
                entry.author == *must,
                "refs[0]",
                format!(
                    "only {who} ({must}) answers {} this way, not {}",
                    target.id(),
                    entry.author
                ),
            );
        }
    }
    v.0
}

/// The quotas a new entry of these kinds can change: every request of the
/// channel is judged again (see the module's note on order).
pub const RECONSIDERS: &[&str] = &["inspection_request", "evaluation_visit_request"];

impl Request<'_> {
    /// When the inspection or visit ends at the latest: the team's
    /// arrival (as the reply gives it, else the latest the rules allow)
    /// plus the longest it may last.
    pub fn latest_end(&self, rs: &RuleSet) -> Timestamp {
        let arrival = self
            .reply
            .as_ref()
            .and_then(|(_, r)| r.arrival)
            .map(|a| a.0);
        let asked = self.source.entry.time;
        let (arrival, lasts) = match self.family {
            Family::Inspection => (
                arrival
                    .unwrap_or_else(|| asked.plus_seconds(rs.inspection.entry_hours.value * 3600)),
                &rs.inspection.duration_hours,
            ),
            Family::Evaluation => (
                arrival.unwrap_or_else(|| self.visit_date.map_or(asked, Date::start)),
                &rs.evaluation.duration_hours,
            ),
        };
        arrival.plus_seconds(lasts.value * 3600)
    }

    pub fn accepted(&self) -> bool {
        self.reply
            .as_ref()
            .is_some_and(|(_, r)| r.decision == Decision::Accepted)
    }
}
