//! AWS's defaults, per kind: what ECS and ELBv2 fill in when a request leaves a value out. One
//! table per shape, read three ways:
//!
//! - to **fill** for comparison (the kinds' views fill both the desired and the live side),
//! - to **strip** for import (a live value equal to its default is left out of the manifest),
//! - by the simulator (which stores what AWS would store).
//!
//! A table is a `fill_*` function over the manifest's own shape (`fill_service`,
//! `fill_target_group`, `fill_container`, `fill_settings`, and the sub-shapes they use, which
//! the simulator calls on its requests); its `strip_*` counterpart is derived from it with
//! [`strip_filled`] (every field equal to what the fill puts into a blank value goes), so a
//! default is written once. Each table holds `fill(fill(x)) == fill(x)` and
//! `strip(fill(x)) == strip(x)` (property tests per file).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub mod cluster;
pub mod listener_rule;
pub mod scaling;
pub mod service;
pub mod target_group;
pub mod task_definition;

/// `value` without the top-level fields a fill table sets: each field that is unset in
/// `blank` (a value holding only what the defaults depend on) and that `fill` sets in it, and
/// whose value in `value` equals the default, is left unset. A value that cannot be read back
/// is returned as it was.
pub fn strip_filled<T: Serialize + DeserializeOwned + Clone>(
    value: &T,
    blank: T,
    fill: impl FnOnce(&mut T),
) -> T {
    let mut filled = blank.clone();
    fill(&mut filled);
    let (Ok(Value::Object(mut fields)), Ok(Value::Object(before)), Ok(Value::Object(after))) = (
        serde_json::to_value(value),
        serde_json::to_value(&blank),
        serde_json::to_value(&filled),
    ) else {
        return value.clone();
    };
    fields.retain(|k, v| {
        let defaulted =
            before.get(k).is_none_or(Value::is_null) && after.get(k).is_some_and(|d| !d.is_null());
        !(defaulted && after.get(k) == Some(v))
    });
    serde_json::from_value(Value::Object(fields)).unwrap_or_else(|_| value.clone())
}

/// Leaves `value` unset when it equals `default`.
pub fn strip<T: PartialEq>(value: &mut Option<T>, default: &T) {
    if value.as_ref() == Some(default) {
        *value = None;
    }
}
