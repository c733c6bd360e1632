//! Blocks through the public API: head → block → reopen gives the same answers, and a
//! damaged byte in any section is reported as corruption naming that section.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use exposition::{Labels, MatchOp, Matcher};
use tsdb::block::{write_head_block, BlockWriter};
use tsdb::chunk::SampleIterator;
use tsdb::storage::stale_nan;
use tsdb::{Block, Error, Head, Queryable, SelectHints};

/// A fresh, empty directory under the system temp dir (removed on drop).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "tsdb-block-{tag}-{}-{}",
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

fn m(op: MatchOp, n: &str, v: &str) -> Matcher {
    Matcher::new(op, n, v).unwrap()
}

type Dump = Vec<(String, Vec<(i64, u64)>)>;

fn dump_head(head: &Head, ms: &[Matcher], mint: i64, maxt: i64) -> Dump {
    let q = head.querier(mint, maxt).unwrap();
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

fn dump_block(b: &Block, ms: &[Matcher], mint: i64, maxt: i64) -> Dump {
    let q = b.querier(mint, maxt);
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

/// 60 series over two hours at a 15 s interval (480 samples each: several chunks), with
/// a staleness marker and irregular values.
fn head() -> Head {
    let mut head = Head::default();
    let mut app = head.appender();
    for i in 0..60 {
        let l = Labels::from_pairs(&[
            (
                "__name__",
                if i % 3 == 0 {
                    "up"
                } else {
                    "http_requests_total"
                },
            ),
            ("job", ["api", "node", "db"][i % 3]),
            ("instance", &format!("host-{i}:9100")),
        ]);
        let mut r = None;
        for k in 0..480i64 {
            let t = k * 15_000 + (i as i64 % 7);
            let v = if k == 200 && i == 5 {
                stale_nan()
            } else {
                (k * (i as i64 + 1)) as f64 * 0.25
            };
            r = Some(match r {
                None => app.append(&l, t, v).unwrap(),
                Some(r) => {
                    app.append_ref(r, t, v).unwrap();
                    r
                }
            });
        }
    }
    app.commit();
    head
}

const RANGE: i64 = 2 * 3600 * 1000;

#[test]
fn head_to_block_and_back_gives_the_same_samples() {
    let dir = TempDir::new("roundtrip");
    let head = head();
    let meta = write_head_block(&head, &dir.0, 0, RANGE, 1_700_000_000_000)
        .unwrap()
        .unwrap();
    assert_eq!(meta.stats.num_series, 60);
    assert_eq!(meta.stats.num_samples, 60 * 480);
    // 480 samples per series: one block chunk each (BLOCK_SAMPLES_PER_CHUNK).
    assert_eq!(meta.stats.num_chunks, 60, "{:?}", meta.stats);
    assert_eq!(meta.compaction.level, 1);
    // Only the final directory is left: no .tmp.
    let entries: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(entries, vec![meta.ulid.clone()]);

    let block = Block::open(dir.0.join(&meta.ulid)).unwrap();
    assert_eq!(block.meta(), &meta);
    block.verify_chunks().unwrap();
    let cases: Vec<(Vec<Matcher>, i64, i64)> = vec![
        (vec![m(MatchOp::Equal, "job", "api")], 0, RANGE),
        (
            vec![m(MatchOp::NotEqual, "job", "api")],
            1_000_000,
            2_000_000,
        ),
        (
            vec![m(MatchOp::RegexMatch, "instance", "host-1.*")],
            0,
            RANGE,
        ),
        (
            vec![m(MatchOp::RegexNoMatch, "__name__", "up|x")],
            3_000_000,
            3_000_000,
        ),
        (vec![m(MatchOp::Equal, "nope", "")], 0, 100_000),
        (vec![m(MatchOp::Equal, "job", "none")], 0, RANGE),
        (
            vec![
                m(MatchOp::Equal, "__name__", "up"),
                m(MatchOp::RegexMatch, "job", "api|db"),
            ],
            -5,
            7,
        ),
    ];
    for (ms, lo, hi) in &cases {
        let want = dump_head(&head, ms, *lo, *hi);
        let got = dump_block(&block, ms, *lo, *hi);
        assert_eq!(got, want, "matchers {ms:?} [{lo}, {hi}]");
    }
    // At least one case has data, and the stale marker survives bit for bit.
    let all = dump_block(
        &block,
        &[m(MatchOp::Equal, "instance", "host-5:9100")],
        0,
        RANGE,
    );
    assert_eq!(all[0].1.len(), 480);
    assert_eq!(all[0].1[200].1, stale_nan().to_bits());

    let hq = head.querier(0, RANGE).unwrap();
    let bq = block.querier(0, RANGE);
    let ms = [m(MatchOp::Equal, "job", "node")];
    assert_eq!(bq.label_names(&[]).unwrap(), hq.label_names(&[]).unwrap());
    assert_eq!(bq.label_names(&ms).unwrap(), hq.label_names(&ms).unwrap());
    for name in ["job", "instance", "__name__", "missing"] {
        assert_eq!(
            bq.label_values(name, &[]).unwrap(),
            hq.label_values(name, &[]).unwrap()
        );
        assert_eq!(
            bq.label_values(name, &ms).unwrap(),
            hq.label_values(name, &ms).unwrap()
        );
    }

    // Seek on a block iterator.
    let set = bq.select(
        &[m(MatchOp::Equal, "instance", "host-0:9100")],
        &SelectHints::default(),
    );
    let s = set.unwrap().next().unwrap();
    let mut it = s.iter();
    assert!(it.seek(3_600_000));
    assert_eq!(it.at().0, 3_600_000);
    assert!(it.next());
    assert_eq!(it.at().0, 3_615_000);
}

#[test]
fn a_range_cut_keeps_only_samples_inside_it() {
    let dir = TempDir::new("cut");
    let head = head();
    let meta = write_head_block(&head, &dir.0, 1_800_000, 3_600_000, 5)
        .unwrap()
        .unwrap();
    let block = Block::open(dir.0.join(&meta.ulid)).unwrap();
    let got = dump_block(&block, &[], i64::MIN, i64::MAX);
    let want = dump_head(&head, &[], 1_800_000, 3_599_999);
    assert_eq!(got, want);
    assert!(got
        .iter()
        .all(|(_, v)| v.iter().all(|&(t, _)| (1_800_000..3_600_000).contains(&t))));
    // Nothing in range: no block, no leftover temp dir.
    assert!(write_head_block(&head, &dir.0, RANGE * 5, RANGE * 6, 5)
        .unwrap()
        .is_none());
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 1);
}

#[test]
fn writer_rejects_unsorted_series() {
    let dir = TempDir::new("unsorted");
    let mut w = BlockWriter::create(&dir.0, 0, 100).unwrap();
    let mut h = Head::default();
    let mut app = h.appender();
    app.append(&Labels::from_pairs(&[("a", "2")]), 1, 1.0)
        .unwrap();
    app.append(&Labels::from_pairs(&[("a", "1")]), 1, 1.0)
        .unwrap();
    app.commit();
    let q = h.querier(0, 100).unwrap();
    let mut set: Vec<_> = q.select(&[], &SelectHints::default()).unwrap().collect();
    set.reverse();
    w.add_series(set[0].labels(), &mut set[0].iter()).unwrap();
    let e = w
        .add_series(set[1].labels(), &mut set[1].iter())
        .unwrap_err();
    assert!(matches!(e, Error::InvalidBlockWrite(_)), "{e}");
}

fn read_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn corrupt_at(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[at] ^= 0x01;
    std::fs::write(path, b).unwrap();
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

#[test]
fn a_damaged_byte_in_each_section_is_reported() {
    let root = TempDir::new("corrupt");
    let head = head();
    let meta = write_head_block(&head, &root.0, 0, RANGE, 1)
        .unwrap()
        .unwrap();
    let good = root.0.join(&meta.ulid);
    let index = std::fs::read(good.join("index")).unwrap();
    let toc = index.len() - 72;
    // (label, byte to damage in the index, section expected in the error)
    let mut targets: Vec<(usize, &str)> =
        vec![(1, "header"), (toc + 3, "toc"), (index.len() - 2, "toc")];
    for (i, name) in ["symbols", "series", "label index", "postings"]
        .iter()
        .enumerate()
    {
        let off = read_u64(&index, toc + 16 * i) as usize;
        let len = read_u64(&index, toc + 16 * i + 8) as usize;
        targets.push((off, name));
        targets.push((off + len / 2, name));
        targets.push((off + len + 3, name)); // the section's checksum itself
    }
    for (n, (at, section)) in targets.iter().enumerate() {
        let copy_root = root.0.join(format!("c{n}"));
        let copy = copy_root.join(&meta.ulid);
        copy_dir(&good, &copy);
        corrupt_at(&copy.join("index"), *at);
        match Block::open(&copy) {
            Err(Error::BlockCorruption {
                file, section: s, ..
            }) => {
                assert_eq!(&s, section, "byte {at}");
                assert!(file.ends_with("index"), "{file:?}");
            }
            other => panic!("byte {at} ({section}): {other:?}"),
        }
    }

    // A damaged chunk: opening does not read chunks, so it succeeds; select and verify fail.
    let copy = root.0.join("chunk").join(&meta.ulid);
    copy_dir(&good, &copy);
    let seg = copy.join("chunks").join("000001");
    let len = std::fs::metadata(&seg).unwrap().len() as usize;
    corrupt_at(&seg, len / 2);
    let block = Block::open(&copy).unwrap();
    let e = block.verify_chunks().unwrap_err();
    assert!(
        matches!(&e, Error::BlockCorruption { section: "chunk", file, .. } if file.ends_with("000001")),
        "{e}"
    );
    let q = block.querier(0, RANGE);
    let e = q.select(&[], &SelectHints::default()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::BlockCorruption {
                section: "chunk",
                ..
            }
        ),
        "{e}"
    );
    // The segment header is a section too.
    let copy = root.0.join("chunkhdr").join(&meta.ulid);
    copy_dir(&good, &copy);
    corrupt_at(&copy.join("chunks").join("000001"), 0);
    let e = Block::open(&copy).unwrap().verify_chunks().unwrap_err();
    assert!(
        matches!(
            e,
            Error::BlockCorruption {
                section: "header",
                ..
            }
        ),
        "{e}"
    );

    // A missing chunk segment is found at open, from the file sizes alone.
    let copy = root.0.join("noseg").join(&meta.ulid);
    copy_dir(&good, &copy);
    std::fs::remove_file(copy.join("chunks").join("000001")).unwrap();
    let e = Block::open(&copy).unwrap_err();
    assert!(
        matches!(
            e,
            Error::BlockCorruption {
                section: "chunk",
                ..
            }
        ),
        "{e}"
    );

    // meta.json damaged, truncated, or naming another block.
    let copy = root.0.join("meta").join(&meta.ulid);
    copy_dir(&good, &copy);
    let mut j = std::fs::read(copy.join("meta.json")).unwrap();
    j.truncate(j.len() / 2);
    std::fs::write(copy.join("meta.json"), &j).unwrap();
    let e = Block::open(&copy).unwrap_err();
    assert!(
        matches!(
            e,
            Error::BlockCorruption {
                section: "meta",
                ..
            }
        ),
        "{e}"
    );
    let copy = root.0.join("renamed").join("01ARZ3NDEKTSV4RRFFQ69G5FAV");
    copy_dir(&good, &copy);
    let e = Block::open(&copy).unwrap_err();
    assert!(
        matches!(
            e,
            Error::BlockCorruption {
                section: "meta",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn every_index_byte_flip_and_truncation_is_an_error_never_a_panic() {
    let root = TempDir::new("fuzz");
    let mut head = Head::default();
    let mut app = head.appender();
    for i in 0..3 {
        let l = Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())]);
        app.append(&l, 10, 1.0).unwrap();
        app.append(&l, 20, 2.0).unwrap();
    }
    app.commit();
    let meta = write_head_block(&head, &root.0, 0, 100, 1)
        .unwrap()
        .unwrap();
    let dir = root.0.join(&meta.ulid);
    let index = std::fs::read(dir.join("index")).unwrap();
    for i in 0..index.len() {
        let mut b = index.clone();
        b[i] ^= 0x80;
        std::fs::write(dir.join("index"), &b).unwrap();
        assert!(
            matches!(Block::open(&dir), Err(Error::BlockCorruption { .. })),
            "byte {i}"
        );
    }
    for n in 0..index.len() {
        std::fs::write(dir.join("index"), &index[..n]).unwrap();
        assert!(Block::open(&dir).is_err(), "length {n}");
    }
    std::fs::write(dir.join("index"), &index).unwrap();
    assert_eq!(
        dump_block(&Block::open(&dir).unwrap(), &[], 0, 100).len(),
        3
    );
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Any head data, any block range, any query range: the block answers like the head
        /// restricted to the block's range.
        #[test]
        fn block_matches_head(
            series in proptest::collection::vec(
                (0u8..4, 0u8..3, proptest::collection::vec((1i64..5_000, any::<u64>()), 1..300)),
                1..12,
            ),
            lo in 0i64..400_000,
            width in 1i64..600_000,
            q in (0i64..700_000, 0i64..700_000),
        ) {
            let dir = TempDir::new("prop");
            let mut head = Head::default();
            let mut app = head.appender();
            for (a, b, deltas) in &series {
                let l = Labels::from_pairs(&[("a", a.to_string()), ("b", b.to_string())]);
                let mut t = 0;
                for (d, v) in deltas {
                    t += d;
                    // Duplicate label sets just add samples (later ones may be rejected).
                    let _ = app.append(&l, t, f64::from_bits(*v));
                }
            }
            app.commit();
            let (hi, (qa, qb)) = (lo + width, q);
            let (qlo, qhi) = (qa.min(qb), qa.max(qb));
            let Some(meta) = write_head_block(&head, &dir.0, lo, hi, 1).unwrap() else {
                prop_assert!(dump_head(&head, &[], lo, hi - 1).is_empty());
                return Ok(());
            };
            let block = Block::open(dir.0.join(&meta.ulid)).unwrap();
            block.verify_chunks().unwrap();
            // Both sources may return a series whose chunks overlap the range but whose
            // samples all fall in a gap; compare what has samples.
            let nonempty = |d: Dump| d.into_iter().filter(|(_, v)| !v.is_empty()).collect::<Dump>();
            let want = nonempty(dump_head(&head, &[], qlo.max(lo), qhi.min(hi - 1)));
            prop_assert_eq!(nonempty(dump_block(&block, &[], qlo, qhi)), want);
            let ms = [m(MatchOp::RegexMatch, "a", "1|2")];
            prop_assert_eq!(
                nonempty(dump_block(&block, &ms, lo, hi)),
                nonempty(dump_head(&head, &ms, lo, hi - 1))
            );
        }
    }
}
