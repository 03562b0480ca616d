//! The stack's Cognito user pool, where admins add users with a temporary password (API.md
//! "Accounts"). Only the `accounts` function builds this client (`app::run_accounts`), so no
//! other function links Cognito's SDK calls.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, DeliveryMediumType, MessageActionType, UserStatusType,
};
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::domain::{DisplayName, Email, Timestamp};
use crate::error::Error;

/// Cognito's longest username (`AdminCreateUser`'s `Username`), and so, in a pool whose
/// usernames are addresses, the longest address an account can have: shorter than the 254
/// an address may have elsewhere.
pub const USERNAME_MAX_LEN: usize = 128;

/// The pool's client and id, built once per cold start.
#[derive(Clone, Debug)]
pub struct Accounts {
    client: Client,
    pool_id: String,
}

/// A new account's sign-in: the address (the pool's usernames are addresses), its display
/// name, and the temporary password it must change at first sign-in.
pub struct NewAccount<'a> {
    pub email: &'a Email,
    pub name: &'a DisplayName,
    pub password: &'a str,
    /// Cognito emails the temporary password; otherwise its message is suppressed.
    pub send_email: bool,
}

/// An existing account, as the decision on a retry needs it.
#[derive(Debug, Clone)]
pub struct Account {
    pub sub: String,
    /// Created by an admin and never signed in since: its temporary password still stands.
    pub awaiting_first_sign_in: bool,
    pub created_at: Option<Timestamp>,
}

/// Why no account was created.
#[derive(Debug)]
pub enum CreateError {
    /// The address has an account already.
    Exists,
    /// The pool refused the password (its policy is stricter than the one configured).
    Password,
    Failed(Error),
}

impl Accounts {
    pub fn new(client: Client, pool_id: String) -> Self {
        Self { client, pool_id }
    }

    pub fn pool_id(&self) -> &str {
        &self.pool_id
    }

    /// `AdminCreateUser`: the address unverified (its owner proves it at first sign-in with
    /// Cognito's code: the admin who typed it proves nothing), the name, the temporary
    /// password. The new account's `sub`, the user id its tokens will carry.
    pub async fn create(&self, account: NewAccount<'_>) -> Result<String, CreateError> {
        let attribute = |name: &str, value: &str| {
            AttributeType::builder().name(name).value(value).build().expect("name is set")
        };
        let mut request = self
            .client
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(account.email.as_str())
            .temporary_password(account.password)
            .user_attributes(attribute("email", account.email.as_str()))
            .user_attributes(attribute("email_verified", "false"))
            .user_attributes(attribute("name", account.name.as_str()));
        request = if account.send_email {
            request.desired_delivery_mediums(DeliveryMediumType::Email)
        } else {
            request.message_action(MessageActionType::Suppress)
        };
        match request.send().await {
            Ok(out) => {
                let user =
                    out.user.ok_or_else(|| CreateError::Failed(unexpected("AdminCreateUser", "no user")))?;
                sub_of(user.attributes(), user.username())
                    .ok_or_else(|| CreateError::Failed(unexpected("AdminCreateUser", "no sub")))
            }
            Err(SdkError::ServiceError(e)) if e.err().code() == Some("UsernameExistsException") => {
                Err(CreateError::Exists)
            }
            Err(SdkError::ServiceError(e)) if e.err().code() == Some("InvalidPasswordException") => {
                Err(CreateError::Password)
            }
            Err(e) => Err(CreateError::Failed(classify("AdminCreateUser", e))),
        }
    }

    /// `AdminGetUser` of the address: `None` when it has no account.
    pub async fn find(&self, email: &Email) -> Result<Option<Account>, Error> {
        let result =
            self.client.admin_get_user().user_pool_id(&self.pool_id).username(email.as_str()).send().await;
        let out = match result {
            Ok(out) => out,
            Err(SdkError::ServiceError(e)) if e.err().code() == Some("UserNotFoundException") => {
                return Ok(None);
            }
            Err(e) => return Err(classify("AdminGetUser", e)),
        };
        let sub = sub_of(out.user_attributes(), Some(out.username()))
            .ok_or_else(|| unexpected("AdminGetUser", "no sub"))?;
        let created_at = out
            .user_create_date()
            .and_then(|d| chrono::DateTime::from_timestamp(d.secs(), d.subsec_nanos()))
            .map(Timestamp::from);
        Ok(Some(Account {
            sub,
            awaiting_first_sign_in: out.user_status() == Some(&UserStatusType::ForceChangePassword),
            created_at,
        }))
    }

    /// `AdminSetUserPassword`, not permanent: the account's temporary password becomes
    /// `password` (a retry's, so that what its answer stands for holds).
    pub async fn set_temporary_password(&self, email: &Email, password: &str) -> Result<(), CreateError> {
        let result = self
            .client
            .admin_set_user_password()
            .user_pool_id(&self.pool_id)
            .username(email.as_str())
            .password(password)
            .permanent(false)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().code() == Some("InvalidPasswordException") => {
                Err(CreateError::Password)
            }
            Err(e) => Err(CreateError::Failed(classify("AdminSetUserPassword", e))),
        }
    }
}

/// The `sub` attribute, else the username (which is the `sub` in a pool whose usernames are
/// addresses).
fn sub_of(attributes: &[AttributeType], username: Option<&str>) -> Option<String> {
    attributes
        .iter()
        .find(|a| a.name() == "sub")
        .and_then(|a| a.value())
        .or(username.filter(|u| !u.contains('@')))
        .map(str::to_owned)
}

fn unexpected(operation: &'static str, what: &str) -> Error {
    tracing::error!(operation, what, "Cognito answered without what it always sends");
    Error::Internal
}

/// A Cognito failure that is no answer about the account: `503` (the pool could not be
/// reached or throttled us past the SDK's retries), else `500`. The SDK's error text names
/// the operation and code, never the request's password (a sensitive field it redacts).
fn classify<E, R>(operation: &'static str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some("TooManyRequestsException" | "InternalErrorException" | "LimitExceededException")
        ),
        _ => false,
    };
    let code = err.code().unwrap_or("none").to_owned();
    if transient {
        tracing::error!(operation, code, error = %DisplayErrorContext(&err), "Cognito unavailable after retries");
        Error::Unavailable
    } else {
        tracing::error!(operation, code, "Cognito rejected a request");
        Error::Internal
    }
}
