//! The one error type of the product, and its one mapping to an HTTP problem (RFC 9457).

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

/// Everything that can go wrong in a request, as the client must see it. Each variant has a
/// stable `code`; texts never carry AWS error messages, stack traces or tokens.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidJson(String),
    #[error("not a valid email address")]
    InvalidEmail,
    #[error("role must be one of owner, admin, member, viewer")]
    InvalidRole,
    /// `invalid_role` naming what is wrong (an organization's custom role it does not have).
    #[error("{0}")]
    InvalidRoleNamed(String),
    #[error("the cursor is not valid for this list")]
    InvalidCursor,
    #[error("a signed-in caller is required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("your membership of this organization is suspended")]
    Suspended,
    #[error("this invitation was sent to a different email address")]
    EmailMismatch,
    #[error("no such resource")]
    NotFound,
    #[error("the invitation does not exist, was revoked or was already used")]
    InvitationNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("an organization must keep at least one active owner")]
    LastOwner,
    #[error("{0}")]
    Conflict(String),
    /// A custom role that a member, invitation, link or grant still holds.
    #[error("{0}")]
    RoleInUse(String),
    #[error("the organization has reached its member limit")]
    SeatLimit,
    #[error("you already belong to an organization")]
    AlreadyInOrg,
    #[error("{0}")]
    LimitExceeded(String),
    #[error("the invitation has expired")]
    InvitationExpired,
    #[error("the invite link has been used the maximum number of times")]
    InvitationExhausted,
    #[error("the request body is larger than 64 KiB")]
    PayloadTooLarge,
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    #[error("the email could not be queued; the invitation is kept, resend it later")]
    EmailDeliveryFailed,
    /// Past an invitation-email quota (API.md "Email delivery"); the window ends in
    /// `retry_after` seconds.
    #[error("{detail}")]
    RateLimited { detail: String, retry_after: u64 },
    #[error(
        "this organization's invitation emails are paused: too many bounced or drew complaints; \
         the deployment's operator can lift the pause"
    )]
    InvitationsPaused,
    #[error("the service is temporarily unavailable; retry later")]
    Unavailable,
    /// A temporary password the user pool's policy refuses: the rule it breaks, never the
    /// password.
    #[error("{0}")]
    WeakPassword(String),
    /// Adding users with a temporary password needs the stack's own user pool
    /// (`ROSTER_USER_POOL_ID`); a deployment that signs people in elsewhere has none.
    #[error(
        "this deployment signs people in through another identity provider: it cannot create \
         accounts; invite the address instead"
    )]
    AccountsUnavailable,
    /// A defect on our side. The cause is logged, never sent.
    #[error("internal error")]
    Internal,
}

impl Error {
    pub fn invalid_request(detail: impl Into<String>) -> Self {
        Self::InvalidRequest(detail.into())
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden(detail.into())
    }

    pub fn status(&self) -> StatusCode {
        use Error::*;
        match self {
            InvalidRequest(_) | InvalidJson(_) | InvalidEmail | InvalidRole | InvalidRoleNamed(_)
            | InvalidCursor | WeakPassword(_) => StatusCode::BAD_REQUEST,
            Unauthenticated => StatusCode::UNAUTHORIZED,
            Forbidden(_) | Suspended | EmailMismatch | InvitationsPaused => StatusCode::FORBIDDEN,
            RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            NotFound | InvitationNotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            LastOwner | Conflict(_) | SeatLimit | AlreadyInOrg | LimitExceeded(_) | RoleInUse(_) => {
                StatusCode::CONFLICT
            }
            InvitationExpired | InvitationExhausted => StatusCode::GONE,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            EmailDeliveryFailed => StatusCode::BAD_GATEWAY,
            Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AccountsUnavailable => StatusCode::NOT_IMPLEMENTED,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        use Error::*;
        match self {
            InvalidRequest(_) => "invalid_request",
            InvalidJson(_) => "invalid_json",
            InvalidEmail => "invalid_email",
            InvalidRole | InvalidRoleNamed(_) => "invalid_role",
            InvalidCursor => "invalid_cursor",
            Unauthenticated => "unauthenticated",
            Forbidden(_) => "forbidden",
            Suspended => "suspended",
            EmailMismatch => "email_mismatch",
            NotFound => "not_found",
            InvitationNotFound => "invitation_not_found",
            MethodNotAllowed => "method_not_allowed",
            LastOwner => "last_owner",
            Conflict(_) => "conflict",
            SeatLimit => "seat_limit",
            AlreadyInOrg => "already_in_org",
            LimitExceeded(_) => "limit_exceeded",
            RoleInUse(_) => "role_in_use",
            InvitationExpired => "invitation_expired",
            InvitationExhausted => "invitation_exhausted",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            EmailDeliveryFailed => "email_delivery_failed",
            RateLimited { .. } => "rate_limited",
            InvitationsPaused => "invitations_paused",
            Unavailable => "unavailable",
            WeakPassword(_) => "weak_password",
            AccountsUnavailable => "accounts_unavailable",
            Internal => "internal_error",
        }
    }

    pub fn to_response(&self) -> Response<Body> {
        let status = self.status();
        let problem = Problem {
            r#type: format!("urn:roster:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.to_string(),
            code: self.code(),
        };
        let body = serde_json::to_string(&problem).expect("a problem always serialises");
        let mut builder =
            Response::builder().status(status).header(header::CONTENT_TYPE, "application/problem+json");
        if status == StatusCode::SERVICE_UNAVAILABLE {
            builder = builder.header(header::RETRY_AFTER, "1");
        }
        if let Error::RateLimited { retry_after, .. } = self {
            builder = builder.header(header::RETRY_AFTER, retry_after.to_string());
        }
        builder.body(Body::from(body)).expect("static headers are valid")
    }
}

#[derive(Serialize)]
struct Problem {
    r#type: String,
    title: &'static str,
    status: u16,
    detail: String,
    code: &'static str,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_shape() {
        let response = Error::LastOwner.to_response();
        assert_eq!(response.status(), 409);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/problem+json");
        let Body::Text(text) = response.body() else { panic!("text body") };
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(json["code"], "last_owner");
        assert_eq!(json["status"], 409);
        assert_eq!(json["type"], "urn:roster:problem:last_owner");
        assert!(json["detail"].as_str().unwrap().contains("owner"));
    }
}
