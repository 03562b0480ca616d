//! An organization's custom roles, and the condition every assignment of one carries.
//!
//! Deleting a role must never leave a holder behind, yet holders live in five kinds of item
//! (memberships, invitations, links, workspace memberships, group grants) that no single
//! condition can cover. So a deletion first marks the role `retiring` (conditioned on its
//! version); every write that makes a holder checks the role is not retiring in its own
//! transaction ([`role_check`]), so from the mark on holders only go. The deletion then
//! counts holders with strongly consistent queries, and deletes the role (conditioned on the
//! version it marked) only when there are none; otherwise it unmarks it: `409 role_in_use`.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, Select, TransactWriteItem};

use super::ops::{NEW, put_if};
use super::org_update::push_actor_check;
use super::tx::{Expr, check, update};
use super::{Item, Store, TransactError, decode, encode, keys, n, s};
use crate::domain::custom_role::{CustomRole, MAX_CUSTOM_ROLES, RoleKey};
use crate::domain::{AuditEvent, Member, OrgId, Timestamp};
use crate::error::Error;

/// On the organization item: its custom roles, held under the limit by a condition, and read
/// by checks to know whether there are any to read.
pub(crate) const ROLE_COUNT_ON_ORG: &str = "roleCount";

pub(crate) fn role_item(org: &OrgId, role: &CustomRole) -> Item {
    let mut item = encode(
        role,
        &[(keys::PK, s(keys::org(org))), (keys::SK, s(keys::role(&role.key))), ("type", s("role"))],
    );
    item.insert("version".to_owned(), n(role.version));
    if role.retiring {
        item.insert("retiring".to_owned(), AttributeValue::Bool(true));
    }
    item
}

/// The condition an assignment of `key` carries: the role exists and is not being deleted.
pub(crate) fn role_check(table: &str, org: &OrgId, key: &RoleKey) -> TransactWriteItem {
    check(
        table,
        keys::org(org),
        keys::role(key),
        Expr::new("attribute_exists(PK) AND attribute_not_exists(retiring)"),
    )
}

/// What an assignment whose role check failed answers: the role went, or is going.
pub(crate) fn role_gone(key: &RoleKey) -> Error {
    Error::InvalidRoleNamed(format!("the role \"{key}\" was deleted or is being deleted"))
}

/// Holders of a role, by kind, as `409 role_in_use` names them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Holders {
    pub members: u64,
    pub invitations: u64,
    pub links: u64,
    pub workspace_members: u64,
    pub group_grants: u64,
}

impl Holders {
    pub fn any(&self) -> bool {
        self.members + self.invitations + self.links + self.workspace_members + self.group_grants > 0
    }

    /// "held by 2 members and 1 invitation".
    pub fn describe(&self) -> String {
        let kinds = [
            (self.members, "member", "members"),
            (self.invitations, "pending invitation", "pending invitations"),
            (self.links, "invite link", "invite links"),
            (self.workspace_members, "workspace membership", "workspace memberships"),
            (self.group_grants, "group grant", "group grants"),
        ];
        let parts: Vec<String> = kinds
            .iter()
            .filter(|(count, ..)| *count > 0)
            .map(|(count, one, many)| format!("{count} {}", if *count == 1 { one } else { many }))
            .collect();
        let list = match parts.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        };
        format!("the role is held by {list}; change or revoke what holds it first")
    }
}

impl Store {
    /// One custom role, strongly consistent.
    pub async fn custom_role(&self, org: &OrgId, key: &RoleKey) -> Result<Option<CustomRole>, Error> {
        self.get("read_role", keys::org(org), keys::role(key)).await?.map(decode).transpose()
    }

    /// The custom roles named (those that exist), strongly consistent, in one read.
    pub async fn custom_roles_named(
        &self,
        org: &OrgId,
        named: &[&RoleKey],
    ) -> Result<Vec<CustomRole>, Error> {
        if named.is_empty() {
            return Ok(Vec::new());
        }
        let wanted = named.iter().map(|key| (keys::org(org), keys::role(key))).collect();
        self.get_many("read_roles", wanted).await?.into_iter().map(decode).collect()
    }

    /// Every custom role of the organization (at most [`MAX_CUSTOM_ROLES`]), by key.
    pub async fn custom_roles(&self, org: &OrgId) -> Result<Vec<CustomRole>, Error> {
        let query = self.org_query(org, keys::ROLE_PREFIX, None)?.consistent_read(true);
        let pages = self.query_pages("list_roles", query).await?;
        pages.into_iter().flat_map(|page| page.items.unwrap_or_default()).map(decode).collect()
    }

    pub async fn create_role(
        &self,
        org: &OrgId,
        actor: &Member,
        role: &CustomRole,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let table = self.table();
        let count = super::tx::count_on_org(table, org, ROLE_COUNT_ON_ORG, MAX_CUSTOM_ROLES);
        let mut items = vec![put_if(table, role_item(org, role), NEW, &[]), count];
        push_actor_check(&mut items, table, org, actor);
        items.push(self.audit_put(org, event));
        match self.transact("create_role", items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(e),
            Err(TransactError::Cancelled(c)) if c.failed(0) => {
                Err(Error::Conflict(format!("the organization already has a role {:?}", role.key.as_str())))
            }
            Err(TransactError::Cancelled(c)) if c.failed(1) => Err(Error::LimitExceeded(format!(
                "an organization has at most {MAX_CUSTOM_ROLES} custom roles"
            ))),
            Err(TransactError::Cancelled(_)) => Err(super::actor_changed(actor)),
        }
    }

    /// Writes `after` over `before` (its name, description, permissions), conditioned on the
    /// version read and on no deletion being under way.
    pub async fn update_role(
        &self,
        org: &OrgId,
        actor: &Member,
        before: &CustomRole,
        after: &CustomRole,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let table = self.table();
        let put = versioned_put(table, role_item(org, after), before.version);
        self.admin_transact(
            "update_role",
            (org, actor, event),
            vec![put],
            Error::Conflict("the role was changed or is being deleted; reload and retry".to_owned()),
        )
        .await
    }

    /// Deletes the role when nothing holds it (see the module's comment).
    pub async fn delete_role(
        &self,
        org: &OrgId,
        actor: &Member,
        role: &CustomRole,
        event: &AuditEvent,
        now: Timestamp,
    ) -> Result<(), Error> {
        let table = self.table();
        let marked = role.version + 1;
        let mark = update(
            table,
            keys::org(org),
            keys::role(&role.key),
            Expr::new("SET retiring = :yes, version = :next")
                .value(":yes", AttributeValue::Bool(true))
                .value(":next", n(marked)),
            Expr::new("version = :v").value(":v", n(role.version)),
        );
        let mut items = vec![mark];
        push_actor_check(&mut items, table, org, actor);
        match self.transact("retire_role", items).await {
            Ok(()) => {}
            Err(TransactError::Failed(e)) => return Err(e),
            Err(TransactError::Cancelled(c)) if c.failed(0) => {
                return Err(Error::Conflict("the role was changed meanwhile; reload and retry".to_owned()));
            }
            Err(TransactError::Cancelled(_)) => return Err(super::actor_changed(actor)),
        }
        let holders = match self.holders(org, &role.key, now).await {
            Ok(holders) => holders,
            Err(e) => {
                self.unmark(org, &role.key, marked).await;
                return Err(e);
            }
        };
        if holders.any() {
            self.unmark(org, &role.key, marked).await;
            return Err(Error::RoleInUse(holders.describe()));
        }
        let delete = update_delete(table, org, &role.key, marked);
        let count = update(
            table,
            keys::org(org),
            keys::ORG_SK.to_owned(),
            Expr::new("ADD #count :minus").name("#count", ROLE_COUNT_ON_ORG).value(":minus", n(-1)),
            Expr::new("attribute_exists(PK)"),
        );
        self.admin_transact(
            "delete_role",
            (org, actor, event),
            vec![delete, count],
            Error::Conflict("the role was changed meanwhile; reload and retry".to_owned()),
        )
        .await
    }

    /// Ends a deletion that found holders (or failed): assignments may go on. A failure is
    /// logged; the next deletion attempt takes the mark over (it conditions on the version).
    async fn unmark(&self, org: &OrgId, key: &RoleKey, marked: u64) {
        let unmark = update(
            self.table(),
            keys::org(org),
            keys::role(key),
            Expr::new("REMOVE retiring SET version = :next").value(":next", n(marked + 1)),
            Expr::new("version = :v").value(":v", n(marked)),
        );
        if let Err(e) = self.transact("unretire_role", vec![unmark]).await {
            let code = match e {
                TransactError::Failed(e) => e.code(),
                TransactError::Cancelled(_) => "conflict",
            };
            tracing::warn!(error = code, "could not unmark a role whose deletion stopped");
        }
    }

    /// Counts what holds `key`: memberships (active or suspended), pending invitations, links
    /// that still admit (not expired, not used up), direct workspace memberships and group
    /// grants. Strongly consistent
    /// queries of the organization's partition, one per kind, in parallel.
    pub async fn holders(&self, org: &OrgId, key: &RoleKey, now: Timestamp) -> Result<Holders, Error> {
        // A link admits while not expired and not used up (`maxUses` null: unlimited).
        let live = "customRole = :key AND #ttl > :now AND (attribute_not_exists(maxUses) OR attribute_type(maxUses, :null) OR uses < maxUses)";
        let pending = "customRole = :key AND #ttl > :now AND attribute_not_exists(declinedAt)";
        let (members, invitations, links, workspace_members, group_grants) = tokio::try_join!(
            self.count_holders(org, keys::MEMBER_PREFIX, key, "customRole = :key", now),
            self.count_holders(org, keys::INVITATION_PREFIX, key, pending, now),
            self.count_holders(org, keys::LINK_PREFIX, key, live, now),
            self.count_holders(org, "WSM#", key, "customRole = :key", now),
            self.count_holders(org, "WSG#", key, "customRole = :key", now),
        )?;
        Ok(Holders { members, invitations, links, workspace_members, group_grants })
    }

    async fn count_holders(
        &self,
        org: &OrgId,
        prefix: &str,
        key: &RoleKey,
        filter: &str,
        now: Timestamp,
    ) -> Result<u64, Error> {
        let mut query = self
            .org_query(org, prefix, None)?
            .consistent_read(true)
            .select(Select::Count)
            .filter_expression(filter)
            .expression_attribute_values(":key", s(key.as_str()));
        if filter.contains(":null") {
            query = query.expression_attribute_values(":null", s("NULL"));
        }
        if filter.contains(":now") {
            query = query
                .expression_attribute_values(":now", n(now.epoch_seconds()))
                .expression_attribute_names("#ttl", keys::TTL);
        }
        let pages = self.query_pages("count_role_holders", query).await?;
        Ok(pages.iter().map(|page| u64::try_from(page.count).unwrap_or(0)).sum())
    }
}

/// The deletion of a role marked at version `marked`.
fn update_delete(table: &str, org: &OrgId, key: &RoleKey, marked: u64) -> TransactWriteItem {
    let delete = Delete::builder()
        .table_name(table)
        .key(keys::PK, s(keys::org(org)))
        .key(keys::SK, s(keys::role(key)))
        .condition_expression("version = :v")
        .expression_attribute_values(":v", n(marked))
        .build()
        .expect("table, key and condition are set");
    TransactWriteItem::builder().delete(delete).build()
}

/// A put of `item` over the version read, while no deletion is under way.
fn versioned_put(table: &str, item: Item, version: u64) -> TransactWriteItem {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("version = :v AND attribute_not_exists(retiring)")
        .expression_attribute_values(":v", n(version))
        .build()
        .expect("table and item are set");
    TransactWriteItem::builder().put(put).build()
}
