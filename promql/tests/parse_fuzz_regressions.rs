//! Inputs found by the `promql_parse` fuzz target (fuzz/fuzz_targets/promql_parse.rs), replayed
//! by plain `cargo test`: each must parse (or fail) without panicking, and every accepted input
//! must survive the print → parse round trip, in both printed forms.

use promql::printer::{pretty, print};
use promql::{parse_with, ParseOptions};

const CASES: &[&str] = &[
    // A duration literal whose seconds * 1000 is not exact (8.001 * 1000) lost its unit.
    "sum_over_time(metric1_total[29s+1s%((((8 - 2) / 3) * 7s) % 4) + 8001ms])",
    // A quoted metric name after another __name__ matcher was printed first, so the
    // reparsed selector had its matchers in another order.
    "info({__name__=~\"websvc_.+\", \"q\\x02\", _!~\"websvc_.+\"})",
    "{__name__=~\"a.+\", \"b.c\"}",
];

#[test]
fn fuzz_regressions() {
    for src in CASES {
        for opts in [ParseOptions::default(), ParseOptions::all()] {
            let Ok(e) = parse_with(src, opts) else {
                continue;
            };
            for text in [print(&e), pretty(&e)] {
                let again = parse_with(&text, opts).unwrap_or_else(|err| panic!("{text:?}: {err}"));
                assert!(again.same_as(&e), "{src:?} changed via {text:?}");
            }
        }
    }
}
