//! Bad input gets a clear problem and changes nothing.

use roster_tests::harness::{TestApp, User};
use serde_json::json;

#[tokio::test]
async fn no_identity_is_401_before_anything_else() {
    let app = TestApp::spawn().await;
    for (method, path) in
        [("POST", "/orgs"), ("GET", "/orgs"), ("GET", "/orgs/org_0123456789abcdef0123456789abcdef")]
    {
        let response = app.call(None, method, path, Some(json!({ "name": "x" }))).await;
        assert_eq!((response.status, response.code()), (401, "unauthenticated"), "{method} {path}");
        assert_eq!(response.content_type.as_deref(), Some("application/problem+json"));
    }
    assert!(app.all_items().await.is_empty());
}

#[tokio::test]
async fn malformed_create_org_requests_change_nothing() {
    let app = TestApp::spawn().await;
    let alice = User::new("alice");
    let json_header = vec![("content-type".to_owned(), "application/json".to_owned())];
    type Headers = Vec<(String, String)>;
    let cases: Vec<(Headers, Vec<u8>, u16, &str)> = vec![
        (json_header.clone(), b"{\"name\": ".to_vec(), 400, "invalid_json"),
        (json_header.clone(), b"".to_vec(), 400, "invalid_json"),
        (json_header.clone(), b"[1,2]".to_vec(), 400, "invalid_request"),
        (json_header.clone(), br#"{"name": 7}"#.to_vec(), 400, "invalid_request"),
        (json_header.clone(), br#"{"name": "a", "owner": "mallory"}"#.to_vec(), 400, "invalid_request"),
        (json_header.clone(), br#"{"name": "   "}"#.to_vec(), 400, "invalid_request"),
        (
            json_header.clone(),
            format!(r#"{{"name": "{}"}}"#, "x".repeat(101)).into_bytes(),
            400,
            "invalid_request",
        ),
        (json_header.clone(), br#"{"name": "Ac\nme"}"#.to_vec(), 400, "invalid_request"),
        (json_header.clone(), br#"{"name": "Ac\u0007me"}"#.to_vec(), 400, "invalid_request"),
        (
            vec![("content-type".into(), "text/plain".into())],
            br#"{"name": "Acme"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (vec![], br#"{"name": "Acme"}"#.to_vec(), 415, "unsupported_media_type"),
        (
            json_header.clone(),
            format!(r#"{{"name": "{}"}}"#, "x".repeat(70 * 1024)).into_bytes(),
            413,
            "payload_too_large",
        ),
    ];
    for (headers, body, status, code) in cases {
        let response = app.call_raw(Some(&alice), "POST", "/orgs", &headers, &body).await;
        let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
        assert_eq!((response.status, response.code()), (status, code), "{shown}");
        assert_eq!(response.content_type.as_deref(), Some("application/problem+json"));
        for key in ["type", "title", "status", "detail", "code"] {
            assert!(response.body.get(key).is_some(), "{key} missing for {shown}");
        }
    }
    assert!(app.all_items().await.is_empty(), "nothing was written");
}

#[tokio::test]
async fn a_hundred_character_name_is_fine() {
    let app = TestApp::spawn().await;
    let name = "é".repeat(100);
    let response = app.call(Some(&User::new("alice")), "POST", "/orgs", Some(json!({ "name": name }))).await;
    assert_eq!(response.status, 201);
    assert_eq!(response.body["org"]["name"], name);
}

#[tokio::test]
async fn one_org_per_user_is_enforced_when_configured() {
    let app = TestApp::spawn_with(|c| c.one_org_per_user = true).await;
    let alice = User::new("alice");
    app.create_org(&alice, "First").await;
    let second = app.call(Some(&alice), "POST", "/orgs", Some(json!({ "name": "Second" }))).await;
    assert_eq!((second.status, second.code()), (409, "already_in_org"));
    let mine = app.call(Some(&alice), "GET", "/orgs", None).await;
    assert_eq!(mine.body["orgs"].as_array().unwrap().len(), 1);
}
