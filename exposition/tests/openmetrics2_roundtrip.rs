//! Property: for generated OpenMetrics 2.0 families (every type, classic and native
//! histogram buckets, summaries, quoted names, escapes, timestamps, start timestamps and
//! several exemplars), encode then parse gives back the same families, and the strict
//! validator accepts the encoder's output. Also: no input makes the parser panic.

use exposition::histogram::{CounterResetHint, FloatHistogram, Span};
use exposition::openmetrics2::{
    self, ClassicBucket, Family, FamilySample, HistogramValue, OpenMetrics2Parser, Quantile,
    SummaryValue, Value,
};
use exposition::{FamilyExemplar, Labels, MetricType};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z_][a-z0-9_:]{0,6}", "[a-z]{1,3}\\.[a-z\"\\\\ é]{1,3}"]
        // A stateset's state label is named after the family; `i` is the index label.
        .prop_filter("index label", |n| n != "i")
}

fn label_name() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z][a-z0-9_]{0,4}", "[a-z]\\.[a-z\"é]{1,2}"]
        .prop_filter("reserved", |n| n != "le" && n != "quantile" && n != "i")
}

fn label_value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 \"\\\\\n{}#,=.é]{1,8}"
}

fn labels() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((label_name(), label_value()), 0..3)
}

fn ts() -> impl Strategy<Value = i64> {
    -1_000_000_000_000_000i64..1_000_000_000_000_000
}

fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        (-1000i32..1000).prop_map(f64::from),
    ]
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-1e9f64..1e9),
        (-1000i32..1000).prop_map(f64::from),
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
    ]
}

fn count() -> impl Strategy<Value = f64> {
    prop_oneof![(0u32..1000).prop_map(f64::from), (0.0f64..1e9)]
}

fn exemplars() -> impl Strategy<Value = Vec<FamilyExemplar>> {
    prop::collection::vec(
        (labels(), any_value(), ts()).prop_map(|(l, value, t)| FamilyExemplar {
            labels: Labels::from_pairs(&l),
            value,
            timestamp: Some(t),
        }),
        0..3,
    )
}

/// Sorted, unique, finite bounds with cumulative (or, for gauges, arbitrary) counts, and
/// the `+Inf` bucket equal to `count`.
fn classic(gauge: bool) -> impl Strategy<Value = (f64, Vec<ClassicBucket>)> {
    (
        prop::collection::btree_set(-1000i32..1000, 0..5),
        prop::collection::vec(count(), 6),
        prop::collection::vec(finite(), 6),
        any::<bool>(),
    )
        .prop_map(move |(les, incs, raw, neg_inf)| {
            let mut acc = 0.0;
            let mut out = Vec::new();
            let bounds = neg_inf
                .then_some(f64::NEG_INFINITY)
                .into_iter()
                .chain(les.iter().map(|&l| f64::from(l) / 8.0))
                .chain([f64::INFINITY]);
            for (i, le) in bounds.enumerate() {
                let c = if gauge {
                    raw[i % raw.len()]
                } else {
                    acc += incs[i % incs.len()];
                    acc
                };
                out.push(ClassicBucket { le, count: c });
            }
            (out.last().map_or(0.0, |b| b.count), out)
        })
}

fn spans_and_buckets(gauge: bool) -> impl Strategy<Value = (Vec<Span>, Vec<f64>)> {
    (
        -10i32..10,
        prop::collection::vec((0i32..4, 1u32..4), 0..4),
        prop::collection::vec(count(), 12),
        prop::collection::vec(finite(), 12),
    )
        .prop_map(move |(first, rest, counts, raw)| {
            let spans: Vec<Span> = rest
                .iter()
                .enumerate()
                .map(|(i, &(o, l))| Span::new(if i == 0 { first } else { o }, l))
                .collect();
            let n: u32 = spans.iter().map(|s| s.length).sum();
            let src = if gauge { &raw } else { &counts };
            (spans, src.iter().copied().take(n as usize).collect())
        })
}

fn native(gauge: bool) -> impl Strategy<Value = FloatHistogram> {
    (
        -4i32..=8,
        prop_oneof![Just(0.0), (0.0f64..1.0), Just(1e-128)],
        if gauge {
            finite().boxed()
        } else {
            count().boxed()
        },
        spans_and_buckets(gauge),
        spans_and_buckets(gauge),
    )
        .prop_map(
            move |(schema, zero_threshold, zero_count, neg, pos)| FloatHistogram {
                counter_reset_hint: if gauge {
                    CounterResetHint::Gauge
                } else {
                    CounterResetHint::Unknown
                },
                schema,
                zero_threshold,
                zero_count,
                negative_spans: neg.0,
                negative_buckets: neg.1,
                positive_spans: pos.0,
                positive_buckets: pos.1,
                ..FloatHistogram::default()
            },
        )
}

fn histogram(gauge: bool) -> impl Strategy<Value = Value> {
    (
        prop::option::of(native(gauge)),
        prop::option::of(classic(gauge)),
        if gauge {
            finite().boxed()
        } else {
            count().boxed()
        },
        any_value(),
    )
        .prop_map(move |(native, classic, count, sum)| {
            let (native, classic) = match (native, classic) {
                (None, None) => (
                    None,
                    Some(vec![ClassicBucket {
                        le: f64::INFINITY,
                        count,
                    }]),
                ),
                other => (other.0, other.1.map(|c| c.1)),
            };
            let count = classic
                .as_ref()
                .and_then(|c| c.last())
                .map_or(count, |b| b.count);
            let native = native.map(|mut n| {
                n.count = count;
                n.sum = sum;
                n
            });
            Value::Histogram(Box::new(HistogramValue {
                gauge,
                count,
                sum,
                native,
                classic,
            }))
        })
}

fn summary() -> impl Strategy<Value = Value> {
    (
        0u32..10_000,
        prop_oneof![(0.0f64..1e9), Just(f64::INFINITY)],
        prop::collection::btree_map(0u32..=100, prop_oneof![(0.0f64..1e6), Just(f64::NAN)], 0..4),
    )
        .prop_map(|(count, sum, qs)| {
            Value::Summary(Box::new(SummaryValue {
                count: f64::from(count),
                sum,
                quantiles: qs
                    .into_iter()
                    .map(|(q, value)| Quantile {
                        quantile: f64::from(q) / 100.0,
                        value,
                    })
                    .collect(),
            }))
        })
}

fn value(ty: MetricType) -> BoxedStrategy<Value> {
    match ty {
        MetricType::Counter => prop_oneof![count(), Just(f64::INFINITY)]
            .prop_map(Value::Number)
            .boxed(),
        MetricType::Info => Just(Value::Number(1.0)).boxed(),
        MetricType::StateSet => (0u8..2).prop_map(|v| Value::Number(f64::from(v))).boxed(),
        MetricType::Histogram => histogram(false).boxed(),
        MetricType::GaugeHistogram => histogram(true).boxed(),
        MetricType::Summary => summary().boxed(),
        MetricType::Gauge => any_value().prop_map(Value::Number).boxed(),
        MetricType::Unknown => prop_oneof![
            any_value().prop_map(Value::Number),
            histogram(false),
            histogram(true),
            summary()
        ]
        .boxed(),
    }
}

fn sample(ty: MetricType, family: String, i: usize) -> impl Strategy<Value = FamilySample> {
    let st_ok = matches!(
        ty,
        MetricType::Counter | MetricType::Histogram | MetricType::Summary | MetricType::Unknown
    );
    let ex_ok = matches!(
        ty,
        MetricType::Counter
            | MetricType::Histogram
            | MetricType::GaugeHistogram
            | MetricType::Unknown
    );
    (
        labels(),
        value(ty),
        prop::option::of(ts()),
        prop::option::of(ts()),
        exemplars(),
    )
        .prop_map(move |(l, value, timestamp, st, ex)| {
            let mut b = Labels::from_pairs(&l).builder();
            b.set("i", &i.to_string());
            if ty == MetricType::StateSet {
                b.set(&family, "state");
            }
            let gauge_hist = matches!(&value, Value::Histogram(h) if h.gauge);
            FamilySample {
                labels: b.build(),
                value,
                timestamp,
                start_timestamp: st.filter(|_| st_ok && !gauge_hist),
                exemplars: if ex_ok { ex } else { Vec::new() },
            }
        })
}

fn family() -> impl Strategy<Value = Family> {
    let types = prop::sample::select(vec![
        MetricType::Counter,
        MetricType::Gauge,
        MetricType::Histogram,
        MetricType::GaugeHistogram,
        MetricType::Summary,
        MetricType::Info,
        MetricType::StateSet,
        MetricType::Unknown,
    ]);
    (
        name(),
        types,
        prop::option::of("[a-zA-Z0-9\\\\\n\"é][a-zA-Z0-9 \\\\\n\"é]{0,12}"),
        prop::option::of("[a-z0-9_]{1,6}"),
    )
        .prop_flat_map(|(name, ty, help, unit)| {
            let name = if ty == MetricType::Info {
                format!("{name}_info")
            } else {
                name
            };
            let unit = unit.filter(|_| !matches!(ty, MetricType::Info | MetricType::StateSet));
            let n = name.clone();
            (0usize..4)
                .prop_flat_map(move |k| {
                    (0..k).map(|i| sample(ty, n.clone(), i)).collect::<Vec<_>>()
                })
                .prop_map(move |samples| Family {
                    name: name.clone(),
                    ty,
                    help: help.clone(),
                    unit: unit.clone(),
                    samples,
                })
        })
}

fn families() -> impl Strategy<Value = Vec<Family>> {
    prop::collection::vec(family(), 0..5).prop_map(|mut fams| {
        // Family names are unique within an exposition.
        let mut seen = std::collections::HashSet::new();
        fams.retain(|f| seen.insert(f.name.clone()));
        fams
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_parse_is_identity(fams in families()) {
        let mut out = String::new();
        openmetrics2::encode(&fams, &mut out);
        let back = openmetrics2::parse_families(out.as_bytes())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{out}")))?;
        // Debug text compares NaN equal to NaN and keeps -0 apart from 0.
        prop_assert_eq!(format!("{:?}", back), format!("{:?}", fams), "{}", out);
    }

    #[test]
    fn classic_buckets_convert_to_valid_nhcb(v in histogram(false)) {
        let Value::Histogram(h) = v else { unreachable!() };
        let Some(classic) = &h.classic else { return Ok(()) };
        let n = h.classic_as_nhcb().expect("cumulative buckets convert");
        prop_assert!(n.validate().is_ok(), "{:?}", n.validate());
        let finite = classic.iter().filter(|b| b.le.is_finite()).count();
        prop_assert_eq!(n.custom_values.len(), finite);
        prop_assert_eq!(n.positive_buckets.len(), finite + 1);
        let total: f64 = n.positive_buckets.iter().sum();
        prop_assert!((total - h.count).abs() <= 1e-6 * h.count.max(1.0), "{} vs {}", total, h.count);
    }

    #[test]
    fn parser_never_panics(input in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = OpenMetrics2Parser::new(&input).count();
        let _ = OpenMetrics2Parser::lenient(&input).count();
    }

    #[test]
    fn parser_never_panics_on_near_misses(
        fams in families(),
        cut in any::<prop::sample::Index>(),
        byte in prop::sample::select(b" \n{}[],:#\"\\.e+-0@s".to_vec()),
    ) {
        let mut out = String::new();
        openmetrics2::encode(&fams, &mut out);
        let mut bytes = out.into_bytes();
        let i = cut.index(bytes.len().max(1)).min(bytes.len());
        bytes.insert(i, byte);
        let _ = OpenMetrics2Parser::new(&bytes).count();
        if let Ok(f) = openmetrics2::parse_families(&bytes) {
            let mut again = String::new();
            openmetrics2::encode(&f, &mut again);
            let back = openmetrics2::parse_families(again.as_bytes());
            prop_assert!(back.is_ok(), "{:?}\n{}", back, again);
            prop_assert_eq!(format!("{:?}", back.unwrap()), format!("{:?}", f));
        }
    }
}
