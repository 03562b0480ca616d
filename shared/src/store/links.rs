//! Multi-use invite links. Uses are counted on the token item with a condition, so
//! `maxUses` can never be exceeded however many people join at once.

use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};

use super::invitations::{
    AcceptOutcome, TOKEN_HASH, TokenRecord, joined_refusal, token_bearing_item, token_delete, token_item,
};
use super::members::{member_email_slot, member_item};
use super::ops::{EXISTS, NEW, delete_if, put_if};
use super::org_update::OrgDelta;
use super::{Item, Page, Store, TransactError, decode, keys, n, s, string_attr};
use crate::domain::invitation::InviteLink;
use crate::domain::token::TokenHash;
use crate::domain::{AuditEvent, LinkId, Member, OrgId, UserId};
use crate::error::Error;

fn link_item(org: &OrgId, link: &InviteLink, hash: &TokenHash) -> Item {
    token_bearing_item(link, (org, keys::link(&link.id), "invite_link"), hash, link.expires_at)
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

impl Store {
    pub async fn create_link(
        &self,
        org: &OrgId,
        actor: &Member,
        link: &InviteLink,
        hash: &TokenHash,
        record: &TokenRecord,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let table = self.table();
        let items = vec![
            put_if(table, link_item(org, link, hash), NEW, &[]),
            put_if(table, token_item(hash, record), NEW, &[]),
        ];
        // The link and token keys are fresh: only the actor check can fail.
        self.admin_transact("create_link", (org, actor, event), items, Error::Internal).await
    }

    /// The caller's membership and one link with its token hash, in one round trip.
    pub async fn link_with_member(
        &self,
        org: &OrgId,
        caller: &UserId,
        id: &LinkId,
    ) -> Result<(Option<Member>, Option<(InviteLink, TokenHash)>), Error> {
        let items = self
            .get_many(
                "get_link",
                vec![(keys::org(org), keys::member(caller)), (keys::org(org), keys::link(id))],
            )
            .await?;
        let (mut member, mut link) = (None, None);
        for item in items {
            if string_attr(&item, keys::SK).is_some_and(|sk| sk.starts_with(keys::MEMBER_PREFIX)) {
                member = Some(decode(item)?);
            } else {
                let hash = string_attr(&item, TOKEN_HASH).map(str::to_owned).ok_or(Error::Internal)?;
                link = Some((decode(item)?, TokenHash::from_stored(hash)));
            }
        }
        Ok((member, link))
    }

    pub async fn revoke_link(
        &self,
        org: &OrgId,
        actor: &Member,
        link: &InviteLink,
        hash: &TokenHash,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let table = self.table();
        let items = vec![
            delete_if(table, keys::org(org), keys::link(&link.id), EXISTS, &[]),
            token_delete(table, hash.as_str(), None),
        ];
        self.admin_transact("revoke_link", (org, actor, event), items, Error::NotFound).await
    }

    /// Joins through a link: the membership, one counted use (refused past `maxUses`), the
    /// caller's address slot when it is free, and the counters, in one transaction.
    pub async fn accept_link(
        &self,
        record: &TokenRecord,
        hash: &TokenHash,
        member: &Member,
        event: &AuditEvent,
        one_org_per_user: bool,
        seat_version: Option<i64>,
    ) -> Result<AcceptOutcome, Error> {
        let Some(link_id) = &record.link_id else { return Err(Error::InvitationNotFound) };
        let org = &record.org_id;
        let table = self.table();
        let delta = OrgDelta::between(None, Some(member)).with_seat_version(seat_version);
        // The address slot is claimed only if free: another account with the same address may
        // hold it, or a pending invitation (which then stays valid).
        let mut claim_slot = member.email.is_some();
        loop {
            let mut items = vec![
                put_if(table, member_item(org, member), NEW, &[]),
                add_use(
                    table,
                    keys::token(hash.as_str()),
                    keys::TOKEN_SK.to_owned(),
                    "attribute_exists(PK) AND (attribute_not_exists(maxUses) OR uses < maxUses)",
                ),
                add_use(table, keys::org(org), keys::link(link_id), "attribute_exists(PK)"),
                delta.build(table, org),
                self.audit_put(org, event),
            ];
            let slot_index = items.len();
            if let (true, Some(email)) = (claim_slot, &member.email) {
                items.push(put_if(table, member_email_slot(org, email, &member.user_id), NEW, &[]));
            }
            let lock_index = items.len();
            if one_org_per_user {
                items.push(put_if(table, super::orgs::org_lock_item(&member.user_id, org), NEW, &[]));
            }
            let cancelled = match self.transact("accept_link", items).await {
                Ok(()) => return Ok(AcceptOutcome::Joined),
                Err(TransactError::Failed(e)) => return Err(e),
                Err(TransactError::Cancelled(c)) => c,
            };
            if cancelled.failed(1) && !cancelled.failed(0) {
                // The token exists but its condition failed: used up. Gone: revoked.
                return Err(if cancelled.old_item(1).is_some() {
                    Error::InvitationExhausted
                } else {
                    Error::InvitationNotFound
                });
            }
            if claim_slot && cancelled.failed(slot_index) && !cancelled.failed(0) {
                claim_slot = false;
                continue;
            }
            return joined_refusal(&cancelled, &delta, 3, one_org_per_user.then_some(lock_index));
        }
    }

    pub async fn links(
        &self,
        org: &OrgId,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<InviteLink>, Error> {
        let page = self.org_items_page("list_links", org, keys::LINK_PREFIX, limit, after).await?;
        Ok(Page {
            items: page.items.into_iter().map(decode).collect::<Result<_, _>>()?,
            last_key: page.last_key,
        })
    }
}
