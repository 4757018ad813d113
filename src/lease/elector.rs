//! The elector task: every tick a standby tries to acquire the lease and a leader renews it;
//! each answer goes through [`decide`] and the step is applied: the [`LeaderGate`] opened
//! until the send time plus the duration less the margin (a third of the duration), or
//! closed; the [`LeaderView`] the controller watches updated.
//!
//! Ticks: a leader renews every `renew` (5 s by default; a renew that fails is tried again
//! after `min(renew, 1 s)` while the lease has time to spare, so a lost renew or two cost
//! nothing); a standby reads every
//! `min(renew, 1 s)`, so that after a leader released its lease (SIGTERM) a standby leads
//! within a second. A lease call never outlives the renew interval, nor a leader's deadline.
//! [`Election::resign`] (shutdown, after the calls in flight finished) closes the gate and
//! releases the lease with a conditional delete; dropping the [`Election`] (a crash) stops
//! the task without releasing.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::decide::{Input, Role, State, decide};
use super::{LeaderGate, LeaseClock, LeaseStore};

/// Settings of an election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionConfig {
    /// The lease name (`--lease-name`, default `ecs-operator`).
    pub name: String,
    /// This process's holder id.
    pub holder: String,
    /// How long a written lease lasts (`--lease-duration`, default 15 s).
    pub duration: Duration,
    /// Time between renewals of a leader (`--lease-renew`, default 5 s).
    pub renew: Duration,
}

impl ElectionConfig {
    /// The time to spare a leader keeps: it stops mutating a third of the duration before its
    /// lease could expire (5 s of 15 s), which covers a renew in flight, clock differences
    /// between operators and a call sent just before the deadline.
    pub fn margin(&self) -> Duration {
        self.duration / 3
    }

    /// Time between the reads of a standby: the renew interval, at most 1 s.
    pub fn standby_poll(&self) -> Duration {
        self.renew.min(Duration::from_secs(1))
    }
}

/// What the elector knows, for `/status` and the metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderView {
    /// Leading or not.
    pub role: Role,
    /// This process's holder id.
    pub holder: String,
    /// The holder of the current leader, when known.
    pub leader: Option<String>,
    /// The fencing number of the lease last seen.
    pub fencing: u64,
    /// Times this process became leader or stopped being leader.
    pub transitions: u64,
    /// Lease calls that failed (errors and timeouts).
    pub renew_failures: u64,
}

/// A running election. Dropping it stops the elector without releasing the lease.
#[derive(Debug)]
pub struct Election {
    view: watch::Receiver<LeaderView>,
    resign: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Election {
    /// What the elector knows, as it changes.
    pub fn view(&self) -> watch::Receiver<LeaderView> {
        self.view.clone()
    }

    /// Stops the elector: no more renewals, the gate closed, the lease released if held.
    pub async fn resign(mut self) {
        if let Some(resign) = self.resign.take() {
            let _ = resign.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Election {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Starts the elector on the current runtime.
pub fn start(
    store: Arc<dyn LeaseStore>,
    clock: Arc<dyn LeaseClock>,
    config: ElectionConfig,
    gate: LeaderGate,
) -> Election {
    let (tx, view) = watch::channel(LeaderView {
        role: Role::Standby,
        holder: config.holder.clone(),
        leader: None,
        fencing: 0,
        transitions: 0,
        renew_failures: 0,
    });
    let (resign, resigned) = oneshot::channel();
    let task = tokio::spawn(elect(store, clock, config, gate, tx, resigned));
    Election {
        view,
        resign: Some(resign),
        task: Some(task),
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn elect(
    store: Arc<dyn LeaseStore>,
    clock: Arc<dyn LeaseClock>,
    config: ElectionConfig,
    gate: LeaderGate,
    tx: watch::Sender<LeaderView>,
    mut resigned: oneshot::Receiver<()>,
) {
    let margin = config.margin();
    let margin_ms = margin.as_millis() as u64;
    let mut state = State::standby();
    let mut next = Instant::now();
    loop {
        let leading = state.role == Role::Leader;
        let deadline = gate.until().filter(|_| leading);
        let timer = tokio::select! {
            biased;
            _ = &mut resigned => break,
            () = sleep_until_opt(deadline) => Some(Input::Deadline),
            () = tokio::time::sleep_until(next) => None,
        };
        let sent = Instant::now();
        let is_tick = timer.is_none();
        let input = match timer {
            Some(input) => input,
            None => {
                let now_ms = clock.now_ms();
                let limit = deadline.map_or(config.renew, |d| {
                    d.saturating_duration_since(sent).min(config.renew)
                });
                let call = async {
                    match (&state.lease, leading) {
                        (Some(lease), true) => store
                            .renew(lease, now_ms, config.duration)
                            .await
                            .map(Input::Renewed),
                        _ => store
                            .acquire(&config.name, &config.holder, now_ms, config.duration)
                            .await
                            .map(Input::Acquired),
                    }
                };
                match tokio::time::timeout(limit, call).await {
                    Ok(Ok(input)) => input,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, leading, "lease call failed");
                        Input::Failed
                    }
                    Err(_) => {
                        tracing::warn!(timeout = ?limit, leading, "lease call timed out");
                        Input::Failed
                    }
                }
            }
        };
        let step = decide(&state, input, clock.now_ms(), margin_ms);
        state = step.state;
        if step.written
            && let Some(lease) = &state.lease
        {
            gate.open_until(sent + config.duration.saturating_sub(margin), lease.fencing);
        }
        if step.stepped_down {
            gate.close();
            tracing::warn!(holder = %config.holder, "stepped down: the lease is not held with time to spare; no more AWS changes");
        }
        if step.became_leader {
            tracing::info!(holder = %config.holder, fencing = state.lease.as_ref().map_or(0, |l| l.fencing), "became leader");
        }
        if is_tick {
            // A leader whose renew failed tries again as soon as a standby reads.
            next = sent
                + match state.role {
                    Role::Leader if !step.failed => config.renew,
                    _ => config.standby_poll(),
                };
        }
        tx.send_if_modified(|view| {
            let before = view.clone();
            view.role = state.role;
            view.leader = state.leader().map(str::to_string);
            view.fencing = state.lease.as_ref().map_or(view.fencing, |l| l.fencing);
            view.transitions += u64::from(step.became_leader) + u64::from(step.stepped_down);
            view.renew_failures += u64::from(step.failed);
            *view != before
        });
    }
    // Resigned: no more mutating calls, then the lease goes.
    gate.close();
    let was_leading = state.role == Role::Leader;
    if let (Role::Leader, Some(lease)) = (state.role, &state.lease) {
        match tokio::time::timeout(config.renew, store.release(lease)).await {
            Ok(Ok(true)) => tracing::info!(holder = %config.holder, "lease released"),
            Ok(Ok(false)) => tracing::info!("lease not released: it was not ours anymore"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "releasing the lease failed; it expires on its own")
            }
            Err(_) => tracing::warn!("releasing the lease timed out; it expires on its own"),
        }
    }
    tx.send_modify(|view| {
        view.role = Role::Standby;
        if was_leading {
            view.leader = None;
            view.transitions += 1;
        }
    });
}
