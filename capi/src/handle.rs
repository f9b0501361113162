//! The ledger handle: opening and closing a ledger file.

use std::ffi::c_char;

use core::{Config, Runs};

use crate::boundary::{self, CallError, non_null};
use crate::options::{self, runs_options};
use crate::status::runs_status;
use crate::strings;

/// An open ledger. Opaque: made by `runs_open` or `runs_open_with`, freed by
/// `runs_close`.
///
/// A handle may be shared by any number of threads, which may call any
/// function on it at once; each call gets its own turn at the file. Only
/// `runs_close` must not overlap another call on the same handle. A handle
/// belongs to the process that opened it: after `fork` the child must open
/// its own (calls on the inherited one fail with
/// `RUNS_STATUS_USED_AFTER_FORK`).
#[derive(Debug)]
pub struct runs_handle {
    runs: Runs,
}

/// The ledger behind a handle argument.
///
/// # Safety
/// `handle` is NULL or made by `runs_open*` and not yet closed.
pub(crate) unsafe fn ledger<'a>(handle: *const runs_handle) -> Result<&'a Runs, CallError> {
    // SAFETY: the caller's contract.
    unsafe { handle.as_ref() }
        .map(|handle| &handle.runs)
        .ok_or(CallError::Null { arg: "handle" })
}

/// Opens `path` with `config` and writes the handle to `out`.
///
/// # Safety
/// As for `runs_open`.
unsafe fn open(
    name: &str,
    path: *const c_char,
    config: impl FnOnce() -> Result<Config, CallError>,
    out: *mut *mut runs_handle,
) -> runs_status {
    boundary::call(name, || {
        // SAFETY: the caller's contract.
        let path = unsafe { strings::required(path, "path") }?;
        let config = config()?;
        let out = non_null(out, "out")?;

        let runs = Runs::open_with(path, config)?;

        let handle = Box::into_raw(Box::new(runs_handle { runs }));
        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Opens the ledger at `path` (UTF-8), creating the file if it does not
/// exist, with the default options (see `runs_options_new`), and writes
/// the handle to `*out`. Close it with `runs_close`.
///
/// Fails with `RUNS_STATUS_NOT_A_DATABASE`, `RUNS_STATUS_SCHEMA_TOO_NEW`
/// or `RUNS_STATUS_READ_ONLY` for a file it cannot use; `*out` is then left
/// untouched.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_open(path: *const c_char, out: *mut *mut runs_handle) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe { open("runs_open", path, || Ok(Config::default()), out) }
}

/// Like `runs_open`, with `options` made by `runs_options_new`. The handle
/// keeps a copy of the options: they may be freed right after.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `options` is NULL or live
/// options; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_open_with(
    path: *const c_char,
    options: *const runs_options,
    out: *mut *mut runs_handle,
) -> runs_status {
    // SAFETY: the caller's contract.
    unsafe {
        open(
            "runs_open_with",
            path,
            // SAFETY: the caller's contract.
            || Ok(options::config_of(options)?.clone()),
            out,
        )
    }
}

/// Closes a handle and frees it. NULL is a no-op. No other call on the
/// handle may be running or follow; records the handle returned stay valid
/// (they do not refer to the handle).
///
/// # Safety
/// `handle` is NULL or made by `runs_open*` and not yet closed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_close(handle: *mut runs_handle) {
    boundary::guard_value((), || {
        if !handle.is_null() {
            // SAFETY: made by `open` through `Box::into_raw`, not closed yet.
            drop(unsafe { Box::from_raw(handle) });
        }
    });
}
