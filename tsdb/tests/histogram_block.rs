//! Blocks store and read native-histogram chunks: a head series that switches between
//! floats, integer and float histograms (with resets and gauges) written through
//! `BlockWriter::add_series_mixed` reads back the same from the block.

use exposition::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};
use exposition::Labels;
use tsdb::chunk::{MixedIterator, SampleIterator, ValueType};
use tsdb::{Block, BlockWriter, Head, SelectHints};

fn hist(count: u64, hint: CounterResetHint) -> Histogram {
    Histogram {
        counter_reset_hint: hint,
        schema: 2,
        zero_threshold: 1e-3,
        zero_count: count % 3,
        count,
        sum: count as f64 * 0.5,
        positive_spans: vec![Span::new(-1, 2), Span::new(2, 1)],
        positive_buckets: vec![(count / 3) as i64, 0, 0],
        ..Histogram::default()
    }
}

#[derive(Debug, PartialEq)]
enum S {
    F(i64, u64),
    H(i64, Histogram),
    FH(i64, FloatHistogram),
}

fn drain(it: &mut dyn MixedIterator) -> Vec<S> {
    let mut out = vec![];
    let (mut h, mut f) = (Histogram::default(), FloatHistogram::default());
    loop {
        match it.next() {
            ValueType::None => return out,
            ValueType::Float => {
                let (t, v) = it.at();
                out.push(S::F(t, v.to_bits()));
            }
            ValueType::Histogram => {
                let t = it.at_histogram(&mut h);
                out.push(S::H(t, h.clone()));
            }
            ValueType::FloatHistogram => {
                let t = it.at_float_histogram(&mut f);
                out.push(S::FH(t, f.clone()));
            }
        }
    }
}

#[test]
fn histogram_series_round_trip_through_a_block() {
    let mut head = Head::default();
    let l = Labels::from_pairs(&[("__name__", "mixed")]);
    let plain = Labels::from_pairs(&[("__name__", "plain")]);
    let mut app = head.appender();
    let mut t = 0i64;
    let mut step = || {
        t += 15_000;
        t
    };
    let r = app.append(&l, step(), 1.0).unwrap();
    let p = app.append(&plain, 15_000, 5.0).unwrap();
    app.append_ref(r, step(), 2.0).unwrap();
    for i in 0..300u64 {
        let count = if i < 150 { 10 + i * 3 } else { i - 150 };
        app.append_histogram_ref(r, step(), &hist(count, CounterResetHint::Unknown))
            .unwrap();
    }
    for i in 0..20u64 {
        let mut g = hist(50 - i, CounterResetHint::Gauge).to_float();
        g.sum = -(i as f64);
        app.append_float_histogram_ref(r, step(), &g).unwrap();
    }
    app.append_ref(r, step(), 3.0).unwrap();
    app.append_ref(p, 30_000, 6.0).unwrap();
    app.commit();
    let end = t + 1;

    let root = std::env::temp_dir().join(format!("tsdb-hist-block-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let mut w = BlockWriter::create(&root, 0, end).unwrap();
    let q = tsdb::Querier::new(&head, 0, end - 1);
    for s in q.select(&[], &SelectHints::default()).unwrap() {
        if s.has_histograms() {
            w.add_series_mixed(s.labels(), &mut s.sample_iter(), &|t| t == 45_000)
                .unwrap();
        } else {
            w.add_series(s.labels(), &mut s.iter()).unwrap();
        }
    }
    let meta = w.finish(1).unwrap().unwrap();
    assert_eq!(meta.stats.num_samples, 2 + 2 + 300 + 20 + 1 - 1);
    let block = Block::open(root.join(&meta.ulid)).unwrap();
    block.verify_chunks().unwrap();

    let want: Vec<S> = drain(&mut head.series(r).unwrap().sample_iter(0, end))
        .into_iter()
        .filter(|s| !matches!(s, S::H(45_000, _)))
        .collect();
    let bq = block.querier(0, end);
    let set: Vec<_> = bq.select(&[], &SelectHints::default()).unwrap().collect();
    assert_eq!(set.len(), 2);
    let mixed = set.iter().find(|s| s.labels() == &l).unwrap();
    assert!(mixed.has_histograms());
    let got = drain(&mut mixed.sample_iter());
    assert_eq!(got.len(), want.len());
    // Chunk boundaries differ between head and block, so a chunk's first sample may say
    // `Unknown` where the head said `NotCounterReset`; resets and gauges must agree.
    let resets = |v: &[S]| -> Vec<(i64, bool)> {
        v.iter()
            .map(|s| match s {
                S::F(t, _) => (*t, false),
                S::H(t, h) => (*t, h.counter_reset_hint == CounterResetHint::CounterReset),
                S::FH(t, h) => (*t, h.counter_reset_hint == CounterResetHint::Gauge),
            })
            .collect()
    };
    assert_eq!(resets(&got), resets(&want));
    assert!(
        resets(&want).iter().filter(|r| r.1).count() > 40,
        "data has resets"
    );
    let strip = |v: Vec<S>| -> Vec<S> {
        v.into_iter()
            .map(|s| match s {
                S::H(t, mut h) => {
                    h.counter_reset_hint = CounterResetHint::Unknown;
                    S::H(t, h)
                }
                S::FH(t, mut h) => {
                    h.counter_reset_hint = CounterResetHint::Unknown;
                    S::FH(t, h)
                }
                f => f,
            })
            .collect()
    };
    let (got, want) = (strip(got), strip(want));
    if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
        panic!("sample {i} differs: {:?} vs {:?}", got[i], want[i]);
    }
    // The float-only iterator skips the histogram chunks.
    let mut fit = mixed.iter();
    let mut floats = vec![];
    while fit.next() {
        floats.push(fit.at());
    }
    assert_eq!(floats, vec![(15_000, 1.0), (30_000, 2.0), (t, 3.0)]);
    // Seek into the middle of the histograms.
    let mut it = mixed.sample_iter();
    assert_eq!(it.seek(100 * 15_000 + 1), ValueType::Histogram);
    assert_eq!(it.at_t(), 101 * 15_000);
    let plain_s = set.iter().find(|s| s.labels() == &plain).unwrap();
    assert!(!plain_s.has_histograms());
    let _ = std::fs::remove_dir_all(&root);
}
