//! Test helpers: a fresh table per test in DynamoDB Local, callers with chosen claims, and
//! requests that go through the route table and a real v2 event, as in AWS.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use lambda_http::Body;
use roster::http::routes;
use roster::{App, Config};
use serde_json::{Value, json};

use crate::conflicts::{self, ConflictProxy, ConflictStats};
use crate::counting::CallCounter;
use crate::event::{self, Claims, EventInput};
use crate::gateway::invoke;
use crate::table;

/// A signed-in user as the authorizer would describe them.
#[derive(Debug, Clone)]
pub struct User {
    pub sub: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub email_verified: Option<bool>,
}

impl User {
    /// `sub` with the address `{sub}@example.com`, verified.
    pub fn new(sub: &str) -> Self {
        Self {
            sub: sub.to_owned(),
            email: Some(format!("{sub}@example.com")),
            name: Some(format!("User {sub}")),
            email_verified: Some(true),
        }
    }

    pub fn with_email(mut self, email: &str) -> Self {
        self.email = Some(email.to_owned());
        self
    }

    pub fn unverified(mut self) -> Self {
        self.email_verified = Some(false);
        self
    }

    pub fn claims(&self) -> Claims {
        let mut claims = Claims::new();
        claims.insert("sub".into(), self.sub.clone());
        if let Some(email) = &self.email {
            claims.insert("email".into(), email.clone());
        }
        if let Some(v) = self.email_verified {
            claims.insert("email_verified".into(), v.to_string());
        }
        if let Some(name) = &self.name {
            claims.insert("name".into(), name.clone());
        }
        claims
    }
}

#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Value,
    /// `Retry-After`, when answered.
    pub retry_after: Option<String>,
}

impl TestResponse {
    /// The problem `code` of an error response.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// The `action` of each event of an audit page, newest first. Panics on another body.
    pub fn audit_actions(&self) -> Vec<&str> {
        let events = self.body["events"].as_array().expect("an audit page");
        events.iter().map(|e| e["action"].as_str().expect("an action")).collect()
    }
}

/// Asserts an error answer: the status and code, as `application/problem+json`, with no
/// AWS text or stack trace in it.
#[track_caller]
pub fn problem(r: &TestResponse, status: u16, code: &str, what: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{what}: {:?}", r.body);
    assert_eq!(r.content_type.as_deref(), Some("application/problem+json"), "{what}: {:?}", r.body);
    let text = r.body.to_string();
    for leak in ["Exception", "dynamodb", "panicked", "ValidationException", "at src/"] {
        assert!(!text.contains(leak), "{what}: the problem leaks {leak:?}: {text}");
    }
}

pub struct TestApp {
    pub app: App,
    pub dynamo: aws_sdk_dynamodb::Client,
    /// Unique per test app, so that tests sharing the SES emulator read only their own mail.
    pub id: String,
    /// Every DynamoDB and SES request the app sends.
    pub calls: CallCounter,
    /// How far the app's clock runs ahead of the real one, in milliseconds.
    pub clock_offset: Arc<AtomicI64>,
    /// This app's invitation email queue (its own, so that tests never send each other's).
    pub queue: crate::email_queue::LocalQueue,
    /// The sender's pace: fast, so that tests do not wait on a sandbox account's rate.
    pub pace: Arc<roster::handlers::send_invitations::Pace>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// [`TestApp::spawn`] over a table with a stream (new images), as the template's.
    pub async fn spawn_with_stream() -> Self {
        let app = Self::spawn().await;
        app.dynamo.delete_table().table_name(app.table()).send().await.expect("drop the streamless table");
        table::ensure_with_stream(&app.dynamo, app.table()).await.expect("a table with a stream");
        app
    }

    /// A new, empty table and an app over it; `configure` adjusts the settings.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        assert!(
            std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some(),
            "AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests with `make test`, which starts DynamoDB Local"
        );
        let sdk = roster::sdk::load_config().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let table_name = format!("roster-test-{id}");
        table::ensure(&dynamo, &table_name).await.expect("creating a test table in DynamoDB Local");
        let mut config = Config {
            table_name,
            app_url: "https://app.example.test".into(),
            from_email: Some("Roster <roster@example.test>".into()),
            invite_ttl_hours: 72,
            max_members: None,
            one_org_per_user: false,
            create_org_on_sign_up: false,
            single_owner: false,
            // Per test app, as per deployment: nothing may depend on a well-known key.
            cursor_keys: Some(roster::domain::cursor::CursorKeys::generate().expect("OS random source")),
            branding: Default::default(),
            // As `make run`: the local service clients.
            service_clients: roster::domain::identity::ServiceClients::parse("dev-service dev-backend")
                .expect("client ids"),
            // Quotas out of the way (tests/tests/email_delivery.rs sets the ones it holds).
            mail: roster::config::MailSettings {
                send_rate: 200,
                send_concurrency: 1,
                quotas: roster::config::Quotas {
                    org_per_hour: 1 << 30,
                    org_per_day: 1 << 30,
                    inviter_per_hour: 1 << 30,
                },
                ..Default::default()
            },
            user_pool_id: None,
            password_policy: Default::default(),
        };
        configure(&mut config);
        // After `configure`: the queue redrives after the configured attempts.
        let queue = crate::email_queue::LocalQueue::create(
            &sdk,
            &format!("roster-test-{id}"),
            config.mail.send_attempts,
        )
        .await
        .expect("a queue on moto's server (AWS_ENDPOINT_URL_SQS)");
        config.mail.queue_url = Some(queue.url.clone());
        let calls = CallCounter::default();
        let clock_offset = Arc::new(AtomicI64::new(0));
        // Through the conflict proxy, so races meet DynamoDB's TransactionConflict as in AWS.
        let counted_dynamo = conflicts::through_shared_proxy(aws_sdk_dynamodb::config::Builder::from(&sdk))
            .interceptor(calls.clone())
            .build();
        let counted_ses = aws_sdk_sesv2::config::Builder::from(&sdk).interceptor(calls.clone()).build();
        let app = App {
            store: roster::store::Store::new(
                aws_sdk_dynamodb::Client::from_conf(counted_dynamo),
                config.table_name.clone(),
            ),
            mailer: roster::mail::Mailer::new(counted_ses, config.from_email.clone()),
            queue: email_queue(&sdk, &config, Some(&calls)),
            config,
            clock: offset_clock(&clock_offset),
            catalog: roster::domain::permission::Catalog::deployed().expect("the deployed catalog"),
            // Only the accounts tests have a user pool (tests/tests/accounts.rs).
            accounts: None,
        };
        let pace = Arc::new(roster::handlers::send_invitations::Pace::per_second(f64::from(
            app.config.mail.send_rate,
        )));
        Self { app, dynamo, id, calls, clock_offset, queue, pace }
    }

    /// The same table and settings, but mail goes to `ses_endpoint` (e.g. a closed port).
    pub async fn with_ses_endpoint(&self, ses_endpoint: &str) -> App {
        let sdk = roster::sdk::load_config().await;
        let ses = aws_sdk_sesv2::config::Builder::from(&sdk).endpoint_url(ses_endpoint).build();
        App {
            config: self.app.config.clone(),
            store: roster::store::Store::new(self.dynamo.clone(), self.table()),
            mailer: roster::mail::Mailer::new(ses, self.app.config.from_email.clone()),
            queue: email_queue(&sdk, &self.app.config, None),
            clock: offset_clock(&self.clock_offset),
            catalog: roster::domain::permission::Catalog::deployed().expect("the deployed catalog"),
            accounts: self.app.accounts.clone(),
        }
    }

    /// Moves the app's clock forward (expiry without sleeping). DynamoDB's TTL keeps running
    /// on real time, so items that expire this way stay in the table, as they may in AWS.
    pub fn advance(&self, by: std::time::Duration) {
        let millis = i64::try_from(by.as_millis()).expect("a sane duration");
        self.clock_offset.fetch_add(millis, Ordering::SeqCst);
    }

    /// The app's current time.
    pub fn now(&self) -> roster::domain::Timestamp {
        self.app.now()
    }

    pub fn table(&self) -> &str {
        &self.app.config.table_name
    }

    /// An address no other test uses.
    pub fn email(&self, local: &str) -> String {
        format!("{local}@t{}.example.com", self.id)
    }

    /// A user whose address is unique to this test.
    pub fn user(&self, sub: &str) -> User {
        User::new(sub).with_email(&self.email(sub))
    }

    /// A JSON request (or none) as `user` (or with no authorizer claims).
    pub async fn call(
        &self,
        user: Option<&User>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> TestResponse {
        call_app(&self.app, user, method, path, body).await
    }

    /// A request with exactly these headers and body bytes. `path` may carry a query string.
    pub async fn call_raw(
        &self,
        user: Option<&User>,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> TestResponse {
        call_raw(&self.app, user.map(User::claims).as_ref(), method, path, headers, body).await
    }

    /// A JSON request as the service `client_id` (listed in this app's
    /// `ROSTER_SERVICE_CLIENTS`: `dev-service`, `dev-backend`) holding `scope`.
    pub async fn call_as_service(
        &self,
        client_id: &str,
        scope: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> TestResponse {
        call_app_with_claims(&self.app, Some(&service_claims(client_id, scope)), method, path, body).await
    }

    /// One permission check (`POST /authorize` as `dev-service`), its `{allowed, reason,
    /// role}`; `workspace` adds a `workspaceId`. Panics unless the batch answered `200`.
    pub async fn check_one(&self, user: &str, org: &str, permission: &str, workspace: Option<&str>) -> Value {
        let mut check = json!({ "userId": user, "orgId": org, "permission": permission });
        if let Some(ws) = workspace {
            check["workspaceId"] = json!(ws);
        }
        let body = Some(json!({ "checks": [check] }));
        let r = self.call_as_service("dev-service", "roster/authorize", "POST", "/authorize", body).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["results"][0].clone()
    }

    /// [`TestApp::call_as_service`] with these headers too (e.g. `X-Roster-On-Behalf-Of`).
    pub async fn call_as_service_with(
        &self,
        (client_id, scope): (&str, &str),
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> TestResponse {
        let (mut all, bytes) = json_request(body);
        all.extend(headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        call_raw(&self.app, Some(&service_claims(client_id, scope)), method, path, &all, &bytes).await
    }

    /// A request as the service `client_id` holding `scope`, with exactly these headers and
    /// body bytes (a JSON number's own text, say, which a `Value` would read as a float).
    pub async fn call_raw_as_service(
        &self,
        (client_id, scope): (&str, &str),
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> TestResponse {
        call_raw(&self.app, Some(&service_claims(client_id, scope)), method, path, headers, body).await
    }

    /// The same table, mail and clock, with `configure` adjusting the settings (e.g. another
    /// `ROSTER_SERVICE_CLIENTS`, as after a deployment that changed it).
    pub async fn with_config(&self, configure: impl FnOnce(&mut Config)) -> App {
        let mut config = self.app.config.clone();
        configure(&mut config);
        let sdk = roster::sdk::load_config().await;
        let ses = aws_sdk_sesv2::config::Builder::from(&sdk).build();
        App {
            mailer: roster::mail::Mailer::new(ses, config.from_email.clone()),
            queue: email_queue(&sdk, &config, None),
            config,
            store: self.app.store.clone(),
            clock: offset_clock(&self.clock_offset),
            catalog: roster::domain::permission::Catalog::deployed().expect("the deployed catalog"),
            accounts: self.app.accounts.clone(),
        }
    }

    /// Creates an organization owned by `owner` and returns its id.
    pub async fn create_org(&self, owner: &User, name: &str) -> String {
        let response = self.call(Some(owner), "POST", "/orgs", Some(json!({ "name": name }))).await;
        assert_eq!(response.status, 201, "create org: {:?}", response.body);
        response.body["org"]["id"].as_str().expect("org id").to_owned()
    }

    /// Creates a workspace of `org` as `by` and returns its id.
    pub async fn create_workspace(&self, by: &User, org: &str, name: &str) -> String {
        let r = self
            .call(Some(by), "POST", &format!("/orgs/{org}/workspaces"), Some(json!({ "name": name })))
            .await;
        assert_eq!(r.status, 201, "create workspace: {:?}", r.body);
        r.body["workspace"]["id"].as_str().expect("workspace id").to_owned()
    }

    /// Creates a group of `org` as `by` and returns its id.
    pub async fn create_group(&self, by: &User, org: &str, name: &str) -> String {
        let r =
            self.call(Some(by), "POST", &format!("/orgs/{org}/groups"), Some(json!({ "name": name }))).await;
        assert_eq!(r.status, 201, "create group: {:?}", r.body);
        r.body["group"]["id"].as_str().expect("group id").to_owned()
    }

    /// Adds `user` to `org` with `role` through a fresh single-use invite link made by `owner`.
    pub async fn add_member(&self, owner: &User, org: &str, user: &User, role: &str) {
        let link = self
            .call(
                Some(owner),
                "POST",
                &format!("/orgs/{org}/invite-links"),
                Some(json!({ "role": role, "maxUses": 1 })),
            )
            .await;
        assert_eq!(link.status, 201, "create link: {:?}", link.body);
        let token = link.body["link"]["token"].as_str().unwrap().to_owned();
        let joined =
            self.call(Some(user), "POST", "/invitations/accept", Some(json!({ "token": token }))).await;
        assert_eq!(joined.status, 200, "join: {:?}", joined.body);
    }

    /// Suspends member `sub` of `org`, as `by`.
    pub async fn suspend(&self, by: &User, org: &str, sub: &str) {
        let path = format!("/orgs/{org}/members/{sub}");
        let suspended = self.call(Some(by), "PATCH", &path, Some(json!({ "status": "suspended" }))).await;
        assert_eq!(suspended.status, 200, "suspend {sub}: {:?}", suspended.body);
    }

    /// Runs the sender over this app's queue until it is empty, as the queue's event source
    /// does in AWS.
    pub async fn drain_mail(&self) -> crate::email_queue::Drained {
        self.queue.drain(&self.app, &self.pace, 50).await
    }

    /// The messages the SES emulator received for `address`, oldest first, once this app's
    /// queue is drained.
    pub async fn mailbox(&self, address: &str) -> Vec<Value> {
        self.drain_mail().await;
        self.mailbox_undrained(address).await
    }

    /// The messages the SES emulator received for `address` so far, the queue left as it is.
    pub async fn mailbox_undrained(&self, address: &str) -> Vec<Value> {
        let url =
            std::env::var("ROSTER_TEST_SES_STORE").expect("ROSTER_TEST_SES_STORE is set by the test command");
        let store = http_get_json(&url).await;
        store["emails"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter(|m| {
                        m["destination"]["to"].as_array().is_some_and(|to| to.iter().any(|a| a == address))
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The token of the accept link in the latest email to `address`.
    pub async fn token_mailed_to(&self, address: &str) -> String {
        let mail = self.mailbox(address).await;
        let last = mail.last().unwrap_or_else(|| panic!("no email to {address}"));
        let text = last["body"]["text"].as_str().expect("text part");
        let start = text.find("token=").expect("accept link in the email") + "token=".len();
        text[start..].split_whitespace().next().unwrap().to_owned()
    }

    /// Deleted organizations still waiting for the purge.
    pub async fn store_pending_purges(&self) -> Vec<roster::store::purge::PendingPurge> {
        self.app.store.pending_purges().await.expect("purge list")
    }

    /// Every item of the table as its key, `"PK SK"`, sorted: what a request wrote, compared
    /// before and after.
    pub async fn item_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .all_items()
            .await
            .iter()
            .map(|i| {
                let s = |k: &str| i.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                format!("{} {}", s("PK"), s("SK"))
            })
            .collect();
        keys.sort();
        keys
    }

    /// Every item of the table, for checks that nothing was half-written.
    pub async fn all_items(
        &self,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .dynamo
                .scan()
                .table_name(self.table())
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }
}

/// The real clock plus a shared, adjustable offset.
pub fn offset_clock(offset: &Arc<AtomicI64>) -> roster::domain::Clock {
    let offset = Arc::clone(offset);
    roster::domain::Clock::from_fn(move || {
        roster::domain::Timestamp::now().plus_millis(offset.load(Ordering::SeqCst))
    })
}

/// A JSON request to any app (e.g. one whose mail goes elsewhere), as [`TestApp::call`].
pub async fn call_app(
    app: &App,
    user: Option<&User>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> TestResponse {
    // Straight to `call_raw`, not through `call_app_with_claims`: one more future in the
    // chain overflows the compiler's layout depth for the largest test fixtures.
    let (headers, bytes) = json_request(body);
    call_raw(app, user.map(User::claims).as_ref(), method, path, &headers, &bytes).await
}

/// The headers and bytes of a JSON request (none without a body).
fn json_request(body: Option<Value>) -> (Vec<(String, String)>, Vec<u8>) {
    match body {
        Some(json) => {
            (vec![("content-type".to_owned(), "application/json".to_owned())], json.to_string().into_bytes())
        }
        None => (vec![], vec![]),
    }
}

/// The claims of a service's access token (client-credentials grant): `sub` and `client_id`
/// both the client id, and its scopes.
pub fn service_claims(client_id: &str, scope: &str) -> Claims {
    let mut claims = Claims::new();
    claims.insert("sub".into(), client_id.to_owned());
    claims.insert("client_id".into(), client_id.to_owned());
    claims.insert("token_use".into(), "access".into());
    claims.insert("scope".into(), scope.to_owned());
    claims
}

/// A JSON request with exactly these authorizer claims (a service's, or forged ones).
pub async fn call_app_with_claims(
    app: &App,
    claims: Option<&Claims>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> TestResponse {
    let (headers, bytes) = json_request(body);
    call_raw(app, claims, method, path, &headers, &bytes).await
}

async fn call_raw(
    app: &App,
    claims: Option<&Claims>,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> TestResponse {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let routes::RouteMatch::Found(route, params) = routes::find(method, path) else {
        panic!("no route for {method} {path}");
    };
    let event = event::build(&EventInput { route, path, path_params: &params, query, headers, body, claims });
    let response = invoke(app, route.function, event::to_request(&event)).await;
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone())),
        Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    TestResponse { status, content_type, body, retry_after }
}

/// GET a JSON document over plain HTTP (the local emulators).
pub async fn http_get_json(url: &str) -> Value {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client: Client<_, Empty<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let response = client.get(url.parse().expect("a valid URL")).await.expect("GET");
    let body = response.into_body().collect().await.expect("body").to_bytes();
    serde_json::from_slice(&body).expect("JSON")
}

/// Conflict emulation ([`crate::conflicts`]): on for every test app unless `ROSTER_TEST_CONFLICTS=off`.
impl TestApp {
    /// What the conflict proxy did for this app's table so far (zero when emulation is off).
    pub fn conflict_stats(&self) -> ConflictStats {
        ConflictProxy::shared().map(|p| p.table_stats(self.table())).unwrap_or_default()
    }

    /// Another function instance: the same table, settings and clock, through the same
    /// conflict proxy, with clients of its own that `calls` does not count.
    pub async fn second_instance(&self) -> App {
        let sdk = roster::sdk::load_config().await;
        let dynamo = conflicts::through_shared_proxy(aws_sdk_dynamodb::config::Builder::from(&sdk)).build();
        App {
            config: self.app.config.clone(),
            store: roster::store::Store::new(aws_sdk_dynamodb::Client::from_conf(dynamo), self.table()),
            mailer: roster::mail::Mailer::new((&sdk).into(), self.app.config.from_email.clone()),
            queue: email_queue(&sdk, &self.app.config, None),
            clock: offset_clock(&self.clock_offset),
            catalog: roster::domain::permission::Catalog::deployed().expect("the deployed catalog"),
            accounts: self.app.accounts.clone(),
        }
    }

    /// A local gateway over a second instance of this app (its clock moved by this app's
    /// `advance` too), signing with `test-secret`, serving the API alone.
    pub async fn local_gateway(&self) -> crate::gateway::Gateway {
        crate::gateway::Gateway {
            app: self.second_instance().await,
            secret: "test-secret".into(),
            web: None,
            clock_offset: Some(self.clock_offset.clone()),
            oidc: None,
            email_queue: Some(self.queue.clone()),
        }
    }

    /// The same app with its DynamoDB client straight on DynamoDB Local (still counted).
    pub fn without_conflict_emulation(mut self) -> Self {
        let direct = self.dynamo.config().to_builder().interceptor(self.calls.clone()).build();
        self.app.store = roster::store::Store::new(aws_sdk_dynamodb::Client::from_conf(direct), self.table());
        self
    }
}

/// The app's queue client (counted with `calls` when given), on `config`'s queue.
fn email_queue(
    sdk: &aws_config::SdkConfig,
    config: &Config,
    calls: Option<&CallCounter>,
) -> roster::mail::queue::EmailQueue {
    let mut builder = aws_sdk_sqs::config::Builder::from(sdk);
    if let Some(calls) = calls {
        builder = builder.interceptor(calls.clone());
    }
    roster::mail::queue::EmailQueue::new(builder.build(), config.mail.queue_url.clone())
}

/// Runs a test body on a thread of its own with a large stack: unoptimized, the futures of a
/// long test body are larger than a test thread's 2 MiB.
pub fn on_big_stack<F: Future<Output = ()> + 'static>(body: fn() -> F) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(body());
        })
        .expect("thread")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

impl TestApp {
    /// Every page of the list at `path` (which may carry its query) as `by`, `limit` a page,
    /// following `nextCursor` to the end: the items under `key`, in order, and how many
    /// requests it took. Each page must answer 200 with at most `limit` items; more than
    /// `max_requests` requests is a list that does not end.
    pub async fn all_pages(
        &self,
        by: &User,
        path: &str,
        key: &str,
        limit: usize,
        max_requests: usize,
    ) -> (Vec<Value>, usize) {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for request in 1..=max_requests {
            let sep = if path.contains('?') { '&' } else { '?' };
            let mut url = format!("{path}{sep}limit={limit}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let r = self.call(Some(by), "GET", &url, None).await;
            assert_eq!(r.status, 200, "{url}: {:?}", r.body);
            let page =
                r.body[key].as_array().unwrap_or_else(|| panic!("{url}: no {key}: {:?}", r.body)).clone();
            assert!(page.len() <= limit, "{url}: {} items for limit {limit}", page.len());
            items.extend(page);
            match r.body["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return (items, request),
            }
        }
        panic!("{path}: the pages do not end");
    }

    /// Every item of `org`'s partition, read consistently.
    pub async fn partition(
        &self,
        org: &str,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .dynamo
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(format!("ORG#{org}")))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("read the partition");
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }

    /// The item at (`pk`, `sk`), read straight from the table, consistently.
    pub async fn item(
        &self,
        pk: &str,
        sk: &str,
    ) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.dynamo
            .get_item()
            .table_name(self.table())
            .key("PK", AttributeValue::S(pk.to_owned()))
            .key("SK", AttributeValue::S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item
    }

    /// Where `org`'s member index disagrees with its memberships (empty: it agrees).
    pub async fn index_drift(&self, org: &str) -> Vec<String> {
        let org_id = roster::domain::OrgId::parse(org).expect("an org id");
        roster::store::member_index::index_drift(&org_id, &self.partition(org).await)
            .expect("decodable items")
    }
}
