//! The group routes: groups of an organization's members, and who is in them (API.md
//! "Workspaces and groups"). Organization admins and owners manage them; active members
//! read them.

use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Acting, acting_input, acting_member, after, next_cursor, org_id, serve_org};
use crate::App;
use crate::domain::text::{Description, Name};
use crate::domain::workspace::{self, Group, GroupMember};
use crate::domain::{AuditAction, AuditEvent, GroupId, Member, Role, Status, Timestamp, UserId, access};
use crate::error::Error;
use crate::http::request::{json_body, page_limit, path_param};
use crate::http::response::{created, list, no_content, ok};
use crate::store::workspaces::WorkspaceWriteError;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    // Each route's future boxed: the largest would otherwise size them all, on the stack.
    serve_org(app, req, |app, who, route, req| async move {
        match route.as_str() {
            "POST /orgs/{orgId}/groups" => Box::pin(create(app, &who, &req)).await,
            "GET /orgs/{orgId}/groups" => Box::pin(list_groups(app, &who, &req)).await,
            "GET /orgs/{orgId}/groups/{groupId}" => Box::pin(get(app, &who, &req)).await,
            "PATCH /orgs/{orgId}/groups/{groupId}" => Box::pin(update(app, &who, &req)).await,
            "DELETE /orgs/{orgId}/groups/{groupId}" => Box::pin(delete(app, &who, &req)).await,
            "GET /orgs/{orgId}/groups/{groupId}/members" => Box::pin(members(app, &who, &req)).await,
            "PUT /orgs/{orgId}/groups/{groupId}/members/{userId}" => {
                Box::pin(add_member(app, &who, &req)).await
            }
            "DELETE /orgs/{orgId}/groups/{groupId}/members/{userId}" => {
                Box::pin(remove_member(app, &who, &req)).await
            }
            _ => Err(Error::NotFound),
        }
    })
    .await
}

const ATTEMPTS: usize = 4;

fn group_id(req: &Request) -> Result<GroupId, Error> {
    GroupId::parse(&path_param(req, "groupId")?).ok_or(Error::NotFound)
}

fn user_id(req: &Request) -> Result<UserId, Error> {
    UserId::parse(&path_param(req, "userId")?).ok_or(Error::NotFound)
}

fn stale() -> Error {
    Error::Conflict("the group is being changed by other requests; retry".to_owned())
}

fn event(app: &App, who: &Acting, action: AuditAction, target: String, details: Value) -> AuditEvent {
    AuditEvent::new(app.now(), who.user_id(), action, Some(target), details)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupBody {
    name: Option<String>,
    description: Option<String>,
}

fn parse(body: GroupBody) -> Result<(Option<Name>, Option<Description>), Error> {
    let name = body
        .name
        .map(|n| Name::parse(&n).map_err(|e| Error::invalid_request(format!("name: {e}"))))
        .transpose()?;
    let description = body
        .description
        .map(|d| Description::parse(&d).map_err(|e| Error::invalid_request(format!("description: {e}"))))
        .transpose()?;
    Ok((name, description))
}

async fn create(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let input = json_body::<GroupBody>(req).and_then(parse).and_then(|(name, description)| {
        Ok((name.ok_or_else(|| Error::invalid_request("name is required"))?, description.unwrap_or_default()))
    });
    let (name, description) = acting_input(app, who, &org, input, workspace::require_org_admin).await?;
    let me = acting_member(app, who, &org).await?;
    workspace::require_org_admin(&me)?;
    let group = workspace::new_group(name, description, app.now());
    let event =
        event(app, who, AuditAction::GroupCreated, group.id.to_string(), json!({ "name": group.name }));
    app.store.create_group(&org, &me, &group, &event).await?;
    created(&json!({ "group": group }))
}

async fn list_groups(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let scope = format!("groups:{org}");
    let input = page_limit(req).and_then(|limit| Ok((limit, after(app, req, &scope)?)));
    let (limit, start) = acting_input(app, who, &org, input, access::require_member).await?;
    let (me, page) = tokio::join!(acting_member(app, who, &org), app.store.groups(&org, limit, start));
    me?;
    let page = page?;
    list("groups", &page.items, next_cursor(app, &scope, page.last_key)?)
}

/// The caller (an active member), the group (404 when absent) and `target`'s membership and
/// place in it, in one read.
struct Seen {
    me: Member,
    group: Group,
    target: Option<Member>,
    place: Option<GroupMember>,
}

async fn see(app: &App, who: &Acting, req: &Request, target: Option<&UserId>) -> Result<Seen, Error> {
    let (org, id) = (org_id(req)?, group_id(req)?);
    let mut users = vec![who.user_id()];
    users.extend(target.filter(|t| *t != who.user_id()));
    let (group, members, places) = app.store.group_read(&org, &id, &users).await?;
    let find = |user: &UserId| members.iter().find(|m| &m.user_id == user).cloned();
    let me = who.member(app, &org, find(who.user_id())).await?;
    let group = group.ok_or(Error::NotFound)?;
    let target_member = target.and_then(find);
    let place = target.and_then(|t| places.into_iter().find(|p| &p.user_id == t));
    Ok(Seen { me, group, target: target_member, place })
}

async fn get(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let seen = see(app, who, req, None).await?;
    ok(&json!({ "group": seen.group }))
}

async fn update(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let input = json_body::<GroupBody>(req).and_then(parse);
    let (name, description) = match input {
        Ok(input) => input,
        Err(e) => {
            workspace::require_org_admin(&see(app, who, req, None).await?.me)?;
            return Err(e);
        }
    };
    for _ in 0..ATTEMPTS {
        let seen = see(app, who, req, None).await?;
        workspace::require_org_admin(&seen.me)?;
        let before = seen.group;
        let mut after = before.clone();
        if let Some(name) = name.clone() {
            after.name = name;
        }
        if let Some(description) = description.clone() {
            after.description = description;
        }
        if after == before {
            return ok(&json!({ "group": before }));
        }
        let event =
            event(app, who, AuditAction::GroupUpdated, before.id.to_string(), changes(&before, &after));
        match app.store.update_group(&org, &seen.me, &before, &after, &event).await {
            Ok(()) => {
                after.version += 1;
                return ok(&json!({ "group": after }));
            }
            Err(WorkspaceWriteError::Stale) => continue,
            Err(WorkspaceWriteError::Refused(e)) => return Err(e),
        }
    }
    Err(stale())
}

/// What an update changed, field by field: `{before: {...}, after: {...}}`.
fn changes(before: &Group, after: &Group) -> Value {
    let (mut was, mut is) = (json!({}), json!({}));
    if before.name != after.name {
        (was["name"], is["name"]) = (json!(before.name), json!(after.name));
    }
    if before.description != after.description {
        (was["description"], is["description"]) = (json!(before.description), json!(after.description));
    }
    json!({ "before": was, "after": is })
}

async fn delete(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    for _ in 0..ATTEMPTS {
        let seen = see(app, who, req, None).await?;
        workspace::require_org_admin(&seen.me)?;
        let event = event(
            app,
            who,
            AuditAction::GroupDeleted,
            seen.group.id.to_string(),
            json!({ "name": seen.group.name }),
        );
        match app.store.delete_group(&org, &seen.me, &seen.group, &event, app.now()).await {
            Ok(()) => return no_content(),
            Err(WorkspaceWriteError::Stale) => continue,
            Err(WorkspaceWriteError::Refused(e)) => return Err(e),
        }
    }
    Err(stale())
}

/// A row of a group's member list.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Row<'a> {
    user_id: &'a UserId,
    name: Option<&'a str>,
    email: Option<&'a str>,
    role: Role,
    status: Status,
    added_at: Timestamp,
}

fn row<'a>(member: &'a Member, place: &'a GroupMember) -> Row<'a> {
    Row {
        user_id: &member.user_id,
        name: member.name.as_ref().map(|n| n.as_str()),
        email: member.email.as_ref().map(|e| e.as_str()),
        role: member.role,
        status: member.status,
        added_at: place.added_at,
    }
}

async fn members(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let (org, id) = (org_id(req)?, group_id(req)?);
    let scope = format!("group-members:{org}:{id}");
    let input = page_limit(req).and_then(|limit| Ok((limit, after(app, req, &scope)?)));
    let (limit, start) = match input {
        Ok(input) => input,
        Err(e) => {
            see(app, who, req, None).await?;
            return Err(e);
        }
    };
    let (seen, page) =
        tokio::join!(see(app, who, req, None), app.store.group_members(&org, &id, limit, start));
    seen?;
    let page = page?;
    let users: Vec<UserId> = page.items.iter().map(|p| p.user_id.clone()).collect();
    let memberships = app.store.memberships(&org, &users).await?;
    let rows: Vec<Row> = page
        .items
        .iter()
        .filter_map(|place| {
            let member = memberships.get(place.user_id.as_str())?;
            // A place of an earlier joining (removed, then invited again) is no membership.
            (member.generation == place.generation && member.groups.contains(&place.group_id))
                .then(|| row(member, place))
        })
        .collect();
    list("members", &rows, next_cursor(app, &scope, page.last_key)?)
}

async fn add_member(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let target_id = user_id(req)?;
    for _ in 0..ATTEMPTS {
        let seen = see(app, who, req, Some(&target_id)).await?;
        workspace::require_org_admin(&seen.me)?;
        let target = seen.target.as_ref().ok_or(Error::NotFound)?;
        let stale_place = match &seen.place {
            Some(place)
                if place.generation == target.generation && target.groups.contains(&place.group_id) =>
            {
                return ok(&json!({ "member": row(target, place) }));
            }
            other => other.as_ref(),
        };
        let place = GroupMember {
            group_id: seen.group.id.clone(),
            user_id: target_id.clone(),
            generation: target.generation.clone(),
            added_at: app.now(),
            added_by: seen.me.user_id.clone(),
        };
        let event = event(
            app,
            who,
            AuditAction::GroupMemberAdded,
            target_id.to_string(),
            json!({ "groupId": seen.group.id, "groupName": seen.group.name }),
        );
        match app.store.add_group_member(&org, &seen.me, target, &place, stale_place, &event).await {
            Ok(()) => return created(&json!({ "member": row(target, &place) })),
            Err(WorkspaceWriteError::Stale) => continue,
            Err(WorkspaceWriteError::Refused(e)) => return Err(e),
        }
    }
    Err(stale())
}

async fn remove_member(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let target_id = user_id(req)?;
    for _ in 0..ATTEMPTS {
        let seen = see(app, who, req, Some(&target_id)).await?;
        workspace::require_org_admin(&seen.me)?;
        let place = seen.place.as_ref().ok_or(Error::NotFound)?;
        let event = event(
            app,
            who,
            AuditAction::GroupMemberRemoved,
            target_id.to_string(),
            json!({ "groupId": seen.group.id, "groupName": seen.group.name }),
        );
        match app.store.remove_group_member(&org, &seen.me, seen.target.as_ref(), place, &event).await {
            Ok(()) => return no_content(),
            Err(WorkspaceWriteError::Stale) => continue,
            Err(WorkspaceWriteError::Refused(e)) => return Err(e),
        }
    }
    Err(stale())
}
