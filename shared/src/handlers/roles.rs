//! The role routes (API.md "Roles and permissions"): the organization's roles, built-in and
//! custom. Owners manage custom roles (`roles:manage`); active members read them, because
//! member lists and role pickers name them.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Acting, acting_input, acting_member, org_id, serve_org};
use crate::App;
use crate::domain::custom_role::{self, CustomRole, RoleKey};
use crate::domain::text::{Description, Name};
use crate::domain::{AuditAction, AuditEvent, Member, Role};
use crate::error::Error;
use crate::http::request::{json_body, path_param};
use crate::http::response::{created, no_content, ok};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    // Each route's future boxed: the largest would otherwise size them all, on the stack.
    serve_org(app, req, |app, who, route, req| async move {
        match route.as_str() {
            "GET /orgs/{orgId}/roles" => Box::pin(list(app, &who, &req)).await,
            "POST /orgs/{orgId}/roles" => Box::pin(create(app, &who, &req)).await,
            "PATCH /orgs/{orgId}/roles/{roleKey}" => Box::pin(update(app, &who, &req)).await,
            "DELETE /orgs/{orgId}/roles/{roleKey}" => Box::pin(delete(app, &who, &req)).await,
            _ => Err(Error::NotFound),
        }
    })
    .await
}

/// `roles:manage` is the owners' (the rank rules; see `permission::ROSTER_PERMISSIONS`).
fn require_manage(me: &Member) -> Result<(), Error> {
    if me.role == Role::Owner { Ok(()) } else { Err(Error::forbidden("only owners may manage roles")) }
}

/// The role the path names: a built-in one is fixed (400), a key of no shape is none (404).
fn role_key(req: &Request) -> Result<RoleKey, Error> {
    let text = path_param(req, "roleKey")?;
    if text.parse::<Role>().is_ok() {
        return Err(Error::invalid_request("built-in roles are fixed"));
    }
    RoleKey::parse(&text).ok_or(Error::NotFound)
}

fn event(app: &App, who: &Acting, action: AuditAction, role: &CustomRole, details: Value) -> AuditEvent {
    AuditEvent::new(app.now(), who.user_id(), action, Some(role.key.to_string()), details)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    key: Option<String>,
    name: Option<String>,
    description: Option<String>,
    base: Option<String>,
    permissions: Option<Vec<String>>,
}

/// What a create or update asks for, parsed.
struct Asked {
    key: Option<RoleKey>,
    name: Option<Name>,
    description: Option<Description>,
    base: Option<Role>,
    permissions: Option<std::collections::BTreeSet<crate::domain::permission::Permission>>,
}

fn asked(app: &App, req: &Request) -> Result<Asked, Error> {
    let body: RoleBody = json_body(req)?;
    let key = body
        .key
        .as_deref()
        .map(|k| {
            RoleKey::parse(k).ok_or_else(|| {
                Error::invalid_request(format!(
                    "key: {k:?} must be [a-z][a-z0-9_-]{{0,31}} and not a built-in role's name"
                ))
            })
        })
        .transpose()?;
    let name = body
        .name
        .map(|n| Name::parse(&n).map_err(|e| Error::invalid_request(format!("name: {e}"))))
        .transpose()?;
    let description = body
        .description
        .map(|d| Description::parse(&d).map_err(|e| Error::invalid_request(format!("description: {e}"))))
        .transpose()?;
    let base = body.base.as_deref().map(custom_role::parse_base).transpose()?;
    let permissions =
        body.permissions.map(|p| custom_role::parse_permissions(&app.catalog, &p)).transpose()?;
    Ok(Asked { key, name, description, base, permissions })
}

async fn list(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let (me, custom) = tokio::join!(acting_member(app, who, &org), app.store.custom_roles(&org));
    me?;
    let mut roles = custom_role::builtin_roles(&app.catalog);
    roles.extend(custom?.iter().map(CustomRole::shown));
    ok(&json!({ "roles": roles }))
}

async fn create(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let input = asked(app, req).and_then(|a| {
        let missing = |field: &str| Error::invalid_request(format!("{field} is required"));
        Ok((
            a.key.ok_or_else(|| missing("key"))?,
            a.name.ok_or_else(|| missing("name"))?,
            a.description.unwrap_or_default(),
            a.base.ok_or_else(|| missing("base"))?,
            a.permissions.ok_or_else(|| missing("permissions"))?,
        ))
    });
    let (key, name, description, base, permissions) =
        acting_input(app, who, &org, input, require_manage).await?;
    let me = acting_member(app, who, &org).await?;
    require_manage(&me)?;
    let now = app.now();
    let role = CustomRole {
        key,
        name,
        description,
        base,
        permissions,
        created_at: now,
        updated_at: now,
        version: 0,
        retiring: false,
    };
    let details = json!({ "name": role.name, "base": role.base, "permissions": role.permissions });
    let event = event(app, who, AuditAction::RoleCreated, &role, details);
    app.store.create_role(&org, &me, &role, &event).await?;
    created(&json!({ "role": role.shown() }))
}

async fn update(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let input = role_key(req).and_then(|key| {
        let a = asked(app, req)?;
        if a.key.is_some() || a.base.is_some() {
            return Err(Error::invalid_request("a role's key and base never change"));
        }
        Ok((key, a))
    });
    let (key, a) = acting_input(app, who, &org, input, require_manage).await?;
    let (me, before) = tokio::join!(acting_member(app, who, &org), app.store.custom_role(&org, &key));
    let me = me?;
    require_manage(&me)?;
    let before = before?.ok_or(Error::NotFound)?;
    let after = CustomRole {
        name: a.name.unwrap_or_else(|| before.name.clone()),
        description: a.description.unwrap_or_else(|| before.description.clone()),
        permissions: a.permissions.unwrap_or_else(|| before.permissions.clone()),
        updated_at: app.now(),
        version: before.version + 1,
        ..before.clone()
    };
    if after.name == before.name
        && after.description == before.description
        && after.permissions == before.permissions
    {
        return ok(&json!({ "role": before.shown() }));
    }
    let details = json!({
        "before": { "name": before.name, "permissions": before.permissions },
        "after": { "name": after.name, "permissions": after.permissions },
    });
    let event = event(app, who, AuditAction::RoleUpdated, &after, details);
    app.store.update_role(&org, &me, &before, &after, &event).await?;
    ok(&json!({ "role": after.shown() }))
}

async fn delete(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let key = acting_input(app, who, &org, role_key(req), require_manage).await?;
    let (me, role) = tokio::join!(acting_member(app, who, &org), app.store.custom_role(&org, &key));
    let me = me?;
    require_manage(&me)?;
    let role = role?.ok_or(Error::NotFound)?;
    let details = json!({ "name": role.name, "base": role.base });
    let event = event(app, who, AuditAction::RoleDeleted, &role, details);
    app.store.delete_role(&org, &me, &role, &event, app.now()).await?;
    no_content()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_manage_roles() {
        use crate::domain::Status;
        assert!(require_manage(&Member::sample(Role::Owner, Status::Active)).is_ok());
        for role in [Role::Admin, Role::Member, Role::Viewer] {
            assert!(require_manage(&Member::sample(role, Status::Active)).is_err());
        }
    }
}
