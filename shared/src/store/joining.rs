//! Joining an organization: accepting an email invitation or an invite link. The membership,
//! the use of the token, the address slot and the counters are one transaction, so two
//! concurrent accepts make exactly one membership and a link is never used past `maxUses`.

use aws_sdk_dynamodb::types::{
    ConditionCheck, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::invitations::{TokenKind, TokenOutcome, TokenRecord, token_delete, token_use};
use super::member_index::index_writes;

/// DynamoDB's limit on the items of one transaction.
const TRANSACTION_ITEMS: usize = 100;
use super::members::member_item;
use super::ops::{NEW, delete_if, put_if};
use super::org_update::{OrgDelta, OrgRefusal, SeatClaim};
use super::slots::{self, HeldBy, Slot};
use super::{Cancelled, Store, TransactError, decode, keys, n, s, string_attr};
use crate::domain::token::TokenHash;
use crate::domain::{AuditEvent, Email, Member, Org, OrgId, Status, Timestamp, UserId, standing};
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceptOutcome {
    Joined,
    /// The caller was already a member; nothing changed.
    Existing(Box<Member>),
    /// Seats were taken, or the address slot changed, since they were read: read again.
    Retry,
}

/// The one-organization-per-user lock a join takes.
#[derive(Debug, Clone, Copy)]
pub enum OrgLock<'a> {
    /// Users may belong to any number of organizations.
    None,
    /// The user's first organization: the lock must be free.
    New,
    /// The user's lock is on their personal organization, alone in it (API.md "Accounts"):
    /// the join deletes that organization (`event` on its trail) and moves the lock, if it is
    /// still personal and theirs alone when the join is written.
    Replace(&'a Org, &'a AuditEvent, Timestamp),
}

/// What accept needs, read in one consistent round trip.
pub struct AcceptContext {
    pub token: Option<TokenRecord>,
    pub org: Option<Org>,
    pub membership: Option<Member>,
    /// The slot of the caller's verified address in the token's organization.
    pub slot: Slot,
}

/// Where the items of a joining transaction sit, to read its cancellation.
struct Joining {
    token_index: usize,
    /// `None` for a service's token: see `voucher_check`.
    voucher_index: Option<usize>,
    slot_indices: Vec<usize>,
    org_index: Option<usize>,
    lock_index: Option<usize>,
    role_index: Option<usize>,
    /// The replaced personal organization's items (`OrgLock::Replace`).
    replaced: std::ops::Range<usize>,
}

fn add_use(table: &str, pk: String, sk: String, condition: &str) -> TransactWriteItem {
    let update = Update::builder()
        .table_name(table)
        .key(keys::PK, s(pk))
        .key(keys::SK, s(sk))
        .update_expression("ADD uses :one")
        .condition_expression(condition)
        .expression_attribute_values(":one", n(1))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .expect("table, key and expression are set");
    TransactWriteItem::builder().update(update).build()
}

/// The items that give the new member the slot of their verified address as it was read:
/// taken when free, shared with the members holding it, and taken over from an invitation to
/// the same address (which is consumed: its invitee has joined).
fn slot_items(
    table: &str,
    org: &OrgId,
    member: &Member,
    slot: &Slot,
    accepted: Option<&HeldBy>,
) -> Vec<TransactWriteItem> {
    let Some(email) = &member.email else { return Vec::new() };
    match slot {
        Slot::Members => vec![slots::join_members(table, org, email, &member.user_id)],
        Slot::Free => vec![slots::take_for_member(table, org, email, &member.user_id, slot)],
        Slot::Pending(held) | Slot::Expired(held) => {
            let mut items = vec![slots::take_for_member(table, org, email, &member.user_id, slot)];
            // Another invitation to the joiner's address is consumed with the join. (The one
            // being accepted is deleted already; its slot may show a newer token if it was
            // resent meanwhile, and then the token's own condition refuses the accept.)
            if accepted.is_none_or(|a| a.invitation_id != held.invitation_id) {
                items.push(delete_if(
                    table,
                    keys::org(org),
                    keys::invitation(&held.invitation_id),
                    Some("attribute_not_exists(PK) OR tokenHash = :hash"),
                    &[(":hash", held.token_hash.as_str())],
                ));
                items.push(token_delete(table, held.token_hash.as_str(), None));
            }
            items
        }
    }
}

/// The check that whoever vouches for the token still may (see `domain::standing`): the
/// same membership (generation), its standing not moved since, active, and holding a role
/// that grants the token's role. Tokens from before vouchers check the inviter's role and
/// status alone. A service's token has no membership to condition on: it vouches while its
/// client id stays in the service list, which the handler checks before the transaction
/// (`None` here; API.md "Roles and rank").
fn voucher_check(table: &str, record: &TokenRecord) -> Option<TransactWriteItem> {
    let by = record.voucher.as_ref().map_or(&record.invited_by, |v| &v.by);
    if by.is_service() {
        return None;
    }
    let mut conditions = vec!["#status = :active".to_owned()];
    let mut check = ConditionCheck::builder()
        .table_name(table)
        .key(keys::PK, s(keys::org(&record.org_id)))
        .key(keys::SK, s(keys::member(by)))
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#role", "role")
        .expression_attribute_values(":active", s(Status::Active.as_str()));
    let granting: Vec<String> = standing::roles_granting(record.role)
        .into_iter()
        .enumerate()
        .map(|(i, role)| {
            check = check.clone().expression_attribute_values(format!(":granting{i}"), s(role.as_str()));
            format!(":granting{i}")
        })
        .collect();
    conditions.push(format!("#role IN ({})", granting.join(", ")));
    if let Some(voucher) = &record.voucher {
        check = check.expression_attribute_values(":standing", n(voucher.standing));
        conditions.push(if voucher.standing == 0 {
            "(attribute_not_exists(standing) OR standing = :standing)".to_owned()
        } else {
            "standing = :standing".to_owned()
        });
        conditions.push(match &voucher.generation {
            Some(generation) => {
                check = check.expression_attribute_values(":generation", s(generation.as_str()));
                "generation = :generation".to_owned()
            }
            None => "attribute_not_exists(generation)".to_owned(),
        });
    }
    let check = check
        .condition_expression(conditions.join(" AND "))
        .build()
        .expect("table, key and condition are set");
    Some(TransactWriteItem::builder().condition_check(check).build())
}

impl Store {
    pub async fn accept_context(
        &self,
        org: &OrgId,
        hash: &TokenHash,
        user: &UserId,
        email: Option<&Email>,
        now: Timestamp,
    ) -> Result<AcceptContext, Error> {
        let mut wanted = vec![
            (keys::token(hash.as_str()), keys::TOKEN_SK.to_owned()),
            (keys::org(org), keys::ORG_SK.to_owned()),
            (keys::org(org), keys::member(user)),
        ];
        if let Some(email) = email {
            wanted.push(slots::slot_key(org, email));
        }
        let items = self.get_in_org("get_accept_context", org, wanted).await?;
        let mut context = AcceptContext { token: None, org: None, membership: None, slot: Slot::Free };
        for item in items {
            match string_attr(&item, keys::SK) {
                Some(keys::TOKEN_SK) => context.token = Some(decode(item)?),
                Some(keys::ORG_SK) => context.org = Some(decode(item)?),
                Some(sk) if sk.starts_with(keys::MEMBER_PREFIX) => context.membership = Some(decode(item)?),
                Some(_) => context.slot = Slot::read(Some(&item), now),
                None => {}
            }
        }
        // A token names its organization twice (in its text and its record); both must agree.
        if context.token.as_ref().is_some_and(|t| &t.org_id != org) {
            context.token = None;
        }
        Ok(context)
    }

    /// Writes every index item of the member `joined` as it is now (a join's overflow, see
    /// `join`): put on the condition that the membership is still as read, read again and
    /// written again when it moved (a change writes only the items it alters, so the items
    /// of the state it found must be there). Nothing when the member has gone (their removal
    /// deleted their items). A process stopped between the join and this leaves the member
    /// unfound by some words until the upgrade backfill (README "Upgrading a stack") runs.
    async fn index_rest(&self, org: &OrgId, joined: &Member) -> Result<(), Error> {
        let table = self.table();
        let mut member = joined.clone();
        for _ in 0..4 {
            let (condition, values) = super::members::as_read(&member);
            let mut check = ConditionCheck::builder()
                .table_name(table)
                .key(keys::PK, s(keys::org(org)))
                .key(keys::SK, s(keys::member(&member.user_id)))
                .condition_expression(condition);
            for (name, value) in values {
                check = check.expression_attribute_values(name, value);
            }
            let mut items = vec![
                TransactWriteItem::builder()
                    .condition_check(check.build().expect("table, key and condition"))
                    .build(),
            ];
            items.extend(
                super::member_index::index_items(org, &member)
                    .into_values()
                    .map(|item| super::ops::put_if(table, item, None, &[])),
            );
            match self.transact("join_index", items).await {
                Ok(()) => return Ok(()),
                Err(TransactError::Failed(e)) => return Err(e),
                Err(TransactError::Cancelled(_)) => match self.membership(org, &member.user_id).await? {
                    Some(now) => member = now,
                    None => return Ok(()),
                },
            }
        }
        Err(Error::Conflict(
            "the member keeps changing; their search index is completed by the next change".into(),
        ))
    }

    /// The personal organization an accept of an invitation to `joining` would replace, with
    /// one organization per user: the one the user's lock names, if it is personal and has
    /// one member (the join's conditions decide for good). Two consistent reads, made only
    /// after a join found the lock taken.
    pub async fn replaceable_org(&self, user: &UserId, joining: &OrgId) -> Result<Option<Org>, Error> {
        let wanted = vec![
            (keys::user(user), keys::ORG_LOCK_SK.to_owned()),
            (keys::user(user), keys::SIGN_UP_SK.to_owned()),
        ];
        let items = self.get_many("get_org_lock", wanted).await?;
        let org_of = |sk: &str| {
            items
                .iter()
                .find(|i| string_attr(i, keys::SK) == Some(sk))
                .and_then(|i| string_attr(i, "orgId"))
                .and_then(OrgId::parse)
        };
        // Only the organization their own sign-up made: not one a service added them to
        // whose sign-up owner has left (it would be personal still, and theirs alone).
        let Some(locked) = org_of(keys::ORG_LOCK_SK) else { return Ok(None) };
        if &locked == joining || org_of(keys::SIGN_UP_SK).as_ref() != Some(&locked) {
            return Ok(None);
        }
        let item = self.get("get_personal_org", keys::org(&locked), keys::ORG_SK.to_owned()).await?;
        let Some(item) = item.filter(|i| !super::orgs::is_deleted(i)) else { return Ok(None) };
        let org: Org = decode(item)?;
        Ok((org.personal && org.member_count == 1).then_some(org))
    }

    /// Joins `member` by the token of `record`: an email invitation is consumed, a link's use
    /// counted (refused past `maxUses`). `slot` is the caller's address slot as read.
    #[allow(clippy::too_many_arguments)]
    pub async fn join(
        &self,
        (record, hash): (&TokenRecord, &TokenHash),
        member: &Member,
        slot: &Slot,
        event: &AuditEvent,
        lock: OrgLock<'_>,
        seats: Option<SeatClaim>,
    ) -> Result<AcceptOutcome, Error> {
        let org = &record.org_id;
        let table = self.table();
        // One who vouched for a token and has since left cannot come back by it (and a
        // transaction may not both check and write their membership).
        if record.voucher.as_ref().map_or(&record.invited_by, |v| &v.by) == &member.user_id {
            return Err(Error::InvitationNotFound);
        }
        let delta = OrgDelta::between(None, Some(member)).with_seats(seats);
        // What the token gives besides the organization, less what turned out to be deleted
        // meanwhile (skipped, API.md) or to hold a place of an earlier joining (replaced).
        let mut access = JoinAccess::of(record);
        loop {
            let member = access.member(member);
            let mut items = vec![put_if(table, member_item(org, &member), NEW, &[])];
            let token_index = items.len();
            let accepted = match record.kind {
                TokenKind::Email => {
                    let Some(id) = &record.invitation_id else { return Err(Error::InvitationNotFound) };
                    // Used, and kept until it expires so that a preview can say so.
                    items.push(token_use(table, hash.as_str(), TokenOutcome::Accepted, record.version));
                    items.push(self.invitation_delete(org, id));
                    Some(HeldBy { invitation_id: id.clone(), token_hash: hash.clone() })
                }
                TokenKind::Link => {
                    let Some(link_id) = &record.link_id else { return Err(Error::InvitationNotFound) };
                    items.push(add_use(
                        table,
                        keys::token(hash.as_str()),
                        keys::TOKEN_SK.to_owned(),
                        "attribute_exists(PK) AND (attribute_not_exists(maxUses) OR uses < maxUses)",
                    ));
                    items.push(add_use(table, keys::org(org), keys::link(link_id), "attribute_exists(PK)"));
                    None
                }
            };
            let voucher_index = voucher_check(table, record).map(|check| {
                items.push(check);
                items.len() - 1
            });
            // The token holds its custom role, so the role exists; it may be being deleted,
            // and then no holder may move (see `store::roles`).
            let role_index = member.custom_role.as_ref().map(|key| {
                items.push(super::roles::role_check(table, org, key));
                items.len() - 1
            });
            let first_slot = items.len();
            items.extend(slot_items(table, org, &member, slot, accepted.as_ref()));
            let slot_indices = (first_slot..items.len()).collect();
            let org_index = delta.push_to(&mut items, table, org);
            items.push(self.audit_put(org, event));
            let new_lock = super::orgs::org_lock_item(&member.user_id, org);
            let lock_index = match lock {
                OrgLock::None => None,
                OrgLock::New => Some(put_if(table, new_lock, NEW, &[])),
                OrgLock::Replace(personal, ..) => Some(put_if(
                    table,
                    new_lock,
                    Some("orgId = :personal"),
                    &[(":personal", personal.id.as_str())],
                )),
            }
            .map(|put| {
                items.push(put);
                items.len() - 1
            });
            let replaced_from = items.len();
            if let OrgLock::Replace(personal, deleted, now) = lock {
                items.extend(replacing(self, personal, &member.user_id, deleted, now));
            }
            let replaced = replaced_from..items.len();
            let access_items = access.push_to(&mut items, table, org, &member);
            let places = Joining {
                token_index,
                voucher_index,
                slot_indices,
                org_index,
                lock_index,
                role_index,
                replaced,
            };
            // The member's index items ride on the join, as on every membership write; only
            // when a join with many workspaces and groups would pass DynamoDB's 100 items
            // (API.md allows 25 assignments, README "arithmetic") do some of its word items
            // follow in a write of their own (`Store::index_rest`). The sort items come first
            // (their keys sort before the words'), so the member is listed at once.
            let mut index = index_writes(table, org, None, Some(&member));
            let rest = index.split_off(index.len().min(TRANSACTION_ITEMS.saturating_sub(items.len())));
            items.extend(index);
            match self.transact("join", items).await {
                Ok(()) if rest.is_empty() => return Ok(AcceptOutcome::Joined),
                Ok(()) => {
                    // Joined either way: a failure here is the index's, not the join's.
                    if let Err(e) = self.index_rest(org, &member).await {
                        tracing::error!(error = %e, "a join's remaining index items were not written");
                    }
                    return Ok(AcceptOutcome::Joined);
                }
                Err(TransactError::Failed(e)) => return Err(e),
                Err(TransactError::Cancelled(c)) => {
                    if !access.learn(&c, &access_items) {
                        return refusal(&c, record.kind, &places, &delta);
                    }
                }
            }
        }
    }
}

/// The writes that delete `personal`, the organization a join replaces: its tombstone
/// (while it is personal and has one member), the checks that the member is `user` and that
/// `user`'s sign-up made it, its purge list entry and `deleted` on its trail. Its items go
/// with the purge, as any deleted organization's; the purge leaves the user's lock alone,
/// which names the new organization.
fn replacing(
    store: &Store,
    personal: &Org,
    user: &UserId,
    deleted: &AuditEvent,
    now: Timestamp,
) -> Vec<TransactWriteItem> {
    let table = store.table();
    let [tombstone, listed] =
        super::purge::deletion_items(table, &personal.id, now, super::purge::Deleting::PersonalAlone);
    let theirs = ConditionCheck::builder()
        .table_name(table)
        .key(keys::PK, s(keys::org(&personal.id)))
        .key(keys::SK, s(keys::member(user)))
        .condition_expression("attribute_exists(PK)")
        .build()
        .expect("table, key and condition are set");
    // Their own sign-up made it (see `Store::replaceable_org`).
    let made_by_their_sign_up = ConditionCheck::builder()
        .table_name(table)
        .key(keys::PK, s(keys::user(user)))
        .key(keys::SK, s(keys::SIGN_UP_SK))
        .condition_expression("orgId = :personal")
        .expression_attribute_values(":personal", s(personal.id.as_str()))
        .build()
        .expect("table, key and condition are set");
    vec![
        tombstone,
        TransactWriteItem::builder().condition_check(theirs).build(),
        TransactWriteItem::builder().condition_check(made_by_their_sign_up).build(),
        listed,
        store.audit_put(&personal.id, deleted),
    ]
}

/// The workspaces and groups a join gives, and what the attempts so far found of them.
struct JoinAccess {
    workspaces: Vec<(crate::domain::workspace::WorkspaceAssignment, Place)>,
    groups: Vec<(crate::domain::GroupId, Place)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A new membership (a workspace's or group's count goes up).
    New,
    /// One of an earlier joining of the same user is there: replaced, counted already.
    Replace,
    /// The workspace or group was deleted meanwhile: skipped.
    Skip,
}

impl Place {
    /// What the put of the membership requires: none there yet (new), or the earlier
    /// joining's still there (replaced: it is counted already). Either failing means the
    /// other case holds now (the purge may delete the earlier one between two attempts).
    fn condition(self) -> &'static str {
        match self {
            Place::Replace => "attribute_exists(PK)",
            Place::New | Place::Skip => "attribute_not_exists(PK)",
        }
    }
}

/// Where a join's access items sit: (first item, what it is).
enum AccessItem {
    /// The membership item `put`, then the counter `count` of the workspace or group.
    Workspace {
        index: usize,
        put: usize,
        count: usize,
    },
    Group {
        index: usize,
        put: usize,
        count: usize,
    },
}

impl JoinAccess {
    fn of(record: &TokenRecord) -> Self {
        Self {
            workspaces: record.workspaces.iter().map(|w| (w.clone(), Place::New)).collect(),
            groups: record.groups.iter().map(|g| (g.clone(), Place::New)).collect(),
        }
    }

    /// `member` holding the groups and counting the workspaces joined.
    fn member(&self, member: &Member) -> Member {
        let mut member = member.clone();
        member.groups =
            self.groups.iter().filter(|(_, p)| *p != Place::Skip).map(|(g, _)| g.clone()).collect();
        let joined = self.workspaces.iter().filter(|(_, p)| *p != Place::Skip).count();
        member.workspace_count = u32::try_from(joined).unwrap_or(u32::MAX);
        member
    }

    fn push_to(
        &self,
        items: &mut Vec<TransactWriteItem>,
        table: &str,
        org: &OrgId,
        member: &Member,
    ) -> Vec<AccessItem> {
        use crate::domain::workspace::{GroupMember, WorkspaceMember};
        let mut places = Vec::new();
        let by = member.invited_by.clone().unwrap_or_else(|| member.user_id.clone());
        for (index, (assignment, place)) in self.workspaces.iter().enumerate() {
            if *place == Place::Skip {
                continue;
            }
            let direct = WorkspaceMember {
                workspace_id: assignment.id.clone(),
                user_id: member.user_id.clone(),
                role: assignment.role,
                custom_role: None,
                generation: member.generation.clone(),
                added_at: member.joined_at,
                added_by: by.clone(),
                version: 0,
            };
            let (main, mirror) = super::workspaces::direct_items(org, &direct);
            let put = items.len();
            items.push(put_if(table, main, Some(place.condition()), &[]));
            items.push(put_if(table, mirror, None, &[]));
            let count = items.len();
            items.push(counter(table, org, keys::workspace(&assignment.id), *place == Place::New));
            places.push(AccessItem::Workspace { index, put, count });
        }
        for (index, (group, place)) in self.groups.iter().enumerate() {
            if *place == Place::Skip {
                continue;
            }
            let entry = GroupMember {
                group_id: group.clone(),
                user_id: member.user_id.clone(),
                generation: member.generation.clone(),
                added_at: member.joined_at,
                added_by: by.clone(),
            };
            let put = items.len();
            let item = super::groups::group_member_item(org, &entry);
            items.push(put_if(table, item, Some(place.condition()), &[]));
            let count = items.len();
            items.push(counter(table, org, keys::group(group), *place == Place::New));
            places.push(AccessItem::Group { index, put, count });
        }
        places
    }

    /// Learns from a cancelled join what to skip or replace. Whether anything was learnt
    /// (then the join is tried again); otherwise the cancellation is the join's own.
    fn learn(&mut self, cancelled: &Cancelled, items: &[AccessItem]) -> bool {
        let mut learnt = false;
        for item in items {
            let (place, put, count) = match *item {
                AccessItem::Workspace { index, put, count } => (&mut self.workspaces[index].1, put, count),
                AccessItem::Group { index, put, count } => (&mut self.groups[index].1, put, count),
            };
            if cancelled.failed(count) {
                *place = Place::Skip;
                learnt = true;
            } else if cancelled.failed(put) {
                *place = if *place == Place::Replace { Place::New } else { Place::Replace };
                learnt = true;
            }
        }
        learnt
    }
}

/// The count of a workspace's or group's members, up by one for a new membership; either
/// way conditioned on it existing.
fn counter(table: &str, org: &OrgId, sk: String, new: bool) -> TransactWriteItem {
    let update = Update::builder()
        .table_name(table)
        .key(keys::PK, s(keys::org(org)))
        .key(keys::SK, s(sk))
        .update_expression("ADD memberCount :n")
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_values(":n", n(i32::from(new)))
        .build()
        .expect("table, key and expression are set");
    TransactWriteItem::builder().update(update).build()
}

/// Why a joining transaction was cancelled, in order of precedence.
fn refusal(
    cancelled: &Cancelled,
    kind: TokenKind,
    places: &Joining,
    delta: &OrgDelta,
) -> Result<AcceptOutcome, Error> {
    if cancelled.failed(0) {
        return match cancelled.old_item(0).cloned().map(decode::<Member>) {
            Some(Ok(existing)) => Ok(AcceptOutcome::Existing(Box::new(existing))),
            _ => Err(Error::Conflict("the membership changed meanwhile; retry".into())),
        };
    }
    let failed = |i: usize| cancelled.failed(i);
    // An email token still there and unused, at another version: what it gives changed
    // since it was read. Read it again.
    if kind == TokenKind::Email
        && failed(places.token_index)
        && cancelled.old_item(places.token_index).is_some_and(|old| !old.contains_key("outcome"))
    {
        return Ok(AcceptOutcome::Retry);
    }
    if failed(places.token_index) || failed(places.token_index + 1) {
        // A link's token that exists but refused a use is used up; a gone token was revoked
        // or (email) already used.
        let exhausted = kind == TokenKind::Link
            && failed(places.token_index)
            && cancelled.old_item(places.token_index).is_some();
        return Err(if exhausted { Error::InvitationExhausted } else { Error::InvitationNotFound });
    }
    if places.voucher_index.is_some_and(failed) {
        // Its creator left, was suspended or demoted: it admits nobody (API.md).
        return Err(Error::InvitationNotFound);
    }
    if places.role_index.is_some_and(failed) {
        return Err(Error::Conflict("the invitation's role is being changed; retry".into()));
    }
    if places.replaced.clone().any(failed) {
        // Someone joined the personal organization, or it got an invitation, or it is gone:
        // decide again.
        return Ok(AcceptOutcome::Retry);
    }
    if places.lock_index.is_some_and(failed) {
        // A lock that was to move from the personal organization moved elsewhere: decide again.
        return if places.replaced.is_empty() { Err(Error::AlreadyInOrg) } else { Ok(AcceptOutcome::Retry) };
    }
    if let Some(i) = places.org_index.filter(|&i| failed(i)) {
        return match delta.refusal(cancelled.old_item(i)) {
            OrgRefusal::SeatsChanged => Ok(AcceptOutcome::Retry),
            _ => Err(Error::InvitationNotFound),
        };
    }
    if places.slot_indices.iter().any(|&i| failed(i)) {
        return Ok(AcceptOutcome::Retry);
    }
    tracing::error!(reasons = ?cancelled, "join cancelled for no known reason");
    Err(Error::Internal)
}
