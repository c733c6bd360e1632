//! Runs every `eval instant at <t> <series> </ <bound>` and `>/` case of the upstream
//! PromQL script `native_histograms.test` (peer suite `promql`) against
//! [`FloatHistogram::trim_upper`] / [`FloatHistogram::trim_lower`]: the series' loaded
//! histogram is trimmed and compared with the expected one (compacted, floats within a
//! relative 1e-9 like the script runner's tolerance). Other evals are not this crate's
//! business and are not counted.

#[path = "common/promql_script.rs"]
mod promql_script;

use std::collections::HashMap;

use exposition::histogram::FloatHistogram;
use promql_script::{close, steps, trailing_histogram, Step};
use testkit::{Outcome, Suite};

/// Known gaps, `case-id  # reason` per line. None at the moment.
const KNOWN_FAILURES: &str = "";

fn nonzero(spans_side: impl Iterator<Item = (i32, f64)>) -> Vec<(i32, f64)> {
    spans_side.filter(|(_, c)| *c != 0.0).collect()
}

fn same(want: &FloatHistogram, got: &FloatHistogram) -> Result<(), String> {
    let mismatch = || format!("want {want}, got {got}");
    if want.schema != got.schema
        || !close(want.count, got.count)
        || !close(want.sum, got.sum)
        || !close(want.zero_count, got.zero_count)
        || want.zero_threshold != got.zero_threshold
        || want.custom_values != got.custom_values
    {
        return Err(mismatch());
    }
    let pos = |h: &FloatHistogram| nonzero(h.positive_bucket_iter().map(|b| (b.index, b.count)));
    let neg = |h: &FloatHistogram| nonzero(h.negative_bucket_iter().map(|b| (b.index, b.count)));
    for (w, g) in [(pos(want), pos(got)), (neg(want), neg(got))] {
        if w.len() != g.len()
            || w.iter()
                .zip(&g)
                .any(|(a, b)| a.0 != b.0 || !close(a.1, b.1))
        {
            return Err(mismatch());
        }
    }
    Ok(())
}

#[test]
fn peer_trim_cases() {
    let Some(suite) = Suite::open("histogram-trim", "promql") else {
        return;
    };
    let mut suite = suite.known_failures(KNOWN_FAILURES);
    let path = suite.root().join("native_histograms.test");
    let text = std::fs::read_to_string(&path).expect("native_histograms.test");
    let mut loaded: HashMap<String, FloatHistogram> = HashMap::new();
    for step in steps(&text) {
        let eval = match step {
            Step::Clear => {
                loaded.clear();
                continue;
            }
            Step::Load(line) => {
                if let Some((name, h)) = trailing_histogram(line) {
                    loaded.insert(name, h);
                }
                continue;
            }
            Step::Eval(eval) => eval,
        };
        let parts: Vec<&str> = eval.expr.split_whitespace().collect();
        if parts.len() != 4 || !(parts[2] == "</" || parts[2] == ">/") {
            continue;
        }
        let (series, op, bound) = (parts[1], parts[2], parts[3]);
        let expected = eval.expected;
        let id = format!("native_histograms.test:{} {series} {op} {bound}", eval.end);
        let input = loaded.get(series).cloned();
        suite.case(&id, || {
            let Some(input) = input else {
                return Outcome::Skip(format!("series {series} not loaded as one histogram"));
            };
            let bound: f64 = match bound.to_ascii_lowercase().trim_start_matches('+') {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                b => match b.parse() {
                    Ok(v) => v,
                    Err(_) => return Outcome::Skip(format!("bound {bound}")),
                },
            };
            let [want] = expected.as_slice() else {
                return Outcome::Skip(format!("{} expected lines", expected.len()));
            };
            let Some((_, want)) = trailing_histogram(want) else {
                return Outcome::Skip(format!("expected value {want}"));
            };
            let got = if op == "</" {
                input.trim_upper(bound)
            } else {
                input.trim_lower(bound)
            };
            match same(&want, &got) {
                Ok(()) => Outcome::Pass,
                Err(e) => Outcome::Fail(e),
            }
        });
    }
    suite.finish();
}
