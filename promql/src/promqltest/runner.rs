//! Running a script: load data, evaluate each `eval`, compare with expectations.

use super::script::{
    parse_script, Command, Eval, EvalKind, Expectations, MessageMatch, ScriptError, SeriesLine,
    SeriesValue,
};
use crate::engine::{AnnotationKind, Engine, QueryResult};
use crate::parser::{parse_with, ParseOptions};
use crate::storage::MemStorage;
use crate::value::{is_stale_nan, stale_nan, HistogramText, Value};
use crate::Expr;
use exposition::histogram::{CounterResetHint, FloatHistogram, SideBuckets, CUSTOM_BUCKETS_SCHEMA};
use exposition::Labels;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

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
    /// Evaluate with delayed `__name__` removal (default, as Prometheus's test engine
    /// does), whatever the engine passed to [`run_script`] was configured with.
    pub delayed_name_removal: bool,
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        RunOptions {
            skip: None,
            range_check: true,
            experimental: true,
            at_check: true,
            delayed_name_removal: true,
        }
    }
}

/// Mutable state while a script runs.
struct State {
    storage: MemStorage,
    /// Metric names with native-histogram data in the current segment.
    hist_names: HashSet<String>,
    /// Per series: the last histogram stored, while the series' current "chunk" holds
    /// histograms (a float sample ends it). Drives the counter-reset hints read back.
    last_hist: HashMap<Labels, Arc<FloatHistogram>>,
    start_timestamps: bool,
    broken: Option<String>,
}

impl State {
    fn new() -> State {
        State {
            storage: MemStorage::new(),
            hist_names: HashSet::new(),
            last_hist: HashMap::new(),
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
    let configured;
    let engine = if engine.options().delayed_name_removal == opts.delayed_name_removal {
        engine
    } else {
        configured = Engine::new(crate::engine::EngineOptions {
            delayed_name_removal: opts.delayed_name_removal,
            ..*engine.options()
        });
        &configured
    };
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
                if l.with_nhcb && st.broken.is_none() {
                    if let Err(e) = load_nhcb(&mut st, &l.series, l.interval) {
                        st.broken = Some(format!("line {}: {e}", l.line));
                    }
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
    if s.values.iter().any(SeriesValue::is_histogram) {
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
        let res = match v {
            SeriesValue::Float(f) => {
                st.last_hist.remove(&s.labels);
                st.storage.append(&s.labels, t, *f)
            }
            SeriesValue::Stale => st.storage.append(&s.labels, t, stale_nan()),
            SeriesValue::Omitted => continue,
            SeriesValue::Histogram { h, .. } => store_histogram(st, &s.labels, t, h),
        };
        if let Err(e) = res {
            st.broken = Some(format!("line {}: {e}", s.line));
            return;
        }
        if let Some(Some(off)) = s.start_offsets.get(k) {
            st.storage.set_start_timestamp(&s.labels, t, t + off);
        }
    }
}

/// Stores a histogram with the counter-reset hint upstream's storage would read back:
/// `gauge` in gauge chunks, `unknown` for the first histogram of a chunk, `not_reset`
/// for the others. A chunk is cut at a reset (detected or hinted), a schema or zero
/// threshold change, a switch between gauge and counter, and by float samples.
fn store_histogram(
    st: &mut State,
    labels: &Labels,
    t: i64,
    h: &Arc<FloatHistogram>,
) -> Result<(), crate::storage::StorageError> {
    let mut stored = (**h).clone();
    let gauge = h.counter_reset_hint == CounterResetHint::Gauge;
    stored.counter_reset_hint = if gauge {
        CounterResetHint::Gauge
    } else {
        match st.last_hist.get(labels) {
            Some(prev)
                if prev.counter_reset_hint != CounterResetHint::Gauge
                    && prev.schema == h.schema
                    && prev.zero_threshold == h.zero_threshold
                    && prev.custom_values == h.custom_values
                    && !h.detect_reset(prev) =>
            {
                CounterResetHint::NotCounterReset
            }
            _ => CounterResetHint::Unknown,
        }
    };
    st.last_hist.insert(labels.clone(), h.clone());
    st.storage.append_histogram(labels, t, Arc::new(stored))
}

/// `load_with_nhcb`: builds a custom-bucket native histogram series for every classic
/// histogram family (`X_bucket{le}`, `X_count`, `X_sum`) of the load.
fn load_nhcb(st: &mut State, series: &[SeriesLine], interval: i64) -> Result<(), String> {
    #[derive(Default)]
    struct Family<'a> {
        buckets: Vec<(f64, &'a [SeriesValue])>,
        count: Option<&'a [SeriesValue]>,
        sum: Option<&'a [SeriesValue]>,
    }
    let mut fams: BTreeMap<Labels, Family<'_>> = BTreeMap::new();
    for s in series {
        let name = s.labels.metric_name().unwrap_or("");
        let (base, kind) = if let Some(b) = name.strip_suffix("_bucket") {
            if s.labels.get("le").is_none() {
                continue;
            }
            (b, 0)
        } else if let Some(b) = name.strip_suffix("_count") {
            (b, 1)
        } else if let Some(b) = name.strip_suffix("_sum") {
            (b, 2)
        } else {
            continue;
        };
        let mut lb = s.labels.builder();
        lb.set(exposition::METRIC_NAME, base);
        lb.del("le");
        let key = lb.build();
        let fam = fams.entry(key).or_default();
        match kind {
            0 => {
                let le = s.labels.get("le").unwrap_or("");
                match super::super::engine::parse_go_float_pub(le) {
                    Some(v) if !v.is_nan() => fam.buckets.push((v, &s.values)),
                    _ => {}
                }
            }
            1 => fam.count = Some(&s.values),
            _ => fam.sum = Some(&s.values),
        }
    }
    for (labels, fam) in fams {
        if fam.buckets.is_empty() {
            continue;
        }
        let mut buckets = fam.buckets;
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let n = buckets
            .iter()
            .map(|b| b.1.len())
            .chain(fam.count.map(|c| c.len()))
            .chain(fam.sum.map(|c| c.len()))
            .max()
            .unwrap_or(0);
        for k in 0..n {
            let at = |v: Option<&[SeriesValue]>| match v.and_then(|v| v.get(k)) {
                Some(SeriesValue::Float(f)) => Some(*f),
                Some(SeriesValue::Stale) => Some(stale_nan()),
                _ => None,
            };
            let pts: Vec<(f64, f64)> = buckets
                .iter()
                .filter_map(|(le, v)| at(Some(v)).map(|c| (*le, c)))
                .collect();
            let count = at(fam.count);
            let sum = at(fam.sum);
            if pts.is_empty() && count.is_none() && sum.is_none() {
                continue;
            }
            let t = k as i64 * interval;
            if pts.iter().any(|p| is_stale_nan(p.1))
                || count.is_some_and(is_stale_nan)
                || sum.is_some_and(is_stale_nan)
            {
                let h = FloatHistogram {
                    schema: CUSTOM_BUCKETS_SCHEMA,
                    sum: stale_nan(),
                    ..Default::default()
                };
                st.last_hist.remove(&labels);
                st.storage
                    .append_histogram(&labels, t, Arc::new(h))
                    .map_err(|e| e.to_string())?;
                continue;
            }
            let mut custom = Vec::new();
            let mut counts = Vec::new();
            let mut prev = 0.0;
            let mut inf = None;
            for (le, c) in &pts {
                if *le == f64::INFINITY {
                    inf = Some(*c);
                    continue;
                }
                if *c < prev {
                    return Err(format!("{labels}: bucket counts are not cumulative"));
                }
                custom.push(*le);
                counts.push(c - prev);
                prev = *c;
            }
            let total = match (inf, count) {
                (Some(i), Some(c)) if i != c => {
                    return Err(format!(
                        "{labels}: count {c} does not match +Inf bucket {i}"
                    ))
                }
                (Some(i), _) => i,
                (None, Some(c)) => c,
                (None, None) => prev,
            };
            if total < prev {
                return Err(format!("{labels}: bucket counts are not cumulative"));
            }
            counts.push(total - prev);
            let h = FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: count.unwrap_or(total),
                sum: sum.unwrap_or(0.0),
                positive_spans: vec![exposition::histogram::Span::new(0, counts.len() as u32)],
                positive_buckets: counts,
                custom_values: custom,
                ..Default::default()
            };
            store_histogram(st, &labels, t, &Arc::new(h)).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Why this runner does not run an eval (unsupported feature), if it doesn't.
fn skip_reason(_st: &State, e: &Eval, experimental: bool) -> Option<String> {
    if !experimental
        && parse_with(&e.expr, ParseOptions::default()).is_err()
        && parse_with(&e.expr, ParseOptions::all()).is_ok()
    {
        return Some("experimental syntax".into());
    }
    None
}

/// Histogram equality of the test language: both compacted, schema and zero threshold
/// exact, counts and sums within the float tolerance, buckets compared as sparse maps,
/// custom bounds exact, the counter-reset hint only when the expectation states one.
pub fn histograms_match(exp: &FloatHistogram, got: &FloatHistogram, hint_stated: bool) -> bool {
    let compacted = |h: &FloatHistogram| {
        let mut h = h.clone();
        h.compact(0);
        h
    };
    let (e, g) = (compacted(exp), compacted(got));
    if e.schema != g.schema
        || !almost_equal(e.count, g.count)
        || !almost_equal(e.sum, g.sum)
        || !almost_equal(e.zero_count, g.zero_count)
        || e.zero_threshold != g.zero_threshold
    {
        return false;
    }
    if e.uses_custom_buckets() && e.custom_values != g.custom_values {
        return false;
    }
    if hint_stated && e.counter_reset_hint != g.counter_reset_hint {
        return false;
    }
    // Compacted histograms hold no empty buckets, so equal sides list the same indices.
    let sides_match = |a: SideBuckets<'_>, b: SideBuckets<'_>| {
        let (a, b): (Vec<_>, Vec<_>) = (a.collect(), b.collect());
        a.len() == b.len()
            && a.iter()
                .zip(&b)
                .all(|(x, y)| x.index == y.index && almost_equal(x.count, y.count))
    };
    if !sides_match(e.positive_bucket_iter(), g.positive_bucket_iter())
        || !sides_match(e.negative_bucket_iter(), g.negative_bucket_iter())
    {
        return false;
    }
    true
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
    check(e, text, res, e.expect.ordered, true)?;
    if let EvalKind::Instant { at } = kind {
        if opts.range_check && range_check_applies(e, expr) && !failed_as_expected {
            let res = engine
                .range_query(&st.storage, expr, at - 60_000, at + 60_000, 60_000)
                .map(|r| at_step(r, at));
            // Like upstream, the re-check compares results only: a range query may
            // annotate differently (e.g. `sort` warns that it has no effect there).
            check(e, text, res, false, false).map_err(|m| format!("range-mode check: {m}"))?;
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
                        h: None,
                        metric: s.metric.clone(),
                        t,
                        f: p.f,
                        drop_name: false,
                    })
                    .or_else(|| {
                        s.histograms
                            .iter()
                            .find(|p| p.t == t)
                            .map(|p| crate::value::Sample {
                                h: Some(p.h.clone()),
                                metric: s.metric.clone(),
                                t,
                                f: 0.0,
                                drop_name: false,
                            })
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
    annotations: bool,
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
    if annotations {
        check_annotations(x, &rendered)?;
    }
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
                    [SeriesValue::Float(f)] => Ok(*f),
                    [SeriesValue::Stale] => Ok(stale_nan()),
                    [SeriesValue::Histogram { h, hint_stated }] => Err((h, *hint_stated)),
                    _ => return Err(format!("line {}: expected exactly one value", exp.line)),
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
                match (want, &got.h) {
                    (Ok(want), None) => {
                        if !almost_equal(got.f, want) {
                            return Err(format!("{}: expected {want}, got {}", exp.labels, got.f));
                        }
                    }
                    (Err((want, hint)), Some(h)) => {
                        if !histograms_match(want, h, hint) {
                            return Err(format!(
                                "{}: expected {}, got {}",
                                exp.labels,
                                HistogramText(want),
                                HistogramText(h)
                            ));
                        }
                    }
                    (Ok(want), Some(h)) => {
                        return Err(format!(
                            "{}: expected float {want}, got histogram {}",
                            exp.labels,
                            HistogramText(h)
                        ))
                    }
                    (Err((want, _)), None) => {
                        return Err(format!(
                            "{}: expected histogram {}, got float {}",
                            exp.labels,
                            HistogramText(want),
                            got.f
                        ))
                    }
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
        let want_h: Vec<(i64, &Arc<FloatHistogram>, bool)> = e
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                SeriesValue::Histogram { h, hint_stated } => {
                    Some((start + i as i64 * step, h, *hint_stated))
                }
                _ => None,
            })
            .collect();
        if want_h.len() != s.histograms.len() {
            let got: Vec<String> = s
                .histograms
                .iter()
                .map(|p| format!("{} @{}", HistogramText(&p.h), p.t))
                .collect();
            return Err(format!(
                "{}: expected {} histogram points, got {} {got:?}",
                e.labels,
                want_h.len(),
                s.histograms.len()
            ));
        }
        for (w, p) in want_h.iter().zip(&s.histograms) {
            if w.0 != p.t || !histograms_match(w.1, &p.h, w.2) {
                return Err(format!(
                    "{}: expected {} @{}, got {} @{}",
                    e.labels,
                    HistogramText(w.1),
                    w.0,
                    HistogramText(&p.h),
                    p.t
                ));
            }
        }
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
