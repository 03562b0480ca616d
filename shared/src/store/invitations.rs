//! Email invitations and their tokens. An invitation is written together with its address
//! slot (see `slots`) and its audit event, a batch a chunk of invitations per transaction;
//! its token item comes with the token, when the sender sends its email (`email_sends`).

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::member_changes::ChangeError;
use super::ops::{EXISTS, NEW, delete_if, put_if};
use super::org_update::{OrgDelta, OrgRefusal, SeatClaim, Seats, push_actor_check};
use super::slots::{self, Slot, TOKEN_HASH};
use super::{Item, Page, Store, TransactError, decode, encode, keys, n, s, string_attr};
use crate::domain::custom_role::RoleKey;
use crate::domain::invitation::Invitation;
use crate::domain::standing::Voucher;
use crate::domain::token::TokenHash;
use crate::domain::{
    AuditEvent, DisplayName, Email, InvitationId, LinkId, Member, Metadata, Org, OrgId, Role, Timestamp,
    UserId,
};
use crate::error::Error;
use crate::store::roles::{role_check, role_gone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Email,
    Link,
}

/// The token item: everything a preview shows, so that a preview is one read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    pub kind: TokenKind,
    pub org_id: OrgId,
    pub role: Role,
    /// The custom role the joiner gets (`role` is its base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_role: Option<RoleKey>,
    pub invited_by: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inviter_name: Option<DisplayName>,
    pub expires_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<InvitationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_id: Option<LinkId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    #[serde(default)]
    pub uses: u32,
    /// An email invitation's metadata, for the membership its acceptance makes.
    #[serde(default)]
    pub metadata: Metadata,
    /// Whose standing admits by it: the join is conditioned on it. `None` on tokens written
    /// before vouchers (then the inviter's role and status alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher: Option<Voucher>,
    /// An email invitation's token is kept, used, until it expires: a preview says it was
    /// accepted or declined, and it admits nobody.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<TokenOutcome>,
    /// What the joiner joins besides the organization (see `domain::workspace::Assignments`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<crate::domain::workspace::WorkspaceAssignment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<crate::domain::GroupId>,
    /// An email invitation's version (see `Invitation::version`), moved with it.
    #[serde(default)]
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenOutcome {
    Accepted,
    Declined,
}

impl TokenOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Declined => "declined",
        }
    }
}

/// Marks an email invitation's token used (`outcome`), if it still exists and is not used
/// yet: the one use of an email invitation.
pub(crate) fn token_use(table: &str, hash: &str, outcome: TokenOutcome, version: u64) -> TransactWriteItem {
    let update = Update::builder()
        .table_name(table)
        .key(keys::PK, s(keys::token(hash)))
        .key(keys::SK, s(keys::TOKEN_SK))
        .update_expression("SET outcome = :outcome")
        // At the version read: what the invitation gives has not changed since.
        .condition_expression(format!(
            "attribute_exists(PK) AND attribute_not_exists(outcome) AND {}",
            VERSION_AS_READ
        ))
        .expression_attribute_values(":outcome", s(outcome.as_str()))
        .expression_attribute_values(":asReadV", n(version))
        .return_values_on_condition_check_failure(
            aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
        )
        .build()
        .expect("table, key and expression are set");
    TransactWriteItem::builder().update(update).build()
}

/// What became of one address of an invite batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteOutcome {
    Invited,
    AlreadyMember,
    AlreadyInvited,
    /// A seat was taken since the seats were counted: count again.
    SeatsChanged,
    /// Not written; the batch's other addresses are unaffected.
    Failed(Error),
}

/// The condition that an invitation or its token is at version `:asReadV` (absent: 0).
const VERSION_AS_READ: &str = "(attribute_not_exists(version) OR version = :asReadV)";

/// On an invitation item: the ids of the workspaces it gives, a string set.
pub(crate) const WORKSPACE_IDS: &str = "workspaceIds";

pub(crate) fn token_item(hash: &TokenHash, record: &TokenRecord) -> Item {
    encode(
        record,
        &[
            (keys::PK, s(keys::token(hash.as_str()))),
            (keys::SK, s(keys::TOKEN_SK)),
            ("type", s("token")),
            (keys::TTL, n(record.expires_at.epoch_seconds())),
        ],
    )
}

/// An invitation or invite link item: the value, its keys, its current token's hash, and a
/// TTL at its expiry.
pub(crate) fn token_bearing_item<T: Serialize>(
    value: &T,
    (org, sk, kind): (&OrgId, String, &str),
    hash: &TokenHash,
    expires_at: Timestamp,
) -> Item {
    encode(
        value,
        &[
            (keys::PK, s(keys::org(org))),
            (keys::SK, s(sk)),
            ("type", s(kind)),
            (TOKEN_HASH, s(hash.as_str())),
            (keys::TTL, n(expires_at.epoch_seconds())),
        ],
    )
}

/// Every write of an invitation (invite, re-invite over an expired one, resend) builds its
/// item here, so each carries its GSI1 keys: the pre-sign-up trigger finds an address's
/// invitations across organizations by them.
fn invitation_item(org: &OrgId, invitation: &Invitation, hash: &TokenHash) -> Item {
    let mut item = token_bearing_item(
        invitation,
        (org, keys::invitation(&invitation.id), "invitation"),
        hash,
        invitation.expires_at,
    );
    // The workspaces it gives, as a set a query can filter on (a workspace's invitees).
    if !invitation.workspaces.is_empty() {
        let ids = invitation.workspaces.iter().map(|w| w.id.to_string()).collect();
        item.insert(WORKSPACE_IDS.to_owned(), aws_sdk_dynamodb::types::AttributeValue::Ss(ids));
    }
    item.insert(keys::GSI1PK.to_owned(), s(keys::invitee(&invitation.email)));
    item.insert(keys::GSI1SK.to_owned(), s(keys::invitee_sort(org, &invitation.id)));
    item
}

/// An invitation about to be written with its (new) token, and the audit event saying so.
#[derive(Clone, Copy)]
pub struct IssuedInvitation<'a> {
    pub invitation: &'a Invitation,
    pub hash: &'a TokenHash,
    pub event: &'a AuditEvent,
}

/// An invitation of a batch and the state its address slot was read in.
#[derive(Clone)]
pub struct PlannedInvitation<'a> {
    pub issued: IssuedInvitation<'a>,
    pub slot: Slot,
}

/// A stored invitation with the hash of its current token.
pub struct StoredInvitation {
    pub invitation: Invitation,
    pub token_hash: TokenHash,
}

pub(crate) fn decode_invitation(item: Item) -> Result<StoredInvitation, Error> {
    let hash = string_attr(&item, TOKEN_HASH).map(str::to_owned).ok_or(Error::Internal)?;
    Ok(StoredInvitation { invitation: decode(item)?, token_hash: TokenHash::from_stored(hash) })
}

/// What a rotation (resend) became.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    Rotated,
    /// A seat was taken since the seats were counted: count again.
    SeatsChanged,
    /// The invitation changed since it was read: read it again.
    Changed,
}

/// The transaction items of one planned invitation: the slot first.
fn invitation_items(
    table: &str,
    org: &OrgId,
    planned: &PlannedInvitation<'_>,
    store: &Store,
) -> Vec<TransactWriteItem> {
    let IssuedInvitation { invitation, hash, event } = planned.issued;
    let mut items = vec![slots::take_for_invitation(table, org, invitation, hash, &planned.slot)];
    if let Slot::Expired(old) = &planned.slot {
        // Replacing an expired invitation: it and its token go, unless resent meanwhile
        // (then the slot's condition fails too, and the address is re-read as pending).
        items.push(delete_if(
            table,
            keys::org(org),
            keys::invitation(&old.invitation_id),
            Some("attribute_not_exists(PK) OR tokenHash = :old"),
            &[(":old", old.token_hash.as_str())],
        ));
        items.push(token_delete(table, old.token_hash.as_str(), None));
    }
    // No token item: until the sender mints the token its email carries, the invitation's
    // hash is of a token no one holds (see `Store::issue_send_token`).
    items.push(put_if(table, invitation_item(org, invitation, hash), NEW, &[]));
    items.push(store.audit_put(org, event));
    items
}

/// Transaction items are limited to 100; two are the actor check and the organization.
const MAX_ITEMS: usize = 98;
/// Rounds of re-planning one chunk after slots were found changed.
const CHUNK_ROUNDS: usize = 4;

impl Store {
    /// A token and its organization as it is now (its current name), in one round trip:
    /// what a preview shows. `None` if either is gone.
    pub async fn token_and_org(
        &self,
        hash: &TokenHash,
        org: &OrgId,
    ) -> Result<Option<(TokenRecord, Org)>, Error> {
        let wanted = vec![
            (keys::token(hash.as_str()), keys::TOKEN_SK.to_owned()),
            (keys::org(org), keys::ORG_SK.to_owned()),
        ];
        let (mut record, mut found_org) = (None, None);
        for item in self.get_in_org("get_token_and_org", org, wanted).await? {
            if string_attr(&item, keys::SK) == Some(keys::ORG_SK) {
                found_org = Some(decode::<Org>(item)?);
            } else {
                record = Some(decode::<TokenRecord>(item)?);
            }
        }
        // A token names the organization it was issued for; the two must agree.
        Ok(record.zip(found_org).filter(|(r, o)| r.org_id == o.id))
    }

    /// What an invite batch decides on, in one consistent read pass: the organization, the
    /// caller's membership, and the slot of each address (in the order of `emails`).
    pub async fn invite_context(
        &self,
        org: &OrgId,
        caller: &UserId,
        emails: &[Email],
        now: Timestamp,
    ) -> Result<(Option<Org>, Option<Member>, Vec<Slot>), Error> {
        let mut wanted =
            vec![(keys::org(org), keys::ORG_SK.to_owned()), (keys::org(org), keys::member(caller))];
        wanted.extend(emails.iter().map(|e| slots::slot_key(org, e)));
        let items = self.get_in_org("get_invite_context", org, wanted).await?;
        let (mut found_org, mut member) = (None, None);
        let mut slot_items = std::collections::HashMap::new();
        for item in items {
            match string_attr(&item, keys::SK) {
                Some(keys::ORG_SK) => found_org = Some(decode(item)?),
                Some(sk) if sk.starts_with(keys::MEMBER_PREFIX) => member = Some(decode(item)?),
                Some(sk) => {
                    slot_items.insert(sk.to_owned(), item);
                }
                None => {}
            }
        }
        let slots = emails.iter().map(|e| Slot::read(slot_items.get(&keys::email(e)), now)).collect();
        Ok((found_org, member, slots))
    }

    /// Writes a batch of invitations, each on the slot it was planned on, a chunk per
    /// transaction, one after another (concurrent chunks would only contend for the actor's
    /// membership). A slot found changed is read from the cancellation and the address
    /// decided again. With `seats` (as counted, and the limit), every chunk is conditioned on
    /// the seats being as counted (plus this batch's own earlier chunks) and still leaving
    /// room; when they are not, the addresses not yet written answer `SeatsChanged`.
    pub async fn create_invitations(
        &self,
        read: &Org,
        actor: &Member,
        planned: &mut [PlannedInvitation<'_>],
        mut seats: Option<(Seats, u32)>,
        now: Timestamp,
    ) -> Vec<InviteOutcome> {
        let table = self.table();
        let org = &read.id;
        let mut outcomes: Vec<Option<InviteOutcome>> = vec![None; planned.len()];
        // The custom roles the batch grants: each chunk checks them all (one item each; a
        // transaction may name an item only once).
        let mut roles: Vec<&RoleKey> =
            planned.iter().filter_map(|p| p.issued.invitation.custom_role.as_ref()).collect();
        roles.sort();
        roles.dedup();
        let roles: Vec<RoleKey> = roles.into_iter().cloned().collect();
        let max_items = MAX_ITEMS - roles.len();
        let mut next = 0;
        while next < planned.len() {
            // A chunk: as many invitations as fit (an invitation replacing another takes five
            // items, a new one three).
            let mut chunk = Vec::new();
            let mut size = 0;
            while next < planned.len() {
                let items = if matches!(planned[next].slot, Slot::Expired(_)) { 5 } else { 3 };
                if size + items > max_items {
                    break;
                }
                size += items;
                chunk.push(next);
                next += 1;
            }
            for _ in 0..CHUNK_ROUNDS {
                let live: Vec<usize> = chunk.iter().copied().filter(|&i| outcomes[i].is_none()).collect();
                if live.is_empty() {
                    break;
                }
                let mut items = Vec::with_capacity(MAX_ITEMS + 2);
                let mut slot_indices = Vec::with_capacity(live.len());
                for &i in &live {
                    slot_indices.push(items.len());
                    items.extend(invitation_items(table, org, &planned[i], self));
                }
                let roles_from = items.len();
                items.extend(roles.iter().map(|key| role_check(table, org, key)));
                let invited = u32::try_from(live.len()).unwrap_or(u32::MAX);
                let claim = seats.map(|(counted, max)| SeatClaim::invitations(counted, max, invited));
                let delta = OrgDelta::default().with_seats(claim).inviting_into(read);
                let org_index = delta.push_to(&mut items, table, org);
                let actor_index = push_actor_check(&mut items, table, org, actor);
                let cancelled = match self.transact("create_invitations", items).await {
                    Ok(()) => {
                        live.iter().for_each(|&i| outcomes[i] = Some(InviteOutcome::Invited));
                        // This chunk's invitations are pending now, under the next version.
                        if let Some((counted, _)) = seats.as_mut() {
                            counted.pending += invited;
                            counted.version += 1;
                        }
                        continue;
                    }
                    Err(TransactError::Failed(e)) => {
                        return finish(
                            outcomes,
                            &chunk_and_rest(&chunk, planned.len()),
                            InviteOutcome::Failed(e),
                        );
                    }
                    Err(TransactError::Cancelled(c)) => c,
                };
                if actor_index.is_some_and(|i| cancelled.failed(i)) {
                    let refusal = super::actor_changed(actor);
                    return finish(
                        outcomes,
                        &chunk_and_rest(&chunk, planned.len()),
                        InviteOutcome::Failed(refusal),
                    );
                }
                if let Some(key) = roles.iter().enumerate().find(|(k, _)| cancelled.failed(roles_from + k)) {
                    let refusal = role_gone(key.1);
                    return finish(
                        outcomes,
                        &chunk_and_rest(&chunk, planned.len()),
                        InviteOutcome::Failed(refusal),
                    );
                }
                if let Some(i) = org_index.filter(|&i| cancelled.failed(i)) {
                    let outcome = match delta.refusal(cancelled.old_item(i)) {
                        OrgRefusal::SeatsChanged => InviteOutcome::SeatsChanged,
                        refusal => InviteOutcome::Failed(refusal.into()),
                    };
                    return finish(outcomes, &chunk_and_rest(&chunk, planned.len()), outcome);
                }
                let mut replanned = false;
                for (&i, &slot_index) in live.iter().zip(&slot_indices) {
                    if !cancelled.failed(slot_index) {
                        continue;
                    }
                    replanned = true;
                    match Slot::read(cancelled.old_item(slot_index), now) {
                        Slot::Members => outcomes[i] = Some(InviteOutcome::AlreadyMember),
                        Slot::Pending(_) => outcomes[i] = Some(InviteOutcome::AlreadyInvited),
                        fresh => planned[i].slot = fresh,
                    }
                }
                if !replanned {
                    tracing::error!(reasons = ?cancelled, "create_invitations cancelled on fresh keys");
                    return finish(
                        outcomes,
                        &chunk_and_rest(&chunk, planned.len()),
                        InviteOutcome::Failed(Error::Internal),
                    );
                }
            }
            let contended = Error::Conflict("the address is being invited by another request; retry".into());
            for &i in &chunk {
                outcomes[i].get_or_insert_with(|| InviteOutcome::Failed(contended.clone()));
            }
        }
        outcomes.into_iter().map(|o| o.unwrap_or(InviteOutcome::Failed(Error::Internal))).collect()
    }

    /// The caller's membership, the organization and one invitation, in one round trip.
    pub async fn invitation_with_context(
        &self,
        org: &OrgId,
        caller: &UserId,
        id: &InvitationId,
    ) -> Result<(Option<Member>, Option<Org>, Option<StoredInvitation>), Error> {
        let items = self
            .get_in_org(
                "get_invitation",
                org,
                vec![
                    (keys::org(org), keys::member(caller)),
                    (keys::org(org), keys::ORG_SK.to_owned()),
                    (keys::org(org), keys::invitation(id)),
                ],
            )
            .await?;
        let (mut member, mut found_org, mut invitation) = (None, None, None);
        for item in items {
            match string_attr(&item, keys::SK) {
                Some(sk) if sk.starts_with(keys::MEMBER_PREFIX) => member = Some(decode(item)?),
                Some(keys::ORG_SK) => found_org = Some(decode(item)?),
                _ => invitation = Some(decode_invitation(item)?),
            }
        }
        Ok((member, found_org, invitation))
    }

    /// Replaces the invitation's token and expiry (the old token stops working at once; the
    /// new one is sealed until the sender mints the token of its email), its delivery back to
    /// `queued`. With `seats` the invitation was expired and takes a seat again.
    pub async fn rotate_invitation(
        &self,
        org: &OrgId,
        actor: &Member,
        old_hash: &TokenHash,
        issued: &IssuedInvitation<'_>,
        seats: Option<SeatClaim>,
    ) -> Result<Rotation, Error> {
        let IssuedInvitation { invitation, hash, event } = *issued;
        let table = self.table();
        let mut items = vec![
            // Declining keeps the token hash (the invitation stays listed), so the condition
            // names the decline too: a resend that read the invitation before it was declined
            // must not put it back as pending.
            invitation_put(table, invitation_item(org, invitation, hash), old_hash, invitation.version - 1),
            slots::rehold(table, org, invitation, hash),
            token_delete(table, old_hash.as_str(), None),
        ];
        let delta = OrgDelta::default().with_seats(seats);
        let org_index = delta.push_to(&mut items, table, org);
        let actor_index = push_actor_check(&mut items, table, org, actor);
        items.push(self.audit_put(org, event));
        let cancelled = match self.transact("rotate_invitation", items).await {
            Ok(()) => return Ok(Rotation::Rotated),
            Err(TransactError::Failed(e)) => return Err(e),
            Err(TransactError::Cancelled(c)) => c,
        };
        if actor_index.is_some_and(|i| cancelled.failed(i)) {
            return Err(super::actor_changed(actor));
        }
        if cancelled.failed(0) {
            // Declined meanwhile: as a resend of a declined invitation (see `invite::resend`).
            if cancelled.old_item(0).is_some_and(|old| old.contains_key("declinedAt")) {
                return Err(Error::Conflict("the invitation was declined; invite the address again".into()));
            }
            // Its workspaces or groups changed meanwhile (same token), or the sender minted the
            // token of the send read (same send): resend it as it is now.
            let read_send = i64::try_from(invitation.send_number).unwrap_or(i64::MAX) - 1;
            if cancelled.old_item(0).is_some_and(|old| {
                string_attr(old, TOKEN_HASH) == Some(old_hash.as_str())
                    || super::number_attr(old, "sendNumber").unwrap_or(0) == read_send
            }) {
                return Ok(Rotation::Changed);
            }
            // Revoked, accepted or resent by another request meanwhile.
            return Err(Error::NotFound);
        }
        if let Some(i) = org_index.filter(|&i| cancelled.failed(i)) {
            return match delta.refusal(cancelled.old_item(i)) {
                OrgRefusal::SeatsChanged => Ok(Rotation::SeatsChanged),
                refusal => Err(refusal.into()),
            };
        }
        // The invitation expired, TTL freed its address, and the address was taken since.
        Err(Error::Conflict("the address has been invited again or has joined meanwhile".into()))
    }

    /// Deletes the invitation, its token and its slot (revoke, by an admin), if it still has
    /// the token it was read with: a resend in between must not leave a live token behind.
    pub async fn revoke_invitation(
        &self,
        org: &OrgId,
        actor: &Member,
        stored: &StoredInvitation,
        event: &AuditEvent,
    ) -> Result<(), ChangeError> {
        let table = self.table();
        let (id, hash) = (&stored.invitation.id, stored.token_hash.as_str());
        let mut items = vec![
            delete_if(
                table,
                keys::org(org),
                keys::invitation(id),
                Some("tokenHash = :hash"),
                &[(":hash", hash)],
            ),
            token_delete(table, hash, None),
        ];
        let actor_index = push_actor_check(&mut items, table, org, actor);
        items.push(self.audit_put(org, event));
        let release = slots::release(table, org, &stored.invitation.email, id);
        match self.transact_releasing("revoke_invitation", items, release).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(ChangeError::Refused(e)),
            Err(TransactError::Cancelled(c)) if actor_index.is_some_and(|i| c.failed(i)) => {
                Err(ChangeError::Refused(super::actor_changed(actor)))
            }
            Err(TransactError::Cancelled(_)) => Err(ChangeError::Stale),
        }
    }

    /// The invited user declines: the invitation stays listed as declined until it expires
    /// (out of the invitee index, so it counts for no seat and no sign-up), its token stays
    /// readable as declined, and its address slot is freed for a new invitation.
    pub async fn decline_invitation(
        &self,
        record: &TokenRecord,
        hash: &TokenHash,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let (Some(id), Some(email)) = (&record.invitation_id, &record.email) else {
            return Err(Error::InvitationNotFound);
        };
        let table = self.table();
        let declined = Update::builder()
            .table_name(table)
            .key(keys::PK, s(keys::org(&record.org_id)))
            .key(keys::SK, s(keys::invitation(id)))
            .update_expression("SET declinedAt = :at REMOVE GSI1PK, GSI1SK")
            .condition_expression("tokenHash = :hash AND attribute_not_exists(declinedAt)")
            .expression_attribute_values(":at", s(event.at.to_string()))
            .expression_attribute_values(":hash", s(hash.as_str()))
            .build()
            .expect("table, key and expression are set");
        let items = vec![
            token_use(table, hash.as_str(), TokenOutcome::Declined, record.version),
            TransactWriteItem::builder().update(declined).build(),
            self.audit_put(&record.org_id, event),
        ];
        let release = slots::release(table, &record.org_id, email, id);
        match self.transact_releasing("decline_invitation", items, release).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(e),
            Err(TransactError::Cancelled(_)) => Err(Error::InvitationNotFound),
        }
    }

    /// Runs `items` with, last, the release of an invitation's address slot. The slot may no
    /// longer be the invitation's (an expired invitation whose slot TTL deleted first, and the
    /// address invited again or joined since): then there is nothing to release, and the
    /// transaction runs without it rather than failing for good.
    async fn transact_releasing(
        &self,
        operation: &'static str,
        items: Vec<TransactWriteItem>,
        release: TransactWriteItem,
    ) -> Result<(), TransactError> {
        let slot_index = items.len();
        let mut with_release = items.clone();
        with_release.push(release);
        match self.transact(operation, with_release).await {
            Err(TransactError::Cancelled(c))
                if c.failed(slot_index) && (0..slot_index).all(|i| !c.failed(i)) =>
            {
                self.transact(operation, items).await
            }
            outcome => outcome,
        }
    }

    pub(crate) fn invitation_delete(&self, org: &OrgId, id: &InvitationId) -> TransactWriteItem {
        delete_if(self.table(), keys::org(org), keys::invitation(id), EXISTS, &[])
    }

    pub async fn invitations(
        &self,
        org: &OrgId,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<Invitation>, Error> {
        let page =
            self.org_items_page("list_invitations", org, keys::INVITATION_PREFIX, limit, after).await?;
        Ok(Page {
            items: page.items.into_iter().map(decode).collect::<Result<_, _>>()?,
            last_key: page.last_key,
        })
    }

    /// One page of the organization's items whose sort key starts with `prefix`.
    pub(crate) async fn org_items_page(
        &self,
        operation: &'static str,
        org: &OrgId,
        prefix: &str,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<Item>, Error> {
        let query = self.org_query(org, prefix, after)?.consistent_read(true);
        self.query_page(operation, query, limit, keys::SK).await
    }

    /// Seats in use at `now`: active members and unexpired pending invitations, with the
    /// version to condition the next seat-taking write on. Two reads (more for an
    /// organization with over 1 MB of invitations); only with a seat limit configured.
    pub async fn seats(&self, org: &OrgId, now: Timestamp) -> Result<Seats, Error> {
        let org_item = self
            .get("get_org_seats", keys::org(org), keys::ORG_SK.to_owned())
            .await?
            .ok_or(Error::NotFound)?;
        let active = super::number_attr(&org_item, super::org_update::counters::ACTIVE_MEMBERS).unwrap_or(0);
        let version = super::number_attr(&org_item, super::org_update::counters::SEAT_VERSION).unwrap_or(0);
        let mut pending = 0i64;
        let mut start = None;
        loop {
            // The stored RFC 3339 text sorts as time does, and is exact to the millisecond.
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND SK BETWEEN :prefix AND :past")
                .filter_expression("expiresAt > :now AND attribute_not_exists(declinedAt)")
                .expression_attribute_values(":pk", s(keys::org(org)))
                .expression_attribute_values(":prefix", s(keys::INVITATION_PREFIX))
                .expression_attribute_values(":past", s(super::past(keys::INVITATION_PREFIX)))
                .expression_attribute_values(":now", s(now.to_string()))
                .select(aws_sdk_dynamodb::types::Select::Count)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| super::classify("count_pending_invitations", e))?;
            pending += i64::from(out.count);
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(Seats { active: count(active), pending: count(pending), version })
    }
}

/// The indices of `chunk` and of every invitation after it.
fn chunk_and_rest(chunk: &[usize], total: usize) -> Vec<usize> {
    let first = chunk.first().copied().unwrap_or(total);
    (first..total).collect()
}

/// Gives every undecided invitation among `indices` the outcome `outcome`.
fn finish(
    mut outcomes: Vec<Option<InviteOutcome>>,
    indices: &[usize],
    outcome: InviteOutcome,
) -> Vec<InviteOutcome> {
    for &i in indices {
        outcomes[i].get_or_insert_with(|| outcome.clone());
    }
    outcomes.into_iter().map(|o| o.unwrap_or(InviteOutcome::Failed(Error::Internal))).collect()
}

/// Deletes the token item of `hash`; with `EXISTS` the transaction fails if the token was
/// already used or revoked.
pub(crate) fn token_delete(table: &str, hash: &str, condition: Option<&str>) -> TransactWriteItem {
    delete_if(table, keys::token(hash), keys::TOKEN_SK.to_owned(), condition, &[])
}

impl Store {
    /// Gives a pending invitation other workspaces and groups (`after`), in its item and its
    /// token, if it still has the token it was read with and was not declined meanwhile.
    pub async fn reassign_invitation(
        &self,
        org: &OrgId,
        actor: &Member,
        stored: &StoredInvitation,
        after: &Invitation,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let table = self.table();
        let hash = stored.token_hash.as_str();
        let token = Update::builder()
            .table_name(table)
            .key(keys::PK, s(keys::token(hash)))
            .key(keys::SK, s(keys::TOKEN_SK))
            .update_expression("SET workspaces = :ws, #groups = :groups, version = :next")
            .condition_expression(format!(
                "attribute_exists(PK) AND attribute_not_exists(outcome) AND {VERSION_AS_READ}"
            ))
            .expression_attribute_values(":asReadV", n(stored.invitation.version))
            .expression_attribute_values(":next", n(after.version))
            .expression_attribute_names("#groups", "groups")
            .expression_attribute_values(":ws", list_attribute(&after.workspaces))
            .expression_attribute_values(":groups", list_attribute(&after.groups))
            .build()
            .expect("table, key and expression are set");
        // An update of what changes, not a put of the whole item: the email's delivery moves
        // under it (the sender, SES's events) and must not be put back as read.
        let mut invitation = Update::builder()
            .table_name(table)
            .key(keys::PK, s(keys::org(org)))
            .key(keys::SK, s(keys::invitation(&after.id)))
            .condition_expression(format!(
                "tokenHash = :old AND attribute_not_exists(declinedAt) AND {VERSION_AS_READ}"
            ))
            .expression_attribute_names("#groups", "groups")
            .expression_attribute_values(":old", s(hash))
            .expression_attribute_values(":asReadV", n(stored.invitation.version))
            .expression_attribute_values(":next", n(after.version))
            .expression_attribute_values(":ws", list_attribute(&after.workspaces))
            .expression_attribute_values(":groups", list_attribute(&after.groups));
        invitation = if after.workspaces.is_empty() {
            invitation.update_expression(format!(
                "SET workspaces = :ws, #groups = :groups, version = :next REMOVE {WORKSPACE_IDS}"
            ))
        } else {
            let ids = after.workspaces.iter().map(|w| w.id.to_string()).collect();
            invitation
                .update_expression(format!(
                    "SET workspaces = :ws, #groups = :groups, version = :next, {WORKSPACE_IDS} = :ids"
                ))
                .expression_attribute_values(":ids", aws_sdk_dynamodb::types::AttributeValue::Ss(ids))
        };
        let invitation = invitation.build().expect("table, key and expression are set");
        let mut items = vec![TransactWriteItem::builder().update(invitation).build()];
        // Its token item exists once the sender minted the token of its send; before that,
        // the sender writes the token from the invitation as it is then.
        if stored.invitation.has_token_item() {
            items.push(TransactWriteItem::builder().update(token).build());
        }
        let actor_index = push_actor_check(&mut items, table, org, actor);
        items.push(self.audit_put(org, event));
        match self.transact("reassign_invitation", items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(e),
            Err(TransactError::Cancelled(c)) if actor_index.is_some_and(|i| c.failed(i)) => {
                Err(super::actor_changed(actor))
            }
            // Resent, revoked, accepted or declined meanwhile.
            Err(TransactError::Cancelled(_)) => {
                Err(Error::Conflict("the invitation changed meanwhile; read it again".into()))
            }
        }
    }
}

/// A `Put` replacing an invitation that still has the token `old` and version `version`
/// and was not declined meanwhile.
fn invitation_put(table: &str, item: Item, old: &TokenHash, version: u64) -> TransactWriteItem {
    let put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(format!(
            "tokenHash = :old AND attribute_not_exists(declinedAt) AND {VERSION_AS_READ}"
        ))
        .expression_attribute_values(":old", s(old.as_str()))
        .expression_attribute_values(":asReadV", n(version))
        .return_values_on_condition_check_failure(
            aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
        )
        .build()
        .expect("table and item are set");
    TransactWriteItem::builder().put(put).build()
}

/// A list of the token item, as a DynamoDB attribute.
fn list_attribute<T: Serialize>(values: &[T]) -> aws_sdk_dynamodb::types::AttributeValue {
    serde_dynamo::to_attribute_value(values).unwrap_or(aws_sdk_dynamodb::types::AttributeValue::L(Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::invitation::Delivery;

    #[test]
    fn invitation_items_are_indexed_by_their_address() {
        let (org, now) = (OrgId::new(), Timestamp::now());
        let invitation = Invitation {
            id: InvitationId::new(),
            email: Email::parse("Ann@Example.com").unwrap(),
            role: Role::Member,
            custom_role: None,
            invited_by: UserId::parse("owner").unwrap(),
            created_at: now,
            expires_at: now.plus_hours(72),
            last_sent_at: now,
            email_delivery: Delivery::Queued,
            email_delivery_reason: None,
            send_number: 0,
            issued_send: None,
            mailed_by: Default::default(),
            metadata: Metadata::default(),
            voucher: None,
            declined_at: None,
            workspaces: Vec::new(),
            groups: Vec::new(),
            version: 0,
        };
        let item = invitation_item(&org, &invitation, &TokenHash::from_stored("ab".repeat(32)));
        assert_eq!(string_attr(&item, keys::GSI1PK), Some("INVITEE#ann@example.com"));
        let sort = format!("ORG#{org}#INV#{}", invitation.id);
        assert_eq!(string_attr(&item, keys::GSI1SK), Some(sort.as_str()));
        // The extra attributes do not disturb reading the invitation back.
        assert_eq!(decode_invitation(item).unwrap().invitation, invitation);
    }
}
