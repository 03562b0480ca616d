//! Sending-rate emulation: an HTTP proxy in front of the SES v2 emulator (`aws-ses-v2-local`).
//!
//! The emulator accepts every `SendEmail` at once and answers `GetAccount` with 400 (unless
//! it is given an account). SES does neither: an account has a maximum sending rate
//! (`SendQuota.MaxSendRate`, emails per second), `GetAccount` reports it, and a `SendEmail`
//! over it is refused with `TooManyRequestsException` (SES v2 API reference, SendEmail,
//! "Errors": HTTP 429; developer guide, "Errors related to the sending quotas": the message
//! is "Maximum sending rate exceeded"). The proxy adds that, and records what it let through,
//! so a test can assert that a sender keeps to the rate and loses no email.
//!
//! On the wire a refusal is what the SES v2 (restJson1) front end sends:
//!
//! ```text
//! HTTP/1.1 429 Too Many Requests
//! content-type: application/json
//! x-amzn-ErrorType: TooManyRequestsException
//! x-amzn-RequestId: <uuid>
//!
//! {"message":"Maximum sending rate exceeded."}
//! ```
//!
//! aws-sdk-sesv2 takes the error code from `x-amzn-ErrorType` (before any `:`), else from the
//! body's `code` or `__type`, and the message from `message`; so `send_email()` fails with
//! `SendEmailError::TooManyRequestsException` whose `message()` is the text above. Note that
//! the SDK's standard retry policy counts `TooManyRequestsException` as a throttling error and
//! retries it (3 attempts in all, with backoff) before the caller sees it.
//!
//! A proxy rather than an SDK interceptor for the reason given in [`crate::conflicts`]: it sees
//! every client of the process (the code under test builds its own), and its answers go
//! through the SDK's own deserializers. Only `POST /v2/email/outbound-emails` (SendEmail) and
//! `GET /v2/email/account` (GetAccount) are looked at; everything else (the emulator's
//! `/store`, templates, bulk sends) is forwarded and answered byte for byte.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode, Uri};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::proxy::{BoxError, Upstream};

/// SendEmail in the SES v2 REST API.
pub const SEND_EMAIL_PATH: &str = "/v2/email/outbound-emails";
/// GetAccount in the SES v2 REST API.
pub const GET_ACCOUNT_PATH: &str = "/v2/email/account";
/// The message SES gives with a rate refusal.
pub const RATE_EXCEEDED: &str = "Maximum sending rate exceeded.";
/// The message AWS's common errors give with `InternalFailure`.
const INTERNAL_FAILURE: &str =
    "The request processing has failed because of an unknown error, exception or failure.";
/// `Max24HourSend` in an emulated GetAccount: a production account's usual starting quota.
const MAX_24_HOUR_SEND: f64 = 50_000.0;

/// What the proxy did with SendEmail requests, since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SesStats {
    /// Forwarded and answered 2xx by the emulator: sent.
    pub accepted: u64,
    /// Answered `TooManyRequestsException` (over the rate, or in a [`SesProxy::throttle_for`]
    /// window); never forwarded, so never sent.
    pub throttled: u64,
    /// Answered 500 `InternalFailure` by [`SesProxy::fail_next`]; never forwarded.
    pub failed: u64,
    /// Forwarded but answered with an error by the emulator (e.g. a malformed request).
    pub upstream_errors: u64,
}

impl SesStats {
    /// SendEmail requests the proxy refused itself (throttled or failed): none of them sent.
    pub fn refused(&self) -> u64 {
        self.throttled + self.failed
    }
}

/// A running proxy. Like [`crate::conflicts::ConflictProxy`] it runs on its own thread and
/// current-thread runtime rather than a task of the caller's runtime, so one proxy can outlive
/// the runtime of any one `#[tokio::test]` (e.g. in a `OnceLock`) and can be started from
/// synchronous code; dropping it stops it.
pub struct SesProxy {
    addr: SocketAddr,
    shared: Arc<Mutex<State>>,
    stop: Option<oneshot::Sender<()>>,
}

impl SesProxy {
    /// Starts a proxy on an ephemeral loopback port in front of `upstream` (`http://host:port`,
    /// in tests `AWS_ENDPOINT_URL_SESV2`). No rate limit until [`Self::set_rate`].
    ///
    /// # Panics
    /// When no loopback port or thread can be had: a test cannot go on without it.
    pub fn start(upstream: &str) -> SesProxy {
        let shared = Arc::new(Mutex::new(State::default()));
        let started = crate::proxy::start("ses-proxy", upstream, Arc::clone(&shared), handle)
            .expect("a loopback port and a thread for the SES proxy");
        Self { addr: started.addr, shared, stop: Some(started.stop) }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to give the SDK as its endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The account's maximum sending rate in emails per second, or `None` for no limit. A
    /// token bucket: it holds up to the rate rounded up (at least 1) and refills at the rate,
    /// so a sender may burst that many at once and then keeps to the rate on average. It
    /// starts full whenever the rate is set. In any span of `t` seconds it admits at most
    /// `burst + rate * t` emails; [`Self::max_in_window`] measures what a sender did.
    pub fn set_rate(&self, per_second: Option<f64>) {
        let mut state = self.state();
        state.bucket = per_second.map(|rate| Bucket::new(rate, Instant::now()));
    }

    /// Every SendEmail is answered `TooManyRequestsException` from now until `duration` has
    /// passed (as when an account is over its rate for a while, whatever the sender does).
    pub fn throttle_for(&self, duration: Duration) {
        self.state().throttled_until = Some(Instant::now() + duration);
    }

    /// The next `n` SendEmail requests are answered 500 `InternalFailure` (a transient failure
    /// the SDK retries), without being forwarded.
    pub fn fail_next(&self, n: u32) {
        self.state().fail_next = n;
    }

    /// With `Some(rate)`, GetAccount is answered by the proxy as SES answers it for a
    /// production account whose `SendQuota.MaxSendRate` is `rate`; with `None` (the default)
    /// it is forwarded, and the emulator answers 400 unless it was given an account.
    /// Independent of [`Self::set_rate`], so a test can make the reported rate and the
    /// enforced one differ.
    pub fn set_account_rate(&self, per_second: Option<f64>) {
        self.state().account_rate = per_second;
    }

    /// When each accepted SendEmail was admitted (before it was forwarded), in order.
    pub fn accepted_at(&self) -> Vec<Instant> {
        let mut at = self.state().accepted_at.clone();
        at.sort();
        at
    }

    /// The SendEmail counts.
    pub fn stats(&self) -> SesStats {
        self.state().stats
    }

    /// SendEmail requests refused by the proxy (throttled or failed).
    pub fn refused(&self) -> u64 {
        self.stats().refused()
    }

    /// The most accepted SendEmail requests admitted within any span of `window`, e.g. to
    /// assert that a sender never sent more than R in any second.
    pub fn max_in_window(&self, window: Duration) -> usize {
        max_in_window(&self.accepted_at(), window)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.lock().expect("SES proxy state")
    }
}

impl Drop for SesProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The most instants of `sorted` within any span of `window` (both ends included).
pub fn max_in_window(sorted: &[Instant], window: Duration) -> usize {
    let mut most = 0;
    let mut start = 0;
    for (end, at) in sorted.iter().enumerate() {
        while at.duration_since(sorted[start]) > window {
            start += 1;
        }
        most = most.max(end + 1 - start);
    }
    most
}

/// A token bucket holding up to `burst` emails, refilled at `rate` per second.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn new(rate: f64, now: Instant) -> Self {
        let rate = rate.max(0.0);
        let burst = rate.ceil().max(1.0);
        Self { rate, burst, tokens: burst, updated: now }
    }

    /// Takes one token if there is one at `now`.
    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.updated = now.max(self.updated);
        // A hair of slack so that float rounding never refuses a send made exactly on time.
        if self.tokens >= 1.0 - 1e-9 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[derive(Default)]
struct State {
    bucket: Option<Bucket>,
    throttled_until: Option<Instant>,
    fail_next: u32,
    account_rate: Option<f64>,
    accepted_at: Vec<Instant>,
    stats: SesStats,
}

/// What to do with a SendEmail.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Throttle,
    Fail,
    Forward(Instant),
}

impl State {
    /// Judges a SendEmail arriving at `now`: a throttle window first (SES refuses before
    /// anything else), then an injected failure (which takes no token: nothing was sent),
    /// then the rate.
    fn judge(&mut self, now: Instant) -> Verdict {
        let verdict = if self.throttled_until.is_some_and(|until| now < until) {
            Verdict::Throttle
        } else if self.fail_next > 0 {
            self.fail_next -= 1;
            Verdict::Fail
        } else if self.bucket.as_mut().is_some_and(|bucket| !bucket.take(now)) {
            Verdict::Throttle
        } else {
            Verdict::Forward(now)
        };
        match verdict {
            Verdict::Throttle => self.stats.throttled += 1,
            Verdict::Fail => self.stats.failed += 1,
            Verdict::Forward(_) => {}
        }
        verdict
    }

    /// Emails accepted in the 24 hours before `now`, for `SentLast24Hours`.
    fn sent_last_24_hours(&self, now: Instant) -> usize {
        let day = Duration::from_secs(24 * 60 * 60);
        self.accepted_at.iter().filter(|at| now.saturating_duration_since(**at) < day).count()
    }
}

async fn handle(
    shared: Arc<Mutex<State>>,
    client: Upstream,
    upstream: Arc<str>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, BoxError> {
    let (mut parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let path = parts.uri.path().trim_end_matches('/');
    let send_email = parts.method == Method::POST && path == SEND_EMAIL_PATH;
    let get_account = parts.method == Method::GET && path == GET_ACCOUNT_PATH;
    let mut admitted = None;
    {
        let mut state = shared.lock().expect("SES proxy state");
        let now = Instant::now();
        if let (true, Some(rate)) = (get_account, state.account_rate) {
            return Ok(account(rate, state.sent_last_24_hours(now)));
        }
        if send_email {
            match state.judge(now) {
                Verdict::Throttle => {
                    return Ok(error(
                        StatusCode::TOO_MANY_REQUESTS,
                        "TooManyRequestsException",
                        RATE_EXCEEDED,
                    ));
                }
                Verdict::Fail => {
                    return Ok(error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", INTERNAL_FAILURE));
                }
                Verdict::Forward(at) => admitted = Some(at),
            }
        }
    }
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = format!("{upstream}{path_and_query}").parse::<Uri>()?;
    // An unreachable emulator fails the connection, as a direct client would see it.
    let response = client.request(Request::from_parts(parts, Full::new(body))).await?;
    let (mut parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    if let Some(at) = admitted {
        let mut state = shared.lock().expect("SES proxy state");
        if parts.status.is_success() {
            state.stats.accepted += 1;
            state.accepted_at.push(at);
        } else {
            state.stats.upstream_errors += 1;
        }
    }
    // The body is passed on whole, so hyper frames it with its length.
    parts.headers.remove(TRANSFER_ENCODING);
    Ok(Response::from_parts(parts, Full::new(body)))
}

/// An SES v2 (restJson1) error: the code in `x-amzn-ErrorType`, the message in the body.
fn error(status: StatusCode, code: &'static str, message: &str) -> Response<Full<Bytes>> {
    let mut response = json_response(json!({ "message": message }));
    *response.status_mut() = status;
    response.headers_mut().insert("x-amzn-ErrorType", HeaderValue::from_static(code));
    response
}

/// GetAccount's answer for a production account (SES v2 API reference, GetAccount, "Response
/// Syntax"); aws-sdk-sesv2 reads every field named here.
fn account(rate: f64, sent_last_24_hours: usize) -> Response<Full<Bytes>> {
    json_response(json!({
        "DedicatedIpAutoWarmupEnabled": false,
        "EnforcementStatus": "HEALTHY",
        "ProductionAccessEnabled": true,
        "SendingEnabled": true,
        "SendQuota": {
            "Max24HourSend": MAX_24_HOUR_SEND,
            "MaxSendRate": rate,
            "SentLast24Hours": sent_last_24_hours as f64,
        },
        "SuppressionAttributes": { "SuppressedReasons": ["BOUNCE", "COMPLAINT"] },
    }))
}

fn json_response(body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
}

/// An SES event as SES publishes it to EventBridge (`tests/fixtures/ses-events/<fixture>.json`),
/// about send `send` of invitation `id` of organization `org` (the tags Roster sets).
pub fn ses_event(fixture: &str, org: &str, id: &str, send: u64) -> Value {
    let path = format!("{}/fixtures/ses-events/{fixture}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut event: Value = serde_json::from_str(&text).expect("a fixture is JSON");
    let tags = &mut event["detail"]["mail"]["tags"];
    tags["roster-org"] = serde_json::json!([org]);
    tags["roster-invitation"] = serde_json::json!([id]);
    tags["roster-send"] = serde_json::json!([send.to_string()]);
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_bucket_bursts_to_the_rate_rounded_up_then_refills_at_the_rate() {
        let t0 = Instant::now();
        let mut bucket = Bucket::new(2.5, t0);
        assert_eq!((0..4).filter(|_| bucket.take(t0)).count(), 3, "burst is ceil(2.5)");
        assert!(!bucket.take(t0 + ms(399)), "0.4 s refills one token at 2.5/s");
        assert!(bucket.take(t0 + ms(400)));
        assert!(!bucket.take(t0 + ms(400)));
        let later = t0 + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| bucket.take(later)).count(), 3, "never more than the burst");
        let mut slow = Bucket::new(0.5, t0);
        assert!(slow.take(t0), "a rate under 1 still allows one");
        assert!(!slow.take(t0 + ms(1999)));
        assert!(slow.take(t0 + ms(2000)));
    }

    #[test]
    fn a_throttle_window_and_failures_come_before_the_rate() {
        let t0 = Instant::now();
        let mut state = State { bucket: Some(Bucket::new(1.0, t0)), ..State::default() };
        state.throttled_until = Some(t0 + ms(100));
        state.fail_next = 1;
        assert_eq!(state.judge(t0), Verdict::Throttle);
        assert_eq!(state.judge(t0 + ms(100)), Verdict::Fail);
        assert_eq!(state.judge(t0 + ms(100)), Verdict::Forward(t0 + ms(100)), "the failure took no token");
        assert_eq!(state.judge(t0 + ms(100)), Verdict::Throttle);
        assert_eq!(state.stats, SesStats { accepted: 0, throttled: 2, failed: 1, upstream_errors: 0 });
    }

    #[test]
    fn windows_count_both_ends() {
        let t0 = Instant::now();
        let at = [t0, t0 + ms(500), t0 + ms(1000), t0 + ms(1001), t0 + ms(3000)];
        assert_eq!(max_in_window(&at, Duration::from_secs(1)), 3);
        assert_eq!(max_in_window(&at, ms(1)), 2);
        assert_eq!(max_in_window(&[], Duration::from_secs(1)), 0);
    }
}
