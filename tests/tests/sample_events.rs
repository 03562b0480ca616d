//! The sample events under `tests/events/` (for `cargo lambda invoke`) stay valid: each parses
//! as lambda_http parses it, names a real route, and reaches a handler of that route's function.
//! The Cognito triggers' samples under `functions/pre-sign-up/events/` and
//! `functions/post-confirmation/events/` reach their handlers.

use roster::http::routes::ROUTES;
use roster_tests::gateway::invoke;
use roster_tests::harness::TestApp;

#[tokio::test]
async fn sample_events_parse_and_route() {
    let app = TestApp::spawn().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let request = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let event: serde_json::Value = serde_json::from_str(&text).unwrap();
        let key = event["routeKey"].as_str().unwrap();
        let route =
            ROUTES.iter().find(|r| r.key() == key).unwrap_or_else(|| panic!("{path:?}: unknown route {key}"));
        let response = invoke(&app.app, route.function, request).await;
        let status = response.status().as_u16();
        let name = path.file_name().unwrap().to_str().unwrap();
        if let Some(expected) = match name {
            "no-identity.json" => Some(401),
            "create-org.json" => Some(201),
            "list-orgs.json" => Some(200),
            // A service's check: answered (not_member) whatever the table holds.
            "authorize.json" => Some(200),
            _ => None,
        } {
            assert_eq!(status, expected, "{name}");
        } else {
            // Sample ids name nothing in a fresh table; what matters is that the handler
            // authenticated the caller and recognised the route (not 401, 5xx).
            assert!(status != 401 && status < 500, "{path:?}: {status}");
        }
        seen += 1;
    }
    assert!(seen >= 7, "only {seen} sample events");
}

#[tokio::test]
async fn pre_sign_up_sample_events_reach_the_handler() {
    use roster::handlers::pre_sign_up::{INVITATION_ONLY, handle};
    let app = TestApp::spawn().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions/pre-sign-up/events");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let event: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let answer = handle(&app.app, event.clone()).await;
        match path.file_name().unwrap().to_str().unwrap() {
            "admin-create-user.json" => assert_eq!(answer, Ok(event), "{path:?}"),
            // Nobody is invited in a fresh table: refused, but read as a pre-sign-up event.
            _ => assert_eq!(answer, Err(roster::Error::forbidden(INVITATION_ONLY)), "{path:?}"),
        }
        seen += 1;
    }
    assert!(seen >= 2, "only {seen} pre-sign-up sample events");
}

#[tokio::test]
async fn post_confirmation_sample_events_reach_the_handler() {
    use roster::handlers::post_confirmation::handle;
    let app = TestApp::spawn_with(|c| c.create_org_on_sign_up = true).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions/post-confirmation/events");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let event: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert_eq!(handle(&app.app, event.clone()).await, Ok(event), "{path:?}: handed back");
        seen += 1;
    }
    assert!(seen >= 2, "only {seen} post-confirmation sample events");
    // The sign-up's sample made its user an organization; the password reset's did not.
    let user = roster_tests::harness::User::new("4b1e7a53-6d0c-4f0e-8c3a-9e2d51f7a6b0");
    let orgs = app.call(Some(&user), "GET", "/orgs", None).await;
    assert_eq!(orgs.body["orgs"].as_array().map(Vec::len), Some(1), "{:?}", orgs.body);
}
