//! The `accounts` Lambda function: see `roster::handlers::accounts`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run_accounts().await
}
