//! The model-based test of issue 10: random step sequences through the real handlers, held to
//! a reference model after every step, and rounds of concurrent conflicting requests held to
//! the invariants. See `tests/src/model/`. Since issue 24 the sequences include workspaces
//! and groups (a quarter of the steps, `generate::WORKSPACE_SHARE`), and three kinds of
//! rounds race them. Since issue 25, `POST /authorize` batches (`generate::AUTHORIZE_SHARE`,
//! answered by `tests/src/model/authorize.rs`).
//!
//! - `ROSTER_MODEL_SEED=<n>`: replay a run (every seed is printed at the start of its run).
//! - `ROSTER_MODEL_STEPS=<n>`: sequential steps in total, split over the four settings
//!   (default 4600: with workspace steps, which cost DynamoDB Local more, as long as 5000
//!   without them took).
//! - `ROSTER_MODEL_SEEDS=<n>`: concurrent runs, each from a seed of its own (default 3; 1
//!   when `ROSTER_MODEL_SEED` is set, whose seed the first run takes).
//! - `ROSTER_MODEL_ROUNDS=<n>`: concurrent rounds per run (default 13: each of the thirteen
//!   kinds once; with three runs, three of each kind).
//! - `ROSTER_MODEL_SETTING=<part of a setting's name>`: run only matching settings.
//! - `ROSTER_MODEL_SHRINK_SECS=<n>`: time allowed to shrink failing cases, in all
//!   (default 150).
//! - `ROSTER_MODEL_SKIP=<tags>`: step shapes not to generate, to look past a known mismatch
//!   while it is fixed (tags in `tests/src/model/generate.rs`, e.g. `anonymous-preview`, or
//!   `workspaces` for no workspace and group steps at all, `authorize` for no
//!   `POST /authorize` steps), and kinds of concurrent rounds
//!   not to play (a kind's name, hyphenated: `link-race`, `owners-fight`, `member-churn`,
//!   `invite-storm`, `resend-revoke-accept`, `seat-race`, `one-org-race`, `same-instant`,
//!   `held-link-race`, `removal-races-adds`, `group-deleted-while-granted`,
//!   `workspace-deleted-while-filled`, `role-deleted-while-granted`).
//! - `ROSTER_MODEL_UNSKIP=<tags>|all`: lift the temporary skips that
//!   `generate::TEMPORARY_SKIPS` lists (known disagreements whose fix is not in yet), to see
//!   whether the fix is in.
//! - `ROSTER_MODEL_REGRESSIONS=off`: skip the kept cases below.
//! - `ROSTER_MODEL_VERBOSE=1`: print every step of a sequence and every concurrent round as
//!   played, not only failing ones.
//!
//! A failure prints the seed and the shortest failing case found, in both phases: for a
//! sequence, its steps; for a concurrent round, its seed, number and kind and the calls that
//! still break the same invariant, each with who made it and the answer. Either ends with a
//! `replay:` line in the format below.
//!
//! Kept cases: `tests/model-regressions.txt` holds cases that once failed, played on every
//! run before the fresh random cases of their phase (in addition to them, not instead). One
//! case a line; `#` starts a comment (say what the case found):
//!
//! ```text
//! sequential seed=<n> steps=<n> [setting=<i>] [workspaces=off] [authorize=off] [mail=on] [search=on] [usage=on] [accounts=on]
//! concurrent seed=<n> round=<n> [calls=<i>,<j>,...]
//! concurrent seed=<n> rounds=<n>
//! ```
//!
//! - `sequential`: the sequence of `run::SETTINGS[i]` (all four if no `setting=`) of the run
//!   seeded `seed`, `steps` steps long; with `workspaces=off`, generated without workspace
//!   and group steps, as before issue 24 (a case kept from then replays the same steps);
//!   with `authorize=off`, without `POST /authorize` steps, as before issue 25; with
//!   `mail=on`, with SES events and pause lifts (issue 26; off when not said, so that the
//!   cases kept before replay unchanged); with `search=on`, members lists with searches,
//!   sorts and orders (issue 27; off when not said, likewise); with `usage=on`, usage
//!   reports and reads (issue 28; off when not said, likewise); with `accounts=on`, users
//!   added with a temporary password and sign-ups' post-confirmations (issue 28, likewise).
//! - `concurrent ... round=`: that round of the run seeded `seed`, alone on a fresh app, with
//!   the calls so numbered (in the order the round generates them; all if no `calls=`). Played
//!   once per run: a race need not come out the same way every time, but every run plays it
//!   again. Prefer the whole round to a shrunk list when the shrunk one fails only now and
//!   then.
//! - `concurrent ... rounds=`: a whole concurrent run.
//!
//! To add a case, copy the `replay:` line of a failure into the file, with a word on what it
//! found. A case replays the same draws only while the generators draw the same way: after a
//! change to `generate.rs` (sequences) or to a round of `concurrent.rs`, it still runs but
//! may no longer reach what it found.

use std::time::{Duration, Instant};

use roster_tests::model::{concurrent, run};

const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/model-regressions.txt");

/// Plays of a kept concurrent round before it counts as passing.
const KEPT_ROUND_PLAYS: usize = 1;

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok().filter(|v| !v.trim().is_empty())?;
    Some(value.trim().parse().unwrap_or_else(|_| panic!("{name} must be a number")))
}

fn seed() -> u64 {
    env_number("ROSTER_MODEL_SEED").unwrap_or_else(|| {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_nanos();
        (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
    })
}

/// The seed of setting `i` in a sequential run seeded `seed`.
fn setting_seed(seed: u64, i: usize) -> u64 {
    seed.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// One line of `tests/model-regressions.txt`.
#[derive(Debug)]
enum Kept {
    Sequential {
        seed: u64,
        steps: usize,
        setting: Option<usize>,
        workspaces: bool,
        authorize: bool,
        mail: bool,
        search: bool,
        usage: bool,
        accounts: bool,
    },
    Round {
        seed: u64,
        round: usize,
        calls: Option<Vec<usize>>,
    },
    Rounds {
        seed: u64,
        rounds: usize,
    },
}

fn kept_cases() -> Vec<(String, Kept)> {
    if std::env::var("ROSTER_MODEL_REGRESSIONS").is_ok_and(|v| v == "off") {
        return Vec::new();
    }
    let text = std::fs::read_to_string(REGRESSIONS).unwrap_or_else(|e| panic!("{REGRESSIONS}: {e}"));
    text.lines()
        .enumerate()
        .filter_map(|(n, line)| {
            let case = line.split('#').next().unwrap_or_default().trim();
            (!case.is_empty()).then(|| (case.to_owned(), parse_kept(case, n + 1)))
        })
        .collect()
}

fn parse_kept(case: &str, line: usize) -> Kept {
    let bad = |why: &str| -> ! { panic!("{REGRESSIONS}:{line}: {why}: {case}") };
    let mut words = case.split_whitespace();
    let phase = words.next().unwrap_or_default();
    let mut fields = std::collections::BTreeMap::new();
    for word in words {
        let (key, value) = word.split_once('=').unwrap_or_else(|| bad("expected key=value"));
        fields.insert(key, value);
    }
    let number = |key: &str| -> Option<u64> {
        fields.get(key).map(|v| v.parse().unwrap_or_else(|_| bad(&format!("{key} is not a number"))))
    };
    let seed = number("seed").unwrap_or_else(|| bad("no seed="));
    match (phase, number("round"), number("rounds")) {
        ("sequential", None, None) => Kept::Sequential {
            seed,
            steps: number("steps").unwrap_or_else(|| bad("no steps=")) as usize,
            setting: number("setting").map(|i| i as usize),
            workspaces: match fields.get("workspaces").copied() {
                None | Some("on") => true,
                Some("off") => false,
                Some(_) => bad("workspaces= is on or off"),
            },
            authorize: match fields.get("authorize").copied() {
                None | Some("on") => true,
                Some("off") => false,
                Some(_) => bad("authorize= is on or off"),
            },
            // Off unless said: the cases kept before issue 26 replay their steps unchanged.
            mail: match fields.get("mail").copied() {
                None | Some("off") => false,
                Some("on") => true,
                Some(_) => bad("mail= is on or off"),
            },
            // Off unless said, likewise for the cases kept before issue 27.
            search: match fields.get("search").copied() {
                None | Some("off") => false,
                Some("on") => true,
                Some(_) => bad("search= is on or off"),
            },
            // Off unless said, likewise for the cases kept before issue 28.
            usage: match fields.get("usage").copied() {
                None | Some("off") => false,
                Some("on") => true,
                Some(_) => bad("usage= is on or off"),
            },
            // Users added with a temporary password: off unless said, for the cases kept
            // before them (issue 28).
            accounts: match fields.get("accounts").copied() {
                None | Some("off") => false,
                Some("on") => true,
                Some(_) => bad("accounts= is on or off"),
            },
        },
        ("concurrent", Some(round), None) => Kept::Round {
            seed,
            round: round as usize,
            calls: fields.get("calls").map(|list| {
                let numbers = list.split(',').filter(|i| !i.is_empty());
                numbers.map(|i| i.parse().unwrap_or_else(|_| bad("calls= is not numbers"))).collect()
            }),
        },
        ("concurrent", None, Some(rounds)) => Kept::Rounds { seed, rounds: rounds as usize },
        _ => {
            bad("expected `sequential seed= steps=`, `concurrent seed= round=` or `concurrent seed= rounds=`")
        }
    }
}

/// A sequence to generate and run: a kept case or the fresh run's share of a setting.
struct Job {
    label: String,
    top_seed: u64,
    setting_index: usize,
    steps: usize,
    workspaces: bool,
    authorize: bool,
    mail: bool,
    search: bool,
    usage: bool,
    accounts: bool,
}

/// Stacks for the test bodies and their runtime's workers: a debug build polls the handlers'
/// futures (the workspace routes' are deep) through more than the 2 MiB a test thread has,
/// which aborted the whole binary now and then ("has overflowed its stack").
const STACK: usize = 64 << 20;

/// Runs `body` to its end on a thread and a four-worker runtime with [`STACK`]-sized stacks;
/// its panic is the test's.
fn on_large_stacks<F, Fut>(body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let thread = std::thread::Builder::new().name("model".into()).stack_size(STACK).spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .thread_stack_size(STACK)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(body());
    });
    if let Err(panic) = thread.expect("a thread").join() {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn sequences_of_every_operation_match_the_model() {
    on_large_stacks(sequences);
}

#[test]
fn concurrent_conflicting_requests_keep_the_invariants() {
    on_large_stacks(concurrent_rounds);
}

async fn sequences() {
    let seed = seed();
    let total = env_number("ROSTER_MODEL_STEPS").unwrap_or(4600) as usize;
    let only = std::env::var("ROSTER_MODEL_SETTING").ok();
    let settings: Vec<usize> = (0..run::SETTINGS.len())
        .filter(|&i| only.as_deref().is_none_or(|o| run::SETTINGS[i].name.contains(o)))
        .collect();
    let per_setting = total.div_ceil(run::SETTINGS.len());
    let mut jobs = Vec::new();
    for (line, case) in kept_cases() {
        if let Kept::Sequential {
            seed,
            steps,
            setting,
            workspaces,
            authorize,
            mail,
            search,
            usage,
            accounts,
        } = case
        {
            let indices: Vec<usize> = match setting {
                Some(i) if i < run::SETTINGS.len() => vec![i],
                Some(i) => panic!("{REGRESSIONS}: no setting {i}: {line}"),
                None => (0..run::SETTINGS.len()).collect(),
            };
            for i in indices {
                let label = format!("kept: {line}");
                jobs.push(Job {
                    label,
                    top_seed: seed,
                    setting_index: i,
                    steps,
                    workspaces,
                    authorize,
                    mail,
                    search,
                    usage,
                    accounts,
                });
            }
        }
    }
    let kept = jobs.len();
    if kept > 0 {
        println!("model: {kept} kept sequences from tests/model-regressions.txt first");
    }
    for &i in &settings {
        let job = Job {
            label: "fresh".into(),
            top_seed: seed,
            setting_index: i,
            steps: per_setting,
            workspaces: true,
            authorize: true,
            mail: true,
            search: true,
            usage: true,
            accounts: true,
        };
        jobs.push(job);
    }
    println!(
        "model: seed {seed} (ROSTER_MODEL_SEED={seed}), {per_setting} steps in each of {} settings",
        settings.len()
    );
    let started = Instant::now();
    let outcomes = futures::future::join_all(jobs.iter().map(|job| {
        let setting = run::SETTINGS[job.setting_index];
        let seed = setting_seed(job.top_seed, job.setting_index);
        run::generate(
            setting,
            seed,
            job.steps,
            (job.workspaces, job.authorize, job.mail, job.search, job.usage),
            job.accounts,
        )
    }))
    .await;
    let mut failures = Vec::new();
    let mut tally = std::collections::BTreeMap::<String, u64>::new();
    for (job, outcome) in jobs.iter().zip(outcomes) {
        match outcome {
            Ok(done) => {
                println!(
                    "model: {} steps ({} skipped), {} requests ({}, {})",
                    done.steps,
                    done.skipped,
                    done.requests,
                    run::SETTINGS[job.setting_index].name,
                    job.label
                );
                for (k, v) in done.tally {
                    *tally.entry(k).or_default() += v;
                }
            }
            Err(failure) => failures.push((job, failure)),
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
    for (job, failure) in &failures {
        let replay = format!(
            "sequential seed={} setting={} steps={}{}{}{}{}{}{}",
            job.top_seed,
            job.setting_index,
            failure.ops.len(),
            if job.workspaces { "" } else { " workspaces=off" },
            if job.authorize { "" } else { " authorize=off" },
            if job.mail { " mail=on" } else { "" },
            if job.search { " search=on" } else { "" },
            if job.usage { " usage=on" } else { "" },
            if job.accounts { " accounts=on" } else { "" }
        );
        println!(
            "model: FAILED after {} steps in \"{}\" ({}, seed {}): {}\nreplay: {replay}\nshrinking...",
            failure.ops.len(),
            failure.setting.name,
            job.label,
            job.top_seed,
            failure.message
        );
        let (ops, message, replays) = run::shrink(failure, budget).await;
        let case = run::describe(failure.setting, &ops, &message);
        println!("model: shrunk to {} steps in {replays} replays:\n{case}", ops.len());
        report.push_str(&format!("{} (seed {}); replay: {replay}\n{case}", job.label, job.top_seed));
    }
    panic!(
        "model-based test failed (each case with its replay line for tests/model-regressions.txt; \
         the fresh run was ROSTER_MODEL_SEED={seed} ROSTER_MODEL_STEPS={total}):\n{report}"
    );
}

async fn concurrent_rounds() {
    let first = seed();
    let given = env_number("ROSTER_MODEL_SEED").is_some();
    let runs = env_number("ROSTER_MODEL_SEEDS").unwrap_or(if given { 1 } else { 3 }) as usize;
    let rounds = env_number("ROSTER_MODEL_ROUNDS").unwrap_or(13) as usize;
    let started = Instant::now();
    let mut failed: Vec<(String, concurrent::Played)> = Vec::new();
    let skip = roster_tests::model::generate::skip_tags();
    for (line, case) in kept_cases() {
        match case {
            Kept::Round { round, .. } if skip.contains(&concurrent::Kind::of(round).tag()) => {
                println!("concurrent: kept round skipped (ROSTER_MODEL_SKIP): {line}");
            }
            Kept::Round { seed, round, calls } => {
                let (played, _) =
                    concurrent::replay_until(seed, round, calls.as_deref(), None, KEPT_ROUND_PLAYS).await;
                let verdict = if played.violations.is_empty() { "held" } else { "FAILED" };
                println!("concurrent: kept round {verdict}: {line}");
                if !played.violations.is_empty() {
                    failed.push((format!("kept: {line}"), played));
                }
            }
            Kept::Rounds { seed, rounds } => {
                println!("concurrent: kept run: {line}");
                let summary = concurrent::run(seed, rounds).await;
                failed.extend(summary.failed.into_iter().map(|p| (format!("kept: {line}"), p)));
            }
            Kept::Sequential { .. } => {}
        }
    }
    println!("concurrent: kept cases took {:.1}s", started.elapsed().as_secs_f64());
    let mut seed = first;
    let mut summary = concurrent::Summary::default();
    for n in 0..runs {
        if n > 0 {
            seed = roster_tests::model::rng::Rng::new(seed).next_u64();
        }
        println!(
            "concurrent: run {} of {runs}: seed {seed} (ROSTER_MODEL_SEED={seed}), {rounds} rounds",
            n + 1
        );
        let run_started = Instant::now();
        let this = concurrent::run(seed, rounds).await;
        println!(
            "concurrent: seed {seed}: {} rounds, {} requests, {} failed, in {:.1}s",
            this.rounds,
            this.requests,
            this.failed.len(),
            run_started.elapsed().as_secs_f64()
        );
        summary.merge(this);
    }
    failed.extend(summary.failed.drain(..).map(|p| ("fresh".to_owned(), p)));
    println!("concurrent: {summary}\nconcurrent phase took {:.1}s", started.elapsed().as_secs_f64());
    if failed.is_empty() {
        return;
    }
    // Shrink the first failing round of each invariant; list the others as they failed.
    let mut shrinking: Vec<usize> = Vec::new();
    for (i, (_, played)) in failed.iter().enumerate() {
        let invariant = played.violations[0].invariant;
        if !shrinking.iter().any(|&j| failed[j].1.violations[0].invariant == invariant) {
            shrinking.push(i);
        }
    }
    let total_budget = env_number("ROSTER_MODEL_SHRINK_SECS").unwrap_or(150);
    let budget = Duration::from_secs(total_budget / shrinking.len() as u64);
    let mut report = String::new();
    for (i, (label, played)) in failed.iter().enumerate() {
        println!("concurrent: FAILED ({label}): {played}");
        if !shrinking.contains(&i) {
            report.push_str(&format!("{label}: {played}\n"));
            continue;
        }
        println!("shrinking (plays of each candidate: {})...", concurrent::PLAYS_PER_CANDIDATE);
        let (shortest, plays) = concurrent::shrink(played, budget).await;
        if shortest.fired.len() < played.fired.len() {
            println!("concurrent: shrunk to {} calls in {plays} plays: {shortest}", shortest.fired.len());
            report.push_str(&format!("{label}, shrunk: {shortest}\n"));
        } else {
            println!("concurrent: no shorter list of calls broke it again in {plays} plays");
            report.push_str(&format!("{label} (did not shrink): {played}\n"));
        }
    }
    panic!("invariants broken:\n{report}");
}
