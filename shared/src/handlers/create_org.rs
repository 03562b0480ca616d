//! `POST /orgs`: any signed-in user creates an organization and becomes its owner.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::serve;
use crate::App;
use crate::domain::{AuditAction, AuditEvent, Caller, Member, Metadata, Org, OrgId, OrgName, Role};
use crate::error::Error;
use crate::http::request::json_body;
use crate::http::response::created;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve(app, req, |app, caller, route, req| async move {
        match route.as_str() {
            "POST /orgs" => create(app, &caller, &req).await,
            _ => Err(Error::NotFound),
        }
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrg {
    name: String,
}

async fn create(app: &App, caller: &Caller, req: &Request) -> Result<Response<Body>, Error> {
    let body: CreateOrg = json_body(req)?;
    let name = OrgName::parse(&body.name).map_err(|e| Error::invalid_request(e.to_string()))?;
    let now = app.now();
    let org = Org {
        id: OrgId::new(),
        name,
        created_at: now,
        member_count: 1,
        metadata: Metadata::default(),
        version: 0,
    };
    let owner = Member::joining(
        caller.user_id.clone(),
        // Only a verified address is recorded: it marks the address as taken in this org.
        caller.verified_email().cloned(),
        caller.name.clone(),
        Role::Owner,
        now,
        None,
        Metadata::default(),
    );
    let event = AuditEvent::new(
        now,
        &caller.user_id,
        AuditAction::OrgCreated,
        Some(org.id.to_string()),
        json!({ "name": org.name }),
    );
    app.store.create_org(&org, &owner, &event, app.config.one_org_per_user).await?;
    created(&json!({ "org": org, "membership": owner }))
}
