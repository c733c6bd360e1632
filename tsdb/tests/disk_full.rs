//! A real disk-full test: the database's WAL on a 2 MiB tmpfs.
//!
//! Needs root (to mount). It fills the file system with commits until one fails, checks
//! that the failure says the disk is full, that every acknowledged commit is still readable
//! and survives a reopen on the full disk, then frees space (a filler file written
//! beforehand) and shows commits go through again. The mount is undone by a guard, also
//! when an assertion fails. Where the tmpfs cannot be mounted the test prints
//! `disk_full: skipped (cannot mount tmpfs: reason)` and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use exposition::{Labels, Matcher};
use tsdb::chunk::SampleIterator;
use tsdb::{Db, DbOptions, Error, Queryable, SelectHints, SyncPolicy};

/// Unmounts and removes the mount point when dropped.
struct MountGuard {
    dir: PathBuf,
}

impl MountGuard {
    fn mount(dir: PathBuf) -> Result<MountGuard, String> {
        std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
            .arg(&dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(MountGuard { dir }),
            Ok(o) => {
                let _ = std::fs::remove_dir(&dir);
                Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
            }
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(format!("running mount: {e}"))
            }
        }
    }
}

impl Drop for MountGuard {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            let _ = std::fs::remove_dir(&self.dir);
        } else {
            eprintln!("disk_full: could not unmount {}", self.dir.display());
        }
    }
}

const SERIES: usize = 50;

fn labels(s: usize) -> Labels {
    Labels::from_pairs(&[("__name__", "fill"), ("s", &s.to_string())])
}

fn opts() -> DbOptions {
    let mut o = DbOptions::default();
    o.wal.sync = SyncPolicy::EveryCommit;
    // Several segments, so running out of space can also hit a segment cut.
    o.wal.segment_size = 128 << 10;
    o
}

/// Commit `k`: one sample per series at `t = (k + 1) * 1000`, value `k`.
fn commit(db: &mut Db, k: usize) -> tsdb::Result<()> {
    let mut app = db.appender();
    let t = (k as i64 + 1) * 1000;
    for s in 0..SERIES {
        app.append(&labels(s), t, k as f64)?;
    }
    app.commit()
}

/// The commit numbers fully present (asserting that no commit is present in part).
fn commits_present(db: &Db) -> Vec<usize> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let mut per_t = std::collections::BTreeMap::<i64, usize>::new();
    for s in q
        .select(
            &[Matcher::equal("__name__", "fill")],
            &SelectHints::default(),
        )
        .unwrap()
    {
        let mut it = s.iter();
        while it.next() {
            let (t, v) = it.at();
            assert_eq!(v, (t / 1000 - 1) as f64, "sample value at {t}");
            *per_t.entry(t).or_default() += 1;
        }
    }
    per_t
        .into_iter()
        .map(|(t, n)| {
            assert_eq!(n, SERIES, "commit at t={t} is partly visible");
            (t / 1000 - 1) as usize
        })
        .collect()
}

fn is_no_space(e: &Error) -> bool {
    let text = e.to_string();
    let by_code = matches!(e, Error::Io { source, .. } if source.raw_os_error() == Some(28));
    by_code && (text.contains("No space left") || text.contains("ENOSPC"))
}

fn fill_until_full(db: &mut Db, from: usize) -> (Vec<usize>, Error) {
    let mut acked = Vec::new();
    for k in from..from + 1_000_000 {
        match commit(db, k) {
            Ok(()) => acked.push(k),
            Err(e) => return (acked, e),
        }
    }
    panic!("a 2 MiB file system never filled up");
}

#[test]
fn disk_full_fails_cleanly_and_recovers() {
    let mnt = std::env::temp_dir().join(format!("tsdb-disk-full-{}", std::process::id()));
    let guard = match MountGuard::mount(mnt) {
        Ok(g) => g,
        Err(reason) => {
            println!("disk_full: skipped (cannot mount tmpfs: {reason})");
            return;
        }
    };
    run(&guard.dir);
    drop(guard);
}

fn run(root: &Path) {
    // Space to give back later, twice.
    let filler = root.join("filler");
    let filler2 = root.join("filler2");
    std::fs::write(&filler, vec![0xA5u8; 384 << 10]).unwrap();
    std::fs::write(&filler2, vec![0x5Au8; 256 << 10]).unwrap();
    let wal = root.join("wal");

    let mut db = Db::open_path(&wal, opts()).unwrap();
    let (mut acked, err) = fill_until_full(&mut db, 0);
    println!(
        "disk_full: {} commits acknowledged before: {err}",
        acked.len()
    );
    assert!(acked.len() > 100, "the disk filled suspiciously early");
    assert!(is_no_space(&err), "the error says the disk is full: {err}");
    let failed = acked.len();

    // Acknowledged data is still readable, and the failed commit is not there at all.
    assert_eq!(commits_present(&db), acked);
    // Later commits on the full disk fail too, and leave nothing behind.
    assert!(commit(&mut db, failed + 1).is_err());
    assert_eq!(commits_present(&db), acked);

    // Freeing space lets the same database commit again, until the disk is full again.
    std::fs::remove_file(&filler2).unwrap();
    let (more, err) = fill_until_full(&mut db, failed + 2);
    assert!(more.len() > 10, "commits resumed after freeing space");
    assert!(is_no_space(&err), "{err}");
    let failed = more.last().unwrap() + 1;
    acked.extend(more);
    assert_eq!(commits_present(&db), acked);
    drop(db);

    // Reopening on the still-full disk replays everything acknowledged.
    let mut db = Db::open_path(&wal, opts()).unwrap();
    assert_eq!(commits_present(&db), acked, "after reopen on a full disk");

    // Freeing space lets commits through again on the same database.
    std::fs::remove_file(&filler).unwrap();
    let next = failed + 2;
    for k in next..next + 100 {
        commit(&mut db, k).unwrap_or_else(|e| panic!("commit {k} after freeing space: {e}"));
        acked.push(k);
    }
    assert_eq!(commits_present(&db), acked);
    drop(db);

    // And all of it survives one more reopen.
    let db = Db::open_path(&wal, opts()).unwrap();
    assert_eq!(commits_present(&db), acked, "after the final reopen");
    println!(
        "disk_full: {} commits acknowledged in all, all present after reopen",
        acked.len()
    );
}
