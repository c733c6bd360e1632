//! Crash safety of the block lifecycle: a `maintenance` call that cuts head blocks, merges
//! blocks and applies tombstones is stopped after every one of its steps (temp dir written,
//! temp dir fsynced, renamed, each parent deleted, WAL truncated), the database is dropped
//! as if the process died, and reopening the directory must give exactly the same data;
//! finishing the maintenance afterwards must too, leaving no temp directories behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use exposition::{Labels, MatchOp, Matcher};
use tsdb::chunk::SampleIterator;
use tsdb::{Db, DbOptions, Error, SelectHints, Step, WriteStep};

const H: i64 = 3_600_000;

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "tsdb-compaction-{tag}-{}-{}",
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

fn opts() -> DbOptions {
    DbOptions {
        retention_ms: 0,
        ..DbOptions::default()
    }
}

fn open(dir: &Path) -> Db {
    let mut db = Db::open_path(dir.join("wal"), opts()).unwrap();
    db.open_blocks(dir.join("blocks")).unwrap();
    db
}

fn labels(i: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", "m"),
        ("job", ["a", "b"][i % 2]),
        ("i", &i.to_string()),
    ])
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

fn fill(db: &mut Db, from: i64, to: i64) {
    let mut app = db.appender();
    let mut t = from;
    while t < to {
        for i in 0..5 {
            app.append(&labels(i), t, (t / 1000 + i as i64) as f64)
                .unwrap();
        }
        t += 120_000;
    }
    app.commit().unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

fn temp_dirs(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("blocks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// A directory whose next maintenance cuts several head blocks, merges 2 h blocks into a
/// 6 h block, and rewrites blocks with tombstones.
fn template(dir: &Path) -> Model {
    let mut db = open(dir);
    for hour in 0..5 {
        fill(&mut db, hour * H, (hour + 1) * H);
        db.maintenance(hour * H).unwrap();
    }
    fill(&mut db, 5 * H, 13 * H);
    // Deletions in a block and in the head.
    let b = [Matcher::equal("job", "b")];
    db.delete(&b, H, H + 30 * 60_000).unwrap();
    db.delete(&b, 6 * H, 7 * H).unwrap();
    let want = dump(&db);
    assert!(!db.blocks().is_empty());
    want
}

fn stopping_hook(calls: Arc<Mutex<Vec<Step>>>, stop_at: Option<usize>) -> tsdb::db::BoxedStepHook {
    Box::new(move |s| {
        let mut c = calls.lock().unwrap();
        c.push(s);
        if Some(c.len() - 1) == stop_at {
            return Err(Error::io(
                "stop",
                std::io::Error::other(format!("injected stop after {s:?}")),
            ));
        }
        Ok(())
    })
}

#[test]
fn a_stop_after_any_step_reopens_to_the_same_data() {
    let tpl = TempDir::new("tpl");
    let want = template(&tpl.0);

    // A full run, to learn the steps.
    let full = TempDir::new("full");
    copy_dir(&tpl.0, &full.0);
    let mut db = open(&full.0);
    assert_eq!(dump(&db), want);
    let calls = Arc::new(Mutex::new(Vec::new()));
    db.set_step_hook(Some(stopping_hook(calls.clone(), None)));
    let rep = db.maintenance(20 * H).unwrap();
    assert!(rep.head_blocks.len() >= 3, "{rep:?}");
    assert!(!rep.compacted.is_empty(), "{rep:?}");
    assert_eq!(dump(&db), want);
    let steps = calls.lock().unwrap().clone();
    assert!(steps.len() >= 15, "{} steps: {steps:?}", steps.len());
    assert!(db.blocks().iter().all(|b| b.tombstones().is_empty()));
    for s in [
        Step::Write(WriteStep::TempWritten),
        Step::Write(WriteStep::TempSynced),
        Step::Write(WriteStep::Renamed),
        Step::ParentDeleted,
        Step::ParentsDeleted,
        Step::WalTruncated,
    ] {
        assert!(steps.contains(&s), "{s:?} never happened: {steps:?}");
    }
    let final_blocks: Vec<(i64, i64)> = db
        .blocks()
        .iter()
        .map(|b| (b.min_time(), b.max_time()))
        .collect();
    drop(db);

    for (n, step) in steps.iter().enumerate() {
        let d = TempDir::new("stop");
        copy_dir(&tpl.0, &d.0);
        let mut db = open(&d.0);
        let calls = Arc::new(Mutex::new(Vec::new()));
        db.set_step_hook(Some(stopping_hook(calls, Some(n))));
        let err = db.maintenance(20 * H).unwrap_err();
        assert!(err.to_string().contains("injected stop"), "{err}");
        drop(db);
        if *step == Step::Write(WriteStep::TempWritten) {
            assert!(!temp_dirs(&d.0).is_empty(), "step {n}: no temp dir left");
        }
        // Reopen as after a crash.
        let mut db = open(&d.0);
        assert!(
            temp_dirs(&d.0).is_empty(),
            "step {n}: temp dirs not cleaned"
        );
        assert_eq!(dump(&db), want, "after a stop at step {n} ({step:?})");
        // Finishing the work gives the same data and the same blocks.
        db.maintenance(20 * H).unwrap();
        assert_eq!(dump(&db), want, "after finishing from step {n} ({step:?})");
        let blocks: Vec<(i64, i64)> = db
            .blocks()
            .iter()
            .map(|b| (b.min_time(), b.max_time()))
            .collect();
        assert_eq!(blocks, final_blocks, "step {n} ({step:?})");
        drop(db);
        let db = open(&d.0);
        assert_eq!(dump(&db), want);
    }
}

#[test]
fn a_stop_during_retention_leaves_whole_blocks() {
    let tpl = TempDir::new("ret");
    template(&tpl.0);
    let mut db = open(&tpl.0);
    db.maintenance(20 * H).unwrap();
    let before = dump(&db);
    let n_blocks = db.blocks().len();
    drop(db);
    let short = DbOptions {
        retention_ms: 4 * H,
        ..opts()
    };
    let mut db = Db::open_path(tpl.0.join("wal"), short).unwrap();
    db.open_blocks(tpl.0.join("blocks")).unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    db.set_step_hook(Some(stopping_hook(calls, Some(0))));
    assert!(db.maintenance(20 * H).is_err());
    drop(db);
    let db = open(&tpl.0);
    // Exactly one block went, whole: every series lost only samples before its end.
    assert_eq!(db.blocks().len(), n_blocks - 1);
    let cut = db.blocks()[0].min_time();
    let mut want = before;
    for s in want.values_mut() {
        s.retain(|&t, _| t >= cut);
    }
    want.retain(|_, s| !s.is_empty());
    assert_eq!(dump(&db), want);
}
