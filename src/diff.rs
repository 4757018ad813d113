//! Diffing desired against live state, generically: pure functions only (no I/O), so every
//! rule is a table test. What a kind compares (its views, with AWS's defaults filled in) is
//! in [`crate::kind`]; this module compares any two serializable values.
//!
//! - [`changes`]: field-by-field comparison with paths and old -> new values.
//! - [`mask`]: the one place that hides values that must not be shown (environment values,
//!   log driver options), applied to every change as it is made.

pub mod changes;
pub mod mask;

pub use changes::{FieldChange, compare, creation};
