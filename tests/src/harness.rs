//! Test helpers: a fresh table per test in DynamoDB Local, callers with chosen claims, and
//! requests that go through the route table and a real v2 event, as in AWS.

use lambda_http::Body;
use roster::http::routes;
use roster::{App, Config};
use serde_json::Value;

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
}

impl TestResponse {
    /// The problem `code` of an error response.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

pub struct TestApp {
    pub app: App,
    pub dynamo: aws_sdk_dynamodb::Client,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A new, empty table and an app over it; `configure` adjusts the settings.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        assert!(
            std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some(),
            "AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests with `make test`, which starts DynamoDB Local"
        );
        let sdk = roster::app::load_sdk_config().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let table_name = format!("roster-test-{}", uuid::Uuid::new_v4().simple());
        table::ensure(&dynamo, &table_name).await.expect("creating a test table in DynamoDB Local");
        let mut config = Config {
            table_name,
            app_url: "https://app.example.test".into(),
            from_email: Some("Roster <roster@example.test>".into()),
            invite_ttl_hours: 72,
            max_members: None,
            one_org_per_user: false,
        };
        configure(&mut config);
        Self { app: App::new(config, &sdk), dynamo }
    }

    pub fn table(&self) -> &str {
        &self.app.config.table_name
    }

    /// A JSON request (or none) as `user` (or with no authorizer claims).
    pub async fn call(
        &self,
        user: Option<&User>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> TestResponse {
        let (headers, bytes) = match body {
            Some(json) => (
                vec![("content-type".to_owned(), "application/json".to_owned())],
                json.to_string().into_bytes(),
            ),
            None => (vec![], vec![]),
        };
        self.call_raw(user, method, path, &headers, &bytes).await
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
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let routes::RouteMatch::Found(route, params) = routes::find(method, path) else {
            panic!("no route for {method} {path}");
        };
        let claims = user.map(User::claims);
        let event = event::build(&EventInput {
            route,
            path,
            path_params: &params,
            query,
            headers,
            body,
            claims: claims.as_ref(),
        });
        let response = invoke(&self.app, route.function, event::to_request(&event)).await;
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone())),
            Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        TestResponse { status, content_type, body }
    }

    /// Creates an organization owned by `owner` and returns its id.
    pub async fn create_org(&self, owner: &User, name: &str) -> String {
        let response =
            self.call(Some(owner), "POST", "/orgs", Some(serde_json::json!({ "name": name }))).await;
        assert_eq!(response.status, 201, "create org: {:?}", response.body);
        response.body["org"]["id"].as_str().expect("org id").to_owned()
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
