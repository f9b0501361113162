//! The status codes every fallible function returns. One code per kind of
//! failure, so C callers branch on meaning; the numbers are part of the ABI
//! and a retired number is never given to another kind.

use std::ffi::c_char;

/// What a call did. `RUNS_STATUS_OK` is zero; everything else is a failure
/// whose message `runs_last_error_message` returns on the same thread.
///
/// Codes 1 to 99 are the ledger's own errors, one per kind; 100 and up are
/// failures of the C boundary itself. Numbers are never reused.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum runs_status {
    /// The call succeeded.
    Ok = 0,
    /// A value given by the caller is malformed (an empty or oversized
    /// name, a ref that is not a full ref name, a sha that is not hex, an
    /// unknown state, a zero timeout...). Nothing was written.
    InvalidInput = 1,
    /// No run has this id.
    NotFound = 2,
    /// A compare-and-set found the run in another state than expected:
    /// someone else moved it first. Nothing changed. The message names the
    /// actual state.
    Conflict = 3,
    /// The transition table forbids this move whatever the run's state.
    InvalidTransition = 4,
    /// The run cannot become active while its group has an active run.
    GroupHasActiveRun = 5,
    /// The run was superseded before the container could be attached; the
    /// library is killing that container.
    Superseded = 6,
    /// The database was written by a newer runledger.
    SchemaTooNew = 7,
    /// The file is not a runledger database.
    NotADatabase = 8,
    /// The database file or its directory cannot be written.
    ReadOnly = 9,
    /// Another connection held the write lock past the busy timeout.
    Busy = 10,
    /// Any other failure of the storage engine.
    Storage = 11,
    /// A run directory could not be created or removed.
    RunDirectory = 12,
    /// The handle was opened in another process, which then forked; open
    /// a new handle in the child.
    UsedAfterFork = 13,
    /// A ledger error newer than this build of the C library knows a code
    /// for. The message still describes it.
    OtherError = 99,
    /// A pointer argument that must not be NULL was NULL.
    NullArgument = 100,
    /// A string argument is not valid UTF-8.
    InvalidUtf8 = 101,
    /// The library panicked. Nothing the call was writing is left half
    /// done in the database, but the handle's process should treat this
    /// as a bug to report.
    Panic = 102,
}

impl runs_status {
    /// The code for a ledger error. The core adds kinds over time, so an
    /// unknown one gets the generic code rather than a wrong specific one.
    pub(crate) fn of(error: &core::Error) -> runs_status {
        match error {
            core::Error::InvalidInput { .. } => runs_status::InvalidInput,
            core::Error::NotFound { .. } => runs_status::NotFound,
            core::Error::Conflict { .. } => runs_status::Conflict,
            core::Error::InvalidTransition { .. } => runs_status::InvalidTransition,
            core::Error::GroupHasActiveRun { .. } => runs_status::GroupHasActiveRun,
            core::Error::Superseded { .. } => runs_status::Superseded,
            core::Error::SchemaTooNew { .. } => runs_status::SchemaTooNew,
            core::Error::NotADatabase { .. } => runs_status::NotADatabase,
            core::Error::ReadOnly { .. } => runs_status::ReadOnly,
            core::Error::Busy { .. } => runs_status::Busy,
            core::Error::Storage { .. } => runs_status::Storage,
            core::Error::RunDirectory { .. } => runs_status::RunDirectory,
            core::Error::UsedAfterFork { .. } => runs_status::UsedAfterFork,
            _ => runs_status::OtherError,
        }
    }

    /// Every code, for the name lookup.
    const ALL: [runs_status; 18] = [
        runs_status::Ok,
        runs_status::InvalidInput,
        runs_status::NotFound,
        runs_status::Conflict,
        runs_status::InvalidTransition,
        runs_status::GroupHasActiveRun,
        runs_status::Superseded,
        runs_status::SchemaTooNew,
        runs_status::NotADatabase,
        runs_status::ReadOnly,
        runs_status::Busy,
        runs_status::Storage,
        runs_status::RunDirectory,
        runs_status::UsedAfterFork,
        runs_status::OtherError,
        runs_status::NullArgument,
        runs_status::InvalidUtf8,
        runs_status::Panic,
    ];

    /// The code's name as a NUL-terminated string.
    const fn name(self) -> &'static std::ffi::CStr {
        match self {
            runs_status::Ok => c"ok",
            runs_status::InvalidInput => c"invalid_input",
            runs_status::NotFound => c"not_found",
            runs_status::Conflict => c"conflict",
            runs_status::InvalidTransition => c"invalid_transition",
            runs_status::GroupHasActiveRun => c"group_has_active_run",
            runs_status::Superseded => c"superseded",
            runs_status::SchemaTooNew => c"schema_too_new",
            runs_status::NotADatabase => c"not_a_database",
            runs_status::ReadOnly => c"read_only",
            runs_status::Busy => c"busy",
            runs_status::Storage => c"storage",
            runs_status::RunDirectory => c"run_directory",
            runs_status::UsedAfterFork => c"used_after_fork",
            runs_status::OtherError => c"other_error",
            runs_status::NullArgument => c"null_argument",
            runs_status::InvalidUtf8 => c"invalid_utf8",
            runs_status::Panic => c"panic",
        }
    }
}

/// The name of a status code, such as `"not_found"`, or NULL for a number
/// that is no code. The string is static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn runs_status_name(status: u32) -> *const c_char {
    runs_status::ALL
        .into_iter()
        .find(|known| *known as u32 == status)
        .map_or(std::ptr::null(), |known| known.name().as_ptr())
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;

    #[test]
    fn numbers_are_the_published_ones() {
        // These numbers are the ABI: changing one breaks every compiled
        // caller. New kinds get new numbers.
        let published: Vec<(u32, &str)> = runs_status::ALL
            .into_iter()
            .map(|status| (status as u32, status.name().to_str().unwrap()))
            .collect();

        assert_eq!(
            published,
            [
                (0, "ok"),
                (1, "invalid_input"),
                (2, "not_found"),
                (3, "conflict"),
                (4, "invalid_transition"),
                (5, "group_has_active_run"),
                (6, "superseded"),
                (7, "schema_too_new"),
                (8, "not_a_database"),
                (9, "read_only"),
                (10, "busy"),
                (11, "storage"),
                (12, "run_directory"),
                (13, "used_after_fork"),
                (99, "other_error"),
                (100, "null_argument"),
                (101, "invalid_utf8"),
                (102, "panic"),
            ]
        );
    }

    #[test]
    fn names_are_found_by_number_and_unknown_numbers_give_null() {
        let name = runs_status_name(3);

        // SAFETY: a static NUL-terminated name.
        assert_eq!(unsafe { CStr::from_ptr(name) }.to_str(), Ok("conflict"));
        assert!(runs_status_name(14).is_null());
    }
}
