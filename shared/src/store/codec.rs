//! Item <-> value conversion through serde, plus the few attribute helpers the store needs.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::errors::Item;
use crate::error::Error;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// `value`'s fields as attributes, plus `extra` (keys, type tag, counters).
pub(crate) fn encode<T: Serialize>(value: &T, extra: &[(&str, AttributeValue)]) -> Item {
    let mut item: Item = serde_dynamo::to_item(value).unwrap_or_else(|e| {
        // Only our own domain types are encoded; they always form a map.
        unreachable!("domain value did not encode as an item: {e}")
    });
    for (name, value) in extra {
        item.insert((*name).to_owned(), value.clone());
    }
    item
}

pub(crate) fn decode<T: DeserializeOwned>(item: Item) -> Result<T, Error> {
    serde_dynamo::from_item(item).map_err(|e| {
        tracing::error!(error = %e, "stored item does not match its type");
        Error::Internal
    })
}

pub(crate) fn string_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

pub(crate) fn number_attr(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}
