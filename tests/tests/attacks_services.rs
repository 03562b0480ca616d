//! A hostile review of services holding `roster/admin` (API.md "Identity", "Service callers"):
//! forged or partial claims, scopes that only look right, a service past the invariants, on
//! another organization's ids, its `X-Roster-On-Behalf-Of`, what a display-only address may
//! claim, what a delisted client keeps, and the audit trail of its writes. Every refusal is
//! problem+json and changes nothing. (`service_admin.rs` holds the feature's own tests.)

#![recursion_limit = "256"]

use roster::domain::identity::ServiceClients;
use roster_tests::harness::{TestApp, TestResponse, User, call_app, call_app_with_claims, service_claims};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("dev-backend", "roster/admin");

async fn as_service(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> TestResponse {
    app.call_as_service(ADMIN.0, ADMIN.1, method, path, body).await
}

/// A refusal: this status, problem+json, never a 500.
#[track_caller]
fn refused(r: &TestResponse, status: u16, what: &str) {
    assert_eq!(r.status, status, "{what}: {:?}", r.body);
    assert_eq!(r.content_type.as_deref(), Some("application/problem+json"), "{what}: {:?}", r.body);
}

/// The members of `org` as its owner sees them: (userId, role, status), sorted.
async fn members(app: &TestApp, owner: &User, org: &str) -> Vec<(String, String, String)> {
    let r = app.call(Some(owner), "GET", &format!("/orgs/{org}/members"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut all: Vec<_> = r.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
            (s("userId"), s("role"), s("status"))
        })
        .collect();
    all.sort();
    all
}

/// The organizations `user` belongs to.
async fn orgs_of(app: &TestApp, user: &User) -> usize {
    let r = app.call(Some(user), "GET", "/orgs", None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["orgs"].as_array().map_or(0, Vec::len)
}

fn claims(pairs: &[(&str, &str)]) -> roster_tests::event::Claims {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Claims that look like a service's but are not a service holding `roster/admin`: none may
/// add a member, change a role, transfer, invite, delete or create an organization for a user.
#[tokio::test]
async fn forged_or_partial_service_claims_get_no_admin() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let before = members(&app, &alice, &org).await;
    let service = |scope: &str| service_claims("dev-backend", scope);
    let with = |mut c: roster_tests::event::Claims, k: &str, v: &str| {
        c.insert(k.into(), v.into());
        c
    };
    let mut no_client = service("roster/admin");
    no_client.remove("client_id");
    let forged: Vec<(&str, roster_tests::event::Claims)> = vec![
        ("sub is not client_id", with(service("roster/admin"), "sub", "mallory")),
        ("client_id missing", no_client),
        ("an unlisted client", service_claims("svc-9", "roster/admin")),
        ("roster/adminx", service("roster/adminx")),
        ("xroster/admin", service("xroster/admin")),
        ("roster/admin/", service("roster/admin/")),
        ("ROSTER/ADMIN", service("ROSTER/ADMIN")),
        ("tab-joined", service("roster/usage\troster/admin")),
        ("newline-joined", service("roster/usage\nroster/admin")),
        ("no-break-space-joined", service("roster/usage\u{a0}roster/admin")),
        ("comma-joined", service("roster/usage,roster/admin")),
        ("a person's token with the scope", claims(&[("sub", "mallory"), ("scope", "roster/admin")])),
        ("Service: as a person", claims(&[("sub", "Service:dev-backend"), ("scope", "roster/admin")])),
    ];
    for (what, claims) in &forged {
        let call = |method: &'static str, path: String, body: Option<Value>| {
            let app = &app.app;
            async move { call_app_with_claims(app, Some(claims), method, &path, body).await }
        };
        let add = call(
            "POST",
            format!("/orgs/{org}/members"),
            Some(json!({ "userId": "mallory", "role": "owner" })),
        )
        .await;
        assert!(matches!(add.status, 403 | 404), "{what}: add {:?}", add.body);
        refused(&add, add.status, what);
        let patch =
            call("PATCH", format!("/orgs/{org}/members/alice"), Some(json!({ "role": "viewer" }))).await;
        assert!(matches!(patch.status, 403 | 404), "{what}: patch {:?}", patch.body);
        refused(&patch, patch.status, what);
        let transfer = call(
            "POST",
            format!("/orgs/{org}/transfer-ownership"),
            Some(json!({ "fromUserId": "alice", "userId": "alice" })),
        )
        .await;
        assert!(matches!(transfer.status, 400 | 403 | 404), "{what}: transfer {:?}", transfer.body);
        refused(&transfer, transfer.status, what);
        let invite = call(
            "POST",
            format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": app.email("m"), "role": "owner" }] })),
        )
        .await;
        assert!(matches!(invite.status, 403 | 404), "{what}: invite {:?}", invite.body);
        refused(&invite, invite.status, what);
        let delete = call("DELETE", format!("/orgs/{org}"), None).await;
        assert!(matches!(delete.status, 403 | 404), "{what}: delete {:?}", delete.body);
        refused(&delete, delete.status, what);
        let create =
            call("POST", "/orgs".into(), Some(json!({ "name": "Theirs", "ownerUserId": "olivia" }))).await;
        assert!(matches!(create.status, 400 | 403), "{what}: create {:?}", create.body);
        refused(&create, create.status, what);
    }
    assert_eq!(members(&app, &alice, &org).await, before);
    let invitations = app.call(Some(&alice), "GET", &format!("/orgs/{org}/invitations"), None).await;
    assert_eq!(invitations.body["invitations"], json!([]), "{:?}", invitations.body);
    assert_eq!(orgs_of(&app, &app.user("olivia")).await, 0);
}

/// A person's subject that names a service, however dressed, is refused (401) before anything.
#[tokio::test]
async fn a_person_posing_as_a_service_in_the_trail_is_refused() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    for sub in ["service:dev-backend", "service:", " service:dev-backend", "service:dev-backend\n"] {
        let posing = User::new(sub);
        let r = app
            .call(
                Some(&posing),
                "POST",
                &format!("/orgs/{org}/members"),
                Some(json!({ "userId": "x", "role": "member" })),
            )
            .await;
        refused(&r, 401, sub);
        let r = app.call(Some(&posing), "POST", "/orgs", Some(json!({ "name": "Mine" }))).await;
        refused(&r, 401, sub);
    }
    // Even holding the scope and a listed client id, when `sub` is not the client id.
    let mut c = service_claims("dev-backend", "roster/admin");
    c.insert("sub".into(), "service:dev-backend".into());
    let r = call_app_with_claims(&app.app, Some(&c), "GET", &format!("/orgs/{org}/members"), None).await;
    refused(&r, 401, "service: sub with a client id");
}

/// An ID token is no service's, whatever its `sub` and `client_id` (API.md: a service's
/// token is an access token, `token_use: "access"`), nor a person named by the client id.
#[tokio::test]
async fn an_id_token_is_never_a_service() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let mut id_token = service_claims("dev-backend", "roster/admin");
    id_token.insert("token_use".into(), "id".into());
    let r = call_app_with_claims(
        &app.app,
        Some(&id_token),
        "POST",
        &format!("/orgs/{org}/members"),
        Some(json!({ "userId": "mallory", "role": "owner" })),
    )
    .await;
    refused(&r, 403, "an ID token");
    assert_eq!(r.code(), "forbidden");
    assert_eq!(members(&app, &alice, &org).await.len(), 1);
}

/// A service holding other scopes only is refused every write, and nothing changes.
#[tokio::test]
async fn other_scopes_get_no_write() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    assert_eq!(
        as_service(
            &app,
            "POST",
            &format!("/orgs/{org}/members"),
            Some(json!({ "userId": "bob", "role": "member" }))
        )
        .await
        .status,
        201
    );
    let before = members(&app, &alice, &org).await;
    let writes: Vec<(&str, String, Option<Value>)> = vec![
        ("POST", format!("/orgs/{org}/members"), Some(json!({ "userId": "carol", "role": "owner" }))),
        ("PATCH", format!("/orgs/{org}/members/bob"), Some(json!({ "role": "owner" }))),
        ("DELETE", format!("/orgs/{org}/members/bob"), None),
        (
            "POST",
            format!("/orgs/{org}/transfer-ownership"),
            Some(json!({ "fromUserId": "alice", "userId": "bob" })),
        ),
        (
            "POST",
            format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": app.email("z") }] })),
        ),
        ("POST", format!("/orgs/{org}/invite-links"), Some(json!({ "role": "admin" }))),
        ("PATCH", format!("/orgs/{org}"), Some(json!({ "name": "Taken" }))),
        ("DELETE", format!("/orgs/{org}"), None),
        ("POST", "/orgs".into(), Some(json!({ "name": "Theirs", "ownerUserId": "olivia" }))),
    ];
    for scope in ["roster/authorize", "roster/usage", "roster/authorize roster/usage", ""] {
        for (method, path, body) in &writes {
            let r = app.call_as_service("dev-service", scope, method, path, body.clone()).await;
            refused(&r, 403, &format!("{scope:?} {method} {path}"));
            assert_eq!(r.code(), "forbidden");
        }
    }
    assert_eq!(members(&app, &alice, &org).await, before);
    let links = app.call(Some(&alice), "GET", &format!("/orgs/{org}/invite-links"), None).await;
    assert_eq!(links.body["links"], json!([]), "{:?}", links.body);
    assert_eq!(orgs_of(&app, &app.user("olivia")).await, 0);
}

/// Routes for people answer a service 403 and leave the invitation as it was.
#[tokio::test]
async fn a_service_cannot_accept_or_decline_an_invitation() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let link = app
        .call(Some(&alice), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({ "role": "owner" })))
        .await;
    assert_eq!(link.status, 201, "{:?}", link.body);
    let token = link.body["link"]["token"].as_str().unwrap().to_owned();
    for path in ["/invitations/accept", "/invitations/decline"] {
        let r = as_service(&app, "POST", path, Some(json!({ "token": token }))).await;
        refused(&r, 403, path);
        assert_eq!(r.code(), "forbidden");
    }
    assert_eq!(members(&app, &alice, &org).await.len(), 1);
    let ann = app.user("ann");
    let joined = app.call(Some(&ann), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
    assert_eq!(joined.status, 200, "the link still admits: {:?}", joined.body);
}

/// The only owner stays, whatever way a service tries: suspension, demotion by transfer to
/// themselves, bulk removal; and an owner suspended cannot hand over.
#[tokio::test]
async fn a_service_cannot_remove_the_last_owner_any_way() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let member = |user: &str| format!("/orgs/{org}/members/{user}");
    let suspend = as_service(&app, "PATCH", &member("alice"), Some(json!({ "status": "suspended" }))).await;
    refused(&suspend, 409, "suspend");
    assert_eq!(suspend.code(), "last_owner");
    let both =
        as_service(&app, "PATCH", &member("alice"), Some(json!({ "role": "viewer", "status": "suspended" })))
            .await;
    assert!(matches!(both.status, 400 | 409), "{:?}", both.body);
    refused(&both, both.status, "demote and suspend");
    let to_self = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/transfer-ownership"),
        Some(json!({ "fromUserId": "alice", "userId": "alice" })),
    )
    .await;
    refused(&to_self, 400, "transfer to the same user");
    let bulk = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/members/remove"),
        Some(json!({ "userIds": ["alice"] })),
    )
    .await;
    let kept = members(&app, &alice, &org).await;
    assert_eq!(kept, vec![("alice".into(), "owner".into(), "active".into())], "bulk: {:?}", bulk.body);
    // Two owners, one suspended: the active one is the last.
    let add = |user: &str, role: &str| {
        let body = json!({ "userId": user, "role": role });
        let (app, org) = (&app, &org);
        async move { as_service(app, "POST", &format!("/orgs/{org}/members"), Some(body)).await }
    };
    assert_eq!(add("bob", "owner").await.status, 201);
    assert_eq!(add("carol", "member").await.status, 201);
    let r = as_service(&app, "PATCH", &member("bob"), Some(json!({ "status": "suspended" }))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let last = as_service(&app, "DELETE", &member("alice"), None).await;
    refused(&last, 409, "remove the only active owner");
    assert_eq!(last.code(), "last_owner");
    let from_suspended = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/transfer-ownership"),
        Some(json!({ "fromUserId": "bob", "userId": "carol" })),
    )
    .await;
    refused(&from_suspended, 409, "from a suspended owner");
    assert_eq!(
        members(&app, &alice, &org).await,
        vec![
            ("alice".into(), "owner".into(), "active".into()),
            ("bob".into(), "owner".into(), "suspended".into()),
            ("carol".into(), "member".into(), "active".into()),
        ]
    );
}

/// Ids of one organization mean nothing in another's path: a service is an owner everywhere,
/// but of each organization on its own.
#[tokio::test]
async fn a_service_cannot_mix_organizations_ids() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let zed = app.user("zed");
    let org_a = app.create_org(&alice, "A").await;
    let org_b = app.create_org(&zed, "B").await;
    let patch =
        as_service(&app, "PATCH", &format!("/orgs/{org_a}/members/zed"), Some(json!({ "role": "viewer" })))
            .await;
    refused(&patch, 404, "a member of B in A's path");
    let remove = as_service(&app, "DELETE", &format!("/orgs/{org_a}/members/zed"), None).await;
    refused(&remove, 404, "remove B's owner via A");
    let transfer = as_service(
        &app,
        "POST",
        &format!("/orgs/{org_a}/transfer-ownership"),
        Some(json!({ "fromUserId": "zed", "userId": "alice" })),
    )
    .await;
    assert!(matches!(transfer.status, 404 | 409), "{:?}", transfer.body);
    refused(&transfer, transfer.status, "from B's owner in A");
    let transfer = as_service(
        &app,
        "POST",
        &format!("/orgs/{org_a}/transfer-ownership"),
        Some(json!({ "fromUserId": "alice", "userId": "zed" })),
    )
    .await;
    refused(&transfer, 404, "to B's owner in A");
    assert_eq!(members(&app, &alice, &org_a).await, vec![("alice".into(), "owner".into(), "active".into())]);
    assert_eq!(members(&app, &zed, &org_b).await, vec![("zed".into(), "owner".into(), "active".into())]);
    // A deleted organization is gone for the service's writes too.
    assert_eq!(as_service(&app, "DELETE", &format!("/orgs/{org_b}"), None).await.status, 204);
    let add = as_service(
        &app,
        "POST",
        &format!("/orgs/{org_b}/members"),
        Some(json!({ "userId": "mallory", "role": "owner" })),
    )
    .await;
    refused(&add, 404, "add to a deleted organization");
    let again = as_service(&app, "DELETE", &format!("/orgs/{org_b}"), None).await;
    refused(&again, 404, "delete twice");
}

/// Transfer's input, for a service: every bad `fromUserId` or `userId` is refused and nothing
/// moves.
#[tokio::test]
async fn a_service_transfer_with_bad_ids_moves_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let r = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/members"),
        Some(json!({ "userId": "bob", "role": "member" })),
    )
    .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let path = format!("/orgs/{org}/transfer-ownership");
    let long = "a".repeat(129);
    let cases: Vec<(Value, &[u16])> = vec![
        (json!({ "fromUserId": "service:dev-backend", "userId": "bob" }), &[400]),
        (json!({ "fromUserId": "alice", "userId": "service:dev-backend" }), &[400, 404]),
        (json!({ "fromUserId": "", "userId": "bob" }), &[400]),
        (json!({ "fromUserId": "a b", "userId": "bob" }), &[400]),
        (json!({ "fromUserId": long, "userId": "bob" }), &[400]),
        (json!({ "fromUserId": "alice" }), &[400]),
        (json!({ "fromUserId": null, "userId": "bob" }), &[400]),
        (json!({ "fromUserId": 7, "userId": "bob" }), &[400]),
        (json!({ "fromUserId": "nobody", "userId": "bob" }), &[404, 409]),
        (json!({ "fromUserId": "alice", "userId": "nobody" }), &[404]),
        (json!({ "fromUserId": "alice", "userId": "bob", "extra": 1 }), &[400]),
    ];
    for (body, statuses) in cases {
        let r = as_service(&app, "POST", &path, Some(body.clone())).await;
        assert!(statuses.contains(&r.status), "{body}: {:?}", r.body);
        refused(&r, r.status, &body.to_string());
    }
    // A pending or suspended member receives no ownership.
    let r = as_service(
        &app,
        "PATCH",
        &format!("/orgs/{org}/members/bob"),
        Some(json!({ "status": "suspended" })),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = as_service(&app, "POST", &path, Some(json!({ "fromUserId": "alice", "userId": "bob" }))).await;
    refused(&r, 409, "to a suspended member");
    assert_eq!(
        members(&app, &alice, &org).await,
        vec![
            ("alice".into(), "owner".into(), "active".into()),
            ("bob".into(), "member".into(), "suspended".into())
        ]
    );
}

/// `POST /orgs/{orgId}/members` input: every bad user id, role, address is 400 and adds no one.
#[tokio::test]
async fn a_service_adding_bad_input_adds_no_one() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let path = format!("/orgs/{org}/members");
    let long = "u".repeat(129);
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "userId": "", "role": "member" }), "invalid_request"),
        (json!({ "userId": "a b", "role": "member" }), "invalid_request"),
        (json!({ "userId": "a\u{0}b", "role": "member" }), "invalid_request"),
        (json!({ "userId": "a\u{202e}b", "role": "member" }), "invalid_request"),
        (json!({ "userId": long, "role": "member" }), "invalid_request"),
        (json!({ "userId": "service:x", "role": "member" }), "invalid_request"),
        (json!({ "userId": "service:", "role": "member" }), "invalid_request"),
        (json!({ "userId": "bob", "role": "nope" }), "invalid_role"),
        (json!({ "userId": "bob", "role": "" }), "invalid_role"),
        (json!({ "userId": "bob", "role": "Owner" }), "invalid_role"),
        (json!({ "userId": "bob", "role": "member", "email": "not an address" }), "invalid_email"),
        (json!({ "userId": "bob" }), "invalid_request"),
        (json!({ "userId": "bob", "role": "member", "status": "active" }), "invalid_request"),
        (json!({ "userId": 7, "role": "member" }), "invalid_request"),
    ];
    for (body, code) in cases {
        let r = as_service(&app, "POST", &path, Some(body.clone())).await;
        refused(&r, 400, &body.to_string());
        assert_eq!(r.code(), code, "{body}: {:?}", r.body);
    }
    assert_eq!(members(&app, &alice, &org).await.len(), 1);
    // The custom role must exist in this organization, not another's.
    let zed = app.user("zed");
    let other = app.create_org(&zed, "Other").await;
    let role =
        json!({ "key": "editor", "name": "Editor", "base": "member", "permissions": ["projects:read"] });
    let made = app.call(Some(&zed), "POST", &format!("/orgs/{other}/roles"), Some(role)).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let r = as_service(&app, "POST", &path, Some(json!({ "userId": "bob", "role": "editor" }))).await;
    refused(&r, 400, "another organization's custom role");
    assert_eq!(r.code(), "invalid_role");
    assert_eq!(members(&app, &alice, &org).await.len(), 1);
}

/// Seats count pending invitations too: a service's direct add cannot overfill them.
#[tokio::test]
async fn a_service_add_counts_pending_invitations_as_seats() {
    let app = TestApp::spawn_with(|c| c.max_members = Some(2)).await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let invited = app
        .call(
            Some(&alice),
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": app.email("ann") }] })),
        )
        .await;
    assert_eq!(invited.body["results"][0]["status"], "invited", "{:?}", invited.body);
    let full = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/members"),
        Some(json!({ "userId": "bob", "role": "member" })),
    )
    .await;
    refused(&full, 409, "seat held by an invitation");
    assert_eq!(full.code(), "seat_limit");
    assert_eq!(members(&app, &alice, &org).await.len(), 1);
}

/// Two concurrent creations for the same user under one-org-per-user: exactly one wins.
#[tokio::test]
async fn one_org_per_user_holds_for_concurrent_service_creations() {
    let app = TestApp::spawn_with(|c| c.one_org_per_user = true).await;
    let body = json!({ "name": "Acme", "ownerUserId": "oscar" });
    let (a, b) = tokio::join!(
        Box::pin(as_service(&app, "POST", "/orgs", Some(body.clone()))),
        Box::pin(as_service(&app, "POST", "/orgs", Some(body.clone())))
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{:?} {:?}", a.body, b.body);
    let loser = if a.status == 409 { &a } else { &b };
    refused(loser, 409, "the second creation");
    assert_eq!(loser.code(), "already_in_org");
    assert_eq!(orgs_of(&app, &app.user("oscar")).await, 1);
    // And a direct add of the same user elsewhere.
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Other").await;
    let r = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/members"),
        Some(json!({ "userId": "oscar", "role": "owner" })),
    )
    .await;
    refused(&r, 409, "oscar elsewhere");
    assert_eq!(r.code(), "already_in_org");
}

/// `X-Roster-On-Behalf-Of`: a person's is ignored (their own rights, their own name in the
/// trail); a service's must name a person, and a bad one writes nothing.
#[tokio::test]
async fn on_behalf_of_is_never_a_grant_and_bad_values_write_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let added = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/members"),
        Some(json!({ "userId": "bob", "role": "member" })),
    )
    .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    // A person's header, on a write they may make: recorded as theirs, no onBehalfOf.
    let header = app
        .call_raw(
            Some(&alice),
            "PATCH",
            &format!("/orgs/{org}/members/bob"),
            &[
                ("x-roster-on-behalf-of".into(), "zed".into()),
                ("content-type".into(), "application/json".into()),
            ],
            json!({ "role": "viewer" }).to_string().as_bytes(),
        )
        .await;
    assert_eq!(header.status, 200, "{:?}", header.body);
    let audit = app.call(Some(&alice), "GET", &format!("/orgs/{org}/audit"), None).await;
    let event = audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "member.role_changed")
        .cloned()
        .unwrap();
    assert_eq!(event["actor"], "alice", "{event}");
    assert!(event["details"].get("onBehalfOf").is_none(), "{event}");
    // A service's bad values: 400 before any write.
    let (long, huge) = ("u".repeat(129), "u".repeat(10_000));
    for value in ["", " ", "a b", "service:dev-backend", "service:x", &long, &huge, "caf\u{e9}", "a\u{202e}b"]
    {
        let r = app
            .call_as_service_with(
                ADMIN,
                "POST",
                &format!("/orgs/{org}/members"),
                &[("X-Roster-On-Behalf-Of", value)],
                Some(json!({ "userId": "carol", "role": "owner" })),
            )
            .await;
        refused(&r, 400, value);
        let r = app
            .call_as_service_with(
                ADMIN,
                "POST",
                "/orgs",
                &[("X-Roster-On-Behalf-Of", value)],
                Some(json!({ "name": "Theirs", "ownerUserId": "olivia" })),
            )
            .await;
        refused(&r, 400, value);
    }
    // At the limit, a user id of 128 characters is a user.
    let max = "u".repeat(128);
    let r = app
        .call_as_service_with(
            ADMIN,
            "PATCH",
            &format!("/orgs/{org}/members/bob"),
            &[("X-Roster-On-Behalf-Of", max.as_str())],
            Some(json!({ "role": "member" })),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(members(&app, &alice, &org).await.len(), 2);
    assert_eq!(orgs_of(&app, &app.user("olivia")).await, 0);
}

/// A display-only address a service gives a user claims nothing: the address's owner, by a
/// verified token, still accepts its invitation; the user the service named cannot.
#[tokio::test]
async fn a_display_only_address_claims_no_invitation() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let victim = app.user("victim");
    let address = victim.email.clone().unwrap();
    let added = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/members"),
        Some(json!({ "userId": "mallory", "email": address, "role": "member" })),
    )
    .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    let invited = app
        .call(
            Some(&alice),
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": address, "role": "admin" }] })),
        )
        .await;
    assert_eq!(invited.body["results"][0]["status"], "invited", "{:?}", invited.body);
    let token = app.token_mailed_to(&address).await;
    // Mallory, whose membership shows the address: a member gets their own membership back
    // (API.md "Accept"), no more; the invitation's role is not hers.
    let mallory = app.user("mallory");
    let claiming = User::new("mallory").with_email(&address).unverified();
    for (what, who) in [("own address", &mallory), ("unverified claim", &claiming)] {
        let r = app.call(Some(who), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
        assert_eq!(
            (r.status, &r.body["membership"]["role"]),
            (200, &json!("member")),
            "{what}: {:?}",
            r.body
        );
    }
    // Someone else claiming the address without proving it.
    let eve = User::new("eve").with_email(&address).unverified();
    let r = app.call(Some(&eve), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
    refused(&r, 403, "an unverified claim of the address");
    assert_eq!(r.code(), "email_mismatch");
    let preview = app.call(None, "POST", "/invitations/preview", Some(json!({ "token": token }))).await;
    assert_eq!(preview.body["status"], "pending", "{:?}", preview.body);
    // The address's owner joins.
    let joined =
        app.call(Some(&victim), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
    assert_eq!(
        (joined.status, &joined.body["membership"]["role"]),
        (200, &json!("admin")),
        "{:?}",
        joined.body
    );
    // An organization a service creates with that address for someone else: still invitable.
    let created = as_service(
        &app,
        "POST",
        "/orgs",
        Some(json!({ "name": "Other", "ownerUserId": "mallory", "ownerEmail": address })),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let other = created.body["org"]["id"].as_str().unwrap().to_owned();
    let again = app
        .call(
            Some(&mallory),
            "POST",
            &format!("/orgs/{other}/invitations"),
            Some(json!({ "invitations": [{ "email": address }] })),
        )
        .await;
    assert_eq!(again.body["results"][0]["status"], "invited", "{:?}", again.body);
}

/// An email invitation a service sent admits only while its client id is listed; a delisted
/// client's token writes nothing.
#[tokio::test]
async fn a_delisted_service_invitation_and_token_admit_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let ann = app.user("ann");
    let address = ann.email.clone().unwrap();
    let invited = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/invitations"),
        Some(json!({ "invitations": [{ "email": address, "role": "admin" }] })),
    )
    .await;
    assert_eq!(invited.body["results"][0]["status"], "invited", "{:?}", invited.body);
    let token = app.token_mailed_to(&address).await;
    let delisted =
        app.with_config(|c| c.service_clients = ServiceClients::parse("dev-service").unwrap()).await;
    let r =
        call_app(&delisted, Some(&ann), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
    refused(&r, 404, "a delisted service's invitation");
    assert_eq!(r.code(), "invitation_not_found");
    // Its token, on every write: refused, nothing changes.
    let gone = service_claims(ADMIN.0, ADMIN.1);
    let writes: Vec<(&str, String, Option<Value>)> = vec![
        ("POST", format!("/orgs/{org}/members"), Some(json!({ "userId": "bob", "role": "owner" }))),
        ("PATCH", format!("/orgs/{org}/members/alice"), Some(json!({ "role": "viewer" }))),
        ("DELETE", format!("/orgs/{org}"), None),
        ("POST", "/orgs".into(), Some(json!({ "name": "Theirs", "ownerUserId": "olivia" }))),
    ];
    for (method, path, body) in writes {
        let r = call_app_with_claims(&delisted, Some(&gone), method, &path, body).await;
        assert!(matches!(r.status, 400 | 403 | 404), "{method} {path}: {:?}", r.body);
        refused(&r, r.status, &path);
    }
    assert_eq!(members(&app, &alice, &org).await, vec![("alice".into(), "owner".into(), "active".into())]);
    // Listed again, the invitation admits.
    let joined = app.call(Some(&ann), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
}

/// Every write a service makes is audited as `service:{clientId}`, never as a user, with or
/// without the user it names.
#[tokio::test]
async fn every_service_write_is_audited_as_the_service() {
    let app = TestApp::spawn().await;
    let headers: &[(&str, &str)] = &[("X-Roster-On-Behalf-Of", "alice")];
    let call = |method: &'static str, path: String, body: Value| {
        let app = &app;
        async move {
            let body = (method != "DELETE").then_some(body);
            app.call_as_service_with(ADMIN, method, &path, headers, body).await
        }
    };
    let created = call("POST", "/orgs".into(), json!({ "name": "Acme", "ownerUserId": "alice" })).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let org = created.body["org"]["id"].as_str().unwrap().to_owned();
    let steps: Vec<(&str, String, Value)> = vec![
        ("POST", format!("/orgs/{org}/members"), json!({ "userId": "bob", "role": "member" })),
        ("PATCH", format!("/orgs/{org}/members/bob"), json!({ "role": "admin" })),
        (
            "POST",
            format!("/orgs/{org}/transfer-ownership"),
            json!({ "fromUserId": "alice", "userId": "bob" }),
        ),
        ("PATCH", format!("/orgs/{org}"), json!({ "name": "Acme Inc." })),
        (
            "POST",
            format!("/orgs/{org}/invitations"),
            json!({ "invitations": [{ "email": app.email("ann") }] }),
        ),
        ("POST", format!("/orgs/{org}/invite-links"), json!({ "role": "member" })),
        ("DELETE", format!("/orgs/{org}/members/alice"), json!(null)),
    ];
    for (method, path, body) in steps {
        let r = call(method, path.clone(), body).await;
        assert!((200..300).contains(&r.status), "{method} {path}: {:?}", r.body);
    }
    let bob = app.user("bob");
    let audit = app.call(Some(&bob), "GET", &format!("/orgs/{org}/audit"), None).await;
    let events = audit.body["events"].as_array().unwrap();
    assert!(events.len() >= 8, "{events:?}");
    for event in events {
        assert_eq!(event["actor"], "service:dev-backend", "{event}");
        assert_eq!(event["details"]["onBehalfOf"], "alice", "{event}");
    }
}

/// Bodies at their limits: an organization's name of 100 characters, not 101; hidden
/// direction characters in a name, or a display name a service gives, are refused.
#[tokio::test]
async fn a_service_bodies_at_their_limits() {
    let app = TestApp::spawn().await;
    let ok = as_service(&app, "POST", "/orgs", Some(json!({ "name": "n".repeat(100), "ownerUserId": "a1" })))
        .await;
    assert_eq!(ok.status, 201, "{:?}", ok.body);
    let long =
        as_service(&app, "POST", "/orgs", Some(json!({ "name": "n".repeat(101), "ownerUserId": "a2" })))
            .await;
    refused(&long, 400, "101 characters");
    let bidi =
        as_service(&app, "POST", "/orgs", Some(json!({ "name": "Acme\u{202e}moc", "ownerUserId": "a3" })))
            .await;
    refused(&bidi, 400, "bidi in the name");
    for user in ["a2", "a3"] {
        assert_eq!(orgs_of(&app, &app.user(user)).await, 0, "{user}");
    }
    // A name a service gives for a user is refused rather than changed in silence: hidden
    // direction characters, control characters, or past 200 characters.
    let too_long = "n".repeat(201);
    for (field, bad) in [
        ("bidi", "Ann\u{202e}eL"),
        ("zero width", "A\u{200b}nn"),
        ("line break", "Ann\nLee"),
        ("201", &too_long),
    ] {
        let body = json!({ "name": "Acme", "ownerUserId": "a4", "ownerName": bad });
        let r = as_service(&app, "POST", "/orgs", Some(body)).await;
        refused(&r, 400, &format!("ownerName {field}"));
    }
    assert_eq!(orgs_of(&app, &app.user("a4")).await, 0);
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let r = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/members"),
        Some(json!({ "userId": "bob", "name": "Bob\u{202e}", "role": "member" })),
    )
    .await;
    refused(&r, 400, "a member's name with bidi");
    assert_eq!(members(&app, &alice, &org).await.len(), 1);
    // At the limit, and blank (no name).
    let body = json!({ "name": "Acme", "ownerUserId": "a5", "ownerName": "n".repeat(200) });
    let r = as_service(&app, "POST", "/orgs", Some(body)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/members"),
        Some(json!({ "userId": "bob", "name": "  ", "role": "member" })),
    )
    .await;
    assert_eq!((r.status, &r.body["member"]["name"]), (201, &Value::Null), "{:?}", r.body);
}

/// A custom role a service grants is guarded like any holder's: it cannot be deleted while
/// the member holds it; and a service's own id is no member to change or remove.
#[tokio::test]
async fn a_service_granted_custom_role_stays_guarded() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let role =
        json!({ "key": "editor", "name": "Editor", "base": "member", "permissions": ["projects:read"] });
    let made = app.call(Some(&alice), "POST", &format!("/orgs/{org}/roles"), Some(role)).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let added = as_service(
        &app,
        "POST",
        &format!("/orgs/{org}/members"),
        Some(json!({ "userId": "carol", "role": "editor" })),
    )
    .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    let in_use = app.call(Some(&alice), "DELETE", &format!("/orgs/{org}/roles/editor"), None).await;
    refused(&in_use, 409, "delete a held role");
    assert_eq!(in_use.code(), "role_in_use");
    let unknown =
        as_service(&app, "PATCH", &format!("/orgs/{org}/members/carol"), Some(json!({ "role": "ghost" })))
            .await;
    refused(&unknown, 400, "an unknown custom role");
    assert_eq!(unknown.code(), "invalid_role");
    let carol = app.call(Some(&alice), "GET", &format!("/orgs/{org}/members/carol"), None).await;
    assert_eq!(carol.body["member"]["customRole"], "editor", "{:?}", carol.body);
    // The service's own id, in a path: no member.
    let me = "service:dev-backend";
    let patch =
        as_service(&app, "PATCH", &format!("/orgs/{org}/members/{me}"), Some(json!({ "role": "viewer" })))
            .await;
    refused(&patch, 404, "PATCH the service itself");
    let remove = as_service(&app, "DELETE", &format!("/orgs/{org}/members/{me}"), None).await;
    refused(&remove, 404, "DELETE the service itself");
    // Organization names at the edge: blank, and 100 characters of two bytes each.
    let blank = as_service(&app, "POST", "/orgs", Some(json!({ "name": "   ", "ownerUserId": "b1" }))).await;
    refused(&blank, 400, "a blank name");
    let wide = "\u{e9}".repeat(100);
    let ok = as_service(&app, "POST", "/orgs", Some(json!({ "name": wide, "ownerUserId": "b2" }))).await;
    assert_eq!(ok.status, 201, "{:?}", ok.body);
}

/// Another organization's invitation and link ids, in this organization's path: not found, and
/// untouched.
#[tokio::test]
async fn a_service_cannot_reach_another_organizations_invitations() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let zed = app.user("zed");
    let org_a = app.create_org(&alice, "A").await;
    let org_b = app.create_org(&zed, "B").await;
    let invited = app
        .call(
            Some(&zed),
            "POST",
            &format!("/orgs/{org_b}/invitations"),
            Some(json!({ "invitations": [{ "email": app.email("ann") }] })),
        )
        .await;
    let invitation = invited.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
    let link = app
        .call(Some(&zed), "POST", &format!("/orgs/{org_b}/invite-links"), Some(json!({ "role": "member" })))
        .await;
    let link = link.body["link"]["id"].as_str().unwrap().to_owned();
    let attempts: Vec<(&str, String, Option<Value>)> = vec![
        ("POST", format!("/orgs/{org_a}/invitations/{invitation}/resend"), None),
        ("PATCH", format!("/orgs/{org_a}/invitations/{invitation}"), Some(json!({ "groups": [] }))),
        ("DELETE", format!("/orgs/{org_a}/invitations/{invitation}"), None),
        ("DELETE", format!("/orgs/{org_a}/invite-links/{link}"), None),
    ];
    for (method, path, body) in attempts {
        let r = as_service(&app, method, &path, body).await;
        refused(&r, 404, &format!("{method} {path}"));
    }
    let list = app.call(Some(&zed), "GET", &format!("/orgs/{org_b}/invitations"), None).await;
    let found = &list.body["invitations"][0];
    assert_eq!(
        (&found["id"], &found["status"], &found["role"]),
        (&json!(invitation), &json!("pending"), &json!("member"))
    );
    let links = app.call(Some(&zed), "GET", &format!("/orgs/{org_b}/invite-links"), None).await;
    assert_eq!(links.body["links"][0]["status"], "active", "{:?}", links.body);
}

/// Racing writes of a service keep the invariants: two adds for the last seat, and removing
/// both of two owners at once.
#[tokio::test]
async fn racing_service_writes_keep_seats_and_an_owner() {
    let app = TestApp::spawn_with(|c| c.max_members = Some(3)).await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let path = format!("/orgs/{org}/members");
    let add = |user: &str| as_service(&app, "POST", &path, Some(json!({ "userId": user, "role": "owner" })));
    assert_eq!(add("bob").await.status, 201);
    let (c, d) = tokio::join!(Box::pin(add("carol")), Box::pin(add("dan")));
    let mut statuses = [c.status, d.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{:?} {:?}", c.body, d.body);
    let loser = if c.status == 409 { &c } else { &d };
    refused(loser, 409, "the last seat taken");
    assert_eq!(members(&app, &alice, &org).await.len(), 3);
    // Three owners now (alice, bob, and the winner): removing all of them at once leaves one.
    let owners: Vec<String> = members(&app, &alice, &org).await.into_iter().map(|m| m.0).collect();
    let paths: Vec<String> = owners.iter().map(|user| format!("{path}/{user}")).collect();
    let (x, y, z) = tokio::join!(
        Box::pin(as_service(&app, "DELETE", &paths[0], None)),
        Box::pin(as_service(&app, "DELETE", &paths[1], None)),
        Box::pin(as_service(&app, "DELETE", &paths[2], None))
    );
    for r in [&x, &y, &z] {
        assert!(matches!(r.status, 204 | 409), "{:?}", r.body);
        if r.status == 409 {
            refused(r, 409, "a racing removal");
        }
    }
    let left = app.call_as_service(ADMIN.0, ADMIN.1, "GET", &path, None).await.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "owner" && m["status"] == "active")
        .count();
    assert_eq!(left, 1, "{:?} {:?} {:?}", x.body, y.body, z.body);
}

/// A client's token (`sub` = `client_id`) whose id is not listed, or no more, is no person
/// either: removing a client ends its access at once (API.md "Service callers"), so it may not
/// create an organization of its own nor join by a person's link.
#[tokio::test]
async fn an_unlisted_clients_token_is_no_person() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let link = app
        .call(Some(&alice), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({ "role": "admin" })))
        .await;
    let token = link.body["link"]["token"].as_str().unwrap().to_owned();
    let delisted =
        app.with_config(|c| c.service_clients = ServiceClients::parse("dev-service").unwrap()).await;
    for (what, claims) in [
        ("delisted", service_claims(ADMIN.0, ADMIN.1)),
        ("never listed", service_claims("stranger", "roster/admin")),
        ("no scope at all", service_claims("stranger", "")),
    ] {
        let own =
            call_app_with_claims(&delisted, Some(&claims), "POST", "/orgs", Some(json!({ "name": "Mine" })))
                .await;
        refused(&own, 403, &format!("{what}: POST /orgs"));
        let joined = call_app_with_claims(
            &delisted,
            Some(&claims),
            "POST",
            "/invitations/accept",
            Some(json!({ "token": token })),
        )
        .await;
        refused(&joined, 403, &format!("{what}: accept a link"));
        let mine = call_app_with_claims(&delisted, Some(&claims), "GET", "/orgs", None).await;
        refused(&mine, 403, &format!("{what}: GET /orgs"));
        let theirs =
            call_app_with_claims(&delisted, Some(&claims), "GET", &format!("/orgs/{org}/members"), None)
                .await;
        refused(&theirs, 403, &format!("{what}: an organization's members"));
    }
    assert_eq!(members(&app, &alice, &org).await.len(), 1);
    // Its own id as a person's elsewhere is untouched: a person "dev-backend" (no client_id).
    let person = User::new("dev-backend");
    assert_eq!(app.call(Some(&person), "GET", "/orgs", None).await.status, 200);
}

/// Adding a user who is a member already, in any status, is a conflict: a suspended member is
/// not revived nor promoted by being added again.
#[tokio::test]
async fn adding_a_suspended_member_again_changes_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let path = format!("/orgs/{org}/members");
    let added = as_service(&app, "POST", &path, Some(json!({ "userId": "bob", "role": "viewer" }))).await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    app.suspend(&alice, &org, "bob").await;
    for role in ["owner", "viewer"] {
        let again = as_service(&app, "POST", &path, Some(json!({ "userId": "bob", "role": role }))).await;
        refused(&again, 409, role);
        assert_eq!(again.code(), "conflict");
    }
    assert_eq!(
        members(&app, &alice, &org).await,
        vec![
            ("alice".into(), "owner".into(), "active".into()),
            ("bob".into(), "viewer".into(), "suspended".into())
        ]
    );
}
