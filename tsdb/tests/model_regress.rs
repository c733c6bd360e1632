//! Replays of failures the property tests in model.rs found: a series dropped by a
//! truncation and created again gets a second WAL ref; replay maps the old ref onto the
//! live series, and checkpoints and new series must keep that mapping intact.

use std::collections::BTreeMap;

use exposition::{Labels, Matcher};
use tsdb::chunk::SampleIterator;
use tsdb::{Db, DbOptions, MemDir, Queryable, SelectHints};

enum Op {
    Commit(u8),
    Truncate(i64),
    Reopen,
}

type Model = BTreeMap<String, BTreeMap<i64, u64>>;

fn labels(i: u8) -> Labels {
    Labels::from_pairs(&[("__name__", "m"), ("s", &i.to_string())])
}

fn dump(db: &Db) -> Model {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let mut out = Model::new();
    for s in q
        .select(&[Matcher::equal("__name__", "m")], &SelectHints::default())
        .unwrap()
    {
        let e = out
            .entry(s.labels().get("s").unwrap().to_string())
            .or_default();
        let mut it = s.iter();
        while it.next() {
            let (t, v) = it.at();
            e.insert(t, v.to_bits());
        }
    }
    out
}

/// Runs `ops` (small WAL segments, so checkpoints happen) and checks every reopen, and a
/// final one, against a model.
fn run(ops: &[Op]) {
    let d = MemDir::new();
    let small = DbOptions {
        wal: tsdb::WalOptions {
            segment_size: 300,
            ..tsdb::WalOptions::default()
        },
        ..DbOptions::default()
    };
    let mut db = Db::open(Box::new(d.clone()), small).unwrap();
    let (mut model, mut clock, mut min_valid) = (Model::new(), 0i64, i64::MIN);
    for op in ops {
        match *op {
            Op::Commit(n) => {
                let mut app = db.appender();
                for k in 0..n {
                    clock += 10;
                    app.append(&labels(k % 4), clock, f64::from(k)).unwrap();
                    let e = model.entry((k % 4).to_string()).or_default();
                    e.insert(clock, f64::from(k).to_bits());
                }
                app.commit().unwrap();
            }
            Op::Truncate(back) => {
                let mint = clock - back;
                db.truncate(mint).unwrap();
                if mint > min_valid {
                    min_valid = mint;
                    model.values_mut().for_each(|m| m.retain(|&t, _| t >= mint));
                    model.retain(|_, m| !m.is_empty());
                }
            }
            Op::Reopen => {
                drop(db);
                db = Db::open(Box::new(d.clone()), small).unwrap();
                assert_eq!(dump(&db), model);
            }
        }
    }
    drop(db);
    assert_eq!(dump(&Db::open(Box::new(d), small).unwrap()), model);
}

/// The checkpoint after a reopen dropped the segment holding the second series record
/// of a re-created series; its later samples, logged under that ref, were lost.
#[test]
fn checkpoint_keeps_series_records_of_old_refs() {
    use Op::*;
    let mut ops = vec![Commit(1), Truncate(0), Commit(3), Truncate(0)];
    ops.extend([2, 1, 1, 1, 1, 5].map(Commit));
    ops.extend([Reopen, Truncate(30)]);
    run(&ops);
}

/// After a reopen a new series was given the old ref of a re-created one, and a
/// checkpoint then mapped the new series' samples onto the old one.
#[test]
fn new_series_never_reuse_an_old_ref() {
    use Op::*;
    run(&[
        Commit(2),
        Truncate(0),
        Commit(4),
        Truncate(0),
        Commit(3),
        Commit(1),
        Reopen,
        Truncate(0),
        Commit(3),
        Reopen,
        Commit(3),
    ]);
}
