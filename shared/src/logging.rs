//! Log lines on stdout for CloudWatch: JSON when the function's log format is JSON (the
//! template sets it), filtered at the function's log level. Lambda stamps the time.
//!
//! No level may write a token. Our own code never logs one; other crates log at most DEBUG,
//! whatever the level, because their TRACE lines carry request and response bodies:
//! lambda_runtime the raw event (the `token` of preview, accept and decline), aws_sigv4 the
//! request it signs (the SES email with its accept link, when `LOG_SIGNABLE_BODY=true`) and
//! the canonical request (with the session token in Lambda), aws_smithy_runtime the HTTP
//! responses. Their DEBUG lines (connections, retries, errors) carry no body. Records of the
//! `log` crate go nowhere: no `log` logger is installed.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The most any crate but ours may log.
const DEPENDENCY_CAP: LevelFilter = LevelFilter::DEBUG;

/// Our crate's targets: tracing's default target is the module path. Targets match by plain
/// prefix, so the `::` keeps out any other crate whose name starts with `roster`.
const OURS: &str = "roster::";

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).ok();
    let level = level_filter(level.as_deref());
    let logs = tracing_subscriber::fmt().with_target(false).without_time().with_max_level(level);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    // A plain prefix filter (no regex, unlike EnvFilter): cheap, and small in the binary.
    let targets = targets(level);
    // Fails only if a subscriber is already installed, which is then kept.
    let _ = if json {
        logs.json().finish().with(targets).try_init()
    } else {
        logs.finish().with(targets).try_init()
    };
    tracing::trace!(dependencies = %level.min(DEPENDENCY_CAP), "other crates log at most DEBUG: their TRACE lines carry bodies");
}

/// Ours at `level`; any other crate at `level` too, but never below DEBUG.
fn targets(level: LevelFilter) -> Targets {
    Targets::new().with_default(level.min(DEPENDENCY_CAP)).with_target(OURS, level)
}

/// Lambda's levels (`TRACE` … `ERROR`, `FATAL`) or a single `RUST_LOG` level; `INFO` otherwise.
fn level_filter(level: Option<&str>) -> LevelFilter {
    match level {
        Some(level) if level.eq_ignore_ascii_case("fatal") => LevelFilter::ERROR,
        Some(level) => level.parse().unwrap_or(LevelFilter::INFO),
        None => LevelFilter::INFO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_levels_map_to_filters() {
        assert_eq!(level_filter(Some("DEBUG")), LevelFilter::DEBUG);
        assert_eq!(level_filter(Some("warn")), LevelFilter::WARN);
        assert_eq!(level_filter(Some("FATAL")), LevelFilter::ERROR);
        assert_eq!(level_filter(Some("aws_smithy=debug")), LevelFilter::INFO);
        assert_eq!(level_filter(None), LevelFilter::INFO);
    }

    #[test]
    fn dependencies_never_trace() {
        use tracing::Level;
        let trace = targets(LevelFilter::TRACE);
        for target in [
            "lambda_runtime::layers::api_response",
            "lambda_http",
            "aws_sigv4::http_request::sign",
            "aws_smithy_runtime::client::orchestrator",
            "hyper_util::client::legacy::pool",
            "h2::codec",
            "rustls::client",
            "rosterish",
        ] {
            assert!(!trace.would_enable(target, &Level::TRACE), "{target}");
            assert!(trace.would_enable(target, &Level::DEBUG), "{target}");
        }
        assert!(trace.would_enable("roster::handlers::accept", &Level::TRACE));
        let info = targets(LevelFilter::INFO);
        assert!(!info.would_enable("roster::store", &Level::DEBUG));
        assert!(!info.would_enable("aws_smithy_runtime", &Level::DEBUG));
        assert!(info.would_enable("aws_smithy_runtime", &Level::INFO));
        let off = targets(LevelFilter::OFF);
        assert!(
            !off.would_enable("roster::app", &Level::ERROR) && !off.would_enable("aws_config", &Level::ERROR)
        );
    }
}
