//! The audit trail's filters (API.md "Search and filters"): `actor`, `target`, `action`
//! (exact, or a prefix ending in `.`), `from` (inclusive) and `to` (exclusive), alone and
//! together, against DynamoDB Local. Every page sequence is held to the unfiltered trail
//! filtered here (the oracle); a filter of a rare actor in a trail of 500 events reads about
//! as many items as it returns (counted from the responses' `ScannedCount`); cursors are
//! bound to their filter; another organization's events never show; bad input is 400 after
//! authorization; the indexes add nothing to the stream and nothing to transactions (a bulk
//! removal of 100 members still goes through), and leave with a purged organization.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use futures::future::join_all;
use roster::App;
use roster::domain::{AuditAction, AuditEvent, OrgId, Timestamp, UserId};
use roster_tests::harness::{TestApp, TestResponse, User, call_app};
use serde_json::{Value, json};

/// Every event of `query`'s pages, `limit` a page, following `nextCursor` to the end.
async fn all_pages(app: &TestApp, user: &User, org: &str, query: &str, limit: usize) -> Vec<Value> {
    let path =
        if query.is_empty() { format!("/orgs/{org}/audit") } else { format!("/orgs/{org}/audit?{query}") };
    app.all_pages(user, &path, "events", limit, 2000).await.0
}

/// A query string's value, percent-encoded.
fn enc(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A filter, as the test's oracle applies it and as a query string says it.
#[derive(Debug, Default, Clone)]
struct Filter {
    actor: Option<String>,
    target: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl Filter {
    fn query(&self) -> String {
        let mut parts = Vec::new();
        for (name, value) in [
            ("actor", &self.actor),
            ("target", &self.target),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = value {
                parts.push(format!("{name}={}", enc(v)));
            }
        }
        parts.join("&")
    }

    fn matches(&self, event: &Value) -> bool {
        let text = |name: &str| event[name].as_str().unwrap_or_default().to_owned();
        let at = Timestamp::parse(&text("at")).expect("an event's time");
        let action_ok = self.action.as_deref().is_none_or(|a| match a.strip_suffix('.') {
            Some(_) => text("action").starts_with(a),
            None => text("action") == a,
        });
        self.actor.as_deref().is_none_or(|a| text("actor") == a)
            && self.target.as_deref().is_none_or(|t| event["target"].as_str() == Some(t))
            && action_ok
            && self.from.as_deref().is_none_or(|f| at >= Timestamp::parse(f).unwrap())
            && self.to.as_deref().is_none_or(|t| at < Timestamp::parse(t).unwrap())
    }
}

fn ids(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
}

/// Holds the pages of `filter` to the trail filtered here, in order, none twice.
async fn check(
    app: &TestApp,
    user: &User,
    org: &str,
    trail: &[Value],
    filter: &Filter,
    limit: usize,
) -> usize {
    let expected: Vec<Value> = trail.iter().filter(|e| filter.matches(e)).cloned().collect();
    let got = all_pages(app, user, org, &filter.query(), limit).await;
    assert_eq!(ids(&got), ids(&expected), "{filter:?} (limit {limit})");
    expected.len()
}

/// An organization with an owner, an admin and a member, and a trail of suspensions, role
/// changes, a link and an invitation, the clock moving a second between changes.
async fn busy_org(app: &TestApp) -> (User, String, Vec<Value>) {
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Filters").await;
    let (ann, bob) = (app.user("ann"), app.user("bob"));
    app.add_member(&owner, &org, &ann, "admin").await;
    app.add_member(&owner, &org, &bob, "member").await;
    let patch = |by: &User, who: &User, body: Value| {
        let path = format!("/orgs/{org}/members/{}", who.sub);
        let by = by.clone();
        async move {
            let r = app.call(Some(&by), "PATCH", &path, Some(body)).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
    };
    for round in 0..3 {
        app.advance(Duration::from_secs(1));
        patch(&owner, &bob, json!({ "status": "suspended" })).await;
        app.advance(Duration::from_secs(1));
        patch(&ann, &bob, json!({ "status": "active" })).await;
        app.advance(Duration::from_secs(1));
        let role = if round % 2 == 0 { "viewer" } else { "member" };
        patch(&ann, &bob, json!({ "role": role })).await;
    }
    app.advance(Duration::from_secs(1));
    let invite = json!({ "invitations": [{ "email": app.email("carol") }] });
    let r = app.call(Some(&ann), "POST", &format!("/orgs/{org}/invitations"), Some(invite)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let trail = all_pages(app, &owner, &org, "", 100).await;
    (owner, org, trail)
}

#[tokio::test]
async fn each_filter_and_their_combinations_page_to_exactly_the_matches() {
    let app = TestApp::spawn().await;
    let (owner, org, trail) = busy_org(&app).await;
    assert!(trail.len() >= 14, "{} events", trail.len());
    let at = |i: usize| trail[i]["at"].as_str().unwrap().to_owned();
    let f = |actor: Option<&str>, target: Option<&str>, action: Option<&str>| Filter {
        actor: actor.map(str::to_owned),
        target: target.map(str::to_owned),
        action: action.map(str::to_owned),
        ..Filter::default()
    };
    let mut filters = vec![
        f(Some("ann"), None, None),
        f(Some("owner"), None, None),
        f(None, Some("bob"), None),
        f(None, None, Some("member.suspended")),
        f(None, None, Some("member.")),
        f(None, None, Some("member")),
        f(None, None, Some("link.created")),
        f(None, None, Some("invitation.")),
        f(Some("ann"), Some("bob"), None),
        f(Some("ann"), None, Some("member.")),
        f(Some("ann"), Some("bob"), Some("member.role_changed")),
        f(None, Some("bob"), Some("member.")),
        f(Some("nobody"), None, None),
        f(None, None, Some("nothing.")),
        f(None, None, Some("nothing.at_all")),
    ];
    // Time ranges: edges at events' own times.
    let n = trail.len();
    for (from, to) in
        [(Some(at(n - 3)), Some(at(3))), (Some(at(5)), None), (None, Some(at(5))), (Some(at(4)), Some(at(4)))]
    {
        for base in [f(None, None, None), f(Some("ann"), None, None), f(None, None, Some("member."))] {
            filters.push(Filter { from: from.clone(), to: to.clone(), ..base });
        }
    }
    for filter in &filters {
        for limit in [1, 2, 5, 100] {
            check(&app, &owner, &org, &trail, filter, limit).await;
        }
    }
    // A few of them, by hand: the oracle is not all there is.
    let suspended = all_pages(&app, &owner, &org, "action=member.suspended", 100).await;
    assert_eq!(suspended.len(), 3);
    assert!(suspended.iter().all(|e| e["action"] == "member.suspended" && e["target"] == "bob"));
    let members = all_pages(&app, &owner, &org, "action=member.", 2).await;
    assert!(members.len() > suspended.len());
    assert!(all_pages(&app, &owner, &org, "action=member", 100).await.is_empty(), "member is exact");
    let times: Vec<&str> = members.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "a prefix's runs merge newest first: {times:?}");
}

#[tokio::test]
async fn time_ranges_take_from_and_leave_out_to() {
    let app = TestApp::spawn().await;
    let (owner, org, trail) = busy_org(&app).await;
    // The trail's events, one second apart between changes: pick one alone at its instant.
    let lone = (1..trail.len() - 1)
        .find(|&i| trail[i - 1]["at"] != trail[i]["at"] && trail[i + 1]["at"] != trail[i]["at"])
        .expect("an event alone at its instant");
    let at = trail[lone]["at"].as_str().unwrap().to_owned();
    let id = trail[lone]["id"].as_str().unwrap();
    let query = |q: String| {
        let (owner, org) = (owner.clone(), org.clone());
        let app = &app;
        async move { all_pages(app, &owner, &org, &q, 100).await }
    };
    let from = query(format!("from={}", enc(&at))).await;
    assert_eq!(from.last().unwrap()["id"], id, "from is inclusive");
    let to = query(format!("to={}", enc(&at))).await;
    assert!(!ids(&to).contains(&id.to_owned()), "to is exclusive");
    assert_eq!(from.len() + to.len(), trail.len(), "from and to split the trail at one instant");
    let one = query(format!(
        "from={}&to={}",
        enc(&at),
        enc(&Timestamp::parse(&at).unwrap().plus_millis(1).to_string())
    ))
    .await;
    assert_eq!(ids(&one), vec![id.to_owned()], "one millisecond holds the one event");
    // A time in another offset and with sub-millisecond digits means the same instant.
    let t = Timestamp::parse(&at).unwrap().as_datetime();
    let east = t.with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap()).to_rfc3339();
    assert_eq!(ids(&query(format!("from={}", enc(&east))).await), ids(&from));
    let a_microsecond_before =
        (t - chrono::Duration::microseconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    assert_eq!(
        ids(&query(format!("from={}", enc(&a_microsecond_before))).await),
        ids(&from),
        "rounded up to the ms"
    );
    // Empty ranges are empty, not errors.
    assert!(query(format!("from={0}&to={0}", enc(&at))).await.is_empty());
    assert!(query("from=2100-01-01T00:00:00Z".to_owned()).await.is_empty());
    assert!(query("to=2000-01-01T00:00:00Z".to_owned()).await.is_empty());
}

/// Items read by the queries an app sends (their `ScannedCount`), counted on the client.
#[derive(Debug, Clone, Default)]
struct ItemsRead(Arc<AtomicUsize>);

impl Intercept for ItemsRead {
    fn name(&self) -> &'static str {
        "ItemsRead"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(output) = context.output_or_error()
            && let Some(query) = output.downcast_ref::<QueryOutput>()
        {
            self.0.fetch_add(usize::try_from(query.scanned_count()).unwrap_or(0), Ordering::SeqCst);
        }
        Ok(())
    }
}

impl ItemsRead {
    fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }
}

/// `app`'s API over a DynamoDB client that counts the items its queries read.
async fn counted(app: &TestApp) -> (App, ItemsRead) {
    let read = ItemsRead::default();
    let client = aws_sdk_dynamodb::Client::from_conf(
        app.dynamo.config().to_builder().interceptor(read.clone()).build(),
    );
    let mut counted = app.with_config(|_| {}).await;
    counted.store = roster::store::Store::new(client, app.table());
    (counted, read)
}

/// 500 events written straight into `org`'s trail, one a second from `start` (and three at
/// one shared instant): 245 by each of `ann` and `bob`, 5 by `rare#x` and 5 by `rare` (a
/// prefix of the other: an actor's partition is its whole id), about bob and others.
async fn seed_trail(app: &TestApp, org: &str, start: Timestamp) -> Vec<AuditEvent> {
    let org_id = OrgId::parse(org).unwrap();
    let actions = [
        AuditAction::MemberRoleChanged,
        AuditAction::MemberUpdated,
        AuditAction::InvitationCreated,
        AuditAction::WorkspaceMemberAdded,
        AuditAction::GroupMemberAdded,
    ];
    let events: Vec<AuditEvent> = (0..500)
        .map(|i| {
            let actor = match i % 100 {
                7 => "rare#x",
                8 => "rare",
                n if n % 2 == 0 => "ann",
                _ => "bob",
            };
            let action = if i % 125 == 3 { AuditAction::MemberSuspended } else { actions[i % actions.len()] };
            let target = match i % 50 {
                0 => None,
                11 => Some("t#rare".to_owned()),
                n if n % 3 == 0 => Some("bob".to_owned()),
                n => Some(format!("user-{}", n % 7)),
            };
            let second = if (250..253).contains(&i) { 250 } else { i as i64 };
            let at = start.plus_millis(second * 1000);
            AuditEvent::new(at, &UserId::parse(actor).unwrap(), action, target, json!({ "i": i }))
        })
        .collect();
    let writes: Vec<WriteRequest> = events
        .iter()
        .map(|e| {
            let put =
                PutRequest::builder().set_item(Some(roster::store::audit_item(&org_id, e))).build().unwrap();
            WriteRequest::builder().put_request(put).build()
        })
        .collect();
    join_all(writes.chunks(25).map(|chunk| async {
        let out = app
            .dynamo
            .batch_write_item()
            .request_items(app.table(), chunk.to_vec())
            .send()
            .await
            .expect("seed the trail");
        assert!(out.unprocessed_items.is_none_or(|u| u.is_empty()), "DynamoDB Local processes every item");
    }))
    .await;
    events
}

#[tokio::test]
async fn filters_of_a_long_trail_page_through_and_read_about_what_they_return() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Long trail").await;
    let start = Timestamp::parse("2026-06-01T00:00:00Z").unwrap();
    seed_trail(&app, &org, start).await;
    let trail = all_pages(&app, &owner, &org, "", 100).await;
    assert_eq!(trail.len(), 501, "500 seeded and the organization's creation");
    let times: Vec<&str> = trail.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let at = |second: i64| start.plus_millis(second * 1000).to_string();
    let f = |pairs: &[(&str, &str)]| {
        let get = |n: &str| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| (*v).to_owned());
        Filter {
            actor: get("actor"),
            target: get("target"),
            action: get("action"),
            from: get("from"),
            to: get("to"),
        }
    };
    let (from, to) = (at(100), at(251));
    let cases = [
        (f(&[("actor", "ann")]), 7),
        (f(&[("actor", "rare#x")]), 2),
        (f(&[("actor", "rare")]), 2),
        (f(&[("target", "bob")]), 9),
        (f(&[("target", "t#rare")]), 1),
        (f(&[("action", "member.suspended")]), 1),
        (f(&[("action", "member.")]), 13),
        (f(&[("action", "workspace.member_added")]), 10),
        (f(&[("actor", "bob"), ("action", "member.")]), 11),
        (f(&[("actor", "ann"), ("target", "bob"), ("action", "invitation.created")]), 3),
        (f(&[("from", &from), ("to", &to)]), 7),
        (f(&[("actor", "ann"), ("from", &from), ("to", &to)]), 7),
        (f(&[("action", "member."), ("from", &from), ("to", &to)]), 7),
        (f(&[("target", "bob"), ("action", "group."), ("from", &from)]), 4),
    ];
    for (filter, limit) in &cases {
        let found = check(&app, &owner, &org, &trail, filter, *limit).await;
        assert!(found > 0, "{filter:?} matches something");
    }
    let (ann, rare) = (
        all_pages(&app, &owner, &org, "actor=ann", 100).await.len(),
        all_pages(&app, &owner, &org, "actor=rare%23x", 100).await.len(),
    );
    assert_eq!((ann, rare), (245, 5));

    // Items read, counted from the responses: a rare actor's page reads its own events (and
    // one more to know it is the last), not the trail.
    let (counted, read) = counted(&app).await;
    let mut report = Vec::new();
    for (query, returned) in [
        ("actor=rare%23x", 5),
        ("actor=rare", 5),
        ("target=t%23rare", 10),
        ("action=member.suspended", 4),
        ("actor=ann&limit=50", 50),
        ("limit=50", 50),
        (&format!("from={}&to={}&limit=100", enc(&at(200)), enc(&at(220))) as &str, 20),
    ] {
        read.take();
        let sep = if query.contains("limit=") { "" } else { "&limit=100" };
        let page =
            call_app(&counted, Some(&owner), "GET", &format!("/orgs/{org}/audit?{query}{sep}"), None).await;
        assert_eq!(page.status, 200, "{query}: {:?}", page.body);
        let got = page.body["events"].as_array().unwrap().len();
        let items = read.take();
        report.push(format!("{query}: {got} returned, {items} items read"));
        assert_eq!(got, returned, "{query}");
        assert!(items <= got + 1, "{query}: {items} items read for {got} returned");
    }
    // A prefix reads one partition per action it names (eight for `member.`), at most a
    // page and one more of each.
    read.take();
    let page =
        call_app(&counted, Some(&owner), "GET", &format!("/orgs/{org}/audit?action=member.&limit=5"), None)
            .await;
    let got = page.body["events"].as_array().unwrap().len();
    let items = read.take();
    report.push(format!("action=member.&limit=5: {got} returned, {items} items read"));
    assert!(got == 5 && items <= 8 * 6, "{got} returned, {items} read");
    // A second filter the partition does not answer is checked on each item read: a rare
    // target among one actor's events reads at most 200 items a page.
    read.take();
    let page = call_app(
        &counted,
        Some(&owner),
        "GET",
        &format!("/orgs/{org}/audit?actor=ann&target=t%23rare"),
        None,
    )
    .await;
    let items = read.take();
    report.push(format!(
        "actor=ann&target=t%23rare: {} returned, {items} items read",
        page.body["events"].as_array().unwrap().len()
    ));
    println!("items read in a trail of 501:\n  {}", report.join("\n  "));
}

#[tokio::test]
async fn a_cursor_works_only_with_its_own_filter() {
    let app = TestApp::spawn().await;
    let (owner, org, _) = busy_org(&app).await;
    let get = |q: String| {
        let (owner, org) = (owner.clone(), org.clone());
        let app = &app;
        async move { app.call(Some(&owner), "GET", &format!("/orgs/{org}/audit?limit=1&{q}"), None).await }
    };
    let first = get("actor=ann".to_owned()).await;
    let cursor = first.body["nextCursor"].as_str().expect("more than one event by ann").to_owned();
    let same = get(format!("actor=ann&cursor={cursor}")).await;
    assert_eq!(same.status, 200, "{:?}", same.body);
    for other in [
        "",
        "actor=bob",
        "actor=ann&action=member.",
        "actor=ann&from=2000-01-01T00:00:00Z",
        "actor=ann&to=2100-01-01T00:00:00Z",
        "target=ann",
        "actor=ann%20",
    ] {
        let r = get(format!("{other}&cursor={cursor}")).await;
        assert_eq!((r.status, r.code()), (400, "invalid_cursor"), "{other}: {:?}", r.body);
    }
    // And the unfiltered list's cursor is not a filtered one's.
    let plain = get(String::new()).await;
    let cursor = plain.body["nextCursor"].as_str().unwrap().to_owned();
    let r = get(format!("action=member.&cursor={cursor}")).await;
    assert_eq!((r.status, r.code()), (400, "invalid_cursor"));
}

#[tokio::test]
async fn bad_filters_are_400_for_admins_and_404_for_strangers() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Strict").await;
    let (viewer, stranger) = (app.user("viewer"), app.user("stranger"));
    app.add_member(&owner, &org, &viewer, "viewer").await;
    let long = "x".repeat(256);
    for (query, says) in [
        ("action=member.*", "action"),
        ("action=Member.", "action"),
        ("action=member..", "action"),
        ("action=.", "action"),
        ("action=", "action"),
        ("from=yesterday", "from"),
        ("to=2026-12-05", "to"),
        ("from=2026-12-05T10:00:01Z&to=2026-12-05T10:00:00Z", "from must not be after to"),
        (&format!("actor={long}") as &str, "actor"),
        ("actor=", "actor"),
        ("target=a%0Ab", "target"),
    ] {
        let path = format!("/orgs/{org}/audit?{query}");
        let r: TestResponse = app.call(Some(&owner), "GET", &path, None).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{query}: {:?}", r.body);
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{query}: {detail}");
        let r = app.call(Some(&stranger), "GET", &path, None).await;
        assert_eq!(r.status, 404, "a non-member learns nothing from a bad query: {query}");
        let r = app.call(Some(&viewer), "GET", &path, None).await;
        assert_eq!(r.status, 403, "a viewer may not read the trail, whatever the query: {query}");
    }
}

#[tokio::test]
async fn another_organizations_events_never_show() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let (a, b) = (app.create_org(&owner, "A").await, app.create_org(&owner, "B").await);
    let bob = app.user("bob");
    for org in [&a, &b] {
        app.add_member(&owner, org, &bob, "member").await;
        app.suspend(&owner, org, &bob.sub).await;
    }
    for query in ["actor=owner", "target=bob", "action=member.suspended", "action=member.", "action=link."] {
        let in_a = all_pages(&app, &owner, &a, query, 2).await;
        let in_b = all_pages(&app, &owner, &b, query, 2).await;
        assert!(!in_a.is_empty() && in_a.len() == in_b.len(), "{query}");
        let (ids_a, ids_b) = (ids(&in_a), ids(&in_b));
        assert!(ids_a.iter().all(|id| !ids_b.contains(id)), "{query}: shared events");
        let trail_a = ids(&all_pages(&app, &owner, &a, "", 100).await);
        assert!(ids_a.iter().all(|id| trail_a.contains(id)), "{query}: only A's own");
    }
}

#[tokio::test]
async fn the_indexes_add_nothing_to_the_stream() {
    let app = TestApp::spawn_with_stream().await;
    let (_, org, trail) = busy_org(&app).await;
    let records = roster_tests::streams::records(&app).await;
    // What the events function would publish: one per audit event, each exactly once.
    let batch = json!({ "Records": records });
    let published: Vec<String> = roster::events::records(&batch)
        .into_iter()
        .map(|r| r.event.expect("an audit event").1.id.to_string())
        .collect();
    let mut expected = ids(&trail);
    expected.reverse();
    assert_eq!(published, expected, "every event once, in order, and nothing else");
    // The stream's audit items are the events themselves (with their index keys), no copy.
    let audit_records: Vec<&Value> =
        records.iter().filter(|r| r["dynamodb"]["NewImage"]["type"]["S"] == "audit").collect();
    assert_eq!(audit_records.len(), trail.len());
    for record in audit_records {
        let image = &record["dynamodb"]["NewImage"];
        assert_eq!(image["PK"]["S"], format!("ORG#{org}"));
        assert!(image["SK"]["S"].as_str().unwrap().starts_with("AUDIT#"));
        assert!(image["GSI1PK"]["S"].as_str().unwrap().starts_with(&format!("AUDA#{org}#")));
        assert!(image["GSI3PK"]["S"].as_str().unwrap().starts_with(&format!("AUDX#{org}#")));
    }
}

#[tokio::test]
async fn a_bulk_removal_of_100_members_still_goes_through_and_is_found_by_action() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Bulk").await;
    let link = app
        .call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({ "role": "member" })))
        .await;
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
    let ids_: Vec<Value> = users.iter().map(|u| json!(u.sub)).collect();
    let removed = app
        .call(Some(&owner), "POST", &format!("/orgs/{org}/members/remove"), Some(json!({ "userIds": ids_ })))
        .await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    let results = removed.body["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["status"] == "removed"), "{results:?}");
    let events = all_pages(&app, &owner, &org, "action=member.removed", 30).await;
    assert_eq!(events.len(), 100);
    let one = all_pages(&app, &owner, &org, "target=u42&action=member.", 10).await;
    assert_eq!(one.iter().map(|e| e["action"].as_str().unwrap()).collect::<Vec<_>>(), ["member.removed"]);
    let by_owner = all_pages(&app, &owner, &org, "actor=owner&action=member.removed", 100).await;
    assert_eq!(by_owner.len(), 100);
}

#[tokio::test]
async fn a_purged_organizations_events_leave_the_indexes() {
    let app = TestApp::spawn().await;
    let (owner, org, trail) = busy_org(&app).await;
    assert!(!trail.is_empty());
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}"), None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    app.advance(roster::store::purge::PURGE_GRACE + Duration::from_secs(1));
    roster::handlers::purge::run(&app.app, || true).await.expect("purge");
    let left: Vec<String> = app
        .all_items()
        .await
        .iter()
        .filter(|i| i.get("type").and_then(|t| t.as_s().ok()).is_some_and(|t| t == "audit"))
        .filter_map(|i| i.get("GSI1PK").and_then(|k| k.as_s().ok()).cloned())
        .filter(|k| k.contains(&org))
        .collect();
    assert!(left.is_empty(), "audit items left: {left:?}");
    for (index, hash, key) in [
        ("GSI1", "GSI1PK", format!("AUDA#{org}#owner")),
        ("GSI2", "GSI2PK", format!("AUDT#{org}#bob")),
        ("GSI3", "GSI3PK", format!("AUDX#{org}#member.suspended")),
    ] {
        let out = app
            .dynamo
            .query()
            .table_name(app.table())
            .index_name(index)
            .key_condition_expression("#h = :h")
            .expression_attribute_names("#h", hash)
            .expression_attribute_values(":h", aws_sdk_dynamodb::types::AttributeValue::S(key.clone()))
            .send()
            .await
            .expect("query the index");
        assert_eq!(out.count(), 0, "{index} still lists {key}");
    }
}
