//! Targets over the `exposition` crate: text 0.0.4 and OpenMetrics parsing, encoding round
//! trips, the two formats against each other, and regex matchers.

use exposition::{openmetrics, text, Entry, Labels, MatchOp, Matcher};

/// Regex matcher construction: any pattern compiles or errors, never panics; a compiled
/// matcher answers `matches` on a few probes.
pub fn matcher_regex(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = Matcher::new(MatchOp::RegexMatch, "x", s) {
        let _ = m.matches("");
        let _ = m.matches(s);
        let _ = m.matches("foo");
        let _ = m.to_string();
    }
}

/// Text 0.0.4 parser: any bytes, no panic; every sample's labels decode.
pub fn text_parse(data: &[u8]) {
    for e in text::TextParser::new(data) {
        if let Ok(Entry::Sample(s)) = e {
            let _ = s.to_labels();
        }
    }
    let _ = text::parse_families(data);
}

/// OpenMetrics parser (strict and lenient): any bytes, no panic.
pub fn openmetrics_parse(data: &[u8]) {
    for e in openmetrics::OpenMetricsParser::new(data) {
        if let Ok(Entry::Sample(s)) = e {
            let _ = s.to_labels();
            if let Some(x) = s.exemplar {
                let _ = x.labels.to_labels();
            }
        }
    }
    for e in openmetrics::OpenMetricsParser::lenient(data) {
        let _ = e;
    }
}

/// Whatever parses must encode and parse back to the same families, in both formats.
pub fn exposition_roundtrip(data: &[u8]) {
    if let Ok(fams) = text::parse_families(data) {
        let mut out = String::new();
        text::encode(&fams, &mut out);
        let again = text::parse_families(out.as_bytes()).expect("encoded text parses");
        assert_eq!(format!("{again:?}"), format!("{fams:?}"));
    }
    if let Ok(fams) = openmetrics::parse_families(data) {
        let mut out = String::new();
        openmetrics::encode(&fams, &mut out);
        let again =
            openmetrics::parse_families(out.as_bytes()).expect("encoded OpenMetrics parses");
        assert_eq!(format!("{again:?}"), format!("{fams:?}"));
    }
}

/// One sample as both formats must agree on it: labels, value bits (NaNs equal) and
/// whether it carries a timestamp (the units differ: ms in text, seconds in OpenMetrics).
#[derive(Debug, PartialEq)]
struct Flat {
    labels: Labels,
    value: Option<u64>,
    has_ts: bool,
}

fn flatten<'a>(
    entries: impl Iterator<Item = Result<Entry<'a>, exposition::ParseError>>,
) -> Option<Vec<Flat>> {
    let mut out = Vec::new();
    for e in entries {
        if let Entry::Sample(s) = e.ok()? {
            out.push(Flat {
                labels: s.to_labels(),
                value: (!s.value.is_nan()).then_some(s.value.to_bits()),
                has_ts: s.timestamp.is_some(),
            });
        }
    }
    Some(out)
}

/// Differential: on input that both the text 0.0.4 parser and the strict OpenMetrics
/// parser accept in full, both must yield the same samples (labels, value, timestamp
/// presence) in the same order.
pub fn text_openmetrics_diff(data: &[u8]) {
    let Some(om) = flatten(openmetrics::OpenMetricsParser::new(data)) else {
        return;
    };
    let Some(txt) = flatten(text::TextParser::new(data)) else {
        return;
    };
    assert_eq!(
        txt,
        om,
        "text and OpenMetrics disagree on {:?}",
        String::from_utf8_lossy(data)
    );
}
