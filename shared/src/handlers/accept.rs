//! The invitee's side: preview a token, accept it, or decline an email invitation.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::serve;
use crate::App;
use crate::domain::token::Token;
use crate::domain::{AuditAction, AuditEvent, Caller, Member, Org, Status, Timestamp, UserId, standing};
use crate::error::Error;
use crate::http::request::{json_body, route_key};
use crate::http::response::{no_content, ok, respond};
use crate::store::{AcceptOutcome, OrgLock, SeatClaim, Slot, TokenKind, TokenRecord};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    // Preview needs no sign-in: it answers with or without a caller.
    const PREVIEW: &str = "POST /invitations/preview";
    if route_key(&req).as_deref() == Some(PREVIEW) {
        return respond(Some(PREVIEW), preview(app, &req).await);
    }
    serve(app, req, |app, caller, route, req| async move {
        match route.as_str() {
            "POST /invitations/accept" => accept(app, &caller, &req).await,
            "POST /invitations/decline" => decline(app, &caller, &req).await,
            _ => Err(Error::NotFound),
        }
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    token: String,
}

/// The token of the body; one Roster could not have issued is simply not found.
fn token(req: &Request) -> Result<Token, Error> {
    let body: TokenRequest = json_body(req)?;
    Token::parse(&body.token).ok_or(Error::InvitationNotFound)
}

/// Expiry is checked on every read: DynamoDB's TTL deletes expired items only eventually.
fn usable(record: &TokenRecord, now: Timestamp) -> Result<(), Error> {
    if record.expires_at.is_reached_at(now) {
        return Err(Error::InvitationExpired);
    }
    if record.max_uses.is_some_and(|max| record.uses >= max) {
        return Err(Error::InvitationExhausted);
    }
    Ok(())
}

/// An email invitation binds to its address: the caller's verified address must be it.
fn require_invitee(caller: &Caller, record: &TokenRecord) -> Result<(), Error> {
    match (caller.verified_email(), &record.email) {
        (Some(mine), Some(invited)) if mine == invited => Ok(()),
        _ => Err(Error::EmailMismatch),
    }
}

/// What a token's page shows, for every token that exists: the facts its email already
/// shows, and its `status` (so a page can say expired, used up or revoked, and why). Two
/// reads: the token with its organization, then the membership that vouches for it.
async fn preview(app: &App, req: &Request) -> Result<Response<Body>, Error> {
    let token = token(req)?;
    let (record, org) =
        app.store.token_and_org(&token.hash(), token.org()).await?.ok_or(Error::InvitationNotFound)?;
    let vouched_by = record.voucher.as_ref().map_or(&record.invited_by, |v| &v.by);
    let creator = match standing::service_creator(vouched_by, &app.config.service_clients, app.now()) {
        Some(service) => Some(service),
        None => app.store.membership(&org.id, vouched_by).await?,
    };
    let revoked = standing::verdict(creator.as_ref(), record.voucher.as_ref(), record.role);
    // Past its expiry every token reads as expired, as lists show it (a used one lasts until
    // then: API.md "Accept").
    let status = match (record.outcome, usable(&record, app.now())) {
        (_, Err(Error::InvitationExpired)) => "expired",
        (Some(outcome), _) => outcome.as_str(),
        (None, Err(_)) => "used_up",
        (None, Ok(())) if revoked.is_some() => "revoked",
        (None, Ok(())) if record.kind == TokenKind::Email => "pending",
        (None, Ok(())) => "active",
    };
    let mut body = json!({
        "kind": record.kind,
        "org": { "id": org.id, "name": org.name },
        "role": record.role,
        "invitedBy": { "name": record.inviter_name },
        "expiresAt": record.expires_at,
        "status": status,
    });
    if let Some(custom) = &record.custom_role {
        body["customRole"] = json!(custom);
    }
    if let (Some(reason), "revoked") = (revoked, status) {
        body["revokedReason"] = json!(reason);
    }
    if let Some(email) = &record.email {
        body["email"] = json!(email);
    }
    ok(&body)
}

async fn accept(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let now = app.now();
    let token = token(req)?;
    let hash = token.hash();
    let email = caller.verified_email();
    // With one organization per user, the personal organization this join replaces, once a
    // join found the user's lock on it (API.md "Accounts").
    let mut replacing: Option<Org> = None;
    for _ in 0..4 {
        let context = app.store.accept_context(token.org(), &hash, &caller.user_id, email, now).await?;
        let record = context.token.ok_or(Error::InvitationNotFound)?;
        let mut org = context.org.ok_or(Error::InvitationNotFound)?;
        // A member gets their membership, whatever the token's state (API.md "Accept").
        if let Some(existing) = context.membership {
            return already_member(org, existing);
        }
        if record.outcome.is_some() {
            return Err(Error::InvitationNotFound);
        }
        usable(&record, now)?;
        // A service's token: the join cannot condition on a membership it does not have, so
        // its standing (its client id still listed) is checked here (`Store::join`).
        let by = record.voucher.as_ref().map_or(&record.invited_by, |v| &v.by);
        if by.is_service() && standing::service_creator(by, &app.config.service_clients, now).is_none() {
            return Err(Error::InvitationNotFound);
        }
        if record.kind == TokenKind::Email {
            require_invitee(caller, &record)?;
        }
        let seat_claim = match app.config.max_members {
            None => None,
            Some(max) => {
                let seats = app.store.seats(&org.id, now).await?;
                // A pending invitation to the caller's address already holds their seat (an
                // email invitation, or one a link join takes over): the join only moves it,
                // and is checked but not conditioned. Otherwise joining takes a seat.
                let holds_seat = record.kind == TokenKind::Email || matches!(context.slot, Slot::Pending(_));
                if !seats.fit(u32::from(!holds_seat), max) {
                    return Err(Error::SeatLimit);
                }
                (!holds_seat).then(|| SeatClaim::members(seats, max, 1))
            }
        };
        // An owner's invitation made before the deployment kept a single owner admits nobody.
        if app.config.single_owner && record.role == crate::domain::Role::Owner {
            return Err(Error::InvitationNotFound);
        }
        let member = Member::joining(
            caller.user_id.clone(),
            email.cloned(),
            caller.name.clone(),
            record.role,
            now,
            Some(record.invited_by.clone()),
            record.metadata.clone(),
        )
        .with_custom_role(record.custom_role.clone());
        let event = joined_event(now, &record, &member, &context.slot);
        let replaced =
            replacing.as_ref().map(|personal| replaced_event(now, &caller.user_id, personal, &org));
        let lock = match (&replacing, &replaced) {
            (Some(personal), Some(deleted)) => OrgLock::Replace(personal, deleted, now),
            _ if app.config.one_org_per_user => OrgLock::New,
            _ => OrgLock::None,
        };
        match app.store.join((&record, &hash), &member, &context.slot, &event, lock, seat_claim).await {
            Ok(AcceptOutcome::Joined) => {
                org.member_count += 1;
                return ok(&json!({ "org": org, "membership": member }));
            }
            Ok(AcceptOutcome::Existing(existing)) => return already_member(org, *existing),
            Ok(AcceptOutcome::Retry) => replacing = None,
            Err(Error::AlreadyInOrg) if replacing.is_none() => {
                replacing = app.store.replaceable_org(&caller.user_id, &org.id).await?;
                if replacing.is_none() {
                    return Err(Error::AlreadyInOrg);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::Conflict("the organization keeps changing; retry".into()))
}

/// On the replaced personal organization's trail: deleted by its owner's joining `joined`.
fn replaced_event(now: Timestamp, owner: &UserId, personal: &Org, joined: &Org) -> AuditEvent {
    AuditEvent::new(
        now,
        owner,
        AuditAction::OrgDeleted,
        Some(personal.id.to_string()),
        json!({ "name": personal.name, "memberCount": 1, "replacedBy": joined.id }),
    )
}

/// The join's audit event. A join that consumes a pending invitation to the joiner's
/// address (see `Store::join`) names it, so that its leaving the list is on the record.
fn joined_event(now: Timestamp, record: &TokenRecord, member: &Member, slot: &Slot) -> AuditEvent {
    let (target, via) = match record.kind {
        TokenKind::Email => (record.invitation_id.as_ref().map(ToString::to_string), "email"),
        TokenKind::Link => (record.link_id.as_ref().map(ToString::to_string), "link"),
    };
    let mut details =
        json!({ "via": via, "role": member.role, "userId": member.user_id, "email": member.email });
    if let Some(custom) = &member.custom_role {
        details["customRole"] = json!(custom);
    }
    // What the token gives besides the organization (of it, what was deleted meanwhile is
    // skipped by the join).
    if !record.workspaces.is_empty() || !record.groups.is_empty() {
        details["workspaces"] = json!(record.workspaces);
        details["groups"] = json!(record.groups);
    }
    if let (Slot::Pending(held) | Slot::Expired(held), Some(_)) = (slot, &member.email)
        && record.invitation_id.as_ref() != Some(&held.invitation_id)
    {
        details["consumedInvitation"] = json!(held.invitation_id);
    }
    AuditEvent::new(now, &member.user_id, AuditAction::InvitationAccepted, target, details)
}

/// An active member gets their membership back unchanged; a suspended one is told so.
fn already_member(org: Org, existing: Member) -> Result<Response<Body>, Error> {
    if existing.status == Status::Suspended {
        return Err(Error::Suspended);
    }
    ok(&json!({ "org": org, "membership": existing }))
}

async fn decline(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let now = app.now();
    let token = token(req)?;
    let hash = token.hash();
    let (record, _) = app.store.token_and_org(&hash, token.org()).await?.ok_or(Error::InvitationNotFound)?;
    if record.kind != TokenKind::Email {
        return Err(Error::invalid_request("only email invitations can be declined"));
    }
    if record.outcome.is_some() {
        return Err(Error::InvitationNotFound);
    }
    require_invitee(caller, &record)?;
    if record.expires_at.is_reached_at(now) {
        return Err(Error::InvitationExpired);
    }
    let event = AuditEvent::new(
        now,
        &caller.user_id,
        AuditAction::InvitationDeclined,
        record.invitation_id.as_ref().map(ToString::to_string),
        json!({ "email": record.email }),
    );
    app.store.decline_invitation(&record, &hash, &event).await?;
    no_content()
}
