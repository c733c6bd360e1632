//! cargo-fuzz target `matcher_regex`; the body is [`fuzz::matcher_regex`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::matcher_regex(data));
