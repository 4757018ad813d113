//! Readiness (`/readyz`): ready once the first full sync has planned every resource and each
//! key it queued has been reconciled for real. A key waiting for a dependency (its cluster
//! or target group, requeued shortly) is not done yet. Ready is set in one place, once.

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};

use crate::manifest::ResourceKey;
use crate::status::StatusBoard;

/// Tracks the first full sync's keys until each is reconciled.
#[derive(Debug)]
pub struct Readiness {
    board: StatusBoard,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Keys the first full sync queued that have not been reconciled for real yet.
    pending: BTreeSet<ResourceKey>,
    /// The first full sync is still planning (more keys may come).
    planning: bool,
    /// Ready was set.
    ready: bool,
}

impl Readiness {
    /// Not ready; sets `board` ready when the time comes.
    pub fn new(board: StatusBoard) -> Readiness {
        Readiness {
            board,
            state: Mutex::new(State {
                pending: BTreeSet::new(),
                planning: true,
                ready: false,
            }),
        }
    }

    /// The first full sync queued `keys` (recorded before they are queued, so no reconcile of
    /// them can end before).
    pub fn queued(&self, keys: &BTreeSet<ResourceKey>) {
        let mut state = self.lock();
        if !state.ready && state.planning {
            state.pending.extend(keys.iter().cloned());
        }
    }

    /// The first full sync finished planning.
    pub fn planned(&self) {
        let mut state = self.lock();
        state.planning = false;
        self.fire_if_done(&mut state);
    }

    /// A reconcile of `key` ended; `settled` is false while it waits for a dependency.
    pub fn reconciled(&self, key: &ResourceKey, settled: bool) {
        let mut state = self.lock();
        if settled && state.pending.remove(key) {
            self.fire_if_done(&mut state);
        }
    }

    fn fire_if_done(&self, state: &mut State) {
        if state.pending.is_empty() && !state.planning && !state.ready {
            state.ready = true;
            self.board.set_ready();
            tracing::info!("ready: first full sync done");
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Kind;

    fn key(name: &str) -> ResourceKey {
        ResourceKey {
            kind: Kind::Service,
            cluster: Some("shop".into()),
            name: name.into(),
        }
    }

    #[test]
    fn ready_only_once_every_queued_key_settled_and_planning_ended() {
        let board = StatusBoard::new();
        let r = Readiness::new(board.clone());
        r.queued(&BTreeSet::from([key("a"), key("b")]));
        r.reconciled(&key("a"), true);
        r.reconciled(&key("b"), false); // waiting for its cluster
        r.planned();
        assert!(!board.is_ready(), "b still waits for its cluster");
        r.reconciled(&key("b"), true);
        assert!(board.is_ready());
    }

    #[test]
    fn a_first_sync_with_nothing_to_do_is_ready_when_planning_ends() {
        let board = StatusBoard::new();
        let r = Readiness::new(board.clone());
        r.queued(&BTreeSet::new());
        assert!(!board.is_ready());
        r.planned();
        assert!(board.is_ready());
    }
}
