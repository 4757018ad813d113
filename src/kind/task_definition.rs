//! The task definition, part of the Service kind: the definition a Service manifest asks
//! for, its canonical form for comparing with a registered revision (ECS's defaults from
//! [`crate::cloud::defaults::task_definition`], the order ECS does not keep), which revision a
//! service should run (decided from revisions already read: pure), and the inline definition
//! import writes.

use crate::cloud::defaults::task_definition as defaults;
use crate::cloud::model::{RegisteredTaskDefinition, Service};
use crate::diff::{FieldChange, compare};
use crate::manifest::Document;
use crate::manifest::path::FieldPath;
use crate::manifest::service::{LaunchType, ServiceSpec};
use crate::manifest::task_definition::{
    Compatibility, ContainerDefinition, LinuxParameters, NetworkMode, TaskDefinition,
};
use crate::observe::{Observed, Read};
use crate::plan::{
    REVISIONS_SEARCHED, TAG_MANAGED_BY, TAG_SPEC_HASH, TAG_TASK_DEFINITION,
    TAG_TASK_DEFINITION_HASH, hash,
};

/// The task definition a Service manifest asks for, completed the way the operator registers
/// it: family defaults to the service name, and a Fargate service's definition requires
/// FARGATE (ECS refuses to run it on Fargate otherwise).
pub fn desired_task_definition(service_name: &str, spec: &ServiceSpec) -> TaskDefinition {
    let mut td = spec.task_definition.clone();
    if td.family.is_none() {
        td.family = Some(service_name.to_string());
    }
    if td.requires_compatibilities.is_empty() {
        td.requires_compatibilities = implied_compatibilities(spec);
    }
    td
}

/// The compatibilities a service's placement implies for its task definition: FARGATE on
/// Fargate, EC2 for the EC2 launch type, none otherwise. The operator adds them when the
/// manifest leaves them out, and import leaves them out when they are these.
pub fn implied_compatibilities(spec: &ServiceSpec) -> Vec<Compatibility> {
    if spec.is_fargate() {
        vec![Compatibility::Fargate]
    } else if spec.launch_type == Some(LaunchType::Ec2) {
        vec![Compatibility::Ec2]
    } else {
        Vec::new()
    }
}

/// The prefix of the task definition content hashes this release writes: a tag without it
/// was written by another release, whose hash of the same content differs.
pub const HASH_FORMAT: &str = "2-";

/// The content hash of a (canonical) task definition, in [`HASH_FORMAT`].
pub fn content_hash(td: &TaskDefinition) -> String {
    format!("{HASH_FORMAT}{}", hash(td))
}

/// A registered revision's definition with its own tags: the revision's tags but the
/// operator's and AWS's.
pub fn live_definition(r: &RegisteredTaskDefinition) -> TaskDefinition {
    let mut td = r.definition.clone();
    td.tags = super::user_tags(&r.tags);
    td
}

/// The canonical form of a task definition, for comparing a desired one with a registered one.
pub fn task_definition(td: &TaskDefinition) -> TaskDefinition {
    let mut td = td.clone();
    td.tags.0.sort_by(|a, b| a.key.cmp(&b.key));
    let network_mode = *td.network_mode.get_or_insert(defaults::NETWORK_MODE);
    td.requires_compatibilities.sort();
    td.requires_compatibilities.dedup();
    for c in &mut td.container_definitions {
        container(c, network_mode);
    }
    td.container_definitions.sort_by(|a, b| a.name.cmp(&b.name));
    td.volumes.sort_by(|a, b| a.name.cmp(&b.name));
    td.placement_constraints
        .sort_by(|a, b| (&a.kind, &a.expression).cmp(&(&b.kind, &b.expression)));
    td
}

fn container(c: &mut ContainerDefinition, network_mode: NetworkMode) {
    defaults::fill_container(c, Some(network_mode));
    for pm in &mut c.port_mappings {
        defaults::fill_dynamic_host_port(pm, network_mode);
    }
    c.port_mappings.sort_by_key(|p| {
        (
            p.container_port,
            p.container_port_range.clone(),
            p.protocol.map(|p| p as u8),
        )
    });
    c.environment.0.sort_by(|a, b| a.name.cmp(&b.name));
    c.secrets.0.sort_by(|a, b| a.name.cmp(&b.name));
    c.environment_files.sort_by(|a, b| a.value.cmp(&b.value));
    c.depends_on
        .sort_by(|a, b| a.container_name.cmp(&b.container_name));
    c.ulimits.sort_by_key(|a| a.name);
    c.mount_points.sort_by(|a, b| {
        (&a.container_path, &a.source_volume).cmp(&(&b.container_path, &b.source_volume))
    });
    c.volumes_from
        .sort_by(|a, b| a.source_container.cmp(&b.source_container));
    c.system_controls
        .sort_by(|a, b| a.namespace.cmp(&b.namespace));
    if let Some(lp) = &mut c.linux_parameters {
        if let Some(caps) = &mut lp.capabilities {
            caps.add.sort();
            caps.drop.sort();
            if caps.add.is_empty() && caps.drop.is_empty() {
                lp.capabilities = None;
            }
        }
        if *lp == LinuxParameters::default() {
            c.linux_parameters = None;
        }
    }
    if let Some(log) = &mut c.log_configuration {
        log.secret_options.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

// ---- which revision -----------------------------------------------------------------------

/// Where a service's task definition stands.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskDefinitionTarget {
    /// The service already runs a revision with the wanted content.
    Keep(String),
    /// An existing revision has the wanted content: point the service at it.
    Use(String),
    /// No revision has it: register one.
    Register,
}

/// A service's task definition: the desired one and what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDefinitionPlan {
    /// Desired, normalized.
    pub desired: TaskDefinition,
    /// Hash of `desired`.
    pub hash: String,
    /// What to do.
    pub target: TaskDefinitionTarget,
    /// Field changes from the revision the service runs (empty for a new service).
    pub changes: Vec<FieldChange>,
}

impl TaskDefinitionPlan {
    /// The revision the service ends up on: the one kept or used, or [`crate::plan::REGISTERED`].
    pub fn revision(&self) -> String {
        match &self.target {
            TaskDefinitionTarget::Keep(arn) | TaskDefinitionTarget::Use(arn) => arn.clone(),
            TaskDefinitionTarget::Register => crate::plan::REGISTERED.to_string(),
        }
    }
}

/// Decides a service's task definition from what was read, with no I/O. `Err` names the read
/// it needs first, in the order the decision goes, so reading until it answers makes the calls
/// it needs and no more:
///
/// - A service whose tags name the revision it runs (the operator set it) with the wanted
///   content hash keeps it; with another hash its content changed: a new revision is
///   registered, with no read at all (its field changes come from the running revision only
///   when it is already read, or [`Observed::field_changes`] asks for them; otherwise the
///   change shows the two content hashes). A roll costs RegisterTaskDefinition and
///   UpdateService, nothing per service besides.
/// - A service running a revision its tags do not name (set by an earlier `apply` without a
///   tag write, or by someone else) has that revision read (once per process) and compared;
///   content equal to what the tags name (a revert) goes back to that revision; after a
///   revision the operator registered (its own tags say so) a new one is registered.
/// - Otherwise (a new service, or content someone else registered) an existing revision with
///   the wanted content is looked for among the family's newest [`REVISIONS_SEARCHED`], but
///   only when the family has a revision at all ([`Read::Families`], one paged listing per
///   process for the whole account).
///
/// A manifest that names a registered revision (`taskDefinition: family:3`) is
/// [`resolve_registered`]'s.
pub fn resolve(
    doc: &Document,
    spec: &ServiceSpec,
    live: Option<&Service>,
    observed: &Observed,
) -> Result<TaskDefinitionPlan, Read> {
    if let Some(name) = &spec.task_definition.registered {
        return resolve_registered(name, live, observed);
    }
    let desired = task_definition(&desired_task_definition(&doc.manifest.metadata.name, spec));
    let hash = content_hash(&desired);
    let plan = |target, changes| TaskDefinitionPlan {
        desired: desired.clone(),
        hash: hash.clone(),
        target,
        changes,
    };
    let revision = |arn: &String| -> Result<&RegisteredTaskDefinition, Read> {
        observed
            .revisions
            .get(arn)
            .ok_or_else(|| Read::Revision(arn.clone()))
    };
    let mut changes = Vec::new();
    if let Some(live) = live {
        let keep = TaskDefinitionTarget::Keep(live.task_definition.clone());
        let tagged = live.tags.get(TAG_TASK_DEFINITION) == Some(&live.task_definition);
        // A hash of another format (written by an older release) says nothing about the
        // content: the revision is read and compared instead, so an upgrade never registers.
        let tagged_hash = live
            .tags
            .get(TAG_TASK_DEFINITION_HASH)
            .filter(|h| tagged && h.starts_with(HASH_FORMAT));
        if tagged_hash == Some(&hash) {
            return Ok(plan(keep, changes));
        }
        if let Some(old_hash) = tagged_hash {
            changes = match observed.revisions.get(&live.task_definition) {
                Some(r) => compare(&task_definition(&live_definition(r)), &desired),
                None if observed.field_changes => {
                    let r = revision(&live.task_definition)?;
                    compare(&task_definition(&live_definition(r)), &desired)
                }
                None => vec![content_change(old_hash, &hash)],
            };
            let target = if changes.is_empty() {
                keep
            } else {
                TaskDefinitionTarget::Register
            };
            return Ok(plan(target, changes));
        }
        let current = revision(&live.task_definition)?;
        if current.tags.get(TAG_SPEC_HASH) == Some(&hash) {
            return Ok(plan(keep, changes));
        }
        changes = compare(&task_definition(&live_definition(current)), &desired);
        if changes.is_empty() {
            return Ok(plan(keep, changes));
        }
        // Back to the content the tags name (a revert after a roll that wrote no tag): that
        // revision, if it is still active.
        if let Some(named) = live.tags.get(TAG_TASK_DEFINITION)
            && live.tags.get(TAG_TASK_DEFINITION_HASH) == Some(&hash)
        {
            let r = revision(named)?;
            if r.status == "ACTIVE" && task_definition(&live_definition(r)) == desired {
                return Ok(plan(TaskDefinitionTarget::Use(named.clone()), changes));
            }
        }
        if current.tags.contains_key(TAG_MANAGED_BY) && current.tags.contains_key(TAG_SPEC_HASH) {
            return Ok(plan(TaskDefinitionTarget::Register, changes));
        }
    }
    let family = desired.family.clone().unwrap_or_default();
    let families = observed.active_families.as_ref().ok_or(Read::Families)?;
    if !families.contains(&family) {
        return Ok(plan(TaskDefinitionTarget::Register, changes));
    }
    let arns = observed
        .families
        .get(&family)
        .ok_or_else(|| Read::Family(family.clone()))?;
    for arn in arns.iter().rev().take(REVISIONS_SEARCHED) {
        if task_definition(&live_definition(revision(arn)?)) == desired {
            return Ok(plan(TaskDefinitionTarget::Use(arn.clone()), changes));
        }
    }
    Ok(plan(TaskDefinitionTarget::Register, changes))
}

/// The task definition of a manifest that names a registered revision (`family:revision`,
/// `family` or an ARN): that revision, read once (ECS answers a bare family with its latest
/// ACTIVE revision), run as it is: kept when the service runs it, else used; never
/// registered. Its content is the desired definition, so status and hashes read as for an
/// inline one.
pub fn resolve_registered(
    name: &str,
    live: Option<&Service>,
    observed: &Observed,
) -> Result<TaskDefinitionPlan, Read> {
    let named = observed
        .revisions
        .get(name)
        .ok_or_else(|| Read::Revision(name.to_string()))?;
    let desired = task_definition(&live_definition(named));
    let (target, changes) = match live {
        Some(l) if l.task_definition == named.arn => {
            (TaskDefinitionTarget::Keep(named.arn.clone()), Vec::new())
        }
        Some(l) => (
            TaskDefinitionTarget::Use(named.arn.clone()),
            vec![FieldChange {
                path: FieldPath::root(),
                old: Some(l.task_definition.clone().into()),
                new: Some(named.arn.clone().into()),
            }],
        ),
        None => (TaskDefinitionTarget::Use(named.arn.clone()), Vec::new()),
    };
    Ok(TaskDefinitionPlan {
        hash: content_hash(&desired),
        desired,
        target,
        changes,
    })
}

/// The change of a task definition known only by its content hashes (the revision it runs
/// was not read): `contentHash: "1a2b3c4d" -> "5e6f7a8b"`.
pub fn content_change(old_hash: &str, new_hash: &str) -> FieldChange {
    let short = |h: &str| serde_json::Value::String(h.chars().take(12).collect());
    FieldChange {
        path: FieldPath::root().key("contentHash"),
        old: Some(short(old_hash)),
        new: Some(short(new_hash)),
    }
}

// ---- import --------------------------------------------------------------------------------

/// The inline task definition of a Service manifest: the registered revision without the
/// defaults ECS fills in, the family left out when it is the service's name, and
/// `requiresCompatibilities` left out when the service's placement implies it.
pub fn import(live: &TaskDefinition, service_name: &str, spec: &ServiceSpec) -> TaskDefinition {
    let mut td = live.clone();
    let network_mode = td.network_mode.unwrap_or(defaults::NETWORK_MODE);
    td.container_definitions = td
        .container_definitions
        .iter()
        .map(|c| defaults::strip_container(c, network_mode))
        .collect();
    if td.family.as_deref() == Some(service_name) {
        td.family = None;
    }
    let implied = implied_compatibilities(spec);
    if !implied.is_empty() && td.requires_compatibilities == implied {
        td.requires_compatibilities.clear();
    }
    td
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::shorthand::{NameValue, PairList, Scalar};
    use crate::manifest::task_definition::PortMapping;
    use crate::manifest::task_definition::{HealthCheck, TransportProtocol};

    fn port(container: u32) -> PortMapping {
        PortMapping {
            name: None,
            container_port: Some(container),
            host_port: None,
            protocol: None,
            app_protocol: None,
            container_port_range: None,
        }
    }

    fn env(pairs: &[(&str, &str)]) -> crate::manifest::shorthand::Environment {
        PairList(
            pairs
                .iter()
                .map(|(n, v)| NameValue {
                    name: n.to_string(),
                    value: Scalar(v.to_string()),
                })
                .collect(),
        )
    }

    fn desired() -> TaskDefinition {
        TaskDefinition {
            family: Some("api".into()),
            network_mode: Some(NetworkMode::Awsvpc),
            container_definitions: vec![
                ContainerDefinition {
                    name: "web".into(),
                    image: "web:1".into(),
                    port_mappings: vec![port(8080)],
                    environment: env(&[("B", "2"), ("A", "1")]),
                    ..Default::default()
                },
                ContainerDefinition {
                    name: "api".into(),
                    image: "api:1".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    /// What ECS returns for `desired()`: defaults filled, lists in another order.
    fn as_ecs_returns_it() -> TaskDefinition {
        let mut td = desired();
        td.container_definitions.reverse();
        for c in &mut td.container_definitions {
            c.cpu = Some(0);
            c.essential = Some(true);
            c.environment.0.reverse();
            for p in &mut c.port_mappings {
                p.protocol = Some(TransportProtocol::Tcp);
                p.host_port = p.container_port;
            }
        }
        td
    }

    #[test]
    fn ecs_defaults_and_ordering_are_not_drift() {
        assert_eq!(
            task_definition(&desired()),
            task_definition(&as_ecs_returns_it())
        );
    }

    #[test]
    fn a_real_change_is_still_a_change() {
        let mut live = as_ecs_returns_it();
        live.container_definitions[0].image = "api:2".into();
        assert_ne!(task_definition(&desired()), task_definition(&live));
        let mut live = as_ecs_returns_it();
        live.container_definitions[1].port_mappings[0].host_port = Some(9090);
        assert_ne!(task_definition(&desired()), task_definition(&live));
    }

    #[test]
    fn bridge_mode_host_ports_default_to_dynamic() {
        let mut td = desired();
        td.network_mode = None;
        let n = task_definition(&td);
        assert_eq!(n.network_mode, Some(NetworkMode::Bridge));
        let web = n
            .container_definitions
            .iter()
            .find(|c| c.name == "web")
            .unwrap();
        assert_eq!(web.port_mappings[0].host_port, Some(0));
    }

    #[test]
    fn health_check_defaults_are_filled() {
        let mut td = desired();
        td.container_definitions[0].health_check = Some(HealthCheck {
            command: vec!["CMD".into(), "true".into()],
            interval: None,
            timeout: Some(10),
            retries: None,
            start_period: None,
        });
        let hc = task_definition(&td).container_definitions[1]
            .health_check
            .clone()
            .unwrap();
        assert_eq!(
            (hc.interval, hc.timeout, hc.retries),
            (Some(30), Some(10), Some(3))
        );
    }

    #[test]
    fn empty_linux_parameters_equal_absent() {
        let mut td = desired();
        td.container_definitions[0].linux_parameters = Some(LinuxParameters::default());
        assert_eq!(task_definition(&td), task_definition(&desired()));
    }

    #[test]
    fn normalizing_is_idempotent() {
        let once = task_definition(&desired());
        assert_eq!(task_definition(&once), once);
    }

    #[test]
    fn fargate_services_register_fargate_task_definitions_named_after_them() {
        let spec = ServiceSpec {
            launch_type: Some(LaunchType::Fargate),
            task_definition: TaskDefinition {
                family: None,
                ..desired()
            },
            ..Default::default()
        };
        let td = desired_task_definition("api", &spec);
        assert_eq!(td.family.as_deref(), Some("api"));
        assert_eq!(td.requires_compatibilities, [Compatibility::Fargate]);
    }

    /// The every-member fixture (codegen/shapes.py), as ECS stores it once registered.
    fn every_member() -> TaskDefinition {
        let json =
            include_str!("../../tests/fixtures/every-member/RegisterTaskDefinitionRequest.json");
        let mut td: TaskDefinition = serde_json::from_str(json).expect("the fixture parses");
        td.family = Some("api".into());
        defaults::fill_task_definition(&mut td);
        td
    }

    #[test]
    fn import_keeps_every_member_and_plans_nothing_after() {
        let live = every_member();
        let spec = ServiceSpec {
            cluster: "shop".into(),
            ..ServiceSpec::default()
        };
        let imported = import(&live, "api", &spec);
        let spec = ServiceSpec {
            task_definition: imported,
            ..spec
        };
        assert_eq!(
            compare(
                &task_definition(&live),
                &task_definition(&desired_task_definition("api", &spec))
            ),
            vec![],
            "what import writes is the revision it read, member for member"
        );
    }

    #[test]
    fn a_change_of_any_member_is_a_difference() {
        let live = task_definition(&every_member());
        let mut changed = serde_json::to_value(&live).unwrap();
        let c = &mut changed["containerDefinitions"][0];
        c["firelensConfiguration"]["options"]["key1"] = "other".into();
        c["linuxParameters"]["devices"][0]["hostPath"] = "/dev/other".into();
        changed["proxyConfiguration"]["containerName"] = "other".into();
        let changed: TaskDefinition = serde_json::from_value(changed).unwrap();
        let paths: Vec<String> = compare(&live, &task_definition(&changed))
            .iter()
            .map(|c| c.path.to_string())
            .collect();
        assert_eq!(paths.len(), 3, "{paths:?}");
        assert!(
            paths.iter().any(|p| p.contains("firelensConfiguration")),
            "{paths:?}"
        );
        assert!(paths.iter().any(|p| p.contains("devices")), "{paths:?}");
        assert!(
            paths.iter().any(|p| p.contains("proxyConfiguration")),
            "{paths:?}"
        );
    }
}
