//! `runledger.Runs`, the ledger handle. Every call that reaches SQLite or the
//! container engine runs with the GIL released, so Python threads sharing
//! one handle make progress together; the core handle is `Send + Sync`.
//!
//! A handle belongs to the process that opened it. After `os.fork()` the
//! child's first call opens a fresh core handle on the same file with the
//! same settings, and the inherited one is left untouched (never closed in
//! the child: closing a parent's SQLite connection or stopping its engine
//! threads from a child is exactly what must not happen).

use std::mem::ManuallyDrop;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyString};

use crate::errors::{handle_closed, invalid_input, to_py_err};
use crate::records::{CreateResult, HistoryEntry, Labels, Page, Reconciled, Run};
use crate::states;
use crate::time::{from_datetime, from_duration};

/// A core handle and the process that opened it.
struct Opened {
    runs: ManuallyDrop<runledger::Runs>,
    pid: u32,
}

impl Opened {
    fn open(path: &std::path::Path, config: runledger::Config) -> runledger::Result<Opened> {
        Ok(Opened {
            runs: ManuallyDrop::new(runledger::Runs::open_with(path, config)?),
            pid: std::process::id(),
        })
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        if std::process::id() == self.pid {
            // SAFETY: `runs` is dropped once, here, and never used again.
            unsafe { ManuallyDrop::drop(&mut self.runs) };
        }
        // In a forked child the inherited handle is leaked on purpose: its
        // connections and engine threads belong to the parent.
    }
}

/// Why a call could not reach the core, or what the core said.
enum Failure {
    Closed,
    Core(runledger::Error),
}

impl From<runledger::Error> for Failure {
    fn from(error: runledger::Error) -> Failure {
        Failure::Core(error)
    }
}

/// A handle on one ledger file.
#[pyclass(frozen, module = "runledger", name = "Runs")]
pub(crate) struct Runs {
    path: PathBuf,
    config: runledger::Config,
    current: RwLock<Option<Arc<Opened>>>,
}

impl Drop for Runs {
    /// A handle that was never closed closes when Python collects it.
    /// Closing waits for SQLite and for the engine thread to wind down, so,
    /// as in `close()`, other Python threads run meanwhile.
    fn drop(&mut self) {
        let taken = self
            .current
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if taken.is_some() {
            Python::attach(|py| py.detach(move || drop(taken)));
        }
    }
}

impl Runs {
    /// The core handle of this process, opening one after a fork.
    fn opened(&self) -> Result<Arc<Opened>, Failure> {
        let pid = std::process::id();
        {
            let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
            match current.as_ref() {
                None => return Err(Failure::Closed),
                Some(opened) if opened.pid == pid => return Ok(Arc::clone(opened)),
                Some(_) => {}
            }
        }
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        match current.as_ref() {
            None => Err(Failure::Closed),
            Some(opened) if opened.pid == pid => Ok(Arc::clone(opened)),
            Some(_) => {
                let reopened = Arc::new(Opened::open(&self.path, self.config.clone())?);
                *current = Some(Arc::clone(&reopened));
                Ok(reopened)
            }
        }
    }

    /// Runs `operation` on the core handle with the GIL released.
    fn call<T, F>(&self, py: Python<'_>, operation: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(&runledger::Runs) -> runledger::Result<T> + Send,
    {
        let result = py.detach(|| -> Result<T, Failure> {
            let opened = self.opened()?;
            Ok(operation(&opened.runs)?)
        });
        result.map_err(|failure| match failure {
            Failure::Closed => handle_closed(py, &self.path),
            Failure::Core(error) => to_py_err(py, error),
        })
    }
}

/// Reads a path given as `str` or `os.PathLike`.
fn path_argument(field: &'static str, value: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    value.extract::<PathBuf>().map_err(|_| {
        let type_name = value
            .get_type()
            .name()
            .map(|name| name.to_string())
            .unwrap_or_default();
        PyTypeError::new_err(format!(
            "{field} must be a str or os.PathLike path, not {type_name}"
        ))
    })
}

/// Where kills go: `"docker"`, `"record-only"`, or a Docker socket address.
fn runtime_argument(value: &Bound<'_, PyAny>) -> PyResult<runledger::RuntimeConfig> {
    let py = value.py();
    if let Ok(name) = value.cast::<PyString>() {
        let name = name.to_cow()?;
        return Ok(match name.as_ref() {
            "docker" => runledger::RuntimeConfig::Docker,
            "record-only" => runledger::RuntimeConfig::RecordOnly,
            address if address.starts_with("unix://") || address.starts_with('/') => {
                runledger::RuntimeConfig::DockerAt(address.to_owned())
            }
            other => {
                return Err(invalid_input(
                    py,
                    "runtime",
                    format!(
                        "{other:?} is not \"docker\", \"record-only\", a unix:// address or an \
                         absolute socket path"
                    ),
                ));
            }
        });
    }
    let path = path_argument("runtime", value)?;
    Ok(runledger::RuntimeConfig::DockerAt(
        path.to_string_lossy().into_owned(),
    ))
}

/// The page size of `list` when none is given.
const DEFAULT_LIMIT: u32 = 100;

/// A page size or count given as a Python int, checked into `u32`. A bool
/// is an int to Python, but `limit=True` is surely a mistake.
fn count_argument(
    py: Python<'_>,
    field: &'static str,
    value: &Bound<'_, PyAny>,
    max: u32,
) -> PyResult<u32> {
    if !value.is_instance_of::<PyInt>() || value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{field} must be an int, not {}",
            value.get_type().name()?
        )));
    }
    let value: i64 = value
        .extract()
        .map_err(|_| invalid_input(py, field, format!("{value} is outside 0 to {max}")))?;
    u32::try_from(value)
        .ok()
        .filter(|value| *value <= max)
        .ok_or_else(|| invalid_input(py, field, format!("{value} is outside 0 to {max}")))
}

#[pymethods]
impl Runs {
    #[new]
    #[pyo3(signature = (
        path,
        *,
        busy_timeout = None,
        synchronous = "normal",
        background_checkpoints = true,
        base_dir = None,
        protected_refs = None,
        lease = None,
        kill_signal = "SIGKILL",
        kill_grace = None,
        kill_timeout = None,
        runtime = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        busy_timeout: Option<&Bound<'_, PyAny>>,
        synchronous: &str,
        background_checkpoints: bool,
        base_dir: Option<&Bound<'_, PyAny>>,
        protected_refs: Option<Vec<String>>,
        lease: Option<&Bound<'_, PyAny>>,
        kill_signal: &str,
        kill_grace: Option<&Bound<'_, PyAny>>,
        kill_timeout: Option<&Bound<'_, PyAny>>,
        runtime: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Runs> {
        let path = path_argument("path", path)?;
        let defaults = runledger::Config::default();
        let config = runledger::Config {
            busy_timeout: match busy_timeout {
                Some(value) => from_duration("busy_timeout", value)?,
                None => defaults.busy_timeout,
            },
            synchronous: synchronous.parse().map_err(|error| to_py_err(py, error))?,
            background_checkpoints,
            base_dir: base_dir
                .map(|dir| path_argument("base_dir", dir))
                .transpose()?,
            protected_refs: runledger::ProtectedRefs::new(protected_refs.unwrap_or_default()),
            lease: match lease {
                Some(value) => from_duration("lease", value)?,
                None => defaults.lease,
            },
            kill: runledger::KillConfig {
                signal: kill_signal.to_owned(),
                grace: kill_grace
                    .map(|value| from_duration("kill_grace", value))
                    .transpose()?,
                timeout: match kill_timeout {
                    Some(value) => from_duration("kill_timeout", value)?,
                    None => defaults.kill.timeout,
                },
            },
            runtime: match runtime {
                Some(value) => runtime_argument(value)?,
                None => defaults.runtime,
            },
        };
        if kill_signal.is_empty() {
            return Err(invalid_input(
                py,
                "kill_signal",
                "must not be empty".to_owned(),
            ));
        }
        let opened = py
            .detach(|| Opened::open(&path, config.clone()))
            .map_err(|error| to_py_err(py, error))?;
        Ok(Runs {
            path,
            config,
            current: RwLock::new(Some(Arc::new(opened))),
        })
    }

    /// The database file.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// Closes the handle. Calls already under way finish first; later calls
    /// raise `HandleClosedError`. Closing twice is allowed.
    fn close(&self, py: Python<'_>) {
        let taken = py.detach(|| {
            self.current
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
        });
        // Dropping the last reference closes the connections; do it without
        // the GIL too, as closing checkpoints the write-ahead log.
        py.detach(move || drop(taken));
    }

    fn __enter__(slf: Py<Runs>) -> Py<Runs> {
        slf
    }

    #[pyo3(signature = (*_exc_info))]
    fn __exit__(&self, py: Python<'_>, _exc_info: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { "closed" } else { "open" };
        format!("<runledger.Runs {:?} ({state})>", self.path)
    }

    /// Records a push, superseding what it makes pointless.
    #[pyo3(signature = (repo, r#ref, sha, pushed_at = None, group = None))]
    fn create(
        &self,
        py: Python<'_>,
        repo: String,
        r#ref: String,
        sha: String,
        pushed_at: Option<&Bound<'_, PyAny>>,
        group: Option<String>,
    ) -> PyResult<CreateResult> {
        let pushed_at = pushed_at
            .map(|at| from_datetime("pushed_at", at))
            .transpose()?;
        let push = runledger::Push {
            repo,
            ref_name: r#ref,
            sha,
            pushed_at,
            group,
        };
        let created = self.call(py, |runs| runs.create(&push))?;
        CreateResult::new(py, created)
    }

    /// One run by id.
    fn get(&self, py: Python<'_>, run_id: String) -> PyResult<Run> {
        self.call(py, |runs| runs.get(&run_id)).map(Run::new)
    }

    /// Moves the oldest pending run to active and returns it, or `None`.
    #[pyo3(signature = (repo = None, group = None))]
    fn claim(
        &self,
        py: Python<'_>,
        repo: Option<String>,
        group: Option<String>,
    ) -> PyResult<Option<Run>> {
        let filter = runledger::ClaimFilter { repo, group };
        Ok(self.call(py, |runs| runs.claim(&filter))?.map(Run::new))
    }

    /// Compare-and-set from `expected` to `to`.
    fn transition(
        &self,
        py: Python<'_>,
        run_id: String,
        expected: &Bound<'_, PyAny>,
        to: &Bound<'_, PyAny>,
    ) -> PyResult<Run> {
        let expected = states::from_object("expected", expected)?;
        let to = states::from_object("to", to)?;
        self.call(py, |runs| runs.transition(&run_id, expected, to))
            .map(Run::new)
    }

    /// Records the container a runner started for its active run.
    fn attach_container(
        &self,
        py: Python<'_>,
        run_id: String,
        container_id: String,
    ) -> PyResult<Run> {
        self.call(py, |runs| runs.attach_container(&run_id, &container_id))
            .map(Run::new)
    }

    /// The labels a runner should put on the run's container.
    fn container_labels(&self, run: &Bound<'_, Run>) -> Labels {
        runledger::container_labels(&run.get().inner)
    }

    /// Renews the lease of an active run.
    fn heartbeat(&self, py: Python<'_>, run_id: String) -> PyResult<Run> {
        self.call(py, |runs| runs.heartbeat(&run_id)).map(Run::new)
    }

    /// Cancels a live run; an active run's container is killed.
    fn cancel(&self, py: Python<'_>, run_id: String) -> PyResult<Run> {
        self.call(py, |runs| runs.cancel(&run_id)).map(Run::new)
    }

    /// Settles expired leases and failed kills.
    fn reconcile(&self, py: Python<'_>) -> PyResult<Reconciled> {
        self.call(py, |runs| runs.reconcile()).map(Reconciled::new)
    }

    /// One page of runs, newest first.
    #[pyo3(signature = (
        *, repo = None, r#ref = None, group = None, state = None, limit = None, cursor = None
    ),
    // `limit` is read by hand (a bool is refused), so its default is
    // applied in the body; the signature Python shows says what it is.
    text_signature = "($self, *, repo=None, ref=None, group=None, state=None, limit=100, \
                      cursor=None)")]
    #[allow(clippy::too_many_arguments)]
    fn list(
        &self,
        py: Python<'_>,
        repo: Option<String>,
        r#ref: Option<String>,
        group: Option<String>,
        state: Option<&Bound<'_, PyAny>>,
        limit: Option<&Bound<'_, PyAny>>,
        cursor: Option<String>,
    ) -> PyResult<Page> {
        let state = state
            .map(|state| states::from_object("state", state))
            .transpose()?;
        let limit = match limit {
            Some(limit) => count_argument(py, "limit", limit, runledger::MAX_PAGE)?,
            None => DEFAULT_LIMIT,
        };
        let filter = runledger::ListFilter {
            repo,
            ref_name: r#ref,
            group,
            state,
        };
        let page = self.call(py, |runs| runs.list(&filter, limit, cursor.as_deref()))?;
        Page::new(py, page)
    }

    /// Every transition of a run, oldest first.
    fn history(&self, py: Python<'_>, run_id: String) -> PyResult<Vec<HistoryEntry>> {
        let entries = self.call(py, |runs| runs.history(&run_id))?;
        Ok(entries.into_iter().map(HistoryEntry::new).collect())
    }

    /// Deletes old terminal runs; returns them.
    fn prune(
        &self,
        py: Python<'_>,
        keep_per_group: &Bound<'_, PyAny>,
        older_than: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<Run>> {
        let keep_per_group = count_argument(py, "keep_per_group", keep_per_group, u32::MAX)?;
        let older_than = from_duration("older_than", older_than)?;
        let pruned = self.call(py, |runs| runs.prune(keep_per_group, older_than))?;
        Ok(pruned.into_iter().map(Run::new).collect())
    }

    /// Waits until the run leaves `seen` or `timeout` passes.
    fn wait_for_change(
        &self,
        py: Python<'_>,
        run_id: String,
        seen: &Bound<'_, PyAny>,
        timeout: &Bound<'_, PyAny>,
    ) -> PyResult<Run> {
        let seen = states::from_object("seen", seen)?;
        let timeout = from_duration("timeout", timeout)?;
        self.call(py, |runs| runs.wait_for_change(&run_id, seen, timeout))
            .map(Run::new)
    }

    /// The run's directory, when the handle has a base directory.
    fn run_dir(&self, py: Python<'_>, run: &Bound<'_, Run>) -> PyResult<Option<PathBuf>> {
        let run = run.get().inner.clone();
        self.call(py, |runs| Ok(runs.run_dir(&run)))
    }
}
