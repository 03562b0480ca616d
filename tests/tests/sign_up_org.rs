//! Sign-up creates an organization (API.md "Accounts", `ROSTER_CREATE_ORG_ON_SIGN_UP`): the
//! Cognito post-confirmation trigger's handler, fed Cognito's own event JSON
//! (tests/fixtures/cognito/post-confirmation.json), against DynamoDB Local with its
//! transaction conflicts emulated; and, with one organization per user, accepting an
//! invitation replaces that personal organization while its owner is alone in it.

use futures::future::join_all;
use roster::handlers::post_confirmation::handle;
use roster_tests::cognito::{deliver_post_confirmation, post_confirmation_event};
use roster_tests::gateway::POST_CONFIRMATION_PATH;
use roster_tests::harness::{TestApp, User};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("dev-backend", "roster/admin");

/// Cognito's post-confirmation event for `user` (their sub, address and name), built on
/// the fixture: every attribute a string.
fn event(user: &User, trigger: &str, verified: bool) -> Value {
    post_confirmation_event(trigger, &user.sub, user.email.as_deref(), verified, user.name.as_deref())
}

fn confirmed(user: &User) -> Value {
    event(user, "PostConfirmation_ConfirmSignUp", true)
}

async fn spawn(one_org_per_user: bool) -> TestApp {
    TestApp::spawn_with(|c| {
        c.create_org_on_sign_up = true;
        c.one_org_per_user = one_org_per_user;
    })
    .await
}

fn named(app: &TestApp, sub: &str, name: &str) -> User {
    let mut user = app.user(sub);
    user.name = Some(name.to_owned());
    user
}

/// The user's organizations (`GET /orgs`): (id, name, their role).
async fn orgs_of(app: &TestApp, user: &User) -> Vec<(String, String, String)> {
    let r = app.call(Some(user), "GET", "/orgs", None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["org"]["id"].as_str().unwrap().to_owned(),
                o["org"]["name"].as_str().unwrap().to_owned(),
                o["membership"]["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Delivers `event` until the handler takes it, as Cognito retries a trigger that failed.
async fn deliver(app: &TestApp, event: &Value) {
    deliver_post_confirmation(&app.app, event).await;
}

async fn invite(app: &TestApp, by: &User, org: &str, address: &str) {
    let body = json!({ "invitations": [{ "email": address }] });
    let r = app.call(Some(by), "POST", &format!("/orgs/{org}/invitations"), Some(body)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["results"][0]["status"], "invited", "{:?}", r.body);
}

async fn accept(app: &TestApp, user: &User, address: &str) -> roster_tests::harness::TestResponse {
    let token = app.token_mailed_to(address).await;
    app.call(Some(user), "POST", "/invitations/accept", Some(json!({ "token": token }))).await
}

#[tokio::test]
async fn a_confirmed_sign_up_gets_its_own_organization_exactly_once_however_often_cognito_delivers_it() {
    let app = spawn(false).await;
    let ann = named(&app, "ann", "Ann Lee");
    let sent = confirmed(&ann);
    deliver(&app, &sent).await;
    let orgs = orgs_of(&app, &ann).await;
    assert_eq!(orgs.len(), 1, "{orgs:?}");
    let (org, name, role) = &orgs[0];
    assert_eq!((name.as_str(), role.as_str()), ("Ann Lee's organization", "owner"));
    let member = app.call(Some(&ann), "GET", &format!("/orgs/{org}/members/ann"), None).await;
    assert_eq!(member.body["member"]["email"], json!(ann.email), "a verified address is recorded");
    let audit = app.call(Some(&ann), "GET", &format!("/orgs/{org}/audit"), None).await;
    let events = audit.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["action"], "org.created");
    assert_eq!(events[0]["details"]["via"], "sign_up");

    // Cognito's retries: again one after another, then eight at once (conflicts emulated).
    deliver(&app, &sent).await;
    join_all((0..8).map(|_| deliver(&app, &sent))).await;
    assert_eq!(orgs_of(&app, &ann).await.len(), 1, "one organization however often delivered");
    assert!(app.index_drift(org).await.is_empty());

    // Eight users signing up at once get one each.
    let users: Vec<User> = (0..8).map(|i| named(&app, &format!("u{i}"), &format!("User {i}"))).collect();
    let events: Vec<Value> = users.iter().flat_map(|u| [confirmed(u), confirmed(u), confirmed(u)]).collect();
    join_all(events.iter().map(|e| deliver(&app, e))).await;
    for u in &users {
        let orgs = orgs_of(&app, u).await;
        assert_eq!(orgs.len(), 1, "{}: {orgs:?}", u.sub);
        assert_eq!(orgs[0].1, format!("{}'s organization", u.name.as_deref().unwrap()));
    }
}

#[tokio::test]
async fn no_organization_for_a_pending_invitation_a_password_reset_or_a_deployment_without_the_setting() {
    let app = spawn(false).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;

    // Invited: they accept the invitation instead.
    let ann = named(&app, "ann", "Ann");
    invite(&app, &alice, &acme, ann.email.as_deref().unwrap()).await;
    deliver(&app, &confirmed(&ann)).await;
    assert!(orgs_of(&app, &ann).await.is_empty(), "an invited address gets no organization of its own");
    assert_eq!(accept(&app, &ann, ann.email.as_deref().unwrap()).await.status, 200);
    assert_eq!(orgs_of(&app, &ann).await.len(), 1);

    // An expired invitation invites nobody: the organization is made.
    let bob = named(&app, "bob", "Bob");
    invite(&app, &alice, &acme, bob.email.as_deref().unwrap()).await;
    app.advance(std::time::Duration::from_secs(73 * 3600));
    deliver(&app, &confirmed(&bob)).await;
    assert_eq!(
        orgs_of(&app, &bob).await.iter().map(|o| o.1.as_str()).collect::<Vec<_>>(),
        ["Bob's organization"]
    );

    // A password reset's confirmation is no sign-up.
    let cy = named(&app, "cy", "Cy");
    deliver(&app, &event(&cy, "PostConfirmation_ConfirmForgotPassword", true)).await;
    assert!(orgs_of(&app, &cy).await.is_empty());

    // An unverified address (AdminConfirmSignUp) proves nothing: the organization is made,
    // and the address is neither recorded nor checked for invitations.
    let dee = named(&app, "dee", "Dee");
    invite(&app, &alice, &acme, dee.email.as_deref().unwrap()).await;
    deliver(&app, &event(&dee, "PostConfirmation_ConfirmSignUp", false)).await;
    // (Read with their still-unverified token: a verified one would record the address.)
    let unverified = User { email_verified: Some(false), ..dee.clone() };
    let orgs = orgs_of(&app, &unverified).await;
    assert_eq!(orgs.len(), 1, "{orgs:?}");
    let member = app.call(Some(&unverified), "GET", &format!("/orgs/{}/members/dee", orgs[0].0), None).await;
    assert_eq!(member.body["member"]["email"], Value::Null, "{:?}", member.body);

    // No name: a plain one, to rename in Settings.
    let mut eve = app.user("eve");
    eve.name = None;
    deliver(&app, &confirmed(&eve)).await;
    assert_eq!(orgs_of(&app, &eve).await[0].1, "My organization");

    // The setting off: the trigger hands every event back and makes nothing.
    let off = app.with_config(|c| c.create_org_on_sign_up = false).await;
    let fay = named(&app, "fay", "Fay");
    let sent = confirmed(&fay);
    assert_eq!(handle(&off, sent.clone()).await.unwrap(), sent);
    assert!(orgs_of(&app, &fay).await.is_empty());
}

#[tokio::test]
async fn what_is_no_post_confirmation_event_is_refused_and_changes_nothing() {
    let app = spawn(false).await;
    let ann = named(&app, "ann", "Ann");
    let mut no_sub = confirmed(&ann);
    no_sub["request"]["userAttributes"].as_object_mut().unwrap().remove("sub");
    let mut other = confirmed(&ann);
    other["triggerSource"] = json!("PreSignUp_SignUp");
    for (what, bad) in [
        ("no sub", no_sub),
        ("another trigger", other),
        ("no request", json!({ "triggerSource": "PostConfirmation_ConfirmSignUp" })),
        ("not an object", json!([1, 2])),
    ] {
        let e = handle(&app.app, bad).await.expect_err(what);
        assert_eq!(e.status().as_u16(), 400, "{what}: {e:?}");
    }
    assert!(orgs_of(&app, &ann).await.is_empty());
    let items = app.all_items().await;
    assert!(items.is_empty(), "nothing written: {items:?}");
}

#[tokio::test]
async fn the_local_gateway_plays_cognito_calling_the_trigger() {
    let app = spawn(false).await;
    let gateway = app.local_gateway().await;
    let ann = named(&app, "ann", "Ann");
    let sent = confirmed(&ann);
    let body = serde_json::to_vec(&sent).unwrap();
    let r = gateway.handle("POST", POST_CONFIRMATION_PATH, "", &[], &body).await;
    assert_eq!(r.status(), 200);
    let back: Value = match r.body() {
        lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(back, sent);
    assert_eq!(orgs_of(&app, &ann).await.len(), 1);
}

#[tokio::test]
async fn with_one_organization_per_user_accepting_an_invitation_replaces_a_personal_organization_alone() {
    let app = spawn(true).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let ann = named(&app, "ann", "Ann");
    let address = ann.email.clone().unwrap();
    deliver(&app, &confirmed(&ann)).await;
    let personal = orgs_of(&app, &ann).await[0].0.clone();

    invite(&app, &alice, &acme, &address).await;
    let joined = accept(&app, &ann, &address).await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    assert_eq!(joined.body["org"]["id"], json!(acme));
    let orgs = orgs_of(&app, &ann).await;
    assert_eq!(orgs.iter().map(|o| o.0.as_str()).collect::<Vec<_>>(), [acme.as_str()], "replaced");
    assert_eq!(app.call(Some(&ann), "GET", &format!("/orgs/{personal}"), None).await.status, 404);
    let purges = app.store_pending_purges().await;
    assert!(purges.iter().any(|p| p.org.as_str() == personal), "its items go with the purge");
    // The purge leaves the lock alone: it names Acme now.
    app.advance(roster::store::purge::PURGE_GRACE * 2);
    roster::handlers::purge::run(&app.app, || true).await.expect("purge");
    let other = app.user("olga");
    let theirs = app.create_org(&other, "Other").await;
    invite(&app, &other, &theirs, &address).await;
    let refused = accept(&app, &ann, &address).await;
    assert_eq!((refused.status, refused.body["code"].as_str()), (409, Some("already_in_org")));
    assert!(app.index_drift(&acme).await.is_empty());
}

#[tokio::test]
async fn a_personal_organization_that_invited_someone_or_has_another_member_is_not_replaced() {
    let app = spawn(true).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;

    // Its owner invited someone (even revoked since): it is theirs to keep.
    let ann = named(&app, "ann", "Ann");
    deliver(&app, &confirmed(&ann)).await;
    let personal = orgs_of(&app, &ann).await[0].0.clone();
    invite(&app, &ann, &personal, &app.email("friend")).await;
    invite(&app, &alice, &acme, ann.email.as_deref().unwrap()).await;
    let refused = accept(&app, &ann, ann.email.as_deref().unwrap()).await;
    assert_eq!((refused.status, refused.body["code"].as_str()), (409, Some("already_in_org")));
    assert_eq!(app.call(Some(&ann), "GET", &format!("/orgs/{personal}"), None).await.status, 200);

    // An invite link counts as inviting.
    let bob = named(&app, "bob", "Bob");
    deliver(&app, &confirmed(&bob)).await;
    let bobs = orgs_of(&app, &bob).await[0].0.clone();
    let link = app
        .call(Some(&bob), "POST", &format!("/orgs/{bobs}/invite-links"), Some(json!({ "role": "member" })))
        .await;
    assert_eq!(link.status, 201, "{:?}", link.body);
    invite(&app, &alice, &acme, bob.email.as_deref().unwrap()).await;
    assert_eq!(accept(&app, &bob, bob.email.as_deref().unwrap()).await.status, 409);

    // Another member (a service added them): not replaced while they are in it; once they
    // are gone, it is the owner's alone again.
    let cy = named(&app, "cy", "Cy");
    deliver(&app, &confirmed(&cy)).await;
    let cys = orgs_of(&app, &cy).await[0].0.clone();
    let path = format!("/orgs/{cys}/members");
    let added = app
        .call_as_service(ADMIN.0, ADMIN.1, "POST", &path, Some(json!({ "userId": "dan", "role": "member" })))
        .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    invite(&app, &alice, &acme, cy.email.as_deref().unwrap()).await;
    let token = app.token_mailed_to(cy.email.as_deref().unwrap()).await;
    let accept_with = |token: String| {
        let app = &app;
        let cy = &cy;
        async move { app.call(Some(cy), "POST", "/invitations/accept", Some(json!({ "token": token }))).await }
    };
    assert_eq!(accept_with(token.clone()).await.status, 409);
    let removed = app.call(Some(&cy), "DELETE", &format!("/orgs/{cys}/members/dan"), None).await;
    assert_eq!(removed.status, 204, "{:?}", removed.body);
    let joined = accept_with(token).await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    assert_eq!(app.call(Some(&cy), "GET", &format!("/orgs/{cys}"), None).await.status, 404);

    // An organization made with POST /orgs is never personal.
    let dee = app.user("dee");
    app.create_org(&dee, "Dee's own").await;
    invite(&app, &alice, &acme, dee.email.as_deref().unwrap()).await;
    assert_eq!(accept(&app, &dee, dee.email.as_deref().unwrap()).await.status, 409);
}

#[tokio::test]
async fn an_invite_link_made_while_its_owner_accepts_elsewhere_never_outlives_a_replaced_organization() {
    // Conflicts emulated: whichever is written first decides. Either the link is made and
    // the personal organization stays (the accept answers 409), or it is replaced and the
    // link's write finds it gone (404); never both.
    let app = spawn(true).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let (mut links_first, mut accepts_first) = (0, 0);
    for i in 0..16 {
        let user = named(&app, &format!("p{i}"), &format!("P {i}"));
        let address = user.email.clone().unwrap();
        deliver(&app, &confirmed(&user)).await;
        let personal = orgs_of(&app, &user).await[0].0.clone();
        invite(&app, &alice, &acme, &address).await;
        let token = app.token_mailed_to(&address).await;
        let link_path = format!("/orgs/{personal}/invite-links");
        // The link starts later and later: the accept's reads come first, then its writes.
        let later = std::time::Duration::from_millis(5 * i);
        let (link, joined) = tokio::join!(
            async {
                tokio::time::sleep(later).await;
                app.call(Some(&user), "POST", &link_path, Some(json!({ "role": "member" }))).await
            },
            app.call(Some(&user), "POST", "/invitations/accept", Some(json!({ "token": token })))
        );
        let still = app.call(Some(&user), "GET", &format!("/orgs/{personal}"), None).await.status;
        match (link.status, joined.status) {
            (201, 409) => {
                links_first += 1;
                assert_eq!(still, 200);
            }
            (404 | 403, 200) => {
                accepts_first += 1;
                assert_eq!(still, 404);
            }
            other => panic!("link {:?} / accept {:?}: {other:?}", link.body, joined.body),
        }
        assert_eq!(orgs_of(&app, &user).await.len(), 1, "one organization, whichever won");
    }
    eprintln!("link first {links_first}, accept first {accepts_first}");
    assert!(links_first > 0 && accepts_first > 0, "both orders seen: {links_first} / {accepts_first}");
}

#[tokio::test]
async fn a_personal_organization_left_to_a_member_a_service_added_is_theirs_to_keep() {
    // Its sign-up owner made the added member an owner and left: personal still, and that
    // member its only one, but their accept elsewhere replaces only what their own sign-up
    // made.
    let app = spawn(true).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let ann = named(&app, "ann", "Ann");
    deliver(&app, &confirmed(&ann)).await;
    let personal = orgs_of(&app, &ann).await[0].0.clone();
    let path = format!("/orgs/{personal}/members");
    let dan = app.user("dan");
    let body = json!({ "userId": "dan", "email": dan.email, "role": "owner" });
    let added = app.call_as_service(ADMIN.0, ADMIN.1, "POST", &path, Some(body)).await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    let left = app.call(Some(&ann), "DELETE", &format!("/orgs/{personal}/members/ann"), None).await;
    assert_eq!(left.status, 204, "{:?}", left.body);
    invite(&app, &alice, &acme, dan.email.as_deref().unwrap()).await;
    let refused = accept(&app, &dan, dan.email.as_deref().unwrap()).await;
    assert_eq!((refused.status, refused.body["code"].as_str()), (409, Some("already_in_org")));
    assert_eq!(app.call(Some(&dan), "GET", &format!("/orgs/{personal}"), None).await.status, 200);
}
