//! Sending invitation email through SES v2.

pub mod branding;
pub mod compose;
pub mod queue;

use std::sync::OnceLock;

use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageTag};
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::domain::Email;
use crate::domain::token::Token;

/// The accept link an invitation email or an invite link carries.
pub fn accept_url(app_url: &str, token: &Token) -> String {
    format!("{app_url}/invite?token={}", token.expose())
}
use compose::Composed;

/// The SES client is built on the first email: five of the six functions never send one,
/// and building a client costs them part of a cold start (its TLS setup).
pub struct Mailer {
    config: aws_sdk_sesv2::Config,
    client: OnceLock<aws_sdk_sesv2::Client>,
    from: Option<String>,
}

/// The email was not accepted by SES; the reason is logged where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSent {
    /// Over the account's sending rate: the same email will go after a pause.
    Throttled,
    /// SES refused this message for good (`MessageRejected`, a malformed request).
    Rejected,
    /// Anything else (an outage, a timeout, the sender not set up): try again later.
    Transient,
}

/// What an email carries besides its content: the configuration set whose events report its
/// delivery, and the tags those events echo back (ASCII letters, digits, `_` and `-` only).
#[derive(Debug, Clone, Default)]
pub struct Envelope<'a> {
    pub configuration_set: Option<&'a str>,
    pub tags: Vec<(&'static str, String)>,
}

impl Mailer {
    pub fn new(config: aws_sdk_sesv2::Config, from: Option<String>) -> Self {
        Self { config, client: OnceLock::new(), from }
    }

    fn client(&self) -> &aws_sdk_sesv2::Client {
        self.client.get_or_init(|| aws_sdk_sesv2::Client::from_conf(self.config.clone()))
    }

    /// Sends one email; SES's message id when it accepted it.
    pub async fn send(
        &self,
        to: &Email,
        mail: &Composed,
        envelope: &Envelope<'_>,
    ) -> Result<String, NotSent> {
        let Some(from) = &self.from else {
            tracing::error!("ROSTER_FROM_EMAIL is not set; no invitation email can be sent");
            return Err(NotSent::Transient);
        };
        let content = |text: &str| {
            Content::builder().data(text).charset("UTF-8").build().map_err(|_| NotSent::Rejected)
        };
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(Body::builder().text(content(&mail.text)?).html(content(&mail.html)?).build())
            .build();
        let tags = envelope
            .tags
            .iter()
            .filter_map(|(name, value)| MessageTag::builder().name(*name).value(value).build().ok())
            .collect();
        self.client()
            .send_email()
            .from_email_address(from)
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(envelope.configuration_set.map(str::to_owned))
            .set_email_tags(Some(tags))
            .send()
            .await
            .map(|output| output.message_id().unwrap_or_default().to_owned())
            .map_err(|e| {
                use aws_sdk_sesv2::operation::send_email::SendEmailError as E;
                let kind = match e.as_service_error() {
                    Some(E::TooManyRequestsException(_)) => NotSent::Throttled,
                    Some(E::MessageRejected(_) | E::BadRequestException(_)) => NotSent::Rejected,
                    _ => NotSent::Transient,
                };
                // The error names neither the token nor the body: safe to log.
                tracing::warn!(error = %DisplayErrorContext(&e), ?kind, "SES did not accept an invitation email");
                kind
            })
    }

    /// The account's sending rate (emails per second) as SES's `GetAccount` tells it, if it
    /// answers (the local emulator does not).
    pub async fn account_rate(&self) -> Option<f64> {
        match self.client().get_account().send().await {
            Ok(account) => account.send_quota().map(|q| q.max_send_rate()).filter(|r| *r > 0.0),
            Err(e) => {
                tracing::info!(error = %DisplayErrorContext(&e), "GetAccount did not answer; using ROSTER_SEND_RATE");
                None
            }
        }
    }
}
