//! Rules for ECS's native deployment strategies (BLUE_GREEN, LINEAR, CANARY): each load
//! balancer names its alternate target group (a TargetGroup manifest name or an ARN, not the
//! production one), the production listener rule and the role ECS shifts traffic with;
//! lifecycle hooks name a Lambda function, a role and their stages; the canary and linear
//! settings stay in AWS's ranges and go with their own strategy. The settings of a native
//! strategy on a ROLLING service are refused: ECS would ignore them or reject the call.

use super::{Context, Report, TargetGroupRef};
use crate::manifest::generated::{DeploymentLifecycleHookTargetType, DeploymentStrategy};
use crate::manifest::service::ServiceSpec;

/// AWS's ranges (API reference: DeploymentConfiguration, CanaryConfiguration,
/// LinearConfiguration): bake times of 0 to 1440 minutes, canary percent 0.1 to 100, linear
/// step 3 to 100, in steps of 0.1.
const MAX_BAKE_MINUTES: u32 = 1440;
const CANARY_PERCENT: (f64, f64) = (0.1, 100.0);
const LINEAR_STEP_PERCENT: (f64, f64) = (3.0, 100.0);

/// True when `v` is a multiple of 0.1 (to within float noise).
fn tenths(v: f64) -> bool {
    ((v * 10.0).round() - v * 10.0).abs() < 1e-6
}

fn is_role_arn(arn: &str) -> bool {
    arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/")
}

fn is_lambda_arn(arn: &str) -> bool {
    arn.starts_with("arn:") && arn.contains(":lambda:") && arn.contains(":function:")
}

fn is_listener_arn(arn: &str) -> bool {
    arn.starts_with("arn:")
        && arn.contains(":elasticloadbalancing:")
        && (arn.contains(":listener-rule/") || arn.contains(":listener/"))
}

impl Report<'_> {
    /// The rules above, for one Service.
    pub(super) fn strategies(&mut self, s: &ServiceSpec, ctx: &Context<'_>) {
        let Some(dc) = &s.deployment_configuration else {
            return self.advanced_without_strategy(s);
        };
        let strategy = dc.strategy.unwrap_or(DeploymentStrategy::Rolling);
        let native = strategy != DeploymentStrategy::Rolling;
        let path = "spec.deploymentConfiguration";
        if native && s.load_balancers.is_empty() {
            self.error(
                &format!("{path}.strategy"),
                "native-strategy",
                format!(
                    "{} shifts traffic between two target groups: add a load balancer with \
                     advancedConfiguration (alternateTargetGroupArn, productionListenerRule, roleArn)",
                    strategy.as_str()
                ),
            );
        }
        if native {
            for (i, lb) in s.load_balancers.iter().enumerate() {
                self.advanced(i, lb, strategy, ctx);
            }
        } else {
            self.advanced_without_strategy(s);
        }
        if let Some(bake) = dc.bake_time_in_minutes {
            if !native {
                self.error(
                    &format!("{path}.bakeTimeInMinutes"),
                    "native-strategy",
                    "bakeTimeInMinutes is for BLUE_GREEN, LINEAR and CANARY; set strategy",
                );
            } else if bake > MAX_BAKE_MINUTES {
                self.error(
                    &format!("{path}.bakeTimeInMinutes"),
                    "range",
                    format!("bakeTimeInMinutes {bake} is over {MAX_BAKE_MINUTES} (24 hours)"),
                );
            }
        }
        if let Some(c) = &dc.canary_configuration {
            let p = format!("{path}.canaryConfiguration");
            if strategy != DeploymentStrategy::Canary {
                self.error(
                    &p,
                    "native-strategy",
                    "canaryConfiguration needs strategy CANARY",
                );
            }
            self.percent(
                &format!("{p}.canaryPercent"),
                c.canary_percent,
                CANARY_PERCENT,
            );
            self.bake(
                &format!("{p}.canaryBakeTimeInMinutes"),
                c.canary_bake_time_in_minutes,
            );
        }
        if let Some(c) = &dc.linear_configuration {
            let p = format!("{path}.linearConfiguration");
            if strategy != DeploymentStrategy::Linear {
                self.error(
                    &p,
                    "native-strategy",
                    "linearConfiguration needs strategy LINEAR",
                );
            }
            self.percent(
                &format!("{p}.stepPercent"),
                c.step_percent,
                LINEAR_STEP_PERCENT,
            );
            self.bake(
                &format!("{p}.stepBakeTimeInMinutes"),
                c.step_bake_time_in_minutes,
            );
        }
        for (i, hook) in dc.lifecycle_hooks.iter().enumerate() {
            let p = format!("{path}.lifecycleHooks[{i}]");
            if !native {
                self.error(
                    &p,
                    "native-strategy",
                    "lifecycle hooks run only with BLUE_GREEN, LINEAR or CANARY; set strategy",
                );
            }
            if hook.lifecycle_stages.is_empty() {
                self.error(
                    &format!("{p}.lifecycleStages"),
                    "lifecycle-hook",
                    "name the stages the hook runs at (PRE_SCALE_UP, POST_SCALE_UP, ...)",
                );
            }
            if hook.target_type == Some(DeploymentLifecycleHookTargetType::Pause) {
                continue;
            }
            match hook.hook_target_arn.as_deref() {
                Some(arn) if is_lambda_arn(arn) => {}
                Some(arn) => self.error(
                    &format!("{p}.hookTargetArn"),
                    "lifecycle-hook",
                    format!("{arn:?} is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"),
                ),
                None => self.error(
                    &p,
                    "lifecycle-hook",
                    "a hook needs hookTargetArn, the Lambda function ECS invokes",
                ),
            }
            match hook.role_arn.as_deref() {
                Some(arn) if is_role_arn(arn) => {}
                Some(arn) => self.error(
                    &format!("{p}.roleArn"),
                    "lifecycle-hook",
                    format!("{arn:?} is not an IAM role ARN"),
                ),
                None => self.error(
                    &p,
                    "lifecycle-hook",
                    "a hook needs roleArn, the role ECS invokes the function with",
                ),
            }
        }
    }

    /// One load balancer of a native strategy.
    fn advanced(
        &mut self,
        i: usize,
        lb: &crate::manifest::service::LoadBalancer,
        strategy: DeploymentStrategy,
        ctx: &Context<'_>,
    ) {
        let p = format!("spec.loadBalancers[{i}]");
        let Some(a) = &lb.advanced_configuration else {
            return self.error(
                &p,
                "native-strategy",
                format!(
                    "{} needs advancedConfiguration here: alternateTargetGroupArn, \
                     productionListenerRule and roleArn",
                    strategy.as_str()
                ),
            );
        };
        let p = format!("{p}.advancedConfiguration");
        match a.alternate_target_group_arn.as_deref() {
            None => self.error(
                &p,
                "native-strategy",
                "alternateTargetGroupArn is needed: the target group green runs in (a TargetGroup \
                 manifest name or an ARN)",
            ),
            Some(alt)
                if Some(alt) == lb.target_group.as_deref()
                    || Some(alt) == lb.target_group_arn.as_deref() =>
            {
                self.error(
                    &format!("{p}.alternateTargetGroupArn"),
                    "native-strategy",
                    "the alternate target group must differ from the production one",
                )
            }
            Some(alt) if alt.starts_with("arn:") => {
                if !alt.contains(":elasticloadbalancing:") || !alt.contains(":targetgroup/") {
                    self.error(
                        &format!("{p}.alternateTargetGroupArn"),
                        "target-group-ref",
                        format!("{alt:?} is not an ELBv2 target group ARN"),
                    );
                }
            }
            Some(name) => {
                if matches!(ctx.target_group(name), TargetGroupRef::Missing) {
                    self.error(
                        &format!("{p}.alternateTargetGroupArn"),
                        "target-group-ref",
                        format!(
                            "no TargetGroup manifest named `{name}`; declare one, or give the \
                             target group's ARN"
                        ),
                    );
                }
            }
        }
        match a.production_listener_rule.as_deref() {
            Some(arn) if is_listener_arn(arn) => {}
            Some(arn) => self.error(
                &format!("{p}.productionListenerRule"),
                "native-strategy",
                format!("{arn:?} is not an ELBv2 listener rule (or listener) ARN"),
            ),
            None => self.error(
                &p,
                "native-strategy",
                "productionListenerRule is needed: the listener rule ECS shifts production \
                 traffic with",
            ),
        }
        if let Some(arn) = a.test_listener_rule.as_deref()
            && !is_listener_arn(arn)
        {
            self.error(
                &format!("{p}.testListenerRule"),
                "native-strategy",
                format!("{arn:?} is not an ELBv2 listener rule (or listener) ARN"),
            );
        }
        match a.role_arn.as_deref() {
            Some(arn) if is_role_arn(arn) => {}
            Some(arn) => self.error(
                &format!("{p}.roleArn"),
                "native-strategy",
                format!("{arn:?} is not an IAM role ARN"),
            ),
            None => self.error(
                &p,
                "native-strategy",
                "roleArn is needed: the role ECS changes the listener rules with",
            ),
        }
    }

    /// advancedConfiguration on a service without a native strategy.
    fn advanced_without_strategy(&mut self, s: &ServiceSpec) {
        for (i, lb) in s.load_balancers.iter().enumerate() {
            if lb.advanced_configuration.is_some() {
                self.error(
                    &format!("spec.loadBalancers[{i}].advancedConfiguration"),
                    "native-strategy",
                    "advancedConfiguration is for BLUE_GREEN, LINEAR and CANARY deployments; set \
                     spec.deploymentConfiguration.strategy",
                );
            }
        }
    }

    fn percent(&mut self, path: &str, value: Option<f64>, (lo, hi): (f64, f64)) {
        if let Some(v) = value
            && (!(lo..=hi).contains(&v) || !tenths(v))
        {
            self.error(
                path,
                "range",
                format!("{v} is not a multiple of 0.1 from {lo} to {hi}"),
            );
        }
    }

    fn bake(&mut self, path: &str, value: Option<u32>) {
        if let Some(v) = value.filter(|v| *v > MAX_BAKE_MINUTES) {
            self.error(
                path,
                "range",
                format!("{v} minutes is over {MAX_BAKE_MINUTES} (24 hours)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::manifest::validate::validate;
    use crate::manifest::{Severity, load_str};

    /// A valid blue/green service with a hook; each row edits one line of it.
    const BASE: &str = "\
apiVersion: ecs-operator/v1
kind: TargetGroup
metadata: {name: blue}
spec: {protocol: HTTP, port: 8000, vpcId: vpc-1, targetType: ip}
---
apiVersion: ecs-operator/v1
kind: TargetGroup
metadata: {name: green}
spec: {protocol: HTTP, port: 8000, vpcId: vpc-1, targetType: ip}
---
apiVersion: ecs-operator/v1
kind: Service
metadata: {name: api}
spec:
  cluster: shop
  desiredCount: 2
  launchType: FARGATE
  taskDefinition:
    cpu: '256'
    memory: '512'
    networkMode: awsvpc
    containerDefinitions:
      - {name: api, image: 'api:1', portMappings: [{containerPort: 8000}]}
  networkConfiguration:
    awsvpcConfiguration: {subnets: [subnet-a]}
  deploymentConfiguration:
    deploymentCircuitBreaker: {enable: true, rollback: true}
    strategy: BLUE_GREEN
    bakeTimeInMinutes: 10
    lifecycleHooks:
      - hookTargetArn: arn:aws:lambda:us-east-1:123456789012:function:smoke
        roleArn: arn:aws:iam::123456789012:role/hooks
        lifecycleStages: [POST_SCALE_UP]
  loadBalancers:
    - targetGroup: blue
      containerName: api
      containerPort: 8000
      advancedConfiguration:
        alternateTargetGroupArn: green
        productionListenerRule: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/1/2/3
        roleArn: arn:aws:iam::123456789012:role/ecs-elb
";

    /// (replace this, with this, rule, path)
    const ROWS: &[(&str, &str, &str, &str)] = &[
        (
            "alternateTargetGroupArn: green",
            "alternateTargetGroupArn: purple",
            "target-group-ref",
            "spec.loadBalancers[0].advancedConfiguration.alternateTargetGroupArn",
        ),
        (
            "alternateTargetGroupArn: green",
            "alternateTargetGroupArn: blue",
            "native-strategy",
            "spec.loadBalancers[0].advancedConfiguration.alternateTargetGroupArn",
        ),
        (
            "        alternateTargetGroupArn: green\n",
            "",
            "native-strategy",
            "spec.loadBalancers[0].advancedConfiguration",
        ),
        (
            "productionListenerRule: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/1/2/3",
            "productionListenerRule: my-rule",
            "native-strategy",
            "spec.loadBalancers[0].advancedConfiguration.productionListenerRule",
        ),
        (
            "        roleArn: arn:aws:iam::123456789012:role/ecs-elb\n",
            "",
            "native-strategy",
            "spec.loadBalancers[0].advancedConfiguration",
        ),
        (
            "hookTargetArn: arn:aws:lambda:us-east-1:123456789012:function:smoke",
            "hookTargetArn: arn:aws:sns:us-east-1:123456789012:topic",
            "lifecycle-hook",
            "spec.deploymentConfiguration.lifecycleHooks[0].hookTargetArn",
        ),
        (
            "        roleArn: arn:aws:iam::123456789012:role/hooks\n",
            "",
            "lifecycle-hook",
            "spec.deploymentConfiguration.lifecycleHooks[0]",
        ),
        (
            "lifecycleStages: [POST_SCALE_UP]",
            "lifecycleStages: []",
            "lifecycle-hook",
            "spec.deploymentConfiguration.lifecycleHooks[0].lifecycleStages",
        ),
        (
            "bakeTimeInMinutes: 10",
            "bakeTimeInMinutes: 1441",
            "range",
            "spec.deploymentConfiguration.bakeTimeInMinutes",
        ),
        (
            "strategy: BLUE_GREEN",
            "strategy: CANARY\n    canaryConfiguration: {canaryPercent: 0.05}",
            "range",
            "spec.deploymentConfiguration.canaryConfiguration.canaryPercent",
        ),
        (
            "strategy: BLUE_GREEN",
            "strategy: CANARY\n    canaryConfiguration: {canaryPercent: 10.0, canaryBakeTimeInMinutes: 2000}",
            "range",
            "spec.deploymentConfiguration.canaryConfiguration.canaryBakeTimeInMinutes",
        ),
        (
            "strategy: BLUE_GREEN",
            "strategy: LINEAR\n    linearConfiguration: {stepPercent: 2.0}",
            "range",
            "spec.deploymentConfiguration.linearConfiguration.stepPercent",
        ),
        (
            "strategy: BLUE_GREEN",
            "strategy: LINEAR\n    linearConfiguration: {stepPercent: 12.34}",
            "range",
            "spec.deploymentConfiguration.linearConfiguration.stepPercent",
        ),
        (
            "strategy: BLUE_GREEN",
            "strategy: BLUE_GREEN\n    linearConfiguration: {stepPercent: 10.0}",
            "native-strategy",
            "spec.deploymentConfiguration.linearConfiguration",
        ),
        (
            "strategy: BLUE_GREEN",
            "strategy: ROLLING",
            "native-strategy",
            "spec.loadBalancers[0].advancedConfiguration",
        ),
        (
            "strategy: BLUE_GREEN",
            "strategy: ROLLING",
            "native-strategy",
            "spec.deploymentConfiguration.lifecycleHooks[0]",
        ),
    ];

    #[test]
    fn the_native_base_is_clean_and_each_rule_fires_on_its_edit() {
        let diags = validate(&load_str(Path::new("base.yaml"), BASE));
        assert!(diags.is_empty(), "{diags:#?}");
        let linear = BASE.replace(
            "strategy: BLUE_GREEN",
            "strategy: LINEAR\n    linearConfiguration: {stepPercent: 12.5, stepBakeTimeInMinutes: 3}",
        );
        let diags = validate(&load_str(Path::new("linear.yaml"), &linear));
        assert!(diags.is_empty(), "{diags:#?}");
        for (from, to, rule, path) in ROWS {
            assert!(BASE.contains(from), "{from}");
            let text = BASE.replacen(from, to, 1);
            let diags = validate(&load_str(Path::new("case.yaml"), &text));
            assert!(
                diags.iter().any(|d| d.rule == *rule
                    && d.severity == Severity::Error
                    && d.path.to_string() == *path),
                "{rule} at {path} not reported for {to:?}; got {diags:#?}"
            );
        }
    }

    #[test]
    fn a_native_strategy_without_a_load_balancer_is_refused() {
        let text = BASE.replace("  loadBalancers:\n", "  oldLoadBalancers:\n");
        let text = &text[..text.find("  oldLoadBalancers:").unwrap()];
        let diags = validate(&load_str(Path::new("case.yaml"), text));
        assert!(
            diags.iter().any(|d| d.rule == "native-strategy"
                && d.path.to_string() == "spec.deploymentConfiguration.strategy"),
            "{diags:#?}"
        );
    }
}
