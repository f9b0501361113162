//! Run states across the boundary. Python sees the members of the
//! `runledger.RunState` enum (a `str` enum defined in pure Python); the
//! transition table itself is only ever read from `runledger::TRANSITIONS`.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;

use crate::errors::to_py_err;

/// The enum's members, indexed by the core's state code.
static MEMBERS: PyOnceLock<Vec<Py<PyAny>>> = PyOnceLock::new();

fn members(py: Python<'_>) -> PyResult<&Vec<Py<PyAny>>> {
    MEMBERS.get_or_try_init(py, || {
        let enum_class = py.import("runledger.states")?.getattr("RunState")?;
        runledger::RunState::ALL
            .iter()
            .map(|state| Ok(enum_class.call1((state.as_str(),))?.unbind()))
            .collect()
    })
}

/// The `RunState` member for a core state.
pub(crate) fn state_object(py: Python<'_>, state: runledger::RunState) -> Py<PyAny> {
    match members(py) {
        Ok(members) => members[state as usize].clone_ref(py),
        // Without the pure-Python package (a broken install) the plain name
        // still compares equal to the member it would have been.
        Err(_) => PyString::new(py, state.as_str()).into_any().unbind(),
    }
}

/// A state given by a caller: a `RunState` member or its name.
pub(crate) fn from_object(
    field: &'static str,
    value: &Bound<'_, PyAny>,
) -> PyResult<runledger::RunState> {
    let Ok(name) = value.cast::<PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "{field} must be a RunState or its name, not {}",
            value.get_type().name()?
        )));
    };
    let name = name.to_cow()?;
    name.parse::<runledger::RunState>()
        .map_err(|error| match error {
            runledger::Error::InvalidInput { reason, .. } => {
                to_py_err(value.py(), runledger::Error::InvalidInput { field, reason })
            }
            other => to_py_err(value.py(), other),
        })
}

/// The transition table, as `(from, (to, ...))` pairs of state names, in
/// the core's order.
#[pyfunction]
pub(crate) fn transition_table() -> Vec<(&'static str, Vec<&'static str>)> {
    runledger::TRANSITIONS
        .iter()
        .map(|(from, to)| {
            (
                from.as_str(),
                to.iter().map(|state| state.as_str()).collect(),
            )
        })
        .collect()
}

/// Whether the table lets a run in `from_state` become `to_state`.
#[pyfunction]
pub(crate) fn may_become(
    from_state: &Bound<'_, PyAny>,
    to_state: &Bound<'_, PyAny>,
) -> PyResult<bool> {
    let from = from_object("from_state", from_state)?;
    let to = from_object("to_state", to_state)?;
    Ok(from.may_become(to))
}
