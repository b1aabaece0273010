//! Military activities: annual calendars, prior notifications (checked
//! against the Vienna Document thresholds and lead time), invitations to
//! observe, requests for briefings and briefings.

use std::collections::BTreeMap;

use parley_log::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::channel::ChannelState;
use crate::dates::{Date, Instant};
use crate::geo::Area;
use crate::hotline::check_texts;
use crate::rules::{self, RuleSet, group};
use crate::violation::Violations;

/// What kind of activity is notified (VD11 Chapter V).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityType {
    LandExercise,
    Concentration,
    AmphibiousLanding,
    HeliborneLanding,
    ParachuteAssault,
    Transfer,
    AirActivity,
    NavalActivity,
}

/// Why a notification comes later than the lead time allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LateNotice {
    /// "alert" (a snap exercise carried out without advance notice to the
    /// troops) or "other".
    pub kind: LateKind,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LateKind {
    Alert,
    Other,
}

/// The numbers of a military activity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Forces {
    #[serde(default)]
    pub troops: u32,
    #[serde(default)]
    pub battle_tanks: u32,
    #[serde(default)]
    pub armoured_combat_vehicles: u32,
    /// Artillery pieces, mortars and multiple rocket launchers of 100 mm and above.
    #[serde(default)]
    pub artillery_pieces: u32,
    #[serde(default)]
    pub combat_aircraft_sorties: u32,
    /// Amphibious, heliborne or parachute troops.
    #[serde(default)]
    pub airborne_amphibious_troops: u32,
}

impl Forces {
    pub fn get(&self, field: &str) -> i64 {
        i64::from(match field {
            "troops" => self.troops,
            "battle_tanks" => self.battle_tanks,
            "armoured_combat_vehicles" => self.armoured_combat_vehicles,
            "artillery_pieces" => self.artillery_pieces,
            "combat_aircraft_sorties" => self.combat_aircraft_sorties,
            "airborne_amphibious_troops" => self.airborne_amphibious_troops,
            _ => 0,
        })
    }
}

/// `prior_notification`: notification of a military activity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorNotification {
    pub designation: String,
    pub purpose: String,
    pub activity_type: ActivityType,
    /// States whose forces take part.
    pub participating_states: Vec<String>,
    /// Level of command organizing and commanding, e.g. "army", "corps".
    pub command_level: String,
    pub start: Date,
    pub end: Date,
    pub area: Area,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_description: Option<String>,
    pub forces: Forces,
    /// Present only when the notification comes later than the lead time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<LateNotice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// When a notification came, as the Vienna Document judges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// A notifiable activity notified at least the lead time ahead.
    OnTime,
    /// Below every threshold: a voluntary notification, at any time.
    Voluntary,
    /// An alert activity notified by the time its troops commence it.
    AtCommencement,
    /// Later than the rules allow.
    Late,
}

/// How a notification measures up against a rule set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub ruleset: String,
    /// Notification thresholds met (empty: a voluntary notification).
    pub notifiable: Vec<String>,
    /// Observation thresholds met (empty: no observation required).
    pub observation: Vec<String>,
    /// Constraining-provision thresholds exceeded.
    pub constrained: Vec<String>,
    /// Days from the notification to the start.
    pub lead_days: i64,
    pub required_lead_days: i64,
    /// Notified later than the rules allow (only valid when marked as such).
    pub late: bool,
    pub timing: Timing,
    /// An alert activity short enough to be exempt from observation.
    pub observation_exempt: bool,
    pub sorties_to_include: bool,
}

impl Assessment {
    pub fn observation_required(&self) -> bool {
        !self.observation.is_empty()
    }
}

/// The rule set of a channel (the default when none is named or known).
pub fn ruleset_of(channel: Option<&ChannelState>) -> &'static RuleSet {
    channel
        .and_then(|c| rules::get(&c.charter.rules.ruleset))
        .unwrap_or_else(rules::default_set)
}

fn met(thresholds: &[crate::rules::Threshold], f: &Forces) -> Vec<String> {
    thresholds
        .iter()
        .filter(|t| t.met_by(f.get(&t.field)))
        .map(|t| {
            format!(
                "{} {} ({} {})",
                group(f.get(&t.field)),
                t.label,
                t.op,
                group(t.value)
            )
        })
        .collect()
}

impl PriorNotification {
    /// Whether the activity is an alert activity (no advance notice to the troops).
    pub fn is_alert(&self) -> bool {
        self.late
            .as_ref()
            .is_some_and(|l| l.kind == LateKind::Alert)
    }

    /// Hours the activity lasts, counting whole days inclusively.
    pub fn duration_hours(&self) -> i64 {
        (self.start.days_until(self.end) + 1) * 24
    }

    pub fn assess(&self, notified_at: Timestamp, rs: &RuleSet) -> Assessment {
        let lead_days = Date::of(notified_at).days_until(self.start);
        let required = rs.notification.lead_days.value;
        let notifiable = met(&rs.notification.thresholds, &self.forces);
        let timing = if notifiable.is_empty() {
            Timing::Voluntary
        } else if lead_days >= required {
            Timing::OnTime
        } else if self.is_alert() && -lead_days <= rs.notification.alert_at_commencement.value {
            Timing::AtCommencement
        } else {
            Timing::Late
        };
        let observation_exempt =
            self.is_alert() && self.duration_hours() <= rs.observation.alert_exempt_hours.value;
        Assessment {
            ruleset: rs.name(),
            observation: if observation_exempt {
                vec![]
            } else {
                met(&rs.observation.thresholds, &self.forces)
            },
            notifiable,
            constrained: met(&rs.constraints.thresholds, &self.forces),
            lead_days,
            required_lead_days: required,
            late: timing == Timing::Late,
            timing,
            observation_exempt,
            sorties_to_include: i64::from(self.forces.combat_aircraft_sorties)
                >= rs.notification.sorties_to_include.value,
        }
    }

    pub fn check(&self, notified_at: Timestamp, rs: &RuleSet, v: &mut Violations) {
        for (field, s) in [
            ("designation", &self.designation),
            ("purpose", &self.purpose),
            ("command_level", &self.command_level),
        ] {
            v.check(!s.trim().is_empty(), field, "must not be empty");
        }
        v.check(
            !self.participating_states.is_empty(),
            "participating_states",
            "name at least one state",
        );
        v.check(
            self.end >= self.start,
            "end",
            format!(
                "the activity ends ({}) before it starts ({})",
                self.end, self.start
            ),
        );
        self.area.check("area", v);
        let a = self.assess(notified_at, rs);
        if a.late || a.timing == Timing::AtCommencement {
            match &self.late {
                None => v.push(
                    "start",
                    format!(
                        "start is {} days after notification; the Vienna Document requires {} ({}). Move the start to {} or later, or mark the notification late (an alert activity) with a reason",
                        a.lead_days,
                        a.required_lead_days,
                        rs.notification.lead_days.source,
                        Date::of(notified_at).plus_days(a.required_lead_days)
                    ),
                ),
                Some(l) => v.check(!l.reason.trim().is_empty(), "late.reason", "a late notification must give its reason"),
            }
        }
    }

    pub fn example(now: Timestamp) -> Value {
        let start = Date::of(now).plus_days(60);
        json!({
            "designation": "ZAPAD",
            "purpose": "Joint strategic exercise: defensive operations",
            "activity_type": "land_exercise",
            "participating_states": ["russia", "belarus"],
            "command_level": "joint strategic command",
            "start": start,
            "end": start.plus_days(6),
            "area": Area::rectangle(26.0, 52.0, 31.0, 55.5),
            "area_description": "Training grounds in Belarus and the western military district",
            "forces": {
                "troops": 12700,
                "battle_tanks": 280,
                "armoured_combat_vehicles": 470,
                "artillery_pieces": 200,
                "combat_aircraft_sorties": 70,
                "airborne_amphibious_troops": 0
            }
        })
    }
}

/// `activity_forecast`: the activities above the Chapter VIII thresholds a
/// State will carry out in `year`, communicated by 15 November two years
/// before (VD11 Chapter VIII); an activity not so communicated may not be
/// carried out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityForecast {
    pub year: u16,
    pub activities: Vec<CalendarActivity>,
}

impl ActivityForecast {
    pub fn check(&self, v: &mut Violations) {
        v.check(
            !self.activities.is_empty(),
            "activities",
            "forecast at least one activity",
        );
        for (i, a) in self.activities.iter().enumerate() {
            a.check(&format!("activities[{i}]"), self.year, "forecast's", v);
        }
    }

    /// Whether it was communicated in time for its year: by the calendar's
    /// due day (15 November) `years_ahead` years before.
    pub fn in_time(&self, sent: Timestamp, rs: &RuleSet) -> bool {
        let y = i64::from(self.year) - rs.constraints.forecast_years_ahead.value;
        Date::from_ymd(y, rs.calendar.due.month, rs.calendar.due.day)
            .is_some_and(|d| sent <= d.plus_days(1).start())
    }

    pub fn example(now: Timestamp) -> Value {
        let year = Date::of(now).year() + 2;
        json!({
            "year": year,
            "activities": [{
                "designation": "ZAPAD",
                "activity_type": "land_exercise",
                "purpose": "Joint strategic exercise",
                "start": format!("{year}-09-10"),
                "end": format!("{year}-09-16"),
                "area_description": "Belarus and the western military district",
                "participating_states": ["russia", "belarus"],
                "forces": {"troops": 45000}
            }]
        })
    }
}

/// One activity in an annual calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarActivity {
    pub designation: String,
    pub activity_type: ActivityType,
    pub purpose: String,
    pub start: Date,
    pub end: Date,
    pub area_description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<Area>,
    #[serde(default)]
    pub participating_states: Vec<String>,
    #[serde(default)]
    pub forces: Forces,
}

impl CalendarActivity {
    /// Checks one activity of a calendar or forecast for `year`.
    fn check(&self, f: &str, year: u16, whose: &str, v: &mut Violations) {
        v.check(
            !self.designation.trim().is_empty(),
            format!("{f}.designation"),
            "must not be empty",
        );
        v.check(
            self.end >= self.start,
            format!("{f}.end"),
            "the activity ends before it starts",
        );
        v.check(
            self.start.year() == i64::from(year),
            format!("{f}.start"),
            format!("{} is not in the {whose} year {year}", self.start),
        );
        if let Some(area) = &self.area {
            area.check(&format!("{f}.area"), v);
        }
    }
}

/// `annual_calendar`: the notifiable activities forecast for a year (VD11
/// Chapter VII); an empty list is the required "nil" calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnualCalendar {
    pub year: u16,
    pub activities: Vec<CalendarActivity>,
}

impl AnnualCalendar {
    pub fn check(&self, sent: Timestamp, v: &mut Violations) {
        v.check(
            i64::from(self.year) >= Date::of(sent).year(),
            "year",
            format!(
                "a calendar for {} is sent in {}: it is for a year already past",
                self.year,
                Date::of(sent).year()
            ),
        );
        for (i, a) in self.activities.iter().enumerate() {
            a.check(&format!("activities[{i}]"), self.year, "calendar's", v);
        }
    }

    pub fn example(now: Timestamp) -> Value {
        let year = Date::of(now).year() + 1;
        json!({
            "year": year,
            "activities": [{
                "designation": "STEADFAST DEFENDER",
                "activity_type": "land_exercise",
                "purpose": "Reinforcement and collective defence",
                "start": format!("{year}-05-10"),
                "end": format!("{year}-05-24"),
                "area_description": "Poland and the Baltic States",
                "participating_states": ["nato"],
                "forces": {"troops": 15000, "battle_tanks": 150}
            }]
        })
    }
}

/// `observation_invitation`: the notifying state invites observers to an
/// activity (`refs[0]`: the notification).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservationInvitation {
    /// Observers each invited state may send.
    pub observers_per_state: u8,
    pub programme: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_by: Option<Instant>,
}

/// `briefing_request`: a request for a briefing on an activity (`refs[0]`,
/// when given, is the notification or report it is about).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BriefingRequest {
    pub subject: String,
    pub questions: String,
    /// Who is asked; by default the author of the referenced entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// `briefing`: the briefing that answers a request (`refs[0]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Briefing {
    pub text: BTreeMap<String, String>,
}

impl Briefing {
    pub fn check(&self, channel: Option<&ChannelState>, v: &mut Violations) {
        check_texts(&self.text, "text", channel, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A notification with every number zero but `field`.
    fn with_force(field: &str, value: u32) -> PriorNotification {
        let mut n = notification(0, "2027-06-01");
        let f = &mut n.forces;
        *match field {
            "troops" => &mut f.troops,
            "battle_tanks" => &mut f.battle_tanks,
            "armoured_combat_vehicles" => &mut f.armoured_combat_vehicles,
            "artillery_pieces" => &mut f.artillery_pieces,
            "airborne_amphibious_troops" => &mut f.airborne_amphibious_troops,
            other => panic!("unknown field {other}"),
        } = value;
        n
    }

    fn notification(troops: u32, start: &str) -> PriorNotification {
        let mut n: PriorNotification =
            serde_json::from_value(PriorNotification::example(at("2027-01-01T00:00:00Z"))).unwrap();
        n.forces = Forces {
            troops,
            ..Forces::default()
        };
        n.start = Date::parse(start).unwrap();
        n.end = n.start.plus_days(5);
        n
    }

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    /// Every threshold at, just below and just above its value.
    #[test]
    fn thresholds_at_below_and_above() {
        let rs = rules::default_set();
        for (list, is_obs) in [
            (&rs.notification.thresholds, false),
            (&rs.observation.thresholds, true),
        ] {
            for t in list {
                for (delta, expect) in [(-1i64, false), (0, true), (1, true)] {
                    let n = with_force(&t.field, (t.value + delta) as u32);
                    let a = n.assess(at("2027-01-01T00:00:00Z"), rs);
                    let hit = if is_obs {
                        a.observation_required()
                    } else {
                        !a.notifiable.is_empty()
                    };
                    assert_eq!(
                        hit,
                        expect,
                        "{} {} {} (observation: {is_obs})",
                        t.field,
                        t.op,
                        t.value + delta
                    );
                }
            }
        }
        // Constraining provisions are "more than": at the value, not yet.
        for t in &rs.constraints.thresholds {
            for (delta, expect) in [(0i64, false), (1, true)] {
                let n = with_force(&t.field, (t.value + delta) as u32);
                assert_eq!(
                    !n.assess(at("2027-01-01T00:00:00Z"), rs)
                        .constrained
                        .is_empty(),
                    expect,
                    "{}",
                    t.field
                );
            }
        }
    }

    /// The 42-day lead time: 42 days is on time, 41 is late.
    #[test]
    fn lead_time_boundary() {
        let rs = rules::default_set();
        let sent = at("2027-01-01T23:59:59Z");
        let check = |n: &PriorNotification| {
            let mut v = Violations::default();
            n.check(sent, rs, &mut v);
            v.0
        };
        assert!(
            check(&notification(9000, "2027-02-12")).is_empty(),
            "42 days"
        );
        let late = check(&notification(9000, "2027-02-11"));
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].field, "start");
        assert!(
            late[0].rule.starts_with(
                "start is 41 days after notification; the Vienna Document requires 42"
            ),
            "{}",
            late[0].rule
        );
        let mut marked = notification(9000, "2027-01-02");
        marked.late = Some(LateNotice {
            kind: LateKind::Alert,
            reason: "Snap readiness check".into(),
        });
        assert!(check(&marked).is_empty());
        assert_eq!(
            marked.assess(sent, rs).timing,
            Timing::AtCommencement,
            "an alert activity notified before it starts is not late"
        );
        marked.late = Some(LateNotice {
            kind: LateKind::Alert,
            reason: " ".into(),
        });
        assert_eq!(check(&marked)[0].field, "late.reason");
    }

    /// When a notification is late, voluntary or on time, and when an
    /// alert activity must be observed, case by case with the paragraph.
    #[test]
    fn timing_and_observation_follow_the_vienna_document() {
        let rs = rules::default_set();
        let sent = at("2027-01-01T10:00:00Z");
        let alert = |reason: &str| {
            Some(LateNotice {
                kind: LateKind::Alert,
                reason: reason.into(),
            })
        };
        let other = Some(LateNotice {
            kind: LateKind::Other,
            reason: "normal training".into(),
        });
        #[allow(clippy::type_complexity)]
        let cases: [(
            &str,
            u32,
            &str,
            &str,
            Option<LateNotice>,
            Timing,
            bool,
            usize,
        ); 8] = [
            (
                "Ch. V para. 38: below every threshold, 10 days ahead is a voluntary notification",
                4000,
                "2027-01-11",
                "2027-01-12",
                None,
                Timing::Voluntary,
                false,
                0,
            ),
            (
                "Ch. V para. 38: a notifiable activity 42 days ahead is on time",
                9000,
                "2027-02-12",
                "2027-02-15",
                None,
                Timing::OnTime,
                false,
                0,
            ),
            (
                "Ch. V para. 38: a notifiable activity 10 days ahead, not marked late, is refused",
                9000,
                "2027-01-11",
                "2027-01-12",
                None,
                Timing::Late,
                false,
                1,
            ),
            (
                "Ch. V para. 41: an alert activity notified the day its troops commence",
                9000,
                "2027-01-01",
                "2027-01-02",
                alert("readiness check"),
                Timing::AtCommencement,
                false,
                0,
            ),
            (
                "Ch. V para. 41: notified two days after it ended, as 'normal training', is late",
                9000,
                "2026-12-27",
                "2026-12-29",
                other.clone(),
                Timing::Late,
                false,
                0,
            ),
            (
                "Ch. V para. 41: an alert activity notified after it began is late",
                9000,
                "2026-12-30",
                "2027-01-02",
                alert("readiness check"),
                Timing::Late,
                false,
                0,
            ),
            (
                "Ch. VI para. 58: an alert activity of 14,000 troops lasting 72 hours is exempt from observation",
                14000,
                "2027-01-01",
                "2027-01-03",
                alert("snap"),
                Timing::AtCommencement,
                false,
                0,
            ),
            (
                "Ch. VI para. 58: an alert activity of 14,000 troops lasting more than 72 hours is observed",
                14000,
                "2027-01-01",
                "2027-01-04",
                alert("snap"),
                Timing::AtCommencement,
                true,
                0,
            ),
        ];
        for (what, troops, start, end, late, timing, observed, violations) in cases {
            let mut n = notification(troops, start);
            n.end = Date::parse(end).unwrap();
            n.late = late;
            let a = n.assess(sent, rs);
            assert_eq!(a.timing, timing, "{what}");
            assert_eq!(a.late, timing == Timing::Late, "{what}");
            assert_eq!(a.observation_required(), observed, "{what}");
            let mut v = Violations::default();
            n.check(sent, rs, &mut v);
            assert_eq!(v.0.len(), violations, "{what}: {:?}", v.0);
        }
    }
}
