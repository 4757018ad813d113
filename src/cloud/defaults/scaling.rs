//! What Application Auto Scaling fills in for an ECS service's policies: target tracking
//! cooldowns of 300 seconds each way and scale-in enabled (Application Auto Scaling User
//! Guide, "Define cooldown periods": the defaults for ECS services), and the Average
//! aggregation of a step scaling policy. The plan fills both sides with these before
//! comparing, import strips them, and the simulator stores them.

use crate::manifest::scaling::{MetricAggregationType, StepScaling, TargetTracking};

/// ScaleInCooldown and ScaleOutCooldown of an ECS service's target tracking policy.
pub const ECS_COOLDOWN_SECONDS: u32 = 300;

/// A target tracking policy with AWS's defaults filled in.
pub fn fill_target_tracking(p: &mut TargetTracking) {
    p.scale_in_cooldown.get_or_insert(ECS_COOLDOWN_SECONDS);
    p.scale_out_cooldown.get_or_insert(ECS_COOLDOWN_SECONDS);
    p.disable_scale_in.get_or_insert(false);
}

/// The policy without what [`fill_target_tracking`] would put back (import).
pub fn strip_target_tracking(p: &TargetTracking) -> TargetTracking {
    let mut p = p.clone();
    super::strip(&mut p.scale_in_cooldown, &ECS_COOLDOWN_SECONDS);
    super::strip(&mut p.scale_out_cooldown, &ECS_COOLDOWN_SECONDS);
    super::strip(&mut p.disable_scale_in, &false);
    p
}

/// A step scaling policy with AWS's defaults filled in. Its cooldown has no documented
/// default for ECS: it is compared only where the manifest sets it.
pub fn fill_step_scaling(p: &mut StepScaling) {
    p.metric_aggregation_type
        .get_or_insert(MetricAggregationType::Average);
}

/// The policy without what [`fill_step_scaling`] would put back (import).
pub fn strip_step_scaling(p: &StepScaling) -> StepScaling {
    let mut p = p.clone();
    super::strip(
        &mut p.metric_aggregation_type,
        &MetricAggregationType::Average,
    );
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::scaling::{AdjustmentType, PredefinedMetric};

    fn tracking() -> TargetTracking {
        TargetTracking {
            policy_name: None,
            predefined_metric: Some(PredefinedMetric::Cpu),
            customized_metric: None,
            target_value: 60.0,
            scale_in_cooldown: None,
            scale_out_cooldown: None,
            disable_scale_in: None,
        }
    }

    /// (what the manifest says, what AWS stores): each row fills to the same value both ways.
    #[test]
    fn target_tracking_defaults_table() {
        let cases: [(Option<u32>, Option<u32>, Option<bool>); 4] = [
            (None, None, None),
            (Some(300), None, None),
            (None, Some(300), Some(false)),
            (Some(300), Some(300), Some(false)),
        ];
        for (scale_in, scale_out, disable) in cases {
            let mut given = TargetTracking {
                scale_in_cooldown: scale_in,
                scale_out_cooldown: scale_out,
                disable_scale_in: disable,
                ..tracking()
            };
            let stripped = strip_target_tracking(&given);
            assert_eq!(
                stripped,
                tracking(),
                "{scale_in:?} {scale_out:?} {disable:?}"
            );
            fill_target_tracking(&mut given);
            let mut again = given.clone();
            fill_target_tracking(&mut again);
            assert_eq!(again, given, "fill is idempotent");
            assert_eq!(given.scale_in_cooldown, Some(ECS_COOLDOWN_SECONDS));
            assert_eq!(given.scale_out_cooldown, Some(ECS_COOLDOWN_SECONDS));
            assert_eq!(given.disable_scale_in, Some(false));
        }
        // A value other than the default is kept both ways.
        let mut set = TargetTracking {
            scale_in_cooldown: Some(60),
            disable_scale_in: Some(true),
            ..tracking()
        };
        assert_eq!(strip_target_tracking(&set).scale_in_cooldown, Some(60));
        assert_eq!(strip_target_tracking(&set).disable_scale_in, Some(true));
        fill_target_tracking(&mut set);
        assert_eq!(set.scale_in_cooldown, Some(60));
    }

    #[test]
    fn step_scaling_defaults_table() {
        let blank = StepScaling {
            policy_name: None,
            alarm_arn: None,
            adjustment_type: AdjustmentType::ChangeInCapacity,
            step_adjustments: vec![],
            cooldown: None,
            metric_aggregation_type: None,
            min_adjustment_magnitude: None,
        };
        for given in [None, Some(MetricAggregationType::Average)] {
            let mut p = StepScaling {
                metric_aggregation_type: given,
                ..blank.clone()
            };
            assert_eq!(strip_step_scaling(&p), blank);
            fill_step_scaling(&mut p);
            assert_eq!(
                p.metric_aggregation_type,
                Some(MetricAggregationType::Average)
            );
            assert_eq!(p.cooldown, None, "no cooldown default is invented");
        }
        let max = StepScaling {
            metric_aggregation_type: Some(MetricAggregationType::Maximum),
            ..blank.clone()
        };
        assert_eq!(strip_step_scaling(&max), max);
    }
}
