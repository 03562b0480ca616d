//! Deleting an organization: at once, one transaction turns its item into a tombstone (every
//! read scoped to it then finds nothing: see `Store::get_in_org`) and adds it to the purge
//! list; later, `purge_org` removes every item of it, a page at a time, from wherever the
//! last run stopped.
//!
//! The purge starts only [`PURGE_GRACE`] after the deletion, longer than any function runs:
//! a request that read the organization before it was deleted may still write after the
//! tombstone (its reads came first), and waiting for it to finish is what leaves no stray
//! item behind, without putting the organization item (a hot item) into every transaction.
//! Items outside the organization's partition (tokens, one-org locks) are deleted before
//! the items that point to them, so a run that stops anywhere leaves nothing unreachable;
//! memberships go first, so that their members' locks are freed soonest.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, WriteRequest,
};

use super::member_changes::ChangeError;
use super::org_update::push_actor_check;
use super::orgs::DELETED_AT;
use super::slots::TOKEN_HASH;
use super::{Item, Store, TransactError, keys, s, string_attr};
use crate::domain::{AuditEvent, GroupId, Member, Org, OrgId, Timestamp, UserId, WorkspaceId};
use crate::error::Error;

/// Longer than the longest an API function runs (the template's timeout, 10 s): see the
/// module. A test holds the template to it.
pub const PURGE_GRACE: Duration = Duration::from_secs(60);

/// Items read (and then deleted) per page.
const PAGE: i32 = 500;
/// BatchWriteItem takes 25 requests.
const WRITE_BATCH: usize = 25;
/// Batches (or single deletes) in flight at once.
const WRITES_IN_FLIGHT: usize = 8;
const LOCK_DELETES_IN_FLIGHT: usize = 16;
const WRITE_ATTEMPTS: u32 = 8;

/// Something deleted whose items are waiting to be purged, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPurge {
    pub org: OrgId,
    pub deleted_at: Timestamp,
    pub what: Purged,
}

/// What a purge list entry is for: a whole organization, or one workspace or group of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purged {
    Org,
    Workspace(WorkspaceId),
    Group(GroupId),
    /// A removed member's workspace and group memberships, of the joining `generation`.
    RemovedMember {
        user: UserId,
        generation: String,
        groups: Vec<GroupId>,
    },
}

/// How far one call of [`Store::purge_org`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurgeProgress {
    pub deleted: usize,
    /// Every item is gone (the tombstone aside) and the organization left the purge list.
    pub done: bool,
}

/// Which organization a deletion may delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deleting {
    /// Any that exists and is not deleted yet (its owner deletes it).
    Any,
    /// Only a personal one with a single member (an accept replaces it: `Store::join`).
    PersonalAlone,
}

/// A deletion's two writes: the organization item replaced by its tombstone (conditioned on
/// the organization existing, not deleted yet, and as `deleting` requires), and its entry on
/// the purge list.
pub(crate) fn deletion_items(
    table: &str,
    org: &OrgId,
    now: Timestamp,
    deleting: Deleting,
) -> [TransactWriteItem; 2] {
    let tombstone = Item::from([
        (keys::PK.to_owned(), s(keys::org(org))),
        (keys::SK.to_owned(), s(keys::ORG_SK)),
        ("type".to_owned(), s("org")),
        (DELETED_AT.to_owned(), s(now.to_string())),
    ]);
    let mut replace = Put::builder()
        .table_name(table)
        .set_item(Some(tombstone))
        .expression_attribute_names("#deleted", DELETED_AT)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    replace = match deleting {
        Deleting::Any => {
            replace.condition_expression("attribute_exists(PK) AND attribute_not_exists(#deleted)")
        }
        Deleting::PersonalAlone => replace
            .condition_expression(
                "attribute_exists(PK) AND attribute_not_exists(#deleted) AND #personal = :personal \
                 AND #members = :one",
            )
            .expression_attribute_names("#personal", super::orgs::PERSONAL)
            .expression_attribute_names("#members", super::org_update::counters::MEMBERS)
            .expression_attribute_values(":personal", AttributeValue::Bool(true))
            .expression_attribute_values(":one", super::n(1)),
    };
    let listed = Put::builder()
        .table_name(table)
        .set_item(Some(Item::from([
            (keys::PK.to_owned(), s(keys::PURGE_PK)),
            (keys::SK.to_owned(), s(keys::org(org))),
            ("orgId".to_owned(), s(org.as_str())),
            (DELETED_AT.to_owned(), s(now.to_string())),
        ])))
        .build()
        .expect("table and item are set");
    [
        TransactWriteItem::builder().put(replace.build().expect("table, item and condition are set")).build(),
        TransactWriteItem::builder().put(listed).build(),
    ]
}

impl Store {
    /// Deletes `org` in one transaction: its item becomes a tombstone, it joins the purge
    /// list, and `event` is written. Conditioned on the organization still existing and on
    /// `actor` still being the active owner the decision rested on.
    pub async fn delete_org(
        &self,
        org: &Org,
        actor: &Member,
        event: &AuditEvent,
        now: Timestamp,
    ) -> Result<(), ChangeError> {
        let table = self.table();
        let [replace, listed] = deletion_items(table, &org.id, now, Deleting::Any);
        let mut items = vec![replace];
        push_actor_check(&mut items, table, &org.id, actor);
        items.push(listed);
        items.push(self.audit_put(&org.id, event));
        match self.transact("delete_org", items).await {
            Ok(()) => Ok(()),
            // Deleted meanwhile, or the actor changed: read again and decide again.
            Err(TransactError::Cancelled(_)) => Err(ChangeError::Stale),
            Err(TransactError::Failed(e)) => Err(ChangeError::Refused(e)),
        }
    }

    /// Deleted organizations whose items are not all gone yet, oldest first. One query of
    /// the purge list (a short list: it only holds deletions in progress).
    pub async fn pending_purges(&self) -> Result<Vec<PendingPurge>, Error> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :purge")
            .expression_attribute_values(":purge", s(keys::PURGE_PK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| super::classify("list_purges", e))?;
        let mut pending: Vec<PendingPurge> = out
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| {
                let sk = string_attr(item, keys::SK)?;
                let what = if sk.starts_with(keys::ORG_PREFIX) {
                    Purged::Org
                } else if sk.starts_with(keys::WORKSPACE_PREFIX) {
                    Purged::Workspace(WorkspaceId::parse(string_attr(item, "workspaceId")?)?)
                } else if sk.starts_with(keys::GROUP_PREFIX) {
                    Purged::Group(GroupId::parse(string_attr(item, "groupId")?)?)
                } else if sk.starts_with(keys::MEMBER_PREFIX) {
                    let groups = match item.get("groups") {
                        Some(aws_sdk_dynamodb::types::AttributeValue::Ss(ids)) => {
                            ids.iter().filter_map(|g| GroupId::parse(g)).collect()
                        }
                        _ => Vec::new(),
                    };
                    Purged::RemovedMember {
                        user: UserId::parse(string_attr(item, "userId")?)?,
                        generation: string_attr(item, "generation")?.to_owned(),
                        groups,
                    }
                } else {
                    return None;
                };
                Some(PendingPurge {
                    org: OrgId::parse(string_attr(item, "orgId")?)?,
                    deleted_at: Timestamp::parse(string_attr(item, DELETED_AT)?)?,
                    what,
                })
            })
            .collect();
        pending.sort_by_key(|p| p.deleted_at);
        Ok(pending)
    }

    /// Removes the items of deleted organization `org`, a page at a time, while `more()`
    /// says there is time left. Safe to stop anywhere and to run again (also concurrently):
    /// each page is read afresh, and deleting an item twice is harmless.
    pub async fn purge_org(&self, org: &OrgId, more: impl Fn() -> bool) -> Result<PurgeProgress, Error> {
        let mut progress = PurgeProgress::default();
        while more() {
            // Memberships first: their members' one-org locks are freed soonest.
            let mut page = self.org_page(org, Some(keys::MEMBER_PREFIX)).await?;
            if page.is_empty() {
                page = self.org_page(org, None).await?;
            }
            if page.is_empty() {
                self.delete_keys(vec![(keys::PURGE_PK.to_owned(), keys::org(org))]).await?;
                progress.done = true;
                break;
            }
            // First what the page's items point to, then the items.
            self.delete_locks(org, &page).await?;
            self.delete_keys(tokens_of(&page)).await?;
            let own: Vec<(String, String)> = page.iter().filter_map(key_of).collect();
            progress.deleted += own.len();
            self.delete_keys(own).await?;
        }
        Ok(progress)
    }

    /// A page of the organization's items (those whose sort key starts with `prefix`), the
    /// tombstone left out.
    async fn org_page(&self, org: &OrgId, prefix: Option<&str>) -> Result<Vec<Item>, Error> {
        let mut query = self
            .client()
            .query()
            .table_name(self.table())
            .expression_attribute_values(":pk", s(keys::org(org)))
            .consistent_read(true)
            .limit(PAGE);
        query = match prefix {
            Some(prefix) => query
                .key_condition_expression("PK = :pk AND SK BETWEEN :prefix AND :past")
                .expression_attribute_values(":prefix", s(prefix))
                .expression_attribute_values(":past", s(super::past(prefix))),
            None => query.key_condition_expression("PK = :pk"),
        };
        let out = query.send().await.map_err(|e| super::classify("purge_page", e))?;
        Ok(out
            .items
            .unwrap_or_default()
            .into_iter()
            .filter(|i| string_attr(i, keys::SK) != Some(keys::ORG_SK))
            .collect())
    }

    /// The one-org locks of the page's members that name this organization, each deleted on
    /// that condition: a lock a member took elsewhere since (after a concurrent run freed
    /// this one) stays.
    async fn delete_locks(&self, org: &OrgId, page: &[Item]) -> Result<(), Error> {
        use futures::StreamExt;
        let members: Vec<(String, String)> = page
            .iter()
            .filter(|item| string_attr(item, "type") == Some("member"))
            .filter_map(|item| string_attr(item, "userId").and_then(UserId::parse))
            .map(|user| (keys::user(&user), keys::ORG_LOCK_SK.to_owned()))
            .collect();
        if members.is_empty() {
            return Ok(());
        }
        let locks: Vec<(String, String)> = self
            .get_many("purge_locks", members)
            .await?
            .iter()
            .filter(|lock| string_attr(lock, "orgId") == Some(org.as_str()))
            .filter_map(key_of)
            .collect();
        let deletes = locks.into_iter().map(|(pk, sk)| async move {
            let deleted = self
                .client()
                .delete_item()
                .table_name(self.table())
                .set_key(Some(Self::key(pk, sk)))
                .condition_expression("orgId = :org")
                .expression_attribute_values(":org", s(org.as_str()))
                .send()
                .await;
            match deleted {
                Ok(_) => Ok(()),
                Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                    Ok(())
                }
                Err(e) => Err(super::classify("purge_lock", e)),
            }
        });
        let results: Vec<Result<(), Error>> =
            futures::stream::iter(deletes).buffer_unordered(LOCK_DELETES_IN_FLIGHT).collect().await;
        results.into_iter().collect()
    }

    /// Deletes `keys` with BatchWriteItem, several batches in flight, retrying what DynamoDB
    /// leaves unprocessed.
    pub(crate) async fn delete_keys(&self, mut keys: Vec<(String, String)>) -> Result<(), Error> {
        use futures::StreamExt;
        // A slot and its invitation name the same token; a batch must not name a key twice.
        keys.sort();
        keys.dedup();
        let batches: Vec<Vec<WriteRequest>> = keys
            .chunks(WRITE_BATCH)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|(pk, sk)| {
                        let delete = DeleteRequest::builder()
                            .set_key(Some(Self::key(pk.clone(), sk.clone())))
                            .build()
                            .expect("key is set");
                        WriteRequest::builder().delete_request(delete).build()
                    })
                    .collect()
            })
            .collect();
        let results: Vec<Result<(), Error>> =
            futures::stream::iter(batches.into_iter().map(|b| self.write_batch(b)))
                .buffer_unordered(WRITES_IN_FLIGHT)
                .collect()
                .await;
        results.into_iter().collect()
    }

    async fn write_batch(&self, mut requests: Vec<WriteRequest>) -> Result<(), Error> {
        for attempt in 0..WRITE_ATTEMPTS {
            let out = self
                .client()
                .batch_write_item()
                .request_items(self.table(), requests)
                .send()
                .await
                .map_err(|e| super::classify("purge_delete", e))?;
            requests = out.unprocessed_items.and_then(|mut u| u.remove(self.table())).unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20 << attempt.min(5))).await;
        }
        tracing::error!(left = requests.len(), "purge: DynamoDB kept items unprocessed");
        Err(Error::Unavailable)
    }
}

/// The tokens of the page's invitations and links (and of the slots that hold them).
fn tokens_of(page: &[Item]) -> Vec<(String, String)> {
    page.iter()
        .filter_map(|item| string_attr(item, TOKEN_HASH))
        .map(|hash| (keys::token(hash), keys::TOKEN_SK.to_owned()))
        .collect()
}

fn key_of(item: &Item) -> Option<(String, String)> {
    Some((string_attr(item, keys::PK)?.to_owned(), string_attr(item, keys::SK)?.to_owned()))
}
