//! Native-histogram arithmetic the engine needs: how are two histograms added or
//! subtracted, scaled, compacted, checked for counter resets, and what are their
//! quantiles, fractions and spreads?
//!
//! The functions work on [`FloatHistogram`] through a sparse view (bucket index ->
//! count, see [`Sparse`]): exact and simple, fast enough for query results. Buckets are
//! addressed as in Prometheus: for exponential schemas the upper bound of positive
//! bucket `i` is `2^(i * 2^-schema)`, negative bucket `i` mirrors it; custom-bucket
//! (NHCB) histograms use `custom_values` as upper bounds.

use exposition::histogram::{
    exponential_bound, CounterResetHint, FloatHistogram, Span, CUSTOM_BUCKETS_SCHEMA,
};
use std::collections::BTreeMap;

/// Why two histograms could not be combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CombineError {
    /// One uses exponential buckets, the other custom buckets.
    MixedExponentialCustom,
}

/// Bucket index -> count for one side (positive or negative) of a histogram.
pub type Sparse = BTreeMap<i32, f64>;

/// The populated buckets of one side, as a sparse map (absolute counts).
pub fn sparse(spans: &[Span], buckets: &[f64]) -> Sparse {
    let mut m = Sparse::new();
    let mut idx: i32 = 0;
    let mut k = 0usize;
    for (n, s) in spans.iter().enumerate() {
        idx = if n == 0 {
            s.offset
        } else {
            idx.saturating_add(s.offset)
        };
        for _ in 0..s.length {
            if let Some(&c) = buckets.get(k) {
                *m.entry(idx).or_insert(0.0) += c;
            }
            k += 1;
            idx = idx.saturating_add(1);
        }
    }
    m
}

/// Spans and buckets for a sparse map (consecutive indices share a span).
pub fn from_sparse(m: &Sparse) -> (Vec<Span>, Vec<f64>) {
    let mut spans: Vec<Span> = Vec::new();
    let mut buckets = Vec::with_capacity(m.len());
    let mut next: Option<i32> = None;
    for (&i, &c) in m {
        match next {
            Some(n) if n == i => {
                if let Some(last) = spans.last_mut() {
                    last.length += 1;
                }
            }
            Some(n) => spans.push(Span::new(i - n, 1)),
            None => spans.push(Span::new(i, 1)),
        }
        buckets.push(c);
        next = Some(i.saturating_add(1));
    }
    (spans, buckets)
}

/// Maps a bucket index of schema `from` to the coarser schema `to` (`to <= from`).
fn reduce_index(i: i32, from: i32, to: i32) -> i32 {
    let d = (from - to).clamp(0, 31);
    ((i - 1) >> d) + 1
}

fn reduce(m: &Sparse, from: i32, to: i32) -> Sparse {
    if from == to {
        return m.clone();
    }
    let mut out = Sparse::new();
    for (&i, &c) in m {
        *out.entry(reduce_index(i, from, to)).or_insert(0.0) += c;
    }
    out
}

/// The zero count `h` would have with a zero threshold of at least `larger`, and the
/// threshold that really results (it grows to a bucket boundary when `larger` falls
/// inside a populated bucket).
fn zero_count_for_threshold(h: &FloatHistogram, larger: f64) -> (f64, f64) {
    if larger <= h.zero_threshold || h.uses_custom_buckets() {
        return (h.zero_count, h.zero_threshold.max(larger));
    }
    let mut thr = larger;
    let pos = sparse(&h.positive_spans, &h.positive_buckets);
    let neg = sparse(&h.negative_spans, &h.negative_buckets);
    'outer: loop {
        let mut count = h.zero_count;
        for (&i, &c) in &pos {
            let lower = exponential_bound(i - 1, h.schema);
            let upper = exponential_bound(i, h.schema);
            if lower >= thr {
                break;
            }
            count += c;
            if upper > thr {
                if c != 0.0 {
                    thr = upper;
                }
                break;
            }
        }
        for (&i, &c) in &neg {
            let lower = exponential_bound(i - 1, h.schema);
            let upper = exponential_bound(i, h.schema);
            if lower >= thr {
                break;
            }
            count += c;
            if upper > thr {
                if c != 0.0 {
                    thr = upper;
                    continue 'outer;
                }
                break;
            }
        }
        return (count, thr);
    }
}

/// Moves buckets that lie inside the zero bucket of width `thr` into it.
fn widen_zero(h: &FloatHistogram, thr: f64) -> (f64, Sparse, Sparse) {
    let mut pos = sparse(&h.positive_spans, &h.positive_buckets);
    let mut neg = sparse(&h.negative_spans, &h.negative_buckets);
    if thr <= h.zero_threshold || h.uses_custom_buckets() {
        return (h.zero_count, pos, neg);
    }
    let (zc, _) = zero_count_for_threshold(h, thr);
    pos.retain(|&i, _| exponential_bound(i, h.schema) > thr);
    neg.retain(|&i, _| exponential_bound(i, h.schema) > thr);
    (zc, pos, neg)
}

/// How counter-reset hints of two operands combine.
fn combine_hints(a: CounterResetHint, b: CounterResetHint) -> CounterResetHint {
    if a == b {
        a
    } else if a == CounterResetHint::Gauge || b == CounterResetHint::Gauge {
        CounterResetHint::Gauge
    } else {
        CounterResetHint::Unknown
    }
}

/// Maps custom buckets onto the intersection `bounds` of two bound lists.
fn rebucket_custom(m: &Sparse, own: &[f64], bounds: &[f64]) -> Sparse {
    let mut out = Sparse::new();
    for (&i, &c) in m {
        let upper = own.get(i.max(0) as usize).copied().unwrap_or(f64::INFINITY);
        let j = bounds.partition_point(|&b| b < upper);
        *out.entry(j as i32).or_insert(0.0) += c;
    }
    out
}

/// Result of [`combine`]: the histogram and whether custom bounds had to be reconciled.
pub struct Combined {
    /// The sum or difference.
    pub h: FloatHistogram,
    /// The operands had different custom bounds (their intersection was used).
    pub reconciled_custom: bool,
}

/// `a + sign * b` bucket by bucket: the coarser schema, the wider zero bucket, the
/// intersection of custom bounds.
pub fn combine(
    a: &FloatHistogram,
    b: &FloatHistogram,
    sign: f64,
) -> Result<Combined, CombineError> {
    if a.uses_custom_buckets() != b.uses_custom_buckets() {
        return Err(CombineError::MixedExponentialCustom);
    }
    let hint = combine_hints(a.counter_reset_hint, b.counter_reset_hint);
    if a.uses_custom_buckets() {
        let mut reconciled = false;
        let (pa, pb, bounds) = if a.custom_values == b.custom_values {
            (
                sparse(&a.positive_spans, &a.positive_buckets),
                sparse(&b.positive_spans, &b.positive_buckets),
                a.custom_values.clone(),
            )
        } else {
            reconciled = true;
            let bounds: Vec<f64> = a
                .custom_values
                .iter()
                .copied()
                .filter(|v| b.custom_values.contains(v))
                .collect();
            (
                rebucket_custom(
                    &sparse(&a.positive_spans, &a.positive_buckets),
                    &a.custom_values,
                    &bounds,
                ),
                rebucket_custom(
                    &sparse(&b.positive_spans, &b.positive_buckets),
                    &b.custom_values,
                    &bounds,
                ),
                bounds,
            )
        };
        let mut pos = pa;
        for (i, c) in pb {
            *pos.entry(i).or_insert(0.0) += sign * c;
        }
        let (ps, pbk) = from_sparse(&pos);
        return Ok(Combined {
            h: FloatHistogram {
                counter_reset_hint: hint,
                schema: CUSTOM_BUCKETS_SCHEMA,
                zero_threshold: 0.0,
                zero_count: 0.0,
                count: a.count + sign * b.count,
                sum: a.sum + sign * b.sum,
                positive_spans: ps,
                negative_spans: Vec::new(),
                positive_buckets: pbk,
                negative_buckets: Vec::new(),
                custom_values: bounds,
            },
            reconciled_custom: reconciled,
        });
    }
    let schema = a.schema.min(b.schema);
    // The zero threshold both can agree on.
    let mut thr = a.zero_threshold.max(b.zero_threshold);
    loop {
        let (_, ta) = zero_count_for_threshold(a, thr);
        let (_, tb) = zero_count_for_threshold(b, thr);
        let t = ta.max(tb);
        if t == thr {
            break;
        }
        thr = t;
    }
    let (za, pa, na) = widen_zero(a, thr);
    let (zb, pb, nb) = widen_zero(b, thr);
    let mut pos = reduce(&pa, a.schema, schema);
    for (i, c) in reduce(&pb, b.schema, schema) {
        *pos.entry(i).or_insert(0.0) += sign * c;
    }
    let mut neg = reduce(&na, a.schema, schema);
    for (i, c) in reduce(&nb, b.schema, schema) {
        *neg.entry(i).or_insert(0.0) += sign * c;
    }
    let (ps, pbk) = from_sparse(&pos);
    let (ns, nbk) = from_sparse(&neg);
    Ok(Combined {
        h: FloatHistogram {
            counter_reset_hint: hint,
            schema,
            zero_threshold: thr,
            zero_count: za + sign * zb,
            count: a.count + sign * b.count,
            sum: a.sum + sign * b.sum,
            positive_spans: ps,
            negative_spans: ns,
            positive_buckets: pbk,
            negative_buckets: nbk,
            custom_values: Vec::new(),
        },
        reconciled_custom: false,
    })
}

/// A copy of `h` without empty buckets (spans merged): [`FloatHistogram::compact`] with
/// no empty buckets kept, for callers holding a shared reference.
pub fn compact(h: &FloatHistogram) -> FloatHistogram {
    let mut out = h.clone();
    out.compact(0);
    out
}

/// Whether `cur` follows `prev` only after a counter reset (counts went down, the
/// layout got finer or the custom bounds changed), honouring explicit hints.
pub fn detect_reset(cur: &FloatHistogram, prev: &FloatHistogram) -> bool {
    match cur.counter_reset_hint {
        CounterResetHint::CounterReset => return true,
        CounterResetHint::NotCounterReset => return false,
        _ => {}
    }
    if cur.uses_custom_buckets() != prev.uses_custom_buckets() {
        return true;
    }
    if cur.uses_custom_buckets() {
        if cur.count < prev.count {
            return true;
        }
        // Different bounds are compared on their intersection.
        let bounds: Vec<f64> = cur
            .custom_values
            .iter()
            .copied()
            .filter(|v| prev.custom_values.contains(v))
            .collect();
        let c = rebucket_custom(
            &sparse(&cur.positive_spans, &cur.positive_buckets),
            &cur.custom_values,
            &bounds,
        );
        let p = rebucket_custom(
            &sparse(&prev.positive_spans, &prev.positive_buckets),
            &prev.custom_values,
            &bounds,
        );
        return p
            .iter()
            .any(|(i, pc)| *pc != 0.0 && c.get(i).copied().unwrap_or(0.0) < *pc);
    }
    if cur.count < prev.count || cur.schema > prev.schema {
        return true;
    }
    if cur.zero_threshold < prev.zero_threshold {
        return true;
    }
    let (pz, thr) = zero_count_for_threshold(prev, cur.zero_threshold);
    if thr != cur.zero_threshold.max(prev.zero_threshold) && !cur.uses_custom_buckets() {
        return true;
    }
    if cur.zero_count < pz {
        return true;
    }
    let (_, ppos, pneg) = widen_zero(prev, cur.zero_threshold);
    let cpos = sparse(&cur.positive_spans, &cur.positive_buckets);
    let cneg = sparse(&cur.negative_spans, &cur.negative_buckets);
    for (p, c) in [(ppos, cpos), (pneg, cneg)] {
        let p = reduce(&p, prev.schema, cur.schema);
        for (i, pc) in p {
            if pc == 0.0 {
                continue;
            }
            if c.get(&i).copied().unwrap_or(0.0) < pc {
                return true;
            }
        }
    }
    false
}

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
}

/// The change of a counter (`is_counter`, with resets added back) or gauge histogram
/// over `points` (at least two), before extrapolation; `None` when the histograms
/// cannot be combined. The result is a compacted gauge histogram.
pub fn histogram_delta(
    points: &[(i64, &FloatHistogram)],
    is_counter: bool,
    notes: &mut Vec<HistNote>,
) -> Option<FloatHistogram> {
    let first = points[0].1;
    let last = points[points.len() - 1].1;
    let mut prev: FloatHistogram = first.clone();
    let gauge = CounterResetHint::Gauge;
    if is_counter && (first.counter_reset_hint == gauge || last.counter_reset_hint == gauge) {
        notes.push(HistNote::NotCounter);
    }
    if is_counter && points.len() > 1 {
        let second = points[1].1;
        if detect_reset(second, first) {
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
    let r = combine(&h, &prev, -1.0).ok()?;
    if r.reconciled_custom {
        notes.push(HistNote::ReconciledCustom);
    }
    h = r.h;
    if is_counter {
        // Starts from the (possibly emptied) first sample, as the subtraction did.
        let mut p: &FloatHistogram = &prev;
        for (_, cur) in &points[1..] {
            if detect_reset(cur, p) {
                let r = combine(&h, p, 1.0).ok()?;
                if r.reconciled_custom {
                    notes.push(HistNote::ReconciledCustom);
                }
                h = r.h;
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

/// Adds up histograms with compensated (Kahan) summation of every count and the sum
/// (`None` when exponential and custom buckets meet).
pub fn sum_all<'a>(
    hs: impl IntoIterator<Item = &'a FloatHistogram>,
    notes: &mut Vec<HistNote>,
) -> Option<FloatHistogram> {
    let hs: Vec<&FloatHistogram> = hs.into_iter().collect();
    let first = *hs.first()?;
    let custom = first.uses_custom_buckets();
    if hs.iter().any(|h| h.uses_custom_buckets() != custom) {
        notes.push(HistNote::MixedExpCustom);
        return None;
    }
    if custom && hs.iter().any(|h| h.custom_values != first.custom_values) {
        // Different bounds: reconcile pairwise.
        let mut acc = first.clone();
        for h in &hs[1..] {
            let r = combine(&acc, h, 1.0).ok()?;
            if r.reconciled_custom {
                notes.push(HistNote::ReconciledCustom);
            }
            acc = r.h;
        }
        return Some(acc);
    }
    let schema = hs.iter().map(|h| h.schema).min().unwrap_or(first.schema);
    // The zero threshold all of them can be widened to.
    let mut thr = hs.iter().map(|h| h.zero_threshold).fold(0.0, f64::max);
    loop {
        let t = hs
            .iter()
            .map(|h| zero_count_for_threshold(h, thr).1)
            .fold(thr, f64::max);
        if t == thr {
            break;
        }
        thr = t;
    }
    type Acc = BTreeMap<i32, (f64, f64)>;
    let add = |m: &mut Acc, i: i32, v: f64| {
        let e = m.entry(i).or_insert((0.0, 0.0));
        *e = super::kahan_sum_inc(v, e.0, e.1);
    };
    let (mut pos, mut neg): (Acc, Acc) = (Acc::new(), Acc::new());
    let (mut count, mut sum, mut zero) = ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0));
    let mut hint = first.counter_reset_hint;
    for h in &hs {
        hint = combine_hints(hint, h.counter_reset_hint);
        let (z, p, n) = widen_zero(h, thr);
        for (i, c) in reduce(&p, h.schema, schema) {
            add(&mut pos, i, c);
        }
        for (i, c) in reduce(&n, h.schema, schema) {
            add(&mut neg, i, c);
        }
        count = super::kahan_sum_inc(h.count, count.0, count.1);
        sum = super::kahan_sum_inc(h.sum, sum.0, sum.1);
        zero = super::kahan_sum_inc(z, zero.0, zero.1);
    }
    let fold = |m: Acc| -> Sparse { m.into_iter().map(|(i, (v, c))| (i, v + c)).collect() };
    let total = |(v, c): (f64, f64)| if v.is_infinite() { v } else { v + c };
    let (ps, pb) = from_sparse(&fold(pos));
    let (ns, nb) = from_sparse(&fold(neg));
    Some(FloatHistogram {
        counter_reset_hint: hint,
        schema,
        zero_threshold: if custom { 0.0 } else { thr },
        zero_count: total(zero),
        count: total(count),
        sum: total(sum),
        positive_spans: ps,
        negative_spans: ns,
        positive_buckets: pb,
        negative_buckets: nb,
        custom_values: first.custom_values.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn sparse_round_trip() {
        let spans = vec![Span::new(-2, 2), Span::new(3, 1)];
        let m = sparse(&spans, &[1.0, 2.0, 3.0]);
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), vec![-2, -1, 3]);
        let (s, b) = from_sparse(&m);
        assert_eq!(s, spans);
        assert_eq!(b, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn add_reduces_to_coarser_schema() {
        // schema 1 buckets 1,2 (bounds sqrt2, 2) fold into schema-0 bucket 1.
        let a = h(1, 1, &[1.0, 2.0]);
        let b = h(0, 1, &[4.0]);
        let r = combine(&a, &b, 1.0).unwrap().h;
        assert_eq!(r.schema, 0);
        assert_eq!(
            sparse(&r.positive_spans, &r.positive_buckets).get(&1),
            Some(&7.0)
        );
        assert_eq!(r.count, 7.0);
        let d = combine(&r, &b, -1.0).unwrap().h;
        assert_eq!(d.count, 3.0);
    }

    #[test]
    fn custom_and_exponential_do_not_mix() {
        let mut a = h(0, 0, &[1.0]);
        a.schema = CUSTOM_BUCKETS_SCHEMA;
        assert!(combine(&a, &h(0, 0, &[1.0]), 1.0).is_err());
    }

    #[test]
    fn reset_detection() {
        let a = h(0, 0, &[2.0, 2.0]);
        let b = h(0, 0, &[3.0, 1.0]);
        assert!(detect_reset(&b, &a));
        let c = h(0, 0, &[3.0, 3.0]);
        assert!(!detect_reset(&c, &a));
        assert!(detect_reset(&h(1, 0, &[9.0]), &a));
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
    fn compact_drops_empty_buckets() {
        let x = compact(&h(0, 0, &[0.0, 1.0, 0.0, 2.0]));
        assert_eq!(x.positive_spans, vec![Span::new(1, 1), Span::new(1, 1)]);
        assert_eq!(x.positive_buckets, vec![1.0, 2.0]);
    }
}
