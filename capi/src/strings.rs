//! Strings across the boundary: NUL-terminated UTF-8 coming in, checked
//! before use; library-owned copies going out, kept alive by the record
//! that points at them.

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use crate::boundary::CallError;

/// Reads a string argument that must be present.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn required<'a>(
    ptr: *const c_char,
    arg: &'static str,
) -> Result<&'a str, CallError> {
    // SAFETY: the caller's contract above.
    unsafe { optional(ptr, arg) }?.ok_or(CallError::Null { arg })
}

/// Reads a string argument for which NULL means "not given".
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn optional<'a>(
    ptr: *const c_char,
    arg: &'static str,
) -> Result<Option<&'a str>, CallError> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL, and NUL-terminated by the caller's contract.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes
        .to_str()
        .map(Some)
        .map_err(|source| CallError::Utf8 { arg, source })
}

/// A NUL-terminated copy of `text`. Text from the ledger holds no NUL (the
/// core refuses control characters), but should one slip in it is replaced
/// rather than allowed to cut the string short silently.
pub(crate) fn to_cstring(text: impl Into<Vec<u8>>) -> CString {
    CString::new(text).unwrap_or_else(|error| {
        let cleaned: Vec<u8> = error
            .into_vec()
            .into_iter()
            .map(|byte| if byte == 0 { b'?' } else { byte })
            .collect();
        CString::new(cleaned).unwrap_or_default()
    })
}

/// The strings a record hands out. The record's `const char *` fields point
/// into these buffers, which never move once made, so the pointers stay
/// valid for as long as the arena lives.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    strings: Vec<CString>,
}

impl Arena {
    /// Keeps a copy of `text` and returns a pointer to it.
    pub(crate) fn keep(&mut self, text: &str) -> *const c_char {
        let owned = to_cstring(text);
        let ptr = owned.as_ptr();
        self.strings.push(owned);
        ptr
    }

    /// Like [`Arena::keep`], with NULL for `None`.
    pub(crate) fn keep_opt(&mut self, text: Option<&str>) -> *const c_char {
        text.map_or(ptr::null(), |text| self.keep(text))
    }
}
