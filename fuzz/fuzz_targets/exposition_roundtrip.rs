#![no_main]
//! Whatever parses must encode and parse back to the same families, in both formats.
use exposition::{openmetrics, text};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(fams) = text::parse_families(data) {
        let mut out = String::new();
        text::encode(&fams, &mut out);
        let again = text::parse_families(out.as_bytes()).expect("encoded text parses");
        assert_eq!(format!("{again:?}"), format!("{fams:?}"));
    }
    if let Ok(fams) = openmetrics::parse_families(data) {
        let mut out = String::new();
        openmetrics::encode(&fams, &mut out);
        let again = openmetrics::parse_families(out.as_bytes()).expect("encoded OpenMetrics parses");
        assert_eq!(format!("{again:?}"), format!("{fams:?}"));
    }
});
