//! A TCP forwarder in front of a local server that a test can cut and restore: cut, every open
//! connection is dropped and new ones are closed as soon as they are accepted, so the client
//! meets a real network failure (reset connections, its own retries, then its timeouts), not
//! an error a test made up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Clone)]
pub struct Cut {
    addr: SocketAddr,
    down: Arc<AtomicBool>,
    /// Bumped at every cut: open connections end when it moves.
    cuts: watch::Sender<u64>,
}

impl Cut {
    /// Forwards to `upstream` (`http://host:port`) on a loopback port of its own.
    pub async fn start(upstream: &str) -> Self {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let down = Arc::new(AtomicBool::new(false));
        let (cuts, _) = watch::channel(0u64);
        let cut = Self { addr, down, cuts };
        let serving = cut.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if serving.down.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut_now = serving.cuts.subscribe();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
                    let mut client = client;
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_now.changed() => {}
                    }
                });
            }
        });
        cut
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every open connection and refuses new ones until [`Cut::restore`].
    pub fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

/// An interceptor that cuts `cut` once a response of `operation` has been read: the step
/// after it meets a network that is gone.
#[derive(Clone)]
pub struct CutAfter {
    pub operation: &'static str,
    pub cut: Cut,
}

impl std::fmt::Debug for CutAfter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CutAfter({})", self.operation)
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for CutAfter {
    fn name(&self) -> &'static str {
        "CutAfter"
    }

    fn read_after_deserialization(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let operation =
            cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>().map(|m| m.name());
        if operation == Some(self.operation) {
            self.cut.cut();
        }
        Ok(())
    }
}
