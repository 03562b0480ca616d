//! # A host product's side of Roster
//!
//! A guide in code for a product team whose backend serves its own resources (here:
//! projects, each in one workspace of one organization) and leaves "who belongs where, with
//! which role" to Roster. It shows the three things such a backend does:
//!
//! 1. **Gets a service token** ([`TokenSource`]): [`ClientCredentials`] runs the OAuth2
//!    client-credentials grant against a token endpoint (Cognito's
//!    `https://<domain>/oauth2/token`: `POST` form `grant_type=client_credentials&scope=...`,
//!    HTTP Basic with the app client's id and secret) and keeps the access token until
//!    shortly before its `expires_in`; one request fetches while the others wait. Locally,
//!    [`DevToken`] mints the local gateway's dev service token instead (what
//!    `make token CLIENT=dev-backend SCOPE=roster/authorize` prints).
//! 2. **Asks before serving** ([`Host::get_project`]): before answering
//!    `GET /projects/{id}`, it asks Roster's `POST /authorize` whether the caller holds
//!    `projects:read` in the project's workspace, and answers `403` unless Roster says
//!    `allowed`. When Roster cannot be asked (network, token endpoint, a non-200 answer), it
//!    also refuses: it fails closed. It caches no decision: Roster answers from strongly
//!    consistent reads, so the request right after a removal's `2xx` is refused.
//! 3. **Reacts to events** ([`Host::on_event`]): `member.removed`, `member.left` and
//!    `member.suspended` from Roster's EventBridge bus drop what the host keeps for that user
//!    in that organization (here an in-memory map of sessions; in a product: sessions,
//!    websockets, caches, queued work); `org.deleted` drops the whole organization's.
//!
//! ## What to copy, what to replace
//!
//! - Copy [`TokenSource`], [`ClientCredentials`], [`Roster`], [`Check`], [`Decision`] and
//!   the shape of [`Host::get_project`] and [`Host::on_event`]. They need `hyper`,
//!   `hyper-util` (client-legacy), `http-body-util`, `bytes`, `base64`, `form_urlencoded`,
//!   `serde`, `serde_json` and `tokio`.
//! - Replace [`Http::plain`] with an HTTPS client: the deployed token endpoint and API are
//!   `https://`. [`Http::with_connector`] takes any hyper-util connector, e.g.
//!   `hyper_rustls::HttpsConnectorBuilder::new().with_native_roots()?.https_only()
//!   .enable_http1().build()` (or put your own HTTP client behind the same two calls).
//! - Replace [`DevToken`] by [`ClientCredentials`] outside the local stack: token URL
//!   `https://<your Cognito domain>/oauth2/token`, the client id and secret of an app client
//!   with the client-credentials grant and the `roster/authorize` scope, whose id is in the
//!   stack's service clients (`ServiceClientIds`). Keep the secret in Secrets Manager or SSM,
//!   not in code.
//! - Replace the projects map and the sessions map with your own store; the user id comes
//!   from your own authentication (the `sub` of the user's Cognito token, checked by your API
//!   Gateway's JWT authorizer), never from a header or body field the client sets.
//! - Events: add a rule on Roster's bus (output `EventBusName`) with the pattern
//!   `{"source": ["roster"], "detail-type": ["member.removed", "member.left",
//!   "member.suspended", "org.deleted"]}` and a target of yours (an SQS queue you poll, a
//!   Lambda function); hand each event's JSON, as EventBridge delivers it, to
//!   [`Host::on_event`]. Events come at least once: the handling here is idempotent (dropping
//!   twice drops nothing more); if yours is not, drop repeats by `detail.eventId`. A session
//!   is never the authority (every request asks Roster), so a late or repeated event costs at
//!   most a session rebuilt. Workspace-scoped state follows the same way
//!   (`workspace.member_removed`, `workspace.deleted`, `group.member_removed`; see
//!   `infra/events.schema.json` for each `detail`).
//! - Many checks at once (a list page): [`Roster::authorize`] takes up to 100 checks in one
//!   round trip, answered in order.
//!
//! `tests/tests/host_example.rs` runs all of it against the local gateway, and
//! `cargo run -p roster-tests --bin host-example` serves it next to `make run`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Why Roster (or the token endpoint) could not be asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// No answer: connection refused, a timeout, a bad URL.
    Unreachable(String),
    /// An answer with another status than expected, and its body.
    Status(u16, String),
    /// An answer that was not what the contract says.
    Malformed(String),
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable(why) => write!(f, "unreachable: {why}"),
            Self::Status(status, body) => write!(f, "status {status}: {body}"),
            Self::Malformed(why) => write!(f, "malformed answer: {why}"),
        }
    }
}

impl std::error::Error for HostError {}

// ---------------------------------------------------------------------------------------
// HTTP: one small POST over hyper-util's client.
// ---------------------------------------------------------------------------------------

/// A small HTTP client: `POST` with headers and a body, with a timeout.
#[derive(Clone)]
pub struct Http<C = HttpConnector> {
    client: Client<C, Full<Bytes>>,
    timeout: Duration,
}

impl Http<HttpConnector> {
    /// Plain HTTP: the local stack only. Deployed endpoints are HTTPS: see
    /// [`Http::with_connector`].
    pub fn plain() -> Self {
        Self::with_connector(HttpConnector::new())
    }
}

impl<C: Connect + Clone + Send + Sync + 'static> Http<C> {
    /// Over any hyper-util connector (an HTTPS one in production).
    pub fn with_connector(connector: C) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout: Duration::from_secs(3),
        }
    }

    /// How long a call may take, connection included (3 s unless set).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `POST url` with `headers` and `body`: the status and the body.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<(u16, Bytes), HostError> {
        let mut request = Request::post(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request =
            request.body(Full::new(Bytes::from(body))).map_err(|e| HostError::Unreachable(e.to_string()))?;
        let call = async {
            let response =
                self.client.request(request).await.map_err(|e| HostError::Unreachable(e.to_string()))?;
            let status = response.status().as_u16();
            let body =
                response.into_body().collect().await.map_err(|e| HostError::Unreachable(e.to_string()))?;
            Ok((status, body.to_bytes()))
        };
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| HostError::Unreachable(format!("{url}: no answer in {:?}", self.timeout)))?
    }
}

// ---------------------------------------------------------------------------------------
// 1. Service tokens.
// ---------------------------------------------------------------------------------------

/// Where the host's service token comes from.
pub trait TokenSource: Send + Sync {
    /// A bearer token valid for the next call.
    fn token(&self) -> impl Future<Output = Result<String, HostError>> + Send;

    /// The last token was refused (`401`): forget it, so that the next [`TokenSource::token`]
    /// gets a new one.
    fn forget(&self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// The OAuth2 client-credentials grant (Cognito's `/oauth2/token`), the token kept until
/// `refresh_before` ahead of its expiry.
pub struct ClientCredentials<C = HttpConnector> {
    http: Http<C>,
    token_url: String,
    client_id: String,
    client_secret: String,
    scope: String,
    refresh_before: Duration,
    /// Held while fetching, so that concurrent requests make one fetch.
    cached: tokio::sync::Mutex<Option<CachedToken>>,
}

struct CachedToken {
    token: String,
    refresh_at: Instant,
}

/// The token endpoint's answer (RFC 6749 section 5.1).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

impl<C: Connect + Clone + Send + Sync + 'static> ClientCredentials<C> {
    /// `scope` is space-separated, e.g. `roster/authorize`.
    pub fn new(http: Http<C>, token_url: &str, client_id: &str, client_secret: &str, scope: &str) -> Self {
        Self {
            http,
            token_url: token_url.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            scope: scope.to_owned(),
            refresh_before: Duration::from_secs(60),
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// How long before its expiry a token is replaced (60 s unless set). A token that lives
    /// no longer than this is used for one call only.
    pub fn refresh_before(mut self, margin: Duration) -> Self {
        self.refresh_before = margin;
        self
    }

    async fn fetch(&self) -> Result<CachedToken, HostError> {
        // RFC 6749 section 2.3.1: id and secret form-encoded, then HTTP Basic.
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            encode(&self.client_id),
            encode(&self.client_secret)
        ));
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("scope", &self.scope)
            .finish();
        let asked = Instant::now();
        let (status, body) = self
            .http
            .post(
                &self.token_url,
                &[
                    ("authorization", &format!("Basic {basic}")),
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("accept", "application/json"),
                ],
                form.into_bytes(),
            )
            .await?;
        if status != 200 {
            return Err(HostError::Status(status, String::from_utf8_lossy(&body).into_owned()));
        }
        let answer: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| HostError::Malformed(format!("token endpoint: {e}")))?;
        // Counted from when it was asked for: the token may be older than its arrival.
        let lives = Duration::from_secs(answer.expires_in);
        Ok(CachedToken {
            token: answer.access_token,
            refresh_at: asked + lives.saturating_sub(self.refresh_before),
        })
    }
}

impl<C: Connect + Clone + Send + Sync + 'static> TokenSource for ClientCredentials<C> {
    async fn token(&self) -> Result<String, HostError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.refresh_at
        {
            return Ok(c.token.clone());
        }
        let fresh = self.fetch().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    async fn forget(&self) {
        *self.cached.lock().await = None;
    }
}

/// Local only: the local gateway's dev service token (HS256 with the dev secret), minted per
/// call: `sub` = `client_id` = a client id the local stack lists as a service.
pub struct DevToken {
    pub secret: String,
    pub client_id: String,
    pub scope: String,
}

impl DevToken {
    /// As `make run` expects: the default dev secret (or `ROSTER_DEV_JWT_SECRET`).
    pub fn local(client_id: &str, scope: &str) -> Self {
        Self { secret: crate::token::secret(), client_id: client_id.to_owned(), scope: scope.to_owned() }
    }
}

impl TokenSource for DevToken {
    async fn token(&self) -> Result<String, HostError> {
        Ok(crate::token::mint_service(&self.secret, &self.client_id, &self.scope, 300))
    }
}

// ---------------------------------------------------------------------------------------
// 2. Asking Roster.
// ---------------------------------------------------------------------------------------

/// One question: may `user_id` do `permission` in `org_id` (and `workspace_id`)?
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub user_id: String,
    pub org_id: String,
    pub permission: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
}

/// Roster's answer to one [`Check`]: `reason` is `granted`, `no_org`, `not_member`,
/// `suspended`, `no_workspace`, `not_in_workspace`, `no_permission` or
/// `unknown_permission`; `role` the role that decided, if any.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
    pub role: Option<String>,
}

/// Roster's API as a service calls it.
pub struct Roster<T, C = HttpConnector> {
    base_url: String,
    tokens: T,
    http: Http<C>,
}

impl<T: TokenSource, C: Connect + Clone + Send + Sync + 'static> Roster<T, C> {
    /// `base_url`: the API's URL (the stack's `ApiUrl` output; locally `http://127.0.0.1:3000`).
    pub fn new(base_url: &str, tokens: T, http: Http<C>) -> Self {
        Self { base_url: base_url.trim_end_matches('/').to_owned(), tokens, http }
    }

    /// `POST /authorize`: 1 to 100 checks, answered in order. A refused token (`401`) is
    /// replaced once.
    pub async fn authorize(&self, checks: &[Check]) -> Result<Vec<Decision>, HostError> {
        let body = serde_json::to_vec(&json!({ "checks": checks })).expect("checks serialize");
        let url = format!("{}/authorize", self.base_url);
        let mut retried = false;
        loop {
            let token = self.tokens.token().await?;
            let (status, answer) = self
                .http
                .post(
                    &url,
                    &[("authorization", &format!("Bearer {token}")), ("content-type", "application/json")],
                    body.clone(),
                )
                .await?;
            match status {
                200 => {}
                401 if !retried => {
                    self.tokens.forget().await;
                    retried = true;
                    continue;
                }
                _ => return Err(HostError::Status(status, String::from_utf8_lossy(&answer).into_owned())),
            }
            #[derive(Deserialize)]
            struct Answer {
                results: Vec<Decision>,
            }
            let Answer { results } = serde_json::from_slice(&answer)
                .map_err(|e| HostError::Malformed(format!("POST /authorize: {e}")))?;
            if results.len() != checks.len() {
                return Err(HostError::Malformed(format!(
                    "{} answers to {} checks",
                    results.len(),
                    checks.len()
                )));
            }
            return Ok(results);
        }
    }

    /// One check.
    pub async fn check(&self, check: Check) -> Result<Decision, HostError> {
        Ok(self.authorize(std::slice::from_ref(&check)).await?.remove(0))
    }
}

// ---------------------------------------------------------------------------------------
// The host product: its projects, its sessions, its one route and its event handler.
// ---------------------------------------------------------------------------------------

/// A resource of the host product, scoped by a Roster workspace.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: String,
    pub name: String,
    pub org_id: String,
    pub workspace_id: String,
}

/// What the host keeps for a user in an organization, and must drop when they leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub requests: u64,
    pub last_project: String,
}

/// A reply of the host's HTTP API.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// What an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// The sessions of `user_id` (or of everyone, `None`) in `org_id` were dropped: `dropped`
    /// of them (0 when there were none, e.g. a repeat).
    Dropped { org_id: String, user_id: Option<String>, dropped: usize },
    /// Not an event this host acts on.
    Ignored,
}

/// The permission `GET /projects/{id}` needs (in the deployment's catalog,
/// `infra/permissions.json`, with scope `workspace`).
pub const READ_PROJECTS: &str = "projects:read";
/// The permission `PUT /projects/{id}` needs (scope `workspace`).
pub const WRITE_PROJECTS: &str = "projects:write";

pub struct Host<T, C = HttpConnector> {
    pub roster: Roster<T, C>,
    projects: Mutex<HashMap<String, Project>>,
    /// Keyed by (organization, user).
    sessions: Mutex<HashMap<(String, String), Session>>,
}

impl<T: TokenSource, C: Connect + Clone + Send + Sync + 'static> Host<T, C> {
    pub fn new(roster: Roster<T, C>) -> Self {
        Self { roster, projects: Mutex::default(), sessions: Mutex::default() }
    }

    /// Stores a project (the host's own data; no authorization here, this is a sketch).
    pub fn add_project(&self, project: Project) {
        self.projects.lock().expect("projects").insert(project.id.clone(), project);
    }

    /// `PUT /projects/{id}` for `user_id`: stores `project` if they hold `projects:write` in
    /// its workspace (and, when it exists, in the workspace it is moved from).
    pub async fn put_project(&self, user_id: &str, project: Project) -> Reply {
        let existing = self.projects.lock().expect("projects").get(&project.id).cloned();
        let write = |p: &Project| Check {
            user_id: user_id.to_owned(),
            org_id: p.org_id.clone(),
            permission: WRITE_PROJECTS.to_owned(),
            workspace_id: Some(p.workspace_id.clone()),
        };
        let checks: Vec<Check> = std::iter::once(&project).chain(existing.as_ref()).map(write).collect();
        match self.roster.authorize(&checks).await {
            Ok(decisions) => match decisions.iter().find(|d| !d.allowed) {
                Some(refused) => problem(403, "forbidden", &refused.reason),
                None => {
                    self.add_project(project.clone());
                    Reply {
                        status: if existing.is_some() { 200 } else { 201 },
                        body: json!({ "project": project }),
                    }
                }
            },
            Err(e) => {
                eprintln!("host: POST /authorize failed, refusing: {e}");
                problem(403, "authorization_unavailable", "the permission could not be checked")
            }
        }
    }

    /// `GET /projects/{id}` for `user_id`, who the host's own authentication established.
    /// (A product that must not tell which project ids exist answers `404` for a refusal
    /// too.)
    pub async fn get_project(&self, user_id: &str, project_id: &str) -> Reply {
        let Some(project) = self.projects.lock().expect("projects").get(project_id).cloned() else {
            return problem(404, "not_found", "no such project");
        };
        let check = Check {
            user_id: user_id.to_owned(),
            org_id: project.org_id.clone(),
            permission: READ_PROJECTS.to_owned(),
            workspace_id: Some(project.workspace_id.clone()),
        };
        match self.roster.check(check).await {
            Ok(decision) if decision.allowed => {
                let mut sessions = self.sessions.lock().expect("sessions");
                let session = sessions
                    .entry((project.org_id.clone(), user_id.to_owned()))
                    .or_insert(Session { requests: 0, last_project: String::new() });
                session.requests += 1;
                session.last_project = project.id.clone();
                Reply { status: 200, body: json!({ "project": project, "role": decision.role }) }
            }
            Ok(decision) => problem(403, "forbidden", &decision.reason),
            // Fail closed: no answer is no permission.
            Err(e) => {
                eprintln!("host: POST /authorize failed, refusing: {e}");
                problem(403, "authorization_unavailable", "the permission could not be checked")
            }
        }
    }

    /// Applies one event as EventBridge delivers it (`source`, `detail-type`, `detail`), to a
    /// Lambda function or as an SQS message's body.
    pub fn on_event(&self, event: &Value) -> EventOutcome {
        if event["source"] != "roster" {
            return EventOutcome::Ignored;
        }
        let detail = &event["detail"];
        let Some(org_id) = detail["orgId"].as_str() else { return EventOutcome::Ignored };
        let user_id = match event["detail-type"].as_str() {
            // `target` is the member's user id.
            Some("member.removed" | "member.left" | "member.suspended") => match detail["target"].as_str() {
                Some(user) => Some(user),
                None => return EventOutcome::Ignored,
            },
            Some("org.deleted") => None,
            _ => return EventOutcome::Ignored,
        };
        let mut sessions = self.sessions.lock().expect("sessions");
        let before = sessions.len();
        sessions.retain(|(org, user), _| !(org == org_id && user_id.is_none_or(|u| u == user)));
        EventOutcome::Dropped {
            org_id: org_id.to_owned(),
            user_id: user_id.map(str::to_owned),
            dropped: before - sessions.len(),
        }
    }

    /// [`Host::on_event`] for an event's JSON text (an SQS message body).
    pub fn on_event_json(&self, text: &str) -> Result<EventOutcome, HostError> {
        let event: Value = serde_json::from_str(text).map_err(|e| HostError::Malformed(e.to_string()))?;
        Ok(self.on_event(&event))
    }

    /// The session the host keeps for `user_id` in `org_id`, if any.
    pub fn session(&self, org_id: &str, user_id: &str) -> Option<Session> {
        self.sessions.lock().expect("sessions").get(&(org_id.to_owned(), user_id.to_owned())).cloned()
    }
}

fn problem(status: u16, code: &str, detail: &str) -> Reply {
    Reply { status, body: json!({ "status": status, "code": code, "detail": detail }) }
}
