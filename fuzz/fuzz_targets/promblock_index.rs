//! cargo-fuzz target `promblock_index`; the body is [`fuzz::promblock_index`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::promblock_index(data));
