//! `make bench`: measures Roster against the local stack and writes `BENCHMARKS.md`.
//! Needs DynamoDB Local and the SES emulator (started by `tests/stack/bench.sh`) and the
//! release binaries of the functions.

use std::path::PathBuf;

use roster::http::routes::Function;
use roster_tests::bench::{cold_start, latency, machine, scale, size};
use roster_tests::harness::TestApp;
use roster_tests::round_trips;
use roster_tests::table;

#[tokio::main]
async fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let requests: usize = std::env::var("BENCH_REQUESTS").ok().and_then(|n| n.parse().ok()).unwrap_or(2000);
    let starts: usize = std::env::var("BENCH_STARTS").ok().and_then(|n| n.parse().ok()).unwrap_or(30);
    let functions: Vec<&str> = Function::ALL.iter().map(|f| f.name()).collect();

    eprintln!("round trips per route");
    let trips = round_trips::measure(&TestApp::spawn().await).await;
    let over_budget: Vec<_> =
        trips.iter().filter(|r| r.dynamodb > r.budget).map(|r| r.route.clone()).collect();

    eprintln!("latency: {requests} requests per route");
    let (timings, get_item) = latency::run(&TestApp::spawn().await, requests).await;

    eprintln!("cold starts: {starts} per function");
    let cold_app = TestApp::spawn().await;
    table::ensure(&cold_app.dynamo, cold_app.table()).await.expect("table");
    let mut colds = Vec::new();
    for (function, event) in functions.iter().zip([
        "create-org.json",
        "invite.json",
        "accept.json",
        "change-role.json",
        "remove.json",
        "list-orgs.json",
    ]) {
        let event = std::fs::read_to_string(root.join("tests/events").join(event)).expect("sample event");
        let binary = root.join("target/release").join(function);
        colds.push(cold_start::measure(&binary, &event, cold_app.table(), starts).await);
    }

    eprintln!("sizes");
    let sizes = size::measure(&root, &functions);

    eprintln!("scale");
    let scaled = scale::run(&TestApp::spawn().await, 5).await;

    let report = format!(
        "# Benchmarks\n\n\
         Made by `make bench` (`tests/src/bin/bench.rs`) on {date}, on {machine}, against DynamoDB \
         Local (in memory) and the SES v2 emulator on loopback. Handlers run in process through \
         real API Gateway v2 events; cold starts run the x86-64 release binaries against a local \
         Lambda Runtime API, with only the environment variables Lambda would set. Figures from a machine where a build was running at the same time are \
         not comparable; run it idle.\n\n\
         ## Round trips per route\n\nCounted by an interceptor on the SDK clients. Over budget: {over}.\n\n{trips}\n\
         ## Latency\n\n{latency}\n\
         ## Cold start\n\nTargets: ≤ 10 ms to the first poll, ≤ 16 MB peak RSS.\n\n{cold}\n\
         ## Size\n\nTarget: zip ≤ 2.5 MB.\n\n{size}\n\
         ## Scale\n\n{scale}",
        date = chrono::Utc::now().format("%Y-%m-%d"),
        machine = machine(),
        over = if over_budget.is_empty() { "none".to_owned() } else { over_budget.join(", ") },
        trips = round_trips::markdown(&trips),
        latency = latency::markdown(&timings, get_item),
        cold = cold_start::markdown(&colds),
        size = size::markdown(&sizes),
        scale = scale::markdown(&scaled),
    );
    std::fs::write(root.join("BENCHMARKS.md"), &report).expect("write BENCHMARKS.md");
    println!("{report}");
}
