//! cargo-fuzz target `openmetrics_parse`; the body is [`fuzz::openmetrics_parse`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::openmetrics_parse(data));
