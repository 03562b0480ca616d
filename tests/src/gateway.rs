//! The local API Gateway: an HTTP server on loopback that plays the HTTP API and its JWT
//! authorizer, and hands each route to its function's handler as a v2 event.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use lambda_http::Body;
use roster::http::routes::{self, Function, RouteMatch};
use roster::{App, Error};
use tokio::net::TcpListener;

use crate::event::{self, EventInput};
use crate::token;

/// API Gateway's own payload limit; the functions enforce the product's 64 KiB.
const GATEWAY_MAX_BODY: usize = 10 * 1024 * 1024;

/// Calls `function`'s handler, as its Lambda binary would.
pub async fn invoke(
    app: &App,
    function: Function,
    request: lambda_http::Request,
) -> lambda_http::Response<Body> {
    use roster::handlers::*;
    match function {
        Function::CreateOrg => create_org::handle(app, request).await,
        Function::List => list::handle(app, request).await,
        Function::Invite => invite::handle(app, request).await,
        Function::Accept => accept::handle(app, request).await,
        Function::ChangeRole => change_role::handle(app, request).await,
        Function::Remove => remove::handle(app, request).await,
        Function::Workspaces => workspaces::handle(app, request).await,
        Function::Groups => groups::handle(app, request).await,
        Function::Roles => roles::handle(app, request).await,
        Function::Authorize => authorize::handle(&authorize::Authorizer::of(app), request).await,
        Function::Usage => usage::handle(app, request).await,
        Function::Accounts => accounts::handle(app, request).await,
        // Scheduled, stream-, queue- or event-fed or a Cognito trigger, never routed (see
        // `run_purges`, `run_sends`, `SES_EVENTS_PATH`, `PRE_SIGN_UP_PATH`,
        // `POST_CONFIRMATION_PATH` and `PRE_TOKEN_GENERATION_PATH`).
        Function::Purge
        | Function::Events
        | Function::PreSignUp
        | Function::PostConfirmation
        | Function::TokenClaims
        | Function::SendInvitations
        | Function::EmailEvents => Error::NotFound.to_response(),
    }
}

pub struct Gateway {
    pub app: App,
    pub secret: String,
    /// The built members web app (`web/dist`), served on every path that is not an API
    /// route; `None` serves the API alone.
    pub web: Option<WebApp>,
    /// With `ROSTER_LOCAL_TIME_TRAVEL=1`: the offset of the app's clock, moved forward by
    /// `POST /_local/clock`, so that browser tests reach an invitation's expiry without
    /// sleeping.
    pub clock_offset: Option<Arc<AtomicI64>>,
    /// With `ROSTER_OIDC_ISSUER`: the OpenID Connect issuer whose ID tokens are accepted
    /// besides the dev tokens, as the deployed JWT authorizer accepts the user pool's.
    pub oidc: Option<token::Issuer>,
    /// The invitation email queue that `run_sends` drains, as the queue's event source feeds
    /// the `send-invitations` function in AWS.
    pub email_queue: Option<crate::email_queue::LocalQueue>,
}

impl Gateway {
    /// Routes, authenticates and invokes one request.
    /// `POST path` with a JSON body, as Cognito or the local sign-in provider sends its
    /// trigger events: the status, the content type and the JSON answered.
    pub async fn post_json(&self, path: &str, body: &[u8]) -> (u16, String, serde_json::Value) {
        let headers = [("content-type".to_owned(), "application/json".to_owned())];
        let response = self.handle("POST", path, "", &headers, body).await;
        let content_type = response.headers()["content-type"].to_str().expect("a content type").to_owned();
        let lambda_http::Body::Text(text) = response.body() else { panic!("a text body") };
        let json = serde_json::from_str(text).expect("a JSON answer");
        (response.status().as_u16(), content_type, json)
    }

    pub async fn handle(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> lambda_http::Response<Body> {
        let (route, params) = match routes::find(method, path) {
            RouteMatch::Found(route, params) => (route, params),
            RouteMatch::WrongMethod => return Error::MethodNotAllowed.to_response(),
            RouteMatch::Unknown if path == DEV_TOKEN_PATH => return dev_token(&self.secret, method, body),
            RouteMatch::Unknown if path == PRE_SIGN_UP_PATH => {
                return cognito_trigger(method, body, |e| {
                    roster::handlers::pre_sign_up::handle(&self.app, e)
                })
                .await;
            }
            RouteMatch::Unknown if path == POST_CONFIRMATION_PATH => {
                return cognito_trigger(method, body, |e| {
                    roster::handlers::post_confirmation::handle(&self.app, e)
                })
                .await;
            }
            RouteMatch::Unknown if path == PRE_TOKEN_GENERATION_PATH => {
                return pre_token_generation(&self.app, method, body).await;
            }
            // SES's events, as the default bus's rule hands them to `email-events` in AWS: the
            // browser tests feed a bounce in SES's own JSON (a test feature, with the clock's).
            RouteMatch::Unknown
                if path == SES_EVENTS_PATH && method == "POST" && self.clock_offset.is_some() =>
            {
                let Ok(event) = serde_json::from_slice::<serde_json::Value>(body) else {
                    return Error::InvalidJson("an SES event".into()).to_response();
                };
                return match roster::handlers::email_events::handle(&self.app, event).await {
                    Ok(answer) => lambda_http::Response::builder()
                        .status(200)
                        .header("content-type", "application/json")
                        .body(Body::Text(answer.to_string()))
                        .expect("static response parts"),
                    Err(e) => e.to_response(),
                };
            }
            RouteMatch::Unknown if path == CLOCK_PATH && method == "POST" => {
                if let Some(offset) = &self.clock_offset {
                    return advance_clock(offset, body);
                }
                return Error::NotFound.to_response();
            }
            RouteMatch::Unknown => match (&self.web, method) {
                (Some(web), "GET" | "HEAD") => return web.serve(path),
                _ => return Error::NotFound.to_response(),
            },
        };
        // As API Gateway: a public route has no authorizer (any Authorization header is
        // ignored, and the event carries no claims); every other route needs a valid token,
        // else 401 with API Gateway's own body. A route with a scope (its
        // AuthorizationScopes) needs it in the token's scope claim, else 403, likewise.
        let claims = if route.public {
            None
        } else {
            let bearer = headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
                .and_then(|(_, value)| token::bearer(value));
            let Some(claims) = (match bearer {
                Some(t) => self.authorize(t).await,
                None => None,
            }) else {
                return gateway_message(401, "Unauthorized");
            };
            if let Some(scope) = route.scope
                && !token::grants_scope(&claims, scope)
            {
                return gateway_message(403, "Forbidden");
            }
            Some(claims)
        };
        let event = event::build(&EventInput {
            route,
            path,
            path_params: &params,
            query,
            headers,
            body,
            claims: claims.as_ref(),
        });
        invoke(&self.app, route.function, event::to_request(&event)).await
    }

    /// The authorizer: a dev token (HS256, the local secret) or, when an issuer is
    /// configured, one of its ID tokens (RS256, ES256).
    async fn authorize(&self, bearer: &str) -> Option<crate::event::Claims> {
        match token::algorithm(bearer)? {
            jsonwebtoken::Algorithm::HS256 => token::verify(&self.secret, bearer),
            _ => self.oidc.as_ref()?.verify(bearer).await,
        }
    }

    /// Plays the `purge` function's schedule: a purge run every `every`.
    pub async fn run_purges(self: Arc<Self>, every: std::time::Duration) {
        loop {
            tokio::time::sleep(every).await;
            match roster::handlers::purge::run(&self.app, || true).await {
                Ok(report) if report.items_deleted > 0 || report.orgs_done > 0 => eprintln!(
                    "purge: {} items deleted, {} deleted organizations gone",
                    report.items_deleted, report.orgs_done
                ),
                Ok(_) => {}
                Err(e) => eprintln!("purge: {}", e.code()),
            }
        }
    }

    /// Plays the invitation email queue's event source: the sender run over the queue every
    /// `every`, at `rate` emails per second.
    pub async fn run_sends(self: Arc<Self>, every: std::time::Duration, rate: f64) {
        let Some(queue) = self.email_queue.clone() else { return };
        let pace = roster::handlers::send_invitations::Pace::per_second(rate);
        loop {
            let drained = queue.drain(&self.app, &pace, 10).await;
            if drained.failed > 0 {
                eprintln!("send-invitations: {} of {} messages to retry", drained.failed, drained.handled);
            }
            if drained.handled == 0 {
                tokio::time::sleep(every).await;
            }
        }
    }

    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> std::io::Result<()> {
        loop {
            let (stream, _) = listener.accept().await?;
            let gateway = Arc::clone(&self);
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let gateway = Arc::clone(&gateway);
                    async move { Ok::<_, Infallible>(gateway.http(req).await) }
                });
                if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                    eprintln!("connection error: {e}");
                }
            });
        }
    }

    async fn http(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let started = std::time::Instant::now();
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, GATEWAY_MAX_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => return to_hyper(Error::PayloadTooLarge.to_response()),
        };
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let path = parts.uri.path();
        let query = parts.uri.query().unwrap_or("");
        let response = self.handle(parts.method.as_str(), path, query, &headers, &body).await;
        eprintln!(
            "{} {} -> {} ({:.1} ms)",
            parts.method,
            path,
            response.status().as_u16(),
            started.elapsed().as_secs_f64() * 1e3
        );
        to_hyper(response)
    }
}

/// An answer of API Gateway itself, not of a function: `{"message": ...}` as
/// `application/json` (its 401 for a missing or rejected token, its 403 for a missing
/// scope).
pub fn gateway_message(status: u16, message: &str) -> lambda_http::Response<Body> {
    lambda_http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(serde_json::json!({ "message": message }).to_string()))
        .expect("static response parts")
}

/// The local sign-in of the web app: a dev token for the claims the form gives. Only this
/// gateway serves it; the deployed API has no such route (identity comes from the
/// authorizer).
pub const DEV_TOKEN_PATH: &str = "/_local/dev-token";

fn dev_token(secret: &str, method: &str, body: &[u8]) -> lambda_http::Response<Body> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Form {
        sub: String,
        email: Option<String>,
        name: Option<String>,
        #[serde(default = "yes")]
        email_verified: bool,
    }
    fn yes() -> bool {
        true
    }
    if method != "POST" {
        return Error::MethodNotAllowed.to_response();
    }
    let form = match serde_json::from_slice::<Form>(body) {
        Ok(form) if !form.sub.trim().is_empty() => form,
        Ok(_) => return Error::invalid_request("sub is required").to_response(),
        Err(e) => return Error::invalid_request(e.to_string()).to_response(),
    };
    let blank_to_none = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let token = token::mint(
        secret,
        form.sub.trim(),
        blank_to_none(form.email).as_deref(),
        blank_to_none(form.name).as_deref(),
        form.email_verified,
        12 * 3600,
    );
    lambda_http::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(Body::Text(serde_json::json!({ "token": token }).to_string()))
        .expect("static response parts")
}

/// Plays Cognito invoking the `pre-sign-up` trigger (local only, for the local sign-in
/// provider): the body is the trigger's event exactly as Cognito sends it to Lambda, decided
/// by the same handler with this gateway's app and clock. `200` with the returned event when
/// admitted; `403` problem whose `detail` is the message Cognito would show when refused;
/// `400` problem for a body that is no such event.
pub const PRE_SIGN_UP_PATH: &str = "/_local/pre-sign-up";

/// A Cognito trigger's event, POSTed as Cognito sends it to Lambda, answered by `handle`:
/// `200` with the event it hands back, else its problem.
async fn cognito_trigger<F, Fut>(method: &str, body: &[u8], handle: F) -> lambda_http::Response<Body>
where
    F: FnOnce(serde_json::Value) -> Fut,
    Fut: std::future::Future<Output = Result<serde_json::Value, Error>>,
{
    if method != "POST" {
        return Error::MethodNotAllowed.to_response();
    }
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Error::InvalidJson("the body is not JSON".into()).to_response();
    };
    match handle(event).await {
        Ok(event) => lambda_http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::Text(event.to_string()))
            .expect("static response parts"),
        Err(refused) => refused.to_response(),
    }
}

/// Plays Cognito invoking the `post-confirmation` trigger (local only, for the local sign-in
/// provider, which calls it once a sign-up's address is confirmed): the body is the
/// trigger's event exactly as Cognito sends it to Lambda, handled by the same handler with
/// this gateway's app and clock. `200` with the event handed back; a problem when the
/// handler fails (Cognito would show the sign-up that error, and retry).
pub const POST_CONFIRMATION_PATH: &str = "/_local/post-confirmation";

/// Plays Cognito invoking the `token-claims` trigger (local only, for the local sign-in
/// provider, which calls it for every ID token it issues): the body is the
/// pre-token-generation event exactly as Cognito sends it to Lambda, answered by the same
/// handler with this gateway's app and clock. `200` with the returned event (`roster_orgs`
/// added to its response, or unchanged when the handler fails open); `400` problem for a
/// body that is not JSON.
pub const PRE_TOKEN_GENERATION_PATH: &str = "/_local/pre-token-generation";

async fn pre_token_generation(app: &App, method: &str, body: &[u8]) -> lambda_http::Response<Body> {
    if method != "POST" {
        return Error::MethodNotAllowed.to_response();
    }
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Error::InvalidJson("the body is not JSON".into()).to_response();
    };
    match roster::handlers::token_claims::handle(app, event).await {
        Ok(event) => lambda_http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::Text(event.to_string()))
            .expect("static response parts"),
        Err(e) => e.to_response(),
    }
}

pub const CLOCK_PATH: &str = "/_local/clock";
pub const SES_EVENTS_PATH: &str = "/_local/ses-events";

fn advance_clock(offset: &AtomicI64, body: &[u8]) -> lambda_http::Response<Body> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Advance {
        advance_seconds: u32,
    }
    let Ok(advance) = serde_json::from_slice::<Advance>(body) else {
        return Error::invalid_request("expected {\"advanceSeconds\": N}").to_response();
    };
    let total = offset.fetch_add(i64::from(advance.advance_seconds) * 1000, Ordering::SeqCst)
        + i64::from(advance.advance_seconds) * 1000;
    lambda_http::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::Text(serde_json::json!({ "offsetSeconds": total / 1000 }).to_string()))
        .expect("static response parts")
}

/// The built web app's files. A path without a file extension is one of the app's own
/// pages (`/invite`, `/o/...`) and gets `index.html`, as the deployed distribution's
/// fallback does.
pub struct WebApp {
    pub dir: std::path::PathBuf,
    /// `ROSTER_WEB_CONFIG`: the file served as `/config.json`, the app's runtime settings
    /// (how it signs in). `None`: the built app's own `config.json` if it has one, else `404`
    /// (the app then uses the local dev sign-in).
    pub config: Option<std::path::PathBuf>,
}

impl WebApp {
    fn config_file(&self) -> std::path::PathBuf {
        self.config.clone().unwrap_or_else(|| self.dir.join("config.json"))
    }

    /// The app's pages talk to their own origin (the API shares it) and, when it signs in
    /// with an OpenID Connect provider, to the origin of that provider's token endpoint
    /// (the code exchange is a `fetch`): nothing else.
    fn content_security_policy(&self) -> String {
        let token_endpoint = std::fs::read(self.config_file())
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|config| config["signIn"]["tokenEndpoint"].as_str().and_then(origin));
        let connect = token_endpoint.map(|o| format!(" {o}")).unwrap_or_default();
        format!(
            "default-src 'self'; connect-src 'self'{connect}; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
        )
    }

    fn serve(&self, path: &str) -> lambda_http::Response<Body> {
        let relative = path.trim_start_matches('/');
        let safe = relative.split('/').all(|part| !part.is_empty() && part != ".." && !part.starts_with('.'));
        // The build's files sit at the root; every other path is a page of the app (user ids
        // may hold dots), as the deployed distribution's AppPaths function decides.
        let is_asset = !relative.contains('/') && relative.contains('.');
        let file = match (safe && is_asset, is_asset) {
            (true, _) => relative,
            (false, true) => return Error::NotFound.to_response(),
            (false, false) => "index.html",
        };
        let full = if file == "config.json" { self.config_file() } else { self.dir.join(file) };
        let Ok(bytes) = std::fs::read(full) else {
            return Error::NotFound.to_response();
        };
        let content_type = match file.rsplit('.').next() {
            Some("html") => "text/html; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("json") => "application/json",
            Some("png") => "image/png",
            Some("svg") => "image/svg+xml",
            _ => "application/octet-stream",
        };
        lambda_http::Response::builder()
            .status(200)
            .header("content-type", content_type)
            .header("content-security-policy", self.content_security_policy())
            .header("x-content-type-options", "nosniff")
            .header("referrer-policy", "no-referrer")
            .header("cache-control", "no-cache")
            .body(Body::Binary(bytes))
            .expect("static response parts")
    }
}

/// The origin (`scheme://host[:port]`) of an http(s) URL, in a form safe in a CSP source.
fn origin(url: &str) -> Option<String> {
    let uri: hyper::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let host = uri.host()?.to_ascii_lowercase();
    let plain_host =
        !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || "-.[]:".contains(c));
    if !matches!(scheme.as_str(), "http" | "https") || !plain_host {
        return None;
    }
    Some(match uri.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

fn to_hyper(response: lambda_http::Response<Body>) -> Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(t) => Bytes::from(t),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    Response::from_parts(parts, Full::new(bytes))
}

pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

#[cfg(test)]
mod csp_tests {
    #[test]
    fn origins_of_token_endpoints() {
        use super::origin;
        assert_eq!(
            origin("https://auth.example.com/oauth2/token").as_deref(),
            Some("https://auth.example.com")
        );
        assert_eq!(origin("http://127.0.0.1:13120/token").as_deref(), Some("http://127.0.0.1:13120"));
        assert_eq!(
            origin("HTTPS://Auth.Example.com:8443/t?x=1").as_deref(),
            Some("https://auth.example.com:8443")
        );
        assert_eq!(
            origin("https://user@auth.example.com/token").as_deref(),
            Some("https://auth.example.com")
        );
        for bad in
            ["javascript:alert(1)", "/token", "", "ftp://example.com/x", "https://a.example.com;script-src *"]
        {
            assert_eq!(origin(bad), None, "{bad}");
        }
    }
}
