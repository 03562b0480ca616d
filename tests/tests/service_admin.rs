//! Services holding `roster/admin` (API.md "Service callers"): every organization route as an
//! owner, within the invariants; creating an organization for a user, adding a known user,
//! handing ownership over; audited as `service:{clientId}` with `onBehalfOf`; what they
//! create admits while their client id stays listed.

#![recursion_limit = "256"]

use roster::domain::identity::ServiceClients;
use roster_tests::harness::{TestApp, TestResponse, User, call_app, call_app_with_claims, service_claims};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("dev-backend", "roster/admin");

async fn as_service(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> TestResponse {
    app.call_as_service(ADMIN.0, ADMIN.1, method, path, body).await
}

async fn role_of(app: &TestApp, by: &User, org: &str, user: &str) -> Value {
    let r = app.call(Some(by), "GET", &format!("/orgs/{org}/members/{user}"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["member"]["role"].clone()
}

async fn add(app: &TestApp, org: &str, body: Value) -> TestResponse {
    as_service(app, "POST", &format!("/orgs/{org}/members"), Some(body)).await
}

#[tokio::test]
async fn a_service_creates_an_organization_for_a_user() {
    let app = TestApp::spawn().await;
    let olivia = app.user("olivia");
    let address = olivia.email.clone().unwrap();
    let body =
        json!({ "name": "Acme", "ownerUserId": "olivia", "ownerEmail": address, "ownerName": "Olivia" });
    let created = as_service(&app, "POST", "/orgs", Some(body.clone())).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["membership"]["userId"], "olivia");
    assert_eq!(created.body["membership"]["role"], "owner");
    assert_eq!(created.body["membership"]["name"], "Olivia");
    let org = created.body["org"]["id"].as_str().unwrap().to_owned();
    assert_eq!(role_of(&app, &olivia, &org, "olivia").await, "owner");
    // The address is display-only: it holds no slot, so it can still be invited.
    let invited = app
        .call(
            Some(&olivia),
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": address }] })),
        )
        .await;
    assert_eq!(invited.body["results"][0]["status"], "invited", "{:?}", invited.body);
    // Audited as the service.
    let audit = app.call(Some(&olivia), "GET", &format!("/orgs/{org}/audit"), None).await;
    let created_event =
        audit.body["events"].as_array().unwrap().iter().find(|e| e["action"] == "org.created").cloned();
    assert_eq!(created_event.unwrap()["actor"], "service:dev-backend");

    // A person names no other owner; a service must name one.
    let person = app.call(Some(&olivia), "POST", "/orgs", Some(body)).await;
    assert_eq!((person.status, person.code()), (400, "invalid_request"));
    let unnamed = as_service(&app, "POST", "/orgs", Some(json!({ "name": "Acme" }))).await;
    assert_eq!((unnamed.status, unnamed.code()), (400, "invalid_request"));
    let posing =
        as_service(&app, "POST", "/orgs", Some(json!({ "name": "A", "ownerUserId": "service:x" }))).await;
    assert_eq!(posing.status, 400);
    let without_scope = app
        .call_as_service(
            "dev-backend",
            "roster/authorize",
            "POST",
            "/orgs",
            Some(json!({ "name": "A", "ownerUserId": "u" })),
        )
        .await;
    assert_eq!((without_scope.status, without_scope.code()), (403, "forbidden"));
}

#[tokio::test]
async fn one_organization_per_user_holds_for_the_owner_a_service_names() {
    let app = TestApp::spawn_with(|c| c.one_org_per_user = true).await;
    let olivia = app.user("olivia");
    app.create_org(&olivia, "Mine").await;
    let again =
        as_service(&app, "POST", "/orgs", Some(json!({ "name": "Acme", "ownerUserId": "olivia" }))).await;
    assert_eq!((again.status, again.code()), (409, "already_in_org"));
    let fresh =
        as_service(&app, "POST", "/orgs", Some(json!({ "name": "Acme", "ownerUserId": "oscar" }))).await;
    assert_eq!(fresh.status, 201, "{:?}", fresh.body);
    let org = fresh.body["org"]["id"].as_str().unwrap().to_owned();
    let added = add(&app, &org, json!({ "userId": "olivia", "role": "member" })).await;
    assert_eq!((added.status, added.code()), (409, "already_in_org"));
}

#[tokio::test]
async fn scopes_decide_and_person_tokens_get_nothing_from_them() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let members = format!("/orgs/{org}/members");
    // With roster/admin: the organization's routes, as an owner.
    assert_eq!(as_service(&app, "GET", &members, None).await.status, 200);
    // Without it: 403 on them.
    let no_admin = app.call_as_service("dev-backend", "roster/authorize", "GET", &members, None).await;
    assert_eq!((no_admin.status, no_admin.code()), (403, "forbidden"));
    let no_admin = app
        .call_as_service(
            "dev-service",
            "roster/usage",
            "PATCH",
            &format!("{members}/alice"),
            Some(json!({ "role": "admin" })),
        )
        .await;
    assert_eq!((no_admin.status, no_admin.code()), (403, "forbidden"));
    // `GET /orgs` and the organization as its member sees it (`you`) mean nothing for a service.
    assert_eq!(as_service(&app, "GET", "/orgs", None).await.status, 403);
    assert_eq!(as_service(&app, "GET", &format!("/orgs/{org}"), None).await.status, 403);
    // A person's token carrying roster/admin (its sub is not its client id): a person, and a
    // member of nothing here.
    let mut claims = service_claims("dev-backend", "roster/admin");
    claims.insert("sub".into(), "mallory".into());
    let person = call_app_with_claims(&app.app, Some(&claims), "GET", &members, None).await;
    assert_eq!((person.status, person.code()), (404, "not_found"));
    // No person poses as a service in the audit trail.
    let posing = User::new("service:dev-backend");
    assert_eq!(app.call(Some(&posing), "GET", "/orgs", None).await.status, 401);
    // An unknown organization is 404 for a service too.
    let unknown = as_service(&app, "GET", "/orgs/org_0192f5c4a1b27c3d8e9f0a1b2c3d4e5f/members", None).await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
}

#[tokio::test]
async fn a_service_adds_a_known_user_directly() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let bob = app.user("bob");
    let address = bob.email.clone().unwrap();
    let added =
        add(&app, &org, json!({ "userId": "bob", "email": address, "name": "Bob", "role": "admin" })).await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    assert_eq!(
        (&added.body["member"]["role"], &added.body["member"]["status"]),
        (&json!("admin"), &json!("active"))
    );
    // Active at once: bob reads the organization as an admin.
    let seen = app.call(Some(&bob), "GET", &format!("/orgs/{org}"), None).await;
    assert_eq!((seen.status, &seen.body["membership"]["role"]), (200, &json!("admin")));
    // Already a member.
    let again = add(&app, &org, json!({ "userId": "bob", "role": "member" })).await;
    assert_eq!((again.status, again.code()), (409, "conflict"));
    // The address claims no slot: inviting it is still possible.
    let invited = app
        .call(
            Some(&alice),
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": address }] })),
        )
        .await;
    assert_eq!(invited.body["results"][0]["status"], "invited", "{:?}", invited.body);
    // A custom role.
    let role =
        json!({ "key": "editor", "name": "Editor", "base": "member", "permissions": ["projects:read"] });
    let made = app.call(Some(&alice), "POST", &format!("/orgs/{org}/roles"), Some(role)).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let custom = add(&app, &org, json!({ "userId": "carol", "role": "editor" })).await;
    assert_eq!(custom.status, 201, "{:?}", custom.body);
    assert_eq!(
        (&custom.body["member"]["role"], &custom.body["member"]["customRole"]),
        (&json!("member"), &json!("editor"))
    );
    let unknown = add(&app, &org, json!({ "userId": "dan", "role": "nope" })).await;
    assert_eq!(unknown.status, 400, "{:?}", unknown.body);
    // People may not; nor may a service name itself.
    let person = app
        .call(
            Some(&alice),
            "POST",
            &format!("/orgs/{org}/members"),
            Some(json!({ "userId": "erin", "role": "member" })),
        )
        .await;
    assert_eq!(person.status, 403);
    let posing = add(&app, &org, json!({ "userId": "service:dev-backend", "role": "owner" })).await;
    assert_eq!(posing.status, 400);
    // The audit event.
    let audit = app.call(Some(&alice), "GET", &format!("/orgs/{org}/audit"), None).await;
    let event = audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "member.added" && e["target"] == "bob")
        .cloned()
        .unwrap();
    assert_eq!(event["actor"], "service:dev-backend");
}

#[tokio::test]
async fn adding_takes_a_seat() {
    let app = TestApp::spawn_with(|c| c.max_members = Some(2)).await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    assert_eq!(add(&app, &org, json!({ "userId": "bob", "role": "member" })).await.status, 201);
    let full = add(&app, &org, json!({ "userId": "carol", "role": "member" })).await;
    assert_eq!((full.status, full.code()), (409, "seat_limit"));
}

#[tokio::test]
async fn a_service_acts_as_an_owner_within_the_invariants() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let member = |user: &str| format!("/orgs/{org}/members/{user}");
    // The last owner stays.
    let demote = as_service(&app, "PATCH", &member("alice"), Some(json!({ "role": "admin" }))).await;
    assert_eq!((demote.status, demote.code()), (409, "last_owner"));
    let remove = as_service(&app, "DELETE", &member("alice"), None).await;
    assert_eq!((remove.status, remove.code()), (409, "last_owner"));
    let bulk = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/members/remove"),
        Some(json!({ "userIds": ["alice"] })),
    )
    .await;
    assert_ne!(bulk.status, 200, "{:?}", bulk.body);
    // As an owner: grants owner, manages anyone.
    assert_eq!(add(&app, &org, json!({ "userId": "bob", "role": "member" })).await.status, 201);
    let promote = as_service(&app, "PATCH", &member("bob"), Some(json!({ "role": "owner" }))).await;
    assert_eq!(promote.status, 200, "{:?}", promote.body);
    let demote = as_service(&app, "PATCH", &member("alice"), Some(json!({ "role": "admin" }))).await;
    assert_eq!(demote.status, 200, "{:?}", demote.body);
    let rename =
        as_service(&app, "PATCH", &format!("/orgs/{org}"), Some(json!({ "name": "Acme Inc." }))).await;
    assert_eq!(rename.status, 200, "{:?}", rename.body);
    let removed = as_service(&app, "DELETE", &member("alice"), None).await;
    assert_eq!(removed.status, 204, "{:?}", removed.body);
    // The reads an owner has.
    for path in [
        format!("/orgs/{org}/audit"),
        format!("/orgs/{org}/invitations"),
        format!("/orgs/{org}/invite-links"),
    ] {
        assert_eq!(as_service(&app, "GET", &path, None).await.status, 200, "{path}");
    }
    // And deleting the organization, after which it is gone for the service too.
    let deleted = as_service(&app, "DELETE", &format!("/orgs/{org}"), None).await;
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    assert_eq!(as_service(&app, "GET", &format!("/orgs/{org}/members"), None).await.status, 404);
}

#[tokio::test]
async fn a_service_hands_ownership_over_between_members() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    assert_eq!(add(&app, &org, json!({ "userId": "bob", "role": "member" })).await.status, 201);
    let path = format!("/orgs/{org}/transfer-ownership");
    // A person hands over their own ownership only.
    let person =
        app.call(Some(&alice), "POST", &path, Some(json!({ "fromUserId": "alice", "userId": "bob" }))).await;
    assert_eq!((person.status, person.code()), (400, "invalid_request"));
    // A service names whose ownership goes; it must be an active owner's.
    let unnamed = as_service(&app, "POST", &path, Some(json!({ "userId": "bob" }))).await;
    assert_eq!(unnamed.status, 400);
    let not_owner =
        as_service(&app, "POST", &path, Some(json!({ "fromUserId": "bob", "userId": "alice" }))).await;
    assert_eq!(not_owner.status, 409, "{:?}", not_owner.body);
    let moved =
        as_service(&app, "POST", &path, Some(json!({ "fromUserId": "alice", "userId": "bob" }))).await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!((&moved.body["from"]["role"], &moved.body["to"]["role"]), (&json!("admin"), &json!("owner")));
    assert_eq!(role_of(&app, &alice, &org, "bob").await, "owner");
}

#[tokio::test]
async fn the_audit_trail_names_the_service_and_whom_it_acted_for() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let added = app
        .call_as_service_with(
            ADMIN,
            "POST",
            &format!("/orgs/{org}/members"),
            &[("X-Roster-On-Behalf-Of", "alice")],
            Some(json!({ "userId": "bob", "role": "viewer" })),
        )
        .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    let changed = app
        .call_as_service_with(
            ADMIN,
            "PATCH",
            &format!("/orgs/{org}/members/bob"),
            &[("X-Roster-On-Behalf-Of", "alice")],
            Some(json!({ "role": "member" })),
        )
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    let audit = app.call(Some(&alice), "GET", &format!("/orgs/{org}/audit"), None).await;
    let events = audit.body["events"].as_array().unwrap();
    for action in ["member.added", "member.role_changed"] {
        let event =
            events.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("{action}: {events:?}"));
        assert_eq!(event["actor"], "service:dev-backend", "{event}");
        assert_eq!(event["details"]["onBehalfOf"], "alice", "{event}");
    }
    // It grants nothing, and a person's header is not recorded.
    let bob = app.user("bob");
    let header = app
        .call_raw(
            Some(&bob),
            "PATCH",
            &format!("/orgs/{org}/members/alice"),
            &[
                ("x-roster-on-behalf-of".into(), "alice".into()),
                ("content-type".into(), "application/json".into()),
            ],
            json!({ "role": "viewer" }).to_string().as_bytes(),
        )
        .await;
    assert_eq!(header.status, 403, "{:?}", header.body);
    let bad = app
        .call_as_service_with(
            ADMIN,
            "GET",
            &format!("/orgs/{org}/members"),
            &[("X-Roster-On-Behalf-Of", "a b")],
            None,
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn what_a_service_creates_admits_while_it_is_listed() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let link = |role: &str| {
        let (app, org) = (&app, &org);
        let body = json!({ "role": role });
        async move { as_service(app, "POST", &format!("/orgs/{org}/invite-links"), Some(body)).await }
    };
    let (first, second) = (link("admin").await, link("member").await);
    assert_eq!(first.status, 201, "{:?}", first.body);
    let token = |r: &TestResponse| r.body["link"]["token"].as_str().unwrap().to_owned();
    let accept = json!({ "token": token(&first) });
    // Listed: it admits, and the list shows it active.
    let ann = app.user("ann");
    let joined = app.call(Some(&ann), "POST", "/invitations/accept", Some(accept)).await;
    assert_eq!(
        (joined.status, &joined.body["membership"]["role"]),
        (200, &json!("admin")),
        "{:?}",
        joined.body
    );
    let links = app.call(Some(&alice), "GET", &format!("/orgs/{org}/invite-links"), None).await;
    assert!(
        links.body["links"].as_array().unwrap().iter().all(|l| l["status"] == "active"),
        "{:?}",
        links.body
    );

    // Its client id removed from the list (a redeployment): what it made admits nobody.
    let delisted =
        app.with_config(|c| c.service_clients = ServiceClients::parse("dev-service").unwrap()).await;
    let ben = app.user("ben");
    let refused = call_app(
        &delisted,
        Some(&ben),
        "POST",
        "/invitations/accept",
        Some(json!({ "token": token(&second) })),
    )
    .await;
    assert_eq!((refused.status, refused.code()), (404, "invitation_not_found"), "{:?}", refused.body);
    let links = call_app(&delisted, Some(&alice), "GET", &format!("/orgs/{org}/invite-links"), None).await;
    for l in links.body["links"].as_array().unwrap() {
        assert_eq!((&l["status"], &l["revokedReason"]), (&json!("revoked"), &json!("creator_left")), "{l}");
    }
    let preview = call_app(
        &delisted,
        Some(&ben),
        "POST",
        "/invitations/preview",
        Some(json!({ "token": token(&second) })),
    )
    .await;
    assert_eq!(preview.body["status"], "revoked", "{:?}", preview.body);
    // And its token no longer counts as a service's.
    let gone = call_app_with_claims(
        &delisted,
        Some(&service_claims(ADMIN.0, ADMIN.1)),
        "GET",
        &format!("/orgs/{org}/members"),
        None,
    )
    .await;
    assert_eq!((gone.status, gone.code()), (403, "forbidden"), "a listed client no more is nobody");
    // Listed again, it admits again (the list is all there is to its standing).
    let joined =
        app.call(Some(&ben), "POST", "/invitations/accept", Some(json!({ "token": token(&second) }))).await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
}

#[tokio::test]
async fn an_invitation_by_a_service_names_it() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let ann = app.user("ann");
    let address = ann.email.clone().unwrap();
    let invited = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/invitations"),
        Some(json!({ "invitations": [{ "email": address, "role": "owner" }] })),
    )
    .await;
    assert_eq!(invited.status, 200, "{:?}", invited.body);
    assert_eq!(invited.body["results"][0]["status"], "invited", "{:?}", invited.body);
    let list = app.call(Some(&alice), "GET", &format!("/orgs/{org}/invitations"), None).await;
    let invitation = &list.body["invitations"][0];
    assert_eq!(
        (&invitation["invitedBy"], &invitation["status"]),
        (&json!("service:dev-backend"), &json!("pending")),
        "{invitation}"
    );
    let token = app.token_mailed_to(&address).await;
    let joined = app.call(Some(&ann), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
    assert_eq!(
        (joined.status, &joined.body["membership"]["role"]),
        (200, &json!("owner")),
        "{:?}",
        joined.body
    );
}

#[tokio::test]
async fn a_service_manages_roles_and_groups_as_an_owner() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    assert_eq!(add(&app, &org, json!({ "userId": "bob", "role": "member" })).await.status, 201);
    // Custom roles are the owners'.
    let role =
        json!({ "key": "editor", "name": "Editor", "base": "member", "permissions": ["projects:read"] });
    let made = as_service(&app, "POST", &format!("/orgs/{org}/roles"), Some(role)).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    assert_eq!(as_service(&app, "GET", &format!("/orgs/{org}/roles"), None).await.status, 200);
    let renamed =
        as_service(&app, "PATCH", &format!("/orgs/{org}/roles/editor"), Some(json!({ "name": "Editors" })))
            .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    // Groups and their members.
    let group =
        as_service(&app, "POST", &format!("/orgs/{org}/groups"), Some(json!({ "name": "Team" }))).await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    let id = group.body["group"]["id"].as_str().unwrap().to_owned();
    let put = as_service(&app, "PUT", &format!("/orgs/{org}/groups/{id}/members/bob"), None).await;
    assert!(put.status == 200 || put.status == 201, "{:?}", put.body);
    let listed = as_service(&app, "GET", &format!("/orgs/{org}/groups/{id}/members"), None).await;
    assert_eq!(listed.body["members"][0]["userId"], "bob", "{:?}", listed.body);
    let gone = as_service(&app, "DELETE", &format!("/orgs/{org}/groups/{id}"), None).await;
    assert_eq!(gone.status, 204, "{:?}", gone.body);
    let deleted = as_service(&app, "DELETE", &format!("/orgs/{org}/roles/editor"), None).await;
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    // Without roster/admin: 403.
    let refused = app
        .call_as_service("dev-backend", "roster/authorize", "GET", &format!("/orgs/{org}/groups"), None)
        .await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"));
}

#[tokio::test]
async fn a_service_manages_workspaces_as_an_owner() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    assert_eq!(add(&app, &org, json!({ "userId": "bob", "role": "member" })).await.status, 201);
    let made =
        as_service(&app, "POST", &format!("/orgs/{org}/workspaces"), Some(json!({ "name": "Docs" }))).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let ws = made.body["workspace"]["id"].as_str().unwrap().to_owned();
    let put = as_service(
        &app,
        "PUT",
        &format!("/orgs/{org}/workspaces/{ws}/members/bob"),
        Some(json!({ "role": "member" })),
    )
    .await;
    assert!(put.status == 200 || put.status == 201, "{:?}", put.body);
    let theirs =
        app.call(Some(&app.user("bob")), "GET", &format!("/orgs/{org}/members/bob/workspaces"), None).await;
    assert_eq!(theirs.body["workspaces"][0]["id"], json!(ws), "{:?}", theirs.body);
    let listed = as_service(&app, "GET", &format!("/orgs/{org}/workspaces"), None).await;
    assert_eq!(listed.body["workspaces"][0]["id"], json!(ws), "{:?}", listed.body);
    assert_eq!(
        as_service(&app, "GET", &format!("/orgs/{org}/workspaces/{ws}/members"), None).await.status,
        200
    );
    let gone = as_service(&app, "DELETE", &format!("/orgs/{org}/workspaces/{ws}"), None).await;
    assert_eq!(gone.status, 204, "{:?}", gone.body);
    let audit = app.call(Some(&alice), "GET", &format!("/orgs/{org}/audit"), None).await;
    let created =
        audit.body["events"].as_array().unwrap().iter().find(|e| e["action"] == "workspace.created").cloned();
    assert_eq!(created.unwrap()["actor"], "service:dev-backend");
}
