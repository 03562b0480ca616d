//! The invitation email queue (SQS): invite and resend put one message per email on it and
//! answer; the `send-invitations` function sends them.
//!
//! A message names a send, never its token: `{orgId, invitationId, sendNumber}`. The sender
//! mints the token when it sends, so none rests in the queue, its dead-letter queue or a log.

use std::sync::OnceLock;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_smithy_types::error::display::DisplayErrorContext;
use serde::{Deserialize, Serialize};

use crate::domain::{InvitationId, OrgId};

/// One invitation email to send: the invitation and which of its sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendRequest {
    pub org_id: OrgId,
    pub invitation_id: InvitationId,
    pub send_number: u64,
}

/// SQS takes at most 10 messages per `SendMessageBatch`.
const BATCH: usize = 10;

/// The queue's client is built on the first message: of the functions that hold an
/// [`crate::App`], only `invite` queues.
pub struct EmailQueue {
    config: aws_sdk_sqs::Config,
    client: OnceLock<aws_sdk_sqs::Client>,
    url: Option<String>,
}

impl EmailQueue {
    pub fn new(config: aws_sdk_sqs::Config, url: Option<String>) -> Self {
        Self { config, client: OnceLock::new(), url }
    }

    fn client(&self) -> &aws_sdk_sqs::Client {
        self.client.get_or_init(|| aws_sdk_sqs::Client::from_conf(self.config.clone()))
    }

    /// Queues the sends, ten to a request and the requests at once. Answers, in order, whether
    /// each was queued; a refusal is logged here (it names ids, never a token).
    pub async fn enqueue(&self, sends: &[SendRequest]) -> Vec<bool> {
        let Some(url) = &self.url else {
            tracing::error!("ROSTER_EMAIL_QUEUE_URL is not set; no invitation email can be queued");
            return vec![false; sends.len()];
        };
        let batches = sends.chunks(BATCH).map(|chunk| self.send_batch(url, chunk));
        futures::future::join_all(batches).await.into_iter().flatten().collect()
    }

    async fn send_batch(&self, url: &str, chunk: &[SendRequest]) -> Vec<bool> {
        let entries: Vec<SendMessageBatchRequestEntry> = chunk
            .iter()
            .enumerate()
            .filter_map(|(i, send)| {
                let body = serde_json::to_string(send).ok()?;
                SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(body).build().ok()
            })
            .collect();
        match self.client().send_message_batch().queue_url(url).set_entries(Some(entries)).send().await {
            Ok(output) => {
                let failed: std::collections::HashSet<&str> =
                    output.failed().iter().map(|f| f.id()).collect();
                if !failed.is_empty() {
                    tracing::warn!(count = failed.len(), "the queue refused invitation emails");
                }
                (0..chunk.len()).map(|i| !failed.contains(i.to_string().as_str())).collect()
            }
            Err(e) => {
                tracing::warn!(error = %DisplayErrorContext(&e), "the email queue could not be reached");
                vec![false; chunk.len()]
            }
        }
    }
}
