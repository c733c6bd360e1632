//! `TextParser::scrape` (Prometheus's scrape rules) and the lenient OpenMetrics parser never
//! panic, always end, and report errors inside the input, on arbitrary bytes and on valid
//! expositions with bytes spliced in (including the non-UTF-8 bytes the scrape rules allow
//! in comments, where the parser restarts on the next line).

use exposition::openmetrics::OpenMetricsParser;
use exposition::text::TextParser;
use proptest::prelude::*;

const SEED: &[u8] =
    b"# HELP a x\\ny\n# TYPE a counter\na{b=\"c\\\"\",d=\"e\"} 1 17\n# c\n \nb 2\n# HELP c\n";

fn splice() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec((0..SEED.len() + 1, any::<u8>()), 0..6),
        proptest::sample::select(vec![0xffu8, 0xc3, 0x80, 0, b'\n', b'"', b'\\', b'#', b' ']),
    )
        .prop_map(|(edits, extra)| {
            let mut v = SEED.to_vec();
            for (at, b) in edits {
                let at = at.min(v.len());
                v.insert(at, if b % 3 == 0 { extra } else { b });
            }
            v
        })
}

fn check_text(input: &[u8]) {
    let mut p = TextParser::scrape(input);
    let mut last = 0;
    let mut steps = 0;
    while let Some(e) = p.next() {
        steps += 1;
        assert!(steps <= input.len() + 1, "no progress");
        assert!(p.offset() <= input.len());
        assert!(p.offset() >= last || e.is_err());
        last = p.offset();
        if let Err(e) = e {
            assert!(e.offset <= input.len());
        }
    }
}

fn check_om(input: &[u8]) {
    let n = OpenMetricsParser::lenient(input)
        .take(input.len() + 2)
        .count();
    assert!(n <= input.len() + 1);
}

proptest! {
    #[test]
    fn scrape_rules_never_panic_on_bytes(input in proptest::collection::vec(any::<u8>(), 0..200)) {
        check_text(&input);
        check_om(&input);
    }

    #[test]
    fn scrape_rules_never_panic_on_spliced(input in splice()) {
        check_text(&input);
        check_om(&input);
    }
}

#[test]
fn comment_with_invalid_bytes_restarts_on_the_next_line() {
    let input = b"# \xff\xfe\nx 1\n# HELP y\xffz\ny 2\n#\xff";
    let samples: Vec<String> = TextParser::scrape(input)
        .map(|e| e.expect("valid under the scrape rules"))
        .filter_map(|e| match e {
            exposition::Entry::Sample(s) => Some(s.name.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(samples, vec!["x", "y"]);
}
