//! The invitation email queue on the local stack: a real SQS queue (moto's server) with its
//! dead-letter queue, and the part of Lambda's event source mapping that feeds the
//! `send-invitations` handler: receive up to 10 messages, invoke with them, delete those
//! not reported failed, and let the failed ones come back (at once here, after their
//! visibility timeout in AWS); moto moves a message to the dead-letter queue after
//! `maxReceiveCount` receives, as SQS does.

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use roster::App;
use roster::handlers::send_invitations::{Pace, handle};
use serde_json::{Value, json};

/// A queue and its dead-letter queue.
#[derive(Clone, Debug)]
pub struct LocalQueue {
    pub sqs: aws_sdk_sqs::Client,
    pub url: String,
    pub dead_letter_url: String,
}

/// What one drain did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub handled: usize,
    pub failed: usize,
}

impl LocalQueue {
    /// Creates `name` and `name-dlq` (server-side encryption on, as the template's), the
    /// first redriving to the second after `attempts` receives.
    pub async fn create(sdk: &aws_config::SdkConfig, name: &str, attempts: u32) -> Result<Self, String> {
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let dlq = sqs
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
            .send()
            .await
            .map_err(|e| format!("create the dead-letter queue: {e:?}"))?;
        let dead_letter_url = dlq.queue_url().unwrap_or_default().to_owned();
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&dead_letter_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| format!("the dead-letter queue's ARN: {e:?}"))?
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .unwrap_or_default();
        let redrive =
            json!({ "deadLetterTargetArn": arn, "maxReceiveCount": attempts.to_string() }).to_string();
        let queue = sqs
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .send()
            .await
            .map_err(|e| format!("create the queue: {e:?}"))?;
        Ok(Self { sqs, url: queue.queue_url().unwrap_or_default().to_owned(), dead_letter_url })
    }

    /// Feeds the handler until the queue answers empty (at most `rounds` batches).
    pub async fn drain(&self, app: &App, pace: &Pace, rounds: usize) -> Drained {
        let mut drained = Drained::default();
        for _ in 0..rounds {
            let received = match self
                .sqs
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(10)
                .visibility_timeout(30)
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await
            {
                Ok(received) => received,
                Err(e) => {
                    eprintln!("email queue: {e:?}");
                    break;
                }
            };
            let messages = received.messages();
            if messages.is_empty() {
                break;
            }
            let records: Vec<Value> = messages
                .iter()
                .map(|m| {
                    let count = m
                        .attributes()
                        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                        .cloned()
                        .unwrap_or_else(|| "1".to_owned());
                    json!({
                        "messageId": m.message_id(),
                        "receiptHandle": m.receipt_handle(),
                        "body": m.body(),
                        "attributes": { "ApproximateReceiveCount": count },
                        "eventSource": "aws:sqs",
                    })
                })
                .collect();
            let response = handle(app, pace, json!({ "Records": records })).await.expect("an SQS event");
            let failed: Vec<&str> =
                response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
            drained.handled += messages.len();
            drained.failed += failed.len();
            for m in messages {
                let handle = m.receipt_handle().unwrap_or_default();
                if failed.contains(&m.message_id().unwrap_or_default()) {
                    // Back at once rather than after the visibility timeout: tests must not wait.
                    let _ = self
                        .sqs
                        .change_message_visibility()
                        .queue_url(&self.url)
                        .receipt_handle(handle)
                        .visibility_timeout(0)
                        .send()
                        .await;
                } else {
                    let _ =
                        self.sqs.delete_message().queue_url(&self.url).receipt_handle(handle).send().await;
                }
            }
        }
        drained
    }

    /// The bodies waiting in the dead-letter queue (received and left there).
    pub async fn dead_letters(&self) -> Vec<String> {
        let mut bodies = Vec::new();
        if let Ok(received) = self
            .sqs
            .receive_message()
            .queue_url(&self.dead_letter_url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
        {
            bodies.extend(received.messages().iter().filter_map(|m| m.body().map(str::to_owned)));
        }
        bodies
    }
}
