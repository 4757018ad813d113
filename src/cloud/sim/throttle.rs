//! AWS's request throttling: one token bucket per group of actions, per account and Region,
//! refilled on tokio time. Shapes default to aws-api-facts.md and can be overridden through
//! [`SimConfig::buckets`](super::SimConfig::buckets). ELBv2 calls also take a token from the
//! account-wide ELBv2 bucket.

use std::collections::BTreeMap;

use tokio::time::Instant;

/// The size and refill rate of one token bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketShape {
    /// Tokens a full bucket holds (the burst).
    pub burst: u32,
    /// Tokens added per second, up to `burst` (the sustained rate).
    pub refill_per_second: f64,
}

impl BucketShape {
    /// A bucket of `burst` tokens refilled at `refill_per_second`.
    pub const fn new(burst: u32, refill_per_second: f64) -> BucketShape {
        BucketShape {
            burst,
            refill_per_second,
        }
    }
}

/// Every bucket the simulated APIs use (burst / refill per second).
#[derive(Debug, Clone, PartialEq)]
pub struct Buckets {
    /// DescribeServices, ListServices (100 / 20).
    pub ecs_service_read: BucketShape,
    /// CreateService, UpdateService, DeleteService (50 / 5).
    pub ecs_service_modify: BucketShape,
    /// RegisterTaskDefinition, DeregisterTaskDefinition (20 / 1).
    pub ecs_task_definition_modify: BucketShape,
    /// DescribeTaskDefinition, ListTaskDefinitions (50 / 20).
    pub ecs_task_definition_read: BucketShape,
    /// TagResource, UntagResource (20 / 10).
    pub ecs_tag_modify: BucketShape,
    /// DescribeClusters (50 / 20).
    pub ecs_cluster_read: BucketShape,
    /// CreateCluster, UpdateCluster, PutClusterCapacityProviders (20 / 1).
    pub ecs_cluster_modify: BucketShape,
    /// DescribeTargetGroups, DescribeTargetHealth, DescribeTags,
    /// DescribeTargetGroupAttributes (40 / 10).
    pub elbv2_describe: BucketShape,
    /// CreateTargetGroup, ModifyTargetGroup, ModifyTargetGroupAttributes, AddTags,
    /// RemoveTags, DeleteTargetGroup (20 / 3).
    pub elbv2_modify: BucketShape,
    /// Every ELBv2 action, on top of its own bucket (40 / 10).
    pub elbv2_account: BucketShape,
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets {
            ecs_service_read: BucketShape::new(100, 20.0),
            ecs_service_modify: BucketShape::new(50, 5.0),
            ecs_task_definition_modify: BucketShape::new(20, 1.0),
            ecs_task_definition_read: BucketShape::new(50, 20.0),
            ecs_tag_modify: BucketShape::new(20, 10.0),
            ecs_cluster_read: BucketShape::new(50, 20.0),
            ecs_cluster_modify: BucketShape::new(20, 1.0),
            elbv2_describe: BucketShape::new(40, 10.0),
            elbv2_modify: BucketShape::new(20, 3.0),
            elbv2_account: BucketShape::new(40, 10.0),
        }
    }
}

/// Names of the buckets, as keys of [`Throttle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum BucketId {
    EcsServiceRead,
    EcsServiceModify,
    EcsTaskDefinitionModify,
    EcsTaskDefinitionRead,
    EcsTagModify,
    EcsClusterRead,
    EcsClusterModify,
    Elbv2Describe,
    Elbv2Modify,
    Elbv2Account,
}

impl BucketId {
    fn shape(self, b: &Buckets) -> BucketShape {
        match self {
            BucketId::EcsServiceRead => b.ecs_service_read,
            BucketId::EcsServiceModify => b.ecs_service_modify,
            BucketId::EcsTaskDefinitionModify => b.ecs_task_definition_modify,
            BucketId::EcsTaskDefinitionRead => b.ecs_task_definition_read,
            BucketId::EcsTagModify => b.ecs_tag_modify,
            BucketId::EcsClusterRead => b.ecs_cluster_read,
            BucketId::EcsClusterModify => b.ecs_cluster_modify,
            BucketId::Elbv2Describe => b.elbv2_describe,
            BucketId::Elbv2Modify => b.elbv2_modify,
            BucketId::Elbv2Account => b.elbv2_account,
        }
    }
}

/// The buckets an operation draws from: its own, and for ELBv2 the account bucket.
fn buckets_of(operation: &str) -> (Option<BucketId>, bool) {
    use BucketId::*;
    match operation {
        "DescribeServices" | "ListServices" => (Some(EcsServiceRead), false),
        "CreateService" | "UpdateService" | "DeleteService" => (Some(EcsServiceModify), false),
        "RegisterTaskDefinition" | "DeregisterTaskDefinition" => {
            (Some(EcsTaskDefinitionModify), false)
        }
        "DescribeTaskDefinition" | "ListTaskDefinitions" => (Some(EcsTaskDefinitionRead), false),
        "TagResource" | "UntagResource" => (Some(EcsTagModify), false),
        "DescribeClusters" => (Some(EcsClusterRead), false),
        "CreateCluster" | "UpdateCluster" | "PutClusterCapacityProviders" => {
            (Some(EcsClusterModify), false)
        }
        "DescribeTargetGroups"
        | "DescribeTargetHealth"
        | "DescribeTags"
        | "DescribeTargetGroupAttributes" => (Some(Elbv2Describe), true),
        "CreateTargetGroup"
        | "ModifyTargetGroup"
        | "ModifyTargetGroupAttributes"
        | "AddTags"
        | "RemoveTags"
        | "DeleteTargetGroup" => (Some(Elbv2Modify), true),
        _ => (None, false),
    }
}

/// Tokens are kept in billionths so refills on virtual time are exact.
const SCALE: u128 = 1_000_000_000;

/// One bucket: full at start, refilled lazily when a token is asked for.
#[derive(Debug, Clone)]
struct TokenBucket {
    /// Tokens, in billionths.
    tokens: u128,
    /// Capacity, in billionths.
    capacity: u128,
    /// Refill, in thousandths of a token per second.
    milli_per_second: u128,
    /// Last refill.
    last: Instant,
}

impl TokenBucket {
    fn new(shape: BucketShape, now: Instant) -> TokenBucket {
        let capacity = u128::from(shape.burst) * SCALE;
        let rate = shape.refill_per_second;
        // A NaN or negative rate means "never refills"; `as` saturates large values.
        let milli_per_second = if rate.is_finite() && rate > 0.0 {
            (rate * 1000.0).round() as u128
        } else {
            0
        };
        TokenBucket {
            tokens: capacity,
            capacity,
            milli_per_second,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_nanos();
        self.last = self.last.max(now);
        let added = elapsed.saturating_mul(self.milli_per_second) / 1000;
        self.tokens = self.tokens.saturating_add(added).min(self.capacity);
    }

    fn has_token(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= SCALE
    }

    fn take(&mut self) {
        self.tokens = self.tokens.saturating_sub(SCALE);
    }
}

/// All buckets of the account.
#[derive(Debug, Clone)]
pub(super) struct Throttle {
    shapes: Buckets,
    buckets: BTreeMap<BucketId, TokenBucket>,
}

impl Throttle {
    /// Full buckets of these shapes.
    pub(super) fn new(shapes: Buckets) -> Throttle {
        Throttle {
            shapes,
            buckets: BTreeMap::new(),
        }
    }

    /// Takes a token for `operation` from each bucket it draws from; false (and nothing
    /// taken) when one of them is empty. Operations without a bucket always pass.
    pub(super) fn try_acquire(&mut self, operation: &str, now: Instant) -> bool {
        let (own, account) = buckets_of(operation);
        let ids: Vec<BucketId> = own
            .into_iter()
            .chain(account.then_some(BucketId::Elbv2Account))
            .collect();
        for id in &ids {
            let shapes = &self.shapes;
            let bucket = self
                .buckets
                .entry(*id)
                .or_insert_with(|| TokenBucket::new(id.shape(shapes), now));
            if !bucket.has_token(now) {
                return false;
            }
        }
        for id in &ids {
            if let Some(b) = self.buckets.get_mut(id) {
                b.take();
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let shapes = Buckets {
            ecs_task_definition_modify: BucketShape::new(3, 1.0),
            ..Buckets::default()
        };
        let mut t = Throttle::new(shapes);
        let now = Instant::now();
        let granted = (0..5)
            .filter(|_| t.try_acquire("RegisterTaskDefinition", now))
            .count();
        assert_eq!(granted, 3);
        let later = now + Duration::from_millis(999);
        assert!(!t.try_acquire("RegisterTaskDefinition", later));
        let later = now + Duration::from_secs(1);
        assert!(t.try_acquire("RegisterTaskDefinition", later));
        assert!(!t.try_acquire("RegisterTaskDefinition", later));
        // The sibling action shares the bucket; an action of another bucket does not.
        assert!(!t.try_acquire("DeregisterTaskDefinition", later));
        assert!(t.try_acquire("DescribeTaskDefinition", later));
    }

    #[tokio::test(start_paused = true)]
    async fn elbv2_actions_also_drain_the_shared_account_bucket() {
        let shapes = Buckets {
            elbv2_account: BucketShape::new(2, 0.0),
            ..Buckets::default()
        };
        let mut t = Throttle::new(shapes);
        let now = Instant::now();
        assert!(t.try_acquire("DescribeTargetGroups", now));
        assert!(t.try_acquire("CreateTargetGroup", now));
        assert!(!t.try_acquire("DescribeTargetHealth", now));
        assert!(
            t.try_acquire("DescribeServices", now),
            "ECS is not affected"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_refill_never_exceeds_the_burst() {
        let shapes = Buckets {
            ecs_cluster_modify: BucketShape::new(2, 5.0),
            ..Buckets::default()
        };
        let mut t = Throttle::new(shapes);
        let later = Instant::now() + Duration::from_secs(3600);
        let granted = (0..10)
            .filter(|_| t.try_acquire("CreateCluster", later))
            .count();
        assert_eq!(granted, 2);
    }
}
