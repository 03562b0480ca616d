//! A second function instance over a test app's table whose `nth` DynamoDB request of one
//! operation is held before it is sent: a request caught between its reads (or a first,
//! cancelled attempt) and its write, so that other requests can run in between. The attack
//! tests use it to replay a race exactly rather than hope for it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use roster::App;

use crate::harness::TestApp;

/// How long a held request waits to be let go, and a test waits for it to be held.
const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
struct HoldNth {
    op: &'static str,
    nth: usize,
    seen: Arc<AtomicUsize>,
    armed: Arc<AtomicBool>,
    reached: Arc<Mutex<mpsc::Sender<()>>>,
    release: Arc<Mutex<mpsc::Receiver<()>>>,
}

impl Intercept for HoldNth {
    fn name(&self) -> &'static str {
        "HoldNth"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg.load::<Metadata>().map(|m| m.name());
        if op == Some(self.op)
            && self.seen.fetch_add(1, Ordering::SeqCst) + 1 == self.nth
            && self.armed.swap(false, Ordering::SeqCst)
        {
            let _ = self.reached.lock().expect("the hold's lock").send(());
            // Blocks this worker thread only: the tests that hold run on a multi-threaded
            // runtime.
            let _ = self.release.lock().expect("the hold's lock").recv_timeout(PATIENCE);
        }
        Ok(())
    }
}

/// Another instance of `app` whose `nth` `op` request (1 = the first; `op` as the SDK names
/// it, e.g. `TransactWriteItems`, `BatchGetItem`) is held: the instance, a receiver told when
/// the request is held, and a sender that lets it go.
pub async fn held_instance(
    app: &TestApp,
    op: &'static str,
    nth: usize,
) -> (App, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (reached_tx, reached_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let hold = HoldNth {
        op,
        nth,
        seen: Arc::new(AtomicUsize::new(0)),
        armed: Arc::new(AtomicBool::new(true)),
        reached: Arc::new(Mutex::new(reached_tx)),
        release: Arc::new(Mutex::new(release_rx)),
    };
    let sdk = roster::sdk::load_config().await;
    let dynamo = crate::conflicts::through_shared_proxy(aws_sdk_dynamodb::config::Builder::from(&sdk))
        .interceptor(hold)
        .build();
    let held = App {
        store: roster::store::Store::new(aws_sdk_dynamodb::Client::from_conf(dynamo), app.table()),
        ..app.second_instance().await
    };
    (held, reached_rx, release_tx)
}

/// Waits (without blocking the runtime) until the held request is held.
pub async fn until_held(reached: mpsc::Receiver<()>) {
    tokio::task::spawn_blocking(move || reached.recv_timeout(PATIENCE))
        .await
        .expect("the waiting task")
        .expect("the held request reached its write");
}
