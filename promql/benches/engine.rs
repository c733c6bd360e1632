//! Range-query benchmark modelled on Prometheus's own `BenchmarkRangeQuery`: metrics
//! `a_X`, `b_X` (X = one, ten, hundred series, label `l`) and classic histograms `h_X`
//! (11 `le` buckets per series), one sample every 10 s for 10 000 intervals, queried over
//! 1, 100 and 1000 steps of 10 s at the end of the data.
//!
//! Run: `cargo bench -p promql --bench engine -- --warm-up-time 1 --measurement-time 3`
//! (add a filter such as `a_one` to run a subset).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use exposition::Labels;
use promql::engine::Engine;
use promql::storage::MemStorage;

const INTERVAL: i64 = 10_000;
const NUM_INTERVALS: i64 = 10_000;

fn setup() -> MemStorage {
    let mut metrics: Vec<Labels> = Vec::new();
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
            metrics.push(with_l(&format!("a_{name}")));
            metrics.push(with_l(&format!("b_{name}")));
            for le in (0..10)
                .map(|j| j.to_string())
                .chain(std::iter::once("+Inf".to_string()))
            {
                let mut b = with_l(&format!("h_{name}")).builder();
                b.set("le", &le);
                metrics.push(b.build());
            }
        }
    }
    let total = metrics.len() as f64;
    let mut s = MemStorage::new();
    for (i, m) in metrics.iter().enumerate() {
        let samples = (0..NUM_INTERVALS).map(|k| (k * INTERVAL, k as f64 + i as f64 / total));
        s.append_series(m, samples).expect("in-order data");
    }
    s
}

const EXPRS: [&str; 10] = [
    "a_X",
    "rate(a_X[1m])",
    "sum(a_X)",
    "sum by (l)(h_X)",
    "topk(1, a_X)",
    "a_X + b_X",
    "label_replace(a_X, \"l2\", \"$1\", \"l\", \"(.*)\")",
    "histogram_quantile(0.9, rate(h_X[5m]))",
    "max_over_time(rate(a_X[1m])[10m:1m])",
    "count_values(\"value\", h_X)",
];

fn bench(c: &mut Criterion) {
    let storage = setup();
    let engine = Engine::default();
    let mut g = c.benchmark_group("range_query");
    g.sample_size(10);
    for expr in EXPRS {
        for x in ["one", "ten", "hundred"] {
            let q = expr.replace('X', x);
            let parsed = promql::parse_with(&q, promql::ParseOptions::all())
                .expect("benchmark query parses");
            for steps in [1i64, 100, 1000] {
                let end = NUM_INTERVALS * INTERVAL;
                let start = end - (steps - 1) * INTERVAL;
                g.bench_with_input(
                    BenchmarkId::new(q.clone(), format!("{steps} steps")),
                    &steps,
                    |b, _| {
                        b.iter(|| {
                            engine
                                .range_query(&storage, &parsed, start, end, INTERVAL)
                                .expect("benchmark query runs")
                        })
                    },
                );
            }
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
