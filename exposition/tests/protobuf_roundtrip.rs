//! Property tests of the protobuf codec: messages -> bytes -> messages is the identity;
//! decode -> `to_messages` -> bytes -> decode gives the same scrape; and arbitrary or
//! corrupted bytes never panic the decoder.

use exposition::protobuf::{self, proto, DecodeOptions};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => (-1e6f64..1e6).prop_map(|v| if v == 0.0 { 0.0 } else { v }),
        2 => (0u32..1000).prop_map(f64::from),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
    ]
}

fn count_float() -> impl Strategy<Value = f64> {
    prop_oneof![2 => Just(0.0), 1 => 0.5f64..1e4]
}

fn timestamp() -> impl Strategy<Value = Option<proto::Timestamp>> {
    proptest::option::of(
        (0i64..4_000_000_000, 0i32..1_000_000_000)
            .prop_map(|(seconds, nanos)| proto::Timestamp { seconds, nanos }),
    )
}

fn label_pairs(names: &'static str) -> impl Strategy<Value = Vec<proto::LabelPair>> {
    proptest::collection::btree_map(names, "[a-z/]{0,3}", 0..3).prop_map(|m| {
        m.into_iter()
            .map(|(name, value)| proto::LabelPair { name, value })
            .collect()
    })
}

fn exemplar() -> impl Strategy<Value = proto::Exemplar> {
    (label_pairs("trace_id|span_id"), value(), timestamp()).prop_map(|(label, value, timestamp)| {
        proto::Exemplar {
            label,
            value,
            timestamp,
        }
    })
}

fn spans_and_counts<T: std::fmt::Debug + Clone + 'static>(
    counts: impl Strategy<Value = T> + Clone + 'static,
) -> impl Strategy<Value = (Vec<proto::BucketSpan>, Vec<T>)> {
    proptest::collection::vec((-3i32..4, 0u32..4), 0..4).prop_flat_map(move |spans| {
        let n: u32 = spans.iter().map(|s| s.1).sum();
        let spans: Vec<proto::BucketSpan> = spans
            .into_iter()
            .map(|(offset, length)| proto::BucketSpan { offset, length })
            .collect();
        (
            Just(spans),
            proptest::collection::vec(counts.clone(), n as usize..=n as usize),
        )
    })
}

fn histogram() -> impl Strategy<Value = proto::Histogram> {
    let classic = (
        0u64..1_000_000,
        count_float(),
        value(),
        proptest::collection::vec(
            (
                0u64..1000,
                count_float(),
                value(),
                proptest::option::of(exemplar()),
            ),
            0..4,
        ),
        timestamp(),
    );
    let native = (
        -4i32..9,
        prop_oneof![Just(0.0), Just(1e-128), Just(0.001)],
        0u64..5,
        count_float(),
        spans_and_counts(-3i64..6),
        spans_and_counts(0.0f64..10.0),
        spans_and_counts(-3i64..6),
        spans_and_counts(0.0f64..10.0),
        proptest::collection::vec(exemplar(), 0..2),
    );
    (classic, proptest::option::of(native)).prop_map(|(c, n)| {
        let (sample_count, sample_count_float, sample_sum, buckets, created) = c;
        let mut bucket: Vec<proto::Bucket> = buckets
            .into_iter()
            .map(|(cc, ccf, ub, ex)| proto::Bucket {
                cumulative_count: cc,
                cumulative_count_float: ccf,
                upper_bound: ub,
                exemplar: ex,
            })
            .collect();
        bucket.sort_by(|a, b| a.upper_bound.total_cmp(&b.upper_bound));
        let mut h = proto::Histogram {
            sample_count,
            sample_count_float,
            sample_sum,
            bucket,
            created_timestamp: created,
            ..Default::default()
        };
        if let Some((schema, zt, zc, zcf, pd, pc, nd, nc, exemplars)) = n {
            h.schema = schema;
            h.zero_threshold = zt;
            h.zero_count = zc;
            h.zero_count_float = zcf;
            if sample_count_float > 0.0 || zcf > 0.0 {
                (h.positive_span, h.positive_count) = pc;
                (h.negative_span, h.negative_count) = nc;
            } else {
                (h.positive_span, h.positive_delta) = pd;
                (h.negative_span, h.negative_delta) = nd;
            }
            if h.positive_span.is_empty() && zt == 0.0 && zc == 0 {
                h.positive_span.push(proto::BucketSpan {
                    offset: 0,
                    length: 0,
                });
            }
            h.exemplars = exemplars;
        }
        h
    })
}

fn metric(ty: proto::MetricType) -> impl Strategy<Value = proto::Metric> {
    let body: BoxedStrategy<proto::Metric> = match ty {
        proto::MetricType::Counter => (value(), proptest::option::of(exemplar()), timestamp())
            .prop_map(|(value, exemplar, created_timestamp)| proto::Metric {
                counter: Some(proto::Counter {
                    value,
                    exemplar,
                    created_timestamp,
                }),
                ..Default::default()
            })
            .boxed(),
        proto::MetricType::Gauge => value()
            .prop_map(|value| proto::Metric {
                gauge: Some(proto::Gauge { value }),
                ..Default::default()
            })
            .boxed(),
        proto::MetricType::Untyped => value()
            .prop_map(|value| proto::Metric {
                untyped: Some(proto::Untyped { value }),
                ..Default::default()
            })
            .boxed(),
        proto::MetricType::Summary => (
            0u64..1_000_000,
            value(),
            proptest::collection::vec((0.0f64..=1.0, value()), 0..4),
            timestamp(),
        )
            .prop_map(
                |(sample_count, sample_sum, q, created_timestamp)| proto::Metric {
                    summary: Some(proto::Summary {
                        sample_count,
                        sample_sum,
                        quantile: q
                            .into_iter()
                            .map(|(quantile, value)| proto::Quantile { quantile, value })
                            .collect(),
                        created_timestamp,
                    }),
                    ..Default::default()
                },
            )
            .boxed(),
        proto::MetricType::Histogram | proto::MetricType::GaugeHistogram => histogram()
            .prop_map(|h| proto::Metric {
                histogram: Some(h),
                ..Default::default()
            })
            .boxed(),
    };
    (
        body,
        label_pairs("[a-c]"),
        prop_oneof![Just(0i64), -1000i64..2_000_000_000_000],
    )
        .prop_map(|(mut m, label, ts)| {
            m.label = label;
            m.timestamp_ms = ts;
            m
        })
}

fn family() -> impl Strategy<Value = proto::MetricFamily> {
    (0i32..6).prop_flat_map(|t| {
        let ty = proto::MetricType::try_from(t).unwrap();
        (
            "[a-z_][a-z0-9_]{0,6}",
            "[ -~]{0,10}",
            proptest::collection::vec(metric(ty), 0..4),
        )
            .prop_map(move |(name, help, mut metric)| {
                // One metric per label set (empty values do not count), as Prometheus needs.
                let mut seen = std::collections::HashSet::new();
                metric.retain(|m| {
                    let mut key: Vec<(String, String)> = m
                        .label
                        .iter()
                        .filter(|l| !l.value.is_empty())
                        .map(|l| (l.name.clone(), l.value.clone()))
                        .collect();
                    key.sort();
                    seen.insert(key)
                });
                proto::MetricFamily {
                    name,
                    help,
                    r#type: t,
                    metric,
                    unit: String::new(),
                }
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn messages_round_trip(fams in proptest::collection::vec(family(), 0..5)) {
        let mut bytes = Vec::new();
        protobuf::encode_delimited(&fams, &mut bytes);
        let back = protobuf::decode_messages(&bytes).unwrap();
        prop_assert_eq!(format!("{back:?}"), format!("{fams:?}"));
    }

    #[test]
    fn scrape_round_trip(
        fams in proptest::collection::vec(family(), 0..5),
        keep_classic_histograms: bool,
        created_samples: bool,
    ) {
        let opts = DecodeOptions { keep_classic_histograms, created_samples, ..DecodeOptions::default() };
        let mut bytes = Vec::new();
        protobuf::encode_delimited(&fams, &mut bytes);
        let scrape = protobuf::decode(&bytes, &opts).unwrap();
        let mut again = Vec::new();
        protobuf::encode_delimited(&protobuf::to_messages(&scrape), &mut again);
        let back = protobuf::decode(&again, &opts).unwrap();
        prop_assert_eq!(format!("{back:?}"), format!("{scrape:?}"));
    }

    #[test]
    fn corrupted_bytes_never_panic(
        fams in proptest::collection::vec(family(), 1..3),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = Vec::new();
        protobuf::encode_delimited(&fams, &mut bytes);
        for (i, b) in flips {
            let i = i.index(bytes.len());
            bytes[i] = b;
        }
        let cut = cut.index(bytes.len() + 1);
        for input in [&bytes[..], &bytes[..cut]] {
            match protobuf::decode(input, &DecodeOptions::default()) {
                Ok(s) => {
                    let msgs = protobuf::decode_messages(input).unwrap();
                    prop_assert_eq!(s.families.len(), msgs.len());
                }
                Err(e) => prop_assert!(e.offset <= input.len(), "{e}"),
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Err(e) = protobuf::decode(&input, &DecodeOptions::default()) {
            prop_assert!(e.offset <= input.len());
        }
    }
}
