//! Times across the boundary: the core's `jiff::Timestamp`s become
//! timezone-aware UTC `datetime`s, and `datetime`s and `timedelta`s from
//! callers become timestamps and durations. Naive datetimes are refused:
//! guessing their zone would silently misorder pushes.

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::Offset;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDateTime, PyDelta, PyFloat, PyInt, PyTzInfo};

use crate::errors::invalid_input;

/// `datetime(1970, 1, 1, tzinfo=timezone.utc)`, made once.
static UNIX_EPOCH: PyOnceLock<Py<PyDateTime>> = PyOnceLock::new();

fn unix_epoch(py: Python<'_>) -> PyResult<&Bound<'_, PyDateTime>> {
    UNIX_EPOCH
        .get_or_try_init(py, || {
            let utc = PyTzInfo::utc(py)?;
            PyDateTime::new(py, 1970, 1, 1, 0, 0, 0, 0, Some(&utc)).map(Bound::unbind)
        })
        .map(|epoch| epoch.bind(py))
}

/// A timestamp as an aware `datetime` in UTC, to the microsecond.
pub(crate) fn to_datetime<'py>(py: Python<'py>, at: Timestamp) -> PyResult<Bound<'py, PyDateTime>> {
    let civil = Offset::UTC.to_datetime(at);
    let utc = PyTzInfo::utc(py)?;
    let microsecond = u32::try_from(civil.subsec_nanosecond() / 1000).unwrap_or(0);
    PyDateTime::new(
        py,
        i32::from(civil.year()),
        civil.month().unsigned_abs(),
        civil.day().unsigned_abs(),
        civil.hour().unsigned_abs(),
        civil.minute().unsigned_abs(),
        civil.second().unsigned_abs(),
        microsecond,
        Some(&utc),
    )
}

/// An optional timestamp as an optional `datetime`.
pub(crate) fn to_optional_datetime<'py>(
    py: Python<'py>,
    at: Option<Timestamp>,
) -> PyResult<Option<Bound<'py, PyDateTime>>> {
    at.map(|at| to_datetime(py, at)).transpose()
}

/// The whole microseconds of a `timedelta`, read through its attributes so
/// that it works on every Python the stable ABI covers.
fn delta_microseconds(delta: &Bound<'_, PyAny>) -> PyResult<i128> {
    let days: i64 = delta.getattr("days")?.extract()?;
    let seconds: i64 = delta.getattr("seconds")?.extract()?;
    let microseconds: i64 = delta.getattr("microseconds")?.extract()?;
    Ok((i128::from(days) * 86_400 + i128::from(seconds)) * 1_000_000 + i128::from(microseconds))
}

/// A caller's `datetime` as a timestamp. It must be timezone-aware; any
/// tzinfo that answers `utcoffset` is accepted.
pub(crate) fn from_datetime(field: &'static str, value: &Bound<'_, PyAny>) -> PyResult<Timestamp> {
    let py = value.py();
    let Ok(datetime) = value.cast::<PyDateTime>() else {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{field} must be a timezone-aware datetime, not {}",
            value.get_type().name()?
        )));
    };
    if datetime.call_method0("utcoffset")?.is_none() {
        return Err(invalid_input(
            py,
            field,
            format!(
                "{} is a naive datetime; give a timezone-aware one, such as \
                 datetime.now(timezone.utc)",
                datetime.repr()?
            ),
        ));
    }
    let since_epoch = datetime.call_method1("__sub__", (unix_epoch(py)?,))?;
    let micros = delta_microseconds(&since_epoch)?;
    let seconds = i64::try_from(micros.div_euclid(1_000_000)).unwrap_or(i64::MAX);
    let nanos = i32::try_from(micros.rem_euclid(1_000_000) * 1000).unwrap_or(0);
    Timestamp::new(seconds, nanos).map_err(|error| {
        invalid_input(
            py,
            field,
            format!(
                "{} {error}",
                datetime.repr().map(|r| r.to_string()).unwrap_or_default()
            ),
        )
    })
}

/// A caller's duration: a `timedelta` or a number of seconds, not negative.
pub(crate) fn from_duration(field: &'static str, value: &Bound<'_, PyAny>) -> PyResult<Duration> {
    let py = value.py();
    if let Ok(delta) = value.cast::<PyDelta>() {
        let micros = delta_microseconds(delta)?;
        if micros < 0 {
            return Err(invalid_input(
                py,
                field,
                format!("{} is negative", delta.repr()?),
            ));
        }
        let micros = u64::try_from(micros)
            .map_err(|_| invalid_input(py, field, "is too long".to_owned()))?;
        return Ok(Duration::from_micros(micros));
    }
    // A bool is an int to Python, but `lease=True` is surely a mistake.
    let is_number = (value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>())
        && !value.is_instance_of::<pyo3::types::PyBool>();
    if !is_number {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{field} must be a timedelta or a number of seconds, not {}",
            value.get_type().name()?
        )));
    }
    let seconds: f64 = value.extract()?;
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        invalid_input(
            py,
            field,
            format!("{seconds} seconds is not a duration (negative, too long or not a number)"),
        )
    })
}
