//! Groups and their members. A member's groups are also a set on their membership (what a
//! check reads); the `GRPM#` items list a group's members. Both change in one transaction.

use aws_sdk_dynamodb::types::AttributeValue;

use super::members::GROUPS;
use super::ops::NEW;
use super::tx::{Expr, update};
use super::workspaces::{
    WorkspaceWriteError, actor_condition, delete_versioned, membership_update, org_limit, purge_entry,
};
use super::{Item, Page, Store, TransactError, decode, encode, keys, n, s};
use crate::domain::workspace::{Group, GroupMember, limits};
use crate::domain::{AuditEvent, GroupId, Member, OrgId, Timestamp, UserId};
use crate::error::Error;
use crate::store::ops::put_if;
use crate::store::org_update::push_actor_check;
use crate::store::workspaces::Authority;

const GROUP_COUNT_ON_ORG: &str = "groupCount";

pub(crate) fn group_item(org: &OrgId, group: &Group) -> Item {
    let mut item = encode(
        group,
        &[(keys::PK, s(keys::org(org))), (keys::SK, s(keys::group(&group.id))), ("type", s("group"))],
    );
    item.insert("version".to_owned(), n(group.version));
    item
}

pub(crate) fn group_member_item(org: &OrgId, m: &GroupMember) -> Item {
    encode(
        m,
        &[
            (keys::PK, s(keys::org(org))),
            (keys::SK, s(keys::group_member(&m.group_id, &m.user_id))),
            ("type", s("group_member")),
        ],
    )
}

fn one_group(group: &GroupId) -> AttributeValue {
    AttributeValue::Ss(vec![group.as_str().to_owned()])
}

impl Store {
    /// The group and a member's place in it, in one read.
    pub async fn group_read(
        &self,
        org: &OrgId,
        group: &GroupId,
        users: &[&UserId],
    ) -> Result<(Option<Group>, Vec<Member>, Vec<GroupMember>), Error> {
        let pk = keys::org(org);
        let mut wanted = vec![(pk.clone(), keys::group(group))];
        for user in users {
            wanted.push((pk.clone(), keys::member(user)));
            wanted.push((pk.clone(), keys::group_member(group, user)));
        }
        let (mut found, mut members, mut places) = (None, Vec::new(), Vec::new());
        for item in self.get_in_org("read_group", org, wanted).await? {
            match super::string_attr(&item, "type") {
                Some("group") => found = Some(decode(item)?),
                Some("member") => members.push(decode(item)?),
                Some("group_member") => places.push(decode(item)?),
                _ => {}
            }
        }
        Ok((found, members, places))
    }

    pub async fn create_group(
        &self,
        org: &OrgId,
        actor: &Member,
        group: &Group,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let table = self.table();
        let count = super::tx::count_on_org(table, org, GROUP_COUNT_ON_ORG, limits::GROUPS_PER_ORG);
        let mut items = vec![put_if(table, group_item(org, group), NEW, &[]), count];
        push_actor_check(&mut items, table, org, actor);
        items.push(self.audit_put(org, event));
        match self.transact("create_group", items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(e),
            Err(TransactError::Cancelled(c)) if c.failed(1) => {
                Err(org_limit(&c, 1, "groups", limits::GROUPS_PER_ORG))
            }
            Err(TransactError::Cancelled(_)) => Err(super::actor_changed(actor)),
        }
    }

    pub async fn update_group(
        &self,
        org: &OrgId,
        actor: &Member,
        before: &Group,
        after: &Group,
        event: &AuditEvent,
    ) -> Result<(), WorkspaceWriteError> {
        let table = self.table();
        let mut items = vec![super::workspaces::rename(
            table,
            org,
            keys::group(&before.id),
            before.version,
            after.name.as_str(),
            after.description.as_str(),
            None,
        )];
        push_actor_check(&mut items, table, org, actor);
        items.push(self.audit_put(org, event));
        self.workspace_transact("update_group", items).await
    }

    /// Deletes the group at once (its grants then give nothing: checks read the group item)
    /// and lists it for the purge, which removes its members' places and its grants.
    pub async fn delete_group(
        &self,
        org: &OrgId,
        actor: &Member,
        group: &Group,
        event: &AuditEvent,
        now: Timestamp,
    ) -> Result<(), WorkspaceWriteError> {
        let table = self.table();
        let mut items = vec![
            delete_versioned(table, keys::org(org), keys::group(&group.id), group.version),
            update(
                table,
                keys::org(org),
                keys::ORG_SK.to_owned(),
                Expr::new("ADD #count :minus").name("#count", GROUP_COUNT_ON_ORG).value(":minus", n(-1)),
                Expr::new("attribute_exists(PK) AND attribute_not_exists(deletedAt)"),
            ),
            purge_entry(
                table,
                keys::purge_group(org, &group.id),
                org,
                &[("groupId", group.id.as_str())],
                now,
            ),
        ];
        push_actor_check(&mut items, table, org, actor);
        items.push(self.audit_put(org, event));
        self.workspace_transact("delete_group", items).await
    }

    /// Puts `target` in the group. `stale`: a place of an earlier joining, replaced.
    pub async fn add_group_member(
        &self,
        org: &OrgId,
        actor: &Member,
        target: &Member,
        place: &GroupMember,
        stale: Option<&GroupMember>,
        event: &AuditEvent,
    ) -> Result<(), WorkspaceWriteError> {
        let table = self.table();
        let group = &place.group_id;
        let is_actor = actor.user_id == target.user_id;
        let put = match stale {
            None => put_if(table, group_member_item(org, place), NEW, &[]),
            Some(old) => {
                let mut condition = Expr::new("attribute_exists(PK)");
                condition = match &old.generation {
                    Some(g) => condition.and("#gen = :old").value(":old", s(g.as_str())),
                    None => condition.and("attribute_not_exists(#gen)"),
                }
                .name("#gen", "generation");
                put_cond(table, group_member_item(org, place), condition)
            }
        };
        let count = if stale.is_none() { 1 } else { 0 };
        let limit = Expr::new("(attribute_not_exists(#groups) OR size(#groups) < :gmax)")
            .name("#groups", GROUPS)
            .value(":gmax", n(limits::GROUPS_PER_MEMBER));
        let extra =
            if is_actor { limit.and_expr(actor_condition(actor, Authority::Org(actor)).1) } else { limit };
        let member_index = 2;
        let mut items = vec![
            put,
            update(
                table,
                keys::org(org),
                keys::group(group),
                Expr::new("ADD memberCount :n").value(":n", n(count)),
                Expr::new("attribute_exists(PK)"),
            ),
            membership_update(
                table,
                org,
                target,
                Expr::new("ADD #groups :g").name("#groups", GROUPS).value(":g", one_group(group)),
                Some(extra),
            ),
        ];
        if !is_actor {
            push_actor_check(&mut items, table, org, actor);
        }
        items.push(self.audit_put(org, event));
        match self.transact("add_group_member", items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(WorkspaceWriteError::Refused(e)),
            Err(TransactError::Cancelled(c)) if c.failed(member_index) => {
                let at_limit = c.old_item(member_index).is_some_and(|old| {
                    let same = super::string_attr(old, "generation")
                        == target.generation.as_ref().map(|g| g.as_str());
                    let size = match old.get(GROUPS) {
                        Some(AttributeValue::Ss(ids)) => ids.len(),
                        _ => 0,
                    };
                    same && size >= limits::GROUPS_PER_MEMBER
                });
                if at_limit {
                    Err(WorkspaceWriteError::Refused(Error::LimitExceeded(format!(
                        "a member may belong to at most {} groups",
                        limits::GROUPS_PER_MEMBER
                    ))))
                } else {
                    Err(WorkspaceWriteError::Stale)
                }
            }
            Err(TransactError::Cancelled(_)) => Err(WorkspaceWriteError::Stale),
        }
    }

    /// Takes `place`'s member out of the group. When the place is of an earlier joining (or
    /// its member is gone), only the place goes.
    pub async fn remove_group_member(
        &self,
        org: &OrgId,
        actor: &Member,
        target: Option<&Member>,
        place: &GroupMember,
        event: &AuditEvent,
    ) -> Result<(), WorkspaceWriteError> {
        let table = self.table();
        let group = &place.group_id;
        let mut condition = Expr::new("attribute_exists(PK)");
        condition = match &place.generation {
            Some(g) => condition.and("#gen = :placegen").value(":placegen", s(g.as_str())),
            None => condition.and("attribute_not_exists(#gen)"),
        }
        .name("#gen", "generation");
        let mut items = vec![
            delete_cond(table, keys::org(org), keys::group_member(group, &place.user_id), condition),
            update(
                table,
                keys::org(org),
                keys::group(group),
                Expr::new("ADD memberCount :minus").value(":minus", n(-1)),
                Expr::new("attribute_exists(PK)"),
            ),
        ];
        let current = target.filter(|t| t.generation == place.generation);
        let is_actor = current.is_some_and(|t| t.user_id == actor.user_id);
        if let Some(target) = current {
            let extra = is_actor.then(|| actor_condition(actor, Authority::Org(actor)).1);
            items.push(membership_update(
                table,
                org,
                target,
                Expr::new("DELETE #groups :g").name("#groups", GROUPS).value(":g", one_group(group)),
                extra,
            ));
        }
        if !is_actor {
            push_actor_check(&mut items, table, org, actor);
        }
        items.push(self.audit_put(org, event));
        self.workspace_transact("remove_group_member", items).await
    }

    /// A page of the organization's groups.
    pub async fn groups(
        &self,
        org: &OrgId,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<Group>, Error> {
        let query = self.org_query(org, keys::GROUP_PREFIX, after)?.consistent_read(true);
        let page = self.query_page("list_groups", query, limit, keys::SK).await?;
        Ok(Page {
            items: page.items.into_iter().map(decode).collect::<Result<_, _>>()?,
            last_key: page.last_key,
        })
    }

    /// A page of a group's members' places.
    pub async fn group_members(
        &self,
        org: &OrgId,
        group: &GroupId,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<GroupMember>, Error> {
        let query = self.org_query(org, &keys::group_members(group), after)?.consistent_read(true);
        let page = self.query_page("list_group_members", query, limit, keys::SK).await?;
        Ok(Page {
            items: page.items.into_iter().map(decode).collect::<Result<_, _>>()?,
            last_key: page.last_key,
        })
    }

    /// The groups of `ids` that exist.
    pub async fn groups_by_id(&self, org: &OrgId, ids: &[&GroupId]) -> Result<Vec<Group>, Error> {
        let wanted = ids.iter().map(|g| (keys::org(org), keys::group(g))).collect();
        self.get_many("read_groups", wanted).await?.into_iter().map(decode).collect()
    }
}

fn put_cond(table: &str, item: Item, condition: Expr) -> aws_sdk_dynamodb::types::TransactWriteItem {
    let mut put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition.text);
    for (k, v) in condition.values {
        put = put.expression_attribute_values(k, v);
    }
    for (k, v) in condition.names {
        put = put.expression_attribute_names(k, v);
    }
    aws_sdk_dynamodb::types::TransactWriteItem::builder()
        .put(put.build().expect("table and item are set"))
        .build()
}

fn delete_cond(
    table: &str,
    pk: String,
    sk: String,
    condition: Expr,
) -> aws_sdk_dynamodb::types::TransactWriteItem {
    let mut delete = aws_sdk_dynamodb::types::Delete::builder()
        .table_name(table)
        .key(keys::PK, s(pk))
        .key(keys::SK, s(sk))
        .condition_expression(condition.text);
    for (k, v) in condition.values {
        delete = delete.expression_attribute_values(k, v);
    }
    for (k, v) in condition.names {
        delete = delete.expression_attribute_names(k, v);
    }
    aws_sdk_dynamodb::types::TransactWriteItem::builder()
        .delete(delete.build().expect("table and key are set"))
        .build()
}
