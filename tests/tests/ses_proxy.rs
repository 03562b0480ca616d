//! The SES proxy (`roster_tests::ses_proxy`) makes the SES v2 emulator answer as SES does at
//! its sending rate: the real SDK client sees `TooManyRequestsException` over the rate and a
//! parsed `GetAccount`, while everything else reaches the emulator unchanged. Also checks the
//! SES event fixtures (`tests/fixtures/ses-events/`) have what the events handler reads.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::retry::RetryConfig;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::send_email::{SendEmailError, SendEmailOutput};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use roster_tests::ses_proxy::{RATE_EXCEEDED, SesProxy, SesStats};
use serde_json::Value;

fn upstream() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SESV2");
    assert!(endpoint.is_ok(), "AWS_ENDPOINT_URL_SESV2 is not set: run the tests with `make test`");
    endpoint.unwrap_or_default()
}

/// An SDK client through `proxy`; without retries, so each call is one request and the
/// proxy's answer is what the caller sees.
async fn client(proxy: &SesProxy) -> Client {
    let sdk = roster::sdk::load_config().await;
    let config = aws_sdk_sesv2::config::Builder::from(&sdk)
        .endpoint_url(proxy.endpoint())
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

fn unique(label: &str) -> String {
    format!("{label} {}", uuid::Uuid::new_v4())
}

async fn send(client: &Client, subject: &str) -> Result<SendEmailOutput, SdkError<SendEmailError>> {
    let text = Content::builder().data("Hello").build().expect("content");
    let message = Message::builder()
        .subject(Content::builder().data(subject).build().expect("subject"))
        .body(Body::builder().text(text).build())
        .build();
    client
        .send_email()
        .from_email_address("roster@example.test")
        .destination(Destination::builder().to_addresses("someone@example.test").build())
        .content(EmailContent::builder().simple(message).build())
        .send()
        .await
}

fn is_too_many_requests(result: &Result<SendEmailOutput, SdkError<SendEmailError>>) -> bool {
    match result {
        Err(error) => matches!(error.as_service_error(), Some(SendEmailError::TooManyRequestsException(_))),
        Ok(_) => false,
    }
}

/// A plain HTTP exchange: status, headers and body as sent.
async fn raw(method: &str, url: &str, body: &str) -> (u16, hyper::HeaderMap, Bytes) {
    let client: HttpClient<HttpConnector, Full<Bytes>> =
        HttpClient::builder(TokioExecutor::new()).build(HttpConnector::new());
    let request = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("a request");
    let response = client.request(request).await.expect("an answer");
    let (parts, body) = response.into_parts();
    (parts.status.as_u16(), parts.headers, body.collect().await.expect("a body").to_bytes())
}

/// The emulator's store: every email it was sent.
async fn stored_subjects() -> Vec<String> {
    let (status, _, body) = raw("GET", &format!("{}/store", upstream()), "").await;
    assert_eq!(status, 200);
    let store: Value = serde_json::from_slice(&body).expect("the store as JSON");
    store["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .filter_map(|email| email["subject"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn over_the_rate_the_sdk_sees_too_many_requests() {
    let proxy = SesProxy::start(&upstream());
    proxy.set_rate(Some(2.0));
    let client = client(&proxy).await;
    let mut results = Vec::new();
    for i in 0..4 {
        results.push(send(&client, &unique(&format!("burst {i}"))).await);
    }
    assert!(results[0].is_ok() && results[1].is_ok(), "a burst of the rate passes: {results:?}");
    assert!(results[2..].iter().all(is_too_many_requests), "then refused: {results:?}");
    let Err(error) = &results[2] else { unreachable!() };
    let service_error = error.as_service_error().expect("a service error");
    assert_eq!(service_error.code(), Some("TooManyRequestsException"));
    assert_eq!(service_error.message(), Some(RATE_EXCEEDED));
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(429));
    assert_eq!(proxy.stats(), SesStats { accepted: 2, throttled: 2, failed: 0, upstream_errors: 0 });
    assert_eq!(proxy.accepted_at().len(), 2);

    // The bucket refills at the rate: one more after half a second at 2 per second.
    tokio::time::sleep(Duration::from_millis(550)).await;
    assert!(send(&client, &unique("refilled")).await.is_ok());
    assert!(is_too_many_requests(&send(&client, &unique("again")).await));
}

#[tokio::test]
async fn the_refusal_on_the_wire_is_ses_v2_throttling() {
    let proxy = SesProxy::start(&upstream());
    proxy.throttle_for(Duration::from_secs(30));
    let (status, headers, body) =
        raw("POST", &format!("{}/v2/email/outbound-emails", proxy.endpoint()), "{}").await;
    assert_eq!(status, 429);
    assert_eq!(
        headers.get("x-amzn-errortype").and_then(|v| v.to_str().ok()),
        Some("TooManyRequestsException")
    );
    assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
    assert!(headers.contains_key("x-amzn-requestid"));
    assert_eq!(&body[..], br#"{"message":"Maximum sending rate exceeded."}"#);
}

#[tokio::test]
async fn a_paced_sender_keeps_to_the_rate_and_loses_nothing() {
    let proxy = SesProxy::start(&upstream());
    let rate = 10.0;
    proxy.set_rate(Some(rate));
    let client = client(&proxy).await;
    let subjects: Vec<String> = (0..25).map(|i| unique(&format!("paced {i}"))).collect();
    // A sender that retries a refusal after a pause, as the invitation sender must.
    let started = Instant::now();
    for subject in &subjects {
        loop {
            let result = send(&client, subject).await;
            if is_too_many_requests(&result) {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            result.expect("sent");
            break;
        }
    }
    let stats = proxy.stats();
    assert_eq!(stats.accepted, 25);
    assert!(stats.throttled > 0, "the sender went faster than the rate and was refused");
    // Burst of 10, then 10 per second: the last 15 take at least 1.5 s.
    assert!(started.elapsed() >= Duration::from_millis(1400), "{:?}", started.elapsed());
    // In any second: at most the burst plus one second's refill.
    assert!(proxy.max_in_window(Duration::from_secs(1)) <= 20);
    // After the burst, never more than the rate (plus the edge token) in any second.
    let after_burst: Vec<Instant> = proxy.accepted_at().into_iter().skip(10).collect();
    assert!(roster_tests::ses_proxy::max_in_window(&after_burst, Duration::from_millis(999)) <= 11);
    let stored = stored_subjects().await;
    assert!(subjects.iter().all(|s| stored.contains(s)), "every accepted email reached the emulator");
}

#[tokio::test]
async fn a_throttle_window_refuses_everything_until_it_ends() {
    let proxy = SesProxy::start(&upstream());
    let client = client(&proxy).await;
    proxy.throttle_for(Duration::from_millis(400));
    assert!(is_too_many_requests(&send(&client, &unique("in window")).await));
    assert!(is_too_many_requests(&send(&client, &unique("in window")).await));
    tokio::time::sleep(Duration::from_millis(450)).await;
    let subject = unique("after window");
    send(&client, &subject).await.expect("sent after the window");
    assert_eq!(proxy.stats().throttled, 2);
    assert_eq!(proxy.refused(), 2);
    assert!(stored_subjects().await.contains(&subject));
}

#[tokio::test]
async fn injected_failures_are_transient_500s() {
    let proxy = SesProxy::start(&upstream());
    let client = client(&proxy).await;
    proxy.fail_next(1);
    let failed = send(&client, &unique("failing")).await.expect_err("failed");
    assert_eq!(failed.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert_eq!(failed.as_service_error().and_then(|e| e.code()), Some("InternalFailure"));
    send(&client, &unique("after the failure")).await.expect("sent");
    assert_eq!(proxy.stats(), SesStats { accepted: 1, throttled: 0, failed: 1, upstream_errors: 0 });

    // With the SDK's standard retries a single failure is invisible to the caller.
    proxy.fail_next(1);
    let sdk = roster::sdk::load_config().await;
    let retrying =
        Client::from_conf(aws_sdk_sesv2::config::Builder::from(&sdk).endpoint_url(proxy.endpoint()).build());
    send(&retrying, &unique("retried")).await.expect("sent on the retry");
    assert_eq!(proxy.stats().failed, 2);
}

#[tokio::test]
async fn get_account_is_answered_with_the_account_rate() {
    let proxy = SesProxy::start(&upstream());
    proxy.set_account_rate(Some(14.0));
    let client = client(&proxy).await;
    send(&client, &unique("counted")).await.expect("sent");
    let account = client.get_account().send().await.expect("GetAccount parses");
    let quota = account.send_quota().expect("a send quota");
    assert_eq!(quota.max_send_rate(), 14.0);
    assert_eq!(quota.max24_hour_send(), 50_000.0);
    assert_eq!(quota.sent_last24_hours(), 1.0);
    assert!(account.sending_enabled());
    assert!(account.production_access_enabled());
    assert!(!account.dedicated_ip_auto_warmup_enabled());

    // Unset, GetAccount is the emulator's own answer, byte for byte.
    proxy.set_account_rate(None);
    let direct = raw("GET", &format!("{}/v2/email/account", upstream()), "").await;
    let proxied = raw("GET", &format!("{}/v2/email/account", proxy.endpoint()), "").await;
    assert_eq!((direct.0, &direct.2), (proxied.0, &proxied.2));
}

#[tokio::test]
async fn everything_else_is_forwarded() {
    let proxy = SesProxy::start(&upstream());
    let client = client(&proxy).await;
    let subject = unique("forwarded");
    let sent = send(&client, &subject).await.expect("sent through the proxy");
    // The emulator's store, read through the proxy, holds it under the id SendEmail gave.
    let (status, _, body) = raw("GET", &format!("{}/store", proxy.endpoint()), "").await;
    assert_eq!(status, 200);
    let store: Value = serde_json::from_slice(&body).expect("the store as JSON");
    let email = store["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .find(|email| email["subject"] == subject.as_str())
        .expect("the email in the emulator's store");
    assert_eq!(email["messageId"].as_str(), sent.message_id());
    assert_eq!(email["destination"]["to"][0], "someone@example.test");
    // The emulator's own errors pass through unchanged, and are not counted as sent.
    let direct = raw("POST", &format!("{}/v2/email/outbound-emails", upstream()), "{}").await;
    let proxied = raw("POST", &format!("{}/v2/email/outbound-emails", proxy.endpoint()), "{}").await;
    assert_eq!((direct.0, &direct.2), (proxied.0, &proxied.2));
    assert_eq!(proxy.stats(), SesStats { accepted: 1, throttled: 0, failed: 0, upstream_errors: 1 });
}

const FIXTURES: [(&str, &str, &str); 8] = [
    ("send.json", "Email Sent", "Send"),
    ("delivery.json", "Email Delivered", "Delivery"),
    ("bounce-permanent.json", "Email Bounced", "Bounce"),
    ("bounce-transient.json", "Email Bounced", "Bounce"),
    ("bounce-suppressed.json", "Email Bounced", "Bounce"),
    ("complaint.json", "Email Complaint Received", "Complaint"),
    ("reject.json", "Email Rejected", "Reject"),
    ("rendering-failure.json", "Email Rendering Failed", "Rendering Failure"),
];

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/ses-events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

#[test]
fn ses_event_fixtures_have_what_the_handler_reads() {
    for (name, detail_type, event_type) in FIXTURES {
        let event = fixture(name);
        assert_eq!(event["version"], "0", "{name}");
        assert_eq!(event["source"], "aws.ses", "{name}");
        assert_eq!(event["detail-type"], detail_type, "{name}");
        assert!(event["id"].is_string() && event["time"].is_string(), "{name}");
        assert_eq!(
            event["resources"][0], "arn:aws:ses:us-east-1:123456789012:configuration-set/roster-invitations",
            "{name}"
        );
        let detail = &event["detail"];
        assert_eq!(detail["eventType"], event_type, "{name}");
        let mail = &detail["mail"];
        assert!(mail["messageId"].as_str().is_some_and(|id| !id.is_empty()), "{name}");
        let tags = &mail["tags"];
        assert_eq!(tags["roster-org"], serde_json::json!(["org-fixture"]), "{name}");
        assert_eq!(tags["roster-invitation"], serde_json::json!(["inv-fixture"]), "{name}");
        assert_eq!(tags["roster-send"], serde_json::json!(["1"]), "{name}");
        assert_eq!(tags["ses:configuration-set"], serde_json::json!(["roster-invitations"]), "{name}");
        // The placeholders appear only as tag values, so replacing them touches nothing else.
        let text = event.to_string();
        assert_eq!(text.matches("org-fixture").count(), 1, "{name}");
        assert_eq!(text.matches("inv-fixture").count(), 1, "{name}");
        // The object named by the event type is there.
        let key =
            if event_type == "Rendering Failure" { "failure".to_owned() } else { event_type.to_lowercase() };
        assert!(detail[key.as_str()].is_object(), "{name}: detail.{key}");
    }
    let bounce = |name| {
        let bounce = fixture(name)["detail"]["bounce"].clone();
        assert!(bounce["bouncedRecipients"][0]["emailAddress"].is_string(), "{name}");
        (
            bounce["bounceType"].as_str().map(str::to_owned),
            bounce["bounceSubType"].as_str().map(str::to_owned),
        )
    };
    let pair = |t: &str, s: &str| (Some(t.to_owned()), Some(s.to_owned()));
    assert_eq!(bounce("bounce-permanent.json"), pair("Permanent", "General"));
    assert_eq!(bounce("bounce-transient.json"), pair("Transient", "General"));
    assert_eq!(bounce("bounce-suppressed.json"), pair("Permanent", "OnAccountSuppressionList"));
    assert!(
        fixture("complaint.json")["detail"]["complaint"]["complainedRecipients"][0]["emailAddress"]
            .is_string()
    );
}
