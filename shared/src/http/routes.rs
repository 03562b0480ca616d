//! The one route list of the product. The local gateway serves it, each function dispatches
//! on its keys, and the tests hold the deployment template and the OpenAPI document to it.

/// The Lambda functions, one binary each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    CreateOrg,
    Invite,
    Accept,
    ChangeRole,
    Remove,
    List,
    /// Workspaces, their members and their grants to groups, and a member's workspaces.
    Workspaces,
    /// Groups of an organization's members.
    Groups,
    /// An organization's roles, built-in and custom.
    Roles,
    /// Scheduled, no routes: removes deleted organizations' items.
    Purge,
    /// Fed by the table's stream, no routes: publishes audit events to EventBridge.
    Events,
    /// Cognito's pre-sign-up trigger, no routes: admits a sign-up only for an invited address.
    PreSignUp,
    /// The host product's permission checks (`POST /authorize`): its hot path, so a function
    /// of its own, as small as the smallest.
    Authorize,
    /// Cognito's pre-token-generation trigger, no routes: the caller's organizations as a
    /// claim (`roster_orgs`).
    TokenClaims,
    /// Fed by the invitation email queue, no routes: mints each email's token and sends it
    /// through SES within the account's rate.
    SendInvitations,
    /// SES's events for invitation emails (from the default EventBridge bus), no routes:
    /// each invitation's `emailDelivery`, bounces and complaints.
    EmailEvents,
    /// Usage per member: services report it, admins read the totals.
    Usage,
    /// Admins add a user with a temporary password (the stack's user pool only).
    Accounts,
    /// Cognito's post-confirmation trigger, no routes: a user who signs up gets an
    /// organization of their own (`ROSTER_CREATE_ORG_ON_SIGN_UP`).
    PostConfirmation,
}

impl Function {
    pub const ALL: [Function; 19] = [
        Function::CreateOrg,
        Function::Invite,
        Function::Accept,
        Function::ChangeRole,
        Function::Remove,
        Function::List,
        Function::Workspaces,
        Function::Groups,
        Function::Roles,
        Function::Purge,
        Function::Events,
        Function::PreSignUp,
        Function::Authorize,
        Function::TokenClaims,
        Function::SendInvitations,
        Function::EmailEvents,
        Function::Usage,
        Function::Accounts,
        Function::PostConfirmation,
    ];

    /// The binary's (and the crate's) name.
    pub fn name(self) -> &'static str {
        match self {
            Function::CreateOrg => "create-org",
            Function::Invite => "invite",
            Function::Accept => "accept",
            Function::ChangeRole => "change-role",
            Function::Remove => "remove",
            Function::List => "list",
            Function::Workspaces => "workspaces",
            Function::Groups => "groups",
            Function::Roles => "roles",
            Function::Purge => "purge",
            Function::Events => "events",
            Function::PreSignUp => "pre-sign-up",
            Function::Authorize => "authorize",
            Function::TokenClaims => "token-claims",
            Function::SendInvitations => "send-invitations",
            Function::EmailEvents => "email-events",
            Function::Usage => "usage",
            Function::Accounts => "accounts",
            Function::PostConfirmation => "post-confirmation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// API Gateway's path template, parameters in braces.
    pub path: &'static str,
    pub function: Function,
    /// Served without sign-in: no authorizer in front, no claims in the event.
    pub public: bool,
    /// Only service callers holding this scope may call it: API Gateway's
    /// `AuthorizationScopes` (API.md "Service callers"), checked again by the function.
    /// `None` on routes that people call, which cannot carry scopes (people's ID tokens
    /// have none).
    pub scope: Option<&'static str>,
}

impl Route {
    /// API Gateway's route key, `"METHOD /path/{param}"`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The path parameters, when `path` (no query string) fits this route's template.
    pub fn match_path(&self, path: &str) -> Option<Vec<(String, String)>> {
        let template: Vec<&str> = self.path.trim_matches('/').split('/').collect();
        let actual: Vec<&str> = path.trim_matches('/').split('/').collect();
        if template.len() != actual.len() {
            return None;
        }
        let mut params = Vec::new();
        for (t, a) in template.iter().zip(&actual) {
            match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                Some(name) if !a.is_empty() => params.push((name.to_owned(), (*a).to_owned())),
                Some(_) => return None,
                None if t == a => {}
                None => return None,
            }
        }
        Some(params)
    }
}

const fn route(method: &'static str, path: &'static str, function: Function) -> Route {
    Route { method, path, function, public: false, scope: None }
}

/// A route anyone may call: the request itself carries its credential.
const fn public(method: &'static str, path: &'static str, function: Function) -> Route {
    Route { method, path, function, public: true, scope: None }
}

/// A route only services holding `scope` may call.
const fn service(method: &'static str, path: &'static str, function: Function, scope: &'static str) -> Route {
    Route { method, path, function, public: false, scope: Some(scope) }
}

/// The scopes of service callers (API.md "Service callers"): each service route names one.
pub mod scopes {
    pub const AUTHORIZE: &str = "roster/authorize";
    pub const ADMIN: &str = "roster/admin";
    pub const USAGE: &str = "roster/usage";
}

use Function::*;

pub const ROUTES: &[Route] = &[
    route("POST", "/orgs", CreateOrg),
    route("GET", "/orgs", List),
    route("GET", "/orgs/{orgId}", List),
    route("GET", "/orgs/{orgId}/members", List),
    route("GET", "/orgs/{orgId}/members/{userId}", List),
    route("GET", "/orgs/{orgId}/invitations", List),
    route("GET", "/orgs/{orgId}/invite-links", List),
    route("GET", "/orgs/{orgId}/audit", List),
    route("POST", "/orgs/{orgId}/invitations", Invite),
    route("POST", "/orgs/{orgId}/invitations/{invitationId}/resend", Invite),
    route("POST", "/orgs/{orgId}/invite-links", Invite),
    route("PATCH", "/orgs/{orgId}/invitations/{invitationId}", Invite),
    // The deployment's operator lifts a pause of the organization's invitation emails.
    service("DELETE", "/orgs/{orgId}/email-pause", Invite, scopes::ADMIN),
    // The token is the credential, and the facts are those the email already shows.
    public("POST", "/invitations/preview", Accept),
    route("POST", "/invitations/accept", Accept),
    route("POST", "/invitations/decline", Accept),
    route("PATCH", "/orgs/{orgId}/members/{userId}", ChangeRole),
    // A new account with a temporary password, or an invitation when the address has one.
    route("POST", "/orgs/{orgId}/members/accounts", Accounts),
    route("POST", "/orgs/{orgId}/transfer-ownership", ChangeRole),
    // A known user added directly, by a service (API.md "Service callers").
    service("POST", "/orgs/{orgId}/members", ChangeRole, scopes::ADMIN),
    route("PATCH", "/orgs/{orgId}", ChangeRole),
    route("DELETE", "/orgs/{orgId}/members/{userId}", Remove),
    route("POST", "/orgs/{orgId}/members/remove", Remove),
    route("DELETE", "/orgs/{orgId}/invitations/{invitationId}", Remove),
    route("DELETE", "/orgs/{orgId}/invite-links/{linkId}", Remove),
    route("DELETE", "/orgs/{orgId}", Remove),
    route("POST", "/orgs/{orgId}/workspaces", Workspaces),
    route("GET", "/orgs/{orgId}/workspaces", Workspaces),
    route("GET", "/orgs/{orgId}/workspaces/{workspaceId}", Workspaces),
    route("PATCH", "/orgs/{orgId}/workspaces/{workspaceId}", Workspaces),
    route("DELETE", "/orgs/{orgId}/workspaces/{workspaceId}", Workspaces),
    route("GET", "/orgs/{orgId}/workspaces/{workspaceId}/members", Workspaces),
    route("PUT", "/orgs/{orgId}/workspaces/{workspaceId}/members/{userId}", Workspaces),
    route("DELETE", "/orgs/{orgId}/workspaces/{workspaceId}/members/{userId}", Workspaces),
    route("PUT", "/orgs/{orgId}/workspaces/{workspaceId}/groups/{groupId}", Workspaces),
    route("DELETE", "/orgs/{orgId}/workspaces/{workspaceId}/groups/{groupId}", Workspaces),
    route("GET", "/orgs/{orgId}/members/{userId}/workspaces", Workspaces),
    route("POST", "/orgs/{orgId}/groups", Groups),
    route("GET", "/orgs/{orgId}/groups", Groups),
    route("GET", "/orgs/{orgId}/groups/{groupId}", Groups),
    route("PATCH", "/orgs/{orgId}/groups/{groupId}", Groups),
    route("DELETE", "/orgs/{orgId}/groups/{groupId}", Groups),
    route("GET", "/orgs/{orgId}/groups/{groupId}/members", Groups),
    route("PUT", "/orgs/{orgId}/groups/{groupId}/members/{userId}", Groups),
    route("DELETE", "/orgs/{orgId}/groups/{groupId}/members/{userId}", Groups),
    route("GET", "/orgs/{orgId}/roles", Roles),
    route("POST", "/orgs/{orgId}/roles", Roles),
    route("PATCH", "/orgs/{orgId}/roles/{roleKey}", Roles),
    route("DELETE", "/orgs/{orgId}/roles/{roleKey}", Roles),
    // People and services alike: the catalog is no secret of any organization.
    route("GET", "/permissions", List),
    service("POST", "/authorize", Authorize, scopes::AUTHORIZE),
    // Services report what members used (API.md "Usage per member"); admins read the totals.
    service("POST", "/orgs/{orgId}/usage", Usage, scopes::USAGE),
    route("GET", "/orgs/{orgId}/usage", Usage),
];

/// Path parameters, by name, in path order.
pub type Params = Vec<(String, String)>;

#[derive(Debug, PartialEq, Eq)]
pub enum RouteMatch {
    Found(&'static Route, Params),
    /// The path exists under another method: 405.
    WrongMethod,
    /// No route has this path: 404.
    Unknown,
}

/// The route for a request. A literal segment beats a parameter
/// (`/orgs/{orgId}/members/remove` before `/orgs/{orgId}/members/{userId}`), as in API
/// Gateway: candidates with fewer parameters are tried first.
pub fn find(method: &str, path: &str) -> RouteMatch {
    let mut candidates: Vec<(&'static Route, Params)> =
        ROUTES.iter().filter_map(|r| r.match_path(path).map(|p| (r, p))).collect();
    if candidates.is_empty() {
        return RouteMatch::Unknown;
    }
    candidates.sort_by_key(|(_, params)| params.len());
    candidates
        .into_iter()
        .find(|(route, _)| route.method == method)
        .map_or(RouteMatch::WrongMethod, |(route, params)| RouteMatch::Found(route, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_templates() {
        let found = |m, p| match find(m, p) {
            RouteMatch::Found(route, params) => (route, params),
            other => panic!("{m} {p}: {other:?}"),
        };
        let (r, p) = found("GET", "/orgs/org_1/members/u-2");
        assert_eq!(r.key(), "GET /orgs/{orgId}/members/{userId}");
        assert_eq!(p, vec![("orgId".into(), "org_1".into()), ("userId".into(), "u-2".into())]);
        assert_eq!(found("POST", "/orgs/o/members/remove").0.function, Remove);
        assert_eq!(found("GET", "/orgs/o/members/remove").0.key(), "GET /orgs/{orgId}/members/{userId}");
        assert_eq!(find("PUT", "/orgs"), RouteMatch::WrongMethod);
        assert_eq!(find("GET", "/nope"), RouteMatch::Unknown);
        assert_eq!(find("GET", "/orgs//members"), RouteMatch::Unknown, "empty parameter");
    }

    #[test]
    fn only_preview_is_public() {
        let public: Vec<String> = ROUTES.iter().filter(|r| r.public).map(Route::key).collect();
        assert_eq!(public, ["POST /invitations/preview"]);
    }

    #[test]
    fn only_authorize_adding_members_lifting_an_email_pause_and_reporting_usage_are_for_services_alone() {
        let scoped: Vec<(String, &str)> =
            ROUTES.iter().filter_map(|r| r.scope.map(|s| (r.key(), s))).collect();
        assert_eq!(
            scoped,
            [
                ("DELETE /orgs/{orgId}/email-pause".to_owned(), scopes::ADMIN),
                ("POST /orgs/{orgId}/members".to_owned(), scopes::ADMIN),
                ("POST /authorize".to_owned(), scopes::AUTHORIZE),
                ("POST /orgs/{orgId}/usage".to_owned(), scopes::USAGE)
            ]
        );
    }

    #[test]
    fn keys_are_unique_and_every_function_but_the_event_fed_ones_has_routes() {
        let keys: std::collections::HashSet<String> = ROUTES.iter().map(Route::key).collect();
        assert_eq!(keys.len(), ROUTES.len());
        for f in Function::ALL {
            let routed = ROUTES.iter().any(|r| r.function == f);
            let unrouted = matches!(
                f,
                Function::Purge
                    | Function::Events
                    | Function::PreSignUp
                    | Function::PostConfirmation
                    | Function::TokenClaims
                    | Function::SendInvitations
                    | Function::EmailEvents
            );
            assert_eq!(routed, !unrouted, "{f:?}");
        }
    }
}
