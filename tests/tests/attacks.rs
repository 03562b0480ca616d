//! A reviewer's attacks on issues 22 and 23 (trust only what is proved; used invitations
//! stay readable): forged claims, stale tokens, races, inputs at their limits and data
//! written before the rules. A test that failed when written names the defect it shows; the
//! others record attacks that held, so that they keep holding.

use aws_sdk_dynamodb::types::AttributeValue;
use roster::http::routes;
use roster_tests::event::{self, Claims, EventInput};
use roster_tests::harness::{TestApp, TestResponse, User, call_app};
use roster_tests::held::{held_instance, until_held};
use serde_json::{Value, json};

async fn accept(app: &TestApp, user: &User, token: &str) -> TestResponse {
    app.call(Some(user), "POST", "/invitations/accept", Some(json!({ "token": token }))).await
}

async fn preview(app: &TestApp, token: &str) -> TestResponse {
    app.call(None, "POST", "/invitations/preview", Some(json!({ "token": token }))).await
}

async fn link(app: &TestApp, by: &User, org: &str, body: Value) -> (String, String) {
    let r = app.call(Some(by), "POST", &format!("/orgs/{org}/invite-links"), Some(body)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let link = &r.body["link"];
    (link["id"].as_str().unwrap().to_owned(), link["token"].as_str().unwrap().to_owned())
}

/// Invites `email` as `role`; the invitation's id and the token mailed.
async fn invite(app: &TestApp, by: &User, org: &str, email: &str, role: &str) -> (String, String) {
    let r = app
        .call(
            Some(by),
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": email, "role": role }] })),
        )
        .await;
    assert_eq!(r.body["results"][0]["status"], "invited", "{:?}", r.body);
    let id = r.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
    (id, app.token_mailed_to(email).await)
}

async fn listed(app: &TestApp, by: &User, org: &str, what: &str, key: &str) -> Vec<Value> {
    let r = app.call(Some(by), "GET", &format!("/orgs/{org}/{what}"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body[key].as_array().cloned().unwrap_or_default()
}

async fn transfer(app: &TestApp, org: &str, from: &User, to: &str) {
    let path = format!("/orgs/{org}/transfer-ownership");
    let r = app.call(Some(from), "POST", &path, Some(json!({ "userId": to }))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

fn find<'a>(items: &'a [Value], id: &str) -> &'a Value {
    items.iter().find(|i| i["id"] == json!(id)).unwrap_or_else(|| panic!("{id} in {items:?}"))
}

/// A request with exactly these authorizer claims (every value a string, as API Gateway
/// forwards them), for claims the harness's `User` cannot say.
async fn call_with_claims(
    app: &TestApp,
    claims: &Claims,
    method: &str,
    path: &str,
    body: Value,
) -> TestResponse {
    let routes::RouteMatch::Found(route, params) = routes::find(method, path) else {
        panic!("no route for {method} {path}");
    };
    let bytes = body.to_string().into_bytes();
    let headers = [("content-type".to_owned(), "application/json".to_owned())];
    let event = event::build(&EventInput {
        route,
        path,
        path_params: &params,
        query: "",
        headers: &headers,
        body: &bytes,
        claims: Some(claims),
    });
    let response = roster_tests::gateway::invoke(&app.app, route.function, event::to_request(&event)).await;
    let status = response.status().as_u16();
    let body = match response.body() {
        lambda_http::Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    TestResponse { status, content_type: None, body, retry_after: None }
}

// ------------------------------------------------------------------------------ findings

/// Finding: the contract admits `email_verified` only as the boolean `true` or the string
/// `"true"`; `"TRUE"`, `"True"` and `" true"` proved an address too (the claim was trimmed
/// and lower-cased), so a token whose issuer writes anything truthy-looking claimed an
/// email invitation.
#[tokio::test]
async fn email_verified_proves_an_address_only_as_true() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let address = app.email("ann");
    let (_, token) = invite(&app, &owner, &org, &address, "admin").await;
    let claims = |verified: Option<&str>| {
        let mut claims = Claims::new();
        claims.insert("sub".into(), "ann".into());
        claims.insert("email".into(), address.clone());
        if let Some(v) = verified {
            claims.insert("email_verified".into(), v.into());
        }
        claims
    };
    for odd in [
        None,
        Some("false"),
        Some("1"),
        Some("yes"),
        Some(""),
        Some("null"),
        Some("TRUE"),
        Some("True"),
        Some(" true"),
    ] {
        let r =
            call_with_claims(&app, &claims(odd), "POST", "/invitations/accept", json!({ "token": token }))
                .await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (403, Some("email_mismatch")),
            "email_verified {odd:?}: {:?}",
            r.body
        );
    }
    let r = call_with_claims(
        &app,
        &claims(Some("true")),
        "POST",
        "/invitations/accept",
        json!({ "token": token }),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// Finding: an ownership transfer ends the old owner's owner- and admin-role links and
/// invitations only by the role rule (the standing number stays), so handing ownership back,
/// or promoting the old owner to owner again, revives them: "promoting the creator never
/// revives them" does not hold for a transfer.
#[tokio::test]
async fn ownership_handed_back_does_not_revive_what_the_transfer_ended() {
    let app = TestApp::spawn().await;
    let (ana, bea) = (app.user("ana"), app.user("bea"));
    let org = app.create_org(&ana, "Acme").await;
    app.add_member(&ana, &org, &bea, "member").await;
    let (owner_link, owner_token) =
        link(&app, &ana, &org, json!({ "role": "owner", "expiresInHours": 720 })).await;
    let cat = app.user("cat");
    let (_, admin_invite) = invite(&app, &ana, &org, cat.email.as_deref().unwrap(), "admin").await;

    transfer(&app, &org, &ana, "bea").await;
    assert_eq!(accept(&app, &app.user("eve"), &owner_token).await.code(), "invitation_not_found");

    // Ownership comes back to Ana.
    transfer(&app, &org, &bea, "ana").await;
    let links = listed(&app, &ana, &org, "invite-links", "links").await;
    assert_eq!(find(&links, &owner_link)["status"], "revoked", "{links:?}");
    let eve = accept(&app, &app.user("eve"), &owner_token).await;
    assert_eq!(eve.code(), "invitation_not_found", "the owner link admitted again: {:?}", eve.body);
    let joined = accept(&app, &cat, &admin_invite).await;
    assert_eq!(
        joined.code(),
        "invitation_not_found",
        "the admin invitation admitted again: {:?}",
        joined.body
    );
}

/// Finding (the same, by a promotion): after a transfer, the new owner promotes the old one
/// back to owner, and the old owner's owner link admits again.
#[tokio::test]
async fn promoting_the_old_owner_back_does_not_revive_the_owner_link() {
    let app = TestApp::spawn().await;
    let (ana, bea) = (app.user("ana"), app.user("bea"));
    let org = app.create_org(&ana, "Acme").await;
    app.add_member(&ana, &org, &bea, "member").await;
    let (_, owner_token) = link(&app, &ana, &org, json!({ "role": "owner" })).await;
    let path = format!("/orgs/{org}/transfer-ownership");
    assert_eq!(app.call(Some(&ana), "POST", &path, Some(json!({ "userId": "bea" }))).await.status, 200);
    let promoted = app
        .call(Some(&bea), "PATCH", &format!("/orgs/{org}/members/ana"), Some(json!({ "role": "owner" })))
        .await;
    assert_eq!(promoted.status, 200, "{:?}", promoted.body);
    let shown = preview(&app, &owner_token).await;
    assert_eq!(shown.body["status"], "revoked", "{:?}", shown.body);
    let mallory = accept(&app, &app.user("mallory"), &owner_token).await;
    assert_eq!(mallory.code(), "invitation_not_found", "a new owner by an ended link: {:?}", mallory.body);
}

/// Finding: a resend that read the invitation before the invitee declined it replaced the
/// declined invitation with a pending one (its write was conditioned on the token only, and
/// the declined invitation keeps its token hash; the freed slot was re-held as absent), and
/// mailed a token that admits: the decline was undone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resend_racing_a_decline_does_not_undo_it() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let ann = app.user("ann");
    let address = ann.email.clone().unwrap();
    let (id, token) = invite(&app, &owner, &org, &address, "member").await;

    // The resend reads the pending invitation and is caught before its write.
    let (held, reached, release) = held_instance(&app, "TransactWriteItems", 1).await;
    let resend = tokio::spawn({
        let (owner, path) = (owner.clone(), format!("/orgs/{org}/invitations/{id}/resend"));
        async move { call_app(&held, Some(&owner), "POST", &path, None).await }
    });
    until_held(reached).await;
    let declined =
        app.call(Some(&ann), "POST", "/invitations/decline", Some(json!({ "token": token }))).await;
    assert_eq!(declined.status, 204, "{:?}", declined.body);
    release.send(()).unwrap();
    let resent = resend.await.unwrap();

    // As a resend of a declined invitation answers when it comes after the decline.
    assert_eq!(
        (resent.status, resent.code()),
        (409, "conflict"),
        "a resend after the decline: {:?}",
        resent.body
    );
    let invitations = listed(&app, &owner, &org, "invitations", "invitations").await;
    assert_eq!(find(&invitations, &id)["status"], "declined", "{invitations:?}");
    let latest = app.token_mailed_to(&address).await;
    assert_eq!(latest, token, "no new token was mailed");
}

/// Finding: addresses stored before the IDNA rule that it now refuses (an `xn--` label that
/// is not valid punycode passed the old ASCII grammar) no longer decode, and the list holding
/// them answers 500 for everyone: one such member breaks the organization's member list.
#[tokio::test]
async fn an_address_stored_before_the_idna_rule_keeps_the_member_list_readable() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let old = app.user("old");
    app.add_member(&owner, &org, &old, "member").await;
    // As the grammar before issue 22 accepted and stored it.
    let legacy = "old@xn--a.example";
    assert!(roster::domain::Email::parse(legacy).is_err(), "the new grammar refuses it");
    app.dynamo
        .update_item()
        .table_name(app.table())
        .key("PK", AttributeValue::S(format!("ORG#{org}")))
        .key("SK", AttributeValue::S("MEMBER#old".into()))
        .update_expression("SET email = :e")
        .expression_attribute_values(":e", AttributeValue::S(legacy.into()))
        .send()
        .await
        .expect("write the legacy address");
    let members = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members"), None).await;
    assert_eq!(members.status, 200, "{:?}", members.body);
    let theirs = app.call(Some(&old), "GET", "/orgs", None).await;
    assert_eq!(theirs.status, 200, "{:?}", theirs.body);
}

/// Finding: an organization name made only of invisible characters passed the rules before
/// issue 22 (U+200B is neither white space nor a control character); reading it back now
/// drops them, finds it blank and fails, so the organization and every member's GET /orgs
/// answer 500.
#[tokio::test]
async fn an_org_name_of_invisible_characters_stored_before_the_rule_stays_readable() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    app.dynamo
        .update_item()
        .table_name(app.table())
        .key("PK", AttributeValue::S(format!("ORG#{org}")))
        .key("SK", AttributeValue::S("ORG".into()))
        .update_expression("SET #n = :n")
        .expression_attribute_names("#n", "name")
        .expression_attribute_values(":n", AttributeValue::S("\u{200B}".into()))
        .send()
        .await
        .expect("write the legacy name");
    let mine = app.call(Some(&owner), "GET", "/orgs", None).await;
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    let one = app.call(Some(&owner), "GET", &format!("/orgs/{org}"), None).await;
    assert_eq!(one.status, 200, "{:?}", one.body);
}

/// Finding: the transfer's audit event counts, as invitations the transfer ends, admin-role
/// invitations that were declined (they stay listed until they expire, but admit nobody).
#[tokio::test]
async fn a_transfer_does_not_count_declined_invitations_as_ended() {
    let app = TestApp::spawn().await;
    let (ana, bea) = (app.user("ana"), app.user("bea"));
    let org = app.create_org(&ana, "Acme").await;
    app.add_member(&ana, &org, &bea, "member").await;
    let cat = app.user("cat");
    let (_, token) = invite(&app, &ana, &org, cat.email.as_deref().unwrap(), "admin").await;
    let declined =
        app.call(Some(&cat), "POST", "/invitations/decline", Some(json!({ "token": token }))).await;
    assert_eq!(declined.status, 204, "{:?}", declined.body);

    let path = format!("/orgs/{org}/transfer-ownership");
    assert_eq!(app.call(Some(&ana), "POST", &path, Some(json!({ "userId": "bea" }))).await.status, 200);
    let audit = app.call(Some(&bea), "GET", &format!("/orgs/{org}/audit"), None).await;
    let events = audit.body["events"].as_array().cloned().unwrap_or_default();
    let event = events.iter().find(|e| e["action"] == "ownership.transferred").expect("a transfer event");
    assert_eq!(event["details"]["endedInvitations"], 0, "{:?}", event["details"]);
}

// -------------------------------------------------------------------- attacks that held

/// Partial claims: no `sub` is 401; a `name` of bidi and zero-width characters only is no
/// name; an unverified address is stored nowhere.
#[tokio::test]
async fn partial_and_hostile_claims() {
    let app = TestApp::spawn().await;
    let mut no_sub = Claims::new();
    no_sub.insert("email".into(), app.email("x"));
    no_sub.insert("email_verified".into(), "true".into());
    let r = call_with_claims(&app, &no_sub, "POST", "/orgs", json!({ "name": "Acme" })).await;
    assert_eq!(r.status, 401, "{:?}", r.body);

    let hostile = User {
        name: Some("\u{202E}\u{2066}\u{200B}\u{FEFF}\u{2069}\u{202C}".into()),
        email_verified: None,
        ..app.user("hostile")
    };
    let created = app.call(Some(&hostile), "POST", "/orgs", Some(json!({ "name": "Acme" }))).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["membership"]["name"], Value::Null);
    assert_eq!(created.body["membership"]["email"], Value::Null);
    let mixed = User { name: Some("Ev\u{202E}il\u{200B} Name".into()), ..app.user("mixed") };
    let created = app.call(Some(&mixed), "POST", "/orgs", Some(json!({ "name": "Acme" }))).await;
    assert_eq!(created.body["membership"]["name"], "Evil Name");
}

/// Another organization's ids: a token of org A with org B's id in its text, and A's
/// invitation and link ids under B's paths, find nothing.
#[tokio::test]
async fn another_organizations_ids_find_nothing() {
    let app = TestApp::spawn().await;
    let (ana, bob) = (app.user("ana"), app.user("bob"));
    let org_a = app.create_org(&ana, "A").await;
    let org_b = app.create_org(&bob, "B").await;
    let (link_a, token_a) = link(&app, &ana, &org_a, json!({ "role": "admin" })).await;
    let (inv_a, _) = invite(&app, &ana, &org_a, &app.email("cat"), "member").await;
    let forged = format!("{org_b}.{}", token_a.split_once('.').unwrap().1);
    let eve = app.user("eve");
    assert_eq!(accept(&app, &eve, &forged).await.code(), "invitation_not_found");
    assert_eq!(preview(&app, &forged).await.status, 404);
    for (method, path) in [
        ("DELETE", format!("/orgs/{org_b}/invite-links/{link_a}")),
        ("DELETE", format!("/orgs/{org_b}/invitations/{inv_a}")),
        ("POST", format!("/orgs/{org_b}/invitations/{inv_a}/resend")),
    ] {
        let r = app.call(Some(&bob), method, &path, None).await;
        assert_eq!(r.status, 404, "{method} {path}: {:?}", r.body);
    }
    // Ana's link still works in A, and nobody joined B.
    assert_eq!(accept(&app, &eve, &token_a).await.body["org"]["id"], json!(org_a));
    let b_members = listed(&app, &bob, &org_b, "members", "members").await;
    assert_eq!(b_members.len(), 1);
}

/// Stale tokens: resent, revoked, declined, accepted and expired tokens admit nobody, and a
/// member who uses any of them gets their membership and changes nothing.
#[tokio::test]
async fn stale_tokens_admit_nobody() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let (ann, bo, cy) = (app.user("ann"), app.user("bo"), app.user("cy"));
    let (ann_id, first) = invite(&app, &owner, &org, ann.email.as_deref().unwrap(), "member").await;
    let resent =
        app.call(Some(&owner), "POST", &format!("/orgs/{org}/invitations/{ann_id}/resend"), None).await;
    assert_eq!(resent.status, 200, "{:?}", resent.body);
    assert_eq!(accept(&app, &ann, &first).await.code(), "invitation_not_found", "resent");
    let second = app.token_mailed_to(ann.email.as_deref().unwrap()).await;

    let (bo_id, revoked) = invite(&app, &owner, &org, bo.email.as_deref().unwrap(), "member").await;
    let r = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}/invitations/{bo_id}"), None).await;
    assert_eq!(r.status, 204);
    assert_eq!(accept(&app, &bo, &revoked).await.code(), "invitation_not_found", "revoked");

    let (_, declined) = invite(&app, &owner, &org, cy.email.as_deref().unwrap(), "member").await;
    let r = app.call(Some(&cy), "POST", "/invitations/decline", Some(json!({ "token": declined }))).await;
    assert_eq!(r.status, 204);
    assert_eq!(accept(&app, &cy, &declined).await.code(), "invitation_not_found", "declined");
    let again = app.call(Some(&cy), "POST", "/invitations/decline", Some(json!({ "token": declined }))).await;
    assert_eq!(again.code(), "invitation_not_found", "declined twice");
    assert_eq!(preview(&app, &declined).await.body["status"], "declined");

    assert_eq!(accept(&app, &ann, &second).await.status, 200);
    let other_ann = User::new("ann2").with_email(ann.email.as_deref().unwrap());
    assert_eq!(accept(&app, &other_ann, &second).await.code(), "invitation_not_found", "accepted");
    assert_eq!(preview(&app, &second).await.body["status"], "accepted");
    let mine = accept(&app, &ann, &declined).await;
    assert_eq!((mine.status, mine.body["membership"]["userId"].as_str()), (200, Some("ann")));
    let dec = app.call(Some(&ann), "POST", "/invitations/decline", Some(json!({ "token": second }))).await;
    assert_eq!(dec.code(), "invitation_not_found", "declining an accepted invitation");

    let (_, expiring) = link(&app, &owner, &org, json!({ "expiresInHours": 1 })).await;
    app.advance(std::time::Duration::from_secs(3601));
    assert_eq!(accept(&app, &app.user("dee"), &expiring).await.code(), "invitation_expired");
}

/// A creator's suspension lands between a join's read and its write: the join's own
/// condition check refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_suspension_racing_a_join_by_the_suspended_admins_link() {
    let app = TestApp::spawn().await;
    let (owner, admin) = (app.user("owner"), app.user("admin"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &admin, "admin").await;
    let (_, token) = link(&app, &admin, &org, json!({ "role": "member" })).await;

    let (held, reached, release) = held_instance(&app, "TransactWriteItems", 1).await;
    let join = tokio::spawn({
        let (eve, token) = (app.user("eve"), token.clone());
        async move {
            call_app(&held, Some(&eve), "POST", "/invitations/accept", Some(json!({ "token": token }))).await
        }
    });
    until_held(reached).await;
    app.suspend(&owner, &org, "admin").await;
    release.send(()).unwrap();
    let joined = join.await.unwrap();
    assert_eq!(joined.code(), "invitation_not_found", "{:?}", joined.body);
    let members = listed(&app, &owner, &org, "members", "members").await;
    assert!(members.iter().all(|m| m["userId"] != "eve"), "{members:?}");
}

/// A name refresh (the member reading with a new `name` claim) lands between a role change's
/// read and its write: the role change decides again and neither write is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_name_refresh_racing_a_role_change() {
    let app = TestApp::spawn().await;
    let (owner, dan) = (app.user("owner"), app.user("dan"));
    let org = app.create_org(&owner, "Acme").await;
    app.add_member(&owner, &org, &dan, "viewer").await;

    let (held, reached, release) = held_instance(&app, "TransactWriteItems", 1).await;
    let change = tokio::spawn({
        let (owner, path) = (owner.clone(), format!("/orgs/{org}/members/dan"));
        async move { call_app(&held, Some(&owner), "PATCH", &path, Some(json!({ "role": "member" }))).await }
    });
    until_held(reached).await;
    let renamed = User { name: Some("Daniel".into()), ..dan.clone() };
    assert_eq!(app.call(Some(&renamed), "GET", &format!("/orgs/{org}"), None).await.status, 200);
    release.send(()).unwrap();
    let changed = change.await.unwrap();
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    let r = app.call(Some(&owner), "GET", &format!("/orgs/{org}/members/dan"), None).await;
    assert_eq!(
        (r.body["member"]["role"].as_str(), r.body["member"]["name"].as_str()),
        (Some("member"), Some("Daniel"))
    );
}

/// Inputs at their limits: labels of 100 and 101 characters, labels with control, bidi and
/// zero-width characters; addresses of 254 and 255 characters and a Unicode domain whose
/// punycode passes 254.
#[tokio::test]
async fn inputs_at_their_limits() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let path = format!("/orgs/{org}/invite-links");
    let hundred = "é".repeat(100);
    let r = app.call(Some(&owner), "POST", &path, Some(json!({ "label": hundred }))).await;
    assert_eq!((r.status, r.body["link"]["label"].as_str()), (201, Some(hundred.as_str())), "{:?}", r.body);
    for bad in [
        "é".repeat(101),
        "a\nb".into(),
        "a\u{7}b".into(),
        "Sales\u{202E}".into(),
        "Sa\u{200B}les".into(),
        "  ".into(),
    ] {
        let r = app.call(Some(&owner), "POST", &path, Some(json!({ "label": bad }))).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{bad:?}: {:?}", r.body);
    }
    let links = listed(&app, &owner, &org, "invite-links", "links").await;
    assert_eq!(links.len(), 1, "only the valid label made a link");

    let exact =
        format!("{}@{}.{}.{}.example", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(53));
    let over = format!("{}@{}.{}.{}.example", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(54));
    let label = "東京都渋谷区神宮前一丁目二番三号";
    let wide = format!("{}@{label}.{label}.{label}.{label}.example", "a".repeat(64));
    let huge = format!("a@{}.example", "ü".repeat(5000));
    let r = app
        .call(
            Some(&owner),
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": exact }, { "email": over }, { "email": wide }, { "email": huge }] })),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let statuses: Vec<_> =
        r.body["results"].as_array().unwrap().iter().map(|x| x["status"].clone()).collect();
    assert_eq!(
        statuses,
        [json!("invited"), json!("invalid_email"), json!("invalid_email"), json!("invalid_email")]
    );
}

/// Declined invitations hold no seat: with a limit of two, an owner whose one invitation
/// was declined may invite again.
#[tokio::test]
async fn a_declined_invitation_holds_no_seat() {
    let app = TestApp::spawn_with(|c| c.max_members = Some(2)).await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Acme").await;
    let ann = app.user("ann");
    let (_, token) = invite(&app, &owner, &org, ann.email.as_deref().unwrap(), "member").await;
    let r = app.call(Some(&ann), "POST", "/invitations/decline", Some(json!({ "token": token }))).await;
    assert_eq!(r.status, 204);
    let seats = app.call(Some(&owner), "GET", &format!("/orgs/{org}"), None).await;
    assert_eq!(seats.body["seats"]["used"], 1, "{:?}", seats.body);
    invite(&app, &owner, &org, &app.email("bo"), "member").await;
}
