//! The `workspaces` Lambda function: see `roster::handlers::workspaces`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // Its lists hand out cursors: it does not start without keys to sign them.
    roster::app::run_requiring(roster::Config::require_cursor_keys, roster::handlers::workspaces::handle)
        .await
}
