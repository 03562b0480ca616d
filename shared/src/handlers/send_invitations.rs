//! The `send-invitations` function: fed by the invitation email queue (SQS, partial batch
//! responses), it sends each queued email within the account's sending rate (API.md "Email
//! delivery").
//!
//! For each message `{orgId, invitationId, sendNumber}`: if the invitation is still at that
//! send and `queued`, mint its token, write the token's hash conditioned on the send (a newer
//! resend or a revoke wins), and only then hand the email to SES; record `sent` when SES
//! accepts it. Throttling is retried with back-off here, and it and transient failures by
//! the queue (the message is reported failed and comes back after its visibility timeout);
//! the last attempt marks the invitation `failed` and the queue moves the message to the
//! dead-letter queue, whose alarm tells the operator.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::App;
use crate::domain::invitation::{Delivery, DeliveryReason};
use crate::domain::token::Token;
use crate::mail::compose::{InvitationEmail, compose};
use crate::mail::queue::SendRequest;
use crate::mail::{Envelope, NotSent, accept_url};
use crate::store::email_sends::Issue;

/// SES calls per message within one invocation while throttled, before the queue takes over
/// the retrying.
const TRIES: u32 = 3;
/// The first pause after throttling; doubled each time.
const BACKOFF: Duration = Duration::from_millis(500);

/// Hands out sending slots at the instance's share of the account's rate, so that the
/// queue's concurrent senders together stay within it.
pub struct Pace {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pace {
    pub fn per_second(rate: f64) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 { rate } else { 1.0 };
        Self { interval: Duration::from_secs_f64(1.0 / rate), next: Mutex::new(Instant::now()) }
    }

    /// The pace of one sender of a deployment: the account's rate (SES's `GetAccount`, else
    /// `ROSTER_SEND_RATE`) shared among `ROSTER_SEND_CONCURRENCY` senders.
    pub async fn of(app: &App) -> Self {
        let rate = match app.mailer.account_rate().await {
            Some(rate) => rate,
            None => f64::from(app.config.mail.send_rate),
        };
        Self::per_second(rate / f64::from(app.config.mail.send_concurrency.max(1)))
    }

    /// Waits for this email's turn.
    async fn slot(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(Instant::now());
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }

    /// SES said the rate was passed: nobody sends for `pause`.
    async fn hold_off(&self, pause: Duration) {
        let mut next = self.next.lock().await;
        *next = (*next).max(Instant::now() + pause);
    }
}

#[derive(Deserialize)]
struct SqsEvent {
    #[serde(rename = "Records", default)]
    records: Vec<SqsRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SqsRecord {
    message_id: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    attributes: SqsAttributes,
}

#[derive(Deserialize, Default)]
struct SqsAttributes {
    #[serde(rename = "ApproximateReceiveCount")]
    receive_count: Option<String>,
}

/// SQS's partial batch response (`ReportBatchItemFailures`): the messages to deliver again.
#[derive(Serialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    pub item_identifier: String,
}

/// What a message came to.
#[derive(Debug, PartialEq, Eq)]
enum Done {
    /// Sent, or nothing left to send: delete the message.
    Finished,
    /// Deliver it again later (and after the last attempt, to the dead-letter queue).
    Retry,
}

/// One invocation: the batch's messages at once, each waiting for its sending slot. An event
/// that is not SQS's is an error: the whole batch comes back rather than being deleted.
pub async fn handle(app: &App, pace: &Pace, event: Value) -> Result<BatchResponse, String> {
    let event: SqsEvent = serde_json::from_value(event).map_err(|e| {
        tracing::error!(error = %e, "not an SQS event");
        format!("not an SQS event: {e}")
    })?;
    let sends = event.records.iter().map(|record| async move {
        let attempt = record.attributes.receive_count.as_deref().and_then(|c| c.parse().ok()).unwrap_or(1);
        (record.message_id.clone(), send_message(app, pace, &record.body, attempt).await)
    });
    let batch_item_failures = futures::future::join_all(sends)
        .await
        .into_iter()
        .filter(|(_, done)| *done == Done::Retry)
        .map(|(item_identifier, _)| ItemFailure { item_identifier })
        .collect();
    Ok(BatchResponse { batch_item_failures })
}

async fn send_message(app: &App, pace: &Pace, body: &str, attempt: u32) -> Done {
    let Ok(request) = serde_json::from_str::<SendRequest>(body) else {
        // Not a message of ours: it goes to the dead-letter queue after its attempts.
        tracing::error!(attempt, "an invitation email message that does not parse");
        return Done::Retry;
    };
    let last = attempt >= app.config.mail.send_attempts;
    match send(app, pace, &request).await {
        Ok(done) => done,
        Err(Failure::Again) if last => {
            let (org, id) = (&request.org_id, &request.invitation_id);
            let exhausted = DeliveryReason::AttemptsExhausted;
            if let Err(e) = app.store.fail_send(org, id, request.send_number, exhausted).await {
                tracing::error!(code = e.code(), "could not mark an invitation email failed");
            }
            tracing::error!(invitation = %id, attempt, "an invitation email failed its last attempt");
            Done::Retry
        }
        Err(Failure::Again) => Done::Retry,
    }
}

/// The message should be delivered again.
enum Failure {
    Again,
}

impl From<crate::error::Error> for Failure {
    fn from(e: crate::error::Error) -> Self {
        tracing::warn!(code = e.code(), "an invitation email could not be handled; the queue retries it");
        Failure::Again
    }
}

async fn send(app: &App, pace: &Pace, request: &SendRequest) -> Result<Done, Failure> {
    let (org_id, id, send_number) = (&request.org_id, &request.invitation_id, request.send_number);
    for _ in 0..3 {
        let now = app.now();
        let (org, stored) = app.store.send_context(org_id, id).await?;
        let (Some(org), Some(stored)) = (org, stored) else { return Ok(Done::Finished) };
        let invitation = &stored.invitation;
        // A later send, a send already made (the queue delivers at least once), a decline or
        // an expiry: nothing to send.
        if invitation.send_number != send_number
            || invitation.email_delivery != Delivery::Queued
            || invitation.declined_at.is_some()
            || invitation.is_expired_at(now)
        {
            return Ok(Done::Finished);
        }
        if org.invitations_paused.is_some() {
            app.store.fail_send(org_id, id, send_number, DeliveryReason::Paused).await?;
            return Ok(Done::Finished);
        }
        let token = Token::generate(org_id).map_err(|e| {
            tracing::error!(error = %e, "the OS random source failed");
            Failure::Again
        })?;
        let hash = token.hash();
        match app.store.issue_send_token(org_id, &stored, &hash).await? {
            Issue::Issued => {}
            Issue::Stale => return Ok(Done::Finished),
            Issue::Changed => continue,
        }
        let url = accept_url(&app.config.app_url, &token);
        let mail = compose(&InvitationEmail {
            org_name: org.name.as_str(),
            inviter_name: &invitation.mailed_by.shown(),
            role: invitation.role,
            expires_at: invitation.expires_at,
            accept_url: &url,
            branding: &app.config.branding,
        });
        let envelope = Envelope {
            configuration_set: app.config.mail.configuration_set.as_deref(),
            tags: vec![
                ("roster-org", org_id.to_string()),
                ("roster-invitation", id.to_string()),
                ("roster-send", send_number.to_string()),
            ],
        };
        let mut pause = BACKOFF;
        for attempt in 0..TRIES {
            // After a throttle: still this send, with this token? A revoke or a resend
            // meanwhile ends it (the token is dead; its email must not go).
            if attempt > 0 {
                let (_, now) = app.store.send_context(org_id, id).await?;
                if !now.is_some_and(|n| n.invitation.send_number == send_number && n.token_hash == hash) {
                    return Ok(Done::Finished);
                }
            }
            pace.slot().await;
            match app.mailer.send(&invitation.email, &mail, &envelope).await {
                Ok(_) => {
                    app.store.mark_sent(org_id, id, (send_number, &hash), app.now()).await?;
                    return Ok(Done::Finished);
                }
                Err(NotSent::Rejected) => {
                    app.store.fail_send(org_id, id, send_number, DeliveryReason::Rejected).await?;
                    return Ok(Done::Finished);
                }
                Err(NotSent::Throttled) => pace.hold_off(pause).await,
                // An outage or a timeout: the queue brings it back after its visibility
                // timeout, rather than this invocation waiting out the outage.
                Err(NotSent::Transient) => return Err(Failure::Again),
            }
            pause *= 2;
        }
        return Err(Failure::Again);
    }
    // The invitation kept changing under the send: the queue brings it back.
    Err(Failure::Again)
}
