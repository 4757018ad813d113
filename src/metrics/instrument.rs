//! Counting and timing every cloud call: [`Instrument`] is a call
//! [`Layer`](crate::cloud::layer::Layer) recording `ecs_operator_api_requests_total` and
//! `ecs_operator_api_request_duration_seconds` with the AWS operation name as `operation`,
//! its service as `service`, and `ok` or the [`ErrorKind`](crate::cloud::ErrorKind) as
//! `outcome`.
//!
//! `connect` puts it inside the rate limiter (rate limiter, then instrumentation, then faults,
//! then the backend), so the counts are the calls really sent and the durations exclude token
//! waits.

use async_trait::async_trait;
use tokio::time::Instant;

use super::Metrics;
use crate::cloud::layer::{CallInfo, Layer, Layered, Ticket};
use crate::cloud::{Cloud, CloudError, CloudResult};
pub use crate::cloud::{DYNAMODB_OPERATIONS, ECS_OPERATIONS, ELBV2_OPERATIONS};

/// The layer counting and timing calls in [`Metrics`] (tokio time, so paused test time is
/// measured too).
#[derive(Debug, Clone)]
pub struct Instrument {
    metrics: Metrics,
}

impl Instrument {
    /// Counts calls in `metrics`.
    pub fn new(metrics: &Metrics) -> Instrument {
        Instrument {
            metrics: metrics.clone(),
        }
    }
}

#[async_trait]
impl Layer for Instrument {
    async fn enter(&self, _call: &CallInfo<'_>) -> CloudResult<Ticket> {
        Ok(Ticket::hold(Instant::now()))
    }

    fn exit(&self, call: &CallInfo<'_>, ticket: Ticket, outcome: Result<(), &mut CloudError>) {
        let elapsed = ticket.take::<Instant>().map(|start| start.elapsed());
        let op = call.operation;
        self.metrics.api_request(
            op.service().as_str(),
            op.as_str(),
            outcome.err().map(|e| e.kind),
            elapsed.unwrap_or_default(),
        );
    }
}

/// `cloud` with every call counted and timed in `metrics`.
pub fn instrument(cloud: Cloud, metrics: &Metrics) -> Cloud {
    let layer = std::sync::Arc::new(Instrument::new(metrics));
    Layered::new(cloud, vec![layer]).cloud()
}
