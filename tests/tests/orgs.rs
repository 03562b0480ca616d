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
