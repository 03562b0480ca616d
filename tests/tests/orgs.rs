//! Creating organizations and reading them back, against DynamoDB Local.

use roster_tests::harness::{TestApp, User};
use serde_json::json;

#[tokio::test]
async fn create_org_makes_the_caller_owner_and_records_it() {
    let app = TestApp::spawn().await;
    let alice = User::new("alice");

    let created = app.call(Some(&alice), "POST", "/orgs", Some(json!({ "name": "  Acme  " }))).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let org = &created.body["org"];
    assert_eq!(org["name"], "Acme");
    assert_eq!(org["memberCount"], 1);
    assert!(org["id"].as_str().unwrap().starts_with("org_"));
    assert_eq!(created.body["membership"]["role"], "owner");
    assert_eq!(created.body["membership"]["email"], "alice@example.com");
    let id = org["id"].as_str().unwrap();

    let members = app.call(Some(&alice), "GET", &format!("/orgs/{id}/members"), None).await;
    assert_eq!(members.status, 200);
    let list = members.body["members"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["userId"], "alice");
    assert_eq!(list[0]["status"], "active");
    assert_eq!(members.body["nextCursor"], serde_json::Value::Null);

    let audit = app.call(Some(&alice), "GET", &format!("/orgs/{id}/audit"), None).await;
    assert_eq!(audit.status, 200);
    assert_eq!(audit.body["events"][0]["action"], "org.created");
    assert_eq!(audit.body["events"][0]["actor"], "alice");

    let one = app.call(Some(&alice), "GET", &format!("/orgs/{id}"), None).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["org"]["name"], "Acme");

    let me = app.call(Some(&alice), "GET", &format!("/orgs/{id}/members/alice"), None).await;
    assert_eq!((me.status, me.body["member"]["role"].as_str()), (200, Some("owner")));
}

#[tokio::test]
async fn outsiders_learn_nothing() {
    let app = TestApp::spawn().await;
    let id = app.create_org(&User::new("alice"), "Acme").await;
    let bob = User::new("bob");
    for path in [
        format!("/orgs/{id}"),
        format!("/orgs/{id}/members"),
        format!("/orgs/{id}/members/alice"),
        format!("/orgs/{id}/audit"),
        "/orgs/org_0123456789abcdef0123456789abcdef".to_owned(),
        "/orgs/not-an-id/members".to_owned(),
    ] {
        let response = app.call(Some(&bob), "GET", &path, None).await;
        assert_eq!((response.status, response.code()), (404, "not_found"), "{path}");
    }
}

#[tokio::test]
async fn my_orgs_lists_memberships_with_paging() {
    let app = TestApp::spawn().await;
    let alice = User::new("alice");
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.create_org(&alice, &format!("Org {i}")).await);
    }
    app.create_org(&User::new("bob"), "Not Alice's").await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/orgs?limit=2&cursor={c}"),
            None => "/orgs?limit=2".to_owned(),
        };
        let page = app.call(Some(&alice), "GET", &path, None).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        pages += 1;
        for entry in page.body["orgs"].as_array().unwrap() {
            assert_eq!(entry["membership"]["role"], "owner");
            seen.push(entry["org"]["id"].as_str().unwrap().to_owned());
        }
        match page.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3, "5 orgs in pages of 2");
    assert_eq!(seen, ids, "oldest first, each once, only Alice's");
}

#[tokio::test]
async fn members_paging_and_cursor_binding() {
    let app = TestApp::spawn().await;
    let alice = User::new("alice");
    let id = app.create_org(&alice, "Acme").await;
    let other = app.create_org(&alice, "Other").await;

    // A cursor from one list is refused by another list, and an edited one by its own.
    let audit = app.call(Some(&alice), "GET", &format!("/orgs/{id}/audit?limit=1"), None).await;
    assert_eq!(audit.body["nextCursor"], serde_json::Value::Null, "one event, one page");
    let orgs = app.call(Some(&alice), "GET", "/orgs?limit=1", None).await;
    let cursor = orgs.body["nextCursor"].as_str().expect("two orgs, limit 1").to_owned();
    for path in [
        format!("/orgs/{id}/members?cursor={cursor}"),
        format!("/orgs/{other}/audit?cursor={cursor}"),
        format!("/orgs?cursor={}x", cursor),
        "/orgs?cursor=bm90LWEtY3Vyc29y".to_owned(),
    ] {
        let response = app.call(Some(&alice), "GET", &path, None).await;
        assert_eq!((response.status, response.code()), (400, "invalid_cursor"), "{path}");
    }
    for bad in ["limit=0", "limit=101", "limit=abc"] {
        let response = app.call(Some(&alice), "GET", &format!("/orgs/{id}/members?{bad}"), None).await;
        assert_eq!((response.status, response.code()), (400, "invalid_request"), "{bad}");
    }
    let bad_role = app.call(Some(&alice), "GET", &format!("/orgs/{id}/members?role=root"), None).await;
    assert_eq!((bad_role.status, bad_role.code()), (400, "invalid_role"));
    let filtered = app.call(Some(&alice), "GET", &format!("/orgs/{id}/members?role=viewer"), None).await;
    assert_eq!(filtered.body["members"].as_array().unwrap().len(), 0);
}

/// Organization settings and metadata: a rename with metadata is audited with what changed,
/// shows everywhere the organization is shown (an invitation's preview included), and bad
/// settings change nothing.
#[tokio::test]
async fn settings_and_metadata_round_trip() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let path = format!("/orgs/{org}");

    let nested = json!({ "": null, "plan": { "tier": 2, "projects": ["apollo", "gemini"] }, "ü": 1.5 });
    let renamed = app
        .call(Some(&owner), "PATCH", &path, Some(json!({ "name": " Acme Inc. ", "metadata": nested })))
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(
        (&renamed.body["org"]["name"], &renamed.body["org"]["metadata"]),
        (&json!("Acme Inc."), &nested)
    );
    let read = app.call(Some(&owner), "GET", &path, None).await;
    assert_eq!(read.body["org"]["metadata"], nested);
    let mine = app.call(Some(&owner), "GET", "/orgs", None).await;
    assert_eq!(mine.body["orgs"][0]["org"]["name"], "Acme Inc.");
    assert_eq!(mine.body["orgs"][0]["membership"]["metadata"], json!({}));

    let audit = app.call(Some(&owner), "GET", &format!("{path}/audit"), None).await;
    let event = &audit.body["events"][0];
    assert_eq!(event["action"], "org.updated");
    assert_eq!(event["details"]["before"], json!({ "name": "Acme", "metadata": {} }));
    assert_eq!(event["details"]["after"], json!({ "name": "Acme Inc.", "metadata": nested }));

    // Numbers read back exactly as written, so a later change's condition on the stored
    // metadata still holds (1.0 once read back as 1 made every later PATCH a 409).
    let numbers = json!({ "price": 1.0, "big": 1e16, "small": -0.5 });
    let priced = app.call(Some(&owner), "PATCH", &path, Some(json!({ "metadata": numbers }))).await;
    assert_eq!(priced.status, 200, "{:?}", priced.body);
    let renamed_again = app.call(Some(&owner), "PATCH", &path, Some(json!({ "name": "Acme Two" }))).await;
    assert_eq!(renamed_again.status, 200, "{:?}", renamed_again.body);
    let read = app.call(Some(&owner), "GET", &path, None).await;
    assert_eq!(read.body["org"]["metadata"], priced.body["org"]["metadata"]);
    let back = json!({ "name": "Acme Inc.", "metadata": nested });
    assert_eq!(app.call(Some(&owner), "PATCH", &path, Some(back)).await.status, 200);

    // Nothing to change: no write, no event.
    let events = |r: &roster_tests::harness::TestResponse| r.body["events"].as_array().unwrap().len();
    let audit_before = app.call(Some(&owner), "GET", &format!("{path}/audit"), None).await;
    let same = app.call(Some(&owner), "PATCH", &path, Some(json!({ "name": "Acme Inc." }))).await;
    assert_eq!(same.status, 200);
    let audit_after = app.call(Some(&owner), "GET", &format!("{path}/audit"), None).await;
    assert_eq!(events(&audit_after), events(&audit_before));

    // Bad settings: 400, and nothing changes.
    let too_many: serde_json::Map<String, serde_json::Value> =
        (0..33).map(|i| (format!("k{i}"), json!(i))).collect();
    for bad in [
        json!({ "metadata": too_many }),
        json!({ "metadata": { "k": "x".repeat(4100) } }),
        json!({ "metadata": ["not", "an", "object"] }),
        json!({ "name": "two\nlines" }),
        json!({ "name": 7 }),
        json!({ "colour": "red" }),
    ] {
        let refused = app.call(Some(&owner), "PATCH", &path, Some(bad.clone())).await;
        assert_eq!((refused.status, refused.code()), (400, "invalid_request"), "{bad}");
    }
    let unchanged = app.call(Some(&owner), "GET", &path, None).await;
    assert_eq!(
        (&unchanged.body["org"]["name"], &unchanged.body["org"]["metadata"]),
        (&json!("Acme Inc."), &nested)
    );

    // An invitation's metadata becomes the membership's; its preview shows the current name.
    let bob = app.user("bob");
    let assigned = json!({ "projects": ["apollo"] });
    let invited = app
        .call(
            Some(&owner),
            "POST",
            &format!("{path}/invitations"),
            Some(json!({ "invitations": [{ "email": bob.email, "metadata": assigned }] })),
        )
        .await;
    assert_eq!(invited.body["results"][0]["invitation"]["metadata"], assigned);
    let token = app.token_mailed_to(bob.email.as_deref().unwrap()).await;
    app.call(Some(&owner), "PATCH", &path, Some(json!({ "name": "Acme Group" }))).await;
    let preview = app.call(None, "POST", "/invitations/preview", Some(json!({ "token": token }))).await;
    assert_eq!(preview.body["org"]["name"], "Acme Group");
    let joined = app.call(Some(&bob), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
    assert_eq!(joined.body["membership"]["metadata"], assigned);
    let member = app.call(Some(&owner), "GET", &format!("{path}/members/bob"), None).await;
    assert_eq!(member.body["member"]["metadata"], assigned);

    // A member's metadata by rank: the owner replaces it; the change is audited.
    let replaced = json!({ "projects": [] });
    let changed = app
        .call(Some(&owner), "PATCH", &format!("{path}/members/bob"), Some(json!({ "metadata": replaced })))
        .await;
    assert_eq!(changed.body["member"]["metadata"], replaced);
    let audit = app.call(Some(&owner), "GET", &format!("{path}/audit"), None).await;
    assert_eq!(audit.body["events"][0]["action"], "member.updated");
    assert_eq!(audit.body["events"][0]["details"]["before"]["metadata"], assigned);
    // Bob may not set his own.
    let own =
        app.call(Some(&bob), "PATCH", &format!("{path}/members/bob"), Some(json!({ "metadata": {} }))).await;
    assert_eq!((own.status, own.code()), (403, "forbidden"));
}
