//! The `pre-sign-up` Lambda function, Cognito's pre-sign-up trigger when self sign-up is
//! closed: see `roster::handlers::pre_sign_up`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run_event_handler(roster::handlers::pre_sign_up::handle).await
}
