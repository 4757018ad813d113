//! The deployment circuit breaker and the service throttle: what happens when a task stops
//! before reaching RUNNING. The failure counts in its deployment's `failedTasks`; enough of
//! them (half the desired count, at least 3, at most 200) fail an IN_PROGRESS PRIMARY
//! deployment, which then stops launching, or with rollback makes way for a new PRIMARY
//! deployment of the last deployment that completed. Failures in a row also space out the
//! service's next launches.

use std::time::Duration;

use super::records::{ServiceKey, after};
use super::state::State;
use crate::cloud::model::RolloutState;

/// ECS's service throttle: once `free_failures` tasks in a row failed to start, each further
/// launch waits `first_delay`, doubling per failure up to `max_delay` (AWS documents "up to
/// 27 minutes" and no exact curve). A task that reaches RUNNING, or a new task definition,
/// resets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartThrottle {
    /// Failures in a row before launches are delayed.
    pub free_failures: u32,
    /// The first delay.
    pub first_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
}

impl Default for RestartThrottle {
    fn default() -> Self {
        RestartThrottle {
            free_failures: 3,
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(27 * 60),
        }
    }
}

impl RestartThrottle {
    /// The wait before the next launch after `failures` failures in a row.
    fn delay(&self, failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(self.free_failures)?;
        let factor = 2u32.checked_pow(over).unwrap_or(u32::MAX);
        Some(
            self.first_delay
                .checked_mul(factor)
                .unwrap_or(self.max_delay)
                .min(self.max_delay),
        )
    }
}

/// The failed tasks that trip the circuit breaker: half the desired count, at least 3, at
/// most 200.
pub(super) fn circuit_breaker_threshold(desired: u32) -> u32 {
    desired.div_ceil(2).clamp(3, 200)
}

impl State {
    /// A task of `deployment` stopped before reaching RUNNING: count it, throttle the
    /// service, and let the circuit breaker judge the deployment.
    pub(super) fn task_failed(&mut self, key: &ServiceKey, deployment: &str) {
        let now = self.now;
        let throttle = self.config.restart_throttle.clone();
        let Some(svc) = self.services.get_mut(key) else {
            return;
        };
        svc.consecutive_failures = svc.consecutive_failures.saturating_add(1);
        let failures = svc.consecutive_failures;
        let mut trip = None;
        let breaker = svc
            .service
            .deployment_configuration
            .as_ref()
            .and_then(|c| c.deployment_circuit_breaker.clone());
        if let Some((index, d)) = svc
            .deployments
            .iter_mut()
            .enumerate()
            .find(|(_, d)| d.id == deployment)
        {
            d.failed_tasks = d.failed_tasks.saturating_add(1);
            d.updated_at = now;
            if let Some(b) = breaker
                && b.enable
                && index == 0
                && d.rollout_state == RolloutState::InProgress
                && d.failed_tasks >= circuit_breaker_threshold(d.desired_count)
            {
                trip = Some(b.rollback);
            }
        }
        if let Some(delay) = throttle.delay(failures) {
            svc.throttled_until = Some(after(now, delay));
            if failures == throttle.free_failures {
                let msg = format!(
                    "(service {}) is unable to consistently start tasks successfully.",
                    key.1
                );
                self.service_event(key, msg);
            }
        }
        if let Some(rollback) = trip {
            self.trip_circuit_breaker(key, rollback);
        }
    }

    /// Fails the PRIMARY deployment; with `rollback`, starts a new PRIMARY deployment of the
    /// last deployment that completed (when there is one).
    fn trip_circuit_breaker(&mut self, key: &ServiceKey, rollback: bool) {
        let now = self.now;
        let Some(svc) = self.services.get_mut(key) else {
            return;
        };
        let Some(primary) = svc.deployments.first_mut() else {
            return;
        };
        primary.rollout_state = RolloutState::Failed;
        primary.rollout_state_reason =
            "ECS deployment circuit breaker: tasks failed to start.".to_string();
        primary.updated_at = now;
        let failed_id = primary.id.clone();
        let target = svc.last_completed.clone().filter(|_| rollback);
        let msg = format!(
            "(service {}) (deployment {failed_id}) deployment failed: tasks failed to start.",
            key.1
        );
        self.service_event(key, msg);
        let Some(target) = target else {
            self.service_deployment_failed(key, &failed_id, None);
            return;
        };
        let reason = format!(
            "ECS deployment circuit breaker: rolling back to deploymentId {}.",
            target.id
        );
        self.start_deployment(
            key,
            target.task_definition,
            target.load_balancers,
            Some(reason),
        );
        let rollback_id = self
            .services
            .get(key)
            .and_then(|s| s.deployments.first())
            .map(|d| d.id.clone())
            .unwrap_or_default();
        self.service_deployment_failed(key, &failed_id, Some((rollback_id, target.id.clone())));
        let msg = format!(
            "(service {}) rolling back to deployment {}.",
            key.1, target.id
        );
        self.service_event(key, msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_circuit_breaker_threshold_is_half_the_desired_count_within_3_and_200() {
        let cases = [
            (0, 3),
            (1, 3),
            (5, 3),
            (6, 3),
            (7, 4),
            (10, 5),
            (399, 200),
            (1000, 200),
        ];
        for (desired, threshold) in cases {
            assert_eq!(circuit_breaker_threshold(desired), threshold, "{desired}");
        }
    }

    #[test]
    fn the_restart_throttle_doubles_up_to_its_maximum() {
        let t = RestartThrottle {
            free_failures: 2,
            first_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(60),
        };
        let delays: Vec<_> = (0..7).map(|n| t.delay(n).map(|d| d.as_secs())).collect();
        assert_eq!(
            delays,
            [None, None, Some(10), Some(20), Some(40), Some(60), Some(60)]
        );
    }
}
