//! The TargetGroup kind: the comparable view of a target group (its health check and
//! attributes with ELBv2's defaults from [`crate::cloud::defaults::target_group`]), the plan
//! (create, modify the health check and attributes, tag) with the modify requests derived from
//! the differing fields, and the import conversion. A group's attributes are read only when its
//! manifest sets some and its `ecs-operator/attributes-hash` tag does not say they are as the
//! manifest sets them, or a check asks for them ([`attributes_read`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::health::LiveHealth;
use super::{ImportContext, Keep, Unsupported};
use super::{KindOps, changed_fields, managed_tags, metadata, tag_map, user_tags};
use crate::cloud::defaults::target_group as defaults;
use crate::cloud::model::{
    self, CreateTargetGroup, Tags, TargetGroupHealthCheck, TargetGroupProtocol,
};
use crate::diff::{FieldChange, compare, creation};
use crate::manifest::document::ANNOTATION_SUSPEND;
use crate::manifest::shorthand::Scalar;
use crate::manifest::target_group::{IpAddressType, ProtocolVersion, TargetGroupSpec, TargetType};
use crate::manifest::{Document, Kind, Manifest, ResourceKey, Spec};
use crate::observe::{Observed, ObservedTargetGroup, Read, Wanted};
use crate::plan::{
    PlanContext, ResourcePlan, Status, Step, TAG_ATTRIBUTES_HASH, TAG_SPEC_HASH, hash,
    ownership_problem, ownership_tags, replacement_problem, tag_delta,
};

/// The TargetGroup kind.
pub struct TargetGroup;

impl KindOps for TargetGroup {
    type Spec = TargetGroupSpec;
    const KIND: Kind = Kind::TargetGroup;

    fn health(key: &ResourceKey, observed: &Observed) -> LiveHealth {
        LiveHealth::present(observed.target_groups.contains_key(&key.name))
    }

    fn keep(doc: &Document, _: &TargetGroupSpec, keep: &mut Keep) {
        keep.target_groups
            .insert(doc.manifest.metadata.name.clone());
    }

    /// The group, its attributes and its tags.
    type Live<'a> = (
        &'a model::TargetGroup,
        &'a BTreeMap<String, String>,
        &'a Tags,
    );

    fn import(
        (group, attributes, tags): Self::Live<'_>,
        ctx: &ImportContext<'_>,
    ) -> Result<Manifest, Unsupported> {
        Ok(import(group, attributes, tags, ctx.adopt))
    }

    fn want(doc: &Document, _: &TargetGroupSpec, wanted: &mut Wanted) {
        wanted
            .target_groups
            .insert(doc.manifest.metadata.name.clone());
    }

    fn plan(
        ctx: &PlanContext,
        doc: &Document,
        spec: &TargetGroupSpec,
        observed: &Observed,
    ) -> Result<ResourcePlan, Read> {
        plan(ctx, doc, spec, observed)
    }
}

// ---- the view ------------------------------------------------------------------------------

/// Fields of a target group ELBv2 cannot change in place.
pub const TARGET_GROUP_IMMUTABLE: &[&str] = &[
    "protocol",
    "protocolVersion",
    "port",
    "vpcId",
    "targetType",
    "ipAddressType",
    "targetControlPort",
];

/// The target group fields the operator manages, with ELBv2's defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupView {
    /// Protocol (needs replacement to change).
    pub protocol: Option<TargetGroupProtocol>,
    /// HTTP version (needs replacement to change).
    pub protocol_version: Option<ProtocolVersion>,
    /// Port (needs replacement to change).
    pub port: Option<u32>,
    /// VPC (needs replacement to change).
    pub vpc_id: Option<String>,
    /// Target type (needs replacement to change).
    pub target_type: Option<TargetType>,
    /// IP address type (needs replacement to change).
    pub ip_address_type: Option<IpAddressType>,
    /// Target optimizer control port (needs replacement to change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_control_port: Option<u32>,
    /// Health check with every default filled in.
    pub health_check: TargetGroupHealthCheck,
    /// The attributes the manifest sets.
    pub attributes: BTreeMap<String, String>,
    /// Managed tags.
    pub tags: Tags,
}

/// The view of a TargetGroup manifest (`tags` include the ownership tags).
pub fn desired_target_group(spec: &TargetGroupSpec, tags: Tags) -> TargetGroupView {
    let mut s = spec.clone();
    defaults::fill_target_group(&mut s);
    TargetGroupView {
        protocol: s.protocol,
        protocol_version: s.protocol_version,
        port: s.port,
        vpc_id: s.vpc_id,
        target_type: s.target_type,
        ip_address_type: s.ip_address_type,
        target_control_port: s.target_control_port,
        health_check: s.health_check.unwrap_or_default(),
        attributes: s.attributes.into_iter().map(|(k, v)| (k, v.0)).collect(),
        tags,
    }
}

/// The view of a live target group with its attributes and tags, shaped by the desired view
/// (which attributes and tags count): the view of [`spec_of_live`], so both sides go through
/// [`desired_target_group`] and a field is mapped once.
pub fn live_target_group(
    live: &model::TargetGroup,
    attributes: &BTreeMap<String, String>,
    tags: &Tags,
    desired: &TargetGroupView,
) -> TargetGroupView {
    let shown: BTreeMap<String, String> = attributes
        .iter()
        .filter(|(k, _)| desired.attributes.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    desired_target_group(
        &spec_of_live(live, &shown, tags),
        managed_tags(tags, &desired.tags),
    )
}

/// A live target group in the manifest's spelling, as described: nothing left out. The live
/// view and import start from it.
pub fn spec_of_live(
    live: &model::TargetGroup,
    attributes: &BTreeMap<String, String>,
    tags: &Tags,
) -> TargetGroupSpec {
    TargetGroupSpec {
        protocol: live.protocol,
        protocol_version: live.protocol_version,
        port: live.port,
        vpc_id: live.vpc_id.clone(),
        target_type: live.target_type,
        ip_address_type: live.ip_address_type,
        health_check: Some(live.health_check.clone()),
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.clone(), Scalar(v.clone())))
            .collect(),
        tags: user_tags(tags),
        target_control_port: live.target_control_port,
    }
}

// ---- the update requests, derived from the differences ------------------------------------

/// Builds one modify call from the desired view and the group's ARN.
type Request = fn(&TargetGroupView, &str) -> Step;

/// Each modify call, with the view field it changes. The other view fields:
/// [`TARGET_GROUP_IMMUTABLE`] (a change blocks the plan) and `tags` (AddTags/RemoveTags).
pub const UPDATE_TARGET_GROUP: &[(&str, Request)] = &[
    ("healthCheck", |d, arn| Step::ModifyTargetGroup {
        arn: arn.to_string(),
        health_check: d.health_check.clone(),
    }),
    ("attributes", |d, arn| Step::ModifyTargetGroupAttributes {
        arn: arn.to_string(),
        attributes: d.attributes.clone(),
    }),
];

/// The modify calls the differing fields of `changes` need, in [`UPDATE_TARGET_GROUP`]'s
/// order.
pub fn update_requests(changes: &[FieldChange], desired: &TargetGroupView, arn: &str) -> Vec<Step> {
    let changed = changed_fields(changes);
    UPDATE_TARGET_GROUP
        .iter()
        .filter(|(field, _)| changed.contains(field))
        .map(|(_, request)| request(desired, arn))
        .collect()
}

// ---- the plan ------------------------------------------------------------------------------

/// The value of [`TAG_ATTRIBUTES_HASH`] for the attributes a manifest sets (none when it
/// sets none: then no attribute is compared, and none is read).
pub fn attributes_hash(attributes: &BTreeMap<String, String>) -> Option<String> {
    (!attributes.is_empty()).then(|| hash(attributes))
}

/// Whether the plan must read the group's attributes before comparing: when the manifest sets
/// some (`wanted`: their [`attributes_hash`]), they were not read yet, and either a check asks
/// for them (`checked`: `--read-attributes`, the controller's cadence) or the live tag does
/// not hold that hash (missing: the group was made by hand or by an older operator; another
/// value: the manifest's attributes changed since they were set).
pub fn attributes_read(wanted: Option<&str>, live: &ObservedTargetGroup, checked: bool) -> bool {
    let Some(wanted) = wanted else {
        return false;
    };
    if live.attributes.is_some() {
        return false;
    }
    checked || live.tags.get(TAG_ATTRIBUTES_HASH).map(String::as_str) != Some(wanted)
}

/// The names of the target groups among `documents` whose attributes are compared (their
/// manifests set some and are not suspended): the groups the controller's checks read.
pub fn with_attributes(documents: &[Document]) -> std::collections::BTreeSet<String> {
    documents
        .iter()
        .filter(|d| !d.manifest.metadata.flag(ANNOTATION_SUSPEND))
        .filter(|d| matches!(&d.manifest.spec, Spec::TargetGroup(s) if !s.attributes.is_empty()))
        .map(|d| d.manifest.metadata.name.clone())
        .collect()
}

/// The plan of a TargetGroup manifest; `Err` names the attributes to read first
/// ([`attributes_read`]). Unread attributes are taken as the manifest sets them (the tag says
/// so).
pub fn plan(
    ctx: &PlanContext,
    doc: &Document,
    spec: &TargetGroupSpec,
    observed: &Observed,
) -> Result<ResourcePlan, Read> {
    if doc.manifest.metadata.flag(ANNOTATION_SUSPEND) {
        return Ok(ResourcePlan::new(doc, Status::Suspended));
    }
    let name = &doc.manifest.metadata.name;
    let desired = desired_target_group(spec, ownership_tags(ctx, doc, tag_map(&spec.tags)));
    let wanted_hash = attributes_hash(&desired.attributes);
    let mut want_tags = desired.tags.clone();
    want_tags.insert(TAG_SPEC_HASH.into(), hash(&desired));
    if let Some(h) = &wanted_hash {
        want_tags.insert(TAG_ATTRIBUTES_HASH.into(), h.clone());
    }
    let Some(live) = observed.target_groups.get(name) else {
        let mut p = ResourcePlan::new(doc, Status::Create);
        p.steps.push(Step::CreateTargetGroup {
            input: CreateTargetGroup {
                name: name.clone(),
                protocol: spec.protocol,
                protocol_version: spec.protocol_version,
                port: spec.port,
                vpc_id: spec.vpc_id.clone(),
                target_type: spec.target_type,
                ip_address_type: spec.ip_address_type,
                health_check: spec.health_check.clone().unwrap_or_default(),
                target_control_port: spec.target_control_port,
                tags: want_tags,
            },
            attributes: desired.attributes.clone(),
        });
        p.changes = creation(&desired);
        return Ok(p);
    };
    if let Some(reason) = ownership_problem(ctx, doc, &live.tags) {
        return Ok(ResourcePlan::blocked(doc, reason));
    }
    let checked = observed.attribute_checks.forces(name);
    if attributes_read(wanted_hash.as_deref(), live, checked) {
        return Err(Read::TargetGroupAttributes(name.clone()));
    }
    let attributes = live.attributes.as_ref().unwrap_or(&desired.attributes);
    let live_view = live_target_group(&live.group, attributes, &live.tags, &desired);
    let changes = compare(&live_view, &desired);
    if changes.is_empty() {
        return Ok(ResourcePlan::new(doc, Status::InSync));
    }
    if let Some(reason) = replacement_problem(&changes, TARGET_GROUP_IMMUTABLE, "spec.") {
        let mut p = ResourcePlan::blocked(doc, reason);
        p.changes = changes;
        return Ok(p);
    }
    let mut p = ResourcePlan::new(doc, Status::Update);
    let arn = live.group.arn.clone();
    p.steps.extend(update_requests(&changes, &desired, &arn));
    // After the modify calls: a tag names only attributes that were set.
    let (set, remove) = tag_delta(&live.tags, &want_tags, &desired.tags);
    if !set.is_empty() {
        p.steps.push(Step::AddTargetGroupTags {
            arn: arn.clone(),
            tags: set,
        });
    }
    if !remove.is_empty() {
        p.steps
            .push(Step::RemoveTargetGroupTags { arn, keys: remove });
    }
    p.changes = changes;
    Ok(p)
}

// ---- import --------------------------------------------------------------------------------

/// The TargetGroup manifest of a live target group with its attributes and tags.
pub fn import(
    live: &model::TargetGroup,
    attributes: &BTreeMap<String, String>,
    tags: &Tags,
    adopt: bool,
) -> Manifest {
    let mut spec = defaults::strip_target_group(&spec_of_live(live, attributes, tags));
    // Kept even at its default (`instance`): validation checks it against the services.
    spec.target_type = Some(live.target_type.unwrap_or(defaults::TARGET_TYPE));
    Manifest {
        metadata: metadata(&live.name, adopt),
        spec: Spec::TargetGroup(spec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::compare;
    use crate::manifest::target_group::Matcher;

    fn own_tags() -> Tags {
        [
            ("ecs-operator/managed-by".to_string(), "op".to_string()),
            ("team".into(), "shop".into()),
        ]
        .into()
    }

    #[test]
    fn target_group_defaults_are_not_drift() {
        let spec = TargetGroupSpec {
            protocol: Some(TargetGroupProtocol::Http),
            port: Some(8000),
            vpc_id: Some("vpc-1".into()),
            target_type: Some(TargetType::Ip),
            health_check: Some(TargetGroupHealthCheck {
                path: Some("/health".into()),
                ..Default::default()
            }),
            attributes: [(
                "deregistration_delay.timeout_seconds".to_string(),
                Scalar("30".into()),
            )]
            .into(),
            ..Default::default()
        };
        let d = desired_target_group(&spec, own_tags());
        let live = model::TargetGroup {
            name: "tg".into(),
            protocol: Some(TargetGroupProtocol::Http),
            protocol_version: Some(ProtocolVersion::Http1),
            port: Some(8000),
            vpc_id: Some("vpc-1".into()),
            target_type: Some(TargetType::Ip),
            ip_address_type: Some(IpAddressType::Ipv4),
            health_check: TargetGroupHealthCheck {
                enabled: Some(true),
                protocol: Some(TargetGroupProtocol::Http),
                port: Some(Scalar("traffic-port".into())),
                path: Some("/health".into()),
                interval_seconds: Some(30),
                timeout_seconds: Some(5),
                healthy_threshold_count: Some(5),
                unhealthy_threshold_count: Some(2),
                matcher: Some(Matcher {
                    http_code: Some("200".into()),
                    grpc_code: None,
                }),
            },
            ..Default::default()
        };
        let attrs: BTreeMap<String, String> = [
            (
                "deregistration_delay.timeout_seconds".to_string(),
                "30".to_string(),
            ),
            ("stickiness.enabled".to_string(), "false".to_string()),
        ]
        .into();
        assert!(compare(&live_target_group(&live, &attrs, &own_tags(), &d), &d).is_empty());
        let mut drifted = live.clone();
        drifted.health_check.path = Some("/".into());
        let c = compare(&live_target_group(&drifted, &attrs, &own_tags(), &d), &d);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].path.to_string(), "healthCheck.path");
    }

    #[test]
    fn every_view_field_has_a_modify_call_or_is_immutable_or_tags() {
        // Every optional view field set, so that each is serialized.
        let spec = TargetGroupSpec {
            target_control_port: Some(7000),
            ..TargetGroupSpec::default()
        };
        let d = desired_target_group(&spec, own_tags());
        let covered: Vec<&str> = UPDATE_TARGET_GROUP
            .iter()
            .map(|(f, _)| *f)
            .chain(TARGET_GROUP_IMMUTABLE.iter().copied())
            .chain(["tags"])
            .collect();
        let fields: Vec<String> = serde_json::to_value(&d)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        for field in &fields {
            assert!(
                covered.contains(&field.as_str()),
                "{field} has no modify call"
            );
        }
        assert_eq!(fields.len(), covered.len(), "{fields:?}");
        let change = |field: &str| crate::diff::FieldChange {
            path: crate::manifest::path::FieldPath::root().key(field.to_string()),
            old: None,
            new: None,
        };
        let ops = |changes: &[crate::diff::FieldChange]| -> Vec<&'static str> {
            update_requests(changes, &d, "arn:tg")
                .iter()
                .map(Step::operation)
                .collect()
        };
        assert_eq!(ops(&[change("healthCheck")]), ["ModifyTargetGroup"]);
        assert_eq!(
            ops(&[change("attributes")]),
            ["ModifyTargetGroupAttributes"]
        );
        assert_eq!(ops(&[change("tags")]), Vec::<&str>::new());
    }
}
