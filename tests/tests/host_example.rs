//! The host example (`roster_tests::host_example`) against the local stack: the local
//! gateway served in-process over HTTP, a client-credentials token endpoint that issues the
//! gateway's service tokens, and membership events taken from the table's stream through the
//! `events` function to moto's EventBridge and an SQS queue, as a host's rule would deliver
//! them.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use roster::handlers::events::handle;
use roster_tests::event_bus::{self, BusToQueue};
use roster_tests::gateway::Gateway;
use roster_tests::harness::{TestApp, User};
use roster_tests::host_example::{
    Check, ClientCredentials, DevToken, EventOutcome, Host, HostError, Http, Project, Roster, TokenSource,
};
use roster_tests::{streams, token};
use serde_json::{Value, json};
use tokio::net::TcpListener;

const SECRET: &str = "host-example-secret";
const CLIENT_ID: &str = "dev-backend";
const CLIENT_SECRET: &str = "s3cret/with+odd=chars";
const SCOPE: &str = "roster/authorize";

/// Serves `handler` on a free loopback port.
async fn serve<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(Request<Bytes>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let handler = handler.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        Ok::<_, Infallible>(handler(Request::from_parts(parts, body)).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// The local gateway over the test app's table, on a free port: its base URL.
async fn gateway(app: &TestApp) -> String {
    let gateway = Arc::new(Gateway {
        app: app.second_instance().await,
        secret: SECRET.into(),
        web: None,
        clock_offset: None,
        oidc: None,
        email_queue: None,
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(gateway.serve(listener));
    format!("http://{addr}")
}

/// A client-credentials token endpoint as Cognito's `/oauth2/token`: HTTP Basic with the
/// client's id and secret, a form with `grant_type=client_credentials` and the scope; it
/// issues the gateway's service tokens, living `lifetime` seconds.
struct TokenEndpoint {
    url: String,
    issued: Arc<AtomicUsize>,
    lifetime: Arc<AtomicU64>,
}

async fn token_endpoint() -> TokenEndpoint {
    let (issued, lifetime) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicU64::new(3600)));
    let (count, ttl) = (issued.clone(), lifetime.clone());
    let addr = serve(move |req: Request<Bytes>| {
        let (count, ttl) = (count.clone(), ttl.clone());
        async move {
            let answer = |status: u16, body: Value| {
                Response::builder()
                    .status(status)
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body.to_string())))
                    .unwrap()
            };
            use base64::Engine;
            let expected = base64::engine::general_purpose::STANDARD.encode(format!(
                "{CLIENT_ID}:{}",
                form_urlencoded::byte_serialize(CLIENT_SECRET.as_bytes()).collect::<String>()
            ));
            let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
            if req.method() != "POST" || req.uri().path() != "/oauth2/token" {
                return answer(404, json!({ "error": "not_found" }));
            }
            if header("authorization") != format!("Basic {expected}") {
                return answer(401, json!({ "error": "invalid_client" }));
            }
            if header("content-type") != "application/x-www-form-urlencoded" {
                return answer(400, json!({ "error": "invalid_request" }));
            }
            let form: std::collections::HashMap<String, String> =
                form_urlencoded::parse(req.body()).into_owned().collect();
            if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
                return answer(400, json!({ "error": "unsupported_grant_type" }));
            }
            let scope = form.get("scope").cloned().unwrap_or_default();
            if scope.split(' ').any(|s| s != "roster/authorize" && s != "roster/admin") {
                return answer(400, json!({ "error": "invalid_scope" }));
            }
            count.fetch_add(1, Ordering::SeqCst);
            let lifetime = ttl.load(Ordering::SeqCst);
            let access = token::mint_service(SECRET, CLIENT_ID, &scope, i64::try_from(lifetime).unwrap());
            answer(200, json!({ "access_token": access, "expires_in": lifetime, "token_type": "Bearer" }))
        }
    })
    .await;
    TokenEndpoint { url: format!("http://{addr}/oauth2/token"), issued, lifetime }
}

fn credentials(endpoint: &TokenEndpoint) -> ClientCredentials {
    ClientCredentials::new(Http::plain(), &endpoint.url, CLIENT_ID, CLIENT_SECRET, SCOPE)
}

async fn workspace(app: &TestApp, by: &User, org: &str, name: &str) -> String {
    let r =
        app.call(Some(by), "POST", &format!("/orgs/{org}/workspaces"), Some(json!({ "name": name }))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["workspace"]["id"].as_str().unwrap().to_owned()
}

async fn join_workspace(app: &TestApp, by: &User, org: &str, ws: &str, user: &str, role: &str) {
    let path = format!("/orgs/{org}/workspaces/{ws}/members/{user}");
    let r = app.call(Some(by), "PUT", &path, Some(json!({ "role": role }))).await;
    assert!(r.status == 200 || r.status == 201, "PUT {path}: {:?}", r.body);
}

/// The events published from the table's stream so far (again, for those published before),
/// as the host's rule (source `roster`) delivers them to its queue: read until each of
/// `wanted` (detail-types) has arrived.
async fn published(app: &TestApp, bus: &BusToQueue, wanted: &[&str]) -> Vec<Value> {
    let records = streams::records(app).await;
    streams::deliver(
        &records,
        100,
        3,
        |event| handle(&bus.publisher, event),
        |r| async move { panic!("a record failed to publish: {r}") },
    )
    .await;
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let arrived = |out: &[Value]| wanted.iter().all(|w| out.iter().any(|e| e["detail-type"] == *w));
    while !arrived(&out) && Instant::now() < deadline {
        let got =
            bus.sqs.receive_message().queue_url(&bus.queue).max_number_of_messages(10).send().await.unwrap();
        for message in got.messages() {
            out.push(serde_json::from_str(message.body().unwrap()).expect("an EventBridge event"));
            let receipt = message.receipt_handle().unwrap();
            bus.sqs.delete_message().queue_url(&bus.queue).receipt_handle(receipt).send().await.unwrap();
        }
        if got.messages().is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    out
}

#[tokio::test]
async fn members_are_served_removed_ones_refused_at_once_and_events_end_their_sessions() {
    let app = TestApp::spawn_with_stream().await;
    let bus = event_bus::bus_to_queue("host").await;
    let (roster_url, endpoint) = (gateway(&app).await, token_endpoint().await);
    let host = Host::new(Roster::new(&roster_url, credentials(&endpoint), Http::plain()));

    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let ws = workspace(&app, &owner, &org, "Apollo").await;
    let (bob, carol, dave) = (app.user("bob"), app.user("carol"), app.user("dave"));
    for user in [&bob, &carol, &dave] {
        app.add_member(&owner, &org, user, "member").await;
    }
    join_workspace(&app, &owner, &org, &ws, "bob", "viewer").await;
    join_workspace(&app, &owner, &org, &ws, "dave", "member").await;
    host.add_project(Project {
        id: "p-1".into(),
        name: "Launch".into(),
        org_id: org.clone(),
        workspace_id: ws.clone(),
    });

    // In the workspace: served, and the host keeps a session for the organization.
    let served = host.get_project("bob", "p-1").await;
    assert_eq!(served.status, 200, "{}", served.body);
    assert_eq!((&served.body["project"]["id"], &served.body["role"]), (&json!("p-1"), &json!("viewer")));
    assert_eq!(host.get_project("dave", "p-1").await.status, 200);
    assert_eq!(host.session(&org, "bob").map(|s| s.requests), Some(1));
    // A member of the organization outside the workspace, a stranger, an unknown project.
    let refused = host.get_project("carol", "p-1").await;
    assert_eq!((refused.status, &refused.body["detail"]), (403, &json!("not_in_workspace")));
    assert_eq!(host.get_project("mallory", "p-1").await.body["detail"], "not_member");
    assert_eq!(host.get_project("bob", "p-2").await.status, 404);
    // Writing needs projects:write there: a viewer may not, a workspace member may.
    let draft = |name: &str| Project {
        id: "p-2".into(),
        name: name.into(),
        org_id: org.clone(),
        workspace_id: ws.clone(),
    };
    assert_eq!(host.put_project("bob", draft("Draft")).await.body["detail"], "no_permission");
    assert_eq!(host.put_project("carol", draft("Draft")).await.body["detail"], "not_in_workspace");
    assert_eq!(host.put_project("dave", draft("Draft")).await.status, 201);
    assert_eq!(host.put_project("dave", draft("Final")).await.status, 200);
    assert_eq!(host.get_project("bob", "p-2").await.body["project"]["name"], "Final");

    // Removed: the very next request is refused, with the session still in the host's map
    // (the refusal comes from Roster's answer, not from the event).
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/members/bob"), None).await;
    assert!((200..300).contains(&r.status), "{:?}", r.body);
    let refused = host.get_project("bob", "p-1").await;
    assert_eq!((refused.status, &refused.body["detail"]), (403, &json!("not_member")));
    // Suspended: likewise.
    app.suspend(&owner, &org, "dave").await;
    let refused = host.get_project("dave", "p-1").await;
    assert_eq!((refused.status, &refused.body["detail"]), (403, &json!("suspended")));
    assert!(host.session(&org, "bob").is_some() && host.session(&org, "dave").is_some());
    // One token for all of it.
    assert_eq!(endpoint.issued.load(Ordering::SeqCst), 1);

    // The events, as the bus delivers them: member.removed and member.suspended end the
    // sessions; everything else is left alone; a repeat drops nothing more.
    let events = published(&app, &bus, &["member.removed", "member.suspended"]).await;
    let of = |action: &str| {
        events.iter().find(|e| e["detail-type"] == action).unwrap_or_else(|| panic!("{action}"))
    };
    assert_eq!(of("member.removed")["detail"]["target"], "bob");
    for event in &events {
        let outcome = host.on_event(event);
        match event["detail-type"].as_str().unwrap() {
            "member.removed" | "member.suspended" => assert!(matches!(outcome, EventOutcome::Dropped { .. })),
            action => assert_eq!(outcome, EventOutcome::Ignored, "{action}"),
        }
    }
    assert_eq!(host.session(&org, "bob"), None);
    assert_eq!(host.session(&org, "dave"), None);
    let again = host.on_event_json(&of("member.removed").to_string()).unwrap();
    assert_eq!(again, EventOutcome::Dropped { org_id: org.clone(), user_id: Some("bob".into()), dropped: 0 });

    // Reactivated, dave is served again (a new session); removed bob stays refused.
    let r = app
        .call(
            Some(&owner),
            "PATCH",
            &format!("/orgs/{org}/members/dave"),
            Some(json!({ "status": "active" })),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(host.get_project("dave", "p-1").await.status, 200);
    assert_eq!(host.session(&org, "dave").map(|s| s.requests), Some(1));
    assert_eq!(host.get_project("bob", "p-1").await.status, 403);

    // Deleting the organization ends everyone's sessions in it.
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}"), None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let deleted = published(&app, &bus, &["org.deleted"])
        .await
        .into_iter()
        .rev()
        .find(|e| e["detail-type"] == "org.deleted");
    let outcome = host.on_event(&deleted.expect("org.deleted"));
    assert_eq!(outcome, EventOutcome::Dropped { org_id: org.clone(), user_id: None, dropped: 1 });
    assert_eq!(host.get_project("dave", "p-1").await.body["detail"], "no_org");
}

#[tokio::test]
async fn the_token_is_kept_until_shortly_before_it_expires_and_fetched_once_at_a_time() {
    let endpoint = token_endpoint().await;
    let tokens = credentials(&endpoint);
    let first = tokens.token().await.unwrap();
    assert_eq!(tokens.token().await.unwrap(), first);
    assert_eq!(endpoint.issued.load(Ordering::SeqCst), 1);
    let claims = token::verify(SECRET, &first).expect("a service token of the gateway");
    assert_eq!((claims["client_id"].as_str(), claims["scope"].as_str()), (CLIENT_ID, SCOPE));

    // Concurrent requests with nothing cached: one fetch.
    let fresh = Arc::new(credentials(&endpoint));
    let calls: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn({
                let fresh = fresh.clone();
                async move { fresh.token().await.unwrap() }
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap();
    }
    assert_eq!(endpoint.issued.load(Ordering::SeqCst), 2);

    // A token living no longer than the margin is replaced on every call; forgetting one
    // (after a 401) fetches anew.
    endpoint.lifetime.store(30, Ordering::SeqCst);
    let short = credentials(&endpoint);
    short.token().await.unwrap();
    short.token().await.unwrap();
    assert_eq!(endpoint.issued.load(Ordering::SeqCst), 4);
    let margin = credentials(&endpoint).refresh_before(Duration::from_secs(5));
    margin.token().await.unwrap();
    margin.token().await.unwrap();
    assert_eq!(endpoint.issued.load(Ordering::SeqCst), 5, "kept until 5 s before it expires");
    margin.forget().await;
    margin.token().await.unwrap();
    assert_eq!(endpoint.issued.load(Ordering::SeqCst), 6);

    // A wrong secret, a scope the client may not have, no endpoint: errors.
    let wrong = ClientCredentials::new(Http::plain(), &endpoint.url, CLIENT_ID, "guess", SCOPE);
    assert!(matches!(wrong.token().await, Err(HostError::Status(401, _))));
    let greedy =
        ClientCredentials::new(Http::plain(), &endpoint.url, CLIENT_ID, CLIENT_SECRET, "roster/usage");
    assert!(matches!(greedy.token().await, Err(HostError::Status(400, _))));
    let nowhere = ClientCredentials::new(
        Http::plain(),
        "http://127.0.0.1:9/oauth2/token",
        CLIENT_ID,
        CLIENT_SECRET,
        SCOPE,
    );
    assert!(matches!(nowhere.token().await, Err(HostError::Unreachable(_))));
}

#[tokio::test]
async fn the_host_fails_closed_when_roster_cannot_answer() {
    let app = TestApp::spawn().await;
    let roster_url = gateway(&app).await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let ws = workspace(&app, &owner, &org, "Apollo").await;
    let project =
        Project { id: "p-1".into(), name: "Launch".into(), org_id: org.clone(), workspace_id: ws.clone() };
    let dev = |secret: &str, scope: &str| DevToken {
        secret: secret.into(),
        client_id: CLIENT_ID.into(),
        scope: scope.into(),
    };

    // The owner is an org admin of every workspace: served with the dev token source.
    let host = Host::new(Roster::new(&roster_url, dev(SECRET, SCOPE), Http::plain()));
    host.add_project(project.clone());
    assert_eq!(host.get_project("owner", "p-1").await.status, 200);
    let many = host
        .roster
        .authorize(&[
            Check {
                user_id: "owner".into(),
                org_id: org.clone(),
                permission: "projects:read".into(),
                workspace_id: Some(ws.clone()),
            },
            Check {
                user_id: "owner".into(),
                org_id: org.clone(),
                permission: "billing:manage".into(),
                workspace_id: None,
            },
            Check {
                user_id: "owner".into(),
                org_id: org.clone(),
                permission: "projects:read".into(),
                workspace_id: None,
            },
        ])
        .await
        .unwrap();
    let reasons: Vec<&str> = many.iter().map(|d| d.reason.as_str()).collect();
    assert_eq!(reasons, ["granted", "granted", "no_workspace"], "answered in order");

    // Whatever stops Roster from answering, the owner is refused.
    let unavailable = |reply: roster_tests::host_example::Reply| {
        assert_eq!(
            (reply.status, &reply.body["code"]),
            (403, &json!("authorization_unavailable")),
            "{}",
            reply.body
        );
    };
    for (why, host) in [
        (
            "a token without roster/authorize",
            Host::new(Roster::new(&roster_url, dev(SECRET, "roster/admin"), Http::plain())),
        ),
        (
            "a token the gateway does not accept",
            Host::new(Roster::new(&roster_url, dev("another", SCOPE), Http::plain())),
        ),
        (
            "a client id that is not a service",
            Host::new(Roster::new(
                &roster_url,
                DevToken { secret: SECRET.into(), client_id: "stranger".into(), scope: SCOPE.into() },
                Http::plain(),
            )),
        ),
        ("no Roster", Host::new(Roster::new("http://127.0.0.1:9", dev(SECRET, SCOPE), Http::plain()))),
    ] {
        host.add_project(project.clone());
        eprintln!("{why}");
        unavailable(host.get_project("owner", "p-1").await);
    }
    // A token endpoint that refuses the client, or none.
    let endpoint = token_endpoint().await;
    let wrong = ClientCredentials::new(Http::plain(), &endpoint.url, CLIENT_ID, "guess", SCOPE);
    let host = Host::new(Roster::new(&roster_url, wrong, Http::plain()));
    host.add_project(project.clone());
    unavailable(host.get_project("owner", "p-1").await);
    // A Roster that does not answer in time.
    let silent = serve(|_req: Request<Bytes>| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Response::new(Full::new(Bytes::new()))
    })
    .await;
    let slow = Http::plain().timeout(Duration::from_millis(200));
    let host = Host::new(Roster::new(&format!("http://{silent}"), dev(SECRET, SCOPE), slow));
    host.add_project(project);
    unavailable(host.get_project("owner", "p-1").await);
}
