//! Block throughput: writing a head range as a block, opening it, and selecting from it.
//!
//! `cargo bench -p tsdb --bench block -- --warm-up-time 1 --measurement-time 3`

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use exposition::{Labels, Matcher};
use tsdb::chunk::SampleIterator;
use tsdb::{write_head_block, Block, Head, SelectHints};

const SERIES: usize = 1000;
const SAMPLES: i64 = 240; // two hours at 30 s
const RANGE: i64 = 2 * 3600 * 1000;

fn head() -> Head {
    let mut head = Head::default();
    let mut app = head.appender();
    let labels: Vec<Labels> = (0..SERIES)
        .map(|i| {
            Labels::from_pairs(&[
                ("__name__", format!("metric_{}", i % 20).as_str()),
                ("instance", format!("host-{}:9100", i / 20).as_str()),
                ("job", ["node", "api", "db", "cache"][i % 4]),
            ])
        })
        .collect();
    for k in 0..SAMPLES {
        for (i, l) in labels.iter().enumerate() {
            app.append(l, k * 30_000, (k as f64) * 1.5 + i as f64)
                .unwrap();
        }
    }
    app.commit();
    head
}

fn scratch(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("tsdb-bench-block-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

fn count(block: &Block, ms: &[Matcher]) -> usize {
    let mut n = 0;
    for s in block
        .querier(0, RANGE)
        .select(ms, &SelectHints::default())
        .unwrap()
    {
        let mut it = s.iter();
        while it.next() {
            n += 1;
        }
    }
    n
}

fn block(c: &mut Criterion) {
    let head = head();
    let total = SERIES as u64 * SAMPLES as u64;
    let mut g = c.benchmark_group("block");
    g.throughput(Throughput::Elements(total));
    g.sample_size(10);
    let root = scratch("write");
    let mut now = 0;
    g.bench_function("write_1000x240", |b| {
        b.iter(|| {
            now += 1;
            let m = write_head_block(&head, &root, 0, RANGE, now)
                .unwrap()
                .unwrap();
            std::fs::remove_dir_all(root.join(m.ulid)).unwrap();
        })
    });
    let root = scratch("read");
    let meta = write_head_block(&head, &root, 0, RANGE, 1)
        .unwrap()
        .unwrap();
    let dir = root.join(&meta.ulid);
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function("open_1000_series", |b| {
        b.iter(|| Block::open(&dir).unwrap())
    });
    let blk = Block::open(&dir).unwrap();
    g.throughput(Throughput::Elements(total));
    g.bench_function("select_all_and_iterate", |b| {
        b.iter(|| assert_eq!(count(&blk, &[]), total as usize))
    });
    let ms = [Matcher::equal("job", "api")];
    g.throughput(Throughput::Elements(total / 4));
    g.bench_function("select_job_and_iterate", |b| {
        b.iter(|| assert_eq!(count(&blk, &ms), total as usize / 4))
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(scratch("write"));
}

criterion_group!(benches, block);
criterion_main!(benches);
