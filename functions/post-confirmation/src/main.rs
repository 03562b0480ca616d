//! The `post-confirmation` Lambda function, Cognito's post-confirmation trigger when sign-up
//! creates an organization: see `roster::handlers::post_confirmation`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run_event_handler(roster::handlers::post_confirmation::handle).await
}
