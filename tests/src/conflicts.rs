//! Transaction-conflict emulation: an HTTP proxy in front of DynamoDB Local.
//!
//! DynamoDB Local applies transactions one at a time and never cancels one for a conflict.
//! DynamoDB does (developer guide, "Transaction conflict handling"):
//!
//! - a `TransactWriteItems` whose item is part of another ongoing `TransactWriteItems` is
//!   cancelled: `TransactionCanceledException`, one `CancellationReasons` entry per item in
//!   request order, `TransactionConflict` for the items in conflict and `None` for the others;
//! - a `PutItem`, `UpdateItem` or `DeleteItem` on an item of an ongoing `TransactWriteItems`
//!   is rejected with `TransactionConflictException`;
//! - a `TransactGetItems` whose item is part of an ongoing write is cancelled as above;
//! - `GetItem`, `BatchGetItem`, `Query` and `Scan` never conflict.
//!
//! The proxy keeps the set of items (table, `PK`, `SK`) that forwarded writes are touching
//! until DynamoDB Local's response is complete, and answers a request that overlaps it with
//! DynamoDB's own JSON 1.0 error at once, without forwarding it. Everything else is forwarded
//! and answered byte for byte. A transaction is also cancelled when a single-item write is in
//! flight on one of its items (the rule; the guide names only the other direction, so
//! this is the stricter reading). Two single-item writes never conflict: DynamoDB serializes
//! them.
//!
//! A proxy rather than an SDK interceptor: it sees the requests of every client of the
//! process at once, and its answers go through the SDK's own deserializers, so the code under
//! test gets exactly the typed errors it gets in AWS. Not emulated: `BatchWriteItem` (passed
//! through, its items not marked); which of two simultaneous transactions wins (here the one
//! that reaches the proxy first; in AWS both may be cancelled); conflicts from AWS's own
//! internal retries; and the conditions of a cancelled transaction's other items (they get
//! `None`, as DynamoDB Local is never asked).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, TRANSFER_ENCODING};
use hyper::{Request, Response, StatusCode, Uri};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::proxy::{BoxError, Upstream};

/// Set to `off` (or `0`) to run every [`crate::harness::TestApp`] straight against DynamoDB
/// Local, e.g. to compare a run with and without conflicts.
pub const ENV: &str = "ROSTER_TEST_CONFLICTS";

const TARGET_PREFIX: &str = "DynamoDB_20120810.";
const ERROR_NAMESPACE: &str = "com.amazonaws.dynamodb.v20120810#";
const ONGOING: &str = "Transaction is ongoing for the item";

/// Extra time a forwarded write keeps its items in flight before it is sent on, e.g. to
/// mimic AWS's transaction latency or to make a race window deterministic in a test.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hold {
    pub transactions: Duration,
    pub single_writes: Duration,
    /// Each held write waits a random time from none to twice its hold instead: writes sent
    /// in one order commit in another, as AWS's varying latency makes them (a read-then-write
    /// that a condition does not guard loses to a write sent after it).
    pub jitter: bool,
}

/// What the proxy did, since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConflictStats {
    /// `TransactWriteItems` forwarded to DynamoDB Local (they may still fail there, e.g. on a
    /// condition).
    pub transactions: u64,
    /// `TransactWriteItems` cancelled with `TransactionConflict` by the proxy.
    pub transactions_cancelled: u64,
    /// `PutItem`, `UpdateItem` and `DeleteItem` forwarded.
    pub single_writes: u64,
    /// `PutItem`, `UpdateItem` and `DeleteItem` rejected with `TransactionConflictException`.
    pub single_writes_rejected: u64,
    /// `TransactGetItems` cancelled with `TransactionConflict`.
    pub read_transactions_cancelled: u64,
}

impl ConflictStats {
    /// Every `TransactWriteItems` sent, forwarded or cancelled.
    pub fn transaction_attempts(&self) -> u64 {
        self.transactions + self.transactions_cancelled
    }

    /// Requests refused for a conflict, of any kind.
    pub fn conflicts(&self) -> u64 {
        self.transactions_cancelled + self.single_writes_rejected + self.read_transactions_cancelled
    }
}

impl std::ops::Sub for ConflictStats {
    type Output = Self;

    /// The counts between two readings.
    fn sub(self, earlier: Self) -> Self {
        Self {
            transactions: self.transactions - earlier.transactions,
            transactions_cancelled: self.transactions_cancelled - earlier.transactions_cancelled,
            single_writes: self.single_writes - earlier.single_writes,
            single_writes_rejected: self.single_writes_rejected - earlier.single_writes_rejected,
            read_transactions_cancelled: self.read_transactions_cancelled
                - earlier.read_transactions_cancelled,
        }
    }
}

/// A running proxy. It runs on its own thread and runtime, so that it outlives the runtime
/// of any one `#[tokio::test]`; dropping it stops it.
pub struct ConflictProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
}

impl ConflictProxy {
    /// Starts a proxy on an ephemeral loopback port in front of `upstream`
    /// (`http://host:port`).
    pub fn start(upstream: &str, hold: Hold) -> std::io::Result<Self> {
        let shared = Arc::new(Shared { hold, state: Mutex::default() });
        let started = crate::proxy::start("dynamodb-conflicts", upstream, Arc::clone(&shared), handle)?;
        Ok(Self { addr: started.addr, shared, stop: Some(started.stop) })
    }

    /// The process's proxy in front of `AWS_ENDPOINT_URL_DYNAMODB`, started on first use;
    /// `None` when [`ENV`] turns emulation off.
    pub fn shared() -> Option<&'static Self> {
        static PROXY: OnceLock<Option<ConflictProxy>> = OnceLock::new();
        PROXY
            .get_or_init(|| {
                let off = std::env::var(ENV).is_ok_and(|v| matches!(v.as_str(), "off" | "0" | "false"));
                if off {
                    return None;
                }
                let upstream = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
                    .expect("AWS_ENDPOINT_URL_DYNAMODB is set (DynamoDB Local)");
                Some(Self::start(&upstream, Hold::default()).expect("starting the conflict proxy"))
            })
            .as_ref()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to give the SDK as its endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Counts over every table.
    pub fn stats(&self) -> ConflictStats {
        self.shared.state.lock().expect("proxy state").totals
    }

    /// Counts for requests whose first item is in `table` (each test app has its own table,
    /// so these are one test's figures even while other tests share the proxy).
    pub fn table_stats(&self, table: &str) -> ConflictStats {
        self.shared.state.lock().expect("proxy state").by_table.get(table).copied().unwrap_or_default()
    }
}

impl Drop for ConflictProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// `builder` pointed at the process's proxy, unless emulation is off.
pub fn through_shared_proxy(builder: aws_sdk_dynamodb::config::Builder) -> aws_sdk_dynamodb::config::Builder {
    match ConflictProxy::shared() {
        Some(proxy) => builder.endpoint_url(proxy.endpoint()),
        None => builder,
    }
}

/// One item: table name and the JSON of its `PK` and `SK` attribute values.
type ItemId = (String, String, String);

#[derive(Debug, PartialEq, Eq)]
enum Write {
    Transaction(Vec<ItemId>),
    Single(ItemId),
    TransactGet(Vec<ItemId>),
}

/// The items a request touches, or `None` for requests that never conflict and for those
/// the proxy cannot judge (malformed, or naming one item twice): DynamoDB Local answers those
/// with its own validation errors, as AWS would before looking for conflicts.
fn parse(target: &str, body: &[u8]) -> Option<Write> {
    let operation = target.strip_prefix(TARGET_PREFIX)?;
    if !matches!(
        operation,
        "TransactWriteItems" | "TransactGetItems" | "PutItem" | "UpdateItem" | "DeleteItem"
    ) {
        return None;
    }
    let body: Value = serde_json::from_slice(body).ok()?;
    match operation {
        "PutItem" => item_id(&body, "Item").map(Write::Single),
        "UpdateItem" | "DeleteItem" => item_id(&body, "Key").map(Write::Single),
        "TransactWriteItems" => {
            transact_items(&body, &["ConditionCheck", "Put", "Update", "Delete"]).map(Write::Transaction)
        }
        _ => transact_items(&body, &["Get"]).map(Write::TransactGet),
    }
}

fn transact_items(body: &Value, actions: &[&str]) -> Option<Vec<ItemId>> {
    let ids = body["TransactItems"]
        .as_array()?
        .iter()
        .map(|entry| {
            let (action, detail) = entry.as_object()?.iter().find(|(k, _)| actions.contains(&k.as_str()))?;
            item_id(detail, if action == "Put" { "Item" } else { "Key" })
        })
        .collect::<Option<Vec<_>>>()?;
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    (distinct.len() == ids.len() && !ids.is_empty()).then_some(ids)
}

fn item_id(action: &Value, key_field: &str) -> Option<ItemId> {
    let table = action["TableName"].as_str()?;
    let key = action[key_field].as_object()?;
    Some((table.to_owned(), key.get("PK")?.to_string(), key.get("SK")?.to_string()))
}

struct Shared {
    hold: Hold,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    in_flight: HashMap<ItemId, Holders>,
    totals: ConflictStats,
    by_table: HashMap<String, ConflictStats>,
}

/// How many forwarded transactions and single-item writes are touching an item.
#[derive(Default)]
struct Holders {
    transactions: u32,
    single_writes: u32,
}

/// Why a request was refused: the conflicting positions of a transaction, or a single write.
enum Refusal {
    Transaction(Vec<bool>),
    Single,
    TransactGet(Vec<bool>),
}

impl State {
    /// Marks `write`'s items in flight and returns them, or refuses it; counts either way.
    fn admit(&mut self, write: &Write) -> Result<Vec<(ItemId, bool)>, Refusal> {
        let busy = |state: &Self, id: &ItemId, single_writes_count: bool| {
            state
                .in_flight
                .get(id)
                .is_some_and(|h| h.transactions > 0 || (single_writes_count && h.single_writes > 0))
        };
        let (table, outcome) = match write {
            Write::Transaction(ids) => {
                let conflicts: Vec<bool> = ids.iter().map(|id| busy(self, id, true)).collect();
                let outcome = if conflicts.contains(&true) {
                    Err(Refusal::Transaction(conflicts))
                } else {
                    Ok(ids.iter().map(|id| (id.clone(), true)).collect())
                };
                (&ids[0].0, outcome)
            }
            Write::Single(id) => {
                let outcome =
                    if busy(self, id, false) { Err(Refusal::Single) } else { Ok(vec![(id.clone(), false)]) };
                (&id.0, outcome)
            }
            Write::TransactGet(ids) => {
                let conflicts: Vec<bool> = ids.iter().map(|id| busy(self, id, true)).collect();
                let outcome = if conflicts.contains(&true) {
                    Err(Refusal::TransactGet(conflicts))
                } else {
                    Ok(Vec::new())
                };
                (&ids[0].0, outcome)
            }
        };
        for (id, transaction) in outcome.iter().flatten() {
            let holders = self.in_flight.entry(id.clone()).or_default();
            if *transaction {
                holders.transactions += 1;
            } else {
                holders.single_writes += 1;
            }
        }
        let count = |stats: &mut ConflictStats| match (write, &outcome) {
            (Write::Transaction(_), Ok(_)) => stats.transactions += 1,
            (Write::Transaction(_), Err(_)) => stats.transactions_cancelled += 1,
            (Write::Single(_), Ok(_)) => stats.single_writes += 1,
            (Write::Single(_), Err(_)) => stats.single_writes_rejected += 1,
            (Write::TransactGet(_), Ok(_)) => {}
            (Write::TransactGet(_), Err(_)) => stats.read_transactions_cancelled += 1,
        };
        count(&mut self.totals);
        count(self.by_table.entry(table.clone()).or_default());
        outcome
    }

    fn release(&mut self, items: &[(ItemId, bool)]) {
        for (id, transaction) in items {
            if let Some(holders) = self.in_flight.get_mut(id) {
                if *transaction {
                    holders.transactions -= 1;
                } else {
                    holders.single_writes -= 1;
                }
                if holders.transactions == 0 && holders.single_writes == 0 {
                    self.in_flight.remove(id);
                }
            }
        }
    }
}

/// Items in flight for one forwarded request; released when dropped, so a request whose
/// client gave up (its connection closed) frees its items too.
struct Claim {
    shared: Arc<Shared>,
    items: Vec<(ItemId, bool)>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.release(&self.items);
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    client: Upstream,
    upstream: Arc<str>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, BoxError> {
    let (mut parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let target = parts.headers.get("x-amz-target").and_then(|t| t.to_str().ok()).unwrap_or("");
    let write = if parts.headers.contains_key("content-encoding") { None } else { parse(target, &body) };
    let claim = match &write {
        None => None,
        Some(write) => {
            let admitted = shared.state.lock().expect("proxy state").admit(write);
            match admitted {
                Ok(items) => Some(Claim { shared: Arc::clone(&shared), items }),
                Err(refusal) => return Ok(refused(refusal)),
            }
        }
    };
    let hold = match write {
        Some(Write::Transaction(_)) => shared.hold.transactions,
        Some(Write::Single(_)) => shared.hold.single_writes,
        _ => Duration::ZERO,
    };
    let hold = if shared.hold.jitter {
        let random = u64::from(getrandom::u32().unwrap_or(0));
        let millis = u64::try_from(hold.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(random % (2 * millis + 1))
    } else {
        hold
    };
    if !hold.is_zero() {
        tokio::time::sleep(hold).await;
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = format!("{upstream}{path}").parse::<Uri>()?;
    // An unreachable DynamoDB Local fails the connection, as a direct client would see it.
    let response = client.request(Request::from_parts(parts, Full::new(body))).await?;
    let (mut parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    drop(claim);
    // The body is passed on whole, so hyper frames it with its length.
    parts.headers.remove(TRANSFER_ENCODING);
    Ok(Response::from_parts(parts, Full::new(body)))
}

/// DynamoDB's answer to a request refused for a conflict (JSON 1.0 protocol, HTTP 400).
fn refused(refusal: Refusal) -> Response<Full<Bytes>> {
    let cancelled = |conflicts: Vec<bool>| {
        let codes: Vec<&str> =
            conflicts.iter().map(|&c| if c { "TransactionConflict" } else { "None" }).collect();
        let reasons: Vec<Value> = conflicts
            .iter()
            .map(|&c| {
                if c {
                    json!({ "Code": "TransactionConflict", "Message": ONGOING })
                } else {
                    json!({ "Code": "None" })
                }
            })
            .collect();
        json!({
            "__type": format!("{ERROR_NAMESPACE}TransactionCanceledException"),
            "CancellationReasons": reasons,
            "Message": format!(
                "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                codes.join(", ")
            ),
        })
    };
    let body = match refusal {
        Refusal::Transaction(conflicts) | Refusal::TransactGet(conflicts) => cancelled(conflicts),
        Refusal::Single => json!({
            "__type": format!("{ERROR_NAMESPACE}TransactionConflictException"),
            "message": ONGOING,
        }),
    };
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.0"));
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().simple().to_string().to_uppercase()) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(items: Value) -> Vec<u8> {
        json!({ "TransactItems": items }).to_string().into_bytes()
    }

    fn key(pk: &str, sk: &str) -> Value {
        json!({ "PK": { "S": pk }, "SK": { "S": sk } })
    }

    fn id(pk: &str, sk: &str) -> ItemId {
        ("t".into(), json!({ "S": pk }).to_string(), json!({ "S": sk }).to_string())
    }

    #[test]
    fn items_are_read_from_every_action_in_order() {
        let body = tx(json!([
            { "ConditionCheck": { "TableName": "t", "Key": key("A", "1"), "ConditionExpression": "x" } },
            { "Put": { "TableName": "t", "Item": { "PK": { "S": "B" }, "SK": { "S": "2" }, "n": { "N": "1" } } } },
            { "Update": { "TableName": "t", "Key": key("C", "3"), "UpdateExpression": "SET a = :a" } },
            { "Delete": { "TableName": "t", "Key": key("D", "4") } },
        ]));
        assert_eq!(
            parse("DynamoDB_20120810.TransactWriteItems", &body),
            Some(Write::Transaction(vec![id("A", "1"), id("B", "2"), id("C", "3"), id("D", "4")]))
        );
        let put = json!({ "TableName": "t", "Item": key("A", "1") }).to_string();
        assert_eq!(parse("DynamoDB_20120810.PutItem", put.as_bytes()), Some(Write::Single(id("A", "1"))));
        let update = json!({ "TableName": "t", "Key": key("A", "1") }).to_string();
        assert_eq!(
            parse("DynamoDB_20120810.UpdateItem", update.as_bytes()),
            Some(Write::Single(id("A", "1")))
        );
    }

    #[test]
    fn reads_and_unjudgeable_requests_pass() {
        let get = json!({ "TableName": "t", "Key": key("A", "1") }).to_string();
        assert_eq!(parse("DynamoDB_20120810.GetItem", get.as_bytes()), None);
        assert_eq!(parse("DynamoDB_20120810.Query", b"{}"), None);
        let twice = tx(json!([
            { "ConditionCheck": { "TableName": "t", "Key": key("A", "1") } },
            { "Delete": { "TableName": "t", "Key": key("A", "1") } },
        ]));
        assert_eq!(parse("DynamoDB_20120810.TransactWriteItems", &twice), None);
        assert_eq!(parse("DynamoDB_20120810.PutItem", b"not json"), None);
    }

    #[test]
    fn overlap_is_refused_until_released() {
        let mut state = State::default();
        let first = state.admit(&Write::Transaction(vec![id("A", "1"), id("B", "2")])).ok().unwrap();
        match state.admit(&Write::Transaction(vec![id("C", "3"), id("B", "2")])) {
            Err(Refusal::Transaction(conflicts)) => assert_eq!(conflicts, [false, true]),
            _ => panic!("expected a cancellation"),
        }
        assert!(matches!(state.admit(&Write::Single(id("A", "1"))), Err(Refusal::Single)));
        state.release(&first);
        let again = state.admit(&Write::Transaction(vec![id("C", "3"), id("B", "2")])).ok().unwrap();
        state.release(&again);
        assert!(state.in_flight.is_empty());
        let stats = state.totals;
        assert_eq!(
            (stats.transactions, stats.transactions_cancelled, stats.single_writes_rejected),
            (2, 1, 1)
        );
    }

    #[test]
    fn single_writes_block_transactions_but_not_each_other() {
        let mut state = State::default();
        let one = state.admit(&Write::Single(id("A", "1"))).ok().unwrap();
        let two = state.admit(&Write::Single(id("A", "1"))).ok().unwrap();
        assert!(state.admit(&Write::Transaction(vec![id("A", "1")])).is_err());
        state.release(&one);
        assert!(state.admit(&Write::TransactGet(vec![id("A", "1")])).is_err());
        state.release(&two);
        assert!(state.admit(&Write::TransactGet(vec![id("A", "1")])).is_ok());
        assert!(state.in_flight.is_empty());
    }
}
