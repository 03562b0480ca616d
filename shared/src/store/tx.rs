//! Builders for the updates and condition checks that workspace and group transactions
//! compose (see `ops` for puts and deletes).

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::keys;
use super::s;

/// An expression with its values and names, as the builders below take it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expr {
    pub text: String,
    pub values: Vec<(String, AttributeValue)>,
    pub names: Vec<(String, String)>,
}

impl Expr {
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), ..Self::default() }
    }

    pub fn value(mut self, name: &str, value: AttributeValue) -> Self {
        self.values.push((name.to_owned(), value));
        self
    }

    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names.push((placeholder.to_owned(), attribute.to_owned()));
        self
    }
}

/// An `Update` of (`pk`, `sk`): `update` under `condition`.
pub(crate) fn update(
    table: &str,
    pk: String,
    sk: String,
    update: Expr,
    condition: Expr,
) -> TransactWriteItem {
    let mut builder = Update::builder()
        .table_name(table)
        .key(keys::PK, s(pk))
        .key(keys::SK, s(sk))
        .update_expression(update.text)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    if !condition.text.is_empty() {
        builder = builder.condition_expression(condition.text);
    }
    for (name, value) in update.values.into_iter().chain(condition.values) {
        builder = builder.expression_attribute_values(name, value);
    }
    for (placeholder, attribute) in update.names.into_iter().chain(condition.names) {
        builder = builder.expression_attribute_names(placeholder, attribute);
    }
    TransactWriteItem::builder().update(builder.build().expect("table, key and expression are set")).build()
}

/// A `ConditionCheck` of (`pk`, `sk`).
pub(crate) fn check(table: &str, pk: String, sk: String, condition: Expr) -> TransactWriteItem {
    let mut builder = ConditionCheck::builder()
        .table_name(table)
        .key(keys::PK, s(pk))
        .key(keys::SK, s(sk))
        .condition_expression(condition.text)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    for (name, value) in condition.values {
        builder = builder.expression_attribute_values(name, value);
    }
    for (placeholder, attribute) in condition.names {
        builder = builder.expression_attribute_names(placeholder, attribute);
    }
    TransactWriteItem::builder()
        .condition_check(builder.build().expect("table, key and condition are set"))
        .build()
}

/// One more on the organization item's counter `attribute`, under `max`, while the
/// organization is live: what creating a workspace, a group or a custom role counts against.
pub(crate) fn count_on_org(
    table: &str,
    org: &crate::domain::OrgId,
    attribute: &str,
    max: u32,
) -> TransactWriteItem {
    update(
        table,
        keys::org(org),
        keys::ORG_SK.to_owned(),
        Expr::new("ADD #count :one").name("#count", attribute).value(":one", AttributeValue::N("1".into())),
        Expr::new(
            "attribute_exists(PK) AND attribute_not_exists(deletedAt) AND (attribute_not_exists(#count) OR #count < :max)",
        )
        .value(":max", AttributeValue::N(max.to_string())),
    )
}
