//! Property: for generated families, encode then parse gives back the same families, for
//! text 0.0.4 and for OpenMetrics (whose strict validator must also accept the output).

use std::collections::BTreeMap;

use exposition::{
    openmetrics, text, FamilyExemplar, FamilySample, Labels, MetricFamily, MetricType,
};
use proptest::prelude::*;

fn label_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,5}".prop_filter("reserved", |n| n != "le" && n != "quantile")
}

fn label_value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 \"\\\\\n{}#,=.é]{1,8}"
}

fn labels() -> impl Strategy<Value = Labels> {
    prop::collection::vec((label_name(), label_value()), 0..4)
        .prop_map(|pairs| Labels::from_pairs(&pairs))
}

fn help() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[a-zA-Z0-9\\\\\n\"é][a-zA-Z0-9 \\\\\n\"é]{0,12}")
}

fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        (-1000i32..1000).prop_map(f64::from),
        (0.0f64..1e6),
    ]
}

fn non_negative() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0.0f64..1e12),
        (0u32..1000).prop_map(f64::from),
        Just(f64::INFINITY)
    ]
}

fn sample(name: &str, labels: Labels, value: f64, timestamp: Option<i64>) -> FamilySample {
    FamilySample {
        name: name.to_string(),
        labels,
        value,
        timestamp,
        exemplar: None,
    }
}

fn with(labels: &Labels, name: &str, value: &str) -> Labels {
    let mut b = labels.builder();
    b.set(name, value);
    b.build()
}

/// Families valid in text 0.0.4.
fn text_families() -> impl Strategy<Value = Vec<MetricFamily>> {
    let fam = (
        0u8..5,
        help(),
        prop::collection::vec(
            (
                labels(),
                any_value(),
                non_negative(),
                prop::option::of(any::<i64>()),
            ),
            1..5,
        ),
    );
    prop::collection::vec(fam, 0..6).prop_map(|fams| {
        fams.into_iter()
            .enumerate()
            .map(|(i, (kind, help, rows))| {
                let (name, ty) = match kind {
                    0 => (format!("g{i}"), MetricType::Gauge),
                    1 => (format!("c{i}_total"), MetricType::Counter),
                    2 => (format!("u{i}"), MetricType::Unknown),
                    3 => (format!("s{i}"), MetricType::Summary),
                    _ => (format!("h{i}"), MetricType::Histogram),
                };
                let mut f = MetricFamily::new(&name, ty);
                f.help = help;
                for (l, v, nn, ts) in rows {
                    match ty {
                        MetricType::Summary => {
                            f.samples
                                .push(sample(&name, with(&l, "quantile", "0.5"), v, ts));
                            f.samples
                                .push(sample(&format!("{name}_sum"), l.clone(), v, ts));
                            f.samples.push(sample(&format!("{name}_count"), l, nn, ts));
                        }
                        MetricType::Histogram => {
                            let b = format!("{name}_bucket");
                            f.samples.push(sample(&b, with(&l, "le", "0.25"), nn, ts));
                            f.samples.push(sample(&b, with(&l, "le", "+Inf"), nn, ts));
                            f.samples
                                .push(sample(&format!("{name}_sum"), l.clone(), v, ts));
                            f.samples.push(sample(&format!("{name}_count"), l, nn, ts));
                        }
                        MetricType::Counter => f.samples.push(sample(&name, l, nn, ts)),
                        _ => f.samples.push(sample(&name, l, v, ts)),
                    }
                }
                f
            })
            .collect()
    })
}

fn exemplar() -> impl Strategy<Value = Option<FamilyExemplar>> {
    prop::option::of(
        (
            labels(),
            any_value(),
            prop::option::of(0i64..4_000_000_000_000),
        )
            .prop_map(|(labels, value, timestamp)| FamilyExemplar {
                labels,
                value,
                timestamp,
            }),
    )
}

/// Families valid in OpenMetrics (unique label groups, counter-like values non-negative,
/// histogram structure right).
fn om_families() -> impl Strategy<Value = Vec<MetricFamily>> {
    let fam = (
        0u8..7,
        help(),
        any::<bool>(),
        prop::collection::vec(
            (
                labels(),
                any_value(),
                non_negative(),
                0i64..4_000_000_000_000,
                exemplar(),
            ),
            1..5,
        ),
    );
    prop::collection::vec(fam, 0..6).prop_map(|fams| {
        fams.into_iter()
            .enumerate()
            .map(|(i, (kind, help, with_ts, rows))| {
                let ty = [
                    MetricType::Gauge,
                    MetricType::Counter,
                    MetricType::Unknown,
                    MetricType::Summary,
                    MetricType::Histogram,
                    MetricType::StateSet,
                    MetricType::Info,
                ][usize::from(kind)];
                let name = format!("m{i}_seconds");
                let mut f = MetricFamily::new(&name, ty);
                f.help = help;
                if matches!(ty, MetricType::Gauge | MetricType::Counter) {
                    f.unit = Some("seconds".into());
                }
                // One row per distinct label set keeps groups unique.
                let rows: BTreeMap<Labels, _> = rows
                    .into_iter()
                    .map(|(l, v, nn, ts, x)| (l, (v, nn, ts, x)))
                    .collect();
                for (l, (v, nn, ts, x)) in rows {
                    let ts = with_ts.then_some(ts);
                    let named = |suffix: &str| format!("{name}{suffix}");
                    match ty {
                        MetricType::Counter => {
                            let mut s = sample(&named("_total"), l, nn, ts);
                            s.exemplar = x;
                            f.samples.push(s);
                        }
                        MetricType::Summary => {
                            let q = if v.is_nan() { v } else { v.abs() };
                            f.samples
                                .push(sample(&name, with(&l, "quantile", "0.9"), q, ts));
                            f.samples.push(sample(&named("_sum"), l.clone(), nn, ts));
                            f.samples.push(sample(&named("_count"), l, nn, ts));
                        }
                        MetricType::Histogram => {
                            let (lo, hi) = (nn.min(7.0), nn.max(7.0));
                            let mut b1 = sample(&named("_bucket"), with(&l, "le", "0.5"), lo, ts);
                            b1.exemplar = x;
                            f.samples.push(b1);
                            f.samples.push(sample(
                                &named("_bucket"),
                                with(&l, "le", "+Inf"),
                                hi,
                                ts,
                            ));
                            f.samples.push(sample(&named("_sum"), l.clone(), nn, ts));
                            f.samples.push(sample(&named("_count"), l, hi, ts));
                        }
                        MetricType::StateSet => {
                            let on = if nn > 1.0 { 1.0 } else { 0.0 };
                            let l2 = l.without(&[name.as_str()]);
                            f.samples.push(sample(&name, with(&l2, &name, "a"), on, ts));
                            f.samples
                                .push(sample(&name, with(&l2, &name, "b"), 1.0 - on, ts));
                        }
                        MetricType::Info => f.samples.push(sample(&named("_info"), l, 1.0, ts)),
                        _ => f.samples.push(sample(&name, l, v, ts)),
                    }
                }
                // A stateset row per label set may repeat groups after `without`: keep the first.
                if ty == MetricType::StateSet {
                    let mut seen = std::collections::HashSet::new();
                    f.samples.retain(|s| seen.insert(s.labels.clone()));
                }
                f
            })
            .collect()
    })
}

/// Case count: `PROPTEST_CASES` when set (for long soaks), else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn text_round_trip(fams in text_families()) {
        let mut out = String::new();
        text::encode(&fams, &mut out);
        let back = text::parse_families(out.as_bytes());
        prop_assert!(back.is_ok(), "{:?}\n{}", back, out);
        prop_assert_eq!(format!("{:?}", back.unwrap()), format!("{:?}", fams), "{}", out);
    }

    #[test]
    fn openmetrics_round_trip(fams in om_families()) {
        let mut out = String::new();
        openmetrics::encode(&fams, &mut out);
        let back = openmetrics::parse_families(out.as_bytes());
        prop_assert!(back.is_ok(), "{:?}\n{}", back, out);
        prop_assert_eq!(format!("{:?}", back.unwrap()), format!("{:?}", fams), "{}", out);
    }
}
