//! What ELBv2 fills into a listener rule, and the one comparable form of its conditions and
//! actions, so a rule written either way AWS accepts is no perpetual diff:
//!
//! - conditions: a path-pattern or host-header's `Values` and its `*Config.Values` are one
//!   list (ELBv2 answers with both); conditions are compared in sorted order;
//! - a forward by `TargetGroupArn` is a `ForwardConfig` of that one group; a target group's
//!   `Weight` is 1 when left out; stickiness is `{Enabled: false}` when left out; `Order` is the
//!   action's place (1, 2, ...);
//! - a redirect's `Protocol`, `Port`, `Host`, `Path` and `Query` default to the request's own
//!   (`#{protocol}`, `#{port}`, `#{host}`, `/#{path}`, `#{query}`).
//!
//! [`fill_conditions`]/[`fill_actions`] give that comparable form (idempotent);
//! [`described_conditions`]/[`described_actions`] what DescribeRules answers (the simulator
//! stores it); [`strip_actions`]/[`strip_conditions`] leave the defaults out for `import`.

use crate::manifest::listener_rule::{
    ActionTypeEnum, ForwardActionConfig, HostHeaderConditionConfig, PathPatternConditionConfig,
    RedirectActionConfig, RuleAction, RuleCondition, TargetGroupStickinessConfig, TargetGroupTuple,
};

/// A target group's weight in a forward when left out.
pub const WEIGHT: u32 = 1;
/// Redirect defaults: the request's own protocol, port, host, path and query.
pub const REDIRECT_PROTOCOL: &str = "#{protocol}";
/// See [`REDIRECT_PROTOCOL`].
pub const REDIRECT_PORT: &str = "#{port}";
/// See [`REDIRECT_PROTOCOL`].
pub const REDIRECT_HOST: &str = "#{host}";
/// See [`REDIRECT_PROTOCOL`].
pub const REDIRECT_PATH: &str = "/#{path}";
/// See [`REDIRECT_PROTOCOL`].
pub const REDIRECT_QUERY: &str = "#{query}";

/// `a` then the items of `b` not in it, in order.
fn union(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    for v in b {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    out
}

/// One condition in the comparable form: `Values` moved into the field's config.
pub fn fill_condition(c: &RuleCondition) -> RuleCondition {
    let mut c = c.clone();
    match c.field.as_deref() {
        Some("path-pattern") if !c.values.is_empty() || c.path_pattern_config.is_some() => {
            let mut p = c.path_pattern_config.take().unwrap_or_default();
            p.values = union(&c.values, &p.values);
            c.path_pattern_config = Some(p);
            c.values.clear();
        }
        Some("host-header") if !c.values.is_empty() || c.host_header_config.is_some() => {
            let mut h = c.host_header_config.take().unwrap_or_default();
            h.values = union(&c.values, &h.values);
            c.host_header_config = Some(h);
            c.values.clear();
        }
        _ => {}
    }
    c
}

/// Every condition in the comparable form, sorted (ELBv2 does not promise their order).
pub fn fill_conditions(conditions: &[RuleCondition]) -> Vec<RuleCondition> {
    let mut v: Vec<_> = conditions.iter().map(fill_condition).collect();
    v.sort();
    v
}

/// One action in the comparable form, at place `index` (0-based).
pub fn fill_action(a: &RuleAction, index: usize) -> RuleAction {
    let mut a = a.clone();
    a.order
        .get_or_insert(u32::try_from(index + 1).unwrap_or(u32::MAX));
    match a.kind {
        ActionTypeEnum::Forward => {
            let mut f = a.forward_config.take().unwrap_or_default();
            if let Some(arn) = a.target_group_arn.take()
                && !f
                    .target_groups
                    .iter()
                    .any(|t| t.target_group_arn.as_deref() == Some(arn.as_str()))
            {
                f.target_groups.push(TargetGroupTuple {
                    target_group_arn: Some(arn),
                    ..TargetGroupTuple::default()
                });
            }
            for t in &mut f.target_groups {
                t.weight.get_or_insert(WEIGHT);
            }
            f.target_groups.sort();
            let s = f
                .target_group_stickiness_config
                .get_or_insert_with(TargetGroupStickinessConfig::default);
            s.enabled.get_or_insert(false);
            if s.enabled == Some(false) {
                s.duration_seconds = None; // not kept while disabled
            }
            a.forward_config = Some(f);
        }
        ActionTypeEnum::Redirect => {
            if let Some(r) = &mut a.redirect_config {
                fill_redirect(r);
            }
        }
        _ => {}
    }
    a
}

fn fill_redirect(r: &mut RedirectActionConfig) {
    r.protocol.get_or_insert_with(|| REDIRECT_PROTOCOL.into());
    r.port.get_or_insert_with(|| REDIRECT_PORT.into());
    r.host.get_or_insert_with(|| REDIRECT_HOST.into());
    r.path.get_or_insert_with(|| REDIRECT_PATH.into());
    r.query.get_or_insert_with(|| REDIRECT_QUERY.into());
}

/// Every action in the comparable form, in `Order`.
pub fn fill_actions(actions: &[RuleAction]) -> Vec<RuleAction> {
    let mut v: Vec<_> = actions
        .iter()
        .enumerate()
        .map(|(i, a)| fill_action(a, i))
        .collect();
    v.sort_by_key(|a| a.order);
    v
}

/// The conditions as DescribeRules answers them: the comparable form, with a path-pattern's
/// and a host-header's values also in `Values`.
pub fn described_conditions(conditions: &[RuleCondition]) -> Vec<RuleCondition> {
    conditions
        .iter()
        .map(fill_condition)
        .map(|mut c| {
            if let Some(p) = &c.path_pattern_config {
                c.values = p.values.clone();
            }
            if let Some(h) = &c.host_header_config {
                c.values = h.values.clone();
            }
            c
        })
        .collect()
}

/// The actions as DescribeRules answers them: the comparable form, with a forward to one
/// group also naming it in `TargetGroupArn`.
pub fn described_actions(actions: &[RuleAction]) -> Vec<RuleAction> {
    fill_actions(actions)
        .into_iter()
        .map(|mut a| {
            if let Some(ForwardActionConfig { target_groups, .. }) = &a.forward_config
                && let [only] = target_groups.as_slice()
            {
                a.target_group_arn = only.target_group_arn.clone();
            }
            a
        })
        .collect()
}

/// The conditions without what ELBv2 fills in: a path-pattern's or host-header's values in
/// the config only.
pub fn strip_conditions(conditions: &[RuleCondition]) -> Vec<RuleCondition> {
    fill_conditions(conditions)
}

/// The actions without what ELBv2 fills in (`Order` in place, weight 1 of a lone group,
/// disabled stickiness, the redirect's request-own values).
pub fn strip_actions(actions: &[RuleAction]) -> Vec<RuleAction> {
    fill_actions(actions)
        .into_iter()
        .enumerate()
        .map(|(i, mut a)| {
            if a.order == u32::try_from(i + 1).ok() {
                a.order = None;
            }
            if let Some(f) = &mut a.forward_config {
                if f.target_groups.len() == 1 && f.target_groups[0].weight == Some(WEIGHT) {
                    f.target_groups[0].weight = None;
                }
                if f.target_group_stickiness_config
                    == Some(TargetGroupStickinessConfig {
                        enabled: Some(false),
                        duration_seconds: None,
                    })
                {
                    f.target_group_stickiness_config = None;
                }
            }
            if let Some(r) = &mut a.redirect_config {
                let drop = |v: &mut Option<String>, d: &str| {
                    if v.as_deref() == Some(d) {
                        *v = None;
                    }
                };
                drop(&mut r.protocol, REDIRECT_PROTOCOL);
                drop(&mut r.port, REDIRECT_PORT);
                drop(&mut r.host, REDIRECT_HOST);
                drop(&mut r.path, REDIRECT_PATH);
                drop(&mut r.query, REDIRECT_QUERY);
            }
            a
        })
        .collect()
}

/// A path-pattern condition (tests, the examples, the simulator's seed).
pub fn path_pattern(values: &[&str]) -> RuleCondition {
    RuleCondition {
        field: Some("path-pattern".into()),
        path_pattern_config: Some(PathPatternConditionConfig {
            values: values.iter().map(|v| v.to_string()).collect(),
            ..PathPatternConditionConfig::default()
        }),
        ..RuleCondition::default()
    }
}

/// A host-header condition.
pub fn host_header(values: &[&str]) -> RuleCondition {
    RuleCondition {
        field: Some("host-header".into()),
        host_header_config: Some(HostHeaderConditionConfig {
            values: values.iter().map(|v| v.to_string()).collect(),
            ..HostHeaderConditionConfig::default()
        }),
        ..RuleCondition::default()
    }
}

/// A forward to target groups (by ARN or name as given) with their weights.
pub fn forward(groups: &[(&str, Option<u32>)]) -> RuleAction {
    RuleAction {
        kind: ActionTypeEnum::Forward,
        target_group_arn: None,
        order: None,
        redirect_config: None,
        fixed_response_config: None,
        forward_config: Some(ForwardActionConfig {
            target_groups: groups
                .iter()
                .map(|(g, w)| {
                    let (arn, name) = if g.starts_with("arn:") {
                        (Some(g.to_string()), None)
                    } else {
                        (None, Some(g.to_string()))
                    };
                    TargetGroupTuple {
                        target_group_arn: arn,
                        weight: *w,
                        target_group_name: name,
                    }
                })
                .collect(),
            target_group_stickiness_config: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::listener_rule::{
        FixedResponseActionConfig, HttpRequestMethodConditionConfig, RedirectActionStatusCodeEnum,
    };
    use proptest::prelude::*;

    const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/shop-api/abc";
    const TG2: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/shop-web/def";

    fn by_arn(arn: &str) -> RuleAction {
        RuleAction {
            target_group_arn: Some(arn.into()),
            forward_config: None,
            ..forward(&[])
        }
    }

    /// Each row: two ways of writing the same rule part, one comparable form.
    #[test]
    fn the_forms_elbv2_accepts_compare_equal() {
        let values_form = RuleCondition {
            field: Some("path-pattern".into()),
            values: vec!["/api/*".into()],
            ..RuleCondition::default()
        };
        let both_forms = RuleCondition {
            values: vec!["/api/*".into()],
            ..path_pattern(&["/api/*"])
        };
        let host_values = RuleCondition {
            field: Some("host-header".into()),
            values: vec!["shop.example.com".into()],
            ..RuleCondition::default()
        };
        let conditions: &[(&str, Vec<RuleCondition>, Vec<RuleCondition>)] = &[
            (
                "Values vs PathPatternConfig",
                vec![values_form.clone()],
                vec![path_pattern(&["/api/*"])],
            ),
            (
                "described (both)",
                vec![both_forms],
                vec![path_pattern(&["/api/*"])],
            ),
            (
                "host Values",
                vec![host_values],
                vec![host_header(&["shop.example.com"])],
            ),
            (
                "order of conditions",
                vec![host_header(&["a"]), path_pattern(&["/x"])],
                vec![path_pattern(&["/x"]), host_header(&["a"])],
            ),
        ];
        for (name, a, b) in conditions {
            assert_eq!(fill_conditions(a), fill_conditions(b), "{name}");
        }
        let mut sticky_off = forward(&[(TG, Some(1))]);
        sticky_off
            .forward_config
            .as_mut()
            .unwrap()
            .target_group_stickiness_config = Some(TargetGroupStickinessConfig {
            enabled: Some(false),
            duration_seconds: None,
        });
        let mut ordered = forward(&[(TG, None)]);
        ordered.order = Some(1);
        let actions: &[(&str, RuleAction, RuleAction)] = &[
            (
                "TargetGroupArn vs ForwardConfig",
                by_arn(TG),
                forward(&[(TG, None)]),
            ),
            (
                "weight 1 filled",
                forward(&[(TG, None)]),
                forward(&[(TG, Some(1))]),
            ),
            ("stickiness off filled", forward(&[(TG, None)]), sticky_off),
            ("order filled", forward(&[(TG, None)]), ordered),
            (
                "target group order",
                forward(&[(TG, Some(3)), (TG2, Some(1))]),
                forward(&[(TG2, Some(1)), (TG, Some(3))]),
            ),
        ];
        for (name, a, b) in actions {
            assert_eq!(
                fill_actions(std::slice::from_ref(a)),
                fill_actions(std::slice::from_ref(b)),
                "{name}"
            );
        }
    }

    /// What the rule says still counts: a changed weight, path or status code is a diff.
    #[test]
    fn a_real_change_is_still_a_difference() {
        let pairs: &[(Vec<RuleAction>, Vec<RuleAction>)] = &[
            (
                vec![forward(&[(TG, Some(1))])],
                vec![forward(&[(TG, Some(2))])],
            ),
            (vec![forward(&[(TG, None)])], vec![forward(&[(TG2, None)])]),
            (
                vec![forward(&[(TG, Some(1)), (TG2, Some(1))])],
                vec![forward(&[(TG, Some(1))])],
            ),
        ];
        for (a, b) in pairs {
            assert_ne!(fill_actions(a), fill_actions(b));
        }
        assert_ne!(
            fill_conditions(&[path_pattern(&["/api/*"])]),
            fill_conditions(&[path_pattern(&["/api"])])
        );
    }

    #[test]
    fn described_rules_fill_to_what_was_asked() {
        let asked = vec![forward(&[(TG, None)])];
        assert_eq!(
            fill_actions(&described_actions(&asked)),
            fill_actions(&asked)
        );
        assert_eq!(
            described_actions(&asked)[0].target_group_arn.as_deref(),
            Some(TG)
        );
        let c = vec![path_pattern(&["/api/*"])];
        assert_eq!(described_conditions(&c)[0].values, ["/api/*"]);
        assert_eq!(
            fill_conditions(&described_conditions(&c)),
            fill_conditions(&c)
        );
    }

    #[test]
    fn import_strips_what_elbv2_filled() {
        let redirect = RuleAction {
            kind: ActionTypeEnum::Redirect,
            redirect_config: Some(RedirectActionConfig {
                protocol: Some("HTTPS".into()),
                port: Some("443".into()),
                host: None,
                path: None,
                query: None,
                status_code: RedirectActionStatusCodeEnum::Http301,
            }),
            forward_config: None,
            ..forward(&[])
        };
        let asked = vec![forward(&[(TG, None)])];
        assert_eq!(
            strip_actions(&described_actions(&asked)),
            strip_actions(&asked)
        );
        assert_eq!(
            strip_actions(&described_actions(&asked))[0],
            RuleAction {
                forward_config: Some(ForwardActionConfig {
                    target_groups: vec![TargetGroupTuple {
                        target_group_arn: Some(TG.into()),
                        weight: None,
                        target_group_name: None,
                    }],
                    target_group_stickiness_config: None,
                }),
                ..forward(&[])
            }
        );
        let stripped = strip_actions(&described_actions(std::slice::from_ref(&redirect)));
        assert_eq!(stripped, vec![redirect]);
    }

    fn any_action() -> impl Strategy<Value = RuleAction> {
        let tg = prop::sample::select(vec![TG, TG2]);
        prop_oneof![
            (tg.clone(), prop::option::of(0u32..999)).prop_map(|(g, w)| forward(&[(g, w)])),
            tg.prop_map(by_arn),
            (200u32..599).prop_map(|code| RuleAction {
                kind: ActionTypeEnum::FixedResponse,
                fixed_response_config: Some(FixedResponseActionConfig {
                    message_body: None,
                    status_code: code.to_string(),
                    content_type: None,
                }),
                forward_config: None,
                ..forward(&[])
            }),
        ]
    }

    fn any_condition() -> impl Strategy<Value = RuleCondition> {
        prop_oneof![
            "/[a-z]{1,4}/\\*".prop_map(|p| path_pattern(&[p.as_str()])),
            "[a-z]{1,5}\\.example\\.com".prop_map(|h| RuleCondition {
                field: Some("host-header".into()),
                values: vec![h],
                ..RuleCondition::default()
            }),
            prop::sample::select(vec!["GET", "POST"]).prop_map(|m| RuleCondition {
                field: Some("http-request-method".into()),
                http_request_method_config: Some(HttpRequestMethodConditionConfig {
                    values: vec![m.into()]
                }),
                ..RuleCondition::default()
            }),
        ]
    }

    proptest! {
        #[test]
        fn fill_is_idempotent_and_the_described_form_fills_the_same(
            actions in prop::collection::vec(any_action(), 1..3),
            conditions in prop::collection::vec(any_condition(), 1..4),
        ) {
            let filled = fill_actions(&actions);
            prop_assert_eq!(fill_actions(&filled), filled.clone());
            prop_assert_eq!(fill_actions(&described_actions(&actions)), filled.clone());
            prop_assert_eq!(fill_actions(&strip_actions(&actions)), filled);
            let c = fill_conditions(&conditions);
            prop_assert_eq!(fill_conditions(&c), c.clone());
            prop_assert_eq!(fill_conditions(&described_conditions(&conditions)), c);
        }
    }
}
