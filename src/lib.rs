//! ecs-operator: a Kubernetes-style operator for Amazon ECS. It reads YAML manifests of ECS
//! clusters, services (with their task definitions) and ELBv2 target groups, and makes AWS
//! match them. See README.md for the user's view and DESIGN.md for the product picture.
//!
//! # Layout
//! In the order data flows (DESIGN.md "Flow"):
//! - [`manifest`]: the manifest kinds, loading from directories, validation with file, line and
//!   field for every finding.
//! - [`source`]: the debounced manifest directory watcher; load snapshots and their diff.
//! - [`cloud`]: the ECS and ELBv2 calls the operator makes, as traits, with the `aws` (AWS SDK)
//!   and `sim` (in-process simulator) backends.
//! - [`ratelimit`]: client-side token buckets per AWS throttling bucket: a call layer.
//! - [`connect`]: choosing and connecting a backend behind the call layers.
//! - [`observe`]: batched reads of live state, with a per-process cache of task definition
//!   revisions.
//! - [`diff`]: field-by-field comparison of any two values (pure).
//! - [`kind`]: one module per kind (cluster, target group, service with its task definition):
//!   its comparable view, the update requests derived from the differences, its pure plan and
//!   its import conversion, reached through the `KindOps` trait. AWS's defaults are
//!   `cloud::defaults`.
//! - [`plan`]: per-resource plans (status, field changes, ordered steps): read, then plan
//!   each document through its kind.
//! - [`apply`]: runs plans, filling in ARNs created on the way.
//! - [`prune`]: deleting owned resources no manifest names anymore (opt-in, bounded).
//! - [`rollout`]: the one rollout tracker, a pure transition function over what the observer
//!   read (completed, failed, crash loop, rolled back), driven by `apply --wait` and `run`.
//! - [`status`]: per-resource sync/health status and the board `/status` serves (below
//!   `metrics` and `page`, which read it, and `controller`, which writes it).
//! - [`metrics`]: the Prometheus registry of every metric the operator exports, and the
//!   instrumentation counting and timing each AWS call.
//! - [`page`]: the status page for people (server-rendered HTML of a status report).
//! - [`import`]: manifests from live services (`ecs-operator import`), with the defaults stripped
//!   so that a diff right after reports nothing.
//! - [`controller`]: the long-running controller (`run`): desired state, per-kind work queues,
//!   the reconcile ladder with its one status record, full sync, rollout tracking, readiness,
//!   the manifest source adapter and its HTTP endpoints.
//! - [`http_client`]: a minimal HTTP client for commands that ask a running controller.
//! - [`cli`]: the command line (`validate`, `schema`, `diff`, `apply`, `run`, `status`,
//!   `import`, `healthcheck`).
//!
//! `main.rs` only parses the command line, sets up logging and calls [`cli::run`].

#![forbid(unsafe_code)]

pub mod apply;
pub mod cli;
pub mod cloud;
pub mod connect;
pub mod controller;
pub mod diff;
pub mod http_client;
pub mod import;
pub mod kind;
pub mod manifest;
pub mod metrics;
pub mod observe;
pub mod page;
pub mod plan;
pub mod prune;
pub mod ratelimit;
pub mod rollout;
pub mod source;
pub mod status;
