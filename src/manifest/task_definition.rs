//! The task definition blueprint inlined in a Service manifest (`spec.taskDefinition`): every
//! member of ECS RegisterTaskDefinition at every depth, with its field names and shapes, so
//! JSON from `aws ecs describe-task-definition` can be pasted in. The types are generated from
//! the AWS API model ([`super::generated`], by codegen/shapes.py); this module adds what the
//! operator knows about them.

use schemars::JsonSchema;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use super::generated::{
    AppProtocol, Capabilities, Compatibility, ContainerDefinition, ContainerDependency,
    ContainerRestartPolicy, CpuArchitecture, DependencyCondition, Device, DeviceCgroupPermission,
    DockerVolumeConfiguration, EfsAuthorizationConfig, EfsAuthorizationConfigIam,
    EfsVolumeConfiguration, EnabledDisabled, EnvironmentFile, EnvironmentFileType,
    EphemeralStorage, FirelensConfiguration, FirelensConfigurationType,
    FsxWindowsFileServerAuthorizationConfig, FsxWindowsFileServerVolumeConfiguration, HealthCheck,
    HostEntry, HostVolume, InferenceAccelerator, IpcMode, LinuxParameters, LogConfiguration,
    LogDriver, MountPoint, NetworkMode, OsFamily, PidMode, PortMapping, ProxyConfiguration,
    ProxyConfigurationType, RepositoryCredentials, ResourceRequirement, ResourceType,
    RuntimePlatform, S3FilesVolumeConfiguration, Scope, SystemControl, TaskDefinition,
    TaskDefinitionPlacementConstraintType, TaskPlacementConstraint, Tmpfs, TransportProtocol,
    Ulimit, UlimitName, VersionConsistency, Volume, VolumeFrom,
};

/// `deserialize_with` for `spec.taskDefinition`: a definition (a map), or a registered
/// revision named by a string (`family:revision`, `family` or an ARN), read as an empty
/// definition with [`TaskDefinition::registered`] set.
pub fn inline_or_registered<'de, D: Deserializer<'de>>(d: D) -> Result<TaskDefinition, D::Error> {
    struct Either;
    impl<'de> Visitor<'de> for Either {
        type Value = TaskDefinition;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(
                "a task definition (a map), or a registered revision: family:revision, \
                 family or ARN",
            )
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TaskDefinition, E> {
            Ok(TaskDefinition {
                registered: Some(v.to_string()),
                ..TaskDefinition::default()
            })
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TaskDefinition, A::Error> {
            let mut td =
                TaskDefinition::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            // serde grows a list without knowing its length (room for 4 containers of about a
            // kilobyte each for one or two): the manifest is kept for the life of the load.
            td.container_definitions.shrink_to_fit();
            Ok(td)
        }
    }
    d.deserialize_any(Either)
}

/// `serialize_with` for `spec.taskDefinition`: a registered revision as its name, so two
/// manifests naming different revisions never hash or print alike.
pub fn serialize_inline_or_registered<S: Serializer>(
    td: &TaskDefinition,
    s: S,
) -> Result<S::Ok, S::Error> {
    match &td.registered {
        Some(name) => s.serialize_str(name),
        None => td.serialize(s),
    }
}

/// The JSON Schema of `spec.taskDefinition` (schema only: [`inline_or_registered`] reads it):
/// a string names a registered revision, anything else is a definition. Written as
/// `if`/`then`/`else` rather than `anyOf`, so a wrong value inside a definition is reported at
/// its own path (an `anyOf` would only say that no branch matched).
pub struct InlineOrRegistered;

impl JsonSchema for InlineOrRegistered {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TaskDefinitionOrRevision".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let definition = g.subschema_for::<TaskDefinition>();
        schemars::json_schema!({
            "description": "The task definition, inline, or a registered revision: \
                            `family:revision`, `family` (its latest ACTIVE revision) or an ARN.",
            "if": {"type": "string"},
            "then": {"type": "string", "minLength": 1},
            "else": definition
        })
    }
}

/// A registered revision's name as CreateService takes it (`family`, `family:revision`, or a
/// task definition ARN), in its parts. Read once here: validation, the plan and the
/// observer's cache take it apart the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevisionName<'a> {
    /// The family.
    pub family: &'a str,
    /// What follows the family's `:`, if anything (a revision number when the name is valid).
    pub revision: Option<&'a str>,
    /// Written as an ARN (`...:task-definition/family:revision`).
    pub arn: bool,
}

impl<'a> RevisionName<'a> {
    /// The parts of `name`.
    pub fn parse(name: &'a str) -> Self {
        let (short, arn) = match name.rsplit_once(":task-definition/") {
            Some((_, short)) => (short, true),
            None => (name, false),
        };
        let (family, revision) = short
            .split_once(':')
            .map_or((short, None), |(f, r)| (f, Some(r)));
        RevisionName {
            family,
            revision,
            arn,
        }
    }

    /// The revision number, when it is one (from 1).
    pub fn number(&self) -> Option<u32> {
        self.revision?.parse().ok().filter(|n| *n > 0)
    }
}

impl TaskDefinition {
    /// The family of the revision a manifest names (`family`, `family:3`, or the family of
    /// an ARN `...:task-definition/family:3`).
    pub fn registered_family(&self) -> Option<&str> {
        Some(RevisionName::parse(self.registered.as_deref()?).family)
    }
}

/// Fields ECS adds to a registered revision. They are accepted (so `describe-task-definition`
/// output can be pasted) and ignored with a warning.
pub const READ_ONLY_FIELDS: &[&str] = &[
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
];

impl TaskDefinition {
    /// Reads the output of `aws ecs describe-task-definition` pasted whole
    /// (`{taskDefinition: {...}, tags: [...]}`) as the definition inside with those tags. `Err`
    /// names what is wrong: other members beside `taskDefinition`, or tags on both levels.
    pub fn take_pasted(&mut self) -> Result<(), &'static str> {
        let Some(inner) = self.task_definition.take() else {
            return Ok(());
        };
        let mut inner = *inner;
        let outer = std::mem::take(self);
        let tags = outer.tags.clone();
        if (TaskDefinition {
            tags: Default::default(),
            ..outer
        }) != TaskDefinition::default()
        {
            return Err(
                "with describe-task-definition output pasted as `taskDefinition`, \
                        write every other field inside it (only `tags` may sit beside it)",
            );
        }
        if inner.task_definition.is_some() {
            return Err("`taskDefinition` is nested twice");
        }
        if !tags.is_empty() {
            if !inner.tags.is_empty() {
                return Err("tags are written both beside and inside the pasted `taskDefinition`");
            }
            inner.tags = tags;
        }
        *self = inner;
        Ok(())
    }

    /// True when the task definition itself asks for Fargate.
    pub fn requires_fargate(&self) -> bool {
        self.requires_compatibilities
            .contains(&Compatibility::Fargate)
    }

    /// The container with this name.
    pub fn container(&self, name: &str) -> Option<&ContainerDefinition> {
        self.container_definitions.iter().find(|c| c.name == name)
    }

    /// True when the runtime platform is a Windows family.
    pub fn is_windows(&self) -> bool {
        self.runtime_platform
            .as_ref()
            .and_then(|p| p.operating_system_family)
            .is_some_and(|f| f != OsFamily::Linux)
    }
}

#[cfg(test)]
mod tests {
    use super::RevisionName;

    #[test]
    fn a_revision_name_comes_apart_in_each_form_create_service_takes() {
        for (name, family, revision, number, arn) in [
            ("web", "web", None, None, false),
            ("web:3", "web", Some("3"), Some(3), false),
            ("web:0", "web", Some("0"), None, false),
            ("web:latest", "web", Some("latest"), None, false),
            (
                "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
                "web",
                Some("3"),
                Some(3),
                true,
            ),
        ] {
            let parts = RevisionName::parse(name);
            assert_eq!(
                (parts.family, parts.revision, parts.number(), parts.arn),
                (family, revision, number, arn),
                "{name}"
            );
        }
    }
}
