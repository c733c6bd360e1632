//! cargo-fuzz target `am_matchers`; the body is [`fuzz::am_matchers`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::am_matchers(data));
