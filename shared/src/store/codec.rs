//! Item <-> value conversion through serde, plus the few attribute helpers the store needs.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::errors::Item;
use crate::error::Error;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Attributes of free-form JSON (the product's metadata, an audit event's details) are
/// stored as JSON text: JSON allows what a DynamoDB map does not (an empty key, for one).
/// Metadata is left out when empty; details written before this were maps, read as such.
pub(crate) const METADATA: &str = "metadata";
const JSON_TEXT: [&str; 2] = [METADATA, "details"];

/// `value`'s fields as attributes, plus `extra` (keys, type tag, counters).
pub(crate) fn encode<T: Serialize>(value: &T, extra: &[(&str, AttributeValue)]) -> Item {
    let mut item: Item = serde_dynamo::to_item(value).unwrap_or_else(|e| {
        // Only our own domain types are encoded; they always form a map.
        unreachable!("domain value did not encode as an item: {e}")
    });
    if JSON_TEXT.iter().any(|name| item.contains_key(*name)) {
        let json = serde_json::to_value(value).unwrap_or_default();
        for name in JSON_TEXT {
            if item.remove(name).is_some() {
                let text = json.get(name).map(Value::to_string).unwrap_or_default();
                if !(name == METADATA && text == "{}") {
                    item.insert(name.to_owned(), s(text));
                }
            }
        }
    }
    for (name, value) in extra {
        item.insert((*name).to_owned(), value.clone());
    }
    item
}

/// The value of `item`. Its JSON text attributes are parsed by serde_json itself, never
/// through a DynamoDB map: a number reads back exactly as written (`1.0` stays `1.0`), so the
/// text of what was read equals the text stored, which conditions compare.
pub(crate) fn decode<T: DeserializeOwned>(mut item: Item) -> Result<T, Error> {
    let mut texts = Vec::new();
    for name in JSON_TEXT {
        if let Some(AttributeValue::S(text)) = item.remove(name) {
            let Ok(json) = serde_json::from_str::<Value>(&text) else {
                tracing::error!(attribute = name, "stored JSON text is not JSON");
                return Err(Error::Internal);
            };
            texts.push((name, json));
        } else if let Some(map) = item.remove(name) {
            // Written as a map before JSON text (audit details of older items).
            item.insert(name.to_owned(), map);
        }
    }
    let mismatch = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "stored item does not match its type");
        Error::Internal
    };
    if texts.is_empty() {
        return serde_dynamo::from_item(item).map_err(|e| mismatch(&e));
    }
    let mut value: Value = serde_dynamo::from_item(item).map_err(|e| mismatch(&e))?;
    for (name, json) in texts {
        value[name] = json;
    }
    serde_json::from_value(value).map_err(|e| mismatch(&e))
}

pub(crate) fn string_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

pub(crate) fn number_attr(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}
