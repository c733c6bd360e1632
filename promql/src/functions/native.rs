//! How does the engine combine native histograms over time and across series: the
//! change of a counter or gauge histogram over a range (`rate`, `increase`, `delta`),
//! the compensated sum of many (`sum`, `avg`, `sum_over_time`), and which annotation
//! each condition gives?
//!
//! All bucket math (addition, subtraction, Kahan summation, schema reduction,
//! compaction, reset detection, quantiles, fractions, trimming) lives in
//! [`exposition::histogram`]; this module only sequences it the way PromQL needs and
//! turns its outcomes into [`HistNote`]s.

use exposition::histogram::{CounterResetHint, FloatHistogram};

/// A condition a histogram function reports (the engine turns it into an annotation
/// naming the metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HistNote {
    /// A counter function saw a gauge histogram.
    NotCounter,
    /// A gauge function saw a counter histogram.
    NotGauge,
    /// Exponential and custom-bucket histograms met.
    MixedExpCustom,
    /// Custom buckets with different bounds were reconciled.
    ReconciledCustom,
    /// A sum or mean met one input hinted `reset` and another hinted `not_reset`.
    CounterResetCollision,
}

/// Which explicit counter-reset hints the inputs of a sum or mean carried; both kinds
/// together are a collision (Prometheus warns).
#[derive(Debug, Clone, Copy, Default)]
struct HintsSeen {
    reset: bool,
    not_reset: bool,
}

impl HintsSeen {
    fn track(&mut self, h: &FloatHistogram) {
        match h.counter_reset_hint {
            CounterResetHint::CounterReset => self.reset = true,
            CounterResetHint::NotCounterReset => self.not_reset = true,
            _ => {}
        }
    }

    fn note(self, notes: &mut Vec<HistNote>) {
        if self.reset && self.not_reset {
            notes.push(HistNote::CounterResetCollision);
        }
    }
}

/// Whether any count, the sum or any bucket of `h` is infinite.
fn has_overflow(h: &FloatHistogram) -> bool {
    [h.count, h.sum, h.zero_count]
        .iter()
        .chain(&h.positive_buckets)
        .chain(&h.negative_buckets)
        .any(|v| v.is_infinite())
}

/// The change of a counter (`is_counter`, with resets added back) or gauge histogram
/// over `points` (at least two), before extrapolation; `None` when the histograms
/// cannot be combined. The result is a compacted gauge histogram.
pub fn histogram_delta(
    points: &[(i64, &FloatHistogram)],
    is_counter: bool,
    notes: &mut Vec<HistNote>,
) -> Option<FloatHistogram> {
    histogram_delta_st(points, &[], is_counter, notes)
}

/// [`histogram_delta`] with the samples' start timestamps (`sts`, parallel to
/// `points`, 0 = unknown, empty = none): a counter whose start timestamp says it
/// restarted after the previous sample counts as reset (see [`super::rate::start_reset`]).
pub fn histogram_delta_st(
    points: &[(i64, &FloatHistogram)],
    sts: &[i64],
    is_counter: bool,
    notes: &mut Vec<HistNote>,
) -> Option<FloatHistogram> {
    let st_reset = |i: usize| {
        sts.len() == points.len()
            && super::rate::start_reset(sts[i - 1], points[i - 1].0, sts[i], points[i].0)
    };
    let first = points[0].1;
    let last = points[points.len() - 1].1;
    let mut prev: FloatHistogram = first.clone();
    let gauge = CounterResetHint::Gauge;
    if is_counter && (first.counter_reset_hint == gauge || last.counter_reset_hint == gauge) {
        notes.push(HistNote::NotCounter);
    }
    if is_counter && points.len() > 1 {
        let second = points[1].1;
        if st_reset(1) || second.detect_reset(first) {
            prev = FloatHistogram {
                schema: second.schema,
                custom_values: second.custom_values.clone(),
                ..Default::default()
            };
        }
    }
    let custom = prev.uses_custom_buckets();
    if last.uses_custom_buckets() != custom {
        notes.push(HistNote::MixedExpCustom);
        return None;
    }
    let mut min_schema = prev.schema.min(last.schema);
    for (_, cur) in &points[1..points.len() - 1] {
        if !is_counter {
            continue;
        }
        if cur.counter_reset_hint == gauge {
            notes.push(HistNote::NotCounter);
        }
        min_schema = min_schema.min(cur.schema);
        if cur.uses_custom_buckets() != custom {
            notes.push(HistNote::MixedExpCustom);
            return None;
        }
    }
    let mut h = last
        .copy_to_schema(min_schema)
        .unwrap_or_else(|_| last.clone());
    if h.sub(&prev).ok()?.nhcb_bounds_reconciled {
        notes.push(HistNote::ReconciledCustom);
    }
    if is_counter {
        // Starts from the (possibly emptied) first sample, as the subtraction did.
        let mut p: &FloatHistogram = &prev;
        for (i, (_, cur)) in points.iter().enumerate().skip(1) {
            // A reset adds back what was there before it.
            if (st_reset(i) || cur.detect_reset(p)) && h.add(p).ok()?.nhcb_bounds_reconciled {
                notes.push(HistNote::ReconciledCustom);
            }
            p = cur;
        }
    } else if first.counter_reset_hint != gauge || last.counter_reset_hint != gauge {
        notes.push(HistNote::NotGauge);
    }
    h.counter_reset_hint = gauge;
    h.compact(0);
    Some(h)
}

/// The first histogram of an aggregation and the rest, after the checks every
/// aggregation makes: `None` (with a note) when exponential and custom buckets meet or
/// there is no input; a note when `reset` and `not_reset` hints collide.
fn aggregation_inputs<'a>(
    hs: impl IntoIterator<Item = &'a FloatHistogram>,
    notes: &mut Vec<HistNote>,
) -> Option<(&'a FloatHistogram, Vec<&'a FloatHistogram>)> {
    let mut hs = hs.into_iter();
    let first = hs.next()?;
    let rest: Vec<&FloatHistogram> = hs.collect();
    if rest
        .iter()
        .any(|h| h.uses_custom_buckets() != first.uses_custom_buckets())
    {
        notes.push(HistNote::MixedExpCustom);
        return None;
    }
    let mut seen = HintsSeen::default();
    seen.track(first);
    rest.iter().for_each(|h| seen.track(h));
    seen.note(notes);
    Some((first, rest))
}

/// Adds up histograms with compensated (Kahan) summation of every count and the sum
/// (`None` when exponential and custom buckets meet).
pub fn sum_all<'a>(
    hs: impl IntoIterator<Item = &'a FloatHistogram>,
    notes: &mut Vec<HistNote>,
) -> Option<FloatHistogram> {
    let (first, rest) = aggregation_inputs(hs, notes)?;
    let mut acc = first.clone();
    if rest.is_empty() {
        return Some(acc);
    }
    let mut comp = FloatHistogram::default();
    for h in rest {
        let o = acc.kahan_add(h, &mut comp).ok()?;
        if o.nhcb_bounds_reconciled {
            notes.push(HistNote::ReconciledCustom);
        }
    }
    // An infinite total keeps no compensation (it would turn into NaN).
    let (count, sum) = (acc.count, acc.sum);
    acc.add(&comp).ok()?;
    if count.is_infinite() {
        acc.count = count;
    }
    if sum.is_infinite() {
        acc.sum = sum;
    }
    Some(acc)
}

/// The mean of histograms (`avg`, `avg_over_time`): a compensated (Kahan) sum divided
/// by the number of inputs, switching to an incremental mean once the running sum
/// would overflow (`None` when exponential and custom buckets meet).
pub fn mean_all<'a>(
    hs: impl IntoIterator<Item = &'a FloatHistogram>,
    notes: &mut Vec<HistNote>,
) -> Option<FloatHistogram> {
    let (first, rest) = aggregation_inputs(hs, notes)?;
    let mut reconciled = false;
    let mut sum = first.clone();
    let mut comp: Option<FloatHistogram> = None;
    let mut mean: Option<FloatHistogram> = None;
    let mut count = 1.0;
    for h in rest {
        count += 1.0;
        let m = match mean.as_mut() {
            Some(m) => m,
            None => {
                let mut next = sum.clone();
                let mut c = comp.clone().unwrap_or_default();
                reconciled |= next.kahan_add(h, &mut c).ok()?.nhcb_bounds_reconciled;
                if !has_overflow(&next) {
                    (sum, comp) = (next, Some(c));
                    continue;
                }
                // The direct sum would overflow: continue with the mean so far.
                let mut m = sum.clone();
                m.div(count - 1.0);
                if let Some(c) = comp.as_mut() {
                    c.div(count - 1.0);
                }
                mean.insert(m)
            }
        };
        let q = (count - 1.0) / count;
        let c = comp.get_or_insert_with(FloatHistogram::default);
        c.mul(q);
        m.mul(q);
        let mut to_add = h.clone();
        to_add.div(count);
        reconciled |= m.kahan_add(&to_add, c).ok()?.nhcb_bounds_reconciled;
    }
    if reconciled {
        notes.push(HistNote::ReconciledCustom);
    }
    if let Some(mut m) = mean {
        if let Some(c) = comp {
            m.add(&c).ok()?;
        }
        return Some(m);
    }
    sum.div(count);
    if let Some(mut c) = comp {
        c.div(count);
        sum.add(&c).ok()?;
    }
    Some(sum)
}

/// Go's `%v` for a float: like `%g` (shortest round-trip digits) but in exponent form
/// only when the decimal exponent is below -4 or at least 21.
fn go_fmt_v(v: f64) -> String {
    if v.is_finite() && v != 0.0 {
        let sci = format!("{:e}", v.abs());
        let exp: i32 = sci
            .split_once('e')
            .and_then(|(_, e)| e.parse().ok())
            .unwrap_or(0);
        if (-4..21).contains(&exp) {
            // Plain decimal; Rust's `Display` prints the shortest round-trip digits.
            return format!("{v}");
        }
    }
    exposition::histogram::go_fmt_g(v)
}

/// One bucket as Prometheus prints it: `(lower,upper]:count`, brackets by inclusivity.
fn bucket_string(b: &exposition::histogram::Bucket) -> String {
    use exposition::histogram::go_fmt_g;
    format!(
        "{}{},{}{}:{}",
        if b.lower_inclusive { '[' } else { '(' },
        go_fmt_g(b.lower),
        go_fmt_g(b.upper),
        if b.upper_inclusive { ']' } else { ')' },
        go_fmt_v(b.count)
    )
}

/// The text Prometheus's `FloatHistogram.String()` gives (what `count_values` puts in
/// its label): `{count:C, sum:S, <bucket>:<count>, ...}` listing the non-empty buckets
/// from the lowest value to the highest, the zero bucket between the two sides.
pub fn histogram_string(h: &FloatHistogram) -> String {
    use exposition::histogram::go_fmt_g;
    let mut out = format!("{{count:{}, sum:{}", go_fmt_g(h.count), go_fmt_g(h.sum));
    let negative: Vec<_> = h
        .negative_bucket_iter()
        .filter(|b| b.count != 0.0)
        .collect();
    let zero = (h.zero_count != 0.0).then(|| h.zero_bucket());
    let positive = h.positive_bucket_iter().filter(|b| b.count != 0.0);
    for b in negative
        .iter()
        .rev()
        .chain(zero.iter())
        .cloned()
        .chain(positive)
    {
        out.push_str(", ");
        out.push_str(&bucket_string(&b));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use exposition::histogram::Span;

    fn h(schema: i32, offset: i32, buckets: &[f64]) -> FloatHistogram {
        FloatHistogram {
            schema,
            count: buckets.iter().sum(),
            sum: 1.0,
            positive_spans: vec![Span::new(offset, buckets.len() as u32)],
            positive_buckets: buckets.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn counter_delta_adds_resets_back() {
        let a = h(0, 0, &[5.0]);
        let b = h(0, 0, &[8.0]);
        let c = h(0, 0, &[2.0]);
        let mut notes = Vec::new();
        let d = histogram_delta(&[(0, &a), (1, &b), (2, &c)], true, &mut notes).unwrap();
        // 8 - 5 before the reset, then 2 from zero.
        assert_eq!(d.count, 5.0);
        assert_eq!(d.counter_reset_hint, CounterResetHint::Gauge);
        assert!(notes.is_empty());
        let g = histogram_delta(&[(0, &a), (1, &c)], false, &mut notes).unwrap();
        assert_eq!(g.count, -3.0);
        assert_eq!(notes, vec![HistNote::NotGauge]);
    }

    #[test]
    fn counter_delta_follows_start_timestamps() {
        // Three delta-style samples of 5: each started at the previous sample.
        let a = h(0, 0, &[5.0]);
        let pts = [(1000, &a), (2000, &a), (3000, &a)];
        let mut notes = Vec::new();
        let d = histogram_delta_st(&pts, &[1, 1000, 2000], true, &mut notes).unwrap();
        // The last 5, plus the 5 before the second reset (the first drops the start).
        assert_eq!(d.count, 10.0);
        // Without start timestamps nothing changed.
        let d = histogram_delta_st(&pts, &[], true, &mut notes).unwrap();
        assert_eq!(d.count, 0.0);
    }

    #[test]
    fn sum_all_compensates_and_notes_mixed_layouts() {
        let mut big = h(0, 0, &[1.0]);
        big.sum = 1e100;
        let mut minus = big.clone();
        minus.sum = -1e100;
        let mut small = h(0, 0, &[1.0]);
        small.sum = 1.5;
        let mut notes = Vec::new();
        let s = sum_all([&small, &big, &minus], &mut notes).unwrap();
        assert_eq!(s.sum, 1.5);
        assert_eq!(s.count, 3.0);
        assert!(notes.is_empty());
        let mut custom = h(0, 0, &[1.0]);
        custom.schema = exposition::histogram::CUSTOM_BUCKETS_SCHEMA;
        custom.custom_values = vec![1.0];
        assert!(sum_all([&small, &custom], &mut notes).is_none());
        assert_eq!(notes, vec![HistNote::MixedExpCustom]);
    }

    #[test]
    fn histogram_string_like_prometheus() {
        let h = FloatHistogram::parse_notation(
            "{{schema:0 sum:10 count:20 z_bucket_w:0.001 z_bucket:2 buckets:[1 2] n_buckets:[1 2]}}",
        )
        .unwrap();
        assert_eq!(
            histogram_string(&h),
            "{count:20, sum:10, [-2,-1):2, [-1,-0.5):1, [-0.001,0.001]:2, (0.5,1]:1, (1,2]:2}"
        );
        let c = FloatHistogram::parse_notation(
            "{{schema:-53 sum:1.5 count:3 custom_values:[5 10] buckets:[1 0 2]}}",
        )
        .unwrap();
        assert_eq!(
            histogram_string(&c),
            "{count:3, sum:1.5, (-Inf,5]:1, (10,+Inf]:2}"
        );
        assert_eq!(go_fmt_v(1e20), "100000000000000000000");
        assert_eq!(go_fmt_v(1e21), "1e+21");
        assert_eq!(go_fmt_v(0.5), "0.5");
        assert_eq!(go_fmt_v(1e-5), "1e-05");
    }

    #[test]
    fn mean_all_switches_to_incremental_mean_on_overflow() {
        let mut notes = Vec::new();
        let mut a = h(0, 0, &[f64::MAX]);
        a.count = f64::MAX;
        let mut b = h(0, 0, &[1e308]);
        b.count = 1e308;
        let c = h(0, 0, &[2.0]);
        let m = mean_all([&a, &b, &c], &mut notes).unwrap();
        assert!(m.count.is_finite());
        let expected = f64::MAX / 3.0 + 1e308 / 3.0;
        assert!((m.count - expected).abs() / expected < 1e-12);
        assert!(m.positive_buckets[0].is_finite());
        // Small inputs: the plain mean.
        let m = mean_all([&h(0, 0, &[1.0]), &h(0, 0, &[2.0])], &mut notes).unwrap();
        assert_eq!(m.count, 1.5);
        assert_eq!(m.positive_buckets, vec![1.5]);
        assert!(notes.is_empty());
    }

    #[test]
    fn reset_and_not_reset_hints_collide() {
        let mut reset = h(0, 0, &[1.0]);
        reset.counter_reset_hint = CounterResetHint::CounterReset;
        let mut not_reset = h(0, 0, &[1.0]);
        not_reset.counter_reset_hint = CounterResetHint::NotCounterReset;
        let unknown = h(0, 0, &[1.0]);
        let mut notes = Vec::new();
        sum_all([&reset, &unknown], &mut notes).unwrap();
        assert!(notes.is_empty());
        sum_all([&reset, &unknown, &not_reset], &mut notes).unwrap();
        assert_eq!(notes, vec![HistNote::CounterResetCollision]);
        notes.clear();
        mean_all([&not_reset, &reset], &mut notes).unwrap();
        assert_eq!(notes, vec![HistNote::CounterResetCollision]);
    }
}
