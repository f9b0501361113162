//! Times across the boundary: `int64_t` milliseconds since the Unix epoch,
//! UTC, with one sentinel for "no time".

use jiff::Timestamp;

use crate::boundary::{CallError, invalid};

/// The value of a time field that is absent (a run that never started has
/// `started_at_ms == RUNS_NO_TIME`), and the value to pass for "now" where
/// a function takes an optional time.
pub const RUNS_NO_TIME: i64 = i64::MIN;

/// A time for C.
pub(crate) fn to_ms(at: Timestamp) -> i64 {
    at.as_millisecond()
}

/// An optional time for C.
pub(crate) fn opt_to_ms(at: Option<Timestamp>) -> i64 {
    at.map_or(RUNS_NO_TIME, to_ms)
}

/// A time argument, `RUNS_NO_TIME` meaning not given.
pub(crate) fn opt_from_ms(ms: i64, arg: &'static str) -> Result<Option<Timestamp>, CallError> {
    if ms == RUNS_NO_TIME {
        return Ok(None);
    }
    Timestamp::from_millisecond(ms)
        .map(Some)
        .map_err(|error| invalid(arg, format!("{ms} ms is not a representable time: {error}")))
}
