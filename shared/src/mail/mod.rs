//! Sending invitation email through SES v2.

pub mod branding;
pub mod compose;

use std::sync::OnceLock;

use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::domain::Email;
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
pub struct NotSent;

impl Mailer {
    pub fn new(config: aws_sdk_sesv2::Config, from: Option<String>) -> Self {
        Self { config, client: OnceLock::new(), from }
    }

    fn client(&self) -> &aws_sdk_sesv2::Client {
        self.client.get_or_init(|| aws_sdk_sesv2::Client::from_conf(self.config.clone()))
    }

    pub async fn send(&self, to: &Email, mail: &Composed) -> Result<(), NotSent> {
        let Some(from) = &self.from else {
            tracing::error!("ROSTER_FROM_EMAIL is not set; no invitation email can be sent");
            return Err(NotSent);
        };
        let content =
            |text: &str| Content::builder().data(text).charset("UTF-8").build().map_err(|_| NotSent);
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(Body::builder().text(content(&mail.text)?).html(content(&mail.html)?).build())
            .build();
        self.client()
            .send_email()
            .from_email_address(from)
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                // The error names neither the token nor the body: safe to log.
                tracing::warn!(error = %DisplayErrorContext(&e), "SES did not accept an invitation email");
                NotSent
            })
    }
}
