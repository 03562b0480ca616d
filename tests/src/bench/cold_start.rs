//! Cold starts: each release binary started against a minimal local Lambda Runtime API.
//! Measured: exec to the first `next` poll (init), exec to the first response (init plus
//! one real invocation against DynamoDB Local), and peak RSS after that invocation.

use std::convert::Infallible;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;

use super::{ms, quantile};

pub struct ColdStart {
    pub function: String,
    pub runs: usize,
    pub first_poll: Duration,
    pub first_response: Duration,
    pub peak_rss_kib: u64,
}

enum Seen {
    Poll,
    Response,
}

/// Serves one invocation of `event`, then holds the next poll open.
async fn runtime_api(event: String) -> (u16, mpsc::UnboundedReceiver<(Seen, Instant)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut served = false;
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (tx, event) = (tx.clone(), event.clone());
            let first = !served;
            served = true;
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let (tx, event) = (tx.clone(), event.clone());
                    async move {
                        let path = req.uri().path().to_owned();
                        if path.ends_with("/invocation/next") {
                            let _ = tx.send((Seen::Poll, Instant::now()));
                            if !first {
                                // Park the second poll: the function is now idle, as in Lambda.
                                std::future::pending::<()>().await;
                            }
                            let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
                            return Ok::<_, Infallible>(
                                Response::builder()
                                    .header("content-type", "application/json")
                                    .header("lambda-runtime-aws-request-id", "bench-request")
                                    .header("lambda-runtime-deadline-ms", deadline.to_string())
                                    .header(
                                        "lambda-runtime-invoked-function-arn",
                                        "arn:aws:lambda:us-east-1:000000000000:function:bench",
                                    )
                                    .header(
                                        "lambda-runtime-trace-id",
                                        "Root=1-00000000-000000000000000000000000;Sampled=0",
                                    )
                                    .body(Full::new(Bytes::from(event)))
                                    .expect("response"),
                            );
                        }
                        let _ = req.into_body().collect().await;
                        if path.ends_with("/response") {
                            let _ = tx.send((Seen::Response, Instant::now()));
                        }
                        Ok(Response::builder().status(202).body(Full::new(Bytes::new())).expect("response"))
                    }
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    (port, rx)
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Taken from the bench's environment: credentials, region and the local endpoints.
const PASSED_THROUGH: [&str; 6] = [
    "PATH",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SESV2",
];

pub async fn measure(binary: &Path, event: &str, table: &str, runs: usize) -> ColdStart {
    let (mut polls, mut responses, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    let function = binary.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_owned();
    for _ in 0..runs {
        let (port, mut seen) = runtime_api(event.to_owned()).await;
        let started = Instant::now();
        // Only what Lambda would set: this shell's variables (SSL_CERT_DIR, say) change
        // what a function reads at start-up.
        let passed = PASSED_THROUGH.iter().filter_map(|k| std::env::var_os(k).map(|v| (*k, v)));
        let mut child = Command::new(binary)
            .env_clear()
            .envs(passed)
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", &function)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
            .env("TABLE_NAME", table)
            .env("ROSTER_FROM_EMAIL", "roster@example.test")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("function binary starts");
        let mut polled = None;
        while let Ok(Some((what, at))) = tokio::time::timeout(Duration::from_secs(10), seen.recv()).await {
            match what {
                Seen::Poll if polled.is_none() => polled = Some(at - started),
                Seen::Poll => {}
                Seen::Response => {
                    responses.push(at - started);
                    break;
                }
            }
        }
        // Give the runtime a moment to poll again, then read the high-water mark.
        tokio::time::sleep(Duration::from_millis(20)).await;
        rss.push(peak_rss_kib(child.id()));
        let _ = child.kill();
        let _ = child.wait();
        polls.push(polled.expect("the function polled for an invocation"));
    }
    rss.sort();
    ColdStart {
        function,
        runs,
        first_poll: quantile(&polls, 0.5),
        first_response: quantile(&responses, 0.5),
        peak_rss_kib: rss.get(rss.len() / 2).copied().unwrap_or(0),
    }
}

pub fn markdown(rows: &[ColdStart]) -> String {
    let mut out = String::from(
        "| Function | Starts | Exec → first poll, median ms | Exec → first response, median ms | Peak RSS, median MiB |\n|---|---|---|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {:.1} |\n",
            r.function,
            r.runs,
            ms(r.first_poll),
            ms(r.first_response),
            r.peak_rss_kib as f64 / 1024.0
        ));
    }
    out
}
