//! The panic boundary and the error type of exported functions. Every
//! exported body runs inside [`call`] or [`guard_value`], so a panic becomes
//! a status code instead of unwinding into C, which would be undefined
//! behaviour.

use std::any::Any;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use crate::last_error;
use crate::status::runs_status;

/// Why an exported call failed.
#[derive(Debug)]
pub(crate) enum CallError {
    /// A pointer argument that must not be NULL was NULL.
    Null {
        /// The parameter's name in the header.
        arg: &'static str,
    },
    /// A string argument is not UTF-8.
    Utf8 {
        /// The parameter's name in the header.
        arg: &'static str,
        /// Where the first bad byte is.
        source: std::str::Utf8Error,
    },
    /// The ledger refused or failed.
    Ledger(core::Error),
}

impl CallError {
    fn status(&self) -> runs_status {
        match self {
            CallError::Null { .. } => runs_status::NullArgument,
            CallError::Utf8 { .. } => runs_status::InvalidUtf8,
            CallError::Ledger(error) => runs_status::of(error),
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Null { arg } => write!(f, "{arg} is NULL"),
            CallError::Utf8 { arg, source } => write!(f, "{arg} is not valid UTF-8: {source}"),
            CallError::Ledger(error) => write!(f, "{error}"),
        }
    }
}

impl From<core::Error> for CallError {
    fn from(error: core::Error) -> CallError {
        CallError::Ledger(error)
    }
}

/// A caller's value that the boundary itself refuses, reported with the
/// ledger's own invalid-input kind so that C and Rust callers see the same
/// code for the same mistake.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> CallError {
    CallError::Ledger(core::Error::InvalidInput {
        field,
        reason: reason.into(),
    })
}

/// Runs the body of the exported function `name`. On failure or panic the
/// message goes to this thread's last error and the code is returned. The
/// body writes its out-parameters only as its last step, after everything
/// that can fail, so they stay untouched on error.
pub(crate) fn call(name: &str, body: impl FnOnce() -> Result<(), CallError>) -> runs_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => runs_status::Ok,
        Ok(Err(error)) => {
            let status = error.status();
            last_error::set(format!("{name}: {error}"));
            status
        }
        Err(payload) => {
            last_error::set(format!(
                "{name}: runledger panicked: {}; this is a bug in runledger",
                panic_text(payload.as_ref())
            ));
            runs_status::Panic
        }
    }
}

/// Runs the body of an exported function that cannot fail, returning
/// `fallback` should it panic all the same.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "no message"
    }
}

/// Checks a pointer argument that must not be NULL, typically where a
/// result is written.
pub(crate) fn non_null<T>(ptr: *mut T, arg: &'static str) -> Result<NonNull<T>, CallError> {
    NonNull::new(ptr).ok_or(CallError::Null { arg })
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;

    fn last_message() -> String {
        // SAFETY: the library's own NUL-terminated, thread-local message.
        unsafe { CStr::from_ptr(last_error::runs_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_a_status_with_a_message() {
        let status = call("runs_example", || panic!("deliberately broken"));

        assert_eq!(status, runs_status::Panic);
        assert!(last_message().contains("runs_example: runledger panicked: deliberately broken"));
    }

    #[test]
    fn a_success_leaves_the_last_error_as_it_was() {
        call("runs_example", || Err(CallError::Null { arg: "repo" }));

        let status = call("runs_example", || Ok(()));

        assert_eq!(status, runs_status::Ok);
        assert_eq!(last_message(), "runs_example: repo is NULL");
    }

    #[test]
    fn each_thread_reads_its_own_last_error() {
        call("runs_example", || Err(CallError::Null { arg: "sha" }));

        std::thread::spawn(|| {
            assert_eq!(last_message(), "");
            call("runs_other", || Err(CallError::Null { arg: "out" }));
        })
        .join()
        .unwrap();

        assert_eq!(last_message(), "runs_example: sha is NULL");
    }
}
