//! Invitation email off the request path (API.md "Email delivery"): the queue, the sender
//! within SES's rate, delivery status from SES's own events, and the abuse limits. Against
//! DynamoDB Local (conflicts emulated), moto's SQS and the SES emulator, with what the
//! emulators do not do produced by proxies: SES's sending rate and throttling
//! (`ses_proxy`), DynamoDB's transaction conflicts (`conflicts`).

use std::time::Duration;

use roster::handlers::send_invitations::Pace;
use roster_tests::harness::{TestApp, User, service_claims};
use roster_tests::ses_proxy::{SesProxy, ses_event};
use serde_json::{Value, json};

async fn invite(
    app: &TestApp,
    by: &User,
    org: &str,
    addresses: &[String],
) -> roster_tests::harness::TestResponse {
    let entries: Vec<Value> = addresses.iter().map(|a| json!({ "email": a })).collect();
    app.call(Some(by), "POST", &format!("/orgs/{org}/invitations"), Some(json!({ "invitations": entries })))
        .await
}

async fn invitations(app: &TestApp, by: &User, org: &str) -> Vec<Value> {
    let listed = app.call(Some(by), "GET", &format!("/orgs/{org}/invitations"), None).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    listed.body["invitations"].as_array().cloned().unwrap_or_default()
}

fn deliveries(listed: &[Value]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = listed
        .iter()
        .map(|i| (i["email"].as_str().unwrap().to_owned(), i["emailDelivery"].as_str().unwrap().to_owned()))
        .collect();
    all.sort();
    all
}

async fn feed(app: &TestApp, event: Value) -> bool {
    let answer = roster::handlers::email_events::handle(&app.app, event).await.expect("the event is handled");
    answer["moved"] == json!(true)
}

fn ses_upstream() -> String {
    std::env::var("AWS_ENDPOINT_URL_SESV2").expect("AWS_ENDPOINT_URL_SESV2 is set by the test command")
}

#[tokio::test]
async fn invite_answers_queued_and_the_sender_sends() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let addresses: Vec<String> = (0..3).map(|i| app.email(&format!("q{i}"))).collect();
    let answered = invite(&app, &alice, &org, &addresses).await;
    assert_eq!(answered.status, 200, "{:?}", answered.body);
    for result in answered.body["results"].as_array().unwrap() {
        assert_eq!(result["status"], "invited");
        assert_eq!(result["invitation"]["emailDelivery"], "queued");
    }
    // Nothing was sent while the person waited.
    for a in &addresses {
        assert!(app.mailbox_undrained(a).await.is_empty(), "{a} was mailed on the request path");
    }
    let drained = app.drain_mail().await;
    assert_eq!((drained.handled, drained.failed), (3, 0));
    for a in &addresses {
        assert_eq!(app.mailbox(a).await.len(), 1, "{a}");
    }
    assert!(deliveries(&invitations(&app, &alice, &org).await).iter().all(|(_, d)| d == "sent"));
    // The queue delivers at least once: a repeat of a message sends nothing more.
    let drained = app.drain_mail().await;
    assert_eq!(drained.handled, 0);
}

#[tokio::test]
async fn throttled_ses_delays_but_loses_no_email() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let proxy = SesProxy::start(&ses_upstream());
    let sender = app.with_ses_endpoint(&proxy.endpoint()).await;
    let addresses: Vec<String> = (0..5).map(|i| app.email(&format!("t{i}"))).collect();
    assert_eq!(invite(&app, &alice, &org, &addresses).await.status, 200);
    proxy.throttle_for(Duration::from_millis(1200));
    let pace = Pace::per_second(50.0);
    let mut rounds = 0;
    loop {
        rounds += 1;
        let drained = app.queue.drain(&sender, &pace, 10).await;
        if drained.handled == 0 || rounds > 10 {
            break;
        }
    }
    assert!(proxy.refused() > 0, "SES throttled some sends");
    for a in &addresses {
        assert_eq!(app.mailbox_undrained(a).await.len(), 1, "{a}: exactly one email");
    }
    assert!(deliveries(&invitations(&app, &alice, &org).await).iter().all(|(_, d)| d == "sent"));
}

#[tokio::test]
async fn the_sender_keeps_within_the_rate_getaccount_reports() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let proxy = SesProxy::start(&ses_upstream());
    // SES refuses past 5 a second, and GetAccount says so.
    proxy.set_rate(Some(5.0));
    proxy.set_account_rate(Some(5.0));
    let sender = app.with_ses_endpoint(&proxy.endpoint()).await;
    let pace = Pace::of(&sender).await;
    let addresses: Vec<String> = (0..12).map(|i| app.email(&format!("r{i}"))).collect();
    assert_eq!(invite(&app, &alice, &org, &addresses).await.status, 200);
    let drained = app.queue.drain(&sender, &pace, 10).await;
    assert_eq!(drained.failed, 0);
    assert_eq!(proxy.refused(), 0, "never throttled: the sender kept to the reported rate");
    assert!(
        proxy.max_in_window(Duration::from_secs(1)) <= 6,
        "{} in a second",
        proxy.max_in_window(Duration::from_secs(1))
    );
    assert_eq!(proxy.accepted_at().len(), 12);
}

#[tokio::test]
async fn a_poison_message_lands_in_the_dead_letter_queue() {
    let app = TestApp::spawn().await;
    app.queue.sqs.send_message().queue_url(&app.queue.url).message_body("not a send").send().await.unwrap();
    let drained = app.drain_mail().await;
    assert_eq!(drained.failed, drained.handled, "every attempt failed");
    assert_eq!(drained.handled as u32, app.app.config.mail.send_attempts);
    assert_eq!(app.queue.dead_letters().await, ["not a send"]);
}

#[tokio::test]
async fn an_email_that_keeps_failing_is_marked_failed_and_dead_lettered() {
    let app = TestApp::spawn_with(|c| c.mail.send_attempts = 2).await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let address = app.email("down");
    assert_eq!(invite(&app, &alice, &org, std::slice::from_ref(&address)).await.status, 200);
    // Port 9 (discard) is closed on loopback: SES cannot be reached.
    let offline = app.with_ses_endpoint("http://127.0.0.1:9").await;
    let drained = app.queue.drain(&offline, &app.pace, 10).await;
    assert_eq!((drained.handled, drained.failed), (2, 2));
    let listed = invitations(&app, &alice, &org).await;
    assert_eq!(listed[0]["emailDelivery"], "failed");
    assert_eq!(listed[0]["emailDeliveryReason"], "attempts_exhausted");
    assert_eq!(app.queue.dead_letters().await.len(), 1);
    assert!(app.mailbox(&address).await.is_empty());
    // A resend starts again at queued, and this time SES is there.
    let id = listed[0]["id"].as_str().unwrap();
    let resent = app.call(Some(&alice), "POST", &format!("/orgs/{org}/invitations/{id}/resend"), None).await;
    assert_eq!(resent.body["invitation"]["emailDelivery"], "queued");
    assert_eq!(app.mailbox(&address).await.len(), 1);
}

#[tokio::test]
async fn a_resend_while_queued_sends_only_the_new_link() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let ann = app.user("ann");
    let address = ann.email.clone().unwrap();
    let answered = invite(&app, &alice, &org, std::slice::from_ref(&address)).await;
    let id = answered.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let resent =
            app.call(Some(&alice), "POST", &format!("/orgs/{org}/invitations/{id}/resend"), None).await;
        assert_eq!(resent.status, 200, "{:?}", resent.body);
    }
    let drained = app.drain_mail().await;
    assert_eq!((drained.handled, drained.failed), (3, 0));
    let mail = app.mailbox(&address).await;
    assert_eq!(mail.len(), 1, "only the latest send is mailed");
    let token = app.token_mailed_to(&address).await;
    let accepted = app.call(Some(&ann), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
}

#[tokio::test]
async fn out_of_order_and_repeated_events_end_in_the_right_status() {
    // A complaint would pause the organization (one of its last 200 emails passes 0.1%); this
    // test resends after one.
    let app = TestApp::spawn_with(|c| c.mail.pause.complaint_basis_points = 10_000).await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let address = app.email("ev");
    let answered = invite(&app, &alice, &org, std::slice::from_ref(&address)).await;
    let id = answered.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
    app.drain_mail().await;
    let state = || async {
        let listed = invitations(&app, &alice, &org).await;
        (listed[0]["emailDelivery"].as_str().unwrap().to_owned(), listed[0]["emailDeliveryReason"].clone())
    };
    assert!(feed(&app, ses_event("delivery", &org, &id, 0)).await);
    // A late Send does not undo the delivery.
    assert!(!feed(&app, ses_event("send", &org, &id, 0)).await);
    assert_eq!(state().await.0, "delivered");
    // A late bounce counts, once however often SES repeats it.
    assert!(feed(&app, ses_event("bounce-permanent", &org, &id, 0)).await);
    assert!(!feed(&app, ses_event("bounce-permanent", &org, &id, 0)).await);
    assert_eq!(state().await, ("bounced".to_owned(), json!("permanent")));
    assert!(feed(&app, ses_event("complaint", &org, &id, 0)).await);
    assert_eq!(state().await.0, "complained");
    let audit = app.call(Some(&alice), "GET", &format!("/orgs/{org}/audit"), None).await;
    let actions: Vec<&str> =
        audit.body["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "invitation.email_bounced").count(), 1, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| **a == "invitation.email_complained").count(), 1, "{actions:?}");

    // A resend starts again at queued; the earlier send's events change nothing.
    let resent = app.call(Some(&alice), "POST", &format!("/orgs/{org}/invitations/{id}/resend"), None).await;
    assert_eq!(resent.body["invitation"]["emailDelivery"], "queued");
    app.drain_mail().await;
    assert_eq!(state().await, ("sent".to_owned(), Value::Null));
    assert!(!feed(&app, ses_event("delivery", &org, &id, 0)).await);
    assert_eq!(state().await.0, "sent");
    // An address on the account's suppression list: failed, with the reason.
    assert!(feed(&app, ses_event("bounce-suppressed", &org, &id, 1)).await);
    assert_eq!(state().await, ("failed".to_owned(), json!("suppressed")));
    // Events of another organization's id, or without Roster's tags, do nothing.
    let other = app.create_org(&alice, "Other").await;
    assert!(!feed(&app, ses_event("delivery", &other, &id, 1)).await);
    let mut untagged = ses_event("delivery", &org, &id, 1);
    untagged["detail"]["mail"]["tags"] = json!({});
    assert!(!feed(&app, untagged).await);
    for fixture in ["reject", "rendering-failure"] {
        let fresh = invite(&app, &alice, &org, &[app.email(fixture)]).await;
        let fresh_id = fresh.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
        app.drain_mail().await;
        assert!(feed(&app, ses_event(fixture, &org, &fresh_id, 0)).await, "{fixture}");
    }
    let reasons: Vec<Value> = invitations(&app, &alice, &org)
        .await
        .iter()
        .filter(|i| i["emailDelivery"] == "failed")
        .map(|i| i["emailDeliveryReason"].clone())
        .collect();
    for reason in ["rejected", "rendering_failure", "suppressed"] {
        assert!(reasons.contains(&json!(reason)), "{reason} in {reasons:?}");
    }
}

#[tokio::test]
async fn twenty_concurrent_batches_never_pass_the_quota() {
    let app = TestApp::spawn_with(|c| c.mail.quotas.org_per_hour = 50).await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let batches = (0..20).map(|b| {
        let addresses: Vec<String> = (0..5).map(|i| app.email(&format!("b{b}-{i}"))).collect();
        let (app, alice, org) = (&app, &alice, &org);
        async move { invite(app, alice, org, &addresses).await }
    });
    let answers = futures::future::join_all(batches).await;
    let mut invited = 0;
    for answer in &answers {
        match answer.status {
            200 => {
                let statuses: Vec<&str> = answer.body["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["status"].as_str().unwrap())
                    .collect();
                assert!(statuses.iter().all(|s| *s == "invited"), "{statuses:?}");
                invited += statuses.len();
            }
            429 => {
                assert_eq!(answer.code(), "rate_limited");
                let retry: u64 =
                    answer.retry_after.as_deref().expect("Retry-After").parse().expect("in seconds");
                assert!((1..=3600).contains(&retry), "{retry}");
            }
            other => panic!("answered {other}: {:?}", answer.body),
        }
    }
    assert!(invited <= 50, "{invited} invitations past a quota of 50");
    assert_eq!(invited, 50, "refusals only once the quota was used up");
    assert_eq!(invitations(&app, &alice, &org).await.len(), 50);
    // No batch half-sent: nothing of a refused batch was written or queued.
    assert_eq!(app.drain_mail().await.handled, 50);
}

#[tokio::test]
async fn the_inviters_hourly_quota_refuses_a_batch_whole_until_the_hour_passes() {
    let app = TestApp::spawn_with(|c| c.mail.quotas.inviter_per_hour = 3).await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let two: Vec<String> = (0..2).map(|i| app.email(&format!("h{i}"))).collect();
    assert_eq!(invite(&app, &alice, &org, &two).await.status, 200);
    let more: Vec<String> = (2..4).map(|i| app.email(&format!("h{i}"))).collect();
    let refused = invite(&app, &alice, &org, &more).await;
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"), "{:?}", refused.body);
    assert_eq!(invitations(&app, &alice, &org).await.len(), 2, "refused whole");
    // A resend counts too.
    let id = invitations(&app, &alice, &org).await[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/orgs/{org}/invitations/{id}/resend");
    let resend = || app.call(Some(&alice), "POST", &path, None);
    assert_eq!(resend().await.status, 200);
    assert_eq!(resend().await.code(), "rate_limited");
    app.advance(Duration::from_secs(3600));
    assert_eq!(invite(&app, &alice, &org, &more).await.status, 200, "a new hour");
}

#[tokio::test]
async fn bounces_past_the_threshold_pause_invitations_until_the_operator_lifts_it() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let addresses: Vec<String> = (0..12).map(|i| app.email(&format!("p{i}"))).collect();
    let answered = invite(&app, &alice, &org, &addresses).await;
    let ids: Vec<String> = answered.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["invitation"]["id"].as_str().unwrap().to_owned())
        .collect();
    app.drain_mail().await;
    // 10 hard bounces of the last 200 emails is 5%: not past it. Transient ones never count.
    for id in &ids[..10] {
        assert!(feed(&app, ses_event("bounce-permanent", &org, id, 0)).await);
    }
    assert!(feed(&app, ses_event("bounce-transient", &org, &ids[11], 0)).await);
    let shown = app.call(Some(&alice), "GET", &format!("/orgs/{org}"), None).await;
    assert!(shown.body["org"].get("invitationsPaused").is_none_or(Value::is_null), "{:?}", shown.body);
    // The eleventh passes it.
    assert!(feed(&app, ses_event("bounce-permanent", &org, &ids[10], 0)).await);
    let shown = app.call(Some(&alice), "GET", &format!("/orgs/{org}"), None).await;
    assert_eq!(shown.body["org"]["invitationsPaused"]["reason"], "bounces", "{:?}", shown.body);
    let paused = invite(&app, &alice, &org, &[app.email("later")]).await;
    assert_eq!((paused.status, paused.code()), (403, "invitations_paused"));
    let resend =
        app.call(Some(&alice), "POST", &format!("/orgs/{org}/invitations/{}/resend", ids[0]), None).await;
    assert_eq!((resend.status, resend.code()), (403, "invitations_paused"));

    // Only the deployment's operator lifts it: a roster/admin service, not the owner.
    let path = format!("/orgs/{org}/email-pause");
    let by_owner = app.call(Some(&alice), "DELETE", &path, None).await;
    assert_eq!(by_owner.status, 403);
    let lifted = call_app_as_operator(&app, &path).await;
    assert_eq!(lifted.status, 204, "{:?}", lifted.body);
    assert_eq!(invite(&app, &alice, &org, &[app.email("later")]).await.status, 200);
    let audit = app.call(Some(&alice), "GET", &format!("/orgs/{org}/audit"), None).await;
    let actions: Vec<&str> =
        audit.body["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"org.invitations_paused") && actions.contains(&"org.invitations_resumed"));
}

#[tokio::test]
async fn a_queued_email_of_a_paused_organization_is_not_sent() {
    let app = TestApp::spawn_with(|c| c.mail.pause.complaint_basis_points = 10).await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let first = invite(&app, &alice, &org, &[app.email("c0")]).await;
    let first_id = first.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
    app.drain_mail().await;
    let queued = app.email("c1");
    assert_eq!(invite(&app, &alice, &org, std::slice::from_ref(&queued)).await.status, 200);
    // One complaint of the last 200 emails passes 0.1%.
    assert!(feed(&app, ses_event("complaint", &org, &first_id, 0)).await);
    app.drain_mail().await;
    assert!(app.mailbox(&queued).await.is_empty());
    let listed = invitations(&app, &alice, &org).await;
    let held = listed.iter().find(|i| i["email"] == json!(queued)).unwrap();
    assert_eq!(
        (held["emailDelivery"].as_str(), held["emailDeliveryReason"].as_str()),
        (Some("failed"), Some("paused"))
    );
}

async fn call_app_as_operator(app: &TestApp, path: &str) -> roster_tests::harness::TestResponse {
    let claims = service_claims("dev-service", "roster/admin");
    roster_tests::harness::call_app_with_claims(&app.app, Some(&claims), "DELETE", path, None).await
}
