//! A reviewer's attacks on custom roles (API.md "Roles and permissions", "Roles and rank";
//! README "Custom roles"): forged and partial claims on the role routes, services, another
//! organization's role key, removed and suspended owners, admins reaching above their rank,
//! self-assignment, racing changes and deletions, inputs at their limits, odd path keys, the
//! top-rank rule in checks, `you`, what lists leak, suspended holders and ownership
//! transfers. Every refusal must be the contract's status and code as
//! `application/problem+json`, and nothing may answer 500.

use roster_tests::harness::on_big_stack;
use roster_tests::harness::{TestApp, TestResponse, User, call_app_with_claims, service_claims};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("dev-backend", "roster/admin");

/// Asserts an error answer: the status and code, as `application/problem+json`.
#[track_caller]
fn problem(r: &TestResponse, status: u16, code: &str, what: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{what}: {:?}", r.body);
    assert_eq!(r.content_type.as_deref(), Some("application/problem+json"), "{what}: {:?}", r.body);
}

fn role(key: &str, base: &str, permissions: &[&str]) -> Value {
    json!({ "key": key, "name": key.to_uppercase(), "base": base, "permissions": permissions })
}

async fn create_role(app: &TestApp, by: &User, org: &str, body: Value) -> TestResponse {
    app.call(Some(by), "POST", &format!("/orgs/{org}/roles"), Some(body)).await
}

async fn check(app: &TestApp, user: &str, org: &str, permission: &str, ws: Option<&str>) -> Value {
    app.check_one(user, org, permission, ws).await
}

async fn roles_of(app: &TestApp, by: &User, org: &str) -> Vec<Value> {
    let r = app.call(Some(by), "GET", &format!("/orgs/{org}/roles"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["roles"].as_array().unwrap().clone()
}

async fn member_of(app: &TestApp, by: &User, org: &str, sub: &str) -> Value {
    let r = app.call(Some(by), "GET", &format!("/orgs/{org}/members/{sub}"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["member"].clone()
}

// ------------------------------------------------------------------------- claims

#[test]
fn role_routes_refuse_missing_and_partial_claims_and_services_without_admin() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let owner = app.user("owner");
        let org = app.create_org(&owner, "Acme").await;
        let body = role("editor", "member", &["projects:read"]);
        let routes = [
            ("GET", format!("/orgs/{org}/roles"), None),
            ("POST", format!("/orgs/{org}/roles"), Some(body.clone())),
            ("PATCH", format!("/orgs/{org}/roles/editor"), Some(json!({"name": "X"}))),
            ("DELETE", format!("/orgs/{org}/roles/editor"), None),
        ];
        for (method, path, body) in &routes {
            let r = app.call(None, method, path, body.clone()).await;
            problem(&r, 401, "unauthenticated", &format!("{method} {path} without claims"));
            // A token with no sub.
            let mut claims = owner.claims();
            claims.remove("sub");
            let r = call_app_with_claims(&app.app, Some(&claims), method, path, body.clone()).await;
            problem(&r, 401, "unauthenticated", &format!("{method} {path} without a sub"));
            // A listed service with only roster/authorize.
            let r = app.call_as_service("dev-service", "roster/authorize", method, path, body.clone()).await;
            problem(&r, 403, "forbidden", &format!("{method} {path} as a service without roster/admin"));
            // A client id not in the service list, holding roster/admin: no owner of anything.
            let claims = service_claims("stranger-service", "roster/admin");
            let r = call_app_with_claims(&app.app, Some(&claims), method, path, body.clone()).await;
            assert!(
                matches!(r.status, 401 | 403 | 404),
                "{method} {path} as an unlisted service: {} {:?}",
                r.status,
                r.body
            );
            assert_eq!(r.content_type.as_deref(), Some("application/problem+json"));
        }
        assert!(roles_of(&app, &owner, &org).await.iter().all(|r| r["key"] != "editor"));

        // An unverified address changes nothing for the owner's sub: still the owner.
        let unverified = owner.clone().unverified();
        let r = create_role(&app, &unverified, &org, body.clone()).await;
        assert_eq!(r.status, 201, "{:?}", r.body);

        // A service with roster/admin acts as an owner: every role route.
        let path = format!("/orgs/{org}/roles");
        let r = app.call_as_service(ADMIN.0, ADMIN.1, "GET", &path, None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let r = app.call_as_service(ADMIN.0, ADMIN.1, "POST", &path, Some(role("svc", "viewer", &[]))).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let r = app
            .call_as_service(ADMIN.0, ADMIN.1, "PATCH", &format!("{path}/svc"), Some(json!({"name": "Svc"})))
            .await;
        assert_eq!((r.status, r.body["role"]["name"].clone()), (200, json!("Svc")), "{:?}", r.body);
        let r = app.call_as_service(ADMIN.0, ADMIN.1, "DELETE", &format!("{path}/svc"), None).await;
        assert_eq!(r.status, 204, "{:?}", r.body);
        let audit = app.call(Some(&owner), "GET", &format!("/orgs/{org}/audit"), None).await;
        let by_service = audit.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"].as_str().unwrap_or("").starts_with("role."))
            .filter(|e| e.to_string().contains("service:dev-backend"))
            .count();
        assert_eq!(by_service, 3, "each role change audited as the service: {:?}", audit.body);
        // Not for an organization that does not exist.
        let r = app.call_as_service(ADMIN.0, ADMIN.1, "GET", "/orgs/org_nope/roles", None).await;
        problem(&r, 404, "not_found", "a service on an organization that does not exist");
    });
}

// ------------------------------------------------------------ another organization's key

#[test]
fn another_organizations_role_key_is_never_borrowed() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let (owner, ann, bob) = (app.user("owner"), app.user("ann"), app.user("bob"));
        let a = app.create_org(&owner, "A").await;
        let b = app.create_org(&owner, "B").await;
        let r = create_role(&app, &owner, &a, role("editor", "admin", &["billing:manage"])).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        app.add_member(&owner, &b, &ann, "member").await;
        let ws = app.create_workspace(&owner, &b, "Site").await;
        let group = app.create_group(&owner, &b, "Ops").await;
        let editor = json!({ "role": "editor" });

        // B has no 'editor': every place a role is named refuses it.
        let tries = [
            ("PATCH", format!("/orgs/{b}/members/{}", ann.sub), editor.clone()),
            ("POST", format!("/orgs/{b}/invite-links"), editor.clone()),
            ("PUT", format!("/orgs/{b}/workspaces/{ws}/members/{}", ann.sub), editor.clone()),
            ("PUT", format!("/orgs/{b}/workspaces/{ws}/groups/{group}"), editor.clone()),
        ];
        for (method, path, body) in &tries {
            let r = app.call(Some(&owner), method, path, Some(body.clone())).await;
            problem(&r, 400, "invalid_role", &format!("{method} {path}"));
        }
        let r = app
            .call(
                Some(&owner),
                "POST",
                &format!("/orgs/{b}/invitations"),
                Some(json!({"invitations": [{"email": app.email("new"), "role": "editor"}]})),
            )
            .await;
        assert!(
            r.status == 400 || r.body["results"][0]["status"] != "invited",
            "an invitation to B with A's role: {:?}",
            r.body
        );
        // As a service too.
        let r = app
            .call_as_service(
                ADMIN.0,
                ADMIN.1,
                "PATCH",
                &format!("/orgs/{b}/members/{}", ann.sub),
                Some(editor.clone()),
            )
            .await;
        problem(&r, 400, "invalid_role", "a service assigning A's role in B");

        // B's own 'editor', of another base and permissions: B's is the one held.
        let r = create_role(&app, &owner, &b, role("editor", "viewer", &["reports:read"])).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        app.add_member(&owner, &b, &bob, "editor").await;
        let m = member_of(&app, &owner, &b, &bob.sub).await;
        assert_eq!((m["role"].clone(), m["customRole"].clone()), (json!("viewer"), json!("editor")));
        assert_eq!(
            check(&app, &bob.sub, &b, "reports:read", None).await,
            json!({"allowed": true, "reason": "granted", "role": "editor"})
        );
        let c = check(&app, &bob.sub, &b, "billing:manage", None).await;
        assert_eq!(c["allowed"], false, "A's editor's permission in B: {c}");
        let c = check(&app, &bob.sub, &b, "members:invite", None).await;
        assert_eq!(c["allowed"], false, "A's editor's admin base in B: {c}");
        // And A's role is untouched by B's.
        let a_roles = roles_of(&app, &owner, &a).await;
        let a_editor = a_roles.iter().find(|r| r["key"] == "editor").unwrap();
        assert_eq!(
            (a_editor["base"].clone(), a_editor["permissions"].clone()),
            (json!("admin"), json!(["billing:manage"]))
        );
        // Deleting A's editor is not blocked by B's holder, and does not touch B's.
        let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{a}/roles/editor"), None).await;
        assert_eq!(r.status, 204, "A's editor held only in B: {:?}", r.body);
        let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{b}/roles/editor"), None).await;
        problem(&r, 409, "role_in_use", "B's editor, held by bob");
        assert_eq!(check(&app, &bob.sub, &b, "reports:read", None).await["allowed"], true);
    });
}

// ------------------------------------------------------------ removed, suspended, admins

#[test]
fn a_suspended_or_removed_owner_manages_no_roles() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let (owner, second) = (app.user("owner"), app.user("second"));
        let org = app.create_org(&owner, "Acme").await;
        app.add_member(&owner, &org, &second, "owner").await;
        assert_eq!(create_role(&app, &second, &org, role("editor", "member", &[])).await.status, 201);
        app.suspend(&owner, &org, &second.sub).await;
        let path = format!("/orgs/{org}/roles/editor");
        problem(
            &create_role(&app, &second, &org, role("other", "member", &[])).await,
            403,
            "suspended",
            "create",
        );
        let r = app.call(Some(&second), "PATCH", &path, Some(json!({"name": "X"}))).await;
        problem(&r, 403, "suspended", "patch");
        problem(&app.call(Some(&second), "DELETE", &path, None).await, 403, "suspended", "delete");
        problem(
            &app.call(Some(&second), "GET", &format!("/orgs/{org}/roles"), None).await,
            403,
            "suspended",
            "list",
        );
        let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/members/{}", second.sub), None).await;
        assert_eq!(r.status, 204, "{:?}", r.body);
        problem(
            &create_role(&app, &second, &org, role("other", "member", &[])).await,
            404,
            "not_found",
            "create",
        );
        let r = app.call(Some(&second), "PATCH", &path, Some(json!({"name": "X"}))).await;
        problem(&r, 404, "not_found", "patch");
        problem(&app.call(Some(&second), "DELETE", &path, None).await, 404, "not_found", "delete");
        let roles = roles_of(&app, &owner, &org).await;
        let editor = roles.iter().find(|r| r["key"] == "editor").expect("still there");
        assert_eq!(editor["name"], "EDITOR");
        assert!(roles.iter().all(|r| r["key"] != "other"));
    });
}

#[test]
fn admins_neither_manage_roles_nor_grant_above_their_rank() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let (owner, admin, peer, ann) =
            (app.user("owner"), app.user("admin"), app.user("peer"), app.user("ann"));
        let org = app.create_org(&owner, "Acme").await;
        app.add_member(&owner, &org, &admin, "admin").await;
        app.add_member(&owner, &org, &peer, "admin").await;
        app.add_member(&owner, &org, &ann, "member").await;
        assert_eq!(
            create_role(&app, &owner, &org, role("lead", "admin", &["billing:manage"])).await.status,
            201
        );
        assert_eq!(
            create_role(&app, &owner, &org, role("editor", "member", &["projects:share"])).await.status,
            201
        );
        let path = format!("/orgs/{org}/roles/editor");
        problem(
            &create_role(&app, &admin, &org, role("mine", "viewer", &[])).await,
            403,
            "forbidden",
            "create",
        );
        let r =
            app.call(Some(&admin), "PATCH", &path, Some(json!({"permissions": ["billing:manage"]}))).await;
        problem(&r, 403, "forbidden", "patch");
        problem(&app.call(Some(&admin), "DELETE", &path, None).await, 403, "forbidden", "delete");

        // Granting the admin-based custom role: refused everywhere.
        let lead = json!({"role": "lead"});
        let r = app
            .call(Some(&admin), "PATCH", &format!("/orgs/{org}/members/{}", ann.sub), Some(lead.clone()))
            .await;
        problem(&r, 403, "forbidden", "promote a member to an admin-based role");
        let r =
            app.call(Some(&admin), "POST", &format!("/orgs/{org}/invite-links"), Some(lead.clone())).await;
        problem(&r, 403, "forbidden", "a link with an admin-based role");
        let r = app
            .call(
                Some(&admin),
                "POST",
                &format!("/orgs/{org}/invitations"),
                Some(json!({"invitations": [{"email": app.email("x"), "role": "lead"}]})),
            )
            .await;
        assert!(
            r.status == 403 || r.body["results"][0]["status"] == "forbidden_role",
            "an invitation with an admin-based role by an admin: {:?}",
            r.body
        );
        assert_ne!(r.body["results"][0]["status"], "invited", "{:?}", r.body);
        // Acting on an admin, even with a member-based role (a demotion of a peer).
        let r = app
            .call(
                Some(&admin),
                "PATCH",
                &format!("/orgs/{org}/members/{}", peer.sub),
                Some(json!({"role": "editor"})),
            )
            .await;
        problem(&r, 403, "forbidden", "an admin moving a peer admin to a member-based custom role");
        assert_eq!(member_of(&app, &owner, &org, &peer.sub).await["role"], "admin");
        // A member-based custom role to a member: allowed.
        let r = app
            .call(
                Some(&admin),
                "PATCH",
                &format!("/orgs/{org}/members/{}", ann.sub),
                Some(json!({"role": "editor"})),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        // Then an admin may act on her (base member), but not once she holds 'lead'.
        let r = app
            .call(Some(&owner), "PATCH", &format!("/orgs/{org}/members/{}", ann.sub), Some(lead.clone()))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let r = app
            .call(
                Some(&admin),
                "PATCH",
                &format!("/orgs/{org}/members/{}", ann.sub),
                Some(json!({"role": "viewer"})),
            )
            .await;
        problem(&r, 403, "forbidden", "an admin demoting a lead (admin-based)");
        let r = app
            .call(
                Some(&admin),
                "PATCH",
                &format!("/orgs/{org}/members/{}", ann.sub),
                Some(json!({"status": "suspended"})),
            )
            .await;
        problem(&r, 403, "forbidden", "an admin suspending a lead (admin-based)");
        assert_eq!(member_of(&app, &owner, &org, &ann.sub).await["customRole"], "lead");
    });
}

#[test]
fn nobody_assigns_themselves_a_custom_role_but_an_owner_stepping_down() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let (owner, second, admin, ann) =
            (app.user("owner"), app.user("second"), app.user("admin"), app.user("ann"));
        let org = app.create_org(&owner, "Acme").await;
        app.add_member(&owner, &org, &admin, "admin").await;
        assert_eq!(create_role(&app, &owner, &org, role("editor", "member", &[])).await.status, 201);
        assert_eq!(create_role(&app, &owner, &org, role("lead", "admin", &[])).await.status, 201);
        assert_eq!(
            create_role(&app, &owner, &org, role("peer", "admin", &["billing:manage"])).await.status,
            201
        );
        app.add_member(&owner, &org, &ann, "editor").await;
        let me = |u: &User| format!("/orgs/{org}/members/{}", u.sub);
        // An admin to a lower custom role, and to a custom role of her own rank.
        for key in ["editor", "peer"] {
            let r = app.call(Some(&admin), "PATCH", &me(&admin), Some(json!({"role": key}))).await;
            problem(&r, 403, "forbidden", &format!("an admin assigning herself {key}"));
        }
        // A custom-role holder to another custom role, or a built-in one.
        for key in ["lead", "member", "viewer"] {
            let r = app.call(Some(&ann), "PATCH", &me(&ann), Some(json!({"role": key}))).await;
            problem(&r, 403, "forbidden", &format!("a holder assigning herself {key}"));
        }
        assert_eq!(member_of(&app, &owner, &org, &ann.sub).await["customRole"], "editor");
        // The only owner cannot step down; with a second owner, she may, to a custom role.
        let r = app.call(Some(&owner), "PATCH", &me(&owner), Some(json!({"role": "lead"}))).await;
        problem(&r, 409, "last_owner", "the last owner stepping down to a custom role");
        app.add_member(&owner, &org, &second, "owner").await;
        let r = app.call(Some(&owner), "PATCH", &me(&owner), Some(json!({"role": "lead"}))).await;
        assert_eq!(r.status, 200, "an owner stepping down: {:?}", r.body);
        let m = member_of(&app, &second, &org, &owner.sub).await;
        assert_eq!((m["role"].clone(), m["customRole"].clone()), (json!("admin"), json!("lead")));
        // Now a lead (admin-based): no longer back up, not to another custom role either.
        let r = app.call(Some(&owner), "PATCH", &me(&owner), Some(json!({"role": "owner"}))).await;
        problem(&r, 403, "forbidden", "a lead promoting herself back to owner");
        let r = app.call(Some(&owner), "PATCH", &me(&owner), Some(json!({"role": "peer"}))).await;
        problem(&r, 403, "forbidden", "a lead moving herself to another admin-based role");
        problem(
            &create_role(&app, &owner, &org, role("x", "viewer", &[])).await,
            403,
            "forbidden",
            "a lead creating roles",
        );
    });
}

// ------------------------------------------------------------------------------- races

/// Two PATCHes of different names and permissions race: the role ends as one of them whole,
/// never a mix, and every `200` was, at its moment, whole.
#[test]
fn racing_patches_end_with_one_whole_never_a_mix() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let owner = app.user("owner");
        let org = app.create_org(&owner, "Acme").await;
        assert_eq!(create_role(&app, &owner, &org, role("editor", "member", &[])).await.status, 201);
        let path = format!("/orgs/{org}/roles/editor");
        let second = app.second_instance().await;
        let mut both_ok = 0;
        for round in 0..10 {
            let one = json!({"name": format!("One {round}"), "permissions": ["projects:read"]});
            let two = json!({"name": format!("Two {round}"), "description": "two", "permissions": ["billing:read", "reports:read"]});
            let (r1, r2) = tokio::join!(
                app.call(Some(&owner), "PATCH", &path, Some(one.clone())),
                roster_tests::harness::call_app(&second, Some(&owner), "PATCH", &path, Some(two.clone())),
            );
            for r in [&r1, &r2] {
                assert!(
                    r.status == 200 || (r.status, r.code()) == (409, "conflict"),
                    "round {round}: {} {:?}",
                    r.status,
                    r.body
                );
            }
            assert!(r1.status == 200 || r2.status == 200, "round {round}: neither applied");
            let now = roles_of(&app, &owner, &org).await.into_iter().find(|r| r["key"] == "editor").unwrap();
            let whole =
                |sent: &Value| now["name"] == sent["name"] && now["permissions"] == sent["permissions"];
            let (is_one, is_two) = (whole(&one), whole(&two) && now["description"] == "two");
            assert!(is_one || is_two, "round {round}: a mix: {now}");
            if r1.status == 200 && r2.status == 200 {
                both_ok += 1;
            } else {
                let winner = if r1.status == 200 { is_one } else { is_two };
                assert!(winner, "round {round}: the 200 is not what stands: {now}");
            }
            // Reset the description for the next round.
            let r = app.call(Some(&owner), "PATCH", &path, Some(json!({"description": ""}))).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
        eprintln!("racing patches: {both_ok} rounds both answered 200 (applied one after the other)");
    });
}

/// A deletion racing an invite link's creation: a deleted role never has a holder. Failed
/// when first run (round 0 or 2: `DELETE` 204 while the link's `POST` answered 201, the link
/// carrying the deleted role), against a working tree holding other engineers' uncommitted
/// edits to `shared/`; at 308d1b8 it has not failed again (cold and warm DynamoDB Local,
/// with the conflict emulation on and off, under CPU load). Kept, with more rounds: a
/// failure here is a holder the deletion's count missed.
#[test]
fn a_role_deleted_while_a_link_is_made_leaves_no_holder() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let owner = app.user("owner");
        let org = app.create_org(&owner, "Acme").await;
        let role_path = format!("/orgs/{org}/roles/editor");
        let (mut deleted, mut refused) = (0, 0);
        for round in 0..30 {
            assert_eq!(create_role(&app, &owner, &org, role("editor", "member", &[])).await.status, 201);
            // A link made while the role is deleted.
            let links = format!("/orgs/{org}/invite-links");
            let (del, link) = tokio::join!(
                app.call(Some(&owner), "DELETE", &role_path, None),
                app.call(Some(&owner), "POST", &links, Some(json!({"role": "editor"}))),
            );
            assert!(
                link.status == 201 || (link.status, link.code()) == (400, "invalid_role"),
                "round {round}: link {} {:?}",
                link.status,
                link.body
            );
            let exists = roles_of(&app, &owner, &org).await.iter().any(|r| r["key"] == "editor");
            match del.status {
                204 => {
                    deleted += 1;
                    assert!(!exists);
                    assert_ne!(link.status, 201, "round {round}: a link holds a deleted role");
                }
                409 => {
                    refused += 1;
                    assert!(exists);
                    assert_eq!(link.status, 201);
                    let id = link.body["link"]["id"].as_str().unwrap();
                    let r = app
                        .call(Some(&owner), "DELETE", &format!("/orgs/{org}/invite-links/{id}"), None)
                        .await;
                    assert_eq!(r.status, 204, "{:?}", r.body);
                    let r = app.call(Some(&owner), "DELETE", &role_path, None).await;
                    assert_eq!(r.status, 204, "round {round}: {:?}", r.body);
                }
                other => panic!("round {round}: delete answered {other} {:?}", del.body),
            }
        }
        eprintln!("deletions racing link creation: {deleted} deleted, {refused} refused");
    });
}

/// An email invitation carrying the role is pending when `DELETE .../roles/editor` starts,
/// and its invitee accepts at the same moment: the pending invitation, or the member the
/// accept made, holds the role throughout, so the deletion must be refused, and the accept
/// never answers 5xx. Failed once when first run (the deletion answered 204), with the link
/// race above and under the same working tree; not since.
#[test]
fn a_role_deleted_while_an_invitation_carrying_it_is_accepted_leaves_no_holder() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let owner = app.user("owner");
        let org = app.create_org(&owner, "Acme").await;
        let role_path = format!("/orgs/{org}/roles/editor");
        for round in 0..12 {
            assert_eq!(create_role(&app, &owner, &org, role("editor", "member", &[])).await.status, 201);
            let sub = format!("inv{round}");
            let invitee = app.user(&sub);
            let r = app
                .call(
                    Some(&owner),
                    "POST",
                    &format!("/orgs/{org}/invitations"),
                    Some(json!({"invitations": [{"email": app.email(&sub), "role": "editor"}]})),
                )
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            let token = app.token_mailed_to(&app.email(&sub)).await;
            let (del, acc) = tokio::join!(
                app.call(Some(&owner), "DELETE", &role_path, None),
                app.call(Some(&invitee), "POST", "/invitations/accept", Some(json!({"token": token}))),
            );
            assert!(acc.status < 500, "round {round}: accept {} {:?}", acc.status, acc.body);
            assert!(del.status < 500, "round {round}: delete {} {:?}", del.status, del.body);
            let exists = roles_of(&app, &owner, &org).await.iter().any(|r| r["key"] == "editor");
            assert_eq!(exists, del.status != 204, "round {round}: {:?}", del.body);
            // An invitation pending at the deletion's start holds the role: the deletion is
            // refused unless the accept made a member first, who holds it too.
            assert_eq!(
                del.status, 409,
                "round {round}: deleted under a pending invitation or new member: {:?}",
                del.body
            );
            if acc.status == 200 {
                assert_eq!(acc.body["membership"]["customRole"], "editor", "round {round}: {:?}", acc.body);
                let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/members/{sub}"), None).await;
                assert_eq!(r.status, 204, "{:?}", r.body);
            } else {
                let list = app.call(Some(&owner), "GET", &format!("/orgs/{org}/invitations"), None).await;
                for inv in list.body["invitations"].as_array().unwrap() {
                    let path = format!("/orgs/{org}/invitations/{}", inv["id"].as_str().unwrap());
                    app.call(Some(&owner), "DELETE", &path, None).await;
                }
            }
            let r = app.call(Some(&owner), "DELETE", &role_path, None).await;
            assert_eq!(r.status, 204, "round {round}: cleared, yet {:?}", r.body);
        }
    });
}

// ------------------------------------------------------------------------------ limits

#[test]
fn inputs_at_each_limit() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let owner = app.user("owner");
        let org = app.create_org(&owner, "Acme").await;
        let k32 = format!("k{}", "a".repeat(31));
        let mut at = json!({"key": k32, "name": "n".repeat(100), "description": "d".repeat(500), "base": "viewer",
            "permissions": ["projects:read", "projects:read", "billing:read"]});
        let r = create_role(&app, &owner, &org, at.clone()).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(
            r.body["role"]["permissions"],
            json!(["billing:read", "projects:read"]),
            "duplicates once"
        );
        // Unicode: 100 characters that are 300 bytes.
        let r = create_role(
            &app,
            &owner,
            &org,
            json!({"key": "wide", "name": "€".repeat(100), "base": "viewer", "permissions": []}),
        )
        .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let over = [
            ("key", json!(format!("k{}", "a".repeat(32)))),
            ("name", json!("n".repeat(101))),
            ("description", json!("d".repeat(501))),
        ];
        for (field, value) in over {
            let mut body = at.clone();
            body["key"] = json!("other");
            body[field] = value;
            let r = create_role(&app, &owner, &org, body).await;
            problem(&r, 400, "invalid_request", &format!("{field} past its limit"));
            assert!(r.body["detail"].as_str().unwrap().contains(field), "{:?}", r.body);
        }
        // The same limits on a PATCH.
        let path = format!("/orgs/{org}/roles/{k32}");
        for (field, value) in [("name", json!("n".repeat(101))), ("description", json!("d".repeat(501)))] {
            let r = app.call(Some(&owner), "PATCH", &path, Some(json!({ field: value }))).await;
            problem(&r, 400, "invalid_request", &format!("PATCH {field} past its limit"));
        }
        // Empty permissions: a role of its base's Roster permissions only.
        let r = app.call(Some(&owner), "PATCH", &path, Some(json!({"permissions": []}))).await;
        assert_eq!((r.status, r.body["role"]["permissions"].clone()), (200, json!([])), "{:?}", r.body);
        // Wrong types and extra fields.
        for body in [
            json!({"key": "t", "name": "T", "base": "viewer", "permissions": "projects:read"}),
            json!({"key": "t", "name": "T", "base": "viewer", "permissions": [1]}),
            json!({"key": "t", "name": "T", "base": "viewer", "permissions": [], "version": 7}),
            json!({"key": "t", "name": "T", "base": "viewer", "permissions": [], "retiring": true}),
            json!({"key": "t", "name": "T", "base": "viewer", "permissions": [], "builtin": true}),
            json!({"key": 5, "name": "T", "base": "viewer", "permissions": []}),
            json!({"key": "t", "name": "T", "base": "Viewer", "permissions": []}),
            json!({"key": "t", "name": "T", "base": null, "permissions": []}),
            json!([]),
        ] {
            let r = create_role(&app, &owner, &org, body.clone()).await;
            problem(&r, 400, "invalid_request", &body.to_string());
        }
        let r = app.call(Some(&owner), "PATCH", &path, Some(json!({"version": 0}))).await;
        problem(&r, 400, "invalid_request", "PATCH naming a version");
        // 50 roles, then the 51st; deleting one frees a slot.
        at["permissions"] = json!([]);
        for i in 2..50 {
            let r = create_role(&app, &owner, &org, role(&format!("r{i}"), "viewer", &[])).await;
            assert_eq!(r.status, 201, "role {i}: {:?}", r.body);
        }
        assert_eq!(roles_of(&app, &owner, &org).await.len(), 4 + 50);
        let r = create_role(&app, &owner, &org, role("r50", "viewer", &[])).await;
        problem(&r, 409, "limit_exceeded", "the 51st role");
        // A duplicate key at the limit: either answer, never a 500, nothing written.
        let r = create_role(&app, &owner, &org, role("r2", "viewer", &[])).await;
        assert!(r.status == 409, "{:?}", r.body);
        let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/roles/r2"), None).await;
        assert_eq!(r.status, 204, "{:?}", r.body);
        let r = create_role(&app, &owner, &org, role("r50", "viewer", &[])).await;
        assert_eq!(r.status, 201, "a freed slot: {:?}", r.body);
        problem(
            &create_role(&app, &owner, &org, role("r51", "viewer", &[])).await,
            409,
            "limit_exceeded",
            "full again",
        );
        // A refused deletion (role in use) keeps the count: still full, still one slot per deletion.
        let held = app.user("held");
        app.add_member(&owner, &org, &held, "r3").await;
        let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/roles/r3"), None).await;
        problem(&r, 409, "role_in_use", "held");
        problem(
            &create_role(&app, &owner, &org, role("r51", "viewer", &[])).await,
            409,
            "limit_exceeded",
            "still full",
        );
        let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/roles/r4"), None).await;
        assert_eq!(r.status, 204, "{:?}", r.body);
        assert_eq!(create_role(&app, &owner, &org, role("r51", "viewer", &[])).await.status, 201);
    });
}

#[test]
fn invisible_and_direction_characters_and_builtin_keys_in_another_case_are_refused() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let owner = app.user("owner");
        let org = app.create_org(&owner, "Acme").await;
        for bad in [
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{202E}', '\u{2066}', '\u{061C}',
            '\u{200F}', '\u{00AD}',
        ] {
            let text = format!("Edi{bad}tor");
            let r = create_role(
                &app,
                &owner,
                &org,
                json!({"key": "e", "name": text, "base": "viewer", "permissions": []}),
            )
            .await;
            problem(&r, 400, "invalid_request", &format!("name with U+{:04X}", bad as u32));
            let r = create_role(
                &app,
                &owner,
                &org,
                json!({"key": "e", "name": "E", "description": text, "base": "viewer", "permissions": []}),
            )
            .await;
            problem(&r, 400, "invalid_request", &format!("description with U+{:04X}", bad as u32));
        }
        // Control characters in a name; a description may break lines, no more.
        let r = create_role(
            &app,
            &owner,
            &org,
            json!({"key": "e", "name": "A\nB", "base": "viewer", "permissions": []}),
        )
        .await;
        problem(&r, 400, "invalid_request", "a line break in a name");
        let r = create_role(
            &app,
            &owner,
            &org,
            json!({"key": "e", "name": "E", "description": "a\u{7}b", "base": "viewer", "permissions": []}),
        )
        .await;
        problem(&r, 400, "invalid_request", "a bell in a description");
        // A key spelling a built-in role in another case, or with look-alikes.
        for key in [
            "Owner",
            "ADMIN",
            "Member",
            "viewer",
            "owner",
            "admin ",
            " admin",
            "аdmin",
            "editor\u{200B}",
            "1st",
            "-x",
            "_x",
            "",
        ] {
            let r = create_role(
                &app,
                &owner,
                &org,
                json!({"key": key, "name": "X", "base": "viewer", "permissions": []}),
            )
            .await;
            problem(&r, 400, "invalid_request", &format!("key {key:?}"));
        }
        assert_eq!(roles_of(&app, &owner, &org).await.len(), 4, "nothing written");
        // Naming a custom role in another case to assign it.
        assert_eq!(create_role(&app, &owner, &org, role("editor", "viewer", &[])).await.status, 201);
        let r = app
            .call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({"role": "Editor"})))
            .await;
        problem(&r, 400, "invalid_role", "a custom role in another case");
        let r = app
            .call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({"role": "OWNER"})))
            .await;
        problem(&r, 400, "invalid_role", "a built-in role in another case");
    });
}

#[test]
fn odd_path_keys_are_not_found_never_a_500() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let owner = app.user("owner");
        let org = app.create_org(&owner, "Acme").await;
        assert_eq!(create_role(&app, &owner, &org, role("editor", "viewer", &[])).await.status, 201);
        let long = "a".repeat(5000);
        for key in [
            "%2F",
            "editor%2F..",
            "..",
            "%00",
            "EDITOR",
            "Editor",
            "editor%20",
            "%E2%80%AEeditor",
            long.as_str(),
            "x%",
            "%zz",
        ] {
            for (method, body) in [("PATCH", Some(json!({"name": "X"}))), ("DELETE", None)] {
                let r = app.call(Some(&owner), method, &format!("/orgs/{org}/roles/{key}"), body).await;
                let what = format!("{method} roles/{}", &key[..key.len().min(20)]);
                problem(&r, 404, "not_found", &what);
            }
        }
        // Built-in names, in any case the routes accept: fixed.
        for key in ["owner", "admin", "member", "viewer"] {
            let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/roles/{key}"), None).await;
            problem(&r, 400, "invalid_request", key);
        }
        // A stranger learns nothing: 404 for a role that exists and one that does not.
        let stranger = app.user("stranger");
        for key in ["editor", "nobody"] {
            let r = app.call(Some(&stranger), "DELETE", &format!("/orgs/{org}/roles/{key}"), None).await;
            problem(&r, 404, "not_found", key);
        }
        let roles = roles_of(&app, &owner, &org).await;
        assert_eq!(roles.iter().find(|r| r["key"] == "editor").unwrap()["name"], "EDITOR");
    });
}

// ------------------------------------------------------------------------------- checks

/// The top-rank rule: a member-based custom organization role does not count in a workspace
/// where the holder has only a group grant (the organization role counts there only as a
/// direct membership without a role, or as an admin), so its workspace permission is not
/// held; an admin-based one counts, as an organization admin.
#[test]
fn a_custom_org_roles_workspace_permission_does_not_leak_through_a_lower_group_grant() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let (owner, ann, lee) = (app.user("owner"), app.user("ann"), app.user("lee"));
        let org = app.create_org(&owner, "Acme").await;
        assert_eq!(
            create_role(&app, &owner, &org, role("sharer", "member", &["projects:share", "projects:delete"]))
                .await
                .status,
            201
        );
        assert_eq!(
            create_role(&app, &owner, &org, role("lead", "admin", &["projects:share"])).await.status,
            201
        );
        app.add_member(&owner, &org, &ann, "sharer").await;
        app.add_member(&owner, &org, &lee, "lead").await;
        let ws = app.create_workspace(&owner, &org, "Site").await;
        let group = app.create_group(&owner, &org, "Ops").await;
        for u in [&ann, &lee] {
            let r = app
                .call(Some(&owner), "PUT", &format!("/orgs/{org}/groups/{group}/members/{}", u.sub), None)
                .await;
            assert!(r.status == 200 || r.status == 201, "{:?}", r.body);
        }
        let r = app
            .call(
                Some(&owner),
                "PUT",
                &format!("/orgs/{org}/workspaces/{ws}/groups/{group}"),
                Some(json!({"role": "viewer"})),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let c = check(&app, &ann.sub, &org, "projects:share", Some(&ws)).await;
        assert_eq!(c, json!({"allowed": false, "reason": "no_permission", "role": "viewer"}));
        let c = check(&app, &ann.sub, &org, "projects:read", Some(&ws)).await;
        assert_eq!(c, json!({"allowed": true, "reason": "granted", "role": "viewer"}));
        // Without the workspace: no_workspace, not the org role's answer.
        let c = check(&app, &ann.sub, &org, "projects:share", None).await;
        assert_eq!(c["reason"], "no_workspace", "{c}");
        // An admin-based custom role counts in every workspace as the organization admin.
        let c = check(&app, &lee.sub, &org, "projects:share", Some(&ws)).await;
        assert_eq!(c, json!({"allowed": true, "reason": "granted", "role": "lead"}));
        let c = check(&app, &lee.sub, &org, "projects:delete", Some(&ws)).await;
        assert_eq!(c["allowed"], false, "lead holds only what it lists (not the built-in admin's): {c}");
        // A direct membership without a role: the org role decides, with its own permissions.
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
        assert_eq!(c, json!({"allowed": true, "reason": "granted", "role": "sharer"}));
        // In another organization's workspace: no_workspace.
        let other = app.create_org(&owner, "Other").await;
        let ws2 = app.create_workspace(&owner, &other, "Else").await;
        let c = check(&app, &ann.sub, &org, "projects:share", Some(&ws2)).await;
        assert_eq!(c["reason"], "no_workspace", "{c}");
    });
}

#[test]
fn a_suspended_holder_is_suspended_and_you_shows_the_roles_permissions() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let (owner, ann, lee) = (app.user("owner"), app.user("ann"), app.user("lee"));
        let org = app.create_org(&owner, "Acme").await;
        assert_eq!(
            create_role(&app, &owner, &org, role("lead", "admin", &["billing:manage", "projects:share"]))
                .await
                .status,
            201
        );
        assert_eq!(
            create_role(&app, &owner, &org, role("editor", "member", &["billing:read"])).await.status,
            201
        );
        app.add_member(&owner, &org, &lee, "lead").await;
        app.add_member(&owner, &org, &ann, "editor").await;
        let you = app.call(Some(&lee), "GET", &format!("/orgs/{org}"), None).await.body["you"].clone();
        assert_eq!(
            (you["role"].clone(), you["customRole"].clone()),
            (json!("admin"), json!("lead")),
            "{you}"
        );
        let perms: Vec<&str> =
            you["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        for p in ["members:invite", "members:manage", "billing:manage", "org:read"] {
            assert!(perms.contains(&p), "{p} in {perms:?}");
        }
        // `you` lists organization-scoped permissions only (README "`you`"), so not the role's
        // workspace one; nor the owners' Roster permissions, nor the built-in admin's host ones.
        for p in ["projects:share", "roles:manage", "org:delete", "settings:manage", "billing:read"] {
            assert!(!perms.contains(&p), "{p} not in {perms:?}");
        }
        // A permission change shows in `you` at once.
        let r = app
            .call(
                Some(&owner),
                "PATCH",
                &format!("/orgs/{org}/roles/lead"),
                Some(json!({"permissions": ["reports:read"]})),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let you = app.call(Some(&lee), "GET", &format!("/orgs/{org}"), None).await.body["you"].clone();
        let perms = you["permissions"].as_array().unwrap();
        assert!(perms.contains(&json!("reports:read")) && !perms.contains(&json!("billing:manage")), "{you}");
        // Suspended: every check `suspended`, even for a permission the role holds.
        assert_eq!(check(&app, &ann.sub, &org, "billing:read", None).await["allowed"], true);
        app.suspend(&owner, &org, &ann.sub).await;
        let c = check(&app, &ann.sub, &org, "billing:read", None).await;
        assert_eq!((c["allowed"].clone(), c["reason"].clone()), (json!(false), json!("suspended")), "{c}");
        let r = app.call(Some(&ann), "GET", &format!("/orgs/{org}/roles"), None).await;
        problem(&r, 403, "suspended", "a suspended holder reading roles");
        // A suspended holder still holds the role: no deletion.
        let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/roles/editor"), None).await;
        problem(&r, 409, "role_in_use", "held by a suspended member");
        assert!(r.body["detail"].as_str().unwrap().contains("1 member"), "{:?}", r.body);
        let c = check(&app, &ann.sub, &org, "billing:read", None).await;
        assert_eq!(c["reason"], "suspended", "after a refused deletion: {c}");
    });
}

/// Nothing shows a role's `version` or `retiring`: not after changes, not after a refused
/// deletion (which marked and unmarked it), not in the member's or the workspace's reads.
#[test]
fn no_read_leaks_version_or_retiring() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let (owner, ann) = (app.user("owner"), app.user("ann"));
        let org = app.create_org(&owner, "Acme").await;
        let r = create_role(&app, &owner, &org, role("editor", "member", &[])).await;
        let shown = |v: &Value, what: &str| {
            let text = v.to_string();
            assert!(!text.contains("\"version\"") && !text.contains("retiring"), "{what}: {text}");
        };
        shown(&r.body, "create");
        app.add_member(&owner, &org, &ann, "editor").await;
        let path = format!("/orgs/{org}/roles/editor");
        let r = app.call(Some(&owner), "PATCH", &path, Some(json!({"name": "E2"}))).await;
        shown(&r.body, "patch");
        let r = app.call(Some(&owner), "PATCH", &path, Some(json!({"name": "E2"}))).await;
        assert_eq!(r.status, 200, "an unchanged PATCH: {:?}", r.body);
        shown(&r.body, "unchanged patch");
        problem(&app.call(Some(&owner), "DELETE", &path, None).await, 409, "role_in_use", "held");
        for reader in [&owner, &ann] {
            let r = app.call(Some(reader), "GET", &format!("/orgs/{org}/roles"), None).await;
            shown(&r.body, "list");
            let editor =
                r.body["roles"].as_array().unwrap().iter().find(|r| r["key"] == "editor").unwrap().clone();
            let mut fields: Vec<&str> = editor.as_object().unwrap().keys().map(String::as_str).collect();
            fields.sort_unstable();
            assert_eq!(
                fields,
                ["base", "builtin", "createdAt", "description", "key", "name", "permissions", "updatedAt"]
            );
        }
        shown(&app.call(Some(&owner), "GET", &format!("/orgs/{org}/members"), None).await.body, "members");
        shown(&app.call(Some(&ann), "GET", &format!("/orgs/{org}"), None).await.body, "org");
        let audit = app.call(Some(&owner), "GET", &format!("/orgs/{org}/audit"), None).await;
        shown(&audit.body, "audit");
        // After the refused deletion, the role is assignable again (the mark is lifted).
        let r = app
            .call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({"role": "editor"})))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    });
}

#[test]
fn transferring_ownership_to_a_custom_role_holder_clears_the_custom_role() {
    on_big_stack(|| async {
        let app = TestApp::spawn().await;
        let (owner, lee) = (app.user("owner"), app.user("lee"));
        let org = app.create_org(&owner, "Acme").await;
        assert_eq!(
            create_role(&app, &owner, &org, role("lead", "admin", &["billing:manage"])).await.status,
            201
        );
        app.add_member(&owner, &org, &lee, "lead").await;
        let r = app
            .call(
                Some(&owner),
                "POST",
                &format!("/orgs/{org}/transfer-ownership"),
                Some(json!({"userId": lee.sub})),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let m = member_of(&app, &lee, &org, &lee.sub).await;
        assert_eq!(m["role"], "owner", "{m}");
        assert!(
            m.get("customRole").is_none() || m["customRole"].is_null(),
            "an owner holding a custom role: {m}"
        );
        let you = app.call(Some(&lee), "GET", &format!("/orgs/{org}"), None).await.body["you"].clone();
        assert!(you.get("customRole").is_none() || you["customRole"].is_null(), "{you}");
        let c = check(&app, &lee.sub, &org, "settings:manage", None).await;
        assert_eq!(c, json!({"allowed": true, "reason": "granted", "role": "owner"}));
        // The old owner is an admin (built-in); the role is no longer held: deletable.
        let old = member_of(&app, &lee, &org, &owner.sub).await;
        assert_eq!(old["role"], "admin", "{old}");
        let r = app.call(Some(&lee), "DELETE", &format!("/orgs/{org}/roles/lead"), None).await;
        assert_eq!(r.status, 204, "{:?}", r.body);
        // Nor by a promotion to owner through PATCH.
        assert_eq!(create_role(&app, &lee, &org, role("peer", "admin", &[])).await.status, 201);
        let r = app
            .call(
                Some(&lee),
                "PATCH",
                &format!("/orgs/{org}/members/{}", owner.sub),
                Some(json!({"role": "peer"})),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let r = app
            .call(
                Some(&lee),
                "PATCH",
                &format!("/orgs/{org}/members/{}", owner.sub),
                Some(json!({"role": "owner"})),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let m = member_of(&app, &lee, &org, &owner.sub).await;
        assert!(m.get("customRole").is_none() || m["customRole"].is_null(), "{m}");
        let r = app.call(Some(&lee), "DELETE", &format!("/orgs/{org}/roles/peer"), None).await;
        assert_eq!(r.status, 204, "{:?}", r.body);
    });
}
