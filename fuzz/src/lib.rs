//! The fuzz targets' checks, shared by the libFuzzer binaries and the
//! regression replay in the main test suite.

#[path = "targets.rs"]
pub mod targets;
