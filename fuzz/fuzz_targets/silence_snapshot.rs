//! cargo-fuzz target `silence_snapshot`; the body is [`fuzz::silence_snapshot`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::silence_snapshot(data));
