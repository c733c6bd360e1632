//! cargo-fuzz target `promql_parse`; the body is [`fuzz::promql_parse`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::promql_parse(data));
