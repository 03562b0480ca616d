//! Changing a member's role or status, and transferring ownership.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Acting, Roles, acting_input, org_id, serve_org};
use crate::App;
use crate::domain::custom_role::RoleName;
use crate::domain::{
    AuditAction, AuditEvent, Email, Member, Metadata, Org, OrgId, OrgName, Role, Status, Timestamp, UserId,
    access, standing,
};
use crate::error::Error;
use crate::http::request::{json_body, path_param};
use crate::http::response::{created, ok};
use crate::store::{ChangeError, SeatClaim};

/// A membership write that found the membership changed is decided again on fresh reads.
pub(crate) const ATTEMPTS: usize = 4;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve_org(app, req, |app, who, route, req| async move {
        match route.as_str() {
            "PATCH /orgs/{orgId}/members/{userId}" => change(app, &who, &req).await,
            "POST /orgs/{orgId}/transfer-ownership" => transfer(app, &who, &req).await,
            "PATCH /orgs/{orgId}" => update_org(app, &who, &req).await,
            "POST /orgs/{orgId}/members" => add(app, &who, &req).await,
            _ => Err(Error::NotFound),
        }
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeRequest {
    role: Option<String>,
    status: Option<String>,
    metadata: Option<Metadata>,
}

/// What a change asks for; each part may be absent.
struct Requested {
    role: Option<RoleName>,
    status: Option<Status>,
    metadata: Option<Metadata>,
}

/// The rules of API.md for changing `target` to `after` (role, status, metadata).
/// Self-changes of role or status are allowed only to an owner stepping down, and of
/// metadata only to an owner (metadata is the product's, set by rank like a role); the
/// last-owner guard is the store's condition.
pub(crate) fn authorize_change(actor: &Member, target: &Member, after: &Member) -> Result<(), Error> {
    let (role, status) = (after.role, after.status);
    if actor.user_id == target.user_id {
        let stepping_down = actor.role == Role::Owner && status == target.status && role <= Role::Owner;
        let same_role = role == target.role && after.custom_role == target.custom_role;
        if !stepping_down && (!same_role || status != target.status) {
            return Err(Error::forbidden(
                "you cannot change your own role or status, except an owner stepping down",
            ));
        }
        if after.metadata != target.metadata && actor.role != Role::Owner {
            return Err(Error::forbidden("only an owner may change their own metadata"));
        }
        return Ok(());
    }
    access::require_act_on(actor, target)?;
    if role != target.role {
        access::require_grant(actor, role)?;
    }
    Ok(())
}

fn requested(req: &Request) -> Result<Requested, Error> {
    let body: ChangeRequest = json_body(req)?;
    let role = body.role.as_deref().map(RoleName::parse).transpose()?;
    let status = body
        .status
        .as_deref()
        .map(|s| s.parse::<Status>().map_err(|e| Error::invalid_request(e.to_string())))
        .transpose()?;
    Ok(Requested { role, status, metadata: body.metadata })
}

async fn change(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let now = app.now();
    let org = org_id(req)?;
    let wanted = acting_input(app, who, &org, requested(req), access::require_member).await?;
    let target_id = UserId::parse(&path_param(req, "userId")?).ok_or(Error::NotFound)?;
    for _ in 0..ATTEMPTS {
        let (pair, roles) = tokio::join!(
            app.store.membership_pair(&org, who.user_id(), &target_id),
            Roles::read(app, &org, wanted.role.as_ref())
        );
        let (me, them) = pair?;
        let actor = who.member(app, &org, me).await?;
        // A role the organization lacks is bad input, answered before the target is looked up
        // (as a malformed role is).
        let assigned = wanted.role.as_ref().map(|name| roles?.resolve(name)).transpose()?;
        let before = them.ok_or(Error::NotFound)?;
        let after = Member {
            role: assigned.as_ref().map_or(before.role, |a| a.base),
            custom_role: assigned.map_or_else(|| before.custom_role.clone(), |a| a.custom),
            status: wanted.status.unwrap_or(before.status),
            metadata: wanted.metadata.clone().unwrap_or_else(|| before.metadata.clone()),
            ..before.clone()
        };
        authorize_change(&actor, &before, &after)?;
        if after.role != before.role {
            access::require_grantable(app.config.single_owner, after.role)?;
        }
        if after == before {
            return ok(&json!({ "member": before }));
        }
        let after = standing::after_change(&before, after).next_version(now);
        let events = change_events(now, &actor.user_id, &before, &after);
        let seats = reactivation_seats(app, &org, (&before, &after), now).await?;
        match app.store.change_member(&org, &actor, &before, &after, &events, seats).await {
            Ok(()) => return ok(&json!({ "member": after })),
            Err(ChangeError::Stale) => continue,
            Err(ChangeError::Refused(e)) => return Err(e),
        }
    }
    Err(Error::Conflict("the member keeps changing; retry".into()))
}

fn change_events(now: Timestamp, actor: &UserId, before: &Member, after: &Member) -> Vec<AuditEvent> {
    let target = Some(after.user_id.to_string());
    let mut events = Vec::new();
    if before.role != after.role || before.custom_role != after.custom_role {
        let mut details = json!({ "from": before.role, "to": after.role });
        if before.custom_role.is_some() || after.custom_role.is_some() {
            details["fromCustomRole"] = json!(before.custom_role);
            details["toCustomRole"] = json!(after.custom_role);
        }
        events.push(AuditEvent::new(now, actor, AuditAction::MemberRoleChanged, target.clone(), details));
    }
    if before.status != after.status {
        let action = match after.status {
            Status::Suspended => AuditAction::MemberSuspended,
            Status::Active => AuditAction::MemberReactivated,
        };
        events.push(AuditEvent::new(now, actor, action, target.clone(), json!({ "role": after.role })));
    }
    if before.metadata != after.metadata {
        events.push(AuditEvent::new(
            now,
            actor,
            AuditAction::MemberUpdated,
            target,
            json!({ "before": { "metadata": before.metadata }, "after": { "metadata": after.metadata } }),
        ));
    }
    events
}

/// Reactivating takes a seat: with a seat limit, count and condition the write on the count.
async fn reactivation_seats(
    app: &App,
    org: &OrgId,
    (before, after): (&Member, &Member),
    now: Timestamp,
) -> Result<Option<SeatClaim>, Error> {
    let (Some(max), true) = (app.config.max_members, !before.is_active() && after.is_active()) else {
        return Ok(None);
    };
    let seats = app.store.seats(org, now).await?;
    if !seats.fit(1, max) {
        return Err(Error::SeatLimit);
    }
    Ok(Some(SeatClaim::members(seats, max, 1)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgChangeRequest {
    name: Option<String>,
    metadata: Option<Metadata>,
}

fn org_changes(req: &Request) -> Result<(Option<OrgName>, Option<Metadata>), Error> {
    let body: OrgChangeRequest = json_body(req)?;
    let name = body
        .name
        .as_deref()
        .map(|n| OrgName::parse(n).map_err(|e| Error::invalid_request(e.to_string())))
        .transpose()?;
    Ok((name, body.metadata))
}

/// Renames the organization or replaces its metadata (admins and owners). The write is
/// conditioned on the organization being as read, so its audit event's `before` is exact.
async fn update_org(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let now = app.now();
    let org = org_id(req)?;
    let (name, metadata) = acting_input(app, who, &org, org_changes(req), access::require_admin).await?;
    for _ in 0..ATTEMPTS {
        let (found, me) = app.store.org_and_membership(&org, who.user_id()).await?;
        let actor = who.member(app, &org, me).await?;
        access::require_admin(&actor)?;
        let before = found.ok_or(Error::NotFound)?;
        let after = Org {
            name: name.clone().unwrap_or_else(|| before.name.clone()),
            metadata: metadata.clone().unwrap_or_else(|| before.metadata.clone()),
            ..before.clone()
        };
        if after == before {
            return ok(&json!({ "org": before }));
        }
        let after = Org { version: before.version + 1, ..after };
        let (mut was, mut now_is) = (json!({}), json!({}));
        if before.name != after.name {
            (was["name"], now_is["name"]) = (json!(before.name), json!(after.name));
        }
        if before.metadata != after.metadata {
            (was["metadata"], now_is["metadata"]) = (json!(before.metadata), json!(after.metadata));
        }
        let event = AuditEvent::new(
            now,
            &actor.user_id,
            AuditAction::OrgUpdated,
            Some(org.to_string()),
            json!({ "before": was, "after": now_is }),
        );
        match app.store.update_org(&before, &after, &actor, &event).await {
            Ok(()) => return ok(&json!({ "org": after })),
            Err(ChangeError::Stale) => continue,
            Err(ChangeError::Refused(e)) => return Err(e),
        }
    }
    Err(Error::Conflict("the organization keeps changing; retry".into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TransferRequest {
    user_id: String,
    /// A service's only: the owner who hands over (a person hands over their own ownership).
    from_user_id: Option<String>,
}

async fn transfer(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let now = app.now();
    let org = org_id(req)?;
    let body: TransferRequest = acting_input(app, who, &org, json_body(req), access::require_owner).await?;
    let target_id = UserId::parse(&body.user_id).ok_or(Error::NotFound)?;
    // Whose ownership goes: the caller's own, or for a service the owner it names.
    let from_id = match (who, body.from_user_id.as_deref()) {
        (Acting::Person(_), None) => None,
        (Acting::Person(_), Some(_)) => {
            return Err(Error::invalid_request(
                "fromUserId is for services: you hand over your own ownership",
            ));
        }
        (Acting::Service(_), Some(from)) => {
            Some(UserId::person(from).ok_or_else(|| Error::invalid_request("fromUserId names no user"))?)
        }
        (Acting::Service(_), None) => {
            return Err(Error::invalid_request("a service names the owner who hands over: fromUserId"));
        }
    };
    for _ in 0..ATTEMPTS {
        let (actor, from, to) = match &from_id {
            None => {
                let (me, them) = app.store.membership_pair(&org, who.user_id(), &target_id).await?;
                let from = who.member(app, &org, me).await?;
                (from.clone(), from, them)
            }
            Some(from_id) => {
                let (from, them) = app.store.membership_pair(&org, from_id, &target_id).await?;
                let actor = who.member(app, &org, None).await?;
                let from = from.ok_or(Error::NotFound)?;
                if !from.is_active_owner() {
                    return Err(Error::Conflict("fromUserId is no active owner".into()));
                }
                (actor, from, them)
            }
        };
        access::require_owner(&actor)?;
        access::require_owner(&from)?;
        if target_id == from.user_id {
            return Err(Error::invalid_request("you cannot transfer ownership to yourself"));
        }
        let to = to.ok_or(Error::NotFound)?;
        if !to.is_active() {
            return Err(Error::Conflict("ownership can only go to an active member".into()));
        }
        // The old owner is demoted: their standing rises like at every demotion (API.md), so
        // everything they vouched for ends with the transfer, and handing ownership back can
        // never revive it. Counted for the record, as of this read (the join's own check is
        // what enforces it).
        let ended = app.store.vouched_for(&org, &from, now).await?;
        let from_after =
            standing::after_change(&from, Member { role: Role::Admin, custom_role: None, ..from.clone() })
                .next_version(now);
        // Ownership is a built-in role: a custom role the new owner held ends with it.
        let to_after = Member { role: Role::Owner, custom_role: None, ..to.clone() }.next_version(now);
        let event = AuditEvent::new(
            now,
            &actor.user_id,
            AuditAction::OwnershipTransferred,
            Some(to.user_id.to_string()),
            json!({
                "from": from.user_id,
                "to": to.user_id,
                "previousRole": to.role,
                "endedInvitations": ended.invitations,
                "endedLinks": ended.links,
            }),
        );
        match app.store.transfer_ownership(&org, &actor, (&from, &from_after), (&to, &to_after), &event).await
        {
            Ok(()) => return ok(&json!({ "from": from_after, "to": to_after })),
            Err(ChangeError::Stale) => continue,
            Err(ChangeError::Refused(e)) => return Err(e),
        }
    }
    Err(Error::Conflict("the members keep changing; retry".into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AddRequest {
    user_id: String,
    email: Option<String>,
    name: Option<String>,
    role: String,
}

/// `POST /orgs/{orgId}/members`, for services holding `roster/admin` only (API Gateway's
/// scope on the route, and here): a known user becomes a member at once, in any role the
/// service (an owner) may grant, custom ones included. The address is display-only: it
/// claims no slot and proves nothing, until the user's own token does. Here rather than in
/// a function of its own: like a role change it sets a membership's role, and this
/// function's role already allows every write it takes (the membership, the counters, the
/// one-org lock, the custom role's check).
async fn add(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    if let Acting::Person(_) = who {
        return Err(Error::forbidden("this route is for services"));
    }
    let now = app.now();
    let org = org_id(req)?;
    let body: AddRequest = acting_input(app, who, &org, json_body(req), access::require_admin).await?;
    let user_id =
        UserId::person(&body.user_id).ok_or_else(|| Error::invalid_request("userId names no user"))?;
    let email = body.email.as_deref().map(Email::parse).transpose().map_err(|_| Error::InvalidEmail)?;
    let name = super::service_display_name(body.name.as_deref(), "name")?;
    let role = RoleName::parse(&body.role)?;
    for _ in 0..ATTEMPTS {
        let (roles, actor) = tokio::join!(Roles::read(app, &org, [&role]), who.member(app, &org, None));
        let actor = actor?;
        let assigned = roles?.resolve(&role)?;
        access::require_grant(&actor, assigned.base)?;
        access::require_grantable(app.config.single_owner, assigned.base)?;
        let member = Member::joining(
            user_id.clone(),
            email.clone(),
            name.clone(),
            assigned.base,
            now,
            Some(actor.user_id.clone()),
            Metadata::default(),
        )
        .with_custom_role(assigned.custom);
        let seats = match app.config.max_members {
            None => None,
            Some(max) => {
                let seats = app.store.seats(&org, now).await?;
                if !seats.fit(1, max) {
                    return Err(Error::SeatLimit);
                }
                Some(SeatClaim::members(seats, max, 1))
            }
        };
        let event = added_event(now, &actor, &member, json!({}));
        let one_org = app.config.one_org_per_user;
        match app.store.add_member(&org, &actor, &member, &event, one_org, seats).await {
            Ok(()) => return created(&json!({ "member": member })),
            Err(ChangeError::Stale) => continue,
            Err(ChangeError::Refused(e)) => return Err(e),
        }
    }
    Err(Error::Conflict("the organization's seats keep changing; retry".into()))
}

/// `member.added` for `member` added directly by `actor` (not by an invitation): who, in which
/// role, at which address, and whatever `more` the way of adding records.
pub(crate) fn added_event(now: Timestamp, actor: &Member, member: &Member, more: Value) -> AuditEvent {
    let mut details = json!({ "userId": member.user_id, "role": member.role, "email": member.email });
    if let Some(custom) = &member.custom_role {
        details["customRole"] = json!(custom);
    }
    if let (Some(details), Value::Object(more)) = (details.as_object_mut(), more) {
        details.extend(more);
    }
    AuditEvent::new(now, &actor.user_id, AuditAction::MemberAdded, Some(member.user_id.to_string()), details)
}
