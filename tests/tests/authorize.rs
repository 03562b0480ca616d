//! `POST /authorize` (API.md "Checks"): the host product's question "may this user do this
//! here?", answered from strongly consistent reads, for services holding `roster/authorize`.
//! The catalog is the deployed one (`infra/permissions.json`).

use roster_tests::harness::{TestApp, User, call_app_with_claims, service_claims};
use serde_json::{Value, json};

const SCOPE: &str = "roster/authorize";

async fn check(app: &TestApp, checks: Value) -> Vec<Value> {
    let r = app
        .call_as_service("dev-service", SCOPE, "POST", "/authorize", Some(json!({ "checks": checks })))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["results"].as_array().unwrap().clone()
}

async fn one(app: &TestApp, user: &str, org: &str, permission: &str, workspace: Option<&str>) -> Value {
    let mut c = json!({ "userId": user, "orgId": org, "permission": permission });
    if let Some(ws) = workspace {
        c["workspaceId"] = json!(ws);
    }
    check(app, json!([c])).await.remove(0)
}

fn answer(allowed: bool, reason: &str, role: Option<&str>) -> Value {
    json!({ "allowed": allowed, "reason": reason, "role": role })
}

async fn put(app: &TestApp, by: &User, path: String, body: Value) {
    let r = app.call(Some(by), "PUT", &path, Some(body)).await;
    assert!(r.status == 200 || r.status == 201, "PUT {path}: {:?}", r.body);
}

#[tokio::test]
async fn org_permissions_follow_the_organization_role() {
    let app = TestApp::spawn().await;
    let (owner, admin, member, viewer) =
        (app.user("owner"), app.user("admin"), app.user("member"), app.user("viewer"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &member, "member").await;
    app.add_member(&owner, &org, &viewer, "viewer").await;
    // (user, permission, allowed, role): the catalog's lists and Roster's rank rules.
    let table = [
        ("owner", "billing:manage", true, "owner"),
        ("admin", "billing:manage", false, "admin"),
        ("admin", "billing:read", true, "admin"),
        ("member", "settings:read", true, "member"),
        ("viewer", "settings:read", false, "viewer"),
        ("viewer", "reports:read", true, "viewer"),
        ("viewer", "members:read", true, "viewer"),
        ("member", "members:invite", false, "member"),
        ("admin", "members:invite", true, "admin"),
        ("admin", "roles:manage", false, "admin"),
        ("owner", "org:delete", true, "owner"),
    ];
    let checks: Vec<Value> = table
        .iter()
        .map(|(u, p, _, _)| json!({ "userId": app.user(u).sub, "orgId": org, "permission": p }))
        .collect();
    let results = check(&app, json!(checks)).await;
    for ((u, p, allowed, role), got) in table.iter().zip(&results) {
        let reason = if *allowed { "granted" } else { "no_permission" };
        assert_eq!(got, &answer(*allowed, reason, Some(role)), "{u} {p}");
    }
    // An org-scope permission is decided by the organization role even with a workspace.
    let ws = app.create_workspace(&owner, &org, "Site").await;
    assert_eq!(
        one(&app, &viewer.sub, &org, "reports:read", Some(&ws)).await,
        answer(true, "granted", Some("viewer"))
    );
}

#[tokio::test]
async fn workspace_permissions_follow_the_effective_workspace_role() {
    let app = TestApp::spawn().await;
    let (owner, admin, mia, leo, zoe) =
        (app.user("owner"), app.user("admin"), app.user("mia"), app.user("leo"), app.user("zoe"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &mia, "member").await;
    app.add_member(&owner, &org, &leo, "member").await;
    app.add_member(&owner, &org, &zoe, "viewer").await;
    let ws = app.create_workspace(&owner, &org, "Site").await;
    let other = app.create_workspace(&owner, &org, "Other").await;
    // mia: a direct viewer; leo: an admin through a group; zoe: nothing here.
    put(
        &app,
        &owner,
        format!("/orgs/{org}/workspaces/{ws}/members/{}", mia.sub),
        json!({ "role": "viewer" }),
    )
    .await;
    let editors = app.create_group(&owner, &org, "Editors").await;
    put(&app, &owner, format!("/orgs/{org}/groups/{editors}/members/{}", leo.sub), json!({})).await;
    put(&app, &owner, format!("/orgs/{org}/workspaces/{ws}/groups/{editors}"), json!({ "role": "admin" }))
        .await;

    assert_eq!(
        one(&app, &mia.sub, &org, "projects:read", Some(&ws)).await,
        answer(true, "granted", Some("viewer"))
    );
    assert_eq!(
        one(&app, &mia.sub, &org, "projects:write", Some(&ws)).await,
        answer(false, "no_permission", Some("viewer"))
    );
    assert_eq!(
        one(&app, &leo.sub, &org, "projects:delete", Some(&ws)).await,
        answer(true, "granted", Some("admin"))
    );
    assert_eq!(
        one(&app, &leo.sub, &org, "projects:read", Some(&other)).await,
        answer(false, "not_in_workspace", None)
    );
    assert_eq!(
        one(&app, &zoe.sub, &org, "projects:read", Some(&ws)).await,
        answer(false, "not_in_workspace", None)
    );
    // Organization admins are admins of every workspace.
    assert_eq!(
        one(&app, &admin.sub, &org, "projects:delete", Some(&other)).await,
        answer(true, "granted", Some("admin"))
    );
    // No workspace named, one that does not exist, a malformed id, one of another org.
    assert_eq!(one(&app, &admin.sub, &org, "projects:read", None).await, answer(false, "no_workspace", None));
    let absent = "ws_0123456789abcdef0123456789abcdef";
    assert_eq!(
        one(&app, &admin.sub, &org, "projects:read", Some(absent)).await,
        answer(false, "no_workspace", None)
    );
    assert_eq!(
        one(&app, &admin.sub, &org, "projects:read", Some("nope")).await,
        answer(false, "no_workspace", None)
    );
    let elsewhere_owner = app.user("else");
    let elsewhere = app.create_org(&elsewhere_owner, "Else").await;
    let foreign = app.create_workspace(&elsewhere_owner, &elsewhere, "Theirs").await;
    assert_eq!(
        one(&app, &admin.sub, &org, "projects:read", Some(&foreign)).await,
        answer(false, "no_workspace", None)
    );

    // The group deleted: its grant gives nothing from that answer on (before the purge).
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/groups/{editors}"), None).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        one(&app, &leo.sub, &org, "projects:read", Some(&ws)).await,
        answer(false, "not_in_workspace", None)
    );
    // The workspace deleted: no workspace, even for its admins.
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/workspaces/{ws}"), None).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        one(&app, &mia.sub, &org, "projects:read", Some(&ws)).await,
        answer(false, "no_workspace", None)
    );
}

#[tokio::test]
async fn removal_suspension_and_deletion_answer_at_once() {
    let app = TestApp::spawn().await;
    let (owner, mia, leo) = (app.user("owner"), app.user("mia"), app.user("leo"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &mia, "admin").await;
    app.add_member(&owner, &org, &leo, "member").await;
    assert_eq!(
        one(&app, &mia.sub, &org, "settings:manage", None).await,
        answer(true, "granted", Some("admin"))
    );
    app.suspend(&owner, &org, &mia.sub).await;
    assert_eq!(one(&app, &mia.sub, &org, "settings:manage", None).await, answer(false, "suspended", None));
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/members/{}", leo.sub), None).await;
    assert_eq!(r.status, 204);
    assert_eq!(one(&app, &leo.sub, &org, "reports:read", None).await, answer(false, "not_member", None));
    assert_eq!(one(&app, "stranger", &org, "reports:read", None).await, answer(false, "not_member", None));
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}"), None).await;
    assert_eq!(r.status, 204);
    assert_eq!(one(&app, &owner.sub, &org, "reports:read", None).await, answer(false, "no_org", None));
    assert_eq!(
        one(&app, &owner.sub, "not-an-org", "reports:read", None).await,
        answer(false, "no_org", None)
    );
    // The permission is judged first: it needs no read.
    assert_eq!(
        one(&app, &owner.sub, "not-an-org", "nope:x", None).await,
        answer(false, "unknown_permission", None)
    );
    assert_eq!(
        one(&app, &owner.sub, &org, "Bad Permission", None).await,
        answer(false, "unknown_permission", None)
    );
}

#[tokio::test]
async fn a_full_batch_is_answered_in_order_from_one_wave_or_two() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let users: Vec<User> = (0..10).map(|i| app.user(&format!("m{i}"))).collect();
    for (i, u) in users.iter().enumerate() {
        app.add_member(&owner, &org, u, if i % 2 == 0 { "member" } else { "viewer" }).await;
    }
    let checks: Vec<Value> = (0..100)
        .map(|i| {
            let p = if i % 3 == 0 { "settings:read" } else { "reports:read" };
            json!({ "userId": users[i % 10].sub, "orgId": org, "permission": p })
        })
        .collect();
    app.calls.take();
    let results = check(&app, json!(checks)).await;
    // 11 distinct keys: one BatchGetItem, one wave.
    assert_eq!(app.calls.take(), ["DynamoDB.BatchGetItem"]);
    assert_eq!(results.len(), 100);
    for (i, r) in results.iter().enumerate() {
        let expected = i % 3 != 0 || (i % 10) % 2 == 0;
        assert_eq!(r["allowed"], json!(expected), "check {i}: {r}");
    }
    // Workspace checks of members in groups: a second wave for the grants.
    let ws = app.create_workspace(&owner, &org, "Site").await;
    let g = app.create_group(&owner, &org, "G").await;
    put(&app, &owner, format!("/orgs/{org}/groups/{g}/members/{}", users[1].sub), json!({})).await;
    put(&app, &owner, format!("/orgs/{org}/workspaces/{ws}/groups/{g}"), json!({ "role": "member" })).await;
    app.calls.take();
    let r = one(&app, &users[1].sub, &org, "projects:write", Some(&ws)).await;
    assert_eq!(r, answer(true, "granted", Some("member")));
    assert_eq!(app.calls.take(), ["DynamoDB.BatchGetItem", "DynamoDB.BatchGetItem"]);
    // Only unknown permissions: no read at all.
    app.calls.take();
    check(&app, json!([{ "userId": "u", "orgId": org, "permission": "nope:x" }])).await;
    assert!(app.calls.take().is_empty());
}

#[tokio::test]
async fn only_services_with_the_scope_may_ask() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let body = json!({ "checks": [{ "userId": owner.sub, "orgId": org, "permission": "org:read" }] });
    let person = app.call(Some(&owner), "POST", "/authorize", Some(body.clone())).await;
    assert_eq!((person.status, person.code()), (403, "forbidden"));
    let unscoped =
        app.call_as_service("dev-service", "roster/admin", "POST", "/authorize", Some(body.clone())).await;
    assert_eq!((unscoped.status, unscoped.code()), (403, "forbidden"));
    // An unlisted client with the scope is nobody's service.
    let unlisted = call_app_with_claims(
        &app.app,
        Some(&service_claims("rogue", SCOPE)),
        "POST",
        "/authorize",
        Some(body.clone()),
    )
    .await;
    assert_eq!(unlisted.status, 403);
    // A person's access token whose app client is listed, with the scope: still a person.
    let mut forged = owner.claims();
    forged.insert("client_id".into(), "dev-service".into());
    forged.insert("scope".into(), SCOPE.into());
    let r = call_app_with_claims(&app.app, Some(&forged), "POST", "/authorize", Some(body.clone())).await;
    assert_eq!(r.status, 403);
    let anonymous = call_app_with_claims(&app.app, None, "POST", "/authorize", Some(body.clone())).await;
    assert_eq!(anonymous.status, 401);
    let ok = app
        .call_as_service("dev-backend", &format!("openid {SCOPE}"), "POST", "/authorize", Some(body))
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    // Services have no place on people's routes.
    let r = app.call_as_service("dev-service", "roster/authorize roster/admin", "GET", "/orgs", None).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
}

#[tokio::test]
async fn bad_batches_are_refused_whole() {
    let app = TestApp::spawn().await;
    let c = json!({ "userId": "u", "orgId": "o", "permission": "org:read" });
    for body in [
        json!({ "checks": [] }),
        json!({ "checks": vec![c.clone(); 101] }),
        json!({ "checks": [{ "userId": "u", "orgId": "o" }] }),
        json!({ "checks": [c.clone()], "extra": true }),
        json!([c.clone()]),
    ] {
        let r = app.call_as_service("dev-service", SCOPE, "POST", "/authorize", Some(body.clone())).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{body}");
        assert_eq!(r.content_type.as_deref(), Some("application/problem+json"));
    }
    let full = check(&app, json!(vec![c; 100])).await;
    assert_eq!(full.len(), 100);
    assert!(full.iter().all(|r| r == &answer(false, "no_org", None)));
}

#[tokio::test]
async fn the_catalog_and_your_permissions() {
    let app = TestApp::spawn().await;
    let (owner, viewer) = (app.user("owner"), app.user("viewer"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &viewer, "viewer").await;
    let catalog = app.call(Some(&viewer), "GET", "/permissions", None).await;
    assert_eq!(catalog.status, 200);
    let by_service = app.call_as_service("dev-service", SCOPE, "GET", "/permissions", None).await;
    assert_eq!(by_service.body, catalog.body, "services read the same catalog");
    let entries = catalog.body["permissions"].as_array().unwrap();
    let delete = entries.iter().find(|e| e["key"] == "org:delete").unwrap();
    assert_eq!(
        delete,
        &json!({ "key": "org:delete", "scope": "org", "description": delete["description"], "builtin": true, "roles": ["owner"] })
    );
    assert!(
        entries
            .iter()
            .any(|e| e["key"] == "projects:read" && e["scope"] == "workspace" && e["builtin"] == false)
    );

    let you = app.call(Some(&viewer), "GET", &format!("/orgs/{org}"), None).await.body["you"].clone();
    assert_eq!(you["role"], "viewer");
    let permissions: Vec<&str> =
        you["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(permissions, ["members:read", "org:read", "reports:read"]);
    let you = app.call(Some(&owner), "GET", &format!("/orgs/{org}"), None).await.body["you"].clone();
    assert!(you["permissions"].as_array().unwrap().contains(&json!("org:delete")));
    // `you` means nothing for a service.
    let r = app.call_as_service("dev-service", "roster/admin", "GET", &format!("/orgs/{org}"), None).await;
    assert_eq!(r.status, 403);
}
