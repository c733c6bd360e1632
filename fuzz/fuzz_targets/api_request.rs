//! cargo-fuzz target `api_request`; the body is [`fuzz::api_request`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::api_request(data));
