//! The `sim` backend: an in-process simulator of the ECS and ELBv2 behaviour the operator
//! relies on, driven by tokio time. It serves the zero-setup quick start, deterministic tests
//! on virtual time, fault injection and scale benchmarks.
//!
//! # How time works
//! There are no background tasks. The whole simulated account sits behind one
//! `std::sync::Mutex` (never held across an `.await`); every call first advances the
//! simulation lazily to `tokio::time::Instant::now()`, processing the scheduler's events in
//! time order (a task reaches RUNNING, a target turns healthy, a draining target goes away),
//! and then answers. Under `#[tokio::test(start_paused = true)]` a run is a pure function of
//! the seed, the calls and `tokio::time::advance`. Timestamps in answers are a fixed base
//! (2025-01-01T00:00:00Z) plus the virtual time elapsed since [`Sim::new`] created the account
//! (across processes when it was saved and loaded: see [`Sim::load`]).
//!
//! # Layout
//! Imports run one way: `records`, `arn`, `throttle`, `defaults` (no simulator imports), then
//! `state`, then the files that act on it.
//! - `records`: what the account keeps, with no behaviour: virtual time and its clock,
//!   services with deployments and tasks, scheduler events, target groups and their targets.
//! - `state`: the account (clusters, services, task definition families, target groups, the
//!   event queue), its clock and identifier lookups.
//! - `arn`: ARN building and parsing, random identifiers, opaque page tokens.
//! - AWS's defaults (what ECS and ELBv2 fill in) are read from `cloud::defaults`.
//! - `clusters`, `services`, `task_definitions`, `target_groups`: the API semantics, as
//!   methods of the state.
//! - `scheduler`: rolling deployments and rollout states; `tasks`: launching and stopping
//!   tasks; `breaker`: the circuit breaker and the restart throttle; `targets`: target
//!   registration and health; `deployments`: service deployments (ListServiceDeployments,
//!   DescribeServiceDeployments) and the native strategies' stages, traffic and hooks.
//! - `throttle`: AWS's token buckets, of the shapes of the one catalogue
//!   ([`Bucket::aws_default`](super::operation::Bucket::aws_default)); `faults`: injected
//!   faults, a call [`Layer`] ([`Faults`]) usable with any backend.
//! - `ecs`, `elbv2`: the [`Ecs`](super::Ecs) and [`Elbv2`](super::Elbv2) trait impls of the
//!   simulated endpoints, one line per method: `Sim::serve` (advance, throttle, answer).
//! - `autoscaling`: Application Auto Scaling (targets, policies, scheduled actions, its
//!   [`AutoScaling`](super::AutoScaling) endpoints) and the target tracking scaler moving a
//!   service's desired count with the load of [`Sim::set_load`].
//!
//! # One call
//! [`Sim::cloud`] is the endpoints behind [`Sim::layers`]: the request counter (calls per
//! operation, request ids) and then the faults, so an injected failure or hang is counted and
//! carries a request id as any answer of AWS does. `connect` puts the same layers inside its
//! own (rate limiter, instrumentation, failure log) over [`Sim::endpoints`].
//! - `persist`: [`Sim::save`] and [`Sim::load`], the account as a JSON file, so another
//!   process goes on with it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use super::Cloud;
use super::error::{CloudError, CloudResult, ErrorKind};
use super::layer::{CallInfo, Layer, Layered, Ticket};
use super::operation::{AwsService, Bucket, Operation, Shape};

mod arn;
mod autoscaling;
mod breaker;
mod clusters;
mod deployments;
mod ecs;
mod elbv2;
mod faults;
mod listener_rules;
mod persist;
mod records;
mod scheduler;
mod services;
mod state;
mod store;
mod target_groups;
mod targets;
mod task_definitions;
mod tasks;
mod throttle;

#[cfg(test)]
mod tests;

pub use breaker::RestartThrottle;
pub use faults::Faults;
pub use listener_rules::{SimRequest, SimRoute};
pub use persist::SimStateError;

use state::State;

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Account id used in ARNs.
    pub account_id: String,
    /// Region used in ARNs.
    pub region: String,
    /// Images whose reference contains one of these strings crash on start; `IMAGE=pull`,
    /// `=secret`, `=exit:N` or `=health` chooses the stop code and reason of their tasks
    /// (plain `IMAGE`: the essential container exits with 1). Stopped tasks stay listable
    /// (ListTasks STOPPED, DescribeTasks) for an hour, as in ECS.
    pub crashing_images: Vec<String>,
    /// Simulate AWS throttling buckets (aws-api-facts.md shapes).
    pub throttling: bool,
    /// Seed of the random generator (error rates, task ids, IPs): the same seed, the same run.
    pub seed: u64,
    /// How long a task takes from PENDING to RUNNING (or, with a crashing image, to STOPPED;
    /// at least 1 ms then, so a crash loop always moves time forward).
    pub task_start_time: Duration,
    /// How long a target takes from initial to healthy once its task runs.
    pub target_healthy_time: Duration,
    /// Bucket shapes other than AWS's ([`Bucket::aws_default`]), when `throttling` is on.
    pub buckets: BTreeMap<Bucket, Shape>,
    /// ECS's service throttle: growing delays between launches of a service whose tasks keep
    /// failing to start.
    pub restart_throttle: RestartThrottle,
    /// Lifecycle hooks whose target ARN contains one of these strings fail (the native
    /// deployment then rolls back); the others succeed.
    pub failing_hooks: Vec<String>,
    /// How long a lifecycle hook (a Lambda function) takes to answer.
    pub hook_time: Duration,
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
            buckets: BTreeMap::new(),
            restart_throttle: RestartThrottle::default(),
            failing_hooks: Vec::new(),
            hook_time: Duration::from_secs(10),
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
    /// The next `n` calls are made (the simulator acts on them) but their answer is lost: the
    /// caller sees a transient error, as after a connection reset once the request was sent.
    LoseAnswer(u32),
}

/// Where a simulated task is in its life (stopped tasks are gone from the service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SimTaskStatus {
    /// Provisioning; becomes RUNNING (or, with a crashing image, STOPPED) after
    /// [`SimConfig::task_start_time`].
    Pending,
    /// Running.
    Running,
}

/// A live task of a simulated service, as [`Sim::tasks`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimTask {
    /// Task id (32 hex digits).
    pub id: String,
    /// Task ARN.
    pub arn: String,
    /// The deployment that started it (`ecs-svc/...`).
    pub deployment_id: String,
    /// Task definition ARN.
    pub task_definition: String,
    /// PENDING or RUNNING.
    pub status: SimTaskStatus,
    /// Its private IP (10.0.0.0/16), the target id in target groups.
    pub ip: String,
    /// RUNNING and healthy in every target group of its deployment (RUNNING is enough
    /// without load balancers): what the rolling update counts as healthy.
    pub healthy: bool,
}

/// A native (blue/green, linear, canary) service deployment as the simulator ran it, for
/// tests: [`Sim::deployment_run`].
#[derive(Debug, Clone, PartialEq)]
pub struct SimDeploymentRun {
    /// Its ARN.
    pub arn: String,
    /// Its status now.
    pub status: crate::cloud::model::ServiceDeploymentStatus,
    /// Each lifecycle stage entered, with the virtual time since the account was created.
    pub stages: Vec<(crate::cloud::model::LifecycleStage, Duration)>,
    /// Each production traffic weight on green (percent), with when.
    pub traffic: Vec<(f64, Duration)>,
    /// Blue's production target group ARNs (one per load balancer).
    pub blue_groups: Vec<String>,
    /// Green's.
    pub green_groups: Vec<String>,
}

/// The simulator: cheap to clone (shared state).
#[derive(Clone)]
pub struct Sim {
    state: Arc<Mutex<State>>,
    faults: Arc<Faults>,
    /// The locked state file written after every mutating call ([`Sim::open`]).
    store: Option<Arc<store::Store>>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("Sim")
            .field("account_id", &s.config.account_id)
            .field("region", &s.config.region)
            .field("clusters", &s.clusters.len())
            .field("services", &s.services.len())
            .field("target_groups", &s.target_groups.len())
            .finish()
    }
}

impl Sim {
    /// A new, empty simulated account.
    pub fn new(config: SimConfig) -> Sim {
        Sim {
            faults: Arc::new(Faults::new(config.seed)),
            state: Arc::new(Mutex::new(State::new(config, tokio::time::Instant::now()))),
            store: None,
        }
    }

    /// The account saved at `path` by [`Sim::save`], in this process: its virtual clock goes
    /// on from where the saving simulator stopped (tasks still starting, targets still
    /// turning healthy or draining, and throttled services keep their remaining time), and
    /// ids keep being drawn where the saving simulator left off. Everything but the account
    /// comes from `config` (which must name the same account and Region); call counters
    /// start at zero, throttling buckets full, and no faults are injected.
    ///
    /// A missing file is [`SimStateError::NotFound`]: start with [`Sim::new`] then.
    pub fn load(config: SimConfig, path: &Path) -> Result<Sim, SimStateError> {
        let faults = Arc::new(Faults::new(config.seed));
        let state = persist::read(config, path, tokio::time::Instant::now())?;
        Ok(Sim {
            state: Arc::new(Mutex::new(state)),
            faults,
            store: None,
        })
    }

    /// The account kept in the state file `path` (an empty one when there is none yet),
    /// locked for as long as this simulator or a clone lives, and written after every
    /// mutating call that reaches it (through [`Sim::layers`]): a process killed at any
    /// moment loses no call it answered. A second simulator on the same file, in this process
    /// or another, is refused with [`SimStateError::Locked`]. Temp files of the file that a
    /// killed write left are removed.
    pub fn open(config: SimConfig, path: &Path) -> Result<Sim, SimStateError> {
        let store = Arc::new(store::Store::lock(path)?);
        let mut sim = match Sim::load(config.clone(), path) {
            Ok(sim) => sim,
            Err(SimStateError::NotFound { .. }) => Sim::new(config),
            Err(e) => return Err(e),
        };
        sim.store = Some(store);
        Ok(sim)
    }

    /// Saves the account, after advancing the simulation to now, as JSON to `path` (its
    /// directory is created if needed), atomically: a reader sees the previous file or this
    /// one, never a part. The id generator is re-seeded from its own stream and the seed
    /// saved, so this simulator and one loaded from the file go on drawing the same ids.
    pub fn save(&self, path: &Path) -> Result<(), SimStateError> {
        // Its own locked file: one write at a time with the writes after each call.
        if let Some(store) = self.store.as_ref().filter(|s| s.path == path) {
            return store.save(self);
        }
        let bytes = {
            let mut s = self.lock();
            s.advance(tokio::time::Instant::now());
            persist::encode(&mut s, path)?
        };
        persist::write_atomically(path, &bytes)
    }

    /// The simulator as the operator's [`Cloud`]: [`Sim::endpoints`] behind [`Sim::layers`].
    pub fn cloud(&self) -> Cloud {
        Layered::new(self.endpoints(), self.layers()).cloud()
    }

    /// The simulated endpoints alone: they advance the simulation, throttle and answer, but
    /// count nothing and inject no fault (put them behind [`Sim::layers`]).
    pub fn endpoints(&self) -> Cloud {
        Cloud {
            ecs: Arc::new(Endpoints(self.clone())),
            elbv2: Arc::new(Endpoints(self.clone())),
            autoscaling: Arc::new(Endpoints(self.clone())),
        }
    }

    /// The simulator's call layers, outermost first: the request counter, the faults, and
    /// for a simulator [`Sim::open`]ed on a state file the write after each mutating call.
    pub fn layers(&self) -> Vec<Arc<dyn Layer>> {
        let mut layers: Vec<Arc<dyn Layer>> =
            vec![Arc::new(Requests(self.clone())), self.faults.clone()];
        if let Some(store) = &self.store {
            layers.push(Arc::new(store::SaveAfterWrites(
                self.clone(),
                store.clone(),
            )));
        }
        layers
    }

    /// The fault layer of [`Sim::inject`].
    pub fn faults(&self) -> Arc<Faults> {
        Arc::clone(&self.faults)
    }

    /// Adds a fault to an operation (faults of one operation accumulate).
    pub fn inject(&self, operation: &str, fault: Fault) {
        self.faults.inject(operation, fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.faults.clear();
    }

    /// Calls made so far, per operation (AWS spelling), failed ones included.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.lock()
            .calls
            .iter()
            .map(|(op, n)| ((*op).to_string(), *n))
            .collect()
    }

    /// Sets the call counters back to zero (benchmarks measure one phase at a time).
    pub fn reset_calls(&self) {
        self.lock().calls.clear();
    }

    /// Replaces [`SimConfig::crashing_images`]: tasks launched from now on whose image
    /// contains one of these strings crash on start. Running tasks are not affected.
    pub fn set_crashing_images(&self, images: Vec<String>) {
        self.lock().config.crashing_images = images;
    }

    /// The live (PENDING and RUNNING) tasks of a service, oldest first, after advancing the
    /// simulation to now. Empty when the service does not exist. Not an API call: not
    /// counted, never throttled or faulted.
    pub fn tasks(&self, cluster: &str, service: &str) -> Vec<SimTask> {
        let mut s = self.lock();
        s.advance(tokio::time::Instant::now());
        s.sim_tasks(cluster, service)
    }

    /// Stops one task of a service as if its essential container had exited (`aws ecs
    /// stop-task`); the scheduler starts a replacement. Returns false when there is no such
    /// live task. Not an API call.
    pub fn stop_task(&self, cluster: &str, service: &str, task_id: &str) -> bool {
        let mut s = self.lock();
        s.advance(tokio::time::Instant::now());
        s.force_stop_task(cluster, service, task_id)
    }

    /// Sets the load of a service for the simulated target tracking scaler (`autoscaling`):
    /// its total demand in percent of one task (`300`: three tasks busy); `None` removes it.
    /// Not an API call.
    pub fn set_load(&self, cluster: &str, service: &str, percent: Option<f64>) {
        let id = super::model::scaling::resource_id(cluster, service);
        let mut s = self.lock();
        s.advance(tokio::time::Instant::now());
        match percent {
            Some(p) => s.scaling.load.insert(id, p),
            None => s.scaling.load.remove(&id),
        };
    }

    /// The newest native service deployment of a service (its stages and traffic weights so
    /// far), after advancing the simulation to now; `None` when its newest deployment is not a
    /// native run. Not an API call.
    pub fn deployment_run(&self, cluster: &str, service: &str) -> Option<SimDeploymentRun> {
        let mut s = self.lock();
        s.advance(tokio::time::Instant::now());
        s.native_run(&(cluster.to_string(), service.to_string()))
    }

    /// Replaces [`SimConfig::failing_hooks`].
    pub fn set_failing_hooks(&self, hooks: Vec<String>) {
        self.lock().config.failing_hooks = hooks;
    }

    /// Locks the account. A panic while the lock was held cannot leave the state half
    /// written in a way later calls cannot read, so a poisoned lock is taken over.
    /// Where the listener on `port` of load balancer `load_balancer` sends `request` (issue 14:
    /// the rules by priority, then the default action); `None` when there is no such
    /// listener. The seeded load balancer is `shop-alb` with an HTTP:80 listener.
    pub fn route(&self, load_balancer: &str, port: u32, request: &SimRequest) -> Option<SimRoute> {
        let mut s = self.lock();
        s.advance(tokio::time::Instant::now());
        s.route(load_balancer, port, request)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Answers one API call: under the lock, advances the simulation to now, takes a
    /// throttling token of each bucket of `operation` and answers with `answer`.
    fn serve<T>(
        &self,
        operation: Operation,
        answer: impl FnOnce(&mut State) -> CloudResult<T>,
    ) -> CloudResult<T> {
        let mut s = self.lock();
        let now = tokio::time::Instant::now();
        s.advance(now);
        s.autoscale();
        if s.config.throttling && !s.throttle.try_acquire(operation, now) {
            let code = match operation.service() {
                AwsService::Ecs | AwsService::Dynamodb | AwsService::ApplicationAutoScaling => {
                    "ThrottlingException"
                }
                AwsService::Elbv2 => "Throttling",
            };
            return Err(CloudError::from_code(
                operation.as_str(),
                code,
                "Rate exceeded",
            ));
        }
        answer(&mut s)
    }
}

/// The simulated ECS and ELBv2 endpoints (see `ecs`, `elbv2`).
#[derive(Clone)]
struct Endpoints(Sim);

/// The request counter layer: counts every call that reaches the simulated account (failed,
/// faulted and hanging ones included) and gives its error the request id.
struct Requests(Sim);

#[async_trait]
impl Layer for Requests {
    async fn enter(&self, call: &CallInfo<'_>) -> CloudResult<Ticket> {
        let id = self.0.lock().count_call(call.operation.as_str());
        Ok(Ticket::hold(id))
    }

    fn exit(&self, _call: &CallInfo<'_>, ticket: Ticket, outcome: Result<(), &mut CloudError>) {
        if let (Err(e), Some(id)) = (outcome, ticket.take::<String>())
            && e.request_id.is_none()
        {
            e.request_id = Some(id);
        }
    }
}
