//! Native-histogram benchmarks: appending histograms to the head, decoding them back, and
//! (printed once at start) bytes per histogram sample on a realistic series, next to what
//! the same data costs as a classic histogram (one float series per bucket plus sum and
//! count).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use exposition::histogram::{FloatHistogram, Histogram, Span};
use exposition::Labels;
use tsdb::chunk::ValueType;
use tsdb::{Head, HeadOptions, SeriesRef};

/// Scrape interval (ms).
const STEP: i64 = 15_000;

/// A latency histogram with `n` populated buckets (schema 3, one span) whose counts grow
/// slowly: about 40 observations per scrape, spread unevenly, with a little jitter.
struct Workload {
    abs: Vec<u64>,
    zero: u64,
    sum: f64,
    seed: u64,
}

impl Workload {
    fn new(n: usize) -> Workload {
        Workload {
            abs: vec![0; n],
            zero: 0,
            sum: 0.0,
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }

    fn rand(&mut self) -> u64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }

    /// The next scrape's histogram.
    fn step(&mut self) -> Histogram {
        let n = self.abs.len();
        for i in 0..n {
            // A bell shape around the middle buckets, ±1 jitter.
            let centre = (n / 2) as i64;
            let w = (6 - (i as i64 - centre).abs()).max(0) as u64;
            let jitter = self.rand() % 3;
            self.abs[i] += w + jitter;
        }
        self.zero += self.rand() % 2;
        let count: u64 = self.zero + self.abs.iter().sum::<u64>();
        self.sum += count as f64 * 0.0123 + (self.rand() % 100) as f64 * 1e-4;
        let mut prev = 0i64;
        let buckets = self
            .abs
            .iter()
            .map(|&c| {
                let d = c as i64 - prev;
                prev = c as i64;
                d
            })
            .collect();
        Histogram {
            schema: 3,
            zero_threshold: 1e-128,
            zero_count: self.zero,
            count,
            sum: self.sum,
            positive_spans: vec![Span::new(-5, n as u32)],
            positive_buckets: buckets,
            ..Histogram::default()
        }
    }
}

fn fill(head: &mut Head, n_series: usize, samples: usize, buckets: usize) -> Vec<SeriesRef> {
    let mut loads: Vec<Workload> = (0..n_series).map(|_| Workload::new(buckets)).collect();
    let mut refs = Vec::new();
    for k in 0..samples {
        let mut app = head.appender();
        for (i, w) in loads.iter_mut().enumerate() {
            let h = w.step();
            let t = k as i64 * STEP;
            if k == 0 {
                let l = Labels::from_pairs(&[("__name__", "rpc_seconds"), ("i", &i.to_string())]);
                refs.push(app.append_histogram(&l, t, &h).unwrap());
            } else {
                app.append_histogram_ref(refs[i], t, &h).unwrap();
            }
        }
        app.commit();
    }
    refs
}

/// Prints bytes per sample for a day of 15 s scrapes of one series.
fn print_sizes() {
    let day = (86_400_000 / STEP) as usize;
    for buckets in [10usize, 20, 40] {
        let mut head = Head::new(HeadOptions::default());
        fill(&mut head, 1, day, buckets);
        let st = head.stats();
        // The same scrapes as a classic histogram: buckets + sum + count float series.
        let mut classic = Head::new(HeadOptions::default());
        let mut w = Workload::new(buckets);
        let mut refs: Vec<SeriesRef> = Vec::new();
        for k in 0..day {
            let h = w.step();
            let t = k as i64 * STEP;
            let f = h.to_float();
            let mut cum = 0.0;
            let mut vals: Vec<f64> = f
                .positive_buckets
                .iter()
                .map(|c| {
                    cum += c;
                    cum
                })
                .collect();
            vals.push(f.sum);
            vals.push(f.count);
            let mut app = classic.appender();
            if k == 0 {
                for (i, &v) in vals.iter().enumerate() {
                    let l =
                        Labels::from_pairs(&[("__name__", "rpc_seconds"), ("le", &i.to_string())]);
                    refs.push(app.append(&l, t, v).unwrap());
                }
            } else {
                for (r, &v) in refs.iter().zip(&vals) {
                    app.append_ref(*r, t, v).unwrap();
                }
            }
            app.commit();
        }
        let cst = classic.stats();
        println!(
            "native histogram, {buckets} buckets, 15 s scrape, 1 day: {} samples, {} chunk bytes, \
             {:.2} bytes/histogram sample ({:.3} bytes/bucket); classic ({} float series): \
             {:.2} bytes per scrape",
            st.num_samples,
            st.chunk_bytes,
            st.chunk_bytes as f64 / st.num_samples as f64,
            st.chunk_bytes as f64 / st.num_samples as f64 / buckets as f64,
            buckets + 2,
            cst.chunk_bytes as f64 / day as f64,
        );
    }
    // Float histograms (what a recording rule over rates stores).
    let mut head = Head::new(HeadOptions::default());
    let mut w = Workload::new(10);
    let l = Labels::from_pairs(&[("__name__", "rate_rpc_seconds")]);
    let mut prev: Option<FloatHistogram> = None;
    let mut r = None;
    for k in 0..day {
        let cur = w.step().to_float();
        if let Some(p) = &prev {
            let mut rate = cur.clone();
            rate.count = (cur.count - p.count) / 15.0;
            rate.zero_count = (cur.zero_count - p.zero_count) / 15.0;
            rate.sum = (cur.sum - p.sum) / 15.0;
            for (b, pb) in rate.positive_buckets.iter_mut().zip(&p.positive_buckets) {
                *b = (*b - pb) / 15.0;
            }
            rate.counter_reset_hint = exposition::histogram::CounterResetHint::Gauge;
            let mut app = head.appender();
            match r {
                None => {
                    r = Some(
                        app.append_float_histogram(&l, k as i64 * STEP, &rate)
                            .unwrap(),
                    )
                }
                Some(r) => app
                    .append_float_histogram_ref(r, k as i64 * STEP, &rate)
                    .unwrap(),
            }
            app.commit();
        }
        prev = Some(cur);
    }
    let st = head.stats();
    println!(
        "float histogram (rate), 10 buckets, 15 s: {:.2} bytes/sample",
        st.chunk_bytes as f64 / st.num_samples as f64
    );
}

fn benches(c: &mut Criterion) {
    print_sizes();
    let mut g = c.benchmark_group("histogram");
    let (series, per_series) = (100usize, 120usize);
    g.throughput(Throughput::Elements((series * per_series) as u64));
    g.bench_function("append_ref 100 series x 120 scrapes, 10 buckets", |b| {
        b.iter(|| {
            let mut head = Head::new(HeadOptions::default());
            fill(&mut head, series, per_series, 10);
            head
        })
    });
    let mut head = Head::new(HeadOptions::default());
    let refs = fill(&mut head, series, per_series, 10);
    g.bench_function("decode 100 series x 120 samples, 10 buckets", |b| {
        let mut h = Histogram::default();
        b.iter(|| {
            let mut n = 0u64;
            for &r in &refs {
                let mut it = head.series(r).unwrap().sample_iter(i64::MIN, i64::MAX);
                while it.next() == ValueType::Histogram {
                    it.at_histogram(&mut h);
                    n += h.count;
                }
            }
            n
        })
    });
    g.bench_function("decode as float histograms", |b| {
        let mut h = FloatHistogram::default();
        b.iter(|| {
            let mut n = 0.0;
            for &r in &refs {
                let mut it = head.series(r).unwrap().sample_iter(i64::MIN, i64::MAX);
                while it.next() == ValueType::Histogram {
                    it.at_float_histogram(&mut h);
                    n += h.count;
                }
            }
            n
        })
    });
    g.finish();
}

criterion_group!(histogram, benches);
criterion_main!(histogram);
