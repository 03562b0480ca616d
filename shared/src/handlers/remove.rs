//! Removing members (one, many, or oneself), and revoking invitations and invite links.

use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::change_role::ATTEMPTS;
use super::{Acting, acting_input, org_id, serve_org};
use crate::App;
use crate::domain::{
    AuditAction, AuditEvent, InvitationId, LinkId, Member, OrgId, Role, Timestamp, UserId, access,
};
use crate::error::Error;
use crate::http::request::{json_body, path_param};
use crate::http::response::{no_content, ok};
use crate::store::{BulkRemoval, ChangeError};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve_org(app, req, |app, who, route, req| async move {
        match route.as_str() {
            "DELETE /orgs/{orgId}/members/{userId}" => remove_one(app, &who, &req).await,
            "POST /orgs/{orgId}/members/remove" => remove_many(app, &who, &req).await,
            "DELETE /orgs/{orgId}/invitations/{invitationId}" => revoke_invitation(app, &who, &req).await,
            "DELETE /orgs/{orgId}/invite-links/{linkId}" => revoke_link(app, &who, &req).await,
            "DELETE /orgs/{orgId}" => delete_org(app, &who, &req).await,
            _ => Err(Error::NotFound),
        }
    })
    .await
}

/// Deletes the organization (owners): from this answer on it is gone for everyone; its
/// items are removed afterwards (see `store::purge`).
async fn delete_org(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let now = app.now();
    let org = org_id(req)?;
    for _ in 0..ATTEMPTS {
        let (found, me) = app.store.org_and_membership(&org, who.user_id()).await?;
        let actor = who.member(app, &org, me).await?;
        if actor.role != Role::Owner {
            return Err(Error::forbidden("only an owner may delete the organization"));
        }
        let found = found.ok_or(Error::NotFound)?;
        let event = AuditEvent::new(
            now,
            &actor.user_id,
            AuditAction::OrgDeleted,
            Some(org.to_string()),
            json!({ "name": found.name, "memberCount": found.member_count }),
        );
        match app.store.delete_org(&found, &actor, &event, now).await {
            Ok(()) => return no_content(),
            Err(ChangeError::Stale) => continue,
            Err(ChangeError::Refused(e)) => return Err(e),
        }
    }
    Err(Error::Conflict("the organization keeps changing; retry".into()))
}

async fn remove_one(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let now = app.now();
    let org = org_id(req)?;
    let target = UserId::parse(&path_param(req, "userId")?).ok_or(Error::NotFound)?;
    for _ in 0..ATTEMPTS {
        let (me, them) = app.store.membership_pair(&org, who.user_id(), &target).await?;
        let actor = who.member(app, &org, me).await?;
        let member = them.ok_or(Error::NotFound)?;
        match remove(app, &org, &actor, &member, now).await {
            Ok(()) => return no_content(),
            Err(ChangeError::Stale) => continue,
            Err(ChangeError::Refused(e)) => return Err(e),
        }
    }
    Err(Error::Conflict("the member keeps changing; retry".into()))
}

/// May `actor` remove `member`? Anyone may leave (a suspended member cannot act at all, and
/// is refused before this); others go by rank.
fn authorize_removal(actor: &Member, member: &Member) -> Result<(), Error> {
    if actor.user_id == member.user_id { Ok(()) } else { access::require_act_on(actor, member) }
}

fn removal_event(now: Timestamp, actor: &Member, member: &Member) -> AuditEvent {
    let action =
        if actor.user_id == member.user_id { AuditAction::MemberLeft } else { AuditAction::MemberRemoved };
    AuditEvent::new(
        now,
        &actor.user_id,
        action,
        Some(member.user_id.to_string()),
        json!({ "role": member.role, "status": member.status, "email": member.email }),
    )
}

/// Removes `member` by `actor`'s authority; when they are the same person, they leave.
async fn remove(
    app: &App,
    org: &OrgId,
    actor: &Member,
    member: &Member,
    now: Timestamp,
) -> Result<(), ChangeError> {
    authorize_removal(actor, member)?;
    let leaving = actor.user_id == member.user_id;
    let event = removal_event(now, actor, member);
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
    /// With `failed`: the problem code of what stopped this removal.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
}

/// The distinct user ids of a bulk removal, in request order.
fn bulk_ids(req: &Request) -> Result<Vec<String>, Error> {
    let body: RemoveMany = json_body(req)?;
    if body.user_ids.is_empty() || body.user_ids.len() > 100 {
        return Err(Error::invalid_request("userIds must hold 1 to 100 entries"));
    }
    let mut seen = std::collections::HashSet::new();
    Ok(body.user_ids.into_iter().filter(|id| seen.insert(id.clone())).collect())
}

async fn remove_many(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let now = app.now();
    let org = org_id(req)?;
    let ids = acting_input(app, who, &org, bulk_ids(req), access::require_admin).await?;
    // The caller and every target in one read pass.
    let mut users: Vec<UserId> = ids.iter().filter_map(|id| UserId::parse(id)).collect();
    users.push(who.user_id().clone());
    let mut members = app.store.memberships(&org, &users).await?;
    let actor = access::active(members.get(who.user_id().as_str()).cloned())?;
    access::require_admin(&actor)?;

    // Decide each target on what was read; those to remove go in as few transactions as fit.
    let mut results: Vec<RemoveResult> = Vec::with_capacity(ids.len());
    let mut removals = Vec::new();
    let mut removal_rows = Vec::new();
    for id in ids {
        let status = match members.remove(id.as_str()) {
            None => "not_found",
            // Leaving is its own route; in a bulk removal the caller is not a target.
            Some(member) if member.user_id == actor.user_id => "forbidden",
            Some(member) if authorize_removal(&actor, &member).is_err() => "forbidden",
            Some(member) => {
                let event = removal_event(now, &actor, &member);
                removals.push((member, event));
                removal_rows.push(results.len());
                "removed"
            }
        };
        results.push(RemoveResult { user_id: id, status, code: None });
    }
    let outcomes = app.store.remove_members(&org, &actor, &removals).await;
    // A chunk that could not go as planned (a member changed, the last owner): one by one.
    for ((row, (member, _)), outcome) in removal_rows.into_iter().zip(removals).zip(outcomes) {
        let result = &mut results[row];
        let settled = match outcome {
            BulkRemoval::Removed => Ok("removed"),
            BulkRemoval::Failed(e) => Err(e),
            BulkRemoval::Undecided => remove_listed(app, &org, &actor, member, now).await,
        };
        match settled {
            Ok(status) => result.status = status,
            Err(e) => {
                result.status = "failed";
                result.code = Some(e.code());
            }
        }
    }
    ok(&json!({ "results": results }))
}

async fn remove_listed(
    app: &App,
    org: &OrgId,
    actor: &Member,
    mut member: Member,
    now: Timestamp,
) -> Result<&'static str, Error> {
    for _ in 0..ATTEMPTS {
        match remove(app, org, actor, &member, now).await {
            Ok(()) => return Ok("removed"),
            Err(ChangeError::Refused(Error::Forbidden(_))) => return Ok("forbidden"),
            Err(ChangeError::Refused(Error::LastOwner)) => return Ok("last_owner"),
            Err(ChangeError::Refused(e)) => return Err(e),
            Err(ChangeError::Stale) => {
                let (me, them) = app.store.membership_pair(org, &actor.user_id, &member.user_id).await?;
                match (me.filter(|m| m == actor), them) {
                    (None, _) => return Ok("forbidden"),
                    (_, None) => return Ok("not_found"),
                    (_, Some(fresh)) => member = fresh,
                }
            }
        }
    }
    Err(Error::Conflict("members keep changing; retry".into()))
}

async fn revoke_invitation(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let now = app.now();
    let org = org_id(req)?;
    let id = InvitationId::parse(&path_param(req, "invitationId")?).ok_or(Error::NotFound)?;
    for _ in 0..ATTEMPTS {
        let (membership, _, stored) = app.store.invitation_with_context(&org, who.user_id(), &id).await?;
        let actor = who.member(app, &org, membership).await?;
        access::require_admin(&actor)?;
        let stored = stored.ok_or(Error::NotFound)?;
        access::require_grant(&actor, stored.invitation.role)?;
        let event = AuditEvent::new(
            now,
            &actor.user_id,
            AuditAction::InvitationRevoked,
            Some(id.to_string()),
            json!({ "email": stored.invitation.email, "role": stored.invitation.role }),
        );
        // Stale: resent, accepted or revoked meanwhile; read again (a resent one is revoked
        // with its new token, a gone one is 404).
        match app.store.revoke_invitation(&org, &actor, &stored, &event).await {
            Ok(()) => return no_content(),
            Err(ChangeError::Stale) => continue,
            Err(ChangeError::Refused(e)) => return Err(e),
        }
    }
    Err(Error::Conflict("the invitation keeps changing; retry".into()))
}

async fn revoke_link(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let id = LinkId::parse(&path_param(req, "linkId")?).ok_or(Error::NotFound)?;
    let (membership, link) = app.store.link_with_member(&org, who.user_id(), &id).await?;
    let actor = who.member(app, &org, membership).await?;
    access::require_admin(&actor)?;
    let (link, hash) = link.ok_or(Error::NotFound)?;
    access::require_grant(&actor, link.role)?;
    let event = AuditEvent::new(
        app.now(),
        &actor.user_id,
        AuditAction::LinkRevoked,
        Some(id.to_string()),
        json!({ "role": link.role, "uses": link.uses }),
    );
    app.store.revoke_link(&org, &actor, &link, &hash, &event).await?;
    no_content()
}
