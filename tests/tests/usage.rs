//! Usage per member (API.md "Usage per member"): services holding `roster/usage` report
//! records, each counted once per id for 7 days, on a member's counter per metric and UTC
//! day; admins and owners read the totals by member or by day.

use std::time::Duration;

use roster_tests::harness::TestApp;
use roster_tests::usage::{USAGE, by_key, pairs, record, report, setup, statuses, totals};
use serde_json::{Value, json};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// `at` a while before the app's now.
fn ago(app: &TestApp, by: Duration) -> String {
    app.now().plus_millis(-i64::try_from(by.as_millis()).unwrap()).to_string()
}

#[tokio::test]
async fn each_status_and_exact_totals() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let now = app.now().to_string();
    let got = statuses(
        &app,
        &org,
        json!([
            record("r1", "ann", "credits", json!(12.5), &now),
            record("r2", "olivia", "credits", json!("0.1"), &now),
            record("r3", "olivia", "credits", json!("0.2"), &now),
            record("r4", "sam", "credits", json!(-3), &now),
            record("r5", "nobody", "credits", json!(1), &now),
            record("r6", "ann", "Credits", json!(1), &now),
            record("r1", "ann", "credits", json!(100), &now),
        ]),
    )
    .await;
    assert_eq!(got, ["recorded", "recorded", "recorded", "recorded", "not_member", "invalid", "duplicate"]);
    // Again, the same ids: each counted once.
    let again = statuses(&app, &org, json!([record("r2", "olivia", "credits", json!(5), &now)])).await;
    assert_eq!(again, ["duplicate"]);
    let r = totals(&app, &olivia, &org, "metric=credits").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "12.5"), ("olivia", "0.3"), ("sam", "-3")]));
    assert_eq!(r.body["groupBy"], "member");
    let today = &now[..10];
    let r = totals(&app, &olivia, &org, "metric=credits&groupBy=day").await;
    assert_eq!(by_key(&r, "day"), pairs(&[(today, "9.8")]));
    // Another metric has nothing.
    let r = totals(&app, &olivia, &org, "metric=seats").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[]));
}

#[tokio::test]
async fn values_at_their_limits() {
    let mut app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    // The clock stands still, so that "exactly 7 days ago" is exactly that when decided.
    let frozen = app.now();
    app.app.clock = roster::domain::Clock::from_fn(move || frozen);
    let now = app.now().to_string();
    let m64 = "m".repeat(64);
    let m65 = "m".repeat(65);
    let seven_days = ago(&app, 7 * DAY);
    let past_seven = app.now().plus_millis(-(7 * 24 * 3600 * 1000) - 1).to_string();
    let future = app.now().plus_millis(1000).to_string();
    let cases = [
        (record("a", "ann", &m64, json!(1), &now), "recorded"),
        (record("b", "ann", &m65, json!(1), &now), "invalid"),
        (record("c", "ann", "a b", json!(1), &now), "invalid"),
        (record("d", "ann", "a#b", json!(1), &now), "invalid"),
        (record("e", "ann", "", json!(1), &now), "invalid"),
        (record("f", "ann", "digits", json!("123456789012.345678"), &now), "recorded"),
        (record("g", "ann", "digits", json!("123456789012.3456789"), &now), "invalid"),
        (record("h", "ann", "digits", json!(-0.000000000001), &now), "recorded"),
        (record("i", "ann", "digits", json!("1e18"), &now), "invalid"),
        (record("j", "ann", "digits", json!("abc"), &now), "invalid"),
        (record("k", "ann", "digits", json!(null), &now), "invalid"),
        (record("l", "ann", "old", json!(1), &seven_days), "recorded"),
        (record("m", "ann", "old", json!(1), &past_seven), "invalid"),
        (record("n", "ann", "old", json!(1), &future), "invalid"),
        (record("o", "ann", "old", json!(1), "yesterday"), "invalid"),
        (json!({ "id": "p", "userId": "ann", "metric": "old", "at": now }), "invalid"),
        (record("q", "service:dev-service", "old", json!(1), &now), "invalid"),
    ];
    let records: Vec<Value> = cases.iter().map(|(r, _)| r.clone()).collect();
    let expected: Vec<&str> = cases.iter().map(|(_, s)| *s).collect();
    assert_eq!(statuses(&app, &org, json!(records)).await, expected);
    // A number with 18 significant digits is read exactly, not through a float.
    let raw = format!(
        r#"{{"records":[{{"id":"raw","userId":"ann","metric":"exact","quantity":123456789.012345678,"at":"{now}"}}]}}"#
    );
    let headers = [("content-type".to_owned(), "application/json".to_owned())];
    let r =
        app.call_raw_as_service(USAGE, "POST", &format!("/orgs/{org}/usage"), &headers, raw.as_bytes()).await;
    assert_eq!(r.body["results"][0]["status"], "recorded", "{:?}", r.body);
    let exact = totals(&app, &olivia, &org, "metric=exact").await;
    assert_eq!(by_key(&exact, "userId"), pairs(&[("ann", "123456789.012345678")]));
    let digits = totals(&app, &olivia, &org, "metric=digits").await;
    assert_eq!(by_key(&digits, "userId"), pairs(&[("ann", "123456789012.345677999999")]));
    let old = totals(&app, &olivia, &org, "metric=old&groupBy=day").await;
    assert_eq!(by_key(&old, "day"), pairs(&[(&seven_days[..10], "1")]));
}

#[tokio::test]
async fn bad_batches_are_400_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (_, org) = setup(&app).await;
    let before = app.all_items().await.len();
    let now = app.now().to_string();
    let many: Vec<Value> = (0..101).map(|i| record(&format!("r{i}"), "ann", "m", json!(1), &now)).collect();
    let bodies = [
        json!({ "records": [] }),
        json!({ "records": many }),
        json!({ "records": "no" }),
        json!({}),
        json!({ "records": [1] }),
        json!({ "records": [{ "userId": "ann", "metric": "m", "quantity": 1, "at": now }] }),
        json!({ "records": [record("", "ann", "m", json!(1), &now)] }),
        json!({ "records": [record("ok", "ann", "m", json!(1), &now), { "id": 7 }] }),
    ];
    for body in bodies {
        let r = app
            .call_as_service(USAGE.0, USAGE.1, "POST", &format!("/orgs/{org}/usage"), Some(body.clone()))
            .await;
        assert_eq!(r.status, 400, "{body}: {:?}", r.body);
        assert_eq!(r.content_type.as_deref(), Some("application/problem+json"));
    }
    let hundred: Vec<Value> =
        (0..100).map(|i| record(&format!("r{i}"), "ann", "m", json!(1), &now)).collect();
    assert_eq!(app.all_items().await.len(), before, "nothing written");
    assert_eq!(statuses(&app, &org, json!(hundred)).await, vec!["recorded"; 100]);
    let olivia = app.user("olivia");
    let r = totals(&app, &olivia, &org, "metric=m").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "100")]));
    for query in [
        "",
        "metric=M",
        "metric=m&groupBy=week",
        "metric=m&from=2026-13-01",
        "metric=m&from=2026-12-05&to=2026-12-04",
        "metric=m&from=2026-01-01&to=2026-04-03",
    ] {
        let r = totals(&app, &olivia, &org, query).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{query}");
    }
    // 92 days is the most one read covers.
    let r = totals(&app, &olivia, &org, "metric=m&from=2026-01-01&to=2026-04-02").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[tokio::test]
async fn ids_count_once_for_seven_days() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let first =
        statuses(&app, &org, json!([record("id-1", "ann", "m", json!(2), &app.now().to_string())])).await;
    assert_eq!(first, ["recorded"]);
    app.advance(6 * DAY);
    let again =
        statuses(&app, &org, json!([record("id-1", "ann", "m", json!(2), &app.now().to_string())])).await;
    assert_eq!(again, ["duplicate"]);
    app.advance(DAY - Duration::from_secs(2));
    let again =
        statuses(&app, &org, json!([record("id-1", "ann", "m", json!(2), &app.now().to_string())])).await;
    assert_eq!(again, ["duplicate"], "still within 7 days");
    app.advance(Duration::from_secs(3));
    let later =
        statuses(&app, &org, json!([record("id-1", "ann", "m", json!(2), &app.now().to_string())])).await;
    assert_eq!(later, ["recorded"], "7 days on, the id is free again");
    let from = ago(&app, 10 * DAY);
    let r = totals(&app, &olivia, &org, &format!("metric=m&from={}", &from[..10])).await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "4")]));
}

#[tokio::test]
async fn concurrent_duplicates_count_once() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let now = app.now().to_string();
    let batch = json!([
        record("same-1", "ann", "m", json!(1), &now),
        record("same-2", "olivia", "m", json!(10), &now),
        record("other", "ann", "m", json!(100), &now),
    ]);
    let runs = (0..8).map(|_| report(&app, &org, batch.clone()));
    let answers = futures::future::join_all(runs).await;
    let mut recorded = [0; 3];
    for r in answers {
        assert_eq!(r.status, 200, "{:?}", r.body);
        for (i, x) in r.body["results"].as_array().unwrap().iter().enumerate() {
            match x["status"].as_str().unwrap() {
                "recorded" => recorded[i] += 1,
                "duplicate" => {}
                other => panic!("{other}"),
            }
        }
    }
    assert_eq!(recorded, [1, 1, 1], "each id counted once");
    let r = totals(&app, &olivia, &org, "metric=m").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "101"), ("olivia", "10")]));
}

#[tokio::test]
async fn who_may_report_and_read() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let ann = app.user("ann");
    let now = app.now().to_string();
    let body = json!({ "records": [record("x", "ann", "m", json!(1), &now)] });
    // A person, even the owner: 403, nothing counted.
    let r = app.call(Some(&olivia), "POST", &format!("/orgs/{org}/usage"), Some(body.clone())).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    // A service without roster/usage: 403.
    let r = app
        .call_as_service(
            "dev-service",
            "roster/admin roster/authorize",
            "POST",
            &format!("/orgs/{org}/usage"),
            Some(body.clone()),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    // An unlisted client: 403.
    let r = app
        .call_as_service("stranger", "roster/usage", "POST", &format!("/orgs/{org}/usage"), Some(body))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(by_key(&totals(&app, &olivia, &org, "metric=m").await, "userId"), pairs(&[]));
    // No such organization: 404.
    let r = report(
        &app,
        "org_00000000000000000000000000000000",
        json!([record("x", "ann", "m", json!(1), &now)]),
    )
    .await;
    assert_eq!(r.status, 404);
    // Reading: admins and owners, and services with roster/admin; not members, not usage services.
    assert_eq!(totals(&app, &ann, &org, "metric=m").await.status, 403);
    let r = totals(&app, &ann, &org, "metric=BAD").await;
    assert_eq!(r.status, 403, "authorization before input");
    let outsider = app.user("eve");
    assert_eq!(totals(&app, &outsider, &org, "metric=m").await.status, 404);
    let admin = app
        .call_as_service("dev-backend", "roster/admin", "GET", &format!("/orgs/{org}/usage?metric=m"), None)
        .await;
    assert_eq!(admin.status, 200, "{:?}", admin.body);
    let usage_only =
        app.call_as_service(USAGE.0, USAGE.1, "GET", &format!("/orgs/{org}/usage?metric=m"), None).await;
    assert_eq!(usage_only.status, 403);
    let carol = app.user("carol");
    app.add_member(&olivia, &org, &carol, "admin").await;
    assert_eq!(totals(&app, &carol, &org, "metric=m").await.status, 200);
}

#[tokio::test]
async fn other_organizations_and_removed_members() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let bob = app.user("bob");
    let other = app.create_org(&bob, "Other").await;
    let now = app.now().to_string();
    // Bob is no member of Acme; the same id in another organization is its own.
    let got = statuses(&app, &org, json!([record("shared", "bob", "m", json!(1), &now)])).await;
    assert_eq!(got, ["not_member"]);
    let got = statuses(&app, &org, json!([record("shared", "ann", "m", json!(1), &now)])).await;
    assert_eq!(got, ["recorded"], "a refused record claims no id");
    let got = statuses(&app, &other, json!([record("shared", "bob", "m", json!(7), &now)])).await;
    assert_eq!(got, ["recorded"], "ids are per organization");
    assert_eq!(by_key(&totals(&app, &bob, &other, "metric=m").await, "userId"), pairs(&[("bob", "7")]));
    assert_eq!(by_key(&totals(&app, &olivia, &org, "metric=m").await, "userId"), pairs(&[("ann", "1")]));
    // Bob cannot read Acme's.
    assert_eq!(totals(&app, &bob, &org, "metric=m").await.status, 404);
    // Ann removed: her new records are refused; what was counted stays.
    let r = app.call(Some(&olivia), "DELETE", &format!("/orgs/{org}/members/ann"), None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let got = statuses(&app, &org, json!([record("after", "ann", "m", json!(5), &now)])).await;
    assert_eq!(got, ["not_member"]);
    assert_eq!(by_key(&totals(&app, &olivia, &org, "metric=m").await, "userId"), pairs(&[("ann", "1")]));
}

#[tokio::test]
async fn totals_by_member_and_by_day_over_a_range() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    // Records over five days, reported as they happen (the clock moves on).
    for d in 0..5u32 {
        let at = app.now().to_string();
        let got = statuses(
            &app,
            &org,
            json!([
                record(&format!("a{d}"), "ann", "m", json!(f64::from(d) + 0.5), &at),
                record(&format!("o{d}"), "olivia", "m", json!(-1), &at),
            ]),
        )
        .await;
        assert_eq!(got, ["recorded", "recorded"]);
        app.advance(DAY);
    }
    let today = app.now().to_string()[..10].to_owned();
    let day = |back: u32| ago(&app, DAY * back)[..10].to_owned();
    // Default: the 30 days to today.
    let r = totals(&app, &olivia, &org, "metric=m").await;
    assert_eq!(r.body["to"], today);
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "12.5"), ("olivia", "-5")]));
    // Days 3, 2 and 1 back: the records of the third, fourth and fifth day.
    let q = format!("metric=m&from={}&to={}", day(3), day(1));
    assert_eq!(
        by_key(&totals(&app, &olivia, &org, &q).await, "userId"),
        pairs(&[("ann", "10.5"), ("olivia", "-3")])
    );
    let q = format!("metric=m&from={}&to={}&groupBy=day", day(3), day(1));
    let (d3, d2, d1) = (day(3), day(2), day(1));
    assert_eq!(
        by_key(&totals(&app, &olivia, &org, &q).await, "day"),
        pairs(&[(&d3, "1.5"), (&d2, "2.5"), (&d1, "3.5")]),
        "ann's less olivia's -1 each day"
    );
    // A single day.
    let q = format!("metric=m&from={d1}&to={d1}&groupBy=member");
    assert_eq!(
        by_key(&totals(&app, &olivia, &org, &q).await, "userId"),
        pairs(&[("ann", "4.5"), ("olivia", "-1")])
    );
}

#[tokio::test]
async fn a_members_batch_beyond_one_transaction_and_seen_ids_among_new_ones() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let now = app.now().to_string();
    // 100 records of one member on 100 metrics: 201 items, so three transactions.
    let many: Vec<Value> =
        (0..100).map(|i| record(&format!("x{i}"), "ann", &format!("m{i}"), json!(i), &now)).collect();
    assert_eq!(statuses(&app, &org, json!(many)).await, vec!["recorded"; 100]);
    for i in [0, 49, 99] {
        let r = totals(&app, &olivia, &org, &format!("metric=m{i}")).await;
        assert_eq!(by_key(&r, "userId"), pairs(&[("ann", &i.to_string())]));
    }
    // Seen ids among new ones of the same member and counter: the new ones still count.
    let mixed = json!([
        record("x1", "ann", "m1", json!(1000), &now),
        record("y1", "ann", "m1", json!(10), &now),
        record("x2", "ann", "m1", json!(1000), &now),
        record("y2", "ann", "m1", json!(20), &now),
    ]);
    assert_eq!(statuses(&app, &org, mixed).await, ["duplicate", "recorded", "duplicate", "recorded"]);
    let r = totals(&app, &olivia, &org, "metric=m1").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "31")]));
}

#[tokio::test]
async fn one_members_totals_read_under_them() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let at = ago(&app, 2 * DAY);
    let now = app.now().to_string();
    let got = statuses(
        &app,
        &org,
        json!([
            record("a", "ann", "m", json!(2), &at),
            record("b", "ann", "m", json!(3), &now),
            record("c", "olivia", "m", json!(100), &now),
            record("d", "ann", "other", json!(7), &now),
        ]),
    )
    .await;
    assert_eq!(got, vec!["recorded"; 4]);
    let r = totals(&app, &olivia, &org, "metric=m&userId=ann&groupBy=day").await;
    assert_eq!(by_key(&r, "day"), pairs(&[(&at[..10], "2"), (&now[..10], "3")]));
    let r = totals(&app, &olivia, &org, "metric=m&userId=ann").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "5")]));
    let from = &now[..10];
    let r = totals(&app, &olivia, &org, &format!("metric=m&userId=ann&from={from}")).await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "3")]));
    // A user id that is a prefix of another's reads only their own (the id's length is in the key).
    let r = totals(&app, &olivia, &org, "metric=m&userId=an").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[]));
    let r = totals(&app, &olivia, &org, "metric=m&userId=a%20b").await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));
}

#[tokio::test]
async fn a_deleted_organizations_usage_is_gone_with_it() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let now = app.now().to_string();
    assert_eq!(statuses(&app, &org, json!([record("r", "ann", "m", json!(1), &now)])).await, ["recorded"]);
    let r = app.call(Some(&olivia), "DELETE", &format!("/orgs/{org}"), None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = report(&app, &org, json!([record("s", "ann", "m", json!(1), &now)])).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    assert_eq!(totals(&app, &olivia, &org, "metric=m").await.status, 404);
    // The purge removes its counters and ids with the rest of its partition.
    app.advance(roster::store::purge::PURGE_GRACE + Duration::from_secs(1));
    roster::handlers::purge::run(&app.app, || true).await.expect("purge");
    let left: Vec<String> = app
        .all_items()
        .await
        .iter()
        .filter_map(|i| i.get("SK").and_then(|v| v.as_s().ok()).cloned())
        .filter(|sk| sk.starts_with("USAGE#"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
