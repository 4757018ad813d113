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
            TaskDefinition::deserialize(serde::de::value::MapAccessDeserializer::new(map))
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

impl TaskDefinition {
    /// The family of the revision a manifest names (`family`, `family:3`, or the family of
    /// an ARN `...:task-definition/family:3`).
    pub fn registered_family(&self) -> Option<&str> {
        let name = self.registered.as_deref()?;
        let name = name
            .rsplit_once(":task-definition/")
            .map_or(name, |(_, n)| n);
        Some(name.split_once(':').map_or(name, |(family, _)| family))
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
