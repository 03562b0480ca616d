//! The host example (`roster_tests::host_example`) as a server beside `make run`: a product
//! backend on http://127.0.0.1:4000 that asks the local Roster before serving its projects.
//!
//! ```sh
//! make run                                   # Roster on :3000 (another terminal)
//! cargo run -p roster-tests --bin host-example
//! ALICE=$(make token SUB=alice EMAIL=alice@example.com)
//! # with an organization $ORG and a workspace $WS of alice's (see the README's quick start):
//! curl -s -X PUT localhost:4000/projects/p-1 -H "authorization: Bearer $ALICE" \
//!   -d "{\"name\":\"Launch\",\"orgId\":\"$ORG\",\"workspaceId\":\"$WS\"}"
//! curl -s localhost:4000/projects/p-1 -H "authorization: Bearer $ALICE"
//! # an EventBridge event, as a rule's target would hand it on:
//! curl -s -X POST localhost:4000/events -d @event.json
//! ```
//!
//! Settings (environment): `ROSTER_URL` (`http://127.0.0.1:3000`), `HOST_EXAMPLE_PORT`
//! (4000), `HOST_EXAMPLE_WEBHOOK_SECRET` (unset: `POST /events` takes any event, local use
//! only; set: only with `Authorization: <secret>`, as the stack's webhook sends them); the
//! service token is the local dev token of `dev-backend` unless
//! `ROSTER_TOKEN_URL`, `ROSTER_CLIENT_ID` and `ROSTER_CLIENT_SECRET` name a client-credentials
//! token endpoint (plain `http://` here: see the module's guide for HTTPS). The users' tokens
//! are the local dev tokens, standing in for the host's own authentication.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use roster_tests::host_example::{
    ClientCredentials, DevToken, Host, Http, Project, Reply, Roster, TokenSource,
};
use roster_tests::token;
use serde_json::{Value, json};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let roster_url = env("ROSTER_URL").unwrap_or_else(|| "http://127.0.0.1:3000".into());
    let port: u16 = env("HOST_EXAMPLE_PORT").and_then(|p| p.parse().ok()).unwrap_or(4000);
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let webhook = env("HOST_EXAMPLE_WEBHOOK_SECRET");
    eprintln!("Host example on http://127.0.0.1:{port}, asking Roster at {roster_url}");
    match env("ROSTER_TOKEN_URL") {
        Some(url) => {
            let (id, secret) = (
                env("ROSTER_CLIENT_ID").unwrap_or_default(),
                env("ROSTER_CLIENT_SECRET").unwrap_or_default(),
            );
            let tokens = ClientCredentials::new(Http::plain(), &url, &id, &secret, "roster/authorize");
            serve(listener, Host::new(Roster::new(&roster_url, tokens, Http::plain())), webhook).await
        }
        None => {
            let tokens = DevToken::local("dev-backend", "roster/authorize");
            serve(listener, Host::new(Roster::new(&roster_url, tokens, Http::plain())), webhook).await
        }
    }
}

async fn serve<T: TokenSource + 'static>(
    listener: TcpListener,
    host: Host<T>,
    webhook: Option<String>,
) -> Result<(), Box<dyn std::error::Error>> {
    let host = Arc::new((host, webhook));
    loop {
        let (stream, _) = listener.accept().await?;
        let host = Arc::clone(&host);
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let host = Arc::clone(&host);
                async move { Ok::<_, Infallible>(route(&host.0, host.1.as_deref(), req).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection error: {e}");
            }
        });
    }
}

async fn route<T: TokenSource>(
    host: &Host<T>,
    webhook: Option<&str>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let Ok(body) = Limited::new(body, 64 * 1024).collect().await.map(|b| b.to_bytes()) else {
        return reply(Reply { status: 413, body: json!({ "code": "payload_too_large" }) });
    };
    // The host's own authentication; here the local dev tokens (a deployed host would read
    // the claims its API Gateway's JWT authorizer passes on).
    let user = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(token::bearer)
        .and_then(|t| token::verify(&token::secret(), t))
        .and_then(|claims| claims.get("sub").cloned());
    let path = parts.uri.path();
    let answer = match (parts.method.as_str(), path.strip_prefix("/projects/"), user) {
        // The stack's webhook (`WebhookUrl`, `WebhookSecret`) sends `Authorization: <secret>`;
        // without a secret configured this route is for local use only. A host may as well
        // take events from a queue it polls or a Lambda target, with no route at all.
        ("POST", _, _) if path == "/events" && !webhook_allows(webhook, &parts.headers) => {
            Reply { status: 401, body: json!({ "code": "unauthenticated" }) }
        }
        ("POST", _, _) if path == "/events" => match host.on_event_json(&String::from_utf8_lossy(&body)) {
            Ok(outcome) => Reply { status: 200, body: json!({ "outcome": format!("{outcome:?}") }) },
            Err(e) => Reply { status: 400, body: json!({ "code": "invalid_json", "detail": e.to_string() }) },
        },
        (_, Some(_), None) => Reply { status: 401, body: json!({ "code": "unauthenticated" }) },
        ("GET", Some(id), Some(user)) => host.get_project(&user, id).await,
        ("PUT", Some(id), Some(user)) => match serde_json::from_slice::<Value>(&body) {
            Ok(v) => match (v["name"].as_str(), v["orgId"].as_str(), v["workspaceId"].as_str()) {
                (Some(name), Some(org), Some(ws)) => {
                    let project = Project {
                        id: id.to_owned(),
                        name: name.to_owned(),
                        org_id: org.to_owned(),
                        workspace_id: ws.to_owned(),
                    };
                    host.put_project(&user, project).await
                }
                _ => Reply {
                    status: 400,
                    body: json!({ "code": "invalid_request", "detail": "name, orgId, workspaceId" }),
                },
            },
            Err(_) => Reply { status: 400, body: json!({ "code": "invalid_json" }) },
        },
        _ => Reply { status: 404, body: json!({ "code": "not_found" }) },
    };
    eprintln!("{} {path} -> {}", parts.method, answer.status);
    reply(answer)
}

/// Whether the webhook secret, when one is set, is the `Authorization` header (compared in
/// constant time).
fn webhook_allows(secret: Option<&str>, headers: &hyper::HeaderMap) -> bool {
    let Some(secret) = secret else { return true };
    let given = headers.get("authorization").map(|v| v.as_bytes()).unwrap_or_default();
    given.len() == secret.len()
        && given.iter().zip(secret.as_bytes()).fold(0, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn reply(reply: Reply) -> Response<Full<Bytes>> {
    Response::builder()
        .status(reply.status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(reply.body.to_string())))
        .expect("static response parts")
}
