//! Adding a user with a temporary password (API.md "Accounts"):
//! `POST /orgs/{orgId}/members/accounts`, admins and owners, in deployments with the stack's
//! user pool.
//!
//! Two steps, the account and then the membership, which no transaction spans. An intent for
//! the address (`store::accounts`) is held before Cognito is asked, so that a retry after the
//! second step failed finds the account its first attempt created (awaiting its first
//! sign-in, created since this organization's intent) and finishes the membership instead of
//! inviting; the membership's conditional write makes racing requests one member. An address
//! whose account was there before gets an ordinary invitation, in an answer of the same shape.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::invite::{AlreadyThere, Quota, already, invite_address};
use super::{Acting, Roles, acting_input, org_id, serve};
use crate::App;
use crate::accounts::{Accounts, CreateError, NewAccount, USERNAME_MAX_LEN};
use crate::domain::custom_role::{Assigned, RoleName};
use crate::domain::{DisplayName, Email, Member, Metadata, Org, OrgId, Timestamp, UserId, access};
use crate::error::Error;
use crate::http::request::json_body;
use crate::http::response::created;
use crate::store::accounts::Intent;
use crate::store::{ChangeError, SeatClaim, Slot};

/// How far Cognito's clock may be behind the function's (and its creation dates rounded
/// down) when judging whether an account was created since this organization's intent was
/// held. An account another organization's request created is older than the intent by at
/// least the intent's lifetime (hours), since its own intent held the address until then; so
/// only an account made outside this route (the console, a script) while this organization's
/// intent stands (up to its 24 hours), or in these seconds before it, would be taken for this
/// organization's (README "Adding a user with a temporary password").
pub const CLOCK_SKEW_MS: i64 = 3_000;

/// Seat counts that kept changing under the membership's write.
const ATTEMPTS: usize = 3;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, req, |app, caller, route, req| async move {
        match route.as_str() {
            "POST /orgs/{orgId}/members/accounts" => add_user(app, &Acting::Person(caller), &req).await,
            _ => Err(Error::NotFound),
        }
    })
    .await
}

/// The body as sent. No `Debug`: it holds a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AddUserRequest {
    email: String,
    name: String,
    role: String,
    temporary_password: Option<String>,
    send_email: bool,
}

struct Input {
    email: Email,
    name: DisplayName,
    role: RoleName,
    /// Checked against the pool's policy; `None`: one is generated.
    password: Option<String>,
    send_email: bool,
}

fn input(app: &App, req: &Request) -> Result<Input, Error> {
    let body: AddUserRequest = json_body(req)?;
    let email = Email::parse(body.email.trim()).map_err(|_| Error::InvalidEmail)?;
    // Refused here, before the intent is held: Cognito would refuse it as a malformed
    // request (500), and no account in the pool can have it.
    if email.as_str().len() > USERNAME_MAX_LEN {
        return Err(Error::invalid_request(format!(
            "email: an account's address has at most {USERNAME_MAX_LEN} characters"
        )));
    }
    let name = super::service_display_name(Some(&body.name), "name")?
        .ok_or_else(|| Error::invalid_request("name is required"))?;
    let role = RoleName::parse(&body.role)?;
    if let Some(password) = &body.temporary_password {
        app.config.password_policy.check(password).map_err(Error::WeakPassword)?;
    } else if !body.send_email {
        // Nobody but Cognito's email would ever learn a generated one.
        return Err(Error::invalid_request(
            "temporaryPassword is required when sendEmail is false: you give the password to the user",
        ));
    }
    Ok(Input { email, name, role, password: body.temporary_password, send_email: body.send_email })
}

async fn add_user(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let now = app.now();
    let org_id = org_id(req)?;
    let input = acting_input(app, who, &org_id, input(app, req), access::require_admin).await?;
    let emails = [input.email.clone()];
    let (context, roles) = tokio::join!(
        app.store.invite_context(&org_id, who.user_id(), &emails, now),
        Roles::read(app, &org_id, [&input.role])
    );
    let (org, membership, slots) = context?;
    let actor = who.member(app, &org_id, membership).await?;
    access::require_admin(&actor)?;
    let org = org.ok_or(Error::NotFound)?;
    let accounts = app.accounts.as_ref().ok_or(Error::AccountsUnavailable)?;
    let role = roles?.resolve(&input.role)?;
    access::require_grant(&actor, role.base)?;
    access::require_grantable(app.config.single_owner, role.base)?;
    let slot = slots.into_iter().next().unwrap_or(Slot::Free);
    match slot {
        Slot::Members => return Err(already(AlreadyThere::Member)),
        Slot::Pending(_) => return Err(already(AlreadyThere::Invited)),
        Slot::Free | Slot::Expired(_) => {}
    }
    // A full organization is refused before any account is made.
    let seats = match app.config.max_members {
        None => None,
        Some(max) => {
            let seats = app.store.seats(&org.id, now).await?;
            if !seats.fit(1, max) {
                return Err(Error::SeatLimit);
            }
            Some(SeatClaim::members(seats, max, 1))
        }
    };
    // Cognito's email of the password is mail the organization sends, as an invitation's
    // is: the same pause and the same quotas, claimed before anything is made. The one email
    // claimed is the invitation's when the address turns out to have an account.
    let quota = if input.send_email {
        if org.invitations_paused.is_some() {
            return Err(Error::InvitationsPaused);
        }
        app.store.claim_email_quota(&org.id, &actor.user_id, 1, app.config.mail.quotas, now).await?;
        Quota::Claimed
    } else {
        Quota::Claim
    };
    let account = match app.store.hold_account_intent(&org.id, &input.email, now).await? {
        Intent::Elsewhere => None,
        Intent::Ours { since } => match create_account(app, accounts, (&org.id, &input), since).await? {
            Made::Ours(sub) => Some(sub),
            Made::Before(sub) => {
                // A membership this route wrote keeps its address display-only, so it has no
                // address slot for the check above to find: its account's sub finds it.
                let member = match UserId::person(&sub) {
                    Some(user_id) => app.store.membership(&org.id, &user_id).await?,
                    None => None,
                };
                if member.is_some() {
                    return Err(already(AlreadyThere::Member));
                }
                None
            }
        },
    };
    let Some(sub) = account else {
        let invitation = invite_address(app, &actor, &org, (input.email, role, slot), quota, now).await?;
        return created(&json!({ "result": "invited", "invitation": invitation }));
    };
    let user_id = UserId::person(&sub).ok_or_else(|| {
        tracing::error!("the user pool answered a sub that names no user");
        Error::Internal
    })?;
    let member = add_member(app, (&org, &actor), (user_id, &input, role), seats, now).await?;
    created(&json!({ "result": "account_created", "member": member }))
}

/// Whose the address's account is, by its `sub`.
enum Made {
    /// Created now, or by this organization's earlier attempt that held the intent since
    /// then (a retry, or a request racing this one).
    Ours(String),
    /// The address had it before: it is invited instead.
    Before(String),
}

async fn create_account(
    app: &App,
    accounts: &Accounts,
    (org, input): (&OrgId, &Input),
    since: Timestamp,
) -> Result<Made, Error> {
    let generated;
    let password = match &input.password {
        Some(given) => given.as_str(),
        None => {
            generated = app.config.password_policy.generate().map_err(|e| {
                tracing::error!(error = %e, "the OS random source failed");
                Error::Internal
            })?;
            generated.as_str()
        }
    };
    let account =
        NewAccount { email: &input.email, name: &input.name, password, send_email: input.send_email };
    let refused = match accounts.create(account).await {
        Ok(sub) => return Ok(Made::Ours(sub)),
        Err(CreateError::Exists) => None,
        Err(CreateError::Password) => Some(pool_refused_password()),
        Err(CreateError::Failed(e)) => Some(e),
    };
    if let Some(refused) = refused {
        // No account exists (Cognito answers an existing one as such): a refusal for good
        // lets go of this organization's intent; a temporary one keeps it for the retry.
        if refused != Error::Unavailable {
            app.store.release_account_intent(org, &input.email, since).await?;
        }
        return Err(refused);
    }
    let Some(found) = accounts.find(&input.email).await? else {
        // Deleted between the two calls: nothing to invite or to finish.
        return Err(Error::Conflict("the account changed meanwhile; retry".into()));
    };
    let ours = found.awaiting_first_sign_in
        && found.created_at.is_some_and(|at| at >= since.plus_millis(-CLOCK_SKEW_MS));
    if !ours {
        return Ok(Made::Before(found.sub));
    }
    // The admin hands this password over themself: make it the one that works, whichever
    // attempt's password the account was created with.
    if let (false, Some(given)) = (input.send_email, &input.password) {
        match accounts.set_temporary_password(&input.email, given).await {
            Ok(()) => {}
            Err(CreateError::Password) => return Err(pool_refused_password()),
            Err(CreateError::Exists) => return Err(Error::Unavailable),
            Err(CreateError::Failed(e)) => return Err(e),
        }
    }
    Ok(Made::Ours(found.sub))
}

fn pool_refused_password() -> Error {
    Error::WeakPassword("temporaryPassword does not meet the user pool's password policy".into())
}

/// The new account's membership, active at once (`member.added`, with who added them and
/// whether Cognito emailed the password): the same transaction as a service's direct add.
/// When the user is a member already (a retry, or a racing request, wrote it), that membership
/// is the answer.
async fn add_member(
    app: &App,
    (org, actor): (&Org, &Member),
    (user_id, input, role): (UserId, &Input, Assigned),
    mut seats: Option<SeatClaim>,
    now: Timestamp,
) -> Result<Member, Error> {
    // Display-only, as an address a service gives: its owner has not proved it yet.
    let member = Member::joining(
        user_id,
        Some(input.email.clone()),
        Some(input.name.clone()),
        role.base,
        now,
        Some(actor.user_id.clone()),
        Metadata::default(),
    )
    .with_custom_role(role.custom);
    let more = json!({ "account": "created", "emailSent": input.send_email });
    let event = super::change_role::added_event(now, actor, &member, more);
    for attempt in 0..ATTEMPTS {
        if attempt > 0
            && let Some(max) = app.config.max_members
        {
            let counted = app.store.seats(&org.id, now).await?;
            if !counted.fit(1, max) {
                return Err(Error::SeatLimit);
            }
            seats = Some(SeatClaim::members(counted, max, 1));
        }
        match app.store.add_member(&org.id, actor, &member, &event, app.config.one_org_per_user, seats).await
        {
            Ok(()) => return Ok(member),
            Err(ChangeError::Stale) => continue,
            Err(ChangeError::Refused(e @ Error::Conflict(_))) => {
                return app.store.membership(&org.id, &member.user_id).await?.ok_or(e);
            }
            Err(ChangeError::Refused(e)) => return Err(e),
        }
    }
    Err(Error::Conflict("the organization's seats keep changing; retry".into()))
}
