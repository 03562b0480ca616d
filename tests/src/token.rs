//! Local stand-in for the JWT authorizer: HS256 tokens signed with a development secret.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value, json};

use crate::event::{Claims, claims_from_json};

pub const SECRET_ENV: &str = "ROSTER_DEV_JWT_SECRET";
pub const DEFAULT_SECRET: &str = "roster-dev-secret-for-local-use-only";

pub fn secret() -> String {
    std::env::var(SECRET_ENV).ok().filter(|s| !s.is_empty()).unwrap_or_else(|| DEFAULT_SECRET.to_owned())
}

/// A signed token for `sub`, valid for `ttl_seconds`.
pub fn mint(
    secret: &str,
    sub: &str,
    email: Option<&str>,
    name: Option<&str>,
    verified: bool,
    ttl_seconds: i64,
) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({ "sub": sub, "iat": now, "exp": now + ttl_seconds, "iss": "roster-local" });
    if let Some(email) = email {
        claims["email"] = json!(email);
        claims["email_verified"] = json!(verified);
    }
    if let Some(name) = name {
        claims["name"] = json!(name);
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing cannot fail")
}

/// The claims of a valid token (signature, `exp`, a `sub`), as API Gateway would pass them on.
pub fn verify(secret: &str, token: &str) -> Option<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.validate_aud = false;
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .ok()?;
    Some(claims_from_json(&data.claims))
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mint_and_verify() {
        let token = mint("s", "alice", Some("a@x.io"), Some("Alice"), true, 60);
        let claims = verify("s", &token).unwrap();
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["email_verified"], "true");
        assert!(verify("other", &token).is_none(), "wrong secret");
        assert!(verify("s", &mint("s", "alice", None, None, true, -120)).is_none(), "expired");
        assert!(verify("s", "garbage").is_none());
    }
}
