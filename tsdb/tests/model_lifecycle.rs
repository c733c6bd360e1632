//! Property test: any sequence of appends, `maintenance(now)` calls, deletions and reopens
//! reads back exactly what a plain `BTreeMap` model holds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use exposition::{Labels, MatchOp, Matcher};
use proptest::prelude::*;
use tsdb::chunk::SampleIterator;
use tsdb::{Db, DbOptions, SelectHints};

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "tsdb-model-lifecycle-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

type Model = BTreeMap<Labels, BTreeMap<i64, u64>>;

#[derive(Debug, Clone)]
enum Op {
    /// `n` samples `step` ms apart for the series in `mask`, starting after the clock.
    Append { mask: u8, n: usize, step: i64 },
    /// Lifecycle work.
    Maintenance,
    /// Deletes `[from, from + len]` (offsets into the time written so far) of one job's
    /// series (or of every series when `job` is 2).
    Delete { job: usize, from: u8, len: u8 },
    /// Drops the database and opens the directory again.
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u8..16, 1usize..40, prop_oneof![Just(1_000i64), Just(7_000), Just(15_000)])
            .prop_map(|(mask, n, step)| Op::Append { mask, n, step }),
        3 => Just(Op::Maintenance),
        2 => (0usize..3, any::<u8>(), any::<u8>()).prop_map(|(job, from, len)| Op::Delete { job, from, len }),
        1 => Just(Op::Reopen),
    ]
}

fn labels(i: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", "m"),
        ("job", ["a", "b"][i % 2]),
        ("i", &i.to_string()),
    ])
}

fn opts() -> DbOptions {
    DbOptions {
        // Small blocks so a few dozen samples already make several levels.
        block_range_ms: 20_000,
        max_block_range_ms: 540_000,
        retention_ms: 0,
        ..DbOptions::default()
    }
}

fn open(dir: &Path) -> Db {
    let mut db = Db::open_path(dir.join("wal"), opts()).unwrap();
    db.open_blocks(dir.join("blocks")).unwrap();
    db
}

fn dump(db: &Db) -> Model {
    let q = db.db_querier(i64::MIN, i64::MAX);
    let m = Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap();
    let mut out = Model::new();
    for s in q.select(&[m], &SelectHints::default()).unwrap() {
        let mut it = s.iter();
        let mut samples = BTreeMap::new();
        while it.next() {
            let (t, v) = it.at();
            samples.insert(t, v.to_bits());
        }
        if !samples.is_empty() {
            out.insert(s.labels().clone(), samples);
        }
    }
    out
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let dir = TempDir::new();
    let mut db = open(&dir.0);
    let mut model = Model::new();
    let mut clock: i64 = 0;
    let mut now = 1_000_000;
    for op in ops {
        match op {
            Op::Append { mask, n, step } => {
                let mut app = db.appender();
                for k in 0..*n as i64 {
                    let t = clock + (k + 1) * step;
                    for i in (0..4).filter(|i| mask & (1 << i) != 0) {
                        let v = ((t * 31 + i as i64) % 1000) as f64 / 8.0;
                        app.append(&labels(i), t, v).unwrap();
                        model.entry(labels(i)).or_default().insert(t, v.to_bits());
                    }
                }
                app.commit().unwrap();
                clock += *n as i64 * step;
            }
            Op::Maintenance => {
                now += 1;
                db.maintenance(now).unwrap();
                for w in db.blocks().windows(2) {
                    prop_assert!(w[0].max_time() <= w[1].min_time(), "overlapping blocks");
                }
            }
            Op::Delete { job, from, len } => {
                let mint = clock * i64::from(*from) / 255;
                let maxt = (mint + clock * i64::from(*len) / 510).min(clock);
                let ms = if *job == 2 {
                    vec![Matcher::equal("__name__", "m")]
                } else {
                    vec![Matcher::equal("job", ["a", "b"][*job])]
                };
                db.delete(&ms, mint, maxt).unwrap();
                for (l, s) in model.iter_mut() {
                    if *job == 2 || l.get("job") == Some(["a", "b"][*job]) {
                        s.retain(|&t, _| t < mint || t > maxt);
                    }
                }
                model.retain(|_, s| !s.is_empty());
            }
            Op::Reopen => {
                drop(db);
                db = open(&dir.0);
            }
        }
        prop_assert_eq!(&dump(&db), &model, "after {:?}", op);
    }
    drop(db);
    let db = open(&dir.0);
    prop_assert_eq!(&dump(&db), &model, "after the final reopen");
    Ok(())
}

proptest! {
    // Each case fsyncs dozens of block writes; 12 cases take ~20 s. Raise with
    // TSDB_MODEL_CASES for a longer sweep.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("TSDB_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12),
        ..ProptestConfig::default()
    })]

    #[test]
    fn lifecycle_reads_back_like_the_model(ops in proptest::collection::vec(op(), 1..24)) {
        run(&ops)?;
    }
}
