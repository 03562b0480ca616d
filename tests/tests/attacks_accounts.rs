//! A hostile review of adding a user with a temporary password (API.md "Accounts", second
//! bullet; README "Adding a user with a temporary password"), against moto's Cognito API:
//! forged and partial claims, callers who lost their standing, other organizations' ids and
//! roles, role escalation, addresses, names and passwords at their limits, racing requests
//! in one organization and in two, and what the answer shows. After each refused request
//! the table holds no member, intent, invitation or slot, and the pool no account.
//! (`accounts.rs` holds the feature's own tests.)

use roster::App;
use roster_tests::cognito::LocalPool;
use roster_tests::harness::{TestApp, TestResponse, User, call_app_with_claims, service_claims};
use serde_json::{Value, json};

const PASSWORD: &str = "Temporary-Pass1";

async fn setup() -> (TestApp, LocalPool) {
    let pool = LocalPool::create(&roster::sdk::load_config().await).await;
    let (app, _) = TestApp::spawn().await.with_user_pool(&pool).await;
    (app, pool)
}

fn path(org: &str) -> String {
    format!("/orgs/{org}/members/accounts")
}

async fn add(app: &App, by: &User, org: &str, body: Value) -> TestResponse {
    roster_tests::harness::call_app(app, Some(by), "POST", &path(org), Some(body)).await
}

fn body(email: &str, role: &str) -> Value {
    json!({ "email": email, "name": "Dana Added", "role": role, "temporaryPassword": PASSWORD, "sendEmail": false })
}

async fn members(app: &TestApp, by: &User, org: &str) -> Vec<Value> {
    let r = app.call(Some(by), "GET", &format!("/orgs/{org}/members"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["members"].as_array().unwrap().clone()
}

/// Asserts `r` is the refusal `expected` and that it changed nothing: no item and no account.
async fn refused_and_nothing_written(
    app: &TestApp,
    pool: &LocalPool,
    before: &[String],
    r: &TestResponse,
    expected: (u16, &str),
    what: &str,
) {
    assert_eq!((r.status, r.code()), expected, "{what}: {:?}", r.body);
    assert_eq!(r.content_type.as_deref(), Some("application/problem+json"), "{what}");
    assert_eq!(app.item_keys().await, before, "{what}: nothing written");
    assert_eq!(pool.user_count().await, 0, "{what}: no account");
}

#[tokio::test]
async fn forged_partial_and_service_claims_are_refused_and_write_nothing() {
    let (app, pool) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let request = body(&app.email("dana"), "member");
    let before = app.item_keys().await;

    let r = call_app_with_claims(&app.app, None, "POST", &path(&org), Some(request.clone())).await;
    refused_and_nothing_written(&app, &pool, &before, &r, (401, "unauthenticated"), "no claims").await;
    // A token naming the owner's address but no sub is nobody.
    let mut partial = olivia.claims();
    partial.remove("sub");
    let r = call_app_with_claims(&app.app, Some(&partial), "POST", &path(&org), Some(request.clone())).await;
    refused_and_nothing_written(&app, &pool, &before, &r, (401, "unauthenticated"), "no sub").await;
    // Services, whatever their scope (the route is for people); one named as the owner's sub
    // is still a service.
    for (client, scope) in [
        ("dev-backend", "roster/admin"),
        ("dev-backend", "roster/usage"),
        ("dev-backend", "roster/read roster/admin roster/usage"),
        ("dev-backend", ""),
        ("olivia", "roster/admin"),
    ] {
        let claims = service_claims(client, scope);
        let r =
            call_app_with_claims(&app.app, Some(&claims), "POST", &path(&org), Some(request.clone())).await;
        refused_and_nothing_written(
            &app,
            &pool,
            &before,
            &r,
            (403, "forbidden"),
            &format!("{client} {scope:?}"),
        )
        .await;
    }

    // An owner whose token's address is unverified (or has no flag) is still the owner: the
    // standing is the sub's, and the address added is the body's, never the token's.
    for (i, owner) in
        [olivia.clone().unverified(), User { email_verified: None, ..olivia.clone() }].iter().enumerate()
    {
        let r = add(&app.app, owner, &org, body(&app.email(&format!("unv{i}")), "member")).await;
        assert_eq!((r.status, r.body["result"].as_str()), (201, Some("account_created")), "{:?}", r.body);
    }
    assert_eq!(pool.user_count().await, 2);
}

#[tokio::test]
async fn callers_who_lost_their_standing_or_never_had_it_are_refused_and_write_nothing() {
    let (app, pool) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let (mia, vic, sus, rem, dem) =
        (app.user("mia"), app.user("vic"), app.user("sus"), app.user("rem"), app.user("dem"));
    app.add_member(&olivia, &org, &mia, "member").await;
    app.add_member(&olivia, &org, &vic, "viewer").await;
    for admin in [&sus, &rem, &dem] {
        app.add_member(&olivia, &org, admin, "admin").await;
    }
    app.suspend(&olivia, &org, "sus").await;
    let r = app.call(Some(&olivia), "DELETE", &format!("/orgs/{org}/members/rem"), None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = app
        .call(Some(&olivia), "PATCH", &format!("/orgs/{org}/members/dem"), Some(json!({ "role": "member" })))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let otto = app.user("otto");
    let others = app.create_org(&otto, "Other Co").await;
    let request = body(&app.email("dana"), "member");
    let before = app.item_keys().await;

    for (who, expected) in [
        (&mia, (403, "forbidden")),
        (&vic, (403, "forbidden")),
        (&dem, (403, "forbidden")),
        (&sus, (403, "suspended")),
        (&rem, (404, "not_found")),
        (&otto, (404, "not_found")),
    ] {
        let r = add(&app.app, who, &org, request.clone()).await;
        refused_and_nothing_written(&app, &pool, &before, &r, expected, &who.sub).await;
    }
    // Another organization's id answers exactly as an id nobody minted, whatever the body.
    let unknown = "org_00000000000000000000000000";
    let other = add(&app.app, &olivia, &others, request.clone()).await;
    let none = add(&app.app, &olivia, unknown, request.clone()).await;
    refused_and_nothing_written(&app, &pool, &before, &other, (404, "not_found"), "another org").await;
    assert_eq!((none.status, &none.body), (other.status, &other.body));
    let junk = add(&app.app, &olivia, &others, json!({ "junk": true })).await;
    assert_eq!((junk.status, &junk.body), (other.status, &other.body));
}

#[tokio::test]
async fn no_role_above_the_callers_no_other_organizations_role_and_no_owner_with_one_owner() {
    let (app, pool) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let adam = app.user("adam");
    app.add_member(&olivia, &org, &adam, "admin").await;
    let otto = app.user("otto");
    let others = app.create_org(&otto, "Other Co").await;
    let roles = |org: &str| format!("/orgs/{org}/roles");
    let role = |key: &str, base: &str| json!({ "key": key, "name": key.to_uppercase(), "base": base, "permissions": [] });
    let r = app.call(Some(&otto), "POST", &roles(&others), Some(role("boss", "admin"))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = app.call(Some(&olivia), "POST", &roles(&org), Some(role("lead", "admin"))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let before = app.item_keys().await;
    let email = app.email("dana");

    for (who, role, expected) in [
        (&adam, "owner", (403, "forbidden")),
        (&adam, "admin", (403, "forbidden")),
        // A custom role on the admin base is an admin grant too.
        (&adam, "lead", (403, "forbidden")),
        // Another organization's custom role does not exist here.
        (&olivia, "boss", (400, "invalid_role")),
        (&adam, "boss", (400, "invalid_role")),
        (&olivia, "Owner", (400, "invalid_role")),
        (&olivia, "", (400, "invalid_role")),
    ] {
        let r = add(&app.app, who, &org, body(&email, role)).await;
        refused_and_nothing_written(&app, &pool, &before, &r, expected, &format!("{} {role}", who.sub)).await;
    }
    let single = App {
        config: roster::Config { single_owner: true, ..app.app.config.clone() },
        ..app.second_instance().await
    };
    let r = add(&single, &olivia, &org, body(&email, "owner")).await;
    refused_and_nothing_written(&app, &pool, &before, &r, (403, "forbidden"), "single owner").await;
    // The refusals left nothing in the way: the same address is added right after.
    let r = add(&single, &olivia, &org, body(&email, "lead")).await;
    assert_eq!((r.status, r.body["member"]["customRole"].as_str()), (201, Some("lead")), "{:?}", r.body);
}

/// A valid address of `len` characters ending in `domain`: 20 characters of local part, then
/// labels of at most 63.
fn address(len: usize, domain: &str) -> String {
    let mut rest = len - 21 - domain.len();
    let mut labels = String::new();
    while rest > 0 {
        let label = match rest {
            66.. => 63,
            65 => 62,
            _ => rest - 1,
        };
        labels.push_str(&format!("{}.", "b".repeat(label)));
        rest -= label + 1;
    }
    let email = format!("{}@{labels}{domain}", "a".repeat(20));
    assert_eq!(email.len(), len);
    email
}

#[tokio::test]
async fn addresses_and_names_at_their_limits() {
    let (app, pool) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let domain = format!("t{}.example.com", app.id);
    let before = app.item_keys().await;

    // Cognito's usernames (here: addresses) are at most 128 characters: a longer address,
    // however valid, can hold no account in the pool, and is refused before anything.
    for len in [129, 254] {
        let email = address(len, &domain);
        let r = add(&app.app, &olivia, &org, body(&email, "member")).await;
        assert!(r.body["detail"].as_str().unwrap_or("").contains("128"), "{len}: {:?}", r.body);
        refused_and_nothing_written(&app, &pool, &before, &r, (400, "invalid_request"), &format!("{len}"))
            .await;
    }
    let r = add(&app.app, &olivia, &org, body(&address(255, &domain), "member")).await;
    refused_and_nothing_written(&app, &pool, &before, &r, (400, "invalid_email"), "255").await;
    // Names: control, invisible and text-direction characters refused, not cleaned.
    let email = app.email("dana");
    for name in [
        "Dana\u{202E}nimda",
        "Da\u{200B}na",
        "Dana\u{2066}",
        "Dana\nAdded",
        &"n".repeat(roster::domain::DisplayName::MAX_CHARS + 1),
    ] {
        let request = json!({ "email": email, "name": name, "role": "member", "temporaryPassword": PASSWORD, "sendEmail": false });
        let r = add(&app.app, &olivia, &org, request).await;
        refused_and_nothing_written(&app, &pool, &before, &r, (400, "invalid_request"), name).await;
    }

    // At the limits: 128 characters, a name of 100, a `+` tag, an internationalized domain
    // (its A-label is the username), all accepted once each.
    let long = address(128, &domain);
    let name = "é".repeat(roster::domain::DisplayName::MAX_CHARS);
    let request = json!({ "email": long, "name": name, "role": "member", "temporaryPassword": PASSWORD, "sendEmail": false });
    let r = add(&app.app, &olivia, &org, request).await;
    assert_eq!((r.status, r.body["member"]["email"].as_str()), (201, Some(long.as_str())), "{:?}", r.body);
    assert_eq!(r.body["member"]["name"].as_str(), Some(name.as_str()));
    let plus = app.email("dana+tag");
    let r = add(&app.app, &olivia, &org, body(&plus, "member")).await;
    assert_eq!((r.status, r.body["member"]["email"].as_str()), (201, Some(plus.as_str())), "{:?}", r.body);
    let r = add(&app.app, &olivia, &org, body(&format!("jo@bücher{}.example", app.id), "member")).await;
    let ascii = format!("jo@xn--bcher{}-kva.example", app.id);
    assert_eq!(r.status, 201, "{:?}", r.body);
    let idn = r.body["member"]["email"].as_str().unwrap().to_owned();
    assert!(idn.starts_with("jo@xn--bcher"), "{idn} (like {ascii})");
    assert_eq!(pool.users_with_email(&idn).await.len(), 1);

    // The same addresses in other cases (or the Unicode form) are the same addresses: within
    // the intent's day and before the person signs in, the same request again is a retry
    // (README "Two steps, and retries"): the same member, no second account.
    let count = pool.user_count().await;
    let listed = members(&app, &olivia, &org).await;
    for same in [long.to_uppercase(), plus.to_uppercase(), format!("JO@BÜCHER{}.EXAMPLE", app.id)] {
        let r = add(&app.app, &olivia, &org, body(&same, "member")).await;
        assert_eq!(
            (r.status, r.body["result"].as_str()),
            (201, Some("account_created")),
            "{same}: {:?}",
            r.body
        );
        let email = r.body["member"]["email"].as_str().unwrap();
        assert!(
            listed.iter().any(|m| m["userId"] == r.body["member"]["userId"] && m["email"] == email),
            "{same}"
        );
    }
    assert_eq!(pool.user_count().await, count);
    assert_eq!(members(&app, &olivia, &org).await.len(), 4);
}

/// A member whose account this route made, once they have signed in, is a member like any
/// other: adding the address again is `409`, not an invitation to where they already are.
#[tokio::test]
async fn an_added_user_who_signed_in_is_a_conflict_not_invited_again() {
    let (app, pool) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let mia = app.user("mia");
    app.add_member(&olivia, &org, &mia, "member").await;
    let dana = app.email("dana");
    let r = add(&app.app, &olivia, &org, body(&dana, "member")).await;
    assert_eq!(r.body["result"], "account_created", "{:?}", r.body);
    assert_eq!(
        pool.first_sign_in(&dana, PASSWORD, "Chosen-by-them-2").await,
        roster_tests::cognito::FirstSignIn::ChangedPassword { id_token: true }
    );
    let before = app.item_keys().await;
    let mia_email = mia.email.clone().unwrap().to_uppercase();
    for email in [dana.clone(), dana.to_uppercase(), mia_email] {
        let r = add(&app.app, &olivia, &org, body(&email, "viewer")).await;
        assert_eq!((r.status, r.code()), (409, "conflict"), "{email}: {:?}", r.body);
        assert_eq!(app.item_keys().await, before, "{email}: no invitation");
    }
    assert_eq!(pool.user_count().await, 1);
}

#[tokio::test]
async fn passwords_at_the_policys_edges() {
    let (app, pool) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let before = app.item_keys().await;
    let email = app.email("dana");
    let with = |password: &str| json!({ "email": email, "name": "Dana", "role": "member", "temporaryPassword": password, "sendEmail": false });
    let long = format!("Aa1{}", "x".repeat(254));
    for (password, detail) in [
        ("Abcdefgh123", "at least 12"),
        ("abcdefgh1234", "uppercase"),
        ("ABCDEFGH1234", "lowercase"),
        ("Abcdefghijkl", "number"),
        (long.as_str(), "at most 256"),
        ("Abcdef\tgh1234", "spaces"),
        ("Abcdef\u{a0}gh1234", "spaces"),
        ("Abcdef\u{3000}gh1234", "spaces"),
        ("Abcdefgh1234\n", "spaces"),
        ("Abcdef\u{7}gh1234", "spaces"),
        // Eleven characters in 22 bytes: counted in characters.
        ("Ééééééééé1A", "at least 12"),
    ] {
        let r = add(&app.app, &olivia, &org, with(password)).await;
        assert!(r.body["detail"].as_str().unwrap().contains(detail), "{password:?}: {:?}", r.body);
        assert!(!r.body.to_string().contains(password.trim()), "never repeated");
        refused_and_nothing_written(&app, &pool, &before, &r, (400, "weak_password"), password).await;
    }
    let r = add(
        &app.app,
        &olivia,
        &org,
        json!({ "email": email, "name": "Dana", "role": "member", "sendEmail": false }),
    )
    .await;
    refused_and_nothing_written(&app, &pool, &before, &r, (400, "invalid_request"), "no password").await;
    let r = add(&app.app, &olivia, &org, json!({ "email": email, "name": "Dana", "role": "member", "temporaryPassword": null, "sendEmail": false })).await;
    refused_and_nothing_written(&app, &pool, &before, &r, (400, "invalid_request"), "null password").await;

    // Exactly the minimum, exactly 256, and Unicode beside the required ASCII classes.
    for (i, password) in
        ["Abcdefgh1234".to_owned(), format!("Aa1{}", "x".repeat(253)), "Пароль-Ab1-日本語".to_owned()]
            .iter()
            .enumerate()
    {
        let address = app.email(&format!("edge{i}"));
        let request = json!({ "email": address, "name": "Edge", "role": "member", "temporaryPassword": password, "sendEmail": false });
        let r = add(&app.app, &olivia, &org, request).await;
        assert_eq!(
            (r.status, r.body["result"].as_str()),
            (201, Some("account_created")),
            "{i}: {:?}",
            r.body
        );
        assert_eq!(
            pool.first_sign_in(&address, password, "Chosen-by-them-2").await,
            roster_tests::cognito::FirstSignIn::ChangedPassword { id_token: true },
            "{i}"
        );
    }
}

/// Two organizations adding one address at once: one account, made by one of them and a
/// member there; the other invites the address (it holds an account, or is about to), and
/// neither answer names the other organization.
#[tokio::test]
async fn two_organizations_racing_for_one_address_make_one_account_one_member_one_invitation() {
    let (app, pool) = setup().await;
    let olivia = app.user("olivia");
    let otto = app.user("otto");
    let (a, b) = (app.create_org(&olivia, "Acme").await, app.create_org(&otto, "Secret Other Co").await);
    let second = app.second_instance().await;
    for round in 0..3 {
        let email = app.email(&format!("race{round}"));
        let (ra, rb) = tokio::join!(
            add(&app.app, &olivia, &a, body(&email, "member")),
            add(&second, &otto, &b, body(&email, "member"))
        );
        let mut results = [ra.body["result"].as_str(), rb.body["result"].as_str()];
        results.sort();
        assert_eq!(results, [Some("account_created"), Some("invited")], "{:?} {:?}", ra.body, rb.body);
        assert_eq!((ra.status, rb.status), (201, 201));
        assert_eq!(pool.users_with_email(&email).await.len(), 1);
        let (created_in, invited_in) = if ra.body["result"] == "invited" { (&b, &a) } else { (&a, &b) };
        for (r, other, name, owner) in [(&ra, &b, "Secret", "otto"), (&rb, &a, "Acme", "olivia")] {
            let text = r.body.to_string();
            assert!(
                !text.contains(other.as_str()) && !text.contains(name) && !text.contains(owner),
                "{text}"
            );
        }
        let owner = |org: &String| if org == &a { &olivia } else { &otto };
        assert!(
            members(&app, owner(created_in), created_in).await.iter().any(|m| m["email"] == json!(email))
        );
        assert!(
            !members(&app, owner(invited_in), invited_in).await.iter().any(|m| m["email"] == json!(email))
        );
    }
}

/// An address with an account another organization's admin made, and one whose account
/// was made outside this route and is in no organization: the two answers differ only in
/// the address and the invitation's own ids and times.
#[tokio::test]
async fn the_answer_says_nothing_of_other_organizations() {
    let (app, pool) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let otto = app.user("otto");
    let others = app.create_org(&otto, "Secret Other Co").await;
    let (lee, kim) = (app.email("lee"), app.email("kim"));
    let r = add(&app.app, &otto, &others, body(&lee, "admin")).await;
    assert_eq!(r.body["result"], "account_created", "{:?}", r.body);
    pool.create_outside(&kim, PASSWORD).await;
    let normalized = |r: &TestResponse, email: &str| {
        let mut text = r.body.to_string().replace(email, "ADDRESS");
        for key in ["id", "token", "createdAt", "expiresAt", "sentAt"] {
            if let Some(v) = r.body["invitation"][key].as_str() {
                text = text.replace(v, key);
            }
        }
        text
    };
    // Both accounts predate this organization's intent (moto dates creation to the second).
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    let for_lee = add(&app.app, &olivia, &org, body(&lee, "viewer")).await;
    let for_kim = add(&app.app, &olivia, &org, body(&kim, "viewer")).await;
    assert_eq!((for_lee.status, for_kim.status), (201, 201));
    assert_eq!(for_lee.body["result"], "invited", "{:?}", for_lee.body);
    assert_eq!(normalized(&for_lee, &lee), normalized(&for_kim, &kim));
    let text = for_lee.body.to_string();
    assert!(!text.contains(&others) && !text.contains("Secret") && !text.contains("otto"), "{text}");
}

/// Bodies of the wrong shape, and a full organization: refused before any account or item.
#[tokio::test]
async fn malformed_bodies_and_a_full_organization_create_nothing() {
    let pool = LocalPool::create(&roster::sdk::load_config().await).await;
    let (app, _) = TestApp::spawn_with(|c| c.max_members = Some(2)).await.with_user_pool(&pool).await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let email = app.email("dana");
    let before = app.item_keys().await;
    for request in [
        json!({ "email": email, "name": "Dana", "role": "member", "temporaryPassword": PASSWORD }),
        json!({ "email": email, "name": "Dana", "role": "member", "temporaryPassword": PASSWORD, "sendEmail": "false" }),
        json!({ "email": [email], "name": "Dana", "role": "member", "temporaryPassword": PASSWORD, "sendEmail": false }),
        json!({ "email": email, "name": "Dana", "role": "member", "temporaryPassword": 123456789012_u64, "sendEmail": false }),
        json!({ "email": email, "name": "Dana", "role": ["member"], "temporaryPassword": PASSWORD, "sendEmail": false }),
        json!({ "email": email, "name": "Dana", "role": "member", "temporaryPassword": PASSWORD, "sendEmail": false, "emailVerified": true }),
        json!([body(&email, "member")]),
    ] {
        let r = add(&app.app, &olivia, &org, request.clone()).await;
        assert_eq!(r.status, 400, "{request}: {:?}", r.body);
        refused_and_nothing_written(&app, &pool, &before, &r, (400, r.code()), &request.to_string()).await;
    }
    // One seat left: the first add takes it; the second is refused before Cognito is asked.
    let r = add(&app.app, &olivia, &org, body(&email, "member")).await;
    assert_eq!(r.body["result"], "account_created", "{:?}", r.body);
    let before = app.item_keys().await;
    let r = add(&app.app, &olivia, &org, body(&app.email("eve"), "member")).await;
    assert_eq!(r.code(), "seat_limit", "{:?}", r.body);
    assert_eq!(app.item_keys().await, before, "nothing written");
    assert_eq!(pool.user_count().await, 1, "no second account");
}
