//! The `usage` Lambda function: see `roster::handlers::usage`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run(roster::handlers::usage::handle).await
}
