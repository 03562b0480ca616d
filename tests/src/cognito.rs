//! Events as Cognito sends them to its Lambda triggers.

use serde_json::{Value, json};

/// A pre-sign-up event for `trigger_source` (`PreSignUp_SignUp`, ...), with the `email` and
/// `email_verified` attributes when given (every attribute a string, as Cognito sends them).
pub fn pre_sign_up_event(trigger_source: &str, email: Option<&str>, verified: Option<bool>) -> Value {
    let mut attributes = json!({});
    if let Some(email) = email {
        attributes["email"] = json!(email);
    }
    if let Some(verified) = verified {
        attributes["email_verified"] = json!(verified.to_string());
    }
    json!({
        "version": "1",
        "region": "us-east-1",
        "userPoolId": "us-east-1_EXAMPLE",
        "userName": "3f1e6c2a-8b4d-4e0f-9a71-2c5d8e9b0a13",
        "callerContext": { "awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "client" },
        "triggerSource": trigger_source,
        "request": { "userAttributes": attributes, "validationData": null },
        "response": { "autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false }
    })
}

/// A pre-token-generation event of `version` (`"1"` for `V1_0`, `"2"` for `V2_0`) for the
/// user `sub`, as Cognito sends it to Lambda: the response's part still `null`.
pub fn pre_token_generation_event(version: &str, trigger_source: &str, sub: &str) -> Value {
    let response = if version == "1" {
        json!({ "claimsOverrideDetails": null })
    } else {
        json!({ "claimsAndScopeOverrideDetails": null })
    };
    let mut event = json!({
        "version": version,
        "triggerSource": trigger_source,
        "region": "us-east-1",
        "userPoolId": "us-east-1_EXAMPLE",
        "userName": sub,
        "callerContext": { "awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "client" },
        "request": {
            "userAttributes": {
                "sub": sub,
                "cognito:user_status": "CONFIRMED",
                "email_verified": "true",
                "email": format!("{sub}@example.com")
            },
            "groupConfiguration": { "groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": null }
        },
        "response": response
    });
    if version != "1" {
        event["request"]["scopes"] = json!(["openid", "email", "profile"]);
    }
    event
}

/// A user pool on moto's server (`AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`) shaped as the
/// template's: addresses are usernames, the template's password policy, and an app client
/// that may sign in server-side (`ADMIN_NO_SRP_AUTH`), as the tests of first sign-in do.
pub struct LocalPool {
    pub client: aws_sdk_cognitoidentityprovider::Client,
    pub pool_id: String,
    pub client_id: String,
}

/// What a first sign-in with a temporary password came to.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstSignIn {
    /// Challenged `NEW_PASSWORD_REQUIRED`, then given tokens for the new password.
    ChangedPassword { id_token: bool },
    /// Refused: the code Cognito answered.
    Refused(String),
    /// Signed in without being made to change the password (never right for a new account).
    NotChallenged,
}

/// The template's pool policy (infra/template.yaml `UserPool.Policies`).
pub const POLICY_MIN_LENGTH: i32 = 12;

impl LocalPool {
    pub async fn create(sdk: &aws_config::SdkConfig) -> Self {
        use aws_sdk_cognitoidentityprovider::types::ExplicitAuthFlowsType;
        let endpoint = std::env::var("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER").expect(
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER is not set: moto's server (tests/stack/lib.sh start_moto)",
        );
        let client = aws_sdk_cognitoidentityprovider::Client::new(sdk);
        // The pool is made by a plain request: the SDK leaves out a policy's `false` flags
        // (their default in Cognito), which moto reads as `true`, so a pool made by the SDK
        // would require symbols on moto where the template's does not.
        let created = post_json(
            &endpoint,
            "AWSCognitoIdentityProviderService.CreateUserPool",
            &serde_json::json!({
                "PoolName": format!("roster-test-{}", uuid::Uuid::new_v4().simple()),
                "UsernameAttributes": ["email"],
                "Policies": { "PasswordPolicy": {
                    "MinimumLength": POLICY_MIN_LENGTH, "RequireLowercase": true, "RequireUppercase": true,
                    "RequireNumbers": true, "RequireSymbols": false, "TemporaryPasswordValidityDays": 7,
                } },
            }),
        )
        .await;
        let pool_id = created["UserPool"]["Id"].as_str().expect("a user pool on moto's server").to_owned();
        let app_client = client
            .create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("roster-test")
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await
            .expect("an app client");
        let client_id =
            app_client.user_pool_client().and_then(|c| c.client_id()).expect("a client id").to_owned();
        Self { client, pool_id, client_id }
    }

    /// The pool's users whose address is `email` (a filter on the attribute).
    pub async fn users_with_email(
        &self,
        email: &str,
    ) -> Vec<aws_sdk_cognitoidentityprovider::types::UserType> {
        let out = self.client.list_users().user_pool_id(&self.pool_id).send().await.expect("ListUsers");
        out.users()
            .iter()
            .filter(|u| u.attributes().iter().any(|a| a.name() == "email" && a.value() == Some(email)))
            .cloned()
            .collect()
    }

    /// An account made outside Roster (the console, a script): `email` with the temporary
    /// `password`, awaiting its first sign-in, Cognito's message suppressed.
    pub async fn create_outside(&self, email: &str, password: &str) {
        self.client
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(email)
            .temporary_password(password)
            .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
            .send()
            .await
            .expect("AdminCreateUser");
    }

    /// Every user of the pool.
    pub async fn user_count(&self) -> usize {
        let out = self.client.list_users().user_pool_id(&self.pool_id).send().await.expect("ListUsers");
        out.users().len()
    }

    /// Signs in as `email` with `password` (`ADMIN_NO_SRP_AUTH`) and, when challenged to,
    /// sets `new_password`.
    pub async fn first_sign_in(&self, email: &str, password: &str, new_password: &str) -> FirstSignIn {
        use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
        use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
        let started = self
            .client
            .admin_initiate_auth()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::AdminNoSrpAuth)
            .auth_parameters("USERNAME", email)
            .auth_parameters("PASSWORD", password)
            .send()
            .await;
        let started = match started {
            Ok(out) => out,
            Err(e) => return FirstSignIn::Refused(e.code().unwrap_or("unknown").to_owned()),
        };
        if started.challenge_name() != Some(&ChallengeNameType::NewPasswordRequired) {
            return FirstSignIn::NotChallenged;
        }
        let answered = self
            .client
            .admin_respond_to_auth_challenge()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .set_session(started.session().map(str::to_owned))
            .challenge_responses("USERNAME", email)
            .challenge_responses("NEW_PASSWORD", new_password)
            .send()
            .await
            .expect("the new password is accepted");
        FirstSignIn::ChangedPassword {
            id_token: answered.authentication_result().and_then(|r| r.id_token()).is_some(),
        }
    }
}

/// The requests an app's Cognito client sent (operation name and JSON body), so a test can
/// see what was asked of the pool: moto keeps no record of messages it would have sent.
#[derive(Debug, Clone, Default)]
pub struct SentRequests(std::sync::Arc<std::sync::Mutex<Vec<(String, serde_json::Value)>>>);

impl SentRequests {
    /// The bodies of the requests of `operation` (`"AdminCreateUser"`...) so far.
    pub fn of(&self, operation: &str) -> Vec<serde_json::Value> {
        let sent = self.0.lock().expect("lock");
        sent.iter().filter(|(op, _)| op == operation).map(|(_, body)| body.clone()).collect()
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for SentRequests {
    fn name(&self) -> &'static str {
        "SentRequests"
    }

    fn read_before_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<
            '_,
        >,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let operation = cfg
            .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
            .map_or_else(String::new, |m| m.name().to_owned());
        let body = context
            .request()
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(serde_json::Value::Null);
        self.0.lock().expect("lock").push((operation, body));
        Ok(())
    }
}

/// POSTs an AWS JSON 1.1 request to moto's server (which checks no signature).
async fn post_json(endpoint: &str, target: &str, body: &Value) -> Value {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let request = hyper::Request::post(endpoint)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/cognito-idp/aws4_request",
        )
        .body(Full::new(bytes::Bytes::from(body.to_string())))
        .expect("a request");
    let response = client.request(request).await.expect("moto answers");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    assert!(status.is_success(), "{target}: {status} {}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).expect("JSON")
}

impl crate::harness::TestApp {
    /// A test app whose deployment has `pool` as its user pool, with the template's password
    /// policy; its Cognito client counted with `calls` and its requests recorded.
    pub async fn with_user_pool(mut self, pool: &LocalPool) -> (Self, SentRequests) {
        let sdk = roster::sdk::load_config().await;
        let sent = SentRequests::default();
        let config = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
            .interceptor(self.calls.clone())
            .interceptor(sent.clone())
            .build();
        self.app.config.user_pool_id = Some(pool.pool_id.clone());
        self.app.config.password_policy =
            roster::domain::password::PasswordPolicy::parse("12", "lowercase,uppercase,numbers")
                .expect("policy");
        self.app.accounts = Some(roster::accounts::Accounts::new(
            aws_sdk_cognitoidentityprovider::Client::from_conf(config),
            pool.pool_id.clone(),
        ));
        (self, sent)
    }
}

/// Delivers a post-confirmation `event` to `app`'s trigger until the handler takes it, as
/// Cognito retries a trigger that failed (in tests: a transaction conflict the proxy made,
/// answered 503); Cognito must get its event back untouched.
pub async fn deliver_post_confirmation(app: &roster::App, event: &Value) {
    for _ in 0..10 {
        match roster::handlers::post_confirmation::handle(app, event.clone()).await {
            Ok(back) => {
                assert_eq!(&back, event, "Cognito gets its event back");
                return;
            }
            Err(e) if e.status().as_u16() == 503 => continue,
            Err(e) => panic!("the trigger failed: {e:?}"),
        }
    }
    panic!("the trigger kept failing");
}

/// A post-confirmation event as Cognito sends it to Lambda (the shape of
/// tests/fixtures/cognito/post-confirmation.json, from AWS's documented example), for the
/// user `sub` with these attributes (every value a string); `trigger_source` is
/// `PostConfirmation_ConfirmSignUp` or `PostConfirmation_ConfirmForgotPassword`.
pub fn post_confirmation_event(
    trigger_source: &str,
    sub: &str,
    email: Option<&str>,
    verified: bool,
    name: Option<&str>,
) -> Value {
    let mut event: Value = serde_json::from_str(include_str!("../fixtures/cognito/post-confirmation.json"))
        .expect("the fixture");
    event["userName"] = json!(sub);
    event["triggerSource"] = json!(trigger_source);
    let attributes = event["request"]["userAttributes"].as_object_mut().expect("attributes");
    attributes.insert("sub".into(), json!(sub));
    attributes.insert("email_verified".into(), json!(verified.to_string()));
    for (key, value) in [("email", email), ("cognito:email_alias", email), ("name", name)] {
        match value {
            Some(v) => attributes.insert(key.into(), json!(v)),
            None => attributes.remove(key),
        };
    }
    event
}
