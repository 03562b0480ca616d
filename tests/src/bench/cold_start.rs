//! Cold starts: each release binary started against a minimal local Lambda Runtime API.
//! Measured: exec to the first `next` poll (init), exec to the first response (init plus
//! one real invocation against DynamoDB Local), and peak RSS after that invocation.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::{ms, quantile};
use crate::runtime_api::{RuntimeApi, Seen, function_command};

pub struct ColdStart {
    pub function: String,
    pub runs: usize,
    pub first_poll: Duration,
    pub first_response: Duration,
    pub peak_rss_kib: u64,
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A fixed key is fine here: the bench's cursors never leave this machine.
const CURSOR_KEY: &str = "YmVuY2gtb25seS1jdXJzb3Ita2V5LW5vdC1hLXNlY3JldA";

pub async fn measure(binary: &Path, event: &str, table: &str, runs: usize) -> ColdStart {
    let (mut polls, mut responses, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    let function = binary.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_owned();
    for _ in 0..runs {
        // Serves one invocation of `event`; the next poll is then held, as in Lambda.
        let mut runtime = RuntimeApi::start().await;
        runtime.queue(event.to_owned());
        let started = Instant::now();
        let mut child = function_command(binary, runtime.port)
            .env("TABLE_NAME", table)
            .env("ROSTER_FROM_EMAIL", "roster@example.test")
            .env("ROSTER_CURSOR_KEYS", CURSOR_KEY)
            .env("ROSTER_SERVICE_CLIENTS", "dev-service")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("function binary starts");
        let mut polled = None;
        while let Some((what, at)) = runtime.next_seen(Duration::from_secs(10)).await {
            match what {
                Seen::Poll if polled.is_none() => polled = Some(at - started),
                Seen::Poll => {}
                Seen::Response(_) => {
                    responses.push(at - started);
                    break;
                }
                Seen::Error(body) => panic!("{function} failed: {}", String::from_utf8_lossy(&body)),
            }
        }
        // Give the runtime a moment to poll again, then read the high-water mark.
        tokio::time::sleep(Duration::from_millis(20)).await;
        rss.push(peak_rss_kib(child.id()));
        let _ = child.kill();
        let _ = child.wait();
        polls.push(polled.expect("the function polled for an invocation"));
    }
    rss.sort();
    ColdStart {
        function,
        runs,
        first_poll: quantile(&polls, 0.5),
        first_response: quantile(&responses, 0.5),
        peak_rss_kib: rss.get(rss.len() / 2).copied().unwrap_or(0),
    }
}

pub fn markdown(rows: &[ColdStart]) -> String {
    let mut out = String::from(
        "| Function | Starts | Exec → first poll, median ms | Exec → first response, median ms | Peak RSS, median MiB |\n|---|---|---|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {:.1} |\n",
            r.function,
            r.runs,
            ms(r.first_poll),
            ms(r.first_response),
            r.peak_rss_kib as f64 / 1024.0
        ));
    }
    out
}
