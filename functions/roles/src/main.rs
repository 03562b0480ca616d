//! The `roles` Lambda function: see `roster::handlers::roles`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run(roster::handlers::roles::handle).await
}
