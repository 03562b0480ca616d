//! Log lines on stdout for CloudWatch: JSON when the function's log format is JSON (the
//! template sets it), filtered at the function's log level. Lambda stamps the time.

use tracing_subscriber::filter::LevelFilter;

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).ok();
    let logs = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(level_filter(level.as_deref()));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    // Fails only if a subscriber is already installed, which is then kept.
    let _ = if json { logs.json().try_init() } else { logs.try_init() };
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
}
