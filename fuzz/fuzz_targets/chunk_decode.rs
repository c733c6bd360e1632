//! cargo-fuzz target `chunk_decode`; the body is [`fuzz::chunk_decode`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::chunk_decode(data));
