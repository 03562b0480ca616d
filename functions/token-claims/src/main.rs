//! The `token-claims` Lambda function, Cognito's pre-token-generation trigger: see
//! `roster::handlers::token_claims`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run_event_handler(roster::handlers::token_claims::handle).await
}
