//! The `events` Lambda function, fed by the table's stream: see `roster::handlers::events`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run_stream().await
}
