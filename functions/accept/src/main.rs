//! The `accept` Lambda function: see `roster::handlers::accept`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run(roster::handlers::accept::handle).await
}
