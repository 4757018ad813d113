//! Live objects to manifests: pure functions, no I/O. Each drops what ECS or ELBv2 fills in
//! (server-side fields, and every value equal to the default the diff's normalization
//! assumes), so that `diff` on the written manifests right after an import reports nothing,
//! and renders the result as YAML in the manifest format, with the map shorthand for
//! environment, secrets, tags and cluster settings.
//!
//! Each kind's conversion is in its module of [`crate::kind`] (re-exported here); the defaults
//! it strips are [`crate::cloud::defaults`]' tables, the same ones its view fills in for the
//! diff, so the normalized manifest equals the normalized live object (the tests check it).

use crate::manifest::document::API_VERSION;
use crate::manifest::{Manifest, Spec};

// ---- the kinds' conversions ---------------------------------------------------------------

pub use crate::kind::Unsupported;
pub use crate::kind::cluster::import as cluster;
pub use crate::kind::service::import as service;
pub use crate::kind::target_group::import as target_group;
pub use crate::kind::user_tags;

// ---- YAML ----------------------------------------------------------------------------------

/// Why a manifest could not be rendered.
#[derive(Debug, thiserror::Error)]
#[error("cannot render the manifest as YAML")]
pub struct RenderError(#[from] serde_yaml::Error);

/// Name/value lists written as maps (`{LOG_LEVEL: info}`), by field name and the item's name
/// and value keys.
const SHORTHANDS: &[(&str, &str, &str)] = &[
    ("environment", "name", "value"),
    ("secrets", "name", "valueFrom"),
    ("tags", "key", "value"),
    ("settings", "name", "value"),
];

/// Rewrites the name/value lists of [`SHORTHANDS`] as maps, everywhere in `value`, unless a
/// name repeats (a map could not hold it).
fn shorthand(value: &mut serde_yaml::Value) {
    use serde_yaml::Value;
    match value {
        Value::Mapping(m) => {
            for (k, v) in m.iter_mut() {
                let field = k.as_str().unwrap_or_default();
                // A matcher of HTTP codes only is written as the string (`matcher: "200-299"`).
                if field == "matcher"
                    && let Value::Mapping(fields) = &*v
                    && fields.len() == 1
                    && let Some(codes) = fields.get("httpCode")
                {
                    *v = codes.clone();
                    continue;
                }
                if let (Some((_, name, val)), Value::Sequence(items)) =
                    (SHORTHANDS.iter().find(|(f, _, _)| *f == field), &*v)
                {
                    let mut map = serde_yaml::Mapping::new();
                    for item in items {
                        let (Some(n), Some(x)) = (item.get(*name), item.get(*val)) else {
                            break;
                        };
                        if map.insert(n.clone(), x.clone()).is_some() {
                            break;
                        }
                    }
                    if map.len() == items.len() {
                        *v = Value::Mapping(map);
                        continue;
                    }
                }
                shorthand(v);
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(shorthand),
        _ => {}
    }
}

/// One manifest as a YAML document (no `---`), in the manifest format: `apiVersion`, `kind`,
/// `metadata`, `spec`, camelCase, map shorthands.
pub fn render(manifest: &Manifest) -> Result<String, RenderError> {
    let spec = match &manifest.spec {
        Spec::Cluster(s) => serde_yaml::to_value(s)?,
        Spec::TargetGroup(s) => serde_yaml::to_value(s)?,
        Spec::ListenerRule(s) => serde_yaml::to_value(s)?,
        Spec::Service(s) => serde_yaml::to_value(s)?,
    };
    let mut doc = serde_yaml::Mapping::new();
    doc.insert("apiVersion".into(), API_VERSION.into());
    doc.insert("kind".into(), manifest.kind().as_str().into());
    doc.insert("metadata".into(), serde_yaml::to_value(&manifest.metadata)?);
    doc.insert("spec".into(), spec);
    let mut doc = serde_yaml::Value::Mapping(doc);
    shorthand(&mut doc);
    Ok(serde_yaml::to_string(&doc)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::model::Tags;
    use crate::cloud::model::TargetGroupProtocol;
    use crate::cloud::model::{
        self, DeploymentConfiguration, DeploymentControllerType, NetworkConfiguration,
        SchedulingStrategy, TargetGroupHealthCheck,
    };
    use crate::cloud::model::{LaunchType, PropagateTags};
    use crate::diff::compare;
    use crate::kind::task_definition as normalize;
    use crate::kind::{service as service_views, tag_map, target_group as target_group_views};
    use crate::manifest::document::ANNOTATION_ADOPT;
    use crate::manifest::service::AwsVpcConfiguration;
    use crate::manifest::service::DeploymentCircuitBreaker;
    use crate::manifest::service::ServiceSpec;
    use crate::manifest::shorthand::NameValue;
    use crate::manifest::shorthand::Secret;
    use crate::manifest::shorthand::{PairList, Scalar};
    use crate::manifest::target_group::Matcher;
    use crate::manifest::target_group::{IpAddressType, ProtocolVersion, TargetType};
    use crate::manifest::task_definition::TaskDefinition;
    use crate::manifest::task_definition::{
        Compatibility, ContainerDefinition, EnabledDisabled, NetworkMode, TransportProtocol,
    };
    use crate::manifest::task_definition::{HealthCheck, PortMapping};
    use crate::manifest::units::{TaskCpu, TaskMemory};
    use std::collections::BTreeMap;

    fn port(p: u32) -> PortMapping {
        PortMapping {
            name: None,
            container_port: Some(p),
            host_port: None,
            protocol: None,
            app_protocol: None,
            container_port_range: None,
        }
    }

    /// A Fargate revision as ECS describes it: defaults filled in.
    fn fargate_revision(family: &str) -> model::RegisteredTaskDefinition {
        let mut p = port(8000);
        p.host_port = Some(8000);
        p.protocol = Some(TransportProtocol::Tcp);
        model::RegisteredTaskDefinition {
            arn: format!("arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:3"),
            family: family.into(),
            revision: 3,
            status: "ACTIVE".into(),
            definition: TaskDefinition {
                family: Some(family.into()),
                requires_compatibilities: vec![Compatibility::Fargate],
                network_mode: Some(NetworkMode::Awsvpc),
                cpu: Some(TaskCpu(256)),
                memory: Some(TaskMemory(512)),
                execution_role_arn: Some("arn:aws:iam::123456789012:role/exec".into()),
                container_definitions: vec![ContainerDefinition {
                    name: "api".into(),
                    image: "api:1.4.2".into(),
                    cpu: Some(0),
                    essential: Some(true),
                    port_mappings: vec![p],
                    environment: PairList(vec![NameValue {
                        name: "LOG_LEVEL".into(),
                        value: Scalar("info".into()),
                    }]),
                    secrets: PairList(vec![Secret {
                        name: "DB_URL".into(),
                        value_from: "arn:aws:ssm:us-east-1:123456789012:parameter/db".into(),
                    }]),
                    health_check: Some(HealthCheck {
                        command: vec!["CMD".into(), "/bin/check".into()],
                        interval: Some(30),
                        timeout: Some(5),
                        retries: Some(3),
                        start_period: Some(10),
                    }),
                    ..ContainerDefinition::default()
                }],
                ..TaskDefinition::default()
            },
            tags: Tags::new(),
            registered_at: None,
        }
    }

    const TG_ARN: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-api/0123456789abcdef";

    /// A Fargate service as DescribeServices returns it.
    fn fargate_service() -> model::Service {
        model::Service {
            name: "api".into(),
            arn: "arn:aws:ecs:us-east-1:123456789012:service/shop/api".into(),
            status: "ACTIVE".into(),
            desired_count: 2,
            task_definition: "arn:aws:ecs:us-east-1:123456789012:task-definition/api:3".into(),
            launch_type: Some(LaunchType::Fargate),
            platform_version: Some("LATEST".into()),
            scheduling_strategy: Some(SchedulingStrategy::Replica),
            network_configuration: Some(NetworkConfiguration {
                awsvpc_configuration: AwsVpcConfiguration {
                    subnets: vec!["subnet-b".into(), "subnet-a".into()],
                    security_groups: vec!["sg-1".into()],
                    assign_public_ip: Some(EnabledDisabled::Disabled),
                },
            }),
            deployment_configuration: Some(DeploymentConfiguration {
                maximum_percent: Some(200),
                minimum_healthy_percent: Some(100),
                deployment_circuit_breaker: Some(DeploymentCircuitBreaker {
                    enable: true,
                    rollback: true,
                }),
                alarms: None,
                ..Default::default()
            }),
            deployment_controller: Some(DeploymentControllerType::Ecs),
            load_balancers: vec![model::ServiceLoadBalancer {
                target_group_arn: TG_ARN.into(),
                container_name: "api".into(),
                container_port: 8000,
                advanced_configuration: None,
            }],
            health_check_grace_period_seconds: Some(0),
            tags: [
                ("team".to_string(), "shop".to_string()),
                ("ecs-operator/managed-by".into(), "someone".into()),
                ("aws:cloudformation:stack-name".into(), "x".into()),
            ]
            .into(),
            ..model::Service::default()
        }
    }

    fn service_spec(m: &Manifest) -> &ServiceSpec {
        m.as_service().expect("a Service")
    }

    /// What the plan compares: the normalized task definitions and the service views of the
    /// manifest and of the live service are equal, tags aside (the ownership tags are what
    /// adopting adds).
    fn assert_round_trips(
        case: &str,
        live: &model::Service,
        revision: &model::RegisteredTaskDefinition,
    ) {
        let tgs: BTreeMap<String, String> = [(TG_ARN.to_string(), "shop-api".to_string())].into();
        let m = service(live, "shop", revision, &tgs, false).unwrap();
        let spec = service_spec(&m);
        let desired_td =
            normalize::task_definition(&normalize::desired_task_definition(&m.metadata.name, spec));
        assert_eq!(
            compare(
                &normalize::task_definition(&normalize::live_definition(revision)),
                &desired_td
            ),
            vec![],
            "{case}: task definition"
        );
        let lbs = live.load_balancers.clone();
        let tags = tag_map(&spec.tags);
        let desired = service_views::desired_service(spec, lbs, tags);
        assert_eq!(
            compare(&service_views::live_service(live, &desired), &desired),
            vec![],
            "{case}: service"
        );
    }

    #[test]
    fn a_fargate_service_loses_every_default_and_round_trips() {
        let live = fargate_service();
        let revision = fargate_revision("api");
        let tgs: BTreeMap<String, String> = [(TG_ARN.to_string(), "shop-api".to_string())].into();
        let m = service(&live, "shop", &revision, &tgs, false).unwrap();
        let spec = service_spec(&m);
        assert_eq!(spec.platform_version, None, "LATEST is the Fargate default");
        assert_eq!(spec.health_check_grace_period_seconds, None);
        assert_eq!(spec.desired_count, Some(2));
        let dc = spec.deployment_configuration.as_ref().unwrap();
        assert_eq!(
            (dc.maximum_percent, dc.minimum_healthy_percent),
            (None, None)
        );
        assert!(dc.deployment_circuit_breaker.is_some(), "not the default");
        let net = &spec
            .network_configuration
            .as_ref()
            .unwrap()
            .awsvpc_configuration;
        assert_eq!(net.subnets, ["subnet-a", "subnet-b"]);
        assert_eq!(net.assign_public_ip, None);
        assert_eq!(
            spec.load_balancers[0].target_group.as_deref(),
            Some("shop-api")
        );
        assert_eq!(spec.load_balancers[0].target_group_arn, None);
        let td = &spec.task_definition;
        assert_eq!(td.family, None, "the service's name");
        assert!(td.requires_compatibilities.is_empty(), "implied by FARGATE");
        let c = &td.container_definitions[0];
        assert_eq!((c.cpu, c.essential), (None, None));
        assert_eq!(c.port_mappings, [port(8000)]);
        let hc = c.health_check.as_ref().unwrap();
        assert_eq!((hc.interval, hc.timeout, hc.retries), (None, None, None));
        assert_eq!(hc.start_period, Some(10));
        assert_eq!(
            c.secrets.0[0].value_from,
            "arn:aws:ssm:us-east-1:123456789012:parameter/db"
        );
        let tag_keys: Vec<&str> = spec.tags.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(
            tag_keys,
            ["team"],
            "ownership and aws: tags are not written"
        );
        assert_round_trips("fargate", &live, &revision);
    }

    #[test]
    fn conversion_table_round_trips_through_the_diff_normalization() {
        type Edit = fn(&mut model::Service, &mut model::RegisteredTaskDefinition);
        let cases: &[(&str, Edit)] = &[
            ("as described", |_, _| {}),
            ("another family", |_, r| {
                r.definition.family = Some("api-legacy".into())
            }),
            ("no load balancer", |s, _| s.load_balancers.clear()),
            ("public IP, other percentages", |s, _| {
                let n = s.network_configuration.as_mut().unwrap();
                n.awsvpc_configuration.assign_public_ip = Some(EnabledDisabled::Enabled);
                let d = s.deployment_configuration.as_mut().unwrap();
                d.maximum_percent = Some(150);
                d.minimum_healthy_percent = Some(50);
            }),
            ("pinned platform, grace period, exec", |s, _| {
                s.platform_version = Some("1.4.0".into());
                s.health_check_grace_period_seconds = Some(60);
                s.enable_execute_command = true;
                s.propagate_tags = Some(PropagateTags::Service);
            }),
            ("capacity providers", |s, _| {
                s.launch_type = None;
                s.capacity_provider_strategy = vec![model::CapacityProviderStrategyItem {
                    capacity_provider: "FARGATE_SPOT".into(),
                    weight: Some(1),
                    base: Some(0),
                }];
            }),
            ("EC2 bridge, dynamic host port", |s, r| {
                s.launch_type = Some(LaunchType::Ec2);
                s.network_configuration = None;
                s.platform_version = None;
                r.definition.requires_compatibilities = vec![Compatibility::Ec2];
                r.definition.network_mode = Some(NetworkMode::Bridge);
                r.definition.cpu = None;
                r.definition.memory = None;
                let c = &mut r.definition.container_definitions[0];
                c.memory = Some(256);
                c.port_mappings[0].host_port = Some(0);
            }),
            ("a custom container health check", |_, r| {
                let hc = r.definition.container_definitions[0]
                    .health_check
                    .as_mut()
                    .unwrap();
                hc.interval = Some(10);
                hc.retries = Some(5);
            }),
            ("a target group managed elsewhere", |s, _| {
                s.load_balancers[0].target_group_arn =
                    "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/other/1".into();
            }),
        ];
        for (name, edit) in cases {
            let mut live = fargate_service();
            let mut revision = fargate_revision("api");
            edit(&mut live, &mut revision);
            assert_round_trips(name, &live, &revision);
        }
    }

    #[test]
    fn a_code_deploy_service_is_not_imported() {
        let mut live = fargate_service();
        live.deployment_controller = Some(DeploymentControllerType::CodeDeploy);
        let e = service(
            &live,
            "shop",
            &fargate_revision("api"),
            &BTreeMap::new(),
            false,
        )
        .unwrap_err();
        assert!(e.to_string().contains("CODE_DEPLOY"), "{e}");
    }

    /// An HTTP target group as DescribeTargetGroups returns it.
    fn fargate_target_group() -> model::TargetGroup {
        model::TargetGroup {
            name: "shop-api".into(),
            arn: TG_ARN.into(),
            protocol: Some(TargetGroupProtocol::Http),
            protocol_version: Some(ProtocolVersion::Http1),
            port: Some(8000),
            vpc_id: Some("vpc-1".into()),
            target_type: Some(TargetType::Ip),
            ip_address_type: Some(IpAddressType::Ipv4),
            health_check: TargetGroupHealthCheck {
                enabled: Some(true),
                protocol: Some(TargetGroupProtocol::Http),
                port: Some(Scalar("traffic-port".into())),
                path: Some("/health".into()),
                interval_seconds: Some(15),
                timeout_seconds: Some(5),
                healthy_threshold_count: Some(2),
                unhealthy_threshold_count: Some(2),
                matcher: Some(Matcher {
                    http_code: Some("200-299".into()),
                    grpc_code: None,
                }),
            },
            load_balancer_arns: vec![],
            target_control_port: None,
        }
    }

    #[test]
    fn target_group_defaults_are_dropped_and_the_rest_round_trips() {
        let live = fargate_target_group();
        let attrs: BTreeMap<String, String> = [
            ("deregistration_delay.timeout_seconds", "30"),
            ("stickiness.enabled", "false"),
            ("slow_start.duration_seconds", "0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let tags: Tags = [
            ("team".to_string(), "shop".to_string()),
            ("ecs-operator/source".into(), "x.yaml".into()),
        ]
        .into();
        let m = target_group(&live, &attrs, &tags, true);
        let spec = m.as_target_group().unwrap();
        assert_eq!(spec.protocol_version, None);
        assert_eq!(spec.ip_address_type, None);
        let hc = spec.health_check.as_ref().unwrap();
        assert_eq!(hc.path.as_deref(), Some("/health"));
        assert_eq!(hc.interval_seconds, Some(15));
        assert_eq!(
            (hc.enabled, hc.timeout_seconds, hc.port.as_ref()),
            (None, None, None)
        );
        let keys: Vec<&String> = spec.attributes.keys().collect();
        assert_eq!(keys, ["deregistration_delay.timeout_seconds"]);
        assert_eq!(m.metadata.annotations[ANNOTATION_ADOPT].0, "true");
        let desired = target_group_views::desired_target_group(spec, tag_map(&spec.tags));
        let live_view = target_group_views::live_target_group(&live, &attrs, &tags, &desired);
        assert_eq!(compare(&live_view, &desired), vec![]);
    }

    #[test]
    fn rendering_uses_the_manifest_format_and_map_shorthands_and_loads_back() {
        let tgs: BTreeMap<String, String> = [(TG_ARN.to_string(), "shop-api".to_string())].into();
        let m = service(
            &fargate_service(),
            "shop",
            &fargate_revision("api"),
            &tgs,
            true,
        )
        .unwrap();
        let yaml = render(&m).unwrap();
        assert!(
            yaml.starts_with("apiVersion: ecs-operator/v1\nkind: Service\n"),
            "{yaml}"
        );
        assert!(yaml.contains("ecs-operator/adopt: 'true'"), "{yaml}");
        assert!(yaml.contains("LOG_LEVEL: info"), "{yaml}");
        assert!(
            yaml.contains("DB_URL: arn:aws:ssm:us-east-1:123456789012:parameter/db"),
            "{yaml}"
        );
        assert!(yaml.contains("team: shop"), "{yaml}");
        let tg = fargate_target_group();
        let tg_yaml = render(&target_group(&tg, &BTreeMap::new(), &Tags::new(), false)).unwrap();
        assert!(tg_yaml.contains("matcher: 200-299"), "{tg_yaml}");
        let loaded = crate::manifest::load_str(std::path::Path::new("tg.yaml"), &tg_yaml);
        assert!(
            loaded.diagnostics.is_empty(),
            "{:?}\n{tg_yaml}",
            loaded.diagnostics
        );
        let loaded = crate::manifest::load_str(std::path::Path::new("api.yaml"), &yaml);
        assert!(
            loaded.diagnostics.is_empty(),
            "{:?}\n{yaml}",
            loaded.diagnostics
        );
        assert_eq!(*loaded.documents[0].manifest, m);
    }
}
