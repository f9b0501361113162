//! The records the ledger hands to Python: immutable views of the core's
//! plain-data results. Times are converted when read, so a create that nobody
//! inspects pays for no `datetime`s.

use std::collections::BTreeMap;

use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyTuple};

use crate::states::state_object;
use crate::time::{to_datetime, to_optional_datetime};

/// A string as Python's `repr` shows it.
fn quoted(value: &str) -> String {
    format!("'{}'", value.escape_default())
}

/// An optional string as Python's `repr` shows it.
fn quoted_opt(value: Option<&str>) -> String {
    value.map_or_else(|| "None".to_owned(), quoted)
}

/// One CI execution of one pushed commit.
#[pyclass(frozen, module = "runledger", name = "Run")]
pub(crate) struct Run {
    pub(crate) inner: runledger::Run,
}

impl Run {
    pub(crate) fn new(inner: runledger::Run) -> Run {
        Run { inner }
    }
}

#[pymethods]
impl Run {
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }

    #[getter]
    fn repo(&self) -> &str {
        &self.inner.repo
    }

    #[getter]
    fn ref_name(&self) -> &str {
        &self.inner.ref_name
    }

    #[getter]
    fn sha(&self) -> &str {
        &self.inner.sha
    }

    #[getter]
    fn group_key(&self) -> &str {
        &self.inner.group_key
    }

    #[getter]
    fn state(&self, py: Python<'_>) -> Py<PyAny> {
        state_object(py, self.inner.state)
    }

    #[getter]
    fn protected(&self) -> bool {
        self.inner.protected
    }

    #[getter]
    fn pushed_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        to_datetime(py, self.inner.pushed_at)
    }

    #[getter]
    fn queued_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        to_datetime(py, self.inner.queued_at)
    }

    #[getter]
    fn started_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        to_optional_datetime(py, self.inner.started_at)
    }

    #[getter]
    fn finished_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        to_optional_datetime(py, self.inner.finished_at)
    }

    #[getter]
    fn superseded_by(&self) -> Option<&str> {
        self.inner.superseded_by.as_deref()
    }

    #[getter]
    fn lease_expires_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        to_optional_datetime(py, self.inner.lease_expires_at)
    }

    #[getter]
    fn container_id(&self) -> Option<&str> {
        self.inner.container_id.as_deref()
    }

    #[getter]
    fn kill(&self) -> Option<KillRecord> {
        self.inner.kill.clone().map(|inner| KillRecord { inner })
    }

    /// `True` while pending or active.
    #[getter]
    fn is_live(&self) -> bool {
        self.inner.state.is_live()
    }

    fn __repr__(&self) -> String {
        format!(
            "Run(id={}, repo={}, ref_name={}, sha={}, state={})",
            quoted(&self.inner.id),
            quoted(&self.inner.repo),
            quoted(&self.inner.ref_name),
            quoted(&self.inner.sha),
            quoted(self.inner.state.as_str())
        )
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> Py<PyAny> {
        let py = other.py();
        let Ok(other) = other.cast::<Run>() else {
            return py.NotImplemented();
        };
        let equal = self.inner == other.get().inner;
        match op {
            CompareOp::Eq => equal
                .into_pyobject(py)
                .map_or(py.None(), |b| b.to_owned().into_any().unbind()),
            CompareOp::Ne => (!equal)
                .into_pyobject(py)
                .map_or(py.None(), |b| b.to_owned().into_any().unbind()),
            _ => py.NotImplemented(),
        }
    }

    fn __hash__(&self) -> u64 {
        // Equal runs share an id, so hashing the id alone is consistent
        // with equality on every field.
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.inner.id.hash(&mut hasher);
        hasher.finish()
    }

    /// Pickles as the plain fields, rebuilt by `runledger._native._run_from_fields`.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let rebuild = py
            .import("runledger._native")?
            .getattr("_run_from_fields")?;
        let fields = RunFields::from(&self.inner);
        Ok((rebuild, PyTuple::new(py, [fields.into_pyobject(py)?])?))
    }
}

/// The fields of a run as plain values (times as milliseconds since the
/// epoch, as stored), the form a pickled `Run` takes.
#[derive(IntoPyObject, FromPyObject)]
#[pyo3(from_item_all)]
struct RunFields {
    id: String,
    repo: String,
    ref_name: String,
    sha: String,
    group_key: String,
    state: String,
    protected: bool,
    pushed_at: i64,
    queued_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    superseded_by: Option<String>,
    lease_expires_at: Option<i64>,
    container_id: Option<String>,
    kill: Option<(String, u32, Option<String>, i64)>,
}

impl From<&runledger::Run> for RunFields {
    fn from(run: &runledger::Run) -> RunFields {
        let ms = |at: jiff::Timestamp| at.as_millisecond();
        RunFields {
            id: run.id.clone(),
            repo: run.repo.clone(),
            ref_name: run.ref_name.clone(),
            sha: run.sha.clone(),
            group_key: run.group_key.clone(),
            state: run.state.as_str().to_owned(),
            protected: run.protected,
            pushed_at: ms(run.pushed_at),
            queued_at: ms(run.queued_at),
            started_at: run.started_at.map(ms),
            finished_at: run.finished_at.map(ms),
            superseded_by: run.superseded_by.clone(),
            lease_expires_at: run.lease_expires_at.map(ms),
            container_id: run.container_id.clone(),
            kill: run.kill.as_ref().map(|kill| {
                (
                    kill.state.as_str().to_owned(),
                    kill.attempts,
                    kill.error.clone(),
                    ms(kill.at),
                )
            }),
        }
    }
}

fn timestamp(ms: i64) -> PyResult<jiff::Timestamp> {
    jiff::Timestamp::from_millisecond(ms).map_err(|error| {
        pyo3::exceptions::PyValueError::new_err(format!("bad pickled time {ms}: {error}"))
    })
}

fn kill_state(name: &str) -> PyResult<runledger::KillState> {
    [
        runledger::KillState::Requested,
        runledger::KillState::Done,
        runledger::KillState::Failed,
        runledger::KillState::Refused,
    ]
    .into_iter()
    .find(|state| state.as_str() == name)
    .ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err(format!("bad pickled kill state {name:?}"))
    })
}

/// Rebuilds a pickled `Run`. Private: only pickle calls it.
#[pyfunction]
pub(crate) fn _run_from_fields(fields: &Bound<'_, PyAny>) -> PyResult<Run> {
    let fields: RunFields = fields.extract()?;
    let state = fields
        .state
        .parse::<runledger::RunState>()
        .map_err(|error| pyo3::exceptions::PyValueError::new_err(error.to_string()))?;
    let kill = match fields.kill {
        Some((state, attempts, error, at)) => Some(runledger::KillRecord {
            state: kill_state(&state)?,
            attempts,
            error,
            at: timestamp(at)?,
        }),
        None => None,
    };
    Ok(Run::new(runledger::Run {
        id: fields.id,
        repo: fields.repo,
        ref_name: fields.ref_name,
        sha: fields.sha,
        group_key: fields.group_key,
        state,
        protected: fields.protected,
        pushed_at: timestamp(fields.pushed_at)?,
        queued_at: timestamp(fields.queued_at)?,
        started_at: fields.started_at.map(timestamp).transpose()?,
        finished_at: fields.finished_at.map(timestamp).transpose()?,
        superseded_by: fields.superseded_by,
        lease_expires_at: fields.lease_expires_at.map(timestamp).transpose()?,
        container_id: fields.container_id,
        kill,
    }))
}

/// The stored state of a container kill.
#[pyclass(frozen, module = "runledger", name = "KillRecord")]
pub(crate) struct KillRecord {
    inner: runledger::KillRecord,
}

#[pymethods]
impl KillRecord {
    #[getter]
    fn state(&self) -> &'static str {
        self.inner.state.as_str()
    }

    #[getter]
    fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    #[getter]
    fn error(&self) -> Option<&str> {
        self.inner.error.as_deref()
    }

    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        to_datetime(py, self.inner.at)
    }

    fn __repr__(&self) -> String {
        format!(
            "KillRecord(state={}, attempts={}, error={})",
            quoted(self.inner.state.as_str()),
            self.inner.attempts,
            quoted_opt(self.inner.error.as_deref())
        )
    }
}

/// The result of one attempt to kill a run's container.
#[pyclass(frozen, module = "runledger", name = "KillOutcome")]
pub(crate) struct KillOutcome {
    inner: runledger::KillOutcome,
}

impl KillOutcome {
    pub(crate) fn new(inner: runledger::KillOutcome) -> KillOutcome {
        KillOutcome { inner }
    }
}

#[pymethods]
impl KillOutcome {
    /// `"done"`, `"failed"`, `"refused"` or `"recorded"`.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.inner {
            runledger::KillOutcome::Done => "done",
            runledger::KillOutcome::Failed { .. } => "failed",
            runledger::KillOutcome::Refused { .. } => "refused",
            runledger::KillOutcome::Recorded => "recorded",
            // A newer core outcome is at least reported as something.
            #[allow(unreachable_patterns)]
            _ => "unknown",
        }
    }

    #[getter]
    fn error(&self) -> Option<String> {
        self.inner.error()
    }

    #[getter]
    fn labelled_run_id(&self) -> Option<&str> {
        match &self.inner {
            runledger::KillOutcome::Refused { labelled_run_id } => Some(labelled_run_id),
            _ => None,
        }
    }

    fn __repr__(&self) -> String {
        match self.inner.error() {
            Some(error) => format!(
                "KillOutcome(kind={}, error={})",
                quoted(self.kind()),
                quoted(&error)
            ),
            None => format!("KillOutcome(kind={})", quoted(self.kind())),
        }
    }
}

/// One run replaced by a create.
#[pyclass(frozen, module = "runledger", name = "SupersededRun")]
pub(crate) struct SupersededRun {
    inner: runledger::SupersededRun,
}

#[pymethods]
impl SupersededRun {
    #[getter]
    fn run_id(&self) -> &str {
        &self.inner.run_id
    }

    #[getter]
    fn previous_state(&self, py: Python<'_>) -> Py<PyAny> {
        state_object(py, self.inner.previous_state)
    }

    #[getter]
    fn container_id(&self) -> Option<&str> {
        self.inner.container_id.as_deref()
    }

    #[getter]
    fn kill(&self) -> Option<KillOutcome> {
        self.inner.kill.clone().map(KillOutcome::new)
    }

    fn __repr__(&self) -> String {
        format!(
            "SupersededRun(run_id={}, previous_state={}, container_id={})",
            quoted(&self.inner.run_id),
            quoted(self.inner.previous_state.as_str()),
            quoted_opt(self.inner.container_id.as_deref())
        )
    }
}

/// What a create did.
#[pyclass(frozen, module = "runledger", name = "CreateResult")]
pub(crate) struct CreateResult {
    run: Py<Run>,
    duplicate: bool,
    superseded: Vec<runledger::SupersededRun>,
}

impl CreateResult {
    pub(crate) fn new(py: Python<'_>, created: runledger::Created) -> PyResult<CreateResult> {
        Ok(CreateResult {
            run: Py::new(py, Run::new(created.run))?,
            duplicate: created.duplicate,
            superseded: created.superseded,
        })
    }
}

#[pymethods]
impl CreateResult {
    #[getter]
    fn run(&self, py: Python<'_>) -> Py<Run> {
        self.run.clone_ref(py)
    }

    #[getter]
    fn duplicate(&self) -> bool {
        self.duplicate
    }

    #[getter]
    fn superseded(&self) -> Vec<SupersededRun> {
        self.superseded
            .iter()
            .cloned()
            .map(|inner| SupersededRun { inner })
            .collect()
    }

    fn __repr__(&self) -> String {
        let run = &self.run.get().inner;
        let superseded: Vec<String> = self
            .superseded
            .iter()
            .map(|old| quoted(&old.run_id))
            .collect();
        format!(
            "CreateResult(run={}, duplicate={}, superseded=[{}])",
            quoted(&run.id),
            if self.duplicate { "True" } else { "False" },
            superseded.join(", ")
        )
    }
}

/// One row of a run's history.
#[pyclass(frozen, module = "runledger", name = "HistoryEntry")]
pub(crate) struct HistoryEntry {
    inner: runledger::HistoryEntry,
}

impl HistoryEntry {
    pub(crate) fn new(inner: runledger::HistoryEntry) -> HistoryEntry {
        HistoryEntry { inner }
    }
}

#[pymethods]
impl HistoryEntry {
    #[getter]
    fn run_id(&self) -> &str {
        &self.inner.run_id
    }

    // The Python attribute is named after the history table's column.
    #[allow(clippy::wrong_self_convention)]
    #[getter]
    fn from_state(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.inner.from.map(|state| state_object(py, state))
    }

    #[getter]
    fn to_state(&self, py: Python<'_>) -> Py<PyAny> {
        state_object(py, self.inner.to)
    }

    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        to_datetime(py, self.inner.at)
    }

    #[getter]
    fn reason(&self) -> &'static str {
        self.inner.reason.as_str()
    }

    #[getter]
    fn superseded_by(&self) -> Option<&str> {
        self.inner.superseded_by.as_deref()
    }

    fn __repr__(&self) -> String {
        format!(
            "HistoryEntry(run_id={}, from_state={}, to_state={}, reason={})",
            quoted(&self.inner.run_id),
            quoted_opt(self.inner.from.map(runledger::RunState::as_str)),
            quoted(self.inner.to.as_str()),
            quoted(self.inner.reason.as_str())
        )
    }
}

/// One page of a list, newest first.
#[pyclass(frozen, module = "runledger", name = "Page")]
pub(crate) struct Page {
    runs: Vec<Py<Run>>,
    next_cursor: Option<String>,
}

impl Page {
    pub(crate) fn new(py: Python<'_>, page: runledger::Page) -> PyResult<Page> {
        Ok(Page {
            runs: page
                .runs
                .into_iter()
                .map(|run| Py::new(py, Run::new(run)))
                .collect::<PyResult<_>>()?,
            next_cursor: page.next_cursor,
        })
    }
}

#[pymethods]
impl Page {
    #[getter]
    fn runs(&self, py: Python<'_>) -> Vec<Py<Run>> {
        self.runs.iter().map(|run| run.clone_ref(py)).collect()
    }

    #[getter]
    fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }

    fn __len__(&self) -> usize {
        self.runs.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Page(runs=<{} runs>, next_cursor={})",
            self.runs.len(),
            quoted_opt(self.next_cursor.as_deref())
        )
    }
}

/// One container kill carried out by reconcile.
#[pyclass(frozen, module = "runledger", name = "KillReport")]
pub(crate) struct KillReport {
    inner: runledger::KillReport,
}

#[pymethods]
impl KillReport {
    #[getter]
    fn run_id(&self) -> &str {
        &self.inner.run_id
    }

    #[getter]
    fn container_id(&self) -> &str {
        &self.inner.container_id
    }

    #[getter]
    fn outcome(&self) -> KillOutcome {
        KillOutcome::new(self.inner.outcome.clone())
    }

    fn __repr__(&self) -> String {
        format!(
            "KillReport(run_id={}, container_id={}, outcome={})",
            quoted(&self.inner.run_id),
            quoted(&self.inner.container_id),
            KillOutcome::new(self.inner.outcome.clone()).__repr__()
        )
    }
}

/// What a reconcile did.
#[pyclass(frozen, module = "runledger", name = "Reconciled")]
pub(crate) struct Reconciled {
    inner: runledger::Reconciled,
}

impl Reconciled {
    pub(crate) fn new(inner: runledger::Reconciled) -> Reconciled {
        Reconciled { inner }
    }
}

#[pymethods]
impl Reconciled {
    #[getter]
    fn orphaned(&self) -> Vec<String> {
        self.inner.orphaned.clone()
    }

    #[getter]
    fn kills(&self) -> Vec<KillReport> {
        self.inner
            .kills
            .iter()
            .cloned()
            .map(|inner| KillReport { inner })
            .collect()
    }

    fn __repr__(&self) -> String {
        let orphaned: Vec<String> = self.inner.orphaned.iter().map(|id| quoted(id)).collect();
        format!(
            "Reconciled(orphaned=[{}], kills=<{} kills>)",
            orphaned.join(", "),
            self.inner.kills.len()
        )
    }
}

/// The labels as an ordered map, as the core gives them.
pub(crate) type Labels = BTreeMap<String, String>;
