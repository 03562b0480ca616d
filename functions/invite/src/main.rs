//! The `invite` Lambda function: see `roster::handlers::invite`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run(roster::handlers::invite::handle).await
}
