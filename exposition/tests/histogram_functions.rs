//! Runs the single-histogram `histogram_quantile`, `histogram_fraction`,
//! `histogram_stddev` and `histogram_stdvar` evals of the upstream PromQL scripts (peer
//! suite `promql`) against [`FloatHistogram`]'s statistics: when a series was loaded as
//! one constant histogram (`name {{...}}` or `name {{...}}xN`, one series of that name
//! in the load), the function is computed on it and compared with the expected value
//! (relative 1e-9, like the script runner). Everything else is not counted.

#[path = "common/promql_script.rs"]
mod promql_script;

use std::collections::HashMap;

use exposition::histogram::FloatHistogram;
use promql_script::{close, number, steps, trailing_histogram, Step};
use testkit::{files_sorted, Outcome, Suite};

/// Known gaps, `case-id  # reason` per line. None at the moment.
const KNOWN_FAILURES: &str = "";

/// `f(args..., name)` → (f, numeric args, name).
fn call(expr: &str) -> Option<(&str, Vec<f64>, &str)> {
    let (f, rest) = expr.split_once('(')?;
    let inner = rest.strip_suffix(')')?;
    let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
    let (name, args) = parts.split_last()?;
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let args = args
        .iter()
        .map(|a| number(a))
        .collect::<Option<Vec<f64>>>()?;
    Some((f.trim(), args, name))
}

#[test]
fn peer_histogram_function_cases() {
    let Some(suite) = Suite::open("histogram-functions", "promql") else {
        return;
    };
    let mut suite = suite.known_failures(KNOWN_FAILURES);
    let files = files_sorted(suite.root(), |p| p.extension().is_some_and(|e| e == "test"));
    for path in files {
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(&path).expect("script");
        let mut loaded: HashMap<String, Option<FloatHistogram>> = HashMap::new();
        for step in steps(&text) {
            let eval = match step {
                Step::Clear => {
                    loaded.clear();
                    continue;
                }
                Step::Load(line) => {
                    let name = line.split(['{', ' ']).next().unwrap_or("").to_string();
                    let entry = trailing_histogram(line).map(|(_, h)| h);
                    // A second series of one name makes the name ambiguous.
                    let ambiguous = loaded.contains_key(&name);
                    loaded.insert(name, if ambiguous { None } else { entry });
                    continue;
                }
                Step::Eval(eval) => eval,
            };
            let Some((_, expr)) = eval.expr.split_once(' ') else {
                continue;
            };
            let Some((f, args, name)) = call(expr.trim()) else {
                continue;
            };
            let arity = match f {
                "histogram_quantile" => 1,
                "histogram_fraction" => 2,
                "histogram_stddev" | "histogram_stdvar" => 0,
                _ => continue,
            };
            if args.len() != arity {
                continue;
            }
            let Some(Some(h)) = loaded.get(name).cloned() else {
                continue;
            };
            let start = eval.line;
            let expected: Vec<&str> = eval
                .expected
                .iter()
                .copied()
                .filter(|l| !l.starts_with('#'))
                .collect();
            let id = format!("{file}:{start} {expr}");
            suite.case(&id, || {
                let [want] = expected.as_slice() else {
                    return Outcome::Skip(format!("{} expected lines", expected.len()));
                };
                let Some(want) = want.rsplit(' ').next().and_then(number) else {
                    return Outcome::Skip(format!("expected {want}"));
                };
                let got = match f {
                    "histogram_quantile" => h.quantile(args[0]),
                    "histogram_fraction" => h.fraction(args[0], args[1]),
                    "histogram_stddev" => h.stddev(),
                    _ => h.stdvar(),
                };
                if close(got, want) {
                    Outcome::Pass
                } else {
                    Outcome::Fail(format!("want {want}, got {got} for {h}"))
                }
            });
        }
    }
    suite.finish();
}
