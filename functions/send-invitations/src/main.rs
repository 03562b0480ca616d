//! The `send-invitations` Lambda function, fed by the invitation email queue: see
//! `roster::handlers::send_invitations`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run_sender().await
}
