//! AWS's request throttling: one token bucket per bucket of the catalogue
//! ([`Operation::buckets`]: an ELBv2 call also takes a token from the account-wide ELBv2
//! bucket), per account and Region, refilled on tokio time. Shapes are AWS's
//! ([`Bucket::aws_default`], the rate limiter's defaults too), overridable per bucket through
//! [`SimConfig::buckets`](super::SimConfig::buckets).

use std::collections::BTreeMap;

use tokio::time::Instant;

use crate::cloud::operation::{Bucket, Operation, Shape};

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
    fn new(shape: Shape, now: Instant) -> TokenBucket {
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
    overrides: BTreeMap<Bucket, Shape>,
    buckets: BTreeMap<Bucket, TokenBucket>,
}

impl Throttle {
    /// Full buckets of AWS's shapes, but those of `overrides`.
    pub(super) fn new(overrides: BTreeMap<Bucket, Shape>) -> Throttle {
        Throttle {
            overrides,
            buckets: BTreeMap::new(),
        }
    }

    /// Takes a token for `operation` from each bucket it draws from; false (and nothing
    /// taken) when one of them is empty.
    pub(super) fn try_acquire(&mut self, operation: Operation, now: Instant) -> bool {
        let ids = operation.buckets();
        for id in ids {
            let shape = self
                .overrides
                .get(id)
                .copied()
                .unwrap_or_else(|| id.aws_default());
            let bucket = self
                .buckets
                .entry(*id)
                .or_insert_with(|| TokenBucket::new(shape, now));
            if !bucket.has_token(now) {
                return false;
            }
        }
        for id in ids {
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
    use Operation::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let shapes = [(Bucket::TaskDefinitionModify, Shape::new(3, 1.0))].into();
        let mut t = Throttle::new(shapes);
        let now = Instant::now();
        let granted = (0..5)
            .filter(|_| t.try_acquire(RegisterTaskDefinition, now))
            .count();
        assert_eq!(granted, 3);
        let later = now + Duration::from_millis(999);
        assert!(!t.try_acquire(RegisterTaskDefinition, later));
        let later = now + Duration::from_secs(1);
        assert!(t.try_acquire(RegisterTaskDefinition, later));
        assert!(!t.try_acquire(RegisterTaskDefinition, later));
        // The sibling action shares the bucket; an action of another bucket does not.
        assert!(!t.try_acquire(DeregisterTaskDefinition, later));
        assert!(t.try_acquire(DescribeTaskDefinition, later));
    }

    #[tokio::test(start_paused = true)]
    async fn elbv2_actions_also_drain_the_shared_account_bucket() {
        let shapes = [(Bucket::Elbv2Account, Shape::new(2, 0.0))].into();
        let mut t = Throttle::new(shapes);
        let now = Instant::now();
        assert!(t.try_acquire(DescribeTargetGroups, now));
        assert!(t.try_acquire(CreateTargetGroup, now));
        assert!(!t.try_acquire(DescribeTargetHealth, now));
        assert!(t.try_acquire(DescribeServices, now), "ECS is not affected");
    }

    #[tokio::test(start_paused = true)]
    async fn a_refill_never_exceeds_the_burst() {
        let shapes = [(Bucket::ClusterModify, Shape::new(2, 5.0))].into();
        let mut t = Throttle::new(shapes);
        let later = Instant::now() + Duration::from_secs(3600);
        let granted = (0..10)
            .filter(|_| t.try_acquire(CreateCluster, later))
            .count();
        assert_eq!(granted, 2);
    }
}
