//! Deleting an organization: gone for everyone at once, then every item of it removed by the
//! purge, resumably, with nothing left behind by requests that raced the deletion.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use roster::domain::OrgId;
use roster::handlers::purge;
use roster_tests::harness::TestApp;
use serde_json::json;

type Item = std::collections::HashMap<String, AttributeValue>;

fn text<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name).and_then(|v| v.as_s().ok()).map_or("", String::as_str)
}

/// Every item that belongs to `org`, wherever it lives: its partition, tokens naming it,
/// locks naming it, its purge list entry.
async fn items_of(app: &TestApp, org: &str) -> Vec<Item> {
    let pk = format!("ORG#{org}");
    app.all_items()
        .await
        .into_iter()
        .filter(|i| text(i, "PK") == pk || text(i, "orgId") == org || text(i, "SK") == pk)
        .collect()
}

fn describe(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| format!("{} {}", text(i, "PK"), text(i, "SK"))).collect()
}

/// Past the grace period the purge waits, then a full purge run.
async fn purge_after_grace(app: &TestApp) -> purge::PurgeReport {
    app.advance(roster::store::purge::PURGE_GRACE + Duration::from_secs(1));
    purge::run(&app.app, || true).await.expect("purge")
}

#[tokio::test]
async fn a_deleted_org_is_gone_at_once_and_its_items_are_purged() {
    let app = TestApp::spawn_with(|c| c.one_org_per_user = true).await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Doomed").await;
    let (admin, bob) = (app.user("admin"), app.user("bob"));
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &bob, "member").await;
    let carol = app.user("carol");
    let invite = json!({ "invitations": [{ "email": carol.email }] });
    app.call(Some(&owner), "POST", &format!("/orgs/{org}/invitations"), Some(invite)).await;
    let carol_token = app.token_mailed_to(carol.email.as_deref().unwrap()).await;
    let link = app.call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), None).await;
    let link_token = link.body["link"]["token"].as_str().unwrap().to_owned();
    let path = format!("/orgs/{org}");

    let by_admin = app.call(Some(&admin), "DELETE", &path, None).await;
    assert_eq!((by_admin.status, by_admin.code()), (403, "forbidden"));
    let deleted = app.call(Some(&owner), "DELETE", &path, None).await;
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);

    // From that answer on: gone for everyone, and no token of it works.
    for (who, method, route) in [
        (&owner, "GET", path.clone()),
        (&bob, "GET", path.clone()),
        (&bob, "GET", format!("{path}/members")),
        (&admin, "GET", format!("{path}/audit")),
        (&owner, "DELETE", path.clone()),
        (&owner, "PATCH", path.clone()),
        (&admin, "DELETE", format!("{path}/members/bob")),
        (&bob, "DELETE", format!("{path}/members/bob")),
    ] {
        let body = (method == "PATCH").then(|| json!({ "name": "Back" }));
        let r = app.call(Some(who), method, &route, body).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{method} {route}");
    }
    for who in [&owner, &bob] {
        let mine = app.call(Some(who), "GET", "/orgs", None).await;
        assert_eq!(mine.body["orgs"], json!([]), "{}", who.sub);
    }
    for (who, route, token) in [
        (None, "/invitations/preview", &carol_token),
        (Some(&carol), "/invitations/accept", &carol_token),
        (Some(&carol), "/invitations/decline", &carol_token),
        (None, "/invitations/preview", &link_token),
        (Some(&app.user("dave")), "/invitations/accept", &link_token),
    ] {
        let r = app.call(who, "POST", route, Some(json!({ "token": token }))).await;
        assert_eq!((r.status, r.code()), (404, "invitation_not_found"), "{route}");
    }

    // The purge waits out its grace period, then removes everything but the tombstone.
    let early = purge::run(&app.app, || true).await.unwrap();
    assert_eq!(early, purge::PurgeReport::default(), "nothing is purged within the grace period");
    let before = items_of(&app, &org).await;
    assert!(before.len() >= 12, "{:?}", describe(&before));
    let report = purge_after_grace(&app).await;
    assert_eq!(report.orgs_done, 1);
    let left = items_of(&app, &org).await;
    assert_eq!(describe(&left), [format!("ORG#{org} ORG")], "only the tombstone stays");
    assert_eq!(
        left[0].keys().filter(|k| !["PK", "SK", "type", "deletedAt"].contains(&k.as_str())).count(),
        0
    );
    assert!(app.store_pending_purges().await.is_empty());
    // Bob's one-org lock went with it: he may start an organization of his own.
    assert_eq!(app.call(Some(&bob), "POST", "/orgs", Some(json!({ "name": "Next" }))).await.status, 201);
    // Purging again finds nothing to do.
    assert_eq!(purge::run(&app.app, || true).await.unwrap(), purge::PurgeReport::default());
}

#[tokio::test]
async fn a_purge_stopped_midway_resumes_where_the_table_stands() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Large").await;
    roster_tests::bench::scale::seed_members(&app, &org, 1_200).await;
    assert_eq!(app.call(Some(&owner), "DELETE", &format!("/orgs/{org}"), None).await.status, 204);
    app.advance(roster::store::purge::PURGE_GRACE + Duration::from_secs(1));
    // Everything of its partition but the tombstone goes (the members with their index
    // items, the owner's, two audit events and a slot); the purge list entry goes too,
    // uncounted.
    let doomed = items_of(&app, &org).await.len() - 2;
    assert!(doomed > 1_204, "{doomed}");

    // A run whose time runs out after one page (as a function that reached its deadline):
    // time is asked before the organization, then before each page.
    let asked = AtomicUsize::new(0);
    let stopped = purge::run(&app.app, || asked.fetch_add(1, Ordering::SeqCst) < 2).await.unwrap();
    assert_eq!(stopped.orgs_done, 0);
    assert!(stopped.items_deleted > 0 && stopped.items_deleted < doomed, "{stopped:?}");
    let midway = items_of(&app, &org).await.len();
    assert!(midway > 1, "items remain after a stopped run");

    let resumed = purge::run(&app.app, || true).await.unwrap();
    assert_eq!(resumed.orgs_done, 1);
    assert_eq!(stopped.items_deleted + resumed.items_deleted, doomed);
    assert_eq!(items_of(&app, &org).await.len(), 1);
}

/// Requests that race the deletion may write after it (they read first); the purge, which
/// waits out every such request, leaves nothing of them, and no token of the organization
/// works whatever the order.
#[tokio::test]
async fn requests_racing_the_deletion_leave_nothing_behind() {
    let app = TestApp::spawn_with(|c| c.one_org_per_user = true).await;
    for round in 0..6 {
        let owner = app.user(&format!("owner{round}"));
        let org = app.create_org(&owner, "Racing").await;
        let path = format!("/orgs/{org}");
        let member = app.user(&format!("member{round}"));
        app.add_member(&owner, &org, &member, "member").await;
        let link = app.call(Some(&owner), "POST", &format!("{path}/invite-links"), None).await;
        let link_token = link.body["link"]["token"].as_str().unwrap().to_owned();
        let joiner = app.user(&format!("joiner{round}"));
        let invitee = app.email(&format!("invitee{round}"));

        let invite = json!({ "invitations": [{ "email": invitee }] });
        let (invitations, member_path, links) = (
            format!("{path}/invitations"),
            format!("{path}/members/{}", member.sub),
            format!("{path}/invite-links"),
        );
        let (deleted, invited, joined, changed, renamed, revoked) = tokio::join!(
            app.call(Some(&owner), "DELETE", &path, None),
            app.call(Some(&owner), "POST", &invitations, Some(invite)),
            app.call(Some(&joiner), "POST", "/invitations/accept", Some(json!({ "token": link_token }))),
            app.call(Some(&owner), "PATCH", &member_path, Some(json!({ "role": "admin" }))),
            app.call(Some(&owner), "PATCH", &path, Some(json!({ "name": "Renamed" }))),
            app.call(Some(&owner), "POST", &links, Some(json!({ "role": "viewer" }))),
        );
        assert_eq!(deleted.status, 204, "round {round}: {:?}", deleted.body);
        for r in [&invited, &joined, &changed, &renamed, &revoked] {
            assert!([200, 201, 404].contains(&r.status), "round {round}: {} {:?}", r.status, r.body);
        }
        // Whatever was written, no token of the organization works now.
        let tokens: Vec<String> =
            [Some(link_token.clone()), revoked.body["link"]["token"].as_str().map(str::to_owned)]
                .into_iter()
                .flatten()
                .chain(app.mailbox(&invitee).await.iter().filter_map(|m| {
                    let text = m["body"]["text"].as_str()?;
                    Some(text[text.find("token=")? + 6..].split_whitespace().next()?.to_owned())
                }))
                .collect();
        for token in tokens {
            let r =
                app.call(Some(&joiner), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
            assert_eq!((r.status, r.code()), (404, "invitation_not_found"), "round {round}");
        }
        purge_after_grace(&app).await;
        let left = items_of(&app, &org).await;
        assert_eq!(describe(&left), [format!("ORG#{org} ORG")], "round {round}: stray items");
        // The joiner's lock (if the join won) went too.
        assert_eq!(
            app.call(Some(&joiner), "POST", "/orgs", Some(json!({ "name": "Mine" }))).await.status,
            201
        );
        OrgId::parse(&org).expect("an org id");
    }
}
