//! The `pre-sign-up` function: Cognito's pre-sign-up trigger, attached when the stack's
//! `AllowSelfSignUp` is false. The user pool still allows the SignUp API (so an invitee can
//! create an account from the managed login's sign-up page), and this trigger admits a
//! sign-up only for an address with a pending, unexpired invitation in a live (not deleted)
//! organization; everything else is refused. Self sign-up so stays closed to strangers.
//!
//! An admitted event is handed back exactly as received: never `autoConfirmUser` or
//! `autoVerifyEmail`, so Cognito verifies the address itself and nobody gets an account for
//! an address they cannot read.
//!
//! DynamoDB round trips: 2 (a Query of GSI1 by address, then one BatchGetItem of the
//! organizations with a pending invitation, to drop deleted ones); 1 when the address has
//! no pending invitation; none for AdminCreateUser or an event refused on its face.

use serde_json::Value;

use super::cognito_event::TriggerEvent;
use crate::App;
use crate::domain::Email;
use crate::error::Error;

/// What Cognito shows the visitor, after its own "PreSignUp failed with error ". The same
/// for every refusal, so that a stranger learns nothing about which addresses are invited.
pub const INVITATION_ONLY: &str =
    "Sign-up is by invitation only. Use the address your invitation was sent to.";

/// Cognito's `triggerSource` values for this trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The SignUp API (the managed login's sign-up page).
    SignUp,
    /// A first sign-in through a federated identity provider.
    ExternalProvider,
    /// An administrator's AdminCreateUser.
    AdminCreateUser,
}

impl Trigger {
    pub fn parse(source: &str) -> Option<Self> {
        match source {
            "PreSignUp_SignUp" => Some(Self::SignUp),
            "PreSignUp_ExternalProvider" => Some(Self::ExternalProvider),
            "PreSignUp_AdminCreateUser" => Some(Self::AdminCreateUser),
            _ => None,
        }
    }
}

/// Why a sign-up was refused: logged, never shown (the visitor sees [`INVITATION_ONLY`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownTrigger,
    NoEmail,
    InvalidEmail,
    /// A federated provider's address without its `email_verified`: anyone could claim it.
    UnverifiedEmail,
    NoInvitation,
}

impl Refusal {
    fn code(self) -> &'static str {
        match self {
            Refusal::UnknownTrigger => "unknown_trigger",
            Refusal::NoEmail => "no_email",
            Refusal::InvalidEmail => "invalid_email",
            Refusal::UnverifiedEmail => "unverified_email",
            Refusal::NoInvitation => "no_invitation",
        }
    }
}

/// What the event settles before anything is read.
#[derive(Debug, PartialEq, Eq)]
pub enum Screening {
    Admit,
    Refuse(Refusal),
    /// Admitted only if this address has a pending invitation in a live organization.
    NeedsInvitation(Email),
}

/// The rule on the event alone: an administrator's AdminCreateUser is admitted; a sign-up
/// of one's own (SignUp, ExternalProvider) needs an invitation to a valid address. A
/// federated provider's address must also come verified (`email_verified` mapped to "true"):
/// Cognito verifies a SignUp's address itself afterwards, but not a federated one.
pub fn screen(trigger: Option<Trigger>, email: Option<&str>, email_verified: bool) -> Screening {
    match trigger {
        None => Screening::Refuse(Refusal::UnknownTrigger),
        Some(Trigger::AdminCreateUser) => Screening::Admit,
        Some(trigger @ (Trigger::SignUp | Trigger::ExternalProvider)) => match email.map(Email::parse) {
            None => Screening::Refuse(Refusal::NoEmail),
            Some(Err(_)) => Screening::Refuse(Refusal::InvalidEmail),
            Some(Ok(_)) if trigger == Trigger::ExternalProvider && !email_verified => {
                Screening::Refuse(Refusal::UnverifiedEmail)
            }
            Some(Ok(email)) => Screening::NeedsInvitation(email),
        },
    }
}

/// Decides one event at the app's clock: `Ok` with the event as received when admitted,
/// `Forbidden(INVITATION_ONLY)` when refused, `InvalidRequest` for something that is no
/// pre-sign-up event. The address is never logged.
pub async fn handle(app: &App, event: Value) -> Result<Value, Error> {
    let parsed = TriggerEvent::parse(&event, "pre-sign-up")?;
    let trigger = Trigger::parse(&parsed.trigger_source);
    let attribute = |name: &str| parsed.attribute(name);
    let email = attribute("email").and_then(Value::as_str);
    // Cognito passes every attribute as a string; a boolean true proves as much.
    let email_verified = matches!(attribute("email_verified"), Some(Value::Bool(true)))
        || attribute("email_verified").and_then(Value::as_str) == Some("true");
    let now = app.now();
    let refusal = match screen(trigger, email, email_verified) {
        Screening::Admit => None,
        Screening::Refuse(refusal) => Some(refusal),
        Screening::NeedsInvitation(email) => {
            (!app.store.invited(&email, now).await?).then_some(Refusal::NoInvitation)
        }
    };
    match refusal {
        None => {
            tracing::info!(trigger = ?trigger, "sign-up admitted");
            Ok(event)
        }
        Some(refusal) => {
            tracing::info!(trigger = ?trigger, reason = refusal.code(), "sign-up refused");
            Err(Error::forbidden(INVITATION_ONLY))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers() {
        assert_eq!(Trigger::parse("PreSignUp_SignUp"), Some(Trigger::SignUp));
        assert_eq!(Trigger::parse("PreSignUp_ExternalProvider"), Some(Trigger::ExternalProvider));
        assert_eq!(Trigger::parse("PreSignUp_AdminCreateUser"), Some(Trigger::AdminCreateUser));
        for other in ["", "PostConfirmation_ConfirmSignUp", "presignup_signup", "PreSignUp_SignUp "] {
            assert_eq!(Trigger::parse(other), None, "{other:?}");
        }
    }

    #[test]
    fn screening() {
        let ann = Email::parse("ann@example.com").unwrap();
        assert_eq!(screen(Some(Trigger::AdminCreateUser), None, false), Screening::Admit);
        assert_eq!(screen(None, Some("ann@example.com"), true), Screening::Refuse(Refusal::UnknownTrigger));
        for trigger in [Trigger::SignUp, Trigger::ExternalProvider] {
            assert_eq!(screen(Some(trigger), None, true), Screening::Refuse(Refusal::NoEmail));
            assert_eq!(screen(Some(trigger), Some("nope"), true), Screening::Refuse(Refusal::InvalidEmail));
            assert_eq!(
                screen(Some(trigger), Some(" Ann@Example.COM"), true),
                Screening::NeedsInvitation(ann.clone())
            );
        }
        // Cognito verifies a SignUp's address after the trigger; a federated one, never.
        assert_eq!(
            screen(Some(Trigger::SignUp), Some("ann@example.com"), false),
            Screening::NeedsInvitation(ann)
        );
        assert_eq!(
            screen(Some(Trigger::ExternalProvider), Some("ann@example.com"), false),
            Screening::Refuse(Refusal::UnverifiedEmail)
        );
    }
}
