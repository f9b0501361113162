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
/// into these buffers, which never move once made (a full buffer is kept
/// and a new one started), so the pointers stay valid for as long as the
/// arena lives. Strings share buffers so that a record costs one or two
/// allocations rather than one per field: most of what the C boundary adds
/// to a call.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    buffers: Vec<Box<[u8]>>,
    /// Bytes used in the last buffer.
    used: usize,
}

/// The size of a buffer, which holds every string of a typical run.
const BUFFER_BYTES: usize = 512;

impl Arena {
    /// Keeps a NUL-terminated copy of `text` and returns a pointer to it.
    /// Text from the ledger holds no NUL (the core refuses control
    /// characters), but should one slip in it is replaced rather than
    /// allowed to cut the string short silently.
    pub(crate) fn keep(&mut self, text: &str) -> *const c_char {
        let needed = text.len() + 1;
        let fits = self
            .buffers
            .last()
            .is_some_and(|buffer| buffer.len() - self.used >= needed);
        if !fits {
            self.buffers
                .push(vec![0; needed.max(BUFFER_BYTES)].into_boxed_slice());
            self.used = 0;
        }
        let buffer = self.buffers.last_mut().expect("a buffer was just made");
        let slot = &mut buffer[self.used..self.used + needed];
        for (to, &from) in slot.iter_mut().zip(text.as_bytes()) {
            *to = if from == 0 { b'?' } else { from };
        }
        slot[text.len()] = 0;
        self.used += needed;
        slot.as_ptr().cast()
    }

    /// Like [`Arena::keep`], with NULL for `None`.
    pub(crate) fn keep_opt(&mut self, text: Option<&str>) -> *const c_char {
        text.map_or(ptr::null(), |text| self.keep(text))
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;

    fn read(ptr: *const c_char) -> String {
        // SAFETY: the arena of each test outlives these reads.
        unsafe { CStr::from_ptr(ptr) }.to_str().unwrap().to_owned()
    }

    #[test]
    fn kept_strings_stay_where_they_are_as_buffers_fill() {
        let mut arena = Arena::default();
        let long = "x".repeat(BUFFER_BYTES * 2);

        let first = arena.keep("work/tools.git");
        let pointers: Vec<*const c_char> = (0..100).map(|n| arena.keep(&n.to_string())).collect();
        let big = arena.keep(&long);
        let empty = arena.keep("");

        assert_eq!(read(first), "work/tools.git");
        for (n, ptr) in pointers.into_iter().enumerate() {
            assert_eq!(read(ptr), n.to_string());
        }
        assert_eq!(read(big), long);
        assert_eq!(read(empty), "");
    }

    #[test]
    fn a_nul_inside_a_string_is_replaced_not_a_cut() {
        let mut arena = Arena::default();

        let kept = arena.keep("a\0b");

        assert_eq!(read(kept), "a?b");
    }
}
