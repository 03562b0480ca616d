//! Events: time from a change's response to its event on the queue, locally (the stream
//! read as Lambda's event source reads it, the `events` handler, moto's EventBridge
//! forwarding to SQS, the queue read).

use std::time::{Duration, Instant};

use roster::handlers::events::handle;
use serde_json::json;

use super::{ms, quantile};
use crate::event_bus::{BusToQueue, bus_to_queue};
use crate::harness::TestApp;
use crate::streams;

pub struct EventLatency {
    pub samples: Vec<Duration>,
}

pub async fn run(app: &TestApp, changes: usize) -> EventLatency {
    let BusToQueue { publisher, sqs, queue } = bus_to_queue("bench").await;

    let owner = app.user("owner");
    let org = app.create_org(&owner, "Events").await;
    app.add_member(&owner, &org, &app.user("bob"), "member").await;
    let mut delivered = streams::records(app).await.last().map(streams::seq).unwrap_or(0);
    let path = format!("/orgs/{org}/members/bob");
    let mut samples = Vec::with_capacity(changes);
    for i in 0..changes {
        let role = if i % 2 == 0 { "viewer" } else { "member" };
        let changed = app.call(Some(&owner), "PATCH", &path, Some(json!({ "role": role }))).await;
        let answered = Instant::now();
        assert_eq!(changed.status, 200);
        loop {
            // As the event source polls: the records after the last delivered, to the handler.
            let fresh: Vec<_> =
                streams::records(app).await.into_iter().filter(|r| streams::seq(r) > delivered).collect();
            if let Some(last) = fresh.last() {
                delivered = streams::seq(last);
                handle(&publisher, json!({ "Records": fresh })).await;
            }
            let got = sqs
                .receive_message()
                .queue_url(&queue)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive");
            let arrived =
                got.messages().iter().any(|m| m.body().is_some_and(|b| b.contains("member.role_changed")));
            for m in got.messages() {
                let _ = sqs
                    .delete_message()
                    .queue_url(&queue)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await;
            }
            if arrived {
                samples.push(answered.elapsed());
                break;
            }
        }
    }
    EventLatency { samples }
}

pub fn markdown(e: &EventLatency) -> String {
    format!(
        "| Measure | p50 ms | p99 ms |\n|---|---|---|\n\
         | a role change's response to its event on the queue ({} changes) | {} | {} |\n\n\
         Locally the stream is read right after each change; in AWS, Lambda's event source polls \
         the stream (about four times a second per shard) and waits up to the mapping's one-second \
         batching window, which adds to these figures.\n",
        e.samples.len(),
        ms(quantile(&e.samples, 0.5)),
        ms(quantile(&e.samples, 0.99)),
    )
}
