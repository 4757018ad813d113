//! Choosing and connecting a backend from the command line: `aws` (the SDK, optionally
//! against an emulator's endpoint) or `sim` (the in-process simulator), behind the call
//! layers: client-side rate limits, then instrumentation (when metrics are kept), then the
//! failed-call log line, then (for `sim`) the simulator's request counter and faults.
//!
//! It sits above `cloud`, `ratelimit` and `metrics`, which it puts together, so that `cloud`
//! imports nothing above it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::cloud::Cloud;
use crate::cloud::aws::{self, AwsConnectError, AwsOptions};
use crate::cloud::layer::{Layer, Layered, LogFailures};
use crate::cloud::sim::{Sim, SimConfig, SimStateError};
use crate::metrics::{Instrument, Metrics};
use crate::ratelimit::{Admission, RateLimits};

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
    /// File the simulated account is loaded from and saved to (`sim`), so that one command
    /// sees what an earlier one did; `None` keeps it in memory only.
    pub sim_state: Option<PathBuf>,
    /// Images that crash on start in the simulator (`sim`): substrings of the image reference.
    pub sim_crashing_images: Vec<String>,
    /// Client-side token buckets and in-flight cap every call goes through (both backends).
    pub rate_limits: RateLimits,
    /// Where to count the calls and token waits (`None`: not counted). The instrumentation
    /// sits inside the rate limiter, so it counts the calls really sent.
    pub metrics: Option<Metrics>,
    /// Log each failed call at WARN (the controller, whose failures are otherwise only in its
    /// status), or at DEBUG (one-shot commands, which print the failure as their own error).
    pub warn_failed_calls: bool,
}

impl BackendOptions {
    /// The layers every call goes through, outermost first: rate limiter, instrumentation
    /// (when [`BackendOptions::metrics`] is set), the failed-call log line.
    fn layers(&self) -> Vec<Arc<dyn Layer>> {
        let hook = self.metrics.as_ref().map(Metrics::rate_limit_hook);
        let mut layers: Vec<Arc<dyn Layer>> =
            vec![Arc::new(Admission::new(&self.rate_limits, hook))];
        if let Some(m) = &self.metrics {
            layers.push(Arc::new(Instrument::new(m)));
        }
        layers.push(Arc::new(LogFailures {
            warn: self.warn_failed_calls,
        }));
        layers
    }
}

/// A connected backend: the clients (behind the call layers), and the simulator when it is
/// one.
#[derive(Debug, Clone)]
pub struct Connected {
    /// The clients.
    pub cloud: Cloud,
    /// The simulator behind `cloud`, for `sim`.
    pub sim: Option<Sim>,
}

/// Why a backend could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The AWS configuration is not usable (no region, no credentials).
    #[error(transparent)]
    Aws(#[from] AwsConnectError),
    /// The simulator's state file could not be read or written.
    #[error(transparent)]
    SimState(#[from] SimStateError),
}

impl Connected {
    /// Saves the simulated account where it was loaded from (nothing for `aws`).
    pub fn persist(&self, options: &BackendOptions) -> Result<(), ConnectError> {
        if let (Some(sim), Some(path)) = (&self.sim, &options.sim_state) {
            sim.save(path)?;
        }
        Ok(())
    }
}

/// Connects the chosen backend.
pub async fn connect(options: &BackendOptions) -> Result<Connected, ConnectError> {
    let mut layers = options.layers();
    match options.kind {
        BackendKind::Aws => {
            let aws_options = AwsOptions {
                region: options.region.clone(),
                endpoint_url: options.endpoint_url.clone(),
                max_attempts: options.max_attempts.max(1),
                initial_backoff: Duration::from_secs(1),
                ..AwsOptions::default()
            };
            let cloud = aws::connect(&aws_options).await?;
            Ok(Connected {
                cloud: Layered::new(cloud, layers).cloud(),
                sim: None,
            })
        }
        BackendKind::Sim => {
            let config = SimConfig {
                crashing_images: options.sim_crashing_images.clone(),
                ..SimConfig::default()
            };
            let sim = match &options.sim_state {
                Some(path) => match Sim::load(config.clone(), path) {
                    Ok(sim) => sim,
                    Err(SimStateError::NotFound { .. }) => Sim::new(config),
                    Err(e) => return Err(e.into()),
                },
                None => Sim::new(config),
            };
            layers.extend(sim.layers());
            Ok(Connected {
                cloud: Layered::new(sim.endpoints(), layers).cloud(),
                sim: Some(sim),
            })
        }
    }
}
