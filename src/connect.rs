//! Choosing and connecting a backend from the command line: `aws` (the SDK, optionally
//! against an emulator's endpoint) or `sim` (the in-process simulator), behind the call
//! layers: client-side rate limits, then instrumentation (when metrics are kept), then the
//! failed-call log line, then (for `sim`) the simulator's request counter and faults. With
//! leader election the [`LeaderGate`] sits right after the rate limiter, and the lease store
//! ([`Connected::lease_store`]) runs its DynamoDB calls through the same layers (no gate).
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
use crate::lease::dynamodb::DynamoLeaseStore;
use crate::lease::sim::SimLeases;
use crate::lease::{LeaderGate, LeaseStore};
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
    /// Lifecycle hooks that fail in the simulator (`sim`): substrings of the Lambda ARN.
    pub sim_failing_hooks: Vec<String>,
    /// Whether the simulator throttles like AWS (`sim`; `--sim-throttling`).
    pub sim_throttling: bool,
    /// The load of services for the simulator's target tracking scaler (`sim`;
    /// `--sim-load CLUSTER/SERVICE=PERCENT`): (cluster, service, percent of one task).
    pub sim_load: Vec<(String, String, f64)>,
    /// Client-side token buckets and in-flight cap every call goes through (both backends).
    pub rate_limits: RateLimits,
    /// Where to count the calls and token waits (`None`: not counted). The instrumentation
    /// sits inside the rate limiter, so it counts the calls really sent.
    pub metrics: Option<Metrics>,
    /// Log each failed call at WARN (the controller, whose failures are otherwise only in its
    /// status), or at DEBUG (one-shot commands, which print the failure as their own error).
    pub warn_failed_calls: bool,
    /// With leader election: the gate every mutating ECS/ELBv2 call passes just before it is
    /// sent (after the rate limiter's wait).
    pub gate: Option<LeaderGate>,
}

impl BackendOptions {
    /// The layers every call goes through, outermost first: rate limiter, the leader gate
    /// (when `gate` is set), instrumentation (when [`BackendOptions::metrics`] is set), the
    /// failed-call log line.
    fn layers(&self, gate: Option<&LeaderGate>) -> Vec<Arc<dyn Layer>> {
        let hook = self.metrics.as_ref().map(Metrics::rate_limit_hook);
        let mut layers: Vec<Arc<dyn Layer>> =
            vec![Arc::new(Admission::new(&self.rate_limits, hook))];
        if let Some(gate) = gate {
            layers.push(Arc::new(gate.clone()));
        }
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
#[derive(Clone)]
pub struct Connected {
    /// The clients.
    pub cloud: Cloud,
    /// The simulator behind `cloud`, for `sim`.
    pub sim: Option<Sim>,
    /// The SDK configuration the clients were made from (`aws`).
    sdk: Option<aws_config::SdkConfig>,
    /// The layers of the lease store's calls: those of the clients less the gate.
    lease_layers: Vec<Arc<dyn Layer>>,
}

impl std::fmt::Debug for Connected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connected")
            .field("cloud", &self.cloud)
            .field("sim", &self.sim)
            .finish_non_exhaustive()
    }
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
    /// The lease store of `table`: DynamoDB (`aws`, the same endpoint, credentials and call
    /// layers as the clients) or, for `sim`, a table in this process's memory (the simulated
    /// account is one process's: a second process has its own).
    pub fn lease_store(&self, table: &str) -> Arc<dyn LeaseStore> {
        match &self.sdk {
            Some(sdk) => Arc::new(DynamoLeaseStore::new(
                aws_sdk_dynamodb::Client::new(sdk),
                table,
                self.lease_layers.clone(),
            )),
            None => SimLeases::new().store(self.lease_layers.clone()),
        }
    }

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
    let mut layers = options.layers(options.gate.as_ref());
    let lease_layers = options.layers(None);
    match options.kind {
        BackendKind::Aws => {
            let mut aws_options = AwsOptions {
                region: options.region.clone(),
                endpoint_url: options.endpoint_url.clone(),
                max_attempts: options.max_attempts.max(1),
                initial_backoff: Duration::from_secs(1),
                ..AwsOptions::default()
            };
            // With leader election, a call (its SDK retries included) ends within the lease's
            // margin, so one let through just before the deadline ends before the lease could
            // expire.
            if let Some(limit) = options.gate.as_ref().and_then(LeaderGate::call_limit) {
                aws_options.operation_timeout = aws_options.operation_timeout.min(limit);
                aws_options.attempt_timeout = aws_options.attempt_timeout.min(limit);
            }
            let sdk = aws::sdk_config(&aws_options).await?;
            let cloud = aws::cloud_from_config(&sdk);
            Ok(Connected {
                cloud: Layered::new(cloud, layers).cloud(),
                sim: None,
                sdk: Some(sdk),
                lease_layers,
            })
        }
        BackendKind::Sim => {
            let config = SimConfig {
                crashing_images: options.sim_crashing_images.clone(),
                failing_hooks: options.sim_failing_hooks.clone(),
                throttling: options.sim_throttling,
                ..SimConfig::default()
            };
            // A state file is locked and written after every mutating call.
            let sim = match &options.sim_state {
                Some(path) => Sim::open(config, path)?,
                None => Sim::new(config),
            };
            for (cluster, service, percent) in &options.sim_load {
                sim.set_load(cluster, service, Some(*percent));
            }
            layers.extend(sim.layers());
            Ok(Connected {
                cloud: Layered::new(sim.endpoints(), layers).cloud(),
                sim: Some(sim),
                sdk: None,
                lease_layers,
            })
        }
    }
}
