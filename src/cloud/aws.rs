//! The `aws` backend: aws-sdk-ecs and aws-sdk-elasticloadbalancingv2 through aws-config.
//!
//! [`connect`] loads one `SdkConfig` (standard credential chain and region, or the fixed ones of
//! [`AwsOptions`]; the endpoint URL of an emulator; retries and timeouts) and builds both clients
//! from it. The private modules below do the rest:
//!
//! - `ecs` / `elbv2`: the [`Ecs`](super::Ecs) and [`Elbv2`](super::Elbv2) implementations, one
//!   SDK call per trait method.
//! - `autoscaling`: [`AutoScaling`](super::AutoScaling) on aws-sdk-applicationautoscaling,
//!   with its policy conversions.
//! - `task_definition`, `service`, `target_group`: model <-> SDK type conversions.
//! - `convert`: what those share (integers, tags, times, enum tables).
//! - `errors`: the one mapping of SDK errors into [`CloudError`](super::CloudError).
//!
//! Batch limits (`MAX_*` in [`super`]) are not enforced here: AWS enforces them and its answer
//! is mapped like any other error. Nothing here logs above debug level; callers log.

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ecs::config::{Credentials, ProvideCredentials, SharedCredentialsProvider};

use super::Cloud;

mod autoscaling;
mod convert;
mod ecs;
mod elbv2;
pub(crate) mod errors;
mod generated;
mod listener_rule;
mod service;
mod service_deployments;
mod shape_conv;
mod target_group;
mod task_definition;
#[cfg(test)]
mod tests;

/// How to reach AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsOptions {
    /// Region; `None` uses the standard chain (AWS_REGION, profile, IMDS).
    pub region: Option<String>,
    /// Endpoint URL for emulators (moto server, LocalStack); `None` honours AWS_ENDPOINT_URL.
    pub endpoint_url: Option<String>,
    /// Fixed credentials (emulators); `None` uses the standard credential chain.
    pub static_credentials: Option<(String, String)>,
    /// Attempts per call, first one included (SDK standard retry; throttling and 5xx retried).
    pub max_attempts: u32,
    /// First retry backoff (full jitter, doubling, capped at 20 s).
    pub initial_backoff: Duration,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of one attempt.
    pub attempt_timeout: Duration,
    /// Timeout of a whole call, retries included.
    pub operation_timeout: Duration,
}

impl Default for AwsOptions {
    fn default() -> Self {
        AwsOptions {
            region: None,
            endpoint_url: None,
            static_credentials: None,
            max_attempts: 3,
            initial_backoff: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(20),
            operation_timeout: Duration::from_secs(60),
        }
    }
}

/// Where the SDK looks for credentials, for the one line a user sees when it found none.
pub(crate) const NO_CREDENTIALS: &str = "no AWS credentials found: set AWS_ACCESS_KEY_ID and \
     AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (~/.aws/credentials, ~/.aws/config), or run with a \
     container or instance role";

/// The AWS configuration cannot work: one clear line each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsConnectError {
    /// No region in the options, the environment or the profile.
    #[error("no AWS region: set --region or AWS_REGION (or a region in the AWS profile)")]
    NoRegion,
    /// The credentials chain found nothing.
    #[error("{NO_CREDENTIALS}")]
    NoCredentials,
    /// Nothing configures credentials, and the last place the chain tries (the instance
    /// metadata service) failed.
    #[error("{NO_CREDENTIALS} (the instance metadata service, tried last: {reason})")]
    NoCredentialsTried {
        /// What it answered, short.
        reason: String,
    },
}

/// Whether the environment or the AWS files configure a source of credentials (keys, a
/// profile, a container role, a web identity). Without one, the chain ends at the instance
/// metadata service, and its failure means "no credentials" rather than a hiccup to retry.
fn credentials_configured() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let configured_env = [
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ]
    .iter()
    .any(|name| set(name));
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let file = |env: &str, default: &str| {
        std::env::var_os(env)
            .map(std::path::PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(default)))
            .is_some_and(|p| p.is_file() && std::fs::metadata(&p).is_ok_and(|m| m.len() > 0))
    };
    configured_env
        || file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")
        || file("AWS_CONFIG_FILE", ".aws/config")
}

/// Builds both clients from the options (loads the AWS config: credentials chain, region).
///
/// Fails with [`AwsConnectError::NoRegion`] when no region can be found and with
/// [`AwsConnectError::NoCredentials`] when the credentials chain has none: every call would
/// fail otherwise. Other credential failures (a timeout of the instance metadata service) are
/// left to the first call, which retries them.
pub async fn connect(options: &AwsOptions) -> Result<Cloud, AwsConnectError> {
    Ok(cloud_from_config(&sdk_config(options).await?))
}

/// The SDK configuration of [`connect`], checked the same way: what the DynamoDB client of
/// the lease store (`crate::lease::dynamodb`) is built from, so it has the same endpoint URL,
/// region, credentials, retries and timeouts as the ECS and ELBv2 clients.
pub async fn sdk_config(options: &AwsOptions) -> Result<SdkConfig, AwsConnectError> {
    let config = load_sdk_config(options).await;
    if config.region().is_none() {
        return Err(AwsConnectError::NoRegion);
    }
    check_credentials(config.credentials_provider(), credentials_configured()).await?;
    tracing::debug!(
        region = ?config.region(),
        endpoint_url = ?config.endpoint_url(),
        "aws backend configured"
    );
    Ok(config)
}

/// [`AwsConnectError::NoCredentials`] when `provider` is missing or loads nothing; when no
/// source is `configured` (so the chain ended at the instance metadata service), any failure
/// is [`AwsConnectError::NoCredentialsTried`]. A configured source that fails (a container
/// role's endpoint slow to answer) is left to the first call, which retries it.
async fn check_credentials(
    provider: Option<SharedCredentialsProvider>,
    configured: bool,
) -> Result<(), AwsConnectError> {
    let Some(provider) = provider else {
        return Err(AwsConnectError::NoCredentials);
    };
    match provider.provide_credentials().await {
        Err(CredentialsError::CredentialsNotLoaded(_)) => Err(AwsConnectError::NoCredentials),
        Err(e) if !configured => Err(AwsConnectError::NoCredentialsTried {
            reason: short_reason(&e),
        }),
        _ => Ok(()),
    }
}

/// The innermost cause of an error, on one line and at most 120 characters.
fn short_reason(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(source) = inner.source() {
        inner = source;
    }
    let text = inner.to_string().replace('\n', " ");
    match text.char_indices().nth(120) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text,
    }
}

/// Loads the shared SDK configuration: defaults of the standard chain, overridden by `options`.
async fn load_sdk_config(options: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config(options))
        .timeout_config(timeout_config(options));
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some((access_key, secret_key)) = &options.static_credentials {
        loader = loader.credentials_provider(Credentials::new(
            access_key.clone(),
            secret_key.clone(),
            None,
            None,
            "static",
        ));
    }
    loader.load().await
}

/// SDK standard retry (throttling and transient errors) with the configured attempts/backoff.
fn retry_config(options: &AwsOptions) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(options.max_attempts.max(1))
        .with_initial_backoff(options.initial_backoff)
}

/// Connect, attempt and operation timeouts.
fn timeout_config(options: &AwsOptions) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(options.connect_timeout)
        .operation_attempt_timeout(options.attempt_timeout)
        .operation_timeout(options.operation_timeout)
        .build()
}

/// Both clients from one SDK configuration.
pub fn cloud_from_config(config: &SdkConfig) -> Cloud {
    Cloud {
        ecs: Arc::new(ecs::AwsEcs::new(aws_sdk_ecs::Client::new(config))),
        elbv2: Arc::new(elbv2::AwsElbv2::new(
            aws_sdk_elasticloadbalancingv2::Client::new(config),
        )),
        autoscaling: Arc::new(autoscaling::AwsAutoScaling::new(
            aws_sdk_applicationautoscaling::Client::new(config),
        )),
    }
}
