//! Histogram arithmetic: addition and subtraction across schemas and zero thresholds,
//! scaling, exact equality and counter-reset detection.

use super::buckets::IndexIter;
use super::error::HistogramError;
use super::layout::{add_sides, reduced_pairs, reduced_pairs_above, spans_from_pairs, spans_match};
use super::{CounterResetHint, FloatHistogram, Span};

/// What [`FloatHistogram::add`] and [`FloatHistogram::sub`] had to paper over; PromQL
/// turns these into annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddOutcome {
    /// One operand said `reset`, the other `not_reset`; the result's hint is `unknown`
    /// (Prometheus warns).
    pub counter_reset_collision: bool,
    /// Custom-bucket histograms with different bounds were combined on the intersection
    /// of their bounds (Prometheus gives an info annotation).
    pub nhcb_bounds_reconciled: bool,
}

impl FloatHistogram {
    /// Adds `other` to `self`. Different exponential schemas are reconciled by reducing
    /// the finer one to the coarser one; different zero thresholds by widening to the
    /// larger one and folding buckets inside it into the zero bucket. Custom-bucket
    /// histograms with different bounds are combined on the intersection of the bounds.
    /// The result may hold empty buckets; call [`FloatHistogram::compact`] to drop them.
    ///
    /// One deliberate difference from Prometheus: buckets of `other` that lie inside the
    /// reconciled zero bucket are dropped *before* its resolution is reduced, so a bucket
    /// that only straddles the threshold after merging is not counted twice (once in the
    /// zero bucket, once in the merged bucket). Observations are always conserved.
    ///
    /// Counter-reset hints combine as in Prometheus: equal hints stay, a gauge makes a
    /// gauge, an unknown makes unknown, `reset` against `not_reset` is a collision.
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let mut a = FloatHistogram::parse_notation("{{schema:1 count:3 sum:5 buckets:[1 2]}}").unwrap();
    /// let b = FloatHistogram::parse_notation("{{schema:0 count:1 sum:1 offset:1 buckets:[1]}}").unwrap();
    /// a.add(&b).unwrap();
    /// assert_eq!(a.to_string(), "{{count:4 sum:6 buckets:[1 3]}}");
    /// ```
    pub fn add(&mut self, other: &FloatHistogram) -> Result<AddOutcome, HistogramError> {
        self.add_or_sub(other, false)
    }

    /// Subtracts `other` from `self`, reconciling layouts as [`FloatHistogram::add`] does.
    /// The counter-reset hint is combined like for addition; PromQL's `-` operator sets
    /// the result to a gauge itself.
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let mut a = FloatHistogram::parse_notation("{{count:5 sum:9 buckets:[2 3]}}").unwrap();
    /// let b = FloatHistogram::parse_notation("{{count:1 sum:1 buckets:[1]}}").unwrap();
    /// a.sub(&b).unwrap();
    /// assert_eq!(a.to_string(), "{{count:4 sum:8 buckets:[1 3]}}");
    /// ```
    pub fn sub(&mut self, other: &FloatHistogram) -> Result<AddOutcome, HistogramError> {
        self.add_or_sub(other, true)
    }

    fn add_or_sub(
        &mut self,
        other: &FloatHistogram,
        negate: bool,
    ) -> Result<AddOutcome, HistogramError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(HistogramError::MixedExponentialAndCustom);
        }
        let sign = if negate { -1.0 } else { 1.0 };
        let mut outcome = AddOutcome {
            counter_reset_collision: self.adjust_counter_reset(other),
            ..AddOutcome::default()
        };
        if !self.uses_custom_buckets() {
            let other_zero = self.reconcile_zero_buckets(other);
            self.zero_count += sign * other_zero;
        }
        self.count += sign * other.count;
        self.sum += sign * other.sum;

        if self.uses_custom_buckets() {
            if custom_bounds_match(&self.custom_values, &other.custom_values) {
                let a = reduced_pairs(
                    &self.positive_spans,
                    &self.positive_buckets,
                    self.schema,
                    self.schema,
                );
                let b = reduced_pairs(
                    &other.positive_spans,
                    &other.positive_buckets,
                    other.schema,
                    other.schema,
                );
                (self.positive_spans, self.positive_buckets) =
                    add_sides(self.schema, 0.0, negate, &a, &b);
            } else {
                outcome.nhcb_bounds_reconciled = true;
                let bounds = intersect_bounds(&self.custom_values, &other.custom_values);
                let mut target = vec![0.0; bounds.len() + 1];
                map_custom(
                    &mut target,
                    &self.positive_spans,
                    &self.positive_buckets,
                    &self.custom_values,
                    &bounds,
                    1.0,
                );
                map_custom(
                    &mut target,
                    &other.positive_spans,
                    &other.positive_buckets,
                    &other.custom_values,
                    &bounds,
                    sign,
                );
                let pairs = target
                    .into_iter()
                    .enumerate()
                    .filter(|(_, c)| *c != 0.0)
                    .map(|(i, c)| (i as i32, c));
                (self.positive_spans, self.positive_buckets) = spans_from_pairs(pairs, 0);
                self.custom_values = bounds;
            }
            return Ok(outcome);
        }

        let target = self.schema.min(other.schema);
        let (from_a, from_b) = (self.schema, other.schema);
        let pa = reduced_pairs(&self.positive_spans, &self.positive_buckets, from_a, target);
        let na = reduced_pairs(&self.negative_spans, &self.negative_buckets, from_a, target);
        // The zero threshold is reconciled by now; `other`'s buckets inside it are
        // already in the zero count.
        let zt = self.zero_threshold;
        let pb = reduced_pairs_above(
            &other.positive_spans,
            &other.positive_buckets,
            from_b,
            target,
            zt,
        );
        let nb = reduced_pairs_above(
            &other.negative_spans,
            &other.negative_buckets,
            from_b,
            target,
            zt,
        );
        self.schema = target;
        (self.positive_spans, self.positive_buckets) = add_sides(target, zt, negate, &pa, &pb);
        (self.negative_spans, self.negative_buckets) = add_sides(target, zt, negate, &na, &nb);
        Ok(outcome)
    }

    /// Combines counter-reset hints for addition; `true` on a reset/not-reset collision.
    pub(crate) fn adjust_counter_reset(&mut self, other: &FloatHistogram) -> bool {
        use CounterResetHint::*;
        match (self.counter_reset_hint, other.counter_reset_hint) {
            (a, b) if a == b => false,
            (Gauge, _) => false,
            (_, Gauge) => {
                self.counter_reset_hint = Gauge;
                false
            }
            (Unknown, _) => false,
            (_, Unknown) => {
                self.counter_reset_hint = Unknown;
                false
            }
            _ => {
                self.counter_reset_hint = Unknown;
                true
            }
        }
    }

    /// Widens the zero buckets of `self` (in place) and of `other` (virtually) until both
    /// have one threshold that does not cut through a populated bucket of either. Returns
    /// the zero count `other` would have.
    pub(crate) fn reconcile_zero_buckets(&mut self, other: &FloatHistogram) -> f64 {
        let mut other_count = other.zero_count;
        let mut other_threshold = other.zero_threshold;
        let mut rounds = 0;
        while other_threshold != self.zero_threshold && rounds < 10_000 {
            rounds += 1;
            if other_threshold.is_nan() || self.zero_threshold.is_nan() {
                break;
            }
            if self.zero_threshold > other_threshold {
                (other_count, other_threshold) =
                    other.zero_count_for_larger_threshold(self.zero_threshold);
            }
            if other_threshold > self.zero_threshold {
                (self.zero_count, self.zero_threshold) =
                    self.zero_count_for_larger_threshold(other_threshold);
                self.trim_buckets_in_zero_bucket();
            }
        }
        other_count
    }

    /// The zero count this histogram would have with threshold `larger` (≥ the current
    /// one), and the threshold actually needed: if `larger` falls inside a populated
    /// bucket, it moves up to that bucket's (absolute) upper boundary.
    pub(crate) fn zero_count_for_larger_threshold(&self, mut larger: f64) -> (f64, f64) {
        if larger <= self.zero_threshold || larger.is_nan() {
            return (self.zero_count, self.zero_threshold.max(larger));
        }
        'outer: loop {
            let mut count = self.zero_count;
            for b in self.positive_bucket_iter() {
                if b.lower >= larger {
                    break;
                }
                count += b.count;
                if b.upper > larger {
                    if b.count != 0.0 {
                        larger = b.upper;
                    }
                    break;
                }
            }
            for b in self.negative_bucket_iter() {
                if b.upper <= -larger {
                    break;
                }
                count += b.count;
                if b.lower < -larger {
                    if b.count != 0.0 && -b.lower > larger {
                        larger = -b.lower;
                        continue 'outer;
                    }
                    break;
                }
            }
            return (count, larger);
        }
    }

    /// Zeroes the buckets inside the zero bucket (their counts are already in the zero
    /// count) and compacts.
    fn trim_buckets_in_zero_bucket(&mut self) {
        let zt = self.zero_threshold;
        let n = self
            .positive_bucket_iter()
            .take_while(|b| b.lower < zt)
            .count();
        self.positive_buckets
            .iter_mut()
            .take(n)
            .for_each(|c| *c = 0.0);
        let n = self
            .negative_bucket_iter()
            .take_while(|b| b.upper > -zt)
            .count();
        self.negative_buckets
            .iter_mut()
            .take(n)
            .for_each(|c| *c = 0.0);
        self.compact(0);
    }

    /// Multiplies every count (buckets, zero bucket, total) and the sum by `factor`. A
    /// negative factor makes the result a gauge histogram.
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let mut h = FloatHistogram::parse_notation("{{count:2 sum:3 buckets:[2]}}").unwrap();
    /// h.mul(1.5);
    /// assert_eq!(h.to_string(), "{{count:3 sum:4.5 buckets:[3]}}");
    /// ```
    pub fn mul(&mut self, factor: f64) -> &mut Self {
        self.zero_count *= factor;
        self.count *= factor;
        self.sum *= factor;
        self.positive_buckets.iter_mut().for_each(|c| *c *= factor);
        self.negative_buckets.iter_mut().for_each(|c| *c *= factor);
        if factor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
        self
    }

    /// Divides every count and the sum by `divisor`. Division by zero gives infinite (or
    /// NaN) count, sum and zero count and removes all buckets, as in Prometheus. A
    /// negative divisor makes the result a gauge histogram.
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let mut h = FloatHistogram::parse_notation("{{count:2 sum:3 buckets:[2]}}").unwrap();
    /// h.div(0.0);
    /// // 0/0 for the (empty) zero bucket is NaN.
    /// assert_eq!(h.to_string(), "{{count:+Inf sum:+Inf z_bucket:NaN}}");
    /// ```
    pub fn div(&mut self, divisor: f64) -> &mut Self {
        self.zero_count /= divisor;
        self.count /= divisor;
        self.sum /= divisor;
        if divisor == 0.0 {
            self.positive_buckets.clear();
            self.negative_buckets.clear();
            self.positive_spans.clear();
            self.negative_spans.clear();
            return self;
        }
        self.positive_buckets.iter_mut().for_each(|c| *c /= divisor);
        self.negative_buckets.iter_mut().for_each(|c| *c /= divisor);
        if divisor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
        self
    }

    /// Unary minus: [`FloatHistogram::mul`] by -1 (the result is a gauge).
    pub fn negate(&mut self) -> &mut Self {
        self.mul(-1.0)
    }

    /// Exact equality as Prometheus's `Equals`: same schema, zero threshold, custom
    /// bounds (for custom buckets), same bucket layout (span boundaries may differ as
    /// long as they describe the same buckets, empty ones included), and bit-identical
    /// count, sum, zero count and bucket values (so NaN equals NaN). The counter-reset
    /// hint is not compared.
    ///
    /// ```
    /// use exposition::histogram::{FloatHistogram, Span};
    /// let a = FloatHistogram::parse_notation("{{sum:NaN buckets:[1 2]}}").unwrap();
    /// let mut b = a.clone();
    /// b.positive_spans = vec![Span::new(0, 1), Span::new(0, 1)];
    /// assert!(a.equals(&b));
    /// ```
    pub fn equals(&self, other: &FloatHistogram) -> bool {
        let bits_eq = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
        };
        self.schema == other.schema
            && self.count.to_bits() == other.count.to_bits()
            && self.sum.to_bits() == other.sum.to_bits()
            && (!self.uses_custom_buckets()
                || custom_bounds_match(&self.custom_values, &other.custom_values))
            && self.zero_threshold == other.zero_threshold
            && self.zero_count.to_bits() == other.zero_count.to_bits()
            && spans_match(&self.negative_spans, &other.negative_spans)
            && bits_eq(&self.negative_buckets, &other.negative_buckets)
            && spans_match(&self.positive_spans, &other.positive_spans)
            && bits_eq(&self.positive_buckets, &other.positive_buckets)
    }

    /// Whether `self` must follow a counter reset after `previous`, as Prometheus's
    /// `DetectReset`: the hint decides when it says `reset` / `not_reset`; otherwise a
    /// reset is a lower count, a lower zero count or bucket count (after merging
    /// `previous` to this schema and zero threshold), a populated bucket of `previous`
    /// missing here, a higher schema, a lower zero threshold, a zero threshold cutting a
    /// populated bucket of `previous`, or a change between exponential and custom buckets
    /// (custom buckets with changed bounds are compared on the common bounds).
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let prev = FloatHistogram::parse_notation("{{count:3 buckets:[1 2]}}").unwrap();
    /// let more = FloatHistogram::parse_notation("{{count:4 buckets:[2 2]}}").unwrap();
    /// let less = FloatHistogram::parse_notation("{{count:4 buckets:[3 1]}}").unwrap();
    /// assert!(!more.detect_reset(&prev));
    /// assert!(less.detect_reset(&prev));
    /// ```
    pub fn detect_reset(&self, previous: &FloatHistogram) -> bool {
        match self.counter_reset_hint {
            CounterResetHint::CounterReset => return true,
            CounterResetHint::NotCounterReset => return false,
            _ => {}
        }
        if self.count < previous.count {
            return true;
        }
        if self.uses_custom_buckets() {
            if !previous.uses_custom_buckets() {
                return true;
            }
            if !custom_bounds_match(&self.custom_values, &previous.custom_values) {
                return self.detect_reset_mismatched_bounds(previous);
            }
        }
        if self.schema > previous.schema {
            return true;
        }
        if self.zero_threshold < previous.zero_threshold {
            return true;
        }
        let (prev_zero, threshold) = previous.zero_count_for_larger_threshold(self.zero_threshold);
        if threshold != self.zero_threshold {
            return true;
        }
        if self.zero_count < prev_zero {
            return true;
        }
        let zt = self.zero_threshold;
        let side = |spans: &[Span], buckets: &[f64], schema: i32| {
            reduced_pairs_above(spans, buckets, schema, self.schema, zt)
        };
        let cur_p = side(&self.positive_spans, &self.positive_buckets, self.schema);
        let prev_p = side(
            &previous.positive_spans,
            &previous.positive_buckets,
            previous.schema,
        );
        if side_reset(&cur_p, &prev_p) {
            return true;
        }
        let cur_n = side(&self.negative_spans, &self.negative_buckets, self.schema);
        let prev_n = side(
            &previous.negative_spans,
            &previous.negative_buckets,
            previous.schema,
        );
        side_reset(&cur_n, &prev_n)
    }

    /// Reset detection between custom-bucket histograms with different bounds: the
    /// cumulative counts up to each common bound must not decrease.
    fn detect_reset_mismatched_bounds(&self, previous: &FloatHistogram) -> bool {
        let common = intersect_bounds(&self.custom_values, &previous.custom_values);
        let mut cur = vec![0.0; common.len() + 1];
        let mut prev = vec![0.0; common.len() + 1];
        map_custom(
            &mut cur,
            &self.positive_spans,
            &self.positive_buckets,
            &self.custom_values,
            &common,
            1.0,
        );
        map_custom(
            &mut prev,
            &previous.positive_spans,
            &previous.positive_buckets,
            &previous.custom_values,
            &common,
            1.0,
        );
        cur.iter().zip(&prev).any(|(c, p)| c < p)
    }
}

/// Whether a populated bucket of `prev` is missing from `cur` or has a higher count.
fn side_reset(cur: &[(i32, f64)], prev: &[(i32, f64)]) -> bool {
    let mut j = 0;
    for &(idx, pc) in prev {
        while j < cur.len() && cur[j].0 < idx {
            j += 1;
        }
        match cur.get(j) {
            Some(&(ci, cc)) if ci == idx => {
                if cc < pc {
                    return true;
                }
            }
            _ => {
                if pc != 0.0 {
                    return true;
                }
            }
        }
    }
    false
}

/// Whether two custom bound lists are equal (by value).
pub(crate) fn custom_bounds_match(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The bounds present in both sorted lists.
pub(crate) fn intersect_bounds(a: &[f64], b: &[f64]) -> Vec<f64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(a[i]);
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Adds `sign *` each bucket of a custom-bucket side into `target` (one slot per bound of
/// `common` plus the `+Inf` slot): a bucket with upper bound `u` goes to the first common
/// bound ≥ `u`.
pub(crate) fn map_custom(
    target: &mut [f64],
    spans: &[Span],
    buckets: &[f64],
    bounds: &[f64],
    common: &[f64],
    sign: f64,
) {
    let last = target.len() - 1;
    let mut k = 0;
    for (idx, count) in IndexIter::new(spans, buckets) {
        let slot = match usize::try_from(idx).ok().and_then(|i| bounds.get(i)) {
            Some(&upper) => {
                while k < common.len() && common[k] < upper {
                    k += 1;
                }
                k.min(last)
            }
            None => last,
        };
        target[slot] += sign * count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> FloatHistogram {
        FloatHistogram::parse_notation(s).unwrap()
    }

    #[test]
    fn add_widens_zero_bucket() {
        // a: zero threshold 0.5; b: threshold 1 → a's bucket (0.5,1] folds into the zero bucket.
        let mut a = h("{{count:4 z_bucket:1 z_bucket_w:0.5 buckets:[2 1]}}");
        let b = h("{{count:2 z_bucket:2 z_bucket_w:1}}");
        a.add(&b).unwrap();
        assert_eq!(
            a.to_string(),
            "{{count:6 z_bucket:5 z_bucket_w:1 offset:1 buckets:[1]}}"
        );
        // Symmetric direction: the other side's bucket folds.
        let mut b2 = h("{{count:2 z_bucket:2 z_bucket_w:1}}");
        b2.add(&h("{{count:4 z_bucket:1 z_bucket_w:0.5 buckets:[2 1]}}"))
            .unwrap();
        assert_eq!(
            b2.to_string(),
            "{{count:6 z_bucket:5 z_bucket_w:1 offset:1 buckets:[1]}}"
        );
    }

    #[test]
    fn threshold_inside_populated_bucket_moves_up() {
        // threshold 0.7 cuts bucket (0.5,1] of a populated schema-0 histogram → widens to 1.
        let a = h("{{count:3 offset:0 buckets:[3]}}");
        assert_eq!(a.zero_count_for_larger_threshold(0.7), (3.0, 1.0));
        let n = h("{{count:3 n_buckets:[3]}}");
        assert_eq!(n.zero_count_for_larger_threshold(0.7), (3.0, 1.0));
    }

    #[test]
    fn mixing_custom_and_exponential_fails_untouched() {
        let mut a = h("{{count:1 buckets:[1]}}");
        let before = a.clone();
        let e = a
            .add(&h("{{schema:-53 custom_values:[1] count:1 buckets:[1]}}"))
            .unwrap_err();
        assert_eq!(e, HistogramError::MixedExponentialAndCustom);
        assert_eq!(a, before);
    }

    #[test]
    fn custom_bounds_reconcile_to_intersection() {
        let mut a = h("{{schema:-53 custom_values:[1 2 3] count:4 sum:5 buckets:[1 1 1 1]}}");
        let b = h("{{schema:-53 custom_values:[2 4] count:3 sum:1 buckets:[1 1 1]}}");
        let out = a.add(&b).unwrap();
        assert!(out.nhcb_bounds_reconciled && !out.counter_reset_collision);
        assert_eq!(a.custom_values, vec![2.0]);
        // ≤2: 1+1 from a, 1 from b; +Inf: 1+1 from a, 1+1 from b.
        assert_eq!(
            a.to_string(),
            "{{schema:-53 count:7 sum:6 custom_values:[2] buckets:[3 4]}}"
        );
    }

    #[test]
    fn hints_combine() {
        use CounterResetHint::*;
        for (a, b, want, collision) in [
            (Gauge, CounterReset, Gauge, false),
            (NotCounterReset, Gauge, Gauge, false),
            (Unknown, CounterReset, Unknown, false),
            (CounterReset, Unknown, Unknown, false),
            (CounterReset, NotCounterReset, Unknown, true),
            (CounterReset, CounterReset, CounterReset, false),
        ] {
            let mut x = FloatHistogram {
                counter_reset_hint: a,
                ..Default::default()
            };
            let y = FloatHistogram {
                counter_reset_hint: b,
                ..Default::default()
            };
            let out = x.add(&y).unwrap();
            assert_eq!(
                (x.counter_reset_hint, out.counter_reset_collision),
                (want, collision),
                "{a:?}+{b:?}"
            );
        }
    }

    #[test]
    fn reset_detection_cases() {
        let prev = h("{{schema:1 count:4 z_bucket:1 z_bucket_w:0.5 buckets:[1 2]}}");
        // Schema increase.
        assert!(
            h("{{schema:2 count:5 z_bucket:1 z_bucket_w:0.5 buckets:[1 2]}}").detect_reset(&prev)
        );
        // Schema decrease (schema-1 buckets 0 and 1 map to schema-0 buckets 0 and 1).
        assert!(
            !h("{{schema:0 count:5 z_bucket:1 z_bucket_w:0.5 buckets:[1 3]}}").detect_reset(&prev)
        );
        assert!(
            h("{{schema:0 count:5 z_bucket:1 z_bucket_w:0.5 buckets:[2 1]}}").detect_reset(&prev)
        );
        // Merging: schema-2 buckets 1 and 2 both map to schema-1 bucket 1.
        let fine = h("{{schema:2 count:3 offset:1 buckets:[1 2]}}");
        assert!(!h("{{schema:1 count:3 offset:1 buckets:[3]}}").detect_reset(&fine));
        assert!(h("{{schema:1 count:3 offset:1 buckets:[2]}}").detect_reset(&fine));
        // Zero threshold decrease.
        assert!(
            h("{{schema:1 count:5 z_bucket:1 z_bucket_w:0.25 buckets:[1 2]}}").detect_reset(&prev)
        );
        // Hints short-cut.
        let mut r = prev.clone();
        r.counter_reset_hint = CounterResetHint::CounterReset;
        assert!(r.detect_reset(&prev));
        let mut n = h("{{count:0}}");
        n.counter_reset_hint = CounterResetHint::NotCounterReset;
        assert!(!n.detect_reset(&prev));
        // Missing populated bucket.
        assert!(
            h("{{schema:1 count:5 z_bucket:2 z_bucket_w:0.5 buckets:[3]}}").detect_reset(&prev)
        );
        // Custom bounds changed: compared on common bounds.
        let c1 = h("{{schema:-53 custom_values:[1 2] count:3 buckets:[1 1 1]}}");
        assert!(!h("{{schema:-53 custom_values:[2] count:3 buckets:[2 1]}}").detect_reset(&c1));
        assert!(h("{{schema:-53 custom_values:[2] count:3 buckets:[1 2]}}").detect_reset(&c1));
        assert!(h("{{schema:-53 custom_values:[2] count:3 buckets:[3 0]}}").detect_reset(&c1));
        assert!(h("{{schema:-53 custom_values:[1] count:3 buckets:[3]}}").detect_reset(&prev));
    }

    #[test]
    fn scaling() {
        let mut x = h("{{count:2 sum:4 z_bucket:2 buckets:[0] n_buckets:[0]}}");
        x.negate();
        assert_eq!(x.counter_reset_hint, CounterResetHint::Gauge);
        assert_eq!(x.count, -2.0);
        x.div(-2.0);
        assert_eq!((x.count, x.sum, x.zero_count), (1.0, 2.0, 1.0));
        let mut z = h("{{buckets:[1]}}");
        z.div(0.0);
        assert!(z.count.is_nan() && z.positive_buckets.is_empty());
    }
}
