//! Single-fault crash tests of the database over a fault-injecting in-memory directory.
//!
//! A workload of commits (several series at one timestamp each), explicit syncs and
//! truncations (which cut segments, write checkpoints, rename and delete files) runs on a
//! `Db` over `FaultyDir<MemDir>` with exactly one injected fault: the Nth write (whole or
//! torn), file sync, directory sync, create, rename, remove or truncate fails. The rest of
//! the workload keeps going (errors are expected and ignored), then the process "crashes":
//! the `Db` is dropped without any shutdown, and in the power-loss variant every byte not
//! fsynced is dropped too (`MemDir::crash`). Reopening the surviving files must then
//!
//! - succeed (no corruption error, no repair needed);
//! - show every commit that returned `Ok` in full (the `EveryCommit` policy's promise; the
//!   `Interval` and `Manual` policies promise it only for a process crash, and are checked
//!   only there);
//! - show no commit in part: each commit is all there or not there at all;
//! - show no sample that no commit wrote;
//! - be stable (a second reopen sees the same) and writable (a new commit survives).
//!
//! Commits older than the newest truncation point are exempt from the presence checks:
//! truncation drops them by design, and a failed truncation may or may not have.
//!
//! `exhaustive_*` enumerate the fault over every I/O operation of a fixed workload; the
//! proptest draws random workloads and a random single fault.

use std::collections::BTreeMap;

use exposition::{Labels, Matcher};
use proptest::prelude::*;
use tsdb::chunk::SampleIterator;
use tsdb::dir::{FaultPlan, FaultyDir, OpCounts};
use tsdb::{Db, DbOptions, MemDir, Queryable, SelectHints, SyncPolicy};

/// One step of a workload.
#[derive(Debug, Clone)]
enum Op {
    /// Commit one sample for each listed series, all at the next commit's timestamp.
    Commit(Vec<u8>),
    /// `Db::sync`.
    Sync,
    /// `Db::truncate` keeping the newest `keep` commits' timestamps.
    Truncate { keep: i64 },
}

/// How the machine goes down after the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Crash {
    /// The process dies: everything written reached the OS and survives.
    Process,
    /// The power fails: bytes not fsynced are lost.
    Power,
}

/// What the workload attempted, to check the reopened state against.
#[derive(Debug, Default)]
struct Ledger {
    /// Every attempted commit: its series and whether it returned Ok.
    commits: Vec<(Vec<u8>, bool)>,
    /// The highest truncation point attempted.
    max_mint: i64,
}

fn t_of(k: usize) -> i64 {
    (k as i64 + 1) * 1000
}

fn value_of(k: usize, s: u8) -> f64 {
    (k * 1000 + usize::from(s)) as f64
}

fn labels(s: u8) -> Labels {
    Labels::from_pairs(&[("__name__", "m"), ("s", &s.to_string())])
}

fn options(sync: SyncPolicy) -> DbOptions {
    let mut o = DbOptions::default();
    // Small segments so that commits cut segments and truncations write checkpoints.
    o.wal.segment_size = 256;
    o.wal.sync = sync;
    o
}

/// Runs `ops` on `db`, recording into `ledger`. I/O errors are expected; anything else is
/// a bug in the test or the database.
fn run(db: &mut Db, ops: &[Op], ledger: &mut Ledger) {
    for op in ops {
        match op {
            Op::Commit(series) => {
                let k = ledger.commits.len();
                let mut app = db.appender();
                for &s in series {
                    app.append(&labels(s), t_of(k), value_of(k, s))
                        .unwrap_or_else(|e| panic!("append of commit {k} rejected: {e}"));
                }
                let ok = app.commit().is_ok();
                ledger.commits.push((series.clone(), ok));
            }
            Op::Sync => {
                let _ = db.sync();
            }
            Op::Truncate { keep } => {
                let mint = t_of(ledger.commits.len()) - keep * 1000;
                if mint > ledger.max_mint {
                    ledger.max_mint = mint;
                    let _ = db.truncate(mint);
                }
            }
        }
    }
}

/// Every sample in the database: series -> timestamp -> value bits.
fn dump(db: &Db) -> BTreeMap<u8, BTreeMap<i64, u64>> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let mut out = BTreeMap::new();
    let set = q
        .select(&[Matcher::equal("__name__", "m")], &SelectHints::default())
        .unwrap();
    for s in set {
        let id: u8 = s.labels().get("s").unwrap().parse().unwrap();
        let samples: &mut BTreeMap<i64, u64> = out.entry(id).or_default();
        let mut it = s.iter();
        while it.next() {
            let (t, v) = it.at();
            samples.insert(t, v.to_bits());
        }
    }
    out
}

/// Checks the reopened state against the ledger; `strict` demands every Ok commit.
fn check(
    got: &BTreeMap<u8, BTreeMap<i64, u64>>,
    ledger: &Ledger,
    strict: bool,
) -> Result<(), String> {
    for (&s, samples) in got {
        for (&t, &bits) in samples {
            let k = (t / 1000 - 1) as usize;
            let known = t % 1000 == 0
                && ledger
                    .commits
                    .get(k)
                    .is_some_and(|(series, _)| series.contains(&s))
                && bits == value_of(k, s).to_bits();
            if !known {
                return Err(format!(
                    "series {s} holds ({t}, {}) that no commit wrote",
                    f64::from_bits(bits)
                ));
            }
        }
    }
    for (k, (series, ok)) in ledger.commits.iter().enumerate() {
        if t_of(k) < ledger.max_mint {
            continue;
        }
        let present = series
            .iter()
            .filter(|s| got.get(s).is_some_and(|m| m.contains_key(&t_of(k))))
            .count();
        if present != 0 && present != series.len() {
            return Err(format!(
                "commit {k} (ok={ok}) is partly visible: {present} of {} series",
                series.len()
            ));
        }
        if strict && *ok && present == 0 {
            return Err(format!("commit {k} returned Ok but is lost"));
        }
    }
    Ok(())
}

/// Runs `ops` with `plan` injected, crashes, and checks the reopened directory.
/// Returns the operation counts of the run (for enumeration).
fn trial(ops: &[Op], plan: FaultPlan, sync: SyncPolicy, crash: Crash) -> Result<OpCounts, String> {
    let mem = MemDir::new();
    let fd = FaultyDir::new(mem.clone());
    fd.set_plan(plan);
    let mut ledger = Ledger::default();
    // A fault may hit the first open itself; then nothing was acknowledged.
    if let Ok(mut db) = Db::open(Box::new(fd.clone()), options(sync)) {
        run(&mut db, ops, &mut ledger);
        drop(db);
    }
    let counts = fd.counts();
    if crash == Crash::Power {
        mem.crash();
    }
    let strict = crash == Crash::Process || sync == SyncPolicy::EveryCommit;
    let db = Db::open(Box::new(mem.clone()), options(sync))
        .map_err(|e| format!("reopen failed: {e}"))?;
    if let Some(r) = &db.replay_report().repaired {
        return Err(format!("reopen needed a repair: {r:?}"));
    }
    let got = dump(&db);
    check(&got, &ledger, strict)?;
    drop(db);
    // Reopening again sees the same, and the database takes new commits durably.
    let mut db = Db::open(Box::new(mem.clone()), options(sync))
        .map_err(|e| format!("second reopen failed: {e}"))?;
    if dump(&db) != got {
        return Err("a second reopen sees different data".into());
    }
    let k = ledger.commits.len();
    let mut app = db.appender();
    app.append(&labels(0), t_of(k), value_of(k, 0))
        .map_err(|e| format!("append after reopen: {e}"))?;
    app.commit()
        .map_err(|e| format!("commit after reopen: {e}"))?;
    ledger.commits.push((vec![0], true));
    drop(db);
    if crash == Crash::Power {
        mem.crash();
    }
    let db =
        Db::open(Box::new(mem), options(sync)).map_err(|e| format!("third reopen failed: {e}"))?;
    check(&dump(&db), &ledger, strict)?;
    Ok(counts)
}

/// A fixed workload that touches every kind of operation: new series over time, segment
/// cuts, explicit syncs, and truncations that checkpoint and delete segments.
fn fixed_workload() -> Vec<Op> {
    use Op::*;
    let mut ops = vec![Commit(vec![0, 1]), Commit(vec![0, 1, 2]), Sync];
    for i in 0..10u8 {
        ops.push(Commit(vec![0, 1 + i % 3, 4 + i % 2]));
        if i % 4 == 3 {
            ops.push(Truncate { keep: 3 });
        }
    }
    ops.push(Commit((0..8).collect()));
    ops.push(Truncate { keep: 1 });
    ops.push(Commit(vec![7]));
    ops.push(Sync);
    ops.push(Commit(vec![3, 6]));
    ops
}

/// Every single-fault plan for a run with these operation counts.
fn every_plan(c: OpCounts) -> Vec<FaultPlan> {
    let d = FaultPlan::default;
    let mut plans = Vec::new();
    for n in 1..=c.writes {
        for tear in [0, 1, 7, 40, 1 << 20] {
            plans.push(FaultPlan {
                fail_write: n,
                tear_bytes: tear,
                ..d()
            });
        }
    }
    for n in 1..=c.syncs {
        plans.push(FaultPlan {
            fail_sync: n,
            ..d()
        });
    }
    for n in 1..=c.dir_syncs {
        plans.push(FaultPlan {
            fail_sync_dir: n,
            ..d()
        });
    }
    for n in 1..=c.creates {
        plans.push(FaultPlan {
            fail_create: n,
            ..d()
        });
    }
    for n in 1..=c.renames {
        plans.push(FaultPlan {
            fail_rename: n,
            ..d()
        });
    }
    for n in 1..=c.removes {
        plans.push(FaultPlan {
            fail_remove: n,
            ..d()
        });
    }
    for n in 1..=c.truncates {
        plans.push(FaultPlan {
            fail_truncate: n,
            ..d()
        });
    }
    plans
}

fn exhaustive(sync: SyncPolicy, crash: Crash) -> usize {
    let ops = fixed_workload();
    let counts = trial(&ops, FaultPlan::default(), sync, crash).expect("fault-free run");
    assert!(counts.creates > 2, "the workload cuts segments: {counts:?}");
    assert!(counts.renames > 0, "the workload checkpoints: {counts:?}");
    assert!(
        counts.removes > 0,
        "the workload deletes segments: {counts:?}"
    );
    let plans = every_plan(counts);
    let mut failures = Vec::new();
    for plan in &plans {
        if let Err(e) = trial(&ops, *plan, sync, crash) {
            failures.push(format!("{plan:?}: {e}"));
        }
    }
    println!(
        "fault_injection {sync:?}/{crash:?}: {} operations ({counts:?}), {} single-fault runs, {} failed",
        counts.total(),
        plans.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    plans.len()
}

#[test]
fn exhaustive_every_commit_process_crash() {
    exhaustive(SyncPolicy::EveryCommit, Crash::Process);
}

#[test]
fn exhaustive_every_commit_power_loss() {
    exhaustive(SyncPolicy::EveryCommit, Crash::Power);
}

#[test]
fn exhaustive_interval_and_manual_process_crash() {
    exhaustive(SyncPolicy::Interval { ms: 60_000 }, Crash::Process);
    exhaustive(SyncPolicy::Manual, Crash::Process);
}

#[test]
fn lax_policies_keep_all_or_nothing_on_power_loss() {
    // Without per-commit fsyncs a power loss may drop acknowledged commits, but never
    // half of one, and the directory still reopens.
    exhaustive(SyncPolicy::Manual, Crash::Power);
}

/// Regression (found by this file): `Wal::cut` used to switch to segment N+1 before its
/// directory sync succeeded, so after a failed sync later commits were acknowledged into a
/// file the next cut emptied again. A failed cut must leave the WAL writing segment N.
#[test]
fn sync_dir_failure_in_a_segment_cut_keeps_acknowledged_commits() {
    let mem = MemDir::new();
    let fd = FaultyDir::new(mem.clone());
    let mut db = Db::open(Box::new(fd.clone()), options(SyncPolicy::EveryCommit)).unwrap();
    // The first directory sync after open is the first segment cut's.
    fd.set_plan(FaultPlan {
        fail_sync_dir: 1,
        ..FaultPlan::default()
    });
    let mut ledger = Ledger::default();
    let ops: Vec<Op> = (0..40)
        .map(|i| Op::Commit(vec![i % 5, 5 + i % 3]))
        .collect();
    run(&mut db, &ops, &mut ledger);
    assert_eq!(fd.injected(), 1, "the cut's directory sync failed");
    drop(db);
    let db = Db::open(Box::new(mem), options(SyncPolicy::EveryCommit)).unwrap();
    check(&dump(&db), &ledger, true).unwrap();
}

#[test]
fn the_checker_catches_a_lost_commit() {
    // A power loss under the Manual policy loses unsynced Ok commits: the strict check must
    // notice (this keeps the property tests honest).
    let mem = MemDir::new();
    let mut db = Db::open(Box::new(mem.clone()), options(SyncPolicy::Manual)).unwrap();
    let mut ledger = Ledger::default();
    run(&mut db, &[Op::Commit(vec![0, 1])], &mut ledger);
    drop(db);
    mem.crash();
    let db = Db::open(Box::new(mem), options(SyncPolicy::Manual)).unwrap();
    let err = check(&dump(&db), &ledger, true).unwrap_err();
    assert!(err.contains("lost"), "{err}");
    let mut partial = BTreeMap::new();
    partial.insert(0u8, BTreeMap::from([(t_of(0), value_of(0, 0).to_bits())]));
    let err = check(&partial, &ledger, false).unwrap_err();
    assert!(err.contains("partly"), "{err}");
    partial.insert(9u8, BTreeMap::from([(t_of(0), 1f64.to_bits())]));
    assert!(check(&partial, &ledger, false).is_err());
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => proptest::collection::btree_set(0u8..12, 1..6)
            .prop_map(|s| Op::Commit(s.into_iter().collect())),
        1 => Just(Op::Sync),
        1 => (0i64..4).prop_map(|keep| Op::Truncate { keep }),
    ]
}

fn plan_strategy() -> impl Strategy<Value = FaultPlan> {
    (
        0u8..7,
        1u64..80,
        prop_oneof![Just(0usize), 1usize..64, Just(1 << 20)],
    )
        .prop_map(|(kind, n, tear)| {
            let mut p = FaultPlan::default();
            match kind {
                0 => {
                    p.fail_write = n;
                    p.tear_bytes = tear;
                }
                1 => p.fail_sync = n,
                2 => p.fail_sync_dir = n,
                3 => p.fail_create = n,
                4 => p.fail_rename = n,
                5 => p.fail_remove = n,
                _ => p.fail_truncate = n,
            }
            p
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_workload_single_fault(
        ops in proptest::collection::vec(op_strategy(), 1..40),
        plan in plan_strategy(),
        power in any::<bool>(),
    ) {
        let crash = if power { Crash::Power } else { Crash::Process };
        let r = trial(&ops, plan, SyncPolicy::EveryCommit, crash);
        prop_assert!(r.is_ok(), "{:?}", r.err());
    }
}
