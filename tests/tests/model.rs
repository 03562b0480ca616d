//! The model-based test of issue 10: random step sequences through the real handlers, held to
//! a reference model after every step, and rounds of concurrent conflicting requests held to
//! the invariants. See `tests/src/model/`.
//!
//! - `ROSTER_MODEL_SEED=<n>`: replay a run (the seed is printed at the start).
//! - `ROSTER_MODEL_STEPS=<n>`: sequential steps in total, split over the four settings
//!   (default 5000).
//! - `ROSTER_MODEL_ROUNDS=<n>`: concurrent rounds (default 56).
//! - `ROSTER_MODEL_SETTING=<part of a setting's name>`: run only matching settings.
//! - `ROSTER_MODEL_SHRINK_SECS=<n>`: time allowed to shrink failing cases, in all
//!   (default 150).
//! - `ROSTER_MODEL_SKIP=<tags>`: step shapes not to generate, to look past a known mismatch
//!   while it is fixed (tags in `tests/src/model/generate.rs`, e.g. `anonymous-preview`).

use std::time::{Duration, Instant};

use roster_tests::model::{concurrent, run};

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| v.trim().parse().unwrap_or_else(|_| panic!("{name} must be a number")))
}

fn seed() -> u64 {
    env_number("ROSTER_MODEL_SEED").unwrap_or_else(|| {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_nanos();
        (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sequences_of_every_operation_match_the_model() {
    let seed = seed();
    let total = env_number("ROSTER_MODEL_STEPS").unwrap_or(5000) as usize;
    let only = std::env::var("ROSTER_MODEL_SETTING").ok();
    let settings: Vec<(usize, run::Setting)> = run::SETTINGS
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, s)| only.as_deref().is_none_or(|o| s.name.contains(o)))
        .collect();
    let per_setting = total.div_ceil(run::SETTINGS.len());
    println!(
        "model: seed {seed} (ROSTER_MODEL_SEED={seed}), {per_setting} steps in each of {} settings",
        settings.len()
    );
    let started = Instant::now();
    let outcomes = futures::future::join_all(settings.iter().map(|(i, setting)| {
        let sub_seed = seed.wrapping_add((*i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        run::generate(*setting, sub_seed, per_setting)
    }))
    .await;
    let mut failures = Vec::new();
    let mut tally = std::collections::BTreeMap::<String, u64>::new();
    for outcome in outcomes {
        match outcome {
            Ok(done) => {
                println!(
                    "model: {} steps ({} skipped), {} requests",
                    done.steps, done.skipped, done.requests
                );
                for (k, v) in done.tally {
                    *tally.entry(k).or_default() += v;
                }
            }
            Err(failure) => failures.push(failure),
        }
    }
    let coverage: Vec<String> = tally.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    println!("model: outcomes met:\n  {}", coverage.join("\n  "));
    println!("model: sequential phase took {:.1}s", started.elapsed().as_secs_f64());
    if failures.is_empty() {
        return;
    }
    let total_budget = env_number("ROSTER_MODEL_SHRINK_SECS").unwrap_or(150);
    let budget = Duration::from_secs(total_budget / failures.len() as u64);
    let mut report = String::new();
    for failure in &failures {
        println!(
            "model: FAILED after {} steps in \"{}\": {}\nshrinking...",
            failure.ops.len(),
            failure.setting.name,
            failure.message
        );
        let (ops, message, replays) = run::shrink(failure, budget).await;
        let case = run::describe(failure.setting, &ops, &message);
        println!("model: shrunk to {} steps in {replays} replays:\n{case}", ops.len());
        report.push_str(&case);
    }
    panic!(
        "model-based test failed (reproduce with ROSTER_MODEL_SEED={seed} ROSTER_MODEL_STEPS={total}):\n{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_conflicting_requests_keep_the_invariants() {
    let seed = seed();
    let rounds = env_number("ROSTER_MODEL_ROUNDS").unwrap_or(56) as usize;
    println!("concurrent: seed {seed} (ROSTER_MODEL_SEED={seed}), {rounds} rounds");
    let started = Instant::now();
    let summary = concurrent::run(seed, rounds).await;
    println!("concurrent: {summary} in {:.1}s", started.elapsed().as_secs_f64());
    assert!(
        summary.violations.is_empty(),
        "invariants broken (ROSTER_MODEL_SEED={seed}):\n{}",
        summary.violations.join("\n")
    );
}
