//! cargo-fuzz target `rule_file`; the body is [`fuzz::rule_file`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::rule_file(data));
