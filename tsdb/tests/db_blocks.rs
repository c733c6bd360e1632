//! The database with blocks: the head is cut into a block once it spans more than 1.5
//! block ranges, and a Db querier over head + blocks answers like one big head.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use exposition::{Labels, MatchOp, Matcher};
use tsdb::chunk::SampleIterator;
use tsdb::{write_head_block, Db, DbOptions, Head, Queryable, SelectHints};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "tsdb-dbblocks-{tag}-{}-{}",
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

const H: i64 = 3600 * 1000;
type Dump = Vec<(String, Vec<(i64, u64)>)>;

fn labels(i: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", "m"),
        ("job", ["a", "b"][i % 2]),
        ("i", &i.to_string()),
    ])
}

/// Appends samples every 30 s in `[from, to)` for 10 series (series 9 starts late).
fn fill(db: &mut Db, reference: &mut Head, from: i64, to: i64) {
    let mut app = db.appender();
    let mut rapp = reference.appender();
    let mut t = from;
    while t < to {
        for i in 0..10 {
            if i == 9 && t < 4 * H {
                continue;
            }
            let v = (t / 1000 + i as i64) as f64;
            app.append(&labels(i), t, v).unwrap();
            rapp.append(&labels(i), t, v).unwrap();
        }
        t += 30_000;
    }
    app.commit().unwrap();
    rapp.commit();
}

fn dump_db(db: &Db, ms: &[Matcher], mint: i64, maxt: i64) -> Dump {
    let q = db.db_querier(mint, maxt);
    let mut out = vec![];
    for s in q.select(ms, &SelectHints::default()).unwrap() {
        let mut it = s.iter();
        let mut v = vec![];
        while it.next() {
            let (t, x) = it.at();
            v.push((t, x.to_bits()));
        }
        out.push((s.labels().to_string(), v));
    }
    out
}

fn dump_head(h: &Head, ms: &[Matcher], mint: i64, maxt: i64) -> Dump {
    let q = h.querier(mint, maxt).unwrap();
    let mut out = vec![];
    for s in q.select(ms, &SelectHints::default()).unwrap() {
        let mut it = s.iter();
        let mut v = vec![];
        while it.next() {
            let (t, x) = it.at();
            v.push((t, x.to_bits()));
        }
        out.push((s.labels().to_string(), v));
    }
    out
}

fn check(db: &Db, reference: &Head) {
    let cases: Vec<(Vec<Matcher>, i64, i64)> = vec![
        (vec![], 0, 10 * H),
        (
            vec![Matcher::new(MatchOp::Equal, "job", "a").unwrap()],
            H + 1,
            5 * H,
        ),
        (
            vec![Matcher::new(MatchOp::RegexMatch, "i", "9|1").unwrap()],
            2 * H - 60_000,
            2 * H + 60_000,
        ),
    ];
    for (ms, lo, hi) in cases {
        let got = dump_db(db, &ms, lo, hi);
        assert_eq!(
            got,
            dump_head(reference, &ms, lo, hi),
            "{ms:?} [{lo}, {hi}]"
        );
        assert!(!got.is_empty());
    }
    let q = db.db_querier(0, 10 * H);
    let rq = reference.querier(0, 10 * H).unwrap();
    assert_eq!(q.label_names(&[]).unwrap(), rq.label_names(&[]).unwrap());
    assert_eq!(
        q.label_values("i", &[]).unwrap(),
        rq.label_values("i", &[]).unwrap()
    );
}

#[test]
fn head_is_cut_into_blocks_and_queries_span_both() {
    let tmp = TempDir::new("cut");
    let (wal, blocks) = (tmp.0.join("wal"), tmp.0.join("blocks"));
    let mut reference = Head::default();
    let mut db = Db::open_path(&wal, DbOptions::default()).unwrap();
    db.open_blocks(&blocks).unwrap();

    fill(&mut db, &mut reference, 0, 3 * H);
    // Spans just under 3 h = 1.5 × 2 h: nothing to cut yet.
    assert!(db.compact_head(1).unwrap().is_empty());
    fill(&mut db, &mut reference, 3 * H, 7 * H);
    let cut = db.compact_head(1).unwrap();
    let ranges: Vec<_> = cut.iter().map(|m| (m.min_time, m.max_time)).collect();
    assert_eq!(ranges, vec![(0, 2 * H), (2 * H, 4 * H)]);
    assert_eq!(cut[0].stats.num_series, 9);
    assert_eq!(db.blocks().len(), 2);
    assert_eq!(db.head().min_sample_time(), Some(4 * H));
    check(&db, &reference);

    // Reopen: the WAL replays only what is past the blocks, and the blocks load.
    drop(db);
    let mut db = Db::open_path(&wal, DbOptions::default()).unwrap();
    db.open_blocks(&blocks).unwrap();
    assert_eq!(db.blocks().len(), 2);
    check(&db, &reference);
}

#[test]
fn a_block_written_before_a_crash_does_not_duplicate_samples() {
    let tmp = TempDir::new("crash");
    let (wal, blocks) = (tmp.0.join("wal"), tmp.0.join("blocks"));
    let mut reference = Head::default();
    let mut db = Db::open_path(&wal, DbOptions::default()).unwrap();
    fill(&mut db, &mut reference, 0, 5 * H);
    // The block is written, then "crash" before the head/WAL truncation.
    write_head_block(db.head(), &blocks, 0, 2 * H, 9)
        .unwrap()
        .unwrap();
    std::fs::create_dir_all(blocks.join("block-1-2.tmp")).unwrap();
    drop(db);
    let mut db = Db::open_path(&wal, DbOptions::default()).unwrap();
    db.open_blocks(&blocks).unwrap();
    assert!(!blocks.join("block-1-2.tmp").exists());
    assert_eq!(db.head().min_sample_time(), Some(2 * H));
    check(&db, &reference);
}

#[test]
fn overlapping_sources_yield_each_sample_once_and_seek_works() {
    let tmp = TempDir::new("overlap");
    let mut reference = Head::default();
    let mut db = Db::in_memory(Default::default());
    fill(&mut db, &mut reference, 0, 3 * H);
    let meta = write_head_block(db.head(), &tmp.0, 0, 2 * H, 3)
        .unwrap()
        .unwrap();
    let block = tsdb::Block::open(tmp.0.join(&meta.ulid)).unwrap();
    // The block and the head both hold [0, 2h).
    let q = tsdb::DbQuerier::new(
        vec![block.querier(0, 3 * H)],
        tsdb::Querier::new(db.head(), 0, 3 * H),
    );
    let mut n = 0;
    for s in q.select(&[], &SelectHints::default()).unwrap() {
        let mut it = s.iter();
        let mut prev = i64::MIN;
        while it.next() {
            assert!(it.at().0 > prev);
            prev = it.at().0;
            n += 1;
        }
        let mut it = s.iter();
        assert!(it.seek(2 * H + 15_000));
        assert_eq!(it.at().0, 2 * H + 30_000);
        assert!(it.seek(0), "seek never goes backwards");
        assert_eq!(it.at().0, 2 * H + 30_000);
        assert!(!it.seek(9 * H));
        assert!(!it.next());
    }
    assert_eq!(n, 9 * 3 * 120);
}
