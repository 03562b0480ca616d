//! The `purge` Lambda function, run every minute: see `roster::handlers::purge`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run_scheduled(roster::handlers::purge::scheduled).await
}
