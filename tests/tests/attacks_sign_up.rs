//! A hostile review of "sign-up creates an organization" (API.md "Accounts", first bullet;
//! README "Sign-up creates an organization"): the post-confirmation trigger fed forged and
//! partial events (its `sub`, `email_verified`, address and name, the shape of its
//! attributes, other trigger sources); delivered again and again, one after another and at
//! once under DynamoDB's transaction conflicts (emulated by the harness's proxy), with other
//! contents, after its organization was deleted and after its owner left; which invitations
//! keep it from being made; and, with one organization per user, the accept that replaces a
//! personal organization racing a second accept, an invitation, a service's added member, a
//! deletion and a rename, each checked against the table's items: one membership, the lock
//! on it, and nothing of the replaced organization left after the purge.
//! (`sign_up_org.rs` holds the feature's own tests.)

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::join_all;
use roster::domain::OrgName;
use roster::handlers::post_confirmation::handle;
use roster_tests::cognito::{deliver_post_confirmation, post_confirmation_event};
use roster_tests::harness::{TestApp, TestResponse, User, problem};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("dev-backend", "roster/admin");
const SIGN_UP: &str = "PostConfirmation_ConfirmSignUp";

type Item = HashMap<String, AttributeValue>;

async fn spawn(one_org_per_user: bool) -> TestApp {
    TestApp::spawn_with(|c| {
        c.create_org_on_sign_up = true;
        c.one_org_per_user = one_org_per_user;
    })
    .await
}

/// Cognito's event confirming `user`'s sign-up, their address verified.
fn confirmed(user: &User) -> Value {
    post_confirmation_event(SIGN_UP, &user.sub, user.email.as_deref(), true, user.name.as_deref())
}

/// Delivers `event` until the handler takes it, as Cognito retries a trigger that failed.
async fn deliver(app: &TestApp, event: &Value) {
    deliver_post_confirmation(&app.app, event).await;
}

/// The ids of the user's organizations (`GET /orgs`).
async fn orgs_of(app: &TestApp, user: &User) -> Vec<String> {
    let r = app.call(Some(user), "GET", "/orgs", None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["orgs"].as_array().unwrap().iter().map(|o| o["org"]["id"].as_str().unwrap().to_owned()).collect()
}

/// The one organization the user has, by `GET /orgs`: (id, name).
async fn only_org(app: &TestApp, user: &User) -> (String, String) {
    let r = app.call(Some(user), "GET", "/orgs", None).await;
    let orgs = r.body["orgs"].as_array().unwrap();
    assert_eq!(orgs.len(), 1, "{}: {orgs:?}", user.sub);
    let org = &orgs[0];
    assert_eq!(org["membership"]["role"], "owner", "{org:?}");
    (org["org"]["id"].as_str().unwrap().to_owned(), org["org"]["name"].as_str().unwrap().to_owned())
}

async fn invite(app: &TestApp, by: &User, org: &str, address: &str) -> String {
    let body = json!({ "invitations": [{ "email": address }] });
    let r = app.call(Some(by), "POST", &format!("/orgs/{org}/invitations"), Some(body)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["results"][0]["status"], "invited", "{:?}", r.body);
    r.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned()
}

async fn accept(app: &TestApp, user: &User, token: &str) -> TestResponse {
    app.call(Some(user), "POST", "/invitations/accept", Some(json!({ "token": token }))).await
}

async fn link(app: &TestApp, by: &User, org: &str) -> String {
    let r = app
        .call(Some(by), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({ "role": "member" })))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["link"]["token"].as_str().unwrap().to_owned()
}

/// An item of the user's partition (`USER#<sub>`), read consistently.
async fn user_item(app: &TestApp, sub: &str, sk: &str) -> Option<Item> {
    app.item(&format!("USER#{sub}"), sk).await
}

fn attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// Where the user's one-org lock points (`None`: no lock).
async fn lock_of(app: &TestApp, sub: &str) -> Option<String> {
    user_item(app, sub, "ORG_LOCK").await.and_then(|i| attr(&i, "orgId").map(str::to_owned))
}

/// The organization the user's sign-up record names (`None`: no record).
async fn signed_up(app: &TestApp, sub: &str) -> Option<Item> {
    user_item(app, sub, "SIGN_UP").await
}

/// The live organizations (not tombstones) that hold a membership item of `sub`, from a
/// scan of the table: what the one-organization rule is about, whatever the index shows.
async fn memberships(app: &TestApp, sub: &str) -> Vec<String> {
    let items = app.all_items().await;
    let dead: Vec<&str> = items
        .iter()
        .filter(|i| attr(i, "SK") == Some("ORG") && i.contains_key("deletedAt"))
        .filter_map(|i| attr(i, "PK"))
        .collect();
    let mut orgs: Vec<String> = items
        .iter()
        .filter(|i| attr(i, "SK") == Some(&format!("MEMBER#{sub}")) && attr(i, "type") == Some("member"))
        .filter_map(|i| attr(i, "PK"))
        .filter(|pk| !dead.contains(pk))
        .map(|pk| pk.trim_start_matches("ORG#").to_owned())
        .collect();
    orgs.sort();
    orgs
}

/// Whether the organization's item is a tombstone.
async fn deleted(app: &TestApp, org: &str) -> bool {
    app.partition(org).await.iter().any(|i| attr(i, "SK") == Some("ORG") && i.contains_key("deletedAt"))
}

async fn purge(app: &TestApp) {
    app.advance(roster::store::purge::PURGE_GRACE + Duration::from_secs(1));
    roster::handlers::purge::run(&app.app, || true).await.expect("purge");
}

/// A user whose sign-up was confirmed: their personal organization's id.
async fn signed_up_user(app: &TestApp, sub: &str) -> (User, String) {
    let user = app.user(sub);
    deliver(app, &confirmed(&user)).await;
    let (org, _) = only_org(app, &user).await;
    (user, org)
}

// ------------------------------------------------------------------ forged and partial events

#[tokio::test]
async fn an_event_without_a_usable_sub_or_of_another_shape_is_refused_and_writes_nothing() {
    let app = spawn(true).await;
    let ann = app.user("ann");
    let with_sub = |sub: Value| {
        let mut e = confirmed(&ann);
        e["request"]["userAttributes"]["sub"] = sub;
        e
    };
    let without = |path: &[&str]| {
        let mut e = confirmed(&ann);
        let (last, parents) = path.split_last().unwrap();
        let mut at = &mut e;
        for p in parents {
            at = &mut at[*p];
        }
        at.as_object_mut().unwrap().remove(*last);
        e
    };
    let with = |path: &[&str], value: Value| {
        let mut e = confirmed(&ann);
        let mut at = &mut e;
        for p in path {
            at = &mut at[*p];
        }
        *at = value;
        e
    };
    let cases: Vec<(&str, Value)> = vec![
        ("no sub", without(&["request", "userAttributes", "sub"])),
        ("an empty sub", with_sub(json!(""))),
        ("a blank sub", with_sub(json!("   "))),
        ("a sub with a space", with_sub(json!("ann lee"))),
        ("a sub with a line break", with_sub(json!("ann\nlee"))),
        ("a sub with a bidi override", with_sub(json!("ann\u{202e}eel"))),
        ("a sub with a zero-width space", with_sub(json!("an\u{200b}n"))),
        ("a service's sub", with_sub(json!("service:dev-backend"))),
        ("a sub past 128 bytes", with_sub(json!("a".repeat(129)))),
        ("a sub of 10,000 bytes", with_sub(json!("é".repeat(5000)))),
        ("a numeric sub", with_sub(json!(42))),
        ("a null sub", with_sub(json!(null))),
        ("a sub as a list", with_sub(json!(["ann"]))),
        (
            "attributes as a list",
            with(&["request", "userAttributes"], json!([{ "Name": "sub", "Value": "ann" }])),
        ),
        ("attributes null", with(&["request", "userAttributes"], json!(null))),
        ("attributes a string", with(&["request", "userAttributes"], json!("sub=ann"))),
        ("no attributes", without(&["request", "userAttributes"])),
        ("request null", with(&["request"], json!(null))),
        ("no request", without(&["request"])),
        ("no trigger source", without(&["triggerSource"])),
        ("a numeric trigger source", with(&["triggerSource"], json!(1))),
        ("pre sign-up", with(&["triggerSource"], json!("PreSignUp_SignUp"))),
        ("pre sign-up, admin", with(&["triggerSource"], json!("PreSignUp_AdminCreateUser"))),
        ("pre sign-up, federated", with(&["triggerSource"], json!("PreSignUp_ExternalProvider"))),
        ("token generation", with(&["triggerSource"], json!("TokenGeneration_HostedAuth"))),
        ("custom message", with(&["triggerSource"], json!("CustomMessage_SignUp"))),
        ("lower case", with(&["triggerSource"], json!("postconfirmation_confirmsignup"))),
        ("an empty object", json!({})),
        ("null", json!(null)),
        ("a string", json!("PostConfirmation_ConfirmSignUp")),
    ];
    for (what, event) in cases {
        let e = handle(&app.app, event).await.expect_err(what);
        assert_eq!(e.status().as_u16(), 400, "{what}: {e:?}");
    }
    let items = app.all_items().await;
    assert!(items.is_empty(), "nothing written: {items:?}");
}

#[tokio::test]
async fn other_post_confirmation_sources_are_handed_back_untouched() {
    let app = spawn(true).await;
    let ann = app.user("ann");
    for source in [
        "PostConfirmation_ConfirmForgotPassword",
        "PostConfirmation_Other",
        "PostConfirmation_",
        // Not Cognito's spelling: no sign-up either.
        "PostConfirmation_ConfirmSignUp ",
        "PostConfirmation_confirmSignUp",
    ] {
        let event =
            post_confirmation_event(source, &ann.sub, ann.email.as_deref(), true, ann.name.as_deref());
        assert_eq!(handle(&app.app, event.clone()).await.expect(source), event, "{source}");
    }
    assert!(app.all_items().await.is_empty(), "nothing written");
    assert!(orgs_of(&app, &ann).await.is_empty());
}

#[tokio::test]
async fn odd_but_valid_subs_and_extra_fields_get_one_organization_each() {
    let app = spawn(true).await;
    let subs = ["#", "a#b", "ORG#x", "USER#ann", "ann#ORG_LOCK", "Zoë-日本-😀", &"s".repeat(128)];
    for (i, sub) in subs.iter().enumerate() {
        let user = User::new(sub).with_email(&app.email(&format!("odd{i}")));
        let mut event = confirmed(&user);
        // Attributes and fields Cognito may add, or a forger would: none changes anything.
        let attributes = event["request"]["userAttributes"].as_object_mut().unwrap();
        attributes.insert("custom:role".into(), json!("admin"));
        attributes.insert("cognito:groups".into(), json!("owners"));
        attributes.insert("orgId".into(), json!("org_00000000000000000000000000000000"));
        event["request"]["clientMetadata"] = json!({ "orgId": "org_00000000000000000000000000000000" });
        event["response"] = json!({ "anything": true });
        event["extra"] = json!([1, 2, 3]);
        deliver(&app, &event).await;
        deliver(&app, &event).await;
        let (org, _) = only_org(&app, &user).await;
        assert_eq!(lock_of(&app, sub).await.as_deref(), Some(org.as_str()), "{sub}");
        assert_eq!(signed_up(&app, sub).await.as_ref().and_then(|i| attr(i, "orgId")), Some(org.as_str()));
        let members = app.call(Some(&user), "GET", &format!("/orgs/{org}/members"), None).await;
        assert_eq!(members.status, 200, "{sub}: {:?}", members.body);
        assert_eq!(members.body["members"].as_array().unwrap().len(), 1, "{sub}");
        assert_eq!(members.body["members"][0]["userId"], json!(sub));
        assert!(app.index_drift(&org).await.is_empty(), "{sub}");
    }
    // Each sub made its own: "USER#ann" and "ann#ORG_LOCK" are no one else's keys.
    let orgs = app.all_items().await.iter().filter(|i| attr(i, "SK") == Some("ORG")).count();
    assert_eq!(orgs, subs.len());
}

#[tokio::test]
async fn only_the_string_true_proves_the_address() {
    let app = spawn(false).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let odd =
        [json!("True"), json!("TRUE"), json!("1"), json!(true), json!("yes"), json!(" true"), json!("false")];
    for (i, verified) in odd.iter().map(Some).chain([None]).enumerate() {
        let user = app.user(&format!("odd{i}"));
        let address = user.email.clone().unwrap();
        invite(&app, &alice, &acme, &address).await;
        let mut event = confirmed(&user);
        let attributes = event["request"]["userAttributes"].as_object_mut().unwrap();
        match verified {
            Some(v) => attributes.insert("email_verified".into(), v.clone()),
            None => attributes.remove("email_verified"),
        };
        deliver(&app, &event).await;
        // Unproven: the invitation is not theirs to be on the way to; the organization is
        // made, and the address neither recorded on it nor taken in its slots.
        let unverified = User { email_verified: Some(false), ..user.clone() };
        let orgs = orgs_of(&app, &unverified).await;
        assert_eq!(orgs.len(), 1, "{verified:?}: {orgs:?}");
        let member = app
            .call(Some(&unverified), "GET", &format!("/orgs/{}/members/{}", orgs[0], user.sub), None)
            .await;
        assert_eq!(member.body["member"]["email"], Value::Null, "{verified:?}: {:?}", member.body);
        let slots = app.partition(&orgs[0]).await;
        assert!(
            !slots.iter().any(|i| attr(i, "SK").is_some_and(|sk| sk.starts_with("EMAIL#"))),
            "{verified:?}: an unproven address takes no slot"
        );
    }
    // "true" proves it: the pending invitation stands, no organization.
    let proven = app.user("proven");
    invite(&app, &alice, &acme, proven.email.as_deref().unwrap()).await;
    deliver(&app, &confirmed(&proven)).await;
    assert!(orgs_of(&app, &proven).await.is_empty());
}

#[tokio::test]
async fn the_invited_address_in_another_case_or_with_spaces_is_still_the_invited_one() {
    let app = spawn(false).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let ann = app.user("ann");
    let address = ann.email.clone().unwrap();
    invite(&app, &alice, &acme, &address).await;
    for (i, shown) in
        [address.to_uppercase(), format!("  {address}\t"), format!(" {}", address.replace("ann", "ANN"))]
            .iter()
            .enumerate()
    {
        let event = post_confirmation_event(SIGN_UP, &format!("ann{i}"), Some(shown), true, Some("Ann"));
        deliver(&app, &event).await;
        assert!(orgs_of(&app, &app.user(&format!("ann{i}"))).await.is_empty(), "{shown:?} is invited");
    }
    // Without an invitation, the address is recorded as the product keeps addresses.
    let bob = app.user("bob");
    let shown = format!("  {} ", bob.email.as_deref().unwrap().to_uppercase());
    deliver(&app, &post_confirmation_event(SIGN_UP, "bob", Some(&shown), true, Some("Bob"))).await;
    let (org, _) = only_org(&app, &bob).await;
    let member = app.call(Some(&bob), "GET", &format!("/orgs/{org}/members/bob"), None).await;
    assert_eq!(member.body["member"]["email"], json!(bob.email), "{:?}", member.body);
    // A malformed address is none: the organization is made, no address on it.
    let cy = app.user("cy");
    deliver(&app, &post_confirmation_event(SIGN_UP, "cy", Some("not an address"), true, Some("Cy"))).await;
    // (Read with an unverified token: a verified one would record the address.)
    let cy = User { email_verified: Some(false), ..cy };
    let (org, _) = only_org(&app, &cy).await;
    let member = app.call(Some(&cy), "GET", &format!("/orgs/{org}/members/cy"), None).await;
    assert_eq!(member.body["member"]["email"], Value::Null, "{:?}", member.body);
}

#[tokio::test]
async fn any_name_makes_a_safe_organization_name_of_at_most_100_characters() {
    let app = spawn(false).await;
    let names: Vec<(&str, Value, &str)> = vec![
        ("bidi", json!("\u{202e}noitazinagro s'nA\u{202c}"), "noitazinagro s'nA's organization"),
        ("isolates", json!("\u{2067}Ann\u{2069} \u{200f}Lee"), "Ann Lee's organization"),
        ("zero-width", json!("A\u{200b}n\u{200d}n\u{feff}"), "Ann's organization"),
        ("only spaces", json!("     "), "My organization"),
        ("only invisible", json!("\u{200b}\u{202e}\u{2066}\u{3164}"), "My organization"),
        ("controls", json!("Ann\nLee\t\r\u{7}Jr"), "Ann Lee Jr's organization"),
        ("empty", json!(""), "My organization"),
        ("a number", json!(7), "My organization"),
        ("null", json!(null), "My organization"),
        ("a list", json!(["Ann"]), "My organization"),
    ];
    for (i, (what, name, expected)) in names.iter().enumerate() {
        let user = app.user(&format!("n{i}"));
        let mut event = confirmed(&user);
        event["request"]["userAttributes"]["name"] = name.clone();
        deliver(&app, &event).await;
        let (_, made) = only_org(&app, &user).await;
        assert_eq!(made, *expected, "{what}");
    }
    // Long names, of one byte, several bytes and combining marks: cut, never refused.
    let long: Vec<(&str, String)> = vec![
        ("1000 x", "x".repeat(1000)),
        ("1000 emoji", "😀".repeat(1000)),
        ("1000 accents", "e\u{301}".repeat(500)),
        ("spaces between", "a ".repeat(500)),
        ("a space at the cut", format!("{} {}", "x".repeat(84), "y".repeat(200))),
        ("bidi at the cut", format!("{}\u{202e}{}", "x".repeat(84), "y".repeat(200))),
        ("line separators", format!("Ann\u{2028}Lee\u{2029}{}", "z".repeat(300))),
    ];
    for (i, (what, name)) in long.iter().enumerate() {
        let user = app.user(&format!("l{i}"));
        let mut event = confirmed(&user);
        event["request"]["userAttributes"]["name"] = json!(name);
        deliver(&app, &event).await;
        let (org, made) = only_org(&app, &user).await;
        assert!(made.chars().count() <= 100, "{what}: {} characters", made.chars().count());
        assert!(made.ends_with("'s organization"), "{what}: {made:?}");
        assert!(!made.contains(" 's"), "{what}: no space before the suffix: {made:?}");
        // The product's own rule for a name (no control, invisible or bidi character), and
        // none of those the name held.
        assert_eq!(OrgName::parse(&made).map(String::from), Ok(made.clone()), "{what}");
        assert!(!made.contains(['\u{202e}', '\u{2028}', '\u{2029}']), "{what}: {made:?}");
        let read = app.call(Some(&user), "GET", &format!("/orgs/{org}"), None).await;
        assert_eq!(read.body["org"]["name"], json!(made), "{what}");
    }
    // The member's name is cleaned the same way (no text turned around in the members list).
    let user = app.user("member-name");
    let mut event = confirmed(&user);
    event["request"]["userAttributes"]["name"] = json!("\u{202e}Ann\u{200b}");
    deliver(&app, &event).await;
    let (org, _) = only_org(&app, &user).await;
    // (Read from the table: a request would refresh the name from its own token.)
    let items = app.partition(&org).await;
    let member = items.iter().find(|i| attr(i, "SK") == Some("MEMBER#member-name")).expect("the member");
    assert_eq!(attr(member, "name"), Some("Ann"), "{member:?}");
}

// ------------------------------------------------------------------------- exactly once

#[tokio::test]
async fn one_organization_however_often_and_however_differently_the_event_comes() {
    for one_org in [false, true] {
        let app = spawn(one_org).await;
        let ann = app.user("ann");
        let first = confirmed(&ann);
        // Redeliveries with another name, another address, no address, unverified: none
        // makes a second organization or changes the first.
        let mut variants = vec![first.clone()];
        for (name, email, verified) in [
            (Some("Someone Else"), Some(app.email("other")), true),
            (None, None, true),
            (Some("Ann"), Some(app.email("third")), false),
        ] {
            variants.push(post_confirmation_event(SIGN_UP, "ann", email.as_deref(), verified, name));
        }
        deliver(&app, &first).await;
        for v in &variants {
            deliver(&app, v).await;
        }
        // At once, sixteen, on two function instances, conflicts emulated.
        let second = app.second_instance().await;
        let at_once = (0..16).map(|i| {
            let event = variants[i % variants.len()].clone();
            let instance = if i % 2 == 0 { &app.app } else { &second };
            async move { deliver_post_confirmation(instance, &event).await }
        });
        join_all(at_once).await;
        let (org, name) = only_org(&app, &ann).await;
        assert_eq!(name, "User ann's organization", "the first delivery's name stays");
        assert_eq!(memberships(&app, "ann").await, [org.as_str()], "one_org {one_org}");
        let record = signed_up(&app, "ann").await.expect("the sign-up record");
        assert_eq!(attr(&record, "orgId"), Some(org.as_str()));
        assert_eq!(lock_of(&app, "ann").await, one_org.then(|| org.clone()));
        let orgs = app.all_items().await.iter().filter(|i| attr(i, "SK") == Some("ORG")).count();
        assert_eq!(orgs, 1, "one organization item in the table");
        let audit = app.call(Some(&ann), "GET", &format!("/orgs/{org}/audit"), None).await;
        assert_eq!(audit.audit_actions(), ["org.created"], "one event");
        let member = app.call(Some(&ann), "GET", &format!("/orgs/{org}/members/ann"), None).await;
        assert_eq!(member.body["member"]["email"], json!(ann.email), "the first address stays");
        assert!(app.index_drift(&org).await.is_empty());
    }
}

#[tokio::test]
async fn a_deleted_or_left_personal_organization_does_not_come_back() {
    let app = spawn(true).await;
    // Deleted by its owner: not made again, before or after the purge.
    let (ann, personal) = signed_up_user(&app, "ann").await;
    assert_eq!(app.call(Some(&ann), "DELETE", &format!("/orgs/{personal}"), None).await.status, 204);
    deliver(&app, &confirmed(&ann)).await;
    assert!(orgs_of(&app, &ann).await.is_empty());
    purge(&app).await;
    assert_eq!(lock_of(&app, "ann").await, None, "the purge freed the lock");
    deliver(&app, &confirmed(&ann)).await;
    let again = confirmed(&ann);
    join_all((0..4).map(|_| deliver(&app, &again))).await;
    assert!(orgs_of(&app, &ann).await.is_empty(), "a sign-up is confirmed once");
    assert!(signed_up(&app, "ann").await.is_some(), "the record outlives the organization");
    assert_eq!(lock_of(&app, "ann").await, None);

    // Left it (another owner stays), or removed from it: not made again either.
    for (sub, leaves) in [("bob", true), ("cy", false)] {
        let (user, personal) = signed_up_user(&app, sub).await;
        let co = format!("co-{sub}");
        let path = format!("/orgs/{personal}/members");
        let added = app
            .call_as_service(ADMIN.0, ADMIN.1, "POST", &path, Some(json!({ "userId": co, "role": "owner" })))
            .await;
        assert_eq!(added.status, 201, "{:?}", added.body);
        let gone = if leaves {
            app.call(Some(&user), "DELETE", &format!("{path}/{sub}"), None).await
        } else {
            app.call(Some(&app.user(&co)), "DELETE", &format!("{path}/{sub}"), None).await
        };
        assert_eq!(gone.status, 204, "{:?}", gone.body);
        assert_eq!(lock_of(&app, sub).await, None);
        deliver(&app, &confirmed(&user)).await;
        assert!(orgs_of(&app, &user).await.is_empty(), "{sub}");
        assert_eq!(lock_of(&app, sub).await, None, "{sub}");
    }
}

// ------------------------------------------------------------------------- invitations

#[tokio::test]
async fn only_a_pending_invitation_in_a_live_organization_keeps_the_organization_from_being_made() {
    let app = spawn(false).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let doomed = app.create_org(&alice, "Doomed").await;
    let [pending, declined, revoked, in_deleted, expired, both] =
        ["pending", "declined", "revoked", "in-deleted", "expired", "both"].map(|s| app.user(s));
    let address = |u: &User| u.email.clone().unwrap();

    invite(&app, &alice, &acme, &address(&pending)).await;
    invite(&app, &alice, &acme, &address(&declined)).await;
    let token = app.token_mailed_to(&address(&declined)).await;
    let r = app.call(Some(&declined), "POST", "/invitations/decline", Some(json!({ "token": token }))).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let id = invite(&app, &alice, &acme, &address(&revoked)).await;
    let r = app.call(Some(&alice), "DELETE", &format!("/orgs/{acme}/invitations/{id}"), None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    invite(&app, &alice, &doomed, &address(&in_deleted)).await;
    invite(&app, &alice, &doomed, &address(&both)).await;
    assert_eq!(app.call(Some(&alice), "DELETE", &format!("/orgs/{doomed}"), None).await.status, 204);
    // A pending invitation in a live organization beside one in a deleted one.
    invite(&app, &alice, &acme, &address(&both)).await;

    for u in [&declined, &revoked, &in_deleted] {
        deliver(&app, &confirmed(u)).await;
        assert_eq!(orgs_of(&app, u).await.len(), 1, "{}: made", u.sub);
    }
    for u in [&pending, &both] {
        deliver(&app, &confirmed(u)).await;
        assert!(orgs_of(&app, u).await.is_empty(), "{}: on their way to accept", u.sub);
    }
    // Expired, 72 hours later; and the pending one expires meanwhile too.
    invite(&app, &alice, &acme, &address(&expired)).await;
    app.advance(Duration::from_secs(72 * 3600 + 1));
    deliver(&app, &confirmed(&expired)).await;
    assert_eq!(orgs_of(&app, &expired).await.len(), 1, "expired: made");
}

// ------------------------------------------------------ replacement, one organization per user

/// Two organizations inviting `user`, the tokens of their invitations.
async fn two_invitations(app: &TestApp, user: &User, a: (&User, &str), b: (&User, &str)) -> (String, String) {
    let address = user.email.clone().unwrap();
    invite(app, a.0, a.1, &address).await;
    let first = app.token_mailed_to(&address).await;
    invite(app, b.0, b.1, &address).await;
    let second = app.token_mailed_to(&address).await;
    assert_ne!(first, second);
    (first, second)
}

/// A user who signed up and was then invited to `org` by its owner: the user, their personal
/// organization and the invitation's token.
async fn invited_after_sign_up(
    app: &TestApp,
    (owner, org): (&User, &str),
    sub: &str,
) -> (User, String, String) {
    let (user, personal) = signed_up_user(app, sub).await;
    let address = user.email.clone().unwrap();
    invite(app, owner, org, &address).await;
    let token = app.token_mailed_to(&address).await;
    (user, personal, token)
}

#[tokio::test]
async fn two_accepts_at_once_into_two_organizations_one_replaces_the_other_is_refused() {
    let app = spawn(true).await;
    let (alice, bob) = (app.user("alice"), app.user("bob"));
    let acme = app.create_org(&alice, "Acme").await;
    let bolt = app.create_org(&bob, "Bolt").await;
    let mut winners = (0, 0);
    for i in 0..8 {
        let (user, personal) = signed_up_user(&app, &format!("u{i}")).await;
        let (to_acme, to_bolt) = two_invitations(&app, &user, (&alice, &acme), (&bob, &bolt)).await;
        let (a, b) = tokio::join!(accept(&app, &user, &to_acme), accept(&app, &user, &to_bolt));
        let (won, lost, winner, loser) = match (a.status, b.status) {
            (200, 409) => {
                winners.0 += 1;
                (&a, &b, &acme, &bolt)
            }
            (409, 200) => {
                winners.1 += 1;
                (&b, &a, &bolt, &acme)
            }
            other => panic!("{other:?}: {:?} / {:?}", a.body, b.body),
        };
        problem(lost, 409, "already_in_org", "the second accept");
        assert_eq!(won.body["org"]["id"], json!(winner));
        assert_eq!(memberships(&app, &user.sub).await, [winner.as_str()], "one membership");
        assert_eq!(lock_of(&app, &user.sub).await.as_deref(), Some(winner.as_str()), "the lock on it");
        assert!(deleted(&app, &personal).await, "the personal organization replaced");
        assert_eq!(orgs_of(&app, &user).await, [winner.as_str()]);
        // The refused invitation is still pending in the other organization.
        let listed = app
            .call(
                Some(if loser == &acme { &alice } else { &bob }),
                "GET",
                &format!("/orgs/{loser}/invitations"),
                None,
            )
            .await;
        assert!(
            listed.body["invitations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|inv| inv["email"] == json!(user.email)),
            "{:?}",
            listed.body
        );
        let trail = app.partition(&personal).await;
        let deletions = trail.iter().filter(|i| attr(i, "action") == Some("org.deleted")).count();
        assert_eq!(deletions, 1, "one deletion on the replaced organization's trail");
    }
    eprintln!("Acme first {}, Bolt first {}", winners.0, winners.1);
    assert!(app.index_drift(&acme).await.is_empty() && app.index_drift(&bolt).await.is_empty());
}

#[tokio::test]
async fn an_invitation_made_in_the_personal_organization_while_its_owner_accepts_elsewhere() {
    let app = spawn(true).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let (mut invited_first, mut accepted_first) = (0, 0);
    for i in 0..12 {
        let (user, personal, token) = invited_after_sign_up(&app, (&alice, &acme), &format!("p{i}")).await;
        let later = Duration::from_millis(8 * i);
        let friend = app.email(&format!("friend{i}"));
        let body = json!({ "invitations": [{ "email": friend }] });
        let (made, joined) = tokio::join!(
            async {
                tokio::time::sleep(later).await;
                app.call(Some(&user), "POST", &format!("/orgs/{personal}/invitations"), Some(body)).await
            },
            accept(&app, &user, &token)
        );
        let status = made.body["results"][0]["status"].as_str().map(str::to_owned);
        match (made.status, status.as_deref(), joined.status) {
            (200, Some("invited"), 409) => {
                invited_first += 1;
                problem(&joined, 409, "already_in_org", "kept: it invited someone");
                assert!(!deleted(&app, &personal).await);
                assert_eq!(memberships(&app, &user.sub).await, [personal.as_str()]);
            }
            (404, _, 200) | (200, Some("failed"), 200) => {
                accepted_first += 1;
                assert!(deleted(&app, &personal).await);
                assert_eq!(memberships(&app, &user.sub).await, [acme.as_str()]);
                let left = app.partition(&personal).await;
                assert!(
                    !left.iter().any(|i| attr(i, "SK").is_some_and(|sk| sk.starts_with("INV#"))),
                    "no invitation in a replaced organization: {left:?}"
                );
                assert!(app.mailbox(&friend).await.is_empty(), "no email from a replaced organization");
            }
            other => panic!("{other:?}: {:?} / {:?}", made.body, joined.body),
        }
        assert_eq!(orgs_of(&app, &user).await.len(), 1);
    }
    eprintln!("invited first {invited_first}, accepted first {accepted_first}");
}

#[tokio::test]
async fn a_service_adding_a_member_while_the_owner_accepts_elsewhere() {
    let app = spawn(true).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let (mut added_first, mut accepted_first) = (0, 0);
    for i in 0..12 {
        let (user, personal, token) = invited_after_sign_up(&app, (&alice, &acme), &format!("p{i}")).await;
        let dan = format!("dan{i}");
        let later = Duration::from_millis(8 * i);
        let path = format!("/orgs/{personal}/members");
        let (added, joined) = tokio::join!(
            async {
                tokio::time::sleep(later).await;
                let body = json!({ "userId": dan, "role": "member" });
                app.call_as_service(ADMIN.0, ADMIN.1, "POST", &path, Some(body)).await
            },
            accept(&app, &user, &token)
        );
        match (added.status, joined.status) {
            (201, 409) => {
                added_first += 1;
                problem(&joined, 409, "already_in_org", "kept: another member");
                assert_eq!(memberships(&app, &dan).await, [personal.as_str()]);
                assert_eq!(lock_of(&app, &dan).await.as_deref(), Some(personal.as_str()));
                assert_eq!(memberships(&app, &user.sub).await, [personal.as_str()]);
            }
            (404, 200) => {
                accepted_first += 1;
                problem(&added, 404, "not_found", "the organization was replaced");
                assert!(memberships(&app, &dan).await.is_empty());
                assert_eq!(lock_of(&app, &dan).await, None, "no lock on a replaced organization");
                assert_eq!(memberships(&app, &user.sub).await, [acme.as_str()]);
            }
            other => panic!("{other:?}: {:?} / {:?}", added.body, joined.body),
        }
    }
    eprintln!("added first {added_first}, accepted first {accepted_first}");
}

#[tokio::test]
async fn the_owner_deleting_or_renaming_the_personal_organization_while_accepting_elsewhere() {
    let app = spawn(true).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let mut seen = HashMap::new();
    for i in 0..16 {
        let (user, personal, token) = invited_after_sign_up(&app, (&alice, &acme), &format!("p{i}")).await;
        let later = Duration::from_millis(16 * (i / 2));
        let rename = i % 2 == 0;
        let (changed, joined) = tokio::join!(
            async {
                tokio::time::sleep(later).await;
                if rename {
                    let body = json!({ "name": "Renamed" });
                    app.call(Some(&user), "PATCH", &format!("/orgs/{personal}"), Some(body)).await
                } else {
                    app.call(Some(&user), "DELETE", &format!("/orgs/{personal}"), None).await
                }
            },
            accept(&app, &user, &token)
        );
        assert!(deleted(&app, &personal).await, "deleted either way");
        *seen.entry((rename, changed.status, joined.status)).or_insert(0) += 1;
        match (rename, changed.status, joined.status) {
            // A renamed personal organization is still replaceable.
            (true, 200 | 404, 200) | (false, 404, 200) => {
                assert_eq!(memberships(&app, &user.sub).await, [acme.as_str()]);
                assert_eq!(lock_of(&app, &user.sub).await.as_deref(), Some(acme.as_str()));
            }
            // Deleted first: the lock names a deleted organization until the purge.
            (false, 204, 409) => {
                problem(&joined, 409, "already_in_org", "the lock is on a deleted organization");
                assert!(memberships(&app, &user.sub).await.is_empty());
                assert_eq!(lock_of(&app, &user.sub).await.as_deref(), Some(personal.as_str()));
            }
            other => panic!("{other:?}: {:?} / {:?}", changed.body, joined.body),
        }
    }
    eprintln!("(rename, its answer, the accept's): {seen:?}");
    assert!(app.index_drift(&acme).await.is_empty());
}

#[tokio::test]
async fn an_accept_while_the_lock_names_a_deleted_personal_organization_waits_for_the_purge() {
    let app = spawn(true).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let (ann, personal) = signed_up_user(&app, "ann").await;
    assert_eq!(app.call(Some(&ann), "DELETE", &format!("/orgs/{personal}"), None).await.status, 204);
    let token = link(&app, &alice, &acme).await;
    problem(&accept(&app, &ann, &token).await, 409, "already_in_org", "the lock is the deleted one's");
    purge(&app).await;
    let joined = accept(&app, &ann, &token).await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    assert_eq!(lock_of(&app, "ann").await.as_deref(), Some(acme.as_str()));
    assert_eq!(orgs_of(&app, &ann).await, [acme.as_str()]);
}

#[tokio::test]
async fn a_suspended_member_keeps_the_personal_organization_from_being_replaced() {
    let app = spawn(true).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let (ann, personal) = signed_up_user(&app, "ann").await;
    let path = format!("/orgs/{personal}/members");
    let added = app
        .call_as_service(ADMIN.0, ADMIN.1, "POST", &path, Some(json!({ "userId": "dan", "role": "member" })))
        .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    app.suspend(&ann, &personal, "dan").await;
    let token = link(&app, &alice, &acme).await;
    problem(&accept(&app, &ann, &token).await, 409, "already_in_org", "a suspended member is still in it");
    assert!(!deleted(&app, &personal).await);
    let removed = app.call(Some(&ann), "DELETE", &format!("{path}/dan"), None).await;
    assert_eq!(removed.status, 204, "{:?}", removed.body);
    let joined = accept(&app, &ann, &token).await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    assert!(deleted(&app, &personal).await);
}

#[tokio::test]
async fn a_replaced_organization_with_workspaces_groups_and_roles_is_gone_for_everyone_and_purged() {
    let app = spawn(true).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let (ann, personal) = signed_up_user(&app, "ann").await;
    let ws = app.create_workspace(&ann, &personal, "Projects").await;
    let group = app.create_group(&ann, &personal, "Team").await;
    let r = app
        .call(
            Some(&ann),
            "PUT",
            &format!("/orgs/{personal}/workspaces/{ws}/members/ann"),
            Some(json!({ "role": "admin" })),
        )
        .await;
    assert!(r.status < 300, "{:?}", r.body);
    let r = app.call(Some(&ann), "PUT", &format!("/orgs/{personal}/groups/{group}/members/ann"), None).await;
    assert!(r.status < 300, "{:?}", r.body);
    let r = app
        .call(
            Some(&ann),
            "PUT",
            &format!("/orgs/{personal}/workspaces/{ws}/groups/{group}"),
            Some(json!({ "role": "member" })),
        )
        .await;
    assert!(r.status < 300, "{:?}", r.body);
    let role = json!({ "key": "editor", "name": "Editor", "base": "member", "permissions": [] });
    let r = app.call(Some(&ann), "POST", &format!("/orgs/{personal}/roles"), Some(role)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let renamed =
        app.call(Some(&ann), "PATCH", &format!("/orgs/{personal}"), Some(json!({ "name": "Mine" }))).await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert!(app.partition(&personal).await.len() > 8, "a partition with things in it");

    // A link (no email invitation) replaces it too.
    let token = link(&app, &alice, &acme).await;
    let joined = accept(&app, &ann, &token).await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    assert_eq!(orgs_of(&app, &ann).await, [acme.as_str()]);

    // Gone for everyone: its owner, another user, a service.
    let stranger = app.user("stranger");
    for path in [
        format!("/orgs/{personal}"),
        format!("/orgs/{personal}/members"),
        format!("/orgs/{personal}/audit"),
        format!("/orgs/{personal}/invitations"),
        format!("/orgs/{personal}/invite-links"),
        format!("/orgs/{personal}/workspaces"),
        format!("/orgs/{personal}/groups"),
        format!("/orgs/{personal}/members/ann"),
    ] {
        for who in [&ann, &stranger] {
            let r = app.call(Some(who), "GET", &path, None).await;
            assert_eq!(r.status, 404, "{path} as {}: {:?}", who.sub, r.body);
        }
        // A service reads what services may (people's routes answer every service alike).
        let r = app.call_as_service(ADMIN.0, ADMIN.1, "GET", &path, None).await;
        let people_only =
            r.status == 403 && r.body["detail"].as_str().is_some_and(|d| d.contains("for people"));
        assert!(r.status == 404 || people_only, "{path} as a service: {:?}", r.body);
    }
    let check = app.check_one("ann", &personal, "org:read", None).await;
    assert_eq!(check["allowed"], false, "{check:?}");
    // Nothing is made in it any more.
    let r = app
        .call(
            Some(&ann),
            "POST",
            &format!("/orgs/{personal}/invite-links"),
            Some(json!({ "role": "member" })),
        )
        .await;
    assert_eq!(r.status, 404, "{:?}", r.body);

    purge(&app).await;
    let left = app.partition(&personal).await;
    assert_eq!(left.len(), 1, "only the tombstone: {left:?}");
    assert!(left[0].contains_key("deletedAt"));
    assert!(app.store_pending_purges().await.is_empty());
    let items = app.all_items().await;
    let of_it: Vec<&Item> = items
        .iter()
        .filter(|i| attr(i, "SK") != Some("ORG") || attr(i, "PK") != Some(&format!("ORG#{personal}")))
        .filter(|i| i.values().any(|v| v.as_s().is_ok_and(|s| s.contains(personal.as_str()))))
        .filter(|i| attr(i, "SK") != Some("SIGN_UP"))
        .collect();
    assert!(of_it.is_empty(), "nothing names the replaced organization but its sign-up record: {of_it:?}");
    assert_eq!(lock_of(&app, "ann").await.as_deref(), Some(acme.as_str()), "the purge left the lock alone");
    assert_eq!(memberships(&app, "ann").await, [acme.as_str()]);
    assert!(app.index_drift(&acme).await.is_empty());
    // And a redelivered sign-up brings nothing back.
    deliver(&app, &confirmed(&ann)).await;
    assert_eq!(orgs_of(&app, &ann).await, [acme]);
}

#[tokio::test]
async fn a_sign_up_of_someone_already_in_an_organization() {
    // One organization per user: they keep the one they have, and no lock moves.
    let app = spawn(true).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let ann = app.user("ann");
    app.add_member(&alice, &acme, &ann, "member").await;
    let event = confirmed(&ann);
    join_all((0..4).map(|_| deliver(&app, &event))).await;
    assert_eq!(orgs_of(&app, &ann).await, [acme.as_str()]);
    assert_eq!(lock_of(&app, "ann").await.as_deref(), Some(acme.as_str()));
    assert_eq!(memberships(&app, "ann").await, [acme.as_str()]);
    // The sign-up made none, for good: delivered again after they left, still none.
    let left = app.call(Some(&ann), "DELETE", &format!("/orgs/{acme}/members/ann"), None).await;
    assert_eq!(left.status, 204, "{:?}", left.body);
    deliver(&app, &event).await;
    assert!(orgs_of(&app, &ann).await.is_empty());
    assert_eq!(lock_of(&app, "ann").await, None);

    // Any number of organizations: a personal one besides, as the contract gives every
    // confirmed sign-up without a pending invitation.
    let app = spawn(false).await;
    let alice = app.user("alice");
    let acme = app.create_org(&alice, "Acme").await;
    let ann = app.user("ann");
    app.add_member(&alice, &acme, &ann, "member").await;
    deliver(&app, &confirmed(&ann)).await;
    let mut orgs = orgs_of(&app, &ann).await;
    orgs.sort();
    assert_eq!(orgs.len(), 2, "{orgs:?}");
    assert!(orgs.contains(&acme));
}

#[tokio::test]
async fn a_redelivery_after_the_invited_user_accepted_answers_as_the_first_delivery_did() {
    // The first delivery found a pending invitation and made nothing; Cognito delivers the
    // event again after the user accepted it (a retry of a delivery it timed out): still
    // nothing, with or without one organization per user.
    for one_org in [false, true] {
        let app = spawn(one_org).await;
        let alice = app.user("alice");
        let acme = app.create_org(&alice, "Acme").await;
        let ann = app.user("ann");
        let address = ann.email.clone().unwrap();
        invite(&app, &alice, &acme, &address).await;
        deliver(&app, &confirmed(&ann)).await;
        assert!(orgs_of(&app, &ann).await.is_empty());
        let token = app.token_mailed_to(&address).await;
        assert_eq!(accept(&app, &ann, &token).await.status, 200);
        deliver(&app, &confirmed(&ann)).await;
        assert_eq!(orgs_of(&app, &ann).await, [acme.as_str()], "one_org {one_org}");
        assert_eq!(memberships(&app, "ann").await, [acme.as_str()]);
    }
}
