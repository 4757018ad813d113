//! Client-side rate limits: one token bucket per AWS throttling bucket (shapes from
//! aws-api-facts.md through [`Bucket::aws_default`], one token below its burst
//! ([`default_shape`], [`HEADROOM_TOKENS`]), overridable with
//! `--rate-limit BUCKET=BURST/REFILL`), plus a cap on calls in flight, as a call
//! [`Layer`] in front of any [`Cloud`].
//!
//! [`Admission`] is that layer: every call first takes a token from each bucket its
//! [`Operation`] draws from ([`Operation::buckets`]: its own bucket, and for ELBv2 also the
//! account-wide ELBv2 bucket), then runs the inner call while it holds one of
//! [`RateLimits::max_in_flight`] permits. With AWS's refill and a token less than its burst
//! the operator's calls conform to AWS's buckets by construction, however the network
//! reorders their arrival within a refill period, so at steady state AWS never has to
//! throttle it (the SDK's retry on throttling stays a safety net for other clients of the
//! same account). [`RateLimited`] puts a [`Cloud`] behind an [`Admission`] in one step.
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
//! they slept for it. A [`WaitHook`] ([`Admission::new`]) is called with each
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

use crate::cloud::layer::{CallInfo, Layer, Layered, Ticket};
pub use crate::cloud::operation::{Bucket, Shape};
use crate::cloud::{Cloud, CloudResult, Operation};

impl FromStr for Bucket {
    type Err = RateLimitError;

    fn from_str(s: &str) -> Result<Bucket, RateLimitError> {
        Bucket::from_name(s).ok_or_else(|| RateLimitError::UnknownBucket(s.to_string()))
    }
}

/// The buckets an AWS operation (`"DescribeServices"`, AWS spelling) takes a token from: its
/// own, and for ELBv2 also [`Bucket::Elbv2Account`]. Empty for an operation the operator
/// does not know (it is then not limited).
pub fn buckets_of(operation: &str) -> &'static [Bucket] {
    Operation::from_name(operation).map_or(&[][..], Operation::buckets)
}

/// The governor quota of a shape. The period is rounded up to the nanosecond, so the
/// limiter is never ahead of a bucket that refills continuously at the same rate.
fn quota(shape: Shape) -> Quota {
    let period_ns = (1e9 / shape.refill_per_second).ceil().max(1.0) as u64;
    let burst = NonZeroU32::new(shape.burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(Duration::from_nanos(period_ns))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
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
    /// Only the buckets [`RateLimits::set`] names are limited (see [`RateLimits::lifted`]).
    only_set: bool,
}

/// [`RateLimits::max_in_flight`] by default.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;

/// Tokens a default client-side bucket holds below AWS's burst. With the same refill as
/// AWS's bucket, AWS's then always holds this many tokens more than the client's, so a call
/// that reaches AWS sooner after the one before it than it was sent (network jitter of up to
/// one refill period: a second for RegisterTaskDefinition) still finds a token. Without it a
/// long run at a bucket's sustained rate on moto behind the buckets proxy met one throttled
/// registration (BENCHMARKS.md, the side by side). It costs one refill period once per run.
pub const HEADROOM_TOKENS: u32 = 1;

/// The client's default shape of `bucket`: AWS's, [`HEADROOM_TOKENS`] below its burst (a
/// bucket is never smaller than one token).
pub fn default_shape(bucket: Bucket) -> Shape {
    let aws = bucket.aws_default();
    Shape {
        burst: aws.burst.saturating_sub(HEADROOM_TOKENS).max(1),
        ..aws
    }
}

impl Default for RateLimits {
    /// AWS's shapes less [`HEADROOM_TOKENS`] ([`default_shape`]), [`DEFAULT_MAX_IN_FLIGHT`]
    /// calls in flight.
    fn default() -> Self {
        RateLimits {
            shapes: Bucket::ALL.map(|b| (b, default_shape(b))).into(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            only_set: false,
        }
    }
}

impl RateLimits {
    /// The shape of a bucket.
    pub fn shape(&self, bucket: Bucket) -> Shape {
        self.shapes
            .get(&bucket)
            .copied()
            .unwrap_or_else(|| default_shape(bucket))
    }

    /// No bucket limited (the in-flight cap stays) until [`RateLimits::set`] names one: for a
    /// backend that does not throttle (`--sim-throttling off`), where AWS's shapes would only
    /// slow the calls down.
    pub fn lifted(mut self) -> Self {
        self.shapes.clear();
        self.only_set = true;
        self
    }

    /// Whether `bucket` is limited at all (every bucket is, unless [`RateLimits::lifted`]).
    pub fn limits(&self, bucket: Bucket) -> bool {
        !self.only_set || self.shapes.contains_key(&bucket)
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

/// The rate limiting layer: the buckets and the in-flight cap, shared by every call of ECS
/// and ELBv2 through it.
pub struct Admission {
    buckets: BTreeMap<Bucket, Limiter>,
    in_flight: Arc<Semaphore>,
    stats: Arc<RateLimitStats>,
    on_wait: Option<WaitHook>,
}

impl fmt::Debug for Admission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admission")
            .field("in_flight_available", &self.in_flight.available_permits())
            .finish()
    }
}

impl Admission {
    /// `limits` with full buckets from now (tokio time), calling `on_wait` with every token
    /// wait (see [`WaitHook`]).
    pub fn new(limits: &RateLimits, on_wait: Option<WaitHook>) -> Admission {
        let buckets = Bucket::ALL
            .into_iter()
            .filter(|b| limits.limits(*b))
            .map(|b| {
                let limiter = RateLimiter::direct_with_clock(quota(limits.shape(b)), TokioClock);
                (b, limiter)
            })
            .collect();
        Admission {
            buckets,
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            stats: Arc::default(),
            on_wait,
        }
    }

    /// The token waits so far (shared: stays current while the layer is in use).
    pub fn stats(&self) -> Arc<RateLimitStats> {
        Arc::clone(&self.stats)
    }

    /// Waits until `operation` may be sent: returns the in-flight permit to hold during the
    /// call, with a token of each of its buckets taken (see the module doc for the order).
    async fn admit(&self, operation: Operation) -> OwnedSemaphorePermit {
        let buckets = operation.buckets();
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

#[async_trait]
impl Layer for Admission {
    /// Holds the in-flight permit in the ticket until the call answered.
    async fn enter(&self, call: &CallInfo<'_>) -> CloudResult<Ticket> {
        Ok(Ticket::hold(self.admit(call.operation).await))
    }
}

/// A [`Cloud`] behind one [`Admission`] layer: see the module doc.
#[derive(Clone, Debug)]
pub struct RateLimited {
    inner: Cloud,
    admission: Arc<Admission>,
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
        RateLimited {
            inner,
            admission: Arc::new(Admission::new(limits, on_wait)),
        }
    }

    /// The token waits so far (shared: stays current after [`RateLimited::cloud`]).
    pub fn stats(&self) -> Arc<RateLimitStats> {
        self.admission.stats()
    }

    /// The limited services as the operator's [`Cloud`].
    pub fn cloud(self) -> Cloud {
        Layered::new(self.inner, vec![self.admission]).cloud()
    }
}

#[cfg(test)]
mod tests;
