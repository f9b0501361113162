//! `runs_create`, the call a forge makes for every push, and the report of
//! what it superseded.

use std::ffi::c_char;
use std::ptr;

use core::{Created, KillOutcome, Push};

use crate::boundary::{self, non_null};
use crate::handle::{self, runs_handle};
use crate::records::runs_run;
use crate::states::runs_state;
use crate::status::runs_status;
use crate::strings::{self, Arena};
use crate::time;

/// How the kill of a superseded run's container went.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum runs_kill_outcome {
    /// There was no container to kill: the run was pending, or no container
    /// was attached.
    NoContainer = 0,
    /// The container is stopped or was already gone.
    Done = 1,
    /// The runtime failed; `kill_error` says how. The supersede stands and
    /// `runs_reconcile` retries the kill.
    Failed = 2,
    /// The container is labelled with another run (`labelled_run_id`) and
    /// was left alone.
    Refused = 3,
    /// The record-only runtime is configured: the kill is recorded on the
    /// run and left to the caller.
    Recorded = 4,
}

/// One run replaced by a create. Its strings are owned by the enclosing
/// `runs_created`.
#[repr(C)]
#[derive(Debug)]
pub struct runs_superseded {
    /// The replaced run.
    pub run_id: *const c_char,
    /// Whether it was pending or active when replaced.
    pub previous_state: runs_state,
    /// Its container; NULL if none was attached.
    pub container_id: *const c_char,
    /// How killing that container went.
    pub kill_outcome: runs_kill_outcome,
    /// The runtime's error for `RUNS_KILL_OUTCOME_FAILED`; NULL otherwise.
    pub kill_error: *const c_char,
    /// The run named by the container's label for
    /// `RUNS_KILL_OUTCOME_REFUSED`; NULL otherwise.
    pub labelled_run_id: *const c_char,
}

/// What `runs_create` did. Owned by the library as a whole: the run, the
/// array and every string stay valid until `runs_created_free`.
#[repr(C)]
#[derive(Debug)]
pub struct runs_created {
    /// The new run. For a duplicate, the live run that already had this
    /// sha; for a push older than a live one, a run born superseded.
    pub run: runs_run,
    /// True when the push redelivered a live run's sha: nothing changed.
    pub duplicate: bool,
    /// How many runs this push replaced.
    pub superseded_len: usize,
    /// The replaced runs, oldest first; NULL when `superseded_len` is 0.
    pub superseded: *const runs_superseded,
}

#[repr(C)]
struct OwnedCreated {
    created: runs_created,
    superseded: Vec<runs_superseded>,
    arena: Arena,
}

fn boxed_created(created: &Created) -> *mut runs_created {
    let mut arena = Arena::default();
    let superseded: Vec<runs_superseded> = created
        .superseded
        .iter()
        .map(|old| {
            let (outcome, error, labelled) = match &old.kill {
                None => (runs_kill_outcome::NoContainer, None, None),
                Some(KillOutcome::Done) => (runs_kill_outcome::Done, None, None),
                Some(KillOutcome::Failed { error }) => {
                    (runs_kill_outcome::Failed, Some(error.as_str()), None)
                }
                Some(KillOutcome::Refused { labelled_run_id }) => (
                    runs_kill_outcome::Refused,
                    None,
                    Some(labelled_run_id.as_str()),
                ),
                Some(KillOutcome::Recorded) => (runs_kill_outcome::Recorded, None, None),
            };
            runs_superseded {
                run_id: arena.keep(&old.run_id),
                previous_state: old.previous_state.into(),
                container_id: arena.keep_opt(old.container_id.as_deref()),
                kill_outcome: outcome,
                kill_error: arena.keep_opt(error),
                labelled_run_id: arena.keep_opt(labelled),
            }
        })
        .collect();
    let report = runs_created {
        run: runs_run::new(&created.run, &mut arena),
        duplicate: created.duplicate,
        superseded_len: superseded.len(),
        superseded: if superseded.is_empty() {
            ptr::null()
        } else {
            superseded.as_ptr()
        },
    };
    let owned = OwnedCreated {
        created: report,
        superseded,
        arena,
    };
    Box::into_raw(Box::new(owned)).cast()
}

/// Records a push of `sha` to `ref_name` in `repo`, superseding what it
/// makes pointless, in one transaction; then kills the containers of the
/// active runs it superseded. Writes the report to `*out`; free it with
/// `runs_created_free`.
///
/// - A live run of the group with the same sha: that run is returned with
///   `duplicate` true and nothing changes.
/// - A live run of the group pushed later than `pushed_at_ms`: the new run
///   is recorded as superseded by it and nothing else changes.
/// - Otherwise every live run of the group is superseded (an active run of
///   a protected ref keeps running) and the new run is pending.
///
/// `pushed_at_ms` is when the push happened, in milliseconds since the Unix
/// epoch, UTC; `RUNS_NO_TIME` means now. `group` names an explicit
/// supersede group; NULL groups by (repo, ref_name). Strings are copied.
///
/// A kill that fails or times out does not fail the call: see each
/// `runs_superseded`'s `kill_outcome`.
///
/// # Safety
/// `handle` is NULL or open; each string is NULL or NUL-terminated; `out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_create(
    handle: *const runs_handle,
    repo: *const c_char,
    ref_name: *const c_char,
    sha: *const c_char,
    pushed_at_ms: i64,
    group: *const c_char,
    out: *mut *mut runs_created,
) -> runs_status {
    boundary::call("runs_create", || {
        // SAFETY: the caller's contract.
        let (ledger, repo, ref_name, sha, group) = unsafe {
            (
                handle::ledger(handle)?,
                strings::required(repo, "repo")?,
                strings::required(ref_name, "ref_name")?,
                strings::required(sha, "sha")?,
                strings::optional(group, "group")?,
            )
        };
        let pushed_at = time::opt_from_ms(pushed_at_ms, "pushed_at_ms")?;
        let out = non_null(out, "out")?;
        let push = Push {
            repo: repo.to_owned(),
            ref_name: ref_name.to_owned(),
            sha: sha.to_owned(),
            pushed_at,
            group: group.map(str::to_owned),
        };

        let created = ledger.create(&push)?;

        let report = boxed_created(&created);
        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { out.write(report) };
        Ok(())
    })
}

/// Frees a create report with its run and strings. NULL is a no-op.
///
/// # Safety
/// `created` is NULL or returned by `runs_create` and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_created_free(created: *mut runs_created) {
    boundary::guard_value((), || {
        if !created.is_null() {
            // SAFETY: made by `boxed_created`, which starts with the report.
            drop(unsafe { Box::from_raw(created.cast::<OwnedCreated>()) });
        }
    });
}
