//! Masking of values that must not leave the process: the one place that decides which values
//! of a change are shown. [`super::compare`] and [`super::creation`] pass every change through
//! [`change`], so a [`FieldChange`] never holds such a value and everything that shows changes
//! (`/status`, the page, the log, `diff` and `apply`) shows them masked.
//!
//! Masked, as [`HIDDEN`]:
//! - a container's `environment` values (the names are shown: a change reads
//!   `containerDefinitions[0].environment.DB_PASSWORD: (changed)`);
//! - a container's `logConfiguration.options` values (users put tokens there: Splunk, Datadog).
//!
//! Shown: `secrets[].valueFrom` and `repositoryCredentials.credentialsParameter` (ARNs, not the
//! secret), and every other field.

use serde_json::Value;

use super::FieldChange;
use crate::manifest::path::{FieldPath, Segment};

/// What a masked value reads as.
pub const HIDDEN: &str = "(hidden)";

/// True when `value` is the masked placeholder.
pub fn is_hidden(value: &Option<Value>) -> bool {
    matches!(value, Some(Value::String(s)) if s == HIDDEN)
}

/// Which sensitive region a path enters, and where.
enum Region {
    /// `…environment` at this segment index.
    Environment(usize),
    /// `…logConfiguration.options` at this segment index (of `options`).
    LogOptions(usize),
}

fn region(segments: &[Segment]) -> Option<Region> {
    let key = |i: usize| match segments.get(i) {
        Some(Segment::Key(k)) => Some(k.as_str()),
        _ => None,
    };
    (0..segments.len()).find_map(|i| match key(i) {
        Some("environment") => Some(Region::Environment(i)),
        Some("logConfiguration") if key(i + 1) == Some("options") => {
            Some(Region::LogOptions(i + 1))
        }
        _ => None,
    })
}

/// The change at `path` (from `old` to `new`) with its sensitive values masked; `live` and
/// `desired` are the whole compared values (`path` is relative to them), read for the name of
/// an environment variable whose value changed.
pub fn change(
    path: FieldPath,
    live: &Value,
    desired: &Value,
    old: Option<Value>,
    new: Option<Value>,
) -> FieldChange {
    let segments = path.segments().to_vec();
    let hide = |v: Option<Value>| v.map(|_| Value::String(HIDDEN.into()));
    match region(&segments) {
        Some(Region::Environment(at)) => match (segments.get(at + 1), segments.get(at + 2)) {
            // One variable, whole or its value: named, its value hidden.
            (Some(Segment::Index(i)), None | Some(Segment::Key(_))) if !matches!(segments.get(at + 2), Some(Segment::Key(k)) if k == "name") =>
            {
                let list = segments[..=at]
                    .iter()
                    .fold(FieldPath::root(), |p, s| match s {
                        Segment::Key(k) => p.key(k.clone()),
                        Segment::Index(i) => p.index(*i),
                    });
                let name = name_at(desired, &list, *i)
                    .filter(|_| new.is_some())
                    .or_else(|| name_at(live, &list, *i));
                let path = match name {
                    Some(name) if segments.len() <= at + 3 => list.key(name),
                    _ => path,
                };
                FieldChange {
                    path,
                    old: hide(old),
                    new: hide(new),
                }
            }
            // A name (shown), or the whole list (names shown, values hidden).
            _ => FieldChange {
                old: old.map(|v| redacted(&path, v)),
                new: new.map(|v| redacted(&path, v)),
                path,
            },
        },
        Some(Region::LogOptions(at)) if segments.len() > at + 1 => FieldChange {
            path,
            old: hide(old),
            new: hide(new),
        },
        _ => FieldChange {
            old: old.map(|v| redacted(&path, v)),
            new: new.map(|v| redacted(&path, v)),
            path,
        },
    }
}

/// The `name` of element `index` of the list at `list` inside `root`.
fn name_at(root: &Value, list: &FieldPath, index: usize) -> Option<String> {
    let mut v = root;
    for s in list.segments() {
        v = match s {
            Segment::Key(k) => v.get(k)?,
            Segment::Index(i) => v.get(*i)?,
        };
    }
    v.get(index)?.get("name")?.as_str().map(str::to_string)
}

/// The value found at `path` with every sensitive value in it replaced by [`HIDDEN`] (the
/// path says what the value is: a whole `environment` list, a `logConfiguration`, its
/// `options`, or anything that may hold them).
pub fn redacted(path: &FieldPath, mut value: Value) -> Value {
    let keys: Vec<&str> = path
        .segments()
        .iter()
        .filter_map(|s| match s {
            Segment::Key(k) => Some(k.as_str()),
            Segment::Index(_) => None,
        })
        .collect();
    match keys.as_slice() {
        [.., "logConfiguration", "options"] => hide_all(&mut value),
        [.., last] => redact_field(last, &mut value),
        [] => redact(&mut value, false),
    }
    value
}

/// Every value of a map hidden (log driver options).
fn hide_all(value: &mut Value) {
    if let Value::Object(options) = value {
        options
            .values_mut()
            .for_each(|o| *o = Value::String(HIDDEN.into()));
    }
}

/// `value`, found under the key `key`, redacted.
fn redact_field(key: &str, value: &mut Value) {
    match (key, value) {
        ("environment", v) => redact(v, true),
        ("logConfiguration", Value::Object(log)) => {
            if let Some(options) = log.get_mut("options") {
                hide_all(options);
            }
        }
        (_, v) => redact(v, false),
    }
}

fn redact(value: &mut Value, in_environment: bool) {
    match value {
        Value::Object(fields) if in_environment => {
            if let Some(v) = fields.get_mut("value") {
                *v = Value::String(HIDDEN.into());
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, in_environment)),
        Value::Object(fields) => fields.iter_mut().for_each(|(k, v)| redact_field(k, v)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::diff::{compare, creation};

    fn shown(live: serde_json::Value, desired: serde_json::Value) -> Vec<String> {
        compare(&live, &desired)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn td(env: serde_json::Value) -> serde_json::Value {
        json!({"containerDefinitions": [{"name": "api", "image": "api:1", "environment": env}]})
    }

    #[test]
    fn a_changed_environment_value_is_named_and_hidden() {
        let live = td(
            json!([{"name": "A", "value": "1"}, {"name": "DB_PASSWORD", "value": "old-S3CR3T"}]),
        );
        let desired = td(
            json!([{"name": "A", "value": "1"}, {"name": "DB_PASSWORD", "value": "new-S3CR3T"}]),
        );
        assert_eq!(
            shown(live, desired),
            ["containerDefinitions[0].environment.DB_PASSWORD: (changed)"]
        );
    }

    #[test]
    fn added_and_removed_variables_are_named_without_their_values() {
        let live = td(json!([{"name": "A", "value": "S3CR3T-a"}]));
        let desired =
            td(json!([{"name": "A", "value": "S3CR3T-a"}, {"name": "B", "value": "S3CR3T-b"}]));
        assert_eq!(
            shown(live.clone(), desired.clone()),
            ["containerDefinitions[0].environment.B: (added)"]
        );
        assert_eq!(
            shown(desired, live),
            ["containerDefinitions[0].environment.B: (removed)"]
        );
    }

    #[test]
    fn a_whole_new_list_or_definition_keeps_names_and_hides_values() {
        let live = td(json!([]));
        let desired = td(json!([{"name": "TOKEN", "value": "S3CR3T"}]));
        let all = shown(live, desired).join("\n")
            + &creation(
                &json!({"taskDefinition": td(json!([{"name": "TOKEN", "value": "S3CR3T"}]))}),
            )
            .iter()
            .map(ToString::to_string)
            .collect::<String>();
        assert!(!all.contains("S3CR3T"), "{all}");
        assert!(all.contains("TOKEN"), "{all}");
        assert!(all.contains(super::HIDDEN), "{all}");
    }

    #[test]
    fn log_options_values_are_hidden_but_secret_arns_and_other_fields_show() {
        let live = json!({"containerDefinitions": [{"image": "api:1",
            "logConfiguration": {"logDriver": "splunk", "options": {"splunk-token": "T0KEN-1"}},
            "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/a"}]}]});
        let desired = json!({"containerDefinitions": [{"image": "api:2",
            "logConfiguration": {"logDriver": "splunk", "options": {"splunk-token": "T0KEN-2", "splunk-url": "https://x"}},
            "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/b"}]}]});
        let all = shown(live, desired);
        assert_eq!(
            all,
            [
                "containerDefinitions[0].image: \"api:1\" -> \"api:2\"",
                "containerDefinitions[0].logConfiguration.options.splunk-token: (changed)",
                "containerDefinitions[0].logConfiguration.options.splunk-url: (added)",
                "containerDefinitions[0].secrets[0].valueFrom: \"arn:aws:ssm:us-east-1:1:parameter/a\" -> \"arn:aws:ssm:us-east-1:1:parameter/b\"",
            ]
        );
    }

    #[test]
    fn a_whole_list_a_whole_log_configuration_or_its_options_appearing_hide_their_values() {
        let container = |extra: serde_json::Value| {
            let mut c = json!({"name": "api", "image": "api:1"});
            c.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({"containerDefinitions": [c]})
        };
        let env = json!({"environment": [{"name": "TOKEN", "value": "S3CR3T-env"}]});
        let log = json!({"logConfiguration": {"logDriver": "splunk", "options": {"splunk-token": "S3CR3T-log"}}});
        let options = json!({"logConfiguration": {"logDriver": "splunk", "options": {}}});
        let options_full = json!({"logConfiguration": {"logDriver": "splunk", "options": {"splunk-token": "S3CR3T-opt"}}});
        for (live, desired) in [
            (container(json!({})), container(env.clone())),
            (container(json!({})), container(log.clone())),
            (container(options.clone()), container(options_full.clone())),
            (container(env), container(json!({}))),
            (container(log), container(json!({}))),
        ] {
            let all = shown(live.clone(), desired.clone()).join("\n");
            assert!(!all.contains("S3CR3T"), "{live} -> {desired}: {all}");
            assert!(!all.is_empty());
        }
    }

    #[test]
    fn a_renamed_variable_shows_the_names_only() {
        let live = td(json!([{"name": "OLD", "value": "S3CR3T"}]));
        let desired = td(json!([{"name": "NEW", "value": "S3CR3T"}]));
        let all = shown(live, desired).join("\n");
        assert!(!all.contains("S3CR3T"), "{all}");
        assert!(all.contains("OLD") && all.contains("NEW"), "{all}");
    }
}
