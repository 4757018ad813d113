//! ecs-operator: a Kubernetes-style operator for Amazon ECS. It reads YAML manifests of ECS
//! clusters, services (with their task definitions), ELBv2 target groups and ALB listener
//! rules, and makes AWS match them. See README.md for the user's view; this page is the map of the code: its layers,
//! its modules, and the checklists for adding a field, a kind or an AWS operation.
//!
//! # Layers
//! Lowest first. A module may import only from its own layer or a lower one, never upward;
//! `tests/layers.rs` checks every `crate::` path in `src/` against this list.
//! 1. `manifest`, `http_client`: manifest types, loading, validation, schema; a bare HTTP client.
//! 2. `cloud`: API shapes, errors, the operation catalogue, AWS's defaults, the call layer, both
//!    backends.
//! 3. `ratelimit`, `lease`, `diff`, `source`, `status`: client-side buckets (a call layer);
//!    the leader election's lease stores, elector and gate (a call layer); generic comparison;
//!    manifest sources; per-resource status records and the board.
//! 4. `observe`: the only reader of live state.
//! 5. `plan`: the vocabulary of plans (status, steps, ownership and tag helpers).
//! 6. `kind`: one module per kind: view, comparison, derived update, pure plan, health,
//!    import.
//! 7. `planner`: read, then plan every document through its kind.
//! 8. `apply`, `prune`, `import`, `rollout`: acting on plans; deleting; import; the tracker.
//! 9. `metrics`, `page`: Prometheus metrics (and the instrumentation layer); the status page.
//! 10. `connect`, `controller`: a backend behind its call layers; the long-running controller.
//! 11. `cli`: the command line.
//!
//! # Layout
//! In the order data flows (DESIGN.md "Flow"):
//! - [`manifest`]: the manifest kinds, loading from directories (links kept inside, special
//!   files refused, sizes, depth, nodes and duplicate keys bounded before serde; loaded
//!   manifests shared behind `Arc`s, each hashed once; a watched directory read again only
//!   at the paths the watcher named, `manifest::dir_cache`), validation with file, line and field
//!   for every finding (AWS's documented limits in `manifest::limits`; an unchanged
//!   document's own findings kept in `manifest::validate::context`'s cache), findings escaped
//!   for terminals. The AWS API shapes they write are
//!   generated from the AWS model (`manifest::generated`, and their SDK conversions in
//!   `cloud::aws`, by codegen/shapes.py).
//! - [`source`]: the debounced manifest directory watcher; load snapshots and their diff,
//!   kept from load to load in maps the versions share (`source::cow_map`), so a save that
//!   touched a few files replaces their entries only.
//! - [`cloud`]: the ECS and ELBv2 calls the operator makes, as traits, with the `aws` (AWS SDK)
//!   and `sim` (in-process simulator) backends. The Application Auto Scaling calls of a
//!   Service's `spec.autoScaling` are a third trait (`cloud::AutoScaling`) through the same call
//!   layer, and their plan is `kind::service_scaling`.
//! - [`ratelimit`]: client-side token buckets per AWS throttling bucket: a call layer.
//! - [`lease`]: leader election with a DynamoDB lease item (or the simulator's): the store
//!   trait and its two stores, the pure elector transition, the elector task, and the leader
//!   gate, a call layer failing mutating calls when this process does not lead.
//! - [`connect`]: choosing and connecting a backend behind the call layers.
//! - [`observe`]: batched reads of live state, with a per-process cache of task definition
//!   revisions and of the account's families with a revision; listener rules per listener,
//!   the listeners resolved once per process (`observe::rules`); target group attributes read
//!   only where their tag cannot be trusted, or a check asks (`observe::attributes`).
//! - [`diff`]: field-by-field comparison of any two values (pure), with the values that must
//!   not be shown (environment values, log driver options) masked as each change is made.
//! - [`kind`]: one module per kind (cluster, target group, listener rule, service with its task
//!   definition): its comparable view, the update requests derived from the differences, its
//!   pure plan, its health and its import conversion, reached through the `KindOps` trait.
//!   AWS's defaults are `cloud::defaults`.
//! - [`plan`]: the vocabulary of per-resource plans (status, field changes, ordered steps).
//! - [`planner`]: read in batches, then plan each document through its kind (pure).
//! - [`apply`]: runs plans, filling in ARNs created on the way; registers task definitions
//!   with no duplicate revision when an answer is lost.
//! - [`prune`]: deleting owned resources no manifest names anymore (opt-in, bounded).
//! - [`rollout`]: the one rollout tracker, a pure transition function over what the observer
//!   read (completed, failed, crash loop, rolled back; a native deployment's stage, ECS's
//!   rollback, a deployment superseded by another), driven by `apply --wait` and `run`.
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
//!   `import`, `healthcheck`, `lease create-table`).
//!
//! # Adding a field (of the ECS or ELBv2 API shapes)
//! 0. A member inside a generated shape (the task definition at every depth, the service's
//!    nested shapes) comes with the AWS model: raise the botocore pin in `codegen/shapes.json`
//!    (and the SDK in Cargo.lock if it lacks the member), run `python3 codegen/shapes.py`, and
//!    steps 1-2 are done; `tests/api_coverage.rs` fails for a member still not accepted. Steps
//!    3-6 apply as for any field.
//! 1. The manifest type in `manifest/<kind>.rs` (the JSON Schema follows); a validation rule
//!    in `manifest/validate.rs` (or its `validate/` submodules) if it has one.
//! 2. `cloud/model.rs` when the live type is not the manifest's own, both directions of
//!    `cloud/aws/<kind>.rs`, and the simulator if it acts on the field.
//! 3. If AWS fills it in when left out: one line in the kind's `fill_*` of
//!    `cloud/defaults/<kind>.rs` (`fill_container` for a container field). Import's strip and
//!    the simulator's stored value follow from it; the property tests cover it. If what AWS
//!    puts in depends on more than the request (`desiredCount` left to auto scaling,
//!    `availabilityZoneRebalancing`, ENABLED only where the service can rebalance), it is not
//!    filled: the live view takes the live value when the manifest leaves it out
//!    (`kind::service::live_service`), and strip removes only the usual value.
//! 4. In `kind/<kind>.rs`: the view field, its line in the desired view and in `spec_of_live`
//!    (container fields are in the task definition as it is, nothing to add).
//! 5. How it changes in place: a row in `UPDATE_SERVICE` / `UPDATE_TARGET_GROUP` /
//!    `UPDATE_CLUSTER`, or its name in `NOT_IN_UPDATE_SERVICE` / `*_IMMUTABLE`: a coverage test
//!    fails until one of them names it. Add it to the kind's create input.
//! 6. A list AWS does not keep in order: sort it in the view.
//!
//! # Adding a kind
//! 1. `manifest/<kind>.rs`, its `Kind` and `Spec` variants (`manifest/document.rs`) and its
//!    validation.
//! 2. Its AWS operations (next checklist), model types, `cloud/aws/<kind>.rs` and
//!    `cloud/sim/<kind>.rs`. The AWS shapes its manifest writes: a root in
//!    `codegen/shapes.json` (then `python3 codegen/shapes.py`) and a `coverage` entry, so
//!    `tests/api_coverage.rs` checks every member is accepted.
//! 3. `cloud/defaults/<kind>.rs`: `fill_`/`strip_` with their property tests.
//! 4. `kind/<kind>.rs`: the view (desired, `spec_of_live`, live), an `UPDATE_<KIND>` table with
//!    its coverage test, and `impl KindOps` (what to read, the pure plan, its health, what it
//!    keeps from pruning, its import); a `pub mod` line and an arm in each dispatch `match` of
//!    `kind.rs`.
//! 5. `observe.rs`: its `Wanted` and `Observed` entries and their batched read.
//! 6. Its `Step` variants in `plan.rs`, run by `apply.rs`; where `import.rs` reads it and writes
//!    its files; what prune deletes of it in `prune.rs`.
//!
//! # Adding an AWS operation
//! 1. The trait method in `cloud.rs`; one line in the catalogue of `cloud/operation.rs` (its
//!    bucket; rate limiting, metrics labels, fault injection and the simulator's throttling
//!    read it from there).
//! 2. Its forwarding in `cloud/layer.rs` (the one place every call passes the layers); its
//!    `cloud/aws` call; its simulator line in `cloud/sim/{ecs,elbv2}.rs` and the state method.
//!    (Application Auto Scaling: `cloud/layer/autoscaling.rs`, `cloud/aws/autoscaling.rs`,
//!    `cloud/sim/autoscaling.rs`.)
//! 3. Its permission in `deploy/iam-policy.json` (`tests/iam_policy.rs` fails until then).
//!
//! A DynamoDB operation of the lease is a `dynamodb(DynamodbLease, CALLED)` line of the
//! catalogue (it is in `DYNAMODB_OPERATIONS`), its call in `lease/dynamodb.rs` run through
//! `layer::run`, the same semantics in `lease/sim.rs`, and its permission as above.
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
pub mod lease;
pub mod manifest;
pub mod metrics;
pub mod observe;
pub mod page;
pub mod plan;
pub mod planner;
pub mod prune;
pub mod ratelimit;
pub mod rollout;
pub mod source;
pub mod status;
