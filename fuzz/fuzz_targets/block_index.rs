//! cargo-fuzz target `block_index`; the body is [`fuzz::block_index`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::block_index(data));
