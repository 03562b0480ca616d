//! A hostile review of usage per member (API.md "Usage per member", "Service callers",
//! "Identity"; README "Usage per member" and its decisions): forged and partial claims on
//! the report and the read, readers who are members, viewers, suspended, removed or demoted,
//! another organization's ids and paths, a removed or suspended member's records and a
//! deleted organization, ids replayed in one batch, in concurrent batches under DynamoDB's
//! transaction conflicts (emulated by the harness's proxy), with other content and at the
//! 7-day edge to the millisecond, every limit of a batch, a record and a read, and counters
//! that concurrent reporters add to exactly. Every refusal is problem+json and writes no
//! counter and no id. (`usage.rs` holds the feature's own tests.)
//!
//! Services are the deployment's, not an organization's ("Service callers"): a client
//! holding `roster/usage` reports to any organization, so there is no "another
//! organization's usage token" to try; what binds a record to an organization is its
//! member's membership there.

#![recursion_limit = "256"]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use futures::StreamExt;
use roster::domain::{Clock, Timestamp};
use roster_tests::conflicts::ConflictProxy;
use roster_tests::event::Claims;
use roster_tests::harness::{TestApp, TestResponse, User, call_app_with_claims, problem, service_claims};
use roster_tests::usage::{USAGE, by_key, pairs, record, report, setup, status_list, statuses, totals};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("dev-backend", "roster/admin");
const DAY_MS: i64 = 24 * 3600 * 1000;
const WEEK_MS: i64 = 7 * DAY_MS;
/// An organization id that no organization has.
const NO_ORG: &str = "org_00000000000000000000000000000000";

/// A report of exactly these body bytes, declared JSON (a number's own text, which a `Value`
/// would read as a float).
async fn report_raw(app: &TestApp, org: &str, content_type: &str, body: &[u8]) -> TestResponse {
    let headers = [("content-type".to_owned(), content_type.to_owned())];
    app.call_raw_as_service(USAGE, "POST", &format!("/orgs/{org}/usage"), &headers, body).await
}

/// Every usage item of `org` (counters and ids), each with its attributes: what a refused
/// request must leave exactly as it was.
async fn usage_items(app: &TestApp, org: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    app.partition(org)
        .await
        .into_iter()
        .filter_map(|item| {
            let sk = item.get("SK")?.as_s().ok()?.clone();
            sk.starts_with("USAGE#").then(|| {
                let attrs = item.iter().map(|(k, v)| (k.clone(), format!("{v:?}"))).collect();
                (sk, attrs)
            })
        })
        .collect()
}

/// Adds `user` with `role` through the service route, as a host product provisions members.
async fn add(app: &TestApp, org: &str, user: &str, role: &str) {
    let body = Some(json!({ "userId": user, "role": role }));
    let r = app.call_as_service(ADMIN.0, ADMIN.1, "POST", &format!("/orgs/{org}/members"), body).await;
    assert_eq!(r.status, 201, "add {user}: {:?}", r.body);
}

async fn patch(app: &TestApp, by: &User, org: &str, user: &str, body: Value) {
    let r = app.call(Some(by), "PATCH", &format!("/orgs/{org}/members/{user}"), Some(body)).await;
    assert_eq!(r.status, 200, "{user}: {:?}", r.body);
}

async fn remove(app: &TestApp, by: &User, org: &str, user: &str) {
    let r = app.call(Some(by), "DELETE", &format!("/orgs/{org}/members/{user}"), None).await;
    assert_eq!(r.status, 204, "remove {user}: {:?}", r.body);
}

/// Stops the app's clock at `start`; the returned offset (milliseconds) moves it.
fn hold_clock(app: &mut TestApp, start: Timestamp) -> Arc<AtomicI64> {
    let offset = Arc::new(AtomicI64::new(0));
    let moved = Arc::clone(&offset);
    app.app.clock = Clock::from_fn(move || start.plus_millis(moved.load(Ordering::SeqCst)));
    offset
}

/// The app's now with its milliseconds set to `millis`: an instant inside a second, where a
/// whole-second rounding shows.
fn within_a_second(app: &TestApp, millis: u32) -> Timestamp {
    let now = app.now().to_string();
    Timestamp::parse(&format!("{}.{millis:03}Z", &now[..19])).unwrap()
}

fn conflicts(app: &TestApp) -> u64 {
    ConflictProxy::shared().expect("the harness goes through the proxy").table_stats(app.table()).conflicts()
}

fn claims(kv: &[(&str, &str)]) -> Claims {
    kv.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

// ------------------------------------------------------------------ who may report and read

/// Claims that are not a listed service holding `roster/usage` count nothing: a person's
/// token (even the owner's, even with the scope), a client token that is no service's, and
/// scopes that only look right. Each refusal is problem+json and writes nothing; the same
/// body from the real service is then recorded (the body was never the reason).
#[tokio::test]
async fn forged_or_partial_claims_report_nothing() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let now = app.now().to_string();
    let body = json!({ "records": [record("forged", "ann", "m", json!(1), &now)] });
    let service = |scope: &str| service_claims(USAGE.0, scope);
    let with = |mut c: Claims, k: &str, v: &str| {
        c.insert(k.into(), v.into());
        c
    };
    let mut no_client = service("roster/usage");
    no_client.remove("client_id");
    let forged: Vec<(&str, Claims, u16, &str)> = vec![
        ("the owner's own token", olivia.claims(), 403, "forbidden"),
        (
            "a person's token with the scope",
            claims(&[("sub", "mallory"), ("scope", "roster/usage")]),
            403,
            "forbidden",
        ),
        (
            "a member's access token naming the service's client",
            claims(&[
                ("sub", "ann"),
                ("client_id", "dev-service"),
                ("token_use", "access"),
                ("scope", "roster/usage"),
            ]),
            403,
            "forbidden",
        ),
        ("sub is not client_id", with(service("roster/usage"), "sub", "mallory"), 403, "forbidden"),
        ("client_id missing", no_client, 403, "forbidden"),
        ("an ID token of the client", with(service("roster/usage"), "token_use", "id"), 403, "forbidden"),
        ("an unlisted client", service_claims("svc-9", "roster/usage"), 403, "forbidden"),
        ("roster/usagex", service("roster/usagex"), 403, "forbidden"),
        ("xroster/usage", service("xroster/usage"), 403, "forbidden"),
        ("roster/usage/", service("roster/usage/"), 403, "forbidden"),
        ("ROSTER/USAGE", service("ROSTER/USAGE"), 403, "forbidden"),
        ("tab-joined", service("roster/admin\troster/usage"), 403, "forbidden"),
        ("comma-joined", service("roster/admin,roster/usage"), 403, "forbidden"),
        ("every other scope", service("roster/admin roster/authorize"), 403, "forbidden"),
        ("no scope", service(""), 403, "forbidden"),
        (
            "a service's audit name as a person's sub",
            claims(&[("sub", "service:dev-service"), ("scope", "roster/usage")]),
            401,
            "unauthenticated",
        ),
    ];
    for (what, claims, status, code) in &forged {
        let r = call_app_with_claims(
            &app.app,
            Some(claims),
            "POST",
            &format!("/orgs/{org}/usage"),
            Some(body.clone()),
        )
        .await;
        problem(&r, *status, code, what);
    }
    let r =
        call_app_with_claims(&app.app, None, "POST", &format!("/orgs/{org}/usage"), Some(body.clone())).await;
    problem(&r, 401, "unauthenticated", "no claims");
    assert!(usage_items(&app, &org).await.is_empty(), "a refused report wrote usage");
    let r = report(&app, &org, body["records"].clone()).await;
    assert_eq!(status_list(&r), ["recorded"]);
}

/// The totals are for active admins and owners (and services holding `roster/admin`).
/// Members, viewers, a demoted admin and usage-only services get `403 forbidden`, a suspended
/// admin `403 suspended`, a removed admin and an outsider `404`: each before the query is
/// read, so a bad query answers them the same.
#[tokio::test]
async fn readers_are_active_admins_and_owners_only() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    for (user, role) in
        [("adam", "admin"), ("vic", "viewer"), ("dora", "admin"), ("sue", "admin"), ("rex", "admin")]
    {
        add(&app, &org, user, role).await;
    }
    let now = app.now().to_string();
    assert_eq!(statuses(&app, &org, json!([record("r", "ann", "m", json!(2), &now)])).await, ["recorded"]);
    patch(&app, &olivia, &org, "dora", json!({ "role": "member" })).await;
    app.suspend(&olivia, &org, "sue").await;
    remove(&app, &olivia, &org, "rex").await;
    for by in ["olivia", "adam"] {
        let r = totals(&app, &app.user(by), &org, "metric=m").await;
        assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "2")]), "{by}");
    }
    let path = |q: &str| format!("/orgs/{org}/usage?{q}");
    let r = app.call_as_service(ADMIN.0, ADMIN.1, "GET", &path("metric=m"), None).await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "2")]), "a roster/admin service");

    let refused = [
        ("ann", 403, "forbidden"),
        ("vic", 403, "forbidden"),
        ("dora", 403, "forbidden"),
        ("sue", 403, "suspended"),
        ("sam", 403, "suspended"),
        ("rex", 404, "not_found"),
        ("eve", 404, "not_found"),
    ];
    for query in ["metric=m", "metric=m&userId=ann&groupBy=day", "metric=BAD&from=x&groupBy=week"] {
        for (by, status, code) in refused {
            let r = totals(&app, &app.user(by), &org, query).await;
            problem(&r, status, code, &format!("{by}: {query}"));
        }
        let services: [(&str, Claims, u16, &str); 5] = [
            ("a usage service", service_claims(USAGE.0, USAGE.1), 403, "forbidden"),
            ("an authorize service", service_claims(USAGE.0, "roster/authorize"), 403, "forbidden"),
            (
                "an unlisted client with roster/admin",
                service_claims("svc-9", "roster/admin"),
                403,
                "forbidden",
            ),
            // Not a service: the person `mallory`, who is no member.
            (
                "sub is not client_id",
                {
                    let mut c = service_claims(ADMIN.0, ADMIN.1);
                    c.insert("sub".into(), "mallory".into());
                    c
                },
                404,
                "not_found",
            ),
            (
                "an admin scope on a person's token",
                claims(&[("sub", "ann"), ("scope", "roster/admin")]),
                403,
                "forbidden",
            ),
        ];
        for (what, claims, status, code) in &services {
            let r = call_app_with_claims(&app.app, Some(claims), "GET", &path(query), None).await;
            problem(&r, *status, code, &format!("{what}: {query}"));
        }
    }
}

// ------------------------------------------------------ another organization's ids and paths

/// Records naming another organization's members are `not_member` and write nothing in
/// either organization; ids are per organization; an owner of B reading A's usage gets
/// exactly the answer for an organization that does not exist (and for a deleted one); A's
/// totals for B's member are empty.
#[tokio::test]
async fn another_organizations_ids_and_paths_answer_as_no_ones() {
    let app = TestApp::spawn().await;
    let (olivia, a) = setup(&app).await;
    let bob = app.user("bob");
    let b = app.create_org(&bob, "Other").await;
    add(&app, &b, "bea", "member").await;
    let now = app.now().to_string();

    let got = statuses(
        &app,
        &a,
        json!([record("b1", "bob", "m", json!(1), &now), record("b2", "bea", "m", json!(1), &now)]),
    )
    .await;
    assert_eq!(got, ["not_member", "not_member"]);
    let got = statuses(&app, &b, json!([record("a1", "ann", "m", json!(1), &now)])).await;
    assert_eq!(got, ["not_member"]);
    assert!(usage_items(&app, &a).await.is_empty(), "B's members wrote in A");
    assert!(usage_items(&app, &b).await.is_empty(), "A's member wrote in B");

    // One id in both organizations: each its own.
    assert_eq!(statuses(&app, &a, json!([record("evt-1", "ann", "m", json!(1), &now)])).await, ["recorded"]);
    assert_eq!(statuses(&app, &b, json!([record("evt-1", "bea", "m", json!(2), &now)])).await, ["recorded"]);
    assert_eq!(statuses(&app, &a, json!([record("evt-1", "ann", "m", json!(1), &now)])).await, ["duplicate"]);
    assert_eq!(statuses(&app, &b, json!([record("evt-1", "bea", "m", json!(2), &now)])).await, ["duplicate"]);
    assert_eq!(by_key(&totals(&app, &olivia, &a, "metric=m").await, "userId"), pairs(&[("ann", "1")]));
    assert_eq!(by_key(&totals(&app, &bob, &b, "metric=m").await, "userId"), pairs(&[("bea", "2")]));

    // A's totals for B's member: nothing, however asked.
    for query in ["metric=m&userId=bea", "metric=m&userId=bea&groupBy=day", "metric=m&userId=bob"] {
        assert_eq!(by_key(&totals(&app, &olivia, &a, query).await, "userId"), pairs(&[]), "{query}");
    }

    // Bob reads A: the answer for no organization, and for a deleted one.
    let carl = app.user("carl");
    let c = app.create_org(&carl, "Gone").await;
    add(&app, &c, "cid", "member").await;
    assert_eq!(statuses(&app, &c, json!([record("c1", "cid", "m", json!(1), &now)])).await, ["recorded"]);
    let r = app.call(Some(&carl), "DELETE", &format!("/orgs/{c}"), None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    for query in ["metric=m", "metric=BAD", "metric=m&userId=ann"] {
        let nothing = totals(&app, &bob, NO_ORG, query).await;
        problem(&nothing, 404, "not_found", query);
        assert_eq!(totals(&app, &bob, &a, query).await.body, nothing.body, "B's owner reading A: {query}");
        assert_eq!(
            totals(&app, &carl, &c, query).await.body,
            nothing.body,
            "a deleted organization: {query}"
        );
        let r = app.call_as_service(ADMIN.0, ADMIN.1, "GET", &format!("/orgs/{c}/usage?{query}"), None).await;
        assert_eq!(r.body, nothing.body, "a roster/admin service on a deleted organization: {query}");
    }
    // Reports to no organization and to a deleted one: the same 404, nothing written.
    let gone_before = usage_items(&app, &c).await;
    let batch = json!([record("c2", "cid", "m", json!(1), &now), record("c3", "cid", "M", json!(1), &now)]);
    let nothing = report(&app, NO_ORG, batch.clone()).await;
    problem(&nothing, 404, "not_found", "no organization");
    assert_eq!(report(&app, &c, batch).await.body, nothing.body, "a deleted organization");
    let only_invalid = json!([record("c4", "cid", "M", json!(1), &now)]);
    assert_eq!(report(&app, &c, only_invalid).await.body, nothing.body, "only invalid records");
    assert_eq!(usage_items(&app, &c).await, gone_before, "a deleted organization was written to");
    // A path that names no organization id at all.
    for bad in ["org_XYZ", "ORG_00000000000000000000000000000000", "x"] {
        let r = report(&app, bad, json!([record("z", "ann", "m", json!(1), &now)])).await;
        problem(&r, 404, "not_found", bad);
        problem(&totals(&app, &olivia, bad, "metric=m").await, 404, "not_found", bad);
    }
}

// ------------------------------------------------ suspended and removed members, deleted orgs

/// A suspended member's use is counted (README's decision); a removed member's records are
/// `not_member` and what was counted for them stays; a batch retried after the removal
/// counts nothing again; back in the organization, their old ids are still spent.
#[tokio::test]
async fn suspended_members_count_removed_ones_keep_their_past() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let now = app.now().to_string();
    let batch = json!([
        record("s1", "sam", "credits", json!(2), &now),
        record("a1", "ann", "credits", json!(3), &now)
    ]);
    assert_eq!(statuses(&app, &org, batch.clone()).await, ["recorded", "recorded"]);
    remove(&app, &olivia, &org, "ann").await;
    let before = usage_items(&app, &org).await;
    assert_eq!(statuses(&app, &org, batch).await, ["duplicate", "not_member"]);
    let got = statuses(&app, &org, json!([record("a-new", "ann", "credits", json!(5), &now)])).await;
    assert_eq!(got, ["not_member"]);
    assert_eq!(usage_items(&app, &org).await, before, "a removed member's records wrote something");
    let r = totals(&app, &olivia, &org, "metric=credits").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "3"), ("sam", "2")]));
    let r = totals(&app, &olivia, &org, "metric=credits&userId=ann&groupBy=day").await;
    assert_eq!(by_key(&r, "day"), pairs(&[(&now[..10], "3")]));
    // Back again: the old id is spent, a refused one was never claimed, a new one counts.
    add(&app, &org, "ann", "member").await;
    let got = statuses(
        &app,
        &org,
        json!([
            record("a1", "ann", "credits", json!(100), &now),
            record("a-new", "ann", "credits", json!(5), &now),
            record("a2", "ann", "credits", json!(4), &now),
        ]),
    )
    .await;
    assert_eq!(got, ["duplicate", "recorded", "recorded"]);
    let r = totals(&app, &olivia, &org, "metric=credits").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "12"), ("sam", "2")]));
}

// ------------------------------------------------------------------------------ replay

/// One id carried twice in a batch, with the same or other content (member, metric,
/// quantity): the first valid record of a member counts, the rest are `duplicate`. A refused
/// record (invalid, not a member) claims nothing, so the same id may count after it. Ids are
/// compared exactly.
#[tokio::test]
async fn replayed_ids_count_once_whatever_they_carry() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let now = app.now().to_string();
    let got = statuses(
        &app,
        &org,
        json!([
            record("x", "ann", "m", json!(1), &now),
            record("x", "ann", "m", json!(1), &now),
            record("x", "olivia", "m", json!(50), &now),
            record("x", "ann", "other", json!(7), &now),
            record("x", "ann", "m", json!(1), "yesterday"),
            record("y", "ann", "m", json!("abc"), &now),
            record("y", "ann", "m", json!(2), &now),
            record("z", "nobody", "m", json!(1), &now),
            record("z", "ann", "m", json!(4), &now),
            record("z", "ann", "m", json!(4), &now),
        ]),
    )
    .await;
    assert_eq!(
        got,
        [
            "recorded",
            "duplicate",
            "duplicate",
            "duplicate",
            "invalid",
            "invalid",
            "recorded",
            "not_member",
            "recorded",
            "duplicate"
        ]
    );
    // Later, with other content: still spent.
    let got = statuses(
        &app,
        &org,
        json!([
            record("x", "olivia", "m", json!(1000), &now),
            record("X", "ann", "m", json!(8), &now),
            record("x ", "ann", "m", json!(16), &now),
        ]),
    )
    .await;
    assert_eq!(got, ["duplicate", "recorded", "recorded"]);
    let r = totals(&app, &olivia, &org, "metric=m").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "31")]));
    assert_eq!(by_key(&totals(&app, &olivia, &org, "metric=other").await, "userId"), pairs(&[]));
    let ids: Vec<String> = usage_items(&app, &org)
        .await
        .into_keys()
        .filter_map(|sk| sk.strip_prefix("USAGE#ID#").map(str::to_owned))
        .collect();
    assert_eq!(ids, ["X", "x", "x ", "y", "z"]);
}

/// The same ids in many batches at once, under DynamoDB's transaction conflicts: each id
/// counts once, the batches' own ids each count, and the totals are exactly theirs. An id
/// that two members' batches race for counts for one of them only.
#[tokio::test]
async fn the_same_ids_in_concurrent_batches_count_once_under_conflicts() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let (mut ann, mut olivia_total) = (0i64, 0i64);
    let mut rounds = 0;
    while rounds < 5 && (rounds == 0 || conflicts(&app) == 0) {
        rounds += 1;
        let now = app.now().to_string();
        let batches: Vec<Value> = (0..12)
            .map(|i| {
                // The raced id: ann's 1 in even batches, olivia's 1000 in odd ones.
                let (who, q) = if i % 2 == 0 { ("ann", 1) } else { ("olivia", 1000) };
                json!([
                    record(&format!("shared-{rounds}"), "ann", "m", json!(10), &now),
                    record(&format!("either-{rounds}"), who, "m", json!(q), &now),
                    record(&format!("own-{rounds}-{i}"), "ann", "m", json!(100), &now),
                ])
            })
            .collect();
        let answers = futures::future::join_all(batches.iter().map(|b| report(&app, &org, b.clone()))).await;
        let mut recorded = [0; 3];
        for (i, r) in answers.iter().enumerate() {
            let got = status_list(r);
            for (k, status) in got.iter().enumerate() {
                match status.as_str() {
                    "recorded" => recorded[k] += 1,
                    "duplicate" if k < 2 => {}
                    other => panic!("batch {i} record {k}: {other}"),
                }
            }
            if got[1] == "recorded" {
                if i % 2 == 0 {
                    ann += 1;
                } else {
                    olivia_total += 1000;
                }
            }
        }
        assert_eq!(recorded, [1, 1, 12], "round {rounds}: each shared id once, each own id once");
        ann += 10 + 12 * 100;
    }
    assert!(conflicts(&app) > 0, "the race produced no conflict: it proves nothing");
    let mut expected = vec![("ann".to_owned(), ann.to_string())];
    if olivia_total != 0 {
        expected.push(("olivia".to_owned(), olivia_total.to_string()));
    }
    assert_eq!(by_key(&totals(&app, &olivia, &org, "metric=m").await, "userId"), expected);
}

/// An id counts once for 7 days to the millisecond: counted at hh:mm:ss.700, the same id a
/// millisecond before the 7 days are up is still `duplicate`, and exactly 7 days on it counts
/// again. DynamoDB may not delete the id's item before then either (its TTL is not earlier).
/// Beside it, `at` exactly 7 days old is in, a millisecond older or later than now is not.
#[tokio::test]
async fn an_id_counts_once_for_seven_days_to_the_millisecond() {
    let mut app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let start = within_a_second(&app, 700);
    let clock = hold_clock(&mut app, start);
    let once = |app: &TestApp| json!([record("once", "ann", "m", json!(1), &app.now().to_string())]);
    assert_eq!(statuses(&app, &org, once(&app)).await, ["recorded"]);
    let item =
        app.partition(&org).await.into_iter().find(|i| i["SK"].as_s().unwrap() == "USAGE#ID#once").unwrap();
    let ttl: i64 = item["expiresAtEpoch"].as_n().unwrap().parse().unwrap();
    assert!(
        ttl * 1000 >= start.epoch_millis() + WEEK_MS,
        "the id may be deleted before its 7 days: TTL {ttl}"
    );
    for (moved, expected) in [
        (WEEK_MS - 1000, "duplicate"),
        (WEEK_MS - 700, "duplicate"),
        (WEEK_MS - 500, "duplicate"),
        (WEEK_MS - 1, "duplicate"),
        (WEEK_MS, "recorded"),
        (WEEK_MS + 1, "duplicate"),
    ] {
        clock.store(moved, Ordering::SeqCst);
        assert_eq!(statuses(&app, &org, once(&app)).await, [expected], "{moved} ms after it counted");
    }
    let r = totals(&app, &olivia, &org, "metric=m&groupBy=day").await;
    let (first, second) = (start.to_string(), app.now().to_string());
    assert_eq!(by_key(&r, "day"), pairs(&[(&first[..10], "1"), (&second[..10], "1")]));

    // `at` at the window's edges, the clock standing still.
    let now = app.now();
    let at = |ms: i64| now.plus_millis(ms).to_string();
    let got = statuses(
        &app,
        &org,
        json!([
            record("edge-in", "ann", "edge", json!(1), &at(-WEEK_MS)),
            record("edge-out", "ann", "edge", json!(1), &at(-WEEK_MS - 1)),
            record("future", "ann", "edge", json!(1), &at(1)),
            record("now", "ann", "edge", json!(1), &at(0)),
        ]),
    )
    .await;
    assert_eq!(got, ["recorded", "invalid", "invalid", "recorded"]);
}

// -------------------------------------------------------------------------- limits

/// Each value of a record at and past its limit: a wrong value is that record's `invalid`
/// (the batch still answers 200 and the others count), and each recorded quantity is summed
/// exactly as written.
#[tokio::test]
async fn record_values_at_their_limits() {
    let mut app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let long = "u".repeat(128);
    add(&app, &org, &long, "member").await;
    let start = within_a_second(&app, 500);
    hold_clock(&mut app, start);
    let now = start.to_string();
    let ok = |metric: &str| record("_", "ann", metric, json!(1), &now);
    let with = |mut r: Value, field: &str, value: Value| {
        r[field] = value;
        r
    };
    let mut cases: Vec<(Value, &str)> = vec![
        (ok(&"a".repeat(64)), "recorded"),
        (ok(&"a".repeat(65)), "invalid"),
        (ok("._-09az"), "recorded"),
        (ok(""), "invalid"),
        (ok("A"), "invalid"),
        (ok("a b"), "invalid"),
        (ok("a#b"), "invalid"),
        (ok("a/b"), "invalid"),
        (ok("a$"), "invalid"),
        (ok("é"), "invalid"),
        (ok("a\u{0}"), "invalid"),
        (with(ok("x"), "metric", json!(7)), "invalid"),
        (with(ok("x"), "metric", json!(null)), "invalid"),
        (with(ok("x"), "userId", json!(long)), "recorded"),
        (with(ok("x"), "userId", json!(format!("{long}u"))), "invalid"),
        (with(ok("x"), "userId", json!("")), "invalid"),
        (with(ok("x"), "userId", json!("a b")), "invalid"),
        (with(ok("x"), "userId", json!("ann\u{202e}")), "invalid"),
        (with(ok("x"), "userId", json!("service:dev-service")), "invalid"),
        (with(ok("x"), "userId", json!(5)), "invalid"),
        (with(ok("x"), "at", json!(start.plus_millis(-WEEK_MS).to_string())), "recorded"),
        (with(ok("x"), "at", json!(start.plus_millis(-WEEK_MS - 1).to_string())), "invalid"),
        (with(ok("x"), "at", json!(start.plus_millis(1).to_string())), "invalid"),
        (with(ok("x"), "at", json!("2026-02-30T00:00:00Z")), "invalid"),
        (with(ok("x"), "at", json!(&now[..10])), "invalid"),
        (with(ok("x"), "at", json!(&now[..19])), "invalid"),
        (with(ok("x"), "at", json!("9999-12-31T23:59:59Z")), "invalid"),
        (with(ok("x"), "at", json!("")), "invalid"),
        (with(ok("x"), "at", json!(start.epoch_millis())), "invalid"),
        (with(ok("x"), "at", json!(null)), "invalid"),
    ];
    // Quantities, each on a metric of its own so that its total shows how it was read.
    let quantities: Vec<(Value, Option<&str>)> = vec![
        (json!("123456789012345678"), Some("123456789012345678")),
        (json!("-123456789012345678"), Some("-123456789012345678")),
        (json!("1234567890123456789"), None),
        (json!("123456.789012345678"), Some("123456.789012345678")),
        (json!("123456.7890123456789"), None),
        (json!("0.123456789012"), Some("0.123456789012")),
        (json!("0.1234567890123"), None),
        (json!("999999999999999999"), Some("999999999999999999")),
        (json!("1e18"), None),
        (json!("-1e18"), None),
        (json!("9.99999999999999999e17"), Some("999999999999999999")),
        (json!("1e3"), Some("1000")),
        (json!("1E-3"), Some("0.001")),
        (json!("1e+3"), Some("1000")),
        (json!("-2.5e2"), Some("-250")),
        (json!("12e-14"), None),
        (json!("1e-12"), Some("0.000000000001")),
        (json!(-5), Some("-5")),
        (json!("-5"), Some("-5")),
        (json!(0), Some("0")),
        (json!("-0"), Some("0")),
        (json!("-0.0"), Some("0")),
        (json!("0e999"), Some("0")),
        (json!("007"), Some("7")),
        (json!("+1"), None),
        (json!(".5"), None),
        (json!("1."), None),
        (json!("0x10"), None),
        (json!("1_000"), None),
        (json!("Infinity"), None),
        (json!("NaN"), None),
        (json!(" 1"), None),
        (json!("1 "), None),
        (json!(""), None),
        (json!("\u{661}"), None),
        (json!("1e"), None),
        (json!("--1"), None),
        (json!(true), None),
        (json!({}), None),
        (json!([1]), None),
        (json!(null), None),
    ];
    for (i, (q, total)) in quantities.iter().enumerate() {
        let status = if total.is_some() { "recorded" } else { "invalid" };
        cases.push((record("_", "ann", &format!("q{i}"), q.clone(), &now), status));
    }
    let records: Vec<Value> =
        cases.iter().enumerate().map(|(i, (r, _))| with(r.clone(), "id", json!(format!("r{i}")))).collect();
    let expected: Vec<&str> = cases.iter().map(|(_, s)| *s).collect();
    let r = report(&app, &org, json!(records)).await;
    assert_eq!(status_list(&r), expected);
    for (i, (q, total)) in quantities.iter().enumerate() {
        let r = totals(&app, &olivia, &org, &format!("metric=q{i}")).await;
        let want = total.map(|t| vec![("ann".to_owned(), t.to_owned())]).unwrap_or_default();
        assert_eq!(by_key(&r, "userId"), want, "{q}");
    }
    let r = totals(&app, &olivia, &org, "metric=x").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "1"), (&long, "1")]));
}

/// A number is read from its own text, never through a float: one too large for a float
/// (`1e400`, valid JSON) is that record's `invalid`, not the batch's `400`, in any field; 18
/// significant digits in a bare number are kept exactly.
#[tokio::test]
async fn numbers_no_float_holds_are_judged_record_by_record() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let now = app.now().to_string();
    let ten_to_400 = format!("1{}", "0".repeat(400));
    let rec = |id: &str, user: &str, metric: &str, quantity: &str, at: &str| {
        format!(r#"{{"id":"{id}","userId":{user},"metric":{metric},"quantity":{quantity},"at":{at}}}"#)
    };
    let (ann, m, at) = (r#""ann""#, r#""raw""#, format!(r#""{now}""#));
    let records = [
        rec("huge", ann, m, "1e400", &at),
        rec("-huge", ann, m, "-1E+400", &at),
        rec("long", ann, m, &ten_to_400, &at),
        rec("tiny", ann, m, "1e-400", &at),
        rec("exact", ann, m, "123456789012345678", &at),
        rec("point", ann, r#""raw2""#, "0.1", &at),
        rec("exp", ann, r#""raw3""#, "1.5E2", &at),
        rec("user", "1e400", m, "1", &at),
        rec("metric", ann, "1e400", "1", &at),
        rec("at", ann, m, "1", "1e400"),
    ];
    let body = format!(r#"{{"records":[{}],"extra":1e400}}"#, records.join(","));
    let r = report_raw(&app, &org, "application/json", body.as_bytes()).await;
    assert_eq!(
        status_list(&r),
        [
            "invalid", "invalid", "invalid", "invalid", "recorded", "recorded", "recorded", "invalid",
            "invalid", "invalid"
        ]
    );
    for (metric, total) in [("raw", "123456789012345678"), ("raw2", "0.1"), ("raw3", "150")] {
        let r = totals(&app, &olivia, &org, &format!("metric={metric}")).await;
        assert_eq!(by_key(&r, "userId"), pairs(&[("ann", total)]), "{metric}");
    }
}

/// A batch that is not of the contract's shape is `400` (or 413, 415) as problem+json and
/// writes no counter and no id, not even for its good records; 1 and 100 records, and ids of
/// 128 characters, are served.
#[tokio::test]
async fn refused_batches_are_problems_and_write_nothing() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let now = app.now().to_string();
    let good = record("good", "ann", "m", json!(1), &now);
    let many = |n: usize| -> Vec<Value> {
        (0..n).map(|i| record(&format!("r{i}"), "ann", "m", json!(1), &now)).collect()
    };
    let with_id = |id: Value| {
        let mut r = good.clone();
        r["id"] = id;
        r
    };
    let mut no_id = good.clone();
    no_id.as_object_mut().unwrap().remove("id");
    let bodies: Vec<(String, Value)> = vec![
        ("no records".into(), json!({})),
        ("0 records".into(), json!({ "records": [] })),
        ("101 records".into(), json!({ "records": many(101) })),
        ("records null".into(), json!({ "records": null })),
        ("records an object".into(), json!({ "records": { "0": good } })),
        ("records a string".into(), json!({ "records": "good" })),
        ("a record that is a number".into(), json!({ "records": [good, 1] })),
        ("a record that is null".into(), json!({ "records": [good, null] })),
        ("a record that is an array".into(), json!({ "records": [good, [good]] })),
        // Serde would read a struct from an array of its fields in order.
        ("a record as an array of its fields".into(), json!({ "records": [["arr", "ann", "m", 1, now]] })),
        ("no id".into(), json!({ "records": [good, no_id] })),
        ("an empty id".into(), json!({ "records": [good, with_id(json!(""))] })),
        ("an id of 129".into(), json!({ "records": [good, with_id(json!("i".repeat(129)))] })),
        ("an id with a line break".into(), json!({ "records": [good, with_id(json!("a\nb"))] })),
        ("an id with NUL".into(), json!({ "records": [good, with_id(json!("a\u{0}"))] })),
        ("an id with DEL".into(), json!({ "records": [good, with_id(json!("a\u{7f}"))] })),
        ("a numeric id".into(), json!({ "records": [good, with_id(json!(7))] })),
        ("a null id".into(), json!({ "records": [good, with_id(json!(null))] })),
    ];
    for (what, body) in &bodies {
        let r = report_raw(&app, &org, "application/json", body.to_string().as_bytes()).await;
        problem(&r, 400, "invalid_request", what);
    }
    let good_text = good.to_string();
    let raw: Vec<(&str, String, &str, u16, &str)> = vec![
        ("an array body", format!("[{good_text}]"), "application/json", 400, "invalid_request"),
        ("truncated JSON", format!(r#"{{"records":[{good_text}"#), "application/json", 400, "invalid_json"),
        (
            "trailing text",
            format!(r#"{{"records":[{good_text}]}} x"#),
            "application/json",
            400,
            "invalid_json",
        ),
        (
            "a leading zero",
            good_text.replace(r#""quantity":1"#, r#""quantity":01"#),
            "application/json",
            400,
            "invalid_json",
        ),
        (
            "a numeric id past a float",
            good_text.replace(r#""id":"good""#, r#""id":1e400"#),
            "application/json",
            400,
            "invalid_request",
        ),
        ("empty", String::new(), "application/json", 400, "invalid_json"),
        (
            "not declared JSON",
            format!(r#"{{"records":[{good_text}]}}"#),
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        (
            "over 64 KiB",
            format!(r#"{{"records":[{good_text}],"pad":"{}"}}"#, "p".repeat(65 * 1024)),
            "application/json",
            413,
            "payload_too_large",
        ),
    ];
    for (what, body, content_type, status, code) in &raw {
        let r = report_raw(&app, &org, content_type, body.as_bytes()).await;
        problem(&r, *status, code, what);
    }
    assert!(usage_items(&app, &org).await.is_empty(), "a refused batch wrote usage");

    assert_eq!(statuses(&app, &org, json!([good])).await, ["recorded"], "1 record");
    assert_eq!(statuses(&app, &org, json!(many(100))).await, vec!["recorded"; 100], "100 records");
    let longest = "é".repeat(128);
    assert_eq!(
        statuses(&app, &org, json!([record(&longest, "ann", "m", json!(1), &now)])).await,
        ["recorded"],
        "an id of 128 characters"
    );
    let r = totals(&app, &olivia, &org, "metric=m").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "102")]));
}

/// Each parameter of a read at and past its limit: 92 days and not 93, `from` after `to`,
/// bad days, `groupBy` and metrics, user ids of 128 and 129 bytes, and another
/// organization's member (nothing). Every refusal is `400 invalid_request` as problem+json.
#[tokio::test]
async fn totals_queries_at_their_limits() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let bob = app.user("bob");
    let other = app.create_org(&bob, "Other").await;
    let now = app.now().to_string();
    assert_eq!(statuses(&app, &org, json!([record("a", "ann", "m", json!(3), &now)])).await, ["recorded"]);
    assert_eq!(statuses(&app, &other, json!([record("b", "bob", "m", json!(9), &now)])).await, ["recorded"]);
    let today = roster::domain::usage::Day::parse(&now[..10]).unwrap();
    let day = |back: i64| today.plus_days(-back).to_string();
    let served = [
        (format!("metric=m&from={}&to={}", day(91), day(0)), pairs(&[("ann", "3")])),
        (format!("metric=m&from={}", day(91)), pairs(&[("ann", "3")])),
        (format!("metric=m&from={}&to={}", day(0), day(0)), pairs(&[("ann", "3")])),
        (format!("metric=m&to={}", day(-91)), pairs(&[])),
        ("metric=m&userId=bob".to_owned(), pairs(&[])),
        (format!("metric=m&userId={}", "u".repeat(128)), pairs(&[])),
        (format!("metric={}", "a".repeat(64)), pairs(&[])),
        ("metric=m&groupBy=member".to_owned(), pairs(&[("ann", "3")])),
    ];
    for (query, want) in served {
        assert_eq!(by_key(&totals(&app, &olivia, &org, &query).await, "userId"), want, "{query}");
    }
    let refused = [
        format!("metric=m&from={}&to={}", day(92), day(0)),
        format!("metric=m&from={}", day(92)),
        format!("metric=m&from={}&to={}", day(0), day(1)),
        "metric=m&from=2026-02-30".to_owned(),
        "metric=m&to=2026-1-01".to_owned(),
        "metric=m&from=20261205".to_owned(),
        format!("metric=m&from={}T00:00:00Z", day(1)),
        "metric=m&from=".to_owned(),
        "metric=m&to=today".to_owned(),
        "metric=m&groupBy=Member".to_owned(),
        "metric=m&groupBy=".to_owned(),
        "metric=m&groupBy=week".to_owned(),
        "metric=m&groupBy=member,day".to_owned(),
        String::new(),
        "metric=".to_owned(),
        "metric=M".to_owned(),
        format!("metric={}", "a".repeat(65)),
        "metric=a%23b".to_owned(),
        format!("metric=m&userId={}", "u".repeat(129)),
        format!("metric=m&userId={}", "u".repeat(5000)),
        "metric=m&userId=".to_owned(),
        "metric=m&userId=a%20b".to_owned(),
        "metric=m&userId=a%01".to_owned(),
    ];
    for query in refused {
        problem(&totals(&app, &olivia, &org, &query).await, 400, "invalid_request", &query);
    }
}

// ------------------------------------------------------------------------------ exactness

/// Many reporters adding to one member's counter of a metric and day at once, under
/// DynamoDB's transaction conflicts: the total is exactly the sum of what was recorded.
#[tokio::test]
async fn concurrent_reporters_add_to_one_counter_exactly() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let mut cents = 0i64;
    let mut rounds = 0;
    while rounds < 5 && (rounds == 0 || conflicts(&app) == 0) {
        rounds += 1;
        let now = app.now().to_string();
        let answers = futures::future::join_all((0..30).map(|i| {
            let q = if i % 3 == 0 { json!("-0.01") } else { json!("0.1") };
            report(&app, &org, json!([record(&format!("c-{rounds}-{i}"), "ann", "credits", q, &now)]))
        }))
        .await;
        for r in &answers {
            assert_eq!(status_list(r), ["recorded"]);
        }
        // Ten credits of a cent, twenty uses of ten cents.
        cents += -10 + 20 * 10;
    }
    assert!(conflicts(&app) > 0, "the race produced no conflict: it proves nothing");
    let want = format!("{}.{:02}", cents / 100, cents % 100);
    let want = want.trim_end_matches('0').trim_end_matches('.').to_owned();
    let r = totals(&app, &olivia, &org, "metric=credits").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", &want)]));
    let r = totals(&app, &olivia, &org, "metric=credits&userId=ann&groupBy=day").await;
    assert_eq!(r.body["totals"].as_array().unwrap().len(), 1, "{:?}", r.body);
    assert_eq!(r.body["totals"][0]["total"], want.as_str(), "the member's own copy of the counter");
}

/// 0.1 a thousand times and 0.2 a thousand times, in batches of 100 sent five at a time onto
/// one counter: exactly 300, as is every digit of the largest and smallest quantities added
/// together.
#[tokio::test]
async fn decimals_never_lose_a_digit() {
    let app = TestApp::spawn().await;
    let (olivia, org) = setup(&app).await;
    let now = app.now().to_string();
    let batches: Vec<Value> = (0..20)
        .map(|b| {
            let records: Vec<Value> = (0..100)
                .map(|i| {
                    let q = if (b * 100 + i) % 2 == 0 { json!(0.1) } else { json!("0.2") };
                    record(&format!("d-{b}-{i}"), "ann", "credits", q, &now)
                })
                .collect();
            json!(records)
        })
        .collect();
    let answers: Vec<TestResponse> =
        futures::stream::iter(batches.iter().map(|b| report(&app, &org, b.clone())))
            .buffer_unordered(5)
            .collect()
            .await;
    for r in &answers {
        assert_eq!(status_list(r), vec!["recorded"; 100]);
    }
    let r = totals(&app, &olivia, &org, "metric=credits").await;
    assert_eq!(by_key(&r, "userId"), pairs(&[("ann", "300")]));
    let r = totals(&app, &olivia, &org, "metric=credits&groupBy=day").await;
    assert_eq!(by_key(&r, "day"), pairs(&[(&now[..10], "300")]));

    let got = statuses(
        &app,
        &org,
        json!([
            record("e1", "ann", "edge", json!("999999999999999999"), &now),
            record("e2", "olivia", "edge", json!("999999999999999999"), &now),
            record("e3", "ann", "edge", json!("0.000000000001"), &now),
            record("e4", "ann", "edge", json!("999999999999999999"), &now),
            record("e5", "olivia", "edge", json!("-0.000000000001"), &now),
        ]),
    )
    .await;
    assert_eq!(got, vec!["recorded"; 5]);
    let r = totals(&app, &olivia, &org, "metric=edge").await;
    assert_eq!(
        by_key(&r, "userId"),
        pairs(&[("ann", "1999999999999999998.000000000001"), ("olivia", "999999999999999998.999999999999")])
    );
    let r = totals(&app, &olivia, &org, "metric=edge&groupBy=day").await;
    assert_eq!(by_key(&r, "day"), pairs(&[(&now[..10], "2999999999999999997")]));
}
