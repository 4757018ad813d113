//! The `ecs-operator` binary: parse the command line, set up logging, run the command.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use ecs_operator::cli::{self, Cli, LogFormat};
use tracing_subscriber::EnvFilter;

/// The SDK's own targets (a directive's target is a prefix: `aws_smithy` covers every
/// `aws_smithy_*` crate), kept at `error` unless `--log-level` or RUST_LOG names them: their
/// warnings (a missing profile file, an unreachable instance metadata service) are not the
/// operator's, which reports what matters in one line of its own.
const SDK_QUIET: &str = "aws_config=error,aws_credential_types=error,aws_runtime=error,\
    aws_sigv4=error,aws_smithy=error,aws_sdk=error";

/// The log filter: [`SDK_QUIET`], then `--log-level`, then RUST_LOG (a later directive for the
/// same target wins, so either can raise the SDK's targets). An unreadable filter falls back
/// on `info` with the SDK quiet.
fn log_filter(log_level: &str, rust_log: Option<&str>) -> EnvFilter {
    let mut directives = format!("{SDK_QUIET},{log_level}");
    if let Some(extra) = rust_log.filter(|s| !s.trim().is_empty()) {
        directives.push(',');
        directives.push_str(extra);
    }
    EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new(format!("{SDK_QUIET},info")))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = log_filter(&cli.global.log_level, rust_log.as_deref());
    // Colours only on a terminal: on Fargate stderr goes to CloudWatch Logs.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match cli.global.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            let e = anyhow::Error::from(e);
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;
    use tracing_subscriber::layer::SubscriberExt;

    /// Whether an event of `target` at `level` passes the filter.
    fn passes(filter: EnvFilter, target: &'static str, level: Level) -> bool {
        let subscriber = tracing_subscriber::registry().with(filter);
        tracing::subscriber::with_default(subscriber, || match (target, level) {
            ("aws_config", Level::WARN) => tracing::enabled!(target: "aws_config", Level::WARN),
            ("aws_config", Level::DEBUG) => tracing::enabled!(target: "aws_config", Level::DEBUG),
            ("ecs_operator", Level::INFO) => tracing::enabled!(target: "ecs_operator", Level::INFO),
            ("ecs_operator", Level::DEBUG) => {
                tracing::enabled!(target: "ecs_operator", Level::DEBUG)
            }
            _ => unreachable!("add the case"),
        })
    }

    #[test]
    fn the_sdk_warnings_stay_below_the_default_level_unless_asked_for() {
        let default = || log_filter("info", None);
        assert!(!passes(default(), "aws_config", Level::WARN));
        assert!(passes(default(), "ecs_operator", Level::INFO));
        assert!(!passes(default(), "ecs_operator", Level::DEBUG));
        // A global level does not raise them; naming them does, on the flag or in RUST_LOG.
        assert!(!passes(
            log_filter("trace", None),
            "aws_config",
            Level::WARN
        ));
        assert!(passes(
            log_filter("aws_config=debug", None),
            "aws_config",
            Level::DEBUG
        ));
        let rust_log = log_filter("info", Some("aws_config=warn"));
        assert!(passes(rust_log, "aws_config", Level::WARN));
        assert!(passes(
            log_filter("ecs_operator=debug", None),
            "ecs_operator",
            Level::DEBUG
        ));
        // A filter that does not parse is `info`, SDK quiet.
        let bad = || log_filter("ecs_operator=nonsense[", None);
        assert!(passes(bad(), "ecs_operator", Level::INFO));
        assert!(!passes(bad(), "aws_config", Level::WARN));
    }
}
