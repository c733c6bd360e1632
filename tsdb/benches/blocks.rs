//! The block lifecycle's size and speed figures:
//!
//! - bytes per sample on disk (chunk segments + index) of a 2 h block of node_exporter-like
//!   data (printed once, before the timings);
//! - `Block::open` for a small and a large block (open reads the meta, the index header
//!   and TOC; it should stay close to constant in the block's size);
//! - a select over a 30-day span of compacted blocks (plus the head), iterating every
//!   sample.
//!
//! `cargo bench -p tsdb --bench blocks -- --warm-up-time 1 --measurement-time 3`

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use exposition::Matcher;
use tsdb::chunk::SampleIterator;
use tsdb::{write_head_block, Block, Db, DbOptions, Head, SelectHints};

#[path = "support/nodegen.rs"]
mod nodegen;

const H: i64 = 3_600_000;
const T0: i64 = 1_700_000_000_000 / (2 * H) * (2 * H);

fn scratch(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("tsdb-bench-blocks-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

/// A head with `hosts` node_exporter-like hosts scraped every 15 s for `hours`.
fn node_head(hosts: usize, hours: i64) -> Head {
    let mut rng = nodegen::Rng::new(42);
    let mut series: Vec<nodegen::NodeSeries> = Vec::new();
    for h in 0..hosts {
        series.extend(nodegen::host_series(&format!("host-{h}:9100"), &mut rng));
    }
    let mut head = Head::new(tsdb::HeadOptions {
        chunk_range_ms: hours * H,
        ..tsdb::HeadOptions::default()
    });
    let mut refs = Vec::new();
    for k in 0..(hours * H / 15_000) {
        let t = T0 + k * 15_000;
        let mut app = head.appender();
        for (i, s) in series.iter_mut().enumerate() {
            let v = s.step(&mut rng, t);
            if k == 0 {
                refs.push(app.append(&s.labels, t, v).unwrap());
            } else {
                app.append_ref(refs[i], t, v).unwrap();
            }
        }
        app.commit();
    }
    head
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| rd.map(|e| file_size(&e.unwrap().path())).sum())
        .unwrap_or(0)
}

/// Writes a block of `hosts` hosts over `hours`; returns its directory and prints its size
/// figures.
fn node_block(root: &Path, hosts: usize, hours: i64) -> PathBuf {
    let head = node_head(hosts, hours);
    let meta = write_head_block(&head, root, T0, T0 + hours * H, 1)
        .unwrap()
        .unwrap();
    let dir = root.join(&meta.ulid);
    let chunks = dir_size(&dir.join("chunks"));
    let index = file_size(&dir.join("index"));
    let n = meta.stats.num_samples as f64;
    eprintln!(
        "block of {hosts} node_exporter-like hosts, {hours} h at 15 s: {} series, {} samples, \
         chunks {chunks} B ({:.3} B/sample) + index {index} B = {:.3} bytes/sample",
        meta.stats.num_series,
        meta.stats.num_samples,
        chunks as f64 / n,
        (chunks + index) as f64 / n
    );
    dir
}

fn size_and_open(c: &mut Criterion) {
    let root = scratch("open");
    let small = node_block(&root, 1, 2);
    let large = node_block(&root, 50, 2);
    // A compacted day: the same hosts' series over 24 h in one block.
    let day = node_block(&root, 5, 24);
    std::fs::remove_dir_all(day).unwrap();
    let mut g = c.benchmark_group("block_open");
    // What a Db does: meta, index header and TOC; the index is decoded on first use.
    g.bench_function("lazy_small_1_host", |b| {
        b.iter(|| Block::open_lazy(&small).unwrap())
    });
    g.bench_function("lazy_large_50_hosts", |b| {
        b.iter(|| Block::open_lazy(&large).unwrap())
    });
    // Verifying and decoding the whole index at open.
    g.bench_function("eager_small_1_host", |b| {
        b.iter(|| Block::open(&small).unwrap())
    });
    g.bench_function("eager_large_50_hosts", |b| {
        b.iter(|| Block::open(&large).unwrap())
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&root);
}

/// 30 days of 40 series at 60 s, cut and compacted by `maintenance` as they arrive.
fn month_db(root: &Path) -> (Db, u64) {
    let opts = DbOptions {
        retention_ms: 0,
        wal: tsdb::WalOptions {
            sync: tsdb::SyncPolicy::Manual,
            ..tsdb::WalOptions::default()
        },
        ..DbOptions::default()
    };
    let mut db = Db::open_path(root.join("wal"), opts).unwrap();
    db.open_blocks(root.join("blocks")).unwrap();
    let mut rng = nodegen::Rng::new(7);
    let mut series: Vec<nodegen::NodeSeries> = nodegen::host_series("host-0:9100", &mut rng);
    series.truncate(40);
    let mut refs = Vec::new();
    let mut total = 0u64;
    let days = 30;
    for k in 0..(days * 24 * 60) {
        let t = T0 + k * 60_000;
        let mut app = db.appender();
        for (i, s) in series.iter_mut().enumerate() {
            let v = s.step(&mut rng, t);
            if k == 0 {
                refs.push(app.append(&s.labels, t, v).unwrap());
            } else {
                app.append_ref(refs[i], t, v).unwrap();
            }
            total += 1;
        }
        app.commit().unwrap();
        if k % 60 == 59 {
            db.maintenance(t).unwrap();
        }
    }
    (db, total)
}

fn select_month(c: &mut Criterion) {
    let root = scratch("month");
    let (db, total) = month_db(&root);
    let spans: Vec<i64> = db
        .blocks()
        .iter()
        .map(|b| (b.max_time() - b.min_time()) / H)
        .collect();
    eprintln!(
        "30 days, 40 series at 60 s: {total} samples in {} blocks (hours: {spans:?}) + head",
        db.blocks().len()
    );
    let name = db
        .head()
        .querier_labels_example()
        .unwrap_or_else(|| "node_load1".to_string());
    let mut g = c.benchmark_group("select_30d");
    g.sample_size(10);
    g.throughput(Throughput::Elements(total));
    let all = [Matcher::equal("job", "node")];
    g.bench_function("all_series_iterate", |b| {
        b.iter(|| {
            let q = db.db_querier(T0, T0 + 31 * 24 * H);
            let mut n = 0u64;
            for s in q.select(&all, &SelectHints::default()).unwrap() {
                let mut it = s.iter();
                while it.next() {
                    n += 1;
                }
            }
            assert_eq!(n, total);
        })
    });
    let one = [Matcher::equal("__name__", &name)];
    g.throughput(Throughput::Elements(30 * 24 * 60));
    g.bench_function("one_series_iterate", |b| {
        b.iter(|| {
            let q = db.db_querier(T0, T0 + 31 * 24 * H);
            let mut n = 0u64;
            for s in q.select(&one, &SelectHints::default()).unwrap() {
                let mut it = s.iter();
                while it.next() {
                    n += 1;
                }
            }
            assert!(n >= 30 * 24 * 60);
        })
    });
    g.finish();
    drop(db);
    let _ = std::fs::remove_dir_all(&root);
}

/// The name of one single-series metric, for the one-series select.
trait Example {
    fn querier_labels_example(&self) -> Option<String>;
}

impl Example for Head {
    fn querier_labels_example(&self) -> Option<String> {
        let q = tsdb::Queryable::querier(self, i64::MIN, i64::MAX).ok()?;
        let names = q.label_values("__name__", &[]).ok()?;
        names
            .into_iter()
            .find(|n| q.series_count(&[Matcher::equal("__name__", n)]) == 1)
    }
}

criterion_group!(benches, size_and_open, select_month);
criterion_main!(benches);
