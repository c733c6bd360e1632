//! cargo-fuzz target `text_parse`; the body is [`fuzz::text_parse`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::text_parse(data));
