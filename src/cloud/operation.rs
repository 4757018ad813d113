//! The one catalogue of the AWS operations: each [`Operation`]'s AWS spelling, its service
//! and the throttling [`Bucket`] it draws from, and AWS's default [`Shape`] of each bucket.
//! The rate limiter, the simulator's throttling, the fault injection and the metrics labels
//! all read this table; a new operation is one line of the `catalogue!` below.
//!
//! The catalogue also holds operations the traits do not make yet (ListClusters,
//! DescribeListeners, ...): their buckets are AWS's, and the issues that add the calls only
//! flip their `called` flag.

use std::fmt;

/// The AWS service an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AwsService {
    /// Amazon ECS.
    Ecs,
    /// Elastic Load Balancing v2.
    Elbv2,
    /// Amazon DynamoDB: only the leader election's lease item (`crate::lease`) and
    /// `lease create-table`.
    Dynamodb,
    /// Application Auto Scaling: a Service's `spec.autoScaling`.
    ApplicationAutoScaling,
}

impl AwsService {
    /// The metrics label (`ecs`, `elbv2`).
    pub const fn as_str(self) -> &'static str {
        match self {
            AwsService::Ecs => "ecs",
            AwsService::Elbv2 => "elbv2",
            AwsService::Dynamodb => "dynamodb",
            AwsService::ApplicationAutoScaling => "application-autoscaling",
        }
    }
}

impl fmt::Display for AwsService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// AWS's throttling buckets (per account and Region) of the ECS and ELBv2 actions, and the
/// operator's own bucket of its DynamoDB lease calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    /// DescribeServices, ListServices.
    ServiceRead,
    /// CreateService, UpdateService, DeleteService.
    ServiceModify,
    /// RegisterTaskDefinition, DeregisterTaskDefinition.
    TaskDefinitionModify,
    /// DescribeTaskDefinition, ListTaskDefinitions, ListTaskDefinitionFamilies.
    TaskDefinitionRead,
    /// TagResource, UntagResource.
    TagModify,
    /// ListTagsForResource.
    TagRead,
    /// DescribeClusters, ListClusters.
    ClusterRead,
    /// CreateCluster, UpdateCluster, PutClusterCapacityProviders, DeleteCluster.
    ClusterModify,
    /// DescribeTasks, ListTasks.
    ClusterResourceRead,
    /// DescribeServiceDeployments, ListServiceDeployments.
    ServiceDeploymentRead,
    /// ELBv2 DescribeTargetGroups, DescribeTargetHealth, DescribeTags,
    /// DescribeTargetGroupAttributes, DescribeLoadBalancers, DescribeListeners, DescribeRules.
    Elbv2Describe,
    /// ELBv2 CreateTargetGroup, ModifyTargetGroup, ModifyTargetGroupAttributes, AddTags,
    /// RemoveTags, DeleteTargetGroup, CreateRule, ModifyRule, SetRulePriorities, DeleteRule.
    Elbv2Modify,
    /// ELBv2 RegisterTargets, DeregisterTargets.
    Elbv2Registration,
    /// Every ELBv2 action, on top of its own bucket.
    Elbv2Account,
    /// DynamoDB GetItem, PutItem, UpdateItem, DeleteItem of the lease item, and the
    /// CreateTable, UpdateTimeToLive, DescribeTable of `lease create-table`. DynamoDB has no
    /// per-account request bucket like ECS's (an on-demand table takes thousands of writes a
    /// second); this one is the operator's own guard: one process makes one lease call per
    /// renew interval (5 s by default), so a burst of 10 refilled at 2 a second never delays a
    /// normal renew and still stops a runaway loop from writing the table hundreds of times a
    /// second.
    DynamodbLease,
    /// Application Auto Scaling DescribeScalableTargets, DescribeScalingPolicies,
    /// DescribeScheduledActions. AWS documents no token buckets for Application Auto Scaling
    /// (its API reference only names ThrottlingException / RateExceeded), so this shape is the
    /// operator's conservative guess, half of ECS's service read bucket: 50 / 10 (configurable
    /// with `--rate-limit`). A quiet resync reads one page per 50 services (targets) and per
    /// 10 policies, far below it.
    AutoScalingRead,
    /// Application Auto Scaling RegisterScalableTarget, PutScalingPolicy,
    /// DeleteScalingPolicy, PutScheduledAction, DeleteScheduledAction,
    /// DeregisterScalableTarget: the operator's guess as above, ECS's service modify shape
    /// halved: 20 / 2.
    AutoScalingModify,
}

impl Bucket {
    /// Every bucket.
    pub const ALL: [Bucket; 17] = [
        Bucket::ServiceRead,
        Bucket::ServiceModify,
        Bucket::TaskDefinitionModify,
        Bucket::TaskDefinitionRead,
        Bucket::TagModify,
        Bucket::TagRead,
        Bucket::ClusterRead,
        Bucket::ClusterModify,
        Bucket::ClusterResourceRead,
        Bucket::ServiceDeploymentRead,
        Bucket::Elbv2Describe,
        Bucket::Elbv2Modify,
        Bucket::Elbv2Registration,
        Bucket::Elbv2Account,
        Bucket::DynamodbLease,
        Bucket::AutoScalingRead,
        Bucket::AutoScalingModify,
    ];

    /// The name in flags and metric labels (`task-definition-modify`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Bucket::ServiceRead => "service-read",
            Bucket::ServiceModify => "service-modify",
            Bucket::TaskDefinitionModify => "task-definition-modify",
            Bucket::TaskDefinitionRead => "task-definition-read",
            Bucket::TagModify => "tag-modify",
            Bucket::TagRead => "tag-read",
            Bucket::ClusterRead => "cluster-read",
            Bucket::ClusterModify => "cluster-modify",
            Bucket::ClusterResourceRead => "cluster-resource-read",
            Bucket::ServiceDeploymentRead => "service-deployment-read",
            Bucket::Elbv2Describe => "elbv2-describe",
            Bucket::Elbv2Modify => "elbv2-modify",
            Bucket::Elbv2Registration => "elbv2-registration",
            Bucket::Elbv2Account => "elbv2-account",
            Bucket::DynamodbLease => "dynamodb-lease",
            Bucket::AutoScalingRead => "autoscaling-read",
            Bucket::AutoScalingModify => "autoscaling-modify",
        }
    }

    /// The bucket of this name (`service-read`).
    pub fn from_name(name: &str) -> Option<Bucket> {
        Bucket::ALL.into_iter().find(|b| b.as_str() == name)
    }

    /// AWS's shape of the bucket (aws-api-facts.md): the rate limiter's default and the
    /// simulator's throttling.
    pub const fn aws_default(self) -> Shape {
        let (burst, refill) = match self {
            Bucket::ServiceRead => (100, 20.0),
            Bucket::ServiceModify => (50, 5.0),
            Bucket::TaskDefinitionModify => (20, 1.0),
            Bucket::TaskDefinitionRead => (50, 20.0),
            Bucket::TagModify => (20, 10.0),
            Bucket::TagRead => (50, 20.0),
            Bucket::ClusterRead => (50, 20.0),
            Bucket::ClusterModify => (20, 1.0),
            Bucket::ClusterResourceRead => (100, 20.0),
            Bucket::ServiceDeploymentRead => (50, 20.0),
            Bucket::Elbv2Describe => (40, 10.0),
            Bucket::Elbv2Modify => (20, 3.0),
            Bucket::Elbv2Registration => (20, 4.0),
            Bucket::Elbv2Account => (40, 10.0),
            Bucket::DynamodbLease => (10, 2.0),
            Bucket::AutoScalingRead => (50, 10.0),
            Bucket::AutoScalingModify => (20, 2.0),
        };
        Shape::new(burst, refill)
    }

    /// The buckets a call of an operation whose own bucket is this one takes a token from:
    /// this one, and for ELBv2 also [`Bucket::Elbv2Account`].
    const fn drawn(self) -> &'static [Bucket] {
        use Bucket::*;
        match self {
            ServiceRead => &[ServiceRead],
            ServiceModify => &[ServiceModify],
            TaskDefinitionModify => &[TaskDefinitionModify],
            TaskDefinitionRead => &[TaskDefinitionRead],
            TagModify => &[TagModify],
            TagRead => &[TagRead],
            ClusterRead => &[ClusterRead],
            ClusterModify => &[ClusterModify],
            ClusterResourceRead => &[ClusterResourceRead],
            ServiceDeploymentRead => &[ServiceDeploymentRead],
            Elbv2Describe => &[Elbv2Describe, Elbv2Account],
            Elbv2Modify => &[Elbv2Modify, Elbv2Account],
            Elbv2Registration => &[Elbv2Registration, Elbv2Account],
            Elbv2Account => &[Elbv2Account],
            DynamodbLease => &[DynamodbLease],
            AutoScalingRead => &[AutoScalingRead],
            AutoScalingModify => &[AutoScalingModify],
        }
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The size and refill rate of one token bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Tokens a full bucket holds (the burst, at least 1).
    pub burst: u32,
    /// Tokens added per second, up to `burst` (the sustained rate).
    pub refill_per_second: f64,
}

impl Shape {
    /// A bucket of `burst` tokens refilled at `refill_per_second`.
    pub const fn new(burst: u32, refill_per_second: f64) -> Shape {
        Shape {
            burst,
            refill_per_second,
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.burst, self.refill_per_second)
    }
}

/// What the catalogue knows of one operation.
#[derive(Debug, Clone, Copy)]
struct Spec {
    name: &'static str,
    service: AwsService,
    bucket: Bucket,
    /// The `Ecs`/`Elbv2` traits make this call.
    called: bool,
}

/// The traits make the call: see [`Spec::called`].
const CALLED: bool = true;
/// In the catalogue for its bucket; the traits do not make the call yet.
const NOT_YET: bool = false;

const fn ecs(name: &'static str, bucket: Bucket, called: bool) -> Spec {
    Spec {
        name,
        service: AwsService::Ecs,
        bucket,
        called,
    }
}

const fn elbv2(name: &'static str, bucket: Bucket, called: bool) -> Spec {
    Spec {
        name,
        service: AwsService::Elbv2,
        bucket,
        called,
    }
}

const fn autoscaling(name: &'static str, bucket: Bucket, called: bool) -> Spec {
    Spec {
        name,
        service: AwsService::ApplicationAutoScaling,
        bucket,
        called,
    }
}

const fn dynamodb(name: &'static str, bucket: Bucket, called: bool) -> Spec {
    Spec {
        name,
        service: AwsService::Dynamodb,
        bucket,
        called,
    }
}

/// Declares [`Operation`], [`Operation::ALL`] and the catalogue from one line per operation:
/// `AwsSpelling => service(OwnBucket, CALLED or NOT_YET)`.
macro_rules! catalogue {
    ($($op:ident => $service:ident($bucket:ident, $called:ident),)*) => {
        /// One AWS operation (ECS, ELBv2, DynamoDB or Application Auto Scaling action), named as
        /// AWS spells it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation {
            $(
                #[doc = concat!("`", stringify!($op), "`.")]
                $op,
            )*
        }

        impl Operation {
            /// Every operation of the catalogue, those the traits make and those they do not
            /// yet.
            pub const ALL: [Operation; [$(stringify!($op)),*].len()] = [$(Operation::$op),*];

            /// The catalogue's line of this operation.
            const fn spec(self) -> Spec {
                match self {
                    $(Operation::$op => $service(stringify!($op), Bucket::$bucket, $called),)*
                }
            }
        }
    };
}

catalogue! {
    // ECS
    DescribeClusters => ecs(ClusterRead, CALLED),
    ListClusters => ecs(ClusterRead, NOT_YET),
    CreateCluster => ecs(ClusterModify, CALLED),
    UpdateCluster => ecs(ClusterModify, CALLED),
    UpdateClusterSettings => ecs(ClusterModify, NOT_YET),
    PutClusterCapacityProviders => ecs(ClusterModify, CALLED),
    DeleteCluster => ecs(ClusterModify, NOT_YET),
    TagResource => ecs(TagModify, CALLED),
    UntagResource => ecs(TagModify, CALLED),
    ListTagsForResource => ecs(TagRead, NOT_YET),
    ListServices => ecs(ServiceRead, CALLED),
    DescribeServices => ecs(ServiceRead, CALLED),
    CreateService => ecs(ServiceModify, CALLED),
    UpdateService => ecs(ServiceModify, CALLED),
    DeleteService => ecs(ServiceModify, CALLED),
    RegisterTaskDefinition => ecs(TaskDefinitionModify, CALLED),
    DescribeTaskDefinition => ecs(TaskDefinitionRead, CALLED),
    ListTaskDefinitions => ecs(TaskDefinitionRead, CALLED),
    ListTaskDefinitionFamilies => ecs(TaskDefinitionRead, CALLED),
    DeregisterTaskDefinition => ecs(TaskDefinitionModify, CALLED),
    DescribeTasks => ecs(ClusterResourceRead, CALLED),
    ListTasks => ecs(ClusterResourceRead, CALLED),
    DescribeServiceDeployments => ecs(ServiceDeploymentRead, CALLED),
    ListServiceDeployments => ecs(ServiceDeploymentRead, CALLED),
    // ELBv2
    DescribeTargetGroups => elbv2(Elbv2Describe, CALLED),
    CreateTargetGroup => elbv2(Elbv2Modify, CALLED),
    ModifyTargetGroup => elbv2(Elbv2Modify, CALLED),
    DescribeTargetGroupAttributes => elbv2(Elbv2Describe, CALLED),
    ModifyTargetGroupAttributes => elbv2(Elbv2Modify, CALLED),
    DescribeTags => elbv2(Elbv2Describe, CALLED),
    AddTags => elbv2(Elbv2Modify, CALLED),
    RemoveTags => elbv2(Elbv2Modify, CALLED),
    DeleteTargetGroup => elbv2(Elbv2Modify, CALLED),
    DescribeTargetHealth => elbv2(Elbv2Describe, CALLED),
    // ELBv2 listener rules (issue 14); load balancers and listeners are only read.
    DescribeLoadBalancers => elbv2(Elbv2Describe, CALLED),
    DescribeListeners => elbv2(Elbv2Describe, CALLED),
    DescribeRules => elbv2(Elbv2Describe, CALLED),
    CreateRule => elbv2(Elbv2Modify, CALLED),
    ModifyRule => elbv2(Elbv2Modify, CALLED),
    SetRulePriorities => elbv2(Elbv2Modify, CALLED),
    DeleteRule => elbv2(Elbv2Modify, CALLED),
    RegisterTargets => elbv2(Elbv2Registration, NOT_YET),
    DeregisterTargets => elbv2(Elbv2Registration, NOT_YET),
    // DynamoDB: the lease store (crate::lease) and `lease create-table`, not the traits.
    GetItem => dynamodb(DynamodbLease, CALLED),
    PutItem => dynamodb(DynamodbLease, CALLED),
    UpdateItem => dynamodb(DynamodbLease, CALLED),
    DeleteItem => dynamodb(DynamodbLease, CALLED),
    CreateTable => dynamodb(DynamodbLease, CALLED),
    UpdateTimeToLive => dynamodb(DynamodbLease, CALLED),
    DescribeTable => dynamodb(DynamodbLease, CALLED),
    // Application Auto Scaling: a Service's spec.autoScaling (the AutoScaling trait).
    RegisterScalableTarget => autoscaling(AutoScalingModify, CALLED),
    DescribeScalableTargets => autoscaling(AutoScalingRead, CALLED),
    DeregisterScalableTarget => autoscaling(AutoScalingModify, CALLED),
    PutScalingPolicy => autoscaling(AutoScalingModify, CALLED),
    DescribeScalingPolicies => autoscaling(AutoScalingRead, CALLED),
    DeleteScalingPolicy => autoscaling(AutoScalingModify, CALLED),
    PutScheduledAction => autoscaling(AutoScalingModify, CALLED),
    DescribeScheduledActions => autoscaling(AutoScalingRead, CALLED),
    DeleteScheduledAction => autoscaling(AutoScalingModify, CALLED),
}

impl Operation {
    /// The AWS spelling (`DescribeServices`): error messages, metrics labels, call counters.
    pub const fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// The service answering it.
    pub const fn service(self) -> AwsService {
        self.spec().service
    }

    /// The buckets a call takes a token from: its own, and for ELBv2 also
    /// [`Bucket::Elbv2Account`].
    pub const fn buckets(self) -> &'static [Bucket] {
        self.spec().bucket.drawn()
    }

    /// True when the operator makes this call: the `Ecs`/`Elbv2` traits, or (DynamoDB) the
    /// lease store.
    pub const fn is_called(self) -> bool {
        self.spec().called
    }

    /// True for the calls of the `Ecs`/`Elbv2` traits (not the lease store's DynamoDB calls).
    pub fn is_cloud_call(self) -> bool {
        self.is_called() && self.service() != AwsService::Dynamodb
    }

    /// A read (`Describe*`, `List*`, `Get*`): a NotFound answer is normal there.
    pub fn is_read(self) -> bool {
        let name = self.as_str();
        name.starts_with("Describe") || name.starts_with("List") || name.starts_with("Get")
    }

    /// The operation of this AWS spelling.
    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.as_str() == name)
    }

    /// The operations the traits make, in catalogue order.
    pub fn called() -> impl Iterator<Item = Operation> {
        Operation::ALL.into_iter().filter(|op| op.is_called())
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many operations of `service` the traits make.
const fn count_called(service: AwsService) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < Operation::ALL.len() {
        let op = Operation::ALL[i];
        if op.is_called() && op.service() as u8 == service as u8 {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The names of the operations of `service` the traits make.
const fn called_names<const N: usize>(service: AwsService) -> [&'static str; N] {
    let mut names = [""; N];
    let mut n = 0;
    let mut i = 0;
    while i < Operation::ALL.len() {
        let op = Operation::ALL[i];
        if op.is_called() && op.service() as u8 == service as u8 {
            names[n] = op.as_str();
            n += 1;
        }
        i += 1;
    }
    names
}

/// The ECS operations the `Ecs` trait makes (AWS spelling), derived from the catalogue.
pub const ECS_OPERATIONS: &[&str] =
    &called_names::<{ count_called(AwsService::Ecs) }>(AwsService::Ecs);

/// The ELBv2 operations the `Elbv2` trait makes (AWS spelling), derived from the catalogue.
pub const ELBV2_OPERATIONS: &[&str] =
    &called_names::<{ count_called(AwsService::Elbv2) }>(AwsService::Elbv2);

/// The Application Auto Scaling operations the `AutoScaling` trait makes (AWS spelling).
pub const AUTOSCALING_OPERATIONS: &[&str] = &called_names::<
    { count_called(AwsService::ApplicationAutoScaling) },
>(AwsService::ApplicationAutoScaling);

/// The DynamoDB operations the lease store and `lease create-table` make (AWS spelling).
pub const DYNAMODB_OPERATIONS: &[&str] =
    &called_names::<{ count_called(AwsService::Dynamodb) }>(AwsService::Dynamodb);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.as_str()), Some(op));
        }
        let mut names: Vec<_> = Operation::ALL.iter().map(|o| o.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Operation::ALL.len());
        assert_eq!(Operation::from_name("SomethingNew"), None);
        for bucket in Bucket::ALL {
            assert_eq!(Bucket::from_name(bucket.as_str()), Some(bucket));
        }
    }

    #[test]
    fn elbv2_operations_also_draw_from_the_account_bucket_and_ecs_ones_never() {
        for op in Operation::ALL {
            let buckets = op.buckets();
            match op.service() {
                AwsService::Ecs | AwsService::Dynamodb | AwsService::ApplicationAutoScaling => {
                    assert_eq!(buckets.len(), 1, "{op}");
                    assert!(!buckets.contains(&Bucket::Elbv2Account), "{op}");
                }
                AwsService::Elbv2 => {
                    assert_eq!(buckets.len(), 2, "{op}");
                    assert_eq!(buckets[1], Bucket::Elbv2Account, "{op}");
                }
            }
        }
    }

    #[test]
    fn the_derived_lists_are_the_called_operations_of_each_service() {
        assert_eq!(ECS_OPERATIONS.len(), 20);
        assert_eq!(ELBV2_OPERATIONS.len(), 17);
        assert_eq!(DYNAMODB_OPERATIONS.len(), 7);
        assert_eq!(AUTOSCALING_OPERATIONS.len(), 9);
        for op in Operation::called() {
            let list = match op.service() {
                AwsService::Ecs => ECS_OPERATIONS,
                AwsService::Elbv2 => ELBV2_OPERATIONS,
                AwsService::Dynamodb => DYNAMODB_OPERATIONS,
                AwsService::ApplicationAutoScaling => AUTOSCALING_OPERATIONS,
            };
            assert!(list.contains(&op.as_str()), "{op}");
        }
    }
}
