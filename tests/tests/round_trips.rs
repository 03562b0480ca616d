//! Every route stays within its DynamoDB round-trip budget (counted, not guessed).

use roster::http::routes::ROUTES;
use roster_tests::harness::TestApp;
use roster_tests::round_trips::{markdown, measure};

/// The walk through every route is one future holding every route's; unoptimized, it is
/// larger than a test thread's 2 MiB stack, so it runs on a thread of its own.
#[test]
fn every_route_is_within_its_round_trip_budget() {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(check_every_route());
        })
        .expect("thread")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

async fn check_every_route() {
    // With a user pool on moto's server, so that adding a user is measured too.
    let pool = roster_tests::cognito::LocalPool::create(&roster::sdk::load_config().await).await;
    let (app, _) = TestApp::spawn().await.with_user_pool(&pool).await;
    let rows = Box::pin(measure(&app)).await;
    println!("{}", markdown(&rows));
    for route in ROUTES {
        assert!(rows.iter().any(|r| r.route == route.key()), "{} is not measured", route.key());
    }
    for r in &rows {
        assert!(r.status < 300, "{} ({}) failed with {}", r.route, r.case, r.status);
        assert!(
            r.dynamodb <= r.budget,
            "{} ({}): {} round trips, budget {}",
            r.route,
            r.case,
            r.dynamodb,
            r.budget
        );
    }
    let sends: usize = rows.iter().map(|r| r.ses).sum();
    assert_eq!(sends, 0, "no route sends email: invitation emails are queued");
}
