//! The `list` Lambda function: see `roster::handlers::list`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run(roster::handlers::list::handle).await
}
