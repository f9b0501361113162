//! The native module of the runledger Python package (work in progress).
