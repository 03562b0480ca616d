//! The `authorize` function reads API Gateway's event with a type of its own rather than
//! through `lambda_http` (README, "POST /authorize": its zip). The local gateway still hands
//! it a `lambda_http` request, so every other test of `POST /authorize` goes that way; these
//! hold the function's own way in to the same answers: in process, the same events read
//! both ways answer the same status, headers and body; and the real binary, against a local
//! Runtime API, answers API Gateway's response format with them.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use roster::handlers::authorize::{Authorizer, HttpEvent, HttpResponse, handle_event};
use roster::http::routes::{self, Function, RouteMatch};
use roster_tests::event::{self, Claims, EventInput};
use roster_tests::gateway::invoke;
use roster_tests::harness::{TestApp, User, service_claims};
use roster_tests::runtime_api::{RuntimeApi, function_command};
use serde_json::{Value, json};

const SCOPE: &str = "roster/authorize";

/// A `POST /authorize` event as the local gateway builds it.
fn built(claims: Option<&Claims>, headers: &[(&str, &str)], body: &[u8]) -> Value {
    let RouteMatch::Found(route, params) = routes::find("POST", "/authorize") else { panic!("no route") };
    let headers: Vec<(String, String)> =
        headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    event::build(&EventInput {
        route,
        path: "/authorize",
        path_params: &params,
        query: "",
        headers: &headers,
        body,
        claims,
    })
}

/// The events both ways must answer alike: every refusal the contract lists for this route,
/// and answers.
fn events(app: &TestApp, org: &str) -> Vec<(&'static str, Value)> {
    let service = service_claims("dev-service", SCOPE);
    let json = [("content-type", "application/json")];
    let checks = |user: &str| {
        json!({ "checks": [
            { "userId": user, "orgId": org, "permission": "org:read" },
            { "userId": "nobody", "orgId": org, "permission": "projects:read", "workspaceId": "ws_0192f5c9f3b47c2d8e9f0a1b2c3d4e5f" },
        ] })
        .to_string()
        .into_bytes()
    };
    let good = checks("owner");
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("events/authorize.json"))
            .unwrap(),
    )
    .unwrap();
    let mut upper_case_header = built(Some(&service), &[], &good);
    upper_case_header["headers"] = json!({ "Content-Type": "application/json; charset=utf-8" });
    // Both spellings: the last wins, both ways (the event's text orders its keys).
    let mut two_content_types = built(Some(&service), &[], &good);
    two_content_types["headers"] =
        json!({ "Content-Type": "text/plain", "content-type": "application/json" });
    let mut base64_text = built(Some(&service), &json, &good);
    base64_text["body"] = json!(base64::engine::general_purpose::STANDARD.encode(&good));
    base64_text["isBase64Encoded"] = json!(true);
    let mut null_claims = built(Some(&service), &json, &good);
    null_claims["requestContext"]["authorizer"]["jwt"]["claims"] = Value::Null;
    let mut other_route = built(Some(&service), &json, &good);
    other_route["requestContext"]["routeKey"] = json!("GET /authorize");
    let mut big = b"{\"checks\": [], \"pad\": \"".to_vec();
    big.resize(64 * 1024 + 1, b'x');
    vec![
        ("the sample event", sample),
        ("a service's checks", built(Some(&service), &json, &good)),
        ("a header name in capitals, with a charset", upper_case_header),
        ("two content types", two_content_types),
        (
            "a JSON media type of a suffix",
            built(Some(&service), &[("content-type", "application/problem+json")], &good),
        ),
        ("a base64 text body", base64_text),
        ("a body that is not UTF-8 (sent base64)", built(Some(&service), &json, &[0xff, 0xfe, b'{', b'}'])),
        ("no body", built(Some(&service), &json, b"")),
        ("a blank body", built(Some(&service), &json, b"  \n")),
        ("no content type", built(Some(&service), &[], &good)),
        ("a text content type", built(Some(&service), &[("content-type", "text/plain")], &good)),
        ("a body over 64 KiB", built(Some(&service), &json, &big)),
        ("not JSON", built(Some(&service), &json, b"{\"checks\": [")),
        ("an array", built(Some(&service), &json, b"[]")),
        ("a check of the wrong shape", built(Some(&service), &json, br#"{"checks": [{"userId": 1}]}"#)),
        ("no claims", built(None, &json, &good)),
        ("null claims", null_claims),
        ("a person", built(Some(&app.user("owner").claims()), &json, &good)),
        (
            "a service without the scope",
            built(Some(&service_claims("dev-service", "roster/admin")), &json, &good),
        ),
        ("an unlisted service", built(Some(&service_claims("rogue-service", SCOPE)), &json, &good)),
        ("another route key", other_route),
    ]
}

/// Status, headers and the body as JSON (the text of two equal answers may order keys alike
/// or not; what a client reads is the JSON).
fn comparable(r: &HttpResponse) -> (u16, Vec<(String, String)>, Value, bool) {
    let body = r.body.as_deref().map_or(Value::Null, |b| serde_json::from_str(b).unwrap_or(json!(b)));
    (r.status_code, r.headers.clone().into_iter().collect(), body, r.is_base64_encoded)
}

async fn setup() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let owner: User = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    (app, org)
}

#[tokio::test]
async fn the_event_type_answers_as_the_gateway_request_does() {
    let (app, org) = setup().await;
    let authorizer = Authorizer::of(&app.app);
    for (what, event) in events(&app, &org) {
        let through_gateway =
            HttpResponse::from(invoke(&app.app, Function::Authorize, event::to_request(&event)).await);
        let own: HttpEvent = serde_json::from_value(event).unwrap_or_else(|e| panic!("{what}: {e}"));
        let own = handle_event(&authorizer, own).await;
        assert_eq!(comparable(&own), comparable(&through_gateway), "{what}");
        assert!(own.status_code < 500, "{what}: {own:?}");
    }
}

#[tokio::test]
async fn the_answers_are_the_contracts() {
    let (app, org) = setup().await;
    let authorizer = Authorizer::of(&app.app);
    let answers: Vec<(&str, u16, Option<String>)> = {
        let mut out = Vec::new();
        for (what, event) in events(&app, &org) {
            let r = handle_event(&authorizer, serde_json::from_value(event).unwrap()).await;
            let code = r
                .body
                .as_deref()
                .and_then(|b| serde_json::from_str::<Value>(b).ok())
                .and_then(|b| b["code"].as_str().map(str::to_owned));
            out.push((what, r.status_code, code));
        }
        out
    };
    let expected: &[(&str, u16, Option<&str>)] = &[
        ("the sample event", 200, None),
        ("a service's checks", 200, None),
        ("a header name in capitals, with a charset", 200, None),
        ("two content types", 200, None),
        ("a JSON media type of a suffix", 200, None),
        ("a base64 text body", 200, None),
        ("a body that is not UTF-8 (sent base64)", 400, Some("invalid_json")),
        ("no body", 400, Some("invalid_json")),
        ("a blank body", 400, Some("invalid_json")),
        ("no content type", 415, Some("unsupported_media_type")),
        ("a text content type", 415, Some("unsupported_media_type")),
        ("a body over 64 KiB", 413, Some("payload_too_large")),
        ("not JSON", 400, Some("invalid_json")),
        ("an array", 400, Some("invalid_request")),
        ("a check of the wrong shape", 400, Some("invalid_request")),
        ("no claims", 401, Some("unauthenticated")),
        ("null claims", 401, Some("unauthenticated")),
        ("a person", 403, Some("forbidden")),
        ("a service without the scope", 403, Some("forbidden")),
        ("an unlisted service", 403, Some("forbidden")),
        ("another route key", 404, Some("not_found")),
    ];
    let expected: Vec<(&str, u16, Option<String>)> =
        expected.iter().map(|(w, s, c)| (*w, *s, c.map(str::to_owned))).collect();
    assert_eq!(answers, expected);
}

/// The binary as Lambda runs it: each event's answer, posted to the Runtime API, is the
/// in-process answer in API Gateway's response format.
#[tokio::test]
async fn the_function_binary_answers_api_gateway() {
    let (app, org) = setup().await;
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>");
    let mut build = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    build.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("..")).args(["build", "--quiet"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    assert!(build.args(["-p", "authorize"]).status().expect("cargo runs").success());

    let mut runtime = RuntimeApi::start().await;
    let mut child = function_command(&profile_dir.join("authorize"), runtime.port)
        .env("TABLE_NAME", app.table())
        .env("ROSTER_SERVICE_CLIENTS", "dev-service dev-backend")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("authorize starts");
    let authorizer = Authorizer::of(&app.app);
    let mut failure = None;
    for (what, event) in events(&app, &org) {
        let answer = runtime.invoke(&event, Duration::from_secs(30)).await;
        let expected = handle_event(&authorizer, serde_json::from_value(event).unwrap()).await;
        let expected = serde_json::to_value(&expected).unwrap();
        match answer {
            Ok(answer) => {
                let body = |v: &Value| v["body"].as_str().map(|b| serde_json::from_str::<Value>(b).unwrap());
                let (mut got, mut want) = (answer.clone(), expected.clone());
                got.as_object_mut().unwrap().remove("body");
                want.as_object_mut().unwrap().remove("body");
                if (got, body(&answer)) != (want, body(&expected)) {
                    failure = Some(format!("{what}: {answer} where {expected} was expected"));
                    break;
                }
            }
            Err(e) => {
                failure = Some(format!("{what}: {e}"));
                break;
            }
        }
    }
    let _ = child.kill();
    let output = child.wait_with_output().expect("its output");
    if let Some(failure) = failure {
        panic!("{failure}\n{}", String::from_utf8_lossy(&output.stderr));
    }
}
