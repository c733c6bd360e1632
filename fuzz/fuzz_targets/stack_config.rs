//! cargo-fuzz target `stack_config`; the body is [`fuzz::stack_config`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::stack_config(data));
