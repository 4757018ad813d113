//! (Over 600 lines: the SDK has a builder per member of ~30 nested shapes, each mapped both
//! ways next to each other so that a field added on one side shows missing on the other.)
//!
//! Task definitions: the manifest [`TaskDefinition`] -> RegisterTaskDefinition input, and a
//! described `TaskDefinition` -> [`RegisteredTaskDefinition`].
//!
//! Every field of the manifest types is carried both ways. Values AWS fills in come back as AWS
//! sends them (container `cpu` 0, `essential` true, empty lists...): the kinds fill both sides
//! with `cloud::defaults` before comparing.
//! Lists the manifest leaves empty are not sent, and empty lists read back as empty.
//!
//! A described revision is read exactly or not at all: an SDK enum value the model does not
//! know fails the conversion with [`ErrorKind::Other`](crate::cloud::ErrorKind::Other) instead
//! of dropping a field, so the operator never decides to register a revision from a partial
//! picture. SDK fields the model has no place for (links, hostname, firelensConfiguration,
//! proxyConfiguration, docker volumes, ...) are not read.

use std::collections::HashMap;

use aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionInputBuilder;
use aws_sdk_ecs::types as sdk;

use super::convert::task::*;
use super::convert::{
    Conv, ConvError, i64_to_i32, non_empty, opt_i32, opt_u32, required, sorted_map, time, to_i32,
    to_u32,
};
use super::service::ecs_tags;
use crate::cloud::model::{RegisteredTaskDefinition, Tags};
use crate::manifest::shorthand::{NameValue, PairList, Scalar, Secret, StringMap};
use crate::manifest::task_definition::{
    Capabilities, ContainerDefinition, ContainerDependency, EfsAuthorizationConfig,
    EfsVolumeConfiguration, EnvironmentFile, EphemeralStorage, HealthCheck, HostVolume,
    LinuxParameters, LogConfiguration, MountPoint, PortMapping, RepositoryCredentials,
    RuntimePlatform, SystemControl, TaskDefinition, TaskPlacementConstraint, Tmpfs, Ulimit, Volume,
    VolumeFrom,
};
use crate::manifest::units::{TaskCpu, TaskMemory, parse_cpu, parse_memory};

// ---------------------------------------------------------------------------------------------
// Manifest -> RegisterTaskDefinition

/// The RegisterTaskDefinition input of `def` with `tags`. `def.family` must be set.
pub(super) fn register_input(
    def: &TaskDefinition,
    tags: &Tags,
) -> Conv<RegisterTaskDefinitionInputBuilder> {
    let family = def
        .family
        .clone()
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ConvError::invalid("the task definition has no family"))?;
    let containers = def
        .container_definitions
        .iter()
        .map(container_to_sdk)
        .collect::<Conv<Vec<_>>>()?;
    let volumes = def
        .volumes
        .iter()
        .map(volume_to_sdk)
        .collect::<Conv<Vec<_>>>()?;
    Ok(RegisterTaskDefinitionInputBuilder::default()
        .family(family)
        .set_requires_compatibilities(non_empty(
            def.requires_compatibilities
                .iter()
                .map(|c| compatibility_to_sdk(*c))
                .collect(),
        ))
        .set_network_mode(def.network_mode.map(network_mode_to_sdk))
        .set_cpu(def.cpu.map(|c| c.0.to_string()))
        .set_memory(def.memory.map(|m| m.0.to_string()))
        .set_task_role_arn(def.task_role_arn.clone())
        .set_execution_role_arn(def.execution_role_arn.clone())
        .set_runtime_platform(def.runtime_platform.as_ref().map(runtime_platform_to_sdk))
        .set_container_definitions(Some(containers))
        .set_volumes(non_empty(volumes))
        .set_ephemeral_storage(
            def.ephemeral_storage
                .as_ref()
                .map(ephemeral_storage_to_sdk)
                .transpose()?,
        )
        .set_pid_mode(def.pid_mode.map(pid_mode_to_sdk))
        .set_ipc_mode(def.ipc_mode.map(ipc_mode_to_sdk))
        .set_placement_constraints(non_empty(
            def.placement_constraints
                .iter()
                .map(placement_constraint_to_sdk)
                .collect(),
        ))
        .set_tags(non_empty(ecs_tags(tags))))
}

fn runtime_platform_to_sdk(p: &RuntimePlatform) -> sdk::RuntimePlatform {
    sdk::RuntimePlatform::builder()
        .set_cpu_architecture(p.cpu_architecture.map(cpu_architecture_to_sdk))
        .set_operating_system_family(
            p.operating_system_family
                .as_deref()
                .map(sdk::OsFamily::from),
        )
        .build()
}

fn ephemeral_storage_to_sdk(e: &EphemeralStorage) -> Conv<sdk::EphemeralStorage> {
    Ok(sdk::EphemeralStorage::builder()
        .size_in_gib(to_i32(e.size_in_gib, "ephemeralStorage.sizeInGiB")?)
        .build())
}

fn placement_constraint_to_sdk(
    c: &TaskPlacementConstraint,
) -> sdk::TaskDefinitionPlacementConstraint {
    sdk::TaskDefinitionPlacementConstraint::builder()
        .r#type(sdk::TaskDefinitionPlacementConstraintType::from(
            c.kind.as_str(),
        ))
        .set_expression(c.expression.clone())
        .build()
}

fn volume_to_sdk(v: &Volume) -> Conv<sdk::Volume> {
    Ok(sdk::Volume::builder()
        .name(&v.name)
        .set_host(v.host.as_ref().map(|h| {
            sdk::HostVolumeProperties::builder()
                .set_source_path(h.source_path.clone())
                .build()
        }))
        .set_efs_volume_configuration(
            v.efs_volume_configuration
                .as_ref()
                .map(efs_to_sdk)
                .transpose()?,
        )
        .build())
}

fn efs_to_sdk(e: &EfsVolumeConfiguration) -> Conv<sdk::EfsVolumeConfiguration> {
    sdk::EfsVolumeConfiguration::builder()
        .file_system_id(&e.file_system_id)
        .set_root_directory(e.root_directory.clone())
        .set_transit_encryption(e.transit_encryption.map(transit_encryption_to_sdk))
        .set_transit_encryption_port(opt_i32(e.transit_encryption_port, "transitEncryptionPort")?)
        .set_authorization_config(e.authorization_config.as_ref().map(|a| {
            sdk::EfsAuthorizationConfig::builder()
                .set_access_point_id(a.access_point_id.clone())
                .set_iam(a.iam.map(efs_iam_to_sdk))
                .build()
        }))
        .build()
        .map_err(built)
}

/// One container definition.
pub(super) fn container_to_sdk(c: &ContainerDefinition) -> Conv<sdk::ContainerDefinition> {
    Ok(sdk::ContainerDefinition::builder()
        .name(&c.name)
        .image(&c.image)
        .set_cpu(opt_i32(c.cpu, "cpu")?)
        .set_memory(opt_i32(c.memory, "memory")?)
        .set_memory_reservation(opt_i32(c.memory_reservation, "memoryReservation")?)
        .set_essential(c.essential)
        .set_port_mappings(non_empty(collect(&c.port_mappings, port_mapping_to_sdk)?))
        .set_environment(non_empty(
            c.environment.iter().map(key_value_to_sdk).collect(),
        ))
        .set_environment_files(non_empty(collect(&c.environment_files, env_file_to_sdk)?))
        .set_secrets(non_empty(collect(&c.secrets.0, secret_to_sdk)?))
        .set_log_configuration(c.log_configuration.as_ref().map(log_to_sdk).transpose()?)
        .set_health_check(
            c.health_check
                .as_ref()
                .map(health_check_to_sdk)
                .transpose()?,
        )
        .set_depends_on(non_empty(collect(&c.depends_on, dependency_to_sdk)?))
        .set_command(non_empty(c.command.clone()))
        .set_entry_point(non_empty(c.entry_point.clone()))
        .set_working_directory(c.working_directory.clone())
        .set_ulimits(non_empty(collect(&c.ulimits, ulimit_to_sdk)?))
        .set_linux_parameters(c.linux_parameters.as_ref().map(linux_to_sdk).transpose()?)
        .set_mount_points(non_empty(
            c.mount_points.iter().map(mount_point_to_sdk).collect(),
        ))
        .set_volumes_from(non_empty(
            c.volumes_from.iter().map(volume_from_to_sdk).collect(),
        ))
        .set_readonly_root_filesystem(c.readonly_root_filesystem)
        .set_user(c.user.clone())
        .set_stop_timeout(opt_i32(c.stop_timeout, "stopTimeout")?)
        .set_start_timeout(opt_i32(c.start_timeout, "startTimeout")?)
        .set_docker_labels(
            (!c.docker_labels.is_empty()).then(|| string_map_to_sdk(&c.docker_labels)),
        )
        .set_repository_credentials(
            c.repository_credentials
                .as_ref()
                .map(|r| {
                    sdk::RepositoryCredentials::builder()
                        .credentials_parameter(&r.credentials_parameter)
                        .build()
                        .map_err(built)
                })
                .transpose()?,
        )
        .set_system_controls(non_empty(
            c.system_controls
                .iter()
                .map(system_control_to_sdk)
                .collect(),
        ))
        .build())
}

/// Converts every item, stopping at the first failure.
fn collect<A, B>(items: &[A], f: impl Fn(&A) -> Conv<B>) -> Conv<Vec<B>> {
    items.iter().map(f).collect()
}

/// A builder error (a required member missing): the request cannot be sent.
fn built(e: aws_sdk_ecs::error::BuildError) -> ConvError {
    ConvError::invalid(e.to_string())
}

fn string_map_to_sdk(map: &StringMap) -> HashMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect()
}

fn port_mapping_to_sdk(p: &PortMapping) -> Conv<sdk::PortMapping> {
    Ok(sdk::PortMapping::builder()
        .set_name(p.name.clone())
        .set_container_port(opt_i32(p.container_port, "containerPort")?)
        .set_host_port(opt_i32(p.host_port, "hostPort")?)
        .set_protocol(p.protocol.map(transport_protocol_to_sdk))
        .set_app_protocol(p.app_protocol.map(app_protocol_to_sdk))
        .set_container_port_range(p.container_port_range.clone())
        .build())
}

fn key_value_to_sdk(nv: &NameValue) -> sdk::KeyValuePair {
    sdk::KeyValuePair::builder()
        .name(&nv.name)
        .value(&nv.value.0)
        .build()
}

fn env_file_to_sdk(f: &EnvironmentFile) -> Conv<sdk::EnvironmentFile> {
    sdk::EnvironmentFile::builder()
        .value(&f.value)
        .r#type(sdk::EnvironmentFileType::from(f.kind.as_str()))
        .build()
        .map_err(built)
}

fn secret_to_sdk(s: &Secret) -> Conv<sdk::Secret> {
    sdk::Secret::builder()
        .name(&s.name)
        .value_from(&s.value_from)
        .build()
        .map_err(built)
}

fn log_to_sdk(l: &LogConfiguration) -> Conv<sdk::LogConfiguration> {
    sdk::LogConfiguration::builder()
        .log_driver(log_driver_to_sdk(l.log_driver))
        .set_options((!l.options.is_empty()).then(|| string_map_to_sdk(&l.options)))
        .set_secret_options(non_empty(collect(&l.secret_options, secret_to_sdk)?))
        .build()
        .map_err(built)
}

fn health_check_to_sdk(h: &HealthCheck) -> Conv<sdk::HealthCheck> {
    sdk::HealthCheck::builder()
        .set_command(Some(h.command.clone()))
        .set_interval(opt_i32(h.interval, "healthCheck.interval")?)
        .set_timeout(opt_i32(h.timeout, "healthCheck.timeout")?)
        .set_retries(opt_i32(h.retries, "healthCheck.retries")?)
        .set_start_period(opt_i32(h.start_period, "healthCheck.startPeriod")?)
        .build()
        .map_err(built)
}

fn dependency_to_sdk(d: &ContainerDependency) -> Conv<sdk::ContainerDependency> {
    sdk::ContainerDependency::builder()
        .container_name(&d.container_name)
        .condition(condition_to_sdk(d.condition))
        .build()
        .map_err(built)
}

fn ulimit_to_sdk(u: &Ulimit) -> Conv<sdk::Ulimit> {
    sdk::Ulimit::builder()
        .name(sdk::UlimitName::from(u.name.as_str()))
        .soft_limit(i64_to_i32(u.soft_limit, "ulimits.softLimit")?)
        .hard_limit(i64_to_i32(u.hard_limit, "ulimits.hardLimit")?)
        .build()
        .map_err(built)
}

fn linux_to_sdk(l: &LinuxParameters) -> Conv<sdk::LinuxParameters> {
    Ok(sdk::LinuxParameters::builder()
        .set_capabilities(l.capabilities.as_ref().map(|c| {
            sdk::KernelCapabilities::builder()
                .set_add(non_empty(c.add.clone()))
                .set_drop(non_empty(c.drop.clone()))
                .build()
        }))
        .set_init_process_enabled(l.init_process_enabled)
        .set_shared_memory_size(opt_i32(l.shared_memory_size, "sharedMemorySize")?)
        .set_tmpfs(non_empty(collect(&l.tmpfs, tmpfs_to_sdk)?))
        .set_max_swap(opt_i32(l.max_swap, "maxSwap")?)
        .set_swappiness(opt_i32(l.swappiness, "swappiness")?)
        .build())
}

fn tmpfs_to_sdk(t: &Tmpfs) -> Conv<sdk::Tmpfs> {
    sdk::Tmpfs::builder()
        .container_path(&t.container_path)
        .size(to_i32(t.size, "tmpfs.size")?)
        .set_mount_options(non_empty(t.mount_options.clone()))
        .build()
        .map_err(built)
}

fn mount_point_to_sdk(m: &MountPoint) -> sdk::MountPoint {
    sdk::MountPoint::builder()
        .set_source_volume(m.source_volume.clone())
        .set_container_path(m.container_path.clone())
        .set_read_only(m.read_only)
        .build()
}

fn volume_from_to_sdk(v: &VolumeFrom) -> sdk::VolumeFrom {
    sdk::VolumeFrom::builder()
        .source_container(&v.source_container)
        .set_read_only(v.read_only)
        .build()
}

fn system_control_to_sdk(s: &SystemControl) -> sdk::SystemControl {
    sdk::SystemControl::builder()
        .namespace(&s.namespace)
        .value(&s.value)
        .build()
}

// ---------------------------------------------------------------------------------------------
// DescribeTaskDefinition -> model

/// A registered revision with its tags.
pub(super) fn registered_from_sdk(
    td: &sdk::TaskDefinition,
    tags: &[sdk::Tag],
) -> Conv<RegisteredTaskDefinition> {
    Ok(RegisteredTaskDefinition {
        arn: required(td.task_definition_arn(), "taskDefinitionArn")?.to_owned(),
        family: required(td.family(), "family")?.to_owned(),
        revision: to_u32(td.revision(), "revision")?,
        status: td
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        definition: definition_from_sdk(td)?,
        tags: super::service::tags_from_ecs(tags),
        registered_at: time(td.registered_at()),
    })
}

/// The definition as ECS stores it.
pub(super) fn definition_from_sdk(td: &sdk::TaskDefinition) -> Conv<TaskDefinition> {
    Ok(TaskDefinition {
        family: td.family().map(str::to_owned),
        requires_compatibilities: td
            .requires_compatibilities()
            .iter()
            .map(|c| {
                known(
                    c,
                    compatibility_from_sdk,
                    "requiresCompatibilities",
                    sdk::Compatibility::as_str,
                )
            })
            .collect::<Conv<_>>()?,
        network_mode: td
            .network_mode()
            .map(|n| {
                known(
                    n,
                    network_mode_from_sdk,
                    "networkMode",
                    sdk::NetworkMode::as_str,
                )
            })
            .transpose()?,
        cpu: td.cpu().map(task_cpu).transpose()?,
        memory: td.memory().map(task_memory).transpose()?,
        task_role_arn: td.task_role_arn().map(str::to_owned),
        execution_role_arn: td.execution_role_arn().map(str::to_owned),
        runtime_platform: td
            .runtime_platform()
            .map(runtime_platform_from_sdk)
            .transpose()?,
        container_definitions: collect(td.container_definitions(), container_from_sdk)?,
        volumes: collect(td.volumes(), volume_from_sdk)?,
        ephemeral_storage: td
            .ephemeral_storage()
            .map(|e| {
                Ok::<_, ConvError>(EphemeralStorage {
                    size_in_gib: to_u32(e.size_in_gib(), "ephemeralStorage.sizeInGiB")?,
                })
            })
            .transpose()?,
        pid_mode: td
            .pid_mode()
            .map(|p| known(p, pid_mode_from_sdk, "pidMode", sdk::PidMode::as_str))
            .transpose()?,
        ipc_mode: td
            .ipc_mode()
            .map(|p| known(p, ipc_mode_from_sdk, "ipcMode", sdk::IpcMode::as_str))
            .transpose()?,
        placement_constraints: td
            .placement_constraints()
            .iter()
            .map(|c| TaskPlacementConstraint {
                kind: c
                    .r#type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                expression: c.expression().map(str::to_owned),
            })
            .collect(),
    })
}

/// An SDK enum value the model must know: an error names the field and the value.
fn known<S, M>(
    value: &S,
    from: impl Fn(&S) -> Option<M>,
    field: &str,
    spelling: impl Fn(&S) -> &str,
) -> Conv<M> {
    from(value).ok_or_else(|| ConvError::unknown(field, spelling(value)))
}

fn task_cpu(s: &str) -> Conv<TaskCpu> {
    parse_cpu(s)
        .map(TaskCpu)
        .ok_or_else(|| ConvError::unknown("cpu", s))
}

fn task_memory(s: &str) -> Conv<TaskMemory> {
    parse_memory(s)
        .map(TaskMemory)
        .ok_or_else(|| ConvError::unknown("memory", s))
}

fn runtime_platform_from_sdk(p: &sdk::RuntimePlatform) -> Conv<RuntimePlatform> {
    Ok(RuntimePlatform {
        cpu_architecture: p
            .cpu_architecture()
            .map(|a| {
                known(
                    a,
                    cpu_architecture_from_sdk,
                    "runtimePlatform.cpuArchitecture",
                    sdk::CpuArchitecture::as_str,
                )
            })
            .transpose()?,
        operating_system_family: p.operating_system_family().map(|f| f.as_str().to_owned()),
    })
}

fn volume_from_sdk(v: &sdk::Volume) -> Conv<Volume> {
    Ok(Volume {
        name: required(v.name(), "volumes.name")?.to_owned(),
        host: v.host().map(|h| HostVolume {
            source_path: h.source_path().map(str::to_owned),
        }),
        efs_volume_configuration: v.efs_volume_configuration().map(efs_from_sdk).transpose()?,
    })
}

fn efs_from_sdk(e: &sdk::EfsVolumeConfiguration) -> Conv<EfsVolumeConfiguration> {
    Ok(EfsVolumeConfiguration {
        file_system_id: e.file_system_id().to_owned(),
        root_directory: e.root_directory().map(str::to_owned),
        transit_encryption: e
            .transit_encryption()
            .map(|t| {
                known(
                    t,
                    transit_encryption_from_sdk,
                    "transitEncryption",
                    sdk::EfsTransitEncryption::as_str,
                )
            })
            .transpose()?,
        transit_encryption_port: opt_u32(e.transit_encryption_port(), "transitEncryptionPort")?,
        authorization_config: e
            .authorization_config()
            .map(|a| {
                Ok::<_, ConvError>(EfsAuthorizationConfig {
                    access_point_id: a.access_point_id().map(str::to_owned),
                    iam: a
                        .iam()
                        .map(|i| {
                            known(
                                i,
                                efs_iam_from_sdk,
                                "authorizationConfig.iam",
                                sdk::EfsAuthorizationConfigIam::as_str,
                            )
                        })
                        .transpose()?,
                })
            })
            .transpose()?,
    })
}

/// One container definition as ECS stores it. `cpu` is always `Some` (ECS stores 0 when unset).
pub(super) fn container_from_sdk(c: &sdk::ContainerDefinition) -> Conv<ContainerDefinition> {
    Ok(ContainerDefinition {
        name: required(c.name(), "containerDefinitions.name")?.to_owned(),
        image: required(c.image(), "containerDefinitions.image")?.to_owned(),
        cpu: Some(to_u32(c.cpu(), "cpu")?),
        memory: opt_u32(c.memory(), "memory")?,
        memory_reservation: opt_u32(c.memory_reservation(), "memoryReservation")?,
        essential: c.essential(),
        port_mappings: collect(c.port_mappings(), port_mapping_from_sdk)?,
        environment: PairList(
            c.environment()
                .iter()
                .map(|kv| NameValue {
                    name: kv.name().unwrap_or_default().to_owned(),
                    value: Scalar(kv.value().unwrap_or_default().to_owned()),
                })
                .collect(),
        ),
        environment_files: c
            .environment_files()
            .iter()
            .map(|f| EnvironmentFile {
                value: f.value().to_owned(),
                kind: f.r#type().as_str().to_owned(),
            })
            .collect(),
        secrets: PairList(c.secrets().iter().map(secret_from_sdk).collect()),
        log_configuration: c.log_configuration().map(log_from_sdk).transpose()?,
        health_check: c.health_check().map(health_check_from_sdk).transpose()?,
        depends_on: collect(c.depends_on(), dependency_from_sdk)?,
        command: c.command().to_vec(),
        entry_point: c.entry_point().to_vec(),
        working_directory: c.working_directory().map(str::to_owned),
        ulimits: c.ulimits().iter().map(ulimit_from_sdk).collect(),
        linux_parameters: c.linux_parameters().map(linux_from_sdk).transpose()?,
        mount_points: c.mount_points().iter().map(mount_point_from_sdk).collect(),
        volumes_from: c
            .volumes_from()
            .iter()
            .map(|v| VolumeFrom {
                source_container: v.source_container().unwrap_or_default().to_owned(),
                read_only: v.read_only(),
            })
            .collect(),
        readonly_root_filesystem: c.readonly_root_filesystem(),
        user: c.user().map(str::to_owned),
        stop_timeout: opt_u32(c.stop_timeout(), "stopTimeout")?,
        start_timeout: opt_u32(c.start_timeout(), "startTimeout")?,
        docker_labels: string_map_from_sdk(c.docker_labels()),
        repository_credentials: c.repository_credentials().map(|r| RepositoryCredentials {
            credentials_parameter: r.credentials_parameter().to_owned(),
        }),
        system_controls: c
            .system_controls()
            .iter()
            .map(|s| SystemControl {
                namespace: s.namespace().unwrap_or_default().to_owned(),
                value: s.value().unwrap_or_default().to_owned(),
            })
            .collect(),
    })
}

fn string_map_from_sdk(map: Option<&HashMap<String, String>>) -> StringMap {
    sorted_map(map)
        .into_iter()
        .map(|(k, v)| (k, Scalar(v)))
        .collect()
}

fn port_mapping_from_sdk(p: &sdk::PortMapping) -> Conv<PortMapping> {
    Ok(PortMapping {
        name: p.name().map(str::to_owned),
        container_port: opt_u32(p.container_port(), "containerPort")?,
        host_port: opt_u32(p.host_port(), "hostPort")?,
        protocol: p
            .protocol()
            .map(|t| {
                known(
                    t,
                    transport_protocol_from_sdk,
                    "portMappings.protocol",
                    sdk::TransportProtocol::as_str,
                )
            })
            .transpose()?,
        app_protocol: p
            .app_protocol()
            .map(|a| {
                known(
                    a,
                    app_protocol_from_sdk,
                    "portMappings.appProtocol",
                    sdk::ApplicationProtocol::as_str,
                )
            })
            .transpose()?,
        container_port_range: p.container_port_range().map(str::to_owned),
    })
}

fn secret_from_sdk(s: &sdk::Secret) -> Secret {
    Secret {
        name: s.name().to_owned(),
        value_from: s.value_from().to_owned(),
    }
}

fn log_from_sdk(l: &sdk::LogConfiguration) -> Conv<LogConfiguration> {
    Ok(LogConfiguration {
        log_driver: known(
            l.log_driver(),
            log_driver_from_sdk,
            "logConfiguration.logDriver",
            sdk::LogDriver::as_str,
        )?,
        options: string_map_from_sdk(l.options()),
        secret_options: l.secret_options().iter().map(secret_from_sdk).collect(),
    })
}

fn health_check_from_sdk(h: &sdk::HealthCheck) -> Conv<HealthCheck> {
    Ok(HealthCheck {
        command: h.command().to_vec(),
        interval: opt_u32(h.interval(), "healthCheck.interval")?,
        timeout: opt_u32(h.timeout(), "healthCheck.timeout")?,
        retries: opt_u32(h.retries(), "healthCheck.retries")?,
        start_period: opt_u32(h.start_period(), "healthCheck.startPeriod")?,
    })
}

fn dependency_from_sdk(d: &sdk::ContainerDependency) -> Conv<ContainerDependency> {
    Ok(ContainerDependency {
        container_name: d.container_name().to_owned(),
        condition: known(
            d.condition(),
            condition_from_sdk,
            "dependsOn.condition",
            sdk::ContainerCondition::as_str,
        )?,
    })
}

fn ulimit_from_sdk(u: &sdk::Ulimit) -> Ulimit {
    Ulimit {
        name: u.name().as_str().to_owned(),
        soft_limit: i64::from(u.soft_limit()),
        hard_limit: i64::from(u.hard_limit()),
    }
}

fn linux_from_sdk(l: &sdk::LinuxParameters) -> Conv<LinuxParameters> {
    Ok(LinuxParameters {
        capabilities: l.capabilities().map(|c| Capabilities {
            add: c.add().to_vec(),
            drop: c.drop().to_vec(),
        }),
        init_process_enabled: l.init_process_enabled(),
        shared_memory_size: opt_u32(l.shared_memory_size(), "sharedMemorySize")?,
        tmpfs: collect(l.tmpfs(), |t| {
            Ok(Tmpfs {
                container_path: t.container_path().to_owned(),
                size: to_u32(t.size(), "tmpfs.size")?,
                mount_options: t.mount_options().to_vec(),
            })
        })?,
        max_swap: opt_u32(l.max_swap(), "maxSwap")?,
        swappiness: opt_u32(l.swappiness(), "swappiness")?,
    })
}

fn mount_point_from_sdk(m: &sdk::MountPoint) -> MountPoint {
    MountPoint {
        source_volume: m.source_volume().map(str::to_owned),
        container_path: m.container_path().map(str::to_owned),
        read_only: m.read_only(),
    }
}
