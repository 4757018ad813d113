//! The leader gate: a call [`Layer`] that fails every mutating ECS/ELBv2 call (not
//! [`Operation::is_read`](crate::cloud::operation::Operation::is_read)) when this process does not hold the lease with time to spare. The
//! elector opens it until a tokio instant (the send time of the last successful acquire or
//! renew, plus the lease duration, less the margin) and closes it when it steps down; the
//! gate compares that instant with the clock at the moment the call is about to be sent, so a
//! leader whose renewals stall stops mutating at its deadline even before the elector notices.
//! `connect` puts it after the rate limiter (a call waiting for a token is checked after the
//! wait) and before the instrumentation (a refused call is not counted as sent).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::time::Instant;

use crate::cloud::layer::{CallInfo, Layer, Ticket};
use crate::cloud::{AwsService, CloudError, CloudResult, ErrorKind};

/// The AWS-like code of a call the gate refused.
pub const NOT_LEADER: &str = "NotLeader";

#[derive(Debug, Default)]
struct Open {
    until: Option<Instant>,
    fencing: u64,
}

/// Open while the lease is held with time to spare. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct LeaderGate {
    open: Arc<Mutex<Open>>,
    call_limit: Option<std::time::Duration>,
}

impl LeaderGate {
    /// Closed.
    pub fn new() -> LeaderGate {
        LeaderGate::default()
    }

    /// Closed; a call the gate let through must end (retries included) within `limit`, the
    /// lease's margin: `connect` caps the AWS SDK's operation and attempt timeouts at it, so
    /// a call sent just before the deadline cannot still be retrying once the lease expired.
    pub fn with_call_limit(limit: std::time::Duration) -> LeaderGate {
        LeaderGate {
            call_limit: Some(limit),
            ..LeaderGate::default()
        }
    }

    /// How long a call let through may take at most, if limited.
    pub fn call_limit(&self) -> Option<std::time::Duration> {
        self.call_limit
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Open until `until`, for the lease of this fencing number.
    pub fn open_until(&self, until: Instant, fencing: u64) {
        let mut open = self.lock();
        open.until = Some(until);
        open.fencing = fencing;
    }

    /// Closed (stepped down, released).
    pub fn close(&self) {
        self.lock().until = None;
    }

    /// Until when it is open, if it is.
    pub fn until(&self) -> Option<Instant> {
        self.lock().until
    }

    /// True when a mutating call may be sent now.
    pub fn is_open(&self) -> bool {
        self.lock().until.is_some_and(|u| Instant::now() < u)
    }

    /// The fencing number of the lease it was last opened for (0: never).
    pub fn fencing(&self) -> u64 {
        self.lock().fencing
    }
}

#[async_trait]
impl Layer for LeaderGate {
    async fn enter(&self, call: &CallInfo<'_>) -> CloudResult<Ticket> {
        let op = call.operation;
        if op.is_read() || op.service() == AwsService::Dynamodb || self.is_open() {
            return Ok(Ticket::none());
        }
        tracing::debug!(operation = %op, resource = %call.resource, "not sent: not the leader");
        Err(CloudError::new(
            ErrorKind::Other,
            op.as_str(),
            "not sent: this operator does not hold the leader lease with time to spare",
        )
        .with_code(NOT_LEADER))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cloud::Operation;
    use crate::cloud::layer::Resource;

    fn info(operation: Operation) -> CallInfo<'static> {
        CallInfo {
            operation,
            resource: Resource::None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn mutating_calls_pass_only_until_the_deadline_and_reads_always() {
        let gate = LeaderGate::new();
        let update = info(Operation::UpdateService);
        let read = info(Operation::DescribeServices);
        let lease = info(Operation::UpdateItem);
        let e = gate.enter(&update).await.unwrap_err();
        assert_eq!(e.code.as_deref(), Some(NOT_LEADER));
        assert!(gate.enter(&read).await.is_ok());
        assert!(gate.enter(&lease).await.is_ok());
        gate.open_until(Instant::now() + Duration::from_secs(10), 2);
        assert!(gate.enter(&update).await.is_ok());
        assert_eq!(gate.fencing(), 2);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(gate.enter(&update).await.is_err(), "closed at the deadline");
        gate.open_until(Instant::now() + Duration::from_secs(10), 2);
        gate.close();
        assert!(gate.enter(&update).await.is_err());
    }
}
