//! Instants as the API shows them: RFC 3339, UTC, millisecond precision (e.g.
//! `2026-11-23T10:50:09.123Z`). The same text is stored, so stored times sort correctly.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Self {
        // Truncated to what the text form keeps, so a value survives a round trip unchanged.
        let now = Utc::now();
        Self(DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now))
    }

    pub fn parse(text: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(text).ok().map(|t| Self(t.with_timezone(&Utc)))
    }

    pub fn plus_hours(self, hours: u32) -> Self {
        Self(self.0 + Duration::hours(i64::from(hours)))
    }

    pub fn plus_millis(self, millis: i64) -> Self {
        Self(self.0 + Duration::milliseconds(millis))
    }

    pub fn epoch_millis(self) -> i64 {
        self.0.timestamp_millis()
    }

    /// Seconds since the epoch, as DynamoDB's TTL attribute wants them.
    pub fn epoch_seconds(self) -> i64 {
        self.0.timestamp()
    }

    /// Expiry as the API means it: an instant is past once `now` has reached it.
    pub fn is_reached_at(self, now: Timestamp) -> bool {
        self <= now
    }

    pub fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }
}

/// Where "now" comes from. A handler reads it once per request and passes that instant down,
/// so one request decides every expiry against one instant, and tests move time without
/// sleeping.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(Timestamp::now))
    }

    pub fn from_fn(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    pub fn now(&self) -> Timestamp {
        (self.0)()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_order() {
        let t = Timestamp::now();
        let text = t.to_string();
        assert!(text.ends_with('Z') && text.len() == 24, "{text}");
        assert_eq!(Timestamp::parse(&text), Some(t));
        assert!(t.plus_hours(1) > t);
        assert!(t.plus_hours(1).to_string() > text, "text sorts like time");
        assert_eq!(t.plus_hours(1).epoch_seconds() - t.epoch_seconds(), 3600);
    }
}
