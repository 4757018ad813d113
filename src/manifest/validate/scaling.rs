//! Rules for a Service's `spec.autoScaling`: bounds in order, one metric per target tracking
//! policy with a sane target value, ALBRequestCountPerTarget only with a target group, steps
//! present, alarm ARNs that are CloudWatch alarms, schedules in AWS's three forms, unique
//! policy and action names (the derived ones included), and no DAEMON service.

use std::collections::HashMap;

use super::Report;
use crate::manifest::scaling::{AutoScaling, PredefinedMetric, policy_name, step_policy_name};
use crate::manifest::service::{SchedulingStrategy, ServiceSpec};

/// The rule name of every finding here.
const RULE: &str = "auto-scaling";

/// Application Auto Scaling's quotas per scalable target (Service Quotas, "Application Auto
/// Scaling"): scaling policies and scheduled actions.
const MAX_POLICIES: usize = 50;
const MAX_SCHEDULED: usize = 200;
/// The longest policy or scheduled action name (the API's PolicyName, ScheduledActionName).
const MAX_NAME_LEN: usize = 256;

impl Report<'_> {
    /// The rules above, for one Service.
    pub(super) fn auto_scaling(&mut self, s: &ServiceSpec) {
        let Some(a) = &s.auto_scaling else {
            return;
        };
        let name = self.doc.manifest.metadata.name.clone();
        if s.scheduling_strategy == Some(SchedulingStrategy::Daemon) {
            self.error(
                "spec.autoScaling",
                RULE,
                "a DAEMON service runs one task per instance; it cannot be auto scaled",
            );
        }
        if a.min_capacity > a.max_capacity {
            self.error(
                "spec.autoScaling.minCapacity",
                RULE,
                format!(
                    "minCapacity {} is greater than maxCapacity {}",
                    a.min_capacity, a.max_capacity
                ),
            );
        }
        if let Some(n) = s.desired_count
            && (n < a.min_capacity || n > a.max_capacity)
        {
            self.warn(
                "spec.desiredCount",
                RULE,
                format!(
                    "desiredCount {n} is outside autoScaling's {}..{}: the scaler moves it inside \
                     (with autoScaling, desiredCount is only the count at creation)",
                    a.min_capacity, a.max_capacity
                ),
            );
        }
        self.tracking(s, a);
        self.steps(a);
        self.scheduled(a);
        let policies = a.target_tracking.len() + a.step_scaling.len();
        if policies > MAX_POLICIES {
            self.error(
                "spec.autoScaling",
                RULE,
                format!("{policies} scaling policies: Application Auto Scaling allows {MAX_POLICIES} per service"),
            );
        }
        if a.scheduled.len() > MAX_SCHEDULED {
            self.error(
                "spec.autoScaling.scheduled",
                RULE,
                format!(
                    "{} scheduled actions: Application Auto Scaling allows {MAX_SCHEDULED} per service",
                    a.scheduled.len()
                ),
            );
        }
        let mut names: HashMap<String, String> = HashMap::new();
        let tracking = a.target_tracking.iter().enumerate().map(|(i, t)| {
            (
                policy_name(&name, t),
                format!("spec.autoScaling.targetTracking[{i}]"),
            )
        });
        let steps = a.step_scaling.iter().enumerate().map(|(i, t)| {
            (
                step_policy_name(&name, i, t),
                format!("spec.autoScaling.stepScaling[{i}]"),
            )
        });
        for (policy, path) in tracking.chain(steps).collect::<Vec<_>>() {
            if policy.is_empty()
                || policy.chars().count() > MAX_NAME_LEN
                || policy.chars().any(|c| c.is_control())
            {
                self.error(
                    &format!("{path}.policyName"),
                    RULE,
                    format!("policy name {policy:?}: 1 to {MAX_NAME_LEN} printable characters"),
                );
            }
            if let Some(first) = names.get(&policy) {
                self.error(
                    &format!("{path}.policyName"),
                    RULE,
                    format!(
                        "policy name {policy:?} is also the name of {first}; give one a policyName"
                    ),
                );
            } else {
                names.insert(policy, path);
            }
        }
    }

    fn tracking(&mut self, s: &ServiceSpec, a: &AutoScaling) {
        for (i, t) in a.target_tracking.iter().enumerate() {
            let path = format!("spec.autoScaling.targetTracking[{i}]");
            match (&t.predefined_metric, &t.customized_metric) {
                (Some(_), Some(_)) => self.error(
                    &format!("{path}.customizedMetric"),
                    RULE,
                    "predefinedMetric and customizedMetric are exclusive; set one",
                ),
                (None, None) => self.error(
                    &format!("{path}.predefinedMetric"),
                    RULE,
                    "set predefinedMetric (ECSServiceAverageCPUUtilization, \
                     ECSServiceAverageMemoryUtilization or ALBRequestCountPerTarget) or \
                     customizedMetric",
                ),
                _ => {}
            }
            if !(t.target_value.is_finite() && t.target_value > 0.0) {
                self.error(
                    &format!("{path}.targetValue"),
                    RULE,
                    format!("targetValue {} must be greater than 0", t.target_value),
                );
            } else if t
                .predefined_metric
                .is_some_and(PredefinedMetric::is_percent)
                && t.target_value > 100.0
            {
                self.error(
                    &format!("{path}.targetValue"),
                    RULE,
                    format!(
                        "targetValue {} is a utilization in percent: at most 100",
                        t.target_value
                    ),
                );
            }
            let has_group = s
                .load_balancers
                .first()
                .is_some_and(|lb| lb.target_group.is_some() || lb.target_group_arn.is_some());
            if t.predefined_metric == Some(PredefinedMetric::AlbRequestCountPerTarget) && !has_group
            {
                self.error(
                    &format!("{path}.predefinedMetric"),
                    RULE,
                    "ALBRequestCountPerTarget counts the requests of the service's target group: \
                     spec.loadBalancers needs a targetGroup or targetGroupArn",
                );
            }
        }
    }

    fn steps(&mut self, a: &AutoScaling) {
        for (i, p) in a.step_scaling.iter().enumerate() {
            let path = format!("spec.autoScaling.stepScaling[{i}]");
            if p.step_adjustments.is_empty() {
                self.error(
                    &format!("{path}.stepAdjustments"),
                    RULE,
                    "a step scaling policy needs at least one step",
                );
            }
            if let Some(arn) = &p.alarm_arn
                && !(arn.starts_with("arn:aws")
                    && arn.contains(":cloudwatch:")
                    && arn.contains(":alarm:"))
            {
                self.error(
                    &format!("{path}.alarmArn"),
                    RULE,
                    format!("{arn:?} is not a CloudWatch alarm ARN (arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME)"),
                );
            }
        }
    }

    fn scheduled(&mut self, a: &AutoScaling) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, s) in a.scheduled.iter().enumerate() {
            let path = format!("spec.autoScaling.scheduled[{i}]");
            if !crate::manifest::scaling::is_schedule_expression(&s.schedule) {
                self.error(
                    &format!("{path}.schedule"),
                    RULE,
                    format!(
                        "schedule {:?} is not at(yyyy-mm-ddThh:mm:ss), rate(value unit) or \
                         cron(fields)",
                        s.schedule
                    ),
                );
            }
            match (s.min_capacity, s.max_capacity) {
                (None, None) => self.error(
                    &format!("{path}.minCapacity"),
                    RULE,
                    "a scheduled action sets minCapacity, maxCapacity or both",
                ),
                (Some(min), Some(max)) if min > max => self.error(
                    &format!("{path}.minCapacity"),
                    RULE,
                    format!("minCapacity {min} is greater than maxCapacity {max}"),
                ),
                _ => {}
            }
            let bad_char = |c: char| c.is_control() || matches!(c, ':' | '/' | '|');
            if s.name.is_empty()
                || s.name.chars().count() > MAX_NAME_LEN
                || s.name.chars().any(bad_char)
                || s.name.trim() != s.name
            {
                self.error(
                    &format!("{path}.name"),
                    RULE,
                    format!(
                        "scheduled action name {:?}: 1 to {MAX_NAME_LEN} characters, no `:`, `/`, `|`, \
                         control characters or spaces at either end",
                        s.name
                    ),
                );
            }
            if let Some(first) = seen.insert(s.name.as_str(), i) {
                self.error(
                    &format!("{path}.name"),
                    RULE,
                    format!(
                        "scheduled action {:?} is also spec.autoScaling.scheduled[{first}]",
                        s.name
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::manifest::{Severity, load_str, validate};

    /// A valid Service with `autoScaling` set to `auto` (YAML, indented for `spec`), and
    /// `load_balancers` (YAML) for its attachments.
    fn doc(auto: &str, load_balancers: &str) -> String {
        format!(
            "\
apiVersion: ecs-operator/v1
kind: Service
metadata: {{name: api}}
spec:
  cluster: shop
  launchType: FARGATE
  taskDefinition:
    cpu: '256'
    memory: '512'
    networkMode: awsvpc
    containerDefinitions:
      - name: api
        image: api:1.0.0
        portMappings: [{{containerPort: 8000}}]
  networkConfiguration:
    awsvpcConfiguration: {{subnets: [subnet-a]}}
  deploymentConfiguration:
    deploymentCircuitBreaker: {{enable: true, rollback: true}}
  loadBalancers: {load_balancers}
  autoScaling:
{auto}
"
        )
    }

    const LB: &str = "[{targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-api/0123456789abcdef', containerName: api, containerPort: 8000}]";
    const CPU: &str = "    minCapacity: 2\n    maxCapacity: 10\n    targetTracking:\n      - {predefinedMetric: ECSServiceAverageCPUUtilization, targetValue: 60}\n";

    /// The findings (severity, rule, path) of one document.
    fn findings(yaml: &str) -> Vec<(Severity, String, String)> {
        let loaded = load_str(Path::new("svc.yaml"), yaml);
        validate(&loaded)
            .into_iter()
            .map(|d| (d.severity, d.rule.to_string(), d.path.to_string()))
            .collect()
    }

    #[test]
    fn the_base_has_no_finding() {
        assert_eq!(findings(&doc(CPU, LB)), vec![]);
        let full = "    minCapacity: 1\n    maxCapacity: 4\n    targetTracking:\n      - {predefinedMetric: ALBRequestCountPerTarget, targetValue: 500, scaleInCooldown: 120}\n      - {customizedMetric: {metricName: Depth, namespace: Shop, statistic: Average}, targetValue: 10}\n    stepScaling:\n      - {alarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:high', adjustmentType: ChangeInCapacity, stepAdjustments: [{metricIntervalLowerBound: 0, scalingAdjustment: 2}]}\n    scheduled:\n      - {name: night, schedule: 'cron(0 20 * * ? *)', timezone: Europe/Paris, minCapacity: 1, maxCapacity: 2}\n";
        assert_eq!(findings(&doc(full, LB)), vec![]);
    }

    /// (what autoScaling says, load balancers, the finding's severity, rule and path).
    #[test]
    fn each_rule_fires_on_its_mistake_with_file_line_and_field() {
        let e = Severity::Error;
        let rows: &[(&str, &str, Severity, &str, &str)] = &[
            (
                "    minCapacity: 5\n    maxCapacity: 2\n",
                LB,
                e,
                RULE,
                "spec.autoScaling.minCapacity",
            ),
            (
                "    minCapacity: 1\n    maxCapacity: 2\n    targetTracking: [{predefinedMetric: ALBRequestCountPerTarget, targetValue: 100}]\n",
                "[]",
                e,
                RULE,
                "spec.autoScaling.targetTracking[0].predefinedMetric",
            ),
            (
                "    minCapacity: 1\n    maxCapacity: 2\n    targetTracking: [{predefinedMetric: ECSServiceAverageCPUUtilization, targetValue: 0}]\n",
                LB,
                e,
                RULE,
                "spec.autoScaling.targetTracking[0].targetValue",
            ),
            (
                "    minCapacity: 1\n    maxCapacity: 2\n    targetTracking: [{predefinedMetric: ECSServiceAverageMemoryUtilization, targetValue: 150}]\n",
                LB,
                e,
                RULE,
                "spec.autoScaling.targetTracking[0].targetValue",
            ),
            (
                "    minCapacity: 1\n    maxCapacity: 2\n    targetTracking: [{targetValue: 50}]\n",
                LB,
                e,
                RULE,
                "spec.autoScaling.targetTracking[0].predefinedMetric",
            ),
            (
                "    minCapacity: 1\n    maxCapacity: 2\n    targetTracking:\n      - {predefinedMetric: ECSServiceAverageCPUUtilization, targetValue: 50}\n      - {predefinedMetric: ECSServiceAverageCPUUtilization, targetValue: 70}\n",
                LB,
                e,
                RULE,
                "spec.autoScaling.targetTracking[1].policyName",
            ),
            (
                "    minCapacity: 1\n    maxCapacity: 2\n    stepScaling: [{adjustmentType: ChangeInCapacity, stepAdjustments: []}]\n",
                LB,
                e,
                RULE,
                "spec.autoScaling.stepScaling[0].stepAdjustments",
            ),
            (
                "    minCapacity: 1\n    maxCapacity: 2\n    stepScaling: [{alarmArn: my-alarm, adjustmentType: ChangeInCapacity, stepAdjustments: [{scalingAdjustment: 1}]}]\n",
                LB,
                e,
                RULE,
                "spec.autoScaling.stepScaling[0].alarmArn",
            ),
            (
                "    minCapacity: 1\n    maxCapacity: 2\n    scheduled: [{name: n, schedule: 'every day', minCapacity: 1}]\n",
                LB,
                e,
                RULE,
                "spec.autoScaling.scheduled[0].schedule",
            ),
            (
                "    minCapacity: 1\n    maxCapacity: 2\n    scheduled: [{name: n, schedule: 'rate(1 day)'}]\n",
                LB,
                e,
                RULE,
                "spec.autoScaling.scheduled[0].minCapacity",
            ),
            (
                "    minCapacity: 1\n    maxCapacity: 2\n    scheduled: [{name: 'a/b', schedule: 'rate(1 day)', minCapacity: 1}]\n",
                LB,
                e,
                RULE,
                "spec.autoScaling.scheduled[0].name",
            ),
            (
                "    minCapacity: 1\n    maxCapacity: 2\n    targetTracking: [{policyName: '', predefinedMetric: ECSServiceAverageCPUUtilization, targetValue: 50}]\n",
                LB,
                e,
                RULE,
                "spec.autoScaling.targetTracking[0].policyName",
            ),
            (
                "    minCapacity: 1\n    maxCapacity: 2\n    scheduled: [{name: n, schedule: 'rate(1 day)', minCapacity: 1}, {name: n, schedule: 'rate(2 days)', maxCapacity: 2}]\n",
                LB,
                e,
                RULE,
                "spec.autoScaling.scheduled[1].name",
            ),
        ];
        for (auto, lbs, severity, rule, path) in rows {
            let got = findings(&doc(auto, lbs));
            assert!(
                got.contains(&(*severity, rule.to_string(), path.to_string())),
                "{path}: {got:?}"
            );
            assert_eq!(got.len(), 1, "exactly the one finding: {got:?}");
        }
        // desiredCount outside the bounds only warns.
        let with_count = doc(CPU, LB).replace(
            "  launchType: FARGATE",
            "  desiredCount: 20\n  launchType: FARGATE",
        );
        assert_eq!(
            findings(&with_count),
            vec![(
                Severity::Warning,
                RULE.to_string(),
                "spec.desiredCount".to_string()
            )]
        );
    }

    #[test]
    fn more_policies_than_the_quota_is_a_finding() {
        let step = "      - {adjustmentType: ChangeInCapacity, stepAdjustments: [{scalingAdjustment: 1}]}\n";
        let auto = format!(
            "    minCapacity: 1\n    maxCapacity: 2\n    stepScaling:\n{}",
            step.repeat(51)
        );
        assert_eq!(
            findings(&doc(&auto, LB)),
            vec![(
                Severity::Error,
                RULE.to_string(),
                "spec.autoScaling".to_string()
            )]
        );
        let auto = format!(
            "    minCapacity: 1\n    maxCapacity: 2\n    stepScaling:\n{}",
            step.repeat(50)
        );
        assert_eq!(findings(&doc(&auto, LB)), vec![], "50 is allowed");
    }

    #[test]
    fn an_unknown_predefined_metric_is_a_finding_with_its_line_and_nothing_is_planned() {
        let auto = "    minCapacity: 1\n    maxCapacity: 2\n    targetTracking: [{predefinedMetric: RDSReaderAverageCPUUtilization, targetValue: 50}]\n";
        let loaded = load_str(Path::new("svc.yaml"), &doc(auto, LB));
        assert!(loaded.documents.is_empty(), "the document does not load");
        let diags = validate(&loaded);
        let d = diags.iter().find(|d| d.is_error()).expect("an error");
        assert_eq!(d.file, Path::new("svc.yaml"));
        assert!(d.line > 20, "{d:?}");
        assert!(
            d.message.contains("RDSReaderAverageCPUUtilization"),
            "{}",
            d.message
        );
    }

    use super::RULE;
}
