#![no_main]
//! OpenMetrics parser (strict and lenient): any bytes, no panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for e in exposition::openmetrics::OpenMetricsParser::new(data) {
        if let Ok(exposition::Entry::Sample(s)) = e {
            let _ = s.to_labels();
            if let Some(x) = s.exemplar {
                let _ = x.labels.to_labels();
            }
        }
    }
    for e in exposition::openmetrics::OpenMetricsParser::lenient(data) {
        let _ = e;
    }
});
