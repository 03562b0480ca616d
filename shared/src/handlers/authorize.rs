//! `POST /authorize`: the host product's permission checks (API.md "Checks"). Its own
//! function because it is the host's hot path: it links no mail client and holds only the
//! table's client and the catalog.

use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Value, json};

use crate::App;
use crate::domain::Principal;
use crate::domain::authorization::{decide, parse_checks};
use crate::domain::identity::ServiceClients;
use crate::domain::permission::Catalog;
use crate::error::Error;
use crate::http::request::{json_body, route_key};
use crate::http::response::{ok, respond};
use crate::http::routes::scopes;
use crate::store::Store;

/// What the function builds once per cold start.
pub struct Authorizer {
    pub store: Store,
    pub catalog: Catalog,
    pub services: ServiceClients,
}

impl Authorizer {
    /// The same parts as `app`'s (the local gateway serves every function from one app).
    pub fn of(app: &App) -> Self {
        Self {
            store: app.store.clone(),
            catalog: app.catalog.clone(),
            services: app.config.service_clients.clone(),
        }
    }
}

pub async fn handle(authorizer: &Authorizer, req: Request) -> Response<Body> {
    let route = route_key(&req);
    let outcome = async {
        // Only a listed service with the scope: API Gateway's AuthorizationScopes say the
        // same, but a person's access token can carry any scope its app client allows.
        Principal::from_context(req.request_context_ref(), &authorizer.services)?
            .service_with(scopes::AUTHORIZE)?;
        match route.as_deref() {
            Some("POST /authorize") => check(authorizer, &req).await,
            _ => Err(Error::NotFound),
        }
    }
    .await;
    respond(route.as_deref(), outcome)
}

/// Every check answered, in request order, from strongly consistent reads made after the
/// request arrived: once a change has answered 2xx, no later check sees the state before it.
async fn check(authorizer: &Authorizer, req: &Request) -> Result<Response<Body>, Error> {
    let body: Value = json_body(req)?;
    let checks = parse_checks(&body)?;
    let reads = authorizer.store.check_reads(&authorizer.catalog, &checks).await?;
    let results = checks
        .iter()
        .map(|c| reads.with_facts(c, |facts| decide(&authorizer.catalog, c, facts)))
        .collect::<Result<Vec<_>, Error>>()?;
    ok(&json!({ "results": results }))
}
