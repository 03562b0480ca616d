//! Usage per member: a member's records in one transaction (their ids claimed for 7 days, the
//! membership checked, each counter added to once), and a metric's counters read over a
//! range of days.

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::{Store, TransactError, keys, n, s, string_attr};
use crate::domain::usage::{Day, Metric, Quantity, RecordId, WINDOW};
use crate::domain::{OrgId, Timestamp, UserId};
use crate::error::Error;

/// A record as checked: every value valid, `at` in the window.
#[derive(Debug, Clone)]
pub struct UsageRecord {
    pub id: RecordId,
    pub user: UserId,
    pub metric: Metric,
    pub quantity: Quantity,
    pub at: Timestamp,
}

use std::collections::BTreeMap;

/// What became of a record that was written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Recorded,
    /// Its id was seen in the last 7 days: nothing counted.
    Duplicate,
    /// The membership went between the read and the write: nothing counted.
    NotMember,
}

/// One counter as read: a member's total of a metric on a day.
#[derive(Debug, Clone)]
pub struct UsageCounter {
    pub user: UserId,
    pub day: Day,
    pub total: Quantity,
}

const TOTAL: &str = "total";
/// When a record id was counted.
const RECORDED_AT: &str = "recordedAt";

/// Items one transaction holds (DynamoDB's limit).
pub const MAX_TRANSACTION_ITEMS: usize = 100;

impl Store {
    /// Counts one member's `records` (distinct ids; with the membership check and two
    /// updates per distinct counter, at most [`MAX_TRANSACTION_ITEMS`] items) in one
    /// transaction: each id's item put unless one was counted in the last 7 days (one DynamoDB
    /// has not deleted yet after that does not count), the membership checked to exist, and
    /// each counter (member, metric, UTC day of `at`) added to once with its records' exact
    /// sum (`ADD` on a `Number`), under the day and under the member alike. When ids
    /// were seen, they answer `Duplicate` and the rest go again without them.
    pub async fn record_usage(
        &self,
        org: &OrgId,
        user: &UserId,
        records: &[&UsageRecord],
        now: Timestamp,
    ) -> Result<Vec<Recorded>, Error> {
        let mut outcome = vec![Recorded::Recorded; records.len()];
        let mut pending: Vec<usize> = (0..records.len()).collect();
        while !pending.is_empty() {
            let mut items: Vec<TransactWriteItem> =
                pending.iter().map(|&i| self.usage_claim(org, records[i], now)).collect();
            items.push(self.usage_member_check(org, user));
            let mut sums: BTreeMap<(&Metric, Day), Quantity> = BTreeMap::new();
            for &i in &pending {
                let r = records[i];
                let sum = sums.entry((&r.metric, Day::of(r.at))).or_default();
                *sum = sum.checked_add(r.quantity).ok_or(Error::Internal)?;
            }
            for ((metric, day), sum) in sums {
                items.push(self.usage_add(
                    org,
                    keys::usage_counter(metric, day, user),
                    user,
                    metric,
                    day,
                    sum,
                ));
                items.push(self.usage_add(
                    org,
                    keys::usage_member_counter(metric, user, day),
                    user,
                    metric,
                    day,
                    sum,
                ));
            }
            match self.transact("record_usage", items).await {
                Ok(()) => break,
                Err(TransactError::Failed(e)) => return Err(e),
                Err(TransactError::Cancelled(c)) if c.failed(pending.len()) => {
                    for &i in &pending {
                        outcome[i] = Recorded::NotMember;
                    }
                    break;
                }
                Err(TransactError::Cancelled(c)) => {
                    let seen: Vec<usize> =
                        pending.iter().enumerate().filter(|(k, _)| c.failed(*k)).map(|(_, &i)| i).collect();
                    if seen.is_empty() {
                        tracing::error!(reasons = ?c, "a usage transaction failed for no condition");
                        return Err(Error::Internal);
                    }
                    for &i in &seen {
                        outcome[i] = Recorded::Duplicate;
                    }
                    pending.retain(|i| !seen.contains(i));
                }
            }
        }
        Ok(outcome)
    }

    /// An id counts once for 7 days to the millisecond: its item is put unless one was
    /// counted since 7 days before `now` (by `recordedAt`, whose text sorts as instants do).
    /// The TTL, whole seconds, is rounded up: DynamoDB may delete the item only after then,
    /// and until it does, the condition alone decides.
    fn usage_claim(&self, org: &OrgId, record: &UsageRecord, now: Timestamp) -> TransactWriteItem {
        let expires = (now.as_datetime() + WINDOW).timestamp_millis();
        let spent = Timestamp::from(now.as_datetime() - WINDOW);
        let claim = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(keys::org(org)))
            .item(keys::SK, s(keys::usage_record(&record.id)))
            .item("userId", s(record.user.as_str()))
            .item("metric", s(record.metric.as_str()))
            .item(RECORDED_AT, s(now.to_string()))
            .item(keys::TTL, n((expires + 999).div_euclid(1000)))
            .condition_expression("attribute_not_exists(PK) OR #recorded <= :spent")
            .expression_attribute_names("#recorded", RECORDED_AT)
            .expression_attribute_values(":spent", s(spent.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::None)
            .build()
            .expect("table and item are set");
        TransactWriteItem::builder().put(claim).build()
    }

    fn usage_member_check(&self, org: &OrgId, user: &UserId) -> TransactWriteItem {
        let check = ConditionCheck::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::org(org)))
            .key(keys::SK, s(keys::member(user)))
            .condition_expression("attribute_exists(PK)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::None)
            .build()
            .expect("table, key and condition are set");
        TransactWriteItem::builder().condition_check(check).build()
    }

    fn usage_add(
        &self,
        org: &OrgId,
        sk: String,
        user: &UserId,
        metric: &Metric,
        day: Day,
        sum: Quantity,
    ) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::org(org)))
            .key(keys::SK, s(sk))
            .update_expression("ADD #total :q SET userId = :u, metric = :m, #day = :d")
            .expression_attribute_names("#total", TOTAL)
            .expression_attribute_names("#day", "day")
            .expression_attribute_values(":q", AttributeValue::N(sum.to_string()))
            .expression_attribute_values(":u", s(user.as_str()))
            .expression_attribute_values(":m", s(metric.as_str()))
            .expression_attribute_values(":d", s(day.compact()))
            .build()
            .expect("table, key and expression are set");
        TransactWriteItem::builder().update(update).build()
    }

    /// Every counter of `metric` from `from` to `to` (both counted), strongly consistent,
    /// in key order (by day, then user): one query, as many pages as the range holds.
    pub async fn usage_counters(
        &self,
        org: &OrgId,
        metric: &Metric,
        from: Day,
        to: Day,
    ) -> Result<Vec<UsageCounter>, Error> {
        self.read_counters(org, keys::usage_days(metric, from), keys::usage_days_end(metric, to)).await
    }

    /// The counters whose sort keys lie from `lo` to `hi`, every page.
    async fn read_counters(&self, org: &OrgId, lo: String, hi: String) -> Result<Vec<UsageCounter>, Error> {
        let query = self
            .client()
            .query()
            .key_condition_expression("PK = :pk AND SK BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(keys::org(org)))
            .expression_attribute_values(":lo", s(lo))
            .expression_attribute_values(":hi", s(hi))
            .projection_expression("userId, #day, #total")
            .expression_attribute_names("#day", "day")
            .expression_attribute_names("#total", TOTAL)
            .consistent_read(true);
        let pages = self.query_pages("usage_counters", query).await?;
        let mut counters = Vec::new();
        for item in pages.into_iter().flat_map(|p| p.items.unwrap_or_default()) {
            let user = string_attr(&item, "userId").and_then(UserId::parse);
            let day = string_attr(&item, "day").and_then(Day::from_compact);
            let total = match item.get(TOTAL) {
                Some(AttributeValue::N(text)) => Quantity::parse_stored(text).ok(),
                _ => None,
            };
            let (Some(user), Some(day), Some(total)) = (user, day, total) else {
                tracing::error!("a usage counter item is malformed");
                return Err(Error::Internal);
            };
            counters.push(UsageCounter { user, day, total });
        }
        Ok(counters)
    }

    /// One member's counters of `metric` from `from` to `to` (both counted), strongly
    /// consistent, by day: one query of at most 92 items.
    pub async fn member_usage_counters(
        &self,
        org: &OrgId,
        metric: &Metric,
        user: &UserId,
        from: Day,
        to: Day,
    ) -> Result<Vec<UsageCounter>, Error> {
        let start = keys::usage_member(metric, user);
        self.read_counters(org, format!("{start}{}", from.compact()), format!("{start}{}", to.compact()))
            .await
    }

    /// Whether the organization exists (and is not deleted), with the memberships of `users`
    /// that exist: one read pass (`BatchGetItem`, consistent).
    pub async fn org_members_of(
        &self,
        org: &OrgId,
        users: &[UserId],
    ) -> Result<Option<std::collections::HashSet<String>>, Error> {
        let org_key = (keys::org(org), keys::ORG_SK.to_owned());
        let mut wanted: Vec<(String, String)> =
            users.iter().map(|u| (keys::org(org), keys::member(u))).collect();
        wanted.push(org_key);
        let items = self.get_in_org("usage_members", org, wanted).await?;
        if items.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            items
                .iter()
                .filter_map(|i| string_attr(i, keys::SK))
                .filter_map(|sk| sk.strip_prefix(keys::MEMBER_PREFIX))
                .map(str::to_owned)
                .collect(),
        ))
    }
}
