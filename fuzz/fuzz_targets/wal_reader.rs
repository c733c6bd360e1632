//! cargo-fuzz target `wal_reader`; the body is [`fuzz::wal_reader`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::wal_reader(data));
