//! Importing blocks that Prometheus itself wrote (`promtool tsdb create-blocks-from
//! openmetrics`, fixture in `tests/fixtures/promblock/`): the samples must be exactly those
//! of the OpenMetrics input, parsed independently, and re-exporting them must give the
//! same bytes Prometheus wrote.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use exposition::openmetrics::OpenMetricsParser;
use exposition::{Entry, Labels, MatchOp, Matcher};
use tsdb::chunk::{SampleIterator, XorAppender, XorIter};
use tsdb::promblock::{PromBlock, PromBlockError, PromBlockWriter};
use tsdb::Block;

type Samples = BTreeMap<Labels, Vec<(i64, u64)>>;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/promblock")
}

fn block_dirs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixture().join("blocks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("promblock-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A value's bit pattern, with every NaN but the staleness marker made one: Go's
/// `ParseFloat("NaN")` (what promtool stored) is 0x7ff8000000000001, Rust's ends in 0.
fn bits(v: f64) -> u64 {
    if v.is_nan() && !tsdb::storage::is_stale_nan(v) {
        f64::NAN.to_bits()
    } else {
        v.to_bits()
    }
}

/// The samples of input.om, by series, values as bit patterns.
fn expected() -> Samples {
    let text = std::fs::read(fixture().join("input.om")).unwrap();
    let mut out = Samples::new();
    for e in OpenMetricsParser::lenient(&text) {
        if let Entry::Sample(s) = e.unwrap() {
            out.entry(s.to_labels())
                .or_default()
                .push((s.timestamp.unwrap(), bits(s.value)));
        }
    }
    out
}

fn imported(blocks: &[PromBlock]) -> Samples {
    let mut out = Samples::new();
    for b in blocks {
        for s in b.all_series() {
            let v = out.entry(s.labels().clone()).or_default();
            v.extend(s.samples().unwrap().iter().map(|&(t, v)| (t, bits(v))));
        }
    }
    out
}

#[test]
fn prometheus_blocks_import_exactly() {
    let blocks: Vec<PromBlock> = block_dirs()
        .iter()
        .map(|d| PromBlock::open(d).unwrap())
        .collect();
    assert_eq!(blocks.len(), 3);
    for b in &blocks {
        b.verify_chunks().unwrap();
        assert!(b.tombstones().is_empty());
        let n: usize = b
            .all_series()
            .iter()
            .map(|s| s.samples().unwrap().len())
            .sum();
        assert_eq!(n as u64, b.meta().stats.num_samples);
        assert_eq!(b.series().len() as u64, b.meta().stats.num_series);
    }
    let want = expected();
    assert_eq!(want.len(), 4);
    let got = imported(&blocks);
    for (l, v) in &want {
        let g = &got[l];
        for (a, b) in g.iter().zip(v) {
            assert_eq!(
                a,
                b,
                "{l}: {:?} vs {:?}",
                f64::from_bits(a.1),
                f64::from_bits(b.1)
            );
        }
        assert_eq!(g.len(), v.len(), "{l}");
    }
    assert_eq!(got, want);
    // The 180-sample series spans more than one chunk.
    let big = blocks[0].select(&[Matcher::equal("code", "200")], i64::MIN, i64::MAX);
    assert_eq!(big.len(), 1);
    assert!(big[0].chunks().len() > 1);
}

#[test]
fn select_by_matchers_and_range() {
    let b = PromBlock::open(&block_dirs()[0]).unwrap();
    let m = |op, n: &str, v: &str| Matcher::new(op, n, v).unwrap();
    let all = b.select(&[], i64::MIN, i64::MAX);
    assert_eq!(all.len(), 3);
    let names = |v: Vec<tsdb::promblock::PromSeries<'_>>| -> Vec<String> {
        v.iter().map(|s| s.labels().to_string()).collect()
    };
    assert_eq!(
        names(b.select(
            &[
                m(MatchOp::RegexMatch, "__name__", "http_.*"),
                m(MatchOp::NotEqual, "code", "200")
            ],
            i64::MIN,
            i64::MAX
        )),
        [r#"http_requests_total{code="500", handler="/api"}"#]
    );
    assert_eq!(
        names(b.select(&[m(MatchOp::Equal, "site", "zürich")], i64::MIN, i64::MAX)).len(),
        1
    );
    // A matcher matching the empty string selects series without the label.
    assert_eq!(
        b.select(&[m(MatchOp::Equal, "site", "")], i64::MIN, i64::MAX)
            .len(),
        2
    );
    assert!(b
        .select(&[m(MatchOp::Equal, "code", "404")], i64::MIN, i64::MAX)
        .is_empty());
    // Range clipping is inclusive at both ends.
    let t0 = 1_700_000_000_000;
    let s = &b.select(
        &[m(MatchOp::Equal, "code", "200")],
        t0 + 15_000,
        t0 + 45_000,
    )[0];
    let got: Vec<i64> = s.samples().unwrap().iter().map(|x| x.0).collect();
    assert_eq!(got, [t0 + 15_000, t0 + 30_000, t0 + 45_000]);
    let mut it = s.iter().unwrap();
    assert!(it.seek(t0 + 40_000));
    assert_eq!(it.at().0, t0 + 45_000);
    assert!(!it.next());
    assert_eq!(b.label_values("code"), ["200", "500"]);
    assert!(b.label_names().contains(&"__name__".to_string()));
}

#[test]
fn reexport_is_byte_identical_to_prometheus() {
    let out = tmpdir("reexport");
    let mut padded = 0;
    for dir in block_dirs() {
        let b = PromBlock::open(&dir).unwrap();
        let mut w = PromBlockWriter::create(&out, b.meta().min_time, b.meta().max_time).unwrap();
        for s in b.all_series() {
            let raw = s.raw_chunks().unwrap();
            // Our XOR encoder, fed each chunk's samples, writes Prometheus's bytes.
            for (c, data) in raw.iter().enumerate() {
                let mut app = XorAppender::default();
                let mut it = XorIter::new(data);
                while it.next() {
                    let (t, v) = it.at();
                    app.append(t, v);
                }
                // Go's bit stream leaves one spare zero byte when the last write was
                // whole bytes on a byte boundary; ours trims it. Readers ignore it.
                let ours = app.finish();
                let theirs = match data.split_last() {
                    Some((0, rest)) if rest.len() == ours.len() => rest,
                    _ => data,
                };
                assert_eq!(&*ours, theirs, "{} chunk {c}", s.labels());
                padded += usize::from(theirs.len() != data.len());
            }
            w.add_series_chunks(s.labels(), &raw).unwrap();
        }
        let meta = w.finish(1_700_000_000_000).unwrap().unwrap();
        assert_eq!(meta.stats, b.meta().stats);
        let ours = out.join(&meta.ulid);
        for f in ["index", "chunks/000001", "tombstones"] {
            let a = std::fs::read(dir.join(f)).unwrap();
            let z = std::fs::read(ours.join(f)).unwrap();
            assert!(a == z, "{f} of {} differs from ours", dir.display());
        }
    }
    assert!(
        padded >= 1,
        "the single-sample chunk ends in Go's spare byte"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn convert_to_native_keeps_every_sample() {
    let out = tmpdir("convert");
    let mut want = Samples::new();
    let mut got = Samples::new();
    for dir in block_dirs() {
        let b = PromBlock::open(&dir).unwrap();
        let report = b.convert_to_native(&out, 1_700_000_000_000).unwrap();
        assert!(report.skipped_series.is_empty());
        let meta = report.meta.unwrap();
        assert_eq!(meta.stats.num_samples, b.meta().stats.num_samples);
        let native = Block::open(out.join(&meta.ulid)).unwrap();
        native.verify_chunks().unwrap();
        let q = native.querier(i64::MIN, i64::MAX);
        for s in q.select(&[], &Default::default()).unwrap() {
            let mut it = s.iter();
            while it.next() {
                let (t, v) = it.at();
                got.entry(s.labels().clone())
                    .or_default()
                    .push((t, bits(v)));
            }
        }
        for (l, v) in imported(&[b]) {
            want.entry(l).or_default().extend(v);
        }
    }
    assert_eq!(got, want);
    assert_eq!(got, expected());
    std::fs::remove_dir_all(&out).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn damage_is_reported_with_file_section_and_offset() {
    let src = &block_dirs()[0];
    let root = tmpdir("damage");
    let dst = root.join(src.file_name().unwrap());
    copy_dir(src, &dst);
    // A flipped bit in a chunk: opening works, reading that series fails.
    let seg = dst.join("chunks/000001");
    let mut b = std::fs::read(&seg).unwrap();
    b[20] ^= 0x10;
    std::fs::write(&seg, &b).unwrap();
    let blk = PromBlock::open(&dst).unwrap();
    let errs: Vec<PromBlockError> = blk
        .all_series()
        .iter()
        .filter_map(|s| s.iter().err())
        .collect();
    assert_eq!(errs.len(), 1);
    match &errs[0] {
        PromBlockError::Checksum {
            file,
            section,
            offset,
            ..
        } => {
            assert!(file.ends_with("chunks/000001"));
            assert_eq!((*section, *offset), ("chunk", 8));
        }
        e => panic!("{e}"),
    }
    assert!(blk.verify_chunks().is_err());
    // A flipped bit in the index: opening fails.
    let idx = dst.join("index");
    let mut b = std::fs::read(&idx).unwrap();
    b[100] ^= 0x01;
    std::fs::write(&idx, &b).unwrap();
    let e = PromBlock::open(&dst).unwrap_err();
    assert!(e.to_string().contains("index"), "{e}");
    // A truncated index, an unknown tombstones version, a missing meta.json.
    std::fs::write(&idx, &b[..40]).unwrap();
    assert!(PromBlock::open(&dst).is_err());
    copy_dir(src, &dst);
    std::fs::write(
        dst.join("tombstones"),
        [0x01, 0x30, 0xba, 0x30, 9, 0, 0, 0, 0],
    )
    .unwrap();
    assert!(matches!(
        PromBlock::open(&dst),
        Err(PromBlockError::UnsupportedVersion {
            what: "tombstones",
            ..
        })
    ));
    std::fs::remove_file(dst.join("meta.json")).unwrap();
    assert!(PromBlock::open(&dst).is_err());
    std::fs::remove_dir_all(&root).unwrap();
}

/// Copies the first fixture block and relabels its first chunk with encoding `enc` (CRC
/// fixed up); returns the scratch root and the copy.
fn relabelled_first_chunk(name: &str, enc: u8) -> (std::path::PathBuf, std::path::PathBuf) {
    let src = &block_dirs()[0];
    let root = tmpdir(name);
    let dst = root.join(src.file_name().unwrap());
    copy_dir(src, &dst);
    let seg = dst.join("chunks/000001");
    let mut b = std::fs::read(&seg).unwrap();
    // The record starts at offset 8 with a uvarint length.
    let (mut len, mut at, mut shift) = (0usize, 8usize, 0);
    loop {
        len |= usize::from(b[at] & 0x7f) << shift;
        at += 1;
        shift += 7;
        if b[at - 1] < 0x80 {
            break;
        }
    }
    b[at] = enc;
    let crc = tsdb::promblock::crc::crc32c(&b[at..at + 1 + len]);
    b[at + 1 + len..at + 5 + len].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(&seg, &b).unwrap();
    (root, dst)
}

#[test]
fn unknown_chunk_encodings_are_reported_and_skipped_by_convert() {
    let (root, dst) = relabelled_first_chunk("enc9", 9);
    let blk = PromBlock::open(&dst).unwrap();
    let first = &blk.all_series()[0];
    assert!(matches!(
        first.iter(),
        Err(PromBlockError::UnsupportedEncoding {
            encoding: 9,
            offset: 8,
            ..
        })
    ));
    assert!(matches!(
        first.mixed_iter(),
        Err(PromBlockError::UnsupportedEncoding { encoding: 9, .. })
    ));
    let report = blk.convert_to_native(root.join("native"), 1).unwrap();
    assert_eq!(report.skipped_series, [first.labels().clone()]);
    let meta = report.meta.unwrap();
    assert_eq!(meta.stats.num_series, blk.series().len() as u64 - 1);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn an_xor_chunk_labelled_as_histograms_is_corruption_not_a_panic() {
    // Histogram chunks are read (see promblock_histograms.rs); XOR bytes under encoding 2
    // or 3 do not decode as one, and the error names the chunk.
    for enc in [2u8, 3] {
        let (root, dst) = relabelled_first_chunk(&format!("enc{enc}"), enc);
        let blk = PromBlock::open(&dst).unwrap();
        let first = &blk.all_series()[0];
        // The float-only iterator still refuses a histogram chunk.
        assert!(matches!(
            first.iter(),
            Err(PromBlockError::UnsupportedEncoding { offset: 8, .. })
        ));
        let err = first.mixed_iter().unwrap_err();
        assert!(
            matches!(
                err,
                PromBlockError::Corrupt {
                    section: "chunk",
                    offset: 8,
                    ..
                }
            ),
            "{err}"
        );
        assert!(blk.verify_chunks().is_err());
        assert!(blk.convert_to_native(root.join("native"), 1).is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
