//! Member management: the authorization matrix, races, suspension, transfer and the
//! last-owner guard, against DynamoDB Local.

use std::collections::HashMap;

use roster_tests::harness::{TestApp, TestResponse, User};
use serde_json::{Value, json};

/// An organization with an owner `own`, and as targets another owner `own2`, an admin
/// `adm2`, a member `mem2` and a viewer `vie2`; as callers also `adm`, `mem`, `vie` and a
/// suspended member `sus`; plus a pending invitation and an invite link.
struct Fixture {
    org: String,
    users: HashMap<&'static str, User>,
    invitation: String,
    link: String,
    link_token: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let owner = app.user("own");
    let org = app.create_org(&owner, "Matrix").await;
    let mut users = HashMap::from([("own", owner.clone())]);
    for (name, role) in [
        ("own2", "owner"),
        ("adm", "admin"),
        ("adm2", "admin"),
        ("mem", "member"),
        ("mem2", "member"),
        ("vie", "viewer"),
        ("vie2", "viewer"),
        ("sus", "member"),
    ] {
        let user = app.user(name);
        app.add_member(&owner, &org, &user, role).await;
        users.insert(name, user);
    }
    app.suspend(&owner, &org, "sus").await;
    users.insert("out", app.user("out"));
    let invited = app
        .call(
            Some(&owner),
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": app.email("new") }] })),
        )
        .await;
    let invitation = invited.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
    let link = app.call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), None).await;
    Fixture {
        org,
        users,
        invitation,
        link: link.body["link"]["id"].as_str().unwrap().to_owned(),
        link_token: link.body["link"]["token"].as_str().unwrap().to_owned(),
    }
}

const CALLERS: [&str; 7] = ["own", "adm", "mem", "vie", "sus", "out", "anon"];

/// The expected outcome of every route for every kind of caller, in the order of
/// `CALLERS`: owner, admin, member, viewer, suspended member, non-member, no identity.
/// `200:removed` means status 200 with that per-item result; `{self}` is the caller.
const MATRIX: &[(&str, &str, &str, [&str; 7])] = &[
    // method, path, body,                             own    adm    mem    vie    sus    out    anon
    ("POST", "/orgs", r#"{"name":"New"}"#, ["201", "201", "201", "201", "201", "201", "401"]),
    ("GET", "/orgs", "", ["200", "200", "200", "200", "200", "200", "401"]),
    ("GET", "/orgs/{org}", "", ["200", "200", "200", "200", "403", "404", "401"]),
    ("GET", "/orgs/{org}/members", "", ["200", "200", "200", "200", "403", "404", "401"]),
    ("GET", "/orgs/{org}/members/mem2", "", ["200", "200", "200", "200", "403", "404", "401"]),
    ("GET", "/orgs/{org}/invitations", "", ["200", "200", "403", "403", "403", "404", "401"]),
    ("GET", "/orgs/{org}/invite-links", "", ["200", "200", "403", "403", "403", "404", "401"]),
    ("GET", "/orgs/{org}/audit", "", ["200", "200", "403", "403", "403", "404", "401"]),
    (
        "POST",
        "/orgs/{org}/invitations",
        r#"{"invitations":[{"email":"x@example.com"}]}"#,
        ["200:invited", "200:invited", "403", "403", "403", "404", "401"],
    ),
    ("POST", "/orgs/{org}/invitations/{inv}/resend", "", ["200", "200", "403", "403", "403", "404", "401"]),
    (
        "POST",
        "/orgs/{org}/invite-links",
        r#"{"role":"member"}"#,
        ["201", "201", "403", "403", "403", "404", "401"],
    ),
    (
        "POST",
        "/orgs/{org}/invite-links",
        r#"{"role":"admin"}"#,
        ["201", "403", "403", "403", "403", "404", "401"],
    ),
    (
        "POST",
        "/invitations/preview",
        r#"{"token":"{link_token}"}"#,
        ["200", "200", "200", "200", "200", "200", "200"],
    ),
    (
        "PATCH",
        "/orgs/{org}/members/own2",
        r#"{"status":"suspended"}"#,
        ["200", "403", "403", "403", "403", "404", "401"],
    ),
    (
        "PATCH",
        "/orgs/{org}/members/adm2",
        r#"{"status":"suspended"}"#,
        ["200", "403", "403", "403", "403", "404", "401"],
    ),
    (
        "PATCH",
        "/orgs/{org}/members/mem2",
        r#"{"status":"suspended"}"#,
        ["200", "200", "403", "403", "403", "404", "401"],
    ),
    (
        "PATCH",
        "/orgs/{org}/members/vie2",
        r#"{"status":"suspended"}"#,
        ["200", "200", "403", "403", "403", "404", "401"],
    ),
    (
        "PATCH",
        "/orgs/{org}/members/{self}",
        r#"{"status":"suspended"}"#,
        ["403", "403", "403", "403", "403", "404", "401"],
    ),
    (
        "PATCH",
        "/orgs/{org}/members/mem2",
        r#"{"role":"admin"}"#,
        ["200", "403", "403", "403", "403", "404", "401"],
    ),
    (
        "PATCH",
        "/orgs/{org}/members/vie2",
        r#"{"role":"member"}"#,
        ["200", "200", "403", "403", "403", "404", "401"],
    ),
    // An owner may step down; for a viewer, "become a viewer" changes nothing, which is 200.
    (
        "PATCH",
        "/orgs/{org}/members/{self}",
        r#"{"role":"viewer"}"#,
        ["200", "403", "403", "200", "403", "404", "401"],
    ),
    // Metadata by rank, like a role; one's own only as an owner.
    (
        "PATCH",
        "/orgs/{org}/members/mem2",
        r#"{"metadata":{"projects":["apollo"]}}"#,
        ["200", "200", "403", "403", "403", "404", "401"],
    ),
    (
        "PATCH",
        "/orgs/{org}/members/adm2",
        r#"{"metadata":{"projects":["apollo"]}}"#,
        ["200", "403", "403", "403", "403", "404", "401"],
    ),
    (
        "PATCH",
        "/orgs/{org}/members/{self}",
        r#"{"metadata":{"projects":["apollo"]}}"#,
        ["200", "403", "403", "403", "403", "404", "401"],
    ),
    // Organization settings: admins and owners.
    (
        "PATCH",
        "/orgs/{org}",
        r#"{"name":"Renamed","metadata":{"plan":"pro"}}"#,
        ["200", "200", "403", "403", "403", "404", "401"],
    ),
    (
        "POST",
        "/orgs/{org}/transfer-ownership",
        r#"{"userId":"mem2"}"#,
        ["200", "403", "403", "403", "403", "404", "401"],
    ),
    ("DELETE", "/orgs/{org}/members/own2", "", ["204", "403", "403", "403", "403", "404", "401"]),
    ("DELETE", "/orgs/{org}/members/adm2", "", ["204", "403", "403", "403", "403", "404", "401"]),
    ("DELETE", "/orgs/{org}/members/mem2", "", ["204", "204", "403", "403", "403", "404", "401"]),
    ("DELETE", "/orgs/{org}/members/vie2", "", ["204", "204", "403", "403", "403", "404", "401"]),
    ("DELETE", "/orgs/{org}/members/{self}", "", ["204", "204", "204", "204", "403", "404", "401"]),
    (
        "POST",
        "/orgs/{org}/members/remove",
        r#"{"userIds":["own2"]}"#,
        ["200:removed", "200:forbidden", "403", "403", "403", "404", "401"],
    ),
    (
        "POST",
        "/orgs/{org}/members/remove",
        r#"{"userIds":["adm2"]}"#,
        ["200:removed", "200:forbidden", "403", "403", "403", "404", "401"],
    ),
    (
        "POST",
        "/orgs/{org}/members/remove",
        r#"{"userIds":["mem2"]}"#,
        ["200:removed", "200:removed", "403", "403", "403", "404", "401"],
    ),
    (
        "POST",
        "/orgs/{org}/members/remove",
        r#"{"userIds":["vie2"]}"#,
        ["200:removed", "200:removed", "403", "403", "403", "404", "401"],
    ),
    (
        "POST",
        "/orgs/{org}/members/remove",
        r#"{"userIds":["{self}","nobody"]}"#,
        ["200:forbidden", "200:forbidden", "403", "403", "403", "404", "401"],
    ),
    ("DELETE", "/orgs/{org}/invitations/{inv}", "", ["204", "204", "403", "403", "403", "404", "401"]),
    ("DELETE", "/orgs/{org}", "", ["204", "403", "403", "403", "403", "404", "401"]),
    ("DELETE", "/orgs/{org}/invite-links/{link}", "", ["204", "204", "403", "403", "403", "404", "401"]),
];

fn fill(text: &str, f: &Fixture, caller: &str) -> String {
    text.replace("{org}", &f.org)
        .replace("{inv}", &f.invitation)
        .replace("{link_token}", &f.link_token)
        .replace("{link}", &f.link)
        .replace("{self}", caller)
}

fn outcome(response: &TestResponse) -> String {
    match response.body["results"][0]["status"].as_str() {
        Some(item) if response.status == 200 => format!("200:{item}"),
        _ => response.status.to_string(),
    }
}

#[tokio::test]
async fn authorization_matrix() {
    let app = TestApp::spawn().await;
    let cells: Vec<(usize, usize)> =
        (0..MATRIX.len()).flat_map(|r| (0..CALLERS.len()).map(move |c| (r, c))).collect();
    let mut failures = Vec::new();
    for chunk in cells.chunks(16) {
        let results = futures::future::join_all(chunk.iter().map(|&(row, col)| {
            let app = &app;
            async move {
                // Every cell gets its own organization: a cell may change it.
                let f = fixture(app).await;
                let (method, path, body, expected) = MATRIX[row];
                let caller = CALLERS[col];
                let path = fill(path, &f, caller);
                let body = (!body.is_empty())
                    .then(|| serde_json::from_str::<Value>(&fill(body, &f, caller)).unwrap());
                let response = app.call(f.users.get(caller), method, &path, body).await;
                let got = outcome(&response);
                (got != expected[col]).then(|| {
                    format!(
                        "{method} {path} as {caller}: expected {}, got {got} {}",
                        expected[col], response.body
                    )
                })
            }
        }))
        .await;
        failures.extend(results.into_iter().flatten());
    }
    assert!(failures.is_empty(), "{} cells differ:\n{}", failures.len(), failures.join("\n"));
}

/// The organization's stored counters, next to what a full listing finds.
async fn counts(app: &TestApp, owner_view: &User, org: &str) -> (Value, Vec<Value>) {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let item = app
        .dynamo
        .get_item()
        .table_name(app.table())
        .key("PK", S(format!("ORG#{org}")))
        .key("SK", S("ORG".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let number = |k: &str| item[k].as_n().unwrap().parse::<i64>().unwrap();
    let stored = json!({
        "memberCount": number("memberCount"),
        "activeMembers": number("activeMembers"),
        "activeOwners": number("activeOwners"),
    });
    let listed = app.call(Some(owner_view), "GET", &format!("/orgs/{org}/members?limit=100"), None).await;
    (stored, listed.body["members"].as_array().cloned().unwrap_or_default())
}

fn assert_counts_match(stored: &Value, members: &[Value]) {
    let active = members.iter().filter(|m| m["status"] == "active").count() as i64;
    let owners = members.iter().filter(|m| m["status"] == "active" && m["role"] == "owner").count() as i64;
    assert_eq!(stored["memberCount"], members.len() as i64, "{stored} vs {members:?}");
    assert_eq!(stored["activeMembers"], active, "{stored}");
    assert_eq!(stored["activeOwners"], owners, "{stored}");
    assert!(owners >= 1, "an active owner remains: {members:?}");
}

#[tokio::test]
async fn two_owners_demoting_each_other_at_once_leave_one_owner() {
    let app = TestApp::spawn().await;
    for round in 0..5 {
        let (a, b) = (app.user(&format!("a{round}")), app.user(&format!("b{round}")));
        let org = app.create_org(&a, "Duel").await;
        app.add_member(&a, &org, &b, "owner").await;
        let (path_a, path_b) =
            (format!("/orgs/{org}/members/{}", a.sub), format!("/orgs/{org}/members/{}", b.sub));
        let demote = json!({ "role": "admin" });
        let (x, y) = tokio::join!(
            app.call(Some(&a), "PATCH", &path_b, Some(demote.clone())),
            app.call(Some(&b), "PATCH", &path_a, Some(demote.clone()))
        );
        let successes = [&x, &y].iter().filter(|r| r.status == 200).count();
        assert_eq!(successes, 1, "round {round}: {:?} / {:?}", x.body, y.body);
        let (stored, members) = counts(&app, if x.status == 200 { &a } else { &b }, &org).await;
        assert_counts_match(&stored, &members);
    }
}

#[tokio::test]
async fn twenty_concurrent_owner_removals_and_suspensions_keep_an_owner() {
    let app = TestApp::spawn().await;
    let owners: Vec<User> = (0..3).map(|i| app.user(&format!("o{i}"))).collect();
    let org = app.create_org(&owners[0], "Crowd").await;
    for o in &owners[1..] {
        app.add_member(&owners[0], &org, o, "owner").await;
    }
    let requests = (0..20).map(|i| {
        let (by, target) = (&owners[i % 3], &owners[(i + 1 + i / 3) % 3]);
        let path = format!("/orgs/{org}/members/{}", target.sub);
        let app = &app;
        async move {
            if i % 2 == 0 {
                app.call(Some(by), "DELETE", &path, None).await
            } else {
                app.call(Some(by), "PATCH", &path, Some(json!({ "status": "suspended" }))).await
            }
        }
    });
    let responses = futures::future::join_all(requests).await;
    for r in &responses {
        assert!(
            [200, 204, 403, 404, 409].contains(&r.status) && r.status != 500,
            "unexpected {}: {:?}",
            r.status,
            r.body
        );
    }
    assert!(responses.iter().any(|r| r.code() == "last_owner"), "the guard was exercised");
    let survivor = {
        let mut found = None;
        for o in &owners {
            if app.call(Some(o), "GET", &format!("/orgs/{org}"), None).await.status == 200 {
                found = Some(o.clone());
            }
        }
        found.expect("some owner still has access")
    };
    let (stored, members) = counts(&app, &survivor, &org).await;
    assert_counts_match(&stored, &members);
}

#[tokio::test]
async fn a_concurrent_remove_and_role_change_never_resurrect_a_member() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("a"), app.user("b"));
    for round in 0..8 {
        let org = app.create_org(&a, "Race").await;
        app.add_member(&a, &org, &b, "owner").await;
        let m = app.user(&format!("m{round}"));
        app.add_member(&a, &org, &m, "member").await;
        let path = format!("/orgs/{org}/members/{}", m.sub);
        let (removed, changed) = tokio::join!(
            app.call(Some(&a), "DELETE", &path, None),
            app.call(Some(&b), "PATCH", &path, Some(json!({ "role": "admin" })))
        );
        assert_eq!(removed.status, 204, "{:?}", removed.body);
        assert!(changed.status == 200 || changed.status == 404, "{:?}", changed.body);
        let after = app.call(Some(&a), "GET", &path, None).await;
        assert_eq!(after.status, 404, "round {round}: the removed member came back: {:?}", after.body);
        let (stored, members) = counts(&app, &a, &org).await;
        assert_counts_match(&stored, &members);
    }
}

#[tokio::test]
async fn suspension_blocks_every_route_and_reactivation_restores_the_role() {
    let app = TestApp::spawn().await;
    let owner = app.user("own");
    let org = app.create_org(&owner, "Acme").await;
    let sam = app.user("sam");
    app.add_member(&owner, &org, &sam, "admin").await;
    let path = format!("/orgs/{org}/members/sam");
    let suspended = app.call(Some(&owner), "PATCH", &path, Some(json!({ "status": "suspended" }))).await;
    assert_eq!(
        (suspended.body["member"]["status"].as_str(), suspended.body["member"]["role"].as_str()),
        (Some("suspended"), Some("admin"))
    );
    for (method, route) in [
        ("GET", format!("/orgs/{org}")),
        ("GET", format!("/orgs/{org}/members")),
        ("GET", format!("/orgs/{org}/audit")),
    ] {
        let r = app.call(Some(&sam), method, &route, None).await;
        assert_eq!((r.status, r.code()), (403, "suspended"), "{route}");
    }
    let again = app.call(Some(&owner), "PATCH", &path, Some(json!({ "status": "suspended" }))).await;
    assert_eq!(again.status, 200, "a no-op is 200");
    let back = app.call(Some(&owner), "PATCH", &path, Some(json!({ "status": "active" }))).await;
    assert_eq!(
        (back.body["member"]["status"].as_str(), back.body["member"]["role"].as_str()),
        (Some("active"), Some("admin"))
    );
    assert_eq!(app.call(Some(&sam), "GET", &format!("/orgs/{org}/audit"), None).await.status, 200);
    let audit = app.call(Some(&owner), "GET", &format!("/orgs/{org}/audit?limit=2"), None).await;
    assert_eq!(audit.audit_actions(), ["member.reactivated", "member.suspended"]);
}

#[tokio::test]
async fn the_last_owner_cannot_leave_demote_or_be_removed() {
    let app = TestApp::spawn().await;
    let owner = app.user("own");
    let org = app.create_org(&owner, "Solo").await;
    let me = format!("/orgs/{org}/members/own");
    let leave = app.call(Some(&owner), "DELETE", &me, None).await;
    assert_eq!((leave.status, leave.code()), (409, "last_owner"));
    let step_down = app.call(Some(&owner), "PATCH", &me, Some(json!({ "role": "admin" }))).await;
    assert_eq!((step_down.status, step_down.code()), (409, "last_owner"));
    let bad_role = app.call(Some(&owner), "PATCH", &me, Some(json!({ "role": "root" }))).await;
    assert_eq!((bad_role.status, bad_role.code()), (400, "invalid_role"));
    let member = app.call(Some(&owner), "GET", &me, None).await;
    assert_eq!(member.body["member"]["role"], "owner", "nothing changed");
}

#[tokio::test]
async fn transfer_ownership_swaps_roles_atomically() {
    let app = TestApp::spawn().await;
    let owner = app.user("own");
    let org = app.create_org(&owner, "Acme").await;
    let (mem, sus) = (app.user("mem"), app.user("sus"));
    app.add_member(&owner, &org, &mem, "member").await;
    app.add_member(&owner, &org, &sus, "member").await;
    app.suspend(&owner, &org, "sus").await;
    let path = format!("/orgs/{org}/transfer-ownership");
    let to_suspended = app.call(Some(&owner), "POST", &path, Some(json!({ "userId": "sus" }))).await;
    assert_eq!(to_suspended.status, 409);
    let done = app.call(Some(&owner), "POST", &path, Some(json!({ "userId": "mem" }))).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(
        (done.body["from"]["role"].as_str(), done.body["to"]["role"].as_str()),
        (Some("admin"), Some("owner"))
    );
    let (stored, members) = counts(&app, &mem, &org).await;
    assert_counts_match(&stored, &members);
    let again = app.call(Some(&owner), "POST", &path, Some(json!({ "userId": "mem" }))).await;
    assert_eq!(again.status, 403, "the former owner is an admin now");
}

/// A member's name and address, as others see them, follow the member's current claims from
/// their next read of the organization on; their old address is freed when they go, and a
/// new address never opens an invitation meant for the old one.
#[tokio::test]
async fn names_and_addresses_follow_the_members_claims() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Names").await;
    let bob = app.user("bob");
    app.add_member(&owner, &org, &bob, "member").await;
    let old_address = bob.email.clone().unwrap();
    let members = format!("/orgs/{org}/members");
    let shown = |r: &TestResponse| {
        let rows = r.body["members"].as_array().unwrap().clone();
        let bob = rows.into_iter().find(|m| m["userId"] == "bob").expect("bob listed");
        (bob["name"].as_str().unwrap_or("").to_owned(), bob["email"].as_str().unwrap_or("").to_owned())
    };

    // Bob's identity provider now says "Robert" with another verified address.
    let mut robert = bob.clone();
    robert.name = Some("Robert".into());
    robert.email = Some(app.email("robert"));
    let before = app.call(Some(&owner), "GET", &members, None).await;
    assert_eq!(
        shown(&before),
        ("User bob".to_owned(), old_address.clone()),
        "not refreshed before Bob calls"
    );
    let own = app.call(Some(&robert), "GET", &format!("/orgs/{org}"), None).await;
    assert_eq!(own.body["membership"]["name"], "Robert");
    assert_eq!(own.body["membership"]["email"], json!(robert.email));
    assert!(own.body["membership"].get("slotAddress").is_none(), "the slot address is never shown");
    let after = app.call(Some(&owner), "GET", &members, None).await;
    assert_eq!(shown(&after), ("Robert".to_owned(), robert.email.clone().unwrap()));
    let audit = app.call(Some(&owner), "GET", &format!("/orgs/{org}/audit"), None).await;
    assert_ne!(audit.body["events"][0]["action"], "member.updated", "a refresh is no one's change");

    // An unverified address changes nothing shown.
    let mut unverified = robert.clone();
    unverified.email = Some(app.email("mallory"));
    unverified.email_verified = Some(false);
    app.call(Some(&unverified), "GET", &members, None).await;
    let still = app.call(Some(&owner), "GET", &members, None).await;
    assert_eq!(shown(&still).1, robert.email.clone().unwrap());

    // The old address still counts as taken while Bob is a member, and an invitation to it
    // is not Bob's to accept with his new address.
    let invite_old = json!({ "invitations": [{ "email": old_address }] });
    let invited =
        app.call(Some(&owner), "POST", &format!("/orgs/{org}/invitations"), Some(invite_old.clone())).await;
    assert_eq!(invited.body["results"][0]["status"], "already_member");
    // Removing Bob frees the address he joined with: it can be invited again.
    let removed = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/members/bob"), None).await;
    assert_eq!(removed.status, 204);
    let again = app.call(Some(&owner), "POST", &format!("/orgs/{org}/invitations"), Some(invite_old)).await;
    assert_eq!(again.body["results"][0]["status"], "invited", "{:?}", again.body);
    let token = app.token_mailed_to(&old_address).await;
    let refused =
        app.call(Some(&robert), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
    assert_eq!((refused.status, refused.code()), (403, "email_mismatch"));
}
