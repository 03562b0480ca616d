//! Workspaces and groups (issue 24) against DynamoDB Local with transaction conflicts
//! emulated: effective roles and where they come from, who may manage whose access, what
//! removal, suspension and deletion do at once, the purge, and the races the issue names.

use std::time::Duration;

use roster::handlers::purge;
use roster_tests::harness::{TestApp, TestResponse, User};
use serde_json::{Value, json};

async fn put_member(app: &TestApp, by: &User, org: &str, ws: &str, user: &User, role: Value) -> TestResponse {
    let path = format!("/orgs/{org}/workspaces/{ws}/members/{}", user.sub);
    app.call(Some(by), "PUT", &path, Some(json!({ "role": role }))).await
}

async fn join_group(app: &TestApp, by: &User, org: &str, group: &str, user: &User) -> TestResponse {
    app.call(Some(by), "PUT", &format!("/orgs/{org}/groups/{group}/members/{}", user.sub), None).await
}

async fn grant(app: &TestApp, by: &User, org: &str, ws: &str, group: &str, role: &str) -> TestResponse {
    let path = format!("/orgs/{org}/workspaces/{ws}/groups/{group}");
    app.call(Some(by), "PUT", &path, Some(json!({ "role": role }))).await
}

/// The caller's access to the workspace (`you`), or the refusal's status.
async fn you(app: &TestApp, user: &User, org: &str, ws: &str) -> Result<Value, u16> {
    let r = app.call(Some(user), "GET", &format!("/orgs/{org}/workspaces/{ws}"), None).await;
    if r.status == 200 { Ok(r.body["workspace"]["you"].clone()) } else { Err(r.status) }
}

async fn workspace_ids(app: &TestApp, user: &User, org: &str, of: &str) -> Vec<String> {
    let r = app.call(Some(user), "GET", &format!("/orgs/{org}/members/{of}/workspaces"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["workspaces"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap().to_owned()).collect()
}

async fn purge_after_grace(app: &TestApp) {
    app.advance(roster::store::purge::PURGE_GRACE + Duration::from_secs(1));
    purge::run(&app.app, || true).await.expect("purge");
}

#[tokio::test]
async fn effective_roles_come_from_the_org_role_direct_membership_and_groups() {
    let app = TestApp::spawn().await;
    let (owner, admin, mia, vic) = (app.user("owner"), app.user("admin"), app.user("mia"), app.user("vic"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &mia, "member").await;
    app.add_member(&owner, &org, &vic, "viewer").await;
    let ws = app.create_workspace(&admin, &org, "Apollo").await;

    // Owners and admins are admins of every workspace without being added; others see none.
    assert_eq!(you(&app, &owner, &org, &ws).await, Ok(json!({ "role": "admin", "via": ["org_role"] })));
    assert_eq!(you(&app, &mia, &org, &ws).await, Err(404));
    let listed = app.call(Some(&mia), "GET", &format!("/orgs/{org}/workspaces"), None).await;
    assert_eq!(listed.body["workspaces"], json!([]));

    // Direct, following the organization role (null), then explicit and lower.
    let added = put_member(&app, &admin, &org, &ws, &mia, Value::Null).await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    assert_eq!(added.body["member"]["effectiveRole"], "member");
    assert_eq!(you(&app, &mia, &org, &ws).await, Ok(json!({ "role": "member", "via": ["direct"] })));
    let lowered = put_member(&app, &admin, &org, &ws, &mia, json!("viewer")).await;
    assert_eq!(lowered.status, 200, "{:?}", lowered.body);
    assert_eq!(you(&app, &mia, &org, &ws).await.unwrap()["role"], "viewer");

    // A group's grant raises her; her direct membership stays listed as a source.
    let team = app.create_group(&owner, &org, "Engineering").await;
    assert_eq!(join_group(&app, &owner, &org, &team, &mia).await.status, 201);
    assert_eq!(grant(&app, &owner, &org, &ws, &team, "admin").await.status, 201);
    let access = you(&app, &mia, &org, &ws).await.unwrap();
    assert_eq!(access, json!({ "role": "admin", "via": ["direct", format!("group:{team}")] }));
    // The viewer gets in through the group alone.
    assert_eq!(join_group(&app, &owner, &org, &team, &vic).await.status, 201);
    assert_eq!(you(&app, &vic, &org, &ws).await.unwrap()["via"], json!([format!("group:{team}")]));
    assert_eq!(workspace_ids(&app, &vic, &org, &vic.sub).await, vec![ws.clone()]);
    // The members list shows the direct member, effective role and sources.
    let rows = app.call(Some(&vic), "GET", &format!("/orgs/{org}/workspaces/{ws}/members"), None).await;
    assert_eq!(rows.status, 200, "{:?}", rows.body);
    assert_eq!(rows.body["members"][0]["userId"], json!(mia.sub));
    assert_eq!(rows.body["members"][0]["role"], "viewer");
    assert_eq!(rows.body["members"][0]["effectiveRole"], "admin");

    // Taken out of the group, the viewer loses access at once.
    let out = app
        .call(Some(&owner), "DELETE", &format!("/orgs/{org}/groups/{team}/members/{}", vic.sub), None)
        .await;
    assert_eq!(out.status, 204, "{:?}", out.body);
    assert_eq!(you(&app, &vic, &org, &ws).await, Err(404));
}

#[tokio::test]
async fn workspace_admins_manage_members_and_viewers_only() {
    let app = TestApp::spawn().await;
    let (owner, admin, lead, mia, vic) =
        (app.user("owner"), app.user("admin"), app.user("lead"), app.user("mia"), app.user("vic"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &admin, "admin").await;
    for (u, role) in [(&lead, "member"), (&mia, "member"), (&vic, "viewer")] {
        app.add_member(&owner, &org, u, role).await;
    }
    let ws = app.create_workspace(&owner, &org, "Apollo").await;
    assert_eq!(put_member(&app, &owner, &org, &ws, &lead, json!("admin")).await.status, 201);

    // The workspace admin adds a viewer and a member, renames the workspace...
    assert_eq!(put_member(&app, &lead, &org, &ws, &vic, Value::Null).await.status, 201);
    assert_eq!(put_member(&app, &lead, &org, &ws, &mia, json!("admin")).await.status, 201);
    let renamed = app
        .call(
            Some(&lead),
            "PATCH",
            &format!("/orgs/{org}/workspaces/{ws}"),
            Some(json!({ "name": "Artemis" })),
        )
        .await;
    assert_eq!((renamed.status, &renamed.body["workspace"]["name"]), (200, &json!("Artemis")));
    // ...but not an organization admin's access, not their own, nor delete it or grant groups.
    let refused = put_member(&app, &lead, &org, &ws, &admin, Value::Null).await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"), "{:?}", refused.body);
    let own = put_member(&app, &lead, &org, &ws, &lead, json!("viewer")).await;
    assert_eq!(own.status, 403, "{:?}", own.body);
    let deleted = app.call(Some(&lead), "DELETE", &format!("/orgs/{org}/workspaces/{ws}"), None).await;
    assert_eq!(deleted.status, 403);
    // A plain workspace member manages nothing.
    let by_vic = put_member(&app, &vic, &org, &ws, &mia, json!("viewer")).await;
    assert_eq!(by_vic.status, 403, "{:?}", by_vic.body);
    // An organization member creates no workspace; a non-member learns nothing.
    let create =
        app.call(Some(&mia), "POST", &format!("/orgs/{org}/workspaces"), Some(json!({ "name": "X" }))).await;
    assert_eq!(create.status, 403);
    let stranger = app.user("stranger");
    assert_eq!(you(&app, &stranger, &org, &ws).await, Err(404));
    let path = format!("/orgs/{org}/workspaces/{ws}/members/{}", vic.sub);
    assert_eq!(app.call(Some(&stranger), "DELETE", &path, None).await.status, 404);
}

#[tokio::test]
async fn removal_and_suspension_end_access_at_once_and_a_rejoin_brings_none_back() {
    let app = TestApp::spawn().await;
    let (owner, mia) = (app.user("owner"), app.user("mia"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &mia, "member").await;
    let ws = app.create_workspace(&owner, &org, "Apollo").await;
    let team = app.create_group(&owner, &org, "Team").await;
    let other = app.create_workspace(&owner, &org, "Zeus").await;
    assert_eq!(put_member(&app, &owner, &org, &ws, &mia, json!("admin")).await.status, 201);
    assert_eq!(join_group(&app, &owner, &org, &team, &mia).await.status, 201);
    assert_eq!(grant(&app, &owner, &org, &other, &team, "member").await.status, 201);
    assert_eq!(workspace_ids(&app, &mia, &org, &mia.sub).await.len(), 2);

    app.suspend(&owner, &org, &mia.sub).await;
    assert_eq!(you(&app, &mia, &org, &ws).await, Err(403));
    let path = format!("/orgs/{org}/members/{}", mia.sub);
    let back = app.call(Some(&owner), "PATCH", &path, Some(json!({ "status": "active" }))).await;
    assert_eq!(back.status, 200);
    // Reactivation restores what suspension kept.
    assert_eq!(you(&app, &mia, &org, &ws).await.unwrap()["role"], "admin");

    assert_eq!(app.call(Some(&owner), "DELETE", &path, None).await.status, 204);
    assert_eq!(you(&app, &mia, &org, &ws).await, Err(404));
    // Invited again: none of the old access, before any cleanup has run.
    app.add_member(&owner, &org, &mia, "member").await;
    assert_eq!(you(&app, &mia, &org, &ws).await, Err(404));
    assert_eq!(you(&app, &mia, &org, &other).await, Err(404));
    assert!(workspace_ids(&app, &mia, &org, &mia.sub).await.is_empty());
    let rows = app.call(Some(&owner), "GET", &format!("/orgs/{org}/workspaces/{ws}/members"), None).await;
    assert_eq!(rows.body["members"], json!([]), "the old membership is no row");
    let members = app.call(Some(&owner), "GET", &format!("/orgs/{org}/groups/{team}/members"), None).await;
    assert_eq!(members.body["members"], json!([]));
    // And she can be added afresh.
    assert_eq!(put_member(&app, &owner, &org, &ws, &mia, Value::Null).await.status, 201);
    assert_eq!(you(&app, &mia, &org, &ws).await.unwrap()["role"], "member");
}

#[tokio::test]
async fn deleted_workspaces_and_groups_are_gone_at_once_then_purged() {
    let app = TestApp::spawn().await;
    let (owner, mia) = (app.user("owner"), app.user("mia"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &mia, "member").await;
    let ws = app.create_workspace(&owner, &org, "Apollo").await;
    let keep = app.create_workspace(&owner, &org, "Keep").await;
    let team = app.create_group(&owner, &org, "Team").await;
    assert_eq!(put_member(&app, &owner, &org, &ws, &mia, Value::Null).await.status, 201);
    assert_eq!(join_group(&app, &owner, &org, &team, &mia).await.status, 201);
    assert_eq!(grant(&app, &owner, &org, &keep, &team, "viewer").await.status, 201);
    assert_eq!(grant(&app, &owner, &org, &ws, &team, "viewer").await.status, 201);

    let gone = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/groups/{team}"), None).await;
    assert_eq!(gone.status, 204, "{:?}", gone.body);
    assert_eq!(you(&app, &mia, &org, &keep).await, Err(404), "the group's grant ends with it");
    let gone = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/workspaces/{ws}"), None).await;
    assert_eq!(gone.status, 204, "{:?}", gone.body);
    assert_eq!(you(&app, &mia, &org, &ws).await, Err(404));
    assert_eq!(you(&app, &owner, &org, &ws).await, Err(404));
    assert!(workspace_ids(&app, &mia, &org, &mia.sub).await.is_empty());
    let again = put_member(&app, &owner, &org, &ws, &mia, Value::Null).await;
    assert_eq!(again.status, 404, "{:?}", again.body);

    purge_after_grace(&app).await;
    let left: Vec<String> = app
        .all_items()
        .await
        .iter()
        .filter_map(|i| i.get("SK").and_then(|v| v.as_s().ok()).cloned())
        .filter(|sk| sk.contains(&ws) || sk.contains(&team))
        .collect();
    assert!(left.is_empty(), "left after the purge: {left:?}");
    assert!(app.store_pending_purges().await.is_empty());
    // Her counters are back: she may join as many workspaces and groups as before.
    let items = app.all_items().await;
    let membership = items
        .iter()
        .find(|i| i.get("SK").and_then(|v| v.as_s().ok()) == Some(&format!("MEMBER#{}", mia.sub)))
        .unwrap();
    assert_eq!(membership.get("workspaceCount").and_then(|v| v.as_n().ok()).map(String::as_str), Some("0"));
    assert!(membership.get("groups").is_none(), "{membership:?}");
}

/// A member removed from the organization while being added to a workspace (and to a group)
/// is never left with either: the add checks the membership's joining in its transaction.
#[tokio::test]
async fn removal_racing_an_add_never_leaves_access() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let ws = app.create_workspace(&owner, &org, "Apollo").await;
    let team = app.create_group(&owner, &org, "Team").await;
    assert_eq!(grant(&app, &owner, &org, &ws, &team, "member").await.status, 201);
    for round in 0..6 {
        let user = app.user(&format!("racer{round}"));
        app.add_member(&owner, &org, &user, "member").await;
        let path = format!("/orgs/{org}/members/{}", user.sub);
        let (added, joined, removed) = tokio::join!(
            put_member(&app, &owner, &org, &ws, &user, Value::Null),
            join_group(&app, &owner, &org, &team, &user),
            app.call(Some(&owner), "DELETE", &path, None)
        );
        assert_eq!(removed.status, 204, "{:?}", removed.body);
        assert!([201, 404].contains(&added.status), "{:?}", added.body);
        assert!([201, 404].contains(&joined.status), "{:?}", joined.body);
        // Invited again, they have nothing of it.
        app.add_member(&owner, &org, &user, "member").await;
        assert_eq!(you(&app, &user, &org, &ws).await, Err(404), "round {round}");
        assert!(workspace_ids(&app, &owner, &org, &user.sub).await.is_empty());
    }
}

/// A group deleted while being granted a workspace: the grant either came first (and ends
/// with the group) or is refused; in neither case does the group's member get access.
#[tokio::test]
async fn a_group_deleted_while_granted_grants_nothing() {
    let app = TestApp::spawn().await;
    let (owner, mia) = (app.user("owner"), app.user("mia"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &mia, "member").await;
    let ws = app.create_workspace(&owner, &org, "Apollo").await;
    for _ in 0..5 {
        let team = app.create_group(&owner, &org, "Team").await;
        assert_eq!(join_group(&app, &owner, &org, &team, &mia).await.status, 201);
        let path = format!("/orgs/{org}/groups/{team}");
        let (granted, deleted) = tokio::join!(
            grant(&app, &owner, &org, &ws, &team, "admin"),
            app.call(Some(&owner), "DELETE", &path, None)
        );
        assert_eq!(deleted.status, 204, "{:?}", deleted.body);
        assert!([201, 404].contains(&granted.status), "{:?}", granted.body);
        assert_eq!(you(&app, &mia, &org, &ws).await, Err(404));
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (owner, mia) = (app.user("owner"), app.user("mia"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &mia, "member").await;
    let ws = app.create_workspace(&owner, &org, "Apollo").await;
    let create_path = format!("/orgs/{org}/workspaces");
    let post = |body: Value| app.call(Some(&owner), "POST", &create_path, Some(body));
    for body in [
        json!({ "name": "" }),
        json!({ "name": "a\u{202E}b" }),
        json!({ "name": "x".repeat(101) }),
        json!({}),
    ] {
        let r = post(body.clone()).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{body}: {:?}", r.body);
    }
    let r = post(json!({ "name": "ok", "description": "d".repeat(501) })).await;
    assert_eq!(r.status, 400);
    let r = put_member(&app, &owner, &org, &ws, &mia, json!("owner")).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "{:?}", r.body);
    // An id Roster could not have minted, another organization's workspace: 404.
    let bad = app.call(Some(&owner), "GET", &format!("/orgs/{org}/workspaces/ws_nope"), None).await;
    assert_eq!(bad.status, 404);
    let elsewhere = app.create_org(&owner, "Other").await;
    let foreign = app.call(Some(&owner), "GET", &format!("/orgs/{elsewhere}/workspaces/{ws}"), None).await;
    assert_eq!(foreign.status, 404);
    // Not an organization member: 404 whatever the body.
    let stranger = app.user("stranger");
    let r = app.call(Some(&stranger), "POST", &format!("/orgs/{org}/workspaces"), Some(json!({}))).await;
    assert_eq!(r.status, 404);
    let listed = app.call(Some(&owner), "GET", &format!("/orgs/{org}/workspaces"), None).await;
    assert_eq!(listed.body["workspaces"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_member_belongs_to_at_most_100_groups() {
    let app = TestApp::spawn().await;
    let (owner, mia) = (app.user("owner"), app.user("mia"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &mia, "member").await;
    for i in 0..100 {
        let g = app.create_group(&owner, &org, &format!("G{i}")).await;
        assert_eq!(join_group(&app, &owner, &org, &g, &mia).await.status, 201);
    }
    let g = app.create_group(&owner, &org, "One too many").await;
    let r = join_group(&app, &owner, &org, &g, &mia).await;
    assert_eq!((r.status, r.code()), (409, "limit_exceeded"), "{:?}", r.body);
}

#[tokio::test]
async fn workspace_lists_page_with_cursors() {
    let app = TestApp::spawn().await;
    let (owner, mia) = (app.user("owner"), app.user("mia"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &mia, "member").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let ws = app.create_workspace(&owner, &org, &format!("W{i}")).await;
        if i % 2 == 0 {
            assert_eq!(put_member(&app, &owner, &org, &ws, &mia, Value::Null).await.status, 201);
            ids.push(ws);
        }
    }
    for (user, expected) in [(&mia, 3), (&owner, 5)] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let query = cursor.as_ref().map_or(String::new(), |c| format!("&cursor={c}"));
            let r =
                app.call(Some(user), "GET", &format!("/orgs/{org}/workspaces?limit=2{query}"), None).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            seen.extend(r.body["workspaces"].as_array().unwrap().iter().map(|w| w["id"].clone()));
            match r.body["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), expected, "{}: {seen:?}", user.sub);
    }
    // Another list's cursor is refused.
    let r = app.call(Some(&owner), "GET", &format!("/orgs/{org}/workspaces?limit=1"), None).await;
    let c = r.body["nextCursor"].as_str().unwrap();
    let r = app.call(Some(&mia), "GET", &format!("/orgs/{org}/workspaces?cursor={c}"), None).await;
    assert_eq!((r.status, r.code()), (400, "invalid_cursor"));
}

async fn invite_with(app: &TestApp, by: &User, org: &str, to: &User, extra: Value) -> TestResponse {
    let mut entry = json!({ "email": to.email, "role": "member" });
    entry.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    app.call(Some(by), "POST", &format!("/orgs/{org}/invitations"), Some(json!({ "invitations": [entry] })))
        .await
}

async fn accept(app: &TestApp, user: &User, token: &str) -> TestResponse {
    app.call(Some(user), "POST", "/invitations/accept", Some(json!({ "token": token }))).await
}

#[tokio::test]
async fn invitations_and_links_carry_workspaces_and_groups_into_the_join() {
    let app = TestApp::spawn().await;
    let (owner, ivy) = (app.user("owner"), app.user("ivy"));
    let org = app.create_org(&owner, "Acme").await;
    let (apollo, zeus) = (
        app.create_workspace(&owner, &org, "Apollo").await,
        app.create_workspace(&owner, &org, "Zeus").await,
    );
    let team = app.create_group(&owner, &org, "Team").await;
    assert_eq!(grant(&app, &owner, &org, &zeus, &team, "member").await.status, 201);

    let extra = json!({ "workspaces": [{ "id": apollo, "role": "viewer" }], "groups": [team] });
    let invited = invite_with(&app, &owner, &org, &ivy, extra).await;
    assert_eq!(invited.body["results"][0]["status"], "invited", "{:?}", invited.body);
    let invitation = &invited.body["results"][0]["invitation"];
    assert_eq!(invitation["workspaces"], json!([{ "id": apollo, "role": "viewer" }]));
    assert_eq!(invitation["groups"], json!([team]));
    // The workspace lists her as invited before she accepts.
    let rows = app.call(Some(&owner), "GET", &format!("/orgs/{org}/workspaces/{apollo}/members"), None).await;
    assert_eq!(rows.body["members"][0]["status"], "invited", "{:?}", rows.body);
    assert_eq!(rows.body["members"][0]["effectiveRole"], "viewer");

    let token = app.token_mailed_to(ivy.email.as_deref().unwrap()).await;
    assert_eq!(accept(&app, &ivy, &token).await.status, 200);
    assert_eq!(you(&app, &ivy, &org, &apollo).await, Ok(json!({ "role": "viewer", "via": ["direct"] })));
    assert_eq!(
        you(&app, &ivy, &org, &zeus).await,
        Ok(json!({ "role": "member", "via": [format!("group:{team}")] }))
    );
    let rows = app.call(Some(&owner), "GET", &format!("/orgs/{org}/workspaces/{apollo}/members"), None).await;
    assert_eq!(rows.body["members"].as_array().unwrap().len(), 1, "{:?}", rows.body);
    assert_eq!(rows.body["members"][0]["status"], "active");

    // A link gives the same to everyone who joins by it; a workspace deleted meanwhile is
    // skipped, the rest still given.
    let link = app
        .call(
            Some(&owner),
            "POST",
            &format!("/orgs/{org}/invite-links"),
            Some(json!({ "role": "member", "workspaces": [{ "id": apollo }, { "id": zeus, "role": "admin" }] })),
        )
        .await;
    assert_eq!(link.status, 201, "{:?}", link.body);
    let token = link.body["link"]["token"].as_str().unwrap().to_owned();
    let gone = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/workspaces/{apollo}"), None).await;
    assert_eq!(gone.status, 204);
    let lou = app.user("lou");
    assert_eq!(accept(&app, &lou, &token).await.status, 200);
    assert_eq!(you(&app, &lou, &org, &zeus).await.unwrap()["role"], "admin");
    assert_eq!(workspace_ids(&app, &lou, &org, &lou.sub).await, vec![zeus.clone()]);
}

#[tokio::test]
async fn a_pending_invitations_workspaces_can_change_and_stay_within_limits() {
    let app = TestApp::spawn().await;
    let (owner, ivy) = (app.user("owner"), app.user("ivy"));
    let org = app.create_org(&owner, "Acme").await;
    let (apollo, zeus) = (
        app.create_workspace(&owner, &org, "Apollo").await,
        app.create_workspace(&owner, &org, "Zeus").await,
    );
    let invited = invite_with(&app, &owner, &org, &ivy, json!({ "workspaces": [{ "id": apollo }] })).await;
    let id = invited.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
    let path = format!("/orgs/{org}/invitations/{id}");
    let changed =
        app.call(Some(&owner), "PATCH", &path, Some(json!({ "workspaces": [{ "id": zeus }] }))).await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["invitation"]["workspaces"], json!([{ "id": zeus, "role": null }]));
    let token = app.token_mailed_to(ivy.email.as_deref().unwrap()).await;
    assert_eq!(accept(&app, &ivy, &token).await.status, 200);
    assert_eq!(you(&app, &ivy, &org, &apollo).await, Err(404));
    assert_eq!(you(&app, &ivy, &org, &zeus).await.unwrap()["role"], "member");
    // Accepted: nothing to change any more.
    let late = app.call(Some(&owner), "PATCH", &path, Some(json!({ "groups": [] }))).await;
    assert_eq!(late.status, 404, "{:?}", late.body);

    // 26 together, a workspace twice, one of another organization: refused, nothing written.
    let other_org = app.create_org(&owner, "Other").await;
    let foreign = app.create_workspace(&owner, &other_org, "Foreign").await;
    let many: Vec<Value> = (0..26).map(|_| json!(format!("grp_{:032x}", rand_u128()))).collect();
    let eve = app.user("eve");
    for extra in [
        json!({ "groups": many }),
        json!({ "workspaces": [{ "id": zeus }, { "id": zeus }] }),
        json!({ "workspaces": [{ "id": foreign }] }),
        json!({ "workspaces": [{ "id": zeus, "role": "owner" }] }),
    ] {
        let r = invite_with(&app, &owner, &org, &eve, extra.clone()).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{extra}: {:?}", r.body);
    }
    assert!(app.mailbox(eve.email.as_deref().unwrap()).await.is_empty());
}

fn rand_u128() -> u128 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() ^ u128::from(std::process::id())
}

/// An invitation accepted while its workspace is deleted: the join either came first (and
/// the membership ends with the workspace) or skips it; the member has no access either way.
#[tokio::test]
async fn an_invitation_accepted_while_its_workspace_is_deleted() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    for round in 0..5 {
        let ws = app.create_workspace(&owner, &org, "Doomed").await;
        let keep = app.create_workspace(&owner, &org, "Kept").await;
        let user = app.user(&format!("joiner{round}"));
        let extra = json!({ "workspaces": [{ "id": ws }, { "id": keep }] });
        assert_eq!(invite_with(&app, &owner, &org, &user, extra).await.status, 200);
        let token = app.token_mailed_to(user.email.as_deref().unwrap()).await;
        let path = format!("/orgs/{org}/workspaces/{ws}");
        let (accepted, deleted) =
            tokio::join!(accept(&app, &user, &token), app.call(Some(&owner), "DELETE", &path, None));
        assert_eq!(accepted.status, 200, "{:?}", accepted.body);
        assert_eq!(deleted.status, 204, "{:?}", deleted.body);
        assert_eq!(you(&app, &user, &org, &ws).await, Err(404));
        assert_eq!(workspace_ids(&app, &user, &org, &user.sub).await, vec![keep]);
    }
}

/// Removed, then invited again into a workspace where their old membership still lies
/// (before any cleanup): the join replaces it and counts it once.
#[tokio::test]
async fn a_rejoin_replaces_an_old_workspace_membership() {
    let app = TestApp::spawn().await;
    let (owner, mia) = (app.user("owner"), app.user("mia"));
    let org = app.create_org(&owner, "Acme").await;
    let ws = app.create_workspace(&owner, &org, "Apollo").await;
    app.add_member(&owner, &org, &mia, "member").await;
    assert_eq!(put_member(&app, &owner, &org, &ws, &mia, json!("admin")).await.status, 201);
    let path = format!("/orgs/{org}/members/{}", mia.sub);
    assert_eq!(app.call(Some(&owner), "DELETE", &path, None).await.status, 204);
    let invited =
        invite_with(&app, &owner, &org, &mia, json!({ "workspaces": [{ "id": ws, "role": "viewer" }] }))
            .await;
    assert_eq!(invited.body["results"][0]["status"], "invited", "{:?}", invited.body);
    let token = app.token_mailed_to(mia.email.as_deref().unwrap()).await;
    assert_eq!(accept(&app, &mia, &token).await.status, 200);
    assert_eq!(you(&app, &mia, &org, &ws).await.unwrap()["role"], "viewer");
    let got = app.call(Some(&owner), "GET", &format!("/orgs/{org}/workspaces/{ws}"), None).await;
    assert_eq!(got.body["workspace"]["memberCount"], 1, "{:?}", got.body);
}

/// Removal ends access at once; the purge then deletes the removed joining's workspace and
/// group memberships and their counts, and leaves a later joining's alone.
#[tokio::test]
async fn a_removed_members_access_is_purged_and_counted_out() {
    let app = TestApp::spawn().await;
    let (owner, mia, bob) = (app.user("owner"), app.user("mia"), app.user("bob"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &mia, "member").await;
    app.add_member(&owner, &org, &bob, "member").await;
    let (apollo, zeus) = (
        app.create_workspace(&owner, &org, "Apollo").await,
        app.create_workspace(&owner, &org, "Zeus").await,
    );
    let team = app.create_group(&owner, &org, "Team").await;
    for ws in [&apollo, &zeus] {
        assert_eq!(put_member(&app, &owner, &org, ws, &mia, Value::Null).await.status, 201);
    }
    assert_eq!(put_member(&app, &owner, &org, &apollo, &bob, Value::Null).await.status, 201);
    assert_eq!(join_group(&app, &owner, &org, &team, &mia).await.status, 201);
    // Bob leaves by a bulk removal, Mia on her own; Mia comes back to Zeus before the purge.
    let bulk = app
        .call(
            Some(&owner),
            "POST",
            &format!("/orgs/{org}/members/remove"),
            Some(json!({ "userIds": [bob.sub] })),
        )
        .await;
    assert_eq!(bulk.body["results"][0]["status"], "removed", "{:?}", bulk.body);
    let path = format!("/orgs/{org}/members/{}", mia.sub);
    assert_eq!(app.call(Some(&owner), "DELETE", &path, None).await.status, 204);
    let back = invite_with(&app, &owner, &org, &mia, json!({ "workspaces": [{ "id": zeus }] })).await;
    assert_eq!(back.body["results"][0]["status"], "invited", "{:?}", back.body);
    let token = app.token_mailed_to(mia.email.as_deref().unwrap()).await;
    assert_eq!(accept(&app, &mia, &token).await.status, 200);

    purge_after_grace(&app).await;
    assert!(app.store_pending_purges().await.is_empty());
    let count = |ws: String| {
        let app = &app;
        let owner = &owner;
        let org = &org;
        async move {
            let r = app.call(Some(owner), "GET", &format!("/orgs/{org}/workspaces/{ws}"), None).await;
            r.body["workspace"]["memberCount"].clone()
        }
    };
    assert_eq!(count(apollo.clone()).await, 0);
    assert_eq!(count(zeus.clone()).await, 1, "her new joining's membership stays");
    let g = app.call(Some(&owner), "GET", &format!("/orgs/{org}/groups/{team}"), None).await;
    assert_eq!(g.body["group"]["memberCount"], 0, "{:?}", g.body);
    assert_eq!(you(&app, &mia, &org, &zeus).await.unwrap()["role"], "member");
    let left: Vec<String> = app
        .all_items()
        .await
        .iter()
        .filter_map(|i| i.get("SK").and_then(|v| v.as_s().ok()).cloned())
        .filter(|sk| sk.contains(&apollo) || sk.starts_with(&format!("GRPM#{team}")))
        .collect();
    assert!(left.iter().all(|sk| sk == &format!("WS#{apollo}")), "left after the purge: {left:?}");
}

/// Renames racing member adds: the rename moves the version, the adds the count, and
/// neither writes the other's back.
#[tokio::test]
async fn renames_racing_adds_keep_the_counts() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let ws = app.create_workspace(&owner, &org, "Apollo").await;
    let team = app.create_group(&owner, &org, "Team").await;
    let users: Vec<User> = (0..6).map(|i| app.user(&format!("u{i}"))).collect();
    for u in &users {
        app.add_member(&owner, &org, u, "member").await;
    }
    let ws_path = format!("/orgs/{org}/workspaces/{ws}");
    let group_path = format!("/orgs/{org}/groups/{team}");
    let adds = users.iter().map(|u| async {
        let (a, b) = tokio::join!(
            put_member(&app, &owner, &org, &ws, u, Value::Null),
            join_group(&app, &owner, &org, &team, u)
        );
        (a.status, b.status)
    });
    let renames = (0..6).map(|i| {
        let (ws_path, group_path) = (&ws_path, &group_path);
        let owner = &owner;
        let app = &app;
        async move {
            let body = json!({ "name": format!("Name {i}") });
            let (a, b) = tokio::join!(
                app.call(Some(owner), "PATCH", ws_path, Some(body.clone())),
                app.call(Some(owner), "PATCH", group_path, Some(body))
            );
            (a.status, b.status)
        }
    });
    let (added, renamed) = tokio::join!(futures::future::join_all(adds), futures::future::join_all(renames));
    assert!(added.iter().all(|s| *s == (201, 201)), "{added:?}");
    assert!(renamed.iter().all(|(a, b)| [200, 409].contains(a) && [200, 409].contains(b)), "{renamed:?}");
    let got = app.call(Some(&owner), "GET", &ws_path, None).await;
    assert_eq!(got.body["workspace"]["memberCount"], 6, "{:?}", got.body);
    let got = app.call(Some(&owner), "GET", &group_path, None).await;
    assert_eq!(got.body["group"]["memberCount"], 6, "{:?}", got.body);
    // A role change keeps the member's groups and workspace memberships.
    let path = format!("/orgs/{org}/members/{}", users[0].sub);
    let r = app.call(Some(&owner), "PATCH", &path, Some(json!({ "role": "viewer" }))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(grant(&app, &owner, &org, &ws, &team, "admin").await.status, 201);
    let access = you(&app, &users[0], &org, &ws).await.unwrap();
    assert_eq!(access["via"], json!(["direct", format!("group:{team}")]));
}

/// An invitation whose creator has left admits nobody, so a workspace lists no invitee by it.
#[tokio::test]
async fn a_workspace_lists_only_invitees_whose_invitation_still_admits() {
    let app = TestApp::spawn().await;
    let (owner, admin, ivy) = (app.user("owner"), app.user("admin"), app.user("ivy"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &admin, "admin").await;
    let ws = app.create_workspace(&owner, &org, "Apollo").await;
    let invited = invite_with(&app, &admin, &org, &ivy, json!({ "workspaces": [{ "id": ws }] })).await;
    assert_eq!(invited.body["results"][0]["status"], "invited", "{:?}", invited.body);
    let list_path = format!("/orgs/{org}/workspaces/{ws}/members");
    let rows = app.call(Some(&owner), "GET", &list_path, None).await.body["members"].clone();
    assert_eq!(rows[0]["status"], "invited");
    let path = format!("/orgs/{org}/members/{}", admin.sub);
    assert_eq!(app.call(Some(&owner), "DELETE", &path, None).await.status, 204);
    let rows = app.call(Some(&owner), "GET", &list_path, None).await.body["members"].clone();
    assert_eq!(rows, json!([]));
}
