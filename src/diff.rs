//! Diffing desired against live state: pure functions only (no I/O), so every rule is a table
//! test.
//!
//! - [`normalize`]: canonical forms that absorb AWS defaults and ordering.
//! - [`changes`]: field-by-field comparison with paths and old -> new values.

pub mod changes;
pub mod normalize;

pub use changes::{FieldChange, compare};
