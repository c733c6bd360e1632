//! Native histograms through Prometheus-format blocks: a database holding integer and
//! float histograms (exponential and custom buckets, layout changes, counter resets,
//! gauges, staleness) next to floats is exported, read back with the Prometheus block
//! reader, scrubbed, and converted into one of our native blocks, and every step gives
//! the same samples. Damaged histogram chunks are errors, never panics.

use exposition::histogram::{
    CounterResetHint, FloatHistogram, Histogram, Span, CUSTOM_BUCKETS_SCHEMA,
};
use exposition::{Labels, Matcher};
use tsdb::chunk::{MixedIterator, ValueType};
use tsdb::promblock::histogram_chunk::{self, ENCODING_HISTOGRAM};
use tsdb::promblock::{export_db, PromBlock};
use tsdb::{Block, Db, HeadOptions, SelectHints};

const T0: i64 = 1_700_000_000_000;

fn tmpdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("promblock-hist-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A sample as compared across the steps: floats by bits; histograms (kind kept) as
/// float histograms without their counter-reset hint (each store derives hints from its
/// own chunk boundaries) and with empty buckets compacted away (a store may widen a
/// chunk's layout, giving earlier samples explicit empty buckets).
#[derive(Debug, Clone, PartialEq)]
enum S {
    F(u64),
    H(FloatHistogram),
    FH(FloatHistogram),
}

fn normal(mut h: FloatHistogram) -> FloatHistogram {
    h.counter_reset_hint = CounterResetHint::Unknown;
    h.compact(0);
    h
}

fn collect(it: &mut dyn MixedIterator) -> Vec<(i64, S)> {
    let mut out = Vec::new();
    loop {
        match it.next() {
            ValueType::None => return out,
            ValueType::Float => {
                let (t, v) = it.at();
                out.push((t, S::F(v.to_bits())));
            }
            ValueType::Histogram => {
                let mut h = Histogram::default();
                let t = it.at_histogram(&mut h);
                out.push((t, S::H(normal(h.to_float()))));
            }
            ValueType::FloatHistogram => {
                let mut h = FloatHistogram::default();
                let t = it.at_float_histogram(&mut h);
                out.push((t, S::FH(normal(h))));
            }
        }
    }
}

type Dump = Vec<(Labels, Vec<(i64, S)>)>;

/// Asserts two dumps are equal, reporting only the first difference.
fn assert_same(got: &Dump, want: &Dump, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: series count");
    for ((gl, gs), (wl, ws)) in got.iter().zip(want) {
        assert_eq!(gl, wl, "{what}: labels");
        for (i, (g, w)) in gs.iter().zip(ws).enumerate() {
            assert_eq!(g, w, "{what}: {wl} sample {i}");
        }
        assert_eq!(gs.len(), ws.len(), "{what}: {wl} sample count");
    }
}

fn exp_histogram(k: i64) -> Histogram {
    // Layout grows at k = 150 (a new bucket), so a new chunk starts there.
    let wide = k >= 150;
    let mut positive_spans = vec![Span::new(-2, 2), Span::new(3, 1)];
    let mut positive_buckets = vec![k, -k + 3, 2 * k];
    if wide {
        positive_spans.push(Span::new(0, 1));
        positive_buckets.push(-(2 * k) + 1);
    }
    let in_buckets: i64 = {
        let mut acc = 0;
        positive_buckets
            .iter()
            .map(|d| {
                acc += d;
                acc
            })
            .sum()
    };
    Histogram {
        counter_reset_hint: CounterResetHint::Unknown,
        schema: 3,
        zero_threshold: 2f64.powi(-128),
        zero_count: k as u64,
        count: (in_buckets + k + 5) as u64,
        sum: k as f64 * 1.25 - 7.0,
        positive_spans,
        positive_buckets,
        negative_spans: vec![Span::new(1, 1)],
        negative_buckets: vec![5],
        custom_values: vec![],
    }
}

fn fill() -> Db {
    let mut db = Db::in_memory(HeadOptions::default());
    let mut app = db.appender();
    let ints = Labels::from_pairs(&[("__name__", "rpc_seconds"), ("job", "a")]);
    let gauge = Labels::from_pairs(&[("__name__", "queue_depth"), ("job", "a")]);
    let nhcb = Labels::from_pairs(&[("__name__", "size_bytes"), ("job", "a")]);
    let floats = Labels::from_pairs(&[("__name__", "up"), ("job", "a")]);
    for k in 0..300i64 {
        let t = T0 + k * 15_000;
        // A counter reset at k = 200: counts restart from 0.
        let h = exp_histogram(if k >= 200 { k - 200 } else { k });
        app.append_histogram(&ints, t, &h).unwrap();
        let g = FloatHistogram {
            counter_reset_hint: CounterResetHint::Gauge,
            schema: -1,
            zero_threshold: 0.001,
            zero_count: 0.5,
            count: 3.0 + (k % 7) as f64 + 0.5,
            sum: (k as f64).sin(),
            positive_spans: vec![Span::new(0, 2)],
            positive_buckets: vec![1.0, 2.0 + (k % 7) as f64],
            ..FloatHistogram::default()
        };
        app.append_float_histogram(&gauge, t, &g).unwrap();
        let c = FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 2.0 * k as f64 + 1.0,
            sum: 0.3 * k as f64,
            positive_spans: vec![Span::new(0, 1), Span::new(1, 1)],
            positive_buckets: vec![k as f64, k as f64 + 1.0],
            custom_values: vec![0.25, 1.5, 1e6 + 0.123],
            ..FloatHistogram::default()
        };
        app.append_float_histogram(&nhcb, t, &c).unwrap();
        app.append(&floats, t, (k % 2) as f64).unwrap();
    }
    // The float series ends with a staleness marker.
    app.append(&floats, T0 + 300 * 15_000, tsdb::storage::stale_nan())
        .unwrap();
    app.commit().unwrap();
    db
}

fn db_samples(db: &Db) -> Dump {
    let q = db.db_querier(i64::MIN / 2, i64::MAX / 2);
    let mut out = Vec::new();
    for s in q.select(&[], &SelectHints::default()).unwrap() {
        out.push((s.labels().clone(), collect(&mut s.mixed_iter())));
    }
    out
}

fn prom_samples(b: &PromBlock) -> Dump {
    b.all_series()
        .into_iter()
        .map(|s| (s.labels().clone(), collect(&mut s.mixed_iter().unwrap())))
        .collect()
}

fn native_samples(b: &Block) -> Dump {
    let q = b.querier(b.min_time(), b.max_time() - 1);
    q.select(&[], &SelectHints::default())
        .unwrap()
        .map(|s| (s.labels().clone(), collect(&mut s.sample_iter())))
        .collect()
}

#[test]
fn histograms_survive_export_read_and_conversion() {
    let db = fill();
    let want = db_samples(&db);
    assert_eq!(want.len(), 4);
    let root = tmpdir("roundtrip");
    let meta = export_db(&db, root.join("prom"), T0, T0 + 7_200_000, T0)
        .unwrap()
        .unwrap();
    assert_eq!(meta.stats.num_series, 4);
    assert_eq!(meta.stats.num_samples, 4 * 300 + 1);
    let block = PromBlock::open(root.join("prom").join(&meta.ulid)).unwrap();
    block.verify_chunks().unwrap();
    assert_same(&prom_samples(&block), &want, "exported");

    // The histogram series use Prometheus's histogram encodings, cut every 120 samples
    // and at the counter reset (the head widened the layout at k = 150 in place); the
    // reset chunk says so in its header.
    let rpc = block.select(
        &[Matcher::equal("__name__", "rpc_seconds")],
        i64::MIN,
        i64::MAX,
    );
    let metas = rpc[0].chunks();
    let starts: Vec<i64> = metas.iter().map(|c| (c.min_t - T0) / 15_000).collect();
    assert_eq!(starts, [0, 120, 200], "{metas:?}");
    let mut it = rpc[0].mixed_iter().unwrap();
    assert_eq!(it.seek(T0 + 200 * 15_000), ValueType::Histogram);
    let mut h = Histogram::default();
    it.at_histogram(&mut h);
    assert_eq!(h.counter_reset_hint, CounterResetHint::CounterReset);
    let mut it = block.select(&[Matcher::equal("__name__", "queue_depth")], T0, T0)[0]
        .mixed_iter()
        .unwrap();
    assert_eq!(it.next(), ValueType::FloatHistogram);
    let mut g = FloatHistogram::default();
    it.at_float_histogram(&mut g);
    assert_eq!(g.counter_reset_hint, CounterResetHint::Gauge);

    // Into our own block format and back.
    let report = block.convert_to_native(root.join("native"), T0).unwrap();
    assert!(
        report.skipped_series.is_empty(),
        "{:?}",
        report.skipped_series
    );
    let native = Block::open(root.join("native").join(report.meta.unwrap().ulid)).unwrap();
    assert_same(&native_samples(&native), &want, "converted");

    // Our block exports again to the same Prometheus samples.
    let again = tsdb::promblock::export_native_block(&native, root.join("again"), T0 + 1)
        .unwrap()
        .unwrap();
    let again = PromBlock::open(root.join("again").join(&again.ulid)).unwrap();
    assert_same(&prom_samples(&again), &want, "re-exported");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn histogram_chunks_are_bit_stable_and_damage_is_an_error() {
    let hs: Vec<Histogram> = (0..10).map(exp_histogram).collect();
    let refs: Vec<(i64, &Histogram)> = hs
        .iter()
        .enumerate()
        .map(|(i, h)| (T0 + i as i64, h))
        .collect();
    let c = histogram_chunk::encode_histograms(CounterResetHint::NotCounterReset, &refs);
    assert_eq!(u16::from_be_bytes([c[0], c[1]]), 10);
    assert_eq!(c[2], 0x40);
    // The layout opens with the one-byte zero threshold (2^-128 → 116), then schema 3
    // as varbit-int `10` + `011`.
    assert_eq!(c[3], 116);
    assert_eq!(c[4] >> 3, 0b10011);
    let back = histogram_chunk::decode(ENCODING_HISTOGRAM, &c).unwrap();
    assert_eq!(back.len(), 10);
    for (i, d) in back.iter().enumerate() {
        let histogram_chunk::Decoded::Int(t, h) = d else {
            panic!("{d:?}")
        };
        assert_eq!(*t, T0 + i as i64);
        assert_eq!(
            Histogram {
                counter_reset_hint: CounterResetHint::Unknown,
                ..h.clone()
            },
            hs[i]
        );
    }
    // Flipping any single byte (after the sample count) never panics; most flips are
    // caught as errors, the rest decode to something else.
    for i in 2..c.len() {
        let mut bad = c.clone();
        bad[i] ^= 0xa5;
        let _ = histogram_chunk::decode(ENCODING_HISTOGRAM, &bad);
        let _ = histogram_chunk::decode(histogram_chunk::ENCODING_FLOAT_HISTOGRAM, &bad);
    }
    assert!(histogram_chunk::decode(ENCODING_HISTOGRAM, &c[..c.len() / 2]).is_err());
}

mod props {
    use super::*;
    use histogram_chunk::{decode, encode_float_histograms, encode_histograms, Decoded};
    use proptest::prelude::*;

    proptest! {
        /// Any bytes under either histogram encoding decode or fail; never panic, never
        /// allocate past what the bytes could describe.
        #[test]
        fn arbitrary_bytes_never_panic(enc in 2u8..4, bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(enc, &bytes);
        }

        /// Random runs of integer histograms of one layout round-trip exactly (deltas of
        /// any size, including ones needing the 56- and 64-bit codes).
        #[test]
        fn integer_runs_round_trip(
            schema in -4i32..=8,
            spans in prop::collection::vec((-5i32..5, 1u32..4), 1..4),
            steps in prop::collection::vec((1i64..100_000, any::<u32>(), any::<f64>()), 1..40),
            big in any::<bool>(),
        ) {
            let spans: Vec<Span> = spans.iter().enumerate().map(|(i, &(o, l))| Span::new(if i == 0 { o } else { o.abs() }, l)).collect();
            let nb: usize = spans.iter().map(|s| s.length as usize).sum();
            let mut t = if big { i64::MIN / 4 } else { T0 };
            let mut hs = Vec::new();
            for (k, (dt, seed, sum)) in steps.iter().enumerate() {
                t += dt * if big { 1 << 20 } else { 1 };
                let scale = if big { 1i64 << 40 } else { 1 };
                let deltas: Vec<i64> = (0..nb).map(|i| ((*seed as i64 >> (i % 16)) % 1000 - 500) * scale + k as i64).collect();
                hs.push((t, Histogram {
                    counter_reset_hint: CounterResetHint::Unknown,
                    schema,
                    zero_threshold: 0.001,
                    zero_count: u64::from(*seed) * if big { 1 << 20 } else { 1 },
                    count: u64::from(*seed) / 3,
                    sum: *sum,
                    positive_spans: spans.clone(),
                    positive_buckets: deltas,
                    ..Histogram::default()
                }));
            }
            let refs: Vec<(i64, &Histogram)> = hs.iter().map(|(t, h)| (*t, h)).collect();
            let c = encode_histograms(CounterResetHint::Unknown, &refs);
            let back = decode(2, &c).unwrap();
            prop_assert_eq!(back.len(), hs.len());
            for ((t, h), d) in hs.iter().zip(&back) {
                match d {
                    Decoded::Int(bt, bh) => {
                        prop_assert_eq!(bt, t);
                        prop_assert_eq!(bh.sum.to_bits(), h.sum.to_bits());
                        // Everything else equal (sums compared by bits above: NaN != NaN).
                        let (mut bh, mut h) = (bh.clone(), h.clone());
                        bh.counter_reset_hint = CounterResetHint::Unknown;
                        (bh.sum, h.sum) = (0.0, 0.0);
                        prop_assert_eq!(bh, h);
                    }
                    Decoded::Stale(bt) => prop_assert!(tsdb::storage::is_stale_nan(h.sum) && bt == t),
                    other => prop_assert!(false, "{:?}", other),
                }
            }
        }

        /// Float histogram runs round-trip bit for bit.
        #[test]
        fn float_runs_round_trip(
            vals in prop::collection::vec((1i64..10_000, prop::collection::vec(any::<f64>(), 5)), 1..30),
        ) {
            let mut t = T0;
            let hs: Vec<(i64, FloatHistogram)> = vals.iter().map(|(dt, v)| {
                t += dt;
                (t, FloatHistogram {
                    schema: 1,
                    count: v[0],
                    zero_count: v[1],
                    sum: if tsdb::storage::is_stale_nan(v[2]) { 0.0 } else { v[2] },
                    positive_spans: vec![Span::new(2, 2)],
                    positive_buckets: vec![v[3], v[4]],
                    ..FloatHistogram::default()
                })
            }).collect();
            let refs: Vec<(i64, &FloatHistogram)> = hs.iter().map(|(t, h)| (*t, h)).collect();
            let c = encode_float_histograms(CounterResetHint::Gauge, &refs);
            let back = decode(3, &c).unwrap();
            prop_assert_eq!(back.len(), hs.len());
            for ((t, h), d) in hs.iter().zip(&back) {
                let Decoded::Float(bt, bh) = d else { return Err(TestCaseError::fail(format!("{d:?}"))) };
                prop_assert_eq!(bt, t);
                let bits = |h: &FloatHistogram| [h.count, h.zero_count, h.sum, h.positive_buckets[0], h.positive_buckets[1]].map(f64::to_bits);
                prop_assert_eq!(bits(bh), bits(h));
                prop_assert_eq!(bh.counter_reset_hint, CounterResetHint::Gauge);
            }
        }
    }
}
