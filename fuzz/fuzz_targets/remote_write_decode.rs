//! cargo-fuzz target `remote_write_decode`; the body is [`fuzz::remote_write_decode`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::remote_write_decode(data));
