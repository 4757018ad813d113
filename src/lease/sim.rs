//! The simulator's lease store: the same conditional semantics as DynamoDB's in memory, with
//! the same calls (an acquire is a GetItem, then a PutItem conditional on what was read) run
//! through call layers, so the simulator's [`Faults`](crate::cloud::sim::Faults) (by
//! operation: `GetItem`, `PutItem`, `UpdateItem`, `DeleteItem`) and a test's recording layers
//! see them. One [`SimLeases`] table is shared by every controller of a test; each gets its
//! own [`SimLeaseStore`] with its own layers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::{Acquired, Lease, LeaseStore};
use crate::cloud::CloudResult;
use crate::cloud::Operation;
use crate::cloud::layer::{self, CallInfo, Layer, Resource};

/// The shared table of lease items.
#[derive(Debug, Clone, Default)]
pub struct SimLeases {
    items: Arc<Mutex<BTreeMap<String, Lease>>>,
}

impl SimLeases {
    /// An empty table.
    pub fn new() -> SimLeases {
        SimLeases::default()
    }

    /// A store over this table whose calls go through `layers`.
    pub fn store(&self, layers: Vec<Arc<dyn Layer>>) -> Arc<SimLeaseStore> {
        Arc::new(SimLeaseStore {
            leases: self.clone(),
            layers: layers.into(),
        })
    }

    /// The item of `name`, read directly (tests).
    pub fn get(&self, name: &str) -> Option<Lease> {
        self.lock().get(name).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Lease>> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One controller's handle on a [`SimLeases`] table.
pub struct SimLeaseStore {
    leases: SimLeases,
    layers: Arc<[Arc<dyn Layer>]>,
}

impl std::fmt::Debug for SimLeaseStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimLeaseStore")
            .field("layers", &self.layers.len())
            .finish_non_exhaustive()
    }
}

impl SimLeaseStore {
    async fn call<T>(
        &self,
        operation: Operation,
        name: &str,
        f: impl FnOnce(&mut BTreeMap<String, Lease>) -> T,
    ) -> CloudResult<T> {
        let info = CallInfo {
            operation,
            resource: Resource::One(name),
        };
        let leases = self.leases.clone();
        layer::run(
            &self.layers,
            &info,
            async move { Ok(f(&mut leases.lock())) },
        )
        .await
    }
}

/// What a conditional write compares: the item as read (`None`: absent).
fn same(current: Option<&Lease>, seen: Option<&Lease>) -> bool {
    match (current, seen) {
        (None, None) => true,
        (Some(c), Some(s)) => c.fencing == s.fencing,
        _ => false,
    }
}

#[async_trait]
impl LeaseStore for SimLeaseStore {
    async fn read(&self, name: &str) -> CloudResult<Option<Lease>> {
        self.call(Operation::GetItem, name, |items| items.get(name).cloned())
            .await
    }

    async fn acquire(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        duration: Duration,
    ) -> CloudResult<Acquired> {
        let seen = self.read(name).await?;
        let Some(lease) = Lease::to_acquire(seen.as_ref(), name, holder, now_ms, duration) else {
            return Ok(Acquired::Held(seen));
        };
        // Put only if the item is still the one read, and that one was absent, expired or ours.
        self.call(Operation::PutItem, name, |items| {
            let current = items.get(name);
            let allowed = same(current, seen.as_ref())
                && current.is_none_or(|c| c.is_expired(now_ms) || c.holder == holder);
            if allowed {
                items.insert(name.to_string(), lease.clone());
                Acquired::Won(lease)
            } else {
                Acquired::Held(None)
            }
        })
        .await
    }

    async fn renew(
        &self,
        lease: &Lease,
        now_ms: u64,
        duration: Duration,
    ) -> CloudResult<Option<Lease>> {
        self.call(Operation::UpdateItem, &lease.name, |items| {
            let current = items.get_mut(&lease.name)?;
            let ours = current.holder == lease.holder
                && current.fencing == lease.fencing
                && !current.is_expired(now_ms);
            if !ours {
                return None;
            }
            current.expires_at_ms = now_ms + duration.as_millis() as u64;
            Some(current.clone())
        })
        .await
    }

    async fn release(&self, lease: &Lease) -> CloudResult<bool> {
        self.call(Operation::DeleteItem, &lease.name, |items| {
            let ours = items
                .get(&lease.name)
                .is_some_and(|c| c.holder == lease.holder && c.fencing == lease.fencing);
            if ours {
                items.remove(&lease.name);
            }
            ours
        })
        .await
    }

    async fn create_table(&self) -> CloudResult<String> {
        Ok("sim backend: the lease table is kept in memory, nothing to create".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn conditional_semantics() {
        let leases = SimLeases::new();
        let a = leases.store(Vec::new());
        let b = leases.store(Vec::new());
        let d = Duration::from_secs(15);
        let Acquired::Won(la) = a.acquire("l", "a", 0, d).await.unwrap() else {
            panic!("a takes a new lease")
        };
        assert_eq!((la.fencing, la.expires_at_ms), (1, 15_000));
        // b cannot take it while it lasts; a gets it again with the same fencing.
        assert_eq!(
            b.acquire("l", "b", 14_999, d).await.unwrap(),
            Acquired::Held(Some(la.clone()))
        );
        assert!(
            matches!(a.acquire("l", "a", 1_000, d).await.unwrap(), Acquired::Won(l) if l.fencing == 1)
        );
        // Renew while ours; not once expired.
        let la = a.renew(&la, 5_000, d).await.unwrap().expect("renewed");
        assert_eq!(la.expires_at_ms, 20_000);
        assert_eq!(a.renew(&la, 20_000, d).await.unwrap(), None);
        // b takes over the expired lease: fencing grows; a can neither renew nor release.
        let Acquired::Won(lb) = b.acquire("l", "b", 20_000, d).await.unwrap() else {
            panic!("b takes over")
        };
        assert_eq!(lb.fencing, 2);
        assert_eq!(a.renew(&la, 21_000, d).await.unwrap(), None);
        assert!(!a.release(&la).await.unwrap());
        assert!(b.release(&lb).await.unwrap());
        assert_eq!(leases.get("l"), None);
    }
}
