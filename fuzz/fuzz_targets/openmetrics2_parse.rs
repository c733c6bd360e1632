//! cargo-fuzz target `openmetrics2_parse`: the OpenMetrics 2.0 parser (strict and lenient)
//! must not panic on any input, and whatever the strict parser accepts must survive
//! encode → parse unchanged (compared through `Debug`, so NaN equals NaN), with the
//! encoding a fixed point.
#![no_main]

use exposition::openmetrics2::{self, OpenMetrics2Parser};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for entry in OpenMetrics2Parser::lenient(data) {
        if entry.is_err() {
            break;
        }
    }
    let Ok(families) = openmetrics2::parse_families(data) else {
        return;
    };
    let mut out = String::new();
    openmetrics2::encode(&families, &mut out);
    let again = match openmetrics2::parse_families(out.as_bytes()) {
        Ok(f) => f,
        Err(e) => panic!("encoder output rejected: {e}\n{out}"),
    };
    assert_eq!(format!("{again:?}"), format!("{families:?}"), "{out}");
    let mut out2 = String::new();
    openmetrics2::encode(&again, &mut out2);
    assert_eq!(out, out2);
});
