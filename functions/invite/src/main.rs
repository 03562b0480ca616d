//! The `invite` Lambda function: see `roster::handlers::invite`. It queues invitation emails,
//! so it starts only with the queue's URL.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run_requiring(roster::Config::require_email_queue, roster::handlers::invite::handle).await
}
