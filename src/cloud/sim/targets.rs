//! What ECS does to a service's target groups: a task that reaches RUNNING is registered
//! (its IP and container port) in every target group of its deployment, starts `initial` and
//! turns `healthy` after [`SimConfig::target_healthy_time`](super::SimConfig); a stopping
//! task's targets go `draining` for the group's deregistration delay, then disappear.

use std::time::Duration;

use super::records::{Event, ServiceKey, Target, TargetGroupState, Task, after};
use super::state::State;
use crate::cloud::model::{TargetHealth, TargetHealthState};

impl TargetGroupState {
    /// How long a deregistered target drains.
    pub(super) fn deregistration_delay(&self) -> Duration {
        deregistration_delay(
            self.attributes
                .get("deregistration_delay.timeout_seconds")
                .map(String::as_str),
        )
    }
}

/// DescribeTargetHealth's view of one target.
pub(super) fn target_health(ip: u32, port: u32, target: &Target) -> TargetHealth {
    let reason = match target.state {
        TargetHealthState::Initial => Some("Elb.RegistrationInProgress"),
        TargetHealthState::Draining => Some("Target.DeregistrationInProgress"),
        TargetHealthState::Unhealthy => Some("Target.FailedHealthChecks"),
        TargetHealthState::Unused => Some("Target.NotInUse"),
        TargetHealthState::Unavailable => Some("Target.HealthCheckDisabled"),
        TargetHealthState::Healthy => None,
    };
    TargetHealth {
        id: super::arn::ip_string(ip),
        port: Some(port),
        state: target.state,
        reason: reason.map(str::to_string),
    }
}

impl State {
    /// Registers a task that just reached RUNNING in its deployment's target groups.
    pub(super) fn register_targets(&mut self, key: &ServiceKey, task_id: &str) {
        let healthy_at = after(self.now, self.config.target_healthy_time);
        let Some(svc) = self.services.get(key) else {
            return;
        };
        let Some(task) = svc.tasks.get(task_id) else {
            return;
        };
        let ip = task.ip;
        let mut wanted: Vec<(String, u32)> = svc
            .deployments
            .iter()
            .find(|d| d.id == task.deployment)
            .map(|d| {
                d.load_balancers
                    .iter()
                    .map(|lb| (lb.target_group_arn.clone(), lb.container_port))
                    .collect()
            })
            .unwrap_or_default();
        wanted.sort();
        wanted.dedup();
        let mut registered = Vec::new();
        for (group, port) in wanted {
            let Some(g) = self.target_groups.get_mut(&group) else {
                continue;
            };
            g.targets.insert(
                (ip, port),
                Target {
                    state: TargetHealthState::Initial,
                },
            );
            registered.push((group, port));
        }
        for (group, port) in &registered {
            self.hold_ip(ip);
            self.schedule(
                healthy_at,
                Event::TargetHealthy {
                    service: key.clone(),
                    task: task_id.to_string(),
                    target_group: group.clone(),
                    ip,
                    port: *port,
                },
            );
            let msg = format!(
                "(service {}) registered 1 targets in (target-group {group})",
                key.1
            );
            self.service_event(key, msg);
        }
        if let Some(t) = self
            .services
            .get_mut(key)
            .and_then(|s| s.tasks.get_mut(task_id))
        {
            t.unhealthy_targets = registered.len();
            t.targets = registered;
        }
    }

    /// Starts draining the targets of a stopping task.
    pub(super) fn deregister_targets(&mut self, key: &ServiceKey, task: &Task) {
        let now = self.now;
        for (group, port) in &task.targets {
            let Some(g) = self.target_groups.get_mut(group) else {
                continue;
            };
            let delay = g.deregistration_delay();
            let Some(t) = g.targets.get_mut(&(task.ip, *port)) else {
                continue;
            };
            if t.state == TargetHealthState::Draining {
                continue;
            }
            if delay.is_zero() {
                g.targets.remove(&(task.ip, *port));
                self.release_ip(task.ip);
            } else {
                t.state = TargetHealthState::Draining;
                self.schedule(
                    after(now, delay),
                    Event::TargetDrained {
                        target_group: group.clone(),
                        ip: task.ip,
                        port: *port,
                    },
                );
            }
            let msg = format!(
                "(service {}) deregistered 1 targets in (target-group {group})",
                key.1
            );
            self.service_event(key, msg);
        }
    }

    /// A target passed its health checks.
    pub(super) fn target_healthy(
        &mut self,
        key: &ServiceKey,
        task_id: &str,
        group: &str,
        ip: u32,
        port: u32,
    ) {
        if let Some(t) = self
            .target_groups
            .get_mut(group)
            .and_then(|g| g.targets.get_mut(&(ip, port)))
            && t.state == TargetHealthState::Initial
        {
            t.state = TargetHealthState::Healthy;
        }
        if let Some(task) = self
            .services
            .get_mut(key)
            .and_then(|s| s.tasks.get_mut(task_id))
            && task.targets.iter().any(|(g, p)| g == group && *p == port)
        {
            task.unhealthy_targets = task.unhealthy_targets.saturating_sub(1);
        }
    }

    /// A draining target's delay is over: it leaves the group.
    pub(super) fn target_drained(&mut self, group: &str, ip: u32, port: u32) {
        let Some(g) = self.target_groups.get_mut(group) else {
            return;
        };
        if g.targets
            .get(&(ip, port))
            .is_some_and(|t| t.state == TargetHealthState::Draining)
        {
            g.targets.remove(&(ip, port));
            self.release_ip(ip);
        }
    }
}

/// Parses `deregistration_delay.timeout_seconds` (ELBv2 default 300).
pub(super) fn deregistration_delay(value: Option<&str>) -> Duration {
    Duration::from_secs(value.and_then(|v| v.parse().ok()).unwrap_or(300))
}
