//! Moving runs along the transition table: claim, compare-and-set
//! transitions, containers, leases, cancel, and waiting for a change.

use std::ffi::c_char;
use std::time::Duration;

use core::{ClaimFilter, Run, Runs};

use crate::boundary::{self, CallError, non_null};
use crate::handle::{self, runs_handle};
use crate::records::{boxed_run, runs_run};
use crate::states::state_arg;
use crate::status::runs_status;
use crate::strings;

/// The body shared by every call that takes a run id and returns the run:
/// reads the arguments, runs `op`, writes the run to `out`.
///
/// # Safety
/// `handle` is NULL or open; `run_id` is NULL or NUL-terminated; `out` is
/// NULL or writable.
pub(crate) unsafe fn run_call(
    name: &str,
    handle: *const runs_handle,
    run_id: *const c_char,
    out: *mut *mut runs_run,
    op: impl FnOnce(&Runs, &str) -> Result<Run, CallError>,
) -> runs_status {
    boundary::call(name, || {
        // SAFETY: the caller's contract.
        let (ledger, run_id) = unsafe {
            (
                handle::ledger(handle)?,
                strings::required(run_id, "run_id")?,
            )
        };
        let out = non_null(out, "out")?;

        let run = op(ledger, run_id)?;

        let run = boxed_run(&run);
        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { out.write(run) };
        Ok(())
    })
}

/// Moves the oldest pending run to active, giving it a lease, and writes it
/// to `*out`; writes NULL when no run is waiting (still `RUNS_STATUS_OK`).
/// `repo` and `group` narrow the choice; NULL means any. Two processes
/// never claim the same run. A pending run whose group still has an active
/// run (a protected ref) waits until that run ends. Free the run with
/// `runs_run_free`.
///
/// # Safety
/// `handle` is NULL or open; `repo` and `group` are NULL or NUL-terminated;
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_claim(
    handle: *const runs_handle,
    repo: *const c_char,
    group: *const c_char,
    out: *mut *mut runs_run,
) -> runs_status {
    boundary::call("runs_claim", || {
        // SAFETY: the caller's contract.
        let (ledger, repo, group) = unsafe {
            (
                handle::ledger(handle)?,
                strings::optional(repo, "repo")?,
                strings::optional(group, "group")?,
            )
        };
        let out = non_null(out, "out")?;
        let filter = ClaimFilter {
            repo: repo.map(str::to_owned),
            group: group.map(str::to_owned),
        };

        let claimed = ledger.claim(&filter)?;

        let run = claimed.as_ref().map_or(std::ptr::null_mut(), boxed_run);
        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { out.write(run) };
        Ok(())
    })
}

/// Compare-and-set: moves run `run_id` from state `expected` to state `to`
/// (both `runs_state` values) and writes the moved run to `*out`.
///
/// Fails with `RUNS_STATUS_INVALID_TRANSITION` when the transition table
/// forbids the move, and with `RUNS_STATUS_CONFLICT` when the run is no
/// longer in `expected` (the message names its actual state): a runner
/// whose run was superseded learns it this way. Nothing changes on failure.
/// Superseding or canceling an active run this way kills its container.
///
/// # Safety
/// `handle` is NULL or open; `run_id` is NULL or NUL-terminated; `out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_transition(
    handle: *const runs_handle,
    run_id: *const c_char,
    expected: u32,
    to: u32,
    out: *mut *mut runs_run,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        run_call("runs_transition", handle, run_id, out, |ledger, run_id| {
            let expected = state_arg(expected, "expected")?;
            let to = state_arg(to, "to")?;
            Ok(ledger.transition(run_id, expected, to)?)
        })
    }
}

/// Records `container_id` as the container of active run `run_id` and
/// writes the run to `*out`.
///
/// If the run was superseded before the attach landed, the library kills
/// the container itself (so it cannot outlive its run) and fails with
/// `RUNS_STATUS_SUPERSEDED`; for another terminal state it fails with
/// `RUNS_STATUS_CONFLICT`. Start the container with the labels of
/// `runs_container_labels`: a kill refuses a container labelled with
/// another run.
///
/// # Safety
/// `handle` is NULL or open; the strings are NULL or NUL-terminated; `out`
/// is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_attach_container(
    handle: *const runs_handle,
    run_id: *const c_char,
    container_id: *const c_char,
    out: *mut *mut runs_run,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        run_call(
            "runs_attach_container",
            handle,
            run_id,
            out,
            |ledger, run_id| {
                let container_id = strings::required(container_id, "container_id")?;
                Ok(ledger.attach_container(run_id, container_id)?)
            },
        )
    }
}

/// Renews the lease of active run `run_id` for another lease period and
/// writes the run to `*out`. Fails with `RUNS_STATUS_CONFLICT` when the run
/// is no longer active.
///
/// # Safety
/// `handle` is NULL or open; `run_id` is NULL or NUL-terminated; `out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_heartbeat(
    handle: *const runs_handle,
    run_id: *const c_char,
    out: *mut *mut runs_run,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        run_call("runs_heartbeat", handle, run_id, out, |ledger, run_id| {
            Ok(ledger.heartbeat(run_id)?)
        })
    }
}

/// Cancels live run `run_id` (an active run's container is killed) and
/// writes the run to `*out`. Fails with `RUNS_STATUS_CONFLICT` when the run
/// is already terminal.
///
/// # Safety
/// `handle` is NULL or open; `run_id` is NULL or NUL-terminated; `out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_cancel(
    handle: *const runs_handle,
    run_id: *const c_char,
    out: *mut *mut runs_run,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        run_call("runs_cancel", handle, run_id, out, |ledger, run_id| {
            Ok(ledger.cancel(run_id)?)
        })
    }
}

/// Waits until run `run_id` is no longer in state `seen`, or `timeout_ms`
/// passes, then writes the run as it is to `*out` (check its `state` to
/// tell which happened). A runner calls this between steps to learn
/// cheaply that its run was superseded or canceled. Blocks the calling
/// thread only; other threads may use the handle meanwhile.
///
/// # Safety
/// `handle` is NULL or open; `run_id` is NULL or NUL-terminated; `out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_wait_for_change(
    handle: *const runs_handle,
    run_id: *const c_char,
    seen: u32,
    timeout_ms: u64,
    out: *mut *mut runs_run,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        run_call(
            "runs_wait_for_change",
            handle,
            run_id,
            out,
            |ledger, run_id| {
                let seen = state_arg(seen, "seen")?;
                Ok(ledger.wait_for_change(run_id, seen, Duration::from_millis(timeout_ms))?)
            },
        )
    }
}
