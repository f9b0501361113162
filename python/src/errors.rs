//! The core's errors as Python exceptions. The classes live in the pure-Python
//! module `runledger.errors` (so they have docstrings, builtin bases such as
//! `ValueError`, and pickle like any exception); this module looks them up
//! once and fills in their attributes from the error's named fields.

use pyo3::BoundObject;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

use crate::states;

const ERRORS_MODULE: &str = "runledger.errors";

/// One cached exception class per name used here.
struct ErrorClass {
    name: &'static str,
    class: PyOnceLock<Py<PyType>>,
}

impl ErrorClass {
    const fn new(name: &'static str) -> ErrorClass {
        ErrorClass {
            name,
            class: PyOnceLock::new(),
        }
    }

    fn get<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyType>> {
        self.class.import(py, ERRORS_MODULE, self.name)
    }

    /// An exception of this class with `message` and the attributes in
    /// `fields`, ready to raise.
    fn build(&self, py: Python<'_>, message: String, fields: &[(&str, Py<PyAny>)]) -> PyErr {
        let made = (|| -> PyResult<PyErr> {
            let kwargs = PyDict::new(py);
            for (name, value) in fields {
                kwargs.set_item(name, value)?;
            }
            let instance = self.get(py)?.call((message,), Some(&kwargs))?;
            Ok(PyErr::from_value(instance))
        })();
        // Failing to build the exception (the package is broken) is itself
        // the error worth reporting.
        made.unwrap_or_else(|error| error)
    }
}

static BASE: ErrorClass = ErrorClass::new("RunledgerError");
static INVALID_INPUT: ErrorClass = ErrorClass::new("InvalidInputError");
static NOT_FOUND: ErrorClass = ErrorClass::new("NotFoundError");
static CONFLICT: ErrorClass = ErrorClass::new("ConflictError");
static INVALID_TRANSITION: ErrorClass = ErrorClass::new("InvalidTransitionError");
static GROUP_HAS_ACTIVE_RUN: ErrorClass = ErrorClass::new("GroupHasActiveRunError");
static SUPERSEDED: ErrorClass = ErrorClass::new("SupersededError");
static SCHEMA_TOO_NEW: ErrorClass = ErrorClass::new("SchemaTooNewError");
static NOT_A_DATABASE: ErrorClass = ErrorClass::new("NotADatabaseError");
static READ_ONLY: ErrorClass = ErrorClass::new("ReadOnlyError");
static BUSY: ErrorClass = ErrorClass::new("BusyError");
static STORAGE: ErrorClass = ErrorClass::new("StorageError");
static RUN_DIRECTORY: ErrorClass = ErrorClass::new("RunDirectoryError");
static USED_AFTER_FORK: ErrorClass = ErrorClass::new("UsedAfterForkError");
static HANDLE_CLOSED: ErrorClass = ErrorClass::new("HandleClosedError");

fn value<'py, T>(py: Python<'py>, value: T) -> Py<PyAny>
where
    T: IntoPyObject<'py>,
{
    match value.into_pyobject(py) {
        Ok(object) => object.into_any().unbind(),
        // Only strings, integers and states are passed here, which convert.
        Err(_) => py.None(),
    }
}

/// The Python exception for a core error.
pub(crate) fn to_py_err(py: Python<'_>, error: runledger::Error) -> PyErr {
    let message = error.to_string();
    match error {
        runledger::Error::InvalidInput { field, reason } => INVALID_INPUT.build(
            py,
            message,
            &[("field", value(py, field)), ("reason", value(py, reason))],
        ),
        runledger::Error::NotFound { run_id } => {
            NOT_FOUND.build(py, message, &[("run_id", value(py, run_id))])
        }
        runledger::Error::Conflict {
            run_id,
            expected,
            actual,
        } => CONFLICT.build(
            py,
            message,
            &[
                ("run_id", value(py, run_id)),
                ("expected", value(py, expected)),
                ("actual", states::state_object(py, actual)),
            ],
        ),
        runledger::Error::InvalidTransition { from, to } => INVALID_TRANSITION.build(
            py,
            message,
            &[
                ("from_state", states::state_object(py, from)),
                ("to_state", states::state_object(py, to)),
            ],
        ),
        runledger::Error::GroupHasActiveRun { run_id } => {
            GROUP_HAS_ACTIVE_RUN.build(py, message, &[("run_id", value(py, run_id))])
        }
        runledger::Error::Superseded {
            run_id,
            superseded_by,
        } => SUPERSEDED.build(
            py,
            message,
            &[
                ("run_id", value(py, run_id)),
                ("superseded_by", value(py, superseded_by)),
            ],
        ),
        runledger::Error::SchemaTooNew {
            path,
            found,
            supported,
        } => SCHEMA_TOO_NEW.build(
            py,
            message,
            &[
                ("path", value(py, path)),
                ("found", value(py, found)),
                ("supported", value(py, supported)),
            ],
        ),
        runledger::Error::NotADatabase { path, reason } => NOT_A_DATABASE.build(
            py,
            message,
            &[("path", value(py, path)), ("reason", value(py, reason))],
        ),
        runledger::Error::ReadOnly { path, reason } => READ_ONLY.build(
            py,
            message,
            &[("path", value(py, path)), ("reason", value(py, reason))],
        ),
        runledger::Error::Busy {
            operation,
            waited_ms,
        } => BUSY.build(
            py,
            message,
            &[
                ("operation", value(py, operation)),
                ("waited_ms", value(py, waited_ms)),
            ],
        ),
        runledger::Error::Storage { operation, .. } => {
            STORAGE.build(py, message, &[("operation", value(py, operation))])
        }
        runledger::Error::RunDirectory { path, .. } => {
            RUN_DIRECTORY.build(py, message, &[("path", value(py, path))])
        }
        runledger::Error::UsedAfterFork { opened_in, used_in } => USED_AFTER_FORK.build(
            py,
            message,
            &[
                ("opened_in", value(py, opened_in)),
                ("used_in", value(py, used_in)),
            ],
        ),
        // The core may grow variants; they still arrive as the base class,
        // with the core's message.
        _ => BASE.build(py, message, &[]),
    }
}

/// An `InvalidInputError` raised by this layer itself, for a value the core
/// never sees (a naive datetime, a negative duration).
pub(crate) fn invalid_input(py: Python<'_>, field: &'static str, reason: String) -> PyErr {
    to_py_err(py, runledger::Error::InvalidInput { field, reason })
}

/// The error of an operation on a closed handle.
pub(crate) fn handle_closed(py: Python<'_>, path: &std::path::Path) -> PyErr {
    HANDLE_CLOSED.build(
        py,
        format!("the ledger handle on {} is closed", path.display()),
        &[("path", value(py, path))],
    )
}
