//! The limits AWS documents for the fields the manifests accept, checked before any call, so a
//! manifest ECS or ELBv2 would refuse (or, worse, the simulator would accept) is an error with
//! file, line and field. One table, [`AWS_LIMITS`], is what the checks use and what README
//! "Limits" lists. These are AWS's, not ours: no flag changes them. The bounds of reading
//! (file size, depth, ...) are [`super::load_limits`].

use super::diagnostic::Diagnostic;
use super::document::{Manifest, Spec};
use super::load::Document;
use super::path::FieldPath;
use super::shorthand::Tags;
use super::task_definition::TaskDefinition;

/// Tags per resource (ECS, ELBv2).
pub const TAGS_PER_RESOURCE: usize = 50;
/// Tags the operator writes on a resource itself (`ecs-operator/managed-by`, `source`,
/// `spec-hash`, `task-definition`, `task-definition-hash`, `last-completed`, `held-back`:
/// `plan::TAG_*`), taken from the 50.
pub const OPERATOR_TAGS: usize = 7;
/// Characters of a tag key.
pub const TAG_KEY_CHARS: usize = 128;
/// Characters of a tag value.
pub const TAG_VALUE_CHARS: usize = 256;
/// Containers in one task definition.
pub const CONTAINERS_PER_TASK_DEFINITION: usize = 10;
/// Bytes of a task definition as JSON (environment values included).
pub const TASK_DEFINITION_BYTES: usize = 64 << 10;
/// Tasks of one service (ECS's tasks-per-service quota, not adjustable).
pub const DESIRED_COUNT_MAX: u32 = 5000;
/// Target groups (load balancers) per service.
pub const LOAD_BALANCERS_PER_SERVICE: usize = 5;
/// Security groups of an awsvpc configuration.
pub const SECURITY_GROUPS: usize = 5;
/// Subnets of an awsvpc configuration.
pub const SUBNETS: usize = 16;
/// Placement constraints per service.
pub const PLACEMENT_CONSTRAINTS: usize = 10;
/// Placement strategies per service.
pub const PLACEMENT_STRATEGIES: usize = 5;
/// Capacity providers in one strategy.
pub const CAPACITY_PROVIDERS_PER_STRATEGY: usize = 20;

/// Every limit: the field, the bound, for README and the table test.
pub const AWS_LIMITS: &[(&str, usize)] = &[
    (
        "tags per resource (the operator's own 7 included)",
        TAGS_PER_RESOURCE,
    ),
    ("tag key characters (no `aws:` prefix)", TAG_KEY_CHARS),
    ("tag value characters", TAG_VALUE_CHARS),
    (
        "containerDefinitions per task definition",
        CONTAINERS_PER_TASK_DEFINITION,
    ),
    (
        "task definition bytes as JSON (environment included)",
        TASK_DEFINITION_BYTES,
    ),
    ("desiredCount", DESIRED_COUNT_MAX as usize),
    ("loadBalancers per service", LOAD_BALANCERS_PER_SERVICE),
    ("awsvpcConfiguration.securityGroups", SECURITY_GROUPS),
    ("awsvpcConfiguration.subnets", SUBNETS),
    ("placementConstraints per service", PLACEMENT_CONSTRAINTS),
    ("placementStrategy per service", PLACEMENT_STRATEGIES),
    (
        "capacityProviderStrategy items",
        CAPACITY_PROVIDERS_PER_STRATEGY,
    ),
];

/// Findings about one item kind (one tag key too long, ...) shown per document at most.
const PER_RULE: usize = 5;

/// Checks `doc` against AWS's limits, adding an error per finding to `out`.
pub fn check(doc: &Document, out: &mut Vec<Diagnostic>) {
    let found = findings(&doc.manifest);
    if found.is_empty() {
        return;
    }
    let lines = doc.lines();
    for (path, rule, message) in found {
        let line = lines.line_of(&path);
        out.push(Diagnostic::error(&doc.file, line, path, rule, message));
    }
}

type Finding = (FieldPath, &'static str, String);

/// The findings of one manifest (pure, for the table test).
fn findings(m: &Manifest) -> Vec<Finding> {
    let mut out = Vec::new();
    let spec = FieldPath::root().key("spec");
    match &m.spec {
        Spec::Cluster(c) => tags(&c.tags, &spec.clone().key("tags"), &mut out),
        Spec::TargetGroup(t) => tags(&t.tags, &spec.clone().key("tags"), &mut out),
        Spec::ListenerRule(r) => tags(&r.tags, &spec.clone().key("tags"), &mut out),
        Spec::Service(s) => {
            tags(&s.tags, &spec.clone().key("tags"), &mut out);
            if let Some(n) = s.desired_count.filter(|n| *n > DESIRED_COUNT_MAX) {
                out.push((
                    spec.clone().key("desiredCount"),
                    "aws-limit",
                    format!("desiredCount {n} is over ECS's {DESIRED_COUNT_MAX} tasks per service"),
                ));
            }
            let counted = [
                (
                    "loadBalancers",
                    s.load_balancers.len(),
                    LOAD_BALANCERS_PER_SERVICE,
                ),
                (
                    "placementConstraints",
                    s.placement_constraints.len(),
                    PLACEMENT_CONSTRAINTS,
                ),
                (
                    "placementStrategy",
                    s.placement_strategy.len(),
                    PLACEMENT_STRATEGIES,
                ),
                (
                    "capacityProviderStrategy",
                    s.capacity_provider_strategy.len(),
                    CAPACITY_PROVIDERS_PER_STRATEGY,
                ),
            ];
            for (field, n, max) in counted {
                count(&spec.clone().key(field), n, max, &mut out);
            }
            if let Some(vpc) = s
                .network_configuration
                .as_ref()
                .map(|n| &n.awsvpc_configuration)
            {
                let base = spec
                    .clone()
                    .key("networkConfiguration")
                    .key("awsvpcConfiguration");
                count(
                    &base.clone().key("securityGroups"),
                    vpc.security_groups.len(),
                    SECURITY_GROUPS,
                    &mut out,
                );
                count(&base.key("subnets"), vpc.subnets.len(), SUBNETS, &mut out);
            }
            task_definition(&s.task_definition, &spec.key("taskDefinition"), &mut out);
        }
    }
    out
}

fn count(path: &FieldPath, n: usize, max: usize, out: &mut Vec<Finding>) {
    if n > max {
        out.push((
            path.clone(),
            "aws-limit",
            format!("{n} items, over AWS's limit of {max}"),
        ));
    }
}

fn tags(tags: &Tags, path: &FieldPath, out: &mut Vec<Finding>) {
    let allowed = TAGS_PER_RESOURCE - OPERATOR_TAGS;
    if tags.0.len() > allowed {
        out.push((
            path.clone(),
            "aws-limit",
            format!(
                "{} tags, over the {allowed} a manifest may set (AWS allows {TAGS_PER_RESOURCE} \
                 per resource and the operator writes up to {OPERATOR_TAGS} of its own)",
                tags.0.len()
            ),
        ));
    }
    let mut shown = [0usize; 3];
    for (i, tag) in tags.iter().enumerate() {
        let key_chars = tag.key.chars().count();
        let value_chars = tag.value.0.chars().count();
        let problems = [
            (key_chars > TAG_KEY_CHARS)
                .then(|| format!("tag key of {key_chars} characters, over AWS's {TAG_KEY_CHARS}")),
            (value_chars > TAG_VALUE_CHARS).then(|| {
                format!("tag value of {value_chars} characters, over AWS's {TAG_VALUE_CHARS}")
            }),
            tag.key
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
                .then(|| "tag keys starting `aws:` are reserved for AWS".to_string()),
        ];
        for (k, problem) in problems.into_iter().enumerate() {
            if let Some(message) = problem {
                shown[k] += 1;
                if shown[k] <= PER_RULE {
                    out.push((path.index(i), "aws-limit", message));
                }
            }
        }
    }
}

fn task_definition(td: &TaskDefinition, path: &FieldPath, out: &mut Vec<Finding>) {
    let containers = td.container_definitions.len();
    if containers > CONTAINERS_PER_TASK_DEFINITION {
        out.push((
            path.clone().key("containerDefinitions"),
            "aws-limit",
            format!(
                "{containers} containers, over ECS's limit of {CONTAINERS_PER_TASK_DEFINITION} \
                 per task definition"
            ),
        ));
    }
    let bytes = serde_json::to_vec(td).map_or(0, |json| json.len());
    if bytes > TASK_DEFINITION_BYTES {
        // Name the container whose environment weighs most: usually the cause.
        let heaviest = td
            .container_definitions
            .iter()
            .enumerate()
            .map(|(i, c)| (serde_json::to_vec(&c.environment).map_or(0, |j| j.len()), i))
            .max();
        let (at, hint) = match heaviest {
            Some((env, i)) if env > bytes / 2 => (
                path.clone()
                    .key("containerDefinitions")
                    .index(i)
                    .key("environment"),
                format!(" (this environment takes {env} of them)"),
            ),
            _ => (path.clone(), String::new()),
        };
        out.push((
            at,
            "aws-limit",
            format!(
                "the task definition is {bytes} bytes as JSON, over ECS's limit of \
                 {TASK_DEFINITION_BYTES}{hint}; move large values to S3 environment files or \
                 secrets"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::load_str;
    use std::path::Path;

    const SERVICE: &str = "apiVersion: ecs-operator/v1\nkind: Service\nmetadata: {name: api}\nspec:\n  cluster: shop\n  desiredCount: 2\n  taskDefinition:\n    containerDefinitions:\n      - {name: app, image: 'app:1'}\n";

    /// The service with `extra` appended under `spec` (two-space indented lines).
    fn service(extra: &str) -> String {
        format!("{SERVICE}{extra}")
    }

    fn found(text: &str) -> Vec<(String, String)> {
        let loaded = load_str(Path::new("x.yaml"), text);
        assert!(loaded.failed.is_empty(), "{:?}", loaded.diagnostics);
        findings(&loaded.documents[0].manifest)
            .into_iter()
            .map(|(p, _, m)| (p.to_string(), m))
            .collect()
    }

    fn tag_map(n: usize, key_len: usize, value_len: usize) -> String {
        let mut s = "  tags:\n".to_string();
        for i in 0..n {
            let mut key = format!("k{i}");
            while key.len() < key_len {
                key.push('x');
            }
            s.push_str(&format!("    {key}: '{}'\n", "v".repeat(value_len)));
        }
        s
    }

    #[test]
    fn each_limit_is_found_at_its_field_and_only_past_its_bound() {
        let containers = |n: usize| {
            let mut s = "  taskDefinition:\n    containerDefinitions:\n".to_string();
            for i in 0..n {
                s.push_str(&format!("      - {{name: c{i}, image: 'x:1'}}\n"));
            }
            s
        };
        let no_td = SERVICE
            .split("  taskDefinition:")
            .next()
            .unwrap()
            .to_string();
        let env = |bytes: usize| {
            format!(
                "{no_td}  taskDefinition:\n    containerDefinitions:\n      - name: app\n        image: 'x:1'\n        environment: {{BIG: '{}'}}\n",
                "x".repeat(bytes)
            )
        };
        let list = |field: &str, n: usize| {
            let mut s = format!("  {field}:\n");
            for i in 0..n {
                s.push_str(&format!(
                    "    - {{type: memberOf, expression: 'attribute:n == {i}'}}\n"
                ));
            }
            s
        };
        let vpc = |subnets: usize, groups: usize| {
            format!(
                "  networkConfiguration:\n    awsvpcConfiguration:\n      subnets: [{}]\n      securityGroups: [{}]\n",
                (0..subnets)
                    .map(|i| format!("subnet-{i}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                (0..groups)
                    .map(|i| format!("sg-{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let cases: Vec<(&str, String, Vec<&str>)> = vec![
            ("43 tags", service(&tag_map(43, 3, 3)), vec![]),
            ("44 tags", service(&tag_map(44, 3, 3)), vec!["spec.tags"]),
            ("key of 128", service(&tag_map(1, 128, 3)), vec![]),
            (
                "key of 129",
                service(&tag_map(1, 129, 3)),
                vec!["spec.tags[0]"],
            ),
            ("value of 256", service(&tag_map(1, 3, 256)), vec![]),
            (
                "value of 257",
                service(&tag_map(1, 3, 257)),
                vec!["spec.tags[0]"],
            ),
            (
                "aws: prefix",
                service("  tags: {'AWS:x': y}\n"),
                vec!["spec.tags[0]"],
            ),
            (
                "2000 long keys: one count, five keys",
                service(&tag_map(2000, 200, 3)),
                vec![
                    "spec.tags",
                    "spec.tags[0]",
                    "spec.tags[1]",
                    "spec.tags[2]",
                    "spec.tags[3]",
                    "spec.tags[4]",
                ],
            ),
            (
                "10 containers",
                format!("{no_td}{}", containers(10)),
                vec![],
            ),
            (
                "11 containers",
                format!("{no_td}{}", containers(11)),
                vec!["spec.taskDefinition.containerDefinitions"],
            ),
            ("60 KB environment", env(60_000), vec![]),
            (
                "70 KB environment",
                env(70_000),
                vec!["spec.taskDefinition.containerDefinitions[0].environment"],
            ),
            (
                "desiredCount 5000",
                SERVICE.replace("desiredCount: 2", "desiredCount: 5000"),
                vec![],
            ),
            (
                "desiredCount 2^30",
                SERVICE.replace("desiredCount: 2", "desiredCount: 1073741824"),
                vec!["spec.desiredCount"],
            ),
            (
                "10 constraints",
                service(&list("placementConstraints", 10)),
                vec![],
            ),
            (
                "11 constraints",
                service(&list("placementConstraints", 11)),
                vec!["spec.placementConstraints"],
            ),
            ("16 subnets, 5 groups", service(&vpc(16, 5)), vec![]),
            (
                "17 subnets, 6 groups",
                service(&vpc(17, 6)),
                vec![
                    "spec.networkConfiguration.awsvpcConfiguration.securityGroups",
                    "spec.networkConfiguration.awsvpcConfiguration.subnets",
                ],
            ),
            (
                "cluster tags",
                format!(
                    "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {{name: c}}\nspec:\n{}",
                    tag_map(51, 3, 3)
                ),
                vec!["spec.tags"],
            ),
        ];
        for (name, text, want) in cases {
            let got: Vec<String> = found(&text).into_iter().map(|(p, _)| p).collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn the_table_lists_every_bound_once() {
        let mut names: Vec<&str> = AWS_LIMITS.iter().map(|(n, _)| *n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), AWS_LIMITS.len());
    }
}
