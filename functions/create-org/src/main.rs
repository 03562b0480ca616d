//! The `create-org` Lambda function: see `roster::handlers::create_org`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run(roster::handlers::create_org::handle).await
}
