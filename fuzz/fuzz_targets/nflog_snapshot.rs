//! cargo-fuzz target `nflog_snapshot`; the body is [`fuzz::nflog_snapshot`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::nflog_snapshot(data));
