//! The `post-confirmation` function: Cognito's post-confirmation trigger, attached when the
//! stack's `CreateOrgOnSignUp` is true (`ROSTER_CREATE_ORG_ON_SIGN_UP`). A user who signed up
//! and confirmed their account gets "{name}'s organization" with themself as its owner, so
//! that every user belongs to an organization from the first minute (API.md "Accounts").
//!
//! - Exactly once, however often Cognito delivers the event (it retries a trigger that fails
//!   or times out, and a retry may run beside the first): the organization's transaction
//!   also writes the user's sign-up record, conditioned on there being none
//!   (`Store::create_org`).
//! - Not at all when their verified address has a pending invitation in a live
//!   organization: they are on their way to accept it (and with one organization per user
//!   an organization of their own would stand in its way).
//! - Only for a sign-up's confirmation: a password reset (`PostConfirmation_ConfirmForgotPassword`)
//!   is handed back untouched. Cognito never runs this trigger for users an administrator
//!   created (`POST /orgs/{orgId}/members/accounts`): they have their organization already.
//! - The organization is marked personal: with one organization per user, accepting an
//!   invitation replaces it while its owner is alone in it and has invited nobody.
//!
//! A failure is returned to Cognito, which then shows the sign-up an error and retries; the
//! user is confirmed either way. One who somehow has no organization afterwards lands on the
//! app's "create your organization" page, as any user without one.
//!
//! DynamoDB round trips: at most 3: a Query of GSI1 for the address's invitations (none
//! without a verified address), a BatchGetItem of the inviting organizations (only when
//! there are any), then the transaction, or the sign-up's record alone for an invited
//! address; one more when the transaction finds the user in an organization already (the
//! record); none for an event handed back on its face.

use serde_json::{Value, json};

use super::cognito_event::TriggerEvent;
use crate::App;
use crate::domain::{
    AuditAction, AuditEvent, DisplayName, Email, Member, Metadata, Org, OrgId, OrgName, Role, UserId,
};
use crate::error::Error;
use crate::store::Created;

/// What the trigger did with one event (logged; Cognito reads only the returned event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    /// Cognito delivered the event again: the first delivery made the organization.
    SignedUpBefore,
    /// The verified address has a pending invitation: accepting it gives the organization.
    Invited,
    /// One organization per user, and the user has one already.
    HasOrg,
    /// Not a sign-up's confirmation, or the deployment does not create organizations.
    NotASignUp,
}

/// The organization's name: "{name}'s organization", the name cut so that the whole fits
/// an organization name; "My organization" for a user without a usable name (the owner
/// renames it in Settings).
pub fn org_name(name: Option<&DisplayName>) -> OrgName {
    const SUFFIX: &str = "'s organization";
    let own = name.and_then(|name| {
        let room = OrgName::MAX_CHARS - SUFFIX.chars().count();
        let cut: String = name.as_str().chars().take(room).collect();
        OrgName::parse(&format!("{}{SUFFIX}", cut.trim_end())).ok()
    });
    own.unwrap_or_else(|| OrgName::parse("My organization").expect("a valid name"))
}

/// Handles one event at the app's clock: `Ok` with the event as received (Cognito expects it
/// back), `InvalidRequest` for something that is no post-confirmation event of a user with
/// a `sub`. The address and name are never logged.
pub async fn handle(app: &App, event: Value) -> Result<Value, Error> {
    let outcome = decide(app, &event).await?;
    tracing::info!(outcome = ?outcome, "post-confirmation");
    Ok(event)
}

async fn decide(app: &App, event: &Value) -> Result<Outcome, Error> {
    let parsed = TriggerEvent::parse(event, "post-confirmation")?;
    if parsed.trigger_source != "PostConfirmation_ConfirmSignUp" {
        if !parsed.trigger_source.starts_with("PostConfirmation_") {
            return Err(Error::invalid_request("not a Cognito post-confirmation event"));
        }
        return Ok(Outcome::NotASignUp);
    }
    if !app.config.create_org_on_sign_up {
        return Ok(Outcome::NotASignUp);
    }
    let attribute = |name: &str| parsed.attribute(name).and_then(Value::as_str);
    let user = attribute("sub")
        .and_then(UserId::person)
        .ok_or_else(|| Error::invalid_request("the event names no user (sub)"))?;
    // Only a verified address counts (API.md "Identity"): a confirmation through
    // AdminConfirmSignUp may leave it unverified.
    let email = match (attribute("email"), attribute("email_verified")) {
        (Some(email), Some("true")) => Email::parse(email).ok(),
        _ => None,
    };
    let now = app.now();
    if let Some(email) = &email {
        if app.store.invited(email, now).await? {
            // Recorded, so that a redelivery after they accepted makes no organization either.
            app.store.record_sign_up(&user).await?;
            return Ok(Outcome::Invited);
        }
    }
    let name = attribute("name").and_then(DisplayName::clean);
    let org = Org {
        id: OrgId::new(),
        name: org_name(name.as_ref()),
        created_at: now,
        member_count: 1,
        metadata: Metadata::default(),
        version: 0,
        invitations_paused: None,
        personal: true,
    };
    let owner = Member::joining(user.clone(), email, name, Role::Owner, now, None, Metadata::default());
    let event = AuditEvent::new(
        now,
        &user,
        AuditAction::OrgCreated,
        Some(org.id.to_string()),
        json!({ "name": org.name, "via": "sign_up" }),
    );
    match app.store.create_org(&org, &owner, &event, app.config.one_org_per_user, true).await {
        Ok(Created::Created) => Ok(Outcome::Created),
        Ok(Created::SignedUpBefore) => Ok(Outcome::SignedUpBefore),
        Err(Error::AlreadyInOrg) => {
            app.store.record_sign_up(&user).await?;
            Ok(Outcome::HasOrg)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let name = |s: &str| DisplayName::clean(s);
        assert_eq!(org_name(name("Ann Lee").as_ref()).as_str(), "Ann Lee's organization");
        assert_eq!(org_name(None).as_str(), "My organization");
        let long = "é".repeat(150);
        let made = org_name(name(&long).as_ref());
        assert_eq!(made.as_str().chars().count(), OrgName::MAX_CHARS);
        assert!(made.as_str().ends_with("'s organization"));
    }
}
