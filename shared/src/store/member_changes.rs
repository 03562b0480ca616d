//! Changing and removing memberships. Each write is conditioned on the membership being as
//! it was read (so concurrent changes cannot resurrect or double-count a member), on the
//! actor still holding the role the decision rested on, and, through the organization's
//! counters, on an active owner remaining.

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::members::member_item;
use super::ops::{delete_if, put_if};
use super::org_update::{OrgDelta, OrgRefusal, actor_check};
use super::{Store, TransactError, keys};
use crate::domain::{AuditEvent, Member, OrgId};
use crate::error::Error;

/// Why a membership write did not happen.
#[derive(Debug)]
pub enum ChangeError {
    /// A membership changed since it was read: read again and decide again.
    Stale,
    Refused(Error),
}

impl From<Error> for ChangeError {
    fn from(value: Error) -> Self {
        Self::Refused(value)
    }
}

const AS_READ: &str = "#role = :role AND #status = :status AND updatedAt = :updated";

/// Writes `after` over `before` only if the stored membership is still `before`.
fn replace(table: &str, org: &OrgId, before: &Member, after: &Member) -> TransactWriteItem {
    let mut item = put_if(table, member_item(org, after), Some(AS_READ), &[]);
    if let Some(put) = item.put.as_mut() {
        put.expression_attribute_names = Some(names());
        put.expression_attribute_values.get_or_insert_with(Default::default).extend(as_read_values(before));
    }
    item
}

fn remove(table: &str, org: &OrgId, before: &Member) -> TransactWriteItem {
    let mut item = delete_if(table, keys::org(org), keys::member(&before.user_id), Some(AS_READ), &[]);
    if let Some(delete) = item.delete.as_mut() {
        delete.expression_attribute_names = Some(names());
        delete
            .expression_attribute_values
            .get_or_insert_with(Default::default)
            .extend(as_read_values(before));
    }
    item
}

fn names() -> std::collections::HashMap<String, String> {
    [("#role".to_owned(), "role".to_owned()), ("#status".to_owned(), "status".to_owned())].into()
}

fn as_read_values(m: &Member) -> [(String, aws_sdk_dynamodb::types::AttributeValue); 3] {
    [
        (":role".to_owned(), super::s(m.role.as_str())),
        (":status".to_owned(), super::s(m.status.as_str())),
        (":updated".to_owned(), super::s(m.updated_at.to_string())),
    ]
}

impl Store {
    /// One membership from `before` to `after` (role and/or status), by `actor`.
    pub async fn change_member(
        &self,
        org: &OrgId,
        actor: &Member,
        before: &Member,
        after: &Member,
        events: &[AuditEvent],
        seat_version: Option<i64>,
    ) -> Result<(), ChangeError> {
        let delta = OrgDelta::between(Some(before), Some(after)).with_seat_version(seat_version);
        let mut items = vec![replace(self.table(), org, before, after), delta.build(self.table(), org)];
        if actor.user_id != before.user_id {
            items.push(actor_check(self.table(), org, actor));
        }
        items.extend(events.iter().map(|event| self.audit_put(org, event)));
        self.membership_transaction("change_member", items, &delta).await
    }

    /// Removes `member` (by `actor`, or by themselves when `actor` is `None`). Their address
    /// slot is freed so they can be invited again.
    pub async fn remove_member(
        &self,
        org: &OrgId,
        actor: Option<&Member>,
        member: &Member,
        event: &AuditEvent,
    ) -> Result<(), ChangeError> {
        let table = self.table();
        let delta = OrgDelta::between(Some(member), None);
        let mut items = vec![remove(table, org, member), delta.build(table, org)];
        if let Some(actor) = actor {
            items.push(actor_check(table, org, actor));
        }
        items.push(self.audit_put(org, event));
        if let Some(email) = &member.email {
            // Only the member's own slot (another account may hold that address).
            items.push(delete_if(
                table,
                keys::org(org),
                keys::email(email),
                Some("attribute_not_exists(PK) OR userId = :user"),
                &[(":user", member.user_id.as_str())],
            ));
        }
        items.push(delete_if(
            table,
            keys::user(&member.user_id),
            keys::ORG_LOCK_SK.to_owned(),
            Some("attribute_not_exists(PK) OR orgId = :org"),
            &[(":org", org.as_str())],
        ));
        self.membership_transaction("remove_member", items, &delta).await
    }

    /// `from` hands ownership to `to`: both memberships and the counters in one transaction.
    pub async fn transfer_ownership(
        &self,
        org: &OrgId,
        (from_before, from_after): (&Member, &Member),
        (to_before, to_after): (&Member, &Member),
        event: &AuditEvent,
    ) -> Result<(), ChangeError> {
        let table = self.table();
        let mut delta = OrgDelta::between(Some(from_before), Some(from_after));
        let to_delta = OrgDelta::between(Some(to_before), Some(to_after));
        delta.active_owners += to_delta.active_owners;
        let items = vec![
            replace(table, org, from_before, from_after),
            delta.build(table, org),
            replace(table, org, to_before, to_after),
            self.audit_put(org, event),
        ];
        self.membership_transaction("transfer_ownership", items, &delta).await
    }

    /// Items 0 (a membership) and 1 (the organization) are what callers interpret; any other
    /// failed condition (the actor's membership, the other side of a transfer) is staleness.
    async fn membership_transaction(
        &self,
        operation: &'static str,
        items: Vec<TransactWriteItem>,
        delta: &OrgDelta,
    ) -> Result<(), ChangeError> {
        match self.transact(operation, items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(ChangeError::Refused(e)),
            Err(TransactError::Cancelled(c)) if c.failed(1) && !c.failed(0) => {
                match delta.refusal(c.old_item(1)) {
                    OrgRefusal::SeatsChanged => Err(ChangeError::Stale),
                    refusal => Err(ChangeError::Refused(refusal.into())),
                }
            }
            Err(TransactError::Cancelled(_)) => Err(ChangeError::Stale),
        }
    }
}
