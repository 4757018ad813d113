//! Injected faults: per operation, a list of [`Fault`]s that decide, call by call, whether
//! the call hangs, waits longer, or fails. Error rates draw from their own seeded generator,
//! so injecting faults does not change the task ids and IPs the scheduler draws.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{Api, Fault};
use crate::cloud::error::{CloudError, ErrorKind};

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

/// The injected faults, by operation.
#[derive(Debug)]
pub(super) struct Faults {
    by_operation: BTreeMap<String, Vec<Fault>>,
    rng: StdRng,
}

impl Faults {
    /// No faults; error rates will draw from a generator seeded from `seed`.
    pub(super) fn new(seed: u64) -> Faults {
        Faults {
            by_operation: BTreeMap::new(),
            // A different stream than the scheduler's, from the same seed.
            rng: StdRng::seed_from_u64(seed ^ 0x5eed_fa17_0000_0001),
        }
    }

    /// Adds a fault to an operation.
    pub(super) fn inject(&mut self, operation: &str, fault: Fault) {
        let known = crate::cloud::ECS_OPERATIONS
            .iter()
            .chain(crate::cloud::ELBV2_OPERATIONS)
            .any(|op| *op == operation);
        if !known {
            tracing::warn!(
                operation,
                "fault injected into an operation the simulator never answers"
            );
        }
        self.by_operation
            .entry(operation.to_string())
            .or_default()
            .push(fault);
    }

    /// Removes every fault.
    pub(super) fn clear(&mut self) {
        self.by_operation.clear();
    }

    /// Decides the fate of one call of `operation`: hangs win, latencies add up, the first
    /// pending `FailNext` is used up before error rates are drawn.
    pub(super) fn decide(&mut self, operation: &str) -> Decision {
        let mut decision = Decision::default();
        let Some(faults) = self.by_operation.get_mut(operation) else {
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
                Fault::FailNext(..) => {}
                Fault::ErrorRate(p, kind) => {
                    // Drawn even when the call already fails, so one rate's sequence does
                    // not depend on the other faults. NaN or <= 0 never fails; >= 1 always.
                    let draw: f64 = self.rng.random();
                    if draw < *p && decision.fail.is_none() {
                        decision.fail = Some(*kind);
                    }
                }
            }
        }
        faults.retain(|f| !matches!(f, Fault::FailNext(0, _)));
        decision
    }
}

/// The error an injected failure answers with: the AWS code of that kind for that API, so
/// [`ErrorKind::from_aws_code`] maps it back to `kind`.
pub(super) fn injected_error(api: Api, operation: &'static str, kind: ErrorKind) -> CloudError {
    let code = match (api, kind) {
        (Api::Ecs, ErrorKind::Throttled) => "ThrottlingException",
        (Api::Elbv2, ErrorKind::Throttled) => "Throttling",
        (Api::Ecs, ErrorKind::NotFound) => "ResourceNotFoundException",
        (Api::Elbv2, ErrorKind::NotFound) => "TargetGroupNotFound",
        (Api::Ecs, ErrorKind::Invalid) => "InvalidParameterException",
        (Api::Elbv2, ErrorKind::Invalid) => "ValidationError",
        (Api::Ecs, ErrorKind::Conflict) => "ResourceInUseException",
        (Api::Elbv2, ErrorKind::Conflict) => "ResourceInUse",
        (Api::Ecs, ErrorKind::AccessDenied) => "AccessDeniedException",
        (Api::Elbv2, ErrorKind::AccessDenied) => "AccessDenied",
        (Api::Ecs, ErrorKind::Transient) => "ServerException",
        (Api::Elbv2, ErrorKind::Transient) => "InternalFailure",
        (_, ErrorKind::Other) => "SimulatedFault",
    };
    CloudError::from_code(operation, code, "injected fault")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injected_errors_keep_their_kind_through_the_aws_code() {
        for api in [Api::Ecs, Api::Elbv2] {
            for kind in ErrorKind::ALL {
                let e = injected_error(api, "DescribeServices", kind);
                assert_eq!(e.kind, kind, "{api:?} {kind:?}");
                assert!(e.code.is_some());
            }
        }
    }

    #[test]
    fn fail_next_is_used_up_and_then_removed() {
        let mut f = Faults::new(7);
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
            let mut f = Faults::new(seed);
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
