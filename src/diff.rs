//! Diffing desired against live state: pure functions only (no I/O), so every rule is a table
//! test.
//!
//! - [`normalize`]: canonical forms that absorb AWS defaults and ordering.
//! - [`changes`]: field-by-field comparison with paths and old -> new values.
//! - [`views`]: comparable views of services, target groups and clusters.

pub mod changes;
pub mod normalize;
pub mod views;

pub use changes::{FieldChange, compare, creation};
