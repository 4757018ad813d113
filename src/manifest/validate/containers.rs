//! Rules for the container and task definition members ECS refuses in some settings: what
//! Fargate or awsvpc networking does not allow (privileged, devices, links, docker volumes,
//! DNS and host settings, GPUs, tmpfs and swap), FireLens options without a log router, more
//! than one log router, and an App Mesh proxy naming a container that does not exist.

use super::Report;
use crate::manifest::service::ServiceSpec;
use crate::manifest::task_definition::{LogDriver, NetworkMode, ResourceType};

impl Report<'_> {
    /// The rules above, for one Service.
    pub(super) fn containers(&mut self, s: &ServiceSpec) {
        let td = &s.task_definition;
        let base = "spec.taskDefinition";
        let fargate = s.is_fargate();
        let awsvpc = td.network_mode == Some(NetworkMode::Awsvpc);
        let not_here = |what: &str| {
            if fargate {
                format!("Fargate does not support {what}")
            } else {
                format!("networkMode awsvpc does not support {what}")
            }
        };
        for (i, c) in td.container_definitions.iter().enumerate() {
            let cp = format!("{base}.containerDefinitions[{i}]");
            if fargate && c.privileged == Some(true) {
                self.error(
                    &format!("{cp}.privileged"),
                    "fargate-unsupported",
                    "Fargate does not run privileged containers; add only the capabilities \
                     needed (linuxParameters.capabilities.add: [SYS_PTRACE] is allowed)",
                );
            }
            if !c.links.is_empty() && td.network_mode.is_some_and(|m| m != NetworkMode::Bridge) {
                self.error(
                    &format!("{cp}.links"),
                    "links",
                    "links need networkMode bridge; under awsvpc and host the containers of a \
                     task reach each other on localhost",
                );
            }
            if fargate || awsvpc {
                for (field, set) in [
                    ("dnsServers", !c.dns_servers.is_empty()),
                    ("dnsSearchDomains", !c.dns_search_domains.is_empty()),
                    ("extraHosts", !c.extra_hosts.is_empty()),
                    ("hostname", c.hostname.is_some()),
                    ("disableNetworking", c.disable_networking == Some(true)),
                ] {
                    if set {
                        let rule = if fargate {
                            "fargate-unsupported"
                        } else {
                            "awsvpc"
                        };
                        self.error(&format!("{cp}.{field}"), rule, not_here(field));
                    }
                }
            }
            if fargate {
                if !c.docker_security_options.is_empty() {
                    self.error(
                        &format!("{cp}.dockerSecurityOptions"),
                        "fargate-unsupported",
                        not_here("dockerSecurityOptions"),
                    );
                }
                for (j, r) in c.resource_requirements.iter().enumerate() {
                    if r.kind == ResourceType::Gpu {
                        self.error(
                            &format!("{cp}.resourceRequirements[{j}]"),
                            "fargate-unsupported",
                            "Fargate has no GPUs; run GPU tasks on EC2 instances with GPUs",
                        );
                    }
                }
                if let Some(lp) = &c.linux_parameters {
                    for (field, set) in [
                        ("devices", !lp.devices.is_empty()),
                        ("tmpfs", !lp.tmpfs.is_empty()),
                        ("sharedMemorySize", lp.shared_memory_size.is_some()),
                        ("maxSwap", lp.max_swap.is_some()),
                        ("swappiness", lp.swappiness.is_some()),
                    ] {
                        if set {
                            self.error(
                                &format!("{cp}.linuxParameters.{field}"),
                                "fargate-unsupported",
                                not_here(field),
                            );
                        }
                    }
                }
            }
        }
        if fargate {
            for (i, v) in td.volumes.iter().enumerate() {
                if v.docker_volume_configuration.is_some() {
                    self.error(
                        &format!("{base}.volumes[{i}].dockerVolumeConfiguration"),
                        "fargate-unsupported",
                        "Fargate does not support Docker volumes; use EFS or an empty bind mount",
                    );
                }
            }
            if !td.inference_accelerators.is_empty() {
                self.error(
                    &format!("{base}.inferenceAccelerators"),
                    "fargate-unsupported",
                    not_here("inferenceAccelerators"),
                );
            }
        }
        self.firelens(s);
        if let Some(proxy) = &td.proxy_configuration {
            if td.container(&proxy.container_name).is_none() {
                self.error(
                    &format!("{base}.proxyConfiguration.containerName"),
                    "proxy",
                    format!(
                        "no container named `{}` in containerDefinitions; the App Mesh proxy \
                         configuration names the Envoy container",
                        proxy.container_name
                    ),
                );
            }
            if !awsvpc {
                self.error(
                    &format!("{base}.proxyConfiguration"),
                    "proxy",
                    "an App Mesh proxy configuration needs networkMode awsvpc",
                );
            }
        }
    }

    fn firelens(&mut self, s: &ServiceSpec) {
        let td = &s.task_definition;
        let base = "spec.taskDefinition";
        let routers: Vec<usize> = td
            .container_definitions
            .iter()
            .enumerate()
            .filter(|(_, c)| c.firelens_configuration.is_some())
            .map(|(i, _)| i)
            .collect();
        if routers.len() > 1 {
            self.error(
                &format!(
                    "{base}.containerDefinitions[{}].firelensConfiguration",
                    routers[1]
                ),
                "firelens",
                format!(
                    "only one container may be the FireLens log router; \
                     containerDefinitions[{}] is one already",
                    routers[0]
                ),
            );
        }
        for (i, c) in td.container_definitions.iter().enumerate() {
            let uses = c
                .log_configuration
                .as_ref()
                .is_some_and(|l| l.log_driver == LogDriver::Awsfirelens);
            if uses && routers.is_empty() {
                self.error(
                    &format!("{base}.containerDefinitions[{i}].logConfiguration.logDriver"),
                    "firelens",
                    "logDriver awsfirelens needs a log router: a container with \
                     firelensConfiguration (for example aws-for-fluent-bit)",
                );
            }
        }
    }
}
