//! Leader election on the simulator, paused time: two controllers (replicas) on one simulated
//! account and one simulated lease table. Every ECS/ELBv2 call that passes a replica's leader
//! gate is logged with the replica's holder id and the fencing number it leads with, in the
//! order the calls are sent; the lease calls of each replica are counted by operation.
//!
//! Figures (printed with `--nocapture`): takeover after a crash, after SIGTERM, lease calls
//! per minute of a leader and of a standby.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ecs_operator::cloud::layer::{self, CallInfo, Layer, Ticket};
use ecs_operator::cloud::sim::{Fault, Faults, Sim, SimConfig};
use ecs_operator::cloud::{CloudResult, ErrorKind};
use ecs_operator::controller::reconcile::NoEvents;
use ecs_operator::controller::run::{Handle, RunConfig, RunError, SourceConfig, run};
use ecs_operator::lease::sim::SimLeases;
use ecs_operator::lease::{ElectionConfig, LeaderGate, LeaderView, Role, TokioClock};
use ecs_operator::manifest::{Loaded, load_str};
use ecs_operator::status::{Health, SyncStatus};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

const DURATION: Duration = Duration::from_secs(15);
const RENEW: Duration = Duration::from_secs(5);
const MARGIN_MS: u64 = 5_000;

fn manifests(count: u32) -> Loaded {
    let cluster = "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata:\n  name: shop\nspec: {}\n"
        .to_string();
    let tg = "apiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata:\n  name: shop-api\nspec:\n  protocol: HTTP\n  port: 8000\n  vpcId: vpc-1\n  targetType: ip\n".to_string();
    let service = format!(
        "apiVersion: ecs-operator/v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  cluster: shop\n  desiredCount: {count}\n  launchType: FARGATE\n  loadBalancers:\n    - {{targetGroup: shop-api, containerName: app, containerPort: 8000}}\n  networkConfiguration:\n    awsvpcConfiguration:\n      subnets: [subnet-1]\n  taskDefinition:\n    cpu: \"256\"\n    memory: \"512\"\n    networkMode: awsvpc\n    containerDefinitions:\n      - name: app\n        image: api:1\n        portMappings:\n          - containerPort: 8000\n"
    );
    let mut all = Loaded::default();
    for (name, text) in [
        ("cluster.yaml", cluster),
        ("tg.yaml", tg),
        ("api.yaml", service),
    ] {
        let one = load_str(Path::new(name), &text);
        assert!(one.failed.is_empty(), "{name}: {:?}", one.diagnostics);
        all.files += one.files;
        all.documents.extend(one.documents);
        all.diagnostics.extend(one.diagnostics);
    }
    all
}

/// One call that passed a gate.
#[derive(Debug, Clone)]
struct Call {
    holder: String,
    fencing: u64,
    operation: &'static str,
    read: bool,
    at_ms: u64,
}

type Log = Arc<Mutex<Vec<Call>>>;

/// Logs every call it sees with the replica's holder id and current fencing number.
struct Tag {
    holder: String,
    gate: LeaderGate,
    clock: TokioClock,
    log: Log,
}

#[async_trait]
impl Layer for Tag {
    async fn enter(&self, call: &CallInfo<'_>) -> CloudResult<Ticket> {
        self.log.lock().unwrap().push(Call {
            holder: self.holder.clone(),
            fencing: self.gate.fencing(),
            operation: call.operation.as_str(),
            read: call.operation.is_read(),
            at_ms: self.clock.now_ms(),
        });
        Ok(Ticket::none())
    }
}

/// Counts calls by operation.
#[derive(Default)]
struct Count(Mutex<BTreeMap<&'static str, u64>>);

#[async_trait]
impl Layer for Count {
    async fn enter(&self, call: &CallInfo<'_>) -> CloudResult<Ticket> {
        *self
            .0
            .lock()
            .unwrap()
            .entry(call.operation.as_str())
            .or_default() += 1;
        Ok(Ticket::none())
    }
}

impl Count {
    fn total(&self) -> u64 {
        self.0.lock().unwrap().values().sum()
    }
}

use ecs_operator::lease::LeaseClock;

/// What every replica shares: the account, the lease table, the clock, the call log.
struct World {
    sim: Sim,
    leases: SimLeases,
    clock: TokioClock,
    log: Log,
}

impl World {
    fn new() -> World {
        World {
            sim: Sim::new(SimConfig::default()),
            leases: SimLeases::new(),
            clock: TokioClock::new(1_750_000_000_000),
            log: Log::default(),
        }
    }

    async fn replica(&self, holder: &str, count: u32) -> Replica {
        let gate = LeaderGate::new();
        let tag = Arc::new(Tag {
            holder: holder.into(),
            gate: gate.clone(),
            clock: self.clock,
            log: self.log.clone(),
        });
        // The gate first, then the log: only calls the gate let through are logged.
        let cloud = layer::wrap(self.sim.cloud(), vec![Arc::new(gate.clone()), tag]);
        let faults = Arc::new(Faults::new(holder.len() as u64));
        let lease_calls = Arc::new(Count::default());
        let store = self.leases.store(vec![lease_calls.clone(), faults.clone()]);
        let election = ecs_operator::lease::start(
            store,
            Arc::new(self.clock),
            ElectionConfig {
                name: "ecs-operator".into(),
                holder: holder.into(),
                duration: DURATION,
                renew: RENEW,
            },
            gate,
        );
        let view = election.view();
        let (feed, loads) = mpsc::channel(16);
        feed.send((manifests(count), Some(format!("rev-{count}"))))
            .await
            .unwrap();
        let mut config = RunConfig::new(SourceConfig::Feed {
            location: "test".into(),
            loads,
        });
        config.settings.instance = "test-operator".into();
        config.queue.seed = Some(7);
        config.election = Some(election);
        let (stop, stopped) = oneshot::channel::<()>();
        let (handle_tx, handle_rx) = oneshot::channel();
        let task = tokio::spawn(run(
            cloud,
            config,
            None,
            Arc::new(NoEvents),
            move |h| {
                let _ = handle_tx.send(h.clone());
            },
            async move {
                let _ = stopped.await;
            },
        ));
        let handle = handle_rx.await.expect("run started");
        Replica {
            view,
            feed,
            handle,
            faults,
            lease_calls,
            stop: Some(stop),
            task,
        }
    }

    /// The calls of `holder`.
    fn calls_of(&self, holder: &str) -> Vec<Call> {
        let log = self.log.lock().unwrap();
        log.iter().filter(|c| c.holder == holder).cloned().collect()
    }

    /// Services and target groups as the account has them (read around the log).
    async fn resources(&self) -> (Vec<String>, usize, Option<u32>) {
        let cloud = self.sim.cloud();
        let services = cloud.ecs.list_services("shop", None).await.unwrap().items;
        let groups = cloud
            .elbv2
            .describe_target_groups_page(None, 100)
            .await
            .unwrap()
            .items;
        let described = cloud
            .ecs
            .describe_services("shop", &["api".to_string()])
            .await
            .unwrap();
        let desired = described.found.first().map(|s| s.desired_count);
        (services, groups.len(), desired)
    }
}

struct Replica {
    view: watch::Receiver<LeaderView>,
    feed: mpsc::Sender<(Loaded, Option<String>)>,
    handle: Handle,
    faults: Arc<Faults>,
    lease_calls: Arc<Count>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), RunError>>,
}

impl Replica {
    fn leads(&self) -> bool {
        self.view.borrow().role == Role::Leader
    }

    /// Every resource Synced, the service at `rev-{count}` (and Healthy at the first revision: a later
    /// change of the desired count stays Progressing until a full sync reads it again).
    fn converged(&self, count: u32) -> bool {
        let report = self.handle.controller.status().report();
        report.ready
            && report.resources.len() == 3
            && report.resources.iter().all(|s| {
                s.sync == SyncStatus::Synced
                    && (s.name != "api" || s.revision.as_deref() == Some(&format!("rev-{count}")))
                    && (count != 2 || s.health == Health::Healthy)
            })
            && report.source.revision.as_deref() == Some(&format!("rev-{count}"))
    }

    async fn change(&self, count: u32) {
        self.feed
            .send((manifests(count), Some(format!("rev-{count}"))))
            .await
            .unwrap();
    }

    /// SIGTERM: finish, release.
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }

    /// kill -9: the run and its elector are dropped, nothing released.
    async fn crash(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Advances virtual time 100 ms at a time until `done` holds; the time it took.
async fn until(limit: Duration, what: &str, done: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "not {what} after {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    start.elapsed()
}

/// No two replicas ever made mutating calls in the same lease period: in the order the calls
/// were sent, the mutating calls fall into runs of one (holder, fencing) each, and a run that
/// ended never comes back.
fn assert_one_writer_at_a_time(log: &[Call]) {
    let mut ended: Vec<(String, u64)> = Vec::new();
    let mut current: Option<(String, u64)> = None;
    for call in log.iter().filter(|c| !c.read) {
        let term = (call.holder.clone(), call.fencing);
        if current.as_ref() != Some(&term) {
            assert!(
                !ended.contains(&term),
                "{term:?} made {} again after another leader wrote",
                call.operation
            );
            if let Some(previous) = current.replace(term) {
                ended.push(previous);
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn one_leader_makes_every_call_and_a_crashed_leader_is_replaced_after_expiry() {
    let world = World::new();
    let a = world.replica("a", 2).await;
    until(Duration::from_secs(5), "a leads", || a.leads()).await;
    let b = world.replica("b", 2).await;
    until(Duration::from_secs(120), "converged", || a.converged(2)).await;
    assert!(!b.leads());
    assert!(
        b.handle.controller.status().is_ready(),
        "a standby is ready"
    );
    assert_eq!(
        b.handle
            .controller
            .status()
            .report()
            .leader
            .leader
            .as_deref(),
        Some("a")
    );
    assert!(
        world.calls_of("b").is_empty(),
        "the standby made no ECS/ELBv2 call: {:?}",
        world.calls_of("b")
    );

    // Lease calls per minute, once settled.
    let (la, lb) = (a.lease_calls.total(), b.lease_calls.total());
    tokio::time::sleep(Duration::from_secs(60)).await;
    let (leader_per_minute, standby_per_minute) =
        (a.lease_calls.total() - la, b.lease_calls.total() - lb);
    println!(
        "figure: lease calls per minute: leader {leader_per_minute}, standby {standby_per_minute}"
    );
    assert!(
        (11..=13).contains(&leader_per_minute),
        "{leader_per_minute}"
    );
    assert!(
        (59..=61).contains(&standby_per_minute),
        "{standby_per_minute}"
    );
    assert!(world.calls_of("b").is_empty());

    // kill -9 the leader; change the manifests: the standby takes over after the lease
    // expired and converges, with nothing made twice.
    a.crash().await;
    let crashed = Instant::now();
    b.change(3).await;
    let took = until(Duration::from_secs(30), "b leads", || b.leads()).await;
    println!("figure: takeover after a crash: {took:?}");
    assert!(
        took >= DURATION - RENEW && took <= DURATION + Duration::from_secs(1),
        "{took:?}"
    );
    until(Duration::from_secs(120), "b converged", || b.converged(3)).await;
    let (services, groups, desired) = world.resources().await;
    assert_eq!(services.len(), 1, "{services:?}");
    assert_eq!(groups, 1);
    assert_eq!(desired, Some(3));
    let b_writes: Vec<_> = world
        .calls_of("b")
        .into_iter()
        .filter(|c| !c.read)
        .collect();
    assert!(!b_writes.is_empty());
    assert!(
        b_writes
            .iter()
            .all(|c| c.at_ms >= world.clock.ms_at(crashed)),
        "b wrote only after the crash"
    );
    assert_one_writer_at_a_time(&world.log.lock().unwrap());
    b.stop().await;
}

#[tokio::test(start_paused = true)]
async fn sigterm_hands_over_within_a_second() {
    let world = World::new();
    let a = world.replica("a", 2).await;
    until(Duration::from_secs(5), "a leads", || a.leads()).await;
    let b = world.replica("b", 2).await;
    until(Duration::from_secs(120), "converged", || a.converged(2)).await;
    let stopping = Instant::now();
    a.stop().await;
    assert_eq!(world.leases.get("ecs-operator"), None, "released");
    until(Duration::from_secs(5), "b leads", || b.leads()).await;
    // From SIGTERM (the stop includes finishing and releasing) to the standby leading.
    let took = stopping.elapsed();
    println!("figure: takeover after SIGTERM: {took:?}");
    assert!(took <= Duration::from_secs(1), "{took:?}");
    b.change(3).await;
    until(Duration::from_secs(120), "b converged", || b.converged(3)).await;
    assert_one_writer_at_a_time(&world.log.lock().unwrap());
    b.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_leader_whose_renewals_fail_makes_no_change_once_its_lease_could_have_expired() {
    let world = World::new();
    let a = world.replica("a", 2).await;
    until(Duration::from_secs(120), "converged", || a.converged(2)).await;
    // DynamoDB out of reach for this replica: every lease call fails.
    for op in ["GetItem", "PutItem", "UpdateItem", "DeleteItem"] {
        a.faults
            .inject(op, Fault::ErrorRate(1.0, ErrorKind::Transient));
    }
    // Keep asking for changes, every second, for a minute.
    for i in 0..60 {
        a.change(3 + (i % 2)).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(!a.leads());
    let lease = world.leases.get("ecs-operator").expect("not released");
    let writes: Vec<_> = world
        .calls_of("a")
        .into_iter()
        .filter(|c| !c.read)
        .collect();
    let last = writes.iter().map(|c| c.at_ms).max().expect("a wrote");
    assert!(
        last < lease.expires_at_ms - MARGIN_MS,
        "last change at {last}, lease expiring at {}",
        lease.expires_at_ms
    );
    assert!(a.view.borrow().renew_failures >= 2);
    // Renewals work again: it takes the lease back and goes on.
    a.faults.clear();
    until(Duration::from_secs(5), "a leads again", || a.leads()).await;
    until(Duration::from_secs(120), "converged", || a.converged(4)).await;
    a.stop().await;
}

#[tokio::test(start_paused = true)]
async fn thirty_minutes_of_lease_faults_and_restarts_never_have_two_writers() {
    use rand::{RngExt, SeedableRng};
    let world = World::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let mut generation = 0u32;
    let mut count = 2u32;
    let mut name = |rng: &mut rand::rngs::StdRng| {
        generation += 1;
        format!("r{generation}-{}", rng.random_range(0..1000))
    };
    let faulty = |r: &Replica, rng: &mut rand::rngs::StdRng| {
        for op in ["GetItem", "PutItem", "UpdateItem", "DeleteItem"] {
            r.faults
                .inject(op, Fault::ErrorRate(0.15, ErrorKind::Transient));
        }
        if rng.random_bool(0.5) {
            r.faults.inject(
                "UpdateItem",
                Fault::Latency(Duration::from_millis(rng.random_range(0..4000))),
            );
        }
    };
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let r = world.replica(&name(&mut rng), count).await;
        faulty(&r, &mut rng);
        replicas.push(r);
    }
    let start = Instant::now();
    let mut restarts = 0;
    while start.elapsed() < Duration::from_secs(30 * 60) {
        tokio::time::sleep(Duration::from_secs(rng.random_range(5..40))).await;
        count = 2 + (count % 3);
        for r in &replicas {
            r.change(count).await;
        }
        if rng.random_bool(0.2) {
            let i = rng.random_range(0..replicas.len());
            let old = replicas.swap_remove(i);
            if rng.random_bool(0.5) {
                old.crash().await;
            } else {
                old.stop().await;
            }
            let r = world.replica(&name(&mut rng), count).await;
            faulty(&r, &mut rng);
            replicas.push(r);
            restarts += 1;
        }
    }
    let log = world.log.lock().unwrap().clone();
    let writers: std::collections::BTreeSet<_> = log
        .iter()
        .filter(|c| !c.read)
        .map(|c| (c.holder.clone(), c.fencing))
        .collect();
    println!(
        "30 min: {} calls, {} mutating, {} leader terms that wrote, {restarts} restarts",
        log.len(),
        log.iter().filter(|c| !c.read).count(),
        writers.len()
    );
    assert!(restarts >= 3, "{restarts}");
    assert!(writers.len() >= 2, "{writers:?}");
    assert_one_writer_at_a_time(&log);
    for r in replicas {
        r.faults.clear();
        r.stop().await;
    }
}
