//! runledger: an embedded ledger of CI runs in one SQLite file.
//!
//! Each run moves through a fixed transition table ([`TRANSITIONS`]).
//! Creating a run for a group (by default a repository and ref) that already
//! has a pending or active run supersedes the old one in the same
//! transaction, then kills the old run's container.
//!
//! ```no_run
//! use runledger::{ClaimFilter, Push, RunState, Runs};
//!
//! # fn main() -> runledger::Result<()> {
//! let runs = Runs::open("runledger.db")?;
//! let created = runs.create(&Push::new("work/tools.git", "refs/heads/main", "4f2a9c1"))?;
//! if let Some(run) = runs.claim(&ClaimFilter::default())? {
//!     // ... start the work, then report how it went:
//!     runs.transition(&run.id, RunState::Active, RunState::Complete)?;
//! }
//! # let _ = created;
//! # Ok(())
//! # }
//! ```

mod config;
mod error;
mod kill;
mod ledger;
mod policy;
mod run;
mod rundir;
pub mod runtime;
mod state;
mod store;
mod validate;

pub use config::{Config, KillConfig, RuntimeConfig};
pub use error::{Error, Result};
pub use ledger::{MAX_PAGE, Runs, container_labels};
pub use policy::ProtectedRefs;
pub use run::{
    ClaimFilter, Created, HistoryEntry, KillOutcome, KillRecord, KillReport, KillState, ListFilter,
    Page, Push, Reason, Reconciled, Run, SupersededRun, default_group_key,
};
pub use state::{RunState, TRANSITIONS};
pub use store::Synchronous;
pub use validate::{MAX_CONTAINER_ID_BYTES, MAX_NAME_BYTES};

/// The schema version this build writes, as stored in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = store::schema::LATEST_VERSION;
