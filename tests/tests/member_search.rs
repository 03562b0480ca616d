//! Search, filters and order of `GET /orgs/{orgId}/members` (API.md "Search and filters"):
//! applied on the server before paging, every match exactly once across pages and in order,
//! cursors bound to their query, members by id in one call, and the index items never
//! disagreeing with the memberships, renames and races included.

#![recursion_limit = "256"]

use std::collections::BTreeSet;

use roster_tests::harness::{TestApp, TestResponse, User};
use serde_json::{Value, json};

const SERVICE: (&str, &str) = ("dev-backend", "roster/admin");

/// People with names worth searching: shared first names, two-part names, an accent in
/// composed and decomposed form, full-width letters, a name that is only an address.
const PEOPLE: [(&str, Option<&str>); 14] = [
    ("ann-lee", Some("Ann Lee")),
    ("annabel", Some("Annabel Smith")),
    ("anne", Some("Anne-Marie Stone")),
    ("bob", Some("Bob Stone")),
    ("bobby", Some("Bobby Tables")),
    ("jose", Some("José Álvarez")),
    ("jose2", Some("Jose\u{301} Ortega")),
    ("wide", Some("ＡＮＮＡ Wide")),
    ("carl", Some("Carl Ann")),
    ("dee", Some("Dee")),
    ("noname", None),
    ("x1", Some("Xavier One")),
    ("x2", Some("Xavier Two")),
    ("x3", Some("Xavier Three")),
];

async fn add(app: &TestApp, org: &str, user: &str, name: Option<&str>, role: &str) {
    let mut body = json!({ "userId": user, "role": role });
    if !user.contains(',') {
        body["email"] = json!(app.email(user));
    }
    if let Some(name) = name {
        body["name"] = json!(name);
    }
    let r =
        app.call_as_service(SERVICE.0, SERVICE.1, "POST", &format!("/orgs/{org}/members"), Some(body)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

async fn org_of_people(app: &TestApp) -> (User, String) {
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    for (i, (user, name)) in PEOPLE.iter().enumerate() {
        let role = ["member", "admin", "viewer"][i % 3];
        add(app, &org, user, *name, role).await;
    }
    (owner, org)
}

/// Every page of `path` (which carries its query) at `limit`, in order.
async fn all_pages(app: &TestApp, by: &User, path: &str, limit: usize) -> Vec<Value> {
    app.all_pages(by, path, "members", limit, 200).await.0
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|m| m["userId"].as_str().unwrap().to_owned()).collect()
}

fn search(q: &str) -> String {
    q.replace(' ', "%20")
}

#[tokio::test]
async fn a_search_finds_every_member_whose_words_start_with_every_term_once_in_order() {
    let app = TestApp::spawn().await;
    let (owner, org) = org_of_people(&app).await;
    let path = |q: &str| format!("/orgs/{org}/members?q={}", search(q));
    for (q, want) in [
        // A term starts a word of the name: Ann, Annabel, Anne, ＡＮＮＡ (NFKC), Carl Ann.
        ("ann", vec!["ann-lee", "carl", "annabel", "wide", "anne"]),
        ("ANN lee", vec!["ann-lee"]),
        ("stone", vec!["bob", "anne"]),
        ("marie", vec!["anne"]),
        // Composed and decomposed accents are one word after NFKC.
        ("josé", vec!["jose", "jose2"]),
        ("jose\u{301}", vec!["jose", "jose2"]),
        ("álv", vec!["jose"]),
        // NFKC keeps accents: "a" does not start "álvarez" (the contract folds no further).
        ("alv", vec![]),
        // Words of the address: its local part, and domain words everyone shares.
        ("noname", vec!["noname"]),
        ("bobby tab", vec!["bobby"]),
        ("xav th", vec!["x3"]),
        // A term may start a word of the address's domain (t<id>.example.com here).
        ("xav t", vec!["x1", "x2", "x3"]),
        ("zz", vec![]),
        ("nn", vec![]),
    ] {
        for limit in [1, 2, 50] {
            let found = ids(&all_pages(&app, &owner, &path(q), limit).await);
            let unique: BTreeSet<&String> = found.iter().collect();
            assert_eq!(unique.len(), found.len(), "q={q:?} limit={limit}: listed twice: {found:?}");
            let mut got = found.clone();
            let mut expected: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
            got.sort();
            expected.sort();
            assert_eq!(got, expected, "q={q:?} limit={limit}");
        }
    }
    // An address pasted whole finds its member.
    let address = app.email("bobby");
    let found = ids(&all_pages(&app, &owner, &path(&address), 10).await);
    assert_eq!(found, ["bobby"]);

    // Order: by the word the longest term matched, then by name; desc is the reverse.
    let asc = ids(&all_pages(&app, &owner, &path("ann"), 2).await);
    assert_eq!(asc, ["ann-lee", "carl", "wide", "annabel", "anne"], "ann (by name) < anna < annabel < anne");
    let mut desc = ids(&all_pages(&app, &owner, &format!("{}&order=desc", path("ann")), 2).await);
    desc.reverse();
    assert_eq!(desc, asc);
    assert!(app.index_drift(&org).await.is_empty());
}

#[tokio::test]
async fn filters_and_orders_apply_before_paging() {
    let app = TestApp::spawn().await;
    let (owner, org) = org_of_people(&app).await;
    // Suspend two members whose names sort last: past the first page of any order by name.
    for user in ["x2", "x3"] {
        let r = app
            .call(
                Some(&owner),
                "PATCH",
                &format!("/orgs/{org}/members/{user}"),
                Some(json!({ "status": "suspended" })),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let everyone = all_pages(&app, &owner, &format!("/orgs/{org}/members"), 50).await;
    assert_eq!(everyone.len(), PEOPLE.len() + 1);
    for limit in [1, 3] {
        let suspended =
            ids(&all_pages(&app, &owner, &format!("/orgs/{org}/members?status=suspended"), limit).await);
        assert_eq!(suspended, ["x3", "x2"], "by name: Xavier Three < Xavier Two");
        let admins = all_pages(&app, &owner, &format!("/orgs/{org}/members?role=admin"), limit).await;
        let want: BTreeSet<String> = everyone
            .iter()
            .filter(|m| m["role"] == "admin")
            .map(|m| m["userId"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids(&admins).into_iter().collect::<BTreeSet<_>>(), want);
        let active_viewers =
            all_pages(&app, &owner, &format!("/orgs/{org}/members?role=viewer&status=active"), limit).await;
        assert!(active_viewers.iter().all(|m| m["role"] == "viewer" && m["status"] == "active"));
        let q_and_status =
            ids(&all_pages(&app, &owner, &format!("/orgs/{org}/members?q=xav&status=active"), limit).await);
        assert_eq!(q_and_status, ["x1"]);
    }
    // By name: the folded name (the address for a member without one), then user id.
    let by_name = all_pages(&app, &owner, &format!("/orgs/{org}/members?sort=name"), 4).await;
    let keys: Vec<String> =
        by_name.iter().map(|m| m["name"].as_str().or(m["email"].as_str()).unwrap().to_lowercase()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    // Full-width and decomposed names fold differently from `to_lowercase`: compare the rest.
    let ascii = |v: &Vec<String>| v.iter().filter(|k| k.is_ascii()).cloned().collect::<Vec<_>>();
    assert_eq!(ascii(&keys), ascii(&sorted));
    let desc = ids(&all_pages(&app, &owner, &format!("/orgs/{org}/members?sort=name&order=desc"), 4).await);
    let mut reversed = ids(&by_name);
    reversed.reverse();
    assert_eq!(desc, reversed);
    // By joining time: the order they were added in, the owner first.
    let joined = ids(&all_pages(&app, &owner, &format!("/orgs/{org}/members?sort=joinedAt"), 4).await);
    let mut added: Vec<String> = vec!["owner".into()];
    added.extend(PEOPLE.iter().map(|(u, _)| (*u).to_owned()));
    assert_eq!(joined, added);
    let latest =
        ids(&all_pages(&app, &owner, &format!("/orgs/{org}/members?sort=joinedAt&order=desc"), 50).await);
    assert_eq!(latest.first().map(String::as_str), Some("x3"));
    assert!(app.index_drift(&org).await.is_empty());
}

#[tokio::test]
async fn a_cursor_serves_only_its_own_query() {
    let app = TestApp::spawn().await;
    let (owner, org) = org_of_people(&app).await;
    let first = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members?q=xav&limit=1"), None).await;
    let cursor = first.body["nextCursor"].as_str().expect("more than one Xavier").to_owned();
    for other in ["q=xavier", "q=xav&order=desc", "q=xav&role=admin", "sort=name", "q=xav%20one", ""] {
        let r = app
            .call(Some(&owner), "GET", &format!("/orgs/{org}/members?{other}&limit=1&cursor={cursor}"), None)
            .await;
        assert_eq!((r.status, r.code()), (400, "invalid_cursor"), "{other}");
    }
    let same = app
        .call(Some(&owner), "GET", &format!("/orgs/{org}/members?q=XAV&limit=1&cursor={cursor}"), None)
        .await;
    assert_eq!(same.status, 200, "the same terms, folded: {:?}", same.body);
}

#[tokio::test]
async fn bad_queries_are_refused_and_a_non_member_learns_nothing() {
    let app = TestApp::spawn().await;
    let (owner, org) = org_of_people(&app).await;
    let long = "a".repeat(201);
    for (query, code) in [
        (format!("q={long}"), "invalid_request"),
        ("q=a%20b%20c%20d%20e%20f%20g%20h%20i".to_owned(), "invalid_request"),
        ("sort=age".to_owned(), "invalid_request"),
        ("order=up".to_owned(), "invalid_request"),
        ("q=ann&sort=joinedAt".to_owned(), "invalid_request"),
        ("role=king".to_owned(), "invalid_role"),
        ("status=gone".to_owned(), "invalid_request"),
        ("userId=bob&role=admin".to_owned(), "invalid_request"),
        ("userId=bob&cursor=x".to_owned(), "invalid_request"),
        ("userId=a%20b".to_owned(), "invalid_request"),
    ] {
        let r = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members?{query}"), None).await;
        assert_eq!((r.status, r.code()), (400, code), "{query}: {:?}", r.body);
        assert_eq!(r.content_type.as_deref(), Some("application/problem+json"));
    }
    let many: String = (0..101).map(|i| format!("userId=u{i}&")).collect();
    let r = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members?{many}"), None).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));
    let max: String = (0..100).map(|i| format!("userId=u{i}&")).collect();
    let r = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members?{max}"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Empty and separator-only searches are no search.
    let r = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members?q=%20.%20"), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["members"].as_array().unwrap().len(), PEOPLE.len() + 1);

    let stranger = app.user("stranger");
    app.create_org(&stranger, "Other").await;
    for query in ["q=ann", "sort=age", &format!("q={long}"), "userId=bob"] {
        let r: TestResponse =
            app.call(Some(&stranger), "GET", &format!("/orgs/{org}/members?{query}"), None).await;
        assert_eq!(r.status, 404, "{query}");
    }
}

#[tokio::test]
async fn members_by_id_in_one_call() {
    let app = TestApp::spawn().await;
    let (owner, org) = org_of_people(&app).await;
    // A user id may hold a comma: it stays one id.
    add(&app, &org, "a,b", Some("Comma Person"), "member").await;
    let r = app
        .call(
            Some(&owner),
            "GET",
            &format!("/orgs/{org}/members?userId=jose&userId=a%2Cb&userId=ghost&userId=bob&userId=jose"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(ids(r.body["members"].as_array().unwrap()), ["jose", "a,b", "bob"]);
    assert_eq!(r.body["nextCursor"], Value::Null);
    assert_eq!(r.body["members"][0]["name"], "José Álvarez");
    // Another organization's member is not this one's.
    let other = app.user("other");
    let elsewhere = app.create_org(&other, "Other").await;
    let r = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members?userId=other"), None).await;
    assert_eq!(r.body["members"], json!([]));
    let r = app.call(Some(&owner), "GET", &format!("/orgs/{elsewhere}/members?userId=owner"), None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_rename_moves_the_member_in_the_index() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let mut pat = app.user("pat");
    pat.name = Some("Pat Old".into());
    app.add_member(&owner, &org, &pat, "member").await;
    let found = |q: &'static str| {
        let (app, owner, org) = (&app, &owner, &org);
        async move { ids(&all_pages(app, owner, &format!("/orgs/{org}/members?q={q}"), 10).await) }
    };
    assert_eq!(found("old").await, ["pat"]);
    // Their next request carries a new name: the membership and its index follow.
    pat.name = Some("Pat Newman".into());
    assert_eq!(app.call(Some(&pat), "GET", &format!("/orgs/{org}"), None).await.status, 200);
    assert_eq!(found("newman").await, ["pat"]);
    assert!(found("old").await.is_empty(), "the old name's words are gone");
    let by_name = ids(&all_pages(&app, &owner, &format!("/orgs/{org}/members?sort=name"), 10).await);
    assert_eq!(by_name, ["pat", "owner"], "Pat Newman < User owner");
    assert!(app.index_drift(&org).await.is_empty());
}

/// Renames, role changes, suspensions and removals racing one another and searches, with
/// DynamoDB's transaction conflicts emulated: afterwards every index item matches its
/// membership, and no search ever listed a member twice or one of another name.
#[tokio::test]
async fn index_items_never_disagree_with_memberships_under_races() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let mut people: Vec<User> = Vec::new();
    for i in 0..6 {
        let mut u = app.user(&format!("p{i}"));
        u.name = Some(format!("Person{i} Alpha"));
        app.add_member(&owner, &org, &u, "member").await;
        people.push(u);
    }
    let app = &app;
    for round in 0..4 {
        let mut tasks: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>> = Vec::new();
        for (i, person) in people.iter().enumerate() {
            let mut renamed = person.clone();
            renamed.name = Some(format!("Person{i} R{round}x{}", i % 2));
            let (o, w) = (org.clone(), owner.clone());
            tasks.push(Box::pin(async move {
                let _ = app.call(Some(&renamed), "GET", &format!("/orgs/{o}"), None).await;
                let change = if (i + round) % 3 == 0 {
                    json!({ "role": "viewer" })
                } else if (i + round) % 3 == 1 {
                    json!({ "status": "suspended" })
                } else {
                    json!({ "status": "active", "role": "member" })
                };
                let path = format!("/orgs/{o}/members/{}", renamed.sub);
                let _ = app.call(Some(&w), "PATCH", &path, Some(change)).await;
            }));
            let (o, w) = (org.clone(), owner.clone());
            tasks.push(Box::pin(async move {
                let path = format!("/orgs/{o}/members?q=person&limit=100");
                let page = app.call(Some(&w), "GET", &path, None).await;
                assert_eq!(page.status, 200, "{:?}", page.body);
                let found = ids(page.body["members"].as_array().unwrap());
                let unique: BTreeSet<&String> = found.iter().collect();
                assert_eq!(unique.len(), found.len(), "listed twice: {found:?}");
            }));
        }
        futures::future::join_all(tasks).await;
        let drift = app.index_drift(&org).await;
        assert!(drift.is_empty(), "round {round}: {drift:?}");
    }
    // A removal takes the member's index items with it.
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/members/p0"), None).await;
    assert_eq!(r.status, 204);
    assert!(app.index_drift(&org).await.is_empty());
    let found = ids(&all_pages(app, &owner, &format!("/orgs/{org}/members?q=person0"), 10).await);
    assert!(found.is_empty());
}

/// After an upgrade: memberships written before the index existed are listed by nobody
/// until the operator's one-off backfill, which indexes them all (resumable, page by page,
/// safe to run again), and gives old audit events their filter index keys.
#[tokio::test]
async fn the_upgrade_backfill_indexes_memberships_written_before_the_index() {
    let app = TestApp::spawn().await;
    let (owner, org) = org_of_people(&app).await;
    // As an older release left them: index items gone, events without index keys.
    let before = app.partition(&org).await;
    for item in &before {
        let sk = item["SK"].as_s().unwrap();
        if sk.starts_with("MS#") || sk.starts_with("MW#") {
            app.dynamo
                .delete_item()
                .table_name(app.table())
                .key("PK", item["PK"].clone())
                .key("SK", item["SK"].clone())
                .send()
                .await
                .unwrap();
        }
        if sk.starts_with("AUDIT#") {
            app.dynamo
                .update_item()
                .table_name(app.table())
                .key("PK", item["PK"].clone())
                .key("SK", item["SK"].clone())
                .update_expression("REMOVE GSI1PK, GSI1SK, GSI2PK, GSI3PK")
                .send()
                .await
                .unwrap();
        }
    }
    let listed = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members"), None).await;
    assert_eq!(listed.body["members"], json!([]), "unindexed memberships are listed by nobody");
    assert!(!app.index_drift(&org).await.is_empty());

    // Run the backfill in short runs (one page each), as a function out of time would.
    let mut next: Option<Value> = None;
    let (mut memberships, mut runs) = (0, 0);
    loop {
        let answer = roster::handlers::purge::backfill_run(&app.app, next.as_ref(), || false).await.unwrap();
        memberships += answer["memberships"].as_u64().unwrap();
        runs += 1;
        match &answer["next"] {
            Value::Null => break,
            more => next = Some(more.clone()),
        }
        assert!(runs < 10_000, "the backfill ends");
    }
    assert!(memberships > PEOPLE.len() as u64, "every membership of the table, this org's among them");
    assert!(app.index_drift(&org).await.is_empty());
    let everyone = all_pages(&app, &owner, &format!("/orgs/{org}/members"), 5).await;
    assert_eq!(everyone.len(), PEOPLE.len() + 1);
    let audit = app
        .call(Some(&owner), "GET", &format!("/orgs/{org}/audit?action=member.added&limit=100"), None)
        .await;
    assert_eq!(audit.status, 200, "{:?}", audit.body);
    assert_eq!(
        audit.body["events"].as_array().unwrap().len(),
        PEOPLE.len(),
        "old events are found by action"
    );
    let after = app.partition(&org).await;
    let unkeyed = after
        .iter()
        .filter(|i| i["SK"].as_s().unwrap().starts_with("AUDIT#") && !i.contains_key("GSI1PK"))
        .count();
    assert_eq!(unkeyed, 0, "every event has its index keys again");
    // Again: nothing changes (the puts are the same items).
    let again = roster::handlers::purge::backfill_run(&app.app, None, || true).await.unwrap();
    assert_eq!(again["next"], Value::Null);
    assert!(app.index_drift(&org).await.is_empty());
}

#[tokio::test]
async fn a_join_with_25_workspaces_and_a_16_word_name_is_indexed_whole() {
    // 25 assignments (API.md's most) take 85 items of the join's transaction; the member's
    // index items (6 sort items, up to 16 words) would pass DynamoDB's 100, so the words
    // that do not fit follow in a write of their own: the join answers 200 and every word
    // finds the member.
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let mut workspaces = Vec::new();
    for i in 0..25 {
        workspaces.push(json!({ "id": app.create_workspace(&owner, &org, &format!("Space {i}")).await }));
    }
    let link = app
        .call(
            Some(&owner),
            "POST",
            &format!("/orgs/{org}/invite-links"),
            Some(json!({ "role": "member", "workspaces": workspaces })),
        )
        .await;
    assert_eq!(link.status, 201, "{:?}", link.body);
    let token = link.body["link"]["token"].as_str().unwrap().to_owned();
    let words: Vec<String> = (0..16).map(|i| format!("word{i:02}x")).collect();
    let mut joiner = app.user("joiner");
    joiner.name = Some(words.join(" "));
    let joined =
        app.call(Some(&joiner), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    for word in &words {
        let found = all_pages(&app, &owner, &format!("/orgs/{org}/members?q={word}"), 50).await;
        assert_eq!(ids(&found), ["joiner"], "{word}");
    }
    assert!(app.index_drift(&org).await.is_empty(), "{:?}", app.index_drift(&org).await);
    let access =
        app.call(Some(&joiner), "GET", &format!("/orgs/{org}/members/joiner/workspaces"), None).await;
    assert_eq!(access.status, 200, "{:?}", access.body);
}
