//! The `Cluster` kind: an ECS cluster (CreateCluster field names).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::generated::{ClusterConfiguration, ClusterServiceConnectDefaultsRequest};
use super::service::CapacityProviderStrategyItem;
use super::shorthand::{NameValue, PairList, Tags};

/// `spec` of a Cluster manifest. `metadata.name` is the ECS cluster name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ClusterSpec {
    /// Cluster settings: `containerInsights: enabled | enhanced | disabled` (map or the API's
    /// `[{name, value}]`).
    #[serde(default, skip_serializing_if = "PairList::is_empty")]
    pub settings: PairList<NameValue>,
    /// Capacity providers the cluster may use (`FARGATE`, `FARGATE_SPOT`, ASG providers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity_providers: Vec<String>,
    /// Strategy for services that name neither a launch type nor a strategy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// Tags (list or map).
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// ECS Exec logging and encryption, managed storage encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<ClusterConfiguration>,
    /// The Cloud Map namespace Service Connect services use by default (its ARN: DescribeClusters
    /// reports the ARN, so a name cannot be compared with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_connect_defaults: Option<ClusterServiceConnectDefaultsRequest>,
}

/// Setting names ECS knows, with their allowed values.
pub const SETTINGS: &[(&str, &[&str])] =
    &[("containerInsights", &["enabled", "enhanced", "disabled"])];
