//! Faults: throttling is retried by the SDK with back-off; DynamoDB going away mid-run
//! answers 503 `unavailable`, and leaves nothing half-written once it is back.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use roster::{App, Config};
use roster_tests::harness::{TestApp, TestResponse, User, call_app};
use roster_tests::table;
use serde_json::json;

/// A DynamoDB endpoint that throttles the first `throttled` requests, then answers `{}`.
async fn throttling_endpoint(throttled: usize) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let service = service_fn(move |_req| {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let (status, body) = if n < throttled {
                            (
                                400,
                                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#,
                            )
                        } else {
                            (200, "{}")
                        };
                        hyper::Response::builder()
                            .status(status)
                            .header("content-type", "application/x-amz-json-1.0")
                            .body(Full::new(Bytes::from(body)))
                    }
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

async fn app_with_dynamodb_at(endpoint: &str, table_name: &str) -> App {
    let sdk = roster::sdk::load_config().await;
    let dynamo = aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(endpoint).build();
    let config = Config {
        table_name: table_name.to_owned(),
        app_url: "https://app.example.test".into(),
        from_email: Some("roster@example.test".into()),
        invite_ttl_hours: 72,
        max_members: None,
        one_org_per_user: false,
        create_org_on_sign_up: false,
        single_owner: false,
        cursor_keys: Some(roster::domain::cursor::CursorKeys::generate().expect("OS random source")),
        branding: Default::default(),
        service_clients: Default::default(),
        mail: Default::default(),
        user_pool_id: None,
        password_policy: Default::default(),
    };
    App {
        store: roster::store::Store::new(aws_sdk_dynamodb::Client::from_conf(dynamo), table_name),
        mailer: roster::mail::Mailer::new((&sdk).into(), config.from_email.clone()),
        queue: roster::mail::queue::EmailQueue::new((&sdk).into(), None),
        config,
        clock: roster::domain::Clock::system(),
        catalog: roster::domain::permission::Catalog::deployed().expect("the deployed catalog"),
        accounts: None,
    }
}

const SOME_ORG: &str = "/orgs/org_0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn throttling_is_retried_by_the_sdk() {
    let (endpoint, seen) = throttling_endpoint(2).await;
    let app = app_with_dynamodb_at(&endpoint, "t").await;
    let response = call_app(&app, Some(&User::new("alice")), "GET", SOME_ORG, None).await;
    // Two throttled attempts, then an answer (no such org): the caller never saw the throttling.
    assert_eq!((response.status, response.code()), (404, "not_found"), "{:?}", response.body);
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn throttling_past_the_retries_is_503() {
    let (endpoint, seen) = throttling_endpoint(usize::MAX).await;
    let app = app_with_dynamodb_at(&endpoint, "t").await;
    let response = call_app(&app, Some(&User::new("alice")), "GET", SOME_ORG, None).await;
    assert_eq!((response.status, response.code()), (503, "unavailable"), "{:?}", response.body);
    assert!(!response.body.to_string().contains("Throttling"), "no AWS error text: {}", response.body);
    assert_eq!(seen.load(Ordering::SeqCst), 3, "the SDK's standard three attempts");
}

/// A DynamoDB Local of this test's own, on disk so that its data outlives a restart.
struct OwnDynamo {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl OwnDynamo {
    fn start(port: u16, dir: &std::path::Path) -> Self {
        let jar_dir = std::env::var("ROSTER_DYNAMODB_LOCAL_DIR")
            .expect("ROSTER_DYNAMODB_LOCAL_DIR is set by the test command");
        std::fs::create_dir_all(dir).unwrap();
        let child = Command::new("java")
            .args([
                "-Xmx256m",
                "-Djava.library.path=./DynamoDBLocal_lib",
                "-jar",
                "DynamoDBLocal.jar",
                "-sharedDb",
            ])
            .args(["-port", &port.to_string(), "-dbPath", dir.to_str().unwrap()])
            .current_dir(jar_dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("java starts");
        let me = Self { child, port, dir: dir.to_owned() };
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err() {
            assert!(std::time::Instant::now() < deadline, "DynamoDB Local did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        me
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the server as an operator would (SIGTERM) and waits for it to go.
    fn stop(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

impl Drop for OwnDynamo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn is_clean_outcome(r: &TestResponse) -> bool {
    (r.status < 500 && r.status != 401) || (r.status == 503 && r.code() == "unavailable")
}

#[tokio::test]
async fn dynamodb_stopping_mid_run_is_503_and_leaves_nothing_half_written() {
    let scratch = TestApp::spawn().await; // only for its unique id and address helpers
    let dir = std::env::temp_dir().join(format!("roster-fault-{}", scratch.id));
    let port = free_port();
    let mut dynamo = OwnDynamo::start(port, &dir);
    let app = app_with_dynamodb_at(&dynamo.endpoint(), "roster").await;
    let admin_client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&roster::sdk::load_config().await)
            .endpoint_url(dynamo.endpoint())
            .build(),
    );
    table::ensure(&admin_client, "roster").await.unwrap();

    let owner = scratch.user("owner");
    let created = call_app(&app, Some(&owner), "POST", "/orgs", Some(json!({ "name": "Faulty" }))).await;
    let org = created.body["org"]["id"].as_str().unwrap().to_owned();
    let link = call_app(&app, Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), None).await;
    let token = link.body["link"]["token"].as_str().unwrap().to_owned();

    // A burst of joins, invitations and role changes, with the table stopping part way.
    let requests = (0..30).map(|i| {
        let (app, org, token, scratch, owner) = (&app, &org, &token, &scratch, &owner);
        async move {
            match i % 3 {
                0 => {
                    call_app(
                        app,
                        Some(&scratch.user(&format!("j{i}"))),
                        "POST",
                        "/invitations/accept",
                        Some(json!({ "token": token })),
                    )
                    .await
                }
                1 => {
                    let body = json!({ "invitations": [{ "email": scratch.email(&format!("i{i}")) }] });
                    call_app(app, Some(owner), "POST", &format!("/orgs/{org}/invitations"), Some(body)).await
                }
                _ => {
                    let body = json!({ "role": if i % 2 == 0 { "admin" } else { "member" } });
                    call_app(
                        app,
                        Some(owner),
                        "PATCH",
                        &format!("/orgs/{org}/members/j{}", i - 2),
                        Some(body),
                    )
                    .await
                }
            }
        }
    });
    let burst = futures::future::join_all(requests);
    let stopper = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        dynamo.stop();
    };
    let (responses, ()) = tokio::join!(burst, stopper);
    for r in &responses {
        assert!(is_clean_outcome(r), "{} {:?}", r.status, r.body);
    }
    let unavailable = responses.iter().filter(|r| r.status == 503).count();
    eprintln!("burst: {} answered, {unavailable} unavailable", responses.len() - unavailable);

    let down = call_app(&app, Some(&owner), "GET", &format!("/orgs/{org}/members"), None).await;
    assert_eq!((down.status, down.code()), (503, "unavailable"), "{:?}", down.body);

    // Back on the same data: every counter matches what is there, and every invitation
    // has both its token and its address slot.
    let _back = OwnDynamo::start(port, &dynamo.dir);
    let members = call_app(&app, Some(&owner), "GET", &format!("/orgs/{org}/members?limit=100"), None).await;
    assert_eq!(members.status, 200, "{:?}", members.body);
    let listed = members.body["members"].as_array().unwrap();
    let org_view = call_app(&app, Some(&owner), "GET", &format!("/orgs/{org}"), None).await;
    assert_eq!(org_view.body["org"]["memberCount"], listed.len() as u64, "memberCount matches the members");
    let scan = admin_client.scan().table_name("roster").send().await.unwrap().items.unwrap_or_default();
    let kind = |k: &str| {
        scan.iter().filter(|i| i.get("type").and_then(|v| v.as_s().ok()).is_some_and(|t| t == k)).count()
    };
    let slots = scan
        .iter()
        .filter(|i| i.get("holder").and_then(|v| v.as_s().ok()).is_some_and(|h| h == "invitation"))
        .count();
    assert_eq!(kind("invitation"), slots, "one slot per invitation");
    // Since invitation email left the request path (issue 26) an invitation has its token
    // item once the sender minted it (`issuedSend` is its current send); one still queued,
    // its email not yet sent when DynamoDB stopped, has none.
    let minted = scan
        .iter()
        .filter(|i| i.get("type").and_then(|v| v.as_s().ok()).is_some_and(|t| t == "invitation"))
        .filter(|i| i.get("issuedSend").is_some() && i.get("issuedSend") == i.get("sendNumber"))
        .count();
    assert_eq!(kind("token"), minted + 1, "one token per invitation whose token was minted, plus the link's");
    let joined = listed.iter().filter(|m| m["role"] != "owner").count();
    let audit = call_app(&app, Some(&owner), "GET", &format!("/orgs/{org}/audit?limit=100"), None).await;
    let accepted = audit.audit_actions().iter().filter(|a| **a == "invitation.accepted").count();
    assert_eq!(joined, accepted, "every join has its audit event and no event lacks its join");
    drop(dynamo);
    let _ = std::fs::remove_dir_all(&dir);
}
