//! Usage per member (API.md "Usage per member"): what a service reports, checked value by
//! value, and the exact decimals it is counted in.
//!
//! Quantities are never floats: a [`Quantity`] is an integer count of 10^-12 units, parsed
//! from the number's own text, stored as DynamoDB's exact decimal `Number` and added there
//! with `ADD`. Its bounds (at most 18 significant digits and 12 after the point, so under
//! 10^18) keep every counter's sum exact inside DynamoDB's 38 digits for 10^8 records of the
//! largest size.

use std::fmt;

use chrono::{Datelike, Duration, NaiveDate};

use super::Timestamp;

/// A decimal of at most 18 significant digits and 12 decimal places, under 10^18 in magnitude,
/// negative allowed (credits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity(i128);

/// Digits after the point that a quantity may carry; the unit all sums are kept in.
pub const SCALE: u32 = 12;
/// Significant digits a reported quantity may carry.
pub const MAX_SIGNIFICANT: usize = 18;

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);

    /// A reported quantity: `-12.5`, `3`, `1.25e3`, `0.000001`; at most 18 significant digits
    /// and 12 decimal places.
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::parse_with(text, Some(MAX_SIGNIFICANT))
    }

    /// A stored sum: as [`Quantity::parse`], without the bound on significant digits.
    pub fn parse_stored(text: &str) -> Result<Self, String> {
        Self::parse_with(text, None)
    }

    fn parse_with(text: &str, max_significant: Option<usize>) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a decimal number");
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') if max_significant.is_none() => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => {
                let exp: i32 = rest[i + 1..].parse().map_err(|_| bad())?;
                (&rest[..i], exp)
            }
            None => (rest, 0),
        };
        let (whole, fraction) = match mantissa.split_once('.') {
            Some((w, f)) => (w, f),
            None => (mantissa, ""),
        };
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
            || (mantissa.contains('.') && fraction.is_empty())
        {
            return Err(bad());
        }
        // All digits, and where the point is: value = digits × 10^(exponent − fraction.len()).
        let digits: String = format!("{whole}{fraction}");
        let digits = digits.trim_start_matches('0');
        let mut power = i64::from(exponent) - fraction.len() as i64;
        let mut digits = digits.to_owned();
        while digits.ends_with('0') {
            digits.pop();
            power += 1;
        }
        if digits.is_empty() {
            return Ok(Self::ZERO);
        }
        if let Some(max) = max_significant
            && digits.len() > max
        {
            return Err(format!("{text}: at most {max} significant digits"));
        }
        if max_significant.is_some() && digits.len() as i64 + power > MAX_SIGNIFICANT as i64 {
            return Err(format!("{text}: under 10^18 in magnitude"));
        }
        if power < -i64::from(SCALE) {
            return Err(format!("{text}: at most {SCALE} digits after the point"));
        }
        let shift = power + i64::from(SCALE);
        if digits.len() as i64 + shift > 38 {
            return Err(format!("{text} is too large"));
        }
        let mut units: i128 = digits.parse().map_err(|_| bad())?;
        for _ in 0..shift {
            units = units.checked_mul(10).ok_or_else(bad)?;
        }
        Ok(Self(if negative { -units } else { units }))
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Units of 10^-12.
    pub fn units(self) -> i128 {
        self.0
    }

    pub fn from_units(units: i128) -> Self {
        Self(units)
    }
}

/// The shortest exact decimal: `-12.5`, `3`, `0.000001`, never an exponent.
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let scale = 10u128.pow(SCALE);
        let (whole, fraction) = (abs / scale, abs % scale);
        if fraction == 0 {
            return write!(f, "{sign}{whole}");
        }
        let fraction = format!("{fraction:012}");
        write!(f, "{sign}{whole}.{}", fraction.trim_end_matches('0'))
    }
}

/// What is counted: `[a-z0-9_.-]{1,64}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Metric(String);

impl Metric {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A record's id: what makes it count once (1–128 characters, none of them control ones).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(String);

impl RecordId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Option<Self> {
        let ok =
            !raw.is_empty() && raw.chars().count() <= Self::MAX_LEN && !raw.chars().any(char::is_control);
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long an id makes its record count once, and how far back a record's `at` may lie.
pub const WINDOW: Duration = Duration::days(7);

/// Whether `at` lies in the window a record may be reported for: at most 7 days before
/// `now` (exactly 7 days is in) and not after it.
pub fn in_window(at: Timestamp, now: Timestamp) -> bool {
    let (at, now) = (at.as_datetime(), now.as_datetime());
    at <= now && now - at <= WINDOW
}

/// A UTC day, as counters are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(NaiveDate);

impl Day {
    pub fn of(at: Timestamp) -> Self {
        Self(at.as_datetime().date_naive())
    }

    /// `YYYY-MM-DD`.
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == 10).then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().map(Self)).flatten()
    }

    /// `yyyymmdd`, as keys hold it (sorts as days do).
    pub fn compact(self) -> String {
        format!("{:04}{:02}{:02}", self.0.year(), self.0.month(), self.0.day())
    }

    pub fn from_compact(raw: &str) -> Option<Self> {
        NaiveDate::parse_from_str(raw, "%Y%m%d").ok().map(Self)
    }

    pub fn plus_days(self, days: i64) -> Self {
        Self(self.0 + Duration::days(days))
    }

    /// Days from `self` to `other`, both counted: 1 for the same day.
    pub fn span_to(self, other: Day) -> i64 {
        (other.0 - self.0).num_days() + 1
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

/// The most days one read of totals covers (`from` and `to` both counted).
pub const MAX_DAYS: i64 = 92;
/// The days a read covers when it names no `from`: the last 30, today included.
pub const DEFAULT_DAYS: i64 = 30;

/// How totals are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Member,
    Day,
}

impl GroupBy {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "member" => Some(Self::Member),
            "day" => Some(Self::Day),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_exact_decimals() {
        let q = |t| Quantity::parse(t).map(|q| q.to_string());
        assert_eq!(q("12.50").unwrap(), "12.5");
        assert_eq!(q("-3").unwrap(), "-3");
        assert_eq!(q("0").unwrap(), "0");
        assert_eq!(q("-0.0").unwrap(), "0");
        assert_eq!(q("1.25e3").unwrap(), "1250");
        assert_eq!(q("1E-12").unwrap(), "0.000000000001");
        assert_eq!(q("123456789012345678").unwrap(), "123456789012345678");
        assert_eq!(q("0.123456789012").unwrap(), "0.123456789012");
        assert!(q("1234567890123456789").is_err(), "19 significant digits");
        assert_eq!(q("1.000000000000000000").unwrap(), "1", "trailing zeros are not significant");
        assert!(q("1e18").is_err(), "under 10^18");
        assert_eq!(q("9.99e17").unwrap(), "999000000000000000");
        assert!(q("0.0000000000001").is_err(), "13 decimal places");
        for bad in ["", "-", "1.", ".5", "+1", "1e", "0x10", "1,5", " 1", "NaN", "1e99999999999"] {
            assert!(q(bad).is_err(), "{bad:?}");
        }
        let sum = Quantity::parse("0.1").unwrap().checked_add(Quantity::parse("0.2").unwrap()).unwrap();
        assert_eq!(sum.to_string(), "0.3");
        assert_eq!(
            Quantity::parse_stored("+1234567890123456789012.5").unwrap().to_string(),
            "1234567890123456789012.5"
        );
    }

    #[test]
    fn metrics_ids_days() {
        assert!(Metric::parse(&"a".repeat(64)).is_some());
        assert!(Metric::parse(&"a".repeat(65)).is_none());
        assert!(Metric::parse("api.calls_v2-x").is_some());
        for bad in ["", "API", "a b", "a#b", "é"] {
            assert!(Metric::parse(bad).is_none(), "{bad:?}");
        }
        assert!(RecordId::parse("r-1#x").is_some());
        assert!(RecordId::parse("a\nb").is_none());
        let day = Day::parse("2026-12-05").unwrap();
        assert_eq!(day.compact(), "20261205");
        assert_eq!(Day::from_compact("20261205"), Some(day));
        assert_eq!(day.plus_days(-4).span_to(day), 5);
        assert!(Day::parse("2026-2-05").is_none());
        let now = Timestamp::parse("2026-12-05T10:00:00.000Z").unwrap();
        assert!(in_window(Timestamp::parse("2026-11-28T10:00:00.000Z").unwrap(), now));
        assert!(!in_window(Timestamp::parse("2026-11-28T09:59:59.999Z").unwrap(), now));
        assert!(!in_window(now.plus_millis(1), now));
    }
}
