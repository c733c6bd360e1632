//! cargo-fuzz target `protobuf_parse`; the body is [`fuzz::protobuf_parse`] (replayed by `tests/regressions.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::protobuf_parse(data));
