//! Hostile review of invitation email delivery (API.md "Email delivery"). Each test is an
//! attack; an assertion that fails names a defect.

use std::time::Duration;

use roster_tests::harness::{TestApp, TestResponse, User, call_app_with_claims, service_claims};
use serde_json::{Value, json};

async fn invite(app: &TestApp, by: &User, org: &str, addresses: &[String]) -> TestResponse {
    let entries: Vec<Value> = addresses.iter().map(|a| json!({ "email": a })).collect();
    app.call(Some(by), "POST", &format!("/orgs/{org}/invitations"), Some(json!({ "invitations": entries })))
        .await
}

async fn invite_one(app: &TestApp, by: &User, org: &str, address: &str) -> String {
    let r = invite(app, by, org, &[address.to_owned()]).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned()
}

async fn listed(app: &TestApp, by: &User, org: &str) -> Vec<Value> {
    let l = app.call(Some(by), "GET", &format!("/orgs/{org}/invitations"), None).await;
    assert_eq!(l.status, 200, "{:?}", l.body);
    l.body["invitations"].as_array().cloned().unwrap_or_default()
}

fn ses_event(fixture: &str, tags: Value) -> Value {
    let path = format!("{}/fixtures/ses-events/{fixture}.json", env!("CARGO_MANIFEST_DIR"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["detail"]["mail"]["tags"] = tags;
    event
}

fn tags(org: &str, id: &str, send: &str) -> Value {
    json!({ "roster-org": [org], "roster-invitation": [id], "roster-send": [send] })
}

async fn feed(app: &TestApp, event: Value) -> bool {
    let answer = roster::handlers::email_events::handle(&app.app, event).await.expect("handled");
    answer["moved"] == json!(true)
}

async fn paused(app: &TestApp, by: &User, org: &str) -> bool {
    let shown = app.call(Some(by), "GET", &format!("/orgs/{org}"), None).await;
    shown.body["org"].get("invitationsPaused").is_some_and(|p| !p.is_null())
}

async fn lift(app: &TestApp, claims: Option<&roster_tests::event::Claims>, org: &str) -> TestResponse {
    call_app_with_claims(&app.app, claims, "DELETE", &format!("/orgs/{org}/email-pause"), None).await
}

/// Pauses `org` by one complaint (rule: 0.1% of 200).
async fn pause_by_complaint(app: &TestApp, owner: &User, org: &str) {
    let id = invite_one(app, owner, org, &app.email(&format!("pz-{org}"))).await;
    app.drain_mail().await;
    assert!(feed(app, ses_event("complaint", tags(org, &id, "0"))).await);
    assert!(paused(app, owner, org).await);
}

#[tokio::test]
async fn pause_lift_refuses_people_and_partial_or_forged_service_claims() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let (admin, member) = (app.user("adm"), app.user("mem"));
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &member, "member").await;
    pause_by_complaint(&app, &owner, &org).await;
    for who in [&owner, &admin, &member] {
        let r = app.call(Some(who), "DELETE", &format!("/orgs/{org}/email-pause"), None).await;
        assert!(r.status == 403 || r.status == 401, "person {:?}: {}", who.sub, r.status);
    }
    // A person's token carrying the scope claim.
    let mut person = owner.claims();
    person.insert("scope".into(), "roster/admin".into());
    person.insert("client_id".into(), "app-client".into());
    assert!(lift(&app, Some(&person), &org).await.status >= 400);
    // Services with the wrong, a prefixed, a similar or no scope; an id token; no claims.
    for scope in ["roster/authorize", "roster/usage", "", "roster/admin2", "xroster/admin", "roster/Admin"] {
        let r = lift(&app, Some(&service_claims("svc", scope)), &org).await;
        assert!(r.status == 403 || r.status == 401, "scope {scope:?}: {}", r.status);
    }
    let mut id_token = service_claims("svc", "roster/admin");
    id_token.insert("token_use".into(), "id".into());
    assert!(lift(&app, Some(&id_token), &org).await.status >= 400, "an id token");
    let mut no_client = service_claims("svc", "roster/admin");
    no_client.remove("client_id");
    assert!(lift(&app, Some(&no_client), &org).await.status >= 400, "no client_id");
    assert!(lift(&app, None, &org).await.status >= 400);
    assert!(paused(&app, &owner, &org).await, "still paused after every refused attempt");
}

#[tokio::test]
async fn pause_lift_for_another_missing_or_deleted_org_touches_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let (a, b) = (app.create_org(&owner, "A").await, app.create_org(&owner, "B").await);
    pause_by_complaint(&app, &owner, &a).await;
    pause_by_complaint(&app, &owner, &b).await;
    let op = service_claims("dev-service", "roster/admin");
    assert_eq!(lift(&app, Some(&op), &b).await.status, 204);
    assert!(paused(&app, &owner, &a).await, "lifting B lifted A");
    assert!(!paused(&app, &owner, &b).await);
    // An org id that was never minted, and one well-formed but unknown.
    let bogus = lift(&app, Some(&op), "not-an-org").await;
    assert_eq!(bogus.status, 404, "{:?}", bogus.body);
    let other = roster::domain::OrgId::new().to_string();
    let unknown = lift(&app, Some(&op), &other).await;
    assert_eq!(unknown.status, 404, "unknown org: {:?}", unknown.body);
    // A deleted organization.
    assert_eq!(app.call(Some(&owner), "DELETE", &format!("/orgs/{a}"), None).await.status, 204);
    let deleted = lift(&app, Some(&op), &a).await;
    assert!(
        deleted.status == 404 || deleted.status == 204,
        "deleted org: {} {:?}",
        deleted.status,
        deleted.body
    );
}

#[tokio::test]
async fn ses_event_naming_org_b_for_an_invitation_of_org_a_moves_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let (a, b) = (app.create_org(&owner, "A").await, app.create_org(&owner, "B").await);
    let id = invite_one(&app, &owner, &a, &app.email("x")).await;
    app.drain_mail().await;
    assert!(!feed(&app, ses_event("complaint", tags(&b, &id, "0"))).await);
    assert!(!feed(&app, ses_event("bounce-permanent", tags(&b, &id, "0"))).await);
    assert!(!paused(&app, &owner, &b).await, "B paused by A's invitation");
    assert!(!paused(&app, &owner, &a).await);
    assert_eq!(listed(&app, &owner, &a).await[0]["emailDelivery"], "sent");
    let audit = app.call(Some(&owner), "GET", &format!("/orgs/{b}/audit"), None).await;
    assert!(!audit.audit_actions().iter().any(|a| a.starts_with("invitation.email")), "{:?}", audit.body);
}

#[tokio::test]
async fn ses_events_with_malformed_huge_negative_or_duplicate_send_numbers() {
    let app = TestApp::spawn_with(|c| c.mail.pause.complaint_basis_points = 10_000).await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "A").await;
    let id = invite_one(&app, &owner, &org, &app.email("m")).await;
    app.drain_mail().await;
    for send in [
        "-1",
        "abc",
        "",
        "1e0",
        "0.0",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999",
        " 0",
        "0x0",
    ] {
        assert!(!feed(&app, ses_event("delivery", tags(&org, &id, send))).await, "send {send:?} moved");
    }
    // Tags of the wrong shapes.
    for bad in [
        json!({ "roster-org": org, "roster-invitation": id, "roster-send": "0" }),
        json!({ "roster-org": [], "roster-invitation": [id], "roster-send": ["0"] }),
        json!({ "roster-org": [org], "roster-invitation": [id], "roster-send": [0] }),
        json!({ "roster-org": [null], "roster-invitation": [id], "roster-send": ["0"] }),
        json!(null),
        json!([]),
    ] {
        assert!(!feed(&app, ses_event("delivery", bad.clone())).await, "{bad}");
    }
    // Duplicate values: the second value names the live send.
    assert!(
        !feed(
            &app,
            ses_event(
                "delivery",
                json!({ "roster-org": [org], "roster-invitation": [id], "roster-send": ["7", "0"] })
            )
        )
        .await
    );
    assert_eq!(listed(&app, &owner, &org).await[0]["emailDelivery"], "sent");
    // A send number of u64::MAX on a resent invitation never matches anything.
    let huge = roster::handlers::email_events::handle(
        &app.app,
        ses_event("complaint", tags(&org, &id, &u64::MAX.to_string())),
    )
    .await;
    assert!(huge.is_ok());
    // Not SES at all.
    for junk in [
        json!(null),
        json!("x"),
        json!({ "detail": 5 }),
        json!({ "detail": { "eventType": "Bounce", "mail": {} } }),
    ] {
        let r = roster::handlers::email_events::handle(&app.app, junk).await;
        assert!(r.is_ok_and(|v| v["moved"] == json!(false)));
    }
    // A bounce event without its bounce object.
    let mut no_bounce = ses_event("bounce-permanent", tags(&org, &id, "0"));
    no_bounce["detail"].as_object_mut().unwrap().remove("bounce");
    assert!(!feed(&app, no_bounce).await);
}

#[tokio::test]
async fn a_complaint_for_a_send_never_handed_to_ses_does_not_move_or_pause() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "A").await;
    let address = app.email("never");
    let id = invite_one(&app, &owner, &org, &address).await;
    // Not drained: the sender has not minted a token nor handed anything to SES.
    let moved = feed(&app, ses_event("complaint", tags(&org, &id, "0"))).await;
    let was_paused = paused(&app, &owner, &org).await;
    app.drain_mail().await;
    let mailed = app.mailbox(&address).await.len();
    assert!(
        !moved && !was_paused && mailed == 1,
        "complaint on a queued send: moved={moved}, org paused={was_paused}, emails sent={mailed}, state={}",
        listed(&app, &owner, &org).await[0]["emailDelivery"]
    );
}

#[tokio::test]
async fn an_early_delivery_event_for_a_queued_send_stops_the_email_and_skips_the_sent_count() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "A").await;
    let address = app.email("early");
    let id = invite_one(&app, &owner, &org, &address).await;
    let moved = feed(&app, ses_event("delivery", tags(&org, &id, "0"))).await;
    app.drain_mail().await;
    let mailed = app.mailbox(&address).await.len();
    assert!(
        !moved || mailed == 1,
        "a Delivery for a never-sent send moved it and no email went: mailed={mailed}"
    );
}

#[tokio::test]
async fn a_token_minted_before_a_resend_is_dead_once_the_new_one_is_sent() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "A").await;
    let ann = app.user("ann");
    let address = ann.email.clone().unwrap();
    let id = invite_one(&app, &owner, &org, &address).await;
    app.drain_mail().await;
    let first = app.token_mailed_to(&address).await;
    let r = app.call(Some(&owner), "POST", &format!("/orgs/{org}/invitations/{id}/resend"), None).await;
    assert_eq!(r.status, 200);
    // Before the sender sends the new one: the old one is already dead.
    let p = app.call(None, "POST", "/invitations/preview", Some(json!({ "token": first }))).await;
    assert!(p.status >= 400, "old token previews while queued: {:?}", p.body);
    app.drain_mail().await;
    let second = app.token_mailed_to(&address).await;
    assert_ne!(first, second);
    for (path, who) in [
        ("/invitations/preview", None),
        ("/invitations/accept", Some(&ann)),
        ("/invitations/decline", Some(&ann)),
    ] {
        let r = app.call(who, "POST", path, Some(json!({ "token": first }))).await;
        assert!(r.status >= 400, "{path} with the old token: {} {:?}", r.status, r.body);
    }
    let ok = app.call(Some(&ann), "POST", "/invitations/accept", Some(json!({ "token": second }))).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
}

#[tokio::test]
async fn the_sealed_hash_of_invite_time_admits_nobody() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "A").await;
    let ann = app.user("ann");
    invite_one(&app, &owner, &org, ann.email.as_deref().unwrap()).await;
    // Not drained: only the sealed hash exists.
    for body in [
        json!({ "token": "" }),
        json!({}),
        json!({ "token": null }),
        json!({ "token": "x".repeat(64) }),
        json!({ "token": format!("{org}.") }),
    ] {
        for (path, who) in [("/invitations/preview", None), ("/invitations/accept", Some(&ann))] {
            let r = app.call(who, "POST", path, Some(body.clone())).await;
            assert!((400..500).contains(&r.status), "{path} {body}: {} {:?}", r.status, r.body);
        }
    }
    // The table holds nothing that looks like a usable raw token for this invitation.
    let l = listed(&app, &owner, &org).await;
    assert!(l[0].get("token").is_none() && l[0].get("tokenHash").is_none(), "{:?}", l[0]);
}

#[tokio::test]
async fn revoke_before_or_racing_the_sender_leaves_no_email_and_no_live_token() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "A").await;
    let ann = app.user("ann");
    let address = ann.email.clone().unwrap();
    let id = invite_one(&app, &owner, &org, &address).await;
    assert_eq!(
        app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/invitations/{id}"), None).await.status,
        204
    );
    app.drain_mail().await;
    assert!(app.mailbox(&address).await.is_empty(), "a revoked invitation was mailed");
    // Racing: many rounds of revoke against the sender.
    for round in 0..8 {
        let address = app.email(&format!("race{round}"));
        let id = invite_one(&app, &owner, &org, &address).await;
        let path = format!("/orgs/{org}/invitations/{id}");
        let (revoked, _) = tokio::join!(app.call(Some(&owner), "DELETE", &path, None), app.drain_mail());
        assert_eq!(revoked.status, 204, "{:?}", revoked.body);
        app.drain_mail().await;
        for mail in app.mailbox(&address).await {
            let text = mail["body"]["text"].as_str().unwrap();
            let start = text.find("token=").unwrap() + 6;
            let token = text[start..].split_whitespace().next().unwrap();
            let p = app.call(None, "POST", "/invitations/preview", Some(json!({ "token": token }))).await;
            assert!(
                p.status >= 400,
                "round {round}: a revoked invitation's mailed token is live: {:?}",
                p.body
            );
        }
    }
}

#[tokio::test]
async fn resend_racing_the_sender_is_never_refused_as_not_found() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "A").await;
    let ann = app.user("ann");
    let address = ann.email.clone().unwrap();
    let id = invite_one(&app, &owner, &org, &address).await;
    let path = format!("/orgs/{org}/invitations/{id}/resend");
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let (r, _) = tokio::join!(app.call(Some(&owner), "POST", &path, None), app.drain_mail());
        statuses.push((r.status, r.code().to_owned()));
    }
    app.drain_mail().await;
    assert!(statuses.iter().all(|(s, _)| *s == 200 || *s == 409), "{statuses:?}");
    let token = app.token_mailed_to(&address).await;
    let ok = app.call(Some(&ann), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
    assert_eq!(ok.status, 200, "the last email's token: {:?}", ok.body);
}

#[tokio::test]
async fn reassign_racing_the_sender_keeps_the_new_workspaces_in_the_mailed_token() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "A").await;
    let w1 = app.create_workspace(&owner, &org, "One").await;
    for round in 0..5 {
        let user = app.user(&format!("u{round}"));
        let address = user.email.clone().unwrap();
        let id = invite_one(&app, &owner, &org, &address).await;
        let path = format!("/orgs/{org}/invitations/{id}");
        let body = json!({ "workspaces": [{ "id": w1 }] });
        let (patched, _) = tokio::join!(app.call(Some(&owner), "PATCH", &path, Some(body)), app.drain_mail());
        app.drain_mail().await;
        let token = app.token_mailed_to(&address).await;
        let ok = app.call(Some(&user), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
        assert_eq!(ok.status, 200, "{:?}", ok.body);
        if patched.status == 200 {
            let w = app.call(Some(&user), "GET", &format!("/orgs/{org}/workspaces/{w1}"), None).await;
            assert_eq!(
                w.status, 200,
                "round {round}: PATCH answered 200 but the member lacks the workspace: {:?}",
                w.body
            );
        }
    }
}

#[tokio::test]
async fn a_removed_or_suspended_admin_or_a_member_consumes_no_quota() {
    let app = TestApp::spawn_with(|c| c.mail.quotas.org_per_hour = 2).await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "A").await;
    let (bob, cy, mo) = (app.user("bob"), app.user("cy"), app.user("mo"));
    app.add_member(&owner, &org, &bob, "admin").await;
    app.add_member(&owner, &org, &cy, "admin").await;
    app.add_member(&owner, &org, &mo, "member").await;
    let id = invite_one(&app, &owner, &org, &app.email("one")).await;
    app.suspend(&owner, &org, &cy.sub).await;
    assert_eq!(
        app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/members/{}", bob.sub), None).await.status,
        204
    );
    for who in [&bob, &cy, &mo] {
        let r = invite(&app, who, &org, &[app.email("x"), app.email("y")]).await;
        assert!(r.status == 403 || r.status == 404, "{:?}", r.body);
        let r = app.call(Some(who), "POST", &format!("/orgs/{org}/invitations/{id}/resend"), None).await;
        assert!(r.status == 403 || r.status == 404, "{:?}", r.body);
    }
    assert_eq!(
        invite(&app, &owner, &org, &[app.email("two")]).await.status,
        200,
        "quota used by refused callers"
    );
}

#[tokio::test]
async fn quota_exactly_at_the_limit_and_a_batch_of_100() {
    let app = TestApp::spawn_with(|c| {
        c.mail.quotas.org_per_hour = 100;
        c.mail.quotas.inviter_per_hour = 100;
        c.mail.quotas.org_per_day = 1000;
    })
    .await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "A").await;
    let hundred: Vec<String> = (0..100).map(|i| app.email(&format!("h{i}"))).collect();
    let r = invite(&app, &owner, &org, &hundred).await;
    assert_eq!(r.status, 200, "{:?}", r.code());
    let r = invite(&app, &owner, &org, &[app.email("one-more")]).await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"));
    let retry: i64 = r.retry_after.as_deref().unwrap().parse().unwrap();
    let now = app.now().as_datetime();
    use chrono::Timelike;
    let expected = 3600 - i64::from(now.minute() * 60 + now.second());
    assert!((retry - expected).abs() <= 2, "Retry-After {retry}, seconds to the hour {expected}");
    // One second short of Retry-After: still refused; at it: allowed.
    app.advance(Duration::from_secs(u64::try_from(retry).unwrap().saturating_sub(2)));
    let r = invite(&app, &owner, &org, &[app.email("early")]).await;
    assert_eq!(r.status, 429, "before the hour ends");
    let retry2: i64 = r.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((1..=3).contains(&retry2), "near the boundary Retry-After is {retry2}");
    app.advance(Duration::from_secs(u64::try_from(retry2).unwrap()));
    let r = invite(&app, &owner, &org, &[app.email("on-time")]).await;
    assert_eq!(r.status, 200, "after waiting Retry-After: {:?}", r.body);
    // A batch over the limit on its own: refused; 101 entries refused by the batch cap.
    let many: Vec<String> = (0..101).map(|i| app.email(&format!("m{i}"))).collect();
    assert!(invite(&app, &owner, &org, &many).await.status >= 400);
}

#[tokio::test]
async fn a_batch_larger_than_a_quota_gets_an_honest_answer() {
    let app = TestApp::spawn_with(|c| c.mail.quotas.inviter_per_hour = 3).await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "A").await;
    let five: Vec<String> = (0..5).map(|i| app.email(&format!("f{i}"))).collect();
    let r = invite(&app, &owner, &org, &five).await;
    // No wait lets a batch larger than the whole quota through: no Retry-After promising a
    // retry that is refused again, but a request to split the batch.
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "{:?}", r.body);
    assert!(r.retry_after.is_none());
    assert!(r.body["detail"].as_str().unwrap().contains("split the batch"));
    assert_eq!(invite(&app, &owner, &org, &five[..3]).await.status, 200, "a batch within the quota passes");
}
