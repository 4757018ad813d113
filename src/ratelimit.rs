//! Client-side rate limits: one token bucket per AWS throttling bucket (shapes from
//! aws-api-facts.md, overridable with `--rate-limit BUCKET=BURST/REFILL`), plus a cap on
//! calls in flight, in front of any [`Cloud`].
//!
//! [`RateLimited`] wraps a [`Cloud`] and implements [`Ecs`] and [`Elbv2`]: every call first
//! takes a token from each bucket its operation draws from ([`buckets_of`]: its own bucket,
//! and for ELBv2 also the account-wide ELBv2 bucket), then runs the inner call while it holds
//! one of [`RateLimits::max_in_flight`] permits. With the same shapes as AWS's buckets the
//! operator's calls conform to them by construction, so at steady state AWS never has to
//! throttle it (the SDK's retry on throttling stays a safety net for other clients of the
//! same account).
//!
//! # Time
//! The buckets are [governor](https://docs.rs/governor) GCRA limiters on [`TokioClock`], a
//! governor [`Clock`] over [`tokio::time::Instant`], and waiting is
//! [`tokio::time::sleep_until`] the limiter's earliest possible instant. governor's own
//! `until_ready` is not used: it sleeps on `futures_timer` (a real-time thread), which
//! paused tokio time never advances. So under `#[tokio::test(start_paused = true)]` a burst
//! waits virtual seconds, instantly.
//!
//! # Order of admission
//! A call waits for an in-flight permit, then tries every bucket it still needs without
//! waiting; when one is empty it gives the permit back and sleeps until that bucket has a
//! token. So a token is taken right before the inner call (a call never waits for a token
//! while holding a permit, and a call stuck on the slow task definition bucket never blocks
//! calls of other buckets), and a token taken is never given back. The one exception: an
//! ELBv2 call whose own token was taken while the account bucket was empty keeps it while it
//! waits for the account token.
//!
//! # Metrics
//! [`RateLimitStats`] keeps, per bucket, the calls that took a token and the total time
//! they slept for it. A [`WaitHook`] ([`RateLimited::with_wait_hook`]) is called with each
//! wait as it ends, once per bucket the call took a token from (zero when one was there):
//! [`Metrics::rate_limit_hook`](crate::metrics::Metrics::rate_limit_hook) feeds it to
//! `ecs_operator_ratelimit_wait_seconds{bucket}`.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU32;
use std::ops::Add;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::{Clock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::cloud::model::{
    CapacityProviderStrategyItem, Cluster, CreateCluster, CreateService, CreateTargetGroup,
    Described, Page, RegisteredTaskDefinition, Service, Tags, TargetGroup, TargetGroupHealthCheck,
    TargetHealth, TaskDefinition, UpdateService,
};
use crate::cloud::{Cloud, CloudResult, Ecs, Elbv2};

/// AWS's throttling buckets (per account and Region) of the ECS and ELBv2 actions.
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
    /// DescribeTargetGroupAttributes, DescribeListeners, DescribeRules.
    Elbv2Describe,
    /// ELBv2 CreateTargetGroup, ModifyTargetGroup, ModifyTargetGroupAttributes, AddTags,
    /// RemoveTags, DeleteTargetGroup.
    Elbv2Modify,
    /// ELBv2 RegisterTargets, DeregisterTargets.
    Elbv2Registration,
    /// Every ELBv2 action, on top of its own bucket.
    Elbv2Account,
}

impl Bucket {
    /// Every bucket.
    pub const ALL: [Bucket; 14] = [
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
    ];

    /// The name in flags and metric labels (`task-definition-modify`).
    pub fn as_str(self) -> &'static str {
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
        }
    }

    /// AWS's shape of the bucket (aws-api-facts.md).
    pub fn aws_default(self) -> Shape {
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
        };
        Shape {
            burst,
            refill_per_second: refill,
        }
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Bucket {
    type Err = RateLimitError;

    fn from_str(s: &str) -> Result<Bucket, RateLimitError> {
        Bucket::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| RateLimitError::UnknownBucket(s.to_string()))
    }
}

/// The buckets an AWS operation (`"DescribeServices"`, AWS spelling) takes a token from: its
/// own, and for ELBv2 also [`Bucket::Elbv2Account`]. Empty for an operation the operator
/// does not know (it is then not limited).
pub fn buckets_of(operation: &str) -> &'static [Bucket] {
    use Bucket::*;
    match operation {
        "DescribeServices" | "ListServices" => &[ServiceRead],
        "CreateService" | "UpdateService" | "DeleteService" => &[ServiceModify],
        "RegisterTaskDefinition" | "DeregisterTaskDefinition" => &[TaskDefinitionModify],
        "DescribeTaskDefinition" | "ListTaskDefinitions" | "ListTaskDefinitionFamilies" => {
            &[TaskDefinitionRead]
        }
        "TagResource" | "UntagResource" => &[TagModify],
        "ListTagsForResource" => &[TagRead],
        "DescribeClusters" | "ListClusters" => &[ClusterRead],
        "CreateCluster"
        | "UpdateCluster"
        | "UpdateClusterSettings"
        | "PutClusterCapacityProviders"
        | "DeleteCluster" => &[ClusterModify],
        "DescribeTasks" | "ListTasks" => &[ClusterResourceRead],
        "DescribeServiceDeployments" | "ListServiceDeployments" => &[ServiceDeploymentRead],
        "DescribeTargetGroups"
        | "DescribeTargetHealth"
        | "DescribeTags"
        | "DescribeTargetGroupAttributes"
        | "DescribeListeners"
        | "DescribeRules" => &[Elbv2Describe, Elbv2Account],
        "CreateTargetGroup"
        | "ModifyTargetGroup"
        | "ModifyTargetGroupAttributes"
        | "AddTags"
        | "RemoveTags"
        | "DeleteTargetGroup" => &[Elbv2Modify, Elbv2Account],
        "RegisterTargets" | "DeregisterTargets" => &[Elbv2Registration, Elbv2Account],
        _ => &[],
    }
}

/// The size and refill rate of one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Tokens a full bucket holds (at least 1).
    pub burst: u32,
    /// Tokens added per second (more than 0).
    pub refill_per_second: f64,
}

impl Shape {
    /// The governor quota of this shape. The period is rounded up to the nanosecond, so the
    /// limiter is never ahead of a bucket that refills continuously at the same rate.
    fn quota(self) -> Quota {
        let period_ns = (1e9 / self.refill_per_second).ceil().max(1.0) as u64;
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(Duration::from_nanos(period_ns))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.burst, self.refill_per_second)
    }
}

impl FromStr for Shape {
    type Err = RateLimitError;

    /// `BURST/REFILL`: `50/5`, `20/0.5`.
    fn from_str(s: &str) -> Result<Shape, RateLimitError> {
        let bad = |reason: &str| RateLimitError::BadShape {
            value: s.to_string(),
            reason: reason.to_string(),
        };
        let (burst, refill) = s
            .split_once('/')
            .ok_or_else(|| bad("expected BURST/REFILL, such as 50/5"))?;
        let burst: u32 = burst
            .trim()
            .parse()
            .map_err(|_| bad("the burst must be a whole number"))?;
        if burst == 0 {
            return Err(bad("the burst must be at least 1"));
        }
        let refill_per_second: f64 = refill
            .trim()
            .parse()
            .map_err(|_| bad("the refill must be a number of tokens per second"))?;
        // 1e9 per second is one token a nanosecond, the finest governor counts.
        if !(refill_per_second > 0.0 && refill_per_second <= 1e9) {
            return Err(bad(
                "the refill must be more than 0 and at most 1e9 per second",
            ));
        }
        Ok(Shape {
            burst,
            refill_per_second,
        })
    }
}

/// A rate limit flag that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RateLimitError {
    /// No bucket of this name.
    #[error(
        "unknown rate limit bucket {0:?} (known: {list})",
        list = Bucket::ALL.map(Bucket::as_str).join(", ")
    )]
    UnknownBucket(String),
    /// Not `BUCKET=BURST/REFILL`.
    #[error("rate limit {0:?}: expected BUCKET=BURST/REFILL, such as service-modify=50/5")]
    BadFlag(String),
    /// The shape is not a valid `BURST/REFILL`.
    #[error("rate limit shape {value:?}: {reason}")]
    BadShape {
        /// The shape as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The client-side limits: a shape per bucket and a cap on calls in flight.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimits {
    shapes: BTreeMap<Bucket, Shape>,
    /// Calls in flight at most, across ECS and ELBv2 (at least 1).
    pub max_in_flight: usize,
}

/// [`RateLimits::max_in_flight`] by default.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;

impl Default for RateLimits {
    /// AWS's shapes, [`DEFAULT_MAX_IN_FLIGHT`] calls in flight.
    fn default() -> Self {
        RateLimits {
            shapes: Bucket::ALL.map(|b| (b, b.aws_default())).into(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

impl RateLimits {
    /// The shape of a bucket.
    pub fn shape(&self, bucket: Bucket) -> Shape {
        self.shapes
            .get(&bucket)
            .copied()
            .unwrap_or_else(|| bucket.aws_default())
    }

    /// Replaces the shape of a bucket.
    pub fn set(&mut self, bucket: Bucket, shape: Shape) {
        self.shapes.insert(bucket, shape);
    }

    /// The same limits with one bucket replaced.
    pub fn with(mut self, bucket: Bucket, shape: Shape) -> Self {
        self.set(bucket, shape);
        self
    }

    /// Reads one flag value, `BUCKET=BURST/REFILL` (`service-modify=50/5`).
    pub fn parse(flag: &str) -> Result<(Bucket, Shape), RateLimitError> {
        let (bucket, shape) = flag
            .split_once('=')
            .ok_or_else(|| RateLimitError::BadFlag(flag.to_string()))?;
        Ok((bucket.trim().parse()?, shape.parse()?))
    }

    /// The defaults with every flag value of `flags` applied in order (a later flag for the
    /// same bucket wins).
    pub fn from_flags<S: AsRef<str>>(flags: &[S]) -> Result<RateLimits, RateLimitError> {
        let mut limits = RateLimits::default();
        for flag in flags {
            let (bucket, shape) = RateLimits::parse(flag.as_ref())?;
            limits.set(bucket, shape);
        }
        Ok(limits)
    }
}

/// A governor [`Clock`] reading [`tokio::time::Instant`], so paused tokio time drives the
/// buckets.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

/// A [`TokioClock`] reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TokioInstant(pub tokio::time::Instant);

impl Add<Nanos> for TokioInstant {
    type Output = TokioInstant;

    fn add(self, rhs: Nanos) -> TokioInstant {
        TokioInstant(self.0 + Duration::from(rhs))
    }
}

impl Reference for TokioInstant {
    fn duration_since(&self, earlier: Self) -> Nanos {
        Nanos::from(self.0.saturating_duration_since(earlier.0))
    }

    fn saturating_sub(&self, duration: Nanos) -> Self {
        self.0
            .checked_sub(Duration::from(duration))
            .map(TokioInstant)
            .unwrap_or(*self)
    }
}

impl Clock for TokioClock {
    type Instant = TokioInstant;

    fn now(&self) -> TokioInstant {
        TokioInstant(tokio::time::Instant::now())
    }
}

/// Waits for one bucket, per bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketWait {
    /// Calls that took a token.
    pub calls: u64,
    /// Time those calls slept waiting for a token of this bucket, in total.
    pub waited: Duration,
}

/// Token waits per bucket, for `ecs_operator_ratelimit_wait_seconds{bucket}`.
#[derive(Debug, Default)]
pub struct RateLimitStats {
    by_bucket: Mutex<BTreeMap<Bucket, BucketWait>>,
}

impl RateLimitStats {
    /// The waits so far, of every bucket that was used.
    pub fn snapshot(&self) -> BTreeMap<Bucket, BucketWait> {
        self.lock().clone()
    }

    /// The waits of one bucket so far.
    pub fn get(&self, bucket: Bucket) -> BucketWait {
        self.lock().get(&bucket).copied().unwrap_or_default()
    }

    fn record(&self, buckets: &[Bucket], waited: &[Duration]) {
        let mut by_bucket = self.lock();
        for (bucket, waited) in buckets.iter().zip(waited) {
            let entry = by_bucket.entry(*bucket).or_default();
            entry.calls += 1;
            entry.waited += *waited;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Bucket, BucketWait>> {
        // Only counters: a panic elsewhere cannot leave them unreadable.
        self.by_bucket
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Called once per bucket a call took a token from, with the time the call slept waiting for
/// that token (zero when one was there), right before the call is sent.
pub type WaitHook = Arc<dyn Fn(Bucket, Duration) + Send + Sync>;

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<TokioInstant>>;

/// The buckets and the in-flight cap, shared by the ECS and ELBv2 halves.
struct Admission {
    buckets: BTreeMap<Bucket, Limiter>,
    in_flight: Arc<Semaphore>,
    stats: Arc<RateLimitStats>,
    on_wait: Option<WaitHook>,
}

impl Admission {
    /// Waits until `operation` may be sent: returns the in-flight permit to hold during the
    /// call, with a token of each of its buckets taken (see the module doc for the order).
    async fn admit(&self, operation: &'static str) -> OwnedSemaphorePermit {
        let buckets = buckets_of(operation);
        let mut taken = vec![false; buckets.len()];
        let mut waited = vec![Duration::ZERO; buckets.len()];
        loop {
            let permit = Arc::clone(&self.in_flight)
                .acquire_owned()
                .await
                .expect("the in-flight semaphore is never closed");
            let mut blocked = None;
            for (i, bucket) in buckets.iter().enumerate() {
                if taken[i] {
                    continue;
                }
                let Some(limiter) = self.buckets.get(bucket) else {
                    taken[i] = true;
                    continue;
                };
                match limiter.check() {
                    Ok(()) => taken[i] = true,
                    Err(not_until) => {
                        blocked = Some((i, not_until.earliest_possible().0));
                        break;
                    }
                }
            }
            let Some((i, until)) = blocked else {
                self.stats.record(buckets, &waited);
                if let Some(hook) = &self.on_wait {
                    for (bucket, waited) in buckets.iter().zip(&waited) {
                        hook(*bucket, *waited);
                    }
                }
                return permit;
            };
            drop(permit);
            let start = tokio::time::Instant::now();
            tokio::time::sleep_until(until).await;
            waited[i] += start.elapsed();
        }
    }
}

/// A [`Cloud`] behind client-side rate limits: see the module doc.
#[derive(Clone)]
pub struct RateLimited {
    inner: Cloud,
    admission: Arc<Admission>,
}

impl fmt::Debug for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimited")
            .field("inner", &self.inner)
            .field(
                "in_flight_available",
                &self.admission.in_flight.available_permits(),
            )
            .finish()
    }
}

impl RateLimited {
    /// `inner` behind `limits`, with full buckets from now (tokio time).
    pub fn new(inner: Cloud, limits: &RateLimits) -> RateLimited {
        RateLimited::build(inner, limits, None)
    }

    /// [`RateLimited::new`], calling `hook` with every token wait (see [`WaitHook`]).
    pub fn with_wait_hook(inner: Cloud, limits: &RateLimits, hook: WaitHook) -> RateLimited {
        RateLimited::build(inner, limits, Some(hook))
    }

    fn build(inner: Cloud, limits: &RateLimits, on_wait: Option<WaitHook>) -> RateLimited {
        let buckets = Bucket::ALL
            .into_iter()
            .map(|b| {
                let limiter = RateLimiter::direct_with_clock(limits.shape(b).quota(), TokioClock);
                (b, limiter)
            })
            .collect();
        RateLimited {
            inner,
            admission: Arc::new(Admission {
                buckets,
                in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
                stats: Arc::default(),
                on_wait,
            }),
        }
    }

    /// The token waits so far (shared: stays current after [`RateLimited::cloud`]).
    pub fn stats(&self) -> Arc<RateLimitStats> {
        Arc::clone(&self.admission.stats)
    }

    /// The limited services as the operator's [`Cloud`].
    pub fn cloud(self) -> Cloud {
        Cloud {
            ecs: Arc::new(self.clone()),
            elbv2: Arc::new(self),
        }
    }

    /// Runs `call` (a future not polled yet) once `operation` is admitted.
    async fn run<T>(&self, operation: &'static str, call: impl Future<Output = T>) -> T {
        let _permit = self.admission.admit(operation).await;
        call.await
    }
}

#[async_trait]
impl Ecs for RateLimited {
    async fn describe_clusters(&self, names: &[String]) -> CloudResult<Described<Cluster>> {
        self.run("DescribeClusters", self.inner.ecs.describe_clusters(names))
            .await
    }

    async fn create_cluster(&self, input: &CreateCluster) -> CloudResult<Cluster> {
        self.run("CreateCluster", self.inner.ecs.create_cluster(input))
            .await
    }

    async fn update_cluster_settings(
        &self,
        cluster: &str,
        settings: &BTreeMap<String, String>,
    ) -> CloudResult<Cluster> {
        let call = self.inner.ecs.update_cluster_settings(cluster, settings);
        self.run("UpdateCluster", call).await
    }

    async fn put_cluster_capacity_providers(
        &self,
        cluster: &str,
        capacity_providers: &[String],
        default_strategy: &[CapacityProviderStrategyItem],
    ) -> CloudResult<Cluster> {
        let call = self.inner.ecs.put_cluster_capacity_providers(
            cluster,
            capacity_providers,
            default_strategy,
        );
        self.run("PutClusterCapacityProviders", call).await
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        self.run("TagResource", self.inner.ecs.tag_resource(arn, tags))
            .await
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> CloudResult<()> {
        self.run("UntagResource", self.inner.ecs.untag_resource(arn, keys))
            .await
    }

    async fn list_services(
        &self,
        cluster: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        let call = self.inner.ecs.list_services(cluster, next_token);
        self.run("ListServices", call).await
    }

    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> CloudResult<Described<Service>> {
        let call = self.inner.ecs.describe_services(cluster, services);
        self.run("DescribeServices", call).await
    }

    async fn create_service(&self, input: &CreateService) -> CloudResult<Service> {
        self.run("CreateService", self.inner.ecs.create_service(input))
            .await
    }

    async fn update_service(&self, input: &UpdateService) -> CloudResult<Service> {
        self.run("UpdateService", self.inner.ecs.update_service(input))
            .await
    }

    async fn delete_service(
        &self,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> CloudResult<Service> {
        let call = self.inner.ecs.delete_service(cluster, service, force);
        self.run("DeleteService", call).await
    }

    async fn register_task_definition(
        &self,
        definition: &TaskDefinition,
        tags: &Tags,
    ) -> CloudResult<RegisteredTaskDefinition> {
        let call = self.inner.ecs.register_task_definition(definition, tags);
        self.run("RegisterTaskDefinition", call).await
    }

    async fn describe_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        let call = self.inner.ecs.describe_task_definition(task_definition);
        self.run("DescribeTaskDefinition", call).await
    }

    async fn list_task_definitions(
        &self,
        family: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        let call = self.inner.ecs.list_task_definitions(family, next_token);
        self.run("ListTaskDefinitions", call).await
    }

    async fn deregister_task_definition(
        &self,
        task_definition: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        let call = self.inner.ecs.deregister_task_definition(task_definition);
        self.run("DeregisterTaskDefinition", call).await
    }
}

#[async_trait]
impl Elbv2 for RateLimited {
    async fn describe_target_groups(&self, names: &[String]) -> CloudResult<Vec<TargetGroup>> {
        let call = self.inner.elbv2.describe_target_groups(names);
        self.run("DescribeTargetGroups", call).await
    }

    async fn describe_target_groups_page(
        &self,
        marker: Option<&str>,
        page_size: u32,
    ) -> CloudResult<Page<TargetGroup>> {
        let call = self
            .inner
            .elbv2
            .describe_target_groups_page(marker, page_size);
        self.run("DescribeTargetGroups", call).await
    }

    async fn create_target_group(&self, input: &CreateTargetGroup) -> CloudResult<TargetGroup> {
        let call = self.inner.elbv2.create_target_group(input);
        self.run("CreateTargetGroup", call).await
    }

    async fn modify_target_group(
        &self,
        arn: &str,
        health_check: &TargetGroupHealthCheck,
    ) -> CloudResult<TargetGroup> {
        let call = self.inner.elbv2.modify_target_group(arn, health_check);
        self.run("ModifyTargetGroup", call).await
    }

    async fn describe_target_group_attributes(
        &self,
        arn: &str,
    ) -> CloudResult<BTreeMap<String, String>> {
        let call = self.inner.elbv2.describe_target_group_attributes(arn);
        self.run("DescribeTargetGroupAttributes", call).await
    }

    async fn modify_target_group_attributes(
        &self,
        arn: &str,
        attributes: &BTreeMap<String, String>,
    ) -> CloudResult<BTreeMap<String, String>> {
        let call = self
            .inner
            .elbv2
            .modify_target_group_attributes(arn, attributes);
        self.run("ModifyTargetGroupAttributes", call).await
    }

    async fn describe_tags(&self, arns: &[String]) -> CloudResult<BTreeMap<String, Tags>> {
        self.run("DescribeTags", self.inner.elbv2.describe_tags(arns))
            .await
    }

    async fn add_tags(&self, arns: &[String], tags: &Tags) -> CloudResult<()> {
        self.run("AddTags", self.inner.elbv2.add_tags(arns, tags))
            .await
    }

    async fn remove_tags(&self, arns: &[String], keys: &[String]) -> CloudResult<()> {
        self.run("RemoveTags", self.inner.elbv2.remove_tags(arns, keys))
            .await
    }

    async fn delete_target_group(&self, arn: &str) -> CloudResult<()> {
        self.run(
            "DeleteTargetGroup",
            self.inner.elbv2.delete_target_group(arn),
        )
        .await
    }

    async fn describe_target_health(&self, arn: &str) -> CloudResult<Vec<TargetHealth>> {
        let call = self.inner.elbv2.describe_target_health(arn);
        self.run("DescribeTargetHealth", call).await
    }
}

#[cfg(test)]
mod tests;
