//! Native histograms through remote write: the receiver stores integer and float
//! histograms, refuses malformed ones per series with typed reasons, the sender queues them
//! (pushed or tailed from the WAL) and a tsdb replicated through the wire holds the same
//! histograms bit for bit.

mod common;

use common::Stored;
use exposition::histogram::{
    CounterResetHint, FloatHistogram, Histogram, Side, Span, CUSTOM_BUCKETS_SCHEMA,
};
use exposition::Labels;
use remote::histogram::{encode_float_histogram, encode_histogram, HistogramDecodeError};
use remote::proto::{BucketSpan, HistogramCount, Label, Sample, TimeSeries, WriteRequest};
use remote::{
    decode_request, encode_request, receive, QueueConfig, RejectReason, WalPosition, WalTailer,
    WriteQueue,
};
use tsdb::{Db, DbOptions, HeadOptions, MemDir};

fn labels(name: &str) -> Vec<Label> {
    vec![Label {
        name: "__name__".into(),
        value: name.into(),
    }]
}

/// An exponential integer histogram whose counts grow with `k` (a counter).
fn int_h(k: u64) -> Histogram {
    Histogram {
        counter_reset_hint: CounterResetHint::Unknown,
        schema: 1,
        zero_threshold: 0.001,
        zero_count: k,
        count: 4 * k,
        sum: 2.5 * k as f64,
        positive_spans: vec![Span::new(-1, 2)],
        positive_buckets: vec![k as i64, 0],
        negative_spans: vec![Span::new(0, 1)],
        negative_buckets: vec![k as i64],
        custom_values: vec![],
    }
}

/// A custom-bucket float histogram.
fn float_h(k: f64) -> FloatHistogram {
    FloatHistogram {
        counter_reset_hint: CounterResetHint::Gauge,
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: 3.0 * k,
        sum: 0.75 * k,
        positive_spans: vec![Span::new(0, 2), Span::new(1, 1)],
        positive_buckets: vec![k, 1.5 * k, 0.5 * k],
        custom_values: vec![0.1, 0.5, 1.0],
        ..FloatHistogram::default()
    }
}

fn body(series: Vec<TimeSeries>) -> Vec<u8> {
    encode_request(&WriteRequest {
        timeseries: series,
        metadata: vec![],
    })
    .unwrap()
}

#[test]
fn received_histograms_are_stored_and_read_back() {
    let mut db = Db::in_memory(HeadOptions::default());
    let b = body(vec![
        TimeSeries {
            labels: labels("rpc_seconds"),
            histograms: vec![
                encode_histogram(1_000, &int_h(1)),
                encode_histogram(2_000, &int_h(3)),
            ],
            ..TimeSeries::default()
        },
        TimeSeries {
            labels: labels("queue_fill"),
            histograms: vec![encode_float_histogram(1_000, &float_h(2.0))],
            ..TimeSeries::default()
        },
    ]);
    let rep = receive(&b, db.appender()).unwrap();
    assert_eq!(rep.http_status(), 204, "{}", rep.error_text());
    assert_eq!((rep.samples_appended, rep.histograms_appended), (0, 3));
    let got = common::dump_all(&db);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, Labels::from_pairs(&[("__name__", "queue_fill")]));
    assert_eq!(got[0].1, vec![(1_000, Stored::FloatHist(float_h(2.0)))]);
    assert_eq!(got[1].1.len(), 2);
    let (t, Stored::Hist(h)) = &got[1].1[1] else {
        panic!("expected an integer histogram: {:?}", got[1].1[1])
    };
    assert_eq!(*t, 2_000);
    // The stored value is the sent one (the head may set a counter-reset hint).
    assert_eq!(
        Histogram {
            counter_reset_hint: CounterResetHint::Unknown,
            ..h.clone()
        },
        int_h(3)
    );
}

#[test]
fn malformed_histograms_are_refused_per_series_with_a_typed_reason() {
    let mut db = Db::in_memory(HeadOptions::default());
    let mut mismatch = encode_histogram(1_000, &int_h(1));
    mismatch.positive_deltas.push(1); // 3 deltas for spans covering 2
    let mut mixed = encode_histogram(1_000, &int_h(1));
    mixed.count = Some(HistogramCount::CountFloat(4.0)); // float kind with deltas
    let mut gap = encode_float_histogram(1_000, &float_h(1.0));
    gap.positive_spans[1] = BucketSpan {
        offset: -3,
        length: 1,
    };
    // Well-formed on the wire, but the buckets add up to more than the count: storage
    // refuses it.
    let mut short = int_h(1);
    short.count = 1;
    let b = body(vec![
        TimeSeries {
            labels: labels("a"),
            histograms: vec![mismatch, encode_histogram(2_000, &int_h(2))],
            ..TimeSeries::default()
        },
        TimeSeries {
            labels: labels("b"),
            histograms: vec![mixed],
            ..TimeSeries::default()
        },
        TimeSeries {
            labels: labels("c"),
            histograms: vec![gap],
            ..TimeSeries::default()
        },
        TimeSeries {
            labels: labels("d"),
            samples: vec![Sample {
                value: 1.0,
                timestamp: 500,
            }],
            histograms: vec![encode_histogram(1_000, &short)],
            ..TimeSeries::default()
        },
    ]);
    let rep = receive(&b, db.appender()).unwrap();
    assert_eq!(rep.http_status(), 400);
    assert_eq!((rep.samples_appended, rep.histograms_appended), (1, 1));
    assert_eq!(rep.samples_rejected, 4);
    let reasons: Vec<_> = rep.rejections.iter().map(|r| r.reason.clone()).collect();
    assert_eq!(
        reasons[..3],
        [
            RejectReason::BadHistogram(HistogramDecodeError::SpansBucketsMismatch {
                side: Side::Positive,
                spans_need: 2,
                buckets_have: 3,
            }),
            RejectReason::BadHistogram(HistogramDecodeError::MixedKinds {
                kind: "float",
                field: "zero_count_int",
            }),
            RejectReason::BadHistogram(HistogramDecodeError::NegativeSpanOffset {
                side: Side::Positive,
                span: 2,
                offset: -3,
            }),
        ]
    );
    assert!(
        matches!(reasons[3], RejectReason::InvalidHistogram(_)),
        "{:?}",
        reasons[3]
    );
    assert_eq!(rep.rejections[0].first_t, Some(1_000));
    assert!(
        rep.error_text().contains("malformed histogram"),
        "{}",
        rep.error_text()
    );
    // The good histogram of series a and the float sample of series d were kept.
    let got = common::dump_all(&db);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1.len(), 1);
    assert_eq!(got[0].1[0].0, 2_000);
    assert_eq!(got[1].1, vec![(500, Stored::Float(1f64.to_bits()))]);
}

#[test]
fn histogram_after_a_float_at_the_same_time_is_a_duplicate() {
    let mut db = Db::in_memory(HeadOptions::default());
    let b = body(vec![TimeSeries {
        labels: labels("x"),
        samples: vec![Sample {
            value: 1.0,
            timestamp: 1_000,
        }],
        histograms: vec![encode_histogram(1_000, &int_h(1))],
        ..TimeSeries::default()
    }]);
    let rep = receive(&b, db.appender()).unwrap();
    assert_eq!((rep.samples_appended, rep.histograms_appended), (1, 0));
    assert_eq!(rep.rejections.len(), 1);
}

#[test]
fn received_histograms_survive_a_reopen() {
    let dir = MemDir::new();
    {
        let mut db = Db::open(Box::new(dir.clone()), DbOptions::default()).unwrap();
        let b = body(vec![TimeSeries {
            labels: labels("h"),
            histograms: vec![
                encode_histogram(1_000, &int_h(1)),
                encode_float_histogram(2_000, &float_h(1.0)),
            ],
            ..TimeSeries::default()
        }]);
        assert_eq!(receive(&b, db.appender()).unwrap().histograms_appended, 2);
    }
    let db = Db::open(Box::new(dir), DbOptions::default()).unwrap();
    let got = common::dump_all(&db);
    assert_eq!(got[0].1.len(), 2);
    assert!(matches!(got[0].1[1], (2_000, Stored::FloatHist(_))));
}

#[test]
fn pushed_histograms_go_out_in_the_series_histogram_list() {
    let mut q = WriteQueue::new(QueueConfig {
        max_samples_per_send: 3,
        capacity: 4,
        ..QueueConfig::default()
    });
    let l = Labels::from_pairs(&[("__name__", "h")]);
    q.push(&l, 500, 1.0).unwrap();
    q.push_histogram(&l, 1_000, &int_h(1)).unwrap();
    q.push_float_histogram(&l, 2_000, &float_h(1.0)).unwrap();
    q.push_histogram(&l, 3_000, &int_h(2)).unwrap();
    // Histograms count towards the capacity like samples.
    assert!(q.push_histogram(&l, 4_000, &int_h(3)).is_err());
    let req = q.next_request(0).unwrap();
    assert_eq!(req.samples, 3);
    let wr = decode_request(&req.body).unwrap();
    assert_eq!(wr.timeseries.len(), 1);
    let ts = &wr.timeseries[0];
    assert_eq!(ts.samples.len(), 1);
    assert_eq!(
        ts.histograms,
        vec![
            encode_histogram(1_000, &int_h(1)),
            encode_float_histogram(2_000, &float_h(1.0))
        ]
    );
}

#[test]
fn a_tsdb_with_histograms_replicates_through_its_wal() {
    let dir = MemDir::new();
    let mut src = Db::open(Box::new(dir.clone()), DbOptions::default()).unwrap();
    let mut dst = Db::in_memory(HeadOptions::default());
    let mut q = WriteQueue::new(QueueConfig {
        max_samples_per_send: 7,
        ..QueueConfig::default()
    });
    let mut tailer = WalTailer::new(WalPosition::default());
    let (ints, floats, plain) = (
        Labels::from_pairs(&[("__name__", "lat"), ("job", "a")]),
        Labels::from_pairs(&[("__name__", "fill"), ("job", "a")]),
        Labels::from_pairs(&[("__name__", "up"), ("job", "a")]),
    );
    let mut histograms = 0;
    for round in 0..20u64 {
        let t = round as i64 * 15_000;
        let mut app = src.appender();
        app.append_histogram(&ints, t, &int_h(round + 1)).unwrap();
        app.append_float_histogram(&floats, t, &float_h(round as f64 + 0.5))
            .unwrap();
        app.append(&plain, t, 1.0).unwrap();
        app.commit().unwrap();
        if round % 5 == 4 {
            histograms += tailer.poll(&dir, &mut q).unwrap().histograms;
            q.flush();
            while let Some(req) = q.next_request(t) {
                let rep = receive(&req.body, dst.appender()).unwrap();
                assert_eq!(rep.http_status(), 204, "{}", rep.error_text());
                q.on_response(204, None, t);
            }
        }
    }
    assert_eq!(histograms, 40);
    assert_eq!(q.stats().delivered, 60);
    assert_eq!(q.committed_position(), Some(tailer.position()));
    assert_eq!(common::dump_all(&dst), common::dump_all(&src));
}

mod fuzz_safe {
    use super::*;
    use proptest::prelude::*;

    fn wire_span() -> impl Strategy<Value = BucketSpan> {
        (any::<i32>(), any::<u32>()).prop_map(|(offset, length)| BucketSpan { offset, length })
    }

    proptest! {
        /// Any histogram message, however inconsistent, is stored or refused with a
        /// reason: receiving never panics and never fails the whole request.
        #[test]
        fn any_histogram_message_is_stored_or_refused(
            count in prop::option::of(prop_oneof![
                any::<u64>().prop_map(HistogramCount::CountInt),
                any::<f64>().prop_map(HistogramCount::CountFloat),
            ]),
            schema in prop_oneof![Just(-53), -6i32..10, any::<i32>()],
            spans in prop::collection::vec(wire_span(), 0..3),
            deltas in prop::collection::vec(any::<i64>(), 0..4),
            counts in prop::collection::vec(any::<f64>(), 0..4),
            custom in prop::collection::vec(any::<f64>(), 0..3),
            hint in any::<i32>(),
            t in any::<i64>(),
        ) {
            let mut db = Db::in_memory(HeadOptions::default());
            let h = remote::proto::Histogram {
                count,
                schema,
                positive_spans: spans.clone(),
                positive_deltas: deltas.clone(),
                positive_counts: counts.clone(),
                negative_spans: spans,
                negative_deltas: deltas,
                negative_counts: counts,
                custom_values: custom,
                reset_hint: hint,
                timestamp: t,
                ..remote::proto::Histogram::default()
            };
            let b = body(vec![TimeSeries { labels: labels("f"), histograms: vec![h], ..TimeSeries::default() }]);
            let rep = receive(&b, db.appender()).unwrap();
            prop_assert_eq!(rep.histograms_appended + rep.samples_rejected, 1);
        }

        /// Arbitrary bytes as the histogram field: a typed protobuf error or a report.
        #[test]
        fn any_histogram_bytes_decode_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let mut raw = vec![0x0a];
            let mut ts = vec![0x0a, 13, 0x0a, 0x08];
            ts.extend(b"__name__");
            ts.extend([0x12, 0x01, b'x']);
            ts.push(0x22);
            ts.push(bytes.len() as u8);
            ts.extend(&bytes);
            raw.push(ts.len() as u8);
            raw.extend(ts);
            let b = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
            let mut db = Db::in_memory(HeadOptions::default());
            let _ = receive(&b, db.appender());
        }
    }
}
