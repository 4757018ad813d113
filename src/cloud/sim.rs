//! The `sim` backend: an in-process simulator of the ECS and ELBv2 behaviour the operator
//! relies on, driven by tokio time. STUB: being written; the public API below is fixed.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Cloud;
use super::error::ErrorKind;

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Account id used in ARNs.
    pub account_id: String,
    /// Region used in ARNs.
    pub region: String,
    /// Images whose reference contains one of these strings crash on start.
    pub crashing_images: Vec<String>,
    /// Simulate AWS throttling buckets (aws-api-facts.md shapes).
    pub throttling: bool,
    /// Seed of the random generator (error rates, task ids, IPs): the same seed, the same run.
    pub seed: u64,
    /// How long a task takes from PENDING to RUNNING.
    pub task_start_time: Duration,
    /// How long a target takes from initial to healthy once its task runs.
    pub target_healthy_time: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            crashing_images: Vec::new(),
            throttling: true,
            seed: 1,
            task_start_time: Duration::from_secs(10),
            target_healthy_time: Duration::from_secs(15),
        }
    }
}

/// A fault to inject into one operation (`"DescribeServices"`, AWS spelling).
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Each call fails with this probability (0.0-1.0), with this kind.
    ErrorRate(f64, ErrorKind),
    /// The next `n` calls fail with this kind.
    FailNext(u32, ErrorKind),
    /// Each call takes this much longer (tokio time).
    Latency(Duration),
    /// Calls never return (until the caller's timeout or cancellation).
    Hang,
}

/// The simulator: cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct Sim {}

impl Sim {
    /// A new, empty simulated account.
    pub fn new(config: SimConfig) -> Sim {
        let _ = config;
        unimplemented!("sim backend is being written")
    }

    /// The simulator as the operator's [`Cloud`].
    pub fn cloud(&self) -> Cloud {
        unimplemented!()
    }

    /// Adds a fault to an operation (faults of one operation accumulate).
    pub fn inject(&self, operation: &str, fault: Fault) {
        let _ = (operation, fault);
        unimplemented!()
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        unimplemented!()
    }

    /// Calls made so far, per operation (AWS spelling), failed ones included.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        unimplemented!()
    }
}
