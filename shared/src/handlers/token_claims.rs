//! The `token-claims` function: Cognito's pre-token-generation trigger, attached when the
//! stack creates the user pool. It adds `roster_orgs`, the user's active memberships as
//! `{orgId: role}` (the [`MAX_ORGS`] most recently joined, then `roster_orgs_truncated`), so
//! that the host product can route and show organizations without a call to Roster. The
//! claim is a snapshot as of the token's minting: `POST /authorize` is the fresh answer.
//!
//! Two event versions, as the pool's feature plan allows:
//! - `"1"` (`V1_0`, the Lite plan): the ID token only, in
//!   `response.claimsOverrideDetails.claimsToAddOrOverride`, where every value must be a
//!   string: `roster_orgs` is a string holding the JSON object, `roster_orgs_truncated` the
//!   string `"true"`.
//! - `"2"` (`V2_0`, Essentials and Plus; `"3"` has the same shape): the ID and the access
//!   token, in `response.claimsAndScopeOverrideDetails.{idTokenGeneration,
//!   accessTokenGeneration}.claimsToAddOrOverride`, the claim a JSON object.
//!
//! The user is `request.userAttributes.sub`, the token's `sub` and so the API's user id
//! (`userName` is the pool's user name, which for a federated user is not the `sub`).
//!
//! Fails open: whatever goes wrong (the table cannot be read in time, an event of another
//! kind) the event is handed back unchanged and the sign-in goes on, without the claim. An
//! error is logged, never the user's tokens or addresses.
//!
//! DynamoDB round trips: 2 per [`PAGE`] memberships (a Query of GSI1 for the user's
//! memberships, then one wave of BatchGetItem for them and their organizations, as
//! `GET /orgs` reads them), at most [`MAX_PAGES`] pages.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::App;
use crate::domain::{OrgId, Role, Timestamp, UserId};
use crate::error::Error;
use crate::store::UserOrg;

/// The claim holding the memberships.
pub const ORGS_CLAIM: &str = "roster_orgs";
/// Set (to `true`, or `"true"` in a V1 event) when the user has more active memberships
/// than the claim lists.
pub const TRUNCATED_CLAIM: &str = "roster_orgs_truncated";
/// At most this many organizations in the claim: tokens travel in every request's headers.
pub const MAX_ORGS: usize = 50;
/// Memberships read per round of the user's list.
const PAGE: usize = 100;
/// Rounds read at most: a user with more memberships than `PAGE * MAX_PAGES` gets the most
/// recently joined among those read, and `roster_orgs_truncated`.
const MAX_PAGES: usize = 10;
/// Cognito waits 5 seconds for its trigger and fails the sign-in after that: the table gets
/// this long, then the token is minted without the claim.
const READ_BUDGET: Duration = Duration::from_secs(3);

/// What the claim says: the organizations (most recently joined first) and whether more
/// were left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgClaim {
    pub orgs: Vec<(OrgId, Role)>,
    pub truncated: bool,
}

impl OrgClaim {
    /// The claim from active memberships with their joining time, in any order: the
    /// [`MAX_ORGS`] most recently joined (ties by organization id, newest first).
    /// `more` says whether memberships were left unread.
    pub fn from_memberships(mut active: Vec<(OrgId, Role, Timestamp)>, more: bool) -> Self {
        active.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| b.0.cmp(&a.0)));
        let truncated = more || active.len() > MAX_ORGS;
        active.truncate(MAX_ORGS);
        Self { orgs: active.into_iter().map(|(org, role, _)| (org, role)).collect(), truncated }
    }

    /// `{orgId: role}`.
    pub fn orgs_json(&self) -> Value {
        let map: Map<String, Value> =
            self.orgs.iter().map(|(org, role)| (org.to_string(), json!(role))).collect();
        Value::Object(map)
    }

    /// The claims to add, as a V2 event takes them (JSON values).
    fn v2_claims(&self) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert(ORGS_CLAIM.to_owned(), self.orgs_json());
        if self.truncated {
            claims.insert(TRUNCATED_CLAIM.to_owned(), Value::Bool(true));
        }
        claims
    }

    /// The claims to add, as a V1 event takes them (every value a string).
    fn v1_claims(&self) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert(ORGS_CLAIM.to_owned(), Value::String(self.orgs_json().to_string()));
        if self.truncated {
            claims.insert(TRUNCATED_CLAIM.to_owned(), Value::String("true".to_owned()));
        }
        claims
    }
}

/// The event version, by where its response takes claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    /// `claimsOverrideDetails`: the ID token, string values.
    V1,
    /// `claimsAndScopeOverrideDetails`: the ID and access tokens, JSON values.
    V2,
}

/// Why an event is handed back without the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    /// Not a token generation for a user (e.g. `TokenGeneration_ClientCredentials`, or another
    /// trigger's event).
    NotForAUser,
    UnknownVersion,
    NoSub,
}

impl Skip {
    fn code(self) -> &'static str {
        match self {
            Skip::NotForAUser => "not_for_a_user",
            Skip::UnknownVersion => "unknown_version",
            Skip::NoSub => "no_sub",
        }
    }
}

/// What the event asks for, read before anything else.
fn screen(event: &Value) -> Result<(Version, UserId), Skip> {
    let source = event["triggerSource"].as_str().unwrap_or_default();
    // A client-credentials token (V3) belongs to a machine, not to a member.
    if !source.starts_with("TokenGeneration_") || source == "TokenGeneration_ClientCredentials" {
        return Err(Skip::NotForAUser);
    }
    let version = match event["version"].as_str() {
        Some("1") => Version::V1,
        Some("2" | "3") => Version::V2,
        _ => return Err(Skip::UnknownVersion),
    };
    // As the API reads the token's `sub` (see `domain::identity`).
    let user =
        event["request"]["userAttributes"]["sub"].as_str().and_then(UserId::parse).ok_or(Skip::NoSub)?;
    Ok((version, user))
}

/// Answers one event: with `roster_orgs` (and `roster_orgs_truncated`) added to the tokens
/// the event's version lets the trigger change, or, when it cannot, the event unchanged.
/// Never an error: a sign-in is never refused for the claim's sake.
pub async fn handle(app: &App, mut event: Value) -> Result<Value, Error> {
    let source = event["triggerSource"].as_str().unwrap_or_default().to_owned();
    let (version, user) = match screen(&event) {
        Ok(found) => found,
        Err(Skip::NotForAUser) => {
            tracing::info!(trigger = %source, "no user's token: left unchanged");
            return Ok(event);
        }
        Err(skip) => {
            tracing::warn!(trigger = %source, reason = skip.code(), "token minted without the organizations claim");
            return Ok(event);
        }
    };
    let claim = match tokio::time::timeout(READ_BUDGET, org_claim(app, &user)).await {
        Ok(Ok(claim)) => claim,
        Ok(Err(e)) => {
            tracing::error!(trigger = %source, error = e.code(), "memberships unreadable: token minted without the organizations claim");
            return Ok(event);
        }
        Err(_) => {
            tracing::error!(trigger = %source, budget_ms = READ_BUDGET.as_millis() as u64, "memberships not read in time: token minted without the organizations claim");
            return Ok(event);
        }
    };
    add_claims(&mut event, version, &claim);
    tracing::info!(trigger = %source, orgs = claim.orgs.len(), truncated = claim.truncated, "organizations claim added");
    Ok(event)
}

/// The user's claim: their memberships as `GET /orgs` reads them (GSI1, then each
/// membership and organization read again consistently), active ones in live organizations.
pub async fn org_claim(app: &App, user: &UserId) -> Result<OrgClaim, Error> {
    let mut active = Vec::new();
    let mut after = None;
    for _ in 0..MAX_PAGES {
        let page = app.store.user_orgs(user, PAGE, after).await?;
        active.extend(page.items.into_iter().filter_map(|listed| match listed {
            UserOrg::Active { org, membership } => Some((org.id, membership.role, membership.joined_at)),
            UserOrg::Suspended { .. } => None,
        }));
        after = page.last_key;
        if after.is_none() {
            break;
        }
    }
    Ok(OrgClaim::from_memberships(active, after.is_some()))
}

/// Writes the claims into the event's response, keeping whatever else it holds.
fn add_claims(event: &mut Value, version: Version, claim: &OrgClaim) {
    let response = object_at(as_object(event), "response");
    match version {
        Version::V1 => {
            let details = object_at(response, "claimsOverrideDetails");
            object_at(details, "claimsToAddOrOverride").extend(claim.v1_claims());
        }
        Version::V2 => {
            let details = object_at(response, "claimsAndScopeOverrideDetails");
            for token in ["idTokenGeneration", "accessTokenGeneration"] {
                let generation = object_at(details, token);
                object_at(generation, "claimsToAddOrOverride").extend(claim.v2_claims());
            }
        }
    }
}

/// `value` as an object, made one first if it is not (Cognito sends the response's parts
/// as `null`).
fn as_object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    match value {
        Value::Object(map) => map,
        _ => unreachable!("made an object above"),
    }
}

/// The object under `key`, made one first if it is not.
fn object_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    as_object(map.entry(key.to_owned()).or_insert(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::parse("2026-01-01T00:00:00Z").unwrap().plus_millis(seconds * 1000)
    }

    #[test]
    fn screening() {
        let event = |source: &str, version: &str, sub: Option<&str>| {
            let mut e =
                json!({ "triggerSource": source, "version": version, "request": { "userAttributes": {} } });
            if let Some(sub) = sub {
                e["request"]["userAttributes"]["sub"] = json!(sub);
            }
            e
        };
        let ann = UserId::parse("ann").unwrap();
        assert_eq!(
            screen(&event("TokenGeneration_HostedAuth", "1", Some("ann"))),
            Ok((Version::V1, ann.clone()))
        );
        for source in [
            "TokenGeneration_Authentication",
            "TokenGeneration_NewPasswordChallenge",
            "TokenGeneration_AuthenticateDevice",
            "TokenGeneration_RefreshTokens",
        ] {
            assert_eq!(screen(&event(source, "2", Some("ann"))), Ok((Version::V2, ann.clone())), "{source}");
        }
        assert_eq!(
            screen(&event("TokenGeneration_Authentication", "3", Some("ann"))),
            Ok((Version::V2, ann))
        );
        assert_eq!(
            screen(&event("TokenGeneration_ClientCredentials", "3", Some("x"))),
            Err(Skip::NotForAUser)
        );
        assert_eq!(screen(&event("PreSignUp_SignUp", "1", Some("x"))), Err(Skip::NotForAUser));
        assert_eq!(screen(&event("TokenGeneration_HostedAuth", "9", Some("x"))), Err(Skip::UnknownVersion));
        assert_eq!(screen(&event("TokenGeneration_HostedAuth", "2", None)), Err(Skip::NoSub));
        assert_eq!(screen(&event("TokenGeneration_HostedAuth", "2", Some(" "))), Err(Skip::NoSub));
        assert_eq!(screen(&json!("x")), Err(Skip::NotForAUser));
    }

    #[test]
    fn the_most_recently_joined_first_and_at_most_fifty() {
        let orgs: Vec<OrgId> = (0..=MAX_ORGS).map(|_| OrgId::new()).collect();
        // Joined in the reverse of their creation: the first created is the newest membership.
        let memberships: Vec<_> =
            orgs.iter().enumerate().map(|(n, org)| (org.clone(), Role::Member, at(-(n as i64)))).collect();
        let claim = OrgClaim::from_memberships(memberships.clone(), false);
        assert!(claim.truncated);
        assert_eq!(claim.orgs.len(), MAX_ORGS);
        assert_eq!(claim.orgs[0].0, orgs[0]);
        assert!(
            !claim.orgs.iter().any(|(org, _)| *org == orgs[MAX_ORGS]),
            "the oldest membership is left out"
        );

        let claim = OrgClaim::from_memberships(memberships[..MAX_ORGS].to_vec(), false);
        assert!(!claim.truncated, "exactly fifty");
        assert!(OrgClaim::from_memberships(Vec::new(), true).truncated, "unread memberships");
        let empty = OrgClaim::from_memberships(Vec::new(), false);
        assert_eq!(empty.orgs_json(), json!({}));
    }

    #[test]
    fn both_versions_keep_what_the_response_already_holds() {
        let org = OrgId::new();
        let claim = OrgClaim { orgs: vec![(org.clone(), Role::Admin)], truncated: true };
        let mut v1 = json!({ "response": { "claimsOverrideDetails": null } });
        add_claims(&mut v1, Version::V1, &claim);
        let added = &v1["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"];
        assert_eq!(added[ORGS_CLAIM], json!(json!({ org.as_str(): "admin" }).to_string()));
        assert_eq!(added[TRUNCATED_CLAIM], json!("true"));

        let mut v2 = json!({ "response": { "claimsAndScopeOverrideDetails": {
            "idTokenGeneration": { "claimsToAddOrOverride": { "other": 1 }, "claimsToSuppress": ["x"] }
        } } });
        add_claims(&mut v2, Version::V2, &claim);
        let details = &v2["response"]["claimsAndScopeOverrideDetails"];
        let id = &details["idTokenGeneration"];
        assert_eq!(id["claimsToAddOrOverride"]["other"], 1);
        assert_eq!(id["claimsToSuppress"], json!(["x"]));
        for token in [id, &details["accessTokenGeneration"]] {
            assert_eq!(token["claimsToAddOrOverride"][ORGS_CLAIM], json!({ org.as_str(): "admin" }));
            assert_eq!(token["claimsToAddOrOverride"][TRUNCATED_CLAIM], json!(true));
        }
    }
}
