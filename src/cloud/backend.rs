//! Choosing a backend from the command line: `aws` (the SDK, optionally against an emulator's
//! endpoint) or `sim` (the in-process simulator).

use std::time::Duration;

use super::aws::{self, AwsOptions};
use super::sim::{Sim, SimConfig};
use super::{Cloud, CloudError};

/// Which implementation of the cloud traits to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// Amazon Web Services through the AWS SDK (or an emulator given `--endpoint-url`).
    Aws,
    /// The in-process simulator: no AWS account needed.
    Sim,
}

/// Settings of the backend.
#[derive(Debug, Clone)]
pub struct BackendOptions {
    /// Which backend.
    pub kind: BackendKind,
    /// AWS region (`aws`).
    pub region: Option<String>,
    /// Endpoint URL of an emulator (`aws`).
    pub endpoint_url: Option<String>,
    /// Attempts per AWS call, retries included (`aws`).
    pub max_attempts: u32,
}

/// A connected backend: the clients, and the simulator when it is one.
#[derive(Debug, Clone)]
pub struct Connected {
    /// The clients.
    pub cloud: Cloud,
    /// The simulator behind `cloud`, for `sim`.
    pub sim: Option<Sim>,
}

/// Connects the chosen backend.
pub async fn connect(options: &BackendOptions) -> Result<Connected, CloudError> {
    match options.kind {
        BackendKind::Aws => {
            let aws_options = AwsOptions {
                region: options.region.clone(),
                endpoint_url: options.endpoint_url.clone(),
                max_attempts: options.max_attempts.max(1),
                initial_backoff: Duration::from_secs(1),
                ..AwsOptions::default()
            };
            Ok(Connected {
                cloud: aws::connect(&aws_options).await?,
                sim: None,
            })
        }
        BackendKind::Sim => {
            let sim = Sim::new(SimConfig::default());
            Ok(Connected {
                cloud: sim.cloud(),
                sim: Some(sim),
            })
        }
    }
}
