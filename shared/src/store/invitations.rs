//! Email invitations, their address slots and their tokens.
//!
//! Per organization and address there is one slot item (`EMAIL#<address>`): held by a member
//! or by one pending invitation. Creating an invitation puts the slot on the condition that it
//! is free, which is what makes "one pending invitation per address" and "already a member"
//! hold under concurrent requests.

use serde::{Deserialize, Serialize};

use super::members::member_item;
use super::ops::{EXISTS, NEW, delete_if, put_if};
use super::org_update::{OrgDelta, actor_check};
use super::{
    Cancelled, Item, Page, Store, TransactError, decode, encode, keys, n, number_attr, s, string_attr,
};
use crate::domain::invitation::{Delivery, Invitation};
use crate::domain::token::TokenHash;
use crate::domain::{
    AuditEvent, DisplayName, Email, InvitationId, LinkId, Member, OrgId, OrgName, Role, Timestamp, UserId,
};
use crate::error::Error;

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
    pub org_name: OrgName,
    pub role: Role,
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteOutcome {
    Invited,
    AlreadyMember,
    AlreadyInvited,
    /// A seat was taken since the seats were counted: count again.
    SeatsChanged,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceptOutcome {
    Joined,
    /// The caller was already a member; nothing changed.
    Existing(Member),
    /// A seat was taken since the seats were counted: count again.
    SeatsChanged,
}

const HOLDER_INVITATION: &str = "invitation";
pub(crate) const TOKEN_HASH: &str = "tokenHash";

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

fn invitation_item(org: &OrgId, invitation: &Invitation, hash: &TokenHash) -> Item {
    token_bearing_item(
        invitation,
        (org, keys::invitation(&invitation.id), "invitation"),
        hash,
        invitation.expires_at,
    )
}

fn invitation_slot(org: &OrgId, invitation: &Invitation, hash: &TokenHash) -> Item {
    Item::from([
        (keys::PK.to_owned(), s(keys::org(org))),
        (keys::SK.to_owned(), s(keys::email(&invitation.email))),
        ("type".to_owned(), s("email_slot")),
        ("holder".to_owned(), s(HOLDER_INVITATION)),
        ("invitationId".to_owned(), s(invitation.id.as_str())),
        (TOKEN_HASH.to_owned(), s(hash.as_str())),
        (keys::TTL.to_owned(), n(invitation.expires_at.epoch_seconds())),
    ])
}

/// An invitation about to be written with its (new) token, and the audit event saying so.
pub struct IssuedInvitation<'a> {
    pub invitation: &'a Invitation,
    pub hash: &'a TokenHash,
    pub record: &'a TokenRecord,
    pub event: &'a AuditEvent,
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

/// The address slot is free, or held by this invitation (`:inv`).
const SLOT_FREE_OR_HELD: &str = "attribute_not_exists(PK) OR invitationId = :inv";

impl Store {
    pub async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, Error> {
        self.get("get_token", keys::token(hash.as_str()), keys::TOKEN_SK.to_owned())
            .await?
            .map(decode)
            .transpose()
    }

    /// Creates a pending invitation, replacing an expired one for the same address. One
    /// transaction; two when an expired invitation is replaced.
    pub async fn create_invitation(
        &self,
        org: &OrgId,
        actor: &Member,
        issued: &IssuedInvitation<'_>,
        seat_version: Option<i64>,
    ) -> Result<InviteOutcome, Error> {
        let IssuedInvitation { invitation, hash, record, event } = *issued;
        let table = self.table();
        let org_delta = OrgDelta::default().with_seat_version(seat_version);
        // The slot to replace, once an expired invitation is found holding it.
        let mut replacing: Option<(String, String)> = None;
        for _ in 0..3 {
            let mut items = Vec::with_capacity(8);
            match &replacing {
                None => items.push(put_if(table, invitation_slot(org, invitation, hash), NEW, &[])),
                Some((old_id, old_hash)) => {
                    items.push(put_if(
                        table,
                        invitation_slot(org, invitation, hash),
                        Some("invitationId = :old"),
                        &[(":old", old_id)],
                    ));
                    items.push(delete_if(
                        table,
                        keys::org(org),
                        format!("{}{old_id}", keys::INVITATION_PREFIX),
                        None,
                        &[],
                    ));
                    items.push(token_delete(table, old_hash, None));
                }
            }
            items.push(put_if(table, invitation_item(org, invitation, hash), NEW, &[]));
            items.push(put_if(table, token_item(hash, record), NEW, &[]));
            items.push(actor_check(table, org, actor));
            items.push(self.audit_put(org, event));
            let org_index = items.len();
            if seat_version.is_some() {
                items.push(org_delta.build(table, org));
            }
            let cancelled = match self.transact("create_invitation", items).await {
                Ok(()) => return Ok(InviteOutcome::Invited),
                Err(TransactError::Failed(e)) => return Err(e),
                Err(TransactError::Cancelled(c)) => c,
            };
            if seat_version.is_some() && cancelled.failed(org_index) {
                return match org_delta.refusal(cancelled.old_item(org_index)) {
                    super::org_update::OrgRefusal::SeatsChanged => Ok(InviteOutcome::SeatsChanged),
                    other => Err(other.into()),
                };
            }
            if cancelled.failed(org_index - 2) {
                return Err(Error::forbidden("your membership changed while the request ran"));
            }
            if !cancelled.failed(0) {
                tracing::error!(reasons = ?cancelled, "create_invitation cancelled on fresh keys");
                return Err(Error::Internal);
            }
            // The slot is taken: by a member, a live invitation, or an expired one to replace.
            let Some(old) = cancelled.old_item(0) else { continue };
            if string_attr(old, "holder") != Some(HOLDER_INVITATION) {
                return Ok(InviteOutcome::AlreadyMember);
            }
            let expired = number_attr(old, keys::TTL).is_some_and(|t| t <= Timestamp::now().epoch_seconds());
            if !expired {
                return Ok(InviteOutcome::AlreadyInvited);
            }
            replacing = Some((
                string_attr(old, "invitationId").unwrap_or_default().to_owned(),
                string_attr(old, TOKEN_HASH).unwrap_or_default().to_owned(),
            ));
        }
        Err(Error::Conflict("the address is being invited by another request; retry".into()))
    }

    pub async fn set_delivery(
        &self,
        org: &OrgId,
        id: &InvitationId,
        delivery: Delivery,
    ) -> Result<(), Error> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::org(org)))
            .key(keys::SK, s(keys::invitation(id)))
            .update_expression("SET emailDelivery = :d")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":d", s(if delivery == Delivery::Sent { "sent" } else { "failed" }))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Revoked or accepted meanwhile: nothing left to mark.
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(())
            }
            Err(e) => Err(super::classify("set_delivery", e)),
        }
    }

    /// The caller's membership, the organization and one invitation, in one round trip.
    pub async fn invitation_with_context(
        &self,
        org: &OrgId,
        caller: &UserId,
        id: &InvitationId,
    ) -> Result<(Option<Member>, Option<crate::domain::Org>, Option<StoredInvitation>), Error> {
        let items = self
            .get_many(
                "get_invitation",
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

    /// Replaces the invitation's token and expiry (the old token stops working at once).
    pub async fn rotate_invitation(
        &self,
        org: &OrgId,
        actor: &Member,
        old_hash: &TokenHash,
        issued: &IssuedInvitation<'_>,
    ) -> Result<(), Error> {
        let IssuedInvitation { invitation, hash, record, event } = *issued;
        let table = self.table();
        let items = vec![
            put_if(
                table,
                invitation_item(org, invitation, hash),
                Some("tokenHash = :old"),
                &[(":old", old_hash.as_str())],
            ),
            token_delete(table, old_hash.as_str(), None),
            put_if(table, token_item(hash, record), NEW, &[]),
            put_if(
                table,
                invitation_slot(org, invitation, hash),
                Some(SLOT_FREE_OR_HELD),
                &[(":inv", invitation.id.as_str())],
            ),
        ];
        // Otherwise revoked, accepted or resent by another request meanwhile.
        self.admin_transact("rotate_invitation", (org, actor, event), items, Error::NotFound).await
    }

    /// Deletes the invitation, its token and its slot (revoke, by an admin).
    pub async fn revoke_invitation(
        &self,
        org: &OrgId,
        actor: &Member,
        stored: &StoredInvitation,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let table = self.table();
        let items = vec![
            self.invitation_delete(org, &stored.invitation.id),
            token_delete(table, stored.token_hash.as_str(), None),
            self.slot_release(org, &stored.invitation.email, &stored.invitation.id),
        ];
        self.admin_transact("revoke_invitation", (org, actor, event), items, Error::NotFound).await
    }

    /// The invited user declines: the invitation, its token and its slot go.
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
        let items = vec![
            token_delete(table, hash.as_str(), EXISTS),
            self.invitation_delete(&record.org_id, id),
            self.slot_release(&record.org_id, email, id),
            self.audit_put(&record.org_id, event),
        ];
        match self.transact("decline_invitation", items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(e),
            Err(TransactError::Cancelled(_)) => Err(Error::InvitationNotFound),
        }
    }

    /// Accepts an email invitation: the membership is created and the invitation consumed in
    /// one transaction, so two concurrent accepts make exactly one membership.
    pub async fn accept_invitation(
        &self,
        record: &TokenRecord,
        hash: &TokenHash,
        member: &Member,
        event: &AuditEvent,
        one_org_per_user: bool,
        seat_version: Option<i64>,
    ) -> Result<AcceptOutcome, Error> {
        let (Some(id), Some(email)) = (&record.invitation_id, &record.email) else {
            return Err(Error::InvitationNotFound);
        };
        let org = &record.org_id;
        let table = self.table();
        let delta = OrgDelta::between(None, Some(member)).with_seat_version(seat_version);
        let mut items = vec![
            put_if(table, member_item(org, member), NEW, &[]),
            token_delete(table, hash.as_str(), EXISTS),
            self.invitation_delete(org, id),
            put_if(
                table,
                super::members::member_email_slot(org, email, &member.user_id),
                Some(SLOT_FREE_OR_HELD),
                &[(":inv", id.as_str())],
            ),
            delta.build(table, org),
            self.audit_put(org, event),
        ];
        if one_org_per_user {
            items.push(put_if(table, super::orgs::org_lock_item(&member.user_id, org), NEW, &[]));
        }
        match self.transact("accept_invitation", items).await {
            Ok(()) => Ok(AcceptOutcome::Joined),
            Err(TransactError::Failed(e)) => Err(e),
            Err(TransactError::Cancelled(c)) => joined_refusal(&c, &delta, 4, one_org_per_user.then_some(6)),
        }
    }

    pub(crate) fn invitation_delete(
        &self,
        org: &OrgId,
        id: &InvitationId,
    ) -> aws_sdk_dynamodb::types::TransactWriteItem {
        delete_if(self.table(), keys::org(org), keys::invitation(id), EXISTS, &[])
    }

    /// Frees the address slot held by invitation `id` (already gone to TTL is fine).
    pub(crate) fn slot_release(
        &self,
        org: &OrgId,
        email: &Email,
        id: &InvitationId,
    ) -> aws_sdk_dynamodb::types::TransactWriteItem {
        delete_if(
            self.table(),
            keys::org(org),
            keys::email(email),
            Some(SLOT_FREE_OR_HELD),
            &[(":inv", id.as_str())],
        )
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

    /// Seats in use (active members plus unexpired pending invitations) and the version to
    /// condition the next seat-taking write on. Two reads; only with a seat limit configured.
    pub async fn seats(&self, org: &OrgId) -> Result<(u32, i64), Error> {
        let org_item = self
            .get("get_org_seats", keys::org(org), keys::ORG_SK.to_owned())
            .await?
            .ok_or(Error::NotFound)?;
        let active = number_attr(&org_item, super::org_update::counters::ACTIVE_MEMBERS).unwrap_or(0);
        let version = number_attr(&org_item, super::org_update::counters::SEAT_VERSION).unwrap_or(0);
        let mut pending = 0i64;
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .filter_expression("#ttl > :now")
                .expression_attribute_names("#ttl", keys::TTL)
                .expression_attribute_values(":pk", s(keys::org(org)))
                .expression_attribute_values(":prefix", s(keys::INVITATION_PREFIX))
                .expression_attribute_values(":now", n(Timestamp::now().epoch_seconds()))
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
        Ok((u32::try_from(active + pending).unwrap_or(u32::MAX), version))
    }
}

/// The reason a joining transaction (accept by invitation or link) was cancelled. Items 0
/// (the membership) and `org_index` (the organization) and the optional one-org lock are
/// read here; anything else that failed means the token was used up, revoked or consumed.
pub(crate) fn joined_refusal(
    cancelled: &Cancelled,
    delta: &OrgDelta,
    org_index: usize,
    lock_index: Option<usize>,
) -> Result<AcceptOutcome, Error> {
    if cancelled.failed(0) {
        return match cancelled.old_item(0).cloned().map(decode::<Member>) {
            Some(Ok(existing)) => Ok(AcceptOutcome::Existing(existing)),
            _ => Err(Error::Conflict("the membership changed meanwhile; retry".into())),
        };
    }
    if lock_index.is_some_and(|i| cancelled.failed(i)) {
        return Err(Error::AlreadyInOrg);
    }
    if cancelled.failed(org_index) {
        return match delta.refusal(cancelled.old_item(org_index)) {
            super::org_update::OrgRefusal::SeatsChanged => Ok(AcceptOutcome::SeatsChanged),
            _ => Err(Error::InvitationNotFound),
        };
    }
    Err(Error::InvitationNotFound)
}

/// What accept needs, read in one consistent round trip.
pub struct AcceptContext {
    pub token: Option<TokenRecord>,
    pub org: Option<crate::domain::Org>,
    pub membership: Option<Member>,
}

impl Store {
    pub async fn accept_context(
        &self,
        org: &OrgId,
        hash: &TokenHash,
        user: &UserId,
    ) -> Result<AcceptContext, Error> {
        let items = self
            .get_many(
                "get_accept_context",
                vec![
                    (keys::token(hash.as_str()), keys::TOKEN_SK.to_owned()),
                    (keys::org(org), keys::ORG_SK.to_owned()),
                    (keys::org(org), keys::member(user)),
                ],
            )
            .await?;
        let mut context = AcceptContext { token: None, org: None, membership: None };
        for item in items {
            match string_attr(&item, keys::SK) {
                Some(keys::TOKEN_SK) => context.token = Some(decode(item)?),
                Some(keys::ORG_SK) => context.org = Some(decode(item)?),
                _ => context.membership = Some(decode(item)?),
            }
        }
        // A token names its organization twice (in its text and its record); both must agree.
        if context.token.as_ref().is_some_and(|t| &t.org_id != org) {
            context.token = None;
        }
        Ok(context)
    }
}

/// Deletes the token item of `hash`; with `EXISTS` the transaction fails if the token was
/// already used or revoked.
pub(crate) fn token_delete(
    table: &str,
    hash: &str,
    condition: Option<&str>,
) -> aws_sdk_dynamodb::types::TransactWriteItem {
    delete_if(table, keys::token(hash), keys::TOKEN_SK.to_owned(), condition, &[])
}
