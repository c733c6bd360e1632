//! What a decoded protobuf scrape exposes: the classic series, the native histograms, and
//! the errors (typed, with the byte offset of the family at fault).

use exposition::histogram::{CounterResetHint, Span};
use exposition::protobuf::{
    self, proto, DecodeOptions, NativeHistogram, ProtobufErrorKind, Scrape,
};
use exposition::MetricType;

fn body(fams: &[proto::MetricFamily]) -> Vec<u8> {
    let mut out = Vec::new();
    protobuf::encode_delimited(fams, &mut out);
    out
}

fn decode(fams: &[proto::MetricFamily], opts: DecodeOptions) -> Scrape {
    protobuf::decode(&body(fams), &opts).expect("decodes")
}

fn family(name: &str, ty: proto::MetricType, metric: Vec<proto::Metric>) -> proto::MetricFamily {
    proto::MetricFamily {
        name: name.into(),
        r#type: ty as i32,
        metric,
        ..Default::default()
    }
}

fn labels(pairs: &[(&str, &str)]) -> Vec<proto::LabelPair> {
    pairs
        .iter()
        .map(|(n, v)| proto::LabelPair {
            name: n.to_string(),
            value: v.to_string(),
        })
        .collect()
}

fn hist_metric(h: proto::Histogram) -> proto::Metric {
    proto::Metric {
        label: labels(&[("path", "/")]),
        histogram: Some(h),
        ..Default::default()
    }
}

fn classic() -> proto::Histogram {
    proto::Histogram {
        sample_count: 10,
        sample_sum: 12.5,
        bucket: vec![
            proto::Bucket {
                cumulative_count: 3,
                upper_bound: 0.5,
                ..Default::default()
            },
            proto::Bucket {
                cumulative_count: 7,
                upper_bound: 1.0,
                exemplar: Some(proto::Exemplar {
                    label: labels(&[("trace_id", "t1")]),
                    value: 0.75,
                    timestamp: Some(proto::Timestamp {
                        seconds: 5,
                        nanos: 0,
                    }),
                }),
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

/// `name{labels} value` lines of the classic samples, for compact assertions.
fn lines(s: &Scrape) -> Vec<String> {
    s.families
        .iter()
        .flat_map(|f| &f.samples)
        .map(|s| {
            let mut l = s.labels.builder();
            l.set("__name__", &s.name);
            format!("{} {}", l.build(), s.value)
        })
        .collect()
}

#[test]
fn classic_histogram_flattens_like_text_with_implicit_inf() {
    let s = decode(
        &[family(
            "rpc_seconds",
            proto::MetricType::Histogram,
            vec![hist_metric(classic())],
        )],
        DecodeOptions::default(),
    );
    assert!(s.histograms.is_empty());
    assert_eq!(s.families[0].ty, MetricType::Histogram);
    assert_eq!(
        lines(&s),
        vec![
            r#"rpc_seconds_bucket{le="0.5", path="/"} 3"#,
            r#"rpc_seconds_bucket{le="1.0", path="/"} 7"#,
            r#"rpc_seconds_bucket{le="+Inf", path="/"} 10"#,
            r#"rpc_seconds_sum{path="/"} 12.5"#,
            r#"rpc_seconds_count{path="/"} 10"#,
        ]
    );
    let ex = s.families[0].samples[1].exemplar.as_ref().unwrap();
    assert_eq!((ex.value, ex.timestamp), (0.75, Some(5000)));
    assert_eq!(ex.labels.get("trace_id"), Some("t1"));
}

#[test]
fn float_counts_override_integer_ones() {
    let mut h = classic();
    h.sample_count_float = 10.5;
    h.bucket[0].cumulative_count_float = 3.25;
    let s = decode(
        &[family(
            "h",
            proto::MetricType::Histogram,
            vec![hist_metric(h)],
        )],
        DecodeOptions::default(),
    );
    let v: Vec<f64> = s.families[0].samples.iter().map(|s| s.value).collect();
    assert_eq!(v, vec![3.25, 7.0, 10.5, 12.5, 10.5]);
}

#[test]
fn native_detection_follows_prometheus() {
    let cases: Vec<(&str, proto::Histogram, bool)> = vec![
        ("buckets only", classic(), false),
        ("nothing at all", proto::Histogram::default(), false),
        (
            "schema alone is not enough",
            proto::Histogram {
                schema: 3,
                ..Default::default()
            },
            false,
        ),
        (
            "no-op span",
            proto::Histogram {
                positive_span: vec![proto::BucketSpan {
                    offset: 0,
                    length: 0,
                }],
                ..Default::default()
            },
            true,
        ),
        (
            "zero threshold",
            proto::Histogram {
                zero_threshold: 1e-128,
                ..Default::default()
            },
            true,
        ),
        (
            "zero count",
            proto::Histogram {
                zero_count: 1,
                sample_count: 1,
                ..Default::default()
            },
            true,
        ),
        (
            "negative span",
            proto::Histogram {
                negative_span: vec![proto::BucketSpan {
                    offset: 1,
                    length: 1,
                }],
                negative_delta: vec![2],
                ..Default::default()
            },
            true,
        ),
    ];
    for (what, h, native) in cases {
        assert_eq!(protobuf::is_native(&h), native, "{what}");
        let s = decode(
            &[family(
                "h",
                proto::MetricType::Histogram,
                vec![hist_metric(h)],
            )],
            DecodeOptions::default(),
        );
        assert_eq!(s.histograms.len(), usize::from(native), "{what}");
        assert_eq!(s.families[0].samples.is_empty(), native, "{what}");
    }
}

fn native_with_buckets() -> proto::Histogram {
    let mut h = classic();
    h.schema = 1;
    h.zero_threshold = 0.001;
    h.zero_count = 1;
    h.positive_span = vec![
        proto::BucketSpan {
            offset: -1,
            length: 2,
        },
        proto::BucketSpan {
            offset: 0,
            length: 0,
        },
        proto::BucketSpan {
            offset: 1,
            length: 1,
        },
    ];
    h.positive_delta = vec![2, -1, 5]; // absolute 2, 1, 6
    h.negative_span = vec![proto::BucketSpan {
        offset: 0,
        length: 1,
    }];
    h.negative_delta = vec![0]; // an empty bucket: compacted away
    h.created_timestamp = Some(proto::Timestamp {
        seconds: 100,
        nanos: 0,
    });
    h
}

#[test]
fn native_histogram_values_and_classic_buckets_by_option() {
    let fam = family(
        "rpc_seconds",
        proto::MetricType::Histogram,
        vec![hist_metric(native_with_buckets())],
    );
    let s = decode(std::slice::from_ref(&fam), DecodeOptions::default());
    assert!(
        s.families[0].samples.is_empty(),
        "classic buckets dropped by default"
    );
    let n = &s.histograms[0];
    assert_eq!(n.name, "rpc_seconds");
    assert_eq!(n.labels.get("path"), Some("/"));
    assert_eq!(n.created_ms, Some(100_000));
    let NativeHistogram::Int(h) = &n.histogram else {
        panic!("integer histogram expected");
    };
    assert_eq!((h.schema, h.count, h.sum, h.zero_count), (1, 10, 12.5, 1));
    assert_eq!(h.zero_threshold, 0.001);
    assert_eq!(h.positive_spans, vec![Span::new(-1, 2), Span::new(1, 1)]);
    assert_eq!(h.positive_buckets, vec![2, -1, 5]);
    assert!(h.negative_spans.is_empty() && h.negative_buckets.is_empty());
    assert_eq!(h.counter_reset_hint, CounterResetHint::Unknown);
    // The bucket exemplar with a timestamp becomes the native histogram's exemplar.
    assert_eq!(n.exemplars.len(), 1);

    let keep = DecodeOptions {
        keep_classic_histograms: true,
        ..DecodeOptions::default()
    };
    let s = decode(&[fam], keep);
    assert_eq!(s.histograms.len(), 1);
    assert_eq!(s.families[0].samples.len(), 5);
    assert_eq!(s.sample_count(), 6);
}

#[test]
fn float_and_gauge_native_histograms() {
    let h = proto::Histogram {
        sample_count_float: 2.5,
        sample_sum: 1.0,
        schema: 0,
        positive_span: vec![proto::BucketSpan {
            offset: 0,
            length: 2,
        }],
        positive_count: vec![1.0, 1.5],
        ..Default::default()
    };
    let s = decode(
        &[family(
            "g",
            proto::MetricType::GaugeHistogram,
            vec![hist_metric(h)],
        )],
        DecodeOptions::default(),
    );
    assert_eq!(s.families[0].ty, MetricType::GaugeHistogram);
    let NativeHistogram::Float(f) = &s.histograms[0].histogram else {
        panic!("float histogram expected");
    };
    assert_eq!(f.counter_reset_hint, CounterResetHint::Gauge);
    assert_eq!((f.count, f.positive_buckets.clone()), (2.5, vec![1.0, 1.5]));
}

#[test]
fn summary_counter_gauge_untyped_and_created_samples() {
    let summary = proto::Metric {
        summary: Some(proto::Summary {
            sample_count: 4,
            sample_sum: 2.0,
            quantile: vec![
                proto::Quantile {
                    quantile: 0.5,
                    value: 0.4,
                },
                proto::Quantile {
                    quantile: 1.0,
                    value: 0.9,
                },
            ],
            created_timestamp: Some(proto::Timestamp {
                seconds: 7,
                nanos: 500_000_000,
            }),
        }),
        timestamp_ms: 1000,
        ..Default::default()
    };
    let counter = proto::Metric {
        counter: Some(proto::Counter {
            value: 3.0,
            exemplar: None,
            created_timestamp: Some(proto::Timestamp {
                seconds: 2,
                nanos: 0,
            }),
        }),
        ..Default::default()
    };
    let fams = [
        family("rpc", proto::MetricType::Summary, vec![summary]),
        family("jobs_total", proto::MetricType::Counter, vec![counter]),
        family(
            "temp",
            proto::MetricType::Gauge,
            vec![proto::Metric::default()],
        ),
        family(
            "u",
            proto::MetricType::Untyped,
            vec![proto::Metric {
                untyped: Some(proto::Untyped { value: -1.0 }),
                ..Default::default()
            }],
        ),
    ];
    let s = decode(&fams, DecodeOptions::default());
    assert_eq!(
        lines(&s),
        vec![
            r#"rpc{quantile="0.5"} 0.4"#,
            r#"rpc{quantile="1.0"} 0.9"#,
            "rpc_sum 2",
            "rpc_count 4",
            "jobs_total 3",
            "temp 0",
            "u -1",
        ]
    );
    assert_eq!(s.families[0].samples[0].timestamp, Some(1000));
    assert_eq!(s.families[1].samples[0].timestamp, None);
    assert_eq!(s.families[3].ty, MetricType::Unknown);

    let with_created = DecodeOptions {
        created_samples: true,
        ..DecodeOptions::default()
    };
    let s = decode(&fams, with_created);
    let l = lines(&s);
    assert!(l.contains(&"rpc_created 7.5".to_string()), "{l:?}");
    assert!(l.contains(&"jobs_created 2".to_string()), "{l:?}");
}

#[test]
fn errors_are_typed_and_point_at_the_family() {
    let ok = family("ok", proto::MetricType::Gauge, vec![]);
    let ok_len = body(std::slice::from_ref(&ok)).len();
    let check = |bad: proto::MetricFamily, want: fn(&ProtobufErrorKind) -> bool| {
        let b = body(&[ok.clone(), bad]);
        let err = protobuf::decode(&b, &DecodeOptions::default()).unwrap_err();
        assert_eq!(err.offset, ok_len, "{err}");
        assert!(want(&err.kind), "{err}");
    };
    check(family("", proto::MetricType::Gauge, vec![]), |k| {
        matches!(k, ProtobufErrorKind::EmptyMetricName)
    });
    let mut unknown = family("x", proto::MetricType::Gauge, vec![]);
    unknown.r#type = 9;
    check(unknown, |k| {
        matches!(k, ProtobufErrorKind::UnknownType { ty: 9, .. })
    });
    let mut unit = family("x_bytes", proto::MetricType::Gauge, vec![]);
    unit.unit = "seconds".into();
    check(unit, |k| matches!(k, ProtobufErrorKind::InvalidUnit { .. }));
    let dup = proto::Metric {
        label: labels(&[("a", "1"), ("a", "2")]),
        ..Default::default()
    };
    check(family("x", proto::MetricType::Gauge, vec![dup]), |k| {
        matches!(k, ProtobufErrorKind::InvalidLabel { .. })
    });
    let reserved = proto::Metric {
        label: labels(&[("__name__", "y")]),
        ..Default::default()
    };
    check(family("x", proto::MetricType::Gauge, vec![reserved]), |k| {
        matches!(k, ProtobufErrorKind::InvalidLabel { .. })
    });
    let le = proto::Metric {
        label: labels(&[("le", "1")]),
        histogram: Some(classic()),
        ..Default::default()
    };
    check(family("x", proto::MetricType::Histogram, vec![le]), |k| {
        matches!(k, ProtobufErrorKind::InvalidLabel { .. })
    });
    let mut h = native_with_buckets();
    h.positive_delta.pop();
    check(
        family("x", proto::MetricType::Histogram, vec![hist_metric(h)]),
        |k| matches!(k, ProtobufErrorKind::InvalidNativeHistogram { .. }),
    );
}

#[test]
fn truncated_bodies_fail_at_the_cut() {
    let b = body(&[
        family(
            "a",
            proto::MetricType::Gauge,
            vec![proto::Metric::default()],
        ),
        family(
            "b",
            proto::MetricType::Histogram,
            vec![hist_metric(native_with_buckets())],
        ),
    ]);
    let first = body(&[family(
        "a",
        proto::MetricType::Gauge,
        vec![proto::Metric::default()],
    )])
    .len();
    for cut in 0..b.len() {
        let r = protobuf::decode(&b[..cut], &DecodeOptions::default());
        if cut == 0 || cut == first {
            assert!(r.is_ok(), "cut {cut}");
        } else {
            let err = r.unwrap_err();
            let start = if cut < first { 0 } else { first };
            assert_eq!(err.offset, start, "cut {cut}: {err}");
            assert!(
                matches!(
                    err.kind,
                    ProtobufErrorKind::Truncated { .. } | ProtobufErrorKind::TruncatedLength
                ),
                "cut {cut}: {err}"
            );
        }
    }
}
