//! Benchmarks: append throughput (by ref, by labels, with a WAL), memory per active series
//! (counting allocator), bytes per sample on node_exporter-like data, select latency over
//! 100k series. Figures that are not times are printed once at start.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use exposition::{Labels, MatchOp, Matcher};
use tsdb::{Db, DbOptions, Head, MemDir, SelectHints, SeriesRef, SyncPolicy, WalOptions};

#[path = "support/nodegen.rs"]
mod nodegen;

/// Counts live heap bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicIsize = AtomicIsize::new(0);

// SAFETY: delegates to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // SAFETY: `p` was allocated by `System` with layout `l`.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn series_labels(n: usize) -> Vec<Labels> {
    (0..n)
        .map(|i| {
            let metric = format!("metric_{}", i % 100);
            let inst = format!("host-{}", (i / 100) % 1000);
            let job = format!("job-{}", i % 10);
            let shard = format!("{}", i / 100_000);
            Labels::from_pairs(&[
                ("__name__", metric.as_str()),
                ("instance", inst.as_str()),
                ("job", job.as_str()),
                ("shard", shard.as_str()),
                ("region", "eu-west-1"),
            ])
        })
        .collect()
}

const BATCH: usize = 10_000;

fn append(c: &mut Criterion) {
    let labels = series_labels(BATCH);
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(BATCH as u64));

    let mut head = Head::default();
    let mut refs: Vec<SeriesRef> = Vec::with_capacity(BATCH);
    {
        let mut app = head.appender();
        for l in &labels {
            refs.push(app.append(l, 0, 0.0).unwrap());
        }
        app.commit();
    }
    let mut t = 0i64;
    g.bench_function("by_ref_head", |b| {
        b.iter(|| {
            t += 15_000;
            let mut app = head.appender();
            for (i, &r) in refs.iter().enumerate() {
                app.append_ref(r, t, (t + i as i64) as f64).unwrap();
            }
            app.commit();
        })
    });

    let mut head = Head::default();
    let mut t = 0i64;
    g.bench_function("by_labels_head", |b| {
        b.iter(|| {
            t += 15_000;
            let mut app = head.appender();
            for (i, l) in labels.iter().enumerate() {
                app.append(l, t, (t + i as i64) as f64).unwrap();
            }
            app.commit();
        })
    });

    // With a WAL in memory (no fsync cost): the encoding and checksum overhead.
    let opts = DbOptions {
        wal: WalOptions {
            sync: SyncPolicy::Manual,
            ..WalOptions::default()
        },
        ..DbOptions::default()
    };
    g.bench_function("by_ref_wal_mem", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let mut db = Db::open(Box::new(MemDir::new()), opts).unwrap();
                let mut refs = Vec::with_capacity(BATCH);
                let mut app = db.appender();
                for l in &labels {
                    refs.push(app.append(l, 0, 0.0).unwrap());
                }
                app.commit().unwrap();
                let start = std::time::Instant::now();
                for k in 1..=(iters - done).min(200) as i64 {
                    let t = k * 15_000;
                    let mut app = db.appender();
                    for (i, &r) in refs.iter().enumerate() {
                        app.append_ref(r, t, (t + i as i64) as f64).unwrap();
                    }
                    app.commit().unwrap();
                    done += 1;
                }
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
}

fn select(c: &mut Criterion) {
    let n = 100_000;
    let labels = series_labels(n);
    let mut head = Head::default();
    let mut app = head.appender();
    for l in &labels {
        let r = app.append(l, 0, 1.0).unwrap();
        app.append_ref(r, 15_000, 2.0).unwrap();
    }
    app.commit();
    let q = tsdb::Querier::new(&head, i64::MIN, i64::MAX);
    let m = |op, n: &str, v: &str| Matcher::new(op, n, v).unwrap();
    let cases: Vec<(&str, Vec<Matcher>)> = vec![
        ("exact", vec![m(MatchOp::Equal, "__name__", "metric_7")]),
        (
            "regex",
            vec![m(MatchOp::RegexMatch, "instance", "host-1[0-9]+")],
        ),
        (
            "negative",
            vec![
                m(MatchOp::Equal, "__name__", "metric_7"),
                m(MatchOp::NotEqual, "job", "job-3"),
                m(MatchOp::RegexNoMatch, "instance", "host-9.*"),
            ],
        ),
    ];
    let mut g = c.benchmark_group("select_100k");
    for (name, ms) in &cases {
        let count = q.select(ms, &SelectHints::default()).unwrap().len();
        eprintln!("select_100k/{name}: {count} series");
        g.bench_with_input(BenchmarkId::from_parameter(name), ms, |b, ms| {
            b.iter(|| {
                let set = q.select(ms, &SelectHints::default()).unwrap();
                set.len()
            })
        });
    }
    g.finish();
}

/// Prints memory per series and bytes per sample (not timings).
fn figures(_c: &mut Criterion) {
    // Memory per active series beyond its samples: 100k series, one sample each.
    let labels = series_labels(100_000);
    let before = LIVE.load(Ordering::Relaxed);
    let mut head = Head::default();
    let mut app = head.appender();
    for l in &labels {
        app.append(l, 0, 1.0).unwrap();
    }
    app.commit();
    let used = LIVE.load(Ordering::Relaxed) - before;
    let st = head.stats();
    let per = used as f64 / st.num_series as f64;
    let chunk_per = st.chunk_bytes as f64 / st.num_series as f64;
    eprintln!(
        "memory per active series: {per:.0} B total, {:.0} B beyond the encoded samples \
         ({} series, 5 labels each, label strings included)",
        per - chunk_per,
        st.num_series
    );
    drop(head);

    // Allocations on the hot path: append_ref into a warmed-up WAL-backed database.
    let opts = DbOptions {
        wal: WalOptions {
            sync: SyncPolicy::Manual,
            ..WalOptions::default()
        },
        ..DbOptions::default()
    };
    let mut db = Db::open(Box::new(MemDir::new()), opts).unwrap();
    let mut app = db.appender();
    let refs: Vec<SeriesRef> = labels[..BATCH]
        .iter()
        .map(|l| app.append(l, 0, 0.0).unwrap())
        .collect();
    app.commit().unwrap();
    let (mut in_append, mut in_commit, mut n) = (0, 0, 0);
    for k in 1..=50i64 {
        let a0 = ALLOCS.load(Ordering::Relaxed);
        let mut app = db.appender();
        for &r in &refs {
            app.append_ref(r, k * 15_000, k as f64).unwrap();
        }
        let a1 = ALLOCS.load(Ordering::Relaxed);
        app.commit().unwrap();
        let a2 = ALLOCS.load(Ordering::Relaxed);
        if k > 5 {
            in_append += a1 - a0;
            in_commit += a2 - a1;
            n += refs.len();
        }
    }
    eprintln!(
        "allocations: {in_append} in {n} append_ref calls; {in_commit} in 45 commits \
         (chunk cuts and WAL buffer growth)"
    );
    drop(db);

    // Bytes per sample on node_exporter-like data: 20 hosts, 15 s, 24 h.
    let mut rng = nodegen::Rng::new(42);
    let mut series: Vec<nodegen::NodeSeries> = Vec::new();
    for h in 0..20 {
        series.extend(nodegen::host_series(&format!("host-{h}:9100"), &mut rng));
    }
    let mut head = Head::default();
    let mut refs = Vec::new();
    let scrapes = 24 * 3600 / 15;
    for k in 0..scrapes {
        let t = 1_700_000_000_000 + k as i64 * 15_000;
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
    let st = head.stats();
    eprintln!(
        "node_exporter-like data: {} series x {} scrapes at 15 s: {:.3} bytes/sample \
         ({} bytes of chunks, {} samples)",
        st.num_series,
        scrapes,
        st.chunk_bytes as f64 / st.num_samples as f64,
        st.chunk_bytes,
        st.num_samples
    );
}

fn replay(c: &mut Criterion) {
    // 10k series x 120 samples committed in 120 commits, then reopened.
    let labels = series_labels(BATCH);
    let dir = MemDir::new();
    let opts = DbOptions {
        wal: WalOptions {
            sync: SyncPolicy::Manual,
            ..WalOptions::default()
        },
        ..DbOptions::default()
    };
    let mut db = Db::open(Box::new(dir.clone()), opts).unwrap();
    let mut app = db.appender();
    let refs: Vec<SeriesRef> = labels
        .iter()
        .map(|l| app.append(l, 0, 0.0).unwrap())
        .collect();
    app.commit().unwrap();
    for k in 1..120i64 {
        let mut app = db.appender();
        for (i, &r) in refs.iter().enumerate() {
            app.append_ref(r, k * 15_000, (k * 7 + i as i64) as f64)
                .unwrap();
        }
        app.commit().unwrap();
    }
    drop(db);
    eprintln!("wal/replay: {} bytes of WAL", dir.total_bytes());
    let mut g = c.benchmark_group("wal");
    g.throughput(Throughput::Elements(BATCH as u64 * 120));
    g.sample_size(10);
    g.bench_function("replay_1.2M_samples", |b| {
        b.iter(|| {
            let db = Db::open(Box::new(dir.clone()), opts).unwrap();
            db.head().num_series()
        })
    });
    g.finish();
}

fn figures_filtered(c: &mut Criterion) {
    // Computing the figures takes a few seconds; skip them when a filter excludes them.
    let args: Vec<String> = std::env::args().collect();
    let filtered = args
        .iter()
        .skip(1)
        .any(|a| !a.starts_with('-') && a.parse::<f64>().is_err());
    if !filtered || args.iter().any(|a| a == "figures") {
        figures(c);
    }
}

criterion_group!(benches, figures_filtered, append, select, replay);
criterion_main!(benches);
