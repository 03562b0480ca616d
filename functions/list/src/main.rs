//! The `list` Lambda function: see `roster::handlers::list`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // The one function that hands out cursors: it does not start without keys to sign them.
    roster::app::run_requiring(roster::Config::require_cursor_keys, roster::handlers::list::handle).await
}
