//! A reviewer's attacks on the authorization surface (issue 25): `POST /authorize`, service
//! principals, `GET /permissions` and `you` on `GET /orgs/{orgId}`. Forged and partial
//! claims, a service on every people's route (also against a person whose id is the
//! service's client id), another organization's ids, removed, suspended, rejoined and
//! deleted subjects, checks after and racing a removal from another instance, and inputs at
//! their limits. Every refusal must be the contract's status and code as
//! `application/problem+json`, and nothing may answer 500.
//!
//! Two failed when written (defects, since fixed): a listed service's `scope` was split at
//! any whitespace, so `roster/admin<TAB>roster/authorize` (or a no-break space between them)
//! held `roster/authorize` (scope tokens are separated by one space, RFC 6749 section 3.3,
//! and anything else joins them into one malformed token); and a check caught between its
//! two waves decided from the member's groups as wave 1 read them and the grants as wave 2
//! read them, so a member who left a group whose grant was then raised was answered with
//! that grant's role, which she held at no instant (wave 2 now reads the membership again
//! and starts over when it changed). The others record attacks that held.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use roster::App;
use roster::http::routes::{self, ROUTES};
use roster_tests::event::Claims;
use roster_tests::harness::on_big_stack;
use roster_tests::harness::{TestApp, TestResponse, User, call_app, call_app_with_claims, service_claims};
use roster_tests::held::held_instance;
use serde_json::{Value, json};

const SCOPE: &str = "roster/authorize";

// ------------------------------------------------------------------------------- helpers

/// A user id as a path segment.
fn seg(sub: &str) -> String {
    percent_encoding::utf8_percent_encode(sub, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Asserts an error answer: the status and code, as `application/problem+json`.
#[track_caller]
fn problem(r: &TestResponse, status: u16, code: &str, what: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{what}: {:?}", r.body);
    assert_eq!(r.content_type.as_deref(), Some("application/problem+json"), "{what}: {:?}", r.body);
}

fn answer(allowed: bool, reason: &str, role: Option<&str>) -> Value {
    json!({ "allowed": allowed, "reason": reason, "role": role })
}

fn c(user: &str, org: &str, permission: &str, ws: Option<&str>) -> Value {
    let mut c = json!({ "userId": user, "orgId": org, "permission": permission });
    if let Some(ws) = ws {
        c["workspaceId"] = json!(ws);
    }
    c
}

/// `POST /authorize` as the listed service `dev-service`, on `app`.
async fn ask_on(app: &App, checks: Value) -> TestResponse {
    call_app_with_claims(
        app,
        Some(&service_claims("dev-service", SCOPE)),
        "POST",
        "/authorize",
        Some(json!({ "checks": checks })),
    )
    .await
}

async fn check(app: &TestApp, checks: Value) -> Vec<Value> {
    let r = ask_on(&app.app, checks).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["results"].as_array().unwrap().clone()
}

async fn one(app: &TestApp, user: &str, org: &str, permission: &str, ws: Option<&str>) -> Value {
    check(app, json!([c(user, org, permission, ws)])).await.remove(0)
}

/// A request with exactly these claims (or none), headers and body bytes.
async fn raw(
    app: &App,
    claims: Option<&Claims>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> TestResponse {
    let routes::RouteMatch::Found(route, params) = routes::find(method, path) else {
        panic!("no route for {method} {path}");
    };
    let headers: Vec<(String, String)> =
        headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let event = roster_tests::event::build(&roster_tests::event::EventInput {
        route,
        path,
        path_params: &params,
        query: "",
        headers: &headers,
        body,
        claims,
    });
    let response =
        roster_tests::gateway::invoke(app, route.function, roster_tests::event::to_request(&event)).await;
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = match response.body() {
        lambda_http::Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::String(text.clone())),
        _ => Value::Null,
    };
    TestResponse { status, content_type, body, retry_after: None }
}

async fn put(app: &TestApp, by: &User, path: String, body: Option<Value>) {
    let r = app.call(Some(by), "PUT", &path, body).await;
    assert!(r.status == 200 || r.status == 201, "PUT {path}: {:?}", r.body);
}

async fn put_ws_member(app: &TestApp, by: &User, org: &str, ws: &str, user: &str, role: Value) {
    put(app, by, format!("/orgs/{org}/workspaces/{ws}/members/{}", seg(user)), Some(json!({ "role": role })))
        .await;
}

async fn join_group(app: &TestApp, by: &User, org: &str, grp: &str, user: &str) {
    put(app, by, format!("/orgs/{org}/groups/{grp}/members/{}", seg(user)), None).await;
}

async fn grant(app: &TestApp, by: &User, org: &str, ws: &str, grp: &str, role: &str) {
    put(app, by, format!("/orgs/{org}/workspaces/{ws}/groups/{grp}"), Some(json!({ "role": role }))).await;
}

async fn remove_from_org(app: &App, by: &User, org: &str, user: &str) {
    let r = call_app(app, Some(by), "DELETE", &format!("/orgs/{org}/members/{}", seg(user)), None).await;
    assert_eq!(r.status, 204, "remove {user}: {:?}", r.body);
}

/// The stored item of `org`'s partition with sort key `sk`, if any.
async fn stored(app: &TestApp, org: &str, sk: &str) -> bool {
    app.item(&format!("ORG#{org}"), sk).await.is_some()
}

// ------------------------------------------------------------------------ claims forged

/// Only `sub == client_id`, listed, holding exactly `roster/authorize` in `scope` makes a
/// caller of `POST /authorize`; every near miss is refused, and an absent `sub` is 401.
#[test]
fn forged_and_partial_claims_make_no_service() {
    on_big_stack(forged_and_partial_claims_make_no_service_body);
}

async fn forged_and_partial_claims_make_no_service_body() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let body = json!({ "checks": [c(&owner.sub, &org, "org:read", None)] });
    let call = |claims: Claims| {
        let body = body.clone();
        let app = &app.app;
        async move { call_app_with_claims(app, Some(&claims), "POST", "/authorize", Some(body)).await }
    };

    // A person's access token naming a listed app client, with the scope: a person.
    let mut forged = owner.claims();
    forged.insert("client_id".into(), "dev-service".into());
    forged.insert("scope".into(), SCOPE.into());
    problem(&call(forged).await, 403, "forbidden", "person with a listed client_id");
    // A person whose `sub` is a listed client id, with the scope but no `client_id`.
    let mut named = service_claims("dev-service", SCOPE);
    named.remove("client_id");
    problem(&call(named).await, 403, "forbidden", "a person named as the client");
    // Both listed, but not the same: `sub` of one, `client_id` of the other.
    let mut crossed = service_claims("dev-service", SCOPE);
    crossed.insert("sub".into(), "dev-backend".into());
    problem(&call(crossed).await, 403, "forbidden", "crossed sub and client_id");
    // An unlisted client, and listed ids in another case or with a space.
    for client in ["rogue", "DEV-SERVICE", "dev-service.", "dev-servic"] {
        problem(&call(service_claims(client, SCOPE)).await, 403, "forbidden", client);
    }
    // Scopes that only look like it, and the scope under another claim.
    for scope in [
        "roster/authorizex",
        "xroster/authorize",
        "roster/authorize/",
        "Roster/authorize",
        "roster/Authorize",
        "roster/admin,roster/authorize",
        "roster/admin;roster/authorize",
        "[roster/authorize]",
        "\"roster/authorize\"",
        "roster/ authorize",
        "roster/admin roster/usage",
        "",
        // One space separates scope tokens (RFC 6749 section 3.3); other space-like
        // characters make one malformed token, as API Gateway reads it.
        "roster/admin\troster/authorize",
        "roster/admin\nroster/authorize",
        "roster/admin\u{a0}roster/authorize",
        "roster/admin\u{3000}roster/authorize",
        "\u{2003}roster/authorize",
    ] {
        problem(&call(service_claims("dev-service", scope)).await, 403, "forbidden", scope);
    }
    let mut scp = service_claims("dev-service", "openid");
    scp.insert("scp".into(), SCOPE.into());
    problem(&call(scp).await, 403, "forbidden", "scope in scp");
    let mut no_scope = service_claims("dev-service", SCOPE);
    no_scope.remove("scope");
    problem(&call(no_scope).await, 403, "forbidden", "no scope claim");
    // No `sub`, or an empty one: nobody (401), whatever else the token says.
    let mut no_sub = service_claims("dev-service", SCOPE);
    no_sub.remove("sub");
    problem(&call(no_sub).await, 401, "unauthenticated", "no sub");
    let mut empty = service_claims("", SCOPE);
    empty.insert("client_id".into(), String::new());
    problem(&call(empty).await, 401, "unauthenticated", "empty sub");
    // The real thing, among other scopes and extra spaces.
    for scope in [SCOPE, "openid roster/authorize", "roster/admin  roster/authorize other/x"] {
        let r = call(service_claims("dev-service", scope)).await;
        assert_eq!(r.status, 200, "{scope}: {:?}", r.body);
        assert_eq!(r.body["results"][0], answer(true, "granted", Some("owner")), "{scope}");
    }
}

/// A client id taken off `ROSTER_SERVICE_CLIENTS` is nobody's service from the next request
/// on: its tokens, still valid, are refused.
#[test]
fn a_delisted_client_is_refused_at_once() {
    on_big_stack(a_delisted_client_is_refused_at_once_body);
}

async fn a_delisted_client_is_refused_at_once_body() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let checks = json!([c(&owner.sub, &org, "org:read", None)]);
    assert_eq!(ask_on(&app.app, checks.clone()).await.status, 200);
    let mut delisted = app.second_instance().await;
    delisted.config.service_clients =
        roster::domain::identity::ServiceClients::parse("dev-backend").expect("client ids");
    problem(&ask_on(&delisted, checks.clone()).await, 403, "forbidden", "delisted");
    let r = call_app_with_claims(
        &delisted,
        Some(&service_claims("dev-backend", SCOPE)),
        "POST",
        "/authorize",
        Some(json!({ "checks": checks })),
    )
    .await;
    assert_eq!(r.status, 200, "the one still listed: {:?}", r.body);
    delisted.config.service_clients = Default::default();
    let r = call_app_with_claims(
        &delisted,
        Some(&service_claims("dev-backend", SCOPE)),
        "POST",
        "/authorize",
        Some(json!({ "checks": checks })),
    )
    .await;
    problem(&r, 403, "forbidden", "an empty list");
}

/// A path for `route`, its parameters filled in.
fn fill(template: &str, org: &str, user: &str, ws: &str, grp: &str, inv: &str, link: &str) -> String {
    template
        .replace("{orgId}", org)
        .replace("{userId}", &seg(user))
        .replace("{workspaceId}", ws)
        .replace("{groupId}", grp)
        .replace("{invitationId}", inv)
        .replace("{linkId}", link)
}

/// A body the organization's owner could send to `route` with success.
fn owner_body(key: &str, mia: &str, grp: &str, token: &str) -> Option<Value> {
    Some(match key {
        "POST /orgs" => json!({ "name": "Service's own" }),
        "POST /orgs/{orgId}/invitations" => {
            json!({ "invitations": [{ "email": "new@example.com", "role": "owner" }] })
        }
        "POST /orgs/{orgId}/invite-links" => json!({ "role": "owner", "maxUses": 5 }),
        "PATCH /orgs/{orgId}/invitations/{invitationId}" => json!({ "groups": [grp] }),
        "POST /invitations/accept" | "POST /invitations/decline" => json!({ "token": token }),
        "PATCH /orgs/{orgId}/members/{userId}" => json!({ "role": "owner" }),
        "POST /orgs/{orgId}/transfer-ownership" => json!({ "userId": mia }),
        "PATCH /orgs/{orgId}" => json!({ "name": "Pwned" }),
        "POST /orgs/{orgId}/members/remove" => json!({ "userIds": [mia] }),
        "POST /orgs/{orgId}/workspaces" | "POST /orgs/{orgId}/groups" => json!({ "name": "New" }),
        "PATCH /orgs/{orgId}/workspaces/{workspaceId}" | "PATCH /orgs/{orgId}/groups/{groupId}" => {
            json!({ "name": "Renamed" })
        }
        "PUT /orgs/{orgId}/workspaces/{workspaceId}/members/{userId}" => json!({ "role": "admin" }),
        "PUT /orgs/{orgId}/workspaces/{workspaceId}/groups/{groupId}" => json!({ "role": "admin" }),
        _ => return None,
    })
}

/// A person whose id is `dev-service` owns an organization. The service `dev-service`
/// (same `sub`, and its `client_id`) calls every people's route with bodies that would
/// succeed for that owner: each answers `403 forbidden`, and nothing changed.
#[test]
fn a_service_is_nobody_on_peoples_routes_even_with_a_persons_id() {
    on_big_stack(a_service_is_nobody_on_peoples_routes_even_with_a_persons_id_body);
}

async fn a_service_is_nobody_on_peoples_routes_even_with_a_persons_id_body() {
    let app = TestApp::spawn().await;
    // The person: a user-pool sign-in whose `sub` happens to be the client id (its ID
    // token names no `client_id`; an access token names the web app's).
    let person = app.user("dev-service");
    let mut person_access = person.claims();
    person_access.insert("client_id".into(), "web-app".into());
    let org = app.create_org(&person, "Owned by dev-service").await;
    let mia = app.user("mia");
    app.add_member(&person, &org, &mia, "admin").await;
    let ws = app.create_workspace(&person, &org, "Site").await;
    let grp = app.create_group(&person, &org, "Team").await;
    grant(&app, &person, &org, &ws, &grp, "member").await;
    let r = app
        .call(
            Some(&person),
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": app.email("ivy"), "role": "member" }] })),
        )
        .await;
    let inv = r.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
    let r = app
        .call(Some(&person), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({ "role": "admin" })))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let (link, token) = (
        r.body["link"]["id"].as_str().unwrap().to_owned(),
        r.body["link"]["token"].as_str().unwrap().to_owned(),
    );
    let audit = |claims: Claims| {
        let path = format!("/orgs/{org}/audit");
        let app = &app.app;
        async move { call_app_with_claims(app, Some(&claims), "GET", &path, None).await }
    };
    let before = audit(person_access.clone()).await;
    assert_eq!(before.status, 200, "the person reads their audit trail: {:?}", before.body);

    let service = service_claims("dev-service", SCOPE);
    let mut swept = 0;
    for route in ROUTES.iter().filter(|r| !r.public && r.scope.is_none() && r.path != "/permissions") {
        // Each route twice: the user ids in the path are the other member's and the
        // service's own.
        for user in [mia.sub.as_str(), "dev-service"] {
            let path = fill(route.path, &org, user, &ws, &grp, &inv, &link);
            let body = owner_body(&route.key(), &mia.sub, &grp, &token);
            let r = call_app_with_claims(&app.app, Some(&service), route.method, &path, body).await;
            problem(&r, 403, "forbidden", &format!("{} {path}", route.method));
            swept += 1;
        }
    }
    assert!(swept >= 80, "every people's route swept: {swept}");

    // Nothing changed: the owner still reads the same organization, members and trail.
    let r = call_app_with_claims(&app.app, Some(&person_access), "GET", &format!("/orgs/{org}"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["org"]["name"], "Owned by dev-service");
    assert_eq!(r.body["you"]["role"], "owner");
    let members = app.call(Some(&person), "GET", &format!("/orgs/{org}/members"), None).await;
    let roles: Vec<(&str, &str)> = members.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["userId"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles.len(), 2, "{roles:?}");
    assert!(roles.contains(&("dev-service", "owner")) && roles.contains(&(mia.sub.as_str(), "admin")));
    let after = audit(person_access.clone()).await;
    assert_eq!(after.body, before.body, "no event was written");
    assert_eq!(app.call(Some(&person), "GET", "/orgs", None).await.body["orgs"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.call(Some(&person), "GET", &format!("/orgs/{org}/workspaces/{ws}"), None).await.status,
        200
    );
    // The token is unused: the person may still accept... as someone else.
    let r = app
        .call(Some(&app.user("zed")), "POST", "/invitations/accept", Some(json!({ "token": token })))
        .await;
    assert_eq!(r.status, 200, "the link was not used by the service: {:?}", r.body);
}

// ------------------------------------------------------------------- other organizations

/// Ids of organization B named in a check of organization A find nothing in A, whatever the
/// user's standing in B.
#[test]
fn another_organizations_ids_grant_nothing() {
    on_big_stack(another_organizations_ids_grant_nothing_body);
}

async fn another_organizations_ids_grant_nothing_body() {
    let app = TestApp::spawn().await;
    let (ann, bob, cat, dan) = (app.user("ann"), app.user("bob"), app.user("cat"), app.user("dan"));
    let org_a = app.create_org(&ann, "A").await;
    let org_b = app.create_org(&bob, "B").await;
    let ws_a = app.create_workspace(&ann, &org_a, "A's").await;
    let ws_b = app.create_workspace(&bob, &org_b, "B's").await;
    // cat: admin of A, viewer of B. dan: member of B only, admin of B's workspace by a group.
    app.add_member(&ann, &org_a, &cat, "admin").await;
    app.add_member(&bob, &org_b, &cat, "viewer").await;
    app.add_member(&bob, &org_b, &dan, "member").await;
    let grp_b = app.create_group(&bob, &org_b, "B team").await;
    join_group(&app, &bob, &org_b, &grp_b, &dan.sub).await;
    grant(&app, &bob, &org_b, &ws_b, &grp_b, "admin").await;
    put_ws_member(&app, &bob, &org_b, &ws_b, &cat.sub, json!("admin")).await;
    // bob (owner of B) is a viewer of A.
    app.add_member(&ann, &org_a, &bob, "viewer").await;

    let results = check(
        &app,
        json!([
            // The owner of B, a viewer of A, on B's workspace named under A.
            c(&bob.sub, &org_a, "projects:delete", Some(&ws_b)),
            c(&bob.sub, &org_a, "projects:read", Some(&ws_b)),
            // An org-scope permission: A's role decides, not B's.
            c(&bob.sub, &org_a, "settings:manage", Some(&ws_b)),
            c(&bob.sub, &org_a, "reports:read", Some(&ws_b)),
            // An admin of A (admin of every workspace of A) on B's workspace.
            c(&cat.sub, &org_a, "projects:read", Some(&ws_b)),
            // A member of B only, checked against A, with B's and A's workspaces.
            c(&dan.sub, &org_a, "projects:read", Some(&ws_b)),
            c(&dan.sub, &org_a, "projects:read", Some(&ws_a)),
            c(&dan.sub, &org_a, "reports:read", None),
            // A's workspace under B: nobody's.
            c(&cat.sub, &org_b, "projects:read", Some(&ws_a)),
            c(&bob.sub, &org_b, "projects:read", Some(&ws_a)),
            // The same, each in its own organization: as expected.
            c(&dan.sub, &org_b, "projects:delete", Some(&ws_b)),
            c(&cat.sub, &org_a, "projects:delete", Some(&ws_a)),
            c(&cat.sub, &org_b, "projects:delete", Some(&ws_b)),
        ]),
    )
    .await;
    let expected = [
        answer(false, "no_workspace", None),
        answer(false, "no_workspace", None),
        answer(false, "no_permission", Some("viewer")),
        answer(true, "granted", Some("viewer")),
        answer(false, "no_workspace", None),
        answer(false, "not_member", None),
        answer(false, "not_member", None),
        answer(false, "not_member", None),
        answer(false, "no_workspace", None),
        answer(false, "no_workspace", None),
        answer(true, "granted", Some("admin")),
        answer(true, "granted", Some("admin")),
        answer(true, "granted", Some("admin")),
    ];
    for (i, (got, want)) in results.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "check {i}");
    }
}

// ------------------------------------------------ removed, suspended, rejoined, deleted

#[test]
fn removed_suspended_rejoined_and_deleted_subjects_grant_nothing() {
    on_big_stack(removed_suspended_rejoined_and_deleted_subjects_grant_nothing_body);
}

async fn removed_suspended_rejoined_and_deleted_subjects_grant_nothing_body() {
    let app = TestApp::spawn().await;
    let (owner, sue, rex, gil) = (app.user("owner"), app.user("sue"), app.user("rex"), app.user("gil"));
    let org = app.create_org(&owner, "Acme").await;
    let ws = app.create_workspace(&owner, &org, "Site").await;
    let grp = app.create_group(&owner, &org, "Admins").await;
    grant(&app, &owner, &org, &ws, &grp, "admin").await;
    for (u, role) in [(&sue, "admin"), (&rex, "member"), (&gil, "viewer")] {
        app.add_member(&owner, &org, u, role).await;
    }
    // rex: a direct admin of the workspace; gil: an admin of it by the group.
    put_ws_member(&app, &owner, &org, &ws, &rex.sub, json!("admin")).await;
    join_group(&app, &owner, &org, &grp, &gil.sub).await;
    let all = |sub: &str| {
        json!([
            c(sub, &org, "projects:delete", Some(&ws)),
            c(sub, &org, "reports:read", None),
            c(sub, &org, "reports:read", Some(&ws)),
        ])
    };
    for u in [&rex, &gil] {
        let r = check(&app, all(&u.sub)).await;
        assert_eq!(r[0], answer(true, "granted", Some("admin")), "{}", u.sub);
    }

    // Suspended: `suspended` for every scope, with no role; the same for an admin.
    app.suspend(&owner, &org, &sue.sub).await;
    app.suspend(&owner, &org, &rex.sub).await;
    app.suspend(&owner, &org, &gil.sub).await;
    for u in [&sue, &rex, &gil] {
        for r in check(&app, all(&u.sub)).await {
            assert_eq!(r, answer(false, "suspended", None), "{}", u.sub);
        }
    }
    for u in [&rex, &gil] {
        let r = app
            .call(
                Some(&owner),
                "PATCH",
                &format!("/orgs/{org}/members/{}", u.sub),
                Some(json!({ "status": "active" })),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    assert_eq!(check(&app, all(&rex.sub)).await[0], answer(true, "granted", Some("admin")));

    // Removed: `not_member`, while the workspace and group memberships wait for the purge.
    remove_from_org(&app.app, &owner, &org, &rex.sub).await;
    remove_from_org(&app.app, &owner, &org, &gil.sub).await;
    assert!(
        stored(&app, &org, &format!("WSM#{ws}#{}", rex.sub)).await,
        "rex's old workspace membership is kept"
    );
    assert!(stored(&app, &org, &format!("GRPM#{grp}#{}", gil.sub)).await, "gil's old group place is kept");
    for u in [&rex, &gil] {
        for r in check(&app, all(&u.sub)).await {
            assert_eq!(r, answer(false, "not_member", None), "{}", u.sub);
        }
    }

    // Invited again (as members, with no workspace or group): the earlier joining's direct
    // admin membership and group place grant nothing, before the purge as after it.
    app.add_member(&owner, &org, &rex, "member").await;
    app.add_member(&owner, &org, &gil, "member").await;
    assert!(stored(&app, &org, &format!("WSM#{ws}#{}", rex.sub)).await, "not purged yet");
    for u in [&rex, &gil] {
        let r = check(&app, all(&u.sub)).await;
        assert_eq!(r[0], answer(false, "not_in_workspace", None), "{}", u.sub);
        assert_eq!(r[1], answer(true, "granted", Some("member")), "{}", u.sub);
    }
    // Added again for real: the new joining counts.
    put_ws_member(&app, &owner, &org, &ws, &rex.sub, json!("viewer")).await;
    assert_eq!(
        one(&app, &rex.sub, &org, "projects:read", Some(&ws)).await,
        answer(true, "granted", Some("viewer"))
    );
    assert_eq!(
        one(&app, &rex.sub, &org, "projects:write", Some(&ws)).await,
        answer(false, "no_permission", Some("viewer"))
    );

    // A deleted group's grant: nothing, while a direct role still counts.
    join_group(&app, &owner, &org, &grp, &rex.sub).await;
    assert_eq!(
        one(&app, &rex.sub, &org, "projects:delete", Some(&ws)).await,
        answer(true, "granted", Some("admin"))
    );
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/groups/{grp}"), None).await;
    assert_eq!(r.status, 204);
    assert!(stored(&app, &org, &format!("WSG#{ws}#{grp}")).await, "the grant waits for the purge");
    assert_eq!(
        one(&app, &rex.sub, &org, "projects:delete", Some(&ws)).await,
        answer(false, "no_permission", Some("viewer"))
    );

    // A deleted workspace: nobody's, not even the owner's.
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/workspaces/{ws}"), None).await;
    assert_eq!(r.status, 204);
    for u in [&owner, &rex] {
        assert_eq!(
            one(&app, &u.sub, &org, "projects:read", Some(&ws)).await,
            answer(false, "no_workspace", None)
        );
    }
    // An org-scope permission with the deleted workspace named: the org role decides.
    assert_eq!(
        one(&app, &rex.sub, &org, "reports:read", Some(&ws)).await,
        answer(true, "granted", Some("member"))
    );

    // A deleted organization: `no_org` for everyone and every known permission; an unknown
    // permission is judged first (README: answered without a read).
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}"), None).await;
    assert_eq!(r.status, 204);
    for u in [&owner, &sue, &rex] {
        for r in check(&app, all(&u.sub)).await {
            assert_eq!(r, answer(false, "no_org", None), "{}", u.sub);
        }
    }
    assert_eq!(one(&app, &owner.sub, &org, "nope:x", None).await, answer(false, "unknown_permission", None));
    assert_eq!(one(&app, &owner.sub, &org, "org:delete", None).await, answer(false, "no_org", None));
}

// ------------------------------------------------------------------------- stale state

/// Records whether every `BatchGetItem` the app sent asked for strongly consistent reads.
#[derive(Debug, Clone, Default)]
struct ReadModes(Arc<Mutex<Vec<bool>>>);

impl Intercept for ReadModes {
    fn name(&self) -> &'static str {
        "ReadModes"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<Metadata>().map(|m| m.name()) == Some("BatchGetItem") {
            let body: Value = serde_json::from_slice(context.request().body().bytes().unwrap_or_default())
                .unwrap_or_default();
            let tables = body["RequestItems"].as_object().cloned().unwrap_or_default();
            let consistent =
                !tables.is_empty() && tables.values().all(|t| t["ConsistentRead"] == json!(true));
            self.0.lock().unwrap().push(consistent);
        }
        Ok(())
    }
}

/// A removal or suspension answered `2xx` by another instance is seen by the very next
/// check (DynamoDB Local is always consistent, so the reads are also checked to ask for
/// strong consistency, as in AWS they must).
#[test]
fn a_check_after_a_change_on_another_instance_sees_it() {
    on_big_stack(a_check_after_a_change_on_another_instance_sees_it_body);
}

async fn a_check_after_a_change_on_another_instance_sees_it_body() {
    let app = TestApp::spawn().await;
    let modes = ReadModes::default();
    let sdk = roster::sdk::load_config().await;
    let dynamo = roster_tests::conflicts::through_shared_proxy(aws_sdk_dynamodb::config::Builder::from(&sdk))
        .interceptor(modes.clone())
        .build();
    let checker = App {
        store: roster::store::Store::new(aws_sdk_dynamodb::Client::from_conf(dynamo), app.table()),
        ..app.second_instance().await
    };
    let writer = app.second_instance().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let ws = app.create_workspace(&owner, &org, "Site").await;
    let grp = app.create_group(&owner, &org, "G").await;
    grant(&app, &owner, &org, &ws, &grp, "member").await;
    let results = |r: TestResponse| {
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["results"].as_array().unwrap().clone()
    };
    for i in 0..5 {
        let u = app.user(&format!("u{i}"));
        app.add_member(&owner, &org, &u, "member").await;
        join_group(&app, &owner, &org, &grp, &u.sub).await;
        let checks =
            json!([c(&u.sub, &org, "reports:read", None), c(&u.sub, &org, "projects:write", Some(&ws))]);
        assert!(results(ask_on(&checker, checks.clone()).await).iter().all(|r| r["allowed"] == true));
        let r = call_app(
            &writer,
            Some(&owner),
            "PATCH",
            &format!("/orgs/{org}/members/{}", u.sub),
            Some(json!({ "status": "suspended" })),
        )
        .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        for r in results(ask_on(&checker, checks.clone()).await) {
            assert_eq!(r, answer(false, "suspended", None));
        }
        remove_from_org(&writer, &owner, &org, &u.sub).await;
        for r in results(ask_on(&checker, checks.clone()).await) {
            assert_eq!(r, answer(false, "not_member", None));
        }
    }
    // A group deleted by another instance: its grant gives nothing at once.
    let u = app.user("last");
    app.add_member(&owner, &org, &u, "viewer").await;
    join_group(&app, &owner, &org, &grp, &u.sub).await;
    let checks = json!([c(&u.sub, &org, "projects:write", Some(&ws))]);
    assert_eq!(results(ask_on(&checker, checks.clone()).await)[0], answer(true, "granted", Some("member")));
    let r = call_app(&writer, Some(&owner), "DELETE", &format!("/orgs/{org}/groups/{grp}"), None).await;
    assert_eq!(r.status, 204);
    assert_eq!(results(ask_on(&checker, checks).await)[0], answer(false, "not_in_workspace", None));
    let modes = modes.0.lock().unwrap().clone();
    assert!(modes.len() >= 20, "{modes:?}");
    assert!(modes.iter().all(|m| *m), "every check read is strongly consistent: {modes:?}");
}

/// A removal and a check in flight together: the check answers as before the removal
/// (`granted`) or as after it (`not_member`), never anything else; once the removal has
/// answered, only `not_member`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_check_racing_a_removal_answers_before_or_after() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let ws = app.create_workspace(&owner, &org, "Site").await;
    let grp = app.create_group(&owner, &org, "G").await;
    grant(&app, &owner, &org, &ws, &grp, "member").await;
    let (mut before, mut after) = (0, 0);
    for i in 0..8 {
        let u = app.user(&format!("u{i}"));
        app.add_member(&owner, &org, &u, "member").await;
        join_group(&app, &owner, &org, &grp, &u.sub).await;
        let checks =
            json!([c(&u.sub, &org, "projects:write", Some(&ws)), c(&u.sub, &org, "reports:read", None)]);
        let remover = app.second_instance().await;
        let (owner2, org2, sub) = (owner.clone(), org.clone(), u.sub.clone());
        let removal = tokio::spawn(async move { remove_from_org(&remover, &owner2, &org2, &sub).await });
        let mut answers = Vec::new();
        for _ in 0..4 {
            let r = ask_on(&app.app, checks.clone()).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            answers.push(r.body["results"].clone());
            tokio::time::sleep(Duration::from_millis(i * 3)).await;
        }
        removal.await.unwrap();
        let granted =
            json!([answer(true, "granted", Some("member")), answer(true, "granted", Some("member"))]);
        let gone = json!([answer(false, "not_member", None), answer(false, "not_member", None)]);
        for a in &answers {
            assert!(a == &granted || a == &gone, "neither before nor after: {a}");
        }
        // Once an answer saw the removal, no later one sees the member again.
        let first_gone = answers.iter().position(|a| a == &gone).unwrap_or(answers.len());
        assert!(answers[first_gone..].iter().all(|a| a == &gone), "{answers:?}");
        before += first_gone;
        after += answers.len() - first_gone;
        assert_eq!(ask_on(&app.app, checks).await.body["results"], gone);
    }
    assert!(before + after == 32, "{before} {after}");
}

/// A check whose second wave (the grants of the member's groups) is read after two changes
/// have answered: the member left group G2, then G2's grant was raised to admin. Before the
/// two she was a viewer (G1 and G2 grant viewer), after them too (G1); at no instant was she
/// an admin. The check must not answer from the groups as wave 1 read them and the grants
/// as wave 2 read them: that mix makes her an admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_check_between_its_waves_answers_no_state_that_never_was() {
    let app = TestApp::spawn().await;
    let (owner, mel) = (app.user("owner"), app.user("mel"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &mel, "member").await;
    let ws = app.create_workspace(&owner, &org, "Site").await;
    let (g1, g2) = (app.create_group(&owner, &org, "G1").await, app.create_group(&owner, &org, "G2").await);
    for g in [&g1, &g2] {
        join_group(&app, &owner, &org, g, &mel.sub).await;
        grant(&app, &owner, &org, &ws, g, "viewer").await;
    }
    let viewer = answer(false, "no_permission", Some("viewer"));
    assert_eq!(one(&app, &mel.sub, &org, "projects:delete", Some(&ws)).await, viewer);

    let (held, reached, release) = held_instance(&app, "BatchGetItem", 2).await;
    let checks = json!([c(&mel.sub, &org, "projects:delete", Some(&ws))]);
    let task = tokio::spawn(async move { ask_on(&held, checks).await });
    tokio::task::spawn_blocking(move || reached.recv_timeout(Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("the check reached its second wave");
    let r =
        app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/groups/{g2}/members/{}", mel.sub), None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    grant(&app, &owner, &org, &ws, &g2, "admin").await;
    assert_eq!(one(&app, &mel.sub, &org, "projects:delete", Some(&ws)).await, viewer, "after both");
    release.send(()).unwrap();
    let r = task.await.unwrap();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["results"][0], viewer, "the held check");
}

/// The same with the direct membership: wave 1 read her direct membership (no role of its
/// own: her organization role's, viewer) and her groups (G1, a viewer grant); before wave 2,
/// the direct membership was deleted, then she was promoted to member. Before: viewer;
/// after: viewer (G1). The direct membership of before with the role of after would make
/// her a member of the workspace, which she never was: wave 2's membership must not simply
/// replace wave 1's; the reads start over.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_check_between_its_waves_mixes_no_direct_membership_with_a_later_role() {
    let app = TestApp::spawn().await;
    let (owner, mel) = (app.user("owner"), app.user("mel"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &mel, "viewer").await;
    let ws = app.create_workspace(&owner, &org, "Site").await;
    let g1 = app.create_group(&owner, &org, "G1").await;
    join_group(&app, &owner, &org, &g1, &mel.sub).await;
    grant(&app, &owner, &org, &ws, &g1, "viewer").await;
    put_ws_member(&app, &owner, &org, &ws, &mel.sub, Value::Null).await;
    let viewer = answer(false, "no_permission", Some("viewer"));
    assert_eq!(one(&app, &mel.sub, &org, "projects:write", Some(&ws)).await, viewer);

    let (held, reached, release) = held_instance(&app, "BatchGetItem", 2).await;
    let checks = json!([c(&mel.sub, &org, "projects:write", Some(&ws))]);
    let task = tokio::spawn(async move { ask_on(&held, checks).await });
    tokio::task::spawn_blocking(move || reached.recv_timeout(Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("the check reached its second wave");
    let r = app
        .call(Some(&owner), "DELETE", &format!("/orgs/{org}/workspaces/{ws}/members/{}", mel.sub), None)
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = app
        .call(
            Some(&owner),
            "PATCH",
            &format!("/orgs/{org}/members/{}", mel.sub),
            Some(json!({ "role": "member" })),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(one(&app, &mel.sub, &org, "projects:write", Some(&ws)).await, viewer, "after both");
    release.send(()).unwrap();
    let r = task.await.unwrap();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["results"][0], viewer, "the held check");
}

/// Runs `change` (on a thread of its own, to its end) before every second-wave
/// `BatchGetItem` (the one that reads grants): a membership that changes between the waves
/// of every attempt.
#[derive(Clone)]
struct BeforeWave2 {
    change: Arc<dyn Fn() + Send + Sync>,
    times: Arc<AtomicUsize>,
}

impl std::fmt::Debug for BeforeWave2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BeforeWave2")
    }
}

impl Intercept for BeforeWave2 {
    fn name(&self) -> &'static str {
        "BeforeWave2"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.request().body().bytes().unwrap_or_default();
        if cfg.load::<Metadata>().map(|m| m.name()) == Some("BatchGetItem")
            && String::from_utf8_lossy(body).contains("WSG#")
        {
            self.times.fetch_add(1, Ordering::SeqCst);
            (self.change)();
        }
        Ok(())
    }
}

/// A membership changed between the waves of every attempt: after three, the check is not
/// answered (`503 unavailable`, on which the host fails closed), rather than answered from
/// waves that disagree.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_membership_changing_between_every_pair_of_waves_is_no_answer() {
    let app = TestApp::spawn().await;
    let (owner, mel) = (app.user("owner"), app.user("mel"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &mel, "viewer").await;
    let ws = app.create_workspace(&owner, &org, "Site").await;
    let (g1, g2) = (app.create_group(&owner, &org, "G1").await, app.create_group(&owner, &org, "G2").await);
    join_group(&app, &owner, &org, &g1, &mel.sub).await;
    grant(&app, &owner, &org, &ws, &g1, "viewer").await;
    // Each change puts mel in G2 or takes her out of it, in turn.
    let writer = Arc::new(app.second_instance().await);
    let inside = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let path = format!("/orgs/{org}/groups/{g2}/members/{}", mel.sub);
    let change = {
        let (owner, writer, inside) = (owner.clone(), writer.clone(), inside.clone());
        move || {
            let (owner, writer, path) = (owner.clone(), writer.clone(), path.clone());
            let method = if inside.fetch_xor(true, Ordering::SeqCst) { "DELETE" } else { "PUT" };
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                let r = runtime.block_on(call_app(&writer, Some(&owner), method, &path, None));
                assert!(r.status < 300, "{method} {path}: {:?}", r.body);
            })
            .join()
            .unwrap();
        }
    };
    let times = Arc::new(AtomicUsize::new(0));
    let hook = BeforeWave2 { change: Arc::new(change), times: times.clone() };
    let sdk = roster::sdk::load_config().await;
    let dynamo = roster_tests::conflicts::through_shared_proxy(aws_sdk_dynamodb::config::Builder::from(&sdk))
        .interceptor(hook)
        .build();
    let checker = App {
        store: roster::store::Store::new(aws_sdk_dynamodb::Client::from_conf(dynamo), app.table()),
        ..app.second_instance().await
    };
    let r = ask_on(&checker, json!([c(&mel.sub, &org, "projects:read", Some(&ws))])).await;
    problem(&r, 503, "unavailable", "waves that never agree");
    assert_eq!(times.load(Ordering::SeqCst), 3, "three attempts");
}

// ------------------------------------------------------------------------------ limits

/// 100 checks, each of its own organization and workspace: 400 keys in wave 1, four
/// `BatchGetItem`s (100 keys each), one round trip; 101 checks: refused whole.
#[test]
fn a_hundred_checks_of_a_hundred_organizations() {
    on_big_stack(a_hundred_checks_of_a_hundred_organizations_body);
}

async fn a_hundred_checks_of_a_hundred_organizations_body() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let mut checks = Vec::new();
    for i in 0..100 {
        let org = app.create_org(&owner, &format!("Org {i}")).await;
        let ws = app.create_workspace(&owner, &org, "Site").await;
        let permission = if i % 2 == 0 { "projects:delete" } else { "projects:read" };
        checks.push(c(&owner.sub, &org, permission, Some(&ws)));
    }
    app.calls.take();
    let results = check(&app, json!(checks)).await;
    assert_eq!(app.calls.take(), vec!["DynamoDB.BatchGetItem"; 4], "400 keys, one wave");
    assert_eq!(results.len(), 100);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r, &answer(true, "granted", Some("admin")), "check {i}");
    }
    // Shuffled: each answer still follows its own check.
    let mut reversed = checks.clone();
    reversed.reverse();
    let back = check(&app, json!(reversed)).await;
    assert!(back.iter().rev().eq(results.iter()));
    let mut over = checks.clone();
    over.push(checks[0].clone());
    let r = ask_on(&app.app, json!(over)).await;
    problem(&r, 400, "invalid_request", "101 checks");
}

/// The widest batch: 100 checks of one member of 100 groups, each on its own workspace. Wave
/// 1 reads 202 keys (three `BatchGetItem`s); wave 2 the workspace's grant to each of the 100
/// groups, the groups and the membership again: 10,101 keys, 102 `BatchGetItem`s sent
/// together. All of them answered, each from its own grants.
#[test]
fn the_widest_second_wave() {
    on_big_stack(the_widest_second_wave_body);
}

async fn the_widest_second_wave_body() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let wes = app.user("wes");
    app.add_member(&owner, &org, &wes, "viewer").await;
    let mut groups = Vec::new();
    for i in 0..100 {
        let g = app.create_group(&owner, &org, &format!("G{i}")).await;
        join_group(&app, &owner, &org, &g, &wes.sub).await;
        groups.push(g);
    }
    let mut spaces = Vec::new();
    for i in 0..100 {
        spaces.push(app.create_workspace(&owner, &org, &format!("W{i}")).await);
    }
    // Workspace i: group i grants admin, and group i + 1 viewer. Wave 2 reads the grants of
    // all 100 groups on every workspace, whether they exist or not.
    for (i, ws) in spaces.iter().enumerate() {
        grant(&app, &owner, &org, ws, &groups[i], "admin").await;
        grant(&app, &owner, &org, ws, &groups[(i + 1) % 100], "viewer").await;
    }
    let checks: Vec<Value> = spaces
        .iter()
        .enumerate()
        .map(|(i, ws)| {
            c(&wes.sub, &org, if i % 2 == 0 { "projects:delete" } else { "projects:write" }, Some(ws))
        })
        .collect();
    app.calls.take();
    let results = check(&app, json!(checks)).await;
    let calls = app.calls.take();
    assert_eq!(calls.len(), 3 + 102, "202 keys in wave 1, 10,101 in wave 2: {calls:?}");
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r, &answer(true, "granted", Some("admin")), "check {i}");
    }
}

/// A member of 100 groups (the most a member may join), each granted the workspace: wave 2
/// reads 201 keys (the grants, the groups, the membership again) in three `BatchGetItem`s;
/// the one admin grant among 99 viewer grants decides, wherever it sorts. 100 duplicate
/// checks read each key once.
#[test]
fn a_member_of_a_hundred_groups_and_duplicate_checks() {
    on_big_stack(a_member_of_a_hundred_groups_and_duplicate_checks_body);
}

async fn a_member_of_a_hundred_groups_and_duplicate_checks_body() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let ws = app.create_workspace(&owner, &org, "Site").await;
    let max = app.user(&"m#".repeat(64)).with_email(&app.email("max"));
    assert_eq!(max.sub.len(), 128);
    app.add_member(&owner, &org, &max, "viewer").await;
    let mut groups = Vec::new();
    for i in 0..100 {
        let g = app.create_group(&owner, &org, &format!("G{i}")).await;
        join_group(&app, &owner, &org, &g, &max.sub).await;
        groups.push(g);
    }
    let mut sorted = groups.clone();
    sorted.sort();
    // The admin grant on the group whose keys sort last (so in the second BatchGetItem).
    for g in &groups {
        grant(&app, &owner, &org, &ws, g, if *g == sorted[99] { "admin" } else { "viewer" }).await;
    }
    app.calls.take();
    let r = one(&app, &max.sub, &org, "projects:delete", Some(&ws)).await;
    assert_eq!(r, answer(true, "granted", Some("admin")));
    let calls = app.calls.take();
    assert_eq!(calls.len(), 1 + 3, "one wave-1 read, three for 201 keys in wave 2: {calls:?}");

    let dupes = vec![c(&max.sub, &org, "projects:delete", Some(&ws)); 100];
    app.calls.take();
    let results = check(&app, json!(dupes)).await;
    assert!(results.iter().all(|r| r == &answer(true, "granted", Some("admin"))));
    assert_eq!(app.calls.take().len(), 4, "duplicates are read once");
    // The grant on the last group revoked: viewer, by the 99 others.
    let r = app
        .call(Some(&owner), "DELETE", &format!("/orgs/{org}/workspaces/{ws}/groups/{}", sorted[99]), None)
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(
        one(&app, &max.sub, &org, "projects:delete", Some(&ws)).await,
        answer(false, "no_permission", Some("viewer"))
    );
}

/// Inputs of odd shape and size: answers where a check names nothing, `400` where the
/// batch is malformed, `413` over 64 KiB, `415` when not declared JSON.
#[test]
fn odd_inputs_answer_or_are_refused_whole() {
    on_big_stack(odd_inputs_answer_or_are_refused_whole_body);
}

async fn odd_inputs_answer_or_are_refused_whole_body() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let ws = app.create_workspace(&owner, &org, "Site").await;
    let long = "u".repeat(10 * 1024);
    let null_ws = |mut x: Value| {
        x["workspaceId"] = Value::Null;
        x
    };
    let results = check(
        &app,
        json!([
            c(&long, &org, "reports:read", None),
            c(&owner.sub, &format!("{org}{long}"), "reports:read", None),
            c(&owner.sub, &org, "projects:read", Some(&format!("{ws}{long}"))),
            c(&owner.sub, &org, "projects:réad", Some(&ws)),
            c(&owner.sub, &org, "ｐrojects:read", Some(&ws)),
            c(&owner.sub, &org, "projects:read\u{0}", Some(&ws)),
            c(&owner.sub, &org, "projects:read ", Some(&ws)),
            c(&owner.sub, &org, "PROJECTS:READ", Some(&ws)),
            c(&owner.sub, &org, "projects:read:x", Some(&ws)),
            c(&owner.sub, &org, "", Some(&ws)),
            c("", &org, "reports:read", None),
            c("owner\u{200b}", &org, "reports:read", None),
            c(&owner.sub, &org.to_uppercase(), "reports:read", None),
            null_ws(c(&owner.sub, &org, "projects:read", None)),
            null_ws(c(&owner.sub, &org, "reports:read", None)),
            c(&owner.sub, &org, "projects:read", Some("")),
        ]),
    )
    .await;
    let expected = [
        answer(false, "not_member", None),
        answer(false, "no_org", None),
        answer(false, "no_workspace", None),
        answer(false, "unknown_permission", None),
        answer(false, "unknown_permission", None),
        answer(false, "unknown_permission", None),
        answer(false, "unknown_permission", None),
        answer(false, "unknown_permission", None),
        answer(false, "unknown_permission", None),
        answer(false, "unknown_permission", None),
        answer(false, "not_member", None),
        answer(false, "not_member", None),
        answer(false, "no_org", None),
        answer(false, "no_workspace", None),
        answer(true, "granted", Some("owner")),
        answer(false, "no_workspace", None),
    ];
    for (i, (got, want)) in results.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "check {i}");
    }

    // Wrong shapes: the whole batch refused.
    let good = c(&owner.sub, &org, "reports:read", None);
    let with = |k: &str, v: Value| {
        let mut x = good.clone();
        x[k] = v;
        json!({ "checks": [good.clone(), x] })
    };
    for body in [
        with("userId", json!(1)),
        with("orgId", json!(1)),
        with("permission", json!(1)),
        with("workspaceId", json!(1)),
        with("workspaceId", json!({})),
        with("workspaceId", json!([ws])),
        with("workspaceId", json!(true)),
        with("userId", Value::Null),
        with("workspaceid", json!(ws)),
        json!({ "checks": good.clone() }),
        json!({ "checks": "x" }),
        json!({ "checks": [good.clone(), [good.clone()]] }),
        json!({ "checks": [good.clone(), null] }),
        json!({ "checks": null }),
        json!({ "Checks": [good.clone()] }),
        json!({}),
    ] {
        let r = call_app_with_claims(
            &app.app,
            Some(&service_claims("dev-service", SCOPE)),
            "POST",
            "/authorize",
            Some(body.clone()),
        )
        .await;
        problem(&r, 400, "invalid_request", &body.to_string());
    }

    let service = service_claims("dev-service", SCOPE);
    let json_ct = [("content-type", "application/json")];
    let body = json!({ "checks": [good.clone()] }).to_string();
    // Not JSON, or not declared as JSON, or nothing.
    let r = raw(&app.app, Some(&service), "POST", "/authorize", &json_ct, b"checks=1").await;
    problem(&r, 400, "invalid_json", "form body");
    let r = raw(&app.app, Some(&service), "POST", "/authorize", &json_ct, b"{\"checks\": [").await;
    problem(&r, 400, "invalid_json", "cut short");
    let r = raw(&app.app, Some(&service), "POST", "/authorize", &json_ct, b"").await;
    problem(&r, 400, "invalid_json", "empty");
    let r = raw(&app.app, Some(&service), "POST", "/authorize", &[], body.as_bytes()).await;
    problem(&r, 415, "unsupported_media_type", "no content type");
    let r = raw(
        &app.app,
        Some(&service),
        "POST",
        "/authorize",
        &[("content-type", "text/plain")],
        body.as_bytes(),
    )
    .await;
    problem(&r, 415, "unsupported_media_type", "text/plain");
    let r = raw(
        &app.app,
        Some(&service),
        "POST",
        "/authorize",
        &[("content-type", "application/json; charset=utf-8")],
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Nested past serde's recursion limit, within 64 KiB: refused, the function unharmed.
    let deep = format!("{{\"checks\": {}{}}}", "[".repeat(20_000), "]".repeat(20_000));
    let r = raw(&app.app, Some(&service), "POST", "/authorize", &json_ct, deep.as_bytes()).await;
    problem(&r, 400, "invalid_json", "nested 20,000 deep");
    let deep = format!("{{\"checks\": [{}{}]}}", "{\"a\":".repeat(8_000), "}".repeat(8_000));
    let r = raw(&app.app, Some(&service), "POST", "/authorize", &json_ct, deep.as_bytes()).await;
    problem(&r, 400, "invalid_json", "objects nested 8,000 deep");
    // Over 64 KiB: 413, however well-formed; at the limit, answered.
    let padded = |len: usize| {
        let mut b = json!({ "checks": [good.clone()] }).to_string();
        b.insert_str(1, &" ".repeat(len - b.len()));
        b
    };
    let r =
        raw(&app.app, Some(&service), "POST", "/authorize", &json_ct, padded(64 * 1024 + 1).as_bytes()).await;
    problem(&r, 413, "payload_too_large", "64 KiB + 1");
    let r = raw(&app.app, Some(&service), "POST", "/authorize", &json_ct, padded(64 * 1024).as_bytes()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // 100 checks of 10 KB user ids: too large, refused before any read.
    app.calls.take();
    let huge = json!({ "checks": vec![c(&long, &org, "reports:read", None); 100] }).to_string();
    let r = raw(&app.app, Some(&service), "POST", "/authorize", &json_ct, huge.as_bytes()).await;
    problem(&r, 413, "payload_too_large", "1 MB of checks");
    assert!(app.calls.take().is_empty());
    // Identity before input: a person's bad body is still 403, no claims 401.
    let person = owner.claims();
    let r = raw(&app.app, Some(&person), "POST", "/authorize", &[], b"nonsense").await;
    problem(&r, 403, "forbidden", "a person's bad body");
    let r = raw(&app.app, None, "POST", "/authorize", &json_ct, body.as_bytes()).await;
    problem(&r, 401, "unauthenticated", "no claims");
}

// ---------------------------------------------------------------- you and the catalog

/// `you.permissions` is, for each role, exactly the org-scope permissions `GET
/// /permissions` lists for it, and exactly those `POST /authorize` allows; a suspended
/// member gets `403 suspended` and a removed one `404`; services get no `you`.
#[test]
fn you_the_catalog_and_the_checks_agree() {
    on_big_stack(you_the_catalog_and_the_checks_agree_body);
}

async fn you_the_catalog_and_the_checks_agree_body() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let catalog = app.call(Some(&owner), "GET", "/permissions", None).await;
    assert_eq!(catalog.status, 200);
    let entries = catalog.body["permissions"].as_array().unwrap().clone();
    let org_scope: Vec<&str> =
        entries.iter().filter(|e| e["scope"] == "org").map(|e| e["key"].as_str().unwrap()).collect();
    assert!(org_scope.len() >= 9 + 6, "Roster's nine and the host's: {org_scope:?}");
    // Every permission is held by a role and all roles above it: a check decides by the
    // highest role a member reaches (her organization role; the highest of her workspace
    // sources), so more access never takes a permission away.
    for e in &entries {
        let ranks: &[&str] = if e["scope"] == "org" {
            &["owner", "admin", "member", "viewer"]
        } else {
            &["admin", "member", "viewer"]
        };
        let roles: Vec<&str> = e["roles"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        assert_eq!(roles, ranks[..roles.len()], "{}: held by a role and those above it", e["key"]);
    }
    for role in ["owner", "admin", "member", "viewer"] {
        let u = app.user(role);
        if role != "owner" {
            app.add_member(&owner, &org, &u, role).await;
        }
        let r = app.call(Some(&u), "GET", &format!("/orgs/{org}"), None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["you"]["role"], role);
        let mine: Vec<&str> =
            r.body["you"]["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        let listed: Vec<&str> = entries
            .iter()
            .filter(|e| e["scope"] == "org" && e["roles"].as_array().unwrap().contains(&json!(role)))
            .map(|e| e["key"].as_str().unwrap())
            .collect();
        assert_eq!(mine, listed, "{role}: you and the catalog");
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "sorted: {mine:?}");
        let checks: Vec<Value> = org_scope.iter().map(|p| c(&u.sub, &org, p, None)).collect();
        for (p, r) in org_scope.iter().zip(check(&app, json!(checks)).await) {
            assert_eq!(r["allowed"] == true, mine.contains(p), "{role} {p}: {r}");
            assert_eq!(r["role"], role);
        }
        // Workspace-scope permissions are never in `you`.
        assert!(!mine.iter().any(|p| p.starts_with("projects:")), "{mine:?}");
    }
    let viewer = app.user("viewer");
    app.suspend(&owner, &org, &viewer.sub).await;
    let r = app.call(Some(&viewer), "GET", &format!("/orgs/{org}"), None).await;
    problem(&r, 403, "suspended", "a suspended member's you");
    remove_from_org(&app.app, &owner, &org, &viewer.sub).await;
    let r = app.call(Some(&viewer), "GET", &format!("/orgs/{org}"), None).await;
    problem(&r, 404, "not_found", "a removed member's you");
    for scope in [SCOPE, "roster/admin roster/authorize roster/usage"] {
        let r = app.call_as_service("dev-service", scope, "GET", &format!("/orgs/{org}"), None).await;
        problem(&r, 403, "forbidden", "a service's you");
    }

    // The catalog: without claims 401; any signed-in caller, person or service, the same.
    let r = call_app_with_claims(&app.app, None, "GET", "/permissions", None).await;
    problem(&r, 401, "unauthenticated", "no claims");
    let mut no_sub = service_claims("dev-service", SCOPE);
    no_sub.remove("sub");
    let r = call_app_with_claims(&app.app, Some(&no_sub), "GET", "/permissions", None).await;
    problem(&r, 401, "unauthenticated", "no sub");
    for claims in [service_claims("dev-backend", ""), app.user("stranger").claims()] {
        let r = call_app_with_claims(&app.app, Some(&claims), "GET", "/permissions", None).await;
        assert_eq!(r.body, catalog.body, "{claims:?}");
    }
    // A client's own token that is not a listed service's is nobody's (attacks_services.rs).
    let r =
        call_app_with_claims(&app.app, Some(&service_claims("rogue", SCOPE)), "GET", "/permissions", None)
            .await;
    problem(&r, 403, "forbidden", "an unlisted client");
}
