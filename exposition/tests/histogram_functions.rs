//! Runs the single-histogram `histogram_quantile`, `histogram_fraction`,
//! `histogram_stddev` and `histogram_stdvar` evals of the upstream PromQL scripts (peer
//! suite `promql`) against [`FloatHistogram`]'s statistics: when a series was loaded as
//! one constant histogram (`name {{...}}` or `name {{...}}xN`, one series of that name
//! in the load), the function is computed on it and compared with the expected value
//! (relative 1e-9, like the script runner). Everything else is not counted.

use std::collections::HashMap;

use exposition::histogram::FloatHistogram;
use testkit::{files_sorted, Outcome, Suite};

/// Known gaps, `case-id  # reason` per line. None at the moment.
const KNOWN_FAILURES: &str = "";

fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    diff <= 1e-12 || diff <= 1e-9 * a.abs().max(b.abs())
}

fn number(s: &str) -> Option<f64> {
    match s.trim().to_ascii_lowercase().trim_start_matches('+') {
        "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        v => v.parse().ok(),
    }
}

/// `(name, histogram)` of a load line holding exactly one constant histogram.
fn loaded_histogram(line: &str) -> Option<(String, FloatHistogram)> {
    let open = line.find("{{")?;
    let close = line.rfind("}}")?;
    let rest = line[close + 2..].trim();
    if !(rest.is_empty()
        || (rest.starts_with('x') && rest[1..].bytes().all(|b| b.is_ascii_digit())))
    {
        return None;
    }
    let series = line[..open].trim();
    let name = series
        .split('{')
        .next()
        .unwrap_or(series)
        .trim()
        .to_string();
    Some((
        name,
        FloatHistogram::parse_notation(&line[open..close + 2]).ok()?,
    ))
}

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
        let lines: Vec<&str> = text.lines().collect();
        let mut loaded: HashMap<String, Option<FloatHistogram>> = HashMap::new();
        let mut in_load = false;
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let trimmed = line.trim();
            i += 1;
            if trimmed.starts_with("load") {
                in_load = true;
                continue;
            }
            if trimmed == "clear" {
                loaded.clear();
            }
            if trimmed.is_empty() || !line.starts_with([' ', '\t']) {
                in_load = false;
            }
            if in_load {
                let name = trimmed.split(['{', ' ']).next().unwrap_or("").to_string();
                let entry = loaded_histogram(trimmed).map(|(_, h)| h);
                // A second series of one name makes the name ambiguous.
                let ambiguous = loaded.contains_key(&name);
                loaded.insert(name, if ambiguous { None } else { entry });
                continue;
            }
            let Some(expr) = trimmed.strip_prefix("eval instant at ") else {
                continue;
            };
            let Some((_, expr)) = expr.split_once(' ') else {
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
            let start = i;
            let mut expected = Vec::new();
            while i < lines.len()
                && lines[i].starts_with([' ', '\t'])
                && !lines[i].trim().is_empty()
            {
                let l = lines[i].trim();
                if !l.starts_with("expect") && !l.starts_with('#') {
                    expected.push(l.to_string());
                }
                i += 1;
            }
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
