//! The controller (`ecs-operator run`): keeps live state matching the manifests over time.
//! Being built piece by piece:
//!
//! - [`queue`]: the per-resource work queue (one reconcile per key at a time, coalescing,
//!   bounded concurrency, per-key exponential backoff with jitter).
//! - [`status`]: per-resource sync/health status and the board `/status` serves.

pub mod desired;
pub mod queue;
pub mod reconcile;
pub mod run;
pub mod server;
pub mod status;
