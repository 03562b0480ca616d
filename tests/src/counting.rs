//! Counts the requests the SDK clients send, per operation (retries included), and the time
//! they spend on the wire, so round trips per route are measured rather than guessed and a
//! handler's own overhead is its total time less the time spent waiting for AWS.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    calls: Arc<Mutex<Vec<String>>>,
    wire_nanos: Arc<AtomicU64>,
    /// The same, by service (`DynamoDB`, `SQS`...).
    service_nanos: Arc<Mutex<std::collections::BTreeMap<String, u64>>>,
}

#[derive(Debug, Clone)]
struct SentAt(Instant, String);

impl Storable for SentAt {
    type Storer = StoreReplace<Self>;
}

impl CallCounter {
    /// The operations sent since the last call (`"DynamoDB.GetItem"`, `"SESv2.SendEmail"`...).
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().expect("counter lock"))
    }

    /// Time from sending each request to having its response read and parsed, summed, since
    /// the last call.
    pub fn take_wire_time(&self) -> Duration {
        Duration::from_nanos(self.wire_nanos.swap(0, Ordering::SeqCst))
    }

    /// [`CallCounter::take_wire_time`] by service, since the last call.
    pub fn take_wire_time_by_service(&self) -> std::collections::BTreeMap<String, Duration> {
        std::mem::take(&mut *self.service_nanos.lock().expect("counter lock"))
            .into_iter()
            .map(|(service, nanos)| (service, Duration::from_nanos(nanos)))
            .collect()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg.load::<Metadata>().map_or_else(
            || ("unknown".to_owned(), "unknown".to_owned()),
            |m| (m.service().to_owned(), format!("{}.{}", m.service(), m.name())),
        );
        self.calls.lock().expect("counter lock").push(operation);
        cfg.interceptor_state().store_put(SentAt(Instant::now(), service));
        Ok(())
    }

    // Ends after the response body is read and parsed: DynamoDB Local streams the body after
    // the headers, so stopping at `read_after_transmit` would count a large page's download
    // as our overhead.
    fn read_after_deserialization(
        &self,
        _context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(SentAt(sent, service)) = cfg.load::<SentAt>() {
            let nanos = u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX);
            self.wire_nanos.fetch_add(nanos, Ordering::SeqCst);
            *self.service_nanos.lock().expect("counter lock").entry(service.clone()).or_default() += nanos;
        }
        Ok(())
    }
}
