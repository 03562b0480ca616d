//! The `email-events` Lambda function, SES's delivery events for invitation emails routed
//! from the default EventBridge bus: see `roster::handlers::email_events`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run_event_handler(roster::handlers::email_events::handle).await
}
