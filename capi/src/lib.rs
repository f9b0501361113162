//! The C ABI of runledger: `librunledger.so` and `librunledger.a`, described
//! by the generated header `include/runledger.h`.
//!
//! Every exported symbol starts with `runs_`. Each exported function runs
//! its body behind the panic boundary in [`boundary`], checks its pointer
//! and string arguments before doing anything, and writes its results only
//! once nothing can fail any more. One module per thing C sees: the handle,
//! its options, run records, the create report, status codes, strings.

// The exported names follow C conventions (`runs_handle`, `runs_status`),
// which is what the header shows and what C and Go callers type.
#![allow(non_camel_case_types)]

mod boundary;
mod create;
mod handle;
mod last_error;
mod lifecycle;
mod maintenance;
mod options;
mod reads;
mod records;
mod states;
mod status;
mod strings;
mod time;

use std::ffi::c_char;

// The types and constants C sees, gathered in one place.
pub use create::{runs_created, runs_kill_outcome, runs_superseded};
pub use handle::runs_handle;
pub use maintenance::{runs_kill_report, runs_reconciled};
pub use options::{runs_options, runs_synchronous};
pub use reads::{RUNS_ANY_STATE, runs_label, runs_labels};
pub use records::{
    runs_history_entry, runs_history_list, runs_kill_state, runs_run, runs_run_list,
};
pub use states::{RUNS_STATE_COUNT, runs_state};
pub use status::runs_status;
pub use time::RUNS_NO_TIME;

/// The version of the library, as `"0.1.0"`. The string is static: never
/// free it.
#[unsafe(no_mangle)]
pub extern "C" fn runs_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}
