//! Where runs are kept. The ledger talks to storage only through [`Store`],
//! so another backend (PostgreSQL, for forges that outgrow one machine) can
//! give the same guarantees by implementing the same atomic operations.

mod checkpoint;
pub(crate) mod schema;
mod sql;
mod sqlite;

use std::time::Duration;

use jiff::Timestamp;

pub use sqlite::Synchronous;
pub(crate) use sqlite::{SqliteOptions, SqliteStore};

use crate::error::Result;
use crate::run::{
    ClaimFilter, Created, HistoryEntry, KillOutcome, ListFilter, Page, Reason, Run, ValidPush,
};
use crate::state::RunState;

/// The atomic operations a backend provides. Each call is one transaction:
/// it happens entirely or not at all, whatever other processes do at the
/// same time.
pub(crate) trait Store: Send + Sync {
    /// Applies the supersede policy to `push` and records the new run.
    /// `on_insert` runs inside the transaction after the insert of a pending
    /// run; an error from it rolls everything back.
    fn create(
        &self,
        push: &ValidPush,
        protected: bool,
        now: Timestamp,
        on_insert: &mut dyn FnMut(&Run) -> Result<()>,
    ) -> Result<Created>;

    /// One run by id.
    fn get(&self, run_id: &str) -> Result<Run>;

    /// Compare-and-set from `expected` to `to`, which the caller has checked
    /// against the transition table. `lease` applies when entering active.
    fn transition(
        &self,
        run_id: &str,
        expected: RunState,
        to: RunState,
        reason: Reason,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Run>;

    /// Moves the oldest eligible pending run to active.
    fn claim(&self, filter: &ClaimFilter, now: Timestamp, lease: Duration) -> Result<Option<Run>>;

    /// Extends the lease of an active run.
    fn heartbeat(&self, run_id: &str, now: Timestamp, lease: Duration) -> Result<Run>;

    /// Moves a live run to canceled; returns it with the state it left.
    fn cancel(&self, run_id: &str, now: Timestamp) -> Result<(Run, RunState)>;

    /// Records the container of an active run.
    fn attach_container(&self, run_id: &str, container_id: &str) -> Result<Run>;

    /// Records a container attached too late to a terminal run, with a kill
    /// request. Does nothing if the run already has a container.
    fn record_late_container(&self, run_id: &str, container_id: &str, now: Timestamp)
    -> Result<()>;

    /// Fails every active run whose lease expired before `now`, reason
    /// orphaned, requesting the kill of their containers.
    fn orphan_expired(&self, now: Timestamp) -> Result<Vec<Run>>;

    /// Stores the outcome of a kill attempt on the run, if `container_id` is
    /// the container attached to it (a stray container labelled with the
    /// run, or one attached too late, has no record of its own).
    fn record_kill(
        &self,
        run_id: &str,
        container_id: &str,
        outcome: &KillOutcome,
        now: Timestamp,
    ) -> Result<()>;

    /// Runs whose container kill is requested or failed, oldest first.
    fn kills_to_retry(&self, limit: u32) -> Result<Vec<Run>>;

    /// Runs, newest first, one page at a time.
    fn list(&self, filter: &ListFilter, limit: u32, cursor: Option<&str>) -> Result<Page>;

    /// The transitions of one run, oldest first.
    fn history(&self, run_id: &str) -> Result<Vec<HistoryEntry>>;

    /// Deletes terminal runs finished before `finished_before`, keeping the
    /// newest `keep_per_group` runs of every group. Returns what it deleted.
    fn prune(&self, keep_per_group: u32, finished_before: Timestamp) -> Result<Vec<Run>>;
}
