//! The local gateway refuses what API Gateway's JWT authorizer refuses, with API Gateway's own
//! bodies: no valid token on a route that needs one is `401 {"message":"Unauthorized"}`, a
//! token without a route's scope (its `AuthorizationScopes`) is `403 {"message":"Forbidden"}`.
//! What passes the gateway is then judged by the function: a token with the scope that is no
//! listed service's gets Roster's own `403 forbidden`.

use roster::http::routes::{ROUTES, scopes};
use roster_tests::gateway::Gateway;
use roster_tests::harness::TestApp;
use roster_tests::token;
use serde_json::{Value, json};

const SECRET: &str = "gateway-scopes-test-secret";

struct Answer {
    status: u16,
    content_type: String,
    body: Value,
}

async fn gateway(app: &TestApp) -> Gateway {
    Gateway {
        app: app.second_instance().await,
        secret: SECRET.into(),
        web: None,
        clock_offset: None,
        oidc: None,
        email_queue: None,
    }
}

async fn send(
    gateway: &Gateway,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    if let Some(token) = bearer {
        headers.push(("authorization".to_owned(), format!("Bearer {token}")));
    }
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let response = gateway.handle(method, path, "", &headers, &bytes).await;
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = match response.body() {
        lambda_http::Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        lambda_http::Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Answer { status: response.status().as_u16(), content_type, body }
}

fn person(sub: &str) -> String {
    token::mint(SECRET, sub, Some(&format!("{sub}@example.com")), Some(sub), true, 600)
}

fn service(client: &str, scope: &str) -> String {
    token::mint_service(SECRET, client, scope, 600)
}

/// Signed with the dev secret, with exactly these claims (and a fresh `exp`).
fn forged(mut claims: Value) -> String {
    claims["exp"] = json!(chrono::Utc::now().timestamp() + 600);
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn gateway_said(answer: &Answer, status: u16, message: &str, what: &str) {
    assert_eq!(
        (answer.status, answer.content_type.as_str(), &answer.body),
        (status, "application/json", &json!({ "message": message })),
        "{what}"
    );
}

fn function_refused(answer: &Answer, what: &str) {
    assert_eq!(
        (answer.status, answer.content_type.as_str(), answer.body["code"].as_str()),
        (403, "application/problem+json", Some("forbidden")),
        "{what}: {}",
        answer.body
    );
}

#[tokio::test]
async fn scoped_routes_need_the_scope_in_the_token_before_any_function_runs() {
    let app = TestApp::spawn().await;
    let gateway = gateway(&app).await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let check = json!({ "checks": [
        { "userId": "alice", "orgId": org, "permission": "org:read" },
        { "userId": "nobody", "orgId": org, "permission": "projects:read" },
    ]});
    let authorize = |bearer: Option<String>| {
        let (gateway, check) = (&gateway, check.clone());
        async move { send(gateway, "POST", "/authorize", bearer.as_deref(), Some(check)).await }
    };

    // No token, a bad one, an expired one: API Gateway's 401.
    gateway_said(&authorize(None).await, 401, "Unauthorized", "no token");
    gateway_said(&authorize(Some("garbage".into())).await, 401, "Unauthorized", "not a JWT");
    let other_secret = token::mint_service("another-secret", "dev-service", scopes::AUTHORIZE, 600);
    gateway_said(&authorize(Some(other_secret)).await, 401, "Unauthorized", "another signer");
    let expired = token::mint_service(SECRET, "dev-service", scopes::AUTHORIZE, -120);
    gateway_said(&authorize(Some(expired)).await, 401, "Unauthorized", "expired");

    // A valid token without the scope: API Gateway's 403, whoever it is.
    gateway_said(&authorize(Some(person("alice"))).await, 403, "Forbidden", "a person's token has no scope");
    for scope in ["", scopes::ADMIN, "roster/admin roster/usage", "roster/authorizex", "roster"] {
        let answer = authorize(Some(service("dev-service", scope))).await;
        gateway_said(&answer, 403, "Forbidden", &format!("a service with scope {scope:?}"));
    }

    // With the scope: the function answers.
    let answer = authorize(Some(service("dev-service", "roster/admin roster/authorize"))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({ "results": [
            { "allowed": true, "reason": "granted", "role": "owner" },
            { "allowed": false, "reason": "not_member", "role": null },
        ]})
    );

    // Past the gateway, the function still wants a listed service: a client id not in
    // ROSTER_SERVICE_CLIENTS, or a person's token carrying the scope, gets nothing.
    let unlisted = service("someone-else", scopes::AUTHORIZE);
    function_refused(&authorize(Some(unlisted)).await, "an unlisted client");
    let person_with_scope = forged(
        json!({ "sub": "alice", "client_id": "dev-service", "token_use": "access", "scope": scopes::AUTHORIZE }),
    );
    function_refused(&authorize(Some(person_with_scope)).await, "a person's token with the scope");
}

#[tokio::test]
async fn routes_without_a_scope_take_any_valid_token_and_public_ones_none() {
    let app = TestApp::spawn().await;
    let gateway = gateway(&app).await;
    assert!(
        ROUTES.iter().filter(|r| r.scope.is_some()).all(|r| !r.public),
        "a public route has no authorizer"
    );

    // No scope on the route: the gateway lets every valid token through, people's and
    // services'; the function decides.
    let catalog = send(&gateway, "GET", "/permissions", Some(&person("bob")), None).await;
    assert_eq!(catalog.status, 200, "{}", catalog.body);
    assert!(catalog.body["permissions"].as_array().is_some_and(|p| !p.is_empty()));
    let as_service = send(&gateway, "GET", "/permissions", Some(&service("dev-service", "")), None).await;
    assert_eq!(as_service.status, 200, "{}", as_service.body);
    let orgs = send(&gateway, "GET", "/orgs", Some(&service("dev-service", scopes::ADMIN)), None).await;
    function_refused(&orgs, "GET /orgs means nothing for a service");

    // Still a valid token: API Gateway's 401 otherwise.
    for (method, path) in [("GET", "/permissions"), ("GET", "/orgs"), ("POST", "/orgs")] {
        gateway_said(&send(&gateway, method, path, None, None).await, 401, "Unauthorized", path);
    }

    // A public route: no authorizer, so no 401, whatever the header says.
    let preview =
        send(&gateway, "POST", "/invitations/preview", Some("garbage"), Some(json!({ "token": "x" }))).await;
    assert_ne!(preview.status, 401, "{}", preview.body);
    assert_ne!(preview.status, 403, "{}", preview.body);
}
