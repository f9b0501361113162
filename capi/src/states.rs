//! Run states and the transition table, as C sees them. The table itself is
//! the core's; these functions only read it.

use std::ffi::{CStr, c_char};

use core::RunState;

use crate::boundary::{self, CallError, invalid};
use crate::status::runs_status;
use crate::strings;

/// Where a run stands. Pending and active are live; the rest are terminal.
///
/// Functions that take a state take it as a `uint32_t` holding one of
/// these values, so that a wrong number is refused with
/// `RUNS_STATUS_INVALID_INPUT` rather than being undefined behaviour.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum runs_state {
    /// Queued, waiting for a runner to claim it.
    Pending = 0,
    /// Claimed by a runner, which holds a lease on it.
    Active = 1,
    /// The work ended successfully, or there was nothing to run.
    Complete = 2,
    /// The work failed, could not start, or its runner vanished.
    Failed = 3,
    /// A newer push in the same group replaced it.
    Superseded = 4,
    /// Someone canceled it.
    Canceled = 5,
}

/// How many states there are: valid state values are 0 to
/// `RUNS_STATE_COUNT - 1`.
pub const RUNS_STATE_COUNT: u32 = 6;

impl From<RunState> for runs_state {
    fn from(state: RunState) -> runs_state {
        match state {
            RunState::Pending => runs_state::Pending,
            RunState::Active => runs_state::Active,
            RunState::Complete => runs_state::Complete,
            RunState::Failed => runs_state::Failed,
            RunState::Superseded => runs_state::Superseded,
            RunState::Canceled => runs_state::Canceled,
        }
    }
}

/// Reads a state argument.
pub(crate) fn state_arg(code: u32, arg: &'static str) -> Result<RunState, CallError> {
    RunState::from_code(code).ok_or_else(|| {
        invalid(
            arg,
            format!(
                "unknown state {code}; expected 0 (pending) to {} (canceled)",
                RUNS_STATE_COUNT - 1
            ),
        )
    })
}

fn state_cname(state: RunState) -> &'static CStr {
    match state {
        RunState::Pending => c"pending",
        RunState::Active => c"active",
        RunState::Complete => c"complete",
        RunState::Failed => c"failed",
        RunState::Superseded => c"superseded",
        RunState::Canceled => c"canceled",
    }
}

/// The lower-case name of a state (`"pending"`, ...), or NULL for a number
/// that is no state. The string is static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn runs_state_name(state: u32) -> *const c_char {
    boundary::guard_value(std::ptr::null(), || {
        RunState::from_code(state).map_or(std::ptr::null(), |state| state_cname(state).as_ptr())
    })
}

/// Looks up a state by its lower-case name and writes it to `*out`.
///
/// Fails with `RUNS_STATUS_INVALID_INPUT` for an unknown name; `*out` is
/// then left untouched.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_state_from_name(
    name: *const c_char,
    out: *mut runs_state,
) -> runs_status {
    boundary::call("runs_state_from_name", || {
        // SAFETY: the caller's contract.
        let name = unsafe { strings::required(name, "name") }?;
        if out.is_null() {
            return Err(CallError::Null { arg: "out" });
        }

        let state: RunState = name.parse()?;

        // SAFETY: checked non-NULL above; writable by the caller's contract.
        unsafe { out.write(state.into()) };
        Ok(())
    })
}

/// The transition table: may a run in state `from` become `to`? Writes the
/// answer to `*out`. Fails with `RUNS_STATUS_INVALID_INPUT` when either
/// number is no state.
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn runs_may_become(from: u32, to: u32, out: *mut bool) -> runs_status {
    boundary::call("runs_may_become", || {
        let from = state_arg(from, "from")?;
        let to = state_arg(to, "to")?;
        if out.is_null() {
            return Err(CallError::Null { arg: "out" });
        }

        let allowed = from.may_become(to);

        // SAFETY: checked non-NULL above; writable by the caller's contract.
        unsafe { out.write(allowed) };
        Ok(())
    })
}
