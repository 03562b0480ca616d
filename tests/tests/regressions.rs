//! One test per defect found by combining paths (issue "membership state right in every
//! combination"), each written as the defect was reproduced.

use std::time::Duration;

use roster::App;
use roster_tests::harness::{TestApp, TestResponse, User, call_app};
use serde_json::{Value, json};

async fn invite(app: &TestApp, by: &User, org: &str, body: Value) -> TestResponse {
    app.call(Some(by), "POST", &format!("/orgs/{org}/invitations"), Some(body)).await
}

fn statuses(response: &TestResponse) -> Vec<&str> {
    let results =
        response.body["results"].as_array().unwrap_or_else(|| panic!("results: {:?}", response.body));
    results.iter().map(|r| r["status"].as_str().expect("a status")).collect()
}

async fn link_token(app: &TestApp, by: &User, org: &str) -> String {
    let link = app.call(Some(by), "POST", &format!("/orgs/{org}/invite-links"), None).await;
    assert_eq!(link.status, 201, "{:?}", link.body);
    link.body["link"]["token"].as_str().unwrap().to_owned()
}

async fn accept(app: &TestApp, user: &User, token: &str) -> TestResponse {
    app.call(Some(user), "POST", "/invitations/accept", Some(json!({ "token": token }))).await
}

async fn preview(app: &TestApp, token: &str) -> u16 {
    app.call(Some(&User::new("someone")), "POST", "/invitations/preview", Some(json!({ "token": token })))
        .await
        .status
}

async fn list(app: &TestApp, by: &User, path: &str, field: &str) -> Vec<Value> {
    let response = app.call(Some(by), "GET", path, None).await;
    assert_eq!(response.status, 200, "{path}: {:?}", response.body);
    response.body[field].as_array().cloned().unwrap_or_default()
}

/// Every token the emulator mailed to `address`, oldest first.
async fn tokens_mailed_to(app: &TestApp, address: &str) -> Vec<String> {
    app.mailbox(address)
        .await
        .iter()
        .map(|mail| {
            let text = mail["body"]["text"].as_str().expect("text part");
            let start = text.find("token=").expect("accept link") + "token=".len();
            text[start..].split_whitespace().next().unwrap().to_owned()
        })
        .collect()
}

/// Defect 1: Bob, invited by email, joins through a link instead. Removing him (or him
/// leaving) answered 409 forever, because his address slot was the invitation's.
#[tokio::test]
async fn a_member_who_joined_by_link_while_invited_can_be_removed_and_can_leave() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let bob = app.user("bob");
    let invited = invite(&app, &owner, &org, json!({ "invitations": [{ "email": bob.email }] })).await;
    assert_eq!(statuses(&invited), ["invited"]);
    let token = link_token(&app, &owner, &org).await;
    assert_eq!(accept(&app, &bob, &token).await.status, 200);
    // Joining consumed the invitation to his address: it no longer holds a seat or a row.
    assert!(list(&app, &owner, &format!("/orgs/{org}/invitations"), "invitations").await.is_empty());
    let again = invite(&app, &owner, &org, json!({ "invitations": [{ "email": bob.email }] })).await;
    assert_eq!(statuses(&again), ["already_member"]);

    let removed = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/members/bob"), None).await;
    assert_eq!(removed.status, 204, "{:?}", removed.body);
    assert_eq!(accept(&app, &bob, &token).await.status, 200, "invited again, by the same link");
    let left = app.call(Some(&bob), "DELETE", &format!("/orgs/{org}/members/bob"), None).await;
    assert_eq!(left.status, 204, "{:?}", left.body);
    let free = invite(&app, &owner, &org, json!({ "invitations": [{ "email": bob.email }] })).await;
    assert_eq!(statuses(&free), ["invited"], "leaving freed the address");
}

/// Defect 1, other shapes: two accounts with one address, and a one-org lock naming another
/// organization (written while the setting was on).
#[tokio::test]
async fn members_sharing_an_address_or_locked_elsewhere_can_be_removed() {
    let app = TestApp::spawn_with(|c| c.one_org_per_user = true).await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let address = app.email("shared");
    let (first, second) = (User::new("first").with_email(&address), User::new("second").with_email(&address));
    // `first` owns another organization, and its lock, made while the setting was on.
    app.create_org(&first, "Elsewhere").await;
    let relaxed = App {
        config: roster::Config { one_org_per_user: false, ..app.app.config.clone() },
        store: roster::store::Store::new(app.dynamo.clone(), app.table()),
        mailer: roster::mail::Mailer::new(
            aws_sdk_sesv2::config::Builder::from(&roster::sdk::load_config().await).build(),
            None,
        ),
        queue: roster::mail::queue::EmailQueue::new((&roster::sdk::load_config().await).into(), None),
        clock: app.app.clock.clone(),
        catalog: roster::domain::permission::Catalog::deployed().expect("the deployed catalog"),
        accounts: None,
    };
    let token = link_token(&app, &owner, &org).await;
    for user in [&first, &second] {
        let joined =
            call_app(&relaxed, Some(user), "POST", "/invitations/accept", Some(json!({ "token": token })))
                .await;
        assert_eq!(joined.status, 200, "{:?}", joined.body);
    }
    let taken = invite(&app, &owner, &org, json!({ "invitations": [{ "email": address }] })).await;
    assert_eq!(statuses(&taken), ["already_member"]);

    let removed = app
        .call(
            Some(&owner),
            "POST",
            &format!("/orgs/{org}/members/remove"),
            Some(json!({ "userIds": ["first"] })),
        )
        .await;
    assert_eq!(statuses(&removed), ["removed"]);
    let still = invite(&app, &owner, &org, json!({ "invitations": [{ "email": address }] })).await;
    assert_eq!(statuses(&still), ["already_member"], "`second` still has the address");
    let left = app.call(Some(&second), "DELETE", &format!("/orgs/{org}/members/second"), None).await;
    assert_eq!(left.status, 204, "{:?}", left.body);
    let free = invite(&app, &owner, &org, json!({ "invitations": [{ "email": address }] })).await;
    assert_eq!(statuses(&free), ["invited"]);
    // `first`'s lock still names their own organization: joining a third one is refused.
    let third = app.create_org(&app.user("third"), "Third").await;
    let token = link_token(&app, &app.user("third"), &third).await;
    assert_eq!(accept(&app, &first, &token).await.code(), "already_in_org");
}

/// Defect 2: a batch answered one error for the whole request after earlier items were
/// committed (the bulk removal of the issue, with Bob). Every item gets its own result, in
/// request order. (For invite batches, `hot_items::concurrent_batches_by_one_admin_do_not_
/// fail_addresses` reproduces the whole-request failure.)
#[tokio::test]
async fn batches_answer_every_item() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    // Bob, as in the issue: invited by email, then joined by link. Before the fix his removal
    // could not be written, and the batch answered 409 after removing Carol.
    let invited =
        invite(&app, &owner, &org, json!({ "invitations": [{ "email": app.user("bob").email }] })).await;
    assert_eq!(statuses(&invited), ["invited"]);
    let token = link_token(&app, &owner, &org).await;
    for name in ["carol", "bob", "dave"] {
        assert_eq!(accept(&app, &app.user(name), &token).await.status, 200);
    }
    let removed = app
        .call(
            Some(&owner),
            "POST",
            &format!("/orgs/{org}/members/remove"),
            Some(json!({ "userIds": ["carol", "nobody", "owner", "bob", "carol"] })),
        )
        .await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    assert_eq!(statuses(&removed), ["removed", "not_found", "forbidden", "removed"]);
    let left = list(&app, &owner, &format!("/orgs/{org}/members"), "members").await;
    assert_eq!(left.len(), 2, "owner and dave");

    let admin = app.user("dave");
    let promoted = app
        .call(Some(&owner), "PATCH", &format!("/orgs/{org}/members/dave"), Some(json!({ "role": "admin" })))
        .await;
    assert_eq!(promoted.status, 200);
    let batch = json!({ "invitations": [
        { "email": app.email("new") }, { "email": "not-an-address" }, { "email": admin.email },
        { "email": app.email("boss"), "role": "owner" }, { "email": app.email("NEW") },
    ] });
    let invited = invite(&app, &admin, &org, batch.clone()).await;
    assert_eq!(statuses(&invited), ["invited", "invalid_email", "already_member", "forbidden_role"]);
    let repeated = invite(&app, &admin, &org, batch).await;
    assert_eq!(statuses(&repeated), ["already_invited", "invalid_email", "already_member", "forbidden_role"]);
}

/// Defect 3: resending an expired invitation made it pending again without taking a seat.
#[tokio::test]
async fn resending_an_expired_invitation_takes_a_seat() {
    let app = TestApp::spawn_with(|c| c.max_members = Some(3)).await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let short = json!({ "invitations": [{ "email": app.email("early") }], "expiresInHours": 1 });
    let early = invite(&app, &owner, &org, short).await;
    let early_id = early.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
    let long = invite(&app, &owner, &org, json!({ "invitations": [{ "email": app.email("late") }] })).await;
    assert_eq!(statuses(&long), ["invited"]);
    app.advance(Duration::from_secs(3601));
    // The expired invitation holds no seat: one is free, and a new invitation takes it.
    let third = invite(&app, &owner, &org, json!({ "invitations": [{ "email": app.email("third") }] })).await;
    assert_eq!(statuses(&third), ["invited"]);
    let resend = format!("/orgs/{org}/invitations/{early_id}/resend");
    let full = app.call(Some(&owner), "POST", &resend, None).await;
    assert_eq!((full.status, full.code()), (409, "seat_limit"), "{:?}", full.body);

    // With a seat free, the resend takes it, and the next invitation finds none.
    let third_id = third.body["results"][0]["invitation"]["id"].as_str().unwrap();
    let revoked =
        app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/invitations/{third_id}"), None).await;
    assert_eq!(revoked.status, 204);
    let resent = app.call(Some(&owner), "POST", &resend, None).await;
    assert_eq!(resent.status, 200, "{:?}", resent.body);
    assert_eq!(resent.body["invitation"]["status"], "pending");
    let over = invite(&app, &owner, &org, json!({ "invitations": [{ "email": app.email("fourth") }] })).await;
    assert_eq!((over.status, over.code()), (409, "seat_limit"));
}

/// Defect 4: under a seat limit, repeating a batch was refused whole (it counted addresses
/// already invited or already members as new seats).
#[tokio::test]
async fn repeating_a_batch_under_a_seat_limit_answers_per_address() {
    let app = TestApp::spawn_with(|c| c.max_members = Some(3)).await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let batch = json!({ "invitations": [{ "email": app.email("a") }, { "email": app.email("b") }, { "email": owner.email }] });
    assert_eq!(
        statuses(&invite(&app, &owner, &org, batch.clone()).await),
        ["invited", "invited", "already_member"]
    );
    let repeated = invite(&app, &owner, &org, batch).await;
    assert_eq!(repeated.status, 200, "{:?}", repeated.body);
    assert_eq!(statuses(&repeated), ["already_invited", "already_invited", "already_member"]);
    let more = json!({ "invitations": [{ "email": app.email("a") }, { "email": app.email("c") }] });
    let refused = invite(&app, &owner, &org, more).await;
    assert_eq!((refused.status, refused.code()), (409, "seat_limit"), "one new seat, none free");
}

/// Defect 5: resend racing revoke left the resent token working after the revoke; re-invite
/// racing resend of an expired invitation deleted the freshly resent one.
#[tokio::test]
async fn resend_races_revoke_and_reinvite_without_stray_tokens() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    for round in 0..10 {
        let address = app.email(&format!("race{round}"));
        let invited = invite(&app, &owner, &org, json!({ "invitations": [{ "email": address }] })).await;
        let id = invited.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
        let resend_path = format!("/orgs/{org}/invitations/{id}/resend");
        let revoke_path = format!("/orgs/{org}/invitations/{id}");
        let (resent, revoked) = tokio::join!(
            app.call(Some(&owner), "POST", &resend_path, None),
            app.call(Some(&owner), "DELETE", &revoke_path, None),
        );
        assert!(matches!(resent.status, 200 | 404), "{:?}", resent.body);
        assert!(matches!(revoked.status, 204 | 404), "{:?}", revoked.body);
        let live = tokens_mailed_to(&app, &address).await;
        let mut previewable = 0;
        for token in &live {
            previewable += usize::from(preview(&app, token).await == 200);
        }
        if revoked.status == 204 {
            assert_eq!(previewable, 0, "round {round}: a token outlived the revoke");
        } else {
            assert_eq!(previewable, 1, "round {round}");
        }
    }

    for round in 0..10 {
        let address = app.email(&format!("expired{round}"));
        let short = json!({ "invitations": [{ "email": address }], "expiresInHours": 1 });
        let invited = invite(&app, &owner, &org, short).await;
        let id = invited.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
        app.advance(Duration::from_secs(3601));
        let resend_path = format!("/orgs/{org}/invitations/{id}/resend");
        let again = json!({ "invitations": [{ "email": address }] });
        let (resent, reinvited) = tokio::join!(
            app.call(Some(&owner), "POST", &resend_path, None),
            invite(&app, &owner, &org, again)
        );
        let reinvited = statuses(&reinvited)[0].to_owned();
        // Exactly one of them made the address's pending invitation, and its email works.
        assert!(
            (resent.status == 200) != (reinvited == "invited"),
            "round {round}: resend {} and re-invite {reinvited}",
            resent.status
        );
        let pending: Vec<Value> = list(&app, &owner, &format!("/orgs/{org}/invitations"), "invitations")
            .await
            .into_iter()
            .filter(|i| i["email"] == address.as_str() && i["status"] == "pending")
            .collect();
        assert_eq!(pending.len(), 1, "round {round}");
        let latest = tokens_mailed_to(&app, &address).await;
        assert_eq!(preview(&app, latest.last().unwrap()).await, 200, "round {round}: the mailed token works");
    }
}

/// Defect 8: a caller who is not a member learned about bad input (400/415) before being
/// told the organization is not theirs.
#[tokio::test]
async fn non_members_get_404_whatever_their_input() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let suspended = app.user("sus");
    app.add_member(&owner, &org, &suspended, "member").await;
    app.suspend(&owner, &org, "sus").await;
    let outsider = app.user("outsider");
    let o = |p: &str| format!("/orgs/{org}{p}");
    let text = [("content-type".to_owned(), "text/plain".to_owned())];
    let json_type = [("content-type".to_owned(), "application/json".to_owned())];
    /// Method, path, headers and body of a request.
    type Case<'a> = (&'a str, String, &'a [(String, String)], &'a [u8]);
    let cases: Vec<Case> = vec![
        ("POST", o("/invitations"), &json_type, b"{not json"),
        ("POST", o("/invitations"), &text, b"hello"),
        ("POST", o("/invitations"), &json_type, br#"{"invitations":[]}"#),
        ("POST", o("/invite-links"), &json_type, br#"{"maxUses":0}"#),
        ("PATCH", o("/members/owner"), &json_type, br#"{"role":"emperor"}"#),
        ("POST", o("/transfer-ownership"), &json_type, br#"{"user":1}"#),
        ("POST", o("/members/remove"), &json_type, br#"{"userIds":[]}"#),
        ("GET", o("/members?limit=0"), &[], b""),
        ("GET", o("/members?role=emperor"), &[], b""),
        ("GET", o("/members?cursor=garbage"), &[], b""),
        ("GET", o("/audit?cursor=garbage"), &[], b""),
        ("GET", o("/invitations?limit=1000"), &[], b""),
        ("GET", o("/invite-links?cursor=x"), &[], b""),
    ];
    for (method, path, headers, body) in cases {
        let response = app.call_raw(Some(&outsider), method, &path, headers, body).await;
        assert_eq!((response.status, response.code()), (404, "not_found"), "{method} {path}");
        let response = app.call_raw(Some(&suspended), method, &path, headers, body).await;
        assert_eq!((response.status, response.code()), (403, "suspended"), "{method} {path}");
        let response = app.call_raw(Some(&owner), method, &path, headers, body).await;
        assert!(matches!(response.status, 400 | 415), "{method} {path}: the owner is told what is wrong");
    }
}

/// Defect 9: `emailDelivery` said "sent" before SES had accepted anything; a seat-limited
/// batch of 100 re-counted seats for every address.
#[tokio::test]
async fn delivery_is_recorded_only_once_ses_accepted_and_batches_stay_small() {
    let app = TestApp::spawn_with(|c| c.max_members = Some(500)).await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let (ses, release) = slow_ses().await;
    let slow = app.with_ses_endpoint(&ses).await;
    let address = app.email("slow");
    let answered = invite(&app, &owner, &org, json!({ "invitations": [{ "email": address }] })).await;
    assert_eq!(statuses(&answered), ["invited"]);
    assert_eq!(answered.body["results"][0]["invitation"]["emailDelivery"], "queued");
    // The sender, with SES slow to answer: until it has, the invitation says queued.
    let sending = tokio::spawn({
        let (queue, pace) = (app.queue.clone(), app.pace.clone());
        async move { queue.drain(&slow, &pace, 5).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let listed = list(&app, &owner, &format!("/orgs/{org}/invitations"), "invitations").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["emailDelivery"], "queued", "not sent before SES accepted it");
    release.notify_one();
    assert_eq!(sending.await.unwrap().failed, 0);
    let listed = list(&app, &owner, &format!("/orgs/{org}/invitations"), "invitations").await;
    assert_eq!(listed[0]["emailDelivery"], "sent");

    app.calls.take();
    let hundred: Vec<Value> = (0..100).map(|i| json!({ "email": app.email(&format!("many{i}")) })).collect();
    let batch = invite(&app, &owner, &org, json!({ "invitations": hundred })).await;
    assert!(statuses(&batch).iter().all(|s| *s == "invited"), "{:?}", batch.body);
    let dynamodb = app.calls.take().iter().filter(|c| c.starts_with("DynamoDB.")).count();
    // Reads of the context, one count of the seats, five transactions, one delivery write.
    assert!(dynamodb <= 10, "{dynamodb} DynamoDB requests for a seat-limited batch of 100");
}

/// An SES v2 endpoint that accepts every email, but answers the first only once released.
async fn slow_ses() -> (String, std::sync::Arc<tokio::sync::Notify>) {
    use http_body_util::Full;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let gate = release.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let gate = gate.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req| {
                    let gate = gate.clone();
                    async move {
                        gate.notified().await;
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(bytes::Bytes::from_static(br#"{"MessageId":"slow-1"}"#)))
                                .unwrap(),
                        )
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (address, release)
}

/// Found in review: an expired invitation whose address slot TTL deleted first (DynamoDB
/// deletes expired items in no set order), and whose address was invited again since, could
/// not be revoked (409 for as long as it stayed listed).
#[tokio::test]
async fn an_expired_invitation_that_lost_its_slot_can_still_be_revoked() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let address = app.email("late");
    let short = json!({ "invitations": [{ "email": address }], "expiresInHours": 1 });
    let first = invite(&app, &owner, &org, short).await;
    let old = first.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
    app.advance(Duration::from_secs(3601));
    // TTL takes the slot before the invitation.
    app.dynamo
        .delete_item()
        .table_name(app.table())
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(format!("ORG#{org}")))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(format!("EMAIL#{address}")))
        .send()
        .await
        .unwrap();
    let again = invite(&app, &owner, &org, json!({ "invitations": [{ "email": address }] })).await;
    assert_eq!(statuses(&again), ["invited"]);
    let revoked = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/invitations/{old}"), None).await;
    assert_eq!(revoked.status, 204, "{:?}", revoked.body);
    let listed = list(&app, &owner, &format!("/orgs/{org}/invitations"), "invitations").await;
    assert_eq!(listed.len(), 1, "the new invitation stays");
    assert_eq!(listed[0]["status"], "pending");
    let repeat = invite(&app, &owner, &org, json!({ "invitations": [{ "email": address }] })).await;
    assert_eq!(statuses(&repeat), ["already_invited"], "its slot was left alone");
}
