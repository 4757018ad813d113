//! Per-resource work queue: the controller's scheduler.
//!
//! Triggers (a file changed, a resync, a webhook) call [`WorkQueue::enqueue`] with a key (in the
//! controller, a [`ResourceKey`](crate::manifest::document::ResourceKey)); [`WorkQueue::run`]
//! hands ready keys to the reconcile function the caller gave, at most
//! [`QueueConfig::concurrency`] at a time, and schedules what comes next from the result.
//!
//! The rules, in the order a key meets them:
//!
//! - **Coalescing.** A key is either idle, *waiting* (scheduled at an instant, not running) or
//!   *running*. Triggers for a waiting key collapse into one; a trigger brings the key forward to
//!   "now" (the earliest schedule wins, as in kube-runtime's `scheduler.rs`).
//! - **One run per key at a time.** A trigger for a running key only marks it *dirty*; when the run
//!   ends the key is scheduled again right away, so it runs exactly once more.
//! - **Concurrency across keys.** Up to `concurrency` different keys run at once. Among ready keys
//!   the one scheduled earliest goes first (ties by key order), so nothing starves.
//! - **Backoff.** A failed run (an `Err` or a panic) schedules the key after
//!   `min(base * 2^(failures - 1), max)`, shortened by a random jitter of up to
//!   [`QueueConfig::jitter`] of that delay (so the cap is never exceeded). Success resets the count.
//!   A key in backoff is only waiting, so it never holds a worker and never blocks other keys.
//! - **Requeue.** [`Outcome::RequeueAfter`] schedules the key again after a delay (to follow a
//!   rollout, say); [`Outcome::Done`] leaves it idle until the next trigger.
//! - **Stalled.** [`Outcome::Stalled`] is a failure retrying cannot fix (AWS rejected the
//!   request as invalid, or access is denied): no backoff and no retry, the failure count is
//!   cleared, and the key waits idle for its next trigger (its manifest changed, or the periodic
//!   full sync). A trigger that came during the run still runs it once more.
//! - **Shutdown.** When the shutdown future given to [`WorkQueue::run`] completes, no new run
//!   starts; `run` returns once the runs in flight have finished. Bound the wait with
//!   `tokio::time::timeout` around `run`: dropping the future aborts the runs still in flight.
//!
//! Everything uses `tokio::time`, so tests drive it on paused, virtual time.
//!
//! The structure is one `std::sync::Mutex<State>` (never held across an `.await`) with a
//! `BTreeMap` of per-key entries plus a `BTreeSet` timeline of waiting keys ordered by due
//! instant, a `Notify` to wake the run loop on a trigger, and a `JoinSet` of runs in flight.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::{Debug, Display};
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::Notify;
use tokio::task::{Id, JoinSet};
use tokio::time::Instant;

/// What a successful reconcile asks of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// In sync: nothing more until the next trigger.
    Done,
    /// Run the key again after this delay (e.g. to follow a rollout). An earlier trigger still
    /// runs it earlier.
    RequeueAfter(Duration),
    /// Failed for good (retrying the same request cannot help): not retried, not backed off;
    /// idle until the next trigger. Counted in [`QueueStats::stalled_total`].
    Stalled,
}

/// Tuning of a [`WorkQueue`].
#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    /// Reconciles in flight at once, across different keys (at least 1).
    pub concurrency: usize,
    /// Delay after the first failure of a key; doubles with each further failure.
    pub backoff_base: Duration,
    /// Cap of the backoff delay.
    pub backoff_max: Duration,
    /// Fraction (0.0 to 1.0) of the backoff delay that jitter may take off: the delay is drawn
    /// uniformly from `[d * (1 - jitter), d]`.
    pub jitter: f64,
    /// Seed of the jitter's random numbers; `None` seeds from the operating system. Tests set it.
    pub seed: Option<u64>,
}

impl Default for QueueConfig {
    /// 4 workers, backoff 1 s doubling to 5 min, 10 % jitter, random seed.
    fn default() -> Self {
        Self {
            concurrency: 4,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            jitter: 0.1,
            seed: None,
        }
    }
}

/// A snapshot of the counters the metrics export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// Keys waiting to run, due now or later (backoff, requeue), not counting running ones.
    pub depth: usize,
    /// Of `depth`, the keys due now (waiting only for a free worker).
    pub ready: usize,
    /// Reconciles running now.
    pub in_flight: usize,
    /// Failed reconciles since the queue was made (each one schedules a retry).
    pub retries_total: u64,
    /// Reconciles that ended [`Outcome::Stalled`] since the queue was made (none retried).
    pub stalled_total: u64,
}

/// The per-resource work queue. Cheap to clone: clones share one queue, so triggers can hold a
/// clone while the controller runs [`WorkQueue::run`].
pub struct WorkQueue<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for WorkQueue<K> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

struct Shared<K> {
    config: QueueConfig,
    state: Mutex<State<K>>,
    /// Wakes the run loop when a trigger makes a key due.
    wake: Notify,
}

/// Per-key bookkeeping; an entry exists while the key is waiting, running or has failures.
#[derive(Debug, Default)]
struct Entry {
    /// When the key is due; `Some` exactly while it is waiting (then it is also in `timeline`).
    due: Option<Instant>,
    /// A run is in flight.
    running: bool,
    /// Triggered while running: run once more when the current run ends.
    dirty: bool,
    /// Failures in a row, for the backoff.
    failures: u32,
}

struct State<K> {
    entries: BTreeMap<K, Entry>,
    /// Waiting keys ordered by due instant (then key), mirroring `Entry::due`.
    timeline: BTreeSet<(Instant, K)>,
    in_flight: usize,
    retries_total: u64,
    stalled_total: u64,
    rng: StdRng,
}

impl<K: Clone + Ord> State<K> {
    /// Makes `key` wait until `at`, or keeps its earlier due instant.
    fn schedule(&mut self, key: &K, at: Instant) {
        let entry = self.entries.entry(key.clone()).or_default();
        match entry.due {
            Some(due) if due <= at => {}
            Some(due) => {
                self.timeline.remove(&(due, key.clone()));
                entry.due = Some(at);
                self.timeline.insert((at, key.clone()));
            }
            None => {
                entry.due = Some(at);
                self.timeline.insert((at, key.clone()));
            }
        }
    }

    /// Takes the earliest key due at `now`, marking it running.
    fn take_ready(&mut self, now: Instant) -> Option<K> {
        let first = self.timeline.first()?;
        if first.0 > now {
            return None;
        }
        let (_, key) = self.timeline.pop_first()?;
        let entry = self.entries.get_mut(&key)?;
        entry.due = None;
        entry.running = true;
        self.in_flight += 1;
        Some(key)
    }
}

impl<K> WorkQueue<K>
where
    K: Clone + Eq + Hash + Ord + Debug + Send + 'static,
{
    /// An empty queue.
    pub fn new(config: QueueConfig) -> Self {
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => rand::make_rng::<StdRng>(),
        };
        Self {
            shared: Arc::new(Shared {
                config,
                state: Mutex::new(State {
                    entries: BTreeMap::new(),
                    timeline: BTreeSet::new(),
                    in_flight: 0,
                    retries_total: 0,
                    stalled_total: 0,
                    rng,
                }),
                wake: Notify::new(),
            }),
        }
    }

    /// Triggers a reconcile of `key`: runs it as soon as a worker is free, coalesced with any
    /// trigger already waiting; if the key is running, it runs once more after that run.
    /// A trigger does not reset the failure count (only a success does).
    pub fn enqueue(&self, key: K) {
        let mut state = self.lock();
        match state.entries.get_mut(&key) {
            Some(entry) if entry.running => entry.dirty = true,
            _ => {
                state.schedule(&key, Instant::now());
                drop(state);
                self.shared.wake.notify_one();
            }
        }
    }

    /// The counters for the metrics.
    pub fn stats(&self) -> QueueStats {
        let state = self.lock();
        let now = Instant::now();
        QueueStats {
            depth: state.timeline.len(),
            ready: state
                .timeline
                .iter()
                .take_while(|(due, _)| *due <= now)
                .count(),
            in_flight: state.in_flight,
            retries_total: state.retries_total,
            stalled_total: state.stalled_total,
        }
    }

    /// Runs the workers until `shutdown` completes, then waits for the runs in flight and returns.
    ///
    /// `reconcile` is called with each key that is due and its future is spawned on the tokio
    /// runtime; an `Err` (logged with `tracing`) or a panic counts as a failure and backs the key
    /// off. Record per-key status (last error and so on) inside `reconcile`: the queue only
    /// schedules. Call `run` once per queue.
    pub async fn run<F, Fut, E>(&self, reconcile: F, shutdown: impl Future<Output = ()>)
    where
        F: Fn(K) -> Fut,
        Fut: Future<Output = Result<Outcome, E>> + Send + 'static,
        E: Display + Send + 'static,
    {
        let concurrency = self.shared.config.concurrency.max(1);
        let mut tasks: JoinSet<Result<Outcome, E>> = JoinSet::new();
        let mut running: HashMap<Id, K> = HashMap::new();
        tokio::pin!(shutdown);

        loop {
            // Start what is due, then sleep until the next due key, a trigger or a finished run.
            let next_due = {
                let mut state = self.lock();
                let now = Instant::now();
                while state.in_flight < concurrency {
                    let Some(key) = state.take_ready(now) else {
                        break;
                    };
                    tracing::debug!(key = ?key, "reconcile started");
                    let handle = tasks.spawn(reconcile(key.clone()));
                    running.insert(handle.id(), key);
                }
                state.timeline.first().map(|(due, _)| *due)
            };
            let sleep_to = next_due.filter(|_| tasks.len() < concurrency);

            tokio::select! {
                () = &mut shutdown => break,
                () = self.shared.wake.notified() => {}
                Some(joined) = tasks.join_next_with_id() => {
                    self.finish_joined(joined, &mut running);
                }
                () = sleep_until_opt(sleep_to) => {}
            }
        }

        tracing::debug!(in_flight = tasks.len(), "work queue stopping");
        while let Some(joined) = tasks.join_next_with_id().await {
            self.finish_joined(joined, &mut running);
        }
    }

    fn finish_joined<E: Display>(
        &self,
        joined: Result<(Id, Result<Outcome, E>), tokio::task::JoinError>,
        running: &mut HashMap<Id, K>,
    ) {
        let (id, result) = match joined {
            Ok((id, Ok(outcome))) => (id, Ok(outcome)),
            Ok((id, Err(error))) => (id, Err(error.to_string())),
            Err(join_error) => (
                join_error.id(),
                Err(format!("reconcile panicked: {join_error}")),
            ),
        };
        if let Some(key) = running.remove(&id) {
            self.finish(&key, result);
        }
    }

    /// Books the end of a run of `key` and schedules what comes next.
    fn finish(&self, key: &K, result: Result<Outcome, String>) {
        let config = &self.shared.config;
        let mut state = self.lock();
        let now = Instant::now();
        state.in_flight -= 1;
        let Some(entry) = state.entries.get_mut(key) else {
            return;
        };
        entry.running = false;
        let dirty = std::mem::take(&mut entry.dirty);
        let mut next = match result {
            Ok(Outcome::Done) => {
                entry.failures = 0;
                None
            }
            Ok(Outcome::RequeueAfter(delay)) => {
                entry.failures = 0;
                Some(now + delay)
            }
            Ok(Outcome::Stalled) => {
                entry.failures = 0;
                state.stalled_total += 1;
                None
            }
            Err(error) => {
                entry.failures = entry.failures.saturating_add(1);
                let failures = entry.failures;
                let delay = backoff_delay(config, failures, &mut state.rng);
                state.retries_total += 1;
                tracing::warn!(key = ?key, failures, retry_in = ?delay, %error, "reconcile failed");
                Some(now + delay)
            }
        };
        if dirty {
            next = Some(now);
        }
        match next {
            Some(at) => state.schedule(key, at),
            None => {
                state.entries.remove(key);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<K>> {
        // A panic while holding the lock leaves consistent data (every update is complete before
        // anything can panic), so a poisoned lock is still usable.
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The delay before retrying after the `failures`-th failure in a row (1-based):
/// `min(base * 2^(failures - 1), max)`, minus up to `jitter` of it.
pub fn backoff_delay(config: &QueueConfig, failures: u32, rng: &mut StdRng) -> Duration {
    let doublings = failures.saturating_sub(1);
    let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
    let nominal = config
        .backoff_base
        .saturating_mul(factor)
        .min(config.backoff_max);
    let jitter = config.jitter.clamp(0.0, 1.0);
    if jitter == 0.0 {
        return nominal;
    }
    nominal.mul_f64(rng.random_range((1.0 - jitter)..=1.0))
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
