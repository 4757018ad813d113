//! A manifest document: `apiVersion`, `kind`, `metadata`, `spec`, and the identity
//! ([`ResourceKey`]) the rest of the operator keys its work by.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::cluster::ClusterSpec;
use super::listener_rule::ListenerRuleSpec;
use super::service::ServiceSpec;
use super::shorthand::Scalar;
use super::target_group::TargetGroupSpec;

/// The only `apiVersion` this release reads.
pub const API_VERSION: &str = "ecs-operator/v1";
/// Annotation that makes the operator skip a resource (`"true"`).
pub const ANNOTATION_SUSPEND: &str = "ecs-operator/suspend";
/// Annotation that lets the operator take over an existing resource it did not create.
pub const ANNOTATION_ADOPT: &str = "ecs-operator/adopt";
/// Every annotation under the `ecs-operator/` prefix the operator knows.
pub const KNOWN_ANNOTATIONS: &[&str] = &[ANNOTATION_SUSPEND, ANNOTATION_ADOPT, ANNOTATION_REDEPLOY];
/// Annotation of a Service: when its value changes, the operator starts a new deployment
/// (UpdateService forceNewDeployment), like `kubectl rollout restart`.
pub const ANNOTATION_REDEPLOY: &str = "ecs-operator/redeploy";

/// The kinds of resource a manifest can describe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Kind {
    /// An ECS cluster.
    Cluster,
    /// An ELBv2 target group.
    TargetGroup,
    /// An ELBv2 listener rule (after target groups, which it forwards to, and before
    /// services: ECS attaches a service only to a target group a load balancer uses).
    ListenerRule,
    /// An ECS service with its task definition.
    Service,
}

impl Kind {
    /// Every kind, in apply order (clusters, target groups, listener rules, then services).
    pub const ALL: [Kind; 4] = [
        Kind::Cluster,
        Kind::TargetGroup,
        Kind::ListenerRule,
        Kind::Service,
    ];

    /// The kind's name as written in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cluster => "Cluster",
            Kind::TargetGroup => "TargetGroup",
            Kind::ListenerRule => "ListenerRule",
            Kind::Service => "Service",
        }
    }

    /// Parses `kind:` (exact spelling).
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identity of a resource: kind, cluster (services only) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ResourceKey {
    /// The kind.
    pub kind: Kind,
    /// The cluster of a Service; `None` for clusters and target groups.
    pub cluster: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl fmt::Display for ResourceKey {
    /// `Service/shop/api`, `TargetGroup/shop-api`, `Cluster/shop`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cluster {
            Some(c) => write!(f, "{}/{}/{}", self.kind, c, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// `metadata` of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Metadata {
    /// The AWS name of the resource (ECS service or cluster name, target group name).
    pub name: String,
    /// Operator switches: `ecs-operator/suspend`, `ecs-operator/adopt` (`"true"`/`"false"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, Scalar>,
}

impl Metadata {
    /// True when the annotation is set to `"true"`.
    pub fn flag(&self, annotation: &str) -> bool {
        self.annotations
            .get(annotation)
            .is_some_and(|v| v.0 == "true")
    }
}

/// The kind-specific part of a manifest. Serialized as the spec alone (untagged), the way
/// [`Manifest::content_hash`] hashes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Spec {
    /// A Cluster's spec.
    Cluster(ClusterSpec),
    /// A TargetGroup's spec.
    TargetGroup(TargetGroupSpec),
    /// A ListenerRule's spec.
    ListenerRule(ListenerRuleSpec),
    /// A Service's spec (boxed: it is much larger than the others).
    Service(Box<ServiceSpec>),
}

impl Spec {
    /// The kind this spec belongs to.
    pub fn kind(&self) -> Kind {
        match self {
            Spec::Cluster(_) => Kind::Cluster,
            Spec::TargetGroup(_) => Kind::TargetGroup,
            Spec::ListenerRule(_) => Kind::ListenerRule,
            Spec::Service(_) => Kind::Service,
        }
    }
}

/// One decoded manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Name and annotations.
    pub metadata: Metadata,
    /// The desired state.
    pub spec: Spec,
}

impl Manifest {
    /// The manifest's kind.
    pub fn kind(&self) -> Kind {
        self.spec.kind()
    }

    /// The resource identity.
    pub fn key(&self) -> ResourceKey {
        ResourceKey {
            kind: self.kind(),
            cluster: match &self.spec {
                Spec::Service(s) => Some(s.cluster.clone()),
                _ => None,
            },
            name: self.metadata.name.clone(),
        }
    }

    /// Stable hash of the manifest's kind, metadata and spec (not of its formatting or
    /// comments): the source's change detection and the held-back tag compare it. A loaded
    /// [`super::Document`] keeps its own once computed (`Document::content_hash`).
    pub fn content_hash(&self) -> String {
        super::hash::content_hash(&(self.kind().as_str(), &self.metadata, &self.spec))
    }

    /// The Service spec, if this is a Service.
    pub fn as_service(&self) -> Option<&ServiceSpec> {
        match &self.spec {
            Spec::Service(s) => Some(s),
            _ => None,
        }
    }

    /// The TargetGroup spec, if this is a TargetGroup.
    pub fn as_target_group(&self) -> Option<&TargetGroupSpec> {
        match &self.spec {
            Spec::TargetGroup(s) => Some(s),
            _ => None,
        }
    }

    /// The ListenerRule spec, if this is a ListenerRule.
    pub fn as_listener_rule(&self) -> Option<&ListenerRuleSpec> {
        match &self.spec {
            Spec::ListenerRule(s) => Some(s),
            _ => None,
        }
    }

    /// The Cluster spec, if this is a Cluster.
    pub fn as_cluster(&self) -> Option<&ClusterSpec> {
        match &self.spec {
            Spec::Cluster(s) => Some(s),
            _ => None,
        }
    }
}
