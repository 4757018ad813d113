//! The ECS service scheduler: each service moves toward its PRIMARY deployment at its
//! desired count. Rolling deployments start new tasks and stop old ones within
//! minimumHealthyPercent (rounded up) and maximumPercent (rounded down); a deployment is
//! COMPLETED once it alone runs the desired count, healthy, and older deployments disappear
//! once they have no tasks left. Launching and stopping tasks is in `tasks`, failures in
//! `breaker`, target groups in `targets`.
//!
//! Everything happens in [`State::reconcile`], run after every change to a service and, once
//! per instant, after the events that touched it, at the simulation's present
//! ([`State::now`]).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::rngs::StdRng;

use super::arn;
use super::records::{CompletedDeployment, DeploymentState, Event, ServiceKey, Task, TaskStatus};
use super::state::State;
use crate::cloud::model::{
    DeploymentConfiguration, RolloutState, ServiceEvent, ServiceLoadBalancer,
};

/// Service events kept per service (AWS keeps the latest 100).
const MAX_EVENTS: usize = 100;

/// (tasks that must stay healthy, most tasks at once) of a rolling update: ECS rounds the
/// minimum up and the maximum down.
pub(super) fn rolling_bounds(
    desired: u32,
    configuration: Option<&DeploymentConfiguration>,
) -> (usize, usize) {
    let min_pct = configuration
        .and_then(|c| c.minimum_healthy_percent)
        .unwrap_or(100);
    let max_pct = configuration.and_then(|c| c.maximum_percent).unwrap_or(200);
    let d = u64::from(desired);
    let min = (d * u64::from(min_pct)).div_ceil(100);
    let max = d * u64::from(max_pct) / 100;
    let to_usize = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    (to_usize(min), to_usize(max))
}

/// Adds a service event (newest first, at most [`MAX_EVENTS`]).
pub(super) fn push_event(
    events: &mut VecDeque<ServiceEvent>,
    rng: &mut StdRng,
    at: std::time::SystemTime,
    message: String,
) {
    events.push_front(ServiceEvent {
        id: arn::uuid(rng),
        created_at: Some(at),
        message,
    });
    events.truncate(MAX_EVENTS);
}

impl State {
    /// Handles one due event.
    pub(super) fn handle(&mut self, event: Event) {
        match event {
            Event::TaskStarted { service, task } => self.task_started(&service, &task),
            Event::TargetHealthy {
                service,
                task,
                target_group,
                ip,
                port,
            } => {
                self.target_healthy(&service, &task, &target_group, ip, port);
                self.dirty.insert(service);
            }
            Event::TargetDrained {
                target_group,
                ip,
                port,
            } => self.target_drained(&target_group, ip, port),
            Event::DeploymentStage { service } => {
                self.dirty.insert(service);
            }
            Event::Wake { service } => {
                let now = self.now;
                if let Some(svc) = self.services.get_mut(&service)
                    && svc.wake_at.is_some_and(|w| w <= now)
                {
                    svc.wake_at = None;
                }
                self.dirty.insert(service);
            }
        }
    }

    /// Adds an event to a service.
    pub(super) fn service_event(&mut self, key: &ServiceKey, message: String) {
        let at = self.timestamp();
        if let Some(svc) = self.services.get_mut(key) {
            push_event(&mut svc.events, &mut self.rng, at, message);
        }
    }

    /// A PENDING task's start time is over: it runs, or it crashes.
    fn task_started(&mut self, key: &ServiceKey, id: &str) {
        let now = self.now;
        let Some(svc) = self.services.get_mut(key) else {
            return;
        };
        let Some(task) = svc.tasks.get_mut(id) else {
            return;
        };
        if task.status != TaskStatus::Pending {
            return;
        }
        if task.crashes {
            if let Some(task) = svc.tasks.remove(id) {
                self.release_ip(task.ip);
                self.record_stopped(key, &task, super::tasks::StoppedHow::Crashed);
                self.task_failed(key, &task.deployment);
            }
        } else {
            task.status = TaskStatus::Running;
            let deployment = task.deployment.clone();
            svc.consecutive_failures = 0;
            svc.throttled_until = None;
            if let Some(d) = svc.deployments.iter_mut().find(|d| d.id == deployment) {
                d.updated_at = now;
            }
            self.register_targets(key, id);
        }
        self.dirty.insert(key.clone());
    }

    /// Makes a new PRIMARY deployment of `task_definition`; the previous ones become ACTIVE
    /// and are drained by the rolling update.
    pub(super) fn start_deployment(
        &mut self,
        key: &ServiceKey,
        task_definition: String,
        load_balancers: Vec<ServiceLoadBalancer>,
        reason: Option<String>,
    ) {
        let now = self.now;
        let id = arn::deployment_id(&mut self.rng);
        let Some(svc) = self.services.get_mut(key) else {
            return;
        };
        svc.service.task_definition = task_definition.clone();
        svc.service.load_balancers = load_balancers.clone();
        svc.consecutive_failures = 0;
        svc.throttled_until = None;
        svc.deployments.insert(
            0,
            DeploymentState {
                rollout_state_reason: reason
                    .unwrap_or_else(|| format!("ECS deployment {id} in progress.")),
                id,
                task_definition,
                load_balancers,
                desired_count: svc.service.desired_count,
                failed_tasks: 0,
                rollout_state: RolloutState::InProgress,
                created_at: now,
                updated_at: now,
            },
        );
    }

    /// Brings a service one step toward its PRIMARY deployment at its desired count: scales
    /// the PRIMARY in, stops old tasks as far as minimumHealthyPercent allows, launches new
    /// ones as far as maximumPercent allows, then settles the deployments.
    pub(super) fn reconcile(&mut self, key: &ServiceKey) {
        let now = self.now;
        let Some(svc) = self.services.get(key) else {
            return;
        };
        if svc.service.status != "ACTIVE" {
            return;
        }
        let Some(primary) = svc.deployments.first() else {
            return;
        };
        let frozen = primary.rollout_state == RolloutState::Failed;
        let desired = usize::try_from(svc.service.desired_count).unwrap_or(usize::MAX);
        // A native run before CLEAN_UP keeps blue, and launches green beside it.
        let hold = self.native_hold(key);
        let (min_healthy, max_total) = rolling_bounds(
            svc.service.desired_count,
            svc.service.deployment_configuration.as_ref(),
        );

        // The least useful tasks first: pending, then running but not healthy yet, then
        // healthy; newest first within each.
        let usefulness = |t: &Task| {
            let rank = match (t.status, t.healthy()) {
                (TaskStatus::Pending, _) => 0,
                (TaskStatus::Running, false) => 1,
                (TaskStatus::Running, true) => 2,
            };
            (rank, std::cmp::Reverse(t.launched))
        };

        let mut stop: Vec<String> = Vec::new();
        let mut primary_tasks: Vec<&Task> = svc.tasks_of(&primary.id).collect();
        if primary_tasks.len() > desired {
            primary_tasks.sort_by_key(|t| usefulness(t));
            let excess = primary_tasks.len() - desired;
            stop.extend(primary_tasks.drain(..excess).map(|t| t.id.clone()));
        }
        let primary_live = primary_tasks.len();
        let scaled_in: BTreeSet<&str> = stop.iter().map(String::as_str).collect();

        let max_total = if hold.is_some() {
            usize::MAX
        } else {
            max_total
        };
        if !frozen && hold.is_none() {
            let mut healthy = svc
                .tasks
                .values()
                .filter(|t| t.healthy() && !scaled_in.contains(t.id.as_str()))
                .count();
            let mut old: Vec<&Task> = svc
                .tasks
                .values()
                .filter(|t| t.deployment != primary.id)
                .collect();
            old.sort_by_key(|t| usefulness(t));
            for t in old {
                if !t.healthy() {
                    stop.push(t.id.clone());
                } else if healthy > min_healthy {
                    healthy -= 1;
                    stop.push(t.id.clone());
                }
            }
        }

        let live = svc.tasks.len() - stop.len();
        let mut launch = if frozen || hold.is_some_and(|h| !h.launch) {
            0
        } else {
            desired
                .saturating_sub(primary_live)
                .min(max_total.saturating_sub(live))
        };
        let mut wake = None;
        if launch > 0
            && let Some(until) = svc.throttled_until
            && until > now
        {
            launch = 0;
            if svc.wake_at != Some(until) {
                wake = Some(until);
            }
        }

        if let Some(until) = wake {
            if let Some(svc) = self.services.get_mut(key) {
                svc.wake_at = Some(until);
            }
            self.schedule(
                until,
                Event::Wake {
                    service: key.clone(),
                },
            );
        }
        if !stop.is_empty() {
            self.stop_tasks(key, &stop);
        }
        if launch > 0 {
            self.launch_tasks(key, launch);
        }
        self.settle(key);
        self.advance_native(key);
    }

    /// Drops ACTIVE deployments without tasks, keeps their desired counts at what they
    /// still run, and completes the PRIMARY once it alone runs the desired count, healthy.
    fn settle(&mut self, key: &ServiceKey) {
        let now = self.now;
        let Some(svc) = self.services.get_mut(key) else {
            return;
        };
        let mut live: BTreeMap<&str, u32> = BTreeMap::new();
        let mut healthy_primary = 0u32;
        let primary_id = svc.deployments.first().map(|d| d.id.clone());
        for t in svc.tasks.values() {
            *live.entry(t.deployment.as_str()).or_insert(0) += 1;
            if Some(&t.deployment) == primary_id.as_ref() && t.healthy() {
                healthy_primary += 1;
            }
        }
        let live: BTreeMap<String, u32> =
            live.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let mut first = true;
        svc.deployments.retain(|d| {
            let keep = first || live.contains_key(&d.id);
            first = false;
            keep
        });
        for d in svc.deployments.iter_mut().skip(1) {
            d.desired_count = live.get(&d.id).copied().unwrap_or(0);
        }
        let desired = svc.service.desired_count;
        let single = svc.deployments.len() == 1;
        // A native run completes at CLEAN_UP, not before.
        let native_pending = svc.service_deployments.first().is_some_and(|r| {
            r.status == crate::cloud::model::ServiceDeploymentStatus::InProgress
                && r.native
                    .as_ref()
                    .is_some_and(|n| n.stage != crate::cloud::model::LifecycleStage::CleanUp)
        });
        let Some(primary) = svc.deployments.first_mut() else {
            return;
        };
        primary.desired_count = desired;
        let primary_live = live.get(&primary.id).copied().unwrap_or(0);
        if primary.rollout_state != RolloutState::InProgress
            || native_pending
            || !single
            || primary_live != desired
            || healthy_primary != desired
        {
            return;
        }
        primary.rollout_state = RolloutState::Completed;
        primary.rollout_state_reason = format!("ECS deployment {} completed.", primary.id);
        primary.updated_at = now;
        svc.last_completed = Some(CompletedDeployment {
            id: primary.id.clone(),
            task_definition: primary.task_definition.clone(),
            load_balancers: primary.load_balancers.clone(),
        });
        let id = primary.id.clone();
        self.service_deployment_completed(key, &id);
        self.service_event(
            key,
            format!(
                "(service {}) (deployment {id}) deployment completed.",
                key.1
            ),
        );
        self.service_event(
            key,
            format!("(service {}) has reached a steady state.", key.1),
        );
    }

    /// The key of a service given by cluster and service name or ARN.
    pub(super) fn service_key(&self, cluster: &str, service: &str) -> Option<ServiceKey> {
        let cluster = self.arns.cluster_name(cluster)?;
        let service = self.arns.service_name(cluster, service)?;
        Some((cluster.to_string(), service.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::service::DeploymentCircuitBreaker;

    #[test]
    fn rolling_bounds_round_the_minimum_up_and_the_maximum_down() {
        let dc = |min, max| DeploymentConfiguration {
            minimum_healthy_percent: Some(min),
            maximum_percent: Some(max),
            deployment_circuit_breaker: Some(DeploymentCircuitBreaker {
                enable: false,
                rollback: false,
            }),
            alarms: None,
            ..Default::default()
        };
        assert_eq!(rolling_bounds(3, Some(&dc(50, 150))), (2, 4));
        assert_eq!(rolling_bounds(4, Some(&dc(100, 200))), (4, 8));
        assert_eq!(rolling_bounds(1, Some(&dc(0, 100))), (0, 1));
        assert_eq!(rolling_bounds(5, None), (5, 10));
    }
}
