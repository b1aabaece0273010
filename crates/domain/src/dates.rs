//! Calendar dates (`YYYY-MM-DD`), for exercise periods and calendars, kept
//! apart from instants (RFC 3339 times) as the treaties do.

use std::fmt;

use parley_log::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A UTC calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Midnight UTC of the date.
    start: Timestamp,
}

impl Date {
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let p = &s[r];
            p.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| p.parse().ok())?
        };
        let start = Timestamp::from_civil(num(0..4)?, num(5..7)?, num(8..10)?, 0, 0, 0)?;
        Some(Date { start })
    }

    pub fn of(t: Timestamp) -> Date {
        let (y, m, d) = t.date();
        Date {
            start: Timestamp::from_civil(y, m, d, 0, 0, 0)
                .expect("a valid instant has a valid date"),
        }
    }

    pub fn from_ymd(y: i64, m: i64, d: i64) -> Option<Date> {
        Timestamp::from_civil(y, m, d, 0, 0, 0).map(|start| Date { start })
    }

    /// 00:00:00Z of the date.
    pub fn start(self) -> Timestamp {
        self.start
    }

    /// 24:00:00Z of the date (the first instant after it).
    pub fn end(self) -> Timestamp {
        self.start.plus_seconds(86_400)
    }

    pub fn year(self) -> i64 {
        self.start.date().0
    }

    pub fn plus_days(self, days: i64) -> Date {
        Date::of(self.start.plus_seconds(days * 86_400))
    }

    /// The same day `months` later; a day the month lacks becomes its
    /// last (31 December plus two months is the end of February).
    pub fn plus_months(self, months: i64) -> Date {
        let (y, m, d) = self.start.date();
        let n = y * 12 + (m - 1) + months;
        let (y, m) = (n.div_euclid(12), n.rem_euclid(12) + 1);
        (1..=d)
            .rev()
            .find_map(|d| Date::from_ymd(y, m, d))
            .expect("every month has a first day")
    }

    /// Whole days from `self` to `other` (negative if `other` is earlier).
    pub fn days_until(self, other: Date) -> i64 {
        (other.start.unix() - self.start.unix()).div_euclid(86_400)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.start.date();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("{s:?} is not a date of the form YYYY-MM-DD"))
        })
    }
}

impl JsonSchema for Date {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Date".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})
    }
}

/// An RFC 3339 UTC instant in a body (`YYYY-MM-DDTHH:MM:SSZ`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub Timestamp);

impl Serialize for Instant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Instant, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s)
            .map(Instant)
            .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Instant {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Instant".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "date-time", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let d = Date::parse("2022-01-12").unwrap();
        assert_eq!(d.to_string(), "2022-01-12");
        assert_eq!(d.plus_days(42).to_string(), "2022-02-23");
        assert_eq!(d.days_until(Date::parse("2022-02-23").unwrap()), 42);
        assert!(Date::parse("2022-02-30").is_none());
        assert_eq!(d.plus_months(2).to_string(), "2022-03-12");
        let eoy = Date::parse("2023-12-31").unwrap();
        assert_eq!(eoy.plus_months(2).to_string(), "2024-02-29");
        assert_eq!(eoy.plus_months(-12).to_string(), "2022-12-31");
        assert!(Date::parse("2022-2-3").is_none());
    }
}
