//! Hot items under DynamoDB's transaction conflicts (emulated by the test harness's proxy, as
//! AWS produces them): the organization item that every membership change updates, and the
//! acting admin's membership that every admin transaction checks.

use futures::future::join_all;
use roster_tests::conflicts::ConflictProxy;
use roster_tests::harness::{TestApp, User, call_app};
use serde_json::{Value, json};

fn conflicts(app: &TestApp) -> u64 {
    ConflictProxy::shared().expect("the harness goes through the proxy").table_stats(app.table()).conflicts()
}

async fn member_count(app: &TestApp, owner: &User, org: &str) -> (u64, usize) {
    let org_body = app.call(Some(owner), "GET", &format!("/orgs/{org}"), None).await;
    let listed = app.call(Some(owner), "GET", &format!("/orgs/{org}/members?limit=100"), None).await;
    let mut count = listed.body["members"].as_array().map_or(0, Vec::len);
    let mut cursor = listed.body["nextCursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let page =
            app.call(Some(owner), "GET", &format!("/orgs/{org}/members?limit=100&cursor={c}"), None).await;
        count += page.body["members"].as_array().map_or(0, Vec::len);
        cursor = page.body["nextCursor"].as_str().map(str::to_owned);
    }
    (org_body.body["org"]["memberCount"].as_u64().unwrap(), count)
}

#[tokio::test]
async fn fifty_concurrent_accepts_of_one_link_all_join() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let link = app
        .call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({ "maxUses": 50 })))
        .await;
    let token = link.body["link"]["token"].as_str().unwrap().to_owned();
    let users: Vec<User> = (0..50).map(|i| app.user(&format!("joiner{i}"))).collect();
    let answers = join_all(
        users
            .iter()
            .map(|u| app.call(Some(u), "POST", "/invitations/accept", Some(json!({ "token": token })))),
    )
    .await;
    for answer in &answers {
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }
    assert!(conflicts(&app) > 0, "the race produced no conflict: it proves nothing");
    assert_eq!(member_count(&app, &owner, &org).await, (51, 51));
    let late = app
        .call(Some(&app.user("late")), "POST", "/invitations/accept", Some(json!({ "token": token })))
        .await;
    assert_eq!(late.code(), "invitation_exhausted");
}

#[tokio::test]
async fn twenty_concurrent_role_changes_in_one_org_all_apply() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let link = app
        .call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({ "role": "member" })))
        .await;
    let token = link.body["link"]["token"].as_str().unwrap().to_owned();
    let users: Vec<User> = (0..20).map(|i| app.user(&format!("m{i}"))).collect();
    for user in &users {
        let joined =
            app.call(Some(user), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
        assert_eq!(joined.status, 200);
    }
    let before = conflicts(&app);
    // Owners and suspensions move the organization's counters: every change contends for it.
    let paths: Vec<String> = users.iter().map(|u| format!("/orgs/{org}/members/{}", u.sub)).collect();
    let answers = join_all(paths.iter().enumerate().map(|(i, path)| {
        let body = match i % 3 {
            0 => json!({ "role": "owner" }),
            1 => json!({ "status": "suspended" }),
            _ => json!({ "role": "admin" }),
        };
        app.call(Some(&owner), "PATCH", path, Some(body))
    }))
    .await;
    for answer in &answers {
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }
    assert!(conflicts(&app) > before, "the race produced no conflict");
    let members = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members?limit=100"), None).await;
    let owners = members.body["members"].as_array().unwrap().iter().filter(|m| m["role"] == "owner").count();
    assert_eq!(owners, 1 + 7);
}

#[tokio::test]
async fn a_hundred_member_bulk_remove_takes_a_few_transactions() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let link = app.call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), None).await;
    let token = link.body["link"]["token"].as_str().unwrap().to_owned();
    let users: Vec<User> = (0..100).map(|i| app.user(&format!("u{i}"))).collect();
    for chunk in users.chunks(10) {
        let joined = join_all(
            chunk
                .iter()
                .map(|u| app.call(Some(u), "POST", "/invitations/accept", Some(json!({ "token": token })))),
        )
        .await;
        assert!(joined.iter().all(|j| j.status == 200));
    }
    // Joiners keep arriving while the bulk removal runs: the organization item is hot.
    let latecomers: Vec<User> = (0..10).map(|i| app.user(&format!("late{i}"))).collect();
    let ids: Vec<Value> = users.iter().map(|u| json!(u.sub)).collect();
    app.calls.take();
    let remove_path = format!("/orgs/{org}/members/remove");
    // The latecomers go through another instance, so that `calls` counts the removal alone.
    let other = app.second_instance().await;
    let joins = latecomers
        .iter()
        .map(|u| call_app(&other, Some(u), "POST", "/invitations/accept", Some(json!({ "token": token }))));
    let (removed, _) = tokio::join!(
        app.call(Some(&owner), "POST", &remove_path, Some(json!({ "userIds": ids }))),
        join_all(joins),
    );
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    let results = removed.body["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["status"] == "removed"), "{results:?}");
    let transactions = app.calls.take().iter().filter(|c| *c == "DynamoDB.TransactWriteItems").count();
    // Five chunks of 24, each retried while a join holds the organization item: a handful of
    // transactions where one per member made a hundred and more.
    println!("bulk removal of 100 under contention: {transactions} transaction attempts");
    assert!((5..=30).contains(&transactions), "{transactions} transaction attempts");
    assert_eq!(member_count(&app, &owner, &org).await, (11, 11));
}

#[tokio::test]
async fn concurrent_batches_by_one_admin_do_not_fail_addresses() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    // Each batch checks the admin's membership in every transaction: the same hot item.
    let path = format!("/orgs/{org}/invitations");
    let batches = (0..4).map(|b| {
        let entries: Vec<Value> =
            (0..30).map(|i| json!({ "email": app.email(&format!("b{b}x{i}")) })).collect();
        app.call(Some(&owner), "POST", &path, Some(json!({ "invitations": entries })))
    });
    for answer in join_all(batches).await {
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let results = answer.body["results"].as_array().unwrap();
        assert!(results.iter().all(|r| r["status"] == "invited"), "{results:?}");
    }
}

#[tokio::test]
async fn concurrent_joins_under_a_seat_limit_take_every_free_seat() {
    let app = TestApp::spawn_with(|c| c.max_members = Some(41)).await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let link = app.call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), None).await;
    let token = link.body["link"]["token"].as_str().unwrap().to_owned();
    let users: Vec<User> = (0..50).map(|i| app.user(&format!("seat{i}"))).collect();
    let answers = join_all(
        users
            .iter()
            .map(|u| app.call(Some(u), "POST", "/invitations/accept", Some(json!({ "token": token })))),
    )
    .await;
    // Joins do not invalidate each other's seat count: all 40 free seats are taken, and only
    // the 10 past the limit are refused, for the seat limit and nothing else.
    let joined = answers.iter().filter(|a| a.status == 200).count();
    let refused = answers.iter().filter(|a| a.status == 409 && a.code() == "seat_limit").count();
    assert_eq!((joined, refused), (40, 10), "{:?}", answers.iter().map(|a| a.code()).collect::<Vec<_>>());
    assert_eq!(member_count(&app, &owner, &org).await, (41, 41));
}
