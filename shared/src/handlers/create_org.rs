//! `POST /orgs`: any signed-in user creates an organization and becomes its owner; a service
//! holding `roster/admin` creates one for the user it names (API.md "Service callers").

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Acting, serve_org};
use crate::App;
use crate::domain::{AuditAction, AuditEvent, Email, Member, Metadata, Org, OrgId, OrgName, Role, UserId};
use crate::error::Error;
use crate::http::request::json_body;
use crate::http::response::created;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve_org(app, req, |app, who, route, req| async move {
        match route.as_str() {
            "POST /orgs" => create(app, &who, &req).await,
            _ => Err(Error::NotFound),
        }
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateOrg {
    name: String,
    /// A service's only: the owner, and their display-only address and name.
    owner_user_id: Option<String>,
    owner_email: Option<String>,
    owner_name: Option<String>,
}

async fn create(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let body: CreateOrg = json_body(req)?;
    let name = OrgName::parse(&body.name).map_err(|e| Error::invalid_request(e.to_string()))?;
    // The first owner: the caller, or the user a service names. A service's address for them
    // is display-only (API.md "Identity"): shown, but it claims no slot.
    let (owner_id, email, display_name, claims_address) = match who {
        Acting::Person(caller) => {
            if body.owner_user_id.is_some() || body.owner_email.is_some() || body.owner_name.is_some() {
                return Err(Error::invalid_request(
                    "ownerUserId, ownerEmail and ownerName are for services: you own what you create",
                ));
            }
            // Only a verified address is recorded: it marks the address as taken in this org.
            (caller.user_id.clone(), caller.verified_email().cloned(), caller.name.clone(), true)
        }
        Acting::Service(_) => {
            let owner = body
                .owner_user_id
                .as_deref()
                .ok_or_else(|| Error::invalid_request("a service names the owner: ownerUserId"))?;
            let owner =
                UserId::person(owner).ok_or_else(|| Error::invalid_request("ownerUserId names no user"))?;
            let email =
                body.owner_email.as_deref().map(Email::parse).transpose().map_err(|_| Error::InvalidEmail)?;
            (owner, email, super::service_display_name(body.owner_name.as_deref(), "ownerName")?, false)
        }
    };
    let now = app.now();
    let org = Org {
        id: OrgId::new(),
        name,
        created_at: now,
        member_count: 1,
        metadata: Metadata::default(),
        version: 0,
        invitations_paused: None,
        personal: false,
    };
    let owner = Member::joining(owner_id, email, display_name, Role::Owner, now, None, Metadata::default());
    let event = AuditEvent::new(
        now,
        who.user_id(),
        AuditAction::OrgCreated,
        Some(org.id.to_string()),
        json!({ "name": org.name }),
    );
    app.store.create_org(&org, &owner, &event, app.config.one_org_per_user, claims_address).await?;
    created(&json!({ "org": org, "membership": owner }))
}
