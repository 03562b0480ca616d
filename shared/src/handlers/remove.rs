//! Removing members (one, many, or oneself), and revoking invitations and invite links.

use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::change_role::ATTEMPTS;
use super::{org_id, serve};
use crate::App;
use crate::domain::{AuditAction, AuditEvent, Caller, InvitationId, LinkId, Member, OrgId, UserId, access};
use crate::error::Error;
use crate::http::request::{json_body, path_param};
use crate::http::response::{no_content, ok};
use crate::store::ChangeError;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, req, |app, caller, route, req| async move {
        match route.as_str() {
            "DELETE /orgs/{orgId}/members/{userId}" => remove_one(app, &caller, &req).await,
            "POST /orgs/{orgId}/members/remove" => remove_many(app, &caller, &req).await,
            "DELETE /orgs/{orgId}/invitations/{invitationId}" => revoke_invitation(app, &caller, &req).await,
            "DELETE /orgs/{orgId}/invite-links/{linkId}" => revoke_link(app, &caller, &req).await,
            _ => Err(Error::NotFound),
        }
    })
    .await
}

async fn remove_one(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let target = UserId::parse(&path_param(req, "userId")?).ok_or(Error::NotFound)?;
    for _ in 0..ATTEMPTS {
        let (me, them) = app.store.membership_pair(&org, &caller.user_id, &target).await?;
        let actor = access::active(me)?;
        let member = them.ok_or(Error::NotFound)?;
        match remove(app, &org, &actor, &member).await {
            Ok(()) => return no_content(),
            Err(ChangeError::Stale) => continue,
            Err(ChangeError::Refused(e)) => return Err(e),
        }
    }
    Err(Error::Conflict("the member keeps changing; retry".into()))
}

/// Removes `member` by `actor`'s authority; when they are the same person, they leave.
async fn remove(app: &App, org: &OrgId, actor: &Member, member: &Member) -> Result<(), ChangeError> {
    let leaving = actor.user_id == member.user_id;
    if !leaving {
        access::require_act_on(actor, member)?;
    }
    let action = if leaving { AuditAction::MemberLeft } else { AuditAction::MemberRemoved };
    let event = AuditEvent::new(
        &actor.user_id,
        action,
        Some(member.user_id.to_string()),
        json!({ "role": member.role, "status": member.status, "email": member.email }),
    );
    app.store.remove_member(org, (!leaving).then_some(actor), member, &event).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RemoveMany {
    user_ids: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RemoveResult {
    user_id: String,
    status: &'static str,
}

async fn remove_many(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let body: RemoveMany = json_body(req)?;
    if body.user_ids.is_empty() || body.user_ids.len() > 100 {
        return Err(Error::invalid_request("userIds must hold 1 to 100 entries"));
    }
    let org = org_id(req)?;
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<&String> = body.user_ids.iter().filter(|id| seen.insert(id.as_str())).collect();
    // The caller and every target in one batch read.
    let mut users: Vec<UserId> = ids.iter().filter_map(|id| UserId::parse(id)).collect();
    users.push(caller.user_id.clone());
    let mut members = app.store.memberships(&org, &users).await?;
    let actor = access::active(members.get(caller.user_id.as_str()).cloned())?;
    access::require_admin(&actor)?;
    let mut results = Vec::with_capacity(ids.len());
    // One after another: every removal updates the organization's counters.
    for id in ids {
        let status = match members.remove(id.as_str()) {
            None => "not_found",
            Some(member) => remove_listed(app, &org, &actor, member).await?,
        };
        results.push(RemoveResult { user_id: id.clone(), status });
    }
    ok(&json!({ "results": results }))
}

async fn remove_listed(
    app: &App,
    org: &OrgId,
    actor: &Member,
    mut member: Member,
) -> Result<&'static str, Error> {
    if member.user_id == actor.user_id {
        // Leaving is its own route; in a bulk removal the caller is not a target.
        return Ok("forbidden");
    }
    for _ in 0..ATTEMPTS {
        match remove(app, org, actor, &member).await {
            Ok(()) => return Ok("removed"),
            Err(ChangeError::Refused(Error::Forbidden(_))) => return Ok("forbidden"),
            Err(ChangeError::Refused(Error::LastOwner)) => return Ok("last_owner"),
            Err(ChangeError::Refused(e)) => return Err(e),
            Err(ChangeError::Stale) => match app.store.membership(org, &member.user_id).await? {
                Some(fresh) => member = fresh,
                None => return Ok("not_found"),
            },
        }
    }
    Err(Error::Conflict("members keep changing; retry".into()))
}

async fn revoke_invitation(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let id = InvitationId::parse(&path_param(req, "invitationId")?).ok_or(Error::NotFound)?;
    let (membership, _, stored) = app.store.invitation_with_context(&org, &caller.user_id, &id).await?;
    let actor = access::active(membership)?;
    access::require_admin(&actor)?;
    let stored = stored.ok_or(Error::NotFound)?;
    access::require_grant(&actor, stored.invitation.role)?;
    let event = AuditEvent::new(
        &actor.user_id,
        AuditAction::InvitationRevoked,
        Some(id.to_string()),
        json!({ "email": stored.invitation.email, "role": stored.invitation.role }),
    );
    app.store.revoke_invitation(&org, &actor, &stored, &event).await?;
    no_content()
}

async fn revoke_link(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let id = LinkId::parse(&path_param(req, "linkId")?).ok_or(Error::NotFound)?;
    let (membership, link) = app.store.link_with_member(&org, &caller.user_id, &id).await?;
    let actor = access::active(membership)?;
    access::require_admin(&actor)?;
    let (link, hash) = link.ok_or(Error::NotFound)?;
    access::require_grant(&actor, link.role)?;
    let event = AuditEvent::new(
        &actor.user_id,
        AuditAction::LinkRevoked,
        Some(id.to_string()),
        json!({ "role": link.role, "uses": link.uses }),
    );
    app.store.revoke_link(&org, &actor, &link, &hash, &event).await?;
    no_content()
}
