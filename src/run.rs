//! The records the ledger hands out: runs, their history, and what a create
//! did. Plain data, cheap to clone, with no handle to the database.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;

use crate::error::{Error, Result};
use crate::state::RunState;
use crate::validate;

/// One CI execution of one pushed commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// A UUIDv7, so ids sort by creation time.
    pub id: String,
    /// Repository name, as in `work/tools.git`.
    pub repo: String,
    /// Full ref name, as in `refs/heads/main`.
    pub ref_name: String,
    /// The pushed commit id, lower-case hex.
    pub sha: String,
    /// The scope of supersede: `<repo>:<ref_name>` unless the caller gave one.
    pub group_key: String,
    /// Where the run stands.
    pub state: RunState,
    /// Whether the ref matched a protected pattern when the run was created:
    /// a newer push then leaves this run running once it is active.
    pub protected: bool,
    /// When the push happened, according to the forge.
    pub pushed_at: Timestamp,
    /// When the ledger recorded the run.
    pub queued_at: Timestamp,
    /// When the run became active; never set for a run that was not.
    pub started_at: Option<Timestamp>,
    /// When the run reached a terminal state.
    pub finished_at: Option<Timestamp>,
    /// The run that replaced this one, for a superseded run.
    pub superseded_by: Option<String>,
    /// Until when the runner's lease holds, for an active run.
    pub lease_expires_at: Option<Timestamp>,
    /// The container the runner attached, if any.
    pub container_id: Option<String>,
    /// The last attempt to kill that container, if one was made.
    pub kill: Option<KillRecord>,
}

/// The stored state of a container kill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillRecord {
    /// Where the kill stands.
    pub state: KillState,
    /// How many times it was tried.
    pub attempts: u32,
    /// The last error, for a failed or refused kill.
    pub error: Option<String>,
    /// When the kill state last changed.
    pub at: Timestamp,
}

/// Where a container kill stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KillState {
    /// Recorded with the supersede; not yet attempted or still under way.
    Requested,
    /// The container is stopped or gone.
    Done,
    /// The runtime failed; reconcile will try again.
    Failed,
    /// The container carries another run's label, so it was left alone.
    /// Never retried.
    Refused,
}

impl KillState {
    /// The name stored in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            KillState::Requested => "requested",
            KillState::Done => "done",
            KillState::Failed => "failed",
            KillState::Refused => "refused",
        }
    }

    pub(crate) fn from_db(name: &str) -> Option<KillState> {
        [
            KillState::Requested,
            KillState::Done,
            KillState::Failed,
            KillState::Refused,
        ]
        .into_iter()
        .find(|state| state.as_str() == name)
    }
}

impl fmt::Display for KillState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A push event as a forge reports it: the input of [`crate::Runs::create`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// Repository name.
    pub repo: String,
    /// Full ref name.
    pub ref_name: String,
    /// Pushed commit id.
    pub sha: String,
    /// When the push happened; `None` means now.
    pub pushed_at: Option<Timestamp>,
    /// An explicit supersede group; `None` means the pair (repo, ref).
    pub group: Option<String>,
}

impl Push {
    /// A push of `sha` to `ref_name` in `repo`, happening now, grouped by
    /// (repo, ref).
    pub fn new(
        repo: impl Into<String>,
        ref_name: impl Into<String>,
        sha: impl Into<String>,
    ) -> Push {
        Push {
            repo: repo.into(),
            ref_name: ref_name.into(),
            sha: sha.into(),
            pushed_at: None,
            group: None,
        }
    }

    /// Sets when the push happened.
    #[must_use]
    pub fn pushed_at(mut self, at: Timestamp) -> Push {
        self.pushed_at = Some(at);
        self
    }

    /// Sets an explicit supersede group.
    #[must_use]
    pub fn group(mut self, key: impl Into<String>) -> Push {
        self.group = Some(key.into());
        self
    }

    /// Checks every field and returns the push with its sha normalised and
    /// its group key resolved.
    pub(crate) fn validated(&self) -> Result<ValidPush> {
        validate::repo(&self.repo)?;
        validate::ref_name(&self.ref_name)?;
        let sha = validate::sha(&self.sha)?;
        let group_key = match &self.group {
            Some(key) => {
                validate::group_key(key)?;
                key.clone()
            }
            None => default_group_key(&self.repo, &self.ref_name),
        };
        Ok(ValidPush {
            repo: self.repo.clone(),
            ref_name: self.ref_name.clone(),
            sha,
            group_key,
            pushed_at: self.pushed_at.map(crate::ledger::to_millis),
        })
    }
}

/// The group key of a push without an explicit group. Ref names cannot
/// contain `:`, so the last `:` always separates the two parts.
pub fn default_group_key(repo: &str, ref_name: &str) -> String {
    format!("{repo}:{ref_name}")
}

/// A push whose fields passed validation.
#[derive(Debug, Clone)]
pub(crate) struct ValidPush {
    pub repo: String,
    pub ref_name: String,
    pub sha: String,
    pub group_key: String,
    pub pushed_at: Option<Timestamp>,
}

/// What [`crate::Runs::create`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The new run; for a duplicate, the live run that already had this sha.
    pub run: Run,
    /// The push was a redelivery of a live run's sha: nothing changed.
    pub duplicate: bool,
    /// The runs this push replaced, oldest first.
    pub superseded: Vec<SupersededRun>,
}

/// One run replaced by a create, with the fate of its container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupersededRun {
    /// The replaced run.
    pub run_id: String,
    /// Whether it was pending or active when replaced.
    pub previous_state: RunState,
    /// Its container, if a runner had attached one.
    pub container_id: Option<String>,
    /// How killing that container went; `None` when there was none to kill.
    pub kill: Option<KillOutcome>,
}

/// The result of one attempt to kill a run's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KillOutcome {
    /// The container is stopped or was already gone.
    Done,
    /// The runtime failed; the error is stored and reconcile retries.
    Failed {
        /// What the runtime said.
        error: String,
    },
    /// The container is labelled with another run and was left alone.
    Refused {
        /// The run named by the container's label.
        labelled_run_id: String,
    },
    /// The record-only runtime is configured: the kill is recorded as
    /// requested and left to the caller, who manages its own processes.
    Recorded,
}

impl KillOutcome {
    /// The stored kill state this outcome leads to.
    pub fn state(&self) -> KillState {
        match self {
            KillOutcome::Done => KillState::Done,
            KillOutcome::Failed { .. } => KillState::Failed,
            KillOutcome::Refused { .. } => KillState::Refused,
            KillOutcome::Recorded => KillState::Requested,
        }
    }

    /// The error text stored with the outcome, if any.
    pub fn error(&self) -> Option<String> {
        match self {
            KillOutcome::Done | KillOutcome::Recorded => None,
            KillOutcome::Failed { error } => Some(error.clone()),
            KillOutcome::Refused { labelled_run_id } => Some(format!(
                "container is labelled with run {labelled_run_id}; not killed"
            )),
        }
    }
}

/// Why a transition happened, as stored in the history table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A runner claimed the run.
    Claimed,
    /// A newer push in the same group replaced the run.
    Superseded,
    /// The push arrived after a newer push of the same group was already
    /// live, so the run was recorded as superseded from the start.
    OutOfOrder,
    /// The runner's lease expired; reconcile failed the run.
    Orphaned,
    /// Someone canceled the run.
    Canceled,
    /// A caller moved the run with an explicit transition.
    Requested,
}

impl Reason {
    /// Every reason, as stored.
    pub const ALL: [Reason; 6] = [
        Reason::Claimed,
        Reason::Superseded,
        Reason::OutOfOrder,
        Reason::Orphaned,
        Reason::Canceled,
        Reason::Requested,
    ];

    /// The name stored in the history table.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Claimed => "claimed",
            Reason::Superseded => "superseded",
            Reason::OutOfOrder => "out_of_order",
            Reason::Orphaned => "orphaned",
            Reason::Canceled => "canceled",
            Reason::Requested => "requested",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Reason {
    type Err = Error;

    fn from_str(name: &str) -> Result<Reason> {
        Reason::ALL
            .into_iter()
            .find(|reason| reason.as_str() == name)
            .ok_or_else(|| Error::invalid("reason", format!("unknown reason {name:?}")))
    }
}

/// One row of a run's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The run that moved.
    pub run_id: String,
    /// The state it left; `None` for a run recorded directly as superseded
    /// because its push arrived out of order. (A run created pending has no
    /// history row until it first moves: its creation is its `queued_at`.)
    pub from: Option<RunState>,
    /// The state it entered.
    pub to: RunState,
    /// When.
    pub at: Timestamp,
    /// Why.
    pub reason: Reason,
    /// The superseding run, for a supersede.
    pub superseded_by: Option<String>,
}

/// Which runs [`crate::Runs::list`] returns. Every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only runs of this repository.
    pub repo: Option<String>,
    /// Only runs of this ref.
    pub ref_name: Option<String>,
    /// Only runs of this supersede group.
    pub group: Option<String>,
    /// Only runs in this state.
    pub state: Option<RunState>,
}

/// Which pending runs [`crate::Runs::claim`] may pick.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimFilter {
    /// Only runs of this repository.
    pub repo: Option<String>,
    /// Only runs of this supersede group.
    pub group: Option<String>,
}

/// One page of [`crate::Runs::list`], newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The runs on this page.
    pub runs: Vec<Run>,
    /// Pass this as the cursor to get the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// What [`crate::Runs::reconcile`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Active runs whose lease had expired, now failed as orphaned.
    pub orphaned: Vec<String>,
    /// Every kill it attempted: of orphaned runs' containers, kills that
    /// failed before, and running containers labelled with a terminal run.
    pub kills: Vec<KillReport>,
}

/// One container kill carried out by [`crate::Runs::reconcile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillReport {
    /// The run whose container it was.
    pub run_id: String,
    /// The container.
    pub container_id: String,
    /// How it went.
    pub outcome: KillOutcome,
}
