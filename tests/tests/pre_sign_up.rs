//! The Cognito pre-sign-up trigger (self sign-up closed): a sign-up is admitted only for an
//! address with a pending, unexpired invitation in a live organization. Against DynamoDB
//! Local (and the SES emulator, for the tokens of accept and decline), through the handler
//! the `pre-sign-up` function runs and the local gateway's `/_local/pre-sign-up`.

use std::time::Duration;

use roster::Error;
use roster::handlers::pre_sign_up::{INVITATION_ONLY, handle};
use roster_tests::cognito::pre_sign_up_event;
use roster_tests::gateway::{CLOCK_PATH, PRE_SIGN_UP_PATH};
use roster_tests::harness::{TestApp, User};
use serde_json::{Value, json};

/// A pre-sign-up event as Cognito sends it to Lambda.
fn event(trigger: &str, email: Option<&str>) -> Value {
    pre_sign_up_event(trigger, email, None)
}

fn refused() -> Result<Value, Error> {
    Err(Error::forbidden(INVITATION_ONLY))
}

/// Whether the SignUp trigger admits `address` now; an admitted event comes back unchanged.
async fn admits(app: &TestApp, address: &str) -> bool {
    let sent = event("PreSignUp_SignUp", Some(address));
    match handle(&app.app, sent.clone()).await {
        Ok(answer) => {
            assert_eq!(answer, sent, "an admitted event is returned untouched");
            true
        }
        Err(e) => {
            assert_eq!(Err::<Value, _>(e), refused());
            false
        }
    }
}

/// Invites `address` into `org` and returns the invitation's id.
async fn invite(app: &TestApp, by: &User, org: &str, address: &str, hours: u32) -> String {
    let body = json!({ "invitations": [{ "email": address }], "expiresInHours": hours });
    let response = app.call(Some(by), "POST", &format!("/orgs/{org}/invitations"), Some(body)).await;
    assert_eq!(response.status, 200, "{:?}", response.body);
    assert_eq!(response.body["results"][0]["status"], "invited", "{:?}", response.body);
    response.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_pending_invitation_admits_its_address_in_any_letter_case() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let ann = app.email("ann");
    assert!(!admits(&app, &ann).await, "not invited yet");
    invite(&app, &alice, &org, &ann, 72).await;
    app.calls.take();
    assert!(admits(&app, &ann).await);
    let calls = app.calls.take();
    assert_eq!(calls, ["DynamoDB.Query", "DynamoDB.BatchGetItem"], "two round trips");
    assert!(admits(&app, &format!("  {}", ann.to_uppercase())).await, "addresses compare case-insensitively");
    app.calls.take();
    assert!(!admits(&app, &app.email("bob")).await, "another address");
    assert_eq!(app.calls.take(), ["DynamoDB.Query"], "no invitation: one round trip");
}

#[tokio::test]
async fn an_expired_invitation_admits_no_one_until_resent() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let ann = app.email("ann");
    let id = invite(&app, &alice, &org, &ann, 1).await;
    assert!(admits(&app, &ann).await);
    // The app's clock, not sleeping: DynamoDB's TTL has deleted nothing.
    app.advance(Duration::from_secs(3601));
    assert!(!admits(&app, &ann).await, "expired");
    // A resend rewrites the invitation (a fresh expiry): indexed again.
    let path = format!("/orgs/{org}/invitations/{id}/resend");
    assert_eq!(app.call(Some(&alice), "POST", &path, None).await.status, 200);
    assert!(admits(&app, &ann).await, "resent");
}

#[tokio::test]
async fn accepted_declined_and_revoked_invitations_admit_no_one() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let (ann, bob, cat) = (app.user("ann"), app.user("bob"), app.user("cat"));
    let address = |u: &User| u.email.clone().unwrap();

    invite(&app, &alice, &org, &address(&ann), 72).await;
    let token = app.token_mailed_to(&address(&ann)).await;
    let accepted = app.call(Some(&ann), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    assert!(!admits(&app, &address(&ann)).await, "accepted");

    invite(&app, &alice, &org, &address(&bob), 72).await;
    let token = app.token_mailed_to(&address(&bob)).await;
    let declined =
        app.call(Some(&bob), "POST", "/invitations/decline", Some(json!({ "token": token }))).await;
    assert_eq!(declined.status, 204, "{:?}", declined.body);
    assert!(!admits(&app, &address(&bob)).await, "declined");

    let id = invite(&app, &alice, &org, &address(&cat), 72).await;
    assert!(admits(&app, &address(&cat)).await);
    let revoked = app.call(Some(&alice), "DELETE", &format!("/orgs/{org}/invitations/{id}"), None).await;
    assert_eq!(revoked.status, 204);
    assert!(!admits(&app, &address(&cat)).await, "revoked");
}

#[tokio::test]
async fn a_deleted_organizations_invitations_admit_no_one() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let ann = app.email("ann");
    invite(&app, &alice, &org, &ann, 72).await;
    assert!(admits(&app, &ann).await);
    assert_eq!(app.call(Some(&alice), "DELETE", &format!("/orgs/{org}"), None).await.status, 204);
    // The invitation item is still there (the purge has not run): the tombstone decides.
    assert!(!admits(&app, &ann).await, "deleted organization");
}

#[tokio::test]
async fn one_organizations_pending_invitation_is_enough() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.user("alice"), app.user("bob"));
    let acme = app.create_org(&alice, "Acme").await;
    let globex = app.create_org(&bob, "Globex").await;
    let initech = app.create_org(&bob, "Initech").await;
    let ann = app.email("ann");
    invite(&app, &alice, &acme, &ann, 1).await;
    invite(&app, &bob, &initech, &ann, 24).await;
    invite(&app, &bob, &globex, &ann, 48).await;
    assert_eq!(app.call(Some(&bob), "DELETE", &format!("/orgs/{globex}"), None).await.status, 204);
    app.advance(Duration::from_secs(2 * 3600));
    assert!(admits(&app, &ann).await, "Acme's expired, Globex deleted, Initech's pending");
    app.advance(Duration::from_secs(24 * 3600));
    assert!(!admits(&app, &ann).await, "Initech's expired too");
}

#[tokio::test]
async fn administrators_create_users_and_other_events_are_refused() {
    let app = TestApp::spawn().await;
    let admin = event("PreSignUp_AdminCreateUser", Some(&app.email("new")));
    assert_eq!(handle(&app.app, admin.clone()).await, Ok(admin));
    let no_address = event("PreSignUp_AdminCreateUser", None);
    assert_eq!(handle(&app.app, no_address.clone()).await, Ok(no_address), "an administrator decides");

    // Invited, yet refused when the event is not a sign-up of this trigger or lacks the address.
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let ann = app.email("ann");
    invite(&app, &alice, &org, &ann, 72).await;
    // A federated provider's address counts only when it comes verified.
    let mut external = event("PreSignUp_ExternalProvider", Some(&ann));
    assert_eq!(handle(&app.app, external.clone()).await, refused(), "no email_verified");
    external["request"]["userAttributes"]["email_verified"] = json!("false");
    assert_eq!(handle(&app.app, external.clone()).await, refused(), "email_verified false");
    external["request"]["userAttributes"]["email_verified"] = json!("true");
    assert_eq!(handle(&app.app, external.clone()).await, Ok(external));
    for (trigger, email) in [
        ("PreSignUp_SignUp", None),
        ("PreSignUp_ExternalProvider", None),
        ("PreSignUp_SignUp", Some("not an address")),
        ("PostConfirmation_ConfirmSignUp", Some(ann.as_str())),
        ("", Some(ann.as_str())),
    ] {
        assert_eq!(handle(&app.app, event(trigger, email)).await, refused(), "{trigger} {email:?}");
    }
    let mut null_attributes = event("PreSignUp_SignUp", None);
    null_attributes["request"]["userAttributes"] = Value::Null;
    assert_eq!(handle(&app.app, null_attributes).await, refused());

    for not_an_event in [json!({}), json!([]), json!({ "triggerSource": "PreSignUp_SignUp" }), json!("x")] {
        let answer = handle(&app.app, not_an_event.clone()).await;
        assert!(matches!(answer, Err(Error::InvalidRequest(_))), "{not_an_event}: {answer:?}");
    }
}

/// `POST /_local/pre-sign-up` of the local gateway: the contract the local sign-in provider
/// relies on, with the gateway's clock (`/_local/clock`).
#[tokio::test]
async fn the_local_gateway_plays_cognito_invoking_the_trigger() {
    let app = TestApp::spawn().await;
    let gateway = app.local_gateway().await;
    let post = |path: &'static str, body: Vec<u8>| {
        let gateway = &gateway;
        async move { gateway.post_json(path, &body).await }
    };
    let alice = app.user("alice");
    let org = app.create_org(&alice, "Acme").await;
    let ann = app.email("ann");
    invite(&app, &alice, &org, &ann, 1).await;

    let sent = event("PreSignUp_SignUp", Some(&ann));
    let (status, content_type, body) = post(PRE_SIGN_UP_PATH, sent.to_string().into_bytes()).await;
    assert_eq!((status, content_type.as_str(), &body), (200, "application/json", &sent));

    let stranger = event("PreSignUp_SignUp", Some(&app.email("zed")));
    let (status, content_type, body) = post(PRE_SIGN_UP_PATH, stranger.to_string().into_bytes()).await;
    assert_eq!((status, content_type.as_str()), (403, "application/problem+json"));
    assert_eq!((body["code"].as_str(), body["detail"].as_str()), (Some("forbidden"), Some(INVITATION_ONLY)));

    let (status, _, body) = post(CLOCK_PATH, br#"{"advanceSeconds": 3601}"#.to_vec()).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = post(PRE_SIGN_UP_PATH, sent.to_string().into_bytes()).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (403, Some(INVITATION_ONLY)),
        "expired by the gateway's clock"
    );

    for bad in [b"{not json".to_vec(), br#"{"hello": "world"}"#.to_vec()] {
        let (status, content_type, body) = post(PRE_SIGN_UP_PATH, bad).await;
        assert_eq!((status, content_type.as_str()), (400, "application/problem+json"), "{body}");
    }
    let get = gateway.handle("GET", PRE_SIGN_UP_PATH, "", &[], b"").await;
    assert_eq!(get.status(), 405);
}
