//! ecs-operator: a Kubernetes-style operator for Amazon ECS. It reads YAML manifests of ECS
//! clusters, services (with their task definitions) and ELBv2 target groups, and makes AWS
//! match them. See README.md for the user's view and DESIGN.md for the product picture.
//!
//! # Layout
//! - [`manifest`]: the manifest kinds, loading from directories, validation with file, line and
//!   field for every finding.
//! - [`schema`]: JSON Schema of the manifests, and field-name suggestions drawn from it.
//! - [`cloud`]: the ECS and ELBv2 calls the operator makes, as traits, with the `aws` (AWS SDK)
//!   and `sim` (in-process simulator) backends.
//! - [`controller`]: the long-running controller (work queue so far).
//! - [`diff`]: normalization and field-by-field comparison of desired and live state (pure).
//! - [`observe`]: batched reads of live state, with a per-process cache of task definition
//!   revisions.
//! - [`plan`]: per-resource plans (status, field changes, ordered steps).
//! - [`prune`]: deleting owned resources no manifest names anymore (opt-in, bounded).
//! - [`rollout`]: following a service's rollout to completed, failed or rolled back.
//! - [`ratelimit`]: client-side token buckets per AWS throttling bucket, in front of a `Cloud`.
//! - [`apply`]: runs plans, filling in ARNs created on the way.
//! - [`source`]: the debounced manifest directory watcher; load snapshots and their diff.
//! - [`cli`]: the command line (`validate`, `schema`).
//!
//! `main.rs` only parses the command line, sets up logging and calls [`cli::run`].

#![forbid(unsafe_code)]

pub mod apply;
pub mod cli;
pub mod cloud;
pub mod controller;
pub mod diff;
pub mod manifest;
pub mod observe;
pub mod plan;
pub mod prune;
pub mod ratelimit;
pub mod rollout;
pub mod schema;
pub mod source;
