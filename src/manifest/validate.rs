//! (Over 600 lines: one rule per function; the cross-document rules need the whole set, and
//! splitting would put the order the rules run in out of sight.)
//!
//! Validation of loaded manifests, before anything touches AWS: rules inside one document
//! (Fargate sizes, networking, containers, load balancer wiring) and across documents
//! (duplicates, references to target groups, task definition families). Every finding names
//! file, line and field.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use super::cluster::{ClusterSpec, SETTINGS};
use super::diagnostic::{self, Diagnostic};
use super::document::{KNOWN_ANNOTATIONS, Kind, ResourceKey};
use super::fargate::{self, SizeError};
use super::load::{DocLines, Document, Loaded};
use super::path::FieldPath;
use super::service::{DeploymentControllerType, LaunchType, SchedulingStrategy, ServiceSpec};
use super::target_group::{self, TargetGroupProtocol, TargetGroupSpec, TargetType};
use super::task_definition::{NetworkMode, TaskDefinition};

/// Words that make an environment variable name look like it holds a secret.
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
    "DSN",
    "DATABASE_URL",
];

/// Validates every loaded document and returns the loader's diagnostics plus the validation
/// findings, sorted by file and line.
pub fn validate(loaded: &Loaded) -> Vec<Diagnostic> {
    validate_with(loaded, None)
}

/// [`validate`], taking each unchanged document's own findings from `cache` (and leaving this
/// validation's there for the next): the same result, with the per-document rules run only
/// for documents that changed or whose target groups did.
pub fn validate_cached(loaded: &Loaded, cache: &mut ValidationCache) -> Vec<Diagnostic> {
    validate_with(loaded, Some(cache))
}

/// Both: with no cache (a one-off validation), nothing is recorded or kept.
fn validate_with(loaded: &Loaded, cache: Option<&mut ValidationCache>) -> Vec<Diagnostic> {
    let mut out = loaded.diagnostics.clone();
    let ctx = Context::new(loaded, cache.is_some());
    let rules = |doc: &Document, out: &mut Vec<Diagnostic>| {
        super::limits::check(doc, out);
        let mut r = Report {
            doc,
            out,
            lines: OnceCell::new(),
        };
        r.metadata();
        match &doc.manifest.spec {
            super::document::Spec::Cluster(c) => r.cluster(c),
            super::document::Spec::TargetGroup(t) => r.target_group(t),
            super::document::Spec::ListenerRule(l) => r.listener_rule(l, &ctx),
            super::document::Spec::Service(s) => r.service(s, &ctx),
        }
    };
    match cache {
        Some(cache) => {
            cache.begin();
            for doc in &loaded.documents {
                out.extend(cache.findings(doc, &ctx, |out| rules(doc, out)));
            }
            cache.end();
        }
        None => {
            for doc in &loaded.documents {
                rules(doc, &mut out);
            }
        }
    }
    cross_document(loaded, &mut out);
    listener_rule::unique_priorities(loaded, &mut out);
    diagnostic::sort(&mut out);
    out
}

mod containers;
mod context;
// A Service's spec.autoScaling.
mod listener_rule;
mod scaling;
mod service_fields;
mod strategies;

pub use context::ValidationCache;
use context::{Context, TargetGroupRef};

/// A field path written as a dotted string or built as a [`FieldPath`].
trait AsPath {
    fn as_path(&self) -> FieldPath;
}

impl AsPath for &str {
    fn as_path(&self) -> FieldPath {
        FieldPath::parse(self)
    }
}

impl AsPath for &String {
    fn as_path(&self) -> FieldPath {
        FieldPath::parse(self)
    }
}

impl AsPath for FieldPath {
    fn as_path(&self) -> FieldPath {
        self.clone()
    }
}

/// Emits findings for one document.
struct Report<'a> {
    doc: &'a Document,
    out: &'a mut Vec<Diagnostic>,
    /// The document's lines, read for its first finding and dropped with the report.
    lines: OnceCell<DocLines>,
}

impl Report<'_> {
    fn line_of(&self, path: &FieldPath) -> u32 {
        self.lines.get_or_init(|| self.doc.lines()).line_of(path)
    }

    fn error(&mut self, path: impl AsPath, rule: &'static str, message: impl Into<String>) {
        let path = path.as_path();
        let line = self.line_of(&path);
        self.out
            .push(Diagnostic::error(&self.doc.file, line, path, rule, message));
    }

    fn warn(&mut self, path: impl AsPath, rule: &'static str, message: impl Into<String>) {
        let path = path.as_path();
        let line = self.line_of(&path);
        self.out.push(Diagnostic::warning(
            &self.doc.file,
            line,
            path,
            rule,
            message,
        ));
    }

    fn metadata(&mut self) {
        let m = &self.doc.manifest.metadata;
        for (key, value) in &m.annotations {
            if !key.starts_with("ecs-operator/") {
                continue;
            }
            let path = FieldPath::parse("metadata.annotations").key(key);
            if !KNOWN_ANNOTATIONS.contains(&key.as_str()) {
                self.warn(
                    path,
                    "annotation",
                    format!(
                        "unknown annotation `{key}`; known: {}",
                        KNOWN_ANNOTATIONS.join(", ")
                    ),
                );
            } else if value.0 != "true" && value.0 != "false" {
                self.error(
                    path,
                    "annotation",
                    format!("`{key}` must be \"true\" or \"false\", got {:?}", value.0),
                );
            }
        }
        let (kind, name) = (self.doc.manifest.kind(), m.name.as_str());
        let problem = match kind {
            Kind::TargetGroup => target_group_name_problem(name),
            Kind::Cluster | Kind::Service | Kind::ListenerRule => ecs_name_problem(name),
        };
        if let Some(p) = problem {
            self.error("metadata.name", "name", format!("{kind} name {name:?} {p}"));
        }
    }

    fn cluster(&mut self, c: &ClusterSpec) {
        for (i, s) in c.settings.iter().enumerate() {
            match SETTINGS.iter().find(|(n, _)| *n == s.name) {
                None => self.error(
                    &format!("spec.settings[{i}]"),
                    "cluster-setting",
                    format!(
                        "unknown cluster setting `{}`; known: containerInsights",
                        s.name
                    ),
                ),
                Some((_, values)) if !values.contains(&s.value.0.as_str()) => self.error(
                    &format!("spec.settings[{i}]"),
                    "cluster-setting",
                    format!(
                        "`{}` must be one of {}, got {:?}",
                        s.name,
                        values.join(", "),
                        s.value.0
                    ),
                ),
                Some(_) => {}
            }
        }
        for (i, item) in c.default_capacity_provider_strategy.iter().enumerate() {
            if !c.capacity_providers.contains(&item.capacity_provider) {
                self.error(
                    &format!("spec.defaultCapacityProviderStrategy[{i}].capacityProvider"),
                    "capacity-provider",
                    format!(
                        "capacity provider `{}` is not in spec.capacityProviders",
                        item.capacity_provider
                    ),
                );
            }
        }
    }

    fn target_group(&mut self, t: &TargetGroupSpec) {
        let lambda = t.target_type == Some(TargetType::Lambda);
        if !lambda {
            for (field, missing) in [
                ("protocol", t.protocol.is_none()),
                ("port", t.port.is_none()),
                ("vpcId", t.vpc_id.is_none()),
            ] {
                if missing {
                    self.error(
                        &format!("spec.{field}"),
                        "required",
                        format!("missing field `{field}` (required unless targetType is lambda)"),
                    );
                }
            }
        }
        if let Some(port) = t.port
            && !(1..=65535).contains(&port)
        {
            self.error(
                "spec.port",
                "range",
                format!("port {port} is not in 1..65535"),
            );
        }
        if t.protocol_version.is_some()
            && !matches!(
                t.protocol,
                Some(TargetGroupProtocol::Http | TargetGroupProtocol::Https)
            )
        {
            self.error(
                "spec.protocolVersion",
                "protocol-version",
                "protocolVersion needs protocol HTTP or HTTPS",
            );
        }
        if let Some(hc) = &t.health_check {
            let ranges = [
                ("intervalSeconds", hc.interval_seconds, 5, 300),
                ("timeoutSeconds", hc.timeout_seconds, 2, 120),
                ("healthyThresholdCount", hc.healthy_threshold_count, 2, 10),
                (
                    "unhealthyThresholdCount",
                    hc.unhealthy_threshold_count,
                    2,
                    10,
                ),
            ];
            for (field, value, lo, hi) in ranges {
                if let Some(v) = value
                    && !(lo..=hi).contains(&v)
                {
                    self.error(
                        &format!("spec.healthCheck.{field}"),
                        "range",
                        format!("{field} {v} is not in {lo}..{hi}"),
                    );
                }
            }
            let interval = hc.interval_seconds.unwrap_or(30);
            if let Some(timeout) = hc.timeout_seconds
                && timeout >= interval
            {
                self.error(
                    "spec.healthCheck.timeoutSeconds",
                    "range",
                    format!(
                        "timeoutSeconds {timeout} must be less than intervalSeconds {interval}"
                    ),
                );
            }
            if let Some(path) = &hc.path
                && !path.starts_with('/')
            {
                self.error(
                    "spec.healthCheck.path",
                    "health-check-path",
                    "path must start with /",
                );
            }
        }
    }

    fn service(&mut self, s: &ServiceSpec, ctx: &Context<'_>) {
        self.deployment(s);
        if s.launch_type.is_some() && !s.capacity_provider_strategy.is_empty() {
            self.error(
                "spec.capacityProviderStrategy",
                "launch-type",
                "launchType and capacityProviderStrategy are exclusive; set one",
            );
        }
        if s.scheduling_strategy == Some(SchedulingStrategy::Daemon) {
            if s.desired_count.is_some() {
                self.error(
                    "spec.desiredCount",
                    "daemon",
                    "a DAEMON service runs one task per instance; remove desiredCount",
                );
            }
            if s.is_fargate() {
                self.error(
                    "spec.schedulingStrategy",
                    "daemon",
                    "Fargate does not support DAEMON",
                );
            }
        }
        if ecs_name_problem(&s.cluster).is_some() {
            self.error(
                "spec.cluster",
                "name",
                format!("cluster name {:?} is not valid", s.cluster),
            );
        }
        if let Some(name) = &s.task_definition.registered {
            // What the revision holds is known only once it is read: ECS checks it then.
            self.registered_task_definition(name);
        } else {
            self.task_definition(s);
            self.networking(s);
            if s.is_fargate() {
                self.fargate(s);
            }
            self.containers(s);
        }
        self.service_fields(s);
        self.auto_scaling(s);
        self.load_balancers(s, ctx);
        self.strategies(s, ctx);
    }

    fn deployment(&mut self, s: &ServiceSpec) {
        if let Some(c) = &s.deployment_controller
            && c.kind != DeploymentControllerType::Ecs
        {
            self.error(
                "spec.deploymentController.type",
                "deployment-controller",
                "only the ECS deployment controller (rolling update) is supported; blue/green by \
                 CODE_DEPLOY and EXTERNAL controllers would fight the operator",
            );
        }
        let dc = s.deployment_configuration.clone().unwrap_or_default();
        let daemon = s.scheduling_strategy == Some(SchedulingStrategy::Daemon);
        let min = dc
            .minimum_healthy_percent
            .unwrap_or(if daemon { 0 } else { 100 });
        let max = dc.maximum_percent.unwrap_or(if daemon { 100 } else { 200 });
        if min > 100 {
            self.error(
                "spec.deploymentConfiguration.minimumHealthyPercent",
                "range",
                format!("minimumHealthyPercent {min} is over 100"),
            );
        }
        if max < 100 && !daemon {
            self.error(
                "spec.deploymentConfiguration.maximumPercent",
                "range",
                format!("maximumPercent {max} is under 100"),
            );
        }
        if let Some(desired) = s.desired_count.filter(|d| *d > 0) {
            // ECS keeps at least ceil(desired * min%) tasks and runs at most floor(desired * max%).
            // In u64: desiredCount up to 2^32 times a percentage overflows u32.
            let (d, lo, hi) = (u64::from(desired), u64::from(min), u64::from(max));
            let floor_min = (d * lo).div_ceil(100);
            let ceiling = d * hi / 100;
            if min <= 100 && max >= 100 && ceiling <= floor_min && !daemon {
                self.error(
                    "spec.deploymentConfiguration",
                    "deployment-deadlock",
                    format!(
                        "with desiredCount {desired}, minimumHealthyPercent {min} and maximumPercent \
                         {max} ECS can neither start a new task nor stop an old one, so a deployment \
                         never progresses"
                    ),
                );
            }
            if floor_min == 0 {
                self.warn(
                    "spec.deploymentConfiguration.minimumHealthyPercent",
                    "zero-capacity",
                    format!(
                        "minimumHealthyPercent {min} lets a deployment stop every running task \
                         (desiredCount {desired}); the service can go down during a rollout"
                    ),
                );
            }
        }
        let breaker_on = dc
            .deployment_circuit_breaker
            .as_ref()
            .is_some_and(|b| b.enable);
        if !breaker_on && !daemon {
            self.warn(
                "spec.deploymentConfiguration.deploymentCircuitBreaker",
                "circuit-breaker",
                "the deployment circuit breaker is off: a broken image crash-loops until someone \
                 notices; set {enable: true, rollback: true}",
            );
        }
    }

    /// A registered revision named as CreateService names it: `family`, `family:revision` or
    /// a task definition ARN.
    fn registered_task_definition(&mut self, name: &str) {
        let parts = super::task_definition::RevisionName::parse(name);
        let arn_ok = !parts.arn || (name.starts_with("arn:") && name.contains(":ecs:"));
        let revision_ok = parts.revision.is_none() || parts.number().is_some();
        let family = parts.family;
        if !arn_ok || !revision_ok || ecs_name_problem(family).is_some() {
            self.error(
                "spec.taskDefinition",
                "task-definition-ref",
                format!(
                    "{name:?} names no task definition revision: write `family:revision`, \
                     `family` (its latest ACTIVE revision) or a task definition ARN, or the \
                     definition itself"
                ),
            );
        }
    }

    fn task_definition(&mut self, s: &ServiceSpec) {
        let td = &s.task_definition;
        let base = "spec.taskDefinition";
        if td.container_definitions.is_empty() {
            self.error(
                &format!("{base}.containerDefinitions"),
                "containers",
                "a task definition needs at least one container",
            );
        }
        if let Some(f) = &td.family
            && ecs_name_problem(f).is_some()
        {
            self.error(
                &format!("{base}.family"),
                "name",
                format!("family {f:?} is not valid"),
            );
        }
        if let Some(e) = &td.ephemeral_storage
            && !(21..=200).contains(&e.size_in_gib)
        {
            self.error(
                &format!("{base}.ephemeralStorage.sizeInGiB"),
                "range",
                format!("sizeInGiB {} is not in 21..200", e.size_in_gib),
            );
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let volumes: HashSet<&str> = td.volumes.iter().map(|v| v.name.as_str()).collect();
        let awsvpc = td.network_mode == Some(NetworkMode::Awsvpc);
        for (i, c) in td.container_definitions.iter().enumerate() {
            let cp = format!("{base}.containerDefinitions[{i}]");
            if let Some(first) = seen.insert(c.name.as_str(), i) {
                self.error(
                    &format!("{cp}.name"),
                    "duplicate-container",
                    format!(
                        "container name `{}` is already used by containerDefinitions[{first}]",
                        c.name
                    ),
                );
            }
            self.image(&cp, &c.image);
            for (j, e) in c.environment.iter().enumerate() {
                let upper = e.name.to_ascii_uppercase();
                if SECRET_WORDS.iter().any(|w| upper.contains(w)) || upper.ends_with("_KEY") {
                    self.warn(
                        &format!("{cp}.environment[{j}]"),
                        "secret-in-environment",
                        format!(
                            "`{}` looks like a secret; environment values are stored in plain text \
                             in the task definition. Put it in `secrets` as an SSM or Secrets \
                             Manager ARN",
                            e.name
                        ),
                    );
                }
            }
            if td.memory.is_none() && c.memory.is_none() && c.memory_reservation.is_none() {
                self.error(
                    &format!("{cp}.memory"),
                    "container-memory",
                    "without task-level memory every container needs memory or memoryReservation",
                );
            }
            if let (Some(hard), Some(soft)) = (c.memory, c.memory_reservation)
                && soft > hard
            {
                self.error(
                    &format!("{cp}.memoryReservation"),
                    "container-memory",
                    format!("memoryReservation {soft} is over memory {hard}"),
                );
            }
            for (j, pm) in c.port_mappings.iter().enumerate() {
                let pp = format!("{cp}.portMappings[{j}]");
                match (pm.container_port, &pm.container_port_range) {
                    (None, None) => self.error(&pp, "port", "containerPort is required"),
                    (Some(p), _) if !(1..=65535).contains(&p) => self.error(
                        &format!("{pp}.containerPort"),
                        "range",
                        format!("containerPort {p} is not in 1..65535"),
                    ),
                    _ => {}
                }
                if awsvpc
                    && let (Some(host), Some(container)) = (pm.host_port, pm.container_port)
                    && host != container
                {
                    self.error(
                        &format!("{pp}.hostPort"),
                        "host-port",
                        format!(
                            "under awsvpc hostPort must equal containerPort ({container}) or be omitted"
                        ),
                    );
                }
            }
            for (j, d) in c.depends_on.iter().enumerate() {
                if td.container(&d.container_name).is_none() {
                    self.error(
                        &format!("{cp}.dependsOn[{j}].containerName"),
                        "container-ref",
                        format!(
                            "no container named `{}` in this task definition",
                            d.container_name
                        ),
                    );
                }
            }
            for (j, v) in c.volumes_from.iter().enumerate() {
                if td.container(&v.source_container).is_none() {
                    self.error(
                        &format!("{cp}.volumesFrom[{j}].sourceContainer"),
                        "container-ref",
                        format!(
                            "no container named `{}` in this task definition",
                            v.source_container
                        ),
                    );
                }
            }
            for (j, m) in c.mount_points.iter().enumerate() {
                if let Some(v) = &m.source_volume
                    && !volumes.contains(v.as_str())
                {
                    self.error(
                        &format!("{cp}.mountPoints[{j}].sourceVolume"),
                        "volume-ref",
                        format!("no volume named `{v}` in spec.taskDefinition.volumes"),
                    );
                }
            }
            if let Some(hc) = &c.health_check {
                let ranges = [
                    ("interval", hc.interval, 5, 300),
                    ("timeout", hc.timeout, 2, 60),
                    ("retries", hc.retries, 1, 10),
                    ("startPeriod", hc.start_period, 0, 300),
                ];
                for (field, value, lo, hi) in ranges {
                    if let Some(v) = value
                        && !(lo..=hi).contains(&v)
                    {
                        self.error(
                            &format!("{cp}.healthCheck.{field}"),
                            "range",
                            format!("{field} {v} is not in {lo}..{hi}"),
                        );
                    }
                }
            }
        }
        if !td.container_definitions.is_empty()
            && td
                .container_definitions
                .iter()
                .all(|c| c.essential == Some(false))
        {
            self.error(
                &format!("{base}.containerDefinitions"),
                "essential",
                "at least one container must be essential",
            );
        }
        self.task_size_sums(td);
    }

    fn task_size_sums(&mut self, td: &TaskDefinition) {
        let base = "spec.taskDefinition";
        if let Some(mem) = td.memory {
            let sum: u32 = td
                .container_definitions
                .iter()
                .map(|c| c.memory.or(c.memory_reservation).unwrap_or(0))
                .sum();
            if sum > mem.0 {
                self.error(
                    &format!("{base}.memory"),
                    "task-size",
                    format!(
                        "containers reserve {sum} MiB, more than the task's {} MiB",
                        mem.0
                    ),
                );
            }
        }
        if let Some(cpu) = td.cpu {
            let sum: u32 = td.container_definitions.iter().filter_map(|c| c.cpu).sum();
            if sum > cpu.0 {
                self.error(
                    &format!("{base}.cpu"),
                    "task-size",
                    format!(
                        "containers reserve {sum} CPU units, more than the task's {}",
                        cpu.0
                    ),
                );
            }
        }
    }

    fn image(&mut self, container_path: &str, image: &str) {
        let path = format!("{container_path}.image");
        if image.trim().is_empty() {
            self.error(&path, "image", "image is empty");
            return;
        }
        if image.contains("@sha256:") {
            return;
        }
        // The tag is after the last ':' that follows the last '/' (a registry may have a port).
        let last = image.rsplit('/').next().unwrap_or(image);
        match last.split_once(':') {
            None => self.warn(
                &path,
                "image-tag",
                format!("image `{image}` has no tag, so it means `latest`; pin a version or digest"),
            ),
            Some((_, "latest")) => self.warn(
                &path,
                "image-tag",
                format!("image `{image}` uses `latest`; pin a version or digest so a rollout is reproducible"),
            ),
            Some(_) => {}
        }
    }

    fn networking(&mut self, s: &ServiceSpec) {
        let awsvpc = s.task_definition.network_mode == Some(NetworkMode::Awsvpc);
        match (&s.network_configuration, awsvpc) {
            (None, true) => self.error(
                "spec.networkConfiguration",
                "network-configuration",
                "networkMode awsvpc needs spec.networkConfiguration.awsvpcConfiguration with subnets",
            ),
            (Some(n), true) if n.awsvpc_configuration.subnets.is_empty() => self.error(
                "spec.networkConfiguration.awsvpcConfiguration.subnets",
                "network-configuration",
                "awsvpcConfiguration needs at least one subnet",
            ),
            (Some(_), false) if !s.is_fargate() => self.error(
                "spec.networkConfiguration",
                "network-configuration",
                "networkConfiguration is only valid with networkMode awsvpc",
            ),
            _ => {}
        }
    }

    fn fargate(&mut self, s: &ServiceSpec) {
        let td = &s.task_definition;
        let base = "spec.taskDefinition";
        if td.network_mode != Some(NetworkMode::Awsvpc) {
            let got = match td.network_mode {
                None => "not set (ECS defaults to bridge)".to_string(),
                Some(m) => format!("{m:?}").to_lowercase(),
            };
            self.error(
                &format!("{base}.networkMode"),
                "fargate-network-mode",
                format!("Fargate needs networkMode awsvpc; it is {got}"),
            );
        }
        if s.launch_type == Some(LaunchType::Fargate)
            && !td.requires_compatibilities.is_empty()
            && !td.requires_fargate()
        {
            self.error(
                &format!("{base}.requiresCompatibilities"),
                "fargate-compatibility",
                "launchType FARGATE needs requiresCompatibilities to include FARGATE",
            );
        }
        match (td.cpu, td.memory) {
            (None, _) => self.error(
                &format!("{base}.cpu"),
                "fargate-size",
                "Fargate needs task-level cpu (for example \"256\" or \"1 vCPU\")",
            ),
            (_, None) => self.error(
                &format!("{base}.memory"),
                "fargate-size",
                "Fargate needs task-level memory (for example \"512\" or \"2 GB\")",
            ),
            (Some(cpu), Some(mem)) => match fargate::check(cpu.0, mem.0, td.is_windows()) {
                Ok(()) => {}
                Err(SizeError::Cpu { valid }) => self.error(
                    &format!("{base}.cpu"),
                    "fargate-size",
                    format!(
                        "cpu {} is not a Fargate size; use one of {}",
                        cpu.0,
                        valid.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                    ),
                ),
                Err(SizeError::Memory { valid }) => self.error(
                    &format!("{base}.memory"),
                    "fargate-size",
                    format!(
                        "memory {} MiB does not go with cpu {} on Fargate; with that cpu use {valid} MiB",
                        mem.0, cpu.0
                    ),
                ),
            },
        }
        if td.pid_mode == Some(super::task_definition::PidMode::Host) {
            self.error(
                &format!("{base}.pidMode"),
                "fargate-unsupported",
                "Fargate supports pidMode task only",
            );
        }
        if td.ipc_mode.is_some() {
            self.error(
                &format!("{base}.ipcMode"),
                "fargate-unsupported",
                "Fargate does not support ipcMode",
            );
        }
        if !td.placement_constraints.is_empty() {
            self.error(
                &format!("{base}.placementConstraints"),
                "fargate-unsupported",
                "Fargate does not support task placement constraints",
            );
        }
        if !s.placement_constraints.is_empty() || !s.placement_strategy.is_empty() {
            let field = if s.placement_constraints.is_empty() {
                "placementStrategy"
            } else {
                "placementConstraints"
            };
            self.error(
                &format!("spec.{field}"),
                "fargate-unsupported",
                "Fargate places tasks itself; placement constraints and strategies are EC2 only",
            );
        }
        for (i, v) in td.volumes.iter().enumerate() {
            if v.host.as_ref().is_some_and(|h| h.source_path.is_some()) {
                self.error(
                    &format!("{base}.volumes[{i}].host.sourcePath"),
                    "fargate-unsupported",
                    "Fargate has no host paths; use an empty bind mount (no sourcePath) or EFS",
                );
            }
        }
    }

    fn load_balancers(&mut self, s: &ServiceSpec, ctx: &Context<'_>) {
        let td = &s.task_definition;
        for (i, lb) in s.load_balancers.iter().enumerate() {
            let lp = format!("spec.loadBalancers[{i}]");
            match (&lb.target_group, &lb.target_group_arn) {
                (Some(_), Some(_)) | (None, None) => self.error(
                    &lp,
                    "load-balancer",
                    "set exactly one of targetGroup (a TargetGroup manifest name) or targetGroupArn",
                ),
                (Some(name), None) => match ctx.target_group(name) {
                    // A registered revision's network mode is not known here.
                    TargetGroupRef::Found(_) if td.registered.is_some() => {}
                    TargetGroupRef::Found(tg) => {
                        self.target_type_matches(&lp, name, tg, td.network_mode)
                    }
                    TargetGroupRef::Broken => {}
                    TargetGroupRef::Missing => self.error(
                        &format!("{lp}.targetGroup"),
                        "target-group-ref",
                        format!(
                            "no TargetGroup manifest named `{name}`; declare one, or use \
                             targetGroupArn for a target group managed elsewhere"
                        ),
                    ),
                },
                (None, Some(arn)) => {
                    if !arn.starts_with("arn:") || !arn.contains(":elasticloadbalancing:") {
                        self.error(
                            &format!("{lp}.targetGroupArn"),
                            "target-group-ref",
                            format!("{arn:?} is not an ELBv2 target group ARN"),
                        );
                    }
                }
            }
            match td.container(&lb.container_name) {
                // A registered revision's containers are not known here.
                _ if td.registered.is_some() => {}
                None => self.error(
                    &format!("{lp}.containerName"),
                    "load-balancer-container",
                    format!(
                        "no container named `{}` in spec.taskDefinition.containerDefinitions",
                        lb.container_name
                    ),
                ),
                Some(c)
                    if !c
                        .port_mappings
                        .iter()
                        .any(|p| p.container_port == Some(lb.container_port)) =>
                {
                    let ports: Vec<String> = c
                        .port_mappings
                        .iter()
                        .filter_map(|p| p.container_port.map(|p| p.to_string()))
                        .collect();
                    self.error(
                        &format!("{lp}.containerPort"),
                        "load-balancer-port",
                        format!(
                            "container `{}` has no portMapping with containerPort {} (it maps: {})",
                            c.name,
                            lb.container_port,
                            if ports.is_empty() {
                                "none".to_string()
                            } else {
                                ports.join(", ")
                            }
                        ),
                    );
                }
                Some(_) => {}
            }
        }
    }

    fn target_type_matches(
        &mut self,
        lp: &str,
        name: &str,
        tg: &TargetGroupSpec,
        mode: Option<NetworkMode>,
    ) {
        let want = if mode == Some(NetworkMode::Awsvpc) {
            TargetType::Ip
        } else {
            TargetType::Instance
        };
        let have = tg.target_type.unwrap_or(TargetType::Instance);
        if have != want {
            let why = if want == TargetType::Ip {
                "awsvpc tasks register by IP, so the target group needs targetType ip"
            } else {
                "bridge and host mode tasks register by instance, so the target group needs targetType instance"
            };
            self.error(
                &format!("{lp}.targetGroup"),
                "target-type",
                format!(
                    "target group `{name}` has targetType {}; {why}",
                    target_type_name(have)
                ),
            );
        }
    }
}

/// The API spelling of a target type.
fn target_type_name(t: TargetType) -> &'static str {
    match t {
        TargetType::Instance => "instance",
        TargetType::Ip => "ip",
        TargetType::Lambda => "lambda",
        TargetType::Alb => "alb",
    }
}

/// Duplicate names and task definition families shared by services with different content.
fn cross_document(loaded: &Loaded, out: &mut Vec<Diagnostic>) {
    let mut first: HashMap<ResourceKey, &Document> = HashMap::with_capacity(loaded.documents.len());
    let mut families: HashMap<String, &Document> = HashMap::with_capacity(loaded.documents.len());
    for doc in &loaded.documents {
        let key = doc.manifest.key();
        if let Some(prev) = first.get(&key) {
            let path = FieldPath::parse("metadata.name");
            out.push(Diagnostic::error(
                &doc.file,
                doc.line_of(&path),
                path,
                "duplicate",
                format!(
                    "{key} is already defined at {}:{}",
                    prev.file.display(),
                    prev.line
                ),
            ));
            continue;
        }
        first.insert(key, doc);
        let Some(svc) = doc
            .manifest
            .as_service()
            .filter(|s| s.task_definition.registered.is_none())
        else {
            continue;
        };
        let family = svc
            .task_definition
            .family
            .clone()
            .unwrap_or_else(|| doc.manifest.metadata.name.clone());
        match families.get(&family) {
            Some(prev)
                if prev.manifest.as_service().map(|s| &s.task_definition)
                    != Some(&svc.task_definition) =>
            {
                let path = FieldPath::parse("spec.taskDefinition.family");
                out.push(Diagnostic::error(
                    &doc.file,
                    doc.line_of(&path),
                    path,
                    "family-conflict",
                    format!(
                        "task definition family `{family}` is also used by {} ({}:{}) with different \
                         content; each apply would register a new revision for the other. Set a \
                         distinct spec.taskDefinition.family",
                        prev.manifest.key(),
                        prev.file.display(),
                        prev.line
                    ),
                ));
            }
            Some(_) => {}
            None => {
                families.insert(family, doc);
            }
        }
    }
}

/// Why an ECS cluster or service name is invalid (1-255 letters, digits, `-`, `_`).
fn ecs_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > 255 {
        return Some("must be 1 to 255 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Some("may contain only letters, digits, hyphens and underscores".into());
    }
    None
}

/// Why a target group name is invalid (1-32 letters, digits and inner hyphens).
fn target_group_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > target_group::MAX_NAME_LEN {
        return Some(format!(
            "is {} characters; ELBv2 allows at most {}",
            name.len(),
            target_group::MAX_NAME_LEN
        ));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Some("may contain only letters, digits and hyphens".into());
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("must not begin or end with a hyphen".into());
    }
    if name.starts_with("internal-") {
        return Some("must not begin with \"internal-\"".into());
    }
    None
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
