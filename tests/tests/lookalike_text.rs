//! Text that looks like other text: names with invisible or text-direction characters are
//! refused, an address's local part is never case-folded into another (U+212A KELVIN SIGN is
//! not `k`), and a Unicode domain is stored as its punycode form.

use roster_tests::harness::{TestApp, TestResponse, User};
use serde_json::{Value, json};

const RLO: &str = "\u{202E}";

fn assert_refused_name(response: &TestResponse, what: &str) {
    assert_eq!((response.status, response.code()), (400, "invalid_request"), "{what}: {:?}", response.body);
    assert_eq!(response.content_type.as_deref(), Some("application/problem+json"), "{what}");
    assert_eq!(
        response.body["detail"], "name must not contain invisible or text-direction characters",
        "{what}: the detail names the field"
    );
}

async fn invite_one(app: &TestApp, by: &User, org: &str, address: &str) -> Value {
    let body = json!({ "invitations": [{ "email": address }] });
    let response = app.call(Some(by), "POST", &format!("/orgs/{org}/invitations"), Some(body)).await;
    assert_eq!(response.status, 200, "{:?}", response.body);
    response.body["results"][0].clone()
}

async fn accept(app: &TestApp, user: &User, token: &str) -> TestResponse {
    app.call(Some(user), "POST", "/invitations/accept", Some(json!({ "token": token }))).await
}

#[tokio::test]
async fn an_org_name_with_a_direction_override_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");

    let created =
        app.call(Some(&alice), "POST", "/orgs", Some(json!({ "name": format!("Acme{RLO}gnp.exe") }))).await;
    assert_refused_name(&created, "create");
    for hidden in ["\u{200B}", "\u{FEFF}", "\u{2066}"] {
        let created =
            app.call(Some(&alice), "POST", "/orgs", Some(json!({ "name": format!("Ac{hidden}me") }))).await;
        assert_refused_name(
            &created,
            &format!("create with U+{:04X}", hidden.chars().next().unwrap() as u32),
        );
    }
    assert!(app.all_items().await.is_empty(), "nothing was written");

    let org = app.create_org(&alice, "Acme").await;
    let path = format!("/orgs/{org}");
    let items_before = app.all_items().await.len();
    for body in [
        json!({ "name": format!("Acme{RLO}") }),
        json!({ "name": format!("{RLO}Acme"), "metadata": { "plan": "pro" } }),
    ] {
        let renamed = app.call(Some(&alice), "PATCH", &path, Some(body.clone())).await;
        assert_refused_name(&renamed, &format!("rename {body}"));
    }
    let read = app.call(Some(&alice), "GET", &path, None).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!((&read.body["org"]["name"], &read.body["org"]["metadata"]), (&json!("Acme"), &json!({})));
    let audit = app.call(Some(&alice), "GET", &format!("{path}/audit"), None).await;
    assert_eq!(audit.audit_actions(), ["org.created"], "no update was recorded");
    assert_eq!(app.all_items().await.len(), items_before, "nothing was written");
}

#[tokio::test]
async fn a_kelvin_sign_is_not_a_k() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let kim = app.email("kim");
    let result = invite_one(&app, &alice, &org, &kim).await;
    assert_eq!(result["status"], "invited", "{result}");
    let token = app.token_mailed_to(&kim).await;

    // The same address to the eye, with U+212A KELVIN SIGN for the `k`, claimed verified.
    let lookalike = User::new("mallory").with_email(&format!("\u{212A}{}", &kim[1..]));
    assert_eq!(lookalike.email_verified, Some(true));
    let refused = accept(&app, &lookalike, &token).await;
    assert_eq!((refused.status, refused.code()), (403, "email_mismatch"), "{:?}", refused.body);
    let members = app.call(Some(&alice), "GET", &format!("/orgs/{org}/members"), None).await;
    assert_eq!(members.body["members"].as_array().unwrap().len(), 1, "nobody joined");

    let joined = accept(&app, &User::new("kim").with_email(&kim), &token).await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    assert_eq!(joined.body["membership"]["email"], kim);
}

#[tokio::test]
async fn a_unicode_domain_is_invited_as_punycode() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;

    let result = invite_one(&app, &alice, &org, "ann@bücher.example").await;
    assert_eq!(result["status"], "invited", "{result}");
    assert_eq!(result["email"], "ann@xn--bcher-kva.example");
    assert_eq!(result["invitation"]["email"], "ann@xn--bcher-kva.example");
    let listed = app.call(Some(&alice), "GET", &format!("/orgs/{org}/invitations"), None).await;
    assert_eq!(listed.body["invitations"][0]["email"], "ann@xn--bcher-kva.example");

    // The mail went to the ASCII form, and its token admits the same address however written.
    let token = app.token_mailed_to("ann@xn--bcher-kva.example").await;
    let ann = User::new("ann").with_email("Ann@BÜCHER.example");
    let joined = accept(&app, &ann, &token).await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    assert_eq!(joined.body["membership"]["email"], "ann@xn--bcher-kva.example");
}
