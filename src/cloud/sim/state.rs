//! The simulated account: everything behind the simulator's one lock, the virtual clock, the
//! event queue the scheduler works through, and the lookups every operation shares.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::time::Instant;

use super::SimConfig;
use super::arn::Arns;
use super::records::{Clock, ElbState, Event, ServiceKey, ServiceState, SimTime, TargetGroupState};
use super::throttle::Throttle;
use crate::cloud::error::{CloudError, CloudResult};
use crate::cloud::model::{Cluster, RegisteredTaskDefinition};

/// The simulated account.
#[derive(Debug)]
pub(super) struct State {
    /// Settings (crashing images may change at run time).
    pub config: SimConfig,
    /// ARN builder for the account and Region.
    pub arns: Arns,
    /// Tokio time to virtual time to wall-clock time.
    pub clock: Clock,
    /// The simulation's present: every event up to here has been processed.
    pub now: SimTime,
    /// Task ids, IPs, deployment ids, ARN suffixes.
    pub rng: StdRng,
    /// Calls per operation.
    pub calls: BTreeMap<&'static str, u64>,
    /// Calls ever made, for request ids.
    pub requests: u64,
    /// Token buckets.
    pub throttle: Throttle,
    /// Clusters by name.
    pub clusters: BTreeMap<String, Cluster>,
    /// Services by (cluster name, service name), INACTIVE ones included.
    pub services: BTreeMap<ServiceKey, ServiceState>,
    /// Task definition revisions by family; revision `n` at index `n - 1`.
    pub families: BTreeMap<String, Vec<RegisteredTaskDefinition>>,
    /// Target groups by ARN.
    pub target_groups: BTreeMap<String, TargetGroupState>,
    /// Target group ARNs by name.
    pub target_group_arns: BTreeMap<String, String>,
    /// What the scheduler has to do, by time (and order of scheduling, for ties).
    pub events: BTreeMap<(SimTime, u64), Event>,
    /// Next tie-breaker of `events`.
    pub next_seq: u64,
    /// Services touched by the events of the current instant, reconciled once they are all
    /// processed (one pass per service and instant, however many tasks changed).
    pub dirty: BTreeSet<ServiceKey>,
    /// IPs in use, with how many holders (the task, and each target not yet deregistered):
    /// an IP is not reused while a target group still lists it.
    pub ips: BTreeMap<u32, u32>,
    /// Application Auto Scaling: scalable targets, policies, scheduled actions, load.
    pub scaling: super::autoscaling::SimScaling,
    /// Load balancers, listeners and listener rules (issue 14; seeded, see `listener_rules`).
    pub elb: ElbState,
}

impl State {
    /// An empty account created at the tokio instant `start`.
    pub(super) fn new(config: SimConfig, start: Instant) -> State {
        let mut s = State {
            arns: Arns::new(&config.region, &config.account_id),
            clock: Clock::new(start, SimTime::default()),
            now: SimTime::default(),
            rng: StdRng::seed_from_u64(config.seed),
            calls: BTreeMap::new(),
            requests: 0,
            throttle: Throttle::new(config.buckets.clone()),
            clusters: BTreeMap::new(),
            services: BTreeMap::new(),
            families: BTreeMap::new(),
            target_groups: BTreeMap::new(),
            target_group_arns: BTreeMap::new(),
            events: BTreeMap::new(),
            next_seq: 0,
            dirty: BTreeSet::new(),
            ips: BTreeMap::new(),
            scaling: Default::default(),
            elb: ElbState::default(),
            config,
        };
        s.elb = s.seeded_elb();
        s
    }

    /// Counts a call; returns its request id.
    pub(super) fn count_call(&mut self, operation: &'static str) -> String {
        *self.calls.entry(operation).or_insert(0) += 1;
        self.requests += 1;
        format!("sim-{:08}", self.requests)
    }

    /// The wall-clock time of the simulation's present.
    pub(super) fn timestamp(&self) -> SystemTime {
        self.clock.system_time(self.now)
    }

    /// Queues an event.
    pub(super) fn schedule(&mut self, at: SimTime, event: Event) {
        self.next_seq += 1;
        self.events.insert((at, self.next_seq), event);
    }

    /// Processes every event due up to the tokio instant `to` in time order, reconciling the
    /// services they touched before time moves on, then moves the present to `to`.
    pub(super) fn advance(&mut self, to: Instant) {
        let to = self.clock.sim_time(to);
        loop {
            let next = self
                .events
                .first_key_value()
                .map(|((at, _), _)| *at)
                .filter(|at| *at <= to);
            if next.is_none_or(|at| at > self.now) && !self.dirty.is_empty() {
                // Reconciling may queue events at this same instant: loop again.
                for key in std::mem::take(&mut self.dirty) {
                    self.reconcile(&key);
                }
                continue;
            }
            let Some((_, event)) = next.and_then(|_| self.events.pop_first()) else {
                break;
            };
            if let Some(at) = next {
                self.now = self.now.max(at);
            }
            self.handle(event);
        }
        self.now = self.now.max(to);
    }

    /// The name of an existing cluster given by name or ARN, or ClusterNotFoundException.
    pub(super) fn cluster_key(
        &self,
        operation: &'static str,
        cluster: &str,
    ) -> CloudResult<String> {
        self.arns
            .cluster_name(cluster)
            .filter(|name| {
                self.clusters
                    .get(*name)
                    .is_some_and(|c| c.status == "ACTIVE")
            })
            .map(str::to_string)
            .ok_or_else(|| {
                CloudError::from_code(operation, "ClusterNotFoundException", "Cluster not found.")
            })
    }
}
