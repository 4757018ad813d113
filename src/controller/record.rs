//! The one status record of a resource: what a reconcile (or a full sync, or the rollout
//! tracker) concluded, as a patch of its [`ResourceStatus`], written by [`Record::write`], the
//! only place the controller changes a resource's status. A reconcile holds a [`Guard`]
//! that writes its record and reports the reconcile to [`Events`] on every exit path, early
//! returns and cancellation included (as Flux's kustomize-controller patches status in a
//! deferred call, and kube-rs's `ReconcileMeasurer` measures on drop).

use std::path::PathBuf;
use std::sync::Arc;

use tokio::time::Instant;

use super::reconcile::Events;
use crate::manifest::ResourceKey;
use crate::metrics::ReconcileResult;
use crate::status::{Health, ResourceStatus, StatusBoard, SyncStatus};

/// The source revision a record sets.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Revision {
    /// Applied now: this revision.
    Applied(String),
    /// Found in sync: the revision last applied stays; a first sight takes this one.
    FirstSeen(String),
}

/// A patch of one resource's status: `None` fields are left as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Record {
    /// Forget the resource (its manifest is gone); the other fields are ignored.
    pub forget: bool,
    /// Manifest file.
    pub file: Option<PathBuf>,
    /// Sync status.
    pub sync: Option<SyncStatus>,
    /// Health.
    pub health: Option<Health>,
    /// The one-line message (`Some(None)` clears it).
    pub message: Option<Option<String>>,
    /// The last error (`Some(None)` clears it).
    pub last_error: Option<Option<String>>,
    /// The differing fields.
    pub changes: Option<Vec<String>>,
    /// The source revision.
    pub revision: Option<Revision>,
    /// The task definition revision (`Some(None)` clears it).
    pub task_definition: Option<Option<String>>,
    /// Live state was read now.
    pub observed: bool,
}

impl Record {
    /// A record that removes the resource from the board.
    pub fn forget() -> Record {
        Record {
            forget: true,
            ..Record::default()
        }
    }

    /// Sets the sync status.
    pub fn sync(mut self, sync: SyncStatus) -> Record {
        self.sync = Some(sync);
        self
    }

    /// Sets the health.
    pub fn health(mut self, health: Health) -> Record {
        self.health = Some(health);
        self
    }

    /// Sets the message.
    pub fn message(mut self, message: impl Into<String>) -> Record {
        self.message = Some(Some(message.into()));
        self
    }

    /// Sets the last error.
    pub fn error(mut self, error: impl Into<String>) -> Record {
        self.last_error = Some(Some(error.into()));
        self
    }

    /// Clears the last error.
    pub fn no_error(mut self) -> Record {
        self.last_error = Some(None);
        self
    }

    /// Sets the differing fields.
    pub fn changes(mut self, changes: Vec<String>) -> Record {
        self.changes = Some(changes);
        self
    }

    /// Live state was read now (stamps `lastObserved`).
    pub fn observed(mut self) -> Record {
        self.observed = true;
        self
    }

    /// Sets the manifest file.
    pub fn file(mut self, file: PathBuf) -> Record {
        self.file = Some(file);
        self
    }

    /// Sets the task definition revision.
    pub fn task_definition(mut self, revision: Option<String>) -> Record {
        self.task_definition = Some(revision);
        self
    }

    /// Fields the previous record set and this one leaves alone are taken from `earlier`.
    pub fn over(self, earlier: Record) -> Record {
        Record {
            forget: self.forget || earlier.forget,
            file: self.file.or(earlier.file),
            sync: self.sync.or(earlier.sync),
            health: self.health.or(earlier.health),
            message: self.message.or(earlier.message),
            last_error: self.last_error.or(earlier.last_error),
            changes: self.changes.or(earlier.changes),
            revision: self.revision.or(earlier.revision),
            task_definition: self.task_definition.or(earlier.task_definition),
            observed: self.observed || earlier.observed,
        }
    }

    /// Applies the patch to a status; `now` is when (for `lastObserved`).
    pub fn patch(self, s: &mut ResourceStatus, now: std::time::SystemTime) {
        if let Some(file) = self.file {
            s.file = Some(file);
        }
        if let Some(sync) = self.sync {
            s.sync = sync;
        }
        if let Some(health) = self.health {
            s.health = health;
        }
        if let Some(message) = self.message {
            s.message = message;
        }
        if let Some(error) = self.last_error {
            s.last_error = error;
        }
        if let Some(changes) = self.changes {
            s.changes = changes;
        }
        match self.revision {
            Some(Revision::Applied(r)) => s.revision = Some(r),
            Some(Revision::FirstSeen(r)) => {
                s.revision.get_or_insert(r);
            }
            None => {}
        }
        if let Some(td) = self.task_definition {
            s.task_definition = td;
        }
        if self.observed {
            s.last_observed = Some(now);
        }
    }

    /// Writes the record to `key`'s status on `board`: the one status write of the controller.
    pub fn write(self, board: &StatusBoard, key: &ResourceKey) {
        if self.forget {
            board.remove(key);
        } else if self != Record::default() {
            let now = board.now();
            board.update(key, |s| self.patch(s, now));
        }
    }
}

/// Writes a reconcile's record and reports it when dropped, whichever way the reconcile ends.
/// Until a stage concludes, the record is what is known so far (the manifest file); a
/// reconcile cut off by shutdown writes that and is not counted (it neither failed nor
/// succeeded, and counting it failed would page on every rolling deploy of the operator).
pub(super) struct Guard<'a> {
    board: &'a StatusBoard,
    events: &'a Arc<dyn Events>,
    key: &'a ResourceKey,
    started: Instant,
    record: Record,
    result: Option<ReconcileResult>,
}

impl<'a> Guard<'a> {
    /// A guard over `key`'s reconcile, started now.
    pub fn new(board: &'a StatusBoard, events: &'a Arc<dyn Events>, key: &'a ResourceKey) -> Self {
        Guard {
            board,
            events,
            key,
            started: Instant::now(),
            record: Record::default(),
            result: None,
        }
    }

    /// Adds to the record (what a stage learnt before the reconcile ends).
    pub fn note(&mut self, record: Record) {
        self.record = record.over(std::mem::take(&mut self.record));
    }

    /// The reconcile concluded: this record, this result.
    pub fn conclude(&mut self, record: Record, result: ReconcileResult) {
        self.note(record);
        self.result = Some(result);
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        std::mem::take(&mut self.record).write(self.board, self.key);
        if let Some(result) = self.result {
            self.events
                .reconciled(self.key.kind, result, self.started.elapsed());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::reconcile::NoEvents;
    use crate::manifest::Kind;

    fn key() -> ResourceKey {
        ResourceKey {
            kind: Kind::Cluster,
            cluster: None,
            name: "shop".into(),
        }
    }

    #[test]
    fn a_record_changes_only_the_fields_it_sets() {
        let board = StatusBoard::new();
        Record::default()
            .sync(SyncStatus::Synced)
            .message("hello")
            .error("boom")
            .write(&board, &key());
        Record::default()
            .no_error()
            .revision_first_seen("rev-1")
            .write(&board, &key());
        Record {
            revision: Some(Revision::FirstSeen("rev-2".into())),
            ..Record::default()
        }
        .write(&board, &key());
        let s = board.get(&key()).unwrap();
        assert_eq!(s.sync, SyncStatus::Synced);
        assert_eq!(s.message.as_deref(), Some("hello"));
        assert_eq!(s.last_error, None);
        assert_eq!(
            s.revision.as_deref(),
            Some("rev-1"),
            "first seen keeps the first"
        );
        Record::forget().write(&board, &key());
        assert!(board.get(&key()).is_none());
    }

    #[test]
    fn the_guard_writes_what_was_noted_when_the_reconcile_is_cut_off() {
        let board = StatusBoard::new();
        let events: Arc<dyn Events> = Arc::new(NoEvents);
        let key = key();
        {
            let mut guard = Guard::new(&board, &events, &key);
            guard.note(Record::default().file("c.yaml".into()));
            // Dropped here without a conclusion, as a cancelled future drops it.
        }
        let s = board.get(&key).unwrap();
        assert_eq!(s.file.as_deref(), Some(std::path::Path::new("c.yaml")));
        assert_eq!(s.sync, SyncStatus::Unknown);
    }

    impl Record {
        fn revision_first_seen(mut self, r: &str) -> Record {
            self.revision = Some(Revision::FirstSeen(r.into()));
            self
        }
    }
}
