//! The native module of the runledger Python package, `runledger._native`.
//! The package around it (`python/runledger`) adds the `RunState` enum, the
//! exception classes and the type stubs; everything that touches the ledger
//! is here, calling the core crate.

mod errors;
mod handle;
mod records;
mod states;
mod time;

use pyo3::prelude::*;

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<handle::Runs>()?;
    module.add_class::<records::Run>()?;
    module.add_class::<records::KillRecord>()?;
    module.add_class::<records::KillOutcome>()?;
    module.add_class::<records::SupersededRun>()?;
    module.add_class::<records::CreateResult>()?;
    module.add_class::<records::HistoryEntry>()?;
    module.add_class::<records::Page>()?;
    module.add_class::<records::KillReport>()?;
    module.add_class::<records::Reconciled>()?;
    module.add_function(wrap_pyfunction!(states::transition_table, module)?)?;
    module.add_function(wrap_pyfunction!(states::may_become, module)?)?;
    module.add_function(wrap_pyfunction!(records::_run_from_fields, module)?)?;
    module.add("SCHEMA_VERSION", runledger::SCHEMA_VERSION)?;
    module.add("MAX_PAGE", runledger::MAX_PAGE)?;
    module.add("MAX_NAME_BYTES", runledger::MAX_NAME_BYTES)?;
    module.add("MAX_CONTAINER_ID_BYTES", runledger::MAX_CONTAINER_ID_BYTES)?;
    Ok(())
}
