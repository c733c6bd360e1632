//! The engine's public API: result shapes, limits, cancellation, errors, and running over
//! a storage the caller implements.

use exposition::{Labels, Matcher};
use promql::engine::{Engine, EngineError, EngineOptions, QueryContext};
use promql::storage::{
    MemStorage, Querier, SampleIterator, SelectHints, Storage, StorageError, StorageSeries,
};
use promql::value::{stale_nan, Value};
use promql::{parse, parse_with, ParseOptions};
use std::cell::Cell;

fn store() -> MemStorage {
    let mut s = MemStorage::new();
    for i in 0..10 {
        let l = Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())]);
        for k in 0..100 {
            s.append(&l, k * 10_000, (k * i) as f64).unwrap();
        }
    }
    s
}

#[test]
fn range_query_is_a_sorted_matrix() {
    let s = store();
    let e = parse("m * 2").unwrap();
    let r = Engine::default()
        .range_query(&s, &e, 0, 60_000, 10_000)
        .unwrap();
    let Value::Matrix(m) = r.value else {
        panic!("expected a matrix")
    };
    assert_eq!(m.len(), 10);
    assert!(m.windows(2).all(|w| w[0].metric < w[1].metric));
    assert_eq!(m[0].floats.len(), 7);
    assert!(m.iter().all(|s| s.metric.metric_name().is_none()));
}

#[test]
fn instant_scalar_and_string() {
    let s = store();
    let e = parse("1 + 2 * 3").unwrap();
    match Engine::default().instant_query(&s, &e, 0).unwrap().value {
        Value::Scalar(v) => assert_eq!(v.v, 7.0),
        v => panic!("unexpected {v:?}"),
    }
    let e = parse("\"hi\"").unwrap();
    assert!(matches!(
        Engine::default().instant_query(&s, &e, 0).unwrap().value,
        Value::String(ref x) if x.s == "hi"
    ));
}

#[test]
fn max_samples_limit_is_an_error() {
    let s = store();
    let e = parse("m[10m]").unwrap();
    let mut opts = EngineOptions::default();
    opts.max_samples = 50;
    let err = Engine::new(opts)
        .instant_query(&s, &e, 990_000)
        .unwrap_err();
    assert!(matches!(err, EngineError::TooManySamples(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
}

#[test]
fn cancellation_stops_the_query() {
    let s = store();
    let e = parse("sum(rate(m[1m]))").unwrap();
    let calls = Cell::new(0);
    let cancel = || {
        calls.set(calls.get() + 1);
        calls.get() > 2
    };
    let ctx = QueryContext {
        cancel: Some(&cancel),
    };
    let err = Engine::default()
        .range_query_with(&s, &e, 0, 990_000, 10_000, ctx)
        .unwrap_err();
    assert!(matches!(err, EngineError::Canceled(_)), "{err}");
}

#[test]
fn bad_step_and_range_types_are_errors() {
    let s = store();
    let e = parse("m").unwrap();
    assert!(Engine::default().range_query(&s, &e, 0, 10, 0).is_err());
    assert!(Engine::default().range_query(&s, &e, 10, 0, 1).is_err());
    let e = parse("m[1m]").unwrap();
    let err = Engine::default().range_query(&s, &e, 0, 10, 1).unwrap_err();
    assert!(err.to_string().contains("range vector"), "{err}");
}

#[test]
fn label_replace_bad_regex_is_an_error() {
    let s = store();
    let e = parse(r#"label_replace(m, "a", "b", "i", "(")"#).unwrap();
    let err = Engine::default().instant_query(&s, &e, 0).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("invalid regular expression in label_replace()"));
}

#[test]
fn staleness_marker_hides_the_series() {
    let mut s = MemStorage::new();
    let l = Labels::from_pairs(&[("__name__", "x")]);
    s.append(&l, 0, 1.0).unwrap();
    s.append(&l, 10_000, stale_nan()).unwrap();
    let e = parse("x").unwrap();
    let v = Engine::default()
        .instant_query(&s, &e, 5_000)
        .unwrap()
        .value;
    assert!(matches!(v, Value::Vector(ref v) if v.len() == 1));
    let v = Engine::default()
        .instant_query(&s, &e, 10_000)
        .unwrap()
        .value;
    assert!(matches!(v, Value::Vector(ref v) if v.is_empty()));
}

/// A caller's own store: one synthetic series computed on the fly, never materialised.
struct Synthetic;

struct SynthQuerier {
    mint: i64,
    maxt: i64,
    labels: Labels,
}

struct SynthSeries<'a> {
    q: &'a SynthQuerier,
}

struct SynthIter {
    t: i64,
    maxt: i64,
}

impl Storage for Synthetic {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, StorageError> {
        Ok(Box::new(SynthQuerier {
            mint,
            maxt,
            labels: Labels::from_pairs(&[("__name__", "ramp")]),
        }))
    }
}

impl Querier for SynthQuerier {
    fn select(
        &self,
        _hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<Box<dyn StorageSeries + '_>>, StorageError> {
        if exposition::matches_all(matchers, &self.labels) {
            Ok(vec![Box::new(SynthSeries { q: self })])
        } else {
            Ok(Vec::new())
        }
    }
    fn label_names(&self, _: &[Matcher]) -> Result<Vec<String>, StorageError> {
        Ok(vec!["__name__".into()])
    }
    fn label_values(&self, _: &str, _: &[Matcher]) -> Result<Vec<String>, StorageError> {
        Ok(vec!["ramp".into()])
    }
}

impl StorageSeries for SynthSeries<'_> {
    fn labels(&self) -> &Labels {
        &self.q.labels
    }
    fn iter(&self) -> Box<dyn SampleIterator + '_> {
        // One sample per second, value = seconds; start at the first whole second >= mint.
        let t = (self.q.mint.max(0) + 999) / 1000 * 1000;
        Box::new(SynthIter {
            t,
            maxt: self.q.maxt,
        })
    }
}

impl SampleIterator for SynthIter {
    fn next(&mut self) -> Option<(i64, f64)> {
        if self.t > self.maxt {
            return None;
        }
        let s = (self.t, self.t as f64 / 1000.0);
        self.t += 1000;
        Some(s)
    }
    fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        if t > self.t {
            self.t = (t + 999) / 1000 * 1000;
        }
        let s = (self.t, self.t as f64 / 1000.0);
        (self.t <= self.maxt).then_some(s)
    }
}

#[test]
fn runs_over_a_callers_storage() {
    let e = parse("rate(ramp[1m])").unwrap();
    let r = Engine::default()
        .instant_query(&Synthetic, &e, 3_600_000)
        .unwrap();
    match r.value {
        Value::Vector(v) => {
            assert_eq!(v.len(), 1);
            assert!((v[0].f - 1.0).abs() < 1e-9, "{}", v[0].f);
        }
        v => panic!("unexpected {v:?}"),
    }
    // Annotations come back beside the result: `ramp` does not look like a counter.
    assert_eq!(r.annotations.len(), 1);
    assert!(r.annotations[0]
        .render("rate(ramp[1m])")
        .starts_with("PromQL info: metric might not be a counter"));
}

#[test]
fn experimental_syntax_evaluates() {
    let s = store();
    let e = parse_with("m{i=\"1\"} + fill(0) m{i=\"2\"}", ParseOptions::all()).unwrap();
    let v = Engine::default()
        .instant_query(&s, &e, 990_000)
        .unwrap()
        .value;
    assert!(matches!(v, Value::Vector(ref v) if v.len() == 2));
}

#[test]
fn huge_subquery_resolution_is_refused_not_allocated() {
    let s = store();
    let e = parse("max_over_time(m[100y:1ms])").unwrap();
    let err = Engine::default().instant_query(&s, &e, 0).unwrap_err();
    assert!(matches!(err, EngineError::TooManySamples(_)), "{err}");
}

#[test]
fn extreme_offsets_and_at_do_not_overflow() {
    let s = store();
    for q in [
        "m offset 290y",
        "m offset -290y",
        "rate(m[1m] offset 290y)",
        "max_over_time(m[5m:1m] offset -290y)",
        "m @ 9000000000000",
        "count_over_time(m[290y])",
    ] {
        let e = parse(q).unwrap();
        let _ = Engine::default().instant_query(&s, &e, 0);
        let _ = Engine::default().range_query(&s, &e, -60_000, 60_000, 30_000);
    }
}
