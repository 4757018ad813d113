//! `healthcheck`: one GET of the controller's `/healthz`, exit 0 on a 2xx answer and 1
//! otherwise, with one line saying why. The operator's image has no shell and no curl, so this
//! is its container health check (`["CMD", "/ecs-operator", "healthcheck"]`).
//!
//! Plain HTTP/1.1 over hyper (already in the dependency tree through the AWS SDK): the probe
//! targets the controller in the same task, on loopback.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

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
    /// Nothing accepted the connection.
    #[error("cannot connect to {addr}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP exchange failed.
    #[error("HTTP request failed")]
    Http(#[from] hyper::Error),
    /// The request could not be built.
    #[error("cannot build the request")]
    Request(#[from] hyper::http::Error),
    /// No answer in time.
    #[error("no answer within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// An answer that is not 2xx.
    #[error("unhealthy: HTTP {0}")]
    Status(u16),
}

/// GETs `url` and returns the status code when it is 2xx.
pub async fn probe(url: &str, timeout: Duration) -> Result<u16, ProbeError> {
    match tokio::time::timeout(timeout, get(url)).await {
        Ok(Ok(status)) if (200..300).contains(&status) => Ok(status),
        Ok(Ok(status)) => Err(ProbeError::Status(status)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(ProbeError::Timeout(timeout)),
    }
}

async fn get(url: &str) -> Result<u16, ProbeError> {
    let bad = || ProbeError::BadUrl(url.to_string());
    let uri: Uri = url.parse().map_err(|_| bad())?;
    if uri.scheme_str() != Some("http") {
        return Err(bad());
    }
    let host = uri.host().ok_or_else(bad)?;
    let addr = format!("{host}:{}", uri.port_u16().unwrap_or(80));
    let stream = TcpStream::connect(&addr)
        .await
        .map_err(|source| ProbeError::Connect {
            addr: addr.clone(),
            source,
        })?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // The connection future drives the socket; it ends when the exchange is over.
    let driver = tokio::spawn(connection);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = Request::get(path)
        .header(
            hyper::header::HOST,
            uri.authority().map_or(host, |a| a.as_str()),
        )
        .header(hyper::header::USER_AGENT, "ecs-operator-healthcheck")
        .body(Empty::<Bytes>::new())?;
    let response = sender.send_request(request).await;
    driver.abort();
    Ok(response?.status().as_u16())
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
