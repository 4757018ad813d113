//! The controller (`ecs-operator run`): keeps live state matching the manifests over time.
//!
//! - [`desired`]: the desired state of one load (documents by key, the source revision, keys
//!   held because their manifest failed to load or validate).
//! - [`queue`]: the per-resource work queue (one reconcile per key at a time, coalescing,
//!   bounded concurrency, per-key exponential backoff with jitter).
//! - [`reconcile`]: one resource's reconcile, the batched full sync (start and resync, drift
//!   detection) and rollout tracking with crash-loop rollback.
//! - [`run`]: wires source, queues (one per kind), full syncs, rollout tracking and the HTTP
//!   server; stops them on shutdown.
//! - [`server`]: the HTTP endpoints (`/`, `/healthz`, `/readyz`, `/status`, `/metrics`,
//!   `POST /hooks/git`).
//! - [`status`]: a re-export of [`crate::status`] (the types moved below `metrics` and `page`).

pub mod desired;
pub mod queue;
pub mod reconcile;
pub mod run;
pub mod server;
/// The status types live in [`crate::status`]; re-exported for the old path.
pub mod status {
    pub use crate::status::*;
}
