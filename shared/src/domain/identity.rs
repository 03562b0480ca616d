//! Who is calling: read only from the JWT authorizer's claims in the request context,
//! never from a header or body field.

use std::collections::{BTreeSet, HashMap};

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

    /// A `sub` naming a service (`service:...`) is no person's: the audit trail names
    /// services so, and no token may pose as one (401).
    pub fn from_claims(claims: &HashMap<String, String>) -> Result<Self, Error> {
        let user_id = claims.get("sub").and_then(|sub| UserId::person(sub)).ok_or(Error::Unauthenticated)?;
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

/// The client ids that count as services (`ROSTER_SERVICE_CLIENTS`): removing one ends its
/// access at once, since its tokens cannot be revoked otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceClients(BTreeSet<String>);

impl ServiceClients {
    /// Client ids separated by commas or whitespace; each `[A-Za-z0-9_.+-]{1,128}` (Cognito's
    /// are `[\w+]+`, the local ones `dev-service`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut ids = BTreeSet::new();
        for id in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|id| !id.is_empty()) {
            let fits = id.len() <= 128
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'-'));
            if !fits {
                return Err(format!("{id:?} is not a client id"));
            }
            ids.insert(id.to_owned());
        }
        Ok(Self(ids))
    }

    pub fn contains(&self, client_id: &str) -> bool {
        self.0.contains(client_id)
    }
}

/// A machine caller: a listed client of the user pool, by the client-credentials grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub client_id: String,
    /// Its `roster/*` scopes; others are the host's own business.
    pub scopes: BTreeSet<String>,
}

impl Service {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// How the audit trail names it.
    pub fn actor(&self) -> String {
        self.user_id().to_string()
    }

    /// Its name where a user id goes: an audit event's actor, the voucher of what it creates.
    pub fn user_id(&self) -> UserId {
        UserId::service(&self.client_id)
    }
}

/// Whoever is calling: a person, or a service (API.md "Identity").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Person(Caller),
    Service(Service),
}

impl Principal {
    pub fn from_context(context: Option<&RequestContext>, services: &ServiceClients) -> Result<Self, Error> {
        let claims = context
            .and_then(RequestContext::authorizer)
            .and_then(|authorizer| authorizer.jwt.as_ref())
            .map(|jwt| &jwt.claims)
            .ok_or(Error::Unauthenticated)?;
        Self::from_claims(claims, services)
    }

    /// A service only when `sub` equals `client_id` and the id is listed: a person's access
    /// token also names its app client, and its `roster/*` scopes (a misconfigured app
    /// client could grant them) count for nothing. A client's own token (`sub` equals
    /// `client_id`) whose id is not listed, or no more, is no person either: `403`, so that
    /// removing a client ends its access at once (it could otherwise create organizations and
    /// join by links as a "person" named by its id).
    pub fn from_claims(claims: &HashMap<String, String>, services: &ServiceClients) -> Result<Self, Error> {
        let sub = claims.get("sub").map(String::as_str);
        let client_id = claims.get("client_id").map(String::as_str);
        // An ID token is no service's (Cognito's carry `token_use: "id"`, and no `client_id`);
        // a service's access token says `access`. Issuers that send no `token_use` are judged
        // by the rest.
        let access = claims.get("token_use").is_none_or(|use_| use_ == "access");
        match (sub, client_id) {
            (Some(sub), Some(client)) if !sub.is_empty() && sub == client => {
                if !(access && services.contains(client)) {
                    return Err(Error::forbidden("this client is not one of this deployment's services"));
                }
                // API Gateway passes `scope` as the token's string, its tokens separated by
                // one space each (RFC 6749 section 3.3). A tab, a line break or another
                // space-like character is no separator: it makes one malformed token, which
                // grants nothing.
                let scopes = claims
                    .get("scope")
                    .map(|s| s.split(' ').filter(|s| s.starts_with("roster/")).map(str::to_owned).collect())
                    .unwrap_or_default();
                Ok(Self::Service(Service { client_id: client.to_owned(), scopes }))
            }
            _ => Caller::from_claims(claims).map(Self::Person),
        }
    }

    /// The person calling; a service on a route meant for people is refused.
    pub fn person(self) -> Result<Caller, Error> {
        match self {
            Self::Person(caller) => Ok(caller),
            Self::Service(_) => {
                Err(Error::forbidden("this route is for people; a service token cannot call it"))
            }
        }
    }

    /// The service calling, holding `scope`; anyone else is refused.
    pub fn service_with(self, scope: &str) -> Result<Service, Error> {
        match self {
            Self::Service(service) if service.has_scope(scope) => Ok(service),
            Self::Service(_) => Err(Error::forbidden(format!("this route needs the {scope} scope"))),
            Self::Person(_) => Err(Error::forbidden("this route is for services")),
        }
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
        // No person poses as a service in the audit trail.
        assert_eq!(
            Caller::from_claims(&claims(&[("sub", "service:dev-backend")])),
            Err(Error::Unauthenticated)
        );
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

    #[test]
    fn a_service_only_when_listed_and_its_own_subject() {
        let services = ServiceClients::parse("svc-1, svc-2").unwrap();
        let service = Principal::from_claims(
            &claims(&[
                ("sub", "svc-1"),
                ("client_id", "svc-1"),
                ("scope", "roster/authorize other/x roster/admin"),
            ]),
            &services,
        )
        .unwrap();
        let Principal::Service(service) = service else { panic!("{service:?}") };
        assert!(service.has_scope("roster/authorize") && service.has_scope("roster/admin"));
        assert!(!service.has_scope("other/x"));
        // Only a space separates scopes: a tab or a Unicode space joins them into one.
        for odd in ["roster/admin\troster/authorize", "roster/admin\u{a0}roster/authorize"] {
            let Ok(Principal::Service(service)) = Principal::from_claims(
                &claims(&[("sub", "svc-1"), ("client_id", "svc-1"), ("scope", odd)]),
                &services,
            ) else {
                panic!("{odd:?}: still a service, without the scope")
            };
            assert!(!service.has_scope("roster/authorize"), "{odd:?}");
        }
        assert_eq!(service.actor(), "service:svc-1");
        // A person's access token of a listed app client, with roster scopes: a person.
        let person = Principal::from_claims(
            &claims(&[("sub", "u-1"), ("client_id", "svc-1"), ("scope", "roster/admin")]),
            &services,
        )
        .unwrap();
        assert!(matches!(person, Principal::Person(ref c) if c.user_id.as_str() == "u-1"));
        assert!(person.service_with("roster/admin").is_err());
        // An unlisted client: no service, and no person either.
        let unlisted = Principal::from_claims(
            &claims(&[("sub", "svc-9"), ("client_id", "svc-9"), ("scope", "roster/admin")]),
            &services,
        );
        assert!(matches!(unlisted, Err(Error::Forbidden(_))), "{unlisted:?}");
        // An ID token naming a listed client (Cognito's say `token_use: "id"`): neither.
        let id_token = Principal::from_claims(
            &claims(&[
                ("sub", "svc-1"),
                ("client_id", "svc-1"),
                ("token_use", "id"),
                ("scope", "roster/admin"),
            ]),
            &services,
        );
        assert!(matches!(id_token, Err(Error::Forbidden(_))), "{id_token:?}");
        let listed =
            Principal::from_claims(&claims(&[("sub", "svc-2"), ("client_id", "svc-2")]), &services).unwrap();
        assert!(matches!(listed.clone().person(), Err(Error::Forbidden(_))));
        assert!(matches!(listed.service_with("roster/authorize"), Err(Error::Forbidden(_))));
        assert!(ServiceClients::parse("a b,c").unwrap().contains("c"));
        assert!(ServiceClients::parse("a;b").is_err());
    }
}
