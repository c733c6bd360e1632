//! Rule unit tests: does a rule set pass its `promtool test rules` files?
//!
//! The test-file format is promtool's: `rule_files` (relative to the test file; `*`/`?` globs
//! in the file name), `evaluation_interval` (default 1m), `group_eval_order`, and `tests`, each
//! with `interval` (default: the evaluation interval), `input_series` (series notation plus
//! expanding values such as `1+2x10`, `_`, `stale`, `0 1 _x3`), `alert_rule_test` (`eval_time`,
//! `alertname`, `exp_alerts` with `exp_labels` and `exp_annotations`), `promql_expr_test`
//! (`expr`, `eval_time`, `exp_samples`), `external_labels`, `external_url` and `name`.
//!
//! Native histograms work as in Prometheus 3.x's promtool: input series may hold
//! `{{schema:0 sum:5 count:4 buckets:[1 2 1]}}` items (and the expanding `{{..}}+{{..}}x3`
//! form), and an `exp_samples` entry with `histogram: '{{...}}'` expects a histogram. Samples
//! compare as promtool compares them: labels, the float `value` (0 for a histogram, so a
//! non-zero `value` next to `histogram:` never matches) and the histogram's canonical
//! notation, counter-reset hint included. The hint is the one Prometheus's tsdb reads back:
//! `gauge` for gauge histograms, `not_reset` after the first histogram of a chunk; `rate()`
//! and similar functions return `gauge` histograms.
//!
//! Each test group loads its series into a fresh [`MemStorage`], evaluates every group at
//! `0, interval, 2*interval, ...` up to the largest `eval_time`, and compares the *firing*
//! alerts after the evaluation at or just before each alert `eval_time`; expression tests run
//! afterwards against the same storage (which holds the rules' output). Failures are
//! reported in promtool's words.
//!
//! ```
//! use promql::rules::unittest::run_test_str;
//! let rules = "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 1m\n";
//! let dir = std::env::temp_dir().join(format!("rules-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("r.yml"), rules).unwrap();
//! let test = "rule_files: [r.yml]\ntests:\n- interval: 1m\n  input_series:\n  - series: up{job=\"a\"}\n    values: 1 0 0 0\n  alert_rule_test:\n  - eval_time: 1m\n    alertname: Down\n  - eval_time: 3m\n    alertname: Down\n    exp_alerts:\n    - exp_labels: {job: a}\n";
//! let failures = run_test_str(test, &dir, "t.yml").unwrap();
//! assert!(failures.is_empty(), "{failures:?}");
//! ```

use super::alerting::AlertState;
use super::file::{load_file, parse_duration, scalar};
use super::group::{Group, GroupOptions, Rule};
use super::Appendable as _;
use super::RuleError;
use crate::promqltest::script::{parse_series_line, SeriesValue};
use crate::storage::MemStorage;
use crate::value::{stale_nan, Value};
use exposition::histogram::{CounterResetHint, FloatHistogram};
use exposition::Labels;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    rule_files: Vec<String>,
    evaluation_interval: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    group_eval_order: Vec<String>,
    #[serde(default)]
    tests: Vec<TestGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestGroup {
    interval: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    input_series: Vec<InputSeries>,
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    promql_expr_test: Vec<ExprTest>,
    #[serde(default)]
    external_labels: BTreeMap<String, serde_yaml_ng::Value>,
    #[serde(default)]
    external_url: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSeries {
    series: String,
    #[serde(default)]
    values: serde_yaml_ng::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertTest {
    #[serde(default)]
    eval_time: serde_yaml_ng::Value,
    #[serde(default)]
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExpAlert {
    #[serde(default)]
    exp_labels: BTreeMap<String, serde_yaml_ng::Value>,
    #[serde(default)]
    exp_annotations: BTreeMap<String, serde_yaml_ng::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExprTest {
    expr: String,
    #[serde(default)]
    eval_time: serde_yaml_ng::Value,
    #[serde(default)]
    exp_samples: Vec<ExpSample>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpSample {
    #[serde(default)]
    labels: String,
    #[serde(default)]
    value: serde_yaml_ng::Value,
    /// A native histogram in the `{{...}}` notation; when set the sample is a histogram.
    #[serde(default)]
    histogram: String,
}

/// The outcome of one test file.
#[derive(Debug)]
pub struct FileResult {
    /// The test file.
    pub path: String,
    /// Failures, each formatted as promtool prints it (empty = success).
    pub failures: Vec<String>,
}

impl FileResult {
    /// Whether every test passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs the test file at `path` (rule files resolved relative to its directory).
pub fn run_test_file(path: &Path) -> FileResult {
    let display = path.display().to_string();
    let failures = match std::fs::read_to_string(path) {
        Err(e) => vec![format!("{display}: {e}")],
        Ok(text) => {
            let dir = path.parent().unwrap_or(Path::new("."));
            run_test_str(&text, dir, &display).unwrap_or_else(|e| vec![e.to_string()])
        }
    };
    FileResult {
        path: display,
        failures,
    }
}

/// Runs a test file's `text`; `base` is the directory its `rule_files` are relative to and
/// `display` names it in errors. `Err` when the file or its rule files do not load; `Ok`
/// with the list of test failures (empty = all passed) otherwise.
pub fn run_test_str(text: &str, base: &Path, display: &str) -> Result<Vec<String>, RuleError> {
    let tf: TestFile = serde_yaml_ng::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        RuleError::Yaml {
            path: display.to_string(),
            line,
            column,
            msg: e.to_string(),
        }
    })?;
    let bad = |msg: String| RuleError::Invalid {
        path: display.to_string(),
        problems: vec![super::Problem {
            line: 0,
            group: String::new(),
            rule: None,
            rule_name: String::new(),
            msg,
        }],
    };
    let eval_interval = match tf.evaluation_interval.as_ref().and_then(scalar) {
        None => 60_000,
        Some(s) => parse_duration(&s)
            .filter(|d| *d > 0)
            .ok_or_else(|| bad(format!("invalid evaluation_interval {s:?}")))?,
    };
    let mut order: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, g) in tf.group_eval_order.iter().enumerate() {
        if order.insert(g, i).is_some() {
            return Err(bad(format!("group name repeated in evaluation order: {g}")));
        }
    }
    let mut files = Vec::new();
    for rf in &tf.rule_files {
        files.extend(resolve(base, rf).map_err(bad)?);
    }
    let mut specs = Vec::new();
    for f in &files {
        let rf = load_file(&f.display().to_string())?;
        specs.extend(rf.groups);
    }
    // Groups named in group_eval_order first (in that order), the rest after, stable.
    specs.sort_by_key(|g| order.get(g.name.as_str()).copied().unwrap_or(0));
    let mut failures = Vec::new();
    for tg in &tf.tests {
        failures.extend(run_group(tg, &specs, eval_interval).map_err(bad)?);
    }
    Ok(failures)
}

fn resolve(base: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let full = if Path::new(pattern).is_absolute() {
        PathBuf::from(pattern)
    } else {
        base.join(pattern)
    };
    let name = full
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if !name.contains(['*', '?']) {
        return Ok(vec![full]);
    }
    let dir = full.parent().unwrap_or(Path::new("."));
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| glob_match(&name, &n.to_string_lossy()))
        })
        .collect();
    out.sort();
    Ok(out)
}

fn glob_match(p: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (p.chars().collect(), s.chars().collect());
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn str_map(m: &BTreeMap<String, serde_yaml_ng::Value>) -> Labels {
    let pairs: Vec<(String, String)> = m
        .iter()
        .map(|(k, v)| (k.clone(), scalar(v).unwrap_or_default()))
        .collect();
    Labels::from_pairs(&pairs)
}

/// Prometheus's `model.Duration` string (`1h30m`, `0s`, `1d`).
pub fn duration_string(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms;
    if rest < 0 {
        out.push('-');
        rest = -rest;
    }
    for (unit, len) in [
        ("y", 365 * 86_400_000i64),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ] {
        if rest >= len {
            out.push_str(&format!("{}{unit}", rest / len));
            rest %= len;
        }
    }
    out
}

/// Go's `strconv.FormatFloat(v, 'E', -1, 64)`.
fn go_big_e(v: f64) -> String {
    if !v.is_finite() {
        return super::template::value::go_g(v, None);
    }
    let s = format!("{v:E}");
    let (m, e) = s.split_once('E').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    format!("{m}E{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

/// Go's `labels.Labels.String()`: every pair in braces, `__name__` included.
fn go_labels(l: &Labels) -> String {
    let mut s = String::from("{");
    for (i, x) in l.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&x.name);
        s.push('=');
        let _ = exposition::labels::write_quoted(&mut s, &x.value);
    }
    s.push('}');
    s
}

type Firing = Vec<(Labels, Labels)>;

fn alerts_string(a: &Firing) -> String {
    if a.is_empty() {
        return "[]".into();
    }
    let ind = "            ";
    let mut s = String::from("[");
    for (i, (l, an)) in a.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            "\n{ind}{i}:\n{ind}  Labels:{}\n{ind}  Annotations:{}",
            go_labels(l),
            go_labels(an)
        ));
    }
    s.push_str(&format!("\n{ind}]"));
    s
}

fn run_group(
    tg: &TestGroup,
    specs: &[super::GroupSpec],
    eval_interval: i64,
) -> Result<Vec<String>, String> {
    let interval = match tg.interval.as_ref().and_then(scalar) {
        None => eval_interval,
        Some(s) => parse_duration(&s)
            .filter(|d| *d > 0)
            .ok_or_else(|| format!("invalid interval {s:?}"))?,
    };
    let name_prefix = if tg.name.is_empty() {
        String::new()
    } else {
        format!("    name: {},\n", tg.name)
    };
    // Load the input series.
    let mut db = TestStore::default();
    for s in &tg.input_series {
        let values = scalar(&s.values).unwrap_or_default();
        let line = parse_series_line(0, &format!("{} {}", s.series, values))
            .map_err(|e| format!("series {:?}: {e}", s.series))?;
        let mut t = 0i64;
        for v in &line.values {
            let res = match v {
                SeriesValue::Float(f) => db.append(&line.labels, t, *f),
                SeriesValue::Stale => db.append(&line.labels, t, stale_nan()),
                SeriesValue::Histogram { h, .. } => db.append_histogram(&line.labels, t, h.clone()),
                SeriesValue::Omitted => Ok(()),
            };
            res.map_err(|e| e.to_string())?;
            t += interval;
        }
    }
    let opts = GroupOptions::default()
        .with_default_interval_ms(interval)
        .with_external_labels(str_map(&tg.external_labels))
        .with_external_url(&tg.external_url);
    let mut groups: Vec<Group> = specs
        .iter()
        .map(|g| Group::new(g, &opts))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    // `eval_time` may be written as a bare number (`0`), which YAML reads as an integer.
    let dur = |v: &serde_yaml_ng::Value| {
        let s = scalar(v).unwrap_or_default();
        if s.is_empty() {
            return Ok(0);
        }
        parse_duration(&s).ok_or_else(|| format!("invalid eval_time {s:?}"))
    };
    let mut alert_tests: Vec<(i64, &AlertTest)> = Vec::new();
    for a in &tg.alert_rule_test {
        if a.alertname.is_empty() {
            let in_group = if tg.name.is_empty() {
                String::new()
            } else {
                format!(" (in TestGroup {})", tg.name)
            };
            return Ok(vec![format!(
                "an item under alert_rule_test misses required attribute alertname at eval_time {}{in_group}",
                duration_string(dur(&a.eval_time).unwrap_or(0))
            )]);
        }
        alert_tests.push((dur(&a.eval_time)?, a));
    }
    alert_tests.sort_by_key(|(t, _)| *t);
    let mut expr_tests = Vec::new();
    for e in &tg.promql_expr_test {
        expr_tests.push((dur(&e.eval_time)?, e));
    }
    let maxt = alert_tests
        .iter()
        .map(|x| x.0)
        .chain(expr_tests.iter().map(|x| x.0))
        .max()
        .unwrap_or(0);
    let mut errs = Vec::new();
    let mut curr = 0;
    let mut ts = 0i64;
    while ts <= maxt {
        let mut eval_errs = Vec::new();
        for g in &mut groups {
            let rep = g.eval(ts, &mut db);
            for f in rep.failures {
                eval_errs.push(format!(
                    "    rule: {}, time: {}, err: {}",
                    f.name,
                    duration_string(ts),
                    f.error
                ));
            }
        }
        if !eval_errs.is_empty() {
            errs.extend(eval_errs);
            return Ok(errs);
        }
        while curr < alert_tests.len()
            && ts <= alert_tests[curr].0
            && alert_tests[curr].0 < ts + interval_of(eval_interval)
        {
            let (t, at) = alert_tests[curr];
            let mut got: Firing = Vec::new();
            for g in &groups {
                for r in g.rules() {
                    if let Rule::Alerting(a) = r {
                        if a.name() == at.alertname {
                            for x in a.active_alerts() {
                                if x.state == AlertState::Firing {
                                    got.push((x.labels.clone(), x.annotations.clone()));
                                }
                            }
                        }
                    }
                }
            }
            let mut exp: Firing = at
                .exp_alerts
                .iter()
                .map(|e| {
                    let mut b = str_map(&e.exp_labels).builder();
                    b.set("alertname", &at.alertname);
                    (b.build(), str_map(&e.exp_annotations))
                })
                .collect();
            got.sort();
            exp.sort();
            if got != exp {
                errs.push(format!(
                    "{name_prefix}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}",
                    at.alertname,
                    duration_string(t),
                    alerts_string(&exp),
                    alerts_string(&got)
                ));
            }
            curr += 1;
        }
        ts += eval_interval;
    }
    let engine = crate::engine::Engine::default();
    'outer: for (t, et) in expr_tests {
        let fail = |msg: String| {
            format!(
                "    expr: {:?}, time: {}, err: {msg}",
                et.expr,
                duration_string(t)
            )
        };
        let got = crate::parse(&et.expr)
            .map_err(|e| e.to_string())
            .and_then(|e| engine.instant_query(&db, &e, t).map_err(|e| e.to_string()))
            .and_then(|r| match r.value {
                Value::Vector(v) => Ok(v.into_iter().map(ExprSample::of).collect::<Vec<_>>()),
                Value::Scalar(s) => Ok(vec![ExprSample {
                    labels: Labels::empty(),
                    value: s.v,
                    histogram: String::new(),
                }]),
                _ => Err("rule result is not a vector or scalar".into()),
            });
        let mut got = match got {
            Ok(g) => g,
            Err(e) => {
                errs.push(fail(e));
                continue;
            }
        };
        let mut exp = Vec::new();
        for s in &et.exp_samples {
            let labels = if s.labels.trim().is_empty() {
                Labels::empty()
            } else {
                match parse_series_line(0, s.labels.trim()) {
                    Ok(l) if l.values.is_empty() => l.labels,
                    Ok(_) => {
                        errs.push(fail(format!("labels {:?}: unexpected values", s.labels)));
                        continue 'outer;
                    }
                    Err(e) => {
                        errs.push(fail(format!("labels {:?}: {e}", s.labels)));
                        continue 'outer;
                    }
                }
            };
            let v = match &s.value {
                // promtool's `value` is a float64 that defaults to 0.
                serde_yaml_ng::Value::Null => Some(0.0),
                other => scalar(other)
                    .and_then(|x| x.trim().parse::<f64>().ok().or_else(|| parse_special(&x))),
            };
            let Some(v) = v else {
                errs.push(fail(format!("value of {:?} is not a number", s.labels)));
                continue 'outer;
            };
            let histogram = if s.histogram.is_empty() {
                String::new()
            } else {
                match expected_histogram(&s.histogram) {
                    Ok(h) => h,
                    Err(e) => {
                        errs.push(fail(format!("labels {:?}: {e}", s.labels)));
                        continue 'outer;
                    }
                }
            };
            exp.push(ExprSample {
                labels,
                value: v,
                histogram,
            });
        }
        exp.sort_by(|a, b| a.labels.cmp(&b.labels));
        got.sort_by(|a, b| a.labels.cmp(&b.labels));
        let same = exp.len() == got.len() && exp.iter().zip(&got).all(|(a, b)| a.same(b));
        if !same {
            let show = |v: &[ExprSample]| {
                if v.is_empty() {
                    "nil".to_string()
                } else {
                    v.iter()
                        .map(ExprSample::show)
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            errs.push(format!(
                "    expr: {:?}, time: {},\n        exp: {}\n        got: {}",
                et.expr,
                duration_string(t),
                show(&exp),
                show(&got)
            ));
        }
    }
    Ok(errs)
}

/// One sample of an expression test, as promtool compares it: labels, the float value
/// (0 for histograms) and the histogram in the test notation (empty for floats).
struct ExprSample {
    labels: Labels,
    value: f64,
    histogram: String,
}

impl ExprSample {
    fn of(s: crate::value::Sample) -> ExprSample {
        match &s.h {
            Some(h) => ExprSample {
                labels: s.metric,
                value: 0.0,
                histogram: h.fmt_notation(),
            },
            None => ExprSample {
                labels: s.metric,
                value: s.f,
                histogram: String::new(),
            },
        }
    }

    /// Equal labels, histogram text, and values (any two NaNs are equal).
    fn same(&self, o: &ExprSample) -> bool {
        self.labels == o.labels
            && self.histogram == o.histogram
            && (self.value == o.value || (self.value.is_nan() && o.value.is_nan()))
    }

    /// promtool's `parsedSample.String()`.
    fn show(&self) -> String {
        if self.histogram.is_empty() {
            format!("{} {}", go_labels(&self.labels), go_big_e(self.value))
        } else {
            format!("{} {}", go_labels(&self.labels), self.histogram)
        }
    }
}

/// An `exp_samples` `histogram:` string: exactly one histogram in series notation
/// (expanding forms allowed as long as they yield one value), printed back in the
/// canonical notation the comparison uses.
fn expected_histogram(text: &str) -> Result<String, String> {
    let line = parse_series_line(0, &format!("{{}} {text}")).map_err(|e| e.to_string())?;
    match line.values.as_slice() {
        [SeriesValue::Histogram { h, .. }] => Ok(h.fmt_notation()),
        [other] => Err(format!("expected histogram, got {}", sequence_value(other))),
        vs => Err(format!("expected 1 value, got {}", vs.len())),
    }
}

/// Go's `SequenceValue.String()` for a non-histogram item.
fn sequence_value(v: &SeriesValue) -> String {
    match v {
        SeriesValue::Omitted => "_".into(),
        SeriesValue::Float(f) => go_plain_float(*f),
        SeriesValue::Stale => "NaN".into(),
        SeriesValue::Histogram { h, .. } => h.fmt_notation(),
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
fn go_plain_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

/// The store a test group runs on: a [`MemStorage`] that gives stored histograms the
/// counter-reset hint Prometheus's tsdb reads back (`gauge` kept, `unknown` for the first
/// histogram of a chunk, `not_reset` after it; a reset, a layout change or a float sample
/// starts a new chunk), so `exp_samples` hints compare as promtool's do.
#[derive(Default)]
struct TestStore {
    db: MemStorage,
    last_hist: std::collections::HashMap<Labels, Arc<FloatHistogram>>,
}

impl crate::storage::Storage for TestStore {
    fn querier(
        &self,
        mint: i64,
        maxt: i64,
    ) -> Result<Box<dyn crate::storage::Querier + '_>, crate::storage::StorageError> {
        self.db.querier(mint, maxt)
    }
}

impl super::Appendable for TestStore {
    fn append(
        &mut self,
        labels: &Labels,
        t_ms: i64,
        v: f64,
    ) -> Result<(), crate::storage::StorageError> {
        self.db.append(labels, t_ms, v)?;
        self.last_hist.remove(labels);
        Ok(())
    }

    fn append_histogram(
        &mut self,
        labels: &Labels,
        t_ms: i64,
        h: Arc<FloatHistogram>,
    ) -> Result<(), crate::storage::StorageError> {
        let mut stored = (*h).clone();
        stored.counter_reset_hint = stored_hint(self.last_hist.get(labels).map(|p| &**p), &h);
        self.db.append_histogram(labels, t_ms, Arc::new(stored))?;
        self.last_hist.insert(labels.clone(), h);
        Ok(())
    }
}

/// The hint a tsdb head reads back for `h` appended after `prev` (the previous sample of
/// the series when it was a histogram).
fn stored_hint(prev: Option<&FloatHistogram>, h: &FloatHistogram) -> CounterResetHint {
    if h.counter_reset_hint == CounterResetHint::Gauge {
        return CounterResetHint::Gauge;
    }
    match prev {
        Some(p)
            if p.counter_reset_hint != CounterResetHint::Gauge
                && p.schema == h.schema
                && p.zero_threshold == h.zero_threshold
                && p.custom_values == h.custom_values
                && !h.detect_reset(p) =>
        {
            CounterResetHint::NotCounterReset
        }
        _ => CounterResetHint::Unknown,
    }
}

fn interval_of(ms: i64) -> i64 {
    ms.max(1)
}

fn parse_special(s: &str) -> Option<f64> {
    match s.trim().to_ascii_lowercase().as_str() {
        ".inf" | "+.inf" | "inf" | "+inf" => Some(f64::INFINITY),
        "-.inf" | "-inf" => Some(f64::NEG_INFINITY),
        ".nan" | "nan" => Some(f64::NAN),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_prometheus() {
        assert_eq!(duration_string(0), "0s");
        assert_eq!(duration_string(240_000), "4m");
        assert_eq!(duration_string(5_400_000), "1h30m");
        assert_eq!(duration_string(90_500), "1m30s500ms");
        assert_eq!(go_big_e(2.0), "2E+00");
        assert_eq!(go_big_e(1.5), "1.5E+00");
        assert_eq!(go_big_e(0.001), "1E-03");
        assert!(glob_match("*.yml", "a.yml"));
        assert!(!glob_match("*.yml", "a.yaml"));
    }

    #[test]
    fn expected_histograms_are_canonicalised_and_checked() {
        assert_eq!(
            expected_histogram("{{sum:3 count:2 buckets:[0 2] offset:1}}").unwrap(),
            "{{count:2 sum:3 offset:2 buckets:[2]}}"
        );
        // The expanding form is fine as long as it yields one value.
        assert_eq!(expected_histogram("{{count:1}}x0").unwrap(), "{{count:1}}");
        assert_eq!(
            expected_histogram("1.5").unwrap_err(),
            "expected histogram, got 1.5"
        );
        assert_eq!(
            expected_histogram("_").unwrap_err(),
            "expected histogram, got _"
        );
        assert_eq!(
            expected_histogram("{{count:1}}+{{count:1}}x2").unwrap_err(),
            "expected 1 value, got 3"
        );
        assert!(expected_histogram("{{count:1").is_err());
        assert_eq!(go_plain_float(1e21), "1000000000000000000000");
        assert_eq!(go_plain_float(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn stored_hints_follow_tsdb_chunks() {
        let h = |t: &str| FloatHistogram::parse_notation(t).unwrap();
        let first = h("{{count:2 buckets:[2]}}");
        assert_eq!(stored_hint(None, &first), CounterResetHint::Unknown);
        let more = h("{{count:3 buckets:[3]}}");
        assert_eq!(
            stored_hint(Some(&first), &more),
            CounterResetHint::NotCounterReset
        );
        // A drop is a reset: a new chunk, read back as unknown.
        assert_eq!(stored_hint(Some(&more), &first), CounterResetHint::Unknown);
        let gauge = h("{{count:1 counter_reset_hint:gauge}}");
        assert_eq!(stored_hint(Some(&first), &gauge), CounterResetHint::Gauge);
        assert_eq!(stored_hint(Some(&gauge), &more), CounterResetHint::Unknown);
        let finer = h("{{schema:1 count:3 buckets:[3]}}");
        assert_eq!(stored_hint(Some(&first), &finer), CounterResetHint::Unknown);
    }
}
