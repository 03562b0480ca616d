//! The `authorize` Lambda function: see `roster::handlers::authorize`.

// One thread: Lambda hands an instance one event at a time, and at the function's 128 MB a
// fraction of one vCPU. The batch reads still run concurrently, as tasks of that thread; the
// multi-threaded scheduler's worker threads would only add start-up work and binary size.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    roster::app::run_authorize().await
}
