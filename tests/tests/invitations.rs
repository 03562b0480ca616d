//! Email invitations and invite links end to end, against DynamoDB Local and the SES
//! emulator, reading the sent mail back from the emulator.

use roster_tests::harness::{TestApp, User, call_app};
use serde_json::{Value, json};

async fn invite(app: &TestApp, by: &User, org: &str, entries: Value) -> Value {
    let response = app.call(Some(by), "POST", &format!("/orgs/{org}/invitations"), Some(entries)).await;
    assert_eq!(response.status, 200, "{:?}", response.body);
    response.body["results"].clone()
}

/// Invites one address with the default role.
async fn invite_one(app: &TestApp, by: &User, org: &str, address: &str) -> Value {
    invite(app, by, org, json!({ "invitations": [{ "email": address }] })).await
}

async fn accept(app: &TestApp, user: &User, token: &str) -> roster_tests::harness::TestResponse {
    app.call(Some(user), "POST", "/invitations/accept", Some(json!({ "token": token }))).await
}

async fn members(app: &TestApp, by: &User, org: &str) -> Vec<Value> {
    let response = app.call(Some(by), "GET", &format!("/orgs/{org}/members"), None).await;
    response.body["members"].as_array().cloned().unwrap_or_default()
}

async fn pending(app: &TestApp, by: &User, org: &str) -> Vec<Value> {
    let response = app.call(Some(by), "GET", &format!("/orgs/{org}/invitations"), None).await;
    assert_eq!(response.status, 200, "{:?}", response.body);
    response.body["invitations"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_emailed_link_works_and_hostile_text_is_escaped() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice");
    alice.name = Some("Alice\r\nBcc: evil@example.com".into());
    let line_break = app.call(Some(&alice), "POST", "/orgs", Some(json!({ "name": "Acme\nCorp" }))).await;
    assert_eq!((line_break.status, line_break.code()), (400, "invalid_request"), "names are one line");
    let org = app.create_org(&alice, "<script>alert(1)</script> & Co").await;
    let ann = app.email("ann");

    let results =
        invite(&app, &alice, &org, json!({ "invitations": [{ "email": ann, "role": "admin" }] })).await;
    assert_eq!(results[0]["status"], "invited");
    assert_eq!(results[0]["invitation"]["status"], "pending");
    assert_eq!(results[0]["invitation"]["emailDelivery"], "queued");

    let mail = app.mailbox(&ann).await;
    assert_eq!(mail.len(), 1);
    let subject = mail[0]["subject"].as_str().unwrap();
    assert!(!subject.contains('\n') && !subject.contains('\r'), "{subject:?}");
    assert!(subject.contains("<script>alert(1)</script> & Co"), "{subject}");
    let html = mail[0]["body"]["html"].as_str().unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"), "{html}");
    assert_eq!(html.matches(">Accept invitation</a>").count(), 1, "one button: {html}");
    let text = mail[0]["body"]["text"].as_str().unwrap();
    assert!(text.contains("https://app.example.test/invite?token="), "{text}");
    assert!(text.contains("as an admin") && text.contains("expires on"), "{text}");

    let token = app.token_mailed_to(&ann).await;
    let ann_user = app.user("ann");
    let preview =
        app.call(Some(&ann_user), "POST", "/invitations/preview", Some(json!({ "token": token }))).await;
    assert_eq!(preview.status, 200, "{:?}", preview.body);
    assert_eq!(preview.body["kind"], "email");
    assert_eq!(preview.body["email"], ann);
    assert_eq!(preview.body["role"], "admin");
    assert_eq!(preview.body["org"]["id"], org.as_str());

    let joined = accept(&app, &ann_user, &token).await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    assert_eq!(joined.body["membership"]["role"], "admin");
    assert_eq!(joined.body["membership"]["invitedBy"], "alice");
    assert_eq!(joined.body["org"]["memberCount"], 2);
    assert_eq!(members(&app, &alice, &org).await.len(), 2);
    assert!(pending(&app, &alice, &org).await.is_empty(), "the invitation was consumed");

    // The token is single use: reopened by the member, it answers their membership (API.md
    // "Accept": membership first, whatever the token's state); it admits nobody else, and its
    // preview says it was accepted.
    let again = accept(&app, &ann_user, &token).await;
    assert_eq!((again.status, &again.body["membership"]), (200, &joined.body["membership"]));
    let other = accept(&app, &User { sub: "ann-two".into(), ..ann_user.clone() }, &token).await;
    assert_eq!((other.status, other.code()), (404, "invitation_not_found"));
    let used = app.call(None, "POST", "/invitations/preview", Some(json!({ "token": token }))).await;
    assert_eq!((used.status, &used.body["status"]), (200, &json!("accepted")));
    let audit = app.call(Some(&alice), "GET", &format!("/orgs/{org}/audit"), None).await;
    assert_eq!(audit.audit_actions(), ["invitation.accepted", "invitation.created", "org.created"]);
    // The token never appears in the audit trail or the invitation list.
    assert!(!audit.body.to_string().contains(&token));
}

#[tokio::test]
async fn addresses_compare_case_insensitively_and_bind_the_invitation() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let mixed = format!("Ann@T{}.Example.COM", app.id);
    let lower = mixed.to_lowercase();
    let results = invite(
        &app,
        &alice,
        &org,
        json!({ "invitations": [{ "email": mixed }, { "email": format!("  {lower} ") }, { "email": "not-an-address" }] }),
    )
    .await;
    let statuses: Vec<&str> =
        results.as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["invited", "invalid_email"], "repeats collapse, in request order");
    assert_eq!(results[0]["email"], lower);
    let token = app.token_mailed_to(&lower).await;

    let bob = app.user("bob");
    let wrong = accept(&app, &bob, &token).await;
    assert_eq!((wrong.status, wrong.code()), (403, "email_mismatch"));
    let unverified = accept(&app, &User::new("ann2").with_email(&lower).unverified(), &token).await;
    assert_eq!((unverified.status, unverified.code()), (403, "email_mismatch"));
    assert_eq!(pending(&app, &alice, &org).await.len(), 1, "the invitation survives");

    let ann = User::new("ann").with_email(&lower);
    assert_eq!(accept(&app, &ann, &token).await.status, 200);
}

#[tokio::test]
async fn concurrent_accepts_of_one_invitation_make_one_membership() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let ann = app.user("ann");
    invite(&app, &alice, &org, json!({ "invitations": [{ "email": ann.email }] })).await;
    let token = app.token_mailed_to(ann.email.as_deref().unwrap()).await;

    let attempts = futures::future::join_all((0..8).map(|_| accept(&app, &ann, &token))).await;
    for a in &attempts {
        assert!(a.status == 200 || a.code() == "invitation_not_found", "{:?}", a.body);
    }
    assert_eq!(members(&app, &alice, &org).await.len(), 2);
    let audit = app.call(Some(&alice), "GET", &format!("/orgs/{org}/audit"), None).await;
    let accepted = audit.audit_actions().iter().filter(|a| **a == "invitation.accepted").count();
    assert_eq!(accepted, 1, "exactly one acceptance happened");
    let org_view = app.call(Some(&alice), "GET", &format!("/orgs/{org}"), None).await;
    assert_eq!(org_view.body["org"]["memberCount"], 2);
}

#[tokio::test]
async fn a_link_with_three_uses_admits_exactly_three_of_ten() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let link = app
        .call(Some(&alice), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({ "maxUses": 3 })))
        .await;
    assert_eq!(link.status, 201, "{:?}", link.body);
    assert_eq!(link.body["link"]["role"], "viewer", "links default to viewer");
    let token = link.body["link"]["token"].as_str().unwrap().to_owned();
    assert!(link.body["link"]["url"].as_str().unwrap().ends_with(&token));

    let users: Vec<User> = (0..10).map(|i| app.user(&format!("u{i}"))).collect();
    let outcomes = futures::future::join_all(users.iter().map(|u| accept(&app, u, &token))).await;
    let joined = outcomes.iter().filter(|o| o.status == 200).count();
    let exhausted = outcomes.iter().filter(|o| o.code() == "invitation_exhausted").count();
    assert_eq!(
        (joined, exhausted),
        (3, 7),
        "{:?}",
        outcomes.iter().map(|o| o.body.clone()).collect::<Vec<_>>()
    );
    assert_eq!(members(&app, &alice, &org).await.len(), 4);
    let links = app.call(Some(&alice), "GET", &format!("/orgs/{org}/invite-links"), None).await;
    assert_eq!(links.body["links"][0]["uses"], 3);
    assert!(links.body["links"][0].get("token").is_none(), "never shown again");
    let preview =
        app.call(Some(&users[9]), "POST", "/invitations/preview", Some(json!({ "token": token }))).await;
    // A preview says what became of any token that exists (accept is what refuses it).
    assert_eq!((preview.status, &preview.body["status"]), (200, &json!("used_up")));
}

#[tokio::test]
async fn concurrent_invites_of_one_address_leave_one_pending_invitation() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let body = json!({ "invitations": [{ "email": app.email("ann") }] });
    let results = futures::future::join_all((0..5).map(|_| invite(&app, &alice, &org, body.clone()))).await;
    let statuses: Vec<&str> = results.iter().map(|r| r[0]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "invited").count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == "already_invited").count(), 4, "{statuses:?}");
    assert_eq!(pending(&app, &alice, &org).await.len(), 1);
}

#[tokio::test]
async fn resend_and_revoke_kill_the_old_token() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let ann = app.user("ann");
    let address = ann.email.clone().unwrap();
    let results = invite_one(&app, &alice, &org, &address).await;
    let id = results[0]["invitation"]["id"].as_str().unwrap().to_owned();
    let first = app.token_mailed_to(&address).await;

    let resent = app.call(Some(&alice), "POST", &format!("/orgs/{org}/invitations/{id}/resend"), None).await;
    assert_eq!(resent.status, 200, "{:?}", resent.body);
    assert_eq!(app.mailbox(&address).await.len(), 2);
    let second = app.token_mailed_to(&address).await;
    assert_ne!(first, second);
    let old = accept(&app, &ann, &first).await;
    assert_eq!((old.status, old.code()), (404, "invitation_not_found"));

    let revoked = app.call(Some(&alice), "DELETE", &format!("/orgs/{org}/invitations/{id}"), None).await;
    assert_eq!(revoked.status, 204);
    for token in [&first, &second] {
        let preview =
            app.call(Some(&ann), "POST", "/invitations/preview", Some(json!({ "token": token }))).await;
        assert_eq!((preview.status, preview.code()), (404, "invitation_not_found"));
    }
    assert!(pending(&app, &alice, &org).await.is_empty());
    // The address is free again.
    let again = invite_one(&app, &alice, &org, &address).await;
    assert_eq!(again[0]["status"], "invited");
}

#[tokio::test]
async fn a_removed_member_can_be_invited_again() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let ann = app.user("ann");
    let address = ann.email.clone().unwrap();
    invite_one(&app, &alice, &org, &address).await;
    assert_eq!(accept(&app, &ann, &app.token_mailed_to(&address).await).await.status, 200);
    let member = invite_one(&app, &alice, &org, &address).await;
    assert_eq!(member[0]["status"], "already_member");

    let removed = app.call(Some(&alice), "DELETE", &format!("/orgs/{org}/members/ann"), None).await;
    assert_eq!(removed.status, 204);
    let gone = app.call(Some(&ann), "GET", &format!("/orgs/{org}"), None).await;
    assert_eq!(gone.status, 404, "access is lost at once");
    let again = invite_one(&app, &alice, &org, &address).await;
    assert_eq!(again[0]["status"], "invited");
    assert_eq!(accept(&app, &ann, &app.token_mailed_to(&address).await).await.status, 200);
}

#[tokio::test]
async fn a_refusing_queue_keeps_the_invitation_for_a_resend() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let address = app.email("ann");
    // A queue that does not exist: every message is refused, as by an unreachable queue.
    let offline = app
        .with_config(|c| c.mail.queue_url = Some(format!("{}-missing", c.mail.queue_url.clone().unwrap())))
        .await;
    let response = call_app(
        &offline,
        Some(&alice),
        "POST",
        &format!("/orgs/{org}/invitations"),
        Some(json!({ "invitations": [{ "email": address }] })),
    )
    .await;
    assert_eq!(response.status, 200, "{:?}", response.body);
    assert_eq!(response.body["results"][0]["status"], "email_failed");
    let listed = pending(&app, &alice, &org).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["emailDelivery"], "failed");
    assert_eq!(listed[0]["emailDeliveryReason"], "queue_refused");
    assert!(app.mailbox(&address).await.is_empty());

    let id = listed[0]["id"].as_str().unwrap();
    let failed_again =
        call_app(&offline, Some(&alice), "POST", &format!("/orgs/{org}/invitations/{id}/resend"), None).await;
    assert_eq!((failed_again.status, failed_again.code()), (502, "email_delivery_failed"));
    let resent = app.call(Some(&alice), "POST", &format!("/orgs/{org}/invitations/{id}/resend"), None).await;
    assert_eq!(resent.status, 200, "{:?}", resent.body);
    assert_eq!(resent.body["invitation"]["emailDelivery"], "queued");
    let token = app.token_mailed_to(&address).await;
    assert_eq!(pending(&app, &alice, &org).await[0]["emailDelivery"], "sent");
    assert_eq!(accept(&app, &User::new("ann").with_email(&address), &token).await.status, 200);
}

#[tokio::test]
async fn expired_invitations_are_refused_listed_as_expired_and_replaced() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let ann = app.user("ann");
    let address = ann.email.clone().unwrap();
    let first =
        invite(&app, &alice, &org, json!({ "invitations": [{ "email": address }], "expiresInHours": 1 }))
            .await;
    assert_eq!(first[0]["status"], "invited");
    let token = app.token_mailed_to(&address).await;
    // An hour and a second later, without sleeping: the app's clock moves, DynamoDB's TTL
    // (real time) has not deleted anything, as may happen in AWS for days.
    app.advance(std::time::Duration::from_secs(3601));

    let late = accept(&app, &ann, &token).await;
    assert_eq!((late.status, late.code()), (410, "invitation_expired"));
    let listed = pending(&app, &alice, &org).await;
    assert_eq!(listed[0]["status"], "expired");

    let replaced = invite_one(&app, &alice, &org, &address).await;
    assert_eq!(replaced[0]["status"], "invited");
    let listed = pending(&app, &alice, &org).await;
    assert_eq!(listed.len(), 1, "the expired one was replaced");
    assert_eq!(listed[0]["status"], "pending");
    assert_eq!(accept(&app, &ann, &app.token_mailed_to(&address).await).await.status, 200);
}

#[tokio::test]
async fn decline_and_preview_change_what_they_should() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let ann = app.user("ann");
    let address = ann.email.clone().unwrap();
    invite_one(&app, &alice, &org, &address).await;
    let token = app.token_mailed_to(&address).await;
    for _ in 0..2 {
        let preview = app
            .call(Some(&app.user("anyone")), "POST", "/invitations/preview", Some(json!({ "token": token })))
            .await;
        assert_eq!(preview.status, 200, "preview changes nothing");
    }
    let not_theirs = app
        .call(Some(&app.user("bob")), "POST", "/invitations/decline", Some(json!({ "token": token })))
        .await;
    assert_eq!((not_theirs.status, not_theirs.code()), (403, "email_mismatch"));
    let declined =
        app.call(Some(&ann), "POST", "/invitations/decline", Some(json!({ "token": token }))).await;
    assert_eq!(declined.status, 204);
    assert_eq!(accept(&app, &ann, &token).await.code(), "invitation_not_found");
    // Listed as declined until it expires; its address may be invited again.
    let listed = pending(&app, &alice, &org).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "declined");
    let preview = app.call(None, "POST", "/invitations/preview", Some(json!({ "token": token }))).await;
    assert_eq!(preview.body["status"], "declined");
    let again = app
        .call(
            Some(&alice),
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": address }] })),
        )
        .await;
    assert_eq!(again.body["results"][0]["status"], "invited", "{:?}", again.body);
    let id = listed[0]["id"].as_str().unwrap();
    let resend = app.call(Some(&alice), "POST", &format!("/orgs/{org}/invitations/{id}/resend"), None).await;
    assert_eq!((resend.status, resend.code()), (409, "conflict"), "a declined invitation is not resent");
    let garbage = accept(&app, &ann, "not-a-token").await;
    assert_eq!((garbage.status, garbage.code()), (404, "invitation_not_found"));
}

#[tokio::test]
async fn the_seat_limit_counts_members_and_pending_invitations() {
    let app = TestApp::spawn_with(|c| c.max_members = Some(3)).await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let too_many = app
        .call(
            Some(&alice),
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": app.email("a") }, { "email": app.email("b") }, { "email": app.email("c") }] })),
        )
        .await;
    assert_eq!((too_many.status, too_many.code()), (409, "seat_limit"));
    assert!(pending(&app, &alice, &org).await.is_empty(), "nothing was invited");

    let two = invite(
        &app,
        &alice,
        &org,
        json!({ "invitations": [{ "email": app.email("a") }, { "email": app.email("b") }] }),
    )
    .await;
    assert!(two.as_array().unwrap().iter().all(|r| r["status"] == "invited"));
    let link = app.call(Some(&alice), "POST", &format!("/orgs/{org}/invite-links"), None).await;
    let token = link.body["link"]["token"].as_str().unwrap().to_owned();
    let full = accept(&app, &app.user("c"), &token).await;
    assert_eq!((full.status, full.code()), (409, "seat_limit"));
    // An invitation already holds its seat: accepting it is fine.
    let a = User::new("a").with_email(&app.email("a"));
    assert_eq!(accept(&app, &a, &app.token_mailed_to(&app.email("a")).await).await.status, 200);
}
