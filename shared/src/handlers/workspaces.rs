//! The workspace routes: workspaces, their direct members and their grants to groups, and a
//! member's workspaces (API.md "Workspaces and groups"). Each write reads what it rests on,
//! decides in the domain, and writes conditioned on that read; a condition that fails
//! because something changed meanwhile means reading again and deciding again.

use std::collections::{BTreeSet, HashMap};

use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Acting, Roles, acting_input, acting_member, after, next_cursor, org_id, serve_org};
use crate::App;
use crate::domain::custom_role::{Assigned, RoleName};
use crate::domain::invitation::Vouched;
use crate::domain::standing;
use crate::domain::text::Description;
use crate::domain::workspace::{
    self, Access, GroupGrant, Workspace, WorkspaceMember, WorkspaceRole, same_joining,
};
use crate::domain::{
    AuditAction, AuditEvent, GroupId, Member, Metadata, OrgId, Role, UserId, WorkspaceId, access,
};
use crate::error::Error;
use crate::http::request::{json_body, optional_json_body, page_limit, path_param};
use crate::http::response::{created, list, no_content, ok};
use crate::store::workspaces::{Authority, WorkspaceRead, WorkspaceWriteError};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    // Each route's future boxed: the largest would otherwise size them all, on the stack.
    serve_org(app, req, |app, who, route, req| async move {
        match route.as_str() {
            "POST /orgs/{orgId}/workspaces" => Box::pin(create(app, &who, &req)).await,
            "GET /orgs/{orgId}/workspaces" => Box::pin(list_workspaces(app, &who, &req)).await,
            "GET /orgs/{orgId}/workspaces/{workspaceId}" => Box::pin(get(app, &who, &req)).await,
            "PATCH /orgs/{orgId}/workspaces/{workspaceId}" => Box::pin(update(app, &who, &req)).await,
            "DELETE /orgs/{orgId}/workspaces/{workspaceId}" => Box::pin(delete(app, &who, &req)).await,
            "GET /orgs/{orgId}/workspaces/{workspaceId}/members" => Box::pin(members(app, &who, &req)).await,
            "PUT /orgs/{orgId}/workspaces/{workspaceId}/members/{userId}" => {
                Box::pin(put_member(app, &who, &req)).await
            }
            "DELETE /orgs/{orgId}/workspaces/{workspaceId}/members/{userId}" => {
                Box::pin(delete_member(app, &who, &req)).await
            }
            "PUT /orgs/{orgId}/workspaces/{workspaceId}/groups/{groupId}" => {
                Box::pin(grant(app, &who, &req)).await
            }
            "DELETE /orgs/{orgId}/workspaces/{workspaceId}/groups/{groupId}" => {
                Box::pin(revoke(app, &who, &req)).await
            }
            "GET /orgs/{orgId}/members/{userId}/workspaces" => {
                Box::pin(member_workspaces(app, &who, &req)).await
            }
            _ => Err(Error::NotFound),
        }
    })
    .await
}

/// Attempts of a write whose reads went stale meanwhile.
const ATTEMPTS: usize = 4;

fn workspace_id(req: &Request) -> Result<WorkspaceId, Error> {
    WorkspaceId::parse(&path_param(req, "workspaceId")?).ok_or(Error::NotFound)
}

fn user_id(req: &Request) -> Result<UserId, Error> {
    UserId::parse(&path_param(req, "userId")?).ok_or(Error::NotFound)
}

fn group_id(req: &Request) -> Result<GroupId, Error> {
    GroupId::parse(&path_param(req, "groupId")?).ok_or(Error::NotFound)
}

fn stale() -> Error {
    Error::Conflict("the workspace is being changed by other requests; retry".to_owned())
}

fn event(app: &App, who: &Acting, action: AuditAction, target: String, details: Value) -> AuditEvent {
    AuditEvent::new(app.now(), who.user_id(), action, Some(target), details)
}

/// A workspace as shown to a caller: with `you`, their access.
fn shown(ws: &Workspace, you: Option<&Access>) -> Value {
    let mut value = serde_json::to_value(ws).unwrap_or(Value::Null);
    if let Some(you) = you {
        value["you"] = json!(you);
    }
    value
}

/// The caller, the workspace and the caller's access to it: the caller must be an active
/// member (404 / 403 `suspended`) and have access (404: a workspace one cannot see does not
/// exist for them).
struct Seen {
    read: WorkspaceRead,
    me: Member,
    you: Option<Access>,
}

async fn see(
    app: &App,
    who: &Acting,
    org: &OrgId,
    ws: &WorkspaceId,
    others: &[&UserId],
) -> Result<Seen, Error> {
    let mut users = vec![who.user_id()];
    users.extend(others.iter().filter(|u| **u != who.user_id()));
    let read = app.store.workspace_read(org, ws, &users).await?;
    let me = who.member(app, org, read.members.get(who.user_id()).cloned()).await?;
    // A service is no member: its access is an owner's, by its role alone.
    let you = match who {
        Acting::Person(_) => read.access(who.user_id()),
        Acting::Service(_) => workspace::effective(&me, None, &read.grants, &read.live_groups),
    };
    if read.workspace.is_none() || you.is_none() {
        return Err(Error::NotFound);
    }
    Ok(Seen { read, me, you })
}

/// What `me` (with `you`) acts on: the organization role first, then an explicit direct
/// `admin`, then an `admin` grant of one of their groups.
fn authority<'a>(me: &'a Member, read: &'a WorkspaceRead) -> Result<Authority<'a>, Error> {
    if me.role.can_administer() {
        return Ok(Authority::Org(me));
    }
    let direct = read.direct.get(&me.user_id).filter(|d| same_joining(me, d.generation.as_ref()));
    if direct.is_some_and(|d| d.role == Some(WorkspaceRole::Admin)) {
        return Ok(Authority::Direct(me));
    }
    read.grants
        .iter()
        .find(|g| {
            g.role == WorkspaceRole::Admin
                && me.groups.contains(&g.group_id)
                && read.live_groups.contains(&g.group_id)
        })
        .map(|g| Authority::Group(me, &g.group_id))
        .ok_or_else(|| Error::forbidden("only the workspace's admins may do this"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateWorkspace {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    metadata: Option<Value>,
}

fn parse_text(
    name: Option<&str>,
    description: Option<&str>,
) -> Result<(Option<crate::domain::text::Name>, Option<Description>), Error> {
    let name = name
        .map(|n| {
            crate::domain::text::Name::parse(n).map_err(|e| Error::invalid_request(format!("name: {e}")))
        })
        .transpose()?;
    let description = description
        .map(|d| Description::parse(d).map_err(|e| Error::invalid_request(format!("description: {e}"))))
        .transpose()?;
    Ok((name, description))
}

fn parse_metadata(raw: Option<Value>) -> Result<Option<Metadata>, Error> {
    raw.map(|v| Metadata::parse(v).map_err(|e| Error::invalid_request(format!("metadata: {e}")))).transpose()
}

async fn create(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let input = json_body::<CreateWorkspace>(req).and_then(|body| {
        let (name, description) = parse_text(Some(&body.name), body.description.as_deref())?;
        let metadata = parse_metadata(body.metadata)?;
        Ok((name.ok_or(Error::Internal)?, description.unwrap_or_default(), metadata.unwrap_or_default()))
    });
    let (name, description, metadata) =
        acting_input(app, who, &org, input, workspace::require_org_admin).await?;
    let me = acting_member(app, who, &org).await?;
    workspace::require_org_admin(&me)?;
    let ws = workspace::new_workspace(name, description, metadata, app.now());
    let event = event(app, who, AuditAction::WorkspaceCreated, ws.id.to_string(), json!({ "name": ws.name }));
    app.store.create_workspace(&org, Authority::Org(&me), &ws, &event).await?;
    let you = workspace::effective(&me, None, &[], &BTreeSet::new());
    created(&json!({ "workspace": shown(&ws, you.as_ref()) }))
}

async fn get(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let (org, ws) = (org_id(req)?, workspace_id(req)?);
    let (seen, grants) = tokio::join!(see(app, who, &org, &ws, &[]), app.store.workspace_grants(&org, &ws));
    let seen = seen?;
    let groups = granted_groups(app, &org, grants?).await?;
    let workspace = seen.read.workspace.as_ref().ok_or(Error::NotFound)?;
    ok(&json!({ "workspace": shown(workspace, seen.you.as_ref()), "groups": groups }))
}

/// A workspace's grants, with their groups' names (grants of deleted groups left out).
async fn granted_groups(app: &App, org: &OrgId, grants: Vec<GroupGrant>) -> Result<Vec<Value>, Error> {
    let ids: Vec<&GroupId> = grants.iter().map(|g| &g.group_id).collect();
    let groups: HashMap<GroupId, _> =
        app.store.groups_by_id(org, &ids).await?.into_iter().map(|g| (g.id.clone(), g)).collect();
    Ok(grants
        .iter()
        .filter_map(|grant| {
            let group = groups.get(&grant.group_id)?;
            let mut shown = json!({
                "groupId": grant.group_id,
                "name": group.name,
                "memberCount": group.member_count,
                "role": grant.role,
                "grantedAt": grant.granted_at,
            });
            if let Some(custom) = &grant.custom_role {
                shown["customRole"] = json!(custom);
            }
            Some(shown)
        })
        .collect())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateWorkspace {
    name: Option<String>,
    description: Option<String>,
    metadata: Option<Value>,
}

async fn update(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let (org, ws_id) = (org_id(req)?, workspace_id(req)?);
    let input = json_body::<UpdateWorkspace>(req).and_then(|body| {
        let (name, description) = parse_text(body.name.as_deref(), body.description.as_deref())?;
        Ok((name, description, parse_metadata(body.metadata)?))
    });
    let input = match input {
        Ok(input) => input,
        Err(e) => {
            // Rights before input: one who may not rename it learns nothing from a bad body.
            let seen = see(app, who, &org, &ws_id, &[]).await?;
            authority(&seen.me, &seen.read)?;
            return Err(e);
        }
    };
    for _ in 0..ATTEMPTS {
        let seen = see(app, who, &org, &ws_id, &[]).await?;
        let authority = authority(&seen.me, &seen.read)?;
        let before = seen.read.workspace.clone().ok_or(Error::NotFound)?;
        let mut after = before.clone();
        let (name, description, metadata) = input.clone();
        if let Some(name) = name {
            after.name = name;
        }
        if let Some(description) = description {
            after.description = description;
        }
        if let Some(metadata) = metadata {
            after.metadata = metadata;
        }
        if after == before {
            return ok(&json!({ "workspace": shown(&before, seen.you.as_ref()) }));
        }
        let event =
            event(app, who, AuditAction::WorkspaceUpdated, before.id.to_string(), changes(&before, &after));
        match app.store.update_workspace(&org, authority, &before, &after, &event).await {
            Ok(()) => {
                after.version += 1;
                return ok(&json!({ "workspace": shown(&after, seen.you.as_ref()) }));
            }
            Err(WorkspaceWriteError::Stale) => continue,
            Err(WorkspaceWriteError::Refused(e)) => return Err(e),
        }
    }
    Err(stale())
}

/// What an update changed, field by field: `{before: {...}, after: {...}}`.
fn changes(before: &Workspace, after: &Workspace) -> Value {
    let (mut was, mut is) = (json!({}), json!({}));
    if before.name != after.name {
        (was["name"], is["name"]) = (json!(before.name), json!(after.name));
    }
    if before.description != after.description {
        (was["description"], is["description"]) = (json!(before.description), json!(after.description));
    }
    if before.metadata != after.metadata {
        (was["metadata"], is["metadata"]) = (json!(before.metadata), json!(after.metadata));
    }
    json!({ "before": was, "after": is })
}

async fn delete(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let (org, ws_id) = (org_id(req)?, workspace_id(req)?);
    for _ in 0..ATTEMPTS {
        let seen = see(app, who, &org, &ws_id, &[]).await?;
        workspace::require_org_admin(&seen.me)?;
        let ws = seen.read.workspace.as_ref().ok_or(Error::NotFound)?;
        let event =
            event(app, who, AuditAction::WorkspaceDeleted, ws.id.to_string(), json!({ "name": ws.name }));
        match app.store.delete_workspace(&org, Authority::Org(&seen.me), ws, &event, app.now()).await {
            Ok(()) => return no_content(),
            Err(WorkspaceWriteError::Stale) => continue,
            Err(WorkspaceWriteError::Refused(e)) => return Err(e),
        }
    }
    Err(stale())
}

/// A row of a workspace's member list.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Row<'a> {
    user_id: &'a UserId,
    name: Option<&'a str>,
    email: Option<&'a str>,
    status: &'static str,
    /// The direct membership's own role (`null`: the organization role's).
    role: Option<WorkspaceRole>,
    /// The direct membership's custom role, when it has one (`role` is then its base).
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_role: Option<&'a crate::domain::custom_role::RoleKey>,
    effective_role: Option<WorkspaceRole>,
    via: Vec<workspace::Via>,
    added_at: crate::domain::Timestamp,
}

fn row<'a>(member: &'a Member, direct: &'a WorkspaceMember, access: Option<Access>) -> Row<'a> {
    Row {
        user_id: &member.user_id,
        name: member.name.as_ref().map(|n| n.as_str()),
        email: member.email.as_ref().map(|e| e.as_str()),
        status: if member.is_active() { "active" } else { "suspended" },
        role: direct.role,
        custom_role: direct.custom_role.as_ref(),
        effective_role: access.as_ref().map(|a| a.role),
        via: access.map(|a| a.via).unwrap_or_default(),
        added_at: direct.added_at,
    }
}

async fn members(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let (org, ws) = (org_id(req)?, workspace_id(req)?);
    let scope = format!("workspace-members:{org}:{ws}");
    let input = page_limit(req).and_then(|limit| Ok((limit, after(app, req, &scope)?)));
    let (limit, start) = match input {
        Ok(input) => input,
        Err(e) => {
            see(app, who, &org, &ws, &[]).await?;
            return Err(e);
        }
    };
    let first_page = start.is_none();
    // Boxed: four reads side by side make a large future, too large for a small stack.
    let (seen, page, grants, invitees) = tokio::join!(
        Box::pin(see(app, who, &org, &ws, &[])),
        Box::pin(app.store.workspace_members(&org, &ws, limit, start)),
        Box::pin(app.store.workspace_grants(&org, &ws)),
        Box::pin(async {
            if first_page { app.store.workspace_invitees(&org, &ws).await } else { Ok(Vec::new()) }
        })
    );
    seen?;
    let (page, grants, invitees) = (page?, grants?, invitees?);
    // The page's members, and whoever vouches for the invitees (an invitation whose creator
    // left or was demoted admits nobody, so it lists nobody).
    let mut users: Vec<UserId> = page.items.iter().map(|d| d.user_id.clone()).collect();
    users.extend(invitees.iter().map(|i| i.vouched_by().clone()));
    users.sort();
    users.dedup();
    let group_ids: Vec<&GroupId> = grants.iter().map(|g| &g.group_id).collect();
    let (memberships, groups) =
        tokio::try_join!(app.store.memberships(&org, &users), app.store.groups_by_id(&org, &group_ids))?;
    let live: BTreeSet<GroupId> = groups.into_iter().map(|g| g.id).collect();
    // The first page starts with the pending invitations that give this workspace: the
    // people who will be members once they accept.
    let now = app.now();
    let mut rows: Vec<Value> = invitees
        .iter()
        .filter(|i| i.declined_at.is_none() && !i.is_expired_at(now))
        .filter(|i| {
            standing::verdict(memberships.get(i.vouched_by().as_str()), i.voucher(), i.role).is_none()
        })
        .filter_map(|i| {
            let assigned = i.workspaces.iter().find(|w| w.id == ws)?;
            let effective = assigned.role.unwrap_or_else(|| WorkspaceRole::of_org_role(i.role));
            let effective = if i.role.can_administer() { WorkspaceRole::Admin } else { effective };
            Some(json!({
                "invitationId": i.id,
                "name": null,
                "email": i.email,
                "status": "invited",
                "role": assigned.role,
                "effectiveRole": effective,
                "via": ["direct"],
                "addedAt": i.created_at,
            }))
        })
        .collect();
    rows.extend(page.items.iter().filter_map(|direct| {
        let member = memberships.get(direct.user_id.as_str())?;
        // A membership of an earlier joining is no member of this workspace.
        if !same_joining(member, direct.generation.as_ref()) {
            return None;
        }
        let access = workspace::effective(member, Some(direct), &grants, &live);
        serde_json::to_value(row(member, direct, access)).ok()
    }));
    list("members", &rows, next_cursor(app, &scope, page.last_key)?)
}

/// A workspace role as a request names it: `admin`, `member`, `viewer`, or a custom role
/// (whose base is its workspace rank).
fn workspace_role_name(text: &str) -> Result<RoleName, Error> {
    match RoleName::parse(text) {
        Ok(RoleName::Builtin(Role::Owner)) | Err(_) => Err(Error::invalid_request(
            "a workspace role is one of admin, member, viewer, or one of the organization's custom roles",
        )),
        Ok(name) => Ok(name),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PutMember {
    #[serde(default)]
    role: Option<String>,
}

async fn put_member(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let (org, ws_id, target_id) = (org_id(req)?, workspace_id(req)?, user_id(req)?);
    let input = optional_json_body::<PutMember>(req)
        .and_then(|body| body.role.as_deref().map(workspace_role_name).transpose());
    let name = match input {
        Ok(role) => role,
        Err(e) => {
            // Rights before input: only the workspace's admins manage its members.
            let seen = see(app, who, &org, &ws_id, &[]).await?;
            authority(&seen.me, &seen.read)?;
            return Err(e);
        }
    };
    for _ in 0..ATTEMPTS {
        let target_ids = [&target_id];
        let (seen, roles) =
            tokio::join!(see(app, who, &org, &ws_id, &target_ids), Roles::read(app, &org, name.as_ref()));
        let seen = seen?;
        let assigned = name.as_ref().map(|n| roles?.resolve(n)).transpose()?;
        let role = assigned.as_ref().map(Assigned::workspace);
        let custom_role = assigned.and_then(|a| a.custom);
        let target = seen.read.members.get(&target_id).ok_or(Error::NotFound)?;
        workspace::require_manage_member(&seen.me, seen.you.as_ref(), target)?;
        if target.user_id == seen.me.user_id && !seen.me.role.can_administer() {
            return Err(Error::forbidden("ask an organization admin to change your own workspace access"));
        }
        let authority = authority(&seen.me, &seen.read)?;
        let before = seen.read.direct.get(&target_id);
        let current = before.filter(|b| same_joining(target, b.generation.as_ref()));
        if let Some(current) = current
            && current.role == role
            && current.custom_role == custom_role
        {
            let access = seen.read.access(&target_id);
            return ok(&json!({ "member": row(target, current, access) }));
        }
        let now = app.now();
        let after = WorkspaceMember {
            workspace_id: ws_id.clone(),
            user_id: target_id.clone(),
            role,
            custom_role: custom_role.clone(),
            generation: target.generation.clone(),
            added_at: current.map_or(now, |c| c.added_at),
            added_by: current.map_or_else(|| seen.me.user_id.clone(), |c| c.added_by.clone()),
            version: before.map_or(0, |b| b.version + 1),
        };
        let (action, details) = match current {
            None => (
                AuditAction::WorkspaceMemberAdded,
                json!({ "workspaceId": ws_id, "role": role, "customRole": custom_role }),
            ),
            Some(c) => (
                AuditAction::WorkspaceMemberUpdated,
                json!({
                    "workspaceId": ws_id, "from": c.role, "to": role,
                    "fromCustomRole": c.custom_role, "toCustomRole": custom_role,
                }),
            ),
        };
        let event = event(app, who, action, target_id.to_string(), details);
        match app.store.put_workspace_member(&org, authority, target, before, &after, &event).await {
            Ok(()) => {
                let access =
                    workspace::effective(target, Some(&after), &seen.read.grants, &seen.read.live_groups);
                let status = if current.is_none() { 201 } else { 200 };
                let body = json!({ "member": row(target, &after, access) });
                return if status == 201 { created(&body) } else { ok(&body) };
            }
            Err(WorkspaceWriteError::Stale) => continue,
            Err(WorkspaceWriteError::Refused(e)) => return Err(e),
        }
    }
    Err(stale())
}

async fn delete_member(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let (org, ws_id, target_id) = (org_id(req)?, workspace_id(req)?, user_id(req)?);
    for _ in 0..ATTEMPTS {
        let seen = see(app, who, &org, &ws_id, &[&target_id]).await?;
        let before = seen.read.direct.get(&target_id).ok_or(Error::NotFound)?;
        let target = seen.read.members.get(&target_id);
        match target {
            Some(target) => {
                workspace::require_manage_member(&seen.me, seen.you.as_ref(), target)?;
                if target.user_id == seen.me.user_id && !seen.me.role.can_administer() {
                    return Err(Error::forbidden(
                        "ask an organization admin to change your own workspace access",
                    ));
                }
            }
            // What is left of a removed member: for the organization's admins to clear.
            None => workspace::require_org_admin(&seen.me)?,
        }
        if target.is_none_or(|t| !same_joining(t, before.generation.as_ref()))
            && !seen.me.role.can_administer()
        {
            return Err(Error::NotFound);
        }
        let authority = authority(&seen.me, &seen.read)?;
        let event = event(
            app,
            who,
            AuditAction::WorkspaceMemberRemoved,
            target_id.to_string(),
            json!({ "workspaceId": ws_id, "role": before.role }),
        );
        match app.store.delete_workspace_member(&org, authority, target, before, &event).await {
            Ok(()) => return no_content(),
            Err(WorkspaceWriteError::Stale) => continue,
            Err(WorkspaceWriteError::Refused(e)) => return Err(e),
        }
    }
    Err(stale())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutGrant {
    role: String,
}

async fn grant(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let (org, ws_id, group) = (org_id(req)?, workspace_id(req)?, group_id(req)?);
    let input = json_body::<PutGrant>(req).and_then(|b| workspace_role_name(&b.role));
    let name = match input {
        Ok(name) => name,
        Err(e) => {
            let seen = see(app, who, &org, &ws_id, &[]).await?;
            workspace::require_org_admin(&seen.me)?;
            return Err(e);
        }
    };
    let wanted = [&group];
    for _ in 0..ATTEMPTS {
        let (seen, before, groups, roles) = tokio::join!(
            see(app, who, &org, &ws_id, &[]),
            app.store.grant(&org, &ws_id, &group),
            app.store.groups_by_id(&org, &wanted),
            Roles::read(app, &org, [&name])
        );
        let seen = seen?;
        workspace::require_org_admin(&seen.me)?;
        let (before, groups) = (before?, groups?);
        let group_item = groups.into_iter().next().ok_or(Error::NotFound)?;
        let assigned = roles?.resolve(&name)?;
        let (role, custom_role) = (assigned.workspace(), assigned.custom);
        if before.as_ref().is_some_and(|b| b.role == role && b.custom_role == custom_role) {
            return ok(&json!({ "grant": before }));
        }
        let after = GroupGrant {
            workspace_id: ws_id.clone(),
            group_id: group.clone(),
            role,
            custom_role: custom_role.clone(),
            granted_at: before.as_ref().map_or(app.now(), |b| b.granted_at),
            granted_by: seen.me.user_id.clone(),
        };
        let event = event(
            app,
            who,
            AuditAction::WorkspaceGroupGranted,
            ws_id.to_string(),
            json!({
                "groupId": group, "groupName": group_item.name, "role": role, "customRole": custom_role,
                "from": before.as_ref().map(|b| b.role),
            }),
        );
        match app.store.put_grant(&org, Authority::Org(&seen.me), before.as_ref(), &after, &event).await {
            Ok(()) if before.is_none() => return created(&json!({ "grant": after })),
            Ok(()) => return ok(&json!({ "grant": after })),
            Err(WorkspaceWriteError::Stale) => continue,
            Err(WorkspaceWriteError::Refused(e)) => return Err(e),
        }
    }
    Err(stale())
}

async fn revoke(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let (org, ws_id, group) = (org_id(req)?, workspace_id(req)?, group_id(req)?);
    for _ in 0..ATTEMPTS {
        let (seen, before) =
            tokio::join!(see(app, who, &org, &ws_id, &[]), app.store.grant(&org, &ws_id, &group));
        let seen = seen?;
        workspace::require_org_admin(&seen.me)?;
        let before = before?.ok_or(Error::NotFound)?;
        let event = event(
            app,
            who,
            AuditAction::WorkspaceGroupRevoked,
            ws_id.to_string(),
            json!({ "groupId": group, "role": before.role }),
        );
        match app.store.delete_grant(&org, Authority::Org(&seen.me), &before, &event).await {
            Ok(()) => return no_content(),
            Err(WorkspaceWriteError::Stale) => continue,
            Err(WorkspaceWriteError::Refused(e)) => return Err(e),
        }
    }
    Err(stale())
}

/// Every workspace `member` can access, with how: for organization owners and admins, every
/// workspace of the organization.
async fn all_access(app: &App, org: &OrgId, member: &Member) -> Result<Vec<(Workspace, Access)>, Error> {
    let own = app.store.accessible_workspaces(org, member);
    if !member.role.can_administer() || !member.is_active() {
        return own.await;
    }
    let all = async {
        let items = app
            .store
            .query_all("list_workspaces", org, crate::store::keys::WORKSPACE_PREFIX.to_owned())
            .await?;
        items.into_iter().map(crate::store::decode::<Workspace>).collect::<Result<Vec<_>, _>>()
    };
    let (own, all) = tokio::try_join!(own, all)?;
    let own: HashMap<WorkspaceId, Access> = own.into_iter().map(|(w, a)| (w.id, a)).collect();
    Ok(all
        .into_iter()
        .map(|ws| {
            let access = own
                .get(&ws.id)
                .cloned()
                .unwrap_or(Access { role: WorkspaceRole::Admin, via: vec![workspace::Via::OrgRole] });
            (ws, access)
        })
        .collect())
}

async fn list_workspaces(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let scope = format!("workspaces:{org}:{}", who.user_id());
    let input = page_limit(req).and_then(|limit| Ok((limit, after(app, req, &scope)?)));
    let (limit, start) = acting_input(app, who, &org, input, access::require_member).await?;
    let me = acting_member(app, who, &org).await?;
    let found = all_access(app, &org, &me).await?;
    let start_key = start.unwrap_or_default();
    let mut page: Vec<Value> = Vec::with_capacity(limit);
    let mut last = None;
    let mut more = false;
    for (ws, you) in &found {
        let key = crate::store::keys::workspace(&ws.id);
        if key <= start_key {
            continue;
        }
        if page.len() == limit {
            more = true;
            break;
        }
        page.push(shown(ws, Some(you)));
        last = Some(key);
    }
    list("workspaces", &page, next_cursor(app, &scope, if more { last } else { None })?)
}

async fn member_workspaces(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let (org, target_id) = (org_id(req)?, user_id(req)?);
    let (me, them) = app.store.membership_pair(&org, who.user_id(), &target_id).await?;
    let me = who.member(app, &org, me).await?;
    if me.user_id != target_id && !me.role.can_administer() {
        return Err(Error::forbidden("only the member and the organization's admins may see this"));
    }
    let them = them.ok_or(Error::NotFound)?;
    let found = all_access(app, &org, &them).await?;
    let rows: Vec<Value> = found
        .iter()
        .map(|(ws, access)| {
            json!({ "id": ws.id, "name": ws.name, "description": ws.description, "role": access.role, "via": access.via })
        })
        .collect();
    ok(&json!({ "workspaces": rows }))
}
