//! One module per Lambda function. Each `handle` reads the caller, dispatches on the route
//! key, and maps the outcome to a response once.

pub mod accept;
pub mod authorize;
pub mod change_role;
pub mod create_org;
pub mod events;
pub mod groups;
pub mod invite;
pub mod list;
pub mod pre_sign_up;
pub mod purge;
pub mod remove;
pub mod roles;
pub mod token_claims;
pub mod workspaces;

use lambda_http::{Body, Request, RequestExt, Response};

use crate::App;
use crate::domain::cursor;
use crate::domain::custom_role::{Assigned, CustomRole, RoleKey, RoleName};
use crate::domain::{Caller, Member, OrgId, Principal, access};
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
        (Ok(principal), Some(route)) => dispatch(app, principal, route, req).await,
    };
    respond(route.as_deref(), outcome)
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

/// The caller's active membership of the organization in the path (404 / 403 otherwise).
pub(crate) async fn active_member(app: &App, caller: &Caller, org: &OrgId) -> Result<Member, Error> {
    access::active(app.store.membership(org, &caller.user_id).await?)
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

/// Authorization comes before input: a caller who may not use an organization's route gets
/// its 404 (or 403) whatever the body, query or cursor. Handlers parse their input before
/// their one read (to keep to one round trip); when the input was bad, this checks the
/// caller's standing first: an active member, whom `may_use` lets use the route.
pub(crate) async fn authorized_input<T>(
    app: &App,
    caller: &Caller,
    org: &OrgId,
    input: Result<T, Error>,
    may_use: fn(&Member) -> Result<(), Error>,
) -> Result<T, Error> {
    let error = match input {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    may_use(&active_member(app, caller, org).await?)?;
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
