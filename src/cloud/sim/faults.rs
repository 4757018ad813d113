//! Injected faults, as a call [`Layer`]: per operation, a list of [`Fault`]s that decide,
//! call by call, whether the call hangs, waits longer, or fails before it reaches the backend.
//! Error rates draw from their own seeded generator, so injecting faults does not change the
//! task ids and IPs the scheduler draws. The simulator holds one [`Faults`] layer
//! ([`Sim::inject`](super::Sim::inject)); any other backend can be put behind one too.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::Fault;
use crate::cloud::error::{CloudError, CloudResult, ErrorKind};
use crate::cloud::layer::{CallInfo, Layer, Ticket};
use crate::cloud::operation::{AwsService, Operation};

/// What the faults of an operation decided for one call.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Decision {
    /// Never answer.
    pub hang: bool,
    /// Wait this long before answering.
    pub latency: Duration,
    /// Fail with this kind (after the latency).
    pub fail: Option<ErrorKind>,
}

/// The injected faults, by operation: the fault injection layer.
#[derive(Debug)]
pub struct Faults {
    table: Mutex<Table>,
}

#[derive(Debug)]
struct Table {
    by_operation: BTreeMap<String, Vec<Fault>>,
    rng: StdRng,
}

impl Faults {
    /// No faults; error rates will draw from a generator seeded from `seed`.
    pub fn new(seed: u64) -> Faults {
        Faults {
            table: Mutex::new(Table {
                by_operation: BTreeMap::new(),
                // A different stream than the scheduler's, from the same seed.
                rng: StdRng::seed_from_u64(seed ^ 0x5eed_fa17_0000_0001),
            }),
        }
    }

    /// Adds a fault to an operation (AWS spelling; faults of one operation accumulate).
    pub fn inject(&self, operation: &str, fault: Fault) {
        let known = Operation::from_name(operation).is_some_and(Operation::is_called);
        if !known {
            tracing::warn!(
                operation,
                "fault injected into an operation the operator never calls"
            );
        }
        self.lock()
            .by_operation
            .entry(operation.to_string())
            .or_default()
            .push(fault);
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.lock().by_operation.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic elsewhere cannot leave the table half written.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides the fate of one call of `operation`: hangs win, latencies add up, the first
    /// pending `FailNext` is used up before error rates are drawn.
    pub(super) fn decide(&self, operation: &str) -> Decision {
        let mut decision = Decision::default();
        let mut table = self.lock();
        let Table { by_operation, rng } = &mut *table;
        let Some(faults) = by_operation.get_mut(operation) else {
            return decision;
        };
        for fault in faults.iter_mut() {
            match fault {
                Fault::Hang => decision.hang = true,
                Fault::Latency(d) => decision.latency = decision.latency.saturating_add(*d),
                Fault::FailNext(n, kind) if *n > 0 && decision.fail.is_none() => {
                    *n -= 1;
                    decision.fail = Some(*kind);
                }
                Fault::FailNext(..) | Fault::LoseAnswer(_) => {}
                Fault::ErrorRate(p, kind) => {
                    // Drawn even when the call already fails, so one rate's sequence does
                    // not depend on the other faults. NaN or <= 0 never fails; >= 1 always.
                    let draw: f64 = rng.random();
                    if draw < *p && decision.fail.is_none() {
                        decision.fail = Some(*kind);
                    }
                }
            }
        }
        faults.retain(|f| !matches!(f, Fault::FailNext(0, _)));
        decision
    }

    /// Whether the answer of this call of `operation`, made, is lost (uses up one
    /// [`Fault::LoseAnswer`]).
    pub(super) fn lose_answer(&self, operation: &str) -> bool {
        let mut table = self.lock();
        let Some(faults) = table.by_operation.get_mut(operation) else {
            return false;
        };
        let Some(n) = faults.iter_mut().find_map(|f| match f {
            Fault::LoseAnswer(n) if *n > 0 => Some(n),
            _ => None,
        }) else {
            return false;
        };
        *n -= 1;
        faults.retain(|f| !matches!(f, Fault::LoseAnswer(0)));
        true
    }
}

#[async_trait]
impl Layer for Faults {
    /// Hangs, waits, or fails the call as its operation's faults decide.
    async fn enter(&self, call: &CallInfo<'_>) -> CloudResult<Ticket> {
        let operation = call.operation;
        let decision = self.decide(operation.as_str());
        if decision.hang {
            std::future::pending::<()>().await;
        }
        if !decision.latency.is_zero() {
            tokio::time::sleep(decision.latency).await;
        }
        match decision.fail {
            Some(kind) => Err(injected_error(
                operation.service(),
                operation.as_str(),
                kind,
            )),
            None => Ok(Ticket::none()),
        }
    }

    /// A lost answer: a transient error with no AWS code, as a reset connection gives.
    fn lose(&self, call: &CallInfo<'_>) -> Option<CloudError> {
        let operation = call.operation.as_str();
        self.lose_answer(operation).then(|| {
            CloudError::new(
                ErrorKind::Transient,
                operation,
                "connection reset after the request was sent (injected fault: the call was made, its answer lost)",
            )
        })
    }
}

/// The error an injected failure answers with: the AWS code of that kind for that service,
/// so [`ErrorKind::from_aws_code`] maps it back to `kind`.
pub(super) fn injected_error(
    service: AwsService,
    operation: &'static str,
    kind: ErrorKind,
) -> CloudError {
    use AwsService as Api;
    let code = match (service, kind) {
        (Api::Ecs | Api::Dynamodb, ErrorKind::Throttled) => "ThrottlingException",
        (Api::Elbv2, ErrorKind::Throttled) => "Throttling",
        (Api::Ecs | Api::Dynamodb, ErrorKind::NotFound) => "ResourceNotFoundException",
        (Api::Elbv2, ErrorKind::NotFound) => "TargetGroupNotFound",
        (Api::Ecs, ErrorKind::Invalid) => "InvalidParameterException",
        (Api::Elbv2, ErrorKind::Invalid) => "ValidationError",
        (Api::Ecs | Api::Dynamodb, ErrorKind::Conflict) => "ResourceInUseException",
        (Api::Elbv2, ErrorKind::Conflict) => "ResourceInUse",
        (Api::Ecs | Api::Dynamodb, ErrorKind::AccessDenied) => "AccessDeniedException",
        (Api::Elbv2, ErrorKind::AccessDenied) => "AccessDenied",
        (Api::Ecs, ErrorKind::Transient) => "ServerException",
        (Api::Dynamodb, ErrorKind::Transient) => "InternalServerError",
        (Api::Dynamodb, ErrorKind::Invalid) => "ValidationException",
        (Api::Elbv2, ErrorKind::Transient) => "InternalFailure",
        // Application Auto Scaling's own codes.
        (Api::ApplicationAutoScaling, ErrorKind::Throttled) => "ThrottlingException",
        (Api::ApplicationAutoScaling, ErrorKind::NotFound) => "ObjectNotFoundException",
        (Api::ApplicationAutoScaling, ErrorKind::Invalid) => "ValidationException",
        (Api::ApplicationAutoScaling, ErrorKind::Conflict) => "ConcurrentUpdateException",
        (Api::ApplicationAutoScaling, ErrorKind::AccessDenied) => "AccessDeniedException",
        (Api::ApplicationAutoScaling, ErrorKind::Transient) => "InternalServiceException",
        (_, ErrorKind::Other) => "SimulatedFault",
    };
    CloudError::from_code(operation, code, "injected fault")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injected_errors_keep_their_kind_through_the_aws_code() {
        for api in [
            AwsService::Ecs,
            AwsService::Elbv2,
            AwsService::Dynamodb,
            AwsService::ApplicationAutoScaling,
        ] {
            for kind in ErrorKind::ALL {
                let e = injected_error(api, "DescribeServices", kind);
                assert_eq!(e.kind, kind, "{api:?} {kind:?}");
                assert!(e.code.is_some());
            }
        }
    }

    #[test]
    fn fail_next_is_used_up_and_then_removed() {
        let f = Faults::new(7);
        f.inject("UpdateService", Fault::FailNext(2, ErrorKind::Transient));
        let fates: Vec<_> = (0..3).map(|_| f.decide("UpdateService").fail).collect();
        assert_eq!(
            fates,
            [Some(ErrorKind::Transient), Some(ErrorKind::Transient), None]
        );
        assert_eq!(f.decide("DescribeServices"), Decision::default());
    }

    #[test]
    fn error_rates_are_reproducible_from_the_seed() {
        let run = |seed| {
            let f = Faults::new(seed);
            f.inject(
                "DescribeServices",
                Fault::ErrorRate(0.5, ErrorKind::Throttled),
            );
            (0..64)
                .map(|_| f.decide("DescribeServices").fail.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
        let failures = run(3).iter().filter(|f| **f).count();
        assert!(
            (16..=48).contains(&failures),
            "{failures} of 64 at rate 0.5"
        );
    }
}
