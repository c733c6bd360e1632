//! Prometheus block format throughput: exporting series as a Prometheus block, and
//! opening one and reading every sample back.
//!
//! `cargo bench -p tsdb --bench promblock -- --warm-up-time 1 --measurement-time 3`

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use exposition::Labels;
use tsdb::chunk::SampleIterator;
use tsdb::promblock::{PromBlock, PromBlockWriter, VecSamples};

const SERIES: usize = 1000;
const SAMPLES: i64 = 240; // two hours at 30 s
const RANGE: i64 = 2 * 3600 * 1000;

fn data() -> Vec<(Labels, Vec<(i64, f64)>)> {
    (0..SERIES)
        .map(|i| {
            let l = Labels::from_pairs(&[
                ("__name__", format!("metric_{}", i % 20).as_str()),
                ("instance", format!("host-{}:9100", i / 20).as_str()),
                ("job", ["node", "api", "db", "cache"][i % 4]),
            ]);
            let s = (0..SAMPLES)
                .map(|k| (k * 30_000, (k as f64) * 1.5 + i as f64))
                .collect();
            (l, s)
        })
        .collect()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("promblock-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn export(root: &PathBuf, data: &[(Labels, Vec<(i64, f64)>)]) -> String {
    let mut w = PromBlockWriter::create(root, 0, RANGE).unwrap();
    for (l, s) in data {
        w.add_series(l, &mut VecSamples::new(s.clone())).unwrap();
    }
    w.finish(1).unwrap().unwrap().ulid
}

fn bench(c: &mut Criterion) {
    let data = data();
    let mut g = c.benchmark_group("promblock");
    g.throughput(Throughput::Elements(SERIES as u64 * SAMPLES as u64));
    g.sample_size(10);
    let root = tmp("export");
    g.bench_function("export_240k_samples", |b| {
        b.iter(|| {
            let id = export(&root, &data);
            std::fs::remove_dir_all(root.join(id)).unwrap();
        })
    });
    let ulid = export(&root, &data);
    let dir = root.join(ulid);
    g.bench_function("open_and_read_240k_samples", |b| {
        b.iter(|| {
            let block = PromBlock::open(&dir).unwrap();
            let mut n = 0u64;
            for s in block.all_series() {
                let mut it = s.iter().unwrap();
                while it.next() {
                    n += 1;
                }
            }
            assert_eq!(n, SERIES as u64 * SAMPLES as u64);
        })
    });
    g.finish();
    std::fs::remove_dir_all(&root).unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
