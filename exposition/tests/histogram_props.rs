//! Property tests for native-histogram arithmetic, layout changes, statistics and the
//! notation parser.

use exposition::histogram::{exponential_bound, CounterResetHint, FloatHistogram, Span};
use proptest::prelude::*;

/// One side: spans with small gaps and integer counts (so sums are exact).
fn side() -> impl Strategy<Value = (Vec<Span>, Vec<f64>)> {
    (
        -12i32..12,
        prop::collection::vec((0i32..4, prop::collection::vec(0u32..9, 1..5)), 0..4),
    )
        .prop_map(|(start, runs)| {
            let mut spans = Vec::new();
            let mut buckets = Vec::new();
            for (i, (gap, counts)) in runs.into_iter().enumerate() {
                let offset = if i == 0 { start } else { gap };
                spans.push(Span::new(offset, counts.len() as u32));
                buckets.extend(counts.into_iter().map(f64::from));
            }
            (spans, buckets)
        })
}

fn hint() -> impl Strategy<Value = CounterResetHint> {
    prop_oneof![
        Just(CounterResetHint::Unknown),
        Just(CounterResetHint::CounterReset),
        Just(CounterResetHint::NotCounterReset),
        Just(CounterResetHint::Gauge),
    ]
}

fn exponential(
    schema: impl Strategy<Value = i32>,
    threshold: impl Strategy<Value = f64>,
) -> impl Strategy<Value = FloatHistogram> {
    (
        schema,
        threshold,
        0u32..5,
        -50i32..50,
        side(),
        side(),
        hint(),
    )
        .prop_map(
            |(schema, zero_threshold, zero_count, sum, (ps, pb), (ns, nb), counter_reset_hint)| {
                let mut h = FloatHistogram {
                    counter_reset_hint,
                    schema,
                    zero_threshold,
                    zero_count: f64::from(zero_count),
                    sum: f64::from(sum),
                    positive_spans: ps,
                    negative_spans: ns,
                    positive_buckets: pb,
                    negative_buckets: nb,
                    ..FloatHistogram::default()
                };
                // Well-formed: no bucket reaches into the zero bucket.
                let lowest = h
                    .positive_bucket_iter()
                    .map(|b| b.lower)
                    .chain(h.negative_bucket_iter().map(|b| -b.upper))
                    .fold(f64::INFINITY, f64::min);
                if h.zero_threshold > lowest {
                    h.zero_threshold = 0.0;
                }
                if h.zero_threshold == 0.0 {
                    h.zero_count = 0.0;
                }
                h.count = h.zero_count
                    + h.positive_buckets.iter().sum::<f64>()
                    + h.negative_buckets.iter().sum::<f64>()
                    + 0.0;
                h
            },
        )
}

fn any_exponential() -> impl Strategy<Value = FloatHistogram> {
    exponential(
        -4i32..=8,
        prop_oneof![Just(0.0), Just(0.001), Just(0.5), Just(1.0)],
    )
}

fn compacted(h: &FloatHistogram) -> FloatHistogram {
    let mut c = h.clone();
    c.compact(0);
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_histograms_are_valid(h in any_exponential()) {
        prop_assert!(h.validate().is_ok(), "{:?}", h.validate());
        let i = h.to_integer().expect("integral");
        prop_assert!(i.validate().is_ok(), "{:?}", i.validate());
        prop_assert_eq!(i.to_float(), h);
    }

    #[test]
    fn add_then_sub_is_identity_after_compaction(
        (a, b) in (-4i32..=8, prop_oneof![Just(0.0), Just(0.001), Just(0.5)])
            .prop_flat_map(|(s, t)| (exponential(Just(s), Just(t)), exponential(Just(s), Just(t))))
    ) {
        prop_assume!(a.zero_threshold == b.zero_threshold);
        let mut x = a.clone();
        x.add(&b).unwrap();
        x.sub(&b).unwrap();
        let (got, want) = (compacted(&x), compacted(&a));
        prop_assert!(got.equals(&want), "a={} b={} got={}", a, b, got);
    }

    #[test]
    fn add_across_schemas_matches_adding_at_the_coarser_schema(a in any_exponential(), b in any_exponential()) {
        let mut a = a;
        let mut b = b;
        a.zero_threshold = 0.0;
        a.zero_count = 0.0;
        b.zero_threshold = 0.0;
        b.zero_count = 0.0;
        let target = a.schema.min(b.schema);
        let mut direct = a.clone();
        direct.add(&b).unwrap();
        let mut reduced = a.copy_to_schema(target).unwrap();
        reduced.add(&b.copy_to_schema(target).unwrap()).unwrap();
        prop_assert_eq!(direct.schema, target);
        prop_assert!(compacted(&direct).equals(&compacted(&reduced)));
        let total = |h: &FloatHistogram| h.positive_buckets.iter().chain(&h.negative_buckets).sum::<f64>();
        prop_assert_eq!(total(&direct), total(&a) + total(&b));
    }

    #[test]
    fn add_with_different_thresholds_conserves_observations(a in any_exponential(), b in any_exponential()) {
        let mut x = a.clone();
        x.add(&b).unwrap();
        let observed = |h: &FloatHistogram| h.zero_count + h.positive_buckets.iter().chain(&h.negative_buckets).sum::<f64>();
        prop_assert_eq!(observed(&x), observed(&a) + observed(&b));
        prop_assert_eq!(x.zero_threshold, a.zero_threshold.max(b.zero_threshold).max(x.zero_threshold));
        prop_assert!(x.validate().is_ok());
        // Nothing non-empty is left inside the zero bucket (with one schema: reducing the
        // resolution afterwards can widen a bucket across the threshold, as in Prometheus).
        let same_schema = a.schema == b.schema;
        for bucket in x.positive_bucket_iter().filter(|b| same_schema && b.count != 0.0) {
            prop_assert!(bucket.lower >= x.zero_threshold, "{} inside {}", bucket.lower, x.zero_threshold);
        }
    }

    #[test]
    fn kahan_add_matches_add_on_exact_values(a in any_exponential(), b in any_exponential(), c in any_exponential()) {
        let mut plain = a.clone();
        plain.add(&b).unwrap();
        plain.add(&c).unwrap();
        let mut total = a.clone();
        let mut comp = FloatHistogram::default();
        total.kahan_add(&b, &mut comp).unwrap();
        total.kahan_add(&c, &mut comp).unwrap();
        total.add(&comp).unwrap();
        prop_assert!(compacted(&total).equals(&compacted(&plain)), "{} vs {}", total, plain);
        prop_assert_eq!(total.counter_reset_hint, plain.counter_reset_hint);
    }

    #[test]
    fn reduce_resolution_preserves_count_sum_and_bucket_ranges(h in any_exponential(), drop in 0i32..13) {
        let target = (h.schema - drop).max(-4);
        let r = h.copy_to_schema(target).unwrap();
        prop_assert_eq!(r.schema, target);
        prop_assert_eq!(r.count, h.count);
        prop_assert_eq!(r.sum, h.sum);
        prop_assert_eq!(r.zero_count, h.zero_count);
        let total = |h: &FloatHistogram| (h.positive_buckets.iter().sum::<f64>(), h.negative_buckets.iter().sum::<f64>());
        prop_assert_eq!(total(&r), total(&h));
        prop_assert!(r.validate().is_ok());
        // Each original bucket lies inside the coarser bucket that took its count.
        for b in h.positive_bucket_iter() {
            let t = r.positive_bucket_iter().find(|t| t.lower <= b.lower * (1.0 + 1e-12) && b.upper <= t.upper * (1.0 + 1e-12));
            prop_assert!(t.is_some(), "bucket ({}, {}] has no home", b.lower, b.upper);
        }
    }

    #[test]
    fn quantile_is_monotone_in_q(h in any_exponential(), q1 in 0.0f64..=1.0, q2 in 0.0f64..=1.0) {
        prop_assume!(h.count > 0.0);
        let (lo, hi) = if q1 <= q2 { (q1, q2) } else { (q2, q1) };
        let (a, b) = (h.quantile(lo), h.quantile(hi));
        prop_assert!(!a.is_nan() && !b.is_nan(), "{} {} -> {} {}", lo, hi, a, b);
        prop_assert!(a <= b + b.abs() * 1e-9 + 1e-12, "q {} -> {}, q {} -> {} for {}", lo, a, hi, b, h);
    }

    #[test]
    fn fraction_is_a_fraction(h in any_exponential(), x in -100.0f64..100.0, y in -100.0f64..100.0) {
        prop_assume!(h.count > 0.0);
        let f = h.fraction(x.min(y), x.max(y));
        prop_assert!((-1e-12..=1.0 + 1e-12).contains(&f), "{}", f);
        let all = h.fraction(f64::NEG_INFINITY, f64::INFINITY);
        prop_assert!((all - 1.0).abs() < 1e-12, "{}", all);
    }

    #[test]
    fn growth_is_not_a_reset(h in any_exponential(), d in any_exponential()) {
        let mut d = d;
        d.schema = h.schema;
        d.zero_threshold = h.zero_threshold;
        if d.zero_threshold == 0.0 { d.zero_count = 0.0; }
        let mut next = h.clone();
        next.add(&d).unwrap();
        next.counter_reset_hint = CounterResetHint::Unknown;
        prop_assert!(!next.detect_reset(&h), "{} after {}", next, h);
        let mut same = h.clone();
        same.counter_reset_hint = CounterResetHint::Unknown;
        prop_assert!(!same.detect_reset(&h));
    }

    #[test]
    fn notation_round_trips(h in any_exponential(), custom in prop::collection::vec(-5i32..50, 0..5)) {
        let mut want = h.clone();
        want.compact(usize::MAX);
        let back = FloatHistogram::parse_notation(&h.to_string()).unwrap();
        prop_assert!(back.equals(&want) && back.counter_reset_hint == want.counter_reset_hint, "{} -> {:?}", h, back);
        // Custom buckets too.
        let mut bounds: Vec<f64> = custom.into_iter().map(|v| f64::from(v) / 4.0).collect();
        bounds.sort_by(f64::total_cmp);
        bounds.dedup();
        let n = h.positive_buckets.len().min(bounds.len() + 1);
        let c = FloatHistogram {
            schema: -53,
            count: h.positive_buckets[..n].iter().sum::<f64>() + 0.0,
            positive_spans: if n > 0 { vec![Span::new(0, n as u32)] } else { vec![] },
            positive_buckets: h.positive_buckets[..n].to_vec(),
            custom_values: bounds,
            ..FloatHistogram::default()
        };
        let mut want = c.clone();
        want.compact(usize::MAX);
        let back = FloatHistogram::parse_notation(&c.to_string()).unwrap();
        prop_assert!(back.equals(&want), "{} -> {:?}", c, back);
    }

    #[test]
    fn parser_never_panics(s in "\\PC{0,64}") {
        let _ = FloatHistogram::parse_notation(&s);
    }

    #[test]
    fn parser_never_panics_on_mangled_notation(h in any_exponential(), cut in 0usize..200, junk in "[{}\\[\\]: a-z0-9.+-]{0,6}") {
        let text = h.to_string();
        let cut = cut.min(text.len());
        let mangled = format!("{}{}{}", &text[..cut], junk, &text[cut..]);
        if let Ok(p) = FloatHistogram::parse_notation(&mangled) {
            // Whatever parses prints and parses again.
            let again = FloatHistogram::parse_notation(&p.to_string());
            prop_assert!(again.is_ok());
        }
    }
}

#[test]
fn exponential_bounds_are_increasing() {
    for schema in -4..=8 {
        let mut prev = 0.0;
        for idx in -300..300 {
            let b = exponential_bound(idx, schema);
            assert!(
                b > prev || (b == prev && b == 0.0) || b.is_infinite(),
                "{schema} {idx}"
            );
            prev = b;
        }
    }
}

/// Any histogram at all, including malformed ones: odd schemas, spans that disagree with
/// the buckets, negative or huge offsets, NaN and infinite values, unsorted bounds.
fn malformed() -> impl Strategy<Value = FloatHistogram> {
    let float = prop_oneof![
        -4.0f64..20.0,
        Just(0.0),
        Just(-0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MAX),
        Just(1e-300),
    ];
    let offset = prop_oneof![
        -6i32..6,
        Just(i32::MAX),
        Just(i32::MIN),
        Just(1 << 30),
        Just(-(1 << 30))
    ];
    let spans = prop::collection::vec((offset, 0u32..5).prop_map(|(o, l)| Span::new(o, l)), 0..4);
    let schema = prop_oneof![
        -6i32..10,
        Just(-53),
        Just(i32::MIN),
        Just(i32::MAX),
        Just(60)
    ];
    (
        schema,
        (float.clone(), float.clone(), float.clone(), float.clone()),
        (spans.clone(), prop::collection::vec(float.clone(), 0..8)),
        (spans, prop::collection::vec(float.clone(), 0..8)),
        prop::collection::vec(float, 0..4),
        hint(),
    )
        .prop_map(
            |(schema, (zt, zc, count, sum), (ps, pb), (ns, nb), custom, hint)| FloatHistogram {
                counter_reset_hint: hint,
                schema,
                zero_threshold: zt,
                zero_count: zc,
                count,
                sum,
                positive_spans: ps,
                negative_spans: ns,
                positive_buckets: pb,
                negative_buckets: nb,
                custom_values: custom,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Every operation terminates without panicking on malformed histograms.
    #[test]
    fn malformed_histograms_never_panic(a in malformed(), b in malformed(), q in -0.5f64..1.5, k in 0usize..4) {
        let _ = a.validate();
        let _ = a.to_integer().map(|i| i.validate());
        let mut x = a.clone();
        let _ = x.add(&b);
        let _ = x.sub(&b);
        let mut comp = FloatHistogram::default();
        let _ = x.kahan_add(&b, &mut comp);
        let _ = x.kahan_add(&a, &mut comp);
        let _ = x.clone().mul(q).div(q - 0.5).negate();
        x.compact(k);
        let _ = a.copy_to_schema(a.schema.saturating_sub(k as i32));
        let _ = a.equals(&b);
        let _ = a.detect_reset(&b);
        let _ = (a.quantile(q), a.fraction(q, q + 1.0), a.stddev(), a.stdvar());
        let _ = a.cumulative_buckets().count();
        let text = a.to_string();
        let _ = FloatHistogram::parse_notation(&text);
        let _ = x.to_string();
    }
}
