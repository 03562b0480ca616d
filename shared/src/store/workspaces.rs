//! Workspaces, their direct memberships and their grants to groups (keys: see `keys`).
//! Every write re-checks, in its own transaction, what its decision rested on: the
//! workspace (not deleted), the target's organization membership (the same joining), and
//! the actor's authority (`Authority`).

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::members::{GENERATION, GROUPS, WORKSPACE_COUNT};
use super::ops::{EXISTS, NEW, delete_if, put_if};
use super::tx::{Expr, check, update};
use super::{Cancelled, Item, Page, Store, TransactError, decode, encode, keys, n, s, string_attr};
use crate::domain::workspace::{GroupGrant, Workspace, WorkspaceMember, WorkspaceRole, limits};
use crate::domain::{AuditEvent, GroupId, Member, OrgId, Timestamp, UserId, WorkspaceId};
use crate::error::Error;

/// What an actor's right to a workspace write rests on; its transaction re-checks it.
#[derive(Debug, Clone, Copy)]
pub enum Authority<'a> {
    /// An organization admin or owner: their role and status as read.
    Org(&'a Member),
    /// A workspace admin through their direct membership (explicit `admin`).
    Direct(&'a Member),
    /// A workspace admin through a group's `admin` grant.
    Group(&'a Member, &'a GroupId),
}

impl Authority<'_> {
    pub fn actor(&self) -> &Member {
        match self {
            Authority::Org(m) | Authority::Direct(m) | Authority::Group(m, _) => m,
        }
    }
}

/// A write that did not happen.
#[derive(Debug)]
pub enum WorkspaceWriteError {
    /// What the decision rested on changed meanwhile: read again and decide again.
    Stale,
    Refused(Error),
}

impl From<Error> for WorkspaceWriteError {
    fn from(value: Error) -> Self {
        Self::Refused(value)
    }
}

/// The items of one workspace that a request needs, read together (see `Store::workspace_read`).
#[derive(Debug, Default)]
pub struct WorkspaceRead {
    pub workspace: Option<Workspace>,
    pub members: HashMap<UserId, Member>,
    pub direct: HashMap<UserId, WorkspaceMember>,
    /// The workspace's grants to the groups of the members read.
    pub grants: Vec<GroupGrant>,
    /// Of those groups, the ones that exist.
    pub live_groups: BTreeSet<GroupId>,
}

impl WorkspaceRead {
    pub fn access(&self, user: &UserId) -> Option<crate::domain::workspace::Access> {
        let member = self.members.get(user)?;
        crate::domain::workspace::effective(member, self.direct.get(user), &self.grants, &self.live_groups)
    }
}

pub(crate) fn workspace_item(org: &OrgId, ws: &Workspace) -> Item {
    let mut item = encode(
        ws,
        &[(keys::PK, s(keys::org(org))), (keys::SK, s(keys::workspace(&ws.id))), ("type", s("workspace"))],
    );
    item.insert(VERSION.to_owned(), n(ws.version));
    item
}

/// The two items of a direct membership: the workspace's side and the member's.
pub(crate) fn direct_items(org: &OrgId, m: &WorkspaceMember) -> (Item, Item) {
    let pk = (keys::PK, s(keys::org(org)));
    let main = encode(
        m,
        &[
            pk.clone(),
            (keys::SK, s(keys::workspace_member(&m.workspace_id, &m.user_id))),
            ("type", s("workspace_member")),
        ],
    );
    let mirror = encode(
        m,
        &[
            pk,
            (keys::SK, s(keys::member_workspace(&m.user_id, &m.workspace_id))),
            ("type", s("member_workspace")),
        ],
    );
    (main, mirror)
}

fn grant_items(org: &OrgId, g: &GroupGrant) -> (Item, Item) {
    let pk = (keys::PK, s(keys::org(org)));
    let main = encode(
        g,
        &[
            pk.clone(),
            (keys::SK, s(keys::workspace_grant(&g.workspace_id, &g.group_id))),
            ("type", s("group_grant")),
        ],
    );
    let mirror = encode(
        g,
        &[pk, (keys::SK, s(keys::group_grant(&g.group_id, &g.workspace_id))), ("type", s("group_workspace"))],
    );
    (main, mirror)
}

const VERSION: &str = "version";
pub(crate) const WORKSPACE_COUNT_ON_ORG: &str = "workspaceCount";

/// Appends the condition items of `authority` for workspace `ws` to `items`, except for
/// `skip_member` (an actor whose membership the transaction updates anyway: its update
/// carries the condition). A service (an owner that is no member, `Authority::Org`) has no
/// membership to condition on: its check is the organization's (see
/// `org_update::push_actor_check`).
pub(crate) fn push_authority_checks(
    items: &mut Vec<TransactWriteItem>,
    table: &str,
    org: &OrgId,
    ws: &WorkspaceId,
    authority: Authority<'_>,
    skip_member: bool,
) {
    let actor = authority.actor();
    if actor.is_service() {
        super::org_update::push_actor_check(items, table, org, actor);
    } else if !skip_member {
        let (text, expr) = actor_condition(actor, authority);
        let mut condition = Expr::new(text);
        condition.values = expr.values;
        condition.names = expr.names;
        items.push(check(table, keys::org(org), keys::member(&actor.user_id), condition));
    }
    match authority {
        Authority::Org(_) => {}
        Authority::Direct(m) => items.push(check(
            table,
            keys::org(org),
            keys::workspace_member(ws, &m.user_id),
            generation_is(m)
                .name("#role", "role")
                .value(":admin", s(WorkspaceRole::Admin.as_str()))
                .and("#role = :admin"),
        )),
        Authority::Group(_, group) => {
            items.push(check(
                table,
                keys::org(org),
                keys::workspace_grant(ws, group),
                Expr::new("#role = :admin")
                    .name("#role", "role")
                    .value(":admin", s(WorkspaceRole::Admin.as_str())),
            ));
            items.push(check(table, keys::org(org), keys::group(group), Expr::new("attribute_exists(PK)")));
        }
    }
}

/// The condition on the actor's membership: role and status as read, and for a group's
/// authority, still in that group.
pub(crate) fn actor_condition(actor: &Member, authority: Authority<'_>) -> (String, Expr) {
    let mut expr = Expr::new("")
        .name("#arole", "role")
        .name("#astatus", "status")
        .value(":arole", s(actor.role.as_str()))
        .value(":astatus", s(actor.status.as_str()));
    let mut text = "#arole = :arole AND #astatus = :astatus".to_owned();
    // The same joining: one removed and let back in mid-request holds nothing of before.
    match &actor.generation {
        Some(g) => {
            text.push_str(" AND #agen = :agen");
            expr = expr.name("#agen", GENERATION).value(":agen", s(g.as_str()));
        }
        None => {
            text.push_str(" AND attribute_not_exists(#agen)");
            expr = expr.name("#agen", GENERATION);
        }
    }
    if let Authority::Group(_, group) = authority {
        text.push_str(" AND contains(#agroups, :agroup)");
        expr = expr.name("#agroups", GROUPS).value(":agroup", s(group.as_str()));
    }
    expr.text = text.clone();
    (text, expr)
}

/// `generation = <the member's>` as a condition (or its absence, for memberships older than
/// generations).
pub(crate) fn generation_is(member: &Member) -> Expr {
    match &member.generation {
        Some(g) => Expr::new("#gen = :gen").name("#gen", GENERATION).value(":gen", s(g.as_str())),
        None => Expr::new("attribute_not_exists(#gen)").name("#gen", GENERATION),
    }
}

impl Expr {
    /// `self AND clause`.
    pub(crate) fn and(mut self, clause: &str) -> Self {
        self.text =
            if self.text.is_empty() { clause.to_owned() } else { format!("{} AND {clause}", self.text) };
        self
    }

    /// Adds `other`'s clause, values and names.
    pub(crate) fn and_expr(mut self, other: Expr) -> Self {
        self = self.and(&other.text);
        self.values.extend(other.values);
        self.names.extend(other.names);
        self
    }
}

/// The update of a member's membership that a change of their workspace memberships or
/// groups carries: `update` (which also moves the version, so a role change decided before
/// it reads again rather than write the old state back), on the condition that it is the
/// same joining, plus `extra` (a limit; the actor's own condition when the member is the
/// actor).
pub(crate) fn membership_update(
    table: &str,
    org: &OrgId,
    member: &Member,
    update_expr: Expr,
    extra: Option<Expr>,
) -> TransactWriteItem {
    // One clause per keyword: the version joins an `ADD` clause when there is one.
    let text = if update_expr.text.starts_with("ADD ") {
        format!("{}, #version :one", update_expr.text)
    } else {
        format!("{} ADD #version :one", update_expr.text)
    };
    let update_expr = Expr { text, values: update_expr.values, names: update_expr.names }
        .name("#version", VERSION)
        .value(":one", n(1));
    let mut condition = generation_is(member);
    if let Some(extra) = extra {
        condition = condition.and_expr(extra);
    }
    update(table, keys::org(org), keys::member(&member.user_id), update_expr, condition)
}

impl Store {
    /// The workspace, the memberships of `users` (the caller first), their direct
    /// memberships of it, and its grants to their groups: one wave of reads, and a second
    /// only when one of them is in a group. A deleted organization reads as empty.
    pub async fn workspace_read(
        &self,
        org: &OrgId,
        ws: &WorkspaceId,
        users: &[&UserId],
    ) -> Result<WorkspaceRead, Error> {
        let pk = keys::org(org);
        let mut wanted = vec![(pk.clone(), keys::workspace(ws))];
        for user in users {
            wanted.push((pk.clone(), keys::member(user)));
            wanted.push((pk.clone(), keys::workspace_member(ws, user)));
        }
        let mut read = WorkspaceRead::default();
        for item in self.get_in_org("read_workspace", org, wanted).await? {
            match string_attr(&item, "type") {
                Some("workspace") => read.workspace = Some(decode(item)?),
                Some("member") => {
                    let m: Member = decode(item)?;
                    read.members.insert(m.user_id.clone(), m);
                }
                Some("workspace_member") => {
                    let d: WorkspaceMember = decode(item)?;
                    read.direct.insert(d.user_id.clone(), d);
                }
                _ => {}
            }
        }
        let groups: BTreeSet<&GroupId> = read.members.values().flat_map(|m| m.groups.iter()).collect();
        if read.workspace.is_some() && !groups.is_empty() {
            let (grants, live) = self.grants_of(org, ws, groups).await?;
            read.grants = grants;
            read.live_groups = live;
        }
        Ok(read)
    }

    /// The grants of `ws` to `groups`, and which of `groups` exist: one wave.
    pub(crate) async fn grants_of(
        &self,
        org: &OrgId,
        ws: &WorkspaceId,
        groups: BTreeSet<&GroupId>,
    ) -> Result<(Vec<GroupGrant>, BTreeSet<GroupId>), Error> {
        let pk = keys::org(org);
        let mut wanted = Vec::with_capacity(groups.len() * 2);
        for g in groups {
            wanted.push((pk.clone(), keys::workspace_grant(ws, g)));
            wanted.push((pk.clone(), keys::group(g)));
        }
        let mut grants = Vec::new();
        let mut live = BTreeSet::new();
        for item in self.get_many("read_grants", wanted).await? {
            match string_attr(&item, "type") {
                Some("group_grant") => grants.push(decode(item)?),
                Some("group") => {
                    if let Some(id) = string_attr(&item, "id").and_then(GroupId::parse) {
                        live.insert(id);
                    }
                }
                _ => {}
            }
        }
        Ok((grants, live))
    }

    /// Creates `ws`, under the organization's workspace limit.
    pub async fn create_workspace(
        &self,
        org: &OrgId,
        authority: Authority<'_>,
        ws: &Workspace,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let table = self.table();
        let count = super::tx::count_on_org(table, org, WORKSPACE_COUNT_ON_ORG, limits::WORKSPACES_PER_ORG);
        let mut items = vec![put_if(table, workspace_item(org, ws), NEW, &[]), count];
        push_authority_checks(&mut items, table, org, &ws.id, authority, false);
        items.push(self.audit_put(org, event));
        match self.transact("create_workspace", items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(e),
            Err(TransactError::Cancelled(c)) if c.failed(1) => {
                Err(org_limit(&c, 1, "workspaces", limits::WORKSPACES_PER_ORG))
            }
            Err(TransactError::Cancelled(_)) => {
                Err(Error::forbidden("your membership changed while the request ran"))
            }
        }
    }

    /// Replaces the workspace's name, description and metadata with `after`'s, if it is still
    /// at `before`'s version.
    pub async fn update_workspace(
        &self,
        org: &OrgId,
        authority: Authority<'_>,
        before: &Workspace,
        after: &Workspace,
        event: &AuditEvent,
    ) -> Result<(), WorkspaceWriteError> {
        let table = self.table();
        let mut items = vec![rename(
            table,
            org,
            keys::workspace(&before.id),
            before.version,
            after.name.as_str(),
            after.description.as_str(),
            Some(&after.metadata),
        )];
        push_authority_checks(&mut items, table, org, &before.id, authority, false);
        items.push(self.audit_put(org, event));
        self.workspace_transact("update_workspace", items).await
    }

    /// Deletes the workspace at once (its memberships and grants then give nothing: every
    /// read starts from the workspace item) and lists it for the purge.
    pub async fn delete_workspace(
        &self,
        org: &OrgId,
        authority: Authority<'_>,
        ws: &Workspace,
        event: &AuditEvent,
        now: Timestamp,
    ) -> Result<(), WorkspaceWriteError> {
        let table = self.table();
        let delete = delete_versioned(table, keys::org(org), keys::workspace(&ws.id), ws.version);
        let count = update(
            table,
            keys::org(org),
            keys::ORG_SK.to_owned(),
            Expr::new("ADD #count :minus").name("#count", WORKSPACE_COUNT_ON_ORG).value(":minus", n(-1)),
            Expr::new("attribute_exists(PK) AND attribute_not_exists(deletedAt)"),
        );
        let listed = purge_entry(
            table,
            keys::purge_workspace(org, &ws.id),
            org,
            &[("workspaceId", ws.id.as_str())],
            now,
        );
        let mut items = vec![delete, count, listed];
        push_authority_checks(&mut items, table, org, &ws.id, authority, false);
        items.push(self.audit_put(org, event));
        self.workspace_transact("delete_workspace", items).await
    }

    /// Adds or changes `target`'s direct membership: from `before` (none: new) to `after`.
    pub async fn put_workspace_member(
        &self,
        org: &OrgId,
        authority: Authority<'_>,
        target: &Member,
        before: Option<&WorkspaceMember>,
        after: &WorkspaceMember,
        event: &AuditEvent,
    ) -> Result<(), WorkspaceWriteError> {
        let table = self.table();
        let ws = &after.workspace_id;
        let (main, mirror) = direct_items(org, after);
        let is_actor = authority.actor().user_id == target.user_id;
        let actor_extra = is_actor.then(|| actor_condition(authority.actor(), authority).1);
        let mut items = Vec::new();
        // Whether `before` counted for this member (the same joining): a stale one is replaced
        // as if new, its count already gone with the membership it belonged to.
        let current = before.filter(|b| b.generation == target.generation);
        match before {
            None => items.push(put_if(table, main, NEW, &[])),
            Some(b) => items.push(versioned_put(table, main, b.version)),
        }
        items.push(put_if(table, mirror, None, &[]));
        let member_index = items.len();
        if current.is_none() {
            // A new membership: counted on the member (the limit), and on the workspace unless
            // it replaces one of an earlier joining (counted there already).
            let added = if before.is_none() { 1 } else { 0 };
            items.push(update(
                table,
                keys::org(org),
                keys::workspace(ws),
                Expr::new("ADD memberCount :added").value(":added", n(added)),
                Expr::new("attribute_exists(PK)"),
            ));
            let limit = Expr::new("(attribute_not_exists(#wsc) OR #wsc < :wsmax)")
                .name("#wsc", WORKSPACE_COUNT)
                .value(":wsmax", n(limits::WORKSPACES_PER_MEMBER));
            let extra = match actor_extra {
                Some(actor) => limit.and_expr(actor),
                None => limit,
            };
            items.push(membership_update(
                table,
                org,
                target,
                Expr::new("ADD #wsc :one").name("#wsc", WORKSPACE_COUNT).value(":one", n(1)),
                Some(extra),
            ));
        } else {
            items.push(check(table, keys::org(org), keys::workspace(ws), Expr::new("attribute_exists(PK)")));
            let mut condition = generation_is(target);
            if let Some(actor) = actor_extra {
                condition = condition.and_expr(actor);
            }
            items.push(check(table, keys::org(org), keys::member(&target.user_id), condition));
        }
        let limit_index = items.len() - 1;
        push_authority_checks(&mut items, table, org, ws, authority, is_actor);
        // A custom role granted must not be being deleted (see `store::roles`); a failure
        // reads as stale, and the retry finds the role gone.
        if let Some(key) = &after.custom_role {
            items.push(super::roles::role_check(table, org, key));
        }
        items.push(self.audit_put(org, event));
        match self.transact("put_workspace_member", items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(WorkspaceWriteError::Refused(e)),
            Err(TransactError::Cancelled(c)) => {
                Err(self.refusal(&c, member_index, limit_index, target, current.is_none()))
            }
        }
    }

    /// Ends `target`'s direct membership `before`. A membership of an earlier joining
    /// (`target` absent or joined again) is deleted without touching the member.
    pub async fn delete_workspace_member(
        &self,
        org: &OrgId,
        authority: Authority<'_>,
        target: Option<&Member>,
        before: &WorkspaceMember,
        event: &AuditEvent,
    ) -> Result<(), WorkspaceWriteError> {
        let table = self.table();
        let ws = &before.workspace_id;
        let mut items = vec![
            delete_versioned(
                table,
                keys::org(org),
                keys::workspace_member(ws, &before.user_id),
                before.version,
            ),
            delete_if(table, keys::org(org), keys::member_workspace(&before.user_id, ws), None, &[]),
            update(
                table,
                keys::org(org),
                keys::workspace(ws),
                Expr::new("ADD memberCount :minus").value(":minus", n(-1)),
                Expr::new("attribute_exists(PK)"),
            ),
        ];
        let current = target.filter(|t| t.generation == before.generation);
        let is_actor = current.is_some_and(|t| t.user_id == authority.actor().user_id);
        if let Some(target) = current {
            let actor_extra = is_actor.then(|| actor_condition(authority.actor(), authority).1);
            items.push(membership_update(
                table,
                org,
                target,
                Expr::new("ADD #wsc :minus").name("#wsc", WORKSPACE_COUNT).value(":minus", n(-1)),
                actor_extra,
            ));
        }
        push_authority_checks(&mut items, table, org, ws, authority, is_actor);
        items.push(self.audit_put(org, event));
        self.workspace_transact("delete_workspace_member", items).await
    }

    /// Grants `ws` to a group (or changes the grant's role: `before`).
    pub async fn put_grant(
        &self,
        org: &OrgId,
        authority: Authority<'_>,
        before: Option<&GroupGrant>,
        after: &GroupGrant,
        event: &AuditEvent,
    ) -> Result<(), WorkspaceWriteError> {
        let table = self.table();
        let (main, mirror) = grant_items(org, after);
        let main = match before {
            None => put_if(table, main, NEW, &[]),
            Some(b) => {
                // The grant as read, custom role and all: a change made meanwhile is not lost.
                let custom = match b.custom_role {
                    Some(_) => "customRole = :custom",
                    None => "attribute_not_exists(customRole)",
                };
                let mut put = Put::builder()
                    .table_name(table)
                    .set_item(Some(main))
                    .condition_expression(format!("attribute_exists(PK) AND #role = :before AND {custom}"))
                    .expression_attribute_names("#role", "role")
                    .expression_attribute_values(":before", s(b.role.as_str()));
                if let Some(key) = &b.custom_role {
                    put = put.expression_attribute_values(":custom", s(key.as_str()));
                }
                let put = put.build().expect("table and item are set");
                TransactWriteItem::builder().put(put).build()
            }
        };
        let mut items = vec![
            main,
            put_if(table, mirror, None, &[]),
            check(
                table,
                keys::org(org),
                keys::workspace(&after.workspace_id),
                Expr::new("attribute_exists(PK)"),
            ),
            check(table, keys::org(org), keys::group(&after.group_id), Expr::new("attribute_exists(PK)")),
        ];
        push_authority_checks(&mut items, table, org, &after.workspace_id, authority, false);
        if let Some(key) = &after.custom_role {
            items.push(super::roles::role_check(table, org, key));
        }
        items.push(self.audit_put(org, event));
        self.workspace_transact("put_grant", items).await
    }

    pub async fn delete_grant(
        &self,
        org: &OrgId,
        authority: Authority<'_>,
        grant: &GroupGrant,
        event: &AuditEvent,
    ) -> Result<(), WorkspaceWriteError> {
        let table = self.table();
        let mut items = vec![
            delete_if(
                table,
                keys::org(org),
                keys::workspace_grant(&grant.workspace_id, &grant.group_id),
                EXISTS,
                &[],
            ),
            delete_if(
                table,
                keys::org(org),
                keys::group_grant(&grant.group_id, &grant.workspace_id),
                None,
                &[],
            ),
        ];
        push_authority_checks(&mut items, table, org, &grant.workspace_id, authority, false);
        items.push(self.audit_put(org, event));
        self.workspace_transact("delete_grant", items).await
    }

    /// The grant of `ws` to `group`, if any.
    pub async fn grant(
        &self,
        org: &OrgId,
        ws: &WorkspaceId,
        group: &GroupId,
    ) -> Result<Option<GroupGrant>, Error> {
        self.get("read_grant", keys::org(org), keys::workspace_grant(ws, group))
            .await?
            .map(decode)
            .transpose()
    }

    /// Every grant of the workspace (at most one per group of the organization).
    pub async fn workspace_grants(&self, org: &OrgId, ws: &WorkspaceId) -> Result<Vec<GroupGrant>, Error> {
        self.query_all("list_workspace_grants", org, keys::workspace_grants(ws))
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    /// A page of the workspace's direct memberships, by user id.
    pub async fn workspace_members(
        &self,
        org: &OrgId,
        ws: &WorkspaceId,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<WorkspaceMember>, Error> {
        let query = self.org_query(org, &keys::workspace_members(ws), after)?.consistent_read(true);
        let page = self.query_page("list_workspace_members", query, limit, keys::SK).await?;
        Ok(Page {
            items: page.items.into_iter().map(decode).collect::<Result<_, _>>()?,
            last_key: page.last_key,
        })
    }

    /// A page of the organization's workspaces, by id (creation order).
    pub async fn workspaces(
        &self,
        org: &OrgId,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<Workspace>, Error> {
        let query = self.org_query(org, keys::WORKSPACE_PREFIX, after)?.consistent_read(true);
        let page = self.query_page("list_workspaces", query, limit, keys::SK).await?;
        Ok(Page {
            items: page.items.into_iter().map(decode).collect::<Result<_, _>>()?,
            last_key: page.last_key,
        })
    }

    /// Every workspace `member` has access to other than through the organization role: their
    /// direct memberships and their groups' grants (queried together), then the workspaces
    /// themselves (deleted ones drop out): two waves.
    pub async fn accessible_workspaces(
        &self,
        org: &OrgId,
        member: &Member,
    ) -> Result<Vec<(Workspace, crate::domain::workspace::Access)>, Error> {
        let pk = keys::org(org);
        let direct = self.query_all("list_member_workspaces", org, keys::member_workspaces(&member.user_id));
        let by_group = futures::future::try_join_all(
            member.groups.iter().map(|g| self.query_all("list_group_workspaces", org, keys::group_grants(g))),
        );
        let groups = self
            .get_many("read_groups", member.groups.iter().map(|g| (pk.clone(), keys::group(g))).collect());
        let (direct, by_group, groups) = tokio::try_join!(direct, by_group, groups)?;
        let live: BTreeSet<GroupId> =
            groups.iter().filter_map(|i| string_attr(i, "id").and_then(GroupId::parse)).collect();
        let mut directs: HashMap<WorkspaceId, WorkspaceMember> = HashMap::new();
        for item in direct {
            let d: WorkspaceMember = decode(item)?;
            directs.insert(d.workspace_id.clone(), d);
        }
        let mut grants: HashMap<WorkspaceId, Vec<GroupGrant>> = HashMap::new();
        for item in by_group.into_iter().flatten() {
            let g: GroupGrant = decode(item)?;
            grants.entry(g.workspace_id.clone()).or_default().push(g);
        }
        let ids: BTreeSet<&WorkspaceId> = directs.keys().chain(grants.keys()).collect();
        let wanted = ids.iter().map(|id| (pk.clone(), keys::workspace(id))).collect();
        let mut found = Vec::new();
        for item in self.get_many("read_workspaces", wanted).await? {
            let ws: Workspace = decode(item)?;
            let access = crate::domain::workspace::effective(
                member,
                directs.get(&ws.id),
                grants.get(&ws.id).map_or(&[][..], Vec::as_slice),
                &live,
            );
            if let Some(access) = access {
                found.push((ws, access));
            }
        }
        found.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        Ok(found)
    }

    /// Every item of the organization under `prefix` (bounded lists: a member's workspace
    /// memberships, a workspace's grants), strongly consistent, page after page.
    pub(crate) async fn query_all(
        &self,
        operation: &'static str,
        org: &OrgId,
        prefix: String,
    ) -> Result<Vec<Item>, Error> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND SK BETWEEN :prefix AND :past")
                .expression_attribute_values(":pk", s(keys::org(org)))
                .expression_attribute_values(":prefix", s(prefix.as_str()))
                .expression_attribute_values(":past", s(super::past(prefix.as_str())))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| super::classify(operation, e))?;
            found.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(found),
            }
        }
    }

    pub(crate) async fn workspace_transact(
        &self,
        operation: &'static str,
        items: Vec<TransactWriteItem>,
    ) -> Result<(), WorkspaceWriteError> {
        match self.transact(operation, items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Failed(e)) => Err(WorkspaceWriteError::Refused(e)),
            Err(TransactError::Cancelled(_)) => Err(WorkspaceWriteError::Stale),
        }
    }

    /// Why a membership write was cancelled: the member's limit, or something read changed.
    fn refusal(
        &self,
        c: &Cancelled,
        _member_index: usize,
        limit_index: usize,
        target: &Member,
        counted: bool,
    ) -> WorkspaceWriteError {
        if counted && c.failed(limit_index) {
            let at_limit = c.old_item(limit_index).is_some_and(|old| {
                super::number_attr(old, WORKSPACE_COUNT).unwrap_or(0)
                    >= i64::from(limits::WORKSPACES_PER_MEMBER)
                    && string_attr(old, GENERATION) == target.generation.as_ref().map(|g| g.as_str())
            });
            if at_limit {
                return WorkspaceWriteError::Refused(Error::LimitExceeded(format!(
                    "a member may belong to at most {} workspaces directly",
                    limits::WORKSPACES_PER_MEMBER
                )));
            }
        }
        WorkspaceWriteError::Stale
    }
}

/// An organization item update that failed: a deleted organization (404) or its limit.
pub(crate) fn org_limit(c: &Cancelled, index: usize, what: &str, max: u32) -> Error {
    match c.old_item(index) {
        Some(old) if old.contains_key(keys::PK) && !old.contains_key("deletedAt") => {
            Error::LimitExceeded(format!("an organization may have at most {max} {what}"))
        }
        _ => Error::NotFound,
    }
}

/// A `Put` replacing an item still at `version`.
pub(crate) fn versioned_put(table: &str, item: Item, version: u64) -> TransactWriteItem {
    let mut item = item;
    let next = version + 1;
    item.insert(VERSION.to_owned(), n(next));
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(if version == 0 {
            "attribute_exists(PK) AND (attribute_not_exists(#v) OR #v = :v)"
        } else {
            "attribute_exists(PK) AND #v = :v"
        })
        .expression_attribute_names("#v", VERSION)
        .expression_attribute_values(":v", n(version))
        .build()
        .expect("table and item are set");
    TransactWriteItem::builder().put(put).build()
}

/// A `Delete` of an item still at `version`.
pub(crate) fn delete_versioned(table: &str, pk: String, sk: String, version: u64) -> TransactWriteItem {
    let delete = aws_sdk_dynamodb::types::Delete::builder()
        .table_name(table)
        .key(keys::PK, s(pk))
        .key(keys::SK, s(sk))
        .condition_expression(if version == 0 {
            "attribute_exists(PK) AND (attribute_not_exists(#v) OR #v = :v)"
        } else {
            "attribute_exists(PK) AND #v = :v"
        })
        .expression_attribute_names("#v", VERSION)
        .expression_attribute_values(":v", n(version))
        .build()
        .expect("table and key are set");
    TransactWriteItem::builder().delete(delete).build()
}

/// A purge list entry (see `purge`): `sk` names what to purge, `ids` say it again as fields.
pub(crate) fn purge_entry(
    table: &str,
    sk: String,
    org: &OrgId,
    ids: &[(&str, &str)],
    now: Timestamp,
) -> TransactWriteItem {
    let mut item = Item::from([
        (keys::PK.to_owned(), s(keys::PURGE_PK)),
        (keys::SK.to_owned(), s(sk)),
        ("orgId".to_owned(), s(org.as_str())),
        ("deletedAt".to_owned(), s(now.to_string())),
    ]);
    for (name, value) in ids {
        item.insert((*name).to_owned(), s(*value));
    }
    put_if(table, item, None, &[])
}

/// Workspace and group purges: what a deleted workspace or group leaves behind, removed a
/// page at a time. Each membership that counts on a member (a direct membership, a place in
/// a group) goes in one transaction with the member's counter or group set, so that a run
/// cut short and run again never counts twice.
impl Store {
    pub async fn purge_workspace(
        &self,
        org: &OrgId,
        ws: &WorkspaceId,
        more: impl Fn() -> bool,
    ) -> Result<super::purge::PurgeProgress, Error> {
        let mut progress = super::purge::PurgeProgress::default();
        while more() {
            let page = self.purge_page(org, keys::workspace_members(ws)).await?;
            if !page.is_empty() {
                for item in page {
                    let direct: WorkspaceMember = decode(item)?;
                    let mut items = vec![
                        delete_if(
                            self.table(),
                            keys::org(org),
                            keys::workspace_member(ws, &direct.user_id),
                            EXISTS,
                            &[],
                        ),
                        delete_if(
                            self.table(),
                            keys::org(org),
                            keys::member_workspace(&direct.user_id, ws),
                            None,
                            &[],
                        ),
                    ];
                    let counted = update(
                        self.table(),
                        keys::org(org),
                        keys::member(&direct.user_id),
                        Expr::new("ADD #wsc :minus, #version :one")
                            .name("#wsc", WORKSPACE_COUNT)
                            .name("#version", VERSION)
                            .value(":minus", n(-1))
                            .value(":one", n(1)),
                        generation_of(direct.generation.as_ref()),
                    );
                    items.push(counted);
                    self.purge_transact(items).await?;
                    progress.deleted += 2;
                }
                continue;
            }
            let grants = self.purge_page(org, keys::workspace_grants(ws)).await?;
            if grants.is_empty() {
                self.delete_keys(vec![(keys::PURGE_PK.to_owned(), keys::purge_workspace(org, ws))]).await?;
                progress.done = true;
                break;
            }
            let mut doomed = Vec::new();
            for item in grants {
                let grant: GroupGrant = decode(item)?;
                doomed.push((keys::org(org), keys::workspace_grant(ws, &grant.group_id)));
                doomed.push((keys::org(org), keys::group_grant(&grant.group_id, ws)));
            }
            progress.deleted += doomed.len();
            self.delete_keys(doomed).await?;
        }
        Ok(progress)
    }

    pub async fn purge_group(
        &self,
        org: &OrgId,
        group: &GroupId,
        more: impl Fn() -> bool,
    ) -> Result<super::purge::PurgeProgress, Error> {
        let mut progress = super::purge::PurgeProgress::default();
        while more() {
            let page = self.purge_page(org, keys::group_members(group)).await?;
            if !page.is_empty() {
                for item in page {
                    let place: crate::domain::workspace::GroupMember = decode(item)?;
                    let items = vec![
                        delete_if(
                            self.table(),
                            keys::org(org),
                            keys::group_member(group, &place.user_id),
                            EXISTS,
                            &[],
                        ),
                        update(
                            self.table(),
                            keys::org(org),
                            keys::member(&place.user_id),
                            Expr::new("DELETE #groups :g ADD #version :one")
                                .name("#groups", GROUPS)
                                .name("#version", VERSION)
                                .value(
                                    ":g",
                                    aws_sdk_dynamodb::types::AttributeValue::Ss(vec![group.to_string()]),
                                )
                                .value(":one", n(1)),
                            generation_of(place.generation.as_ref()),
                        ),
                    ];
                    self.purge_transact(items).await?;
                    progress.deleted += 1;
                }
                continue;
            }
            let grants = self.purge_page(org, keys::group_grants(group)).await?;
            if grants.is_empty() {
                self.delete_keys(vec![(keys::PURGE_PK.to_owned(), keys::purge_group(org, group))]).await?;
                progress.done = true;
                break;
            }
            let mut doomed = Vec::new();
            for item in grants {
                let grant: GroupGrant = decode(item)?;
                doomed.push((keys::org(org), keys::group_grant(group, &grant.workspace_id)));
                doomed.push((keys::org(org), keys::workspace_grant(&grant.workspace_id, group)));
            }
            progress.deleted += doomed.len();
            self.delete_keys(doomed).await?;
        }
        Ok(progress)
    }

    async fn purge_page(&self, org: &OrgId, prefix: String) -> Result<Vec<Item>, Error> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND SK BETWEEN :prefix AND :past")
            .expression_attribute_values(":pk", s(keys::org(org)))
            .expression_attribute_values(":past", s(super::past(&prefix)))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true)
            .limit(100)
            .send()
            .await
            .map_err(|e| super::classify("purge_page", e))?;
        Ok(out.items.unwrap_or_default())
    }

    /// `items`: the deletes first, the member's update last. When the member's condition
    /// fails (removed, or joined again: nothing of theirs counts this any more) the deletes
    /// go alone; when the first delete fails, another run took it already.
    async fn purge_transact(&self, mut items: Vec<TransactWriteItem>) -> Result<(), Error> {
        let member_index = items.len() - 1;
        loop {
            match self.transact("purge_access", items.clone()).await {
                Ok(()) => return Ok(()),
                Err(TransactError::Failed(e)) => return Err(e),
                Err(TransactError::Cancelled(c)) if c.failed(0) => return Ok(()),
                Err(TransactError::Cancelled(c)) if c.failed(member_index) && items.len() > 1 => {
                    items.truncate(member_index);
                }
                Err(TransactError::Cancelled(_)) => return Err(Error::Unavailable),
            }
        }
    }
}

fn generation_of(generation: Option<&crate::domain::standing::Generation>) -> Expr {
    match generation {
        Some(g) => Expr::new("#gen = :gen").name("#gen", GENERATION).value(":gen", s(g.as_str())),
        None => Expr::new("attribute_exists(PK) AND attribute_not_exists(#gen)").name("#gen", GENERATION),
    }
}

impl Store {
    /// The first workspace or group that `assignments` name and the organization does not
    /// have (deleted, another organization's, never made), if any: one read.
    pub async fn unknown_assignment(
        &self,
        org: &OrgId,
        assignments: &[&crate::domain::workspace::Assignments],
    ) -> Result<Option<String>, Error> {
        let mut wanted: Vec<(String, String)> = Vec::new();
        for a in assignments {
            wanted.extend(a.workspaces.iter().map(|w| (keys::org(org), keys::workspace(&w.id))));
            wanted.extend(a.groups.iter().map(|g| (keys::org(org), keys::group(g))));
        }
        if wanted.is_empty() {
            return Ok(None);
        }
        let found: BTreeSet<String> = self
            .get_many("read_assignments", wanted.clone())
            .await?
            .iter()
            .filter_map(|i| string_attr(i, keys::SK).map(str::to_owned))
            .collect();
        Ok(wanted.into_iter().find(|(_, sk)| !found.contains(sk)).map(|(_, sk)| {
            sk.trim_start_matches(keys::WORKSPACE_PREFIX).trim_start_matches(keys::GROUP_PREFIX).to_owned()
        }))
    }
}

impl Store {
    /// The organization's invitations that give workspace `ws` (any status: the caller
    /// decides what to show). Invitations are few and short-lived (TTL), so this reads them
    /// all, filtered by the set of workspace ids each carries.
    pub async fn workspace_invitees(
        &self,
        org: &OrgId,
        ws: &WorkspaceId,
    ) -> Result<Vec<crate::domain::invitation::Invitation>, Error> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND SK BETWEEN :prefix AND :past")
                .filter_expression("contains(#ids, :ws)")
                .expression_attribute_names("#ids", super::invitations::WORKSPACE_IDS)
                .expression_attribute_values(":pk", s(keys::org(org)))
                .expression_attribute_values(":prefix", s(keys::INVITATION_PREFIX))
                .expression_attribute_values(":past", s(super::past(keys::INVITATION_PREFIX)))
                .expression_attribute_values(":ws", s(ws.as_str()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| super::classify("list_workspace_invitees", e))?;
            for item in out.items.unwrap_or_default() {
                found.push(super::invitations::decode_invitation(item)?.invitation);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(found),
            }
        }
    }
}

/// Whether a removal of `member` leaves workspace or group memberships behind.
pub(crate) fn has_access_items(member: &Member) -> bool {
    member.workspace_count > 0 || !member.groups.is_empty()
}

/// The purge list entry of a removed member's workspace and group memberships (they give
/// nothing once the membership is gone; this deletes them and their counts): `None` when they
/// have none. Their groups go with it, as the membership that listed them is deleted.
pub(crate) fn removed_member_entry(
    table: &str,
    org: &OrgId,
    member: &Member,
    now: Timestamp,
) -> Option<TransactWriteItem> {
    if !has_access_items(member) {
        return None;
    }
    let generation = member.generation.as_ref().map_or("", |g| g.as_str());
    let mut item = Item::from([
        (keys::PK.to_owned(), s(keys::PURGE_PK)),
        (keys::SK.to_owned(), s(keys::purge_member(org, &member.user_id, generation))),
        ("orgId".to_owned(), s(org.as_str())),
        ("userId".to_owned(), s(member.user_id.as_str())),
        ("generation".to_owned(), s(generation)),
        ("deletedAt".to_owned(), s(now.to_string())),
    ]);
    if !member.groups.is_empty() {
        let ids = member.groups.iter().map(|g| g.to_string()).collect();
        item.insert(GROUPS.to_owned(), aws_sdk_dynamodb::types::AttributeValue::Ss(ids));
    }
    Some(put_if(table, item, None, &[]))
}

impl Store {
    /// Deletes what a removed member's joining `generation` left: their direct workspace
    /// memberships and places in `groups`, each with its workspace's or group's count. One
    /// that a later joining already replaced (same key, newer generation) is theirs now and
    /// stays.
    pub async fn purge_removed_member(
        &self,
        org: &OrgId,
        user: &UserId,
        generation: &str,
        groups: &[GroupId],
        more: impl Fn() -> bool,
    ) -> Result<super::purge::PurgeProgress, Error> {
        let table = self.table();
        let mut progress = super::purge::PurgeProgress::default();
        let is_theirs = || Expr::new("#gen = :gen").name("#gen", GENERATION).value(":gen", s(generation));
        let mut directs = Vec::new();
        for item in self.query_all("purge_member_workspaces", org, keys::member_workspaces(user)).await? {
            let direct: WorkspaceMember = decode(item)?;
            if direct.generation.as_ref().map_or("", |g| g.as_str()) == generation {
                directs.push(direct);
            }
        }
        for direct in directs {
            if !more() {
                return Ok(progress);
            }
            let ws = &direct.workspace_id;
            let items = vec![
                delete_cond(table, keys::org(org), keys::workspace_member(ws, user), is_theirs()),
                delete_if(table, keys::org(org), keys::member_workspace(user, ws), None, &[]),
                update(
                    table,
                    keys::org(org),
                    keys::workspace(ws),
                    Expr::new("ADD memberCount :minus").value(":minus", n(-1)),
                    Expr::new("attribute_exists(PK)"),
                ),
            ];
            self.purge_transact(items).await?;
            progress.deleted += 2;
        }
        let entry = keys::purge_member(org, user, generation);
        for group in groups {
            if !more() {
                return Ok(progress);
            }
            // The place and its count, and the group off the entry, together: a run cut
            // short starts after the groups done (their places are found by key, not by a
            // query that would skip them).
            let done = update(
                table,
                keys::PURGE_PK.to_owned(),
                entry.clone(),
                Expr::new("DELETE #groups :g")
                    .name("#groups", GROUPS)
                    .value(":g", aws_sdk_dynamodb::types::AttributeValue::Ss(vec![group.to_string()])),
                Expr::new("attribute_exists(PK)"),
            );
            let items = vec![
                delete_cond(table, keys::org(org), keys::group_member(group, user), is_theirs()),
                done.clone(),
                update(
                    table,
                    keys::org(org),
                    keys::group(group),
                    Expr::new("ADD memberCount :minus").value(":minus", n(-1)),
                    Expr::new("attribute_exists(PK)"),
                ),
            ];
            match self.transact("purge_member_group", items.clone()).await {
                Ok(()) => {}
                Err(TransactError::Failed(e)) => return Err(e),
                // Not theirs (a later joining's, or gone): only the entry moves on.
                Err(TransactError::Cancelled(c)) if c.failed(0) => {
                    self.workspace_transact("purge_member_group", vec![done])
                        .await
                        .map_err(|_| Error::Unavailable)?;
                }
                // The group was deleted: its own purge counts nothing; the place goes.
                Err(TransactError::Cancelled(c)) if c.failed(2) => {
                    self.workspace_transact("purge_member_group", items[..2].to_vec())
                        .await
                        .map_err(|_| Error::Unavailable)?;
                }
                Err(TransactError::Cancelled(_)) => return Err(Error::Unavailable),
            }
            progress.deleted += 1;
        }
        self.delete_keys(vec![(keys::PURGE_PK.to_owned(), entry)]).await?;
        progress.done = true;
        Ok(progress)
    }
}

/// A `Delete` under `condition`.
pub(crate) fn delete_cond(table: &str, pk: String, sk: String, condition: Expr) -> TransactWriteItem {
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
    TransactWriteItem::builder().delete(delete.build().expect("table and key are set")).build()
}

/// The name, description (and metadata) of a workspace or group still at `version`, one
/// version on. An update, not a put: its member count moves beside it (joins, removals)
/// without moving the version, and a put would write the count back as read.
pub(crate) fn rename(
    table: &str,
    org: &OrgId,
    sk: String,
    version: u64,
    name: &str,
    description: &str,
    metadata: Option<&crate::domain::Metadata>,
) -> TransactWriteItem {
    let mut set = Expr::new("SET #name = :name, #description = :description, #v = :next")
        .name("#name", "name")
        .name("#description", "description")
        .name("#v", VERSION)
        .value(":name", s(name))
        .value(":description", s(description))
        .value(":next", n(version + 1));
    if let Some(metadata) = metadata {
        set = if metadata.is_empty() {
            Expr { text: format!("{} REMOVE #metadata", set.text), ..set }
                .name("#metadata", super::codec::METADATA)
        } else {
            Expr { text: format!("{}, #metadata = :metadata", set.text), ..set }
                .name("#metadata", super::codec::METADATA)
                .value(":metadata", s(metadata.to_json()))
        };
    }
    let condition = if version == 0 {
        Expr::new("attribute_exists(PK) AND (attribute_not_exists(#v) OR #v = :v)")
    } else {
        Expr::new("attribute_exists(PK) AND #v = :v")
    }
    .value(":v", n(version));
    update(table, keys::org(org), sk, set, condition)
}
