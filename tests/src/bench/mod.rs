//! The benchmark behind `make bench`: latency per route, cold starts, sizes and scale,
//! written to `BENCHMARKS.md`.

pub mod authorize;
pub mod cold_start;
pub mod contention;
pub mod deletion;
pub mod email;
pub mod events;
pub mod latency;
pub mod scale;
pub mod search;
pub mod size;
pub mod usage;
pub mod workspaces;

use std::time::Duration;

/// The `q`-quantile (0–1) of `samples`.
pub fn quantile(samples: &[Duration], q: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// Where the benchmark ran, for the report.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or_else(|| "?".into(), |kb| format!("{} GiB", kb / 1024 / 1024));
    format!("{cpu}, {cores} cores, {memory} memory, {}", std::env::consts::ARCH)
}

/// The machine's 1-minute load average (`/proc/loadavg`): how busy the shared machine was.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// A section's load averages at its start and end in a sentence ("" without them), saying
/// whether other work shared the cores.
pub fn load_note((start, end): (Option<f64>, Option<f64>)) -> String {
    let (Some(start), Some(end)) = (start, end) else {
        return String::new();
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let shared = if start.max(end) > cores as f64 {
        "above the core count: other work shared the machine, and the p99s carry it"
    } else {
        "at most the core count"
    };
    format!(
        "\nThe machine's 1-minute load average was {start:.1} when this section started and \
         {end:.1} when it ended, on {cores} cores: {shared}.\n"
    )
}
