//! Compensated (Kahan–Neumaier) histogram summation, for `sum`/`avg` over many
//! histograms whose values cancel (`1e100 + x - 1e100`).

use super::arith::{custom_bounds_match, intersect_bounds, map_custom, AddOutcome};
use super::error::HistogramError;
use super::layout::{reduced_pairs, reduced_pairs_above, spans_from_pairs};
use super::stats::kahan_sum_inc;
use super::FloatHistogram;

impl FloatHistogram {
    /// Adds `other` like [`FloatHistogram::add`], keeping the rounding error of every
    /// count, the sum and every bucket in `compensation`, which always has the same
    /// bucket layout and counter-reset hint as `self`. Start with
    /// `compensation = FloatHistogram::default()`; the compensated total is `self` plus
    /// `compensation` (add it at the end).
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let mut total = FloatHistogram::parse_notation("{{count:1 sum:3.1 buckets:[1]}}").unwrap();
    /// let mut c = FloatHistogram::default();
    /// for h in ["{{count:1 sum:1e100 buckets:[1]}}", "{{count:1 sum:-1e100 buckets:[1]}}", "{{count:1 sum:1.3 buckets:[1]}}"] {
    ///     total.kahan_add(&FloatHistogram::parse_notation(h).unwrap(), &mut c).unwrap();
    /// }
    /// total.add(&c).unwrap();
    /// assert!((total.sum - 4.4).abs() < 1e-12);
    /// assert_eq!(total.positive_buckets, vec![4.0]);
    /// ```
    pub fn kahan_add(
        &mut self,
        other: &FloatHistogram,
        compensation: &mut FloatHistogram,
    ) -> Result<AddOutcome, HistogramError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(HistogramError::MixedExponentialAndCustom);
        }
        let c = compensation;
        // A fresh (or mismatched) compensation takes on the layout of `self`.
        if c.schema != self.schema
            || c.zero_threshold != self.zero_threshold
            || c.custom_values != self.custom_values
            || !same_indices(self, c)
        {
            let mut fresh = self.clone();
            fresh.positive_buckets.iter_mut().for_each(|v| *v = 0.0);
            fresh.negative_buckets.iter_mut().for_each(|v| *v = 0.0);
            fresh.counter_reset_hint = Default::default();
            // Carry over whatever compensation there was (count, sum, zero count).
            fresh.count = c.count;
            fresh.sum = c.sum;
            fresh.zero_count = if self.uses_custom_buckets() {
                0.0
            } else {
                c.zero_count
            };
            *c = fresh;
        }
        let mut outcome = AddOutcome {
            counter_reset_collision: self.adjust_counter_reset(other),
            ..AddOutcome::default()
        };
        (self.count, c.count) = kahan_sum_inc(other.count, self.count, c.count);
        (self.sum, c.sum) = kahan_sum_inc(other.sum, self.sum, c.sum);

        if self.uses_custom_buckets() {
            let (bounds, reconciled) =
                if custom_bounds_match(&self.custom_values, &other.custom_values) {
                    (self.custom_values.clone(), false)
                } else {
                    (
                        intersect_bounds(&self.custom_values, &other.custom_values),
                        true,
                    )
                };
            outcome.nhcb_bounds_reconciled = reconciled;
            let n = bounds.len() + 1;
            let (mut s, mut k, mut o) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            let mut present = vec![false; n];
            for (h, dst) in [(&*self, &mut s), (&*c, &mut k), (other, &mut o)] {
                map_custom(
                    dst,
                    &h.positive_spans,
                    &h.positive_buckets,
                    &h.custom_values,
                    &bounds,
                    1.0,
                );
            }
            for h in [&*self, other] {
                mark_custom(&mut present, h, &bounds);
            }
            let mut sp = Vec::new();
            let mut kp = Vec::new();
            for i in 0..n {
                if present[i] {
                    let (v, comp) = kahan_sum_inc(o[i], s[i], k[i]);
                    sp.push((i as i32, v));
                    kp.push((i as i32, comp));
                }
            }
            (self.positive_spans, self.positive_buckets) = spans_from_pairs(sp, 0);
            (c.positive_spans, c.positive_buckets) = spans_from_pairs(kp, 0);
            self.custom_values = bounds.clone();
            c.custom_values = bounds;
            c.counter_reset_hint = self.counter_reset_hint;
            return Ok(outcome);
        }

        // Zero buckets: widen `self` (and fold the compensation's buckets alike).
        let other_zero = self.reconcile_zero_buckets(other);
        if c.zero_threshold != self.zero_threshold {
            c.fold_into_zero_bucket(self.zero_threshold);
        }
        (self.zero_count, c.zero_count) = kahan_sum_inc(other_zero, self.zero_count, c.zero_count);

        let target = self.schema.min(other.schema);
        let zt = self.zero_threshold;
        for positive in [true, false] {
            let (ss, sb, cs, cb, os, ob) = if positive {
                (
                    &self.positive_spans,
                    &self.positive_buckets,
                    &c.positive_spans,
                    &c.positive_buckets,
                    &other.positive_spans,
                    &other.positive_buckets,
                )
            } else {
                (
                    &self.negative_spans,
                    &self.negative_buckets,
                    &c.negative_spans,
                    &c.negative_buckets,
                    &other.negative_spans,
                    &other.negative_buckets,
                )
            };
            let s = reduced_pairs(ss, sb, self.schema, target);
            let k = reduced_pairs(cs, cb, c.schema, target);
            let o = reduced_pairs_above(os, ob, other.schema, target, zt);
            let (sp, kp) = merge3(&s, &k, &o);
            let (s_side, c_side) = (spans_from_pairs(sp, 0), spans_from_pairs(kp, 0));
            if positive {
                (self.positive_spans, self.positive_buckets) = s_side;
                (c.positive_spans, c.positive_buckets) = c_side;
            } else {
                (self.negative_spans, self.negative_buckets) = s_side;
                (c.negative_spans, c.negative_buckets) = c_side;
            }
        }
        self.schema = target;
        c.schema = target;
        c.counter_reset_hint = self.counter_reset_hint;
        Ok(outcome)
    }

    /// Moves every bucket reaching into `[-threshold, threshold]` into the zero count and
    /// sets the threshold (used for compensation terms, where exactness is moot).
    fn fold_into_zero_bucket(&mut self, threshold: f64) {
        let n = self
            .positive_bucket_iter()
            .take_while(|b| b.lower < threshold)
            .count();
        for v in self.positive_buckets.iter_mut().take(n) {
            self.zero_count += *v;
            *v = 0.0;
        }
        let n = self
            .negative_bucket_iter()
            .take_while(|b| b.upper > -threshold)
            .count();
        for v in self.negative_buckets.iter_mut().take(n) {
            self.zero_count += *v;
            *v = 0.0;
        }
        self.zero_threshold = threshold;
    }
}

/// Whether two histograms have the same bucket indices on both sides.
fn same_indices(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    let idx = |h: &FloatHistogram, pos: bool| -> Vec<i32> {
        if pos {
            h.positive_bucket_iter().map(|b| b.index).collect()
        } else {
            h.negative_bucket_iter().map(|b| b.index).collect()
        }
    };
    idx(a, true) == idx(b, true) && idx(a, false) == idx(b, false)
}

/// Marks the slots of `bounds` (plus `+Inf`) that `h`'s buckets map to.
fn mark_custom(present: &mut [bool], h: &FloatHistogram, bounds: &[f64]) {
    let mut ones = vec![0.0; present.len()];
    let flags: Vec<f64> = h.positive_buckets.iter().map(|_| 1.0).collect();
    map_custom(
        &mut ones,
        &h.positive_spans,
        &flags,
        &h.custom_values,
        bounds,
        1.0,
    );
    for (p, v) in present.iter_mut().zip(ones) {
        *p |= v > 0.0;
    }
}

/// `(bucket index, value)` pairs of one side.
type Pairs = Vec<(i32, f64)>;

/// Merges self, compensation and other pairs by index into (value, compensation) pairs;
/// the layout is the union of the indices of all three.
fn merge3(s: &[(i32, f64)], k: &[(i32, f64)], o: &[(i32, f64)]) -> (Pairs, Pairs) {
    let (mut i, mut j, mut l) = (0, 0, 0);
    let mut sp = Vec::with_capacity(s.len() + o.len());
    let mut kp = Vec::with_capacity(s.len() + o.len());
    loop {
        let next = [s.get(i), k.get(j), o.get(l)]
            .into_iter()
            .flatten()
            .map(|p| p.0)
            .min();
        let Some(idx) = next else { break };
        let take = |v: &[(i32, f64)], pos: &mut usize| -> f64 {
            match v.get(*pos) {
                Some(&(x, c)) if x == idx => {
                    *pos += 1;
                    c
                }
                _ => 0.0,
            }
        };
        let sv = take(s, &mut i);
        let kv = take(k, &mut j);
        let ov = take(o, &mut l);
        let (v, comp) = kahan_sum_inc(ov, sv, kv);
        sp.push((idx, v));
        kp.push((idx, comp));
    }
    (sp, kp)
}
