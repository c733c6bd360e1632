//! Export then import gives back the same samples: random series through
//! `PromBlockWriter` and `PromBlock`, and our own blocks and databases through
//! `export_native_block` / `export_db`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use exposition::Labels;
use proptest::prelude::*;
use tsdb::chunk::SampleIterator;
use tsdb::promblock::{export_db, export_native_block, PromBlock, PromBlockWriter, VecSamples};
use tsdb::{write_head_block, Block, Db, HeadOptions};

type Data = BTreeMap<Labels, Vec<(i64, u64)>>;

fn tmpdir(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("promblock-rt-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn read_back(block: &PromBlock) -> Data {
    block
        .all_series()
        .iter()
        .map(|s| {
            let v = s
                .samples()
                .unwrap()
                .iter()
                .map(|&(t, v)| (t, v.to_bits()))
                .collect();
            (s.labels().clone(), v)
        })
        .collect()
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => (-1000i32..1000).prop_map(f64::from),
        2 => any::<f64>(),
        1 => Just(tsdb::storage::stale_nan()),
        1 => Just(f64::INFINITY),
        1 => Just(-0.0),
    ]
}

fn series() -> impl Strategy<Value = (Labels, Vec<(i64, f64)>)> {
    (
        "[a-c]{1,3}",
        proptest::collection::btree_map("[a-d_]{1,4}", "[a-zé0-9]{1,5}", 0..3),
        -10_000_000i64..10_000_000,
        proptest::collection::vec((1i64..200_000, value()), 1..400),
    )
        .prop_map(|(name, extra, start, steps)| {
            let mut pairs: Vec<(String, String)> = extra.into_iter().collect();
            pairs.push(("__name__".into(), name));
            let labels = Labels::from_pairs(&pairs);
            let mut t = start;
            let samples = steps
                .into_iter()
                .map(|(d, v)| {
                    t += d;
                    (t, v)
                })
                .collect();
            (labels, samples)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn export_then_import_gives_the_same_samples(
        input in proptest::collection::vec(series(), 1..8),
        mint in -20_000_000i64..0,
        span in 1i64..100_000_000,
        seg in prop_oneof![Just(300u64), Just(1u64 << 29)],
    ) {
        let maxt = mint + span;
        let root = tmpdir("prop");
        let mut w = PromBlockWriter::with_segment_size(&root, mint, maxt, seg).unwrap();
        let mut want = Data::new();
        for (labels, samples) in &input {
            if want.contains_key(labels) {
                continue;
            }
            let kept: Vec<(i64, u64)> = samples
                .iter()
                .filter(|s| s.0 >= mint && s.0 < maxt)
                .map(|&(t, v)| (t, v.to_bits()))
                .collect();
            w.add_series(labels, &mut VecSamples::new(samples.clone())).unwrap();
            if !kept.is_empty() {
                want.insert(labels.clone(), kept);
            } else {
                want.insert(labels.clone(), Vec::new());
            }
        }
        want.retain(|_, v| !v.is_empty());
        let meta = w.finish(1_000).unwrap();
        match meta {
            None => prop_assert!(want.is_empty()),
            Some(meta) => {
                let b = PromBlock::open(root.join(&meta.ulid)).unwrap();
                b.verify_chunks().unwrap();
                prop_assert_eq!(read_back(&b), want.clone());
                prop_assert_eq!(meta.stats.num_series, want.len() as u64);
                let n: usize = want.values().map(Vec::len).sum();
                prop_assert_eq!(meta.stats.num_samples, n as u64);
                prop_assert_eq!((meta.min_time, meta.max_time), (mint, maxt));
            }
        }
        std::fs::remove_dir_all(&root).unwrap();
    }
}

#[test]
fn the_same_series_twice_is_refused() {
    let root = tmpdir("dup");
    let mut w = PromBlockWriter::create(&root, 0, 100).unwrap();
    let l = Labels::from_pairs(&[("__name__", "x")]);
    w.add_series(&l, &mut VecSamples::new(vec![(1, 1.0)]))
        .unwrap();
    w.add_series(&l, &mut VecSamples::new(vec![(2, 1.0)]))
        .unwrap();
    assert!(w.finish(0).is_err());
    let mut w = PromBlockWriter::create(&root, 0, 100).unwrap();
    let back = VecSamples::new(vec![(5, 1.0), (5, 2.0)]);
    assert!(w.add_series(&l, &mut back.clone()).is_err());
    assert!(PromBlockWriter::create(&root, 5, 5).is_err());
    let _ = std::fs::remove_dir_all(&root);
}

fn fill_db(db: &mut Db) -> Data {
    let mut want = Data::new();
    let mut app = db.appender();
    for i in 0..20i64 {
        let l = Labels::from_pairs(&[
            ("__name__", "req_total"),
            ("pod", &format!("p{i}")),
            ("zone", if i % 2 == 0 { "a" } else { "b" }),
        ]);
        for k in 0..300i64 {
            let (t, v) = (k * 15_000 + i, (k * i) as f64 / 3.0);
            app.append(&l, t, v).unwrap();
            want.entry(l.clone()).or_default().push((t, v.to_bits()));
        }
    }
    app.commit().unwrap();
    want
}

#[test]
fn native_block_and_db_export() {
    let mut db = Db::in_memory(HeadOptions::default());
    let want = fill_db(&mut db);
    let root = tmpdir("native");
    let meta = write_head_block(db.head(), root.join("native"), 0, 7_200_000, 5)
        .unwrap()
        .unwrap();
    let native = Block::open(root.join("native").join(&meta.ulid)).unwrap();
    let pm = export_native_block(&native, root.join("prom"), 5)
        .unwrap()
        .unwrap();
    assert_eq!(pm.stats.num_samples, meta.stats.num_samples);
    let b = PromBlock::open(root.join("prom").join(&pm.ulid)).unwrap();
    assert_eq!(read_back(&b), want);

    // The Db path: head only, a sub-range.
    let dm = export_db(&db, root.join("db"), 1_000_000, 2_000_000, 6)
        .unwrap()
        .unwrap();
    let b = PromBlock::open(root.join("db").join(&dm.ulid)).unwrap();
    let sub: Data = want
        .iter()
        .map(|(l, v)| {
            let v = v
                .iter()
                .copied()
                .filter(|s| (1_000_000..2_000_000).contains(&s.0))
                .collect();
            (l.clone(), v)
        })
        .collect();
    assert_eq!(read_back(&b), sub);
    let mut it = b.all_series()[0].iter().unwrap();
    assert!(it.seek(1_500_000));
    assert!(it.at().0 >= 1_500_000);
    std::fs::remove_dir_all(&root).unwrap();
}
