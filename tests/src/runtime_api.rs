//! A minimal Lambda Runtime API on 127.0.0.1, to run the real function binaries as Lambda
//! runs them: each `next` poll gets the next queued event (or waits, as an idle function
//! does), and every poll, response and reported error is passed on as it arrives. The
//! cold-start benchmark and the log test (`tests/tests/trace_logs.rs`) use it.

use std::convert::Infallible;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::sync::{Mutex, mpsc};

/// What the function did.
#[derive(Debug)]
pub enum Seen {
    /// It asked for the next event.
    Poll,
    /// It answered an event (the body: for lambda_http, the API Gateway response).
    Response(Bytes),
    /// It reported an invocation error or an init error.
    Error(Bytes),
}

pub struct RuntimeApi {
    pub port: u16,
    events: mpsc::UnboundedSender<String>,
    seen: mpsc::UnboundedReceiver<(Seen, Instant)>,
}

type Events = Arc<Mutex<mpsc::UnboundedReceiver<String>>>;
type SeenTx = mpsc::UnboundedSender<(Seen, Instant)>;

impl RuntimeApi {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (events, queued) = mpsc::unbounded_channel::<String>();
        let queued: Events = Arc::new(Mutex::new(queued));
        let (seen_tx, seen) = mpsc::unbounded_channel();
        let ids = Arc::new(AtomicU64::new(0));
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (queued, seen_tx, ids) = (queued.clone(), seen_tx.clone(), ids.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let (queued, seen_tx, ids) = (queued.clone(), seen_tx.clone(), ids.clone());
                        async move { Ok::<_, Infallible>(serve(req, &queued, &seen_tx, &ids).await) }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Self { port, events, seen }
    }

    /// Queues `event` for the function's next poll.
    pub fn queue(&self, event: String) {
        self.events.send(event).expect("the runtime API is running");
    }

    /// The next poll, response or error, if one comes within `timeout`.
    pub async fn next_seen(&mut self, timeout: Duration) -> Option<(Seen, Instant)> {
        tokio::time::timeout(timeout, self.seen.recv()).await.ok().flatten()
    }

    /// Hands `event` to the function and waits for its answer: the response body as JSON, or
    /// the error it reported (or that none came within `timeout`).
    pub async fn invoke(&mut self, event: &Value, timeout: Duration) -> Result<Value, String> {
        self.queue(event.to_string());
        loop {
            match self.next_seen(timeout).await {
                None => return Err(format!("no answer within {timeout:?}")),
                Some((Seen::Poll, _)) => {}
                Some((Seen::Response(body), _)) => {
                    return serde_json::from_slice(&body).map_err(|e| format!("response is not JSON: {e}"));
                }
                Some((Seen::Error(body), _)) => return Err(String::from_utf8_lossy(&body).into_owned()),
            }
        }
    }
}

async fn serve(
    req: Request<hyper::body::Incoming>,
    queued: &Events,
    seen: &SeenTx,
    ids: &AtomicU64,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    if path.ends_with("/invocation/next") {
        let _ = seen.send((Seen::Poll, Instant::now()));
        // Held until an event is queued: the function is idle meanwhile, as in Lambda.
        let Some(event) = queued.lock().await.recv().await else {
            return std::future::pending().await;
        };
        let request_id = format!("local-request-{}", ids.fetch_add(1, Ordering::SeqCst));
        let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
        return Response::builder()
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", request_id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:000000000000:function:local",
            )
            .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0")
            .body(Full::new(Bytes::from(event)))
            .expect("response");
    }
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    if path.ends_with("/response") {
        let _ = seen.send((Seen::Response(body), Instant::now()));
    } else if path.ends_with("/error") {
        let _ = seen.send((Seen::Error(body), Instant::now()));
    }
    Response::builder().status(202).body(Full::new(Bytes::new())).expect("response")
}

/// Taken from this process's environment: credentials, region and the local endpoints.
const PASSED_THROUGH: [&str; 8] = [
    "PATH",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SESV2",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
];

/// `binary` with only what Lambda would set, pointed at the runtime API on `port`: this
/// shell's variables (SSL_CERT_DIR, RUST_LOG, say) would change what a function does. The
/// function's own settings (TABLE_NAME, ...) are the caller's to add.
pub fn function_command(binary: &Path, port: u16) -> Command {
    let function = binary.file_name().and_then(|n| n.to_str()).unwrap_or("function").to_owned();
    let passed = PASSED_THROUGH.iter().filter_map(|k| std::env::var_os(k).map(|v| (*k, v)));
    let mut command = Command::new(binary);
    command
        .env_clear()
        .envs(passed)
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", &function)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "local");
    command
}
