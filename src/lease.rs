//! Leader election with a lease item (issue 17): so that two operators on one account (the old
//! and the new task of the operator's own rolling deploy, or a second replica kept for
//! availability) never both change AWS. The pattern of amazon-dynamodb-lock-client: one item
//! per lease name, written only with conditional writes.
//!
//! - [`LeaseStore`]: the item's conditional semantics (read; acquire only if absent, expired or
//!   already ours; renew only while ours and unexpired; release only if ours), with two
//!   stores: [`dynamodb::DynamoLeaseStore`] (aws-sdk-dynamodb) and [`sim::SimLeases`] (in
//!   memory, with the simulator's injectable faults). Both run their calls through the call
//!   layers (rate limit, metrics, failure log, faults) like every ECS and ELBv2 call.
//! - Time: a store compares epoch milliseconds its caller passes, from a [`LeaseClock`] the
//!   elector owns: [`SystemClock`] in production, [`TokioClock`] (tokio's possibly paused time)
//!   in tests, so virtual time drives expiry.
//! - [`decide`]: the pure transition of the elector (state, what the store answered -> next
//!   state and what happened), table-tested.
//! - [`elector`]: the task that acquires or renews every tick and keeps the [`LeaderGate`]
//!   open only while the lease is held with time to spare; [`LeaderGate`] is the call layer
//!   that fails every mutating ECS/ELBv2 call, just before it is sent, when it is not.
//!
//! Layer: with `ratelimit` (a call layer over `cloud`); the controller and `connect` use it.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use crate::cloud::CloudResult;

pub mod decide;
pub mod dynamodb;
pub mod elector;
pub mod gate;
pub mod sim;

pub use decide::{Input, Role, State, Step, decide};
pub use elector::{Election, ElectionConfig, LeaderView, start};
pub use gate::LeaderGate;

/// The lease item: `name` (S, the key), `holder` (S), `expiresAt` (N, epoch seconds, for
/// DynamoDB's TTL), `expiresAtMs` (N, epoch ms, what the conditions compare) and `fencing`
/// (N, grows by 1 at every takeover).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The lease name (`--lease-name`).
    pub name: String,
    /// Who holds it.
    pub holder: String,
    /// When it expires (epoch ms).
    pub expires_at_ms: u64,
    /// The fencing number: grows by 1 at every takeover.
    pub fencing: u64,
}

impl Lease {
    /// True when it expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms <= now_ms
    }

    /// The `expiresAt` attribute (epoch seconds, rounded up) for DynamoDB's TTL.
    pub fn expires_at_secs(&self) -> u64 {
        self.expires_at_ms.div_ceil(1000)
    }

    /// What an acquire by `holder` at `now_ms` writes over `seen` (the item as read): `None`
    /// when another holder's lease has not expired. Our own lease keeps its fencing number; a
    /// takeover increments it; a new item starts at 1. Both stores decide with this, then write
    /// it only if the item is still the one read.
    pub fn to_acquire(
        seen: Option<&Lease>,
        name: &str,
        holder: &str,
        now_ms: u64,
        duration: Duration,
    ) -> Option<Lease> {
        if let Some(l) = seen
            && !l.is_expired(now_ms)
            && l.holder != holder
        {
            return None;
        }
        Some(Lease {
            name: name.to_string(),
            holder: holder.to_string(),
            expires_at_ms: now_ms + duration.as_millis() as u64,
            fencing: match seen {
                Some(l) if l.holder == holder => l.fencing,
                Some(l) => l.fencing + 1,
                None => 1,
            },
        })
    }
}

/// What an acquire found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    /// The lease is ours now (taken over, created, or already ours).
    Won(Lease),
    /// Someone else holds it and it has not expired (`None`: another acquire won the race
    /// between the read and the write).
    Held(Option<Lease>),
}

/// The lease item's conditional semantics (object safe: the elector holds a `dyn
/// LeaseStore`). Times are the caller's epoch ms; `duration` is the lease duration.
#[async_trait]
pub trait LeaseStore: Send + Sync + fmt::Debug {
    /// The lease, if any.
    async fn read(&self, name: &str) -> CloudResult<Option<Lease>>;

    /// Takes the lease for `holder` until `now_ms + duration`, only if it is absent, expired at
    /// `now_ms`, or already `holder`'s. The fencing number is the previous one plus 1 on a
    /// takeover (1 for a new item), the same when it was already ours.
    async fn acquire(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        duration: Duration,
    ) -> CloudResult<Acquired>;

    /// Extends `lease` to `now_ms + duration`, only if its holder and fencing number are still
    /// those of `lease` and it has not expired at `now_ms`. `None`: it is not ours anymore.
    async fn renew(
        &self,
        lease: &Lease,
        now_ms: u64,
        duration: Duration,
    ) -> CloudResult<Option<Lease>>;

    /// Deletes the lease, only if its holder and fencing number are still those of `lease`.
    /// False when it was not ours anymore (nothing deleted).
    async fn release(&self, lease: &Lease) -> CloudResult<bool>;

    /// Creates the table that holds lease items (`lease create-table`); what was done, in one
    /// line.
    async fn create_table(&self) -> CloudResult<String>;
}

/// Epoch milliseconds, for the store's conditions.
pub trait LeaseClock: Send + Sync + fmt::Debug {
    /// Now, in epoch ms.
    fn now_ms(&self) -> u64;
}

/// The system's clock (production). Operators sharing a lease must have clocks that agree
/// within the safety margin (a third of the lease duration; NTP on AWS keeps them within
/// milliseconds).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl LeaseClock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// Epoch ms over tokio's clock: `base_ms` at the instant it was made, then tokio time (so a
/// paused runtime's virtual time drives expiry). Share one between the electors of a test.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    base_ms: u64,
    start: tokio::time::Instant,
}

impl TokioClock {
    /// `base_ms` now.
    pub fn new(base_ms: u64) -> TokioClock {
        TokioClock {
            base_ms,
            start: tokio::time::Instant::now(),
        }
    }

    /// The epoch ms of a tokio instant.
    pub fn ms_at(&self, at: tokio::time::Instant) -> u64 {
        self.base_ms + at.saturating_duration_since(self.start).as_millis() as u64
    }
}

impl LeaseClock for TokioClock {
    fn now_ms(&self) -> u64 {
        self.ms_at(tokio::time::Instant::now())
    }
}

/// A holder id: the host name (ECS sets HOSTNAME to the task's) and a random suffix, so two
/// processes on one host differ. No network call.
pub fn default_holder() -> String {
    use rand::RngExt;
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "ecs-operator".into());
    let suffix: u32 = rand::rng().random();
    format!("{host}-{suffix:08x}")
}
