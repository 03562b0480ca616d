//! Adding a user with a temporary password (API.md "Accounts"), against moto's real Cognito
//! API: the account is created unverified with a password that must be changed at first
//! sign-in, the person is an active member at once, an address that has an account is
//! invited instead (same answer shape), and a retry after the membership's write failed (the
//! table cut off for real) finishes the membership rather than inviting.

use roster::App;
use roster_tests::cognito::{FirstSignIn, LocalPool, SentRequests};
use roster_tests::cut::{Cut, CutAfter};
use roster_tests::harness::{TestApp, TestResponse, User};
use serde_json::{Value, json};

const PASSWORD: &str = "Temporary-Pass1";
const NEW_PASSWORD: &str = "Chosen-by-them-2";

async fn setup() -> (TestApp, LocalPool, SentRequests) {
    let pool = LocalPool::create(&roster::sdk::load_config().await).await;
    let (app, sent) = TestApp::spawn().await.with_user_pool(&pool).await;
    (app, pool, sent)
}

fn path(org: &str) -> String {
    format!("/orgs/{org}/members/accounts")
}

async fn add(app: &App, by: &User, org: &str, body: Value) -> TestResponse {
    roster_tests::harness::call_app(app, Some(by), "POST", &path(org), Some(body)).await
}

fn body(email: &str, role: &str, password: Option<&str>, send_email: bool) -> Value {
    let mut body = json!({ "email": email, "name": "Dana Added", "role": role, "sendEmail": send_email });
    if let Some(password) = password {
        body["temporaryPassword"] = json!(password);
    }
    body
}

async fn members(app: &TestApp, by: &User, org: &str) -> Vec<Value> {
    let r = app.call(Some(by), "GET", &format!("/orgs/{org}/members"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["members"].as_array().unwrap().clone()
}

async fn audit(app: &TestApp, by: &User, org: &str) -> Vec<Value> {
    let r = app.call(Some(by), "GET", &format!("/orgs/{org}/audit"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["events"].as_array().unwrap().clone()
}

/// The items of the table an add writes besides the membership: account intents,
/// invitations and address slots.
async fn written_by_adds(app: &TestApp) -> Vec<String> {
    let keys = app.item_keys().await;
    keys.into_iter()
        .filter(|k| k.starts_with("ACCOUNT#") || k.contains(" INV#") || k.contains(" EMAIL#"))
        .collect()
}

#[tokio::test]
async fn a_created_user_is_a_member_at_once_and_must_change_the_password_at_first_sign_in() {
    let (app, pool, sent) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let dana = app.email("dana");
    let r = add(&app.app, &olivia, &org, body(&dana, "admin", Some(PASSWORD), false)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["result"], "account_created");
    assert!(r.body.get("invitation").is_none(), "{:?}", r.body);
    let member = &r.body["member"];
    assert_eq!((member["role"].as_str(), member["status"].as_str()), (Some("admin"), Some("active")));
    assert_eq!(member["email"].as_str(), Some(dana.as_str()));
    assert!(!r.body.to_string().contains(PASSWORD), "the answer never repeats the password");

    // The account: its sub is the member's user id, unverified, awaiting a new password.
    let users = pool.users_with_email(&dana).await;
    assert_eq!(users.len(), 1);
    let user = &users[0];
    let attribute = |name: &str| user.attributes().iter().find(|a| a.name() == name).and_then(|a| a.value());
    assert_eq!(attribute("sub"), member["userId"].as_str());
    assert_eq!(attribute("email_verified"), Some("false"));
    assert_eq!(attribute("name"), Some("Dana Added"));
    assert_eq!(user.user_status().map(|s| s.as_str()), Some("FORCE_CHANGE_PASSWORD"));
    // sendEmail false: Cognito's message suppressed, no delivery asked for.
    let created = sent.of("AdminCreateUser");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["MessageAction"], "SUPPRESS");
    assert!(created[0].get("DesiredDeliveryMediums").is_none(), "{:?}", created[0]);

    // Listed and audited at once, with who added them and that no email went.
    let listed = members(&app, &olivia, &org).await;
    assert!(listed.iter().any(|m| m["userId"] == member["userId"] && m["status"] == "active"), "{listed:?}");
    let events = audit(&app, &olivia, &org).await;
    let added = events.iter().find(|e| e["action"] == "member.added").expect("member.added");
    assert_eq!(added["actor"], "olivia");
    assert_eq!(added["target"], member["userId"]);
    assert_eq!(added["details"]["emailSent"], false);
    assert!(!events.iter().any(|e| e["action"] == "invitation.created"));

    // The wrong password is refused; the temporary one must be changed, then tokens come.
    assert_eq!(
        pool.first_sign_in(&dana, "Not-the-password9", NEW_PASSWORD).await,
        FirstSignIn::Refused("NotAuthorizedException".into())
    );
    assert_eq!(
        pool.first_sign_in(&dana, PASSWORD, NEW_PASSWORD).await,
        FirstSignIn::ChangedPassword { id_token: true }
    );
    assert_eq!(pool.first_sign_in(&dana, NEW_PASSWORD, "unused").await, FirstSignIn::NotChallenged);
}

#[tokio::test]
async fn a_generated_password_meets_the_policy_is_emailed_by_cognito_and_differs_each_time() {
    let (app, pool, sent) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    for local in ["gen1", "gen2", "gen3"] {
        let r = add(&app.app, &olivia, &org, body(&app.email(local), "member", None, true)).await;
        assert_eq!((r.status, r.body["result"].as_str()), (201, Some("account_created")), "{:?}", r.body);
    }
    let created = sent.of("AdminCreateUser");
    assert_eq!(created.len(), 3);
    let policy =
        roster::domain::password::PasswordPolicy::parse("12", "lowercase,uppercase,numbers").unwrap();
    let mut passwords = Vec::new();
    for request in &created {
        assert_eq!(request["DesiredDeliveryMediums"], json!(["EMAIL"]));
        assert!(request.get("MessageAction").is_none(), "{request:?}");
        let password = request["TemporaryPassword"].as_str().unwrap().to_owned();
        assert!(password.len() >= 16, "{password}");
        policy.check(&password).unwrap();
        passwords.push(password);
    }
    passwords.dedup();
    assert_eq!(passwords.len(), 3, "each generated password differs");
    // The password Cognito would have emailed works, once changed.
    assert_eq!(
        pool.first_sign_in(&app.email("gen2"), &passwords[1], NEW_PASSWORD).await,
        FirstSignIn::ChangedPassword { id_token: true }
    );
    let events = audit(&app, &olivia, &org).await;
    let sent_flags: Vec<&Value> =
        events.iter().filter(|e| e["action"] == "member.added").map(|e| &e["details"]["emailSent"]).collect();
    assert_eq!(sent_flags, vec![&json!(true); 3]);
}

#[tokio::test]
async fn an_address_that_has_an_account_is_invited_in_an_answer_of_the_same_shape() {
    let (app, pool, _) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    // An account of long standing: signed up and confirmed.
    let kim = app.email("kim");
    pool.create_outside(&kim, PASSWORD).await;
    pool.client
        .admin_set_user_password()
        .user_pool_id(&pool.pool_id)
        .username(&kim)
        .password(NEW_PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
    let r = add(&app.app, &olivia, &org, body(&kim, "member", Some("Another-Pass12"), false)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["result"], "invited");
    assert!(r.body.get("member").is_none(), "{:?}", r.body);
    assert_eq!(r.body["invitation"]["email"].as_str(), Some(kim.as_str()));
    assert_eq!(r.body["invitation"]["role"], "member");
    assert_eq!(r.body["invitation"]["status"], "pending");
    assert_eq!(pool.user_count().await, 1, "no second account");
    // Its password is untouched; the invitation is an ordinary one, its email queued.
    assert_eq!(pool.first_sign_in(&kim, NEW_PASSWORD, "unused").await, FirstSignIn::NotChallenged);
    app.drain_mail().await;
    assert_eq!(app.mailbox(&kim).await.len(), 1, "the invitation email");
    assert!(members(&app, &olivia, &org).await.iter().all(|m| m["email"] != json!(kim)));

    // An account this route created for another organization: invited too, and nothing of
    // that organization shows.
    let other_owner = app.user("otto");
    let other = app.create_org(&other_owner, "Secret Other Co").await;
    let lee = app.email("lee");
    let r = add(&app.app, &other_owner, &other, body(&lee, "admin", Some(PASSWORD), false)).await;
    assert_eq!(r.body["result"], "account_created", "{:?}", r.body);
    let r = add(&app.app, &olivia, &org, body(&lee, "viewer", Some("Yet-Another-3x"), false)).await;
    assert_eq!((r.status, r.body["result"].as_str()), (201, Some("invited")), "{:?}", r.body);
    let text = r.body.to_string();
    assert!(!text.contains(&other) && !text.contains("Secret") && !text.contains("otto"), "{text}");
    assert_eq!(pool.user_count().await, 2);
    // The account's password is still the one its own admin set.
    assert_eq!(
        pool.first_sign_in(&lee, PASSWORD, NEW_PASSWORD).await,
        FirstSignIn::ChangedPassword { id_token: true }
    );
}

#[tokio::test]
async fn role_rules_are_those_of_invitations() {
    let (app, pool, _) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let adam = app.user("adam");
    app.add_member(&olivia, &org, &adam, "admin").await;
    for role in ["admin", "owner"] {
        let r =
            add(&app.app, &adam, &org, body(&app.email(&format!("x{role}")), role, Some(PASSWORD), false))
                .await;
        assert_eq!((r.status, r.code()), (403, "forbidden"), "{role}: {:?}", r.body);
    }
    let r = add(&app.app, &adam, &org, body(&app.email("m1"), "member", Some(PASSWORD), false)).await;
    assert_eq!((r.status, r.body["member"]["role"].as_str()), (201, Some("member")), "{:?}", r.body);
    let r = add(&app.app, &olivia, &org, body(&app.email("o1"), "owner", Some(PASSWORD), false)).await;
    assert_eq!((r.status, r.body["member"]["role"].as_str()), (201, Some("owner")), "{:?}", r.body);
    assert_eq!(pool.user_count().await, 2, "refused roles made no account");

    // A single-owner deployment never grants owner, not even by an owner.
    let single = App {
        config: roster::Config { single_owner: true, ..app.app.config.clone() },
        ..app.second_instance().await
    };
    let r = add(&single, &olivia, &org, body(&app.email("o2"), "owner", Some(PASSWORD), false)).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(pool.user_count().await, 2);
}

#[tokio::test]
async fn bad_input_is_a_problem_and_creates_nothing() {
    let (app, pool, _) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let email = app.email("dana");
    let before = written_by_adds(&app).await;
    let cases = [
        (body(&email, "member", Some("Short1Aa"), false), "weak_password", "at least 12"),
        (body(&email, "member", Some("alllowercase123"), false), "weak_password", "uppercase"),
        (body(&email, "member", Some("NoNumbersHereAtAll"), false), "weak_password", "number"),
        (body(&email, "member", Some("Has Spaces 123A"), false), "weak_password", "spaces"),
        (body(&email, "member", None, false), "invalid_request", "temporaryPassword is required"),
        (body("not-an-address", "member", Some(PASSWORD), false), "invalid_email", ""),
        (body(&email, "chief", Some(PASSWORD), false), "invalid_role", ""),
        (
            json!({ "email": email, "name": " ", "role": "member", "sendEmail": true }),
            "invalid_request",
            "name",
        ),
        (json!({ "email": email, "role": "member", "sendEmail": true }), "invalid_request", "name"),
        (
            json!({ "email": email, "name": "D", "role": "member", "sendEmail": true, "admin": true }),
            "invalid_request",
            "admin",
        ),
    ];
    for (request, code, detail) in cases {
        let r = add(&app.app, &olivia, &org, request.clone()).await;
        assert_eq!((r.status, r.code()), (400, code), "{request}: {:?}", r.body);
        assert_eq!(r.content_type.as_deref(), Some("application/problem+json"));
        assert!(r.body["detail"].as_str().unwrap().contains(detail), "{request}: {:?}", r.body);
        if let Some(password) = request["temporaryPassword"].as_str() {
            assert!(!r.body.to_string().contains(password), "the password is never repeated: {:?}", r.body);
        }
    }
    assert_eq!(pool.user_count().await, 0);
    assert_eq!(written_by_adds(&app).await, before, "no intent, invitation or slot written");
    assert_eq!(members(&app, &olivia, &org).await.len(), 1);
}

#[tokio::test]
async fn only_admins_and_owners_of_the_organization_may_add_users() {
    let (app, pool, _) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let (mia, vic, sus) = (app.user("mia"), app.user("vic"), app.user("sus"));
    app.add_member(&olivia, &org, &mia, "member").await;
    app.add_member(&olivia, &org, &vic, "viewer").await;
    app.add_member(&olivia, &org, &sus, "admin").await;
    app.suspend(&olivia, &org, "sus").await;
    let stranger = app.user("stranger");
    let strangers_org = app.create_org(&stranger, "Elsewhere").await;
    let request = body(&app.email("dana"), "member", Some(PASSWORD), false);
    for (who, expected) in
        [(&mia, (403, "forbidden")), (&vic, (403, "forbidden")), (&sus, (403, "suspended"))]
    {
        let r = add(&app.app, who, &org, request.clone()).await;
        assert_eq!((r.status, r.code()), expected, "{}: {:?}", who.sub, r.body);
    }
    // Not a member, or another organization: 404 as everywhere, whatever the body.
    let r = add(&app.app, &stranger, &org, request.clone()).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = add(&app.app, &olivia, &strangers_org, json!({ "junk": true })).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app.call(None, "POST", &path(&org), Some(request.clone())).await;
    assert_eq!(r.status, 401);
    // A service, even with roster/admin: this route is for people.
    let r =
        app.call_as_service("dev-service", "roster/admin", "POST", &path(&org), Some(request.clone())).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{:?}", r.body);
    assert_eq!(pool.user_count().await, 0);

    // A deployment without the stack's user pool: 501 to its admins, 404 still to strangers.
    let no_pool = App { accounts: None, ..app.second_instance().await };
    let r = add(&no_pool, &olivia, &org, request.clone()).await;
    assert_eq!((r.status, r.code()), (501, "accounts_unavailable"), "{:?}", r.body);
    assert_eq!(r.content_type.as_deref(), Some("application/problem+json"));
    let r = add(&no_pool, &stranger, &org, request).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
}

#[tokio::test]
async fn an_address_already_a_member_or_invited_here_is_a_conflict() {
    let (app, pool, _) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let mia = app.user("mia");
    app.add_member(&olivia, &org, &mia, "member").await;
    let invited = app.email("invited");
    let r = app
        .call(
            Some(&olivia),
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": invited, "role": "member" }] })),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    for email in [mia.email.clone().unwrap(), invited] {
        let r = add(&app.app, &olivia, &org, body(&email, "member", Some(PASSWORD), false)).await;
        assert_eq!((r.status, r.code()), (409, "conflict"), "{email}: {:?}", r.body);
    }
    assert_eq!(pool.user_count().await, 0);
}

#[tokio::test]
async fn a_retry_after_the_membership_failed_finishes_it_with_the_same_account() {
    let (app, pool, _) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    // An instance whose table is reached through a cut that opens as soon as Cognito has
    // answered AdminCreateUser: the account is made, the membership's write meets no table.
    let cut = Cut::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap()).await;
    let sdk = roster::sdk::load_config().await;
    let dynamo = aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(cut.endpoint()).build();
    let cognito = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
        .interceptor(CutAfter { operation: "AdminCreateUser", cut: cut.clone() })
        .build();
    let failing = App {
        store: roster::store::Store::new(aws_sdk_dynamodb::Client::from_conf(dynamo), app.table()),
        accounts: Some(roster::accounts::Accounts::new(
            aws_sdk_cognitoidentityprovider::Client::from_conf(cognito),
            pool.pool_id.clone(),
        )),
        ..app.second_instance().await
    };
    let dana = app.email("dana");
    let r = add(&failing, &olivia, &org, body(&dana, "member", Some(PASSWORD), false)).await;
    assert_eq!((r.status, r.code()), (503, "unavailable"), "{:?}", r.body);
    assert_eq!(pool.users_with_email(&dana).await.len(), 1, "the first step happened");
    assert_eq!(members(&app, &olivia, &org).await.len(), 1, "the second did not");
    let sub = pool.users_with_email(&dana).await[0]
        .attributes()
        .iter()
        .find(|a| a.name() == "sub")
        .and_then(|a| a.value())
        .unwrap()
        .to_owned();

    // The retry (with a password of its own: the admin gives that one) finishes the membership
    // of the same account instead of inviting the address.
    cut.restore();
    let retried_password = "SecondTryPass4x"; // no symbol: the template's policy needs none
    let r = add(&app.app, &olivia, &org, body(&dana, "member", Some(retried_password), false)).await;
    assert_eq!((r.status, r.body["result"].as_str()), (201, Some("account_created")), "{:?}", r.body);
    assert_eq!(r.body["member"]["userId"].as_str(), Some(sub.as_str()));
    assert_eq!(pool.user_count().await, 1);
    assert!(members(&app, &olivia, &org).await.iter().any(|m| m["userId"] == json!(sub)));
    // And once more: the same answer, still one member, one member.added.
    let again = add(&app.app, &olivia, &org, body(&dana, "member", Some(retried_password), false)).await;
    assert_eq!((again.status, again.body["member"]["userId"].as_str()), (201, Some(sub.as_str())));
    assert_eq!(members(&app, &olivia, &org).await.len(), 2);
    let added = audit(&app, &olivia, &org).await.iter().filter(|e| e["action"] == "member.added").count();
    assert_eq!(added, 1);
    assert!(written_by_adds(&app).await.iter().all(|k| !k.contains(" INV#")), "no invitation");
    assert_eq!(
        pool.first_sign_in(&dana, retried_password, NEW_PASSWORD).await,
        FirstSignIn::ChangedPassword { id_token: true }
    );
}

#[tokio::test]
async fn two_racing_requests_make_one_account_and_one_member() {
    let (app, pool, _) = setup().await;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let second = app.second_instance().await;
    for round in 0..3 {
        let email = app.email(&format!("race{round}"));
        let request = body(&email, "member", Some(PASSWORD), false);
        let (a, b) = tokio::join!(
            add(&app.app, &olivia, &org, request.clone()),
            add(&second, &olivia, &org, request.clone())
        );
        for r in [&a, &b] {
            assert_eq!((r.status, r.body["result"].as_str()), (201, Some("account_created")), "{:?}", r.body);
        }
        assert_eq!(a.body["member"]["userId"], b.body["member"]["userId"]);
        assert_eq!(pool.users_with_email(&email).await.len(), 1);
    }
    assert_eq!(members(&app, &olivia, &org).await.len(), 4);
    let added = audit(&app, &olivia, &org).await.iter().filter(|e| e["action"] == "member.added").count();
    assert_eq!(added, 3);
}

#[tokio::test]
async fn the_emailed_password_is_mail_the_organization_sends_paused_and_quotas_alike() {
    // Cognito's email of the temporary password goes out through the stack's SES identity,
    // as invitations do: the inviter's hourly quota counts it, and a paused organization
    // sends none. Without the email, neither applies.
    let (mut app, _pool, sent) = setup().await;
    app.app.config.mail.quotas.inviter_per_hour = 2;
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    for local in ["q1", "q2"] {
        let r = add(&app.app, &olivia, &org, body(&app.email(local), "member", None, true)).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let before = app.item_keys().await;
    let r = add(&app.app, &olivia, &org, body(&app.email("q3"), "member", None, true)).await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"), "{:?}", r.body);
    assert_eq!(sent.of("AdminCreateUser").len(), 2, "no account made past the quota");
    assert_eq!(app.item_keys().await, before, "nothing written");
    let quiet = add(&app.app, &olivia, &org, body(&app.email("q3"), "member", Some(PASSWORD), false)).await;
    assert_eq!(
        (quiet.status, quiet.body["result"].as_str()),
        (201, Some("account_created")),
        "{:?}",
        quiet.body
    );

    // A paused organization: no emailed password; one handed over by the admin is fine.
    let dynamo = aws_sdk_dynamodb::Client::new(&roster::sdk::load_config().await);
    dynamo
        .update_item()
        .table_name(app.table())
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(format!("ORG#{org}")))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S("ORG".into()))
        .update_expression("SET invitationsPaused = :p")
        .expression_attribute_values(
            ":p",
            aws_sdk_dynamodb::types::AttributeValue::M(
                [
                    ("at".to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(app.now().to_string())),
                    ("reason".to_owned(), aws_sdk_dynamodb::types::AttributeValue::S("bounces".into())),
                ]
                .into(),
            ),
        )
        .send()
        .await
        .expect("pause");
    let paused = add(&app.app, &olivia, &org, body(&app.email("p1"), "member", None, true)).await;
    assert_eq!((paused.status, paused.code()), (403, "invitations_paused"), "{:?}", paused.body);
    assert_eq!(sent.of("AdminCreateUser").len(), 3);
    let handed = add(&app.app, &olivia, &org, body(&app.email("p1"), "member", Some(PASSWORD), false)).await;
    assert_eq!(handed.status, 201, "{:?}", handed.body);
}

#[tokio::test]
async fn an_account_cognito_refuses_for_good_leaves_no_intent_behind() {
    // Cognito refuses the account (here: the pool is gone, ResourceNotFoundException): no
    // account exists, so the intent this request took is let go at once; kept, it would have
    // had other organizations invite the address for a day as if it had an account.
    let (mut app, _pool, _sent) = setup().await;
    let working = app.app.accounts.take();
    let client = aws_sdk_cognitoidentityprovider::Client::new(&roster::sdk::load_config().await);
    app.app.accounts = Some(roster::accounts::Accounts::new(client, "us-east-1_Gone0000".into()));
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    let address = app.email("refused");
    let before = written_by_adds(&app).await;
    let r = add(&app.app, &olivia, &org, body(&address, "member", Some(PASSWORD), false)).await;
    assert!(r.status >= 400, "{:?}", r.body);
    assert_eq!(written_by_adds(&app).await, before, "no intent, invitation or slot left");
    // Another organization, with the pool back: an account, not an invitation.
    app.app.accounts = working;
    let other = app.user("other");
    let theirs = app.create_org(&other, "Other").await;
    let r = add(&app.app, &other, &theirs, body(&address, "member", Some(PASSWORD), false)).await;
    assert_eq!((r.status, r.body["result"].as_str()), (201, Some("account_created")), "{:?}", r.body);
}
