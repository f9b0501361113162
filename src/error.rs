//! The one error type of the library. Foreign errors (SQLite, I/O, Docker) are
//! mapped into these variants once, where they arise, so callers and the C
//! and Python faces match on meaning rather than on another crate's codes.

use std::path::PathBuf;

use crate::state::RunState;

/// Everything that can go wrong in a ledger operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value given by the caller is malformed; nothing was written.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// Which argument was wrong (`repo`, `ref_name`, `sha`, ...).
        field: &'static str,
        /// What was wrong with it, naming the value.
        reason: String,
    },

    /// No run has this id.
    #[error("run {run_id} not found")]
    NotFound {
        /// The id that was looked up.
        run_id: String,
    },

    /// A compare-and-set found the run in another state than the caller
    /// expected: someone else moved it first. Nothing changed.
    #[error("run {run_id} is {actual}, not {expected}")]
    Conflict {
        /// The run that was to move.
        run_id: String,
        /// The state the caller expected to leave (`pending or active` for
        /// cancel).
        expected: String,
        /// The state the run is really in.
        actual: RunState,
    },

    /// The transition table forbids this move, whatever the run's state.
    #[error("the transition table does not let a run move from {from} to {to}")]
    InvalidTransition {
        /// The state the move would leave.
        from: RunState,
        /// The state the move would enter.
        to: RunState,
    },

    /// The run cannot become active while another run of its group is
    /// active (a protected ref keeps its active run when newer pushes come).
    #[error("run {run_id} cannot become active: its group already has an active run")]
    GroupHasActiveRun {
        /// The run that was to become active.
        run_id: String,
    },

    /// The run was superseded before a container could be attached to it;
    /// the container was killed.
    #[error(
        "run {run_id} was superseded{}; the container was not attached and is being killed",
        superseded_by.as_deref().map(|by| format!(" by {by}")).unwrap_or_default()
    )]
    Superseded {
        /// The run the caller tried to attach to.
        run_id: String,
        /// The run that replaced it, where one is recorded.
        superseded_by: Option<String>,
    },

    /// The database file was written by a newer version of runledger.
    #[error(
        "database {path} has schema version {found}, newer than version {supported} that this \
         runledger understands; upgrade runledger to open it"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The `user_version` found in the file.
        found: i64,
        /// The newest schema this build knows.
        supported: i64,
    },

    /// The file exists but is not a SQLite database, or is not a runledger one.
    #[error("{path} is not a runledger database: {reason}")]
    NotADatabase {
        /// The file that was opened.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },

    /// The database file, or its directory, cannot be written.
    #[error("database {path} is read-only: {reason}")]
    ReadOnly {
        /// The file that was opened.
        path: PathBuf,
        /// SQLite's or the OS's explanation.
        reason: String,
    },

    /// Another connection held the write lock for longer than the busy timeout.
    #[error("database stayed locked for more than {waited_ms} ms during {operation}")]
    Busy {
        /// The operation that gave up.
        operation: &'static str,
        /// How long it waited.
        waited_ms: u64,
    },

    /// Any other failure of the storage engine.
    #[error("storage error during {operation}: {source}")]
    Storage {
        /// The operation that failed.
        operation: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },

    /// A run directory could not be created or removed.
    #[error("run directory {path}: {source}")]
    RunDirectory {
        /// The directory involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// The handle was opened in another process, which then forked. SQLite
    /// connections must not cross a fork; open a new handle in the child.
    #[error(
        "this handle was opened by process {opened_in} and cannot be used in process {used_in} \
         after a fork; open a new one"
    )]
    UsedAfterFork {
        /// The process that opened the handle.
        opened_in: u32,
        /// The process that tried to use it.
        used_in: u32,
    },
}

/// Shorthand for results of ledger operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Builds an [`Error::InvalidInput`].
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
        Error::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}
