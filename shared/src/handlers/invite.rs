//! Inviting: email invitations in batches, resending, and creating invite links.

use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Acting, Roles, acting_input, org_id, serve_org};
use crate::App;
use crate::domain::custom_role::{Assigned, RoleName};
use crate::domain::invitation::{
    Delivery, DeliveryReason, Invitation, InviteLink, MAX_LINK_USES, MailedBy, lifetime_hours,
};
use crate::domain::standing::Voucher;
use crate::domain::token::{Token, TokenHash};
use crate::domain::workspace::{Assignments, WorkspaceAssignment};
use crate::domain::{
    AuditAction, AuditEvent, Email, GroupId, InvitationId, Label, LinkId, Member, Metadata, Org, OrgId, Role,
    Timestamp, access,
};
use crate::error::Error;
use crate::http::request::{json_body, optional_json_body, path_param};
use crate::http::response::{created, ok};
use crate::mail::queue::SendRequest;
use crate::store::{
    InviteOutcome, IssuedInvitation, PlannedInvitation, Rotation, SeatClaim, Slot, TokenKind, TokenRecord,
};

const MAX_BATCH: usize = 100;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve_org(app, req, |app, who, route, req| async move {
        match route.as_str() {
            "POST /orgs/{orgId}/invitations" => invite(app, &who, &req).await,
            "POST /orgs/{orgId}/invitations/{invitationId}/resend" => resend(app, &who, &req).await,
            "POST /orgs/{orgId}/invite-links" => create_link(app, &who, &req).await,
            "PATCH /orgs/{orgId}/invitations/{invitationId}" => reassign(app, &who, &req).await,
            "DELETE /orgs/{orgId}/email-pause" => lift_pause(app, &who, &req).await,
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
    #[serde(default)]
    metadata: Metadata,
    workspaces: Option<Vec<WorkspaceAssignment>>,
    groups: Option<Vec<GroupId>>,
}

#[derive(Serialize)]
struct InviteResult {
    email: String,
    status: &'static str,
    /// With `failed`: the problem code of what stopped this address.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invitation: Option<Value>,
}

impl InviteResult {
    fn status(email: impl Into<String>, status: &'static str) -> Self {
        Self { email: email.into(), status, code: None, invitation: None }
    }
}

/// A batch as requested: one entry per distinct address, in request order.
struct Batch {
    entries: Vec<Entry>,
    hours: u32,
}

/// One address of a batch: as shown in its result (the address it parses to, else as typed),
/// parsed, and what its invitation carries.
struct Entry {
    key: String,
    email: Result<Email, Error>,
    role: RoleName,
    metadata: Metadata,
    assignments: Assignments,
}

fn batch(app: &App, req: &Request) -> Result<Batch, Error> {
    let body: InviteRequest = json_body(req)?;
    if body.invitations.is_empty() || body.invitations.len() > MAX_BATCH {
        return Err(Error::invalid_request("invitations must hold 1 to 100 entries"));
    }
    let hours = lifetime_hours(body.expires_in_hours, app.config.invite_ttl_hours)?;
    let mut seen = std::collections::HashSet::new();
    let mut entries = Vec::with_capacity(body.invitations.len());
    for entry in &body.invitations {
        let role = entry.role.as_deref().map_or(Ok(RoleName::Builtin(Role::Member)), RoleName::parse)?;
        let trimmed = entry.email.trim();
        let email = Email::parse(trimmed).map_err(|_| Error::InvalidEmail);
        // Repeats collapse into the first, compared as the address they parse to (never by
        // Unicode case folding: `\u{212A}im@x` is no repeat of `kim@x`, it is invalid), or
        // as typed when they do not parse.
        let key = email.as_ref().map_or_else(|_| trimmed.to_owned(), |e| e.as_str().to_owned());
        let assignments = Assignments::parse(entry.workspaces.clone(), entry.groups.clone())?;
        if seen.insert(key.clone()) {
            entries.push(Entry { key, email, role, metadata: entry.metadata.clone(), assignments });
        }
    }
    Ok(Batch { entries, hours })
}

/// An invitation of the batch, owned, for the store to borrow.
struct Drafted {
    index: usize,
    invitation: Invitation,
    hash: TokenHash,
    event: AuditEvent,
}

async fn invite(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let now = app.now();
    let org_id = org_id(req)?;
    let batch = acting_input(app, who, &org_id, batch(app, req), access::require_admin).await?;
    let emails: Vec<Email> = batch.entries.iter().filter_map(|e| e.email.as_ref().ok().cloned()).collect();
    let assigned: Vec<&Assignments> = batch.entries.iter().map(|e| &e.assignments).collect();
    let (context, unknown, roles) = tokio::join!(
        app.store.invite_context(&org_id, who.user_id(), &emails, now),
        app.store.unknown_assignment(&org_id, &assigned),
        Roles::read(app, &org_id, batch.entries.iter().map(|e| &e.role))
    );
    let (org, membership, slots) = context?;
    let actor = who.member(app, &org_id, membership).await?;
    access::require_admin(&actor)?;
    let org = org.ok_or(Error::NotFound)?;
    if let Some(unknown) = unknown? {
        return Err(Error::invalid_request(format!(
            "{unknown} is no workspace or group of this organization"
        )));
    }
    // Every entry's role is resolved up front: one the organization lacks fails the batch,
    // as a malformed one does, whatever its address.
    let roles = roles?;
    for entry in &batch.entries {
        roles.resolve(&entry.role)?;
    }
    // A well-formed batch, refused for the organization's state: after the input's checks.
    if org.invitations_paused.is_some() {
        return Err(Error::InvitationsPaused);
    }

    // Decide each address on its slot; draft an invitation for those free to invite.
    let mut results = Vec::with_capacity(batch.entries.len());
    let mut drafts = Vec::new();
    let mut slots = slots.into_iter();
    let expires_at = now.plus_hours(batch.hours);
    for Entry { key, email, role, metadata, assignments } in batch.entries {
        let Ok(email) = email else {
            results.push(InviteResult::status(key, "invalid_email"));
            continue;
        };
        let slot = slots.next().unwrap_or(Slot::Free);
        let role = roles.resolve(&role)?;
        let grantable = access::require_grantable(app.config.single_owner, role.base).is_ok();
        let status = if !actor.role.can_grant(role.base) || !grantable {
            "forbidden_role"
        } else {
            match slot {
                Slot::Members => "already_member",
                Slot::Pending(_) => "already_invited",
                Slot::Free | Slot::Expired(_) => {
                    drafts.push((
                        draft(
                            &org,
                            &actor,
                            results.len(),
                            (email.clone(), role, metadata, assignments),
                            (now, expires_at),
                        )?,
                        slot,
                    ));
                    "invited"
                }
            }
        };
        results.push(InviteResult::status(email, status));
    }

    let written = write_drafts(app, &actor, &org, &drafts, Quota::Claim, now).await?;
    for ((draft, _), (outcome, queued)) in drafts.iter().zip(written) {
        let result = &mut results[draft.index];
        match outcome {
            InviteOutcome::Invited => {
                result.status = if queued { "invited" } else { "email_failed" };
                result.invitation = Some(written_view(draft, queued, now));
            }
            InviteOutcome::AlreadyMember => result.status = "already_member",
            InviteOutcome::AlreadyInvited => result.status = "already_invited",
            InviteOutcome::Failed(Error::SeatLimit) => result.status = "seat_limit",
            InviteOutcome::Failed(e) => {
                result.status = "failed";
                result.code = Some(e.code());
            }
            InviteOutcome::SeatsChanged => unreachable!("seat changes are settled before answering"),
        }
    }
    ok(&json!({ "results": results }))
}

/// Claims the drafts' emails from the quotas (refused whole when past them, before anything
/// is written), writes the invitations and queues their emails: each draft's outcome, and
/// whether its email was queued (one the queue refused is kept, `failed`: resend it later).
/// Whether a write of invitations still claims its emails from the quotas.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quota {
    Claim,
    /// The caller claimed them already (adding a user claims the one email it may send,
    /// Cognito's or, for an address with an account, the invitation's).
    Claimed,
}

async fn write_drafts(
    app: &App,
    actor: &Member,
    org: &Org,
    drafts: &[(Drafted, Slot)],
    quota: Quota,
    now: Timestamp,
) -> Result<Vec<(InviteOutcome, bool)>, Error> {
    if quota == Quota::Claim {
        let emails = u32::try_from(drafts.len()).unwrap_or(u32::MAX);
        app.store.claim_email_quota(&org.id, &actor.user_id, emails, app.config.mail.quotas, now).await?;
    }
    let planned: Vec<PlannedInvitation> = drafts
        .iter()
        .map(|(d, slot)| PlannedInvitation {
            issued: IssuedInvitation { invitation: &d.invitation, hash: &d.hash, event: &d.event },
            slot: slot.clone(),
        })
        .collect();
    let outcomes = write_within_seats(app, actor, org, planned, now).await?;
    let written: Vec<&Drafted> = drafts
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == InviteOutcome::Invited)
        .map(|((d, _), _)| d)
        .collect();
    let sends: Vec<SendRequest> = written
        .iter()
        .map(|d| SendRequest {
            org_id: org.id.clone(),
            invitation_id: d.invitation.id.clone(),
            send_number: 0,
        })
        .collect();
    let queued = app.queue.enqueue(&sends).await;
    for (d, _) in written.iter().zip(&queued).filter(|(_, queued)| !**queued) {
        refused_by_queue(app, &org.id, &d.invitation).await;
    }
    let mut queued = queued.into_iter();
    Ok(outcomes
        .into_iter()
        .map(|outcome| {
            let sent = outcome == InviteOutcome::Invited && queued.next().unwrap_or(false);
            (outcome, sent)
        })
        .collect())
}

/// A written invitation as answered: `failed` when the queue refused its email.
fn written_view(draft: &Drafted, queued: bool, now: Timestamp) -> Value {
    let mut invitation = draft.invitation.clone();
    if !queued {
        invitation.email_delivery = Delivery::Failed;
        invitation.email_delivery_reason = Some(DeliveryReason::QueueRefused);
    }
    invitation.view(now, None)
}

/// An ordinary invitation of one address in `role`, by `actor` who may grant it, the address's
/// slot as read (`POST /orgs/{orgId}/members/accounts` for an address that has an account):
/// the invitation as answered, or why there is none (`409` when the address is a member or
/// invited already, the batch's other refusals as errors).
pub(crate) async fn invite_address(
    app: &App,
    actor: &Member,
    org: &Org,
    (email, role, slot): (Email, Assigned, Slot),
    quota: Quota,
    now: Timestamp,
) -> Result<Value, Error> {
    if org.invitations_paused.is_some() {
        return Err(Error::InvitationsPaused);
    }
    let expires_at = now.plus_hours(app.config.invite_ttl_hours);
    let assignments = Assignments::default();
    let drafted = draft(org, actor, 0, (email, role, Metadata::default(), assignments), (now, expires_at))?;
    let drafts = [(drafted, slot)];
    let written = write_drafts(app, actor, org, &drafts, quota, now).await?;
    match written.into_iter().next() {
        Some((InviteOutcome::Invited, queued)) => Ok(written_view(&drafts[0].0, queued, now)),
        Some((InviteOutcome::AlreadyMember, _)) => Err(already(AlreadyThere::Member)),
        Some((InviteOutcome::AlreadyInvited, _)) => Err(already(AlreadyThere::Invited)),
        Some((InviteOutcome::Failed(e), _)) => Err(e),
        Some((InviteOutcome::SeatsChanged, _)) | None => {
            Err(Error::Conflict("the organization's seats keep changing; retry".into()))
        }
    }
}

/// Why an address cannot be added to an organization it is already in.
pub(crate) enum AlreadyThere {
    Member,
    Invited,
}

pub(crate) fn already(there: AlreadyThere) -> Error {
    Error::Conflict(
        match there {
            AlreadyThere::Member => "the address is a member of this organization already",
            AlreadyThere::Invited => "the address has a pending invitation to this organization already",
        }
        .into(),
    )
}

/// Writes the planned invitations. With a seat limit, the batch is refused whole when the
/// addresses that take a new seat do not fit; seats taken elsewhere while it is written make
/// the remaining addresses count again, and those past the limit answer `seat_limit`.
async fn write_within_seats(
    app: &App,
    actor: &Member,
    org: &Org,
    mut planned: Vec<PlannedInvitation<'_>>,
    now: Timestamp,
) -> Result<Vec<InviteOutcome>, Error> {
    let Some(max) = app.config.max_members else {
        return Ok(app.store.create_invitations(org, actor, &mut planned, None, now).await);
    };
    if planned.is_empty() {
        return Ok(Vec::new());
    }
    let seats = app.store.seats(&org.id, now).await?;
    if !seats.fit(u32::try_from(planned.len()).unwrap_or(u32::MAX), max) {
        return Err(Error::SeatLimit);
    }
    let mut outcomes = app.store.create_invitations(org, actor, &mut planned, Some((seats, max)), now).await;
    for _ in 0..3 {
        let waiting: Vec<usize> =
            (0..outcomes.len()).filter(|&i| outcomes[i] == InviteOutcome::SeatsChanged).collect();
        if waiting.is_empty() {
            break;
        }
        let seats = match app.store.seats(&org.id, now).await {
            Ok(seats) => seats,
            Err(e) => {
                waiting.iter().for_each(|&i| outcomes[i] = InviteOutcome::Failed(e.clone()));
                break;
            }
        };
        let free = usize::try_from(max.saturating_sub(seats.used())).unwrap_or(usize::MAX);
        let (fit, over) = waiting.split_at(free.min(waiting.len()));
        over.iter().for_each(|&i| outcomes[i] = InviteOutcome::Failed(Error::SeatLimit));
        let mut retry: Vec<PlannedInvitation> = fit.iter().map(|&i| planned[i].clone()).collect();
        let again = app.store.create_invitations(org, actor, &mut retry, Some((seats, max)), now).await;
        for (&i, outcome) in fit.iter().zip(again) {
            outcomes[i] = outcome;
        }
    }
    // Seats that kept changing under the batch: these addresses were not written.
    for outcome in &mut outcomes {
        if *outcome == InviteOutcome::SeatsChanged {
            *outcome =
                InviteOutcome::Failed(Error::Conflict("the organization's seats keep changing".into()));
        }
    }
    Ok(outcomes)
}

fn draft(
    org: &Org,
    actor: &Member,
    index: usize,
    (email, role, metadata, assignments): (Email, Assigned, Metadata, Assignments),
    (now, expires_at): (Timestamp, Timestamp),
) -> Result<Drafted, Error> {
    let invitation = Invitation {
        id: InvitationId::new(),
        email,
        role: role.base,
        custom_role: role.custom,
        invited_by: actor.user_id.clone(),
        created_at: now,
        expires_at,
        last_sent_at: now,
        email_delivery: Delivery::Queued,
        email_delivery_reason: None,
        send_number: 0,
        issued_send: None,
        mailed_by: mailed_by(actor),
        metadata,
        voucher: Some(Voucher::of(actor)),
        declined_at: None,
        workspaces: assignments.workspaces,
        groups: assignments.groups,
        version: 0,
    };
    let hash = sealed_token_hash(&org.id)?;
    let event = AuditEvent::new(
        now,
        &actor.user_id,
        AuditAction::InvitationCreated,
        Some(invitation.id.to_string()),
        json!({
            "email": invitation.email, "role": invitation.role, "customRole": invitation.custom_role,
            "expiresAt": invitation.expires_at,
        }),
    );
    Ok(Drafted { index, hash, invitation, event })
}

/// Who an email names as the inviter: the actor as they are now.
fn mailed_by(actor: &Member) -> MailedBy {
    MailedBy { name: actor.name.clone(), email: actor.email.clone() }
}

/// The hash an invitation carries until its email is sent: of a token that no one is given
/// (it is dropped here), so nothing admits by the invitation before the sender mints the
/// token its email carries (`Store::issue_send_token`). Keeping a hash from the start keeps
/// one shape for every invitation: revoke, decline and resend are conditioned on it.
fn sealed_token_hash(org: &OrgId) -> Result<TokenHash, Error> {
    Ok(new_token(org)?.hash())
}

/// The queue refused an invitation's email: it is kept, `failed` (resend it later).
async fn refused_by_queue(app: &App, org: &OrgId, invitation: &Invitation) {
    let reason = DeliveryReason::QueueRefused;
    if let Err(e) = app.store.fail_send(org, &invitation.id, invitation.send_number, reason).await {
        tracing::error!(code = e.code(), "could not record a refused invitation email");
    }
}

fn new_token(org: &OrgId) -> Result<Token, Error> {
    Token::generate(org).map_err(|e| {
        tracing::error!(error = %e, "the OS random source failed");
        Error::Internal
    })
}

async fn resend(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let now = app.now();
    let org_id = org_id(req)?;
    let id = InvitationId::parse(&path_param(req, "invitationId")?).ok_or(Error::NotFound)?;
    let mut claimed = false;
    for _ in 0..3 {
        let (membership, org, stored) =
            app.store.invitation_with_context(&org_id, who.user_id(), &id).await?;
        let actor = who.member(app, &org_id, membership).await?;
        access::require_admin(&actor)?;
        let (org, stored) = (org.ok_or(Error::NotFound)?, stored.ok_or(Error::NotFound)?);
        access::require_grant(&actor, stored.invitation.role)?;
        // One made before the deployment kept a single owner is not sent again.
        access::require_grantable(app.config.single_owner, stored.invitation.role)?;
        if org.invitations_paused.is_some() {
            return Err(Error::InvitationsPaused);
        }
        if stored.invitation.declined_at.is_some() {
            // Its address is free again: a new invitation, not this one, is what to send.
            return Err(Error::Conflict("the invitation was declined; invite the address again".into()));
        }
        // An expired invitation holds no seat; resending makes it pending, which takes one.
        let seat_claim = match app.config.max_members {
            Some(max) if stored.invitation.is_expired_at(now) => {
                let seats = app.store.seats(&org.id, now).await?;
                if !seats.fit(1, max) {
                    return Err(Error::SeatLimit);
                }
                Some(SeatClaim::invitations(seats, max, 1))
            }
            _ => None,
        };
        if !claimed {
            app.store.claim_email_quota(&org.id, &actor.user_id, 1, app.config.mail.quotas, now).await?;
            claimed = true;
        }
        let mut invitation = Invitation {
            expires_at: now.plus_hours(app.config.invite_ttl_hours),
            last_sent_at: now,
            email_delivery: Delivery::Queued,
            email_delivery_reason: None,
            send_number: stored.invitation.send_number + 1,
            issued_send: None,
            mailed_by: mailed_by(&actor),
            // The resender's standing admits from now on (API.md "Roles and rank").
            voucher: Some(Voucher::of(&actor)),
            version: stored.invitation.version + 1,
            ..stored.invitation
        };
        let hash = sealed_token_hash(&org.id)?;
        let event = AuditEvent::new(
            now,
            &actor.user_id,
            AuditAction::InvitationResent,
            Some(invitation.id.to_string()),
            json!({ "email": invitation.email, "expiresAt": invitation.expires_at }),
        );
        let issued = IssuedInvitation { invitation: &invitation, hash: &hash, event: &event };
        if app.store.rotate_invitation(&org.id, &actor, &stored.token_hash, &issued, seat_claim).await?
            != Rotation::Rotated
        {
            continue;
        }
        let send = SendRequest {
            org_id: org.id.clone(),
            invitation_id: invitation.id.clone(),
            send_number: invitation.send_number,
        };
        if app.queue.enqueue(&[send]).await != [true] {
            refused_by_queue(app, &org.id, &invitation).await;
            return Err(Error::EmailDeliveryFailed);
        }
        invitation.email_delivery = Delivery::Queued;
        return ok(&json!({ "invitation": invitation.view(now, None) }));
    }
    Err(Error::Conflict("the organization's seats keep changing; retry".into()))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LinkRequest {
    label: Option<String>,
    role: Option<String>,
    expires_in_hours: Option<i64>,
    max_uses: Option<i64>,
    workspaces: Option<Vec<WorkspaceAssignment>>,
    groups: Option<Vec<GroupId>>,
}

/// A link request as asked.
struct LinkAsked {
    label: Option<Label>,
    role: RoleName,
    hours: u32,
    max_uses: Option<u32>,
    assignments: Assignments,
}

fn link_request(app: &App, req: &Request) -> Result<LinkAsked, Error> {
    let body: LinkRequest = optional_json_body(req)?;
    let label = body
        .label
        .as_deref()
        .map(|l| {
            Label::parse(l).map_err(|e| {
                Error::invalid_request(format!("label {}", e.to_string().trim_start_matches("name ")))
            })
        })
        .transpose()?;
    let role = body.role.as_deref().map_or(Ok(RoleName::Builtin(Role::Viewer)), RoleName::parse)?;
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
    let assignments = Assignments::parse(body.workspaces, body.groups)?;
    Ok(LinkAsked { label, role, hours, max_uses, assignments })
}

async fn create_link(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let now = app.now();
    let org_id = org_id(req)?;
    let LinkAsked { label, role, hours, max_uses, assignments } =
        acting_input(app, who, &org_id, link_request(app, req), access::require_admin).await?;
    let asked = [&assignments];
    let (read, unknown, roles) = tokio::join!(
        app.store.org_and_membership(&org_id, who.user_id()),
        app.store.unknown_assignment(&org_id, &asked),
        Roles::read(app, &org_id, [&role])
    );
    let (org, membership) = read?;
    let actor = who.member(app, &org_id, membership).await?;
    access::require_admin(&actor)?;
    let role = roles?.resolve(&role)?;
    access::require_grant(&actor, role.base)?;
    access::require_grantable(app.config.single_owner, role.base)?;
    let org = org.ok_or(Error::NotFound)?;
    if let Some(unknown) = unknown? {
        return Err(Error::invalid_request(format!(
            "{unknown} is no workspace or group of this organization"
        )));
    }

    let link = InviteLink {
        id: LinkId::new(),
        label,
        role: role.base,
        custom_role: role.custom.clone(),
        created_by: actor.user_id.clone(),
        created_at: now,
        expires_at: now.plus_hours(hours),
        max_uses,
        uses: 0,
        voucher: Some(Voucher::of(&actor)),
        workspaces: assignments.workspaces,
        groups: assignments.groups,
    };
    let token = new_token(&org.id)?;
    let record = TokenRecord {
        kind: TokenKind::Link,
        org_id: org.id.clone(),
        role: role.base,
        custom_role: role.custom.clone(),
        invited_by: actor.user_id.clone(),
        inviter_name: actor.name.clone(),
        expires_at: link.expires_at,
        email: None,
        invitation_id: None,
        link_id: Some(link.id.clone()),
        max_uses,
        uses: 0,
        metadata: Metadata::default(),
        voucher: link.voucher.clone(),
        outcome: None,
        workspaces: link.workspaces.clone(),
        groups: link.groups.clone(),
        version: 0,
    };
    let event = AuditEvent::new(
        now,
        &actor.user_id,
        AuditAction::LinkCreated,
        Some(link.id.to_string()),
        json!({
            "role": link.role, "customRole": link.custom_role, "expiresAt": link.expires_at,
            "maxUses": max_uses, "label": link.label,
        }),
    );
    app.store.create_link(&org, &actor, &link, &token.hash(), &record, &event).await?;
    let mut shown = link.view(now, None);
    shown["token"] = json!(token.expose());
    shown["url"] = json!(crate::mail::accept_url(&app.config.app_url, &token));
    created(&json!({ "link": shown }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReassignRequest {
    workspaces: Option<Vec<WorkspaceAssignment>>,
    groups: Option<Vec<GroupId>>,
}

/// `PATCH .../invitations/{id}`: a pending invitation's workspaces and groups (either list
/// replaced when given, kept when absent).
async fn reassign(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org_id = org_id(req)?;
    let id = InvitationId::parse(&path_param(req, "invitationId")?).ok_or(Error::NotFound)?;
    let input = json_body::<ReassignRequest>(req).and_then(|body| {
        let asked = Assignments::parse(body.workspaces.clone(), body.groups.clone())?;
        Ok((body, asked))
    });
    let (body, asked) = acting_input(app, who, &org_id, input, access::require_admin).await?;
    // Read again when the invitation changed under the write (its email's token minted by the
    // sender, a resend): the change applies to the invitation as it is then.
    let mut attempts = 0;
    loop {
        attempts += 1;
        match reassign_once(app, who, (&org_id, &id), (&body, &asked)).await {
            Err(Error::Conflict(_)) if attempts < 3 => continue,
            outcome => return outcome,
        }
    }
}

async fn reassign_once(
    app: &App,
    who: &Acting,
    (org_id, id): (&OrgId, &InvitationId),
    (body, asked): (&ReassignRequest, &Assignments),
) -> Result<Response<Body>, Error> {
    let now = app.now();
    let (org_id, id) = (org_id.clone(), id.clone());
    let lists = [asked];
    let (read, unknown) = tokio::join!(
        app.store.invitation_with_context(&org_id, who.user_id(), &id),
        app.store.unknown_assignment(&org_id, &lists)
    );
    let (membership, _, stored) = read?;
    let actor = who.member(app, &org_id, membership).await?;
    access::require_admin(&actor)?;
    let stored = stored.ok_or(Error::NotFound)?;
    // As for a resend: only one who may grant its role changes what it gives.
    access::require_grant(&actor, stored.invitation.role)?;
    if let Some(unknown) = unknown? {
        return Err(Error::invalid_request(format!(
            "{unknown} is no workspace or group of this organization"
        )));
    }
    let before = &stored.invitation;
    if before.declined_at.is_some() || before.is_expired_at(now) {
        return Err(Error::Conflict("only a pending invitation's workspaces and groups can change".into()));
    }
    let after = Invitation {
        workspaces: body.workspaces.clone().unwrap_or_else(|| before.workspaces.clone()),
        groups: body.groups.clone().unwrap_or_else(|| before.groups.clone()),
        version: before.version + 1,
        ..before.clone()
    };
    // Together within the limit, whichever list was kept.
    Assignments::parse(Some(after.workspaces.clone()), Some(after.groups.clone()))?;
    if after.workspaces == before.workspaces && after.groups == before.groups {
        return ok(&json!({ "invitation": after.view(now, None) }));
    }
    let event = AuditEvent::new(
        now,
        &actor.user_id,
        AuditAction::InvitationUpdated,
        Some(after.id.to_string()),
        json!({
            "email": after.email,
            "before": { "workspaces": before.workspaces, "groups": before.groups },
            "after": { "workspaces": after.workspaces, "groups": after.groups },
        }),
    );
    app.store.reassign_invitation(&org_id, &actor, &stored, &after, &event).await?;
    ok(&json!({ "invitation": after.view(now, None) }))
}

/// `DELETE /orgs/{orgId}/email-pause`: the deployment's operator (a `roster/admin` service)
/// lifts a pause of the organization's invitation emails, once the cause is understood (API.md
/// "Email delivery"). `204` whether or not it was paused.
async fn lift_pause(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    if let Acting::Person(_) = who {
        return Err(Error::forbidden(
            "only the deployment's operator (a roster/admin service) lifts a pause",
        ));
    }
    let now = app.now();
    let org_id = org_id(req)?;
    let actor = who.member(app, &org_id, None).await?;
    let event = AuditEvent::new(
        now,
        &actor.user_id,
        AuditAction::OrgInvitationsResumed,
        Some(org_id.to_string()),
        json!({}),
    );
    app.store.resume_invitations(&org_id, &event).await?;
    crate::http::response::no_content()
}
