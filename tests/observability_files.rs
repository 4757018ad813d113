//! deploy/grafana-dashboard.json and deploy/prometheus-alerts.yaml name only metrics the
//! operator exports: every PromQL expression in them is tokenized, and each metric name must be
//! in what `Metrics::encode()` serves (histograms with their `_bucket`, `_sum` and `_count`
//! series), or `up`, the metric Prometheus itself writes per scrape target. Every alert rule
//! also has a `for`, a `severity` label and a `summary`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use ecs_operator::controller::status::{Health, ResourceStatus, SyncStatus};
use ecs_operator::manifest::{Kind, ResourceKey};
use ecs_operator::metrics::Metrics;

/// Metrics Prometheus writes itself, allowed in expressions.
const PROMETHEUS_OWN: &[&str] = &["up"];

/// PromQL words that are not metric names when not followed by `(`.
const KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
    "atan2",
];

/// Keywords followed by a parenthesized list of label names.
const LABEL_LIST_KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

fn repo_file(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every metric name the operator exports, from the exposition of a registry with one sample
/// in each family: the families whose label sets are not created at zero (resource info,
/// source info, API call durations) have no series, so no `# TYPE` line, until first set.
fn exported() -> BTreeSet<String> {
    let metrics = Metrics::new();
    let mut status = ResourceStatus::unknown(&ResourceKey {
        kind: Kind::Service,
        cluster: Some("shop".into()),
        name: "api".into(),
    });
    status.sync = SyncStatus::Synced;
    status.health = Health::Healthy;
    metrics.set_resources(&[status]);
    metrics.set_source_revision("abc");
    metrics.set_last_sync(SystemTime::now());
    metrics.api_request("ecs", "DescribeServices", None, Duration::from_millis(5));
    let text = metrics.encode();
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            let (name, kind) = (parts.next().unwrap(), parts.next().unwrap());
            names.insert(name.to_string());
            if kind == "histogram" || kind == "summary" {
                for suffix in ["_bucket", "_sum", "_count"] {
                    names.insert(format!("{name}{suffix}"));
                }
            }
        } else if !line.starts_with('#') && !line.is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            names.insert(line[..end].to_string());
        }
    }
    names.extend(PROMETHEUS_OWN.iter().map(|s| s.to_string()));
    names
}

/// Removes string literals and the contents of `{...}` (label matchers) and `[...]` (ranges,
/// subqueries, Grafana's `$__rate_interval`), keeping the brackets.
fn strip_literals_and_matchers(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut chars = expr.chars();
    let mut depth_brace = 0;
    let mut depth_bracket = 0;
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                // Skip to the closing quote (backslash escapes in "" and '').
                while let Some(d) = chars.next() {
                    if d == '\\' && c != '`' {
                        chars.next();
                    } else if d == c {
                        break;
                    }
                }
                out.push(' ');
            }
            '{' => {
                depth_brace += 1;
                out.push('{');
            }
            '}' => {
                depth_brace -= 1;
                out.push('}');
            }
            '[' => {
                depth_bracket += 1;
                out.push('[');
            }
            ']' => {
                depth_bracket -= 1;
                out.push(']');
            }
            _ if depth_brace > 0 || depth_bracket > 0 => {}
            c => out.push(c),
        }
    }
    out
}

/// The metric names an expression reads: identifiers not followed by `(` or by `by`/`without`
/// (functions and aggregations), not keywords, not label names of `by (...)` and the like, not numbers or
/// durations, not `$` variables.
fn metric_names(expr: &str) -> Vec<String> {
    let text = strip_literals_and_matchers(expr);
    let chars: Vec<char> = text.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    let mut skip_label_list = false;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            // A number or duration (5m, 1e-9, 0x1f): letters, digits and dots run together.
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            continue;
        }
        if c == '$' {
            // A dashboard variable: `$var` or `${var}`.
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "_{}".contains(chars[i]))
            {
                i += 1;
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            let next_word: String = chars[j..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            // `sum(...)`, and `sum by (...) (...)`: a function or an aggregation.
            let called =
                chars.get(j) == Some(&'(') || matches!(next_word.as_str(), "by" | "without");
            if LABEL_LIST_KEYWORDS.contains(&word.as_str()) {
                if called {
                    skip_label_list = true;
                }
                continue;
            }
            if called || KEYWORDS.contains(&word.to_ascii_lowercase().as_str()) {
                continue;
            }
            names.push(word);
            continue;
        }
        if c == '(' && skip_label_list {
            // The label names of `by (...)`: up to the closing parenthesis.
            while i < chars.len() && chars[i] != ')' {
                i += 1;
            }
            skip_label_list = false;
        }
        i += 1;
    }
    names
}

/// The names of `expr` the operator does not export.
fn unknown_names(expr: &str, exported: &BTreeSet<String>) -> Vec<String> {
    metric_names(expr)
        .into_iter()
        .filter(|n| !exported.contains(n))
        .collect()
}

/// Every `targets[].expr` of every panel, rows' nested panels included: (panel title, expr).
fn dashboard_exprs(dashboard: &serde_json::Value) -> Vec<(String, String)> {
    fn walk(panels: &serde_json::Value, out: &mut Vec<(String, String)>) {
        for panel in panels.as_array().into_iter().flatten() {
            let title = panel["title"].as_str().unwrap_or("?").to_string();
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str() {
                    out.push((title.clone(), expr.to_string()));
                }
            }
            walk(&panel["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

fn alert_rules() -> Vec<serde_yaml::Value> {
    let rules: serde_yaml::Value =
        serde_yaml::from_str(&repo_file("deploy/prometheus-alerts.yaml")).expect("valid YAML");
    rules["groups"]
        .as_sequence()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_sequence().expect("rules").clone())
        .collect()
}

#[test]
fn the_tokenizer_finds_metric_names_and_only_them() {
    let expr = r#"histogram_quantile(0.95, sum by (kind, le) (rate(ecs_operator_reconcile_duration_seconds_bucket{kind="Service", le!="x"}[$__rate_interval])))
        / on (job) group_left (instance) max without (a) (foo_total offset 5m) > bool 1e-9
        or absent(up{job="ecs-operator"}) unless label_replace(bar, "dst", "$1", "src", "(.*)")
        and time() - baz:recorded > 15 * 60"#;
    assert_eq!(
        metric_names(expr),
        [
            "ecs_operator_reconcile_duration_seconds_bucket",
            "foo_total",
            "up",
            "bar",
            "baz:recorded"
        ]
    );
    let exported = exported();
    assert!(exported.contains("ecs_operator_reconcile_total"));
    assert!(exported.contains("ecs_operator_api_request_duration_seconds_bucket"));
    assert!(exported.contains("ecs_operator_resource_info"));
    assert!(exported.contains("ecs_operator_source_info"));
    assert!(exported.contains("process_start_time_seconds"));
    // A misspelled name is caught.
    assert_eq!(
        unknown_names(
            "sum(rate(ecs_operator_reconcile_totals[5m])) / sum(rate(ecs_operator_reconcile_total[5m]))",
            &exported
        ),
        ["ecs_operator_reconcile_totals"]
    );
}

#[test]
fn the_dashboard_names_only_exported_metrics() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&repo_file("deploy/grafana-dashboard.json")).expect("valid JSON");
    let inputs = dashboard["__inputs"].as_array().expect("__inputs");
    assert!(
        inputs
            .iter()
            .any(|i| i["name"] == "DS_PROMETHEUS" && i["pluginId"] == "prometheus"),
        "a DS_PROMETHEUS datasource input, so Grafana asks for the datasource on import"
    );
    let exported = exported();
    let exprs = dashboard_exprs(&dashboard);
    assert!(
        exprs.len() >= 15,
        "every panel has a query: {}",
        exprs.len()
    );
    let mut used = BTreeSet::new();
    for (title, expr) in &exprs {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "panel {title:?}: no metric in {expr:?}");
        let unknown = unknown_names(expr, &exported);
        assert!(
            unknown.is_empty(),
            "panel {title:?} names metrics the operator does not export: {unknown:?} in {expr:?}"
        );
        used.extend(names);
    }
    for panel in dashboard["panels"].as_array().unwrap() {
        if panel["type"] != "row" {
            assert_eq!(
                panel["datasource"]["uid"], "${DS_PROMETHEUS}",
                "panel {}",
                panel["title"]
            );
        }
    }
    // The panels the issue asks for read these.
    for name in [
        "ecs_operator_resources",
        "ecs_operator_resource_info",
        "ecs_operator_reconcile_total",
        "ecs_operator_api_requests_total",
        "ecs_operator_ratelimit_wait_seconds_bucket",
        "ecs_operator_rollouts_total",
        "ecs_operator_workqueue_depth",
        "ecs_operator_workqueue_retries_total",
        "ecs_operator_source_info",
        "ecs_operator_last_sync_timestamp_seconds",
        "ecs_operator_manifest_errors",
        // Leader election: which process leads, and how often that changes.
        "ecs_operator_leader",
        "ecs_operator_leader_transitions_total",
        "ecs_operator_lease_renew_failures_total",
        // Native deployments: in progress by stage (issue 13).
        "ecs_operator_deployments_in_progress",
    ] {
        assert!(used.contains(name), "no panel reads {name}");
    }
}

#[test]
fn the_alert_rules_name_only_exported_metrics_and_are_complete() {
    let exported = exported();
    let rules = alert_rules();
    let mut alerts = BTreeSet::new();
    for rule in &rules {
        let name = rule["alert"]
            .as_str()
            .expect("only alerting rules")
            .to_string();
        let expr = rule["expr"].as_str().expect("expr");
        assert!(!metric_names(expr).is_empty(), "{name}: no metric");
        let unknown = unknown_names(expr, &exported);
        assert!(
            unknown.is_empty(),
            "{name} names metrics the operator does not export: {unknown:?}"
        );
        assert!(rule["for"].as_str().is_some(), "{name}: no `for`");
        assert!(
            rule["labels"]["severity"].as_str().is_some(),
            "{name}: no severity label"
        );
        assert!(
            rule["annotations"]["summary"].as_str().is_some(),
            "{name}: no summary"
        );
        alerts.insert(name);
    }
    for name in [
        "EcsOperatorResourceOutOfSync",
        "EcsOperatorResourceDegraded",
        "EcsOperatorReconcileFailures",
        "EcsOperatorThrottled",
        "EcsOperatorSourceNotSynced",
        "EcsOperatorDown",
        "EcsOperatorNoLeader",
        "EcsOperatorLeaderFlapping",
    ] {
        assert!(alerts.contains(name), "missing alert {name}");
    }
    let for_of = |alert: &str| {
        rules
            .iter()
            .find(|r| r["alert"].as_str() == Some(alert))
            .and_then(|r| r["for"].as_str())
            .map(str::to_string)
    };
    assert_eq!(
        for_of("EcsOperatorResourceOutOfSync").as_deref(),
        Some("15m")
    );
    assert_eq!(
        for_of("EcsOperatorResourceDegraded").as_deref(),
        Some("15m")
    );
    assert_eq!(for_of("EcsOperatorThrottled").as_deref(), Some("10m"));
    assert_eq!(for_of("EcsOperatorNoLeader").as_deref(), Some("1m"));
}
