//! Manifests: the types of the three kinds, loading them from files and directories, and
//! validating them before anything touches AWS.
//!
//! - [`document`]: `apiVersion`/`kind`/`metadata`/`spec`, [`Kind`], [`ResourceKey`].
//! - [`cluster`], [`target_group`], [`listener_rule`], [`service`], [`task_definition`]: the
//!   specs, with ECS and ELBv2 field names; [`generated`]: the AWS API shapes they use, generated from the AWS
//!   model by codegen/shapes.py; [`null`]: `null` read as absent.
//! - [`scaling`]: a Service's `spec.autoScaling` (Application Auto Scaling shapes).
//! - [`shorthand`]: map shorthand for name/value lists; scalars as strings.
//! - [`hash`]: content hashes of manifests and specs.
//! - [`units`]: `"1 vCPU"` / `"2 GB"` task sizes.
//! - [`load`]: directory walking, document splitting; failures kept apart from deletions;
//!   files read one after the other within the budget, then parsed on every core
//!   (`parallel`), in order.
//! - [`dir_cache`]: one directory loaded again and again, each file read again only when it
//!   changed (or, given the paths a watcher named, only those looked at), with the files each
//!   load touched.
//! - `files`: which files a walk reads (links kept inside, special files refused) and the
//!   capped read; [`load_limits`]: the bounds of a load; `prescan`: nesting depth and
//!   duplicate keys, from parser events, before serde.
//! - [`escape`]: control characters of user text written out for terminals and logs.
//! - `decode`: one document into a [`Manifest`], every problem collected.
//! - [`lines`]: field path to line number.
//! - [`validate`](mod@validate): the rules; [`fargate`]: the CPU/memory matrix; [`limits`]: the
//!   limits AWS documents for the fields (tags, containers, task definition size, ...).
//! - [`diagnostic`], [`path`]: what a finding looks like.
//! - [`schema`]: JSON Schema generated from these types (for editors and `ecs-operator
//!   schema`), and the field-name suggestions of unknown-field errors drawn from it.

mod all_errors;
pub mod cluster;
mod decode;
pub mod diagnostic;
pub mod dir_cache;
pub mod document;
pub mod escape;
pub mod fargate;
pub(crate) mod files;
pub mod generated;
pub mod hash;
pub mod limits;
pub mod lines;
pub mod listener_rule;
pub mod load;
pub mod load_limits;
pub mod null;
mod parallel;
pub mod path;
mod prescan;
pub mod scaling;
pub mod schema;
pub mod service;
pub mod shorthand;
pub mod target_group;
pub mod task_definition;
pub mod units;
pub mod validate;

pub use diagnostic::{Diagnostic, Severity};
pub use dir_cache::{
    DirLoad, LoadCache, load_dir_cached, load_dir_cached_with, load_dir_changes_with,
};
pub use document::{Kind, Manifest, Metadata, ResourceKey, Spec};
pub use load::{DocLines, Document, FailedDocument, Loaded, load_paths, load_paths_with, load_str};
pub use load_limits::LoadLimits;
pub use path::FieldPath;
pub use validate::validate;
