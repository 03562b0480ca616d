//! The invitations list's filters (API.md "Search and filters"): `q` (every term the start
//! of a word of the address), `status` (decided when read: pending, expired, declined,
//! revoked) and `emailDelivery`, alone and together, against the local stack. Pages are held
//! to the unfiltered list filtered here; a filtered request reads a bounded run of
//! invitations, so a page may be short (even empty) and still carry a cursor, and no match
//! is ever skipped; cursors are bound to their filter; bad input is 400 after authorization.

use std::time::Duration;

use roster_tests::harness::{TestApp, User};
use serde_json::{Value, json};

/// Every invitation of `query`'s pages, `limit` a page; and how many pages it took.
async fn all_pages(app: &TestApp, user: &User, org: &str, query: &str, limit: usize) -> (Vec<Value>, usize) {
    let path = if query.is_empty() {
        format!("/orgs/{org}/invitations")
    } else {
        format!("/orgs/{org}/invitations?{query}")
    };
    app.all_pages(user, &path, "invitations", limit, 999).await
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

/// The test's own reading of the contract: words cut at whitespace . _ - + @, lowercase.
fn words(address: &str) -> Vec<String> {
    address
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || ".-_+@".contains(c))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn matches(item: &Value, q: Option<&str>, status: Option<&str>, delivery: Option<&str>) -> bool {
    let address_words = words(item["email"].as_str().unwrap());
    let q_ok =
        q.is_none_or(|q| words(q).iter().all(|t| address_words.iter().any(|w| w.starts_with(t.as_str()))));
    q_ok && status.is_none_or(|s| item["status"] == s) && delivery.is_none_or(|d| item["emailDelivery"] == d)
}

async fn invite(app: &TestApp, by: &User, org: &str, addresses: &[String], hours: Option<i64>) {
    let mut body =
        json!({ "invitations": addresses.iter().map(|a| json!({ "email": a })).collect::<Vec<_>>() });
    if let Some(h) = hours {
        body["expiresInHours"] = json!(h);
    }
    let r = app.call(Some(by), "POST", &format!("/orgs/{org}/invitations"), Some(body)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[tokio::test]
async fn each_filter_and_their_combinations_page_to_exactly_the_matches() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Invitations").await;
    let ann = app.user("ann");
    app.add_member(&owner, &org, &ann, "admin").await;
    let a = |local: &str| app.email(local);
    // Pending (two of them declined below), by the owner.
    let pending: Vec<String> = (0..12)
        .map(|i| match i % 3 {
            0 => a(&format!("ann.lee{i}")),
            1 => a(&format!("bob+work{i}")),
            _ => a(&format!("zoe_makinen-{i}")),
        })
        .collect();
    invite(&app, &owner, &org, &pending, None).await;
    invite(&app, &owner, &org, &[a("short.lived1"), a("short.lived2"), a("ann.short")], Some(1)).await;
    invite(&app, &ann, &org, &[a("by.ann1"), a("by.ann2"), a("ann.bob")], None).await;
    // Mail goes out (the invitations so far are `sent`); two decline.
    for (i, address) in [&pending[1], &pending[2]].into_iter().enumerate() {
        let token = app.token_mailed_to(address).await;
        let invitee = User::new(&format!("decliner{i}")).with_email(address);
        let r =
            app.call(Some(&invitee), "POST", "/invitations/decline", Some(json!({ "token": token }))).await;
        assert_eq!(r.status, 204, "{:?}", r.body);
    }
    // Still queued.
    invite(&app, &owner, &org, &[a("late.one"), a("late.ann")], None).await;
    // Ann's invitations are revoked by her suspension; the short ones expire.
    app.suspend(&owner, &org, &ann.sub).await;
    app.advance(Duration::from_secs(2 * 3600));

    let (everything, _) = all_pages(&app, &owner, &org, "", 100).await;
    assert_eq!(everything.len(), 20);
    let count = |status: &str| everything.iter().filter(|i| i["status"] == status).count();
    assert_eq!((count("pending"), count("declined"), count("revoked"), count("expired")), (12, 2, 3, 3));
    let queued = everything.iter().filter(|i| i["emailDelivery"] == "queued").count();
    assert!(queued >= 2, "{queued} queued");

    let mut cases: Vec<(Option<&str>, Option<&str>, Option<&str>)> = Vec::new();
    for q in [
        None,
        Some("ann"),
        Some("ANN lee"),
        Some("zoe"),
        Some("mak"),
        Some("work"),
        Some("nobody"),
        Some("lived"),
    ] {
        for status in [None, Some("pending"), Some("declined"), Some("revoked"), Some("expired")] {
            for delivery in [None, Some("queued"), Some("sent"), Some("bounced")] {
                cases.push((q, status, delivery));
            }
        }
    }
    let mut matched_some = 0;
    for (q, status, delivery) in cases {
        let expected: Vec<Value> =
            everything.iter().filter(|i| matches(i, q, status, delivery)).cloned().collect();
        let mut query = Vec::new();
        if let Some(q) = q {
            query.push(format!("q={}", q.replace(' ', "%20")));
        }
        query.extend(status.map(|s| format!("status={s}")));
        query.extend(delivery.map(|d| format!("emailDelivery={d}")));
        let query = query.join("&");
        for limit in [1, 4, 100] {
            let (got, _) = all_pages(&app, &owner, &org, &query, limit).await;
            assert_eq!(ids(&got), ids(&expected), "{query} (limit {limit})");
        }
        matched_some += usize::from(!expected.is_empty());
    }
    assert!(matched_some > 30, "the cases find things: {matched_some}");
    // By hand, the folding the oracle does not do: NFKC, and a pasted address.
    let (wide, _) = all_pages(&app, &owner, &org, "q=%EF%BC%A1%EF%BC%AE%EF%BC%AE", 100).await; // ＡＮＮ
    let (plain, _) = all_pages(&app, &owner, &org, "q=ann", 100).await;
    assert_eq!(ids(&wide), ids(&plain));
    let pasted = pending[0].replace('+', "%2B").replace('@', "%40");
    let (one, _) = all_pages(&app, &owner, &org, &format!("q={pasted}"), 100).await;
    assert_eq!(ids(&one).len(), 1, "{pasted}");
}

#[tokio::test]
async fn a_rare_match_after_a_long_run_is_reached_through_short_pages() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Many").await;
    for batch in 0..2 {
        let addresses: Vec<String> = (0..100).map(|i| app.email(&format!("filler{batch}-{i}"))).collect();
        invite(&app, &owner, &org, &addresses, None).await;
    }
    invite(&app, &owner, &org, &[app.email("zed.rare")], None).await;
    // The 201st invitation: the first pages read 101 each and find nothing, with a cursor.
    let first = app.call(Some(&owner), "GET", &format!("/orgs/{org}/invitations?q=zed&limit=5"), None).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["invitations"], json!([]), "nothing among the first 100 read");
    assert!(first.body["nextCursor"].is_string(), "an empty page still says there is more");
    let (found, pages) = all_pages(&app, &owner, &org, "q=zed", 5).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["email"], json!(app.email("zed.rare")));
    assert_eq!(pages, 3, "201 invitations read 100 a request");
    // A common match fills pages of the limit, the cursor after the last shown.
    let (fillers, pages) = all_pages(&app, &owner, &org, "q=filler1&status=pending", 30).await;
    assert_eq!(fillers.len(), 100);
    assert!(pages >= 4, "{pages}");
    let (every, _) = all_pages(&app, &owner, &org, "", 100).await;
    let expected: Vec<String> = ids(&every
        .iter()
        .filter(|i| i["email"].as_str().unwrap().starts_with("filler1"))
        .cloned()
        .collect::<Vec<_>>());
    assert_eq!(ids(&fillers), expected);
}

#[tokio::test]
async fn a_cursor_works_only_with_its_own_filter() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Cursors").await;
    let addresses: Vec<String> = (0..4).map(|i| app.email(&format!("ann{i}"))).collect();
    invite(&app, &owner, &org, &addresses, None).await;
    let get = |q: String| {
        let (owner, org) = (owner.clone(), org.clone());
        let app = &app;
        async move { app.call(Some(&owner), "GET", &format!("/orgs/{org}/invitations?limit=1&{q}"), None).await }
    };
    let first = get("q=ann&status=pending".to_owned()).await;
    let cursor = first.body["nextCursor"].as_str().expect("more").to_owned();
    assert_eq!(get(format!("q=ann&status=pending&cursor={cursor}")).await.status, 200);
    assert_eq!(get(format!("status=pending&q=ANN&cursor={cursor}")).await.status, 200, "the same query");
    for other in
        ["", "q=ann", "status=pending", "q=an&status=pending", "q=ann&status=pending&emailDelivery=queued"]
    {
        let r = get(format!("{other}&cursor={cursor}")).await;
        assert_eq!((r.status, r.code()), (400, "invalid_cursor"), "{other}: {:?}", r.body);
    }
}

#[tokio::test]
async fn bad_filters_are_400_for_admins_and_404_for_strangers() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Strict").await;
    let stranger = app.user("stranger");
    let long = "a%20".repeat(120);
    for (query, says) in [
        ("status=accepted", "status"),
        ("status=", "status"),
        ("emailDelivery=delivering", "emailDelivery"),
        ("emailDelivery=SENT", "emailDelivery"),
        (&format!("q={long}") as &str, "q is at most 200"),
        ("q=a%20b%20c%20d%20e%20f%20g%20h%20i", "q has at most 8 terms"),
    ] {
        let path = format!("/orgs/{org}/invitations?{query}");
        let r = app.call(Some(&owner), "GET", &path, None).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{query}: {:?}", r.body);
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{query}: {detail}");
        let r = app.call(Some(&stranger), "GET", &path, None).await;
        assert_eq!(r.status, 404, "{query}");
    }
}
