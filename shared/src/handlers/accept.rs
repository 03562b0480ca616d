//! The invitee's side: preview a token, accept it, or decline an email invitation.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::serve;
use crate::App;
use crate::domain::token::{Token, TokenHash};
use crate::domain::{AuditAction, AuditEvent, Caller, Member, Org, Status, Timestamp};
use crate::error::Error;
use crate::http::request::json_body;
use crate::http::response::{no_content, ok};
use crate::store::{AcceptOutcome, TokenKind, TokenRecord};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, req, |app, caller, route, req| async move {
        match route.as_str() {
            "POST /invitations/preview" => preview(app, &req).await,
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
fn usable(record: &TokenRecord) -> Result<(), Error> {
    if record.expires_at.is_past() {
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

async fn preview(app: &App, req: &Request) -> Result<Response<Body>, Error> {
    let token = token(req)?;
    let record = app.store.token(&token.hash()).await?.ok_or(Error::InvitationNotFound)?;
    usable(&record)?;
    let mut body = json!({
        "kind": record.kind,
        "org": { "id": record.org_id, "name": record.org_name },
        "role": record.role,
        "invitedBy": { "name": record.inviter_name },
        "expiresAt": record.expires_at,
    });
    if let Some(email) = &record.email {
        body["email"] = json!(email);
    }
    ok(&body)
}

async fn accept(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let token = token(req)?;
    let hash = token.hash();
    for _ in 0..3 {
        let context = app.store.accept_context(token.org(), &hash, &caller.user_id).await?;
        let record = context.token.ok_or(Error::InvitationNotFound)?;
        usable(&record)?;
        if record.kind == TokenKind::Email {
            require_invitee(caller, &record)?;
        }
        let mut org = context.org.ok_or(Error::InvitationNotFound)?;
        if let Some(existing) = context.membership {
            return already_member(org, existing);
        }
        let seat_version = match app.config.max_members {
            None => None,
            Some(max) => {
                let (used, version) = app.store.seats(&org.id).await?;
                // An email invitation already holds its seat; a link takes a new one.
                let needed = if record.kind == TokenKind::Email { used } else { used + 1 };
                if needed > max {
                    return Err(Error::SeatLimit);
                }
                Some(version)
            }
        };
        let now = Timestamp::now();
        let member = Member {
            user_id: caller.user_id.clone(),
            email: caller.verified_email().cloned(),
            name: caller.name.clone(),
            role: record.role,
            status: Status::Active,
            joined_at: now,
            invited_by: Some(record.invited_by.clone()),
            updated_at: now,
        };
        let outcome = join(app, &record, &hash, &member, seat_version).await?;
        match outcome {
            AcceptOutcome::Joined => {
                org.member_count += 1;
                return ok(&json!({ "org": org, "membership": member }));
            }
            AcceptOutcome::Existing(existing) => return already_member(org, existing),
            AcceptOutcome::SeatsChanged => continue,
        }
    }
    Err(Error::Conflict("the organization's seats keep changing; retry".into()))
}

async fn join(
    app: &App,
    record: &TokenRecord,
    hash: &TokenHash,
    member: &Member,
    seat_version: Option<i64>,
) -> Result<AcceptOutcome, Error> {
    let (target, via) = match record.kind {
        TokenKind::Email => (record.invitation_id.as_ref().map(ToString::to_string), "email"),
        TokenKind::Link => (record.link_id.as_ref().map(ToString::to_string), "link"),
    };
    let event = AuditEvent::new(
        &member.user_id,
        AuditAction::InvitationAccepted,
        target,
        json!({ "via": via, "role": member.role, "userId": member.user_id, "email": member.email }),
    );
    let one_org = app.config.one_org_per_user;
    match record.kind {
        TokenKind::Email => {
            app.store.accept_invitation(record, hash, member, &event, one_org, seat_version).await
        }
        TokenKind::Link => app.store.accept_link(record, hash, member, &event, one_org, seat_version).await,
    }
}

/// An active member gets their membership back unchanged; a suspended one is told so.
fn already_member(org: Org, existing: Member) -> Result<Response<Body>, Error> {
    if existing.status == Status::Suspended {
        return Err(Error::Suspended);
    }
    ok(&json!({ "org": org, "membership": existing }))
}

async fn decline(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let token = token(req)?;
    let hash = token.hash();
    let record = app.store.token(&hash).await?.ok_or(Error::InvitationNotFound)?;
    if record.kind != TokenKind::Email {
        return Err(Error::invalid_request("only email invitations can be declined"));
    }
    require_invitee(caller, &record)?;
    if record.expires_at.is_past() {
        return Err(Error::InvitationExpired);
    }
    let event = AuditEvent::new(
        &caller.user_id,
        AuditAction::InvitationDeclined,
        record.invitation_id.as_ref().map(ToString::to_string),
        json!({ "email": record.email }),
    );
    app.store.decline_invitation(&record, &hash, &event).await?;
    no_content()
}
