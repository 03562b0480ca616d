//! A bus of its own on moto's EventBridge, with a rule forwarding every Roster event to an
//! SQS queue of its own: where the events tests and the benchmark read what was published.

use roster::handlers::events::Publisher;
use serde_json::json;

pub struct BusToQueue {
    pub publisher: Publisher,
    pub sqs: aws_sdk_sqs::Client,
    /// The queue the bus's rule forwards to.
    pub queue: String,
}

/// A new queue named `name`; its URL.
pub async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> String {
    sqs.create_queue().queue_name(name).send().await.expect("queue").queue_url.expect("url")
}

/// A fresh bus (`{prefix}-<id>`) whose rule forwards every event of source `roster` to a
/// fresh queue.
pub async fn bus_to_queue(prefix: &str) -> BusToQueue {
    let sdk = roster::sdk::load_config().await;
    let (events, sqs) = (aws_sdk_eventbridge::Client::new(&sdk), aws_sdk_sqs::Client::new(&sdk));
    let id = uuid::Uuid::new_v4().simple().to_string();
    let bus = format!("{prefix}-{id}");
    events
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .expect("moto's EventBridge (AWS_ENDPOINT_URL_EVENTBRIDGE)");
    let queue = queue(&sqs, &format!("{prefix}-events-{id}")).await;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue arn");
    let arn = attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .expect("arn");
    events
        .put_rule()
        .name("all-roster-events")
        .event_bus_name(&bus)
        .event_pattern(json!({ "source": [roster::events::SOURCE] }).to_string())
        .send()
        .await
        .expect("rule");
    let target = aws_sdk_eventbridge::types::Target::builder().id("queue").arn(arn).build().expect("target");
    events
        .put_targets()
        .rule("all-roster-events")
        .event_bus_name(&bus)
        .targets(target)
        .send()
        .await
        .expect("target");
    BusToQueue { publisher: Publisher { client: events, bus }, sqs, queue }
}
