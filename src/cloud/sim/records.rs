//! The records the simulated account keeps, with no behaviour: virtual time and its clock,
//! services with their deployments and tasks, queued scheduler events, target groups with their
//! targets, and how the saved state spells IPs and targets. Every other file of the simulator
//! reads these; this one reads none of them, so the simulator's modules import in one
//! direction (records, then state, then the operations and the scheduler).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::cloud::model::{
    CreateService, DeploymentStrategy, LifecycleStage, RolloutState, Service,
    ServiceDeploymentStatus, ServiceEvent, ServiceLoadBalancer, Tags, TargetGroup,
    TargetHealthState,
};

/// 2025-01-01T00:00:00Z: the wall-clock time answers report for the moment the account was
/// created ([`Sim::new`]).
///
/// [`Sim::new`]: super::Sim::new
const BASE_UNIX_SECONDS: u64 = 1_735_689_600;

/// A moment of the simulated account: virtual time elapsed since it was created. Unlike a
/// tokio [`Instant`] it means the same thing in every process, so a saved account keeps its
/// times as they are (see `persist`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub(super) struct SimTime(Duration);

impl SimTime {
    /// Virtual time since the account was created.
    pub(super) fn elapsed(self) -> Duration {
        self.0
    }

    /// How long after `earlier` this is (zero when it is not later).
    pub(super) fn saturating_since(self, earlier: SimTime) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

/// `at + d`, or as far as the clock goes: a huge configured duration means "never", not a
/// panic.
pub(super) fn after(at: SimTime, d: Duration) -> SimTime {
    SimTime(at.0.saturating_add(d))
}

/// Maps this process's tokio time to the account's virtual time, and virtual time to the
/// timestamps answers carry.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    /// A tokio instant of this process ...
    origin: Instant,
    /// ... and the account's time then.
    at_origin: SimTime,
}

impl Clock {
    /// A clock on which `origin` is the account's time `at_origin`.
    pub(super) fn new(origin: Instant, at_origin: SimTime) -> Clock {
        Clock { origin, at_origin }
    }

    /// The account's time at a tokio instant of this process.
    pub(super) fn sim_time(&self, at: Instant) -> SimTime {
        after(self.at_origin, at.saturating_duration_since(self.origin))
    }

    /// The wall-clock time of a moment of the account.
    pub(super) fn system_time(&self, at: SimTime) -> SystemTime {
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(BASE_UNIX_SECONDS);
        base.checked_add(at.0).unwrap_or(base)
    }
}

/// (cluster name, service name).
pub(super) type ServiceKey = (String, String);

/// PENDING or RUNNING (stopped tasks leave the service): the status [`super::Sim::tasks`]
/// reports, kept as is in the saved state.
pub(super) use super::SimTaskStatus as TaskStatus;

/// A live task.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Task {
    pub id: String,
    pub arn: String,
    /// Launch order within the service.
    pub launched: u64,
    /// Id of the deployment that started it.
    pub deployment: String,
    pub task_definition: String,
    pub status: TaskStatus,
    #[serde(with = "ipv4")]
    pub ip: u32,
    /// Its image crashes: it will stop instead of running.
    pub crashes: bool,
    /// (target group ARN, port) it is registered in.
    pub targets: Vec<(String, u32)>,
    /// Of those, how many are not healthy yet.
    pub unhealthy_targets: usize,
}

impl Task {
    /// What a rolling update counts as healthy: RUNNING, and healthy in its target groups.
    pub(super) fn healthy(&self) -> bool {
        self.status == TaskStatus::Running && self.unhealthy_targets == 0
    }
}

/// A deployment: PRIMARY when first in [`ServiceState::deployments`], ACTIVE otherwise.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DeploymentState {
    pub id: String,
    pub task_definition: String,
    pub load_balancers: Vec<ServiceLoadBalancer>,
    pub desired_count: u32,
    pub failed_tasks: u32,
    pub rollout_state: RolloutState,
    pub rollout_state_reason: String,
    pub created_at: SimTime,
    pub updated_at: SimTime,
}

/// The last deployment that reached COMPLETED: where a rollback goes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CompletedDeployment {
    pub id: String,
    pub task_definition: String,
    pub load_balancers: Vec<ServiceLoadBalancer>,
}

/// A service and everything the scheduler keeps about it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ServiceState {
    /// The service as described, with ECS defaults filled in; counts, deployments and events
    /// are filled in by the view.
    pub service: Service,
    /// What created it, for CreateService idempotency.
    pub create_input: CreateService,
    /// PRIMARY first, then ACTIVE ones, newest first.
    pub deployments: Vec<DeploymentState>,
    /// Live tasks by id.
    pub tasks: BTreeMap<String, Task>,
    /// Tasks launched so far.
    pub launches: u64,
    /// Newest first.
    pub events: VecDeque<ServiceEvent>,
    pub last_completed: Option<CompletedDeployment>,
    /// Tasks in a row that failed to start.
    pub consecutive_failures: u32,
    /// No launches before this (service throttle).
    pub throttled_until: Option<SimTime>,
    /// A wake-up is queued for this time.
    pub wake_at: Option<SimTime>,
    /// When DeleteService ran.
    pub deleted_at: Option<SimTime>,
    /// Stopped tasks, oldest first, listable for [`STOPPED_TASK_RETENTION`] as in ECS.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub stopped: VecDeque<StoppedTask>,
    /// Its service deployments, newest first (ListServiceDeployments, DescribeServiceDeployments;
    /// `deployments` of the simulator).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_deployments: Vec<ServiceDeploymentRecord>,
}

/// A service deployment: one per deployment started by CreateService or UpdateService, with
/// how far a native strategy's run has come.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ServiceDeploymentRecord {
    pub arn: String,
    /// The deployment (`ecs-svc/...`) it started: the target revision's tasks.
    pub deployment: String,
    /// Its target service revision (1, 2, ... per service).
    pub revision: u64,
    /// The revisions it replaces.
    pub source_revisions: Vec<u64>,
    pub status: ServiceDeploymentStatus,
    pub status_reason: String,
    pub strategy: DeploymentStrategy,
    pub bake_time_in_minutes: Option<u32>,
    pub created_at: SimTime,
    pub updated_at: SimTime,
    pub finished_at: Option<SimTime>,
    /// The circuit breaker's rollback deployment (`ecs-svc/...`), while it runs.
    pub rollback_deployment: Option<String>,
    /// (reason, revision it went back to, when).
    pub rollback: Option<(String, u64, SimTime)>,
    /// The stages of a native strategy, as it runs them.
    pub native: Option<NativeRun>,
}

/// A blue/green, linear or canary run: where it stands, and (for tests) its history.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NativeRun {
    /// The blue deployment (`ecs-svc/...`) serving production when it started.
    pub blue: String,
    pub stage: LifecycleStage,
    /// When it entered the stage.
    pub since: SimTime,
    /// A wait of the stage (hook, bake) is queued until this time.
    pub waiting_until: Option<SimTime>,
    /// The stage's hooks: not run yet (`None`), running (`Some(false)`), done.
    pub hooks_done: Option<bool>,
    /// The production traffic step of this PRODUCTION_TRAFFIC_SHIFT was made.
    pub shifted: bool,
    /// Production traffic on green, in percent.
    pub green_percent: f64,
    /// Each stage entered, with when.
    pub stages: Vec<(LifecycleStage, SimTime)>,
    /// Each production traffic weight on green, with when.
    pub traffic: Vec<(f64, SimTime)>,
    /// Blue's and green's production target groups (one per load balancer).
    pub blue_groups: Vec<String>,
    pub green_groups: Vec<String>,
}

/// How long a stopped task stays listable (ECS keeps them at least an hour).
pub(super) const STOPPED_TASK_RETENTION: Duration = Duration::from_secs(3600);

/// A stopped task: when it stopped and what DescribeTasks says of it (`stoppedAt` filled in
/// when described).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StoppedTask {
    pub at: SimTime,
    pub task: crate::cloud::model::Task,
}

impl ServiceState {
    /// A new ACTIVE service whose first deployment runs `task_definition`.
    pub(super) fn new(
        service: Service,
        create_input: CreateService,
        deployment_id: String,
        now: SimTime,
    ) -> ServiceState {
        let first = DeploymentState {
            rollout_state_reason: format!("ECS deployment {deployment_id} in progress."),
            id: deployment_id,
            task_definition: service.task_definition.clone(),
            load_balancers: service.load_balancers.clone(),
            desired_count: service.desired_count,
            failed_tasks: 0,
            rollout_state: RolloutState::InProgress,
            created_at: now,
            updated_at: now,
        };
        ServiceState {
            service,
            create_input,
            deployments: vec![first],
            tasks: BTreeMap::new(),
            launches: 0,
            events: VecDeque::new(),
            last_completed: None,
            consecutive_failures: 0,
            throttled_until: None,
            wake_at: None,
            deleted_at: None,
            stopped: VecDeque::new(),
            service_deployments: Vec::new(),
        }
    }

    /// Live tasks of one deployment.
    pub(super) fn tasks_of<'a>(&'a self, deployment: &'a str) -> impl Iterator<Item = &'a Task> {
        self.tasks
            .values()
            .filter(move |t| t.deployment == deployment)
    }
}

/// What the scheduler has queued.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub(super) enum Event {
    /// A PENDING task reaches RUNNING, or crashes.
    TaskStarted { service: ServiceKey, task: String },
    /// A registered target passes its health checks.
    TargetHealthy {
        service: ServiceKey,
        task: String,
        target_group: String,
        #[serde(with = "ipv4")]
        ip: u32,
        port: u32,
    },
    /// A draining target's deregistration delay is over.
    TargetDrained {
        target_group: String,
        #[serde(with = "ipv4")]
        ip: u32,
        port: u32,
    },
    /// The service throttle's delay is over.
    Wake { service: ServiceKey },
    /// A native deployment's wait (a hook, a bake time) is over.
    DeploymentStage { service: ServiceKey },
}

/// A target group with what DescribeTargetGroups does not show.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct TargetGroupState {
    pub group: TargetGroup,
    pub attributes: BTreeMap<String, String>,
    pub tags: Tags,
    /// Targets by (IP, port).
    #[serde(with = "targets")]
    pub targets: BTreeMap<(u32, u32), Target>,
}

/// A registered target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    pub state: TargetHealthState,
}

/// `#[serde(with = "records::ipv4")]`: an IP held as a number, saved dotted.
pub(super) mod ipv4 {
    use std::net::Ipv4Addr;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(in crate::cloud::sim) fn serialize<S: Serializer>(
        ip: &u32,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        Ipv4Addr::from(*ip).serialize(s)
    }

    pub(in crate::cloud::sim) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<u32, D::Error> {
        Ipv4Addr::deserialize(d).map(u32::from)
    }
}

/// `#[serde(with = "records::targets")]`: a target group's targets, saved as a list of
/// `{ip, port, state}` (JSON keys cannot be pairs).
pub(super) mod targets {
    use std::collections::BTreeMap;
    use std::net::Ipv4Addr;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Target;
    use crate::cloud::model::TargetHealthState;

    #[derive(Serialize, Deserialize)]
    struct Saved {
        ip: Ipv4Addr,
        port: u32,
        state: TargetHealthState,
    }

    pub(in crate::cloud::sim) fn serialize<S: Serializer>(
        targets: &BTreeMap<(u32, u32), Target>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(targets.iter().map(|((ip, port), t)| Saved {
            ip: Ipv4Addr::from(*ip),
            port: *port,
            state: t.state,
        }))
    }

    pub(in crate::cloud::sim) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<(u32, u32), Target>, D::Error> {
        let saved = Vec::<Saved>::deserialize(d)?;
        Ok(saved
            .into_iter()
            .map(|t| ((u32::from(t.ip), t.port), Target { state: t.state }))
            .collect())
    }
}

// ---- ELBv2 load balancers, listeners and rules (issue 14)

/// The account's load balancers and listeners (seeded: they are managed elsewhere, the
/// operator only reads them) and the listener rules, with their tags.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ElbState {
    /// Load balancers by name.
    pub load_balancers: BTreeMap<String, crate::cloud::model::LoadBalancer>,
    /// Listeners by ARN.
    pub listeners: BTreeMap<String, crate::cloud::model::Listener>,
    /// Rules by ARN, the listeners' default rules included.
    pub rules: BTreeMap<String, RuleState>,
}

/// A listener rule and its tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct RuleState {
    /// The rule as DescribeRules answers.
    pub rule: crate::cloud::model::Rule,
    /// Its tags.
    pub tags: Tags,
}
