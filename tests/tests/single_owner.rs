//! `ROSTER_SINGLE_OWNER` (API.md "Configuration"): an organization has exactly one owner, who
//! cannot be removed, suspended or demoted; no route grants `owner`; ownership moves only by
//! transfer.

use roster_tests::harness::TestApp;
use serde_json::json;

#[tokio::test]
async fn no_route_grants_owner_and_the_one_owner_stays() {
    let app = TestApp::spawn_with(|c| c.single_owner = true).await;
    let (owner, admin, ann) = (app.user("owner"), app.user("admin"), app.user("ann"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &ann, "member").await;

    // Granting owner: a role change, a link, an invitation entry, a service's add.
    let r = app
        .call(
            Some(&owner),
            "PATCH",
            &format!("/orgs/{org}/members/{}", ann.sub),
            Some(json!({ "role": "owner" })),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{:?}", r.body);
    let r = app
        .call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({ "role": "owner" })))
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{:?}", r.body);
    let batch = json!({ "invitations": [{ "email": app.email("zed"), "role": "owner" }, { "email": app.email("kim"), "role": "admin" }] });
    let r = app.call(Some(&owner), "POST", &format!("/orgs/{org}/invitations"), Some(batch)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["results"][0]["status"], "forbidden_role", "{:?}", r.body);
    assert_eq!(r.body["results"][1]["status"], "invited", "{:?}", r.body);
    let add = json!({ "userId": "newcomer", "role": "owner" });
    let r = app
        .call_as_service("dev-backend", "roster/admin", "POST", &format!("/orgs/{org}/members"), Some(add))
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{:?}", r.body);

    // The one owner cannot be demoted (stepping down), suspended or removed (by a service,
    // which acts as an owner), nor leave.
    let me = format!("/orgs/{org}/members/{}", owner.sub);
    let r = app.call(Some(&owner), "PATCH", &me, Some(json!({ "role": "admin" }))).await;
    assert_eq!((r.status, r.code()), (409, "last_owner"), "{:?}", r.body);
    let r = app
        .call_as_service("dev-backend", "roster/admin", "PATCH", &me, Some(json!({ "status": "suspended" })))
        .await;
    assert_eq!((r.status, r.code()), (409, "last_owner"), "{:?}", r.body);
    let r = app.call_as_service("dev-backend", "roster/admin", "DELETE", &me, None).await;
    assert_eq!((r.status, r.code()), (409, "last_owner"), "{:?}", r.body);
    let r = app.call(Some(&owner), "DELETE", &me, None).await;
    assert_eq!((r.status, r.code()), (409, "last_owner"), "{:?}", r.body);

    // Ownership moves by transfer: still exactly one owner.
    let r = app
        .call(
            Some(&owner),
            "POST",
            &format!("/orgs/{org}/transfer-ownership"),
            Some(json!({ "userId": admin.sub })),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let members = app.call(Some(&admin), "GET", &format!("/orgs/{org}/members"), None).await;
    let owners: Vec<&str> = members.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "owner")
        .map(|m| m["userId"].as_str().unwrap())
        .collect();
    assert_eq!(owners, [admin.sub.as_str()]);
}

#[tokio::test]
async fn an_owner_invitation_from_before_admits_nobody() {
    // Made while the deployment allowed several owners, accepted after it keeps one.
    let before = TestApp::spawn().await;
    let owner = before.user("owner");
    let org = before.create_org(&owner, "Acme").await;
    let link = before
        .call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({ "role": "owner" })))
        .await;
    assert_eq!(link.status, 201, "{:?}", link.body);
    let token = link.body["link"]["token"].as_str().unwrap().to_owned();
    let mut after = before.second_instance().await;
    after.config.single_owner = true;
    let bob = before.user("bob");
    let r = roster_tests::harness::call_app(
        &after,
        Some(&bob),
        "POST",
        "/invitations/accept",
        Some(json!({ "token": token })),
    )
    .await;
    assert_eq!((r.status, r.code()), (404, "invitation_not_found"), "{:?}", r.body);
}
