//! Protobuf exposition throughput: decoding (messages only, and flattened into a
//! [`Scrape`](exposition::protobuf::Scrape)) and encoding.
//!
//! Inputs: the node_exporter scrape from `$PEER_TESTS/scrapes/node_exporter.prom` (or
//! `../../shared/peer-tests/...`) converted to delimited protobuf, and a generated body of
//! 1,000 native histograms with 40 populated buckets each.
//!
//! Run: `cargo bench -p exposition --bench protobuf -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use exposition::protobuf::{self, proto, DecodeOptions, Scrape};

fn node_exporter_body() -> Option<Vec<u8>> {
    let mut candidates = Vec::new();
    if let Some(base) = std::env::var_os("PEER_TESTS") {
        candidates.push(PathBuf::from(base).join("scrapes/node_exporter.prom"));
    }
    candidates.push(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/peer-tests/scrapes/node_exporter.prom"),
    );
    let text = candidates
        .into_iter()
        .find_map(|c| std::fs::read_to_string(c).ok())?;
    let families = exposition::text::parse_families(text.as_bytes()).ok()?;
    let scrape = Scrape {
        families,
        histograms: Vec::new(),
    };
    let mut body = Vec::new();
    protobuf::encode_delimited(&protobuf::to_messages(&scrape), &mut body);
    Some(body)
}

fn native_body() -> Vec<u8> {
    let metric = (0..1000)
        .map(|i| proto::Metric {
            label: vec![proto::LabelPair {
                name: "instance".into(),
                value: format!("host-{i}"),
            }],
            histogram: Some(proto::Histogram {
                sample_count: 4000,
                sample_sum: 1234.5,
                schema: 3,
                zero_threshold: 1e-128,
                zero_count: 2,
                positive_span: vec![
                    proto::BucketSpan {
                        offset: -10,
                        length: 20,
                    },
                    proto::BucketSpan {
                        offset: 3,
                        length: 20,
                    },
                ],
                positive_delta: (0..40).map(|k| if k % 2 == 0 { 3 } else { -1 }).collect(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let fam = proto::MetricFamily {
        name: "request_duration_seconds".into(),
        help: "Request latency.".into(),
        r#type: proto::MetricType::Histogram as i32,
        metric,
        unit: String::new(),
    };
    let mut body = Vec::new();
    protobuf::encode_delimited(&[fam], &mut body);
    body
}

fn bench(c: &mut Criterion) {
    let mut inputs = vec![("native_histograms", native_body())];
    if let Some(b) = node_exporter_body() {
        inputs.insert(0, ("node_exporter", b));
    }
    let opts = DecodeOptions::default();
    for (name, body) in &inputs {
        let scrape = protobuf::decode(body, &opts).expect("bench input decodes");
        let samples = scrape.sample_count() as u64;
        let messages = protobuf::decode_messages(body).unwrap();

        let mut g = c.benchmark_group(format!("protobuf/{name}_bytes"));
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function("decode_messages", |b| {
            b.iter(|| protobuf::decode_messages(black_box(body)).unwrap())
        });
        g.bench_function("decode", |b| {
            b.iter(|| protobuf::decode(black_box(body), &opts).unwrap())
        });
        g.bench_function("encode_delimited", |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(body.len());
                protobuf::encode_delimited(black_box(&messages), &mut out);
                out
            })
        });
        g.finish();

        let mut g = c.benchmark_group(format!("protobuf/{name}_samples"));
        g.throughput(Throughput::Elements(samples));
        g.bench_function("decode", |b| {
            b.iter(|| protobuf::decode(black_box(body), &opts).unwrap())
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
