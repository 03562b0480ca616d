//! Organization items: creation, reads, and the organizations of a user (through GSI1).

use serde::Serialize;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::codec::METADATA;
use super::member_changes::ChangeError;
use super::members::{member_item, put_new};
use super::org_update::counters;
use super::org_update::push_actor_check;
use super::slots::{self, Slot};
use super::{Item, Page, Store, TransactError, decode, encode, keys, n, s};
use crate::domain::{AuditEvent, Member, Org, OrgId, UserId};
use crate::error::Error;

/// An organization the caller belongs to, with the caller's membership of it. Of one where
/// they are suspended, only what lets a page say "your access to X is suspended": every
/// route under it answers `403 suspended`, so its counts and metadata are not theirs to see.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum UserOrg {
    Active { org: Box<Org>, membership: Box<Member> },
    Suspended { org: OrgName, membership: SuspendedMembership },
}

/// An organization as a suspended member's list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OrgName {
    pub id: OrgId,
    pub name: crate::domain::OrgName,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuspendedMembership {
    pub status: crate::domain::Status,
}

impl UserOrg {
    fn new(org: Org, membership: Member) -> Self {
        if membership.is_active() {
            Self::Active { org: Box::new(org), membership: Box::new(membership) }
        } else {
            let status = membership.status;
            Self::Suspended {
                org: OrgName { id: org.id, name: org.name },
                membership: SuspendedMembership { status },
            }
        }
    }
}

fn org_item(org: &Org) -> Item {
    let mut item = encode(
        org,
        &[
            (keys::PK, s(keys::org(&org.id))),
            (keys::SK, s(keys::ORG_SK)),
            ("type", s("org")),
            // Counters change only inside the transaction that changes what they count, so
            // conditions on them (the last active owner) hold under concurrent requests.
            (counters::ACTIVE_MEMBERS, n(1)),
            (counters::ACTIVE_OWNERS, n(1)),
            (counters::SEAT_VERSION, n(0)),
            (ORG_VERSION, n(org.version)),
        ],
    );
    if org.personal {
        item.insert(PERSONAL.to_owned(), AttributeValue::Bool(true));
    }
    item
}

/// Set on a personal organization's item (see `Org::personal`); removed by the first
/// invitation or link made in it (`OrgDelta::made_invitation`, `Store::create_link`).
pub(crate) const PERSONAL: &str = "personal";

/// The record that a user's sign-up made their organization: written in the organization's
/// own transaction, so that however often Cognito delivers the trigger (it retries, and may
/// run it twice at once), one organization is made. Kept after that organization is deleted:
/// a sign-up is confirmed once. Without `org`: the sign-up made none (`record_sign_up`).
fn sign_up_item(user: &UserId, org: Option<&OrgId>) -> Item {
    let mut item = Item::from([
        (keys::PK.to_owned(), s(keys::user(user))),
        (keys::SK.to_owned(), s(keys::SIGN_UP_SK)),
        ("type".to_owned(), s("sign_up")),
    ]);
    if let Some(org) = org {
        item.insert("orgId".to_owned(), s(org.as_str()));
    }
    item
}

/// What `Store::create_org` made of a sign-up's organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Created,
    /// The user's sign-up made one already (Cognito delivered the trigger again).
    SignedUpBefore,
}

/// The organization's settings version (see `Org::version`).
const ORG_VERSION: &str = "version";

/// Set on an organization item when the organization is deleted; the item is then a
/// tombstone (keys and this), kept so that the id is never reused.
pub(crate) const DELETED_AT: &str = "deletedAt";

pub(crate) fn is_deleted(item: &Item) -> bool {
    item.contains_key(DELETED_AT)
}

pub(crate) fn org_lock_item(user: &UserId, org: &OrgId) -> Item {
    Item::from([
        (keys::PK.to_owned(), s(keys::user(user))),
        (keys::SK.to_owned(), s(keys::ORG_LOCK_SK)),
        ("type".to_owned(), s("org_lock")),
        ("orgId".to_owned(), s(org.as_str())),
    ])
}

impl Store {
    /// Creates the organization with its first owner, in one transaction. The owner's address
    /// takes its slot when `claims_address` (a verified one); a service's is display-only. A
    /// personal organization (`org.personal`) is made by its owner's sign-up, at most once.
    pub async fn create_org(
        &self,
        org: &Org,
        owner: &Member,
        event: &AuditEvent,
        one_org_per_user: bool,
        claims_address: bool,
    ) -> Result<Created, Error> {
        let table = self.table();
        let mut items = vec![
            put_new(table, org_item(org)),
            put_new(table, member_item(&org.id, owner)),
            self.audit_put(&org.id, event),
        ];
        if let Some(email) = owner.email.as_ref().filter(|_| claims_address) {
            items.push(slots::take_for_member(table, &org.id, email, &owner.user_id, &Slot::Free));
        }
        let lock_index = items.len();
        if one_org_per_user {
            items.push(put_new(table, org_lock_item(&owner.user_id, &org.id)));
        }
        let sign_up_index = items.len();
        if org.personal {
            items.push(put_new(table, sign_up_item(&owner.user_id, Some(&org.id))));
        }
        items.extend(super::member_index::index_writes(table, &org.id, None, Some(owner)));
        match self.transact("create_org", items).await {
            Ok(()) => Ok(Created::Created),
            // Checked first: on a redelivery the user's one-org lock is this organization's.
            Err(TransactError::Cancelled(c)) if org.personal && c.failed(sign_up_index) => {
                Ok(Created::SignedUpBefore)
            }
            Err(TransactError::Cancelled(c)) if one_org_per_user && c.failed(lock_index) => {
                Err(Error::AlreadyInOrg)
            }
            Err(TransactError::Cancelled(c)) => {
                tracing::error!(reasons = ?c, "create_org cancelled on fresh keys");
                Err(Error::Internal)
            }
            Err(TransactError::Failed(e)) => Err(e),
        }
    }

    /// Records that `user`'s sign-up made no organization (their address was invited, or they
    /// had one): a later delivery of the same sign-up then makes none either, whatever changed
    /// meanwhile (they accepted the invitation, or left). A record already there stays.
    pub async fn record_sign_up(&self, user: &UserId) -> Result<(), Error> {
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(sign_up_item(user, None)))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(())
            }
            Err(e) => Err(super::classify("put_sign_up", e)),
        }
    }

    /// Writes `after` (name, metadata) over `before`, if the organization is still as read
    /// and `actor` still holds the role the decision rested on, with its audit event.
    pub async fn update_org(
        &self,
        before: &Org,
        after: &Org,
        actor: &Member,
        event: &AuditEvent,
    ) -> Result<(), ChangeError> {
        let table = self.table();
        // The organization as read: its version, never its values (a rename to A, then back,
        // would pass a condition on the name; two changes in one millisecond share a time).
        let (was_version, version) = if before.version == 0 {
            ("(attribute_not_exists(#version) OR #version = :was)", after.version)
        } else {
            ("#version = :was", after.version)
        };
        let mut update = Update::builder()
            .table_name(table)
            .key(keys::PK, s(keys::org(&before.id)))
            .key(keys::SK, s(keys::ORG_SK))
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#metadata", METADATA)
            .expression_attribute_names("#version", ORG_VERSION)
            .expression_attribute_values(":was", n(before.version))
            .expression_attribute_values(":version", n(version))
            .expression_attribute_values(":name", s(after.name.as_str()));
        update = if after.metadata.is_empty() {
            update.update_expression("SET #name = :name, #version = :version REMOVE #metadata")
        } else {
            update
                .update_expression("SET #name = :name, #version = :version, #metadata = :metadata")
                .expression_attribute_values(":metadata", s(after.metadata.to_json()))
        };
        let update = update
            .condition_expression(format!(
                "attribute_exists(PK) AND attribute_not_exists(deletedAt) AND {was_version}"
            ))
            .build()
            .expect("table, key and expressions are set");
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        push_actor_check(&mut items, table, &before.id, actor);
        items.push(self.audit_put(&before.id, event));
        match self.transact("update_org", items).await {
            Ok(()) => Ok(()),
            // The organization or the actor changed: read again and decide again.
            Err(TransactError::Cancelled(_)) => Err(ChangeError::Stale),
            Err(TransactError::Failed(e)) => Err(ChangeError::Refused(e)),
        }
    }

    /// The organization and the caller's membership of it, in one consistent round trip.
    pub async fn org_and_membership(
        &self,
        org: &OrgId,
        user: &UserId,
    ) -> Result<(Option<Org>, Option<Member>), Error> {
        let items = self
            .get_in_org(
                "get_org_and_membership",
                org,
                vec![(keys::org(org), keys::ORG_SK.to_owned()), (keys::org(org), keys::member(user))],
            )
            .await?;
        let (mut found_org, mut found_member) = (None, None);
        for item in items {
            if super::string_attr(&item, keys::SK) == Some(keys::ORG_SK) {
                found_org = Some(decode(item)?);
            } else {
                found_member = Some(decode(item)?);
            }
        }
        Ok((found_org, found_member))
    }

    /// The caller's organizations, oldest first: one query of GSI1 and one batch read of
    /// the organizations on the page. The index is eventually consistent, which is fine for
    /// a listing; every authorization reads the table itself.
    pub async fn user_orgs(
        &self,
        user: &UserId,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<UserOrg>, Error> {
        let start = match after {
            None => None,
            Some(org_key) => {
                let org = org_key
                    .strip_prefix(keys::ORG_PREFIX)
                    .and_then(OrgId::parse)
                    .ok_or(Error::InvalidCursor)?;
                Some(Item::from([
                    (keys::PK.to_owned(), s(keys::org(&org))),
                    (keys::SK.to_owned(), s(keys::member(user))),
                    (keys::GSI1PK.to_owned(), s(keys::user(user))),
                    (keys::GSI1SK.to_owned(), s(keys::org(&org))),
                ]))
            }
        };
        let query = self
            .client()
            .query()
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :user")
            .expression_attribute_values(":user", s(keys::user(user)))
            .set_exclusive_start_key(start);
        let page = self.query_page("list_user_orgs", query, limit, keys::GSI1SK).await?;
        // The index lags the table: each membership it names is read again, consistently,
        // with its organization, so a removal (or a suspension) shows at once.
        let listed: Vec<String> = page
            .items
            .iter()
            .filter_map(|item| super::string_attr(item, keys::PK).map(str::to_owned))
            .collect();
        let wanted = listed
            .iter()
            .flat_map(|pk| [(pk.clone(), keys::ORG_SK.to_owned()), (pk.clone(), keys::member(user))])
            .collect();
        let found = self.get_many("get_orgs", wanted).await?;
        let (mut orgs, mut memberships) =
            (std::collections::HashMap::new(), std::collections::HashMap::new());
        for item in found {
            let pk = super::string_attr(&item, keys::PK).unwrap_or_default().to_owned();
            if super::string_attr(&item, keys::SK) == Some(keys::ORG_SK) {
                // A deleted organization's memberships are removed after it; it is not listed.
                if !is_deleted(&item) {
                    orgs.insert(pk, decode::<Org>(item)?);
                }
            } else {
                memberships.insert(pk, decode::<Member>(item)?);
            }
        }
        let items = listed
            .into_iter()
            .filter_map(|pk| Some(UserOrg::new(orgs.remove(&pk)?, memberships.remove(&pk)?)))
            .collect();
        Ok(Page { items, last_key: page.last_key })
    }
}
