//! One module per Lambda function. Each `handle` reads the caller, dispatches on the route
//! key, and maps the outcome to a response once.

pub mod accept;
pub mod accounts;
pub mod authorize;
pub mod change_role;
mod cognito_event;
pub mod create_org;
pub mod email_events;
pub mod events;
pub mod groups;
pub mod invite;
pub mod list;
pub mod post_confirmation;
pub mod pre_sign_up;
pub mod purge;
pub mod remove;
pub mod roles;
pub mod send_invitations;
pub mod token_claims;
pub mod usage;
pub mod workspaces;

use lambda_http::{Body, Request, RequestExt, Response};

use crate::App;
use crate::domain::cursor;
use crate::domain::custom_role::{Assigned, CustomRole, RoleKey, RoleName};
use crate::domain::text::DisplayName;
use crate::domain::{Caller, Member, OrgId, Principal, UserId, access};
use crate::error::Error;
use crate::http::request::{path_param, query_param, route_key};
use crate::http::response::respond;

/// Shared frame of the handlers of people's routes: identity first (401 before anything
/// else; a service is refused, 403), then the function's own routes.
pub(crate) async fn serve<'a, F, Fut>(app: &'a App, req: Request, dispatch: F) -> Response<Body>
where
    F: FnOnce(&'a App, Caller, String, Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, Error>>,
{
    serve_any(app, req, |app, principal, route, req| async move {
        dispatch(app, principal.person()?, route, req).await
    })
    .await
}

/// [`serve`] for routes that services may call too: the principal, person or service.
pub(crate) async fn serve_any<'a, F, Fut>(app: &'a App, req: Request, dispatch: F) -> Response<Body>
where
    F: FnOnce(&'a App, Principal, String, Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, Error>>,
{
    let route = route_key(&req);
    let principal = Principal::from_context(req.request_context_ref(), &app.config.service_clients);
    let outcome = match (principal, route.clone()) {
        (Err(e), _) => Err(e),
        (Ok(_), None) => Err(Error::NotFound),
        // On the heap: the handlers' futures are large, and a test runs many on one stack.
        (Ok(principal), Some(route)) => Box::pin(dispatch(app, principal, route, req)).await,
    };
    respond(route.as_deref(), outcome)
}

/// The header in which a service names the user it acts for: recorded in the audit events
/// of its request as `onBehalfOf`, it grants nothing (API.md "Service callers").
pub const ON_BEHALF_OF_HEADER: &str = "x-roster-on-behalf-of";

/// Who acts on an organization's routes: a person, by their membership; or a service holding
/// `roster/admin`, as an owner that is no member (API.md "Service callers"). Every rule of
/// rank applies to it as to an owner, and every invariant holds for it as for anyone.
#[derive(Debug, Clone)]
pub(crate) enum Acting {
    Person(Caller),
    /// A service, by how it is named where a user id goes (`service:{clientId}`).
    Service(UserId),
}

impl Acting {
    /// A service without `roster/admin` is refused (403).
    pub(crate) fn of(principal: Principal) -> Result<Self, Error> {
        match principal {
            Principal::Person(caller) => Ok(Self::Person(caller)),
            service @ Principal::Service(_) => {
                Ok(Self::Service(service.service_with(crate::http::routes::scopes::ADMIN)?.user_id()))
            }
        }
    }

    /// Whose membership a read of the caller's asks for; a service's id names none.
    pub(crate) fn user_id(&self) -> &UserId {
        match self {
            Self::Person(caller) => &caller.user_id,
            Self::Service(id) => id,
        }
    }

    /// The membership a decision rests on, given the caller's as read (`membership`): a
    /// person's, when active (404 / 403 otherwise); a service's, an owner's while the
    /// organization exists (404 when it does not; one more read).
    pub(crate) async fn member(
        &self,
        app: &App,
        org: &OrgId,
        membership: Option<Member>,
    ) -> Result<Member, Error> {
        match self {
            Self::Person(_) => access::active(membership),
            Self::Service(id) => {
                let (found, _) = app.store.org_and_membership(org, id).await?;
                found.ok_or(Error::NotFound)?;
                Ok(Member::service_owner(id.clone(), app.now()))
            }
        }
    }
}

/// [`serve_any`] for the routes of an organization (and `POST /orgs`), which people and
/// services holding `roster/admin` share: the caller as [`Acting`]. A service's request runs
/// with the user it names in [`ON_BEHALF_OF_HEADER`], for its audit events (a header that
/// names no user is `400`).
pub(crate) async fn serve_org<'a, F, Fut>(app: &'a App, req: Request, dispatch: F) -> Response<Body>
where
    F: FnOnce(&'a App, Acting, String, Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, Error>>,
{
    serve_any(app, req, |app, principal, route, req| async move {
        let who = Acting::of(principal)?;
        let on_behalf_of = on_behalf_of(&who, &req)?;
        crate::store::acting_for(on_behalf_of, dispatch(app, who, route, req)).await
    })
    .await
}

/// The user a service says it acts for ([`ON_BEHALF_OF_HEADER`]); a person acts for
/// themselves, and the header says nothing of them.
pub(crate) fn on_behalf_of(who: &Acting, req: &Request) -> Result<Option<UserId>, Error> {
    match (who, req.headers().get(ON_BEHALF_OF_HEADER)) {
        (Acting::Service(_), Some(value)) => Ok(Some(
            value
                .to_str()
                .ok()
                .and_then(UserId::person)
                .ok_or_else(|| Error::invalid_request(format!("{ON_BEHALF_OF_HEADER} names no user")))?,
        )),
        _ => Ok(None),
    }
}

/// A display name a service gives for a user (`ownerName`, `name`). A token's `name` claim is
/// cleaned, not refused (`DisplayName::clean`: not ours to reject); a request's body is ours,
/// and a name that would be changed in silence is refused: longer than `DisplayName`'s limit,
/// or with control, invisible or text-direction characters (`text::is_invisible`). Blank is
/// no name.
pub(crate) fn service_display_name(raw: Option<&str>, field: &str) -> Result<Option<DisplayName>, Error> {
    let Some(raw) = raw else { return Ok(None) };
    let hidden = |c: char| c.is_control() || crate::domain::text::is_invisible(c);
    if raw.chars().count() > DisplayName::MAX_CHARS || raw.chars().any(hidden) {
        return Err(Error::invalid_request(format!(
            "{field}: at most {} characters, with no control, invisible or text-direction ones",
            DisplayName::MAX_CHARS
        )));
    }
    Ok(DisplayName::clean(raw))
}

/// The `{orgId}` of the path. An id Roster could not have minted names nothing: 404.
pub(crate) fn org_id(req: &Request) -> Result<OrgId, Error> {
    OrgId::parse(&path_param(req, "orgId")?).ok_or(Error::NotFound)
}

/// The custom roles a request names, read in one pass: [`Roles::resolve`] then answers
/// each role name as held (`400 invalid_role` for a custom role the organization lacks).
pub(crate) struct Roles(Vec<CustomRole>);

impl Roles {
    pub(crate) async fn read<'a>(
        app: &App,
        org: &OrgId,
        names: impl IntoIterator<Item = &'a RoleName>,
    ) -> Result<Self, Error> {
        let mut keys: Vec<&RoleKey> = names.into_iter().filter_map(RoleName::custom).collect();
        keys.sort();
        keys.dedup();
        Ok(Self(app.store.custom_roles_named(org, &keys).await?))
    }

    pub(crate) fn resolve(&self, name: &RoleName) -> Result<Assigned, Error> {
        let found = name.custom().and_then(|key| self.0.iter().find(|r| r.key == *key));
        Assigned::resolve(name, found)
    }
}

/// The caller's membership as their current claims describe them: a name or verified
/// address that changed since it was stored is written (once; read routes run this beside
/// their own read, so it adds no round trip). A failed refresh is logged, not the request's
/// failure: the next call tries again.
pub(crate) async fn current(app: &App, caller: &Caller, org: &OrgId, member: Member) -> Member {
    let Some(after) = member.refreshed(caller.name.as_ref(), caller.verified_email()) else {
        return member;
    };
    match app.store.refresh_identity(org, &member, &after).await {
        Ok(()) => after,
        Err(e) => {
            tracing::warn!(error = e.code(), "could not refresh a member's name or address");
            member
        }
    }
}

/// The caller's standing in the organization in the path: a person's active membership
/// (404 / 403 otherwise), or a service's as an owner while the organization exists.
pub(crate) async fn acting_member(app: &App, who: &Acting, org: &OrgId) -> Result<Member, Error> {
    let membership = match who {
        Acting::Person(caller) => app.store.membership(org, &caller.user_id).await?,
        Acting::Service(_) => None,
    };
    who.member(app, org, membership).await
}

/// [`current`] for a person or a service (who has no membership to refresh).
pub(crate) async fn acting_current(app: &App, who: &Acting, org: &OrgId, member: Member) -> Member {
    match who {
        Acting::Person(caller) => current(app, caller, org, member).await,
        Acting::Service(_) => member,
    }
}

/// Authorization comes before input: a caller who may not use an organization's route gets
/// its 404 (or 403) whatever the body, query or cursor. Handlers parse their input before
/// their one read (to keep to one round trip); when the input was bad, this checks the
/// caller's standing first ([`acting_member`]), which `may_use` must let use the route.
pub(crate) async fn acting_input<T>(
    app: &App,
    who: &Acting,
    org: &OrgId,
    input: Result<T, Error>,
    may_use: fn(&Member) -> Result<(), Error>,
) -> Result<T, Error> {
    let error = match input {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    may_use(&acting_member(app, who, org).await?)?;
    Err(error)
}

/// The cursor's key, if the request has a cursor, checked against the list it must come from.
pub(crate) fn after(app: &App, req: &Request, scope: &str) -> Result<Option<String>, Error> {
    query_param(req, "cursor").map(|c| cursor::decode(cursor_keys(app)?, &c, scope)).transpose()
}

pub(crate) fn next_cursor(app: &App, scope: &str, last_key: Option<String>) -> Result<Option<String>, Error> {
    last_key.map(|k| Ok(cursor::encode(cursor_keys(app)?, scope, &k))).transpose()
}

/// `list` does not start without keys (`Config::require_cursor_keys`); an app built otherwise
/// serves first pages only.
fn cursor_keys(app: &App) -> Result<&cursor::CursorKeys, Error> {
    app.config.cursor_keys.as_ref().ok_or_else(|| {
        tracing::error!("ROSTER_CURSOR_KEYS is not set; no cursor can be signed or checked");
        Error::Internal
    })
}
