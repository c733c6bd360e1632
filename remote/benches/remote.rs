//! Remote-write throughput in samples per second: encoding (queue → request bodies),
//! decoding (body → WriteRequest), and receiving (body → tsdb head); for float samples
//! and for native histograms (schema 3, 12 buckets in 3 spans).
//!
//! `cargo bench -p remote -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use exposition::histogram::{Histogram, Span};
use exposition::Labels;
use remote::{decode_request, receive, QueueConfig, WriteQueue};
use tsdb::{Db, HeadOptions};

const SERIES: usize = 100;
const PER_SERIES: usize = 20;
const SAMPLES: usize = SERIES * PER_SERIES;

fn series() -> Vec<Labels> {
    (0..SERIES)
        .map(|i| {
            Labels::from_pairs(&[
                ("__name__", "http_requests_total"),
                ("instance", &format!("host-{:03}:9100", i % 20)),
                ("job", "api"),
                ("code", ["200", "404", "500", "503", "301"][i % 5]),
            ])
        })
        .collect()
}

/// One request's worth of samples, interleaved across series as a scrape loop pushes them.
fn fill(q: &mut WriteQueue, ls: &[Labels]) {
    for k in 0..PER_SERIES {
        for (i, l) in ls.iter().enumerate() {
            q.push(
                l,
                1_700_000_000_000 + k as i64 * 15_000,
                (k * i) as f64 * 1.5,
            )
            .unwrap();
        }
    }
}

fn body(ls: &[Labels]) -> Vec<u8> {
    let mut q = WriteQueue::new(QueueConfig {
        max_samples_per_send: SAMPLES,
        capacity: SAMPLES,
        ..QueueConfig::default()
    });
    fill(&mut q, ls);
    q.next_request(0).unwrap().body
}

/// A native histogram whose counts grow with `k`.
fn histogram(k: usize) -> Histogram {
    let k = k as i64 + 1;
    let positive_buckets: Vec<i64> = (0..12)
        .map(|i| if i == 0 { k } else { i % 3 - 1 })
        .collect();
    let mut acc = 0;
    let in_buckets: i64 = positive_buckets
        .iter()
        .map(|d| {
            acc += d;
            acc
        })
        .sum();
    Histogram {
        schema: 3,
        zero_threshold: 2f64.powi(-128),
        zero_count: k as u64,
        count: (in_buckets + k) as u64,
        sum: k as f64 * 0.37,
        positive_spans: vec![Span::new(-4, 4), Span::new(2, 4), Span::new(1, 4)],
        positive_buckets,
        ..Histogram::default()
    }
}

fn fill_histograms(q: &mut WriteQueue, ls: &[Labels], hs: &[Histogram]) {
    for (k, h) in hs.iter().enumerate() {
        for l in ls {
            q.push_histogram(l, 1_700_000_000_000 + k as i64 * 15_000, h)
                .unwrap();
        }
    }
}

fn bench_histograms(c: &mut Criterion) {
    let ls = series();
    let hs: Vec<Histogram> = (0..PER_SERIES).map(histogram).collect();
    let cfg = || QueueConfig {
        max_samples_per_send: SAMPLES,
        capacity: SAMPLES,
        ..QueueConfig::default()
    };
    let mut g = c.benchmark_group("remote_write_histograms");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    g.bench_function("encode_2000_histograms", |b| {
        let mut q = WriteQueue::new(cfg());
        b.iter(|| {
            fill_histograms(&mut q, &ls, &hs);
            let r = q.next_request(0).unwrap();
            q.on_response(204, None, 0);
            r.body.len()
        })
    });
    let mut q = WriteQueue::new(cfg());
    fill_histograms(&mut q, &ls, &hs);
    let b0 = q.next_request(0).unwrap().body;
    g.bench_function("decode_2000_histograms", |b| {
        b.iter(|| decode_request(&b0).unwrap().timeseries.len())
    });
    g.bench_function("receive_2000_histograms_new_series", |b| {
        b.iter_batched(
            || Db::in_memory(HeadOptions::default()),
            |mut db| {
                let rep = receive(&b0, db.appender()).unwrap();
                assert_eq!(rep.histograms_appended, SAMPLES);
                rep.histograms_appended
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let ls = series();
    let mut g = c.benchmark_group("remote_write");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    g.bench_function("encode_2000_samples", |b| {
        let mut q = WriteQueue::new(QueueConfig {
            max_samples_per_send: SAMPLES,
            capacity: SAMPLES,
            ..QueueConfig::default()
        });
        b.iter(|| {
            fill(&mut q, &ls);
            let r = q.next_request(0).unwrap();
            q.on_response(204, None, 0);
            r.body.len()
        })
    });
    let b0 = body(&ls);
    g.bench_function("decode_2000_samples", |b| {
        b.iter(|| decode_request(&b0).unwrap().timeseries.len())
    });
    g.bench_function("receive_2000_samples_new_series", |b| {
        b.iter_batched(
            || Db::in_memory(HeadOptions::default()),
            |mut db| receive(&b0, db.appender()).unwrap().samples_appended,
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench, bench_histograms);
criterion_main!(benches);
