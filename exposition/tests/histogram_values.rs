//! Worked examples for native-histogram statistics and arithmetic, with the expected
//! values taken from the `native_histograms.test` script of the Prometheus PromQL test
//! suite (the inputs are the `load` lines, the outputs the `eval` expectations).

use exposition::histogram::{CounterResetHint, FloatHistogram};

fn h(s: &str) -> FloatHistogram {
    FloatHistogram::parse_notation(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn close(got: f64, want: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() || want == 0.0 {
        return got == want || (want == 0.0 && got.abs() < 1e-12);
    }
    ((got - want) / want).abs() < 1e-9
}

#[track_caller]
fn check(what: &str, got: f64, want: f64) {
    assert!(close(got, want), "{what}: got {got}, want {want}");
}

const Q1: &str = "{{schema:0 count:12 sum:100 z_bucket:2 z_bucket_w:0.001 buckets:[2 3 0 1 4]}}";
const Q2: &str = "{{schema:0 count:12 sum:100 z_bucket:2 z_bucket_w:0.001 n_buckets:[2 3 0 1 4]}}";
const Q3: &str = "{{schema:0 count:24 sum:100 z_bucket:4 z_bucket_w:0.001 buckets:[2 3 0 1 4] n_buckets:[2 3 0 1 4]}}";

#[test]
fn quantiles_positive_negative_and_both() {
    let q1 = h(Q1);
    for (q, want) in [
        (1.001, f64::INFINITY),
        (1.0, 16.0),
        (0.99, 15.67072476139083),
        (0.9, 12.99603834169977),
        (0.6, 4.594793419988138),
        (0.5, 1.5874010519681994),
        (0.1, 0.0006),
        (0.0, 0.0),
        (-1.0, f64::NEG_INFINITY),
        (f64::NAN, f64::NAN),
    ] {
        check(&format!("q1 {q}"), q1.quantile(q), want);
    }
    let q2 = h(Q2);
    for (q, want) in [
        (1.0, 0.0),
        (0.99, -0.00006),
        (0.9, -0.0006),
        (0.5, -1.5874010519681996),
        (0.1, -12.996038341699768),
        (0.0, -16.0),
    ] {
        check(&format!("q2 {q}"), q2.quantile(q), want);
    }
    let q3 = h(Q3);
    for (q, want) in [
        (1.0, 16.0),
        (0.99, 15.34822590920423),
        (0.9, 10.556063286183155),
        (0.7, 1.2030250360821164),
        (0.55, 0.0006),
        (0.5, 0.0),
        (0.45, -0.0006),
        (0.3, -1.2030250360821169),
        (0.1, -10.556063286183155),
        (0.01, -15.34822590920423),
        (0.0, -16.0),
    ] {
        check(&format!("q3 {q}"), q3.quantile(q), want);
    }
    check("empty", h("{{}}").quantile(0.5), f64::NAN);
}

#[test]
fn quantile_and_fraction_do_not_depend_on_schema() {
    for (schema, q_one, q_two) in [
        (-1, 2.0, 8.0),
        (0, std::f64::consts::SQRT_2, 2.82842712474619),
        (1, 1.189207115002721, 1.6817928305074292),
    ] {
        let one = h(&format!(
            "{{{{schema:{schema} sum:4 count:5 buckets:[0 5]}}}}"
        ));
        let two = h(&format!(
            "{{{{schema:{schema} sum:4 count:5 buckets:[0 0 5]}}}}"
        ));
        check("one", one.quantile(0.5), q_one);
        check("two", two.quantile(0.5), q_two);
        check("fraction one", one.fraction(0.0, q_one), 0.5);
        check("fraction two", two.fraction(0.0, q_two), 0.5);
        let n_one = h(&format!(
            "{{{{schema:{schema} sum:4 count:5 n_buckets:[0 5]}}}}"
        ));
        let n_two = h(&format!(
            "{{{{schema:{schema} sum:4 count:5 n_buckets:[0 0 5]}}}}"
        ));
        check("neg one", n_one.quantile(0.5), -q_one);
        check("neg two", n_two.quantile(0.5), -q_two);
        check("neg fraction one", n_one.fraction(-q_one, 0.0), 0.5);
        check("neg fraction two", n_two.fraction(-q_two, 0.0), 0.5);
    }
}

#[test]
fn fractions() {
    let f = h(Q1);
    for (lo, hi, want) in [
        (0.0, f64::INFINITY, 1.0),
        (f64::NEG_INFINITY, 0.0, 0.0),
        (-0.001, 0.0, 0.0),
        (0.0, 0.001, 0.16666666666666666),
        (0.001, f64::INFINITY, 0.8333333333333334),
        (0.0, 0.0005, 0.08333333333333333),
        (f64::NEG_INFINITY, -0.001, 0.0),
        (1.0, 2.0, 0.25),
        (0.0, 1.5, 0.4795739585136224),
        (1.5, 2.0, 0.10375937481971091),
        (2.0, 1.0, 0.0),
        (f64::NAN, 1.0, f64::NAN),
    ] {
        check(&format!("fraction({lo},{hi})"), f.fraction(lo, hi), want);
    }
    check("inverse", f.quantile(0.08333333333333333), 0.0005);
    check("empty", h("{{}}").fraction(3.0, 42.0), f64::NAN);
    let c = h("{{schema:-53 sum:5 count:4 custom_values:[5 10] buckets:[1 2 1]}}");
    check("nhcb fraction", c.fraction(5.0, 10.0), 0.5);
    check("nhcb quantile", c.quantile(0.5), 7.5);
}

#[test]
fn stddev_and_stdvar() {
    let wide = "buckets:[0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 1 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 ] n_buckets:[0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 ]";
    for (text, stddev, stdvar) in [
        ("{{schema:2 count:4 sum:10 buckets:[1 0 0 0 1 0 0 1 1]}}".to_string(), 1.0787993180043811, 1.163807968526718),
        ("{{schema:8 count:10 sum:10 buckets:[1 2 3 4]}}".to_string(), 0.0048960313898237465, 2.3971123370139447e-05),
        (format!("{{{{schema:3 count:7 sum:62 z_bucket:1 {wide}}}}}"), 42.94723640026, 1844.4651144196398),
        ("{{schema:0 count:10 sum:-112946 z_bucket:0 n_buckets:[0 0 1 1 1 0 1 1 0 0 3 0 0 0 1 0 0 1]}}".to_string(), 27556.344499842, 759352122.1939945),
        ("{{schema:0 count:10 sum:-100 z_bucket:0 n_buckets:[0 0 0 0 10]}}".to_string(), 1.3137084989848, 1.725830020304794),
        (format!("{{{{schema:3 count:7 sum:NaN z_bucket:1 {wide}}}}}"), f64::NAN, f64::NAN),
        (format!("{{{{schema:3 count:7 sum:Inf z_bucket:1 {wide}}}}}"), f64::INFINITY, f64::INFINITY),
    ] {
        let x = h(&text);
        check(&format!("stddev {text}"), x.stddev(), stddev);
        check(&format!("stdvar {text}"), x.stdvar(), stdvar);
    }
}

#[test]
fn sums_print_like_prometheus() {
    // sum() of a custom-bucket histogram with itself scaled: layout preserved.
    let mut s = h("{{schema:-53 sum:5 count:4 custom_values:[5 10] buckets:[1 2 1]}}");
    let out = s
        .add(&h(
            "{{schema:-53 sum:5 count:4 custom_values:[5 10] buckets:[1 2 1]}}",
        ))
        .unwrap();
    assert!(!out.nhcb_bounds_reconciled);
    assert_eq!(
        s.to_string(),
        "{{schema:-53 count:8 sum:10 custom_values:[5 10] buckets:[2 4 2]}}"
    );
    // A rate-like result: (last - first) / 60 with gauge inputs.
    let mut r = h("{{schema:0 sum:3 count:3 buckets:[3] counter_reset_hint:gauge}}");
    r.sub(&h(
        "{{schema:0 sum:1 count:1 buckets:[1] counter_reset_hint:gauge}}",
    ))
    .unwrap();
    r.div(60.0);
    r.counter_reset_hint = CounterResetHint::Unknown;
    assert_eq!(
        r.to_string(),
        "{{count:0.03333333333333333 sum:0.03333333333333333 buckets:[0.03333333333333333]}}"
    );
}

#[test]
fn nan_observations() {
    use exposition::histogram::NanNote;
    let all_nan = h("{{schema:0 count:3 sum:NaN}}");
    let some_nan = h("{{schema:0 count:15 sum:NaN buckets:[12]}}");
    for q in [1.0, 0.81, 0.8, 0.4] {
        let (v, note) = all_nan.quantile_with_note(q);
        assert!(
            v.is_nan() && note == NanNote::QuantileIsNaN,
            "100% {q}: {v} {note:?}"
        );
    }
    for q in [1.0, 0.81] {
        let (v, note) = some_nan.quantile_with_note(q);
        assert!(
            v.is_nan() && note == NanNote::QuantileIsNaN,
            "20% {q}: {v} {note:?}"
        );
    }
    let (v, note) = some_nan.quantile_with_note(0.8);
    check("20% 0.8", v, 1.0);
    assert_eq!(note, NanNote::QuantileSkewed);
    check("20% 0.4", some_nan.quantile(0.4), 0.7071067811865475);
    for (hist, lo, hi, want) in [
        (&all_nan, f64::NEG_INFINITY, 0.7071067811865475, 0.0),
        (&some_nan, f64::NEG_INFINITY, 0.7071067811865475, 0.4),
        (&all_nan, f64::NEG_INFINITY, f64::INFINITY, 0.0),
        (&some_nan, f64::NEG_INFINITY, f64::INFINITY, 0.8),
    ] {
        let (v, note) = hist.fraction_with_note(lo, hi);
        check(&format!("fraction {lo} {hi}"), v, want);
        assert_eq!(note, NanNote::FractionExcludesNaN);
    }
    // ±Inf observations alone make the sum NaN without skewing anything.
    let infs = h("{{schema:0 count:2 sum:NaN buckets:[2]}}");
    assert_eq!(infs.quantile_with_note(0.5).1, NanNote::None);
    assert_eq!(infs.fraction_with_note(0.0, 1.0).1, NanNote::None);
}

#[test]
fn sum_across_schemas_with_compensation() {
    // `sum(histogram_sum)` of native_histograms.test: schema 0 and 1, sums that cancel.
    let inputs = [
        "{{schema:0 count:25 sum:3.1 z_bucket:4 z_bucket_w:0.001 buckets:[1 2 0 1 1] n_buckets:[2 4 0 0 1 9]}}",
        "{{schema:0 count:41 sum:1e100 z_bucket:5 z_bucket_w:0.001 buckets:[1 3 1 2 1 1 1] n_buckets:[0 1 4 2 7 0 0 0 0 5 5 2]}}",
        "{{schema:0 count:41 sum:-1e100 z_bucket:5 z_bucket_w:0.001 buckets:[1 3 1 2 1 1 1] n_buckets:[0 1 4 2 7 0 0 0 0 5 5 2]}}",
        "{{schema:1 count:0 sum:1.3 z_bucket:3 z_bucket_w:0.001 buckets:[2 4 2 3 2 2] n_buckets:[1 2 5 3 8 1 1 1 1 6 3]}}",
    ];
    let want = h("{{schema:0 count:107 sum:4.4 z_bucket:17 z_bucket_w:0.001 buckets:[5 14 7 7 3 2 2] n_buckets:[3 13 19 6 17 18 0 0 0 10 10 4]}}");
    let mut plain = h(inputs[0]);
    let mut total = h(inputs[0]);
    let mut comp = FloatHistogram::default();
    for s in &inputs[1..] {
        plain.add(&h(s)).unwrap();
        total.kahan_add(&h(s), &mut comp).unwrap();
    }
    total.add(&comp).unwrap();
    plain.compact(0);
    total.compact(0);
    let mut want_c = want.clone();
    want_c.compact(0);
    // Plain addition loses the 3.1 to 1e100; the buckets are exact either way.
    assert_eq!(plain.positive_buckets, want_c.positive_buckets);
    assert_eq!(plain.negative_buckets, want_c.negative_buckets);
    assert_eq!((plain.count, plain.zero_count), (107.0, 17.0));
    assert!(
        total.equals(&want_c) || (total.sum - 4.4).abs() < 1e-12,
        "{total} vs {want}"
    );
    check("compensated sum", total.sum, 4.4);
    assert_eq!(total.positive_buckets, want_c.positive_buckets);
    assert_eq!(total.negative_buckets, want_c.negative_buckets);
    assert_eq!(total.negative_spans, want_c.negative_spans);
}
