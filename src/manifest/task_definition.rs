//! The task definition blueprint inlined in a Service manifest (`spec.taskDefinition`): every
//! member of ECS RegisterTaskDefinition at every depth, with its field names and shapes, so
//! JSON from `aws ecs describe-task-definition` can be pasted in. The types are generated from
//! the AWS API model ([`super::generated`], by codegen/shapes.py); this module adds what the
//! operator knows about them.

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
