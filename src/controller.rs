//! The controller (`ecs-operator run`): keeps live state matching the manifests over time.
//!
//! - [`desired`]: the desired state of one load (documents by key, the source revision, keys
//!   held because their manifest failed to load or validate).
//! - [`queue`]: the per-resource work queue (one reconcile per key at a time, coalescing,
//!   bounded concurrency, per-key exponential backoff with jitter).
//! - [`reconcile`]: one resource's reconcile as a ladder of named stages, and the batched full
//!   sync (start and resync, drift detection).
//! - `full_sync`: the batched pass over every resource (start and resync, drift detection).
//! - [`events`]: what the controller reports (metrics) and how a scrape reads its state.
//! - `record`: the one status record each reconcile writes on every exit path (a guard).
//! - `memory`: what is remembered per key between reconciles, one struct per key in one map.
//! - `rollouts`: drives the rollout tracker ([`crate::rollout::step`]) for followed services,
//!   with crash-loop rollback.
//! - `restore`: memory that survives a restart: the rollback target, the held-back manifest
//!   and a rollout in flight, read back from the service (its deployments and tags).
//! - [`readiness`]: `/readyz` turns ready once the first full sync's keys are reconciled.
//! - [`source_adapter`]: the manifest source (directory, git, feed) behind `run`.
//! - [`run`]: the loop: wires source, queues (one per kind), full syncs, rollout tracking and
//!   the HTTP server; stops them on shutdown.
//! - [`server`]: the HTTP endpoints (`/`, `/healthz`, `/readyz`, `/status`, `/metrics`,
//!   `POST /hooks/git`).
//! - [`connections`]: serving them with a header-read and a request timeout, a connection cap
//!   and keep-alive limits.
//! - [`status`]: a re-export of [`crate::status`] (the types moved below `metrics` and `page`).

pub mod connections;
pub mod desired;
pub mod events;
mod full_sync;
mod memory;
pub mod queue;
pub mod readiness;
pub mod reconcile;
mod record;
mod restore;
mod rollouts;
pub mod run;
pub mod server;
pub mod source_adapter;
/// The status types live in [`crate::status`]; re-exported for the old path.
pub mod status {
    pub use crate::status::*;
}
