//! Applying plans: the steps of each resource in order (clusters, target groups, then each
//! service's task definition and the service), filling in ARNs that earlier steps created. A
//! resource that fails stops there; the others go on.
//!
//! - [`register`]: RegisterTaskDefinition with no duplicate revision when an answer is lost.
//! - [`scaling`]: the Application Auto Scaling steps of a Service's `spec.autoScaling`.

use std::collections::BTreeMap;

pub mod register;
// A Service's spec.autoScaling steps.
pub mod scaling;

use crate::cloud::model::{CreateService, Service, ServiceLoadBalancer, UpdateService};
use crate::cloud::{Cloud, CloudError};
use crate::manifest::ResourceKey;
use crate::observe::Observer;
use crate::plan::{
    LoadBalancerRef, REGISTERED, ResourcePlan, Step, TAG_ATTRIBUTES_HASH, TAG_TASK_DEFINITION,
};

/// What happened to one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The resource.
    pub key: ResourceKey,
    /// One line per call made (`RegisterTaskDefinition api:4`).
    pub actions: Vec<String>,
    /// The task definition revision the service was set to, when it was.
    pub task_definition: Option<String>,
    /// The ARN of the target group created, when one was.
    pub target_group_arn: Option<String>,
    /// The service deployment the last CreateService or UpdateService answer named
    /// (`currentServiceDeployment`): the rollout the tracker follows; `None` where the API
    /// has none (moto).
    pub service_deployment: Option<String>,
    /// Why it stopped, if it did.
    pub error: Option<ApplyError>,
}

/// Why a resource could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    /// An AWS call failed.
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// A target group the service needs was not created (its own apply failed).
    #[error("target group {0:?} does not exist (its apply failed or it is not declared)")]
    MissingTargetGroup(String),
    /// A step needed a revision no earlier step registered (a planning bug).
    #[error("no task definition revision was registered before it was needed")]
    NoRegisteredRevision,
}

/// Applies `plans` in order. `target_group_arns` starts with the observed ARNs by manifest
/// name and grows with the groups created here. `on_action` sees each call as it is made.
pub async fn apply(
    cloud: &Cloud,
    observer: &Observer,
    plans: &[ResourcePlan],
    mut target_group_arns: BTreeMap<String, String>,
    mut on_action: impl FnMut(&ResourceKey, &str),
) -> Vec<Applied> {
    let mut out = Vec::new();
    for plan in plans {
        let mut applied = Applied {
            key: plan.key.clone(),
            actions: Vec::new(),
            task_definition: None,
            target_group_arn: None,
            service_deployment: None,
            error: None,
        };
        let mut registered: Option<String> = None;
        for step in &plan.steps {
            let result = run(
                cloud,
                observer,
                step,
                &mut target_group_arns,
                &mut registered,
                &mut applied.service_deployment,
            )
            .await;
            match result {
                Ok(action) => {
                    // Once per mutating call: the key, the AWS operation and the one-line
                    // summary (names, revisions and tag or attribute keys; never values of
                    // environment, secrets or tags). DEBUG: `on_action` (apply's report on
                    // stdout, the controller's status) already says it at the default level.
                    tracing::debug!(
                        key = %plan.key,
                        action = step.operation(),
                        summary = %action,
                        "applied"
                    );
                    on_action(&plan.key, &action);
                    applied.actions.push(action);
                    if let Step::CreateTargetGroup { input, .. } = step {
                        applied.target_group_arn = target_group_arns.get(&input.name).cloned();
                    }
                    if let Step::CreateService { input, .. } = step {
                        applied.task_definition = Some(fill(&input.task_definition, &registered));
                    }
                    if let Step::UpdateService { input, .. } = step
                        && let Some(td) = &input.task_definition
                    {
                        applied.task_definition = Some(fill(td, &registered));
                    }
                }
                Err(e) => {
                    // The error's Display carries the AWS error code and request id.
                    tracing::warn!(
                        key = %plan.key,
                        action = step.operation(),
                        error = %e,
                        "apply failed"
                    );
                    applied.error = Some(e);
                    break;
                }
            }
        }
        out.push(applied);
    }
    out
}

fn fill(value: &str, registered: &Option<String>) -> String {
    if value == REGISTERED {
        registered.clone().unwrap_or_default()
    } else {
        value.to_string()
    }
}

fn resolve(
    refs: &[LoadBalancerRef],
    arns: &BTreeMap<String, String>,
) -> Result<Vec<ServiceLoadBalancer>, ApplyError> {
    refs.iter()
        .map(|r| {
            r.resolve(arns)
                .ok_or_else(|| ApplyError::MissingTargetGroup(r.target_group.clone()))
        })
        .collect()
}

/// Runs one step and describes it in one line.
async fn run(
    cloud: &Cloud,
    observer: &Observer,
    step: &Step,
    tg_arns: &mut BTreeMap<String, String>,
    registered: &mut Option<String>,
    service_deployment: &mut Option<String>,
) -> Result<String, ApplyError> {
    let need_registered = |r: &Option<String>| r.clone().ok_or(ApplyError::NoRegisteredRevision);
    Ok(match step {
        Step::CreateCluster(input) => {
            cloud.ecs.create_cluster(input).await?;
            format!("CreateCluster {}", input.name)
        }
        Step::UpdateClusterSettings { cluster, settings } => {
            cloud.ecs.update_cluster_settings(cluster, settings).await?;
            format!("UpdateCluster {cluster} settings")
        }
        Step::UpdateClusterConfiguration {
            cluster,
            configuration,
            service_connect_defaults,
        } => {
            cloud
                .ecs
                .update_cluster_configuration(
                    cluster,
                    configuration.as_ref(),
                    service_connect_defaults.as_ref(),
                )
                .await?;
            format!("UpdateCluster {cluster} configuration")
        }
        Step::PutClusterCapacityProviders {
            cluster,
            providers,
            strategy,
        } => {
            cloud
                .ecs
                .put_cluster_capacity_providers(cluster, providers, strategy)
                .await?;
            format!(
                "PutClusterCapacityProviders {cluster} [{}]",
                providers.join(", ")
            )
        }
        Step::TagEcs { arn, tags } => {
            let mut tags = tags.clone();
            if tags
                .get(TAG_TASK_DEFINITION)
                .is_some_and(|v| v == REGISTERED)
            {
                tags.insert(TAG_TASK_DEFINITION.into(), need_registered(registered)?);
            }
            cloud.ecs.tag_resource(arn, &tags).await?;
            format!(
                "TagResource {} ({})",
                short(arn),
                tags.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        }
        Step::UntagEcs { arn, keys } => {
            cloud.ecs.untag_resource(arn, keys).await?;
            format!("UntagResource {} ({})", short(arn), keys.join(", "))
        }
        Step::CreateTargetGroup { input, attributes } => {
            let tg = cloud.elbv2.create_target_group(input).await?;
            tg_arns.insert(input.name.clone(), tg.arn.clone());
            if !attributes.is_empty()
                && let Err(e) = cloud
                    .elbv2
                    .modify_target_group_attributes(&tg.arn, attributes)
                    .await
            {
                // The create's tags say the attributes are set: take that back, so that the
                // next plan reads them (should this fail too, the controller's checks do).
                let key = [TAG_ATTRIBUTES_HASH.to_string()];
                let arn = std::slice::from_ref(&tg.arn);
                if let Err(untag) = cloud.elbv2.remove_tags(arn, &key).await {
                    tracing::warn!(error = %untag, arn = %tg.arn, "the attributes-hash tag stays on a group whose attributes were not set");
                }
                return Err(e.into());
            }
            format!("CreateTargetGroup {}", input.name)
        }
        Step::ModifyTargetGroup { arn, health_check } => {
            cloud.elbv2.modify_target_group(arn, health_check).await?;
            format!("ModifyTargetGroup {} health check", short(arn))
        }
        Step::ModifyTargetGroupAttributes { arn, attributes } => {
            cloud
                .elbv2
                .modify_target_group_attributes(arn, attributes)
                .await?;
            format!(
                "ModifyTargetGroupAttributes {} ({})",
                short(arn),
                attributes.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        }
        Step::AddTargetGroupTags { arn, tags } => {
            cloud
                .elbv2
                .add_tags(std::slice::from_ref(arn), tags)
                .await?;
            format!(
                "AddTags {} ({})",
                short(arn),
                tags.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        }
        Step::RemoveTargetGroupTags { arn, keys } => {
            cloud
                .elbv2
                .remove_tags(std::slice::from_ref(arn), keys)
                .await?;
            format!("RemoveTags {} ({})", short(arn), keys.join(", "))
        }
        Step::CreateRule(input) => {
            let input = crate::cloud::model::CreateRule {
                actions: resolve_actions(&input.actions, tg_arns)?,
                ..input.clone()
            };
            let rule = cloud.elbv2.create_rule(&input).await?;
            format!(
                "CreateRule {} (priority {})",
                short(&rule.arn),
                input.priority
            )
        }
        Step::ModifyRule {
            arn,
            conditions,
            actions,
        } => {
            let actions = resolve_actions(actions, tg_arns)?;
            cloud.elbv2.modify_rule(arn, conditions, &actions).await?;
            format!("ModifyRule {} (conditions, actions)", short(arn))
        }
        Step::SetRulePriority { arn, priority } => {
            cloud
                .elbv2
                .set_rule_priorities(&[(arn.clone(), *priority)])
                .await?;
            format!("SetRulePriorities {} (priority {priority})", short(arn))
        }
        Step::RegisterTaskDefinition { definition, tags } => {
            let r = register::register(cloud, observer, definition, tags).await?;
            observer.remember(&r);
            *registered = Some(r.arn.clone());
            format!("RegisterTaskDefinition {}:{}", r.family, r.revision)
        }
        Step::CreateService {
            input,
            load_balancers,
        } => {
            let mut input = input.clone();
            if input.task_definition == REGISTERED {
                input.task_definition = need_registered(registered)?;
            }
            if input
                .tags
                .get(TAG_TASK_DEFINITION)
                .is_some_and(|v| v == REGISTERED)
            {
                input
                    .tags
                    .insert(TAG_TASK_DEFINITION.into(), input.task_definition.clone());
            }
            input.load_balancers = resolve(load_balancers, tg_arns)?;
            let created = cloud.ecs.create_service(&input).await?;
            *service_deployment = created.current_service_deployment.clone();
            let mut line = format!(
                "CreateService {}/{} ({})",
                input.cluster,
                input.name,
                short(&input.task_definition)
            );
            if let Some(update) = settle(&input, &created) {
                let updated = cloud.ecs.update_service(&update).await?;
                if updated.current_service_deployment.is_some() {
                    *service_deployment = updated.current_service_deployment;
                }
                line.push_str("; UpdateService to set what CreateService did not keep");
            }
            line
        }
        Step::UpdateService {
            input,
            load_balancers,
        } => {
            let mut input = input.clone();
            if input.task_definition.as_deref() == Some(REGISTERED) {
                input.task_definition = Some(need_registered(registered)?);
            }
            if let Some(refs) = load_balancers {
                input.load_balancers = Some(resolve(refs, tg_arns)?);
            }
            let updated = cloud.ecs.update_service(&input).await?;
            *service_deployment = updated.current_service_deployment;
            let what = input
                .task_definition
                .as_deref()
                .map(short)
                .unwrap_or("settings".into());
            format!("UpdateService {}/{} ({what})", input.cluster, input.name)
        }
        Step::Scaling(s) => scaling::run(cloud, s).await?,
    })
}

/// The settings a create asked for that the created service does not show (an API that
/// drops them on create, as emulators do), as an UpdateService; `None` when it kept them all,
/// which is what AWS does, so this costs no call there.
/// The actions with each forward's TargetGroup manifest names replaced by their ARNs.
fn resolve_actions(
    actions: &[crate::cloud::model::RuleAction],
    arns: &BTreeMap<String, String>,
) -> Result<Vec<crate::cloud::model::RuleAction>, ApplyError> {
    let mut out = actions.to_vec();
    for tg in out
        .iter_mut()
        .filter_map(|a| a.forward_config.as_mut())
        .flat_map(|f| f.target_groups.iter_mut())
    {
        if let Some(name) = tg.target_group_name.take() {
            let arn = arns
                .get(&name)
                .ok_or_else(|| ApplyError::MissingTargetGroup(name.clone()))?;
            tg.target_group_arn = Some(arn.clone());
        }
    }
    Ok(out)
}

fn settle(input: &CreateService, created: &Service) -> Option<UpdateService> {
    let mut update = UpdateService {
        cluster: input.cluster.clone(),
        name: input.name.clone(),
        ..UpdateService::default()
    };
    let mut needed = false;
    if let Some(want) = &input.deployment_configuration {
        let have = created.deployment_configuration.clone().unwrap_or_default();
        let lost = (want.deployment_circuit_breaker.is_some()
            && want.deployment_circuit_breaker != have.deployment_circuit_breaker)
            || (want.maximum_percent.is_some() && want.maximum_percent != have.maximum_percent)
            || (want.minimum_healthy_percent.is_some()
                && want.minimum_healthy_percent != have.minimum_healthy_percent)
            || (want.alarms.is_some() && want.alarms != have.alarms)
            // The native strategies' settings (issue 13).
            || (want.strategy.is_some() && want.strategy != have.strategy)
            || (want.bake_time_in_minutes.is_some()
                && want.bake_time_in_minutes != have.bake_time_in_minutes)
            || (!want.lifecycle_hooks.is_empty() && want.lifecycle_hooks != have.lifecycle_hooks)
            || (want.linear_configuration.is_some()
                && want.linear_configuration != have.linear_configuration)
            || (want.canary_configuration.is_some()
                && want.canary_configuration != have.canary_configuration);
        if lost {
            update.deployment_configuration = Some(want.clone());
            needed = true;
        }
    }
    if input.health_check_grace_period_seconds.is_some()
        && input.health_check_grace_period_seconds != created.health_check_grace_period_seconds
    {
        update.health_check_grace_period_seconds = input.health_check_grace_period_seconds;
        needed = true;
    }
    if let Some(want) = input.enable_execute_command
        && want != created.enable_execute_command
    {
        update.enable_execute_command = Some(want);
        needed = true;
    }
    if let Some(want) = input.enable_ecs_managed_tags
        && want != created.enable_ecs_managed_tags
    {
        update.enable_ecs_managed_tags = Some(want);
        needed = true;
    }
    if input.propagate_tags.is_some() && input.propagate_tags != created.propagate_tags {
        update.propagate_tags = input.propagate_tags;
        needed = true;
    }
    needed.then_some(update)
}

/// The readable end of an ARN (`task-definition/api:3` -> `api:3`).
fn short(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::model::DeploymentConfiguration;
    use crate::manifest::service::DeploymentCircuitBreaker;

    fn input() -> CreateService {
        CreateService {
            cluster: "shop".into(),
            name: "api".into(),
            deployment_configuration: Some(DeploymentConfiguration {
                deployment_circuit_breaker: Some(DeploymentCircuitBreaker {
                    enable: true,
                    rollback: true,
                }),
                ..Default::default()
            }),
            health_check_grace_period_seconds: Some(60),
            ..Default::default()
        }
    }

    #[test]
    fn a_create_that_kept_everything_needs_no_update() {
        let created = Service {
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
            health_check_grace_period_seconds: Some(60),
            ..Default::default()
        };
        assert_eq!(
            settle(&input(), &created),
            None,
            "AWS keeps them: no extra call"
        );
    }

    #[test]
    fn settings_a_create_dropped_are_set_by_an_update() {
        let u = settle(&input(), &Service::default()).expect("an update");
        assert_eq!(u.health_check_grace_period_seconds, Some(60));
        assert_eq!(u.deployment_configuration, input().deployment_configuration);
        assert_eq!((u.cluster.as_str(), u.name.as_str()), ("shop", "api"));
        assert_eq!(u.task_definition, None);
    }
}
