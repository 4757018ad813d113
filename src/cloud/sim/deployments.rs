//! Service deployments and ECS's native strategies. Every deployment a CreateService or an
//! UpdateService starts is a service deployment (ListServiceDeployments,
//! DescribeServiceDeployments, the service's `currentServiceDeployment`); a newer one stops
//! the one in progress (STOPPED). A ROLLING one ends SUCCESSFUL when its deployment completes,
//! FAILED or, with the circuit breaker's rollback, ROLLBACK_IN_PROGRESS then
//! ROLLBACK_SUCCESSFUL when the rollback deployment completes.
//!
//! BLUE_GREEN, LINEAR and CANARY (with a blue deployment to replace) run ECS's lifecycle
//! stages: PRE_SCALE_UP, SCALE_UP (green, beside blue, at the full desired count in the target
//! groups blue does not use: the alternate one of each load balancer), POST_SCALE_UP,
//! TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, then PRE_PRODUCTION_TRAFFIC_SHIFT and
//! PRODUCTION_TRAFFIC_SHIFT once per traffic step (blue/green: 100% at once; canary: the canary
//! percent, its bake time, then the rest; linear: step percent per step with its bake time
//! between steps), POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME (`bakeTimeInMinutes`, in virtual
//! time) and CLEAN_UP (blue scaled in), then SUCCESSFUL. Each Lambda hook of a stage takes
//! [`SimConfig::hook_time`](super::SimConfig); a hook whose ARN is in
//! [`SimConfig::failing_hooks`](super::SimConfig) fails, and the deployment rolls back:
//! production traffic back on blue, green stopped, ROLLBACK_SUCCESSFUL. While a run is before
//! CLEAN_UP the scheduler keeps blue's tasks (`native_hold`).

use std::time::Duration;

use super::arn;
use super::records::{Event, NativeRun, ServiceDeploymentRecord, ServiceKey, SimTime, after};
use super::state::State;
use crate::cloud::MAX_DESCRIBE_SERVICE_DEPLOYMENTS;
use crate::cloud::error::{CloudError, CloudResult};
use crate::cloud::model::{
    DeploymentStrategy, Described, LifecycleStage, Page, RolloutState, ServiceDeployment,
    ServiceDeploymentBrief, ServiceDeploymentRollback, ServiceDeploymentStatus,
};
use crate::cloud::{MAX_LIST_SERVICE_DEPLOYMENTS, model::DeploymentConfiguration};
use crate::manifest::generated::{DeploymentLifecycleHookStage, DeploymentLifecycleHookTargetType};

/// ECS's defaults of the native strategies (API reference, LinearConfiguration and
/// CanaryConfiguration): canary 5% for 10 minutes, linear steps of 10% every 6 minutes.
const CANARY_PERCENT: f64 = 5.0;
const CANARY_BAKE_MINUTES: u32 = 10;
const LINEAR_STEP_PERCENT: f64 = 10.0;
const LINEAR_STEP_BAKE_MINUTES: u32 = 6;

/// Service deployments kept per service (the oldest are forgotten).
const KEPT: usize = 100;

fn minutes(m: u32) -> Duration {
    Duration::from_secs(u64::from(m) * 60)
}

/// The next production weight on green and the wait after it.
fn next_step(configuration: Option<&DeploymentConfiguration>, green: f64) -> (f64, Duration) {
    let strategy = configuration.and_then(|c| c.strategy);
    match strategy {
        Some(DeploymentStrategy::Canary) if green <= 0.0 => {
            let canary = configuration.and_then(|c| c.canary_configuration.as_ref());
            let percent = canary
                .and_then(|c| c.canary_percent)
                .unwrap_or(CANARY_PERCENT);
            let bake = canary
                .and_then(|c| c.canary_bake_time_in_minutes)
                .unwrap_or(CANARY_BAKE_MINUTES);
            (percent.clamp(0.0, 100.0), minutes(bake))
        }
        Some(DeploymentStrategy::Linear) => {
            let linear = configuration.and_then(|c| c.linear_configuration.as_ref());
            let step = linear
                .and_then(|c| c.step_percent)
                .unwrap_or(LINEAR_STEP_PERCENT)
                .max(0.1);
            let bake = linear
                .and_then(|c| c.step_bake_time_in_minutes)
                .unwrap_or(LINEAR_STEP_BAKE_MINUTES);
            let next = (green + step).min(100.0);
            // No bake after the last step.
            let wait = if next >= 100.0 {
                Duration::ZERO
            } else {
                minutes(bake)
            };
            (next, wait)
        }
        _ => (100.0, Duration::ZERO),
    }
}

fn enter(run: &mut NativeRun, stage: LifecycleStage, now: SimTime) {
    run.stage = stage;
    run.since = now;
    run.hooks_done = None;
    run.shifted = false;
    run.waiting_until = None;
    run.stages.push((stage, now));
}

/// What a native run asks of the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Hold {
    /// Green may launch (SCALE_UP and after).
    pub launch: bool,
}

impl State {
    /// Records the service deployment of the PRIMARY deployment just started (CreateService,
    /// or an UpdateService that started one): it stops the one in progress, and with a native
    /// strategy and a blue deployment to replace, starts its lifecycle stages.
    pub(super) fn begin_service_deployment(&mut self, key: &ServiceKey) {
        let now = self.now;
        let Some(svc) = self.services.get(key) else {
            return;
        };
        let Some(primary) = svc.deployments.first() else {
            return;
        };
        let revision = svc.service_deployments.len() as u64 + 1;
        let id = primary.id.trim_start_matches("ecs-svc/").to_string();
        let arn = self.arns.service_deployment(&key.0, &key.1, &id);
        let configuration = svc.service.deployment_configuration.clone();
        let strategy = configuration
            .as_ref()
            .and_then(|c| c.strategy)
            .unwrap_or(DeploymentStrategy::Rolling);
        let source_revisions: Vec<u64> = svc
            .service_deployments
            .iter()
            .filter(|r| svc.deployments.iter().skip(1).any(|d| d.id == r.deployment))
            .map(|r| r.revision)
            .collect();
        // Blue: what serves production now (the run in progress's green once all traffic is
        // on it, else its blue; else the previous PRIMARY).
        let previous_run = svc
            .service_deployments
            .first()
            .filter(|r| r.status == ServiceDeploymentStatus::InProgress)
            .and_then(|r| r.native.as_ref().map(|n| (r, n)));
        let blue = match previous_run {
            Some((r, n)) if n.green_percent >= 100.0 => Some(r.deployment.clone()),
            Some((_, n)) => Some(n.blue.clone()),
            None => svc.deployments.get(1).map(|d| d.id.clone()),
        }
        .filter(|b| svc.deployments.iter().any(|d| &d.id == b));
        let native = match (strategy, blue) {
            (DeploymentStrategy::Rolling, _) | (_, None) => None,
            (_, Some(blue)) => {
                let blue_lbs = svc
                    .deployments
                    .iter()
                    .find(|d| d.id == blue)
                    .map(|d| d.load_balancers.clone())
                    .unwrap_or_default();
                let mut blue_groups = Vec::new();
                let mut green_groups = Vec::new();
                for (i, lb) in primary.load_balancers.iter().enumerate() {
                    let on_blue = blue_lbs
                        .get(i)
                        .map_or(lb.target_group_arn.clone(), |b| b.target_group_arn.clone());
                    let alternate = lb
                        .advanced_configuration
                        .as_ref()
                        .and_then(|a| a.alternate_target_group_arn.clone());
                    let green = match alternate {
                        Some(alt) if on_blue == lb.target_group_arn => alt,
                        Some(_) => lb.target_group_arn.clone(),
                        None => on_blue.clone(),
                    };
                    blue_groups.push(on_blue);
                    green_groups.push(green);
                }
                Some(NativeRun {
                    blue,
                    stage: LifecycleStage::PreScaleUp,
                    since: now,
                    waiting_until: None,
                    hooks_done: None,
                    shifted: false,
                    green_percent: 0.0,
                    stages: vec![(LifecycleStage::PreScaleUp, now)],
                    traffic: vec![(0.0, now)],
                    blue_groups,
                    green_groups,
                })
            }
        };
        let record = ServiceDeploymentRecord {
            arn: arn.clone(),
            deployment: primary.id.clone(),
            revision,
            source_revisions,
            status: ServiceDeploymentStatus::InProgress,
            status_reason: String::new(),
            strategy,
            bake_time_in_minutes: configuration.as_ref().and_then(|c| c.bake_time_in_minutes),
            created_at: now,
            updated_at: now,
            finished_at: None,
            rollback_deployment: None,
            rollback: None,
            native,
        };
        let Some(svc) = self.services.get_mut(key) else {
            return;
        };
        for r in &mut svc.service_deployments {
            if matches!(
                r.status,
                ServiceDeploymentStatus::InProgress | ServiceDeploymentStatus::Pending
            ) {
                r.status = ServiceDeploymentStatus::Stopped;
                r.status_reason = format!("Stopped: service deployment {arn} started.");
                r.finished_at = Some(now);
                r.updated_at = now;
            }
        }
        // Green runs in the target groups blue does not use.
        if let (Some(run), Some(primary)) = (&record.native, svc.deployments.first_mut()) {
            for (lb, group) in primary.load_balancers.iter_mut().zip(&run.green_groups) {
                lb.target_group_arn = group.clone();
            }
        }
        svc.service_deployments.insert(0, record);
        svc.service_deployments.truncate(KEPT);
        self.advance_native(key);
    }

    /// The circuit breaker failed the PRIMARY deployment: its service deployment FAILED, or
    /// with a rollback deployment, ROLLBACK_IN_PROGRESS until that one completes.
    pub(super) fn service_deployment_failed(
        &mut self,
        key: &ServiceKey,
        failed: &str,
        rollback: Option<(String, String)>,
    ) {
        let now = self.now;
        let Some(svc) = self.services.get_mut(key) else {
            return;
        };
        let to_revision = rollback.as_ref().and_then(|(_, target)| {
            svc.service_deployments
                .iter()
                .find(|r| &r.deployment == target)
                .map(|r| r.revision)
        });
        let Some(r) = svc
            .service_deployments
            .iter_mut()
            .find(|r| r.deployment == failed && r.status == ServiceDeploymentStatus::InProgress)
        else {
            return;
        };
        r.updated_at = now;
        match rollback {
            Some((rollback_deployment, _)) => {
                let reason = "ECS deployment circuit breaker: tasks failed to start.".to_string();
                r.status = ServiceDeploymentStatus::RollbackInProgress;
                r.status_reason = reason.clone();
                r.rollback_deployment = Some(rollback_deployment);
                r.rollback = Some((reason, to_revision.unwrap_or(0), now));
            }
            None => {
                r.status = ServiceDeploymentStatus::Failed;
                r.status_reason =
                    "ECS deployment circuit breaker: tasks failed to start.".to_string();
                r.finished_at = Some(now);
            }
        }
    }

    /// A deployment completed: its service deployment is SUCCESSFUL (a circuit breaker's
    /// rollback deployment: the failed one's rollback is ROLLBACK_SUCCESSFUL).
    pub(super) fn service_deployment_completed(&mut self, key: &ServiceKey, deployment: &str) {
        let now = self.now;
        let Some(svc) = self.services.get_mut(key) else {
            return;
        };
        for r in &mut svc.service_deployments {
            if r.deployment == deployment && r.status == ServiceDeploymentStatus::InProgress {
                r.status = ServiceDeploymentStatus::Successful;
                r.status_reason = format!("ECS deployment {deployment} completed.");
                r.finished_at = Some(now);
                r.updated_at = now;
            } else if r.rollback_deployment.as_deref() == Some(deployment)
                && r.status == ServiceDeploymentStatus::RollbackInProgress
            {
                r.status = ServiceDeploymentStatus::RollbackSuccessful;
                r.finished_at = Some(now);
                r.updated_at = now;
            }
        }
    }

    /// While a native run is before CLEAN_UP: blue's tasks stay, and green launches only
    /// from SCALE_UP on.
    pub(super) fn native_hold(&self, key: &ServiceKey) -> Option<Hold> {
        let r = self.services.get(key)?.service_deployments.first()?;
        let run = r.native.as_ref()?;
        if r.status != ServiceDeploymentStatus::InProgress || run.stage == LifecycleStage::CleanUp {
            return None;
        }
        Some(Hold {
            launch: run.stage != LifecycleStage::PreScaleUp,
        })
    }

    /// Moves a native run on as far as it can now: hooks, stages, traffic steps and waits.
    /// Run after every reconcile of the service and when a wait is over.
    pub(super) fn advance_native(&mut self, key: &ServiceKey) {
        // Each pass enters at most one stage; the stages are finite (a traffic step adds at
        // least 0.1%), so this ends.
        for _ in 0..10_000 {
            if !self.native_pass(key) {
                return;
            }
        }
    }

    /// One move of the run; false when it waits (or is over).
    fn native_pass(&mut self, key: &ServiceKey) -> bool {
        let now = self.now;
        let hook_time = self.config.hook_time;
        let Some(svc) = self.services.get(key) else {
            return false;
        };
        let Some(record) = svc.service_deployments.first() else {
            return false;
        };
        if record.status != ServiceDeploymentStatus::InProgress {
            return false;
        }
        let Some(run) = record.native.as_ref() else {
            return false;
        };
        if run.waiting_until.is_some_and(|t| t > now) {
            return false;
        }
        let configuration = svc.service.deployment_configuration.clone();
        let stage = run.stage;
        // The stage's Lambda hooks.
        if run.hooks_done != Some(true) {
            let hook_stage = DeploymentLifecycleHookStage::from_aws(stage.as_str());
            let hooks: Vec<String> = configuration
                .as_ref()
                .map(|c| {
                    c.lifecycle_hooks
                        .iter()
                        .filter(|h| h.target_type != Some(DeploymentLifecycleHookTargetType::Pause))
                        .filter(|h| hook_stage.is_some_and(|s| h.lifecycle_stages.contains(&s)))
                        .map(|h| h.hook_target_arn.clone().unwrap_or_default())
                        .collect()
                })
                .unwrap_or_default();
            if !hooks.is_empty() && run.hooks_done.is_none() && !hook_time.is_zero() {
                self.native_wait(key, hook_time, |run| run.hooks_done = Some(false));
                return false;
            }
            let failed = hooks.iter().find(|h| {
                self.config
                    .failing_hooks
                    .iter()
                    .any(|f| !f.is_empty() && h.contains(f.as_str()))
            });
            if let Some(hook) = failed {
                let reason = format!("Lifecycle hook {hook} failed at stage {stage}.");
                self.native_rollback(key, reason);
                return false;
            }
            self.with_run(key, |run| run.hooks_done = Some(true));
            return true;
        }
        let desired = svc.service.desired_count as usize;
        let green_healthy = svc
            .tasks_of(&record.deployment)
            .filter(|t| t.healthy())
            .count();
        let green_percent = run.green_percent;
        let shifted = run.shifted;
        let bake = record.bake_time_in_minutes.unwrap_or(0);
        use LifecycleStage as S;
        match stage {
            S::ReconcileService => self.with_run(key, |r| enter(r, S::PreScaleUp, now)),
            S::PreScaleUp => {
                self.with_run(key, |r| enter(r, S::ScaleUp, now));
                // Green may launch now.
                self.dirty.insert(key.clone());
            }
            S::ScaleUp if green_healthy < desired => return false,
            S::ScaleUp => self.with_run(key, |r| enter(r, S::PostScaleUp, now)),
            S::PostScaleUp => self.with_run(key, |r| enter(r, S::TestTrafficShift, now)),
            S::TestTrafficShift => self.with_run(key, |r| enter(r, S::PostTestTrafficShift, now)),
            S::PostTestTrafficShift => {
                self.with_run(key, |r| enter(r, S::PreProductionTrafficShift, now))
            }
            S::PreProductionTrafficShift => {
                self.with_run(key, |r| enter(r, S::ProductionTrafficShift, now))
            }
            S::ProductionTrafficShift if !shifted => {
                let (next, wait) = next_step(configuration.as_ref(), green_percent);
                self.with_run(key, |r| {
                    r.green_percent = next;
                    r.traffic.push((next, now));
                    r.shifted = true;
                });
                let msg = format!(
                    "(service {}) shifted {next}% of production traffic to the new service revision.",
                    key.1
                );
                self.service_event(key, msg);
                if !wait.is_zero() {
                    self.native_wait(key, wait, |_| ());
                    return false;
                }
            }
            S::ProductionTrafficShift if green_percent < 100.0 => {
                self.with_run(key, |r| enter(r, S::PreProductionTrafficShift, now))
            }
            S::ProductionTrafficShift => {
                self.with_run(key, |r| enter(r, S::PostProductionTrafficShift, now))
            }
            S::PostProductionTrafficShift => {
                self.with_run(key, |r| enter(r, S::BakeTime, now));
                if bake > 0 {
                    self.native_wait(key, minutes(bake), |_| ());
                    return false;
                }
            }
            S::BakeTime => {
                self.with_run(key, |r| enter(r, S::CleanUp, now));
                // Blue may go now.
                self.dirty.insert(key.clone());
                return false;
            }
            S::CleanUp => return false,
        }
        true
    }

    fn with_run(&mut self, key: &ServiceKey, f: impl FnOnce(&mut NativeRun)) {
        let now = self.now;
        if let Some(r) = self
            .services
            .get_mut(key)
            .and_then(|s| s.service_deployments.first_mut())
        {
            r.updated_at = now;
            if let Some(run) = r.native.as_mut() {
                f(run);
            }
        }
    }

    /// Waits `d` in the current stage: the run moves on at the event then.
    fn native_wait(&mut self, key: &ServiceKey, d: Duration, f: impl FnOnce(&mut NativeRun)) {
        let until = after(self.now, d);
        self.with_run(key, |run| {
            run.waiting_until = Some(until);
            f(run);
        });
        self.schedule(
            until,
            Event::DeploymentStage {
                service: key.clone(),
            },
        );
    }

    /// Rolls a native run back: production traffic back on blue, green's tasks stopped and
    /// its deployment gone, blue PRIMARY again; ROLLBACK_SUCCESSFUL.
    fn native_rollback(&mut self, key: &ServiceKey, reason: String) {
        let now = self.now;
        let Some(svc) = self.services.get(key) else {
            return;
        };
        let Some(record) = svc.service_deployments.first() else {
            return;
        };
        let Some(run) = record.native.clone() else {
            return;
        };
        let green = record.deployment.clone();
        let blue_revision = svc
            .service_deployments
            .iter()
            .find(|r| r.deployment == run.blue)
            .map_or(0, |r| r.revision);
        let green_tasks: Vec<String> = svc.tasks_of(&green).map(|t| t.id.clone()).collect();
        self.stop_tasks(key, &green_tasks);
        let Some(svc) = self.services.get_mut(key) else {
            return;
        };
        svc.deployments.retain(|d| d.id != green);
        if let Some(i) = svc.deployments.iter().position(|d| d.id == run.blue) {
            let mut blue = svc.deployments.remove(i);
            blue.rollout_state = RolloutState::Completed;
            blue.rollout_state_reason = format!("ECS deployment {} completed.", blue.id);
            blue.updated_at = now;
            svc.service.task_definition = blue.task_definition.clone();
            svc.deployments.insert(0, blue);
        }
        if let Some(r) = svc.service_deployments.first_mut() {
            r.status = ServiceDeploymentStatus::RollbackSuccessful;
            r.status_reason = reason.clone();
            r.rollback = Some((reason.clone(), blue_revision, now));
            r.finished_at = Some(now);
            r.updated_at = now;
            if let Some(run) = r.native.as_mut() {
                run.green_percent = 0.0;
                run.traffic.push((0.0, now));
            }
        }
        let msg = format!(
            "(service {}) (service deployment {}) rolled back: {reason}",
            key.1,
            record_arn(self, key)
        );
        self.service_event(key, msg);
        self.dirty.insert(key.clone());
    }

    /// ListServiceDeployments: the service's, newest first, a page at a time.
    pub(super) fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<ServiceDeploymentBrief>> {
        const OP: &str = "ListServiceDeployments";
        let cluster = self.cluster_key(OP, cluster)?;
        let key = self
            .arns
            .service_name(&cluster, service)
            .map(|s| (cluster.clone(), s.to_string()))
            .filter(|k| self.services.contains_key(k))
            .ok_or_else(|| {
                CloudError::from_code(OP, "ServiceNotFoundException", "Service not found.")
            })?;
        let records = &self.services[&key].service_deployments;
        let start = match next_token {
            Some(t) => {
                let after = arn::parse_page_token(t).ok_or_else(|| {
                    CloudError::from_code(OP, "InvalidParameterException", "Invalid nextToken.")
                })?;
                records
                    .iter()
                    .position(|r| r.arn == after)
                    .map_or(records.len(), |i| i + 1)
            }
            None => 0,
        };
        let page: Vec<&ServiceDeploymentRecord> = records
            .iter()
            .skip(start)
            .take(MAX_LIST_SERVICE_DEPLOYMENTS)
            .collect();
        let more = start + page.len() < records.len();
        Ok(Page {
            next_token: page
                .last()
                .filter(|_| more)
                .map(|r| arn::page_token(&r.arn)),
            items: page
                .iter()
                .map(|r| ServiceDeploymentBrief {
                    arn: r.arn.clone(),
                    status: Some(r.status),
                    target_service_revision_arn: Some(
                        self.arns.service_revision(&key.0, &key.1, r.revision),
                    ),
                    created_at: Some(self.clock.system_time(r.created_at)),
                })
                .collect(),
        })
    }

    /// DescribeServiceDeployments (at most 20 ARNs; unknown ones in `missing`).
    pub(super) fn describe_service_deployments(
        &self,
        arns: &[String],
    ) -> CloudResult<Described<ServiceDeployment>> {
        const OP: &str = "DescribeServiceDeployments";
        if arns.len() > MAX_DESCRIBE_SERVICE_DEPLOYMENTS {
            return Err(CloudError::from_code(
                OP,
                "InvalidParameterException",
                format!(
                    "serviceDeploymentArns can have at most {MAX_DESCRIBE_SERVICE_DEPLOYMENTS} items."
                ),
            ));
        }
        let mut out = Described::default();
        for wanted in arns {
            // The ARN names its service: one lookup, not a walk over every service.
            let found = self.arns.service_of_deployment(wanted).and_then(|key| {
                let (key, svc) = self.services.get_key_value(&key)?;
                svc.service_deployments
                    .iter()
                    .find(|r| &r.arn == wanted)
                    .map(|r| (key, svc, r))
            });
            let Some((key, svc, r)) = found else {
                out.missing.push(wanted.clone());
                continue;
            };
            let revision = |n: u64| self.arns.service_revision(&key.0, &key.1, n);
            let time = |t: SimTime| self.clock.system_time(t);
            out.found.push(ServiceDeployment {
                arn: r.arn.clone(),
                service_arn: svc.service.arn.clone(),
                status: Some(r.status),
                status_reason: Some(r.status_reason.clone()).filter(|s| !s.is_empty()),
                lifecycle_stage: r.native.as_ref().map(|n| n.stage),
                strategy: Some(r.strategy),
                bake_time_in_minutes: r.bake_time_in_minutes,
                target_service_revision_arn: Some(revision(r.revision)),
                source_service_revision_arns: r
                    .source_revisions
                    .iter()
                    .map(|n| revision(*n))
                    .collect(),
                created_at: Some(time(r.created_at)),
                started_at: Some(time(r.created_at)),
                finished_at: r.finished_at.map(time),
                updated_at: Some(time(r.updated_at)),
                rollback: r
                    .rollback
                    .as_ref()
                    .map(|(reason, to, at)| ServiceDeploymentRollback {
                        reason: Some(reason.clone()),
                        service_revision_arn: Some(revision(*to)),
                        started_at: Some(time(*at)),
                    }),
            });
        }
        Ok(out)
    }

    /// The newest native run of a service, for tests ([`super::Sim::deployment_run`]).
    pub(super) fn native_run(&self, key: &ServiceKey) -> Option<super::SimDeploymentRun> {
        let r = self.services.get(key)?.service_deployments.first()?;
        let run = r.native.as_ref()?;
        Some(super::SimDeploymentRun {
            arn: r.arn.clone(),
            status: r.status,
            stages: run.stages.iter().map(|(s, t)| (*s, t.elapsed())).collect(),
            traffic: run.traffic.iter().map(|(p, t)| (*p, t.elapsed())).collect(),
            blue_groups: run.blue_groups.clone(),
            green_groups: run.green_groups.clone(),
        })
    }
}

fn record_arn(state: &State, key: &ServiceKey) -> String {
    state
        .services
        .get(key)
        .and_then(|s| s.service_deployments.first())
        .map(|r| r.arn.clone())
        .unwrap_or_default()
}
