//! The database lifecycle end to end: head blocks cut by `maintenance`, level and vertical
//! compaction, retention by time and size, deletions, each checked against a plain model
//! and again after reopening the directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use exposition::{Labels, MatchOp, Matcher};
use tsdb::chunk::SampleIterator;
use tsdb::{BlockWriter, Db, DbOptions, SelectHints};

const H: i64 = 3_600_000;

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "tsdb-lifecycle-{tag}-{}-{}",
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

fn labels(i: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", "m"),
        ("job", ["a", "b", "c"][i % 3]),
        ("i", &i.to_string()),
    ])
}

fn open(dir: &Path, opts: DbOptions) -> Db {
    let mut db = Db::open_path(dir.join("wal"), opts).unwrap();
    db.open_blocks(dir.join("blocks")).unwrap();
    db
}

/// Everything the database answers for `{__name__=~".+"}`, series without samples left out.
fn dump(db: &Db) -> Model {
    let q = db.db_querier(i64::MIN, i64::MAX);
    let m = Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap();
    let mut out = Model::new();
    for s in q.select(&[m], &SelectHints::default()).unwrap() {
        let mut it = s.iter();
        let mut samples = BTreeMap::new();
        let mut prev = i64::MIN;
        while it.next() {
            let (t, v) = it.at();
            assert!(t > prev, "{}: {t} after {prev}", s.labels());
            prev = t;
            samples.insert(t, v.to_bits());
        }
        if !samples.is_empty() {
            out.insert(s.labels().clone(), samples);
        }
    }
    out
}

/// Appends a sample every 60 s in `[from, to)` for `n` series, into the db and the model.
fn fill(db: &mut Db, model: &mut Model, n: usize, from: i64, to: i64) {
    let mut app = db.appender();
    let mut t = from;
    while t < to {
        for i in 0..n {
            let v = ((t / 60_000) as f64) * 0.5 + i as f64;
            app.append(&labels(i), t, v).unwrap();
            model.entry(labels(i)).or_default().insert(t, v.to_bits());
        }
        t += 60_000;
    }
    app.commit().unwrap();
}

fn assert_no_overlaps(db: &Db) {
    for w in db.blocks().windows(2) {
        assert!(
            w[0].max_time() <= w[1].min_time(),
            "blocks overlap: {:?} {:?}",
            (w[0].min_time(), w[0].max_time()),
            (w[1].min_time(), w[1].max_time())
        );
    }
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("blocks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

fn no_retention() -> DbOptions {
    DbOptions {
        retention_ms: 0,
        ..DbOptions::default()
    }
}

#[test]
fn maintenance_cuts_the_head_and_levels_blocks_up() {
    let dir = TempDir::new("levels");
    let mut db = open(&dir.0, no_retention());
    let mut model = Model::new();
    let mut levels = BTreeMap::new();
    for hour in 0..40 {
        fill(&mut db, &mut model, 6, hour * H, (hour + 1) * H);
        let rep = db.maintenance(hour * H).unwrap();
        for m in rep.compacted.iter().chain(&rep.head_blocks) {
            *levels.entry(m.compaction.level).or_insert(0) += 1;
        }
        assert_no_overlaps(&db);
        // The head never holds much more than 1.5 block ranges.
        if let Some(lo) = db.head().min_sample_time() {
            let hi = db.head().max_time();
            assert!(hi - lo <= 4 * H, "head spans {lo}..{hi}");
        }
    }
    assert!(levels.get(&1).copied().unwrap_or(0) >= 15, "{levels:?}");
    assert!(levels.get(&2).copied().unwrap_or(0) >= 3, "{levels:?}");
    assert!(levels.contains_key(&3), "{levels:?}");
    // 18 h blocks exist, built from 6 h ones, with the lineage recorded.
    let big = db
        .blocks()
        .iter()
        .find(|b| b.max_time() - b.min_time() == 18 * H)
        .expect("an 18 h block");
    assert_eq!(big.meta().compaction.parents.len(), 3);
    assert_eq!(big.meta().compaction.sources.len(), 9);
    assert_eq!(dump(&db), model);
    let blocks_before = db.blocks().len();
    drop(db);
    let db = open(&dir.0, no_retention());
    assert_eq!(db.blocks().len(), blocks_before);
    assert_eq!(dump(&db), model);
    assert!(leftovers(&dir.0).is_empty());
}

#[test]
fn retention_by_time_deletes_whole_old_blocks() {
    let dir = TempDir::new("rettime");
    let opts = DbOptions {
        retention_ms: 12 * H,
        ..DbOptions::default()
    };
    // 10% of 12 h is below 6 h, so blocks stay at 2 h and retention is precise.
    assert_eq!(opts.max_block_range(2 * H), 2 * H);
    let mut db = open(&dir.0, opts);
    let mut model = Model::new();
    let mut deleted = 0;
    for hour in 0..30 {
        fill(&mut db, &mut model, 4, hour * H, (hour + 1) * H);
        deleted += db.maintenance(hour * H).unwrap().retention_deleted.len();
    }
    assert!(deleted >= 5, "{deleted} blocks deleted");
    let newest = db.blocks().iter().map(|b| b.max_time()).max().unwrap();
    let oldest = db.blocks().iter().map(|b| b.min_time()).min().unwrap();
    assert!(newest - oldest <= 12 * H + 2 * H, "{oldest}..{newest}");
    for s in model.values_mut() {
        s.retain(|&t, _| t >= oldest);
    }
    assert_eq!(dump(&db), model);
    drop(db);
    let db = open(&dir.0, opts);
    assert_eq!(dump(&db), model);
}

#[test]
fn retention_by_size_keeps_the_newest_blocks_under_the_limit() {
    let dir = TempDir::new("retsize");
    let two_hour_blocks = DbOptions {
        retention_ms: 0,
        max_block_range_ms: 2 * H,
        ..DbOptions::default()
    };
    let mut db = open(&dir.0, two_hour_blocks);
    let mut model = Model::new();
    for hour in 0..12 {
        fill(&mut db, &mut model, 4, hour * H, (hour + 1) * H);
        db.maintenance(hour * H).unwrap();
    }
    let sizes: Vec<u64> = db.blocks().iter().map(|b| b.size_bytes()).collect();
    assert!(
        sizes.len() >= 3 && sizes.iter().all(|&s| s > 0),
        "{sizes:?}"
    );
    let limit = sizes[sizes.len() - 2..].iter().sum::<u64>();
    drop(db);
    let opts = DbOptions {
        retention_bytes: limit,
        ..two_hour_blocks
    };
    let mut db = open(&dir.0, opts);
    let rep = db.maintenance(12 * H).unwrap();
    assert_eq!(rep.retention_deleted.len(), sizes.len() - 2, "{rep:?}");
    let total: u64 = db.blocks().iter().map(|b| b.size_bytes()).sum();
    assert!(total <= limit);
    let oldest = db.blocks()[0].min_time();
    for s in model.values_mut() {
        s.retain(|&t, _| t >= oldest);
    }
    assert_eq!(dump(&db), model);
}

#[test]
fn deletions_apply_at_once_survive_reopen_and_compaction() {
    let dir = TempDir::new("delete");
    let mut db = open(&dir.0, no_retention());
    let mut model = Model::new();
    for hour in 0..7 {
        fill(&mut db, &mut model, 6, hour * H, (hour + 1) * H);
        db.maintenance(hour * H).unwrap();
    }
    assert!(db.blocks().len() >= 2);
    let head_min = db.head().min_time();
    // One range across blocks and head, one in the head only, for job "b".
    let jb = [Matcher::equal("job", "b")];
    let ranges = [
        (H + 30 * 60_000, head_min + 10 * 60_000),
        (6 * H + 60_000, 6 * H + 120_000),
    ];
    for (lo, hi) in ranges {
        let rep = db.delete(&jb, lo, hi).unwrap();
        assert!(rep.head_series > 0, "{rep:?}");
        for (l, s) in model.iter_mut() {
            if l.get("job") == Some("b") {
                s.retain(|&t, _| t < lo || t > hi);
            }
        }
    }
    assert!(db.blocks().iter().any(|b| !b.tombstones().is_empty()));
    assert_eq!(dump(&db), model);
    // Deleting again changes nothing.
    assert_eq!(
        db.delete(&jb, ranges[0].0, ranges[0].1)
            .unwrap()
            .head_series,
        0
    );
    // Reopen: head tombstones come back from the WAL, block ones from their files.
    drop(db);
    let mut db = open(&dir.0, no_retention());
    assert!(!db.head_tombstones().is_empty());
    assert_eq!(dump(&db), model);
    // Maintenance rewrites the blocks without the deleted samples.
    db.maintenance(7 * H).unwrap();
    assert!(db.blocks().iter().all(|b| b.tombstones().is_empty()));
    assert_eq!(dump(&db), model);
    // The head's deletions are applied when it is cut too.
    for hour in 7..12 {
        fill(&mut db, &mut model, 6, hour * H, (hour + 1) * H);
        db.maintenance(hour * H).unwrap();
    }
    assert!(db.head().min_time() > 6 * H + 120_000);
    assert!(db.head_tombstones().is_empty());
    assert_eq!(dump(&db), model);
    drop(db);
    let db = open(&dir.0, no_retention());
    assert_eq!(dump(&db), model);
}

#[test]
fn deleting_everything_of_a_block_drops_it_at_compaction() {
    let dir = TempDir::new("delall");
    let mut db = open(&dir.0, no_retention());
    let mut model = Model::new();
    for hour in 0..5 {
        fill(&mut db, &mut model, 3, hour * H, (hour + 1) * H);
        db.maintenance(hour * H).unwrap();
    }
    let first = db.blocks()[0].meta().clone();
    let all = [Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap()];
    db.delete(&all, first.min_time, first.max_time - 1).unwrap();
    for s in model.values_mut() {
        s.retain(|&t, _| t >= first.max_time);
    }
    let rep = db.maintenance(5 * H).unwrap();
    assert!(rep.merged_away.contains(&first.ulid), "{rep:?}");
    assert!(db.blocks().iter().all(|b| b.min_time() >= first.max_time));
    assert_eq!(dump(&db), model);
}

/// Writes a block with the given samples per series index (a backfill).
fn backfill(root: &Path, mint: i64, maxt: i64, series: &[(usize, Vec<(i64, f64)>)], now: i64) {
    struct It(Vec<(i64, f64)>, usize);
    impl SampleIterator for It {
        fn next(&mut self) -> bool {
            self.1 += 1;
            self.1 <= self.0.len()
        }
        fn seek(&mut self, t: i64) -> bool {
            self.1 = self.1.max(1);
            while self.1 <= self.0.len() && self.0[self.1 - 1].0 < t {
                self.1 += 1;
            }
            self.1 <= self.0.len()
        }
        fn at(&self) -> (i64, f64) {
            self.0[self.1 - 1]
        }
    }
    let mut sorted: Vec<(Labels, Vec<(i64, f64)>)> = series
        .iter()
        .map(|(i, s)| (labels(*i), s.clone()))
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut w = BlockWriter::create(root, mint, maxt).unwrap();
    for (l, s) in sorted {
        w.add_series(&l, &mut It(s, 0)).unwrap();
    }
    w.finish(now).unwrap().unwrap();
}

#[test]
fn overlapping_blocks_merge_at_query_time_and_at_compaction() {
    let dir = TempDir::new("overlap");
    let blocks = dir.0.join("blocks");
    let mut model = Model::new();
    let add = |i: usize, s: &[(i64, f64)], model: &mut Model| {
        for &(t, v) in s {
            model.entry(labels(i)).or_default().insert(t, v.to_bits());
        }
        (i, s.to_vec())
    };
    // Block A: even minutes of [0, 2h); block B: odd minutes of [1h, 3h) plus a duplicate
    // of A's samples at 1h..1h10m (same values); block C: disjoint, later.
    let a: Vec<(i64, f64)> = (0..60).map(|k| (k * 120_000, k as f64)).collect();
    let b: Vec<(i64, f64)> = (0..60)
        .map(|k| (H + 60_000 + k * 120_000, -(k as f64)))
        .chain((0..5).map(|k| (H + k * 120_000, (30 + k) as f64)))
        .collect();
    let mut b = b;
    b.sort_by_key(|x| x.0);
    let a0 = add(0, &a[..30], &mut model);
    let a1 = add(1, &a, &mut model);
    let b1 = add(1, &b, &mut model);
    let b2 = add(2, &b, &mut model);
    let c: Vec<(i64, f64)> = (0..10).map(|k| (10 * H + k * 60_000, 1.0)).collect();
    let c1 = add(1, &c, &mut model);
    backfill(&blocks, 0, 2 * H, &[a0, a1], 1);
    backfill(&blocks, H, 3 * H, &[b1, b2], 2);
    backfill(&blocks, 10 * H, 12 * H, &[c1], 3);
    let mut db = open(&dir.0, no_retention());
    assert_eq!(db.blocks().len(), 3);
    // Series 1 interleaves across A and B; the duplicates appear once.
    assert_eq!(dump(&db), model);
    // Seeks over the interleaved sources land where the model says, never backwards.
    let q = db.db_querier(i64::MIN, i64::MAX);
    for s in q
        .select(&[Matcher::equal("i", "1")], &SelectHints::default())
        .unwrap()
    {
        let want = &model[s.labels()];
        let mut it = s.iter();
        let mut prev = i64::MIN;
        for target in (0..12 * H).step_by(7 * 60_000 + 13) {
            let expect = want.range(target.max(prev)..).next();
            let got = it.seek(target);
            assert_eq!(got, expect.is_some(), "seek {target}");
            if let Some((&t, &v)) = expect {
                assert_eq!(it.at().0, t, "seek {target}");
                assert_eq!(it.at().1.to_bits(), v);
                prev = t;
            }
        }
    }
    let rep = db.maintenance(100).unwrap();
    assert_eq!(rep.merged_away.len(), 2, "{rep:?}");
    assert_eq!(db.blocks().len(), 2);
    assert_eq!(
        (db.blocks()[0].min_time(), db.blocks()[0].max_time()),
        (0, 3 * H)
    );
    assert_no_overlaps(&db);
    assert_eq!(dump(&db), model);
    drop(db);
    let db = open(&dir.0, no_retention());
    assert_eq!(dump(&db), model);
}

#[test]
fn in_memory_maintenance_trims_the_head_to_the_retention() {
    let mut db = Db::in_memory_with(DbOptions {
        retention_ms: 3 * H,
        ..DbOptions::default()
    });
    let mut model = Model::new();
    fill(&mut db, &mut model, 2, 0, 10 * H);
    let rep = db.maintenance(0).unwrap();
    assert!(rep.head_blocks.is_empty());
    assert!(
        db.head().min_time() >= 7 * H - 60_000,
        "{}",
        db.head().min_time()
    );
    let q = db.db_querier(0, 4 * H);
    let got: usize = q
        .select(&[Matcher::equal("__name__", "m")], &SelectHints::default())
        .unwrap()
        .count();
    assert_eq!(got, 0);
}

/// Every sample of the series `name`, histograms as their count (kind, t, value bits).
fn dump_mixed(db: &Db, name: &str) -> Vec<(char, i64, u64)> {
    use exposition::histogram::Histogram;
    use tsdb::chunk::{MixedIterator, ValueType};
    let q = db.db_querier(i64::MIN, i64::MAX);
    let mut out = Vec::new();
    for s in q
        .select(&[Matcher::equal("__name__", name)], &SelectHints::default())
        .unwrap()
    {
        let mut it = s.mixed_iter();
        loop {
            match it.next() {
                ValueType::None => break,
                ValueType::Float => {
                    let (t, v) = it.at();
                    out.push(('f', t, v.to_bits()));
                }
                _ => {
                    let mut h = Histogram::default();
                    let t = it.at_histogram(&mut h);
                    out.push(('h', t, h.count));
                }
            }
        }
    }
    out
}

#[test]
fn native_histograms_are_cut_compacted_and_reopened() {
    use exposition::histogram::Histogram;
    let dir = TempDir::new("hist");
    let mut db = open(&dir.0, no_retention());
    let mut model = Model::new();
    let l = Labels::from_pairs(&[("__name__", "h"), ("job", "a")]);
    let mut want = Vec::new();
    for hour in 0..20 {
        let mut app = db.appender();
        for k in 0..4i64 {
            let t = hour * H + k * 15 * 60_000;
            let count = (hour * 4 + k) as u64;
            let hist = Histogram {
                count,
                ..Histogram::default()
            };
            app.append_histogram(&l, t, &hist).unwrap();
            want.push(('h', t, count));
        }
        app.commit().unwrap();
        fill(&mut db, &mut model, 2, hour * H, (hour + 1) * H);
        db.maintenance(hour * H).unwrap();
    }
    // Cut into blocks and compacted beyond level 1.
    assert!(db.blocks().iter().any(|b| b.meta().compaction.level >= 2));
    assert_eq!(dump_mixed(&db, "h"), want);
    // Deleting some histograms in a block applies at once and after the rewrite.
    db.delete(&[Matcher::equal("__name__", "h")], H, 2 * H - 1)
        .unwrap();
    want.retain(|&(_, t, _)| !(H..2 * H).contains(&t));
    assert_eq!(dump_mixed(&db, "h"), want);
    db.maintenance(21 * H).unwrap();
    assert_eq!(dump_mixed(&db, "h"), want);
    assert_eq!(dump(&db), model);
    drop(db);
    let db = open(&dir.0, no_retention());
    assert_eq!(dump_mixed(&db, "h"), want);
    assert_eq!(dump(&db), model);
}
