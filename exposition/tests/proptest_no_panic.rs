//! Property: no input makes a parser panic or loop. Arbitrary bytes, lines built from the
//! formats' own tokens, and random edits of a valid exposition all go through both parsers,
//! the family grouping and the lazy label iterators.

use exposition::openmetrics::OpenMetricsParser;
use exposition::text::TextParser;
use exposition::{family, Entry, Format, ParseError};
use proptest::prelude::*;

fn drain<'a>(it: impl Iterator<Item = Result<Entry<'a>, ParseError>>, len: usize) {
    let mut n = 0;
    for e in it {
        n += 1;
        assert!(
            n <= len + 2,
            "more entries than bytes: the parser is looping"
        );
        match e {
            Ok(Entry::Sample(s)) => {
                let _ = s.labels.iter().count();
                let _ = s.to_labels();
                if let Some(x) = s.exemplar {
                    let _ = x.labels.to_labels();
                }
            }
            Ok(_) => {}
            Err(err) => {
                assert!(err.offset <= len);
                assert!(err.line >= 1 && err.column >= 1);
                let _ = err.to_string();
            }
        }
    }
}

fn check(bytes: &[u8]) {
    drain(TextParser::new(bytes), bytes.len());
    drain(OpenMetricsParser::new(bytes), bytes.len());
    drain(OpenMetricsParser::lenient(bytes), bytes.len());
    let _ = family::group(Format::Text, TextParser::new(bytes));
    let _ = family::group(Format::OpenMetrics, OpenMetricsParser::new(bytes));
    let _ = family::group(Format::OpenMetrics, OpenMetricsParser::lenient(bytes));
}

fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "# ",
        "#",
        "HELP ",
        "TYPE ",
        "UNIT ",
        "EOF",
        "\n",
        " ",
        "\t",
        "{",
        "}",
        "\"",
        "=",
        ",",
        "\\",
        "\\n",
        "\\\"",
        "a",
        "a_total",
        "a_bucket",
        "_sum",
        "_count",
        "le",
        "quantile",
        "counter",
        "gauge",
        "histogram",
        "summary",
        "stateset",
        "info",
        "unknown",
        "untyped",
        "1",
        "-1",
        "0.5",
        "+Inf",
        "NaN",
        "1e3",
        "0x1",
        "1_2",
        "é",
        "\u{0}",
        "\u{ff}",
    ])
}

const VALID: &str = "# HELP a_seconds help \\n text\n# TYPE a_seconds histogram\n# UNIT a_seconds seconds\na_seconds_bucket{le=\"1\",x=\"y\\\"z\"} 1 1.5 # {t=\"1\"} 0.5 1.2\na_seconds_bucket{le=\"+Inf\",x=\"y\\\"z\"} 2 1.5\na_seconds_count{x=\"y\\\"z\"} 2 1.5\na_seconds_sum{x=\"y\\\"z\"} 3 1.5\n# TYPE b counter\nb_total 4\n# EOF\n";

/// Case count: `PROPTEST_CASES` when set (for long soaks), else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2000)))]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check(&bytes);
    }

    #[test]
    fn token_soup(tokens in prop::collection::vec(token(), 0..60)) {
        check(tokens.concat().as_bytes());
    }

    #[test]
    fn edited_valid_input(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6)) {
        let mut bytes = VALID.as_bytes().to_vec();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        check(&bytes);
    }
}

#[test]
fn valid_seed_parses() {
    assert!(OpenMetricsParser::new(VALID.as_bytes()).all(|e| e.is_ok()));
}
