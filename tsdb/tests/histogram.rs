//! Native histograms in the tsdb: chunk round trips, the head's chunk cutting and
//! counter-reset hints, and WAL replay, over random histogram sequences (layout changes,
//! resets, gauges, type switches).

use exposition::histogram::{
    CounterResetHint, FloatHistogram, Histogram, Span, CUSTOM_BUCKETS_SCHEMA,
};
use exposition::{Labels, Matcher};
use proptest::prelude::*;
use tsdb::chunk::{
    float_histogram, histogram, Encoding, FloatHistogramAppender, FloatHistogramIter,
    HistogramAppender, HistogramIter, SampleIterator, ValueType,
};
use tsdb::{Db, DbOptions, Error, Head, HeadOptions, MemDir, SelectHints};

static BLOCK_SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A histogram in absolute form, easy to evolve.
#[derive(Debug, Clone)]
struct Abs {
    schema: i32,
    zero_threshold: f64,
    zero: u64,
    pos_spans: Vec<Span>,
    neg_spans: Vec<Span>,
    pos: Vec<u64>,
    neg: Vec<u64>,
    custom: Vec<f64>,
    nan_obs: u64,
    sum: f64,
}

fn deltas(abs: &[u64]) -> Vec<i64> {
    let mut prev = 0i64;
    abs.iter()
        .map(|&c| {
            let d = c as i64 - prev;
            prev = c as i64;
            d
        })
        .collect()
}

impl Abs {
    fn count(&self) -> u64 {
        self.zero + self.pos.iter().sum::<u64>() + self.neg.iter().sum::<u64>() + self.nan_obs
    }

    fn to_hist(&self, hint: CounterResetHint) -> Histogram {
        Histogram {
            counter_reset_hint: hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count: self.zero,
            count: self.count(),
            sum: self.sum,
            positive_spans: self.pos_spans.clone(),
            negative_spans: self.neg_spans.clone(),
            positive_buckets: deltas(&self.pos),
            negative_buckets: deltas(&self.neg),
            custom_values: self.custom.clone(),
        }
    }

    /// Adds observations everywhere (no reset).
    fn grow(&mut self, seed: u64) {
        let mut x = seed;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 60) % 4
        };
        for c in self.pos.iter_mut().chain(self.neg.iter_mut()) {
            *c += next();
        }
        if self.schema != CUSTOM_BUCKETS_SCHEMA {
            self.zero += next();
        }
        self.sum += (seed % 1000) as f64 * 0.25;
    }

    /// Adds a bucket after the last positive one (a layout change, no reset).
    fn widen(&mut self) {
        if self.schema == CUSTOM_BUCKETS_SCHEMA {
            let last = self.custom.last().copied().unwrap_or(0.0);
            self.custom.push(last + 1.0);
            // Custom bounds changed: a new layout with the same counts.
            return;
        }
        match self.pos_spans.last_mut() {
            Some(s) => s.length += 1,
            None => self.pos_spans.push(Span::new(0, 1)),
        }
        self.pos.push(1);
    }
}

fn abs_strategy() -> impl Strategy<Value = Abs> {
    let spans = || {
        prop::collection::vec((0i32..3, 1u32..4), 0..3).prop_flat_map(|v| {
            let n: u32 = v.iter().map(|s| s.1).sum();
            let spans: Vec<Span> = v
                .iter()
                .enumerate()
                .map(|(i, &(off, len))| Span::new(if i == 0 { off - 2 } else { off }, len))
                .collect();
            (Just(spans), prop::collection::vec(0u64..50, n as usize))
        })
    };
    prop_oneof![
        4 => (-4i32..=8, prop_oneof![Just(0.0), Just(1e-128), Just(0.001)], 0u64..20, spans(), spans(), 0u64..3, -1e6f64..1e6)
            .prop_map(|(schema, zt, zero, (ps, pc), (ns, nc), nan_obs, sum)| Abs {
                schema,
                zero_threshold: zt,
                zero,
                pos_spans: ps,
                neg_spans: ns,
                pos: pc,
                neg: nc,
                custom: vec![],
                nan_obs,
                sum,
            }),
        1 => (1usize..6, 0u64..3).prop_flat_map(|(n, nan_obs)| {
            (Just(n), prop::collection::vec(0u64..50, n + 1), Just(nan_obs))
        })
        .prop_map(|(n, counts, nan_obs)| Abs {
            schema: CUSTOM_BUCKETS_SCHEMA,
            zero_threshold: 0.0,
            zero: 0,
            pos_spans: vec![Span::new(0, n as u32 + 1)],
            neg_spans: vec![],
            pos: counts,
            neg: vec![],
            custom: (0..n).map(|i| 0.5 * (i as f64 + 1.0)).collect(),
            nan_obs,
            sum: 12.5,
        }),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Grow(u64),
    Widen,
    Reset(Abs),
    /// A float sample in between (the series switches type).
    Float(f64),
}

fn steps() -> impl Strategy<Value = (Abs, Vec<(i64, Step)>)> {
    (
        abs_strategy(),
        prop::collection::vec(
            (
                prop_oneof![Just(15_000i64), Just(15_000), 1i64..100_000],
                prop_oneof![
                    12 => any::<u64>().prop_map(Step::Grow),
                    2 => Just(Step::Widen),
                    1 => abs_strategy().prop_map(Step::Reset),
                    1 => (-10.0f64..10.0).prop_map(Step::Float),
                ],
            ),
            1..200,
        ),
    )
}

/// What a read-back sample must look like.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    H(Histogram),
    F(f64),
}

/// Builds the sample sequence: histograms (hint Unknown) and floats, with `resets[i]`
/// telling whether sample `i` is a counter reset against the previous histogram.
fn build(first: &Abs, steps: &[(i64, Step)]) -> (Vec<(i64, Want)>, Vec<bool>) {
    let mut cur = first.clone();
    let mut t = 1_700_000_000_000i64;
    let mut out = vec![(t, Want::H(cur.to_hist(CounterResetHint::Unknown)))];
    let mut resets = vec![false];
    for (dt, step) in steps {
        t += dt;
        let mut reset = false;
        match step {
            Step::Grow(seed) => cur.grow(*seed),
            Step::Widen => cur.widen(),
            Step::Reset(a) => {
                // Strictly fewer observations than before, so the reset is detectable.
                let mut a = a.clone();
                while a.count() >= cur.count() && a.count() > 0 {
                    a.pos
                        .iter_mut()
                        .chain(a.neg.iter_mut())
                        .for_each(|c| *c /= 2);
                    a.zero /= 2;
                    a.nan_obs = 0;
                }
                if a.count() >= cur.count() {
                    cur.grow(1);
                } else {
                    cur = a;
                    reset = true;
                }
            }
            Step::Float(v) => {
                out.push((t, Want::F(*v)));
                resets.push(false);
                continue;
            }
        }
        out.push((t, Want::H(cur.to_hist(CounterResetHint::Unknown))));
        resets.push(reset);
    }
    (out, resets)
}

/// Buckets as `(index, absolute count)` with zero buckets left out: the head re-codes a
/// chunk into a wider layout when buckets appear, giving earlier samples explicit zero
/// buckets, which changes the spans but not the histogram.
fn nonzero(spans: &[Span], deltas: &[i64]) -> Vec<(i64, i64)> {
    let mut out = vec![];
    let (mut end, mut acc, mut k) = (0i64, 0i64, 0usize);
    for s in spans {
        let start = end + i64::from(s.offset);
        for j in 0..i64::from(s.length) {
            acc += deltas[k];
            k += 1;
            if acc != 0 {
                out.push((start + j, acc));
            }
        }
        end = start + i64::from(s.length);
    }
    out
}

/// A comparable canonical form of a sample (hint left out).
#[derive(Debug, PartialEq)]
enum Canon {
    F(u64),
    H(
        i32,
        u64,
        u64,
        u64,
        u64,
        Vec<(i64, i64)>,
        Vec<(i64, i64)>,
        Vec<u64>,
    ),
}

fn canon(w: &Want) -> Canon {
    match w {
        Want::F(v) => Canon::F(v.to_bits()),
        Want::H(h) => Canon::H(
            h.schema,
            h.zero_threshold.to_bits(),
            h.zero_count,
            h.count,
            h.sum.to_bits(),
            nonzero(&h.positive_spans, &h.positive_buckets),
            nonzero(&h.negative_spans, &h.negative_buckets),
            h.custom_values.iter().map(|v| v.to_bits()).collect(),
        ),
    }
}

fn strip_hint(mut h: Histogram) -> Histogram {
    h.counter_reset_hint = CounterResetHint::Unknown;
    h
}

/// Every sample of the one series in `head`, with histogram hints.
fn read_all(head: &Head) -> Vec<(i64, Want, CounterResetHint)> {
    let q = tsdb::Querier::new(head, i64::MIN, i64::MAX);
    let mut set = q.select(&[], &SelectHints::default()).unwrap();
    let s = set.next().expect("one series");
    let mut it = s.sample_iter();
    let mut out = vec![];
    let mut h = Histogram::default();
    loop {
        match it.next() {
            ValueType::None => break,
            ValueType::Float => {
                let (t, v) = it.at();
                out.push((t, Want::F(v), CounterResetHint::Unknown));
            }
            ValueType::Histogram => {
                let t = it.at_histogram(&mut h);
                out.push((t, Want::H(strip_hint(h.clone())), h.counter_reset_hint));
            }
            ValueType::FloatHistogram => panic!("no float histograms were written"),
        }
    }
    out
}

fn append_all(db: &mut Db, lbls: &Labels, samples: &[(i64, Want)], batch: usize) {
    for chunk in samples.chunks(batch.max(1)) {
        let mut app = db.appender();
        for (t, w) in chunk {
            match w {
                Want::H(h) => {
                    app.append_histogram(lbls, *t, h).unwrap();
                }
                Want::F(v) => {
                    app.append(lbls, *t, *v).unwrap();
                }
            }
        }
        app.commit().unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn head_and_wal_round_trip((first, steps) in steps(), batch in 1usize..20) {
        let (samples, resets) = build(&first, &steps);
        let dir = MemDir::new();
        let opts = DbOptions::default();
        let lbls = Labels::from_pairs(&[("__name__", "rpc_latency_seconds")]);
        let mut db = Db::open(Box::new(dir.clone()), opts).unwrap();
        append_all(&mut db, &lbls, &samples, batch);
        let got = read_all(db.head());
        prop_assert_eq!(got.len(), samples.len());
        let mut prev_kind_hist = false;
        for (i, ((t, w), (gt, gw, hint))) in samples.iter().zip(&got).enumerate() {
            prop_assert_eq!(t, gt);
            prop_assert_eq!(canon(w), canon(gw), "sample {}", i);
            if let Want::H(_) = w {
                if resets[i] && prev_kind_hist {
                    prop_assert_eq!(*hint, CounterResetHint::CounterReset, "sample {}", i);
                } else {
                    prop_assert_ne!(*hint, CounterResetHint::CounterReset, "sample {}", i);
                }
                prev_kind_hist = true;
            } else {
                prev_kind_hist = false;
            }
        }
        drop(db);
        let db = Db::open(Box::new(dir), opts).unwrap();
        prop_assert_eq!(db.replay_report().samples, samples.len());
        prop_assert_eq!(read_all(db.head()), got.clone());
        // Through a block: same samples, same resets (other hints may differ at chunk
        // boundaries).
        let root = std::env::temp_dir().join(format!(
            "tsdb-hist-prop-{}-{}",
            std::process::id(),
            BLOCK_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let mut w = tsdb::BlockWriter::create(&root, i64::MIN / 2, i64::MAX / 2).unwrap();
        let q = tsdb::Querier::new(db.head(), i64::MIN, i64::MAX);
        let s = q.select(&[], &SelectHints::default()).unwrap().next().unwrap();
        w.add_series_mixed(s.labels(), &mut s.sample_iter(), &|_| false).unwrap();
        let meta = w.finish(1).unwrap().unwrap();
        let block = tsdb::Block::open(root.join(&meta.ulid)).unwrap();
        block.verify_chunks().unwrap();
        let bq = block.querier(i64::MIN, i64::MAX);
        let bs = bq.select(&[], &SelectHints::default()).unwrap().next().unwrap();
        let mut it = bs.sample_iter();
        let mut from_block = vec![];
        let mut h = Histogram::default();
        loop {
            match tsdb::chunk::MixedIterator::next(&mut it) {
                ValueType::None => break,
                ValueType::Float => {
                    let (t, v) = tsdb::chunk::MixedIterator::at(&it);
                    from_block.push((t, Want::F(v), false));
                }
                _ => {
                    let t = tsdb::chunk::MixedIterator::at_histogram(&it, &mut h);
                    let reset = h.counter_reset_hint == CounterResetHint::CounterReset;
                    from_block.push((t, Want::H(strip_hint(h.clone())), reset));
                }
            }
        }
        let want: Vec<(i64, Canon, bool)> = got
            .into_iter()
            .map(|(t, w, hint)| (t, canon(&w), hint == CounterResetHint::CounterReset))
            .collect();
        let from_block: Vec<(i64, Canon, bool)> =
            from_block.into_iter().map(|(t, w, r)| (t, canon(&w), r)).collect();
        let _ = std::fs::remove_dir_all(&root);
        prop_assert_eq!(from_block, want);
    }

    #[test]
    fn int_chunk_round_trips(first in abs_strategy(), seeds in prop::collection::vec((1i64..1_000_000, any::<u64>()), 0..150)) {
        let mut cur = first;
        let mut t = -3_000_000i64;
        let mut want = vec![(t, cur.to_hist(CounterResetHint::Unknown))];
        for (dt, seed) in seeds {
            t += dt;
            cur.grow(seed);
            want.push((t, cur.to_hist(CounterResetHint::Unknown)));
        }
        let mut app = HistogramAppender::new(&want[0].1, CounterResetHint::CounterReset);
        for (t, h) in &want {
            prop_assert!(app.append(*t, h));
        }
        let bytes = app.finish();
        let meta = histogram::validate(&bytes).unwrap();
        prop_assert_eq!(meta.num_samples, want.len());
        let mut it = HistogramIter::new(&bytes);
        let mut got = Histogram::default();
        for (i, (t, h)) in want.iter().enumerate() {
            prop_assert!(it.next());
            prop_assert_eq!(it.at_histogram(&mut got), *t);
            let hint = if i == 0 { CounterResetHint::CounterReset } else { CounterResetHint::NotCounterReset };
            prop_assert_eq!(got.counter_reset_hint, hint);
            prop_assert_eq!(strip_hint(got.clone()), h.clone());
            let mut f = FloatHistogram::default();
            it.at_float_histogram(&mut f);
            let mut hf = h.to_float();
            hf.counter_reset_hint = hint;
            prop_assert_eq!(f, hf);
        }
        prop_assert!(!it.next());
    }

    #[test]
    fn float_chunk_round_trips(first in abs_strategy(), seeds in prop::collection::vec((1i64..1_000_000, any::<u64>(), -1e3f64..1e3), 0..150)) {
        let mut cur = first;
        let mut t = 0i64;
        let mut want = vec![(t, cur.to_hist(CounterResetHint::Unknown).to_float())];
        for (dt, seed, jitter) in seeds {
            t += dt;
            cur.grow(seed);
            let mut f = cur.to_hist(CounterResetHint::Unknown).to_float();
            // Non-integer counts, as rates produce.
            f.count += jitter.abs() / 7.0;
            f.sum = jitter;
            want.push((t, f));
        }
        let mut app = FloatHistogramAppender::new(&want[0].1, CounterResetHint::Gauge);
        for (t, h) in &want {
            prop_assert!(app.append(*t, h));
        }
        let bytes = app.finish();
        prop_assert_eq!(float_histogram::validate(&bytes).unwrap().num_samples, want.len());
        let mut it = FloatHistogramIter::new(&bytes);
        let mut got = FloatHistogram::default();
        for (t, h) in &want {
            prop_assert!(it.next());
            prop_assert_eq!(it.at_float_histogram(&mut got), *t);
            let mut h = h.clone();
            h.counter_reset_hint = CounterResetHint::Gauge;
            prop_assert_eq!(&got, &h);
        }
        prop_assert!(!it.next());
    }

    #[test]
    fn garbage_chunks_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut it = HistogramIter::new(&bytes);
        let mut h = Histogram::default();
        while it.next() {
            it.at_histogram(&mut h);
        }
        let mut it = FloatHistogramIter::new(&bytes);
        let mut f = FloatHistogram::default();
        while it.next() {
            it.at_float_histogram(&mut f);
        }
        let _ = Encoding::Histogram.validate(&bytes);
        let _ = Encoding::FloatHistogram.validate(&bytes);
        // WAL histogram payloads from garbage: errors, never panics.
        for ty in [7u8, 8] {
            let mut p = vec![ty];
            p.extend_from_slice(&bytes);
            let _ = tsdb::wal::record::decode(&p);
        }
    }
}

fn simple(count: u64) -> Histogram {
    Histogram {
        schema: 1,
        zero_threshold: 0.001,
        count,
        sum: count as f64,
        positive_spans: vec![Span::new(0, 2)],
        positive_buckets: vec![(count / 2) as i64, 0],
        zero_count: count - 2 * (count / 2),
        ..Histogram::default()
    }
}

#[test]
fn invalid_histograms_are_rejected_with_a_reason() {
    let mut head = Head::default();
    let l = Labels::from_pairs(&[("__name__", "h")]);
    let mut app = head.appender();
    let mut bad = simple(4);
    bad.positive_buckets.push(1);
    assert!(matches!(
        app.append_histogram(&l, 1, &bad),
        Err(Error::InvalidHistogram(_))
    ));
    let mut bad = simple(4);
    bad.count = 1;
    assert!(matches!(
        app.append_histogram(&l, 1, &bad),
        Err(Error::InvalidHistogram(_))
    ));
    let mut bad = simple(4);
    bad.schema = 9;
    assert!(app
        .append_histogram(&l, 1, &bad)
        .unwrap_err()
        .is_sample_rejection());
    let mut bad = simple(4);
    bad.positive_buckets = vec![2, -3];
    assert!(app.append_histogram(&l, 1, &bad).is_err());
    let mut nhcb = Histogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: 3,
        positive_spans: vec![Span::new(0, 3)],
        positive_buckets: vec![1, 0, 0],
        custom_values: vec![1.0, 2.0],
        ..Histogram::default()
    };
    app.append_histogram(&l, 1, &nhcb).unwrap();
    nhcb.custom_values = vec![2.0, 1.0];
    assert!(app.append_histogram(&l, 2, &nhcb).is_err());
    app.commit();
}

#[test]
fn ordering_rules_span_sample_types() {
    let mut head = Head::default();
    let l = Labels::from_pairs(&[("__name__", "h")]);
    let mut app = head.appender();
    let r = app.append_histogram(&l, 10, &simple(4)).unwrap();
    // Same timestamp, same histogram: accepted and ignored; different: duplicate.
    app.append_histogram_ref(r, 10, &simple(4)).unwrap();
    assert!(matches!(
        app.append_histogram_ref(r, 10, &simple(6)),
        Err(Error::DuplicateSample { t: 10 })
    ));
    assert!(matches!(
        app.append_ref(r, 10, 1.0),
        Err(Error::DuplicateSample { t: 10 })
    ));
    assert!(matches!(
        app.append_histogram_ref(r, 5, &simple(6)),
        Err(Error::OutOfOrderSample { t: 5, last_t: 10 })
    ));
    app.append_ref(r, 20, 1.0).unwrap();
    app.append_float_histogram_ref(r, 30, &simple(8).to_float())
        .unwrap();
    app.commit();
    let mut app = head.appender();
    assert!(matches!(
        app.append_ref(r, 30, 1.0),
        Err(Error::DuplicateSample { t: 30 })
    ));
    app.append_float_histogram_ref(r, 30, &simple(8).to_float())
        .unwrap();
    assert!(matches!(
        app.append_histogram_ref(r, 25, &simple(8)),
        Err(Error::OutOfOrderSample { .. })
    ));
    app.commit();
    let s = head.series(r).unwrap();
    assert_eq!(s.num_samples(), 3);
    let mut it = s.sample_iter(0, 100);
    assert_eq!(it.next(), ValueType::Histogram);
    assert_eq!(it.next(), ValueType::Float);
    assert_eq!(it.at(), (20, 1.0));
    assert_eq!(it.next(), ValueType::FloatHistogram);
    let mut f = FloatHistogram::default();
    assert_eq!(it.at_float_histogram(&mut f), 30);
    assert_eq!(f.count, 8.0);
    assert_eq!(it.next(), ValueType::None);
    // The float-only path sees the float sample alone.
    let mut fit = s.iter(0, 100);
    assert!(fit.next());
    assert_eq!(fit.at(), (20, 1.0));
    assert!(!fit.next());
}

#[test]
fn hints_cut_chunks_and_come_back() {
    let mut head = Head::new(HeadOptions::default());
    let l = Labels::from_pairs(&[("__name__", "h")]);
    let mut app = head.appender();
    let r = app.append_histogram(&l, 1_000, &simple(10)).unwrap();
    app.append_histogram_ref(r, 2_000, &simple(12)).unwrap();
    // An explicit reset hint even though counts grew.
    let mut h = simple(14);
    h.counter_reset_hint = CounterResetHint::CounterReset;
    app.append_histogram_ref(r, 3_000, &h).unwrap();
    // A detected reset.
    app.append_histogram_ref(r, 4_000, &simple(2)).unwrap();
    app.append_histogram_ref(r, 5_000, &simple(3)).unwrap();
    // Gauge samples get their own chunk; counts may go down.
    let mut g = simple(1);
    g.counter_reset_hint = CounterResetHint::Gauge;
    app.append_histogram_ref(r, 6_000, &g).unwrap();
    let mut g2 = simple(9);
    g2.counter_reset_hint = CounterResetHint::Gauge;
    app.append_histogram_ref(r, 7_000, &g2).unwrap();
    app.append_histogram_ref(r, 8_000, &g).unwrap();
    // A schema change cuts without claiming a reset.
    let mut s2 = simple(20);
    s2.schema = 2;
    app.append_histogram_ref(r, 9_000, &s2).unwrap();
    app.commit();
    let s = head.series(r).unwrap();
    let mut it = s.sample_iter(i64::MIN, i64::MAX);
    let mut hints = vec![];
    let mut h = Histogram::default();
    while it.next() == ValueType::Histogram {
        it.at_histogram(&mut h);
        hints.push(h.counter_reset_hint);
    }
    use CounterResetHint::*;
    assert_eq!(
        hints,
        vec![
            Unknown,
            NotCounterReset,
            CounterReset,
            CounterReset,
            NotCounterReset,
            Gauge,
            Gauge,
            Gauge,
            Unknown
        ]
    );
    // Seek lands inside a later chunk.
    let mut it = s.sample_iter(i64::MIN, i64::MAX);
    assert_eq!(it.seek(4_500), ValueType::Histogram);
    assert_eq!(it.at_t(), 5_000);
    assert_eq!(it.seek(100), ValueType::Histogram, "never backwards");
    assert_eq!(it.at_t(), 5_000);
    assert_eq!(it.seek(9_001), ValueType::None);
}

#[test]
fn queries_clip_histograms_to_the_range() {
    let mut db = Db::in_memory(HeadOptions::default());
    let l = Labels::from_pairs(&[("__name__", "h"), ("job", "x")]);
    let mut app = db.appender();
    for i in 0..500u64 {
        app.append_histogram(&l, i as i64 * 15_000, &simple(i * 3 + 1))
            .unwrap();
    }
    app.commit().unwrap();
    let q = tsdb::Querier::new(db.head(), 100_000, 200_000);
    let mut set = q
        .select(&[Matcher::equal("job", "x")], &SelectHints::default())
        .unwrap();
    let s = set.next().unwrap();
    let mut it = s.sample_iter();
    let mut ts = vec![];
    while it.next() != ValueType::None {
        ts.push(it.at_t());
    }
    assert_eq!(ts, (7..=13).map(|i| i * 15_000).collect::<Vec<i64>>());
    // The float path yields nothing for a histogram series.
    let mut fit = s.iter();
    assert!(!fit.next());
}

#[test]
fn truncation_and_checkpoints_keep_recent_histograms() {
    let dir = MemDir::new();
    let opts = DbOptions {
        wal: tsdb::WalOptions {
            segment_size: 4 << 10,
            ..tsdb::WalOptions::default()
        },
        ..DbOptions::default()
    };
    let l = Labels::from_pairs(&[("__name__", "h")]);
    let f = Labels::from_pairs(&[("__name__", "f")]);
    let mut db = Db::open(Box::new(dir.clone()), opts).unwrap();
    for i in 0..400u64 {
        let mut app = db.appender();
        app.append_histogram(&l, i as i64 * 15_000, &simple(i + 1))
            .unwrap();
        app.append(&f, i as i64 * 15_000, i as f64).unwrap();
        app.commit().unwrap();
    }
    let mint = 200 * 15_000;
    let rep = db.truncate(mint).unwrap();
    assert!(
        rep.files_deleted > 0,
        "small segments: a checkpoint replaced some"
    );
    drop(db);
    let db = Db::open(Box::new(dir), opts).unwrap();
    let s = db.head().series(db.head().lookup(&l).unwrap()).unwrap();
    let mut it = s.sample_iter(mint, i64::MAX);
    let mut h = Histogram::default();
    let mut n = 0;
    while it.next() == ValueType::Histogram {
        let t = it.at_histogram(&mut h);
        assert_eq!(t, (200 + n) * 15_000);
        assert_eq!(h.count, 201 + n as u64);
        n += 1;
    }
    assert_eq!(n, 200);
    // Out of bounds after truncation, like floats.
    let mut db = db;
    let mut app = db.appender();
    assert!(matches!(
        app.append_histogram(&l, 0, &simple(1)),
        Err(Error::OutOfBounds { .. })
    ));
}

#[test]
fn new_buckets_recode_the_open_chunk() {
    let mut head = Head::default();
    let l = Labels::from_pairs(&[("__name__", "h")]);
    let mut app = head.appender();
    let r = app.append_histogram(&l, 1_000, &simple(4)).unwrap();
    let mut wider = simple(6);
    wider.positive_spans = vec![Span::new(0, 2), Span::new(1, 1)];
    wider.positive_buckets = vec![3, 0, -2];
    wider.count = 7;
    app.append_histogram_ref(r, 2_000, &wider).unwrap();
    app.commit();
    let s = head.series(r).unwrap();
    let mut it = s.sample_iter(0, 10_000);
    let mut h = Histogram::default();
    assert_eq!(it.next(), ValueType::Histogram);
    it.at_histogram(&mut h);
    // The first sample now has the wider layout, its new bucket empty.
    assert_eq!(h.positive_spans, wider.positive_spans);
    assert_eq!(h.positive_buckets, vec![2, 0, -2]);
    assert_eq!(h.count, 4);
    assert_eq!(it.next(), ValueType::Histogram);
    it.at_histogram(&mut h);
    assert_eq!(h.counter_reset_hint, CounterResetHint::NotCounterReset);
    assert_eq!(h.positive_buckets, wider.positive_buckets);
    // One chunk: still open, nothing closed.
    assert_eq!(s.open_histogram_header(), Some(CounterResetHint::Unknown));
    assert_eq!(head.stats().num_samples, 2);
    let q = tsdb::Querier::new(&head, 0, 10_000);
    assert_eq!(q.select(&[], &SelectHints::default()).unwrap().len(), 1);
}
