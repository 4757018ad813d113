//! `ecs-operator run`: wires the source, the work queues (one per kind, like one Kubernetes
//! controller per resource type, so a slow bucket of one kind never starves another), the
//! periodic full sync, the rollout tracker and the HTTP server, and stops them on shutdown.
//!
//! Order of events: the source is loaded once; the first full sync plans every resource with
//! batched reads and queues what differs; `/readyz` turns ready when each of those keys has
//! been reconciled for real (a service waiting for its cluster is not done yet; see
//! `readiness`). Metrics read the status board and the queues when scraped. From then on a source change queues only the keys it changed, and a
//! resync (default 5 minutes, with jitter) repeats the full sync to heal drift. On shutdown no
//! new work starts and reconciles in flight get a bounded time to finish.
//!
//! With leader election (`RunConfig::election`) the work (queues, full syncs, rollout
//! tracking) runs only while this process leads: a standby follows its source, serves its
//! endpoints, is ready, and makes no AWS call but the lease's; becoming leader starts the work
//! with a full sync, stepping down stops it (the leader gate already fails its mutating
//! calls). On shutdown the lease is released after the calls in flight finished.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::queue::{QueueConfig, WorkQueue};
use super::readiness::Readiness;
use super::reconcile::{Controller, Enqueue, Events, Settings};
use super::server::{self, AppState, Liveness, MetricsText, Webhook};
use super::source_adapter::Source;
pub use super::source_adapter::SourceConfig;
use crate::cloud::Cloud;
use crate::lease::{Election, LeaderView, Role};
use crate::manifest::{Kind, ResourceKey};
use crate::metrics::ControllerState;
use crate::source::SourceError;
use crate::status::{LeaderStatus, StatusBoard};

/// Settings of `run`.
#[derive(Debug)]
pub struct RunConfig {
    /// The manifests.
    pub source: SourceConfig,
    /// Reconcile settings.
    pub settings: Settings,
    /// Work queue settings (concurrency is per kind).
    pub queue: QueueConfig,
    /// Time between full syncs.
    pub resync: Duration,
    /// Fraction of `resync` taken off or added at random.
    pub resync_jitter: f64,
    /// Time between reads of the services whose rollouts are followed.
    pub rollout_poll: Duration,
    /// How long reconciles in flight may take to finish after shutdown is asked for.
    pub shutdown_timeout: Duration,
    /// Leader election: reconcile only while leading (`None`: always, the only operator).
    pub election: Option<Election>,
    /// Bounds of each load of a directory or git source.
    pub load_limits: crate::manifest::LoadLimits,
}

impl RunConfig {
    /// Defaults around a source: 5 min resync with 10 % jitter, rollouts polled every 10 s,
    /// 8 reconciles per kind, 20 s to finish on shutdown.
    pub fn new(source: SourceConfig) -> RunConfig {
        RunConfig {
            source,
            settings: Settings::default(),
            queue: QueueConfig {
                concurrency: 8,
                ..QueueConfig::default()
            },
            resync: Duration::from_secs(300),
            resync_jitter: 0.1,
            rollout_poll: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(20),
            election: None,
            load_limits: crate::manifest::LoadLimits::default(),
        }
    }
}

/// The HTTP side of `run`.
pub struct Http {
    /// Where to serve (already bound, so the caller knows the port).
    pub listener: tokio::net::TcpListener,
    /// The git webhook, if any.
    pub webhook: Option<Webhook>,
    /// `/metrics`, if any.
    pub metrics: Option<MetricsText>,
    /// Timeouts, the connection cap and keep-alive limits.
    pub limits: server::HttpLimits,
}

/// Why `run` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The source could not be watched or read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The HTTP server failed.
    #[error("HTTP server: {0}")]
    Http(#[source] std::io::Error),
    /// The feed closed before the first load.
    #[error("the manifest source closed before its first load")]
    NoFirstLoad,
}

/// One queue per kind.
#[derive(Clone)]
pub struct Queues {
    by_kind: Arc<[(Kind, WorkQueue<ResourceKey>)]>,
}

impl Queues {
    /// Three queues with `config` each.
    pub fn new(config: &QueueConfig) -> Queues {
        let by_kind: Vec<(Kind, WorkQueue<ResourceKey>)> = Kind::ALL
            .iter()
            .enumerate()
            .map(|(i, kind)| {
                let mut c = config.clone();
                c.seed = c.seed.map(|s| s.wrapping_add(i as u64));
                (*kind, WorkQueue::new(c))
            })
            .collect();
        Queues {
            by_kind: by_kind.into(),
        }
    }

    /// Queues `key` on its kind's queue.
    pub fn enqueue(&self, key: ResourceKey) {
        if let Some((_, q)) = self.by_kind.iter().find(|(k, _)| *k == key.kind) {
            q.enqueue(key);
        }
    }

    /// Keys waiting and retries so far, over all kinds.
    pub fn stats(&self) -> (usize, u64) {
        self.by_kind.iter().fold((0, 0), |(d, r), (_, q)| {
            let s = q.stats();
            (d + s.depth + s.in_flight, r + s.retries_total)
        })
    }
}

/// A handle on a running controller (for the caller and tests).
#[derive(Clone)]
pub struct Handle {
    /// The controller.
    pub controller: Arc<Controller>,
    /// The queues.
    pub queues: Queues,
}

/// Runs the controller until `shutdown` completes. `on_start` sees the handle once the first
/// load is in.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    cloud: Cloud,
    config: RunConfig,
    http: Option<Http>,
    events: Arc<dyn Events>,
    on_start: impl FnOnce(&Handle),
    shutdown: impl Future<Output = ()>,
) -> Result<(), RunError> {
    let RunConfig {
        source,
        settings,
        queue,
        resync,
        resync_jitter,
        rollout_poll,
        shutdown_timeout,
        election,
        load_limits,
    } = config;
    let status = StatusBoard::new();
    // Two resync intervals, each at its longest (jitter added).
    status.set_stale_after(resync.mul_f64(2.0 * (1.0 + resync_jitter.clamp(0.0, 1.0))));
    let queues = Queues::new(&queue);
    let enqueue: Enqueue = {
        let queues = queues.clone();
        Arc::new(move |key| queues.enqueue(key))
    };
    let readiness = Arc::new(Readiness::new(status.clone()));
    let controller = Arc::new(Controller::new(
        cloud,
        settings,
        status.clone(),
        enqueue,
        events.clone(),
    ));
    if let Some(election) = &election {
        status.set_leader(leader_status(&election.view().borrow()));
    }
    // Metrics read the board, the queues, the source and the elector when scraped: right
    // from the first.
    {
        let (status, queues) = (status.clone(), queues.clone());
        let elector = election.as_ref().map(Election::view);
        events.watch(Arc::new(move || {
            let (queue_depth, retries_total) = queues.stats();
            let (leader_transitions, lease_renew_failures) = elector.as_ref().map_or((0, 0), |v| {
                let v = v.borrow();
                (v.transitions, v.renew_failures)
            });
            ControllerState {
                queue_depth,
                retries_total,
                report: status.report(),
                leader_transitions,
                lease_renew_failures,
            }
        }));
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let liveness = Liveness::new(Duration::from_secs(30));
    liveness.beat();
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tokio::pin!(shutdown);

    // The server first: /healthz answers (and /readyz says not ready) while the first load is
    // still coming, which can take a while when a git remote is unreachable.
    let mut server = None;
    if let Some(http) = http {
        let router = server::router(AppState {
            status: status.clone(),
            liveness: liveness.clone(),
            webhook: http.webhook,
            metrics: http.metrics,
        });
        server = Some(tokio::spawn(server::serve(
            http.listener,
            router,
            http.limits,
            stopped(),
        )));
    }

    // The first load, before any work.
    let mut source = Source::open(source, load_limits)?;
    status.update_source(|s| s.location = source.location());
    let first = {
        let next = source.next();
        tokio::pin!(next);
        loop {
            tokio::select! {
                first = &mut next => break Some(first),
                () = &mut shutdown => break None,
                _ = tick.tick() => liveness.beat(),
            }
        }
    };
    let Some(first) = first else {
        let _ = stop_tx.send(true);
        if let Some(server) = server {
            let _ = server.await;
        }
        return Ok(());
    };
    let first = first?.ok_or(RunError::NoFirstLoad)?;
    let _ = controller.load_touched(first.loaded, first.revision, first.touched.as_ref());
    let handle = Handle {
        controller: controller.clone(),
        queues: queues.clone(),
    };
    on_start(&handle);

    // The source is followed all along (a standby keeps its manifests loaded).
    let mut source_loop = JoinSet::new();
    {
        let controller = controller.clone();
        let queues = queues.clone();
        let mut stop = stop_tx.subscribe();
        source_loop.spawn(async move {
            loop {
                tokio::select! {
                    () = until_stopped(&mut stop) => break,
                    next = source.next() => match next {
                        Ok(Some(load)) => {
                            for key in controller.load_touched(load.loaded, load.revision, load.touched.as_ref()) {
                                queues.enqueue(key);
                            }
                        }
                        Ok(None) => break,
                        Err(e @ (SourceError::Git(_) | SourceError::Vanished(_) | SourceError::LoadTask(_))) => {
                            tracing::warn!(error = %e, "manifest source unreadable or load failed; keeping the last load");
                            controller.status().update_source(|s| s.last_error = Some(e.to_string()));
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "manifest source failed");
                            controller.status().update_source(|s| s.last_error = Some(e.to_string()));
                            break;
                        }
                    }
                }
            }
        });
    }

    // The work (queues, full syncs, rollouts) runs while this process leads: always without
    // election; with it, from each time it becomes leader (a full sync first) to each time it
    // steps down. A standby is ready (ECS keeps it) and makes no AWS call but the lease.
    let work = WorkConfig {
        controller: controller.clone(),
        queues: queues.clone(),
        readiness: readiness.clone(),
        resync,
        resync_jitter,
        rollout_poll,
    };
    let mut view = election.as_ref().map(Election::view);
    let leading = |view: &Option<watch::Receiver<LeaderView>>| {
        view.as_ref()
            .is_none_or(|v| v.borrow().role == Role::Leader)
    };
    let mut term = None;
    if leading(&view) {
        term = Some(start_term(&work));
    } else {
        tracing::info!("standby: another operator holds the lease; waiting for it");
        status.set_ready();
    }

    // The heartbeat: beats while every worker and loop is running.
    let mut stalled = false;
    loop {
        let wake = tokio::select! {
            () = &mut shutdown => Wake::Shutdown,
            alive = role_changed(&mut view) => Wake::Role(alive),
            _ = tick.tick() => Wake::Tick,
        };
        match wake {
            Wake::Shutdown => break,
            Wake::Role(alive) => {
                if !alive {
                    // The elector ended (it panicked): nobody renews, so lead no more.
                    tracing::error!("the leader elector stopped; no more AWS changes");
                    view = None;
                    stalled = true;
                    if let Some(t) = term.take() {
                        end_term(t, shutdown_timeout).await;
                    }
                    continue;
                }
                if let Some(v) = &view {
                    let v = v.borrow().clone();
                    status.set_leader(leader_status(&v));
                    let lead = v.role == Role::Leader;
                    if lead && term.is_none() {
                        tracing::info!(holder = %v.holder, fencing = v.fencing, "leading: full sync, then reconciles");
                        term = Some(start_term(&work));
                    } else if !lead && let Some(t) = term.take() {
                        tracing::warn!(holder = %v.holder, "standby: stopping reconciles");
                        end_term(t, shutdown_timeout).await;
                    }
                }
            }
            Wake::Tick => {
                // A worker or loop that ended before shutdown stops the heartbeat for good.
                stalled |= any_finished(&mut source_loop);
                if let Some(t) = &mut term {
                    stalled |= any_finished(&mut t.workers) | any_finished(&mut t.loops);
                }
                if !stalled {
                    liveness.beat();
                }
            }
        }
    }

    tracing::info!("shutting down: no new work; waiting for calls in flight");
    let _ = stop_tx.send(true);
    if let Some(t) = term.take() {
        end_term(t, shutdown_timeout).await;
    }
    // Only now, with no call in flight, the lease goes: a standby leads at its next read.
    if let Some(election) = election {
        election.resign().await;
    }
    source_loop.abort_all();
    if let Some(server) = server
        && let Ok(Err(e)) = server.await
    {
        return Err(RunError::Http(e));
    }
    Ok(())
}

enum Wake {
    Shutdown,
    Role(bool),
    Tick,
}

/// Completes when the elector's view changed (true) or the elector is gone (false); never
/// without election.
async fn role_changed(view: &mut Option<watch::Receiver<LeaderView>>) -> bool {
    match view {
        Some(v) => v.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

/// `/status`'s leader object from the elector's view.
fn leader_status(v: &LeaderView) -> LeaderStatus {
    LeaderStatus {
        election: "dynamodb".into(),
        role: v.role.as_str().into(),
        holder: v.holder.clone(),
        leader: v.leader.clone(),
        fencing: v.fencing,
    }
}

/// What a term of work needs.
struct WorkConfig {
    controller: Arc<Controller>,
    queues: Queues,
    readiness: Arc<Readiness>,
    resync: Duration,
    resync_jitter: f64,
    rollout_poll: Duration,
}

/// The work of one term as leader.
struct Term {
    stop_tx: watch::Sender<bool>,
    workers: JoinSet<()>,
    loops: JoinSet<()>,
}

/// Stops a term: no new work, reconciles in flight get `timeout` to finish (their mutating
/// calls already fail at the gate when the lease was lost), the loops are stopped.
async fn end_term(mut term: Term, timeout: Duration) {
    let _ = term.stop_tx.send(true);
    let drained = tokio::time::timeout(timeout, async {
        while term.workers.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(timeout = ?timeout, "reconciles still running at the shutdown timeout were stopped");
        term.workers.abort_all();
    }
    term.loops.abort_all();
}

/// Starts the work: one runner per kind's queue, the full syncs (the first at once), the
/// rollout tracker.
fn start_term(work: &WorkConfig) -> Term {
    let WorkConfig {
        controller,
        queues,
        readiness,
        resync,
        resync_jitter,
        rollout_poll,
    } = work;
    let (resync, resync_jitter, rollout_poll) = (*resync, *resync_jitter, *rollout_poll);
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    // Work: one runner per kind's queue.
    let mut workers = JoinSet::new();
    for (_, q) in queues.by_kind.iter() {
        let q = q.clone();
        let controller = controller.clone();
        let readiness = readiness.clone();
        let stop = stopped();
        workers.spawn(async move {
            q.run(
                move |key: ResourceKey| {
                    let controller = controller.clone();
                    let readiness = readiness.clone();
                    async move {
                        let reconciled = controller.reconcile(key.clone()).await;
                        readiness.reconciled(&key, reconciled.settled);
                        reconciled.result
                    }
                },
                stop,
            )
            .await;
        });
    }

    let mut loops = JoinSet::new();
    {
        let controller = controller.clone();
        let readiness = readiness.clone();
        let queues = queues.clone();
        let mut stop = stop_tx.subscribe();
        loops.spawn(async move {
            let mut rng = rand::rngs::StdRng::from_rng(&mut rand::rng());
            let mut first = true;
            let mut retry = Duration::from_secs(1);
            loop {
                let first_sync = first;
                let pass = controller.full_sync(|keys| {
                    if first_sync {
                        // Recorded before queueing, so no reconcile can end before it.
                        readiness.queued(keys);
                    }
                    for key in keys {
                        queues.enqueue(key.clone());
                    }
                });
                // A pass stuck on a call that never answers is given up after the resync
                // interval or the reconcile timeout, the longer (what it did not read reads
                // Unknown after two resync intervals).
                let limit = resync.max(controller.settings.reconcile_timeout);
                let result = match tokio::time::timeout(limit, pass).await {
                    Ok(result) => result.map_err(|e| e.to_string()),
                    Err(_) => Err(format!(
                        "did not end within {limit:?} (a call did not answer)"
                    )),
                };
                let wait = match result {
                    Ok(queued) => {
                        if first {
                            first = false;
                            readiness.planned();
                        }
                        tracing::info!(queued = queued.len(), "full sync done");
                        retry = Duration::from_secs(1);
                        let spread = resync.as_secs_f64() * resync_jitter.clamp(0.0, 1.0);
                        let secs = resync.as_secs_f64() + rng.random_range(-spread..=spread);
                        Duration::from_secs_f64(secs.max(0.0))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in = ?retry, "full sync failed");
                        let wait = retry;
                        retry = (retry * 2).min(resync);
                        wait
                    }
                };
                tokio::select! {
                    () = until_stopped(&mut stop) => break,
                    () = tokio::time::sleep(wait) => {}
                }
            }
        });
    }
    {
        let controller = controller.clone();
        let mut stop = stop_tx.subscribe();
        loops.spawn(async move {
            let mut tick = tokio::time::interval(rollout_poll);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = until_stopped(&mut stop) => break,
                    _ = tick.tick() => {
                        // Nothing followed, nothing read. A call that does not answer (a
                        // read, a memory tag) is given up at the reconcile timeout.
                        let limit = controller.settings.reconcile_timeout;
                        match tokio::time::timeout(limit, controller.track_rollouts()).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => tracing::warn!(error = %e, "reading rollouts failed"),
                            Err(_) => tracing::warn!(timeout = ?limit, "following rollouts timed out: a call did not answer"),
                        }
                    }
                }
            }
        });
    }

    Term {
        stop_tx,
        workers,
        loops,
    }
}

async fn until_stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// True when a worker or background loop ended (they run until shutdown). Joins it, so each
/// ending is seen once; the caller keeps the verdict.
fn any_finished(tasks: &mut JoinSet<()>) -> bool {
    match tasks.try_join_next() {
        Some(Ok(())) => true,
        Some(Err(e)) => {
            tracing::error!(error = %e, "a controller loop panicked");
            true
        }
        None => false,
    }
}
