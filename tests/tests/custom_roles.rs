//! Custom roles (API.md "Roles and permissions"): created by owners, ranked as their base for
//! every rule, assignable wherever a role is, holding the host permissions they list, and
//! never deleted while anything holds them.

use roster_tests::harness::{TestApp, User};
use serde_json::{Value, json};

async fn create_role(
    app: &TestApp,
    by: &User,
    org: &str,
    body: Value,
) -> roster_tests::harness::TestResponse {
    app.call(Some(by), "POST", &format!("/orgs/{org}/roles"), Some(body)).await
}

fn editor() -> Value {
    json!({
        "key": "editor", "name": "Editor", "description": "Edits projects",
        "base": "member", "permissions": ["projects:read", "projects:write", "projects:share", "billing:read"],
    })
}

async fn check(app: &TestApp, user: &str, org: &str, permission: &str, ws: Option<&str>) -> Value {
    app.check_one(user, org, permission, ws).await
}

#[tokio::test]
async fn owners_create_list_update_and_delete_roles() {
    let app = TestApp::spawn().await;
    let (owner, admin) = (app.user("owner"), app.user("admin"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &admin, "admin").await;

    let r = create_role(&app, &admin, &org, editor()).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "admins do not manage roles");
    let r = create_role(&app, &owner, &org, editor()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["role"]["key"], "editor");
    assert_eq!(r.body["role"]["base"], "member");
    assert_eq!(r.body["role"]["builtin"], false);
    assert!(r.body["role"].get("version").is_none() && r.body["role"].get("retiring").is_none());
    let again = create_role(&app, &owner, &org, editor()).await;
    assert_eq!((again.status, again.code()), (409, "conflict"));

    // Bad input, each named; nothing is written.
    let bad = [
        (json!({"key": "owner", "name": "X", "base": "member", "permissions": []}), "key"),
        (json!({"key": "Bad", "name": "X", "base": "member", "permissions": []}), "key"),
        (json!({"key": "x", "name": "X", "base": "owner", "permissions": []}), "base"),
        (json!({"key": "x", "name": "X", "base": "member", "permissions": ["projects:fly"]}), "projects:fly"),
        (
            json!({"key": "x", "name": "X", "base": "member", "permissions": ["members:invite"]}),
            "Roster's own",
        ),
        (json!({"key": "x", "name": "", "base": "member", "permissions": []}), "name"),
        (json!({"key": "x", "name": "A\u{202E}B", "base": "member", "permissions": []}), "name"),
        (json!({"key": "x", "base": "member", "permissions": []}), "name"),
    ];
    for (body, needle) in bad {
        let r = create_role(&app, &owner, &org, body.clone()).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{body}");
        assert!(r.body["detail"].as_str().unwrap().contains(needle), "{body}: {:?}", r.body);
    }

    // Listed after the built-in ones, by any active member.
    let list = app.call(Some(&admin), "GET", &format!("/orgs/{org}/roles"), None).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    let keys: Vec<&str> =
        list.body["roles"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["owner", "admin", "member", "viewer", "editor"]);
    assert_eq!(list.body["roles"][0]["builtin"], true);

    // Update: name and permissions; key and base never change; built-ins are fixed.
    let path = format!("/orgs/{org}/roles/editor");
    let r = app
        .call(Some(&owner), "PATCH", &path, Some(json!({"name": "Writer", "permissions": ["projects:read"]})))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["role"]["name"], "Writer");
    assert_eq!(r.body["role"]["permissions"], json!(["projects:read"]));
    let r = app.call(Some(&owner), "PATCH", &path, Some(json!({"base": "admin"}))).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = app
        .call(Some(&owner), "PATCH", &format!("/orgs/{org}/roles/admin"), Some(json!({"name": "Boss"})))
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = app
        .call(Some(&owner), "PATCH", &format!("/orgs/{org}/roles/nobody"), Some(json!({"name": "N"})))
        .await;
    assert_eq!(r.status, 404, "{:?}", r.body);

    // Delete: free now; then gone.
    let r = app.call(Some(&owner), "DELETE", &path, None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = app.call(Some(&owner), "DELETE", &path, None).await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    let audit = app.call(Some(&owner), "GET", &format!("/orgs/{org}/audit"), None).await;
    let actions: Vec<&str> =
        audit.body["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["role.created", "role.updated", "role.deleted"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn a_custom_role_is_assigned_ranked_as_its_base_and_decides_checks() {
    let app = TestApp::spawn().await;
    let (owner, admin, ann, bob) = (app.user("owner"), app.user("admin"), app.user("ann"), app.user("bob"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &admin, "admin").await;
    assert_eq!(create_role(&app, &owner, &org, editor()).await.status, 201);
    let lead = json!({"key": "lead", "name": "Lead", "base": "admin", "permissions": ["billing:manage"]});
    assert_eq!(create_role(&app, &owner, &org, lead).await.status, 201);

    // An admin may grant a member-based custom role (by link), not an admin-based one.
    let r = app
        .call(Some(&admin), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({"role": "lead"})))
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{:?}", r.body);
    let r = app
        .call(Some(&admin), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({"role": "ghost"})))
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_role"), "{:?}", r.body);
    // A role the organization lacks is bad input before the target is looked up (the
    // model-based test's first find with custom roles: it answered 404 for a non-member).
    let r = app
        .call(Some(&owner), "PATCH", &format!("/orgs/{org}/members/nobody"), Some(json!({"role": "ghost"})))
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_role"), "{:?}", r.body);
    let batch = json!({ "invitations": [{ "email": "not an address", "role": "ghost" }] });
    let r = app.call(Some(&owner), "POST", &format!("/orgs/{org}/invitations"), Some(batch)).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "invalid_role"),
        "every entry's role, whatever its address: {:?}",
        r.body
    );
    app.add_member(&admin, &org, &ann, "editor").await;
    let me = app.call(Some(&ann), "GET", &format!("/orgs/{org}"), None).await;
    assert_eq!(me.body["you"]["role"], "member");
    assert_eq!(me.body["you"]["customRole"], "editor");
    let perms = me.body["you"]["permissions"].as_array().unwrap();
    assert!(perms.contains(&json!("billing:read")), "the role's own org permission: {perms:?}");
    assert!(perms.contains(&json!("members:read")), "its base's Roster permission: {perms:?}");
    assert!(
        !perms.contains(&json!("settings:read")),
        "not the built-in member's host permissions: {perms:?}"
    );
    let member = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members/{}", ann.sub), None).await;
    assert_eq!(
        (member.body["member"]["role"].clone(), member.body["member"]["customRole"].clone()),
        (json!("member"), json!("editor"))
    );

    // Checks: the role's host permissions, its base's Roster ones.
    let c = check(&app, &ann.sub, &org, "billing:read", None).await;
    assert_eq!(c, json!({"allowed": true, "reason": "granted", "role": "editor"}));
    let c = check(&app, &ann.sub, &org, "settings:read", None).await;
    assert_eq!(c, json!({"allowed": false, "reason": "no_permission", "role": "editor"}));
    let c = check(&app, &ann.sub, &org, "members:read", None).await;
    assert_eq!(c["allowed"], true);
    // In a workspace, through the organization role (direct membership without a role).
    let ws = app.create_workspace(&owner, &org, "Site").await;
    let r = app
        .call(
            Some(&owner),
            "PUT",
            &format!("/orgs/{org}/workspaces/{ws}/members/{}", ann.sub),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let c = check(&app, &ann.sub, &org, "projects:share", Some(&ws)).await;
    assert_eq!(c, json!({"allowed": true, "reason": "granted", "role": "editor"}));

    // A permission change answers at once.
    let path = format!("/orgs/{org}/roles/editor");
    let r = app.call(Some(&owner), "PATCH", &path, Some(json!({"permissions": ["projects:read"]}))).await;
    assert_eq!(r.status, 200);
    let c = check(&app, &ann.sub, &org, "projects:share", Some(&ws)).await;
    assert_eq!(c["allowed"], false, "{c}");

    // Held: not deleted, and the detail says by what.
    let r = app.call(Some(&owner), "DELETE", &path, None).await;
    assert_eq!((r.status, r.code()), (409, "role_in_use"), "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("1 member"), "{:?}", r.body);
    // Still assignable after a refused deletion (the mark is lifted).
    let r = app
        .call(
            Some(&owner),
            "PUT",
            &format!("/orgs/{org}/workspaces/{ws}/members/{}", ann.sub),
            Some(json!({"role": "editor"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["member"]["customRole"], "editor");

    // Changing the member's role back to a built-in one; the workspace grant still holds it.
    let r = app
        .call(
            Some(&owner),
            "PATCH",
            &format!("/orgs/{org}/members/{}", ann.sub),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["member"].get("customRole").is_none(), "{:?}", r.body);
    let r = app.call(Some(&owner), "DELETE", &path, None).await;
    assert_eq!((r.status, r.code()), (409, "role_in_use"), "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("workspace membership"), "{:?}", r.body);
    let r = app
        .call(
            Some(&owner),
            "PUT",
            &format!("/orgs/{org}/workspaces/{ws}/members/{}", ann.sub),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // An email invitation holds it too, until it is revoked.
    let r = app
        .call(
            Some(&owner),
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({"invitations": [{"email": app.email("bob"), "role": "editor"}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let invitation = r.body["results"][0]["invitation"].clone();
    assert_eq!(invitation["customRole"], "editor", "{invitation}");
    let r = app.call(Some(&owner), "DELETE", &path, None).await;
    assert_eq!((r.status, r.code()), (409, "role_in_use"), "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("1 pending invitation"), "{:?}", r.body);
    // The invitee joins with it.
    let token = app.token_mailed_to(&app.email("bob")).await;
    let bob = bob.with_email(&app.email("bob"));
    let r = app.call(Some(&bob), "POST", "/invitations/accept", Some(json!({"token": token}))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["membership"]["customRole"], "editor", "{}", r.body);
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/members/{}", bob.sub), None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = app.call(Some(&owner), "DELETE", &path, None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    // Gone: no longer assignable.
    let r = app
        .call(
            Some(&owner),
            "PATCH",
            &format!("/orgs/{org}/members/{}", ann.sub),
            Some(json!({"role": "editor"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_role"), "{:?}", r.body);
}

#[tokio::test]
async fn group_grants_take_custom_roles_and_the_top_rank_decides() {
    let app = TestApp::spawn().await;
    let (owner, ann) = (app.user("owner"), app.user("ann"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &ann, "viewer").await;
    let sharer =
        json!({"key": "sharer", "name": "Sharer", "base": "viewer", "permissions": ["projects:share"]});
    assert_eq!(create_role(&app, &owner, &org, sharer).await.status, 201);
    let ws = app.create_workspace(&owner, &org, "Site").await;
    let group = app.create_group(&owner, &org, "Ops").await;
    let r =
        app.call(Some(&owner), "PUT", &format!("/orgs/{org}/groups/{group}/members/{}", ann.sub), None).await;
    assert!(r.status == 200 || r.status == 201, "{:?}", r.body);
    let r = app
        .call(
            Some(&owner),
            "PUT",
            &format!("/orgs/{org}/workspaces/{ws}/groups/{group}"),
            Some(json!({"role": "sharer"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        (r.body["grant"]["role"].clone(), r.body["grant"]["customRole"].clone()),
        (json!("viewer"), json!("sharer"))
    );
    // A viewer-based grant: its own permission, not the built-in viewer's.
    let c = check(&app, &ann.sub, &org, "projects:share", Some(&ws)).await;
    assert_eq!(c, json!({"allowed": true, "reason": "granted", "role": "sharer"}));
    let c = check(&app, &ann.sub, &org, "projects:read", Some(&ws)).await;
    assert_eq!(c["allowed"], false, "{c}");
    // A direct membership of a higher rank decides instead.
    let r = app
        .call(
            Some(&owner),
            "PUT",
            &format!("/orgs/{org}/workspaces/{ws}/members/{}", ann.sub),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let c = check(&app, &ann.sub, &org, "projects:share", Some(&ws)).await;
    assert_eq!(c, json!({"allowed": false, "reason": "no_permission", "role": "member"}));
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/roles/sharer"), None).await;
    assert_eq!((r.status, r.code()), (409, "role_in_use"), "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("1 group grant"), "{:?}", r.body);
}

/// A role deleted while being granted (API.md: `409 role_in_use` while anything holds it):
/// whatever the interleaving, a deleted role has no holder, and an assignment that answered
/// `2xx` left a role that still exists. Run with the conflict emulation on (the harness's
/// default), many times over.
#[tokio::test]
async fn a_role_deleted_while_being_granted_never_leaves_a_holder() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let people: Vec<User> = (0..3).map(|i| app.user(&format!("p{i}"))).collect();
    for p in &people {
        app.add_member(&owner, &org, p, "member").await;
    }
    let ws = app.create_workspace(&owner, &org, "Site").await;
    let group = app.create_group(&owner, &org, "Ops").await;
    let (mut deleted, mut refused) = (0, 0);
    for round in 0..12 {
        let r = create_role(&app, &owner, &org, editor()).await;
        assert_eq!(r.status, 201, "round {round}: {:?}", r.body);
        let p = &people[round % people.len()];
        let role = json!({ "role": "editor" });
        let member = format!("/orgs/{org}/members/{}", p.sub);
        let direct = format!("/orgs/{org}/workspaces/{ws}/members/{}", p.sub);
        let grant = format!("/orgs/{org}/workspaces/{ws}/groups/{group}");
        let invite =
            json!({ "invitations": [{ "email": app.email(&format!("new{round}")), "role": "editor" }] });
        let (role_path, invitations) =
            (format!("/orgs/{org}/roles/editor"), format!("/orgs/{org}/invitations"));
        let (del, a, b, c, d) = tokio::join!(
            app.call(Some(&owner), "DELETE", &role_path, None),
            app.call(Some(&owner), "PATCH", &member, Some(role.clone())),
            app.call(Some(&owner), "PUT", &direct, Some(role.clone())),
            app.call(Some(&owner), "PUT", &grant, Some(role.clone())),
            app.call(Some(&owner), "POST", &invitations, Some(invite)),
        );
        let granted = [&a, &b, &c].iter().filter(|r| r.status < 300).count()
            + usize::from(
                d.body["results"][0]["status"] == "invited"
                    || d.body["results"][0]["status"] == "email_failed",
            );
        for r in [&a, &b, &c] {
            assert!(
                r.status < 300 || (r.status, r.code()) == (400, "invalid_role") || r.status == 409,
                "round {round}: {} {:?}",
                r.status,
                r.body
            );
        }
        let list = app.call(Some(&owner), "GET", &format!("/orgs/{org}/roles"), None).await;
        let exists = list.body["roles"].as_array().unwrap().iter().any(|r| r["key"] == "editor");
        match del.status {
            204 => {
                deleted += 1;
                assert!(!exists, "round {round}: deleted, yet listed");
                assert_eq!(granted, 0, "round {round}: the role was deleted after a grant answered 2xx");
            }
            409 => {
                refused += 1;
                assert!(exists, "round {round}: refused, yet gone");
            }
            other => panic!("round {round}: delete answered {other} {:?}", del.body),
        }
        // Clear every holder for the next round.
        if exists {
            app.call(Some(&owner), "PATCH", &member, Some(json!({ "role": "member" }))).await;
            app.call(Some(&owner), "PUT", &direct, Some(json!({ "role": "member" }))).await;
            app.call(Some(&owner), "PUT", &grant, Some(json!({ "role": "member" }))).await;
            let invitations = app.call(Some(&owner), "GET", &format!("/orgs/{org}/invitations"), None).await;
            for inv in invitations.body["invitations"].as_array().unwrap() {
                let path = format!("/orgs/{org}/invitations/{}", inv["id"].as_str().unwrap());
                app.call(Some(&owner), "DELETE", &path, None).await;
            }
            let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/roles/editor"), None).await;
            assert_eq!(r.status, 204, "round {round}: cleared, yet {:?}", r.body);
        }
    }
    eprintln!("role deletions racing grants: {deleted} deleted, {refused} refused");
    assert_eq!(deleted + refused, 12);
}

/// A role's permissions changed while checks run: each check answers the old or the new
/// permissions, and every check sent after the change's `2xx` the new ones.
#[tokio::test]
async fn a_role_changed_while_a_check_runs_answers_before_or_after_never_stale_after() {
    let app = TestApp::spawn().await;
    let (owner, ann) = (app.user("owner"), app.user("ann"));
    let org = app.create_org(&owner, "Acme").await;
    assert_eq!(create_role(&app, &owner, &org, editor()).await.status, 201);
    app.add_member(&owner, &org, &ann, "editor").await;
    let path = format!("/orgs/{org}/roles/editor");
    for round in 0..10 {
        // Even rounds take billing:read away, odd rounds give it back.
        let revoke = if round % 2 == 0 { json!([]) } else { json!(["billing:read"]) };
        let (change, during) = tokio::join!(
            app.call(Some(&owner), "PATCH", &path, Some(json!({ "permissions": revoke }))),
            check(&app, &ann.sub, &org, "billing:read", None),
        );
        assert_eq!(change.status, 200, "{:?}", change.body);
        assert_eq!(during["reason"] == "granted", during["allowed"] == true, "{during}");
        assert!(during["role"] == "editor", "{during}");
        let after = check(&app, &ann.sub, &org, "billing:read", None).await;
        let now_allowed = round % 2 == 1;
        assert_eq!(after["allowed"], now_allowed, "round {round}: after the change's 200: {after}");
    }
}
