//! cargo-fuzz target `block_chunks`; the body is [`fuzz::block_chunks`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::block_chunks(data));
