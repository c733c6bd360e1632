//! Durability: WAL replay, torn tails, corruption, checkpoints and injected faults.

use exposition::{Labels, Matcher};
use tsdb::chunk::SampleIterator;
use tsdb::dir::{FaultPlan, FaultyDir};
use tsdb::error::CorruptionKind;
use tsdb::wal::{checkpoint_name, segment_name};
use tsdb::{Db, DbOptions, Dir, Error, MemDir, Queryable, SelectHints, SyncPolicy, WalOptions};

fn lbl(i: usize) -> Labels {
    Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())])
}

/// Commits `n` batches; batch b writes series 0..4 at t = b*1000 with value b*10+i.
fn write_batches(db: &mut Db, from: usize, n: usize) {
    for b in from..from + n {
        let mut app = db.appender();
        for i in 0..4 {
            app.append(&lbl(i), (b * 1000) as i64, (b * 10 + i) as f64)
                .unwrap();
        }
        app.commit().unwrap();
    }
}

/// All samples as (series index, t, value bits), sorted.
fn dump(db: &Db) -> Vec<(String, i64, u64)> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let mut out = vec![];
    for s in q
        .select(&[Matcher::equal("__name__", "m")], &SelectHints::default())
        .unwrap()
    {
        let mut it = s.iter();
        while it.next() {
            let (t, v) = it.at();
            out.push((s.labels().get("i").unwrap().to_string(), t, v.to_bits()));
        }
    }
    out
}

fn opts() -> DbOptions {
    DbOptions::default()
}

fn open(d: &MemDir, o: DbOptions) -> tsdb::Result<Db> {
    Db::open(Box::new(d.clone()), o)
}

#[test]
fn reopen_replays_everything_committed() {
    let d = MemDir::new();
    let mut db = open(&d, opts()).unwrap();
    write_batches(&mut db, 0, 10);
    let before = dump(&db);
    assert_eq!(before.len(), 40);
    drop(db);
    let db = open(&d, opts()).unwrap();
    assert_eq!(dump(&db), before);
    assert_eq!(db.replay_report().samples, 40);
    assert_eq!(db.replay_report().torn_tail, None);
    // Refs survive: appending by labels finds the same series.
    assert_eq!(db.head().num_series(), 4);
}

#[test]
fn uncommitted_and_rolled_back_samples_are_not_replayed() {
    let d = MemDir::new();
    let mut db = open(&d, opts()).unwrap();
    write_batches(&mut db, 0, 2);
    let mut app = db.appender();
    app.append(&lbl(9), 5000, 1.0).unwrap();
    app.rollback();
    let mut app = db.appender();
    app.append(&lbl(0), 5000, 1.0).unwrap();
    drop(app);
    drop(db);
    let db = open(&d, opts()).unwrap();
    assert_eq!(dump(&db).len(), 8);
}

#[test]
fn power_loss_keeps_synced_commits_only() {
    let d = MemDir::new();
    let mut db = open(&d, opts()).unwrap();
    write_batches(&mut db, 0, 3);
    drop(db);
    d.crash();
    assert_eq!(dump(&open(&d, opts()).unwrap()).len(), 12);

    let d = MemDir::new();
    let manual = DbOptions {
        wal: WalOptions {
            sync: SyncPolicy::Interval { ms: 1000 },
            ..WalOptions::default()
        },
        ..opts()
    };
    let mut db = open(&d, manual).unwrap();
    db.tick(0).unwrap();
    write_batches(&mut db, 0, 2);
    db.tick(500).unwrap(); // not due yet
    assert!(db.wal().unwrap().has_unsynced());
    db.tick(1000).unwrap(); // due: syncs
    assert!(!db.wal().unwrap().has_unsynced());
    write_batches(&mut db, 2, 2);
    drop(db);
    d.crash();
    let db = open(&d, manual).unwrap();
    assert_eq!(dump(&db).len(), 8, "commits after the last sync are lost");
}

fn only_segment(d: &MemDir) -> String {
    let segs: Vec<String> = d
        .list()
        .unwrap()
        .into_iter()
        .filter(|n| d.get(n).is_some_and(|b| !b.is_empty()))
        .collect();
    assert_eq!(segs.len(), 1, "{segs:?}");
    segs[0].clone()
}

#[test]
fn torn_tail_is_truncated_and_reported() {
    for cut in [1usize, 5, 12, 20] {
        let d = MemDir::new();
        let mut db = open(&d, opts()).unwrap();
        write_batches(&mut db, 0, 5);
        drop(db);
        let seg = only_segment(&d);
        let mut bytes = d.get(&seg).unwrap();
        let full = bytes.len();
        bytes.truncate(full - cut);
        d.put(&seg, bytes);
        let db = open(&d, opts()).unwrap();
        let torn = db
            .replay_report()
            .torn_tail
            .clone()
            .expect("torn tail reported");
        assert_eq!(torn.0, seg);
        assert_eq!(dump(&db).len(), 16, "cut={cut}");
        assert_eq!(d.get(&seg).unwrap().len() as u64, torn.1, "file truncated");
        // And the database keeps working after the repair.
        let mut db = db;
        write_batches(&mut db, 5, 1);
        drop(db);
        assert_eq!(dump(&open(&d, opts()).unwrap()).len(), 20);
    }
}

#[test]
fn zero_filled_tail_is_a_torn_tail() {
    let d = MemDir::new();
    let mut db = open(&d, opts()).unwrap();
    write_batches(&mut db, 0, 2);
    drop(db);
    let seg = only_segment(&d);
    let mut bytes = d.get(&seg).unwrap();
    bytes.extend_from_slice(&[0; 100]);
    d.put(&seg, bytes);
    let db = open(&d, opts()).unwrap();
    assert!(db.replay_report().torn_tail.is_some());
    assert_eq!(dump(&db).len(), 8);
}

#[test]
fn corruption_in_the_middle_is_an_error_naming_segment_and_offset() {
    let d = MemDir::new();
    let mut db = open(&d, opts()).unwrap();
    write_batches(&mut db, 0, 5);
    drop(db);
    let seg = only_segment(&d);
    let mut bytes = d.get(&seg).unwrap();
    let first_len = u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
    let second = 12 + first_len;
    // Flip a payload byte of the second record (the first is series, the second samples).
    bytes[second + 12 + 3] ^= 0x55;
    d.put(&seg, bytes.clone());
    match open(&d, opts()) {
        Err(Error::Corruption {
            segment,
            offset,
            reason,
        }) => {
            assert_eq!(segment, seg);
            assert_eq!(offset, second as u64);
            assert_eq!(reason, CorruptionKind::Checksum);
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    // Opt-in repair keeps what comes before the bad record.
    let repair = DbOptions {
        wal: WalOptions {
            repair: true,
            ..WalOptions::default()
        },
        ..opts()
    };
    let db = open(&d, repair).unwrap();
    let rep = db
        .replay_report()
        .repaired
        .clone()
        .expect("repair reported");
    assert_eq!((rep.0.as_str(), rep.1), (seg.as_str(), second as u64));
    assert_eq!(
        dump(&db).len(),
        0,
        "only the series record precedes the damage"
    );
    assert_eq!(
        db.head().num_series(),
        0,
        "series without samples are collected"
    );
    drop(db);
    // After repair, it opens cleanly without the option.
    open(&d, opts()).unwrap();
}

#[test]
fn segments_roll_over_and_a_missing_one_is_reported() {
    let d = MemDir::new();
    let small = DbOptions {
        wal: WalOptions {
            segment_size: 256,
            ..WalOptions::default()
        },
        ..opts()
    };
    let mut db = open(&d, small).unwrap();
    write_batches(&mut db, 0, 30);
    drop(db);
    let segs = d.list().unwrap();
    assert!(segs.len() > 3, "{segs:?}");
    let db = open(&d, small).unwrap();
    assert_eq!(dump(&db).len(), 120);
    drop(db);
    d.remove(&segment_name(2)).unwrap();
    match open(&d, small) {
        Err(Error::Corruption {
            segment, reason, ..
        }) => {
            assert_eq!(segment, segment_name(2));
            assert_eq!(reason, CorruptionKind::MissingSegment);
        }
        other => panic!("expected a missing segment, got {other:?}"),
    }
}

#[test]
fn checkpoint_keeps_live_data_and_deletes_old_segments() {
    let d = MemDir::new();
    let mut db = open(&d, opts()).unwrap();
    write_batches(&mut db, 0, 10); // segment 0: t = 0 .. 9000
                                   // A series that only has old samples: collected by the truncation.
    let mut app = db.appender();
    app.append(&lbl(99), 1000, 1.0).unwrap();
    app.commit().unwrap();
    // Segment 0 still holds samples after 5000: nothing can be checkpointed yet, but the
    // truncation point is logged.
    let rep = db.truncate(5000).unwrap();
    assert_eq!(rep.series_removed, 1);
    assert_eq!(rep.files_deleted, 0);
    assert!(!d
        .list()
        .unwrap()
        .iter()
        .any(|n| n.starts_with("checkpoint")));
    drop(db);
    let mut db = open(&d, opts()).unwrap();
    assert_eq!(
        dump(&db).len(),
        4 * 5,
        "truncation replayed from the segment"
    );
    assert_eq!(db.head().num_series(), 4);
    assert_eq!(db.head().min_time(), 5000);
    write_batches(&mut db, 10, 2); // a later segment: t = 10000, 11000
                                   // Now segment 0 (newest sample 9000) lies wholly before 9500: it is replaced.
    let rep = db.truncate(9500).unwrap();
    assert!(rep.files_deleted >= 1, "{rep:?}");
    let names = d.list().unwrap();
    // Segments 0 (old samples) and 1 (only the truncation record) are replaced.
    assert!(names.contains(&checkpoint_name(1)), "{names:?}");
    assert!(!names.contains(&segment_name(0)), "{names:?}");
    assert!(!names.contains(&segment_name(1)), "{names:?}");
    assert!(names.contains(&segment_name(2)), "{names:?}");
    let before = dump(&db);
    assert_eq!(before.len(), 4 * 2);
    drop(db);
    let db = open(&d, opts()).unwrap();
    assert_eq!(dump(&db), before);
    assert_eq!(db.head().num_series(), 4);
    assert_eq!(
        db.head().min_time(),
        9500,
        "truncation point survives reopen"
    );
    assert_eq!(
        db.replay_report().checkpoint.as_deref(),
        Some(checkpoint_name(1).as_str())
    );
    // Truncating past everything: all series go, and a later checkpoint replaces the
    // first one.
    let mut db = db;
    write_batches(&mut db, 20, 1);
    db.truncate(15_000).unwrap();
    db.truncate(30_000).unwrap();
    drop(db);
    let names = d.list().unwrap();
    assert!(!names.contains(&checkpoint_name(1)), "{names:?}");
    let db = open(&d, opts()).unwrap();
    assert_eq!(dump(&db).len(), 0);
    assert_eq!(db.head().num_series(), 0);
}

#[test]
fn later_checkpoints_carry_what_earlier_ones_hold() {
    let d = MemDir::new();
    let mut db = open(&d, opts()).unwrap();
    write_batches(&mut db, 0, 6);
    db.truncate(0).unwrap();
    write_batches(&mut db, 6, 4);
    db.truncate(5500).unwrap();
    write_batches(&mut db, 10, 2);
    db.truncate(8500).unwrap();
    write_batches(&mut db, 12, 1);
    db.truncate(9500).unwrap();
    let before = dump(&db);
    assert_eq!(before.len(), 4 * 3);
    drop(db);
    let db = open(&d, opts()).unwrap();
    assert_eq!(dump(&db), before);
}

#[test]
fn interrupted_checkpoint_leftovers_are_cleaned_up() {
    let d = MemDir::new();
    let mut db = open(&d, opts()).unwrap();
    write_batches(&mut db, 0, 4);
    drop(db);
    let before = dump(&open(&d, opts()).unwrap());
    // A half-written checkpoint file from a crash mid-checkpoint.
    d.put("checkpoint.00000000.tmp", vec![1, 2, 3]);
    let db = open(&d, opts()).unwrap();
    assert_eq!(dump(&db), before);
    assert!(!d.list().unwrap().iter().any(|n| n.ends_with(".tmp")));
}

#[test]
fn a_failed_wal_write_or_sync_commits_nothing() {
    for plan in [
        FaultPlan {
            fail_write: 3,
            ..FaultPlan::default()
        },
        FaultPlan {
            fail_write: 3,
            tear_bytes: 7,
            ..FaultPlan::default()
        },
        FaultPlan {
            fail_sync: 3,
            ..FaultPlan::default()
        },
    ] {
        let mem = MemDir::new();
        let fd = FaultyDir::new(mem.clone());
        let mut db = Db::open(Box::new(fd.clone()), opts()).unwrap();
        fd.set_plan(plan);
        write_batches(&mut db, 0, 2);
        let mut app = db.appender();
        app.append(&lbl(0), 2000, 1.0).unwrap();
        let e = app.commit().unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e}");
        assert_eq!(dump(&db).len(), 8, "failed commit is invisible ({plan:?})");
        write_batches(&mut db, 3, 1);
        assert_eq!(dump(&db).len(), 12);
        drop(db);
        let db = open(&mem, opts()).unwrap();
        assert_eq!(dump(&db).len(), 12, "{plan:?}");
        assert_eq!(db.replay_report().torn_tail, None);
    }
}

#[test]
fn fs_dir_round_trip() {
    let root = std::env::temp_dir().join(format!("tsdb-wal-fs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let mut db = Db::open_path(&root, opts()).unwrap();
    write_batches(&mut db, 0, 3);
    db.truncate(1000).unwrap();
    write_batches(&mut db, 3, 1);
    let before = dump(&db);
    drop(db);
    let db = Db::open_path(&root, opts()).unwrap();
    assert_eq!(dump(&db), before);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn reopening_without_writes_does_not_pile_up_segments() {
    let d = MemDir::new();
    let mut db = open(&d, opts()).unwrap();
    write_batches(&mut db, 0, 1);
    drop(db);
    for _ in 0..5 {
        drop(open(&d, opts()).unwrap());
    }
    assert_eq!(d.list().unwrap().len(), 2, "{:?}", d.list().unwrap());
    let mut db = open(&d, opts()).unwrap();
    write_batches(&mut db, 1, 1);
    drop(db);
    assert_eq!(dump(&open(&d, opts()).unwrap()).len(), 8);
}

#[test]
fn sparse_and_absurd_refs_in_a_wal_are_handled() {
    use tsdb::wal::record::{encode_samples, encode_series, frame, RefSample};
    let a = lbl(1);
    let b = lbl(2);
    let mut seg = vec![];
    frame(&mut seg, |o| {
        encode_series(o, [(4_000_000u64, &a), (3_000_000_000u64, &b)].into_iter())
    });
    frame(&mut seg, |o| {
        encode_samples(
            o,
            [
                RefSample {
                    r: 4_000_000,
                    t: 5,
                    v: 1f64.to_bits(),
                },
                RefSample {
                    r: 3_000_000_000,
                    t: 5,
                    v: 1f64.to_bits(),
                },
            ]
            .into_iter(),
        )
    });
    let d = MemDir::new();
    d.put(&segment_name(0), seg);
    let mut db = open(&d, opts()).unwrap();
    assert_eq!(db.head().num_series(), 1, "the absurd ref is skipped");
    assert_eq!(dump(&db), vec![("1".to_string(), 5, 1f64.to_bits())]);
    // New series get refs after the highest one seen.
    let mut app = db.appender();
    let r = app.append(&lbl(3), 10, 1.0).unwrap();
    app.commit().unwrap();
    assert_eq!(r.0, 4_000_001);
}
