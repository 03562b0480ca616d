//! Roster's single DynamoDB table. Every invariant is enforced by a condition or a
//! transaction here; nothing reads a value to decide whether a write is allowed.

pub mod accounts;
mod audit;
pub mod authorize;
pub mod backfill;
mod codec;
pub mod email_limits;
pub mod email_sends;
mod errors;
pub mod groups;
mod invitations;
mod invitees;
mod joining;
pub mod keys;
mod links;
mod member_changes;
pub mod member_index;
pub mod members;
mod ops;
mod org_update;
mod orgs;
pub mod purge;
pub mod roles;
pub mod slots;
mod tx;
pub mod usage;
mod vouchers;
pub mod workspaces;

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, TransactWriteItem};

pub(crate) use audit::acting_for;
pub use audit::{AuditFilter, audit_item, decode_audit};
pub(crate) use codec::{decode, encode, n, number_attr, s, string_attr};
pub use errors::Item;
pub(crate) use errors::{Cancelled, classify};

use crate::domain::{AuditEvent, Member, OrgId};
use crate::error::Error;

pub use invitations::{
    InviteOutcome, IssuedInvitation, PlannedInvitation, Rotation, StoredInvitation, TokenKind, TokenOutcome,
    TokenRecord,
};
pub use invitees::InviteeInvitation;
pub use joining::{AcceptContext, AcceptOutcome, OrgLock};
pub use member_changes::{BulkRemoval, ChangeError};
pub use org_update::{SeatClaim, Seats};
pub use orgs::{Created, UserOrg};
pub use slots::Slot;
pub use vouchers::Vouched;

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

/// One page of a list, and the sort key to continue after (None on the last page).
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub last_key: Option<String>,
}

/// A transaction that did not happen: either conditions failed (which, is for the caller to
/// interpret) or the table failed.
#[derive(Debug)]
pub(crate) enum TransactError {
    Cancelled(Cancelled),
    Failed(Error),
}

impl From<Error> for TransactError {
    fn from(value: Error) -> Self {
        Self::Failed(value)
    }
}

/// How long a transaction cancelled for conflicts keeps being retried: a time, not a count
/// of attempts, because contenders for one hot item (fifty people opening one invite link
/// at once) commit one at a time, so how many attempts a contender needs depends on how
/// long each commit takes. Well inside a function's timeout (10 s) and API Gateway's (30 s).
const CONFLICT_BUDGET: Duration = Duration::from_secs(6);
const BATCH_GET_ATTEMPTS: u32 = 5;

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn key(pk: String, sk: impl Into<String>) -> Item {
        Item::from([(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))])
    }

    /// A strongly consistent read of one item: authorization decisions rest on these.
    pub(crate) async fn get(
        &self,
        operation: &'static str,
        pk: String,
        sk: String,
    ) -> Result<Option<Item>, Error> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map(|out| out.item)
            .map_err(|e| classify(operation, e))
    }

    /// A strongly consistent read of distinct items: one BatchGetItem per 100 keys, sent
    /// together. Items that do not exist are absent from the result; order is not kept.
    pub(crate) async fn get_many(
        &self,
        operation: &'static str,
        mut keys: Vec<(String, String)>,
    ) -> Result<Vec<Item>, Error> {
        // BatchGetItem refuses a request that names one key twice.
        keys.sort();
        keys.dedup();
        let batches = keys.chunks(100).map(|chunk| self.get_batch(operation, chunk.to_vec()));
        let found = futures::future::try_join_all(batches).await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// Items of `org` (and any others `wanted` names, such as a token), read in one pass
    /// together with the organization item. When the organization has been deleted (or never
    /// existed) none of them is returned: every read scoped to an organization sees a deleted
    /// one as gone, from the write that deleted it on. The organization item is among the
    /// results only when `wanted` names it.
    pub(crate) async fn get_in_org(
        &self,
        operation: &'static str,
        org: &OrgId,
        mut wanted: Vec<(String, String)>,
    ) -> Result<Vec<Item>, Error> {
        let org_pk = keys::org(org);
        let org_key = (org_pk.clone(), keys::ORG_SK.to_owned());
        let wants_org = wanted.contains(&org_key);
        if !wants_org {
            wanted.push(org_key);
        }
        let mut items = self.get_many(operation, wanted).await?;
        let is_org_item = |i: &Item| {
            string_attr(i, keys::PK) == Some(org_pk.as_str())
                && string_attr(i, keys::SK) == Some(keys::ORG_SK)
        };
        if !items.iter().any(|i| is_org_item(i) && !orgs::is_deleted(i)) {
            return Ok(Vec::new());
        }
        if !wants_org {
            items.retain(|i| !is_org_item(i));
        }
        Ok(items)
    }

    async fn get_batch(
        &self,
        operation: &'static str,
        keys: Vec<(String, String)>,
    ) -> Result<Vec<Item>, Error> {
        let mut found = Vec::with_capacity(keys.len());
        if keys.is_empty() {
            return Ok(found);
        }
        let keys = keys.into_iter().map(|(pk, sk)| Self::key(pk, sk)).collect();
        let mut request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()
            .map_err(|_| Error::Internal)?;
        for attempt in 0..BATCH_GET_ATTEMPTS {
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| classify(operation, e))?;
            if let Some(mut responses) = out.responses {
                found.extend(responses.remove(&self.table).unwrap_or_default());
            }
            match out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                Some(rest) if !rest.keys().is_empty() => {
                    request = rest;
                    backoff(attempt).await;
                }
                _ => return Ok(found),
            }
        }
        tracing::error!(operation, "BatchGetItem left keys unprocessed after retries");
        Err(Error::Unavailable)
    }

    /// Runs a transaction. A `TransactionConflict` (another request touching one of its items
    /// at that instant, which DynamoDB cancels rather than queues) or a throttled item is
    /// retried with jittered exponential back-off: the conditions are evaluated afresh on
    /// every attempt, so a retry can never bypass them.
    pub(crate) async fn transact(
        &self,
        operation: &'static str,
        items: Vec<TransactWriteItem>,
    ) -> Result<(), TransactError> {
        let started = tokio::time::Instant::now();
        let mut attempt = 0;
        while attempt == 0 || started.elapsed() < CONFLICT_BUDGET {
            attempt += 1;
            let result =
                self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let err = match result {
                Ok(_) => {
                    if attempt > 1 {
                        tracing::info!(
                            operation,
                            attempts = attempt,
                            "transaction committed after conflicts"
                        );
                    }
                    return Ok(());
                }
                Err(err) => err,
            };
            if let SdkError::ServiceError(service) = &err
                && let TransactWriteItemsError::TransactionCanceledException(cancel) = service.err()
            {
                let cancelled = Cancelled::new(cancel.cancellation_reasons().to_vec());
                if cancelled.is_transient() {
                    backoff(attempt).await;
                    continue;
                }
                if cancelled.is_invalid() {
                    tracing::error!(operation, reasons = ?cancelled, "DynamoDB rejected a transaction");
                    return Err(TransactError::Failed(Error::Internal));
                }
                if attempt > 1 {
                    tracing::info!(operation, attempts = attempt, "transaction refused after conflicts");
                }
                return Err(TransactError::Cancelled(cancelled));
            }
            return Err(TransactError::Failed(classify(operation, err)));
        }
        tracing::warn!(operation, attempts = attempt, "transaction kept being cancelled; giving up");
        Err(TransactError::Failed(Error::Conflict(
            "the resource is being changed by another request; retry".to_owned(),
        )))
    }

    /// Runs `items` on an admin's authority: appends a check that `actor` still holds the
    /// membership the decision rested on (a failed check is 403) and the audit event. Any
    /// other failed condition means the target changed or went meanwhile: `otherwise`.
    pub(crate) async fn admin_transact(
        &self,
        operation: &'static str,
        (org, actor, event): (&OrgId, &Member, &AuditEvent),
        mut items: Vec<TransactWriteItem>,
        otherwise: Error,
    ) -> Result<(), Error> {
        let actor_index = org_update::push_actor_check(&mut items, &self.table, org, actor);
        items.push(self.audit_put(org, event));
        match self.transact(operation, items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(e),
            Err(TransactError::Cancelled(c)) if actor_index.is_some_and(|i| c.failed(i)) => {
                Err(actor_changed(actor))
            }
            Err(TransactError::Cancelled(_)) => Err(otherwise),
        }
    }

    /// The organization's items whose sort key starts with `prefix`, after the cursor's key
    /// (which must lie in that range).
    pub(crate) fn org_query(
        &self,
        org: &OrgId,
        prefix: &str,
        after: Option<String>,
    ) -> Result<aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder, Error> {
        if after.as_deref().is_some_and(|k| !k.starts_with(prefix)) {
            return Err(Error::InvalidCursor);
        }
        Ok(self
            .client
            .query()
            .key_condition_expression("PK = :pk AND SK BETWEEN :prefix AND :past")
            .expression_attribute_values(":pk", s(keys::org(org)))
            .expression_attribute_values(":prefix", s(prefix))
            .expression_attribute_values(":past", s(past(prefix)))
            .set_exclusive_start_key(after.map(|k| start_key(keys::org(org), k))))
    }

    /// Every page of `query`, in order: for reads that need all of a range (an organization's
    /// custom roles, a role's holders counted).
    pub(crate) async fn query_pages(
        &self,
        operation: &'static str,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<aws_sdk_dynamodb::operation::query::QueryOutput>, Error> {
        let mut pages = Vec::new();
        let mut after = None;
        loop {
            let out = query
                .clone()
                .table_name(&self.table)
                .set_exclusive_start_key(after)
                .send()
                .await
                .map_err(|e| classify(operation, e))?;
            after = out.last_evaluated_key.clone();
            pages.push(out);
            if after.is_none() {
                return Ok(pages);
            }
        }
    }

    /// One page of a query, `limit` items at most. One more item than asked for is read so
    /// that the last page says so (no empty trailing page) whenever no filter is in play.
    pub(crate) async fn query_page(
        &self,
        operation: &'static str,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        limit: usize,
        cursor_attribute: &str,
    ) -> Result<Page<Item>, Error> {
        let out = query
            .table_name(&self.table)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| classify(operation, e))?;
        let mut items = out.items.unwrap_or_default();
        let last_key = if items.len() > limit {
            items.truncate(limit);
            items.last().and_then(|i| string_attr(i, cursor_attribute)).map(str::to_owned)
        } else {
            out.last_evaluated_key.as_ref().and_then(|k| string_attr(k, cursor_attribute)).map(str::to_owned)
        };
        Ok(Page { items, last_key })
    }
}

/// The least string above every key that starts with `prefix`: its last character the
/// next one. A range (`BETWEEN prefix AND past`) rather than `begins_with`: the same items
/// in DynamoDB, and DynamoDB Local seeks a range but walks a prefix through the partition
/// (BENCHMARKS.md "Member search": 349 ms against 1.6 ms at a million items). No key equals
/// `past` itself (every index key goes on after its prefix with a separator and an id).
pub(crate) fn past(prefix: impl AsRef<str>) -> String {
    let prefix = prefix.as_ref();
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=0x10FFFF).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    // Only U+10FFFF characters: nothing sorts above them but longer strings of them.
    format!("{prefix}\u{10FFFF}")
}

/// "Full jitter" exponential back-off (5 ms doubling, capped at 160 ms): contenders spread
/// out instead of colliding again in lock-step, and the cap keeps a late contender trying
/// often enough to take its turn at a hot item.
async fn backoff(attempt: u32) {
    let ceiling = 5u64 << attempt.min(5);
    let wait = 1 + u64::from(getrandom::u32().unwrap_or(0)) % ceiling;
    tokio::time::sleep(Duration::from_millis(wait)).await;
}

/// `ExclusiveStartKey` for a base-table query that resumes after `sort_key` in `pk`.
pub fn start_key(pk: String, sort_key: String) -> Item {
    Item::from([
        (keys::PK.to_owned(), AttributeValue::S(pk)),
        (keys::SK.to_owned(), AttributeValue::S(sort_key)),
    ])
}

/// What a failed actor check means: a member's membership changed (403); for a service,
/// whose check is the organization's, the organization is gone (404).
pub(crate) fn actor_changed(actor: &Member) -> Error {
    if actor.is_service() {
        Error::NotFound
    } else {
        Error::forbidden("your membership changed while the request ran")
    }
}
