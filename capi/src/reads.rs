//! Reading the ledger: one run, pages of runs, a run's history, and the
//! labels a runner puts on its container.

use std::ffi::c_char;

use core::ListFilter;

use crate::boundary::{self, non_null};
use crate::handle::{self, runs_handle};
use crate::lifecycle::run_call;
use crate::records::{boxed_history, boxed_run_list, runs_history_list, runs_run, runs_run_list};
use crate::states::state_arg;
use crate::status::runs_status;
use crate::strings::{self, Arena};

/// The value of `state` in `runs_list` that means "any state".
pub const RUNS_ANY_STATE: u32 = u32::MAX;

/// Writes run `run_id` to `*out`; free it with `runs_run_free`. Fails with
/// `RUNS_STATUS_NOT_FOUND` when no run has this id.
///
/// # Safety
/// `handle` is NULL or open; `run_id` is NULL or NUL-terminated; `out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_get(
    handle: *const runs_handle,
    run_id: *const c_char,
    out: *mut *mut runs_run,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        run_call("runs_get", handle, run_id, out, |ledger, run_id| {
            Ok(ledger.get(run_id)?)
        })
    }
}

/// Writes one page of runs, newest first, to `*out`; free it with
/// `runs_run_list_free`. Each of `repo`, `ref_name` and `group` narrows the
/// result, NULL meaning any; `state` is a `runs_state` or `RUNS_ANY_STATE`.
/// `limit` is 1 to 1000. `cursor` is NULL for the first page, else the
/// previous page's `next_cursor` (copy it before freeing that page).
///
/// # Safety
/// `handle` is NULL or open; the strings are NULL or NUL-terminated; `out`
/// is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_list(
    handle: *const runs_handle,
    repo: *const c_char,
    ref_name: *const c_char,
    group: *const c_char,
    state: u32,
    limit: u32,
    cursor: *const c_char,
    out: *mut *mut runs_run_list,
) -> runs_status {
    boundary::call("runs_list", || {
        // SAFETY: the caller's contract.
        let (ledger, repo, ref_name, group, cursor) = unsafe {
            (
                handle::ledger(handle)?,
                strings::optional(repo, "repo")?,
                strings::optional(ref_name, "ref_name")?,
                strings::optional(group, "group")?,
                strings::optional(cursor, "cursor")?,
            )
        };
        let state = match state {
            RUNS_ANY_STATE => None,
            code => Some(state_arg(code, "state")?),
        };
        let out = non_null(out, "out")?;
        let filter = ListFilter {
            repo: repo.map(str::to_owned),
            ref_name: ref_name.map(str::to_owned),
            group: group.map(str::to_owned),
            state,
        };

        let page = ledger.list(&filter, limit, cursor)?;

        let list = boxed_run_list(&page.runs, page.next_cursor.as_deref());
        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { out.write(list) };
        Ok(())
    })
}

/// Writes every transition of run `run_id`, oldest first, to `*out`; free
/// it with `runs_history_list_free`.
///
/// # Safety
/// `handle` is NULL or open; `run_id` is NULL or NUL-terminated; `out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_history(
    handle: *const runs_handle,
    run_id: *const c_char,
    out: *mut *mut runs_history_list,
) -> runs_status {
    boundary::call("runs_history", || {
        // SAFETY: the caller's contract.
        let (ledger, run_id) = unsafe {
            (
                handle::ledger(handle)?,
                strings::required(run_id, "run_id")?,
            )
        };
        let out = non_null(out, "out")?;

        let entries = ledger.history(run_id)?;

        let history = boxed_history(&entries);
        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { out.write(history) };
        Ok(())
    })
}

/// One container label.
#[repr(C)]
#[derive(Debug)]
pub struct runs_label {
    /// The label's key, as in `runledger.run-id`.
    pub key: *const c_char,
    /// Its value.
    pub value: *const c_char,
}

/// The labels a runner should put on the container of a run. Owned by the
/// list: every string stays valid until `runs_labels_free`.
#[repr(C)]
#[derive(Debug)]
pub struct runs_labels {
    /// How many labels `labels` holds.
    pub len: usize,
    /// The labels, sorted by key.
    pub labels: *const runs_label,
}

#[repr(C)]
struct OwnedLabels {
    list: runs_labels,
    labels: Vec<runs_label>,
    arena: Arena,
}

/// Writes the labels a runner should put on the container of run `run_id`
/// to `*out` (`runledger.run-id` and friends), so that reconcile can find
/// the container and no kill ever takes another run's container. Free them
/// with `runs_labels_free`.
///
/// # Safety
/// `handle` is NULL or open; `run_id` is NULL or NUL-terminated; `out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_container_labels(
    handle: *const runs_handle,
    run_id: *const c_char,
    out: *mut *mut runs_labels,
) -> runs_status {
    boundary::call("runs_container_labels", || {
        // SAFETY: the caller's contract.
        let (ledger, run_id) = unsafe {
            (
                handle::ledger(handle)?,
                strings::required(run_id, "run_id")?,
            )
        };
        let out = non_null(out, "out")?;

        let run = ledger.get(run_id)?;
        let pairs = ledger.container_labels(&run);

        let mut arena = Arena::default();
        let labels: Vec<runs_label> = pairs
            .iter()
            .map(|(key, value)| runs_label {
                key: arena.keep(key),
                value: arena.keep(value),
            })
            .collect();
        let list = runs_labels {
            len: labels.len(),
            labels: labels.as_ptr(),
        };
        let owned = Box::into_raw(Box::new(OwnedLabels {
            list,
            labels,
            arena,
        }));
        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { out.write(owned.cast()) };
        Ok(())
    })
}

/// Frees labels. NULL is a no-op.
///
/// # Safety
/// `labels` is NULL or returned by `runs_container_labels`, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_labels_free(labels: *mut runs_labels) {
    boundary::guard_value((), || {
        if !labels.is_null() {
            // SAFETY: made by `runs_container_labels`, starting with the list.
            drop(unsafe { Box::from_raw(labels.cast::<OwnedLabels>()) });
        }
    });
}
