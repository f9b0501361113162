//! Keeping the ledger tidy: reconcile after crashes and failed kills, and
//! pruning old finished runs.

use std::ffi::c_char;
use std::ptr;
use std::time::Duration;

use core::{KillOutcome, Reconciled};

use crate::boundary::{self, non_null};
use crate::create::runs_kill_outcome;
use crate::handle::{self, runs_handle};
use crate::records::{boxed_run_list, runs_run_list};
use crate::status::runs_status;
use crate::strings::Arena;

/// One container kill carried out by `runs_reconcile`.
#[repr(C)]
#[derive(Debug)]
pub struct runs_kill_report {
    /// The run whose container it was.
    pub run_id: *const c_char,
    /// The container.
    pub container_id: *const c_char,
    /// How it went (never `RUNS_KILL_OUTCOME_NO_CONTAINER`).
    pub outcome: runs_kill_outcome,
    /// The runtime's error for a failed kill; NULL otherwise.
    pub error: *const c_char,
    /// The run named by the container's label for a refused kill; NULL
    /// otherwise.
    pub labelled_run_id: *const c_char,
}

/// What `runs_reconcile` did. Owned by the library: every array and string
/// stays valid until `runs_reconciled_free`.
#[repr(C)]
#[derive(Debug)]
pub struct runs_reconciled {
    /// How many ids `orphaned` holds.
    pub orphaned_len: usize,
    /// Active runs whose lease had expired, now failed with reason
    /// orphaned; NULL when `orphaned_len` is 0.
    pub orphaned: *const *const c_char,
    /// How many reports `kills` holds.
    pub kills_len: usize,
    /// Every kill attempted; NULL when `kills_len` is 0.
    pub kills: *const runs_kill_report,
}

#[repr(C)]
struct OwnedReconciled {
    report: runs_reconciled,
    orphaned: Vec<*const c_char>,
    kills: Vec<runs_kill_report>,
    arena: Arena,
}

fn boxed_reconciled(done: &Reconciled) -> *mut runs_reconciled {
    let mut arena = Arena::default();
    let orphaned: Vec<*const c_char> = done.orphaned.iter().map(|id| arena.keep(id)).collect();
    let kills: Vec<runs_kill_report> = done
        .kills
        .iter()
        .map(|kill| {
            let (outcome, error, labelled) = match &kill.outcome {
                KillOutcome::Done => (runs_kill_outcome::Done, None, None),
                KillOutcome::Failed { error } => {
                    (runs_kill_outcome::Failed, Some(error.as_str()), None)
                }
                KillOutcome::Refused { labelled_run_id } => (
                    runs_kill_outcome::Refused,
                    None,
                    Some(labelled_run_id.as_str()),
                ),
                KillOutcome::Recorded => (runs_kill_outcome::Recorded, None, None),
            };
            runs_kill_report {
                run_id: arena.keep(&kill.run_id),
                container_id: arena.keep(&kill.container_id),
                outcome,
                error: arena.keep_opt(error),
                labelled_run_id: arena.keep_opt(labelled),
            }
        })
        .collect();
    let report = runs_reconciled {
        orphaned_len: orphaned.len(),
        orphaned: if orphaned.is_empty() {
            ptr::null()
        } else {
            orphaned.as_ptr()
        },
        kills_len: kills.len(),
        kills: if kills.is_empty() {
            ptr::null()
        } else {
            kills.as_ptr()
        },
    };
    let owned = OwnedReconciled {
        report,
        orphaned,
        kills,
        arena,
    };
    Box::into_raw(Box::new(owned)).cast()
}

/// Settles what crashed runners and failed kills left behind: active runs
/// whose lease expired become failed (reason orphaned) and their containers
/// are killed; failed kills are retried; running containers labelled with a
/// finished run are killed. Pending runs stay queued. Safe to call from
/// many processes at once. Writes the report to `*out`; free it with
/// `runs_reconciled_free`.
///
/// # Safety
/// `handle` is NULL or open; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_reconcile(
    handle: *const runs_handle,
    out: *mut *mut runs_reconciled,
) -> runs_status {
    boundary::call("runs_reconcile", || {
        // SAFETY: the caller's contract.
        let ledger = unsafe { handle::ledger(handle) }?;
        let out = non_null(out, "out")?;

        let done = ledger.reconcile()?;

        let report = boxed_reconciled(&done);
        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { out.write(report) };
        Ok(())
    })
}

/// Frees a reconcile report. NULL is a no-op.
///
/// # Safety
/// `reconciled` is NULL or returned by `runs_reconcile`, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_reconciled_free(reconciled: *mut runs_reconciled) {
    boundary::guard_value((), || {
        if !reconciled.is_null() {
            // SAFETY: made by `boxed_reconciled`, which starts with the report.
            drop(unsafe { Box::from_raw(reconciled.cast::<OwnedReconciled>()) });
        }
    });
}

/// Deletes finished runs that finished more than `older_than_ms` ago, except
/// the newest `keep_per_group` of each group, with their history and run
/// directories. Writes the deleted runs to `*out` (`next_cursor` is NULL);
/// free them with `runs_run_list_free`.
///
/// # Safety
/// `handle` is NULL or open; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_prune(
    handle: *const runs_handle,
    keep_per_group: u32,
    older_than_ms: u64,
    out: *mut *mut runs_run_list,
) -> runs_status {
    boundary::call("runs_prune", || {
        // SAFETY: the caller's contract.
        let ledger = unsafe { handle::ledger(handle) }?;
        let out = non_null(out, "out")?;

        let pruned = ledger.prune(keep_per_group, Duration::from_millis(older_than_ms))?;

        let list = boxed_run_list(&pruned, None);
        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { out.write(list) };
        Ok(())
    })
}
