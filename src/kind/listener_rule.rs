//! The ListenerRule kind: the comparable view of a listener rule (priority, conditions and
//! actions in the one form of [`crate::cloud::defaults::listener_rule`], TargetGroup manifests
//! by ARN, managed tags), the plan (create, move its priority, modify its conditions and
//! actions, tag) with the requests derived from the differing fields, and the import.
//!
//! ELBv2 rules have no name: the manifest's `metadata.name` is the rule's tag
//! [`TAG_RULE_NAME`], and a rule is found on its listener by that tag. A priority held by a
//! rule without it is another's: the plan is blocked with the reason, unless the manifest
//! asks to adopt that rule (`ecs-operator/adopt`). Moving two rules through each other's
//! priority in one pass is not done: each waits on the other (blocked); move one through a
//! free priority.

use std::collections::BTreeMap;

use serde::Serialize;

use super::health::LiveHealth;
use super::{ImportContext, Keep, Unsupported};
use super::{KindOps, changed_fields, managed_tags, metadata, tag_map, user_tags};
use crate::cloud::defaults::listener_rule as defaults;
use crate::cloud::model::{CreateRule, Rule, RuleAction, RuleCondition, Tags};
use crate::diff::{FieldChange, compare, creation};
use crate::manifest::document::{ANNOTATION_ADOPT, ANNOTATION_SUSPEND};
use crate::manifest::listener_rule::{ListenerRef, ListenerRuleSpec};
use crate::manifest::{Document, Kind, Manifest, ResourceKey, Spec};
use crate::observe::rules::ObservedRule;
use crate::observe::{Observed, Read, Wanted};
use crate::plan::{
    PlanContext, ResourcePlan, Status, Step, TAG_MANAGED_BY, ownership_problem, ownership_tags,
    tag_delta,
};

/// Tag of a rule: the `metadata.name` of its ListenerRule manifest.
pub const TAG_RULE_NAME: &str = "ecs-operator/name";

/// The ListenerRule kind.
pub struct ListenerRule;

impl KindOps for ListenerRule {
    type Spec = ListenerRuleSpec;
    const KIND: Kind = Kind::ListenerRule;

    fn want(_: &Document, spec: &ListenerRuleSpec, wanted: &mut Wanted) {
        wanted.listeners.insert(spec.listener.clone());
        // The ARNs of the TargetGroup manifests it forwards to.
        wanted.target_group_arns.extend(
            spec.actions
                .iter()
                .filter_map(|a| a.forward_config.as_ref())
                .flat_map(|f| &f.target_groups)
                .filter_map(|t| t.target_group_name.clone()),
        );
    }

    fn plan(
        ctx: &PlanContext,
        doc: &Document,
        spec: &ListenerRuleSpec,
        observed: &Observed,
    ) -> Result<ResourcePlan, Read> {
        Ok(plan(ctx, doc, spec, observed))
    }

    fn health(key: &ResourceKey, observed: &Observed) -> LiveHealth {
        let found = observed
            .rules
            .values()
            .flatten()
            .any(|r| r.tags.get(TAG_RULE_NAME) == Some(&key.name));
        LiveHealth::present(found)
    }

    fn keep(doc: &Document, spec: &ListenerRuleSpec, keep: &mut Keep) {
        keep.listener_rules
            .insert(doc.manifest.metadata.name.clone());
        keep.listeners.insert(spec.listener.clone());
    }

    /// The rule, its tags and its listener.
    type Live<'a> = (&'a Rule, &'a Tags, ListenerRef);

    fn import(
        (rule, tags, listener): Self::Live<'_>,
        ctx: &ImportContext<'_>,
    ) -> Result<Manifest, Unsupported> {
        Ok(import(rule, tags, listener, ctx))
    }
}

// ---- the view ------------------------------------------------------------------------------

/// The rule fields the operator manages, in the comparable form.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerRuleView {
    /// Priority (SetRulePriorities).
    pub priority: Option<u32>,
    /// Conditions (ModifyRule).
    pub conditions: Vec<RuleCondition>,
    /// Actions, TargetGroup manifests by ARN where known (ModifyRule).
    pub actions: Vec<RuleAction>,
    /// Managed tags.
    pub tags: Tags,
}

/// The manifest's actions with each TargetGroup manifest's ARN where it is known (one not
/// created yet keeps its name, apply fills it in).
pub fn resolved_actions(
    actions: &[RuleAction],
    arns: &BTreeMap<String, String>,
) -> Vec<RuleAction> {
    let mut out = actions.to_vec();
    for tg in out
        .iter_mut()
        .filter_map(|a| a.forward_config.as_mut())
        .flat_map(|f| f.target_groups.iter_mut())
    {
        if let Some(arn) = tg.target_group_name.as_ref().and_then(|n| arns.get(n)) {
            tg.target_group_arn = Some(arn.clone());
            tg.target_group_name = None;
        }
    }
    out
}

/// The view of a ListenerRule manifest (`tags` include the ownership and name tags).
pub fn desired_rule(
    spec: &ListenerRuleSpec,
    arns: &BTreeMap<String, String>,
    tags: Tags,
) -> ListenerRuleView {
    ListenerRuleView {
        priority: Some(spec.priority),
        conditions: defaults::fill_conditions(&spec.conditions),
        actions: defaults::fill_actions(&resolved_actions(&spec.actions, arns)),
        tags,
    }
}

/// The view of a live rule, tags limited to the desired view's keys.
pub fn live_rule(rule: &Rule, tags: &Tags, desired: &ListenerRuleView) -> ListenerRuleView {
    ListenerRuleView {
        priority: rule.priority,
        conditions: defaults::fill_conditions(&rule.conditions),
        actions: defaults::fill_actions(&rule.actions),
        tags: managed_tags(tags, &desired.tags),
    }
}

// ---- the update requests, derived from the differences ------------------------------------

/// Builds one call from the desired view, the manifest's actions (names kept for apply) and
/// the rule's ARN.
type Request = fn(&ListenerRuleView, &[RuleAction], &str) -> Step;

fn modify(d: &ListenerRuleView, actions: &[RuleAction], arn: &str) -> Step {
    Step::ModifyRule {
        arn: arn.to_string(),
        conditions: d.conditions.clone(),
        actions: defaults::fill_actions(actions),
    }
}

/// Each call, with the view field it changes (`tags`: AddTags/RemoveTags).
pub const UPDATE_LISTENER_RULE: &[(&str, Request)] = &[
    ("priority", |d, _, arn| Step::SetRulePriority {
        arn: arn.to_string(),
        priority: d.priority.unwrap_or_default(),
    }),
    ("conditions", modify),
    ("actions", modify),
];

/// The calls the differing fields need, in [`UPDATE_LISTENER_RULE`]'s order, each once.
pub fn update_requests(
    changes: &[FieldChange],
    desired: &ListenerRuleView,
    actions: &[RuleAction],
    arn: &str,
) -> Vec<Step> {
    let changed = changed_fields(changes);
    let mut steps: Vec<Step> = Vec::new();
    for (field, request) in UPDATE_LISTENER_RULE {
        if changed.contains(field) {
            let step = request(desired, actions, arn);
            if !steps.contains(&step) {
                steps.push(step);
            }
        }
    }
    steps
}

// ---- the plan ------------------------------------------------------------------------------

/// Who holds a rule: the operator instance of its `managed-by` tag.
fn owner(r: &ObservedRule) -> Option<&String> {
    r.tags.get(TAG_MANAGED_BY)
}

/// The plan of a ListenerRule manifest.
pub fn plan(
    ctx: &PlanContext,
    doc: &Document,
    spec: &ListenerRuleSpec,
    observed: &Observed,
) -> ResourcePlan {
    if doc.manifest.metadata.flag(ANNOTATION_SUSPEND) {
        return ResourcePlan::new(doc, Status::Suspended);
    }
    let name = &doc.manifest.metadata.name;
    let Some(Some(listener_arn)) = observed.listeners.get(&spec.listener) else {
        return ResourcePlan::blocked(
            doc,
            format!(
                "listener {} does not exist; load balancers and listeners are managed \
                 elsewhere (create it there first)",
                spec.listener
            ),
        );
    };
    let rules: &[ObservedRule] = observed
        .rules
        .get(listener_arn)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut own = ownership_tags(ctx, doc, tag_map(&spec.tags));
    own.insert(TAG_RULE_NAME.into(), name.clone());
    let desired = desired_rule(spec, &ctx.target_group_arns, own);
    let holder = rules.iter().find(|r| {
        r.rule.priority == Some(spec.priority) && r.tags.get(TAG_RULE_NAME) != Some(name)
    });
    let mine = rules
        .iter()
        .find(|r| r.tags.get(TAG_RULE_NAME) == Some(name))
        .or_else(|| {
            // Adopting: the rule at the priority that no manifest names yet.
            holder.filter(|r| {
                doc.manifest.metadata.flag(ANNOTATION_ADOPT) && !r.tags.contains_key(TAG_RULE_NAME)
            })
        });
    let held_by = |r: &ObservedRule| match (r.tags.get(TAG_RULE_NAME), owner(r)) {
        (Some(other), Some(o)) if *o == ctx.instance => format!("ListenerRule/{other}"),
        (_, Some(o)) => format!("rule {} of ecs-operator instance {o:?}", r.rule.arn),
        _ => format!(
            "rule {} that ecs-operator does not own; add the annotation \
             ecs-operator/adopt: \"true\" to take it over, or choose another priority",
            r.rule.arn
        ),
    };
    let Some(live) = mine else {
        if let Some(h) = holder {
            return ResourcePlan::blocked(
                doc,
                format!(
                    "priority {} on listener {} is held by {}",
                    spec.priority,
                    spec.listener,
                    held_by(h)
                ),
            );
        }
        let mut p = ResourcePlan::new(doc, Status::Create);
        p.steps.push(Step::CreateRule(CreateRule {
            listener_arn: listener_arn.clone(),
            priority: spec.priority,
            conditions: desired.conditions.clone(),
            actions: defaults::fill_actions(&spec.actions),
            tags: desired.tags.clone(),
        }));
        p.changes = creation(&desired);
        return p;
    };
    if let Some(reason) = ownership_problem(ctx, doc, &live.tags) {
        return ResourcePlan::blocked(doc, reason);
    }
    let live_view = live_rule(&live.rule, &live.tags, &desired);
    let changes = compare(&live_view, &desired);
    if changes.is_empty() {
        return ResourcePlan::new(doc, Status::InSync);
    }
    if live_view.priority != desired.priority
        && let Some(h) = holder.filter(|h| h.rule.arn != live.rule.arn)
    {
        let mut p = ResourcePlan::blocked(
            doc,
            format!(
                "priority {} on listener {} is held by {}",
                spec.priority,
                spec.listener,
                held_by(h)
            ),
        );
        p.changes = changes;
        return p;
    }
    let mut p = ResourcePlan::new(doc, Status::Update);
    let arn = live.rule.arn.clone();
    // Tags first: a rule being adopted carries the ownership tag before it is changed (the
    // IAM policy allows ModifyRule only on rules tagged as ours).
    let (set, remove) = tag_delta(&live.tags, &desired.tags, &desired.tags);
    if !set.is_empty() {
        p.steps.push(Step::AddTargetGroupTags {
            arn: arn.clone(),
            tags: set,
        });
    }
    if !remove.is_empty() {
        p.steps.push(Step::RemoveTargetGroupTags {
            arn: arn.clone(),
            keys: remove,
        });
    }
    p.steps
        .extend(update_requests(&changes, &desired, &spec.actions, &arn));
    p.changes = changes;
    p
}

// ---- import --------------------------------------------------------------------------------

/// The name of an imported rule: its name tag, else `<listener>-<priority>`.
pub fn import_name(rule: &Rule, tags: &Tags, listener: &ListenerRef) -> String {
    if let Some(n) = tags.get(TAG_RULE_NAME) {
        return n.clone();
    }
    let base = match (&listener.load_balancer_name, listener.port) {
        (Some(lb), Some(port)) => format!("{lb}-{port}"),
        _ => "rule".to_string(),
    };
    format!("{base}-{}", rule.priority.unwrap_or_default())
}

/// The ListenerRule manifest of a live rule: forwards to the imported target groups by name.
pub fn import(
    rule: &Rule,
    tags: &Tags,
    listener: ListenerRef,
    ctx: &ImportContext<'_>,
) -> Manifest {
    let mut actions = defaults::strip_actions(&rule.actions);
    for tg in actions
        .iter_mut()
        .filter_map(|a| a.forward_config.as_mut())
        .flat_map(|f| f.target_groups.iter_mut())
    {
        if let Some(name) = tg
            .target_group_arn
            .as_ref()
            .and_then(|a| ctx.target_groups.get(a))
        {
            tg.target_group_name = Some(name.clone());
            tg.target_group_arn = None;
        }
    }
    let name = import_name(rule, tags, &listener);
    Manifest {
        metadata: metadata(&name, ctx.adopt),
        spec: Spec::ListenerRule(ListenerRuleSpec {
            listener,
            priority: rule.priority.unwrap_or_default(),
            conditions: defaults::strip_conditions(&rule.conditions),
            actions,
            tags: user_tags(tags),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::path::FieldPath;

    fn spec() -> ListenerRuleSpec {
        ListenerRuleSpec {
            listener: ListenerRef::named("shop-alb", 80),
            priority: 10,
            conditions: vec![defaults::path_pattern(&["/api/*"])],
            actions: vec![defaults::forward(&[("shop-api", None)])],
            tags: Default::default(),
        }
    }

    #[test]
    fn every_view_field_has_a_call() {
        let d = desired_rule(&spec(), &BTreeMap::new(), Tags::new());
        let fields: Vec<String> = serde_json::to_value(&d)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let covered: Vec<&str> = UPDATE_LISTENER_RULE
            .iter()
            .map(|(f, _)| *f)
            .chain(["tags"])
            .collect();
        for f in &fields {
            assert!(covered.contains(&f.as_str()), "{f} has no call");
        }
        assert_eq!(fields.len(), covered.len());
        let change = |field: &str| FieldChange {
            path: FieldPath::root().key(field.to_string()),
            old: None,
            new: None,
        };
        let ops = |c: &[FieldChange]| -> Vec<&'static str> {
            update_requests(c, &d, &spec().actions, "arn:r")
                .iter()
                .map(Step::operation)
                .collect()
        };
        assert_eq!(ops(&[change("priority")]), ["SetRulePriorities"]);
        assert_eq!(
            ops(&[change("conditions"), change("actions")]),
            ["ModifyRule"]
        );
        assert!(ops(&[change("tags")]).is_empty());
    }

    #[test]
    fn a_name_resolves_to_its_arn_and_an_unknown_one_stays() {
        let arns: BTreeMap<String, String> =
            [("shop-api".to_string(), "arn:tg/shop-api".to_string())].into();
        let a = resolved_actions(&spec().actions, &arns);
        let t = &a[0].forward_config.as_ref().unwrap().target_groups[0];
        assert_eq!(t.target_group_arn.as_deref(), Some("arn:tg/shop-api"));
        assert_eq!(t.target_group_name, None);
        let b = resolved_actions(&spec().actions, &BTreeMap::new());
        let t = &b[0].forward_config.as_ref().unwrap().target_groups[0];
        assert_eq!(t.target_group_name.as_deref(), Some("shop-api"));
    }
}
