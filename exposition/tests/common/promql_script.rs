//! Reading the upstream PromQL test scripts (peer suite `promql`) far enough to pull
//! out constant native histograms and the evals over them: the `load` blocks, `clear`,
//! and each `eval instant at ...` with the expected lines under it. Shared by the
//! histogram peer runners (`#[path = "common/promql_script.rs"] mod promql_script;`).
#![allow(dead_code)]

use exposition::histogram::FloatHistogram;

/// Equal within the script runner's tolerance: relative 1e-9 (absolute 1e-12 near 0);
/// two NaNs are equal.
pub fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    diff <= 1e-12 || diff <= 1e-9 * a.abs().max(b.abs())
}

/// A script number: a float, `Inf`/`+Inf`/`-Inf` or `NaN` (any case).
pub fn number(s: &str) -> Option<f64> {
    match s.trim().to_ascii_lowercase().trim_start_matches('+') {
        "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        v => v.parse().ok(),
    }
}

/// `(metric name, histogram)` of a line ending in one `{{...}}` histogram, with an
/// optional `xN` repeat after it (a load line or an expected-value line).
pub fn trailing_histogram(line: &str) -> Option<(String, FloatHistogram)> {
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
    let h = FloatHistogram::parse_notation(&line[open..close + 2]).ok()?;
    Some((name, h))
}

/// One `eval instant at` command and the block under it.
#[derive(Debug)]
pub struct Eval<'a> {
    /// What follows `eval instant at ` (the time, then the expression).
    pub expr: &'a str,
    /// 1-based number of the `eval` line.
    pub line: usize,
    /// 1-based number of the last line of the command (its last expected line, or the
    /// `eval` line itself when nothing is under it).
    pub end: usize,
    /// The indented lines under it, trimmed, except `expect ...` directives.
    pub expected: Vec<&'a str>,
}

/// What a script line means to the histogram runners.
#[derive(Debug)]
pub enum Step<'a> {
    /// `clear`: everything loaded so far is gone.
    Clear,
    /// One series line of a `load` block, trimmed.
    Load(&'a str),
    /// An instant eval with its expected lines.
    Eval(Eval<'a>),
}

/// The steps of a script, in order; other commands are left out.
pub fn steps(text: &str) -> Vec<Step<'_>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
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
            out.push(Step::Clear);
        }
        if trimmed.is_empty() || !line.starts_with([' ', '\t']) {
            in_load = false;
        }
        if in_load {
            out.push(Step::Load(trimmed));
            continue;
        }
        let Some(expr) = trimmed.strip_prefix("eval instant at ") else {
            continue;
        };
        let line_no = i;
        let mut expected = Vec::new();
        while i < lines.len() && lines[i].starts_with([' ', '\t']) && !lines[i].trim().is_empty() {
            let l = lines[i].trim();
            if !l.starts_with("expect") {
                expected.push(l);
            }
            i += 1;
        }
        out.push(Step::Eval(Eval {
            expr,
            line: line_no,
            end: i,
            expected,
        }));
    }
    out
}
