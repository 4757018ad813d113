//! The `aws` backend: aws-sdk-ecs and aws-sdk-elasticloadbalancingv2 through aws-config.
//! STUB: being written; the public API below is fixed.

use std::time::Duration;

use super::Cloud;
use super::error::CloudError;

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

/// Builds both clients from the options (loads the AWS config: credentials chain, region).
pub async fn connect(options: &AwsOptions) -> Result<Cloud, CloudError> {
    let _ = options;
    unimplemented!("aws backend is being written")
}
