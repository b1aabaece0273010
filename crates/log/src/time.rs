//! RFC 3339 UTC timestamps with whole seconds, the one spelling parley signs:
//! `YYYY-MM-DDTHH:MM:SSZ`. Seconds match the resolution of cosignature times.

use std::fmt;

/// Seconds since the Unix epoch, between 1970-01-01 and 9999-12-31.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Largest representable instant: 9999-12-31T23:59:59Z.
const MAX_SECONDS: i64 = 253_402_300_799;

/// Why a string is not a parley timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an RFC 3339 UTC time of the form YYYY-MM-DDTHH:MM:SSZ")]
pub struct TimestampError(pub String);

impl Timestamp {
    pub fn from_unix(secs: i64) -> Option<Timestamp> {
        (0..=MAX_SECONDS).contains(&secs).then_some(Timestamp(secs))
    }

    pub fn unix(self) -> i64 {
        self.0
    }

    /// The current time from the system clock.
    pub fn now() -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Timestamp(secs.clamp(0, MAX_SECONDS))
    }

    pub fn plus_seconds(self, secs: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs).clamp(0, MAX_SECONDS))
    }

    /// The instant of a UTC calendar date and time, if valid and in range.
    pub fn from_civil(y: i64, mo: i64, d: i64, h: i64, mi: i64, sec: i64) -> Option<Timestamp> {
        if !(1970..=9999).contains(&y)
            || !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo)
        {
            return None;
        }
        if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..60).contains(&sec) {
            return None;
        }
        Timestamp::from_unix(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec)
    }

    /// The UTC calendar date: (year, month, day).
    pub fn date(self) -> (i64, i64, i64) {
        civil_from_days(self.0.div_euclid(86_400))
    }

    pub fn parse(s: &str) -> Result<Timestamp, TimestampError> {
        let err = || TimestampError(s.to_string());
        let b = s.as_bytes();
        if b.len() != 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
            || b[19] != b'Z'
        {
            return Err(err());
        }
        let num = |r: std::ops::Range<usize>| -> Result<i64, TimestampError> {
            let part = &s[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            part.parse().map_err(|_| err())
        };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        Timestamp::from_civil(y, mo, d, h, mi, sec).ok_or_else(err)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let rem = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil calendar algorithms (public domain).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T12:34:56Z",
            "2022-01-12T10:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(Timestamp::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(
            Timestamp::parse("2022-01-12T10:00:00Z").unwrap().unix(),
            1_641_981_600
        );
    }

    #[test]
    fn rejects_other_spellings() {
        for s in [
            "2022-01-12T10:00:00+00:00",
            "2022-01-12t10:00:00Z",
            "2022-01-12T10:00:00.000Z",
            "2022-02-29T10:00:00Z",
            "2022-13-01T10:00:00Z",
            "2022-01-12T24:00:00Z",
            "1969-12-31T23:59:59Z",
            "2022-1-12T10:00:00Z",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s}");
        }
    }
}
