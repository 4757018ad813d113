//! Rules for the Service members that came with pasted CreateService JSON and the newer ECS
//! features: `serviceName` must be `metadata.name`, classic load balancers are not managed,
//! and volumes configured at launch pair a task definition volume with a service entry.

use super::Report;
use crate::manifest::service::ServiceSpec;

impl Report<'_> {
    /// The rules above, for one Service.
    pub(super) fn service_fields(&mut self, s: &ServiceSpec) {
        let name = self.doc.manifest.metadata.name.clone();
        match &s.service_name {
            Some(n) if *n == name => self.warn(
                "spec.serviceName",
                "service-name",
                "serviceName repeats metadata.name; it can be left out",
            ),
            Some(n) => self.error(
                "spec.serviceName",
                "service-name",
                format!("serviceName {n:?} is not metadata.name {name:?}; the service is named by metadata.name"),
            ),
            None => {}
        }
        for (i, lb) in s.load_balancers.iter().enumerate() {
            if lb.load_balancer_name.is_some() {
                self.error(
                    &format!("spec.loadBalancers[{i}].loadBalancerName"),
                    "classic-load-balancer",
                    "classic load balancers are not managed by ecs-operator; attach a target \
                     group (an ALB or NLB) with targetGroup or targetGroupArn",
                );
            }
        }
        let td = &s.task_definition;
        for (i, v) in td.volumes.iter().enumerate() {
            if v.configured_at_launch == Some(true)
                && !s.volume_configurations.iter().any(|c| c.name == v.name)
            {
                self.error(
                    &format!("spec.taskDefinition.volumes[{i}].configuredAtLaunch"),
                    "volume-at-launch",
                    format!(
                        "volume `{}` is configured at launch: spec.volumeConfigurations needs an \
                         entry with name `{}` (for example a managedEBSVolume)",
                        v.name, v.name
                    ),
                );
            }
        }
        for (i, c) in s.volume_configurations.iter().enumerate() {
            let at_launch = td
                .volumes
                .iter()
                .any(|v| v.name == c.name && v.configured_at_launch == Some(true));
            if !at_launch {
                self.error(
                    &format!("spec.volumeConfigurations[{i}].name"),
                    "volume-at-launch",
                    format!(
                        "no task definition volume `{}` with configuredAtLaunch: true",
                        c.name
                    ),
                );
            }
        }
    }
}
