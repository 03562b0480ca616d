//! Multi-use invite links. Uses are counted on the token item with a condition (see
//! `joining`), so `maxUses` can never be exceeded however many people join at once.

use super::invitations::{TokenRecord, token_bearing_item, token_delete, token_item};
use super::ops::{EXISTS, NEW, delete_if, put_if};
use super::org_update::OrgDelta;
use super::slots::TOKEN_HASH;
use super::{Item, Page, Store, decode, keys, string_attr};
use crate::domain::invitation::InviteLink;
use crate::domain::token::TokenHash;
use crate::domain::{AuditEvent, LinkId, Member, Org, OrgId, UserId};
use crate::error::Error;

fn link_item(org: &OrgId, link: &InviteLink, hash: &TokenHash) -> Item {
    token_bearing_item(link, (org, keys::link(&link.id), "invite_link"), hash, link.expires_at)
}

impl Store {
    pub async fn create_link(
        &self,
        read: &Org,
        actor: &Member,
        link: &InviteLink,
        hash: &TokenHash,
        record: &TokenRecord,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let table = self.table();
        let org = &read.id;
        let mut items = vec![
            put_if(table, link_item(org, link, hash), NEW, &[]),
            put_if(table, token_item(hash, record), NEW, &[]),
        ];
        // The link and token keys are fresh: only the actor check, the custom role's, or (in
        // a personal organization, whose first link ends that) the organization's can fail;
        // the last only when it was deleted meanwhile.
        let ends_personal = OrgDelta::default().inviting_into(read).push_to(&mut items, table, org);
        let otherwise = match &link.custom_role {
            Some(key) => {
                items.push(super::roles::role_check(table, org, key));
                super::roles::role_gone(key)
            }
            None if ends_personal.is_some() => Error::NotFound,
            None => Error::Internal,
        };
        self.admin_transact("create_link", (org, actor, event), items, otherwise).await
    }

    /// The caller's membership and one link with its token hash, in one round trip.
    pub async fn link_with_member(
        &self,
        org: &OrgId,
        caller: &UserId,
        id: &LinkId,
    ) -> Result<(Option<Member>, Option<(InviteLink, TokenHash)>), Error> {
        let items = self
            .get_in_org(
                "get_link",
                org,
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
