//! The `authorize` Lambda function: see `roster::handlers::authorize`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run_authorize().await
}
