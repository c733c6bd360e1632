//! cargo-fuzz target `text_openmetrics_diff`; the body is [`fuzz::text_openmetrics_diff`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::text_openmetrics_diff(data));
