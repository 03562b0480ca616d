//! The loopback HTTP server that both emulation proxies run (`conflicts` in front of DynamoDB
//! Local, `ses_proxy` in front of the SES emulator): a thread of its own with a runtime of its
//! own (so that one proxy outlives any one test's runtime), accepting connections until
//! stopped, and handing each request, with the shared state and a client to the upstream, to
//! the proxy's own `handle`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::oneshot;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The client a proxy forwards with.
pub type Upstream = Client<HttpConnector, Full<Bytes>>;

/// A started proxy: where it listens, and the sender whose drop stops it.
pub struct Started {
    pub addr: SocketAddr,
    pub stop: oneshot::Sender<()>,
}

/// Starts a proxy named `name` on an ephemeral loopback port in front of `upstream`
/// (`http://host:port`), each request handed to `handle` with `shared`.
pub fn start<S, H, Fut>(name: &str, upstream: &str, shared: Arc<S>, handle: H) -> std::io::Result<Started>
where
    S: Send + Sync + 'static,
    H: Fn(Arc<S>, Upstream, Arc<str>, Request<Incoming>) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, BoxError>> + Send + 'static,
{
    let upstream: Arc<str> = upstream.trim_end_matches('/').into();
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel();
    std::thread::Builder::new().name(format!("{name}-{}", addr.port())).spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for a proxy");
        runtime.block_on(serve(listener, shared, upstream, stopped, handle));
    })?;
    Ok(Started { addr, stop })
}

async fn serve<S, H, Fut>(
    listener: std::net::TcpListener,
    shared: Arc<S>,
    upstream: Arc<str>,
    mut stopped: oneshot::Receiver<()>,
    handle: H,
) where
    S: Send + Sync + 'static,
    H: Fn(Arc<S>, Upstream, Arc<str>, Request<Incoming>) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, BoxError>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::from_std(listener).expect("a listener for a proxy");
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Upstream = Client::builder(TokioExecutor::new()).build(connector);
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let (shared, client, upstream) = (Arc::clone(&shared), client.clone(), Arc::clone(&upstream));
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                handle(Arc::clone(&shared), client.clone(), Arc::clone(&upstream), request)
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
