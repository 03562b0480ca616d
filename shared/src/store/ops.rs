//! Small builders for the transaction items the store composes.

use aws_sdk_dynamodb::types::{Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};

use super::{Item, keys, s};

/// A `Put` under `condition` (none: unconditional). On failure the old item comes back.
pub(crate) fn put_if(
    table: &str,
    item: Item,
    condition: Option<&str>,
    values: &[(&str, &str)],
) -> TransactWriteItem {
    let mut put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    if let Some(condition) = condition {
        put = put.condition_expression(condition);
    }
    for (name, value) in values {
        put = put.expression_attribute_values(*name, s(*value));
    }
    TransactWriteItem::builder().put(put.build().expect("table and item are set")).build()
}

/// A `Delete` of (`pk`, `sk`) under `condition` (none: unconditional).
pub(crate) fn delete_if(
    table: &str,
    pk: String,
    sk: String,
    condition: Option<&str>,
    values: &[(&str, &str)],
) -> TransactWriteItem {
    let mut delete = Delete::builder()
        .table_name(table)
        .key(keys::PK, s(pk))
        .key(keys::SK, s(sk))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    if let Some(condition) = condition {
        delete = delete.condition_expression(condition);
    }
    for (name, value) in values {
        delete = delete.expression_attribute_values(*name, s(*value));
    }
    TransactWriteItem::builder().delete(delete.build().expect("table and key are set")).build()
}

pub(crate) const EXISTS: Option<&str> = Some("attribute_exists(PK)");
pub(crate) const NEW: Option<&str> = Some("attribute_not_exists(PK)");
