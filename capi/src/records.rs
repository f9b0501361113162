//! Run records handed to C: plain structs whose strings and arrays the
//! library owns, each freed with its own function.

use std::ffi::c_char;
use std::ptr;

use core::{HistoryEntry, KillState, Run};

use crate::boundary;
use crate::states::runs_state;
use crate::strings::Arena;
use crate::time::{opt_to_ms, to_ms};

/// Where the kill of a run's container stands.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum runs_kill_state {
    /// No kill was ever asked for.
    None = 0,
    /// Recorded; not yet attempted, under way, or left to the caller by the
    /// record-only runtime.
    Requested = 1,
    /// The container is stopped or gone.
    Done = 2,
    /// The runtime failed; `runs_reconcile` tries again.
    Failed = 3,
    /// The container carries another run's label and was left alone.
    Refused = 4,
}

/// One run. Every pointer in it is owned by the record: valid until the
/// record is freed, never to be freed on its own. Optional strings are NULL
/// when absent; optional times are `RUNS_NO_TIME`. Times are milliseconds
/// since the Unix epoch, UTC.
#[repr(C)]
#[derive(Debug)]
pub struct runs_run {
    /// The run's id, a UUIDv7: ids sort by creation time.
    pub id: *const c_char,
    /// Repository name, as in `work/tools.git`.
    pub repo: *const c_char,
    /// Full ref name, as in `refs/heads/main`.
    pub ref_name: *const c_char,
    /// The pushed commit id, lower-case hex.
    pub sha: *const c_char,
    /// The supersede group: `<repo>:<ref_name>` unless the push named one.
    pub group_key: *const c_char,
    /// Where the run stands.
    pub state: runs_state,
    /// Whether the ref matched a protected pattern when the run was made.
    pub is_protected: bool,
    /// When the push happened, according to the forge.
    pub pushed_at_ms: i64,
    /// When the ledger recorded the run.
    pub queued_at_ms: i64,
    /// When it became active; `RUNS_NO_TIME` if it never did.
    pub started_at_ms: i64,
    /// When it reached a terminal state; `RUNS_NO_TIME` while live.
    pub finished_at_ms: i64,
    /// Until when the runner's lease holds; `RUNS_NO_TIME` unless active.
    pub lease_expires_at_ms: i64,
    /// The run that replaced this one; NULL unless superseded.
    pub superseded_by: *const c_char,
    /// The container attached by the runner; NULL if none.
    pub container_id: *const c_char,
    /// Where the kill of that container stands.
    pub kill_state: runs_kill_state,
    /// How many times the kill was tried.
    pub kill_attempts: u32,
    /// The kill's last error; NULL unless it failed or was refused.
    pub kill_error: *const c_char,
    /// When the kill state last changed; `RUNS_NO_TIME` without a kill.
    pub kill_at_ms: i64,
}

impl runs_run {
    /// The C view of `run`, its strings kept in `arena`.
    pub(crate) fn new(run: &Run, arena: &mut Arena) -> runs_run {
        let kill = run.kill.as_ref();
        runs_run {
            id: arena.keep(&run.id),
            repo: arena.keep(&run.repo),
            ref_name: arena.keep(&run.ref_name),
            sha: arena.keep(&run.sha),
            group_key: arena.keep(&run.group_key),
            state: run.state.into(),
            is_protected: run.protected,
            pushed_at_ms: to_ms(run.pushed_at),
            queued_at_ms: to_ms(run.queued_at),
            started_at_ms: opt_to_ms(run.started_at),
            finished_at_ms: opt_to_ms(run.finished_at),
            lease_expires_at_ms: opt_to_ms(run.lease_expires_at),
            superseded_by: arena.keep_opt(run.superseded_by.as_deref()),
            container_id: arena.keep_opt(run.container_id.as_deref()),
            kill_state: kill.map_or(runs_kill_state::None, |kill| match kill.state {
                KillState::Requested => runs_kill_state::Requested,
                KillState::Done => runs_kill_state::Done,
                KillState::Failed => runs_kill_state::Failed,
                KillState::Refused => runs_kill_state::Refused,
            }),
            kill_attempts: kill.map_or(0, |kill| kill.attempts),
            kill_error: arena.keep_opt(kill.and_then(|kill| kill.error.as_deref())),
            kill_at_ms: opt_to_ms(kill.map(|kill| kill.at)),
        }
    }
}

/// A run with the strings it points into. `run` comes first so that a
/// pointer to it is a pointer to the whole allocation.
#[repr(C)]
struct OwnedRun {
    run: runs_run,
    arena: Arena,
}

/// Boxes a run for C; free it with `runs_run_free`.
pub(crate) fn boxed_run(run: &Run) -> *mut runs_run {
    let mut arena = Arena::default();
    let run = runs_run::new(run, &mut arena);
    Box::into_raw(Box::new(OwnedRun { run, arena })).cast()
}

/// Frees a run returned by the library, with all its strings. NULL is a
/// no-op. Freeing the same run twice, or a run inside a list, is undefined
/// behaviour.
///
/// # Safety
/// `run` is NULL or a pointer the library returned as a `runs_run *`,
/// not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_run_free(run: *mut runs_run) {
    boundary::guard_value((), || {
        if !run.is_null() {
            // SAFETY: made by `boxed_run`, whose allocation starts with the
            // run (repr(C)), and not freed before by the caller's contract.
            drop(unsafe { Box::from_raw(run.cast::<OwnedRun>()) });
        }
    });
}

/// Runs in an array, from `runs_list` or `runs_prune`. Owned by the list:
/// `runs[0]` to `runs[len - 1]` and all their strings stay valid until the
/// list is freed with `runs_run_list_free`.
#[repr(C)]
#[derive(Debug)]
pub struct runs_run_list {
    /// How many runs `runs` holds.
    pub len: usize,
    /// The runs; NULL when `len` is 0.
    pub runs: *const runs_run,
    /// For `runs_list`: pass it as `cursor` to get the next page; NULL on
    /// the last page and for `runs_prune`.
    pub next_cursor: *const c_char,
}

#[repr(C)]
struct OwnedRunList {
    list: runs_run_list,
    runs: Vec<runs_run>,
    arena: Arena,
}

/// Boxes runs for C; free them with `runs_run_list_free`.
pub(crate) fn boxed_run_list(runs: &[Run], next_cursor: Option<&str>) -> *mut runs_run_list {
    let mut arena = Arena::default();
    let items: Vec<runs_run> = runs
        .iter()
        .map(|run| runs_run::new(run, &mut arena))
        .collect();
    let list = runs_run_list {
        len: items.len(),
        runs: if items.is_empty() {
            ptr::null()
        } else {
            items.as_ptr()
        },
        next_cursor: arena.keep_opt(next_cursor),
    };
    let owned = OwnedRunList {
        list,
        runs: items,
        arena,
    };
    Box::into_raw(Box::new(owned)).cast()
}

/// Frees a run list with every run and string in it. NULL is a no-op.
///
/// # Safety
/// `list` is NULL or a pointer the library returned as a
/// `runs_run_list *`, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_run_list_free(list: *mut runs_run_list) {
    boundary::guard_value((), || {
        if !list.is_null() {
            // SAFETY: made by `boxed_run_list`, which starts with the list.
            drop(unsafe { Box::from_raw(list.cast::<OwnedRunList>()) });
        }
    });
}

/// One row of a run's history: a transition, or the run's creation.
#[repr(C)]
#[derive(Debug)]
pub struct runs_history_entry {
    /// The run that moved.
    pub run_id: *const c_char,
    /// False when the run was born in `to` rather than moved there (a push
    /// older than a live run is recorded directly as superseded). A run
    /// created pending has no row for its creation.
    pub has_from: bool,
    /// The state it left; meaningful only when `has_from` is true.
    pub from: runs_state,
    /// The state it entered.
    pub to: runs_state,
    /// When, in milliseconds since the Unix epoch, UTC.
    pub at_ms: i64,
    /// Why: `claimed`, `superseded`, `out_of_order`, `orphaned`,
    /// `canceled` or `requested` (more may come).
    pub reason: *const c_char,
    /// The superseding run, for a supersede; NULL otherwise.
    pub superseded_by: *const c_char,
}

/// A run's history, oldest first. Owned by the list: every entry and string
/// stays valid until `runs_history_list_free`.
#[repr(C)]
#[derive(Debug)]
pub struct runs_history_list {
    /// How many entries `entries` holds.
    pub len: usize,
    /// The entries; NULL when `len` is 0.
    pub entries: *const runs_history_entry,
}

#[repr(C)]
struct OwnedHistory {
    history: runs_history_list,
    entries: Vec<runs_history_entry>,
    arena: Arena,
}

/// Boxes a history for C; free it with `runs_history_list_free`.
pub(crate) fn boxed_history(entries: &[HistoryEntry]) -> *mut runs_history_list {
    let mut arena = Arena::default();
    let items: Vec<runs_history_entry> = entries
        .iter()
        .map(|entry| runs_history_entry {
            run_id: arena.keep(&entry.run_id),
            has_from: entry.from.is_some(),
            from: entry.from.map_or(runs_state::Pending, Into::into),
            to: entry.to.into(),
            at_ms: to_ms(entry.at),
            reason: arena.keep(entry.reason.as_str()),
            superseded_by: arena.keep_opt(entry.superseded_by.as_deref()),
        })
        .collect();
    let history = runs_history_list {
        len: items.len(),
        entries: if items.is_empty() {
            ptr::null()
        } else {
            items.as_ptr()
        },
    };
    let owned = OwnedHistory {
        history,
        entries: items,
        arena,
    };
    Box::into_raw(Box::new(owned)).cast()
}

/// Frees a history. NULL is a no-op.
///
/// # Safety
/// `history` is NULL or a pointer the library returned as a
/// `runs_history_list *`, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_history_list_free(history: *mut runs_history_list) {
    boundary::guard_value((), || {
        if !history.is_null() {
            // SAFETY: made by `boxed_history`, which starts with the history.
            drop(unsafe { Box::from_raw(history.cast::<OwnedHistory>()) });
        }
    });
}
