//! The intent to create an account for an address (API.md "Accounts"): written before Cognito
//! creates it, so that a retry after the membership's write failed can tell the account its
//! own earlier attempt created from one that was there before.
//!
//! One item per address (`ACCOUNT#<email>`, `INTENT`), held by one organization at a time for
//! [`INTENT_HOURS`] (TTL): while one holds it, another organization's request for the address
//! is answered as for an existing account (an invitation), which it is or is about to be.

use aws_sdk_dynamodb::types::{Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};

use super::{Item, Store, TransactError, keys, n, number_attr, s, string_attr};
use crate::domain::{Email, OrgId, Timestamp};
use crate::error::Error;

/// How long an intent holds its address: the time within which a retry finishes what its
/// first attempt began. Long enough for an outage of the table to pass.
pub const INTENT_HOURS: u32 = 24;

const SINCE: &str = "sinceMs";

/// Who holds an address's intent once [`Store::hold_account_intent`] has run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// This organization, since `since` (now, or its earlier attempt's time).
    Ours { since: Timestamp },
    /// Another organization.
    Elsewhere,
}

impl Store {
    /// Holds the address's intent for `org`: written when none is held or the one held has
    /// expired (one conditional write, so two racing requests cannot both take a fresh one);
    /// kept as it is, with its time, when `org` already holds it; left to the other
    /// organization that holds it.
    pub async fn hold_account_intent(
        &self,
        org: &OrgId,
        email: &Email,
        now: Timestamp,
    ) -> Result<Intent, Error> {
        let expires = now.plus_hours(INTENT_HOURS);
        let item = Item::from([
            (keys::PK.to_owned(), s(keys::account_intent(email))),
            (keys::SK.to_owned(), s(keys::ACCOUNT_INTENT_SK)),
            ("type".to_owned(), s("account_intent")),
            ("orgId".to_owned(), s(org.as_str())),
            (SINCE.to_owned(), n(now.epoch_millis())),
            (keys::TTL.to_owned(), n(expires.epoch_seconds())),
        ]);
        // DynamoDB deletes expired items late: expiry is read from the item, not its absence.
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR #ttl <= :now")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":now", n(now.epoch_seconds()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .expect("table and item are set");
        // A one-item transaction: the conflict retries of `transact`, and the held item back.
        let items = vec![TransactWriteItem::builder().put(put).build()];
        let cancelled = match self.transact("hold_account_intent", items).await {
            Ok(()) => return Ok(Intent::Ours { since: now }),
            Err(TransactError::Failed(e)) => return Err(e),
            Err(TransactError::Cancelled(c)) => c,
        };
        let held = cancelled.old_item(0).ok_or(Error::Internal)?;
        if string_attr(held, "orgId") != Some(org.as_str()) {
            return Ok(Intent::Elsewhere);
        }
        let since = number_attr(held, SINCE)
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(Timestamp::from)
            .ok_or(Error::Internal)?;
        Ok(Intent::Ours { since })
    }

    /// Lets go of the address's intent that `org` took at `since`, after Cognito refused to
    /// create the account for good (no account exists of it): otherwise for its 24 hours
    /// other organizations' requests for the address would be answered as for an existing
    /// account. Conditioned on the intent being that one, so another hold is never undone.
    pub async fn release_account_intent(
        &self,
        org: &OrgId,
        email: &Email,
        since: Timestamp,
    ) -> Result<(), Error> {
        let deleted = self
            .client()
            .delete_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::account_intent(email)))
            .key(keys::SK, s(keys::ACCOUNT_INTENT_SK))
            .condition_expression("orgId = :org AND #since = :since")
            .expression_attribute_names("#since", SINCE)
            .expression_attribute_values(":org", s(org.as_str()))
            .expression_attribute_values(":since", n(since.epoch_millis()))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(())
            }
            Err(e) => Err(super::classify("release_account_intent", e)),
        }
    }
}
