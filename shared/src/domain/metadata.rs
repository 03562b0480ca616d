//! Metadata: free-form JSON a product attaches to an organization, an invitation or a
//! membership (the projects an invitee is assigned to, a billing id). Returned in every
//! object, never used for authorization.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A JSON object of at most [`Metadata::MAX_KEYS`] keys and [`Metadata::MAX_BYTES`]
/// serialized. The empty object when none was given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub struct Metadata(Map<String, Value>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMetadata {
    #[error("metadata must be a JSON object")]
    NotAnObject,
    #[error("metadata may have at most 32 keys")]
    TooManyKeys,
    #[error("metadata may be at most 4096 bytes serialized")]
    TooLarge,
}

impl Metadata {
    pub const MAX_KEYS: usize = 32;
    pub const MAX_BYTES: usize = 4096;

    pub fn parse(value: Value) -> Result<Self, InvalidMetadata> {
        let Value::Object(map) = value else {
            return Err(InvalidMetadata::NotAnObject);
        };
        if map.len() > Self::MAX_KEYS {
            return Err(InvalidMetadata::TooManyKeys);
        }
        let metadata = Self(map);
        if metadata.to_json().len() > Self::MAX_BYTES {
            return Err(InvalidMetadata::TooLarge);
        }
        Ok(metadata)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The compact JSON text (how it is stored, and what its size limit counts).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".to_owned())
    }
}

impl TryFrom<Value> for Metadata {
    type Error = InvalidMetadata;
    fn try_from(value: Value) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Metadata> for Value {
    fn from(metadata: Metadata) -> Self {
        Value::Object(metadata.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_within_the_limits_only() {
        assert!(Metadata::parse(json!({})).unwrap().is_empty());
        let nested = json!({ "projects": ["a", "b"], "plan": { "tier": 2, "trial": false }, "": null });
        assert_eq!(Value::from(Metadata::parse(nested.clone()).unwrap()), nested);
        for not_object in [json!([]), json!("x"), json!(1), json!(null)] {
            assert_eq!(Metadata::parse(not_object), Err(InvalidMetadata::NotAnObject));
        }
        let keys = |n: usize| Value::Object((0..n).map(|i| (format!("k{i}"), json!(i))).collect());
        assert!(Metadata::parse(keys(32)).is_ok());
        assert_eq!(Metadata::parse(keys(33)), Err(InvalidMetadata::TooManyKeys));
        // {"k":"…"} is 8 bytes around the value.
        assert!(Metadata::parse(json!({ "k": "x".repeat(4088) })).is_ok());
        assert_eq!(Metadata::parse(json!({ "k": "x".repeat(4089) })), Err(InvalidMetadata::TooLarge));
    }

    #[test]
    fn deserializing_checks_the_limits_too() {
        assert!(serde_json::from_value::<Metadata>(json!({ "a": 1 })).is_ok());
        assert!(serde_json::from_value::<Metadata>(json!([1])).is_err());
    }
}
