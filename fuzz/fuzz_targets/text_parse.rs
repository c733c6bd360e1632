#![no_main]
//! Text 0.0.4 parser: any bytes, no panic; every sample's labels decode.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for e in exposition::text::TextParser::new(data) {
        if let Ok(exposition::Entry::Sample(s)) = e {
            let _ = s.to_labels();
        }
    }
    let _ = exposition::text::parse_families(data);
});
