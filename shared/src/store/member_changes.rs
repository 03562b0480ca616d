//! Changing and removing memberships. Each write is conditioned on the membership being as
//! it was read (so concurrent changes cannot resurrect or double-count a member), on the
//! actor still holding the role the decision rested on, and, through the organization's
//! counters, on an active owner remaining.

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::member_index::{index_items, index_writes};
use super::members::{as_read, member_item};
use super::ops::{delete_if, put_if};
use super::org_update::{OrgDelta, OrgRefusal, SeatClaim, push_actor_check};
use super::{Cancelled, Store, TransactError, keys};
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

/// Writes `after` over `before` only if the stored membership is still `before` (its
/// generation and version; `after` carries the next version).
fn replace(table: &str, org: &OrgId, before: &Member, after: &Member) -> TransactWriteItem {
    debug_assert_eq!(after.version, before.version + 1, "a membership write moves its version by one");
    let (condition, values) = as_read(before);
    let mut item = put_if(table, member_item(org, after), Some(&condition), &[]);
    if let Some(put) = item.put.as_mut() {
        put.expression_attribute_values.get_or_insert_with(Default::default).extend(values);
    }
    item
}

fn remove(table: &str, org: &OrgId, before: &Member) -> TransactWriteItem {
    let (condition, values) = as_read(before);
    let mut item = delete_if(table, keys::org(org), keys::member(&before.user_id), Some(&condition), &[]);
    if let Some(delete) = item.delete.as_mut() {
        delete.expression_attribute_values.get_or_insert_with(Default::default).extend(values);
    }
    item
}

/// Items a removal frees if this member holds them: their address slot (which another
/// account or an invitation may hold instead) and their one-org lock (which may name another
/// organization, written while the setting was on). Each is conditioned on being the
/// member's, and left out of the retry when it is not: it was never theirs to free.
fn cleanup(table: &str, org: &OrgId, member: &Member) -> Vec<TransactWriteItem> {
    let mut items = Vec::with_capacity(2);
    if let Some(email) = member.slot_email() {
        items.push(super::slots::leave(table, org, email, &member.user_id));
    }
    items.push(delete_if(
        table,
        keys::user(&member.user_id),
        keys::ORG_LOCK_SK.to_owned(),
        Some("attribute_not_exists(PK) OR orgId = :org"),
        &[(":org", org.as_str())],
    ));
    items
}

/// A removal of one member inside a transaction: where its items sit, so that a cancellation
/// can be read item by item.
struct Removal<'a> {
    member: &'a Member,
    event: &'a AuditEvent,
    /// Cleanup items known not to be this member's (their condition failed once).
    skip_cleanup: Vec<bool>,
    member_index: usize,
    /// Where each cleanup item sits in the transaction; `None` when left out.
    cleanup_indices: Vec<Option<usize>>,
}

impl<'a> Removal<'a> {
    fn new(member: &'a Member, event: &'a AuditEvent) -> Self {
        Self { member, event, skip_cleanup: vec![false; 2], member_index: 0, cleanup_indices: Vec::new() }
    }

    fn push(&mut self, table: &str, org: &OrgId, store: &Store, items: &mut Vec<TransactWriteItem>) {
        self.member_index = items.len();
        items.push(remove(table, org, self.member));
        items.push(store.audit_put(org, self.event));
        // Their workspace and group memberships give nothing from now on (they belong to this
        // joining); the purge deletes them, and their counts, later.
        if let Some(entry) = super::workspaces::removed_member_entry(table, org, self.member, self.event.at) {
            items.push(entry);
        }
        self.cleanup_indices.clear();
        for (i, item) in cleanup(table, org, self.member).into_iter().enumerate() {
            let index = (!self.skip_cleanup[i]).then(|| {
                items.push(item);
                items.len() - 1
            });
            self.cleanup_indices.push(index);
        }
        items.extend(index_writes(table, org, Some(self.member), None));
    }

    /// Marks the cleanup items whose condition failed as not this member's. Whether any did.
    fn drop_failed_cleanup(&mut self, cancelled: &Cancelled) -> bool {
        let mut dropped = false;
        for (i, index) in self.cleanup_indices.iter().enumerate() {
            if index.is_some_and(|index| cancelled.failed(index)) {
                self.skip_cleanup[i] = true;
                dropped = true;
            }
        }
        dropped
    }

    fn stale(&self, cancelled: &Cancelled) -> bool {
        cancelled.failed(self.member_index)
    }
}

/// The outcome of one member of a bulk removal.
#[derive(Debug)]
pub enum BulkRemoval {
    Removed,
    /// The chunk holding this member could not be written as planned (a membership changed,
    /// the last owner, the actor's rights): decide and remove it on its own.
    Undecided,
    /// The table failed; this member was not removed.
    Failed(Error),
}

/// Items of a bulk removal's transaction: up to five per member (membership, audit event,
/// address slot, one-org lock, and the purge of their workspace access when they have any)
/// and their index items, plus the organization's counters and the actor check, within
/// DynamoDB's 100.
const REMOVAL_ITEMS_PER_TRANSACTION: usize = 98;

/// The items one member's removal takes in a transaction.
fn removal_items(org: &OrgId, member: &Member) -> usize {
    // A removal deletes every index item of the member.
    4 + usize::from(super::workspaces::has_access_items(member)) + index_items(org, member).len()
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
        seats: Option<SeatClaim>,
    ) -> Result<(), ChangeError> {
        let delta = OrgDelta::between(Some(before), Some(after)).with_seats(seats);
        let mut items = vec![replace(self.table(), org, before, after)];
        let org_index = delta.push_to(&mut items, self.table(), org);
        if actor.user_id != before.user_id {
            push_actor_check(&mut items, self.table(), org, actor);
        }
        // A newly held custom role must not be being deleted (see `store::roles`).
        let granted = after.custom_role.as_ref().filter(|key| before.custom_role.as_ref() != Some(*key));
        let role_index = granted.map(|key| {
            items.push(super::roles::role_check(self.table(), org, key));
            items.len() - 1
        });
        items.extend(events.iter().map(|event| self.audit_put(org, event)));
        items.extend(index_writes(self.table(), org, Some(before), Some(after)));
        match self.transact("change_member", items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(ChangeError::Refused(e)),
            Err(TransactError::Cancelled(c)) => match (role_index, granted) {
                (Some(i), Some(key)) if c.failed(i) && !c.failed(0) => {
                    Err(ChangeError::Refused(super::roles::role_gone(key)))
                }
                _ => Err(membership_refusal(&c, &[0], org_index, &delta)),
            },
        }
    }

    /// Adds `member` directly, by `actor` (a service: API.md "Service callers"), active at
    /// once. Its address, if any, is display-only: it claims no slot. Refused `409 conflict`
    /// when they are a member already, `409 already_in_org` when one organization per user
    /// holds and they belong to another; `Stale` when seats changed since `seats` were counted.
    pub async fn add_member(
        &self,
        org: &OrgId,
        actor: &Member,
        member: &Member,
        event: &AuditEvent,
        one_org_per_user: bool,
        seats: Option<SeatClaim>,
    ) -> Result<(), ChangeError> {
        let table = self.table();
        let delta = OrgDelta::between(None, Some(member)).with_seats(seats);
        let mut items = vec![put_if(table, member_item(org, member), super::ops::NEW, &[])];
        let org_index = delta.push_to(&mut items, table, org);
        let actor_index = push_actor_check(&mut items, table, org, actor);
        // A custom role must not be being deleted (see `store::roles`).
        let role_index = member.custom_role.as_ref().map(|key| {
            items.push(super::roles::role_check(table, org, key));
            items.len() - 1
        });
        let lock_index = one_org_per_user.then(|| {
            items.push(put_if(table, super::orgs::org_lock_item(&member.user_id, org), super::ops::NEW, &[]));
            items.len() - 1
        });
        items.push(self.audit_put(org, event));
        items.extend(index_writes(table, org, None, Some(member)));
        let c = match self.transact("add_member", items).await {
            Ok(()) => return Ok(()),
            Err(TransactError::Failed(e)) => return Err(ChangeError::Refused(e)),
            Err(TransactError::Cancelled(c)) => c,
        };
        if c.failed(0) {
            return Err(ChangeError::Refused(Error::Conflict("the user is a member already".into())));
        }
        if actor_index.is_some_and(|i| c.failed(i)) {
            return Err(ChangeError::Refused(super::actor_changed(actor)));
        }
        if let (Some(i), Some(key)) = (role_index, &member.custom_role)
            && c.failed(i)
        {
            return Err(ChangeError::Refused(super::roles::role_gone(key)));
        }
        if lock_index.is_some_and(|i| c.failed(i)) {
            return Err(ChangeError::Refused(Error::AlreadyInOrg));
        }
        Err(membership_refusal(&c, &[0], org_index, &delta))
    }

    /// Removes `member` (by `actor`, or by themselves when `actor` is `None`). Their address
    /// slot and one-org lock are freed when they are theirs, so they can be invited again.
    pub async fn remove_member(
        &self,
        org: &OrgId,
        actor: Option<&Member>,
        member: &Member,
        event: &AuditEvent,
    ) -> Result<(), ChangeError> {
        let table = self.table();
        let delta = OrgDelta::between(Some(member), None);
        let mut removal = Removal::new(member, event);
        // At most one retry per cleanup item: each can only turn out not to be theirs once.
        for _ in 0..3 {
            let mut items = Vec::with_capacity(7);
            removal.push(table, org, self, &mut items);
            let org_index = delta.push_to(&mut items, table, org);
            let actor_index = actor.and_then(|actor| push_actor_check(&mut items, table, org, actor));
            let cancelled = match self.transact("remove_member", items).await {
                Ok(()) => return Ok(()),
                Err(TransactError::Failed(e)) => return Err(ChangeError::Refused(e)),
                Err(TransactError::Cancelled(c)) => c,
            };
            let others_failed = removal.stale(&cancelled)
                || org_index.is_some_and(|i| cancelled.failed(i))
                || actor_index.is_some_and(|i| cancelled.failed(i));
            if !others_failed && removal.drop_failed_cleanup(&cancelled) {
                continue;
            }
            return Err(membership_refusal(&cancelled, &[removal.member_index], org_index, &delta));
        }
        Err(ChangeError::Stale)
    }

    /// Removes many members by `actor`, a chunk of them per transaction (one counter update
    /// and one actor check each). A chunk that cannot be written as planned is reported
    /// `Undecided` member by member, for the caller to decide one at a time.
    pub async fn remove_members(
        &self,
        org: &OrgId,
        actor: &Member,
        removals: &[(Member, AuditEvent)],
    ) -> Vec<BulkRemoval> {
        let table = self.table();
        let mut outcomes: Vec<Option<BulkRemoval>> = removals.iter().map(|_| None).collect();
        let chunks = removal_chunks(org, removals);
        for (number, chunk) in chunks.iter().enumerate() {
            let delta = chunk.iter().fold(OrgDelta::default(), |delta, &i| {
                delta.and(OrgDelta::between(Some(&removals[i].0), None))
            });
            let mut planned: Vec<Removal> =
                chunk.iter().map(|&i| Removal::new(&removals[i].0, &removals[i].1)).collect();
            let mut done = false;
            for _ in 0..3 {
                let mut items = Vec::with_capacity(chunk.len() * 4 + 2);
                for removal in &mut planned {
                    removal.push(table, org, self, &mut items);
                }
                let org_index = delta.push_to(&mut items, table, org);
                let actor_index = push_actor_check(&mut items, table, org, actor);
                let cancelled = match self.transact("remove_members", items).await {
                    Ok(()) => {
                        done = true;
                        break;
                    }
                    Err(TransactError::Failed(e)) => {
                        // Earlier chunks stand; this one and the rest were not written.
                        for &i in chunks[number..].iter().flatten() {
                            outcomes[i] = Some(BulkRemoval::Failed(e.clone()));
                        }
                        return outcomes.into_iter().map(|o| o.unwrap_or(BulkRemoval::Undecided)).collect();
                    }
                    Err(TransactError::Cancelled(c)) => c,
                };
                let planned_wrong = planned.iter().any(|r| r.stale(&cancelled))
                    || org_index.is_some_and(|i| cancelled.failed(i))
                    || actor_index.is_some_and(|i| cancelled.failed(i));
                let mut dropped = false;
                for removal in &mut planned {
                    dropped |= removal.drop_failed_cleanup(&cancelled);
                }
                if planned_wrong || !dropped {
                    break;
                }
            }
            for &i in chunk {
                outcomes[i] = Some(if done { BulkRemoval::Removed } else { BulkRemoval::Undecided });
            }
        }
        outcomes.into_iter().map(|o| o.unwrap_or(BulkRemoval::Undecided)).collect()
    }

    /// `from` hands ownership to `to`: both memberships and the counters in one transaction.
    /// Hands ownership from `from_before` to `to_before`, decided by `actor`: the old owner
    /// themselves, or a service (then checked as well).
    pub async fn transfer_ownership(
        &self,
        org: &OrgId,
        actor: &Member,
        (from_before, from_after): (&Member, &Member),
        (to_before, to_after): (&Member, &Member),
        event: &AuditEvent,
    ) -> Result<(), ChangeError> {
        let table = self.table();
        let delta = OrgDelta::between(Some(from_before), Some(from_after))
            .and(OrgDelta::between(Some(to_before), Some(to_after)));
        let mut items = vec![replace(table, org, from_before, from_after)];
        let org_index = delta.push_to(&mut items, table, org);
        let to_index = items.len();
        items.push(replace(table, org, to_before, to_after));
        if actor.user_id != from_before.user_id {
            push_actor_check(&mut items, table, org, actor);
        }
        items.push(self.audit_put(org, event));
        items.extend(index_writes(table, org, Some(from_before), Some(from_after)));
        items.extend(index_writes(table, org, Some(to_before), Some(to_after)));
        match self.transact("transfer_ownership", items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(ChangeError::Refused(e)),
            Err(TransactError::Cancelled(c)) => {
                Err(membership_refusal(&c, &[0, to_index], org_index, &delta))
            }
        }
    }
}

/// The removals grouped into transactions: within `REMOVAL_ITEMS_PER_TRANSACTION` items
/// each, and no two members sharing an address in one (both would update its slot, and a
/// transaction may touch an item only once).
fn removal_chunks(org: &OrgId, removals: &[(Member, AuditEvent)]) -> Vec<Vec<usize>> {
    type Chunk<'a> = (Vec<usize>, Vec<&'a crate::domain::Email>, usize);
    let mut chunks: Vec<Chunk> = Vec::new();
    for (i, (member, _)) in removals.iter().enumerate() {
        let cost = removal_items(org, member);
        let fits = |(_, emails, items): &&mut Chunk| {
            *items + cost <= REMOVAL_ITEMS_PER_TRANSACTION - 2
                && member.slot_email().is_none_or(|e| !emails.contains(&e))
        };
        match chunks.iter_mut().find(|c| fits(c)) {
            Some((chunk, emails, items)) => {
                chunk.push(i);
                emails.extend(member.slot_email());
                *items += cost;
            }
            None => chunks.push((vec![i], member.slot_email().into_iter().collect(), cost)),
        }
    }
    chunks.into_iter().map(|(chunk, _, _)| chunk).collect()
}

/// A membership transaction's refusal: the organization's own refusal (the last owner, or
/// gone) when no membership failed; anything else (a membership changed, the actor, seats
/// taken meanwhile) is staleness, to be decided again on fresh reads.
fn membership_refusal(
    cancelled: &Cancelled,
    member_indices: &[usize],
    org_index: Option<usize>,
    delta: &OrgDelta,
) -> ChangeError {
    match org_index {
        Some(i) if cancelled.failed(i) && !member_indices.iter().any(|&m| cancelled.failed(m)) => {
            match delta.refusal(cancelled.old_item(i)) {
                OrgRefusal::SeatsChanged => ChangeError::Stale,
                refusal => ChangeError::Refused(refusal.into()),
            }
        }
        _ => ChangeError::Stale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AuditAction, Email, Role, Timestamp, UserId};

    fn removal(user: &str, email: Option<&str>) -> (Member, AuditEvent) {
        let now = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let user_id = UserId::parse(user).unwrap();
        let email = email.map(|e| Email::parse(e).unwrap());
        let member =
            Member::joining(user_id.clone(), email, None, Role::Member, now, None, Default::default());
        (member, AuditEvent::new(now, &user_id, AuditAction::MemberRemoved, None, serde_json::Value::Null))
    }

    #[test]
    fn chunks_never_touch_one_address_twice_and_stay_small() {
        let mut removals =
            vec![removal("a", Some("x@y.co")), removal("b", Some("X@y.co")), removal("c", None)];
        removals.extend((0..30).map(|i| removal(&format!("u{i}"), Some(&format!("u{i}@y.co")))));
        let org = OrgId::parse("org_0192f5c4a1b27c3d8e9f0a1b2c3d4e5f").unwrap();
        let chunks = removal_chunks(&org, &removals);
        assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), removals.len());
        for chunk in &chunks {
            let items: usize = chunk.iter().map(|&i| removal_items(&org, &removals[i].0)).sum();
            assert!(items <= REMOVAL_ITEMS_PER_TRANSACTION - 2, "{items} items in one transaction");
        }
        let together = chunks.iter().any(|c| c.contains(&0) && c.contains(&1));
        assert!(!together, "a and b share an address: {chunks:?}");
    }
}
