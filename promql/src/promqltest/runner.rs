//! Running a script: load data, evaluate each `eval`, compare with expectations.

use super::script::{
    parse_script, Command, Eval, EvalKind, Expectations, MessageMatch, ScriptError, SeriesLine,
    SeriesValue,
};
use crate::engine::{AnnotationKind, Engine, QueryResult};
use crate::parser::{parse_with, ParseOptions};
use crate::storage::MemStorage;
use crate::value::{is_stale_nan, stale_nan, Value};
use crate::Expr;
use std::collections::HashSet;

/// The result of one eval.
#[derive(Debug, Clone, PartialEq)]
pub enum EvalOutcome {
    /// All expectations held.
    Pass,
    /// Something differed; the message says what.
    Fail(String),
    /// Not run; the message says why (unsupported feature).
    Skip(String),
}

/// Float equality used by the test language: exact near zero, relative `1e-6` otherwise;
/// NaN equals NaN; the staleness marker only equals itself.
pub fn almost_equal(a: f64, b: f64) -> bool {
    const EPS: f64 = 1e-6;
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    let sum = a.abs() + b.abs();
    if a == 0.0 || b == 0.0 || sum < f64::MIN_POSITIVE {
        return diff < EPS * f64::MIN_POSITIVE;
    }
    diff / sum.min(f64::MAX) < EPS
}

/// A caller-supplied skip rule: `Some(reason)` skips the eval.
pub type SkipRule<'a> = &'a dyn Fn(&Eval) -> Option<String>;

/// Options for a script run.
pub struct RunOptions<'a> {
    /// Extra skip rule (e.g. flags from an index file): `Some(reason)` skips the eval.
    pub skip: Option<SkipRule<'a>>,
    /// Also run upstream's implicit range-mode consistency check on instant evals.
    pub range_check: bool,
    /// Run evals that use experimental syntax (default, as Prometheus's test engine
    /// enables it); `false` skips them.
    pub experimental: bool,
    /// Also run upstream's implicit `@`-modifier invariance check on instant evals.
    pub at_check: bool,
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        RunOptions {
            skip: None,
            range_check: true,
            experimental: true,
            at_check: true,
        }
    }
}

/// Mutable state while a script runs.
struct State {
    storage: MemStorage,
    /// Metric names with native-histogram data in the current segment.
    hist_names: HashSet<String>,
    start_timestamps: bool,
    broken: Option<String>,
}

impl State {
    fn new() -> State {
        State {
            storage: MemStorage::new(),
            hist_names: HashSet::new(),
            start_timestamps: false,
            broken: None,
        }
    }
}

/// Parses and runs a script, calling `report` once per eval.
pub fn run_script(
    text: &str,
    engine: &Engine,
    opts: &RunOptions<'_>,
    mut report: impl FnMut(&Eval, EvalOutcome),
) -> Result<(), ScriptError> {
    let cmds = parse_script(text)?;
    let mut st = State::new();
    for cmd in &cmds {
        match cmd {
            Command::Clear { .. } => st = State::new(),
            Command::Load(l) => {
                if l.has_start_timestamps {
                    st.start_timestamps = true;
                }
                for s in &l.series {
                    load_series(&mut st, s, l.interval, l.with_nhcb);
                }
            }
            Command::Eval(e) => {
                let outcome = if let Some(b) = &st.broken {
                    EvalOutcome::Fail(format!("an earlier load failed: {b}"))
                } else if let Some(reason) = opts
                    .skip
                    .and_then(|f| f(e))
                    .or_else(|| skip_reason(&st, e, opts.experimental))
                {
                    EvalOutcome::Skip(reason)
                } else {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_eval(&st, engine, e, opts)
                    }))
                    .unwrap_or_else(|p| {
                        let msg = p
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| p.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        EvalOutcome::Fail(format!("panicked: {msg}"))
                    })
                };
                report(e, outcome);
            }
        }
    }
    Ok(())
}

fn load_series(st: &mut State, s: &SeriesLine, interval: i64, with_nhcb: bool) {
    let name = s.labels.metric_name().unwrap_or("").to_string();
    if s.values.contains(&SeriesValue::Histogram) {
        st.hist_names.insert(name.clone());
    }
    if with_nhcb {
        for suffix in ["_bucket", "_count", "_sum"] {
            if let Some(base) = name.strip_suffix(suffix) {
                st.hist_names.insert(base.to_string());
            }
        }
    }
    for (k, v) in s.values.iter().enumerate() {
        let t = k as i64 * interval;
        let f = match v {
            SeriesValue::Float(f) => *f,
            SeriesValue::Stale => stale_nan(),
            SeriesValue::Omitted | SeriesValue::Histogram => continue,
        };
        if let Err(e) = st.storage.append(&s.labels, t, f) {
            st.broken = Some(format!("line {}: {e}", s.line));
            return;
        }
        if let Some(Some(off)) = s.start_offsets.get(k) {
            st.storage.set_start_timestamp(&s.labels, t, t + off);
        }
    }
}

/// Functions that only make sense on native histograms (`histogram_fraction` and
/// `histogram_quantile` also work on classic `le` buckets, so they are not listed).
const NH_FUNCS: [&str; 5] = [
    "histogram_count",
    "histogram_sum",
    "histogram_avg",
    "histogram_stddev",
    "histogram_stdvar",
];

/// Why this runner does not run an eval (unsupported feature), if it doesn't.
fn skip_reason(st: &State, e: &Eval, experimental: bool) -> Option<String> {
    let x = &e.expect;
    if x.series
        .iter()
        .any(|s| s.values.contains(&SeriesValue::Histogram))
    {
        return Some("native histograms in expected output".into());
    }
    if e.expr.contains("start_timestamp") {
        return Some("start_timestamp() function".into());
    }
    let idents: HashSet<&str> = e
        .expr
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| !w.is_empty())
        .collect();
    if NH_FUNCS.iter().any(|f| idents.contains(f)) {
        return Some("native histogram functions".into());
    }
    if st.hist_names.iter().any(|n| idents.contains(n.as_str())) {
        return Some("native histogram data".into());
    }
    if !st.hist_names.is_empty() && has_nameless_selector(&e.expr) {
        return Some("nameless selector over native histogram data".into());
    }
    if !experimental
        && parse_with(&e.expr, ParseOptions::default()).is_err()
        && parse_with(&e.expr, ParseOptions::all()).is_ok()
    {
        return Some("experimental syntax".into());
    }
    None
}

fn has_nameless_selector(expr: &str) -> bool {
    let b = expr.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'{' && {
            let mut j = i;
            while j > 0 && b[j - 1] == b' ' {
                j -= 1;
            }
            j == 0 || !(b[j - 1].is_ascii_alphanumeric() || b[j - 1] == b'_' || b[j - 1] == b':')
        }
    })
}

fn run_eval(st: &State, engine: &Engine, e: &Eval, opts: &RunOptions<'_>) -> EvalOutcome {
    let expr = match parse_with(&e.expr, ParseOptions::all()) {
        Ok(x) => x,
        Err(err) => {
            return match &e.expect.fail {
                Some(m) if msg_matches(m, &err.message()) || msg_matches(m, &err.to_string()) => {
                    EvalOutcome::Pass
                }
                Some(m) => EvalOutcome::Fail(format!(
                    "parse error {:?} does not match {m:?}",
                    err.message()
                )),
                None => EvalOutcome::Fail(format!("parse error: {}", err.message())),
            }
        }
    };
    if let Err(m) = eval_and_check(st, engine, e, &expr, &e.expr, e.kind, opts) {
        return EvalOutcome::Fail(m);
    }
    if let EvalKind::Instant { at } = e.kind {
        if opts.at_check && at_check_applies(&e.expr) {
            // Like upstream, the pinned tree goes through the printer and back.
            let printed = crate::printer::print(&pin_at(&expr, at));
            let pinned = match parse_with(&printed, ParseOptions::all()) {
                Ok(p) => p,
                Err(err) => {
                    return EvalOutcome::Fail(format!(
                        "@-modifier check: printed query {printed:?} does not parse: {}",
                        err.message()
                    ))
                }
            };
            let times: Vec<i64> = if at == 0 {
                vec![-1000, 0, 1000]
            } else {
                vec![-10 * at, 0, at / 5, at, 10 * at]
            };
            for t in times {
                if let Err(m) = eval_and_check(
                    st,
                    engine,
                    e,
                    &pinned,
                    &printed,
                    EvalKind::Instant { at: t },
                    opts,
                ) {
                    return EvalOutcome::Fail(format!(
                        "@-modifier check (evaluated at {t}ms): {m}"
                    ));
                }
            }
        }
    }
    EvalOutcome::Pass
}

/// Runs one evaluation (plus the range-mode re-check for instant ones) and compares.
fn eval_and_check(
    st: &State,
    engine: &Engine,
    e: &Eval,
    expr: &Expr,
    text: &str,
    kind: EvalKind,
    opts: &RunOptions<'_>,
) -> Result<(), String> {
    let res = match kind {
        EvalKind::Instant { at } => engine.instant_query(&st.storage, expr, at),
        EvalKind::Range { start, end, step } => {
            engine.range_query(&st.storage, expr, start, end, step)
        }
    };
    let failed_as_expected = e.expect.fail.is_some() && res.is_err();
    check(e, text, res, e.expect.ordered)?;
    if let EvalKind::Instant { at } = kind {
        if opts.range_check && range_check_applies(e, expr) && !failed_as_expected {
            let res = engine
                .range_query(&st.storage, expr, at - 60_000, at + 60_000, 60_000)
                .map(|r| at_step(r, at));
            check(e, text, res, false).map_err(|m| format!("range-mode check: {m}"))?;
        }
    }
    Ok(())
}

/// Functions whose value depends on the evaluation time itself, which upstream's
/// `@`-invariance check leaves out.
const TIME_DEPENDENT: [&str; 15] = [
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "end",
    "hour",
    "minute",
    "month",
    "predict_linear",
    "range",
    "start",
    "step",
    "time",
    "timestamp",
    "year",
];

fn at_check_applies(text: &str) -> bool {
    !TIME_DEPENDENT.iter().any(|f| {
        text.match_indices(f).any(|(i, _)| {
            let before_ok = i == 0 || {
                let c = text.as_bytes()[i - 1];
                !(c.is_ascii_alphanumeric() || c == b'_')
            };
            let after = text[i + f.len()..].trim_start();
            before_ok && after.starts_with('(')
        })
    })
}

/// Adds `@ t` to every selector and subquery that has no `@` (never descending into
/// subqueries, whose inner selectors are evaluated at the subquery's steps).
fn pin_at(expr: &Expr, t: i64) -> Expr {
    use crate::ast::AtModifier;
    let mut e = expr.clone();
    fn walk(e: &mut Expr, t: i64) {
        match e {
            Expr::VectorSelector(vs) => {
                if vs.at.is_none() {
                    vs.at = Some(AtModifier::Timestamp(t));
                }
            }
            Expr::MatrixSelector(ms) => {
                if ms.vector.at.is_none() {
                    ms.vector.at = Some(AtModifier::Timestamp(t));
                }
            }
            Expr::Subquery(sq) => {
                // The subquery's own steps are pinned; its inner selectors follow them.
                if sq.at.is_none() {
                    sq.at = Some(AtModifier::Timestamp(t));
                }
            }
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
            Expr::Unary(u) => walk(&mut u.expr, t),
            Expr::Binary(b) => {
                walk(&mut b.lhs, t);
                walk(&mut b.rhs, t);
            }
            Expr::Aggregate(a) => {
                if let Some(p) = a.param.as_mut() {
                    walk(p, t);
                }
                walk(&mut a.expr, t);
            }
            Expr::Call(c) => c.args.iter_mut().for_each(|a| walk(a, t)),
            Expr::Paren(p) => walk(&mut p.expr, t),
        }
    }
    walk(&mut e, t);
    e
}

fn range_check_applies(e: &Eval, expr: &Expr) -> bool {
    let x = &e.expect;
    if x.range_vector.is_some() || x.string.is_some() || x.ordered {
        return false;
    }
    if ["start()", "end()", "range()", "step()"]
        .iter()
        .any(|f| e.expr.contains(f))
    {
        return false;
    }
    !matches!(
        expr.value_type(),
        crate::ValueType::Matrix | crate::ValueType::String
    )
}

/// Turns a range result into what the instant query at `t` should have returned.
fn at_step(mut r: QueryResult, t: i64) -> QueryResult {
    if let Value::Matrix(m) = &r.value {
        let sorted = m.windows(2).all(|w| w[0].metric < w[1].metric);
        let scalar_like = m.len() == 1 && m[0].metric.is_empty();
        let vec: Vec<crate::value::Sample> = m
            .iter()
            .filter_map(|s| {
                s.floats
                    .iter()
                    .find(|p| p.t == t)
                    .map(|p| crate::value::Sample {
                        metric: s.metric.clone(),
                        t,
                        f: p.f,
                        drop_name: false,
                    })
            })
            .collect();
        let _ = scalar_like;
        if !sorted {
            r.value = Value::String(crate::value::StringValue {
                t,
                s: "range result not sorted by labels".into(),
            });
            return r;
        }
        r.value = Value::Vector(vec);
    }
    r
}

fn msg_matches(m: &MessageMatch, s: &str) -> bool {
    match m {
        MessageMatch::Any => true,
        MessageMatch::Exact(x) => x == s,
        MessageMatch::Regex(re) => regex::Regex::new(re)
            .map(|r| r.is_match(s))
            .unwrap_or(false),
    }
}

fn check_annotations(
    x: &Expectations,
    rendered: &[(AnnotationKind, String)],
) -> Result<(), String> {
    for (kind, expected, none, any) in [
        (AnnotationKind::Warning, &x.warn, x.no_warn, x.any_warn),
        (AnnotationKind::Info, &x.info, x.no_info, x.any_info),
    ] {
        let got: Vec<&String> = rendered
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, s)| s)
            .collect();
        let what = if kind == AnnotationKind::Warning {
            "warning"
        } else {
            "info"
        };
        if none && !got.is_empty() {
            return Err(format!("expected no {what}, got {got:?}"));
        }
        if any && got.is_empty() {
            return Err(format!("expected a {what}, got none"));
        }
        if !expected.is_empty() {
            for m in expected {
                if !got.iter().any(|g| msg_matches(m, g)) {
                    return Err(format!("expected {what} {m:?}, got {got:?}"));
                }
            }
            for g in &got {
                if !expected.iter().any(|m| msg_matches(m, g)) {
                    return Err(format!("unexpected {what} {g:?}"));
                }
            }
        }
    }
    Ok(())
}

fn check(
    e: &Eval,
    query: &str,
    res: Result<QueryResult, crate::engine::EngineError>,
    ordered: bool,
) -> Result<(), String> {
    let x = &e.expect;
    let r = match res {
        Err(err) => {
            let msg = err.to_string();
            return match &x.fail {
                Some(m) if msg_matches(m, &msg) => Ok(()),
                Some(m) => Err(format!("error {msg:?} does not match {m:?}")),
                None => Err(format!("unexpected error: {msg}")),
            };
        }
        Ok(r) => r,
    };
    if x.fail.is_some() {
        return Err(format!("expected failure, got {}", r.value.type_name()));
    }
    let rendered: Vec<(AnnotationKind, String)> = r
        .annotations
        .iter()
        .map(|a| (a.kind, a.render(query)))
        .collect();
    check_annotations(x, &rendered)?;
    if let Some(s) = &x.string {
        return match &r.value {
            Value::String(v) if &v.s == s => Ok(()),
            v => Err(format!("expected string {s:?}, got {v}")),
        };
    }
    if let Some(s) = x.scalar {
        return match &r.value {
            Value::Scalar(v) if almost_equal(v.v, s) => Ok(()),
            Value::Vector(v)
                if v.len() == 1 && v[0].metric.is_empty() && almost_equal(v[0].f, s) =>
            {
                // A range-mode check turns a scalar into a one-element vector.
                Ok(())
            }
            v => Err(format!("expected scalar {s}, got {}", v.to_string().trim())),
        };
    }
    match (&r.value, e.kind, x.range_vector) {
        (Value::Matrix(m), EvalKind::Range { start, step, .. }, _) => {
            compare_matrix(m, &x.series, start, step)
        }
        (Value::Matrix(m), EvalKind::Instant { .. }, Some((s, _, p))) => {
            compare_matrix(m, &x.series, s, p)
        }
        (Value::Matrix(_), EvalKind::Instant { .. }, None) => {
            Err("unexpected range vector result".into())
        }
        (Value::Vector(v), EvalKind::Instant { .. }, None) => {
            if v.len() != x.series.len() {
                return Err(format!(
                    "expected {} samples, got {}:\n{}",
                    x.series.len(),
                    v.len(),
                    r.value.to_string().trim_end()
                ));
            }
            for (i, exp) in x.series.iter().enumerate() {
                let want = match exp.values.as_slice() {
                    [SeriesValue::Float(f)] => *f,
                    [SeriesValue::Stale] => stale_nan(),
                    _ => {
                        return Err(format!(
                            "line {}: expected exactly one float value",
                            exp.line
                        ))
                    }
                };
                let got = if ordered {
                    if v[i].metric != exp.labels {
                        return Err(format!(
                            "ordered: position {i} expected {}, got {}",
                            exp.labels, v[i].metric
                        ));
                    }
                    Some(&v[i])
                } else {
                    v.iter().find(|s| s.metric == exp.labels)
                };
                let Some(got) = got else {
                    return Err(format!(
                        "missing series {}; got:\n{}",
                        exp.labels,
                        r.value.to_string().trim_end()
                    ));
                };
                if !almost_equal(got.f, want) {
                    return Err(format!("{}: expected {want}, got {}", exp.labels, got.f));
                }
            }
            Ok(())
        }
        (v, _, _) => {
            if x.series.is_empty() && matches!(v, Value::Vector(_)) {
                return Ok(());
            }
            Err(format!(
                "expected vector or matrix result, got {}",
                v.type_name()
            ))
        }
    }
}

fn compare_matrix(
    m: &[crate::value::Series],
    exp: &[SeriesLine],
    start: i64,
    step: i64,
) -> Result<(), String> {
    if !m.windows(2).all(|w| w[0].metric < w[1].metric) {
        return Err("matrix not sorted by labels".into());
    }
    if m.len() != exp.len() {
        let got: Vec<String> = m.iter().map(|s| s.metric.to_string()).collect();
        return Err(format!(
            "expected {} series, got {}: {got:?}",
            exp.len(),
            m.len()
        ));
    }
    for e in exp {
        let Some(s) = m.iter().find(|s| s.metric == e.labels) else {
            return Err(format!("missing series {}", e.labels));
        };
        let want: Vec<(i64, f64)> = e
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                SeriesValue::Float(f) => Some((start + i as i64 * step, *f)),
                SeriesValue::Stale => Some((start + i as i64 * step, stale_nan())),
                _ => None,
            })
            .collect();
        if want.len() != s.floats.len() {
            let got: Vec<(i64, f64)> = s.floats.iter().map(|p| (p.t, p.f)).collect();
            return Err(format!(
                "{}: expected {} points {want:?}, got {} {got:?}",
                e.labels,
                want.len(),
                s.floats.len()
            ));
        }
        for (w, p) in want.iter().zip(&s.floats) {
            if w.0 != p.t || !almost_equal(w.1, p.f) {
                return Err(format!(
                    "{}: expected {} @{}, got {} @{}",
                    e.labels, w.1, w.0, p.f, p.t
                ));
            }
        }
    }
    Ok(())
}
