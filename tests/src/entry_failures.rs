//! A proxy in front of an EventBridge endpoint (moto's server) that fails chosen entries of
//! `PutEvents` the way EventBridge reports a partial failure: the request answers 200 with
//! `FailedEntryCount` and, at each failed entry's place, an `ErrorCode` instead of an
//! `EventId`. Failed entries are not forwarded, so they are published only when retried.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Default)]
struct State {
    /// For each coming `PutEvents`, the entry indices to fail.
    plan: VecDeque<Vec<usize>>,
    /// The number of entries of every `PutEvents` that reached the proxy.
    seen: Vec<usize>,
}

pub struct EntryFailures {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

impl EntryFailures {
    /// Starts the proxy on a loopback port, on the current runtime, in front of `upstream`.
    pub async fn start(upstream: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(Mutex::new(State::default()));
        let (serving, upstream) = (Arc::clone(&state), Arc::<str>::from(upstream.trim_end_matches('/')));
        let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (state, client, upstream) = (Arc::clone(&serving), client.clone(), Arc::clone(&upstream));
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        forward(Arc::clone(&state), client.clone(), Arc::clone(&upstream), request)
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Self { endpoint, state }
    }

    /// The next `PutEvents` fails the entries at `indices`.
    pub fn fail_next(&self, indices: &[usize]) {
        self.state.lock().expect("state").plan.push_back(indices.to_vec());
    }

    /// The number of entries of each `PutEvents` so far.
    pub fn seen(&self) -> Vec<usize> {
        self.state.lock().expect("state").seen.clone()
    }
}

async fn forward(
    state: Arc<Mutex<State>>,
    client: Client<HttpConnector, Full<Bytes>>,
    upstream: Arc<str>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, BoxError> {
    let (mut parts, body) = request.into_parts();
    let mut body = body.collect().await?.to_bytes();
    let put_events = parts.headers.get("x-amz-target").is_some_and(|t| t == "AWSEvents.PutEvents");
    let mut failing = Vec::new();
    if put_events {
        let mut request: Value = serde_json::from_slice(&body)?;
        let entries = request["Entries"].as_array().cloned().unwrap_or_default();
        let mut state = state.lock().expect("state");
        state.seen.push(entries.len());
        failing = state.plan.pop_front().unwrap_or_default();
        failing.retain(|&i| i < entries.len());
        let kept: Vec<Value> =
            entries.into_iter().enumerate().filter(|(i, _)| !failing.contains(i)).map(|(_, e)| e).collect();
        request["Entries"] = json!(kept);
        body = Bytes::from(request.to_string());
        parts.headers.remove("content-length");
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = format!("{upstream}{path}").parse::<Uri>()?;
    let response = client.request(Request::from_parts(parts, Full::new(body))).await?;
    let (mut parts, body) = response.into_parts();
    let mut body = body.collect().await?.to_bytes();
    if put_events && !failing.is_empty() {
        let mut answer: Value = serde_json::from_slice(&body)?;
        let mut entries = answer["Entries"].as_array().cloned().unwrap_or_default();
        for &i in &failing {
            let failed = json!({ "ErrorCode": "InternalFailure", "ErrorMessage": "Internal service error." });
            entries.insert(i.min(entries.len()), failed);
        }
        let count = entries.iter().filter(|e| e.get("ErrorCode").is_some()).count();
        answer["Entries"] = json!(entries);
        answer["FailedEntryCount"] = json!(count);
        body = Bytes::from(answer.to_string());
        parts.headers.remove("content-length");
    }
    parts.headers.remove(hyper::header::TRANSFER_ENCODING);
    Ok(Response::from_parts(parts, Full::new(body)))
}
