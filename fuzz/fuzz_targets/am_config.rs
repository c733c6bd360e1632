//! cargo-fuzz target `am_config`; the body is [`fuzz::am_config`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::am_config(data));
