//! Who is calling: read only from the JWT authorizer's claims in the request context,
//! never from a header or body field.

use std::collections::HashMap;

use lambda_http::request::RequestContext;

use super::email::Email;
use super::ids::UserId;
use super::text::DisplayName;
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    /// `None` when the token has no usable `email` claim.
    pub email: Option<Email>,
    /// The `email_verified` claim; `None` when absent or not a boolean. Only `true` proves
    /// the address (API.md "Identity"): some issuers omit the claim and let users edit
    /// `email` (Entra ID's "nOAuth"), and the template accepts any issuer.
    pub email_verified: Option<bool>,
    pub name: Option<DisplayName>,
}

impl Caller {
    pub fn from_context(context: Option<&RequestContext>) -> Result<Self, Error> {
        let claims = context
            .and_then(RequestContext::authorizer)
            .and_then(|authorizer| authorizer.jwt.as_ref())
            .map(|jwt| &jwt.claims)
            .ok_or(Error::Unauthenticated)?;
        Self::from_claims(claims)
    }

    pub fn from_claims(claims: &HashMap<String, String>) -> Result<Self, Error> {
        let user_id = claims.get("sub").and_then(|sub| UserId::parse(sub)).ok_or(Error::Unauthenticated)?;
        Ok(Self {
            user_id,
            email: claims.get("email").and_then(|e| Email::parse(e).ok()),
            // API Gateway passes every claim as a string ("true"); some issuers send booleans.
            // API Gateway passes every claim as a string: a boolean `true` arrives as "true".
            // Exactly that proves the address (API.md "Identity"); "TRUE" or " true" is no
            // boolean any issuer sends, so it proves nothing.
            email_verified: claims.get("email_verified").and_then(|v| match v.as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            }),
            name: claims.get("name").and_then(|n| DisplayName::clean(n)),
        })
    }

    /// The caller's address if the token proves it: what may claim an email invitation or
    /// an address's slot, and be stored as a member's email.
    pub fn verified_email(&self) -> Option<&Email> {
        (self.email_verified == Some(true)).then_some(self.email.as_ref()).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn reads_claims() {
        let caller = Caller::from_claims(&claims(&[
            ("sub", "u-1"),
            ("email", "Ann@Example.com"),
            ("email_verified", "true"),
            ("name", "Ann\nLee"),
        ]))
        .unwrap();
        assert_eq!(caller.user_id.as_str(), "u-1");
        assert_eq!(caller.verified_email().unwrap().as_str(), "ann@example.com");
        assert_eq!(caller.name.unwrap().as_str(), "Ann Lee");
    }

    #[test]
    fn no_sub_is_unauthenticated() {
        assert_eq!(Caller::from_claims(&claims(&[("email", "a@b.co")])), Err(Error::Unauthenticated));
        assert_eq!(Caller::from_claims(&claims(&[("sub", "")])), Err(Error::Unauthenticated));
        assert_eq!(Caller::from_context(None), Err(Error::Unauthenticated));
    }

    #[test]
    fn unverified_email_is_not_trusted() {
        let caller =
            Caller::from_claims(&claims(&[("sub", "u"), ("email", "a@b.co"), ("email_verified", "false")]))
                .unwrap();
        assert!(caller.verified_email().is_none());
        // An absent claim proves nothing ("nOAuth"), nor does anything but true.
        let absent = Caller::from_claims(&claims(&[("sub", "u"), ("email", "a@b.co")])).unwrap();
        assert!(absent.verified_email().is_none(), "absent email_verified must not count as verified");
        for odd in ["", "yes", "1", "True", "TRUE", " true", "true ", "null"] {
            let caller =
                Caller::from_claims(&claims(&[("sub", "u"), ("email", "a@b.co"), ("email_verified", odd)]))
                    .unwrap();
            assert!(caller.verified_email().is_none(), "{odd:?}");
        }
    }
}
