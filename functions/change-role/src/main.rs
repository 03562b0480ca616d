//! The `change-role` Lambda function: see `roster::handlers::change_role`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run(roster::handlers::change_role::handle).await
}
