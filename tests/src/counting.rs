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

/// What DynamoDB read for the requests of a client, summed: items (a Query's `ScannedCount`,
/// a GetItem's item, a BatchGetItem's and a TransactGetItems' responses) and, while [`ReadCounter::set_capacity`] is
/// on, the read capacity DynamoDB reports (`ReturnConsumedCapacity=TOTAL` is added to every
/// read; off, the requests go as the handler built them).
#[derive(Debug, Clone, Default)]
pub struct ReadCounter {
    state: Arc<Mutex<Reads>>,
    capacity: Arc<std::sync::atomic::AtomicBool>,
}

/// [`ReadCounter`]'s sums since the last take.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reads {
    /// Read requests answered (Query, GetItem, BatchGetItem, TransactGetItems).
    pub requests: usize,
    pub items: usize,
    /// `items` by operation (`"Query"`, `"GetItem"`...).
    pub items_by_operation: std::collections::BTreeMap<&'static str, usize>,
    /// Read capacity units reported (zero unless asked for, or not reported).
    pub capacity: f64,
    /// Whether any response carried `ConsumedCapacity`.
    pub capacity_reported: bool,
}

impl ReadCounter {
    /// Asks for (or stops asking for) consumed capacity on every read.
    pub fn set_capacity(&self, on: bool) {
        self.capacity.store(on, Ordering::SeqCst);
    }

    /// The sums since the last call.
    pub fn take(&self) -> Reads {
        std::mem::take(&mut *self.state.lock().expect("reads lock"))
    }
}

impl Intercept for ReadCounter {
    fn name(&self) -> &'static str {
        "ReadCounter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextMut<
            '_,
        >,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation::{
            batch_get_item::BatchGetItemInput, get_item::GetItemInput, query::QueryInput,
            transact_get_items::TransactGetItemsInput,
        };
        use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
        if !self.capacity.load(Ordering::SeqCst) {
            return Ok(());
        }
        let input = context.input_mut();
        let total = Some(ReturnConsumedCapacity::Total);
        if let Some(query) = input.downcast_mut::<QueryInput>() {
            query.return_consumed_capacity = total;
        } else if let Some(get) = input.downcast_mut::<GetItemInput>() {
            get.return_consumed_capacity = total;
        } else if let Some(batch) = input.downcast_mut::<BatchGetItemInput>() {
            batch.return_consumed_capacity = total;
        } else if let Some(transaction) = input.downcast_mut::<TransactGetItemsInput>() {
            transaction.return_consumed_capacity = total;
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation::{
            batch_get_item::BatchGetItemOutput, get_item::GetItemOutput, query::QueryOutput,
            transact_get_items::TransactGetItemsOutput,
        };
        let Ok(output) = context.output_or_error() else { return Ok(()) };
        let (operation, items, capacity) = if let Some(query) = output.downcast_ref::<QueryOutput>() {
            (
                "Query",
                usize::try_from(query.scanned_count).unwrap_or(0),
                query.consumed_capacity.as_ref().map(|c| vec![c.capacity_units.unwrap_or(0.0)]),
            )
        } else if let Some(get) = output.downcast_ref::<GetItemOutput>() {
            (
                "GetItem",
                usize::from(get.item.is_some()),
                get.consumed_capacity.as_ref().map(|c| vec![c.capacity_units.unwrap_or(0.0)]),
            )
        } else if let Some(batch) = output.downcast_ref::<BatchGetItemOutput>() {
            (
                "BatchGetItem",
                batch.responses.as_ref().map_or(0, |r| r.values().map(Vec::len).sum()),
                batch
                    .consumed_capacity
                    .as_ref()
                    .map(|all| all.iter().map(|c| c.capacity_units.unwrap_or(0.0)).collect()),
            )
        } else if let Some(transaction) = output.downcast_ref::<TransactGetItemsOutput>() {
            (
                "TransactGetItems",
                transaction.responses.as_ref().map_or(0, |r| r.iter().filter(|i| i.item.is_some()).count()),
                transaction
                    .consumed_capacity
                    .as_ref()
                    .map(|all| all.iter().map(|c| c.capacity_units.unwrap_or(0.0)).collect()),
            )
        } else {
            return Ok(());
        };
        let mut state = self.state.lock().expect("reads lock");
        state.requests += 1;
        state.items += items;
        *state.items_by_operation.entry(operation).or_default() += items;
        if let Some(units) = capacity {
            state.capacity_reported = true;
            state.capacity += units.iter().sum::<f64>();
        }
        Ok(())
    }
}
