//! Inviting: email invitations in batches, resending, and creating invite links.

use futures::StreamExt;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{org_id, serve};
use crate::App;
use crate::domain::invitation::{Delivery, Invitation, InviteLink, MAX_LINK_USES, lifetime_hours};
use crate::domain::token::Token;
use crate::domain::{
    AuditAction, AuditEvent, Caller, Email, InvitationId, LinkId, Member, Org, OrgId, Role, Timestamp, access,
};
use crate::error::Error;
use crate::http::request::{json_body, optional_json_body, path_param};
use crate::http::response::{created, ok};
use crate::mail::compose::{InvitationEmail, compose};
use crate::store::{InviteOutcome, IssuedInvitation, TokenKind, TokenRecord};

/// Invitation emails of one batch in flight at once: enough to keep a batch of 100 within a
/// few round trips, few enough to stay near SES's default sending rate.
const SEND_CONCURRENCY: usize = 16;
const MAX_BATCH: usize = 100;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, req, |app, caller, route, req| async move {
        match route.as_str() {
            "POST /orgs/{orgId}/invitations" => invite(app, &caller, &req).await,
            "POST /orgs/{orgId}/invitations/{invitationId}/resend" => resend(app, &caller, &req).await,
            "POST /orgs/{orgId}/invite-links" => create_link(app, &caller, &req).await,
            _ => Err(Error::NotFound),
        }
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct InviteRequest {
    invitations: Vec<InviteEntry>,
    expires_in_hours: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteEntry {
    email: String,
    role: Option<String>,
}

#[derive(Serialize)]
struct InviteResult {
    email: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    invitation: Option<Value>,
}

impl InviteResult {
    fn status(email: impl Into<String>, status: &'static str) -> Self {
        Self { email: email.into(), status, invitation: None }
    }
}

/// One address of the batch that may be invited.
struct Candidate {
    index: usize,
    email: Email,
    role: Role,
}

async fn invite(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let body: InviteRequest = json_body(req)?;
    if body.invitations.is_empty() || body.invitations.len() > MAX_BATCH {
        return Err(Error::invalid_request("invitations must hold 1 to 100 entries"));
    }
    let hours = lifetime_hours(body.expires_in_hours, app.config.invite_ttl_hours)?;
    let roles = body
        .invitations
        .iter()
        .map(|e| e.role.as_deref().map_or(Ok(Role::Member), |r| r.parse().map_err(|_| Error::InvalidRole)))
        .collect::<Result<Vec<Role>, Error>>()?;
    let org_id = org_id(req)?;
    let (org, membership) = app.store.org_and_membership(&org_id, &caller.user_id).await?;
    let actor = access::active(membership)?;
    access::require_admin(&actor)?;
    let org = org.ok_or(Error::NotFound)?;

    // One result per distinct address, in request order; repeats collapse into the first.
    let mut results: Vec<InviteResult> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut candidates = Vec::new();
    for (entry, role) in body.invitations.iter().zip(roles) {
        let trimmed = entry.email.trim();
        let key = trimmed.to_lowercase();
        if !seen.insert(key.clone()) {
            continue;
        }
        match Email::parse(trimmed) {
            Err(_) => results.push(InviteResult::status(key, "invalid_email")),
            Ok(email) if !actor.role.can_grant(role) => {
                results.push(InviteResult::status(email, "forbidden_role"))
            }
            Ok(email) => {
                candidates.push(Candidate { index: results.len(), email: email.clone(), role });
                results.push(InviteResult::status(email, "invited"));
            }
        }
    }

    let expires_at = Timestamp::now().plus_hours(hours);
    let outcomes: Vec<(usize, Result<InviteResult, Error>)> = match app.config.max_members {
        None => {
            let (actor, org) = (&actor, &org);
            futures::stream::iter(candidates)
                .map(|c| async move { (c.index, invite_one(app, actor, org, &c, expires_at, None).await) })
                .buffer_unordered(SEND_CONCURRENCY)
                .collect::<Vec<_>>()
                .await
        }
        Some(max) => invite_within_seats(app, &actor, &org, candidates, expires_at, max).await?,
    };
    for (index, outcome) in outcomes {
        results[index] = outcome?;
    }
    ok(&json!({ "results": results }))
}

/// With a seat limit, addresses are invited one after another, each write conditioned on
/// the seat count it was checked against. A batch that cannot fit is refused whole.
async fn invite_within_seats(
    app: &App,
    actor: &Member,
    org: &Org,
    candidates: Vec<Candidate>,
    expires_at: Timestamp,
    max: u32,
) -> Result<Vec<(usize, Result<InviteResult, Error>)>, Error> {
    let (mut used, mut version) = app.store.seats(&org.id).await?;
    if !candidates.is_empty() && used.saturating_add(candidates.len() as u32) > max {
        return Err(Error::SeatLimit);
    }
    let mut outcomes = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let mut outcome = Err(Error::SeatLimit);
        for _ in 0..3 {
            if used >= max {
                outcome = Ok(InviteResult::status(candidate.email.clone(), "seat_limit"));
                break;
            }
            outcome = invite_one(app, actor, org, &candidate, expires_at, Some(version)).await;
            match &outcome {
                Ok(r) if r.status == "seats_changed" => (used, version) = app.store.seats(&org.id).await?,
                Ok(r) if r.invitation.is_some() => {
                    (used, version) = (used + 1, version + 1);
                    break;
                }
                _ => break,
            }
        }
        if matches!(&outcome, Ok(r) if r.status == "seats_changed") {
            outcome = Err(Error::Conflict("the organization's seats keep changing; retry".into()));
        }
        outcomes.push((candidate.index, outcome));
    }
    Ok(outcomes)
}

async fn invite_one(
    app: &App,
    actor: &Member,
    org: &Org,
    candidate: &Candidate,
    expires_at: Timestamp,
    seat_version: Option<i64>,
) -> Result<InviteResult, Error> {
    let now = Timestamp::now();
    let mut invitation = Invitation {
        id: InvitationId::new(),
        email: candidate.email.clone(),
        role: candidate.role,
        invited_by: actor.user_id.clone(),
        created_at: now,
        expires_at,
        last_sent_at: now,
        email_delivery: Delivery::Sent,
    };
    let token = new_token(&org.id)?;
    let record = email_token_record(org, actor, &invitation);
    let event = AuditEvent::new(
        &actor.user_id,
        AuditAction::InvitationCreated,
        Some(invitation.id.to_string()),
        json!({ "email": invitation.email, "role": invitation.role, "expiresAt": invitation.expires_at }),
    );
    let issued =
        IssuedInvitation { invitation: &invitation, hash: &token.hash(), record: &record, event: &event };
    let outcome = app.store.create_invitation(&org.id, actor, &issued, seat_version).await?;
    let status = match outcome {
        InviteOutcome::Invited => None,
        InviteOutcome::AlreadyMember => Some("already_member"),
        InviteOutcome::AlreadyInvited => Some("already_invited"),
        InviteOutcome::SeatsChanged => Some("seats_changed"),
    };
    if let Some(status) = status {
        return Ok(InviteResult::status(invitation.email, status));
    }
    let status = if send_invitation(app, org, actor, &invitation, &token).await {
        "invited"
    } else {
        invitation.email_delivery = Delivery::Failed;
        "email_failed"
    };
    Ok(InviteResult { email: invitation.email.to_string(), status, invitation: Some(invitation.view()) })
}

fn new_token(org: &OrgId) -> Result<Token, Error> {
    Token::generate(org).map_err(|e| {
        tracing::error!(error = %e, "the OS random source failed");
        Error::Internal
    })
}

fn email_token_record(org: &Org, actor: &Member, invitation: &Invitation) -> TokenRecord {
    TokenRecord {
        kind: TokenKind::Email,
        org_id: org.id.clone(),
        org_name: org.name.clone(),
        role: invitation.role,
        invited_by: actor.user_id.clone(),
        inviter_name: actor.name.clone(),
        expires_at: invitation.expires_at,
        email: Some(invitation.email.clone()),
        invitation_id: Some(invitation.id.clone()),
        link_id: None,
        max_uses: None,
        uses: 0,
    }
}

fn accept_url(app: &App, token: &Token) -> String {
    format!("{}/invite?token={}", app.config.app_url, token.expose())
}

/// Sends the invitation email; on refusal the invitation is marked `failed` and kept.
async fn send_invitation(
    app: &App,
    org: &Org,
    actor: &Member,
    invitation: &Invitation,
    token: &Token,
) -> bool {
    let inviter = actor.name.as_ref().map_or_else(
        || actor.email.as_ref().map_or("A colleague", Email::as_str).to_owned(),
        |n| n.to_string(),
    );
    let url = accept_url(app, token);
    let mail = compose(&InvitationEmail {
        org_name: org.name.as_str(),
        inviter_name: &inviter,
        role: invitation.role,
        expires_at: invitation.expires_at,
        accept_url: &url,
    });
    if app.mailer.send(&invitation.email, &mail).await.is_ok() {
        return true;
    }
    if let Err(e) = app.store.set_delivery(&org.id, &invitation.id, Delivery::Failed).await {
        tracing::error!(code = e.code(), "could not record a failed delivery");
    }
    false
}

async fn resend(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let org_id = org_id(req)?;
    let id = InvitationId::parse(&path_param(req, "invitationId")?).ok_or(Error::NotFound)?;
    let (membership, org, stored) = app.store.invitation_with_context(&org_id, &caller.user_id, &id).await?;
    let actor = access::active(membership)?;
    access::require_admin(&actor)?;
    let (org, stored) = (org.ok_or(Error::NotFound)?, stored.ok_or(Error::NotFound)?);
    access::require_grant(&actor, stored.invitation.role)?;

    let now = Timestamp::now();
    let mut invitation = Invitation {
        expires_at: now.plus_hours(app.config.invite_ttl_hours),
        last_sent_at: now,
        email_delivery: Delivery::Sent,
        ..stored.invitation
    };
    let token = new_token(&org.id)?;
    let record = email_token_record(&org, &actor, &invitation);
    let event = AuditEvent::new(
        &actor.user_id,
        AuditAction::InvitationResent,
        Some(invitation.id.to_string()),
        json!({ "email": invitation.email, "expiresAt": invitation.expires_at }),
    );
    let issued =
        IssuedInvitation { invitation: &invitation, hash: &token.hash(), record: &record, event: &event };
    app.store.rotate_invitation(&org.id, &actor, &stored.token_hash, &issued).await?;
    if !send_invitation(app, &org, &actor, &invitation, &token).await {
        invitation.email_delivery = Delivery::Failed;
        return Err(Error::EmailDeliveryFailed);
    }
    ok(&json!({ "invitation": invitation.view() }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LinkRequest {
    role: Option<String>,
    expires_in_hours: Option<i64>,
    max_uses: Option<i64>,
}

async fn create_link(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let body: LinkRequest = optional_json_body(req)?;
    let role =
        body.role.as_deref().map_or(Ok(Role::Viewer), |r| r.parse().map_err(|_| Error::InvalidRole))?;
    let hours = lifetime_hours(body.expires_in_hours, app.config.invite_ttl_hours)?;
    let max_uses = body
        .max_uses
        .map(|m| {
            u32::try_from(m)
                .ok()
                .filter(|m| (1..=MAX_LINK_USES).contains(m))
                .ok_or_else(|| Error::invalid_request("maxUses must be a whole number from 1 to 100000"))
        })
        .transpose()?;
    let org_id = org_id(req)?;
    let (org, membership) = app.store.org_and_membership(&org_id, &caller.user_id).await?;
    let actor = access::active(membership)?;
    access::require_grant(&actor, role)?;
    let org = org.ok_or(Error::NotFound)?;

    let now = Timestamp::now();
    let link = InviteLink {
        id: LinkId::new(),
        role,
        created_by: actor.user_id.clone(),
        created_at: now,
        expires_at: now.plus_hours(hours),
        max_uses,
        uses: 0,
    };
    let token = new_token(&org.id)?;
    let record = TokenRecord {
        kind: TokenKind::Link,
        org_id: org.id.clone(),
        org_name: org.name.clone(),
        role,
        invited_by: actor.user_id.clone(),
        inviter_name: actor.name.clone(),
        expires_at: link.expires_at,
        email: None,
        invitation_id: None,
        link_id: Some(link.id.clone()),
        max_uses,
        uses: 0,
    };
    let event = AuditEvent::new(
        &actor.user_id,
        AuditAction::LinkCreated,
        Some(link.id.to_string()),
        json!({ "role": role, "expiresAt": link.expires_at, "maxUses": max_uses }),
    );
    app.store.create_link(&org.id, &actor, &link, &token.hash(), &record, &event).await?;
    let mut shown = serde_json::to_value(&link).map_err(|_| Error::Internal)?;
    shown["token"] = json!(token.expose());
    shown["url"] = json!(accept_url(app, &token));
    created(&json!({ "link": shown }))
}
