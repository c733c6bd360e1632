//! cargo-fuzz target `exposition_roundtrip`; the body is [`fuzz::exposition_roundtrip`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::exposition_roundtrip(data));
