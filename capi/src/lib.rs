//! The C ABI of runledger (work in progress).
