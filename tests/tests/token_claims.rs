//! The Cognito pre-token-generation trigger (`token-claims`): `roster_orgs` holds the user's
//! active memberships in live organizations as `{orgId: role}`, the 50 most recently joined
//! (then `roster_orgs_truncated`), in both tokens of a V2 event and as a string in a V1
//! event's ID token; when the table cannot be read the event goes back unchanged. Against
//! DynamoDB Local, through the handler the function runs and the local gateway's
//! `/_local/pre-token-generation`.

use std::time::{Duration, Instant};

use roster::App;
use roster::handlers::token_claims::{MAX_ORGS, ORGS_CLAIM, TRUNCATED_CLAIM, handle};
use roster_tests::cognito::pre_token_generation_event;
use roster_tests::gateway::PRE_TOKEN_GENERATION_PATH;
use roster_tests::harness::{TestApp, User};
use roster_tests::runtime_api::{RuntimeApi, function_command};
use serde_json::{Map, Value, json};

/// The claims the trigger's answer adds to the ID token and, for V2, to the access token
/// (`None` for a token the answer leaves alone).
fn added(answer: &Value) -> (Option<&Value>, Option<&Value>) {
    let v1 = &answer["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"];
    if !v1.is_null() {
        return (Some(v1), None);
    }
    let v2 = &answer["response"]["claimsAndScopeOverrideDetails"];
    let id = &v2["idTokenGeneration"]["claimsToAddOrOverride"];
    let access = &v2["accessTokenGeneration"]["claimsToAddOrOverride"];
    ((!id.is_null()).then_some(id), (!access.is_null()).then_some(access))
}

/// The `roster_orgs` and `roster_orgs_truncated` of a V2 answer, the same in both tokens.
async fn v2_claim(app: &App, user: &User) -> (Value, Option<Value>) {
    let sent = pre_token_generation_event("2", "TokenGeneration_HostedAuth", &user.sub);
    let answer = handle(app, sent.clone()).await.expect("never an error");
    let (Some(id), Some(access)) = added(&answer) else { panic!("both tokens get the claim: {answer}") };
    assert_eq!(id, access, "the same claims in the ID and the access token");
    // Nothing but the response's claims changes.
    let mut unchanged = answer.clone();
    unchanged["response"] = sent["response"].clone();
    assert_eq!(unchanged, sent);
    assert_eq!(id.as_object().unwrap().len(), 1 + usize::from(id.get(TRUNCATED_CLAIM).is_some()), "{id}");
    (id[ORGS_CLAIM].clone(), id.get(TRUNCATED_CLAIM).cloned())
}

async fn remove(app: &TestApp, by: &User, org: &str, user: &User) {
    let r = app.call(Some(by), "DELETE", &format!("/orgs/{org}/members/{}", user.sub), None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
}

#[tokio::test]
async fn only_active_memberships_of_live_organizations_in_both_tokens() {
    let app = TestApp::spawn().await;
    let (alice, bob, ann) = (app.user("alice"), app.user("bob"), app.user("ann"));
    let acme = app.create_org(&alice, "Acme").await;
    let globex = app.create_org(&bob, "Globex").await;
    let initech = app.create_org(&bob, "Initech").await;
    let hooli = app.create_org(&bob, "Hooli").await;
    let umbrella = app.create_org(&bob, "Umbrella").await;
    app.add_member(&alice, &acme, &ann, "member").await;
    app.add_member(&bob, &globex, &ann, "admin").await;
    app.add_member(&bob, &initech, &ann, "member").await;
    app.add_member(&bob, &hooli, &ann, "viewer").await;
    app.add_member(&bob, &umbrella, &ann, "viewer").await;
    let (orgs, truncated) = v2_claim(&app.app, &ann).await;
    assert_eq!(
        orgs,
        json!({ acme.as_str(): "member", globex.as_str(): "admin", initech.as_str(): "member",
                hooli.as_str(): "viewer", umbrella.as_str(): "viewer" })
    );
    assert_eq!(truncated, None);

    app.suspend(&bob, &initech, &ann.sub).await;
    remove(&app, &bob, &hooli, &ann).await;
    assert_eq!(app.call(Some(&alice), "DELETE", &format!("/orgs/{acme}"), None).await.status, 204);
    app.calls.take();
    let (orgs, truncated) = v2_claim(&app.app, &ann).await;
    assert_eq!(
        orgs,
        json!({ globex.as_str(): "admin", umbrella.as_str(): "viewer" }),
        "suspended, removed and in a deleted organization: left out"
    );
    assert_eq!(truncated, None);
    assert_eq!(app.calls.take(), ["DynamoDB.Query", "DynamoDB.BatchGetItem"], "two round trips");

    // A change of role shows in the next token.
    let path = format!("/orgs/{umbrella}/members/{}", ann.sub);
    let changed = app.call(Some(&bob), "PATCH", &path, Some(json!({ "role": "member" }))).await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    let (orgs, _) = v2_claim(&app.app, &ann).await;
    assert_eq!(orgs[&umbrella], "member");

    // The owners' own.
    let (orgs, _) = v2_claim(&app.app, &bob).await;
    assert_eq!(
        orgs,
        json!({ globex.as_str(): "owner", initech.as_str(): "owner", hooli.as_str(): "owner",
                umbrella.as_str(): "owner" })
    );
}

#[tokio::test]
async fn a_v1_event_gets_the_claim_as_a_string_in_the_id_token() {
    let app = TestApp::spawn().await;
    let (bob, ann) = (app.user("bob"), app.user("ann"));
    let globex = app.create_org(&bob, "Globex").await;
    app.add_member(&bob, &globex, &ann, "viewer").await;
    for trigger in
        ["TokenGeneration_HostedAuth", "TokenGeneration_Authentication", "TokenGeneration_RefreshTokens"]
    {
        let sent = pre_token_generation_event("1", trigger, &ann.sub);
        let answer = handle(&app.app, sent.clone()).await.unwrap();
        let (Some(id), None) = added(&answer) else { panic!("the ID token only: {answer}") };
        let text = id[ORGS_CLAIM].as_str().expect("a V1 claim is a string");
        assert_eq!(serde_json::from_str::<Value>(text).unwrap(), json!({ globex.as_str(): "viewer" }));
        assert_eq!(id.as_object().unwrap().len(), 1, "no truncation flag: {id}");
        assert!(answer["response"].get("claimsAndScopeOverrideDetails").is_none());
        let mut unchanged = answer.clone();
        unchanged["response"] = sent["response"].clone();
        assert_eq!(unchanged, sent, "{trigger}");
    }
}

/// 51 active memberships: the 50 most recently joined, and `roster_orgs_truncated`. The
/// user joins in the reverse of the organizations' creation, so that joining order, not the
/// ids' order, decides which one is left out.
#[tokio::test]
async fn fifty_one_memberships_give_the_fifty_most_recently_joined_and_the_flag() {
    let app = TestApp::spawn().await;
    let (bob, ann) = (app.user("bob"), app.user("ann"));
    let (app_ref, bob_ref) = (&app, &bob);
    let created = futures::future::join_all(
        (0..=MAX_ORGS).map(|n| async move { app_ref.create_org(bob_ref, &format!("Org {n}")).await }),
    );
    let mut orgs = created.await;
    orgs.sort(); // ids are time-ordered: creation order
    for org in orgs.iter().rev() {
        app.add_member(&bob, org, &ann, "member").await;
        app.advance(Duration::from_secs(1));
    }
    // The last created, joined first: left out by joining order (by id it would be kept).
    let first_joined = orgs[MAX_ORGS].clone();

    let (claim, truncated) = v2_claim(&app.app, &ann).await;
    let listed = claim.as_object().unwrap();
    assert_eq!(listed.len(), MAX_ORGS);
    assert!(!listed.contains_key(&first_joined), "the earliest joined is left out");
    assert!(orgs[..MAX_ORGS].iter().all(|org| listed.contains_key(org)));
    assert_eq!(truncated, Some(json!(true)));

    let v1 = handle(&app.app, pre_token_generation_event("1", "TokenGeneration_HostedAuth", &ann.sub))
        .await
        .unwrap();
    let (Some(id), None) = added(&v1) else { panic!("{v1}") };
    assert_eq!(id[TRUNCATED_CLAIM], "true", "a string in V1");
    assert_eq!(
        serde_json::from_str::<Map<String, Value>>(id[ORGS_CLAIM].as_str().unwrap()).unwrap().len(),
        MAX_ORGS
    );

    // A suspended membership does not count: fifty active ones fit.
    app.suspend(&bob, &orgs[0], &ann.sub).await;
    let (claim, truncated) = v2_claim(&app.app, &ann).await;
    let listed = claim.as_object().unwrap();
    assert_eq!((listed.len(), truncated), (MAX_ORGS, None));
    assert!(listed.contains_key(&first_joined) && !listed.contains_key(&orgs[0]));
}

#[tokio::test]
async fn a_user_without_memberships_gets_an_empty_object() {
    let app = TestApp::spawn().await;
    let zed = app.user("zed");
    assert_eq!(v2_claim(&app.app, &zed).await, (json!({}), None));
    let v1 = handle(&app.app, pre_token_generation_event("1", "TokenGeneration_Authentication", &zed.sub))
        .await
        .unwrap();
    assert_eq!(added(&v1).0.unwrap()[ORGS_CLAIM], "{}");
}

/// The table unreachable (a closed port): the event comes back unchanged, well inside
/// Cognito's 5 seconds, and the sign-in goes on without the claim.
#[tokio::test]
async fn fails_open_when_the_table_cannot_be_read() {
    let app = TestApp::spawn().await;
    let bob = app.user("bob");
    app.create_org(&bob, "Globex").await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let sdk = roster::sdk::load_config().await;
    let dynamo = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .endpoint_url(format!("http://127.0.0.1:{closed}"))
        .build();
    let unreachable = App {
        store: roster::store::Store::new(aws_sdk_dynamodb::Client::from_conf(dynamo), app.table()),
        mailer: roster::mail::Mailer::new((&sdk).into(), None),
        queue: roster::mail::queue::EmailQueue::new((&sdk).into(), None),
        config: app.app.config.clone(),
        clock: roster::domain::Clock::system(),
        catalog: roster::domain::permission::Catalog::deployed().unwrap(),
        accounts: None,
    };
    for version in ["1", "2"] {
        let sent = pre_token_generation_event(version, "TokenGeneration_HostedAuth", &bob.sub);
        let started = Instant::now();
        assert_eq!(handle(&unreachable, sent.clone()).await, Ok(sent), "version {version}");
        assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    }
}

/// Events the trigger has nothing to add to come back unchanged (never an error): a
/// machine's client-credentials token, another trigger's event, no usable `sub`, an unknown
/// version, and what is no event at all.
#[tokio::test]
async fn other_events_come_back_unchanged() {
    let app = TestApp::spawn().await;
    let bob = app.user("bob");
    app.create_org(&bob, "Globex").await;
    let mut no_sub = pre_token_generation_event("2", "TokenGeneration_HostedAuth", &bob.sub);
    no_sub["request"]["userAttributes"].as_object_mut().unwrap().remove("sub");
    let mut blank_sub = pre_token_generation_event("2", "TokenGeneration_HostedAuth", &bob.sub);
    blank_sub["request"]["userAttributes"]["sub"] = json!("");
    let mut null_attributes = pre_token_generation_event("1", "TokenGeneration_HostedAuth", &bob.sub);
    null_attributes["request"]["userAttributes"] = Value::Null;
    for event in [
        pre_token_generation_event("3", "TokenGeneration_ClientCredentials", &bob.sub),
        pre_token_generation_event("2", "PreSignUp_SignUp", &bob.sub),
        pre_token_generation_event("9", "TokenGeneration_HostedAuth", &bob.sub),
        no_sub,
        blank_sub,
        null_attributes,
        json!({}),
        json!([]),
        json!("x"),
    ] {
        assert_eq!(handle(&app.app, event.clone()).await, Ok(event.clone()), "{event}");
    }
    // Version 3 (V3_0) has version 2's shape.
    let v3 = handle(&app.app, pre_token_generation_event("3", "TokenGeneration_Authentication", &bob.sub))
        .await
        .unwrap();
    assert_eq!(added(&v3).1.unwrap()[ORGS_CLAIM].as_object().unwrap().len(), 1);
}

/// The shipped samples (`functions/token-claims/events/`, for `cargo lambda invoke`) are
/// events the handler answers with the claim.
#[tokio::test]
async fn the_sample_events_get_the_claim() {
    let app = TestApp::spawn().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions/token-claims/events");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let event: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let answer = handle(&app.app, event.clone()).await.unwrap();
        let (id, access) = added(&answer);
        let id = id.unwrap_or_else(|| panic!("{path:?}: no claims added"));
        if event["version"] == "1" {
            assert_eq!((&id[ORGS_CLAIM], access), (&json!("{}"), None), "{path:?}");
        } else {
            assert_eq!(
                (&id[ORGS_CLAIM], access.map(|a| &a[ORGS_CLAIM])),
                (&json!({}), Some(&json!({}))),
                "{path:?}"
            );
        }
        seen += 1;
    }
    assert!(seen >= 3, "only {seen} sample events");
}

/// `POST /_local/pre-token-generation` of the local gateway: the contract the local sign-in
/// provider relies on.
#[tokio::test]
async fn the_local_gateway_plays_cognito_invoking_the_trigger() {
    let app = TestApp::spawn().await;
    let gateway = app.local_gateway().await;
    let (bob, ann) = (app.user("bob"), app.user("ann"));
    let globex = app.create_org(&bob, "Globex").await;
    app.add_member(&bob, &globex, &ann, "admin").await;
    let post = |body: Vec<u8>| {
        let gateway = &gateway;
        async move { gateway.post_json(PRE_TOKEN_GENERATION_PATH, &body).await }
    };
    let sent = pre_token_generation_event("1", "TokenGeneration_HostedAuth", &ann.sub);
    let (status, content_type, body) = post(sent.to_string().into_bytes()).await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let claim = added(&body).0.unwrap()[ORGS_CLAIM].as_str().unwrap().to_owned();
    assert_eq!(serde_json::from_str::<Value>(&claim).unwrap(), json!({ globex.as_str(): "admin" }));

    let other = json!({ "hello": "world" });
    assert_eq!(post(other.to_string().into_bytes()).await, (200, "application/json".to_owned(), other));
    let (status, content_type, _) = post(b"{not json".to_vec()).await;
    assert_eq!((status, content_type.as_str()), (400, "application/problem+json"));
    let get = gateway.handle("GET", PRE_TOKEN_GENERATION_PATH, "", &[], b"").await;
    assert_eq!(get.status(), 405);
}

/// The `token-claims` binary itself, as Lambda runs it (JSON logs at the default level)
/// against a local Runtime API: it answers a V2 event with the claim, and its logs name
/// neither the user's address nor their organizations.
#[tokio::test]
async fn the_function_binary_answers_cognito_and_logs_no_address() {
    let app = TestApp::spawn().await;
    let (bob, ann) = (app.user("bob"), app.user("ann"));
    let globex = app.create_org(&bob, "Globex").await;
    app.add_member(&bob, &globex, &ann, "viewer").await;

    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe.parent().and_then(std::path::Path::parent).expect("target/<profile>/deps/<test>");
    let mut build = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    build.current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")).args(["build", "--quiet"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    assert!(build.args(["-p", "token-claims"]).status().expect("cargo runs").success());

    let mut runtime = RuntimeApi::start().await;
    let mut child = function_command(&profile_dir.join("token-claims"), runtime.port)
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("TABLE_NAME", app.table())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("token-claims starts");
    let mut sent = pre_token_generation_event("2", "TokenGeneration_Authentication", &ann.sub);
    let address = ann.email.clone().unwrap();
    sent["request"]["userAttributes"]["email"] = json!(address);
    let answer = runtime.invoke(&sent, Duration::from_secs(30)).await;
    let _ = child.kill();
    let output = child.wait_with_output().expect("its output");
    let logs =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let answer = answer.unwrap_or_else(|e| panic!("{e}\n{logs}"));
    let (Some(id), Some(access)) = added(&answer) else { panic!("{answer}") };
    assert_eq!(id[ORGS_CLAIM], json!({ globex.as_str(): "viewer" }));
    assert_eq!(access, id);
    assert!(logs.contains("organizations claim added"), "{logs}");
    for secret in [address.as_str(), globex.as_str()] {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
    }
}
