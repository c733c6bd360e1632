//! Format compatibility: a WAL directory written by this version (`testdata/wal_v1`)
//! must keep replaying to exactly the same data.
//!
//! Regenerate (only when the format changes on purpose, with a new directory name) with
//! `TSDB_WRITE_GOLDEN=1 cargo test -p tsdb --test golden`.

use std::path::PathBuf;

use exposition::{Labels, MatchOp, Matcher};
use tsdb::chunk::SampleIterator;
use tsdb::storage::stale_nan;
use tsdb::{Db, DbOptions, Dir, FsDir, MemDir, Queryable, SelectHints};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/wal_v1")
}

fn write_golden(db: &mut Db) {
    let series = [
        Labels::from_pairs(&[("__name__", "up"), ("job", "node"), ("instance", "a:9100")]),
        Labels::from_pairs(&[("__name__", "up"), ("job", "node"), ("instance", "b:9100")]),
        Labels::from_pairs(&[("__name__", "temp_celsius"), ("room", "ü-1")]),
    ];
    for k in 0..10i64 {
        let mut app = db.appender();
        for (i, l) in series.iter().enumerate() {
            let v = match (k, i) {
                (9, 1) => stale_nan(),
                (_, 2) => 20.5 + k as f64 / 4.0,
                _ => 1.0,
            };
            app.append(l, 1_000_000 + k * 15_000, v).unwrap();
        }
        app.commit().unwrap();
        if k == 5 {
            db.truncate(1_000_000 + 2 * 15_000).unwrap();
        }
    }
}

fn expected() -> Vec<(String, Vec<(i64, u64)>)> {
    let mut out = vec![];
    let ts = |k: i64| 1_000_000 + k * 15_000;
    out.push((
        r#"temp_celsius{room="ü-1"}"#.to_string(),
        (2..10)
            .map(|k| (ts(k), (20.5 + k as f64 / 4.0).to_bits()))
            .collect(),
    ));
    out.push((
        r#"up{instance="a:9100", job="node"}"#.to_string(),
        (2..10).map(|k| (ts(k), 1f64.to_bits())).collect(),
    ));
    out.push((
        r#"up{instance="b:9100", job="node"}"#.to_string(),
        (2..10)
            .map(|k| (ts(k), if k == 9 { stale_nan() } else { 1.0 }.to_bits()))
            .collect(),
    ));
    out
}

fn dump(db: &Db) -> Vec<(String, Vec<(i64, u64)>)> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap();
    q.select(&[m], &SelectHints::default())
        .unwrap()
        .map(|s| {
            let mut it = s.iter();
            let mut v = vec![];
            while it.next() {
                let (t, x) = it.at();
                v.push((t, x.to_bits()));
            }
            (s.labels().to_string(), v)
        })
        .collect()
}

#[test]
fn golden_wal_v1_replays_exactly() {
    if std::env::var_os("TSDB_WRITE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(golden_dir());
        let mut db = Db::open_path(golden_dir(), DbOptions::default()).unwrap();
        write_golden(&mut db);
        drop(db);
    }
    // Replay from a copy so the checked-in files are never modified.
    let src = FsDir::open(golden_dir()).unwrap();
    let mem = MemDir::new();
    let names = src.list().unwrap();
    assert!(
        names.iter().any(|n| n.starts_with("checkpoint.")),
        "{names:?}"
    );
    for n in &names {
        mem.put(n, src.read(n).unwrap());
    }
    let db = Db::open(Box::new(mem), DbOptions::default()).unwrap();
    assert_eq!(db.replay_report().torn_tail, None);
    assert_eq!(dump(&db), expected());
    assert_eq!(db.head().min_time(), 1_000_000 + 2 * 15_000);
}
