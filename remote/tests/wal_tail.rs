//! Tailing a tsdb WAL into the write queue: every committed sample once, across segment
//! cuts, restarts from the committed position, checkpoints and torn tails.

use std::collections::BTreeMap;

use exposition::Labels;
use remote::{decode_request, QueueConfig, RemoteError, WalPosition, WalTailer, WriteQueue};
use tsdb::wal::{SyncPolicy, WalOptions};
use tsdb::{Db, DbOptions, Dir, MemDir};

type Got = BTreeMap<(String, i64), u64>;

fn opts() -> DbOptions {
    DbOptions {
        wal: WalOptions {
            segment_size: 512,
            sync: SyncPolicy::Manual,
            repair: false,
        },
        ..DbOptions::default()
    }
}

fn series(i: usize) -> Labels {
    Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())])
}

/// Commits `n` rounds of one sample for each of 5 series, starting at round `from`.
fn write(db: &mut Db, from: i64, n: i64) {
    for round in from..from + n {
        let mut app = db.appender();
        for i in 0..5 {
            app.append(&series(i), round * 1000, (round * 10 + i as i64) as f64)
                .unwrap();
        }
        app.commit().unwrap();
    }
}

/// Sends everything the queue has, answering each request with `status` (2xx records it).
fn drain(q: &mut WriteQueue, got: &mut Got, dupes: &mut usize) {
    q.flush();
    let mut now = 0;
    while let Some(r) = q.next_request(now) {
        for ts in decode_request(&r.body).unwrap().timeseries {
            let i = ts
                .labels
                .iter()
                .find(|l| l.name == "i")
                .unwrap()
                .value
                .clone();
            for s in ts.samples {
                if got
                    .insert((i.clone(), s.timestamp), s.value.to_bits())
                    .is_some()
                {
                    *dupes += 1;
                }
            }
        }
        q.on_response(204, None, now);
        now += 1;
        q.flush();
    }
}

fn poll_all(
    t: &mut WalTailer,
    dir: &dyn Dir,
    q: &mut WriteQueue,
    got: &mut Got,
    dupes: &mut usize,
) {
    loop {
        let rep = t.poll(dir, q).unwrap();
        drain(q, got, dupes);
        if !rep.queue_full {
            break;
        }
    }
}

fn small_queue() -> WriteQueue {
    WriteQueue::new(QueueConfig {
        max_samples_per_send: 7,
        capacity: 12,
        ..QueueConfig::default()
    })
}

#[test]
fn every_committed_sample_is_sent_once_across_segments() {
    let dir = MemDir::new();
    let mut db = Db::open(Box::new(dir.clone()), opts()).unwrap();
    let mut tailer = WalTailer::new(WalPosition::default());
    let mut q = small_queue();
    let (mut got, mut dupes) = (Got::new(), 0);
    write(&mut db, 0, 20);
    poll_all(&mut tailer, &dir, &mut q, &mut got, &mut dupes);
    assert_eq!(got.len(), 100);
    write(&mut db, 20, 20);
    poll_all(&mut tailer, &dir, &mut q, &mut got, &mut dupes);
    assert_eq!(got.len(), 200);
    assert_eq!(dupes, 0);
    assert!(tailer.position().segment > 2, "{:?}", tailer.position());
    assert_eq!(q.committed_position(), Some(tailer.position()));
    assert_eq!(got[&("3".to_string(), 7000)], 73f64.to_bits());
}

#[test]
fn a_restart_resumes_at_the_committed_position() {
    let dir = MemDir::new();
    let mut db = Db::open(Box::new(dir.clone()), opts()).unwrap();
    write(&mut db, 0, 10);
    let (mut got, mut dupes) = (Got::new(), 0);
    let mut q = small_queue();
    let mut tailer = WalTailer::new(WalPosition::default());
    tailer.poll(&dir, &mut q).unwrap();
    // Deliver one request, then "crash": the rest of the queue is lost.
    q.flush();
    let r = q.next_request(0).unwrap();
    let delivered = r.samples;
    for ts in decode_request(&r.body).unwrap().timeseries {
        for s in ts.samples {
            got.insert((ts.labels[1].value.clone(), s.timestamp), s.value.to_bits());
        }
    }
    q.on_response(200, None, 0);
    let pos = q.committed_position().expect("something settled");
    assert!(pos < tailer.position());
    drop((q, tailer));
    // The database restarts too (a new segment), and more is written.
    drop(db);
    let mut db = Db::open(Box::new(dir.clone()), opts()).unwrap();
    write(&mut db, 10, 5);
    let mut q = small_queue();
    let mut tailer = WalTailer::new(pos);
    poll_all(&mut tailer, &dir, &mut q, &mut got, &mut dupes);
    // Record granularity: a record whose samples were only partly delivered is sent again.
    assert!(dupes < 5, "{dupes} resent");
    assert!(delivered > 0);
    assert_eq!(got.len(), 75);
}

#[test]
fn at_end_sends_only_new_samples() {
    let dir = MemDir::new();
    let mut db = Db::open(Box::new(dir.clone()), opts()).unwrap();
    write(&mut db, 0, 10);
    let mut tailer = WalTailer::at_end(&dir).unwrap();
    write(&mut db, 10, 2);
    let (mut got, mut dupes) = (Got::new(), 0);
    let mut q = small_queue();
    poll_all(&mut tailer, &dir, &mut q, &mut got, &mut dupes);
    assert_eq!(got.len(), 10);
    assert!(got.keys().all(|(_, t)| *t >= 10_000));
    // Series records written before the start position were still learned.
    assert_eq!(tailer.num_series(), 5);
}

#[test]
fn a_checkpoint_behind_the_position_skips_ahead_with_series_from_it() {
    let dir = MemDir::new();
    let mut db = Db::open(Box::new(dir.clone()), opts()).unwrap();
    write(&mut db, 0, 20);
    db.truncate(15_000).unwrap();
    write(&mut db, 20, 3);
    let (mut got, mut dupes) = (Got::new(), 0);
    let mut q = small_queue();
    let mut tailer = WalTailer::new(WalPosition::default());
    let rep = tailer.poll(&dir, &mut q).unwrap();
    let skipped = rep.skipped_to.expect("segment 0 was checkpointed away");
    assert!(skipped.segment > 0);
    poll_all(&mut tailer, &dir, &mut q, &mut got, &mut dupes);
    // The checkpoint covers only segments wholly before the truncation point, so every
    // sample from 15 s on is still in a segment; the oldest ones are not.
    assert!(got.len() < 115, "{} sent", got.len());
    for round in 15..23 {
        for i in 0..5 {
            assert!(
                got.contains_key(&(i.to_string(), round * 1000)),
                "{i} {round}"
            );
        }
    }
    assert!(!got.contains_key(&("0".to_string(), 0)));
    assert_eq!(dupes, 0);
}

#[test]
fn a_torn_tail_waits_and_corruption_is_an_error() {
    let dir = MemDir::new();
    let mut db = Db::open(Box::new(dir.clone()), opts()).unwrap();
    write(&mut db, 0, 1);
    let seg = tsdb::wal::segment_name(db.wal().unwrap().current_segment());
    drop(db);
    // Half a record at the end of the newest segment: a write still landing.
    let mut f = dir.append(&seg).unwrap();
    f.write_all(&[40, 0, 0, 0, 1, 2, 3]).unwrap();
    let mut q = small_queue();
    let mut tailer = WalTailer::new(WalPosition::default());
    let rep = tailer.poll(&dir, &mut q).unwrap();
    assert_eq!(rep.samples, 5);
    let pos = tailer.position();
    tailer.poll(&dir, &mut q).unwrap();
    assert_eq!(tailer.position(), pos, "waits at the torn record");

    // A bad checksum in the middle of a segment is corruption.
    let dir = MemDir::new();
    let mut db = Db::open(Box::new(dir.clone()), opts()).unwrap();
    write(&mut db, 0, 2);
    let seg = tsdb::wal::segment_name(db.wal().unwrap().current_segment());
    drop(db);
    let mut data = dir.read(&seg).unwrap();
    data[5] ^= 0xff;
    let mut f = dir.create(&seg).unwrap();
    f.write_all(&data).unwrap();
    let err = WalTailer::new(WalPosition::default())
        .poll(&dir, &mut small_queue())
        .unwrap_err();
    assert!(
        matches!(
            err,
            RemoteError::Wal(tsdb::Error::Corruption { offset: 0, .. })
        ),
        "{err}"
    );
}

#[test]
fn series_the_tsdb_dropped_are_forgotten_at_the_next_checkpoint() {
    let dir = MemDir::new();
    let mut db = Db::open(Box::new(dir.clone()), opts()).unwrap();
    write(&mut db, 0, 20);
    let (mut got, mut dupes) = (Got::new(), 0);
    let mut q = small_queue();
    let mut tailer = WalTailer::new(WalPosition::default());
    poll_all(&mut tailer, &dir, &mut q, &mut got, &mut dupes);
    assert_eq!(tailer.num_series(), 5);
    // Only series 0 goes on; the others have nothing after the truncation point.
    for round in 20..40 {
        let mut app = db.appender();
        app.append(&series(0), round * 1000, 1.0).unwrap();
        app.commit().unwrap();
    }
    // Caught up before the truncation (a sender that lags behind a checkpoint loses the
    // samples of the segments it replaced, as Prometheus's WAL watcher does).
    poll_all(&mut tailer, &dir, &mut q, &mut got, &mut dupes);
    assert_eq!(tailer.num_series(), 5);
    let rep = db.truncate(30_000).unwrap();
    assert_eq!(rep.series_removed, 4);
    poll_all(&mut tailer, &dir, &mut q, &mut got, &mut dupes);
    assert_eq!(tailer.num_series(), 1);
    assert_eq!(got.len(), 120);
    assert_eq!(dupes, 0);
}
