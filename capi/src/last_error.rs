//! The message of the last failure, kept per thread so that threads sharing
//! a handle never read each other's errors.

use std::cell::RefCell;
use std::ffi::{CString, c_char};

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Remembers `message` as this thread's last error.
pub(crate) fn set(message: String) {
    let message = crate::strings::to_cstring(message);
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

/// The message of the most recent call on this thread that failed, as a
/// NUL-terminated UTF-8 string; the empty string if none has failed yet.
///
/// Successful calls leave it unchanged. The pointer is owned by the library
/// and stays valid until the next failing call on the same thread or until
/// the thread exits; copy the text to keep it longer. Never free it.
#[unsafe(no_mangle)]
pub extern "C" fn runs_last_error_message() -> *const c_char {
    // The buffer lives in the thread-local and is only replaced, never
    // mutated in place, by a later failure on this same thread.
    crate::boundary::guard_value(c"".as_ptr(), || {
        LAST_ERROR.with(|last| last.borrow().as_ptr())
    })
}
