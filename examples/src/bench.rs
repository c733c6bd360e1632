//! The `bench-queries` workload: Prometheus's `BenchmarkRangeQuery` data set and a fixed
//! list of range queries, timed over a [`tsdb::Db`] through the PromQL engine.
//!
//! Data: metrics `a_X` and `b_X` (X = `one`, `ten`, `hundred` series, fanned out by the
//! label `l`) and classic histograms `h_X` (11 `le` buckets per series), one sample every
//! 10 s. Values are deterministic (`k + i/total`, as upstream), so every run sees the same
//! data.

use exposition::Labels;
use tsdb::{Db, HeadOptions};

/// Sample spacing in ms.
pub const INTERVAL_MS: i64 = 10_000;
/// Intervals at scale 1 (upstream uses 10 000).
pub const BASE_INTERVALS: i64 = 10_000;

/// The query templates; `X` becomes `one`, `ten` and `hundred`.
pub const QUERIES: &[&str] = &[
    "a_X",
    "rate(a_X[1m])",
    "rate(a_X[1m]) + rate(b_X[1m])",
    "sum(a_X)",
    "sum by (l)(h_X)",
    "sum without (l)(h_X)",
    "topk(1, a_X)",
    "a_X + b_X",
    "a_X - on(l) b_X",
    "a_X > 100",
    "label_replace(a_X, \"l2\", \"$1\", \"l\", \"(.*)\")",
    "histogram_quantile(0.9, rate(h_X[5m]))",
    "max_over_time(rate(a_X[1m])[10m:1m])",
    "count_values(\"value\", h_X)",
];

/// The label sets of the data set, in generation order.
pub fn series() -> Vec<Labels> {
    let mut out = Vec::new();
    for (name, n) in [("one", 1), ("ten", 10), ("hundred", 100)] {
        for i in 0..n {
            let l = i.to_string();
            let with_l = |m: &str| {
                if n == 1 {
                    Labels::from_pairs(&[("__name__", m)])
                } else {
                    Labels::from_pairs(&[("__name__", m), ("l", l.as_str())])
                }
            };
            out.push(with_l(&format!("a_{name}")));
            out.push(with_l(&format!("b_{name}")));
            for le in (0..10)
                .map(|j| j.to_string())
                .chain(std::iter::once("+Inf".to_string()))
            {
                let mut b = with_l(&format!("h_{name}")).builder();
                b.set("le", &le);
                out.push(b.build());
            }
        }
    }
    out
}

/// Builds the data set in an in-memory database: `intervals` samples per series,
/// appended in time order in batches (as a scraper would). Returns the db and the number
/// of samples.
pub fn build(intervals: i64) -> Db {
    let metrics = series();
    let total = metrics.len() as f64;
    let mut db = Db::in_memory(HeadOptions::default());
    let mut refs = vec![None; metrics.len()];
    for k in 0..intervals {
        let mut app = db.appender();
        for (i, m) in metrics.iter().enumerate() {
            let v = k as f64 + i as f64 / total;
            let t = k * INTERVAL_MS;
            match refs[i] {
                Some(r) => app.append_ref(r, t, v).expect("in-order data"),
                None => refs[i] = Some(app.append(m, t, v).expect("valid series")),
            }
        }
        app.commit().expect("in-memory commit");
    }
    db
}

#[cfg(test)]
mod tests {
    use super::*;
    use promql::engine::Engine;
    use promql::value::Value;

    #[test]
    fn data_set_shape_and_queries_run() {
        assert_eq!(series().len(), 111 * 13);
        let db = build(100);
        let e = Engine::default();
        for q in QUERIES {
            for x in ["one", "ten", "hundred"] {
                let text = q.replace('X', x);
                let expr = promql::parse(&text).unwrap();
                let end = 99 * INTERVAL_MS;
                let r = e.range_query(&db, &expr, end - 9 * INTERVAL_MS, end, INTERVAL_MS);
                let r = r.unwrap_or_else(|err| panic!("{text}: {err}"));
                let Value::Matrix(m) = r.value else { panic!() };
                if !text.contains("> 100") {
                    assert!(!m.is_empty(), "{text}");
                }
            }
        }
    }
}
