//! The `events` function: publishes the audit items of a DynamoDB stream batch to the
//! stack's EventBridge bus, in order, and tells Lambda where to retry from.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde_json::{Value, json};

use crate::events::{self, SOURCE, StreamRecord};

/// PutEvents takes at most 10 entries.
const PUT_EVENTS_MAX: usize = 10;

/// The EventBridge client and the bus, built once per cold start.
pub struct Publisher {
    pub client: aws_sdk_eventbridge::Client,
    pub bus: String,
}

/// Publishes the batch's audit events in order, 10 to a `PutEvents`; entries EventBridge
/// refuses are sent again on their own (a retried entry may so arrive after the later ones of
/// its `PutEvents`: `eventId`s are time-ordered). At the first record that still could not be
/// published (refused every time, a failed request, or a record that is no audit event) it
/// stops and reports that record as the batch's failure: Lambda retries from it (every later
/// record with it, so nothing later overtakes it), and after the event source's bounded
/// retries sends it to the on-failure queue and moves on. Entries already published are
/// published again on such a retry: consumers drop repeats by `eventId`.
pub async fn handle(publisher: &Publisher, batch: Value) -> Value {
    let records = events::records(&batch);
    let mut pending: Vec<&StreamRecord> = Vec::with_capacity(PUT_EVENTS_MAX);
    for record in &records {
        if record.event.is_err() {
            if let Some(failed) = flush(publisher, &pending).await {
                return failure(failed);
            }
            tracing::error!(sequence = %record.sequence_number, "a stream record is no audit event");
            return failure(record);
        }
        pending.push(record);
        if pending.len() == PUT_EVENTS_MAX {
            if let Some(failed) = flush(publisher, &pending).await {
                return failure(failed);
            }
            pending.clear();
        }
    }
    match flush(publisher, &pending).await {
        Some(failed) => failure(failed),
        None => json!({ "batchItemFailures": [] }),
    }
}

fn failure(record: &StreamRecord) -> Value {
    json!({ "batchItemFailures": [{ "itemIdentifier": record.sequence_number }] })
}

/// Attempts at the entries of one `PutEvents` that EventBridge refused.
const ENTRY_ATTEMPTS: u32 = 3;

/// Sends `records` in one `PutEvents`, then again only the entries EventBridge refused (a
/// partial failure), with a short back-off; the first record still not published, if any.
async fn flush<'a>(publisher: &Publisher, records: &[&'a StreamRecord]) -> Option<&'a StreamRecord> {
    let mut pending: Vec<&'a StreamRecord> = records.to_vec();
    for attempt in 0..ENTRY_ATTEMPTS {
        if pending.is_empty() {
            return None;
        }
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
        }
        let entries: Vec<PutEventsRequestEntry> = pending
            .iter()
            .filter_map(|r| r.event.as_ref().ok())
            .map(|(org, event)| entry(publisher, org, event))
            .collect();
        let out = match publisher.client.put_events().set_entries(Some(entries)).send().await {
            Ok(out) => out,
            Err(e) => {
                tracing::error!(error = %aws_smithy_types::error::display::DisplayErrorContext(&e), "PutEvents failed");
                return pending.first().copied();
            }
        };
        let refused: Vec<&'a StreamRecord> = pending
            .iter()
            .zip(out.entries())
            .filter(|(_, e)| e.error_code().is_some())
            .map(|(r, e)| {
                tracing::warn!(code = ?e.error_code(), sequence = %r.sequence_number, "EventBridge refused an entry");
                *r
            })
            .collect();
        pending = refused;
    }
    pending.first().copied()
}

fn entry(publisher: &Publisher, org: &str, event: &crate::domain::AuditEvent) -> PutEventsRequestEntry {
    PutEventsRequestEntry::builder()
        .source(SOURCE)
        .detail_type(events::detail_type(event))
        .detail(events::detail(org, event).to_string())
        .event_bus_name(&publisher.bus)
        .resources(format!("roster:org/{org}"))
        .build()
}
