//! The `remove` Lambda function: see `roster::handlers::remove`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run(roster::handlers::remove::handle).await
}
