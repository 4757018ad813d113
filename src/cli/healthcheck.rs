//! `healthcheck`: one GET of the controller's `/healthz`, exit 0 on a 2xx answer and 1
//! otherwise, with one line saying why. The operator's image has no shell and no curl, so this
//! is its container health check (`["CMD", "/ecs-operator", "healthcheck"]`).
//!
//! Plain HTTP/1.1 through [`crate::http_client`]: the probe targets the controller in the same
//! task, on loopback.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::CliError;

/// The controller's health endpoint on its default `--metrics-addr`.
pub const DEFAULT_URL: &str = "http://127.0.0.1:9090/healthz";

/// `healthcheck` options.
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The URL to probe (plain `http://`).
    #[arg(long, env = "ECS_OPERATOR_HEALTHCHECK_URL", default_value = DEFAULT_URL)]
    pub url: String,
    /// Give up after this long (connect and answer together), e.g. `3s`, `500ms`.
    #[arg(long, env = "ECS_OPERATOR_HEALTHCHECK_TIMEOUT", default_value = "3s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// Why a probe did not find the operator healthy.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The URL is not a plain `http://host[:port]/path` URL.
    #[error("{0:?} is not an http:// URL")]
    BadUrl(String),
    /// Connecting or the HTTP exchange failed.
    #[error("{0}")]
    Request(String),
    /// No answer in time.
    #[error("no answer within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// An answer that is not 2xx.
    #[error("unhealthy: HTTP {0}")]
    Status(u16),
}

/// GETs `url` and returns the status code when it is 2xx.
pub async fn probe(url: &str, timeout: Duration) -> Result<u16, ProbeError> {
    use crate::http_client::HttpError;
    match crate::http_client::get(url, timeout).await {
        Ok((status, _)) if (200..300).contains(&status) => Ok(status),
        Ok((status, _)) => Err(ProbeError::Status(status)),
        Err(HttpError::BadUrl { url }) => Err(ProbeError::BadUrl(url)),
        Err(HttpError::Timeout { timeout, .. }) => Err(ProbeError::Timeout(timeout)),
        Err(HttpError::Request { message, .. }) => Err(ProbeError::Request(message)),
    }
}

/// `ecs-operator healthcheck`.
pub async fn healthcheck(
    args: &HealthcheckArgs,
    out: &mut impl Write,
) -> Result<ExitCode, CliError> {
    match probe(&args.url, args.timeout).await {
        Ok(status) => {
            writeln!(out, "healthy: HTTP {status} from {}", args.url)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let mut line = format!("unhealthy: {}: {e}", args.url);
            if let Some(source) = std::error::Error::source(&e) {
                line.push_str(&format!(": {source}"));
            }
            writeln!(out, "{line}")?;
            Ok(ExitCode::FAILURE)
        }
    }
}
