//! Bucket boundaries and iteration: which value range does bucket `i` cover, and what
//! are a histogram's buckets in order?

use super::bounds_table::FRACTIONS;
use super::{FloatHistogram, Span, CUSTOM_BUCKETS_SCHEMA};

/// One bucket with its boundaries, as the iterators yield it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Lower boundary.
    pub lower: f64,
    /// Upper boundary.
    pub upper: f64,
    /// Observations in the bucket (or up to and including it, for cumulative iterators).
    pub count: f64,
    /// Whether `lower` itself belongs to the bucket.
    pub lower_inclusive: bool,
    /// Whether `upper` itself belongs to the bucket.
    pub upper_inclusive: bool,
    /// The bucket index (0 for the zero bucket).
    pub index: i32,
}

/// `x * 2^exp` without overflow panics (saturates to 0 / infinity).
pub(crate) fn ldexp(mut x: f64, mut exp: i64) -> f64 {
    let big = f64::from_bits(((1000 + 1023) as u64) << 52);
    let small = f64::from_bits(((-1000i64 + 1023) as u64) << 52);
    while exp > 1000 {
        x *= big;
        exp -= 1000;
        if x.is_infinite() || x == 0.0 {
            return x;
        }
    }
    while exp < -1000 {
        x *= small;
        exp += 1000;
        if x == 0.0 {
            return x;
        }
    }
    x * f64::from_bits(((exp + 1023) as u64) << 52)
}

/// The upper bound of positive exponential bucket `idx` in `schema`: `2^(idx * 2^-schema)`,
/// bit for bit as Prometheus computes it.
///
/// For schemas `1..=8` the bound is `frac * 2^((idx >> schema) + 1)`, with `frac` taken
/// from the table of fractions in `[0.5, 1)` that Prometheus uses (captured from a real
/// Prometheus, see `bounds_table.rs`). Those fractions are not all correctly rounded: many
/// are one to four ulps below `2^(j/2^schema - 1)`, so computing them with `exp2` would
/// differ from Prometheus in the last digit (e.g. schema 1, index -1 is
/// `0.7071067811865475`, not `0.7071067811865476`). Schemas `<= 0` are exact powers of
/// two. Schemas above 8 are not valid native-histogram schemas and Prometheus has no
/// table for them; they keep the `exp2` formula so that the function stays total.
///
/// As in Prometheus, the bucket just below the overflow bucket (the one whose bound would
/// exceed `f64::MAX`) has `f64::MAX` as its upper bound, so that only observations of
/// infinity land in the bucket above.
///
/// ```
/// use exposition::histogram::exponential_bound;
/// assert_eq!(exponential_bound(0, 0), 1.0);
/// assert_eq!(exponential_bound(1, 0), 2.0);
/// assert_eq!(exponential_bound(-1, 1), 0.7071067811865475);
/// assert_eq!(exponential_bound(1, 1), 0.7071067811865475 * 2.0);
/// assert_eq!(exponential_bound(3, 2), 0.8408964152537144 * 2.0);
/// assert_eq!(exponential_bound(1, -2), 16.0);
/// ```
pub fn exponential_bound(idx: i32, schema: i32) -> f64 {
    if schema <= 0 {
        let shift = (-(schema as i64)).min(62) as u32;
        let exp = (idx as i64).saturating_mul(1i64 << shift);
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let schema = schema.min(30);
    let n = 1i64 << schema;
    let frac_idx = (idx as i64) & (n - 1);
    let exp = ((idx as i64) >> schema) + 1;
    if frac_idx == 0 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(bound_fraction(schema, frac_idx), exp)
}

/// The fraction in `[0.5, 1)` that bucket bounds of `schema` (`>= 1`) with fraction index
/// `frac_idx` (`0..2^schema`) are built from: Prometheus's table for schemas `1..=8`,
/// `0.5 * 2^(frac_idx / 2^schema)` beyond.
fn bound_fraction(schema: i32, frac_idx: i64) -> f64 {
    let table = usize::try_from(schema)
        .ok()
        .and_then(|s| FRACTIONS.get(s))
        .and_then(|fr| fr.get(usize::try_from(frac_idx).ok()?));
    match table {
        Some(&frac) => frac,
        None if frac_idx == 0 => 0.5,
        None => 0.5 * (frac_idx as f64 / (1i64 << schema.clamp(0, 62)) as f64).exp2(),
    }
}

/// Custom-bucket bound `idx`: `custom_values[idx]`, `+Inf` at or beyond the end, `-Inf`
/// below 0 (the lower bound of bucket 0).
pub(crate) fn custom_bound(idx: i32, custom: &[f64]) -> f64 {
    if idx < 0 {
        f64::NEG_INFINITY
    } else {
        custom.get(idx as usize).copied().unwrap_or(f64::INFINITY)
    }
}

/// Upper bound of positive bucket `idx` of a histogram of `schema`.
pub(crate) fn bound(idx: i32, schema: i32, custom: &[f64]) -> f64 {
    if schema == CUSTOM_BUCKETS_SCHEMA {
        custom_bound(idx, custom)
    } else {
        exponential_bound(idx, schema)
    }
}

/// The bucket at `idx` on one side with boundaries filled in.
pub(crate) fn make_bucket(
    idx: i32,
    count: f64,
    positive: bool,
    schema: i32,
    custom: &[f64],
) -> Bucket {
    let prev = idx.saturating_sub(1);
    if positive {
        Bucket {
            lower: bound(prev, schema, custom),
            upper: bound(idx, schema, custom),
            count,
            lower_inclusive: false,
            upper_inclusive: true,
            index: idx,
        }
    } else {
        Bucket {
            lower: -bound(idx, schema, custom),
            upper: -bound(prev, schema, custom),
            count,
            lower_inclusive: true,
            upper_inclusive: false,
            index: idx,
        }
    }
}

/// Walks `(index, count)` pairs of one side described by spans and absolute counts, in
/// ascending index order. Stops early (never panics) when spans and buckets disagree.
#[derive(Debug, Clone)]
pub(crate) struct IndexIter<'a, T> {
    spans: &'a [Span],
    buckets: &'a [T],
    span: usize,
    in_span: u32,
    bucket: usize,
    index: i64,
}

impl<'a, T: Copy> IndexIter<'a, T> {
    pub(crate) fn new(spans: &'a [Span], buckets: &'a [T]) -> Self {
        IndexIter {
            spans,
            buckets,
            span: 0,
            in_span: 0,
            bucket: 0,
            index: 0,
        }
    }
}

impl<T: Copy> Iterator for IndexIter<'_, T> {
    type Item = (i32, T);
    fn next(&mut self) -> Option<(i32, T)> {
        loop {
            let span = self.spans.get(self.span)?;
            if self.in_span == 0 {
                self.index += span.offset as i64;
            }
            if self.in_span >= span.length {
                self.span += 1;
                self.in_span = 0;
                continue;
            }
            let count = *self.buckets.get(self.bucket)?;
            let idx = self.index.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
            self.in_span += 1;
            self.bucket += 1;
            self.index += 1;
            if self.in_span >= span.length {
                self.span += 1;
                self.in_span = 0;
            }
            return Some((idx, count));
        }
    }
}

/// Iterator over one side's buckets with boundaries, in ascending index order (positive:
/// upwards from zero; negative: downwards from zero).
#[derive(Debug, Clone)]
pub struct SideBuckets<'a> {
    inner: IndexIter<'a, f64>,
    positive: bool,
    schema: i32,
    custom: &'a [f64],
}

impl Iterator for SideBuckets<'_> {
    type Item = Bucket;
    fn next(&mut self) -> Option<Bucket> {
        let (idx, count) = self.inner.next()?;
        Some(make_bucket(
            idx,
            count,
            self.positive,
            self.schema,
            self.custom,
        ))
    }
}

/// Iterator over all buckets of a histogram, from the lowest value to the highest or the
/// other way round (see [`FloatHistogram::all_buckets`]).
#[derive(Debug, Clone)]
pub struct AllBuckets {
    buckets: std::vec::IntoIter<Bucket>,
}

impl Iterator for AllBuckets {
    type Item = Bucket;
    fn next(&mut self) -> Option<Bucket> {
        self.buckets.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.buckets.size_hint()
    }
}

impl DoubleEndedIterator for AllBuckets {
    fn next_back(&mut self) -> Option<Bucket> {
        self.buckets.next_back()
    }
}

impl ExactSizeIterator for AllBuckets {}

impl FloatHistogram {
    /// Positive buckets in ascending order (starting next to the zero bucket).
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let h = FloatHistogram::parse_notation("{{offset:1 buckets:[3 4]}}").unwrap();
    /// let b: Vec<_> = h.positive_bucket_iter().map(|b| (b.lower, b.upper, b.count)).collect();
    /// assert_eq!(b, vec![(1.0, 2.0, 3.0), (2.0, 4.0, 4.0)]);
    /// ```
    pub fn positive_bucket_iter(&self) -> SideBuckets<'_> {
        SideBuckets {
            inner: IndexIter::new(&self.positive_spans, &self.positive_buckets),
            positive: true,
            schema: self.schema,
            custom: &self.custom_values,
        }
    }

    /// Negative buckets in order of increasing index, i.e. from zero downwards.
    pub fn negative_bucket_iter(&self) -> SideBuckets<'_> {
        SideBuckets {
            inner: IndexIter::new(&self.negative_spans, &self.negative_buckets),
            positive: false,
            schema: self.schema,
            custom: &self.custom_values,
        }
    }

    /// The zero bucket `[-zero_threshold, zero_threshold]`.
    pub fn zero_bucket(&self) -> Bucket {
        Bucket {
            lower: -self.zero_threshold,
            upper: self.zero_threshold,
            count: self.zero_count,
            lower_inclusive: true,
            upper_inclusive: true,
            index: 0,
        }
    }

    /// All buckets in ascending order of value: negative buckets from the lowest up, the
    /// zero bucket (only when its count is above zero), then positive buckets. A bucket
    /// overlapping the zero bucket has that boundary clipped to the zero threshold. Use
    /// `.rev()` for descending order.
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let h = FloatHistogram::parse_notation("{{z_bucket:1 z_bucket_w:0.5 buckets:[2] n_buckets:[3]}}").unwrap();
    /// let b: Vec<_> = h.all_buckets().map(|b| (b.lower, b.upper, b.count)).collect();
    /// assert_eq!(b, vec![(-1.0, -0.5, 3.0), (-0.5, 0.5, 1.0), (0.5, 1.0, 2.0)]);
    /// ```
    pub fn all_buckets(&self) -> AllBuckets {
        let zt = self.zero_threshold;
        let clip = |mut b: Bucket| {
            if b.lower > 0.0 && b.lower < zt {
                b.lower = zt;
            }
            if b.upper < 0.0 && b.upper > -zt {
                b.upper = -zt;
            }
            b
        };
        let mut v: Vec<Bucket> = self.negative_bucket_iter().map(clip).collect();
        v.reverse();
        if self.zero_count > 0.0 {
            v.push(self.zero_bucket());
        }
        v.extend(self.positive_bucket_iter().map(clip));
        AllBuckets {
            buckets: v.into_iter(),
        }
    }

    /// Like [`FloatHistogram::all_buckets`] with each count replaced by the running total
    /// from the lowest bucket up (the classic `le` view).
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let h = FloatHistogram::parse_notation("{{schema:-53 custom_values:[1 2] buckets:[1 2 3]}}").unwrap();
    /// let c: Vec<_> = h.cumulative_buckets().map(|b| (b.upper, b.count)).collect();
    /// assert_eq!(c, vec![(1.0, 1.0), (2.0, 3.0), (f64::INFINITY, 6.0)]);
    /// ```
    pub fn cumulative_buckets(&self) -> impl Iterator<Item = Bucket> {
        let mut acc = 0.0;
        self.all_buckets().map(move |mut b| {
            acc += b.count;
            b.count = acc;
            b
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_match_powers_of_two() {
        for schema in -4..=8 {
            for idx in [-50, -3, -1, 0, 1, 2, 7, 100] {
                let want = 2f64.powf(idx as f64 * 2f64.powi(-schema));
                let got = exponential_bound(idx, schema);
                assert!(
                    got == want || (got - want).abs() <= want * 1e-14,
                    "{schema} {idx}: {got} vs {want}"
                );
            }
        }
        assert_eq!(exponential_bound(1024, 0), f64::MAX);
        assert_eq!(exponential_bound(1025, 0), f64::INFINITY);
        assert_eq!(exponential_bound(1024 * 256, 8), f64::MAX);
        assert_eq!(exponential_bound(i32::MAX, -4), f64::INFINITY);
        assert_eq!(exponential_bound(i32::MIN, 8), 0.0);
    }

    /// Double-double `(hi, lo)` helpers for a reference `2^x` good to ~100 bits.
    fn two_sum(a: f64, b: f64) -> (f64, f64) {
        let s = a + b;
        let bb = s - a;
        (s, (a - (s - bb)) + (b - bb))
    }

    fn dd_add(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
        let (s, e) = two_sum(a.0, b.0);
        two_sum(s, e + a.1 + b.1)
    }

    fn dd_mul(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
        let p = a.0 * b.0;
        let e = a.0.mul_add(b.0, -p);
        two_sum(p, e + a.0 * b.1 + a.1 * b.0)
    }

    /// `2^x` for `0 <= x < 1`, correctly rounded to f64 (barring a tie within 2^-100):
    /// the Taylor series of `e^(x ln 2)` in double-double arithmetic.
    fn exp2_reference(x: f64) -> f64 {
        // ln 2 = LN2_HI + LN2_LO to about 107 bits.
        const LN2_HI: f64 = std::f64::consts::LN_2;
        const LN2_LO: f64 = 2.319_046_813_846_299_6e-17;
        let y = dd_mul((x, 0.0), (LN2_HI, LN2_LO));
        let mut sum = (1.0, 0.0);
        let mut term = (1.0, 0.0);
        for k in 1..40 {
            term = dd_mul(term, y);
            let q = term.0 / k as f64;
            // term / k in double-double: q plus the remainder's share.
            let r = (-q).mul_add(k as f64, term.0) + term.1;
            term = two_sum(q, r / k as f64);
            sum = dd_add(sum, term);
        }
        sum.0 + sum.1
    }

    #[test]
    fn reference_exp2_agrees_with_known_values() {
        assert_eq!(exp2_reference(0.0), 1.0);
        assert_eq!(exp2_reference(0.5), std::f64::consts::SQRT_2);
        for j in 0..256 {
            let x = j as f64 / 256.0;
            let (a, b) = (exp2_reference(x), x.exp2());
            assert!(a.to_bits().abs_diff(b.to_bits()) <= 1, "{x}: {a} vs {b}");
        }
    }

    #[test]
    fn table_has_the_shape_prometheus_uses() {
        assert_eq!(FRACTIONS.len(), 9);
        for (s, fr) in FRACTIONS.iter().enumerate() {
            assert_eq!(fr.len(), 1 << s, "schema {s}");
            assert_eq!(fr[0], 0.5, "schema {s}");
            for w in fr.windows(2) {
                assert!(w[0] < w[1], "schema {s}: {} !< {}", w[0], w[1]);
            }
            assert!(*fr.last().unwrap() < 1.0, "schema {s}");
            // Each schema's bounds are every other bound of the next finer schema, so that
            // reducing the resolution merges buckets without moving any boundary.
            if let Some(finer) = FRACTIONS.get(s + 1) {
                for (j, f) in fr.iter().enumerate() {
                    assert_eq!(f.to_bits(), finer[2 * j].to_bits(), "schema {s} index {j}");
                }
            }
        }
    }

    #[test]
    fn table_is_close_to_exact_powers_of_two() {
        // Prometheus's fractions are not all correctly rounded: the captured table has
        // entries from one ulp above to four ulps below `2^(j/2^s - 1)`.
        let mut off_by = [0usize; 9];
        for (s, fr) in FRACTIONS.iter().enumerate() {
            for (j, &f) in fr.iter().enumerate() {
                let exact = exp2_reference(j as f64 / (1u32 << s) as f64) * 0.5;
                let ulps = f.to_bits() as i64 - exact.to_bits() as i64;
                assert!(
                    (-4..=1).contains(&ulps),
                    "schema {s} index {j}: {f} is {ulps} ulps from {exact}"
                );
                off_by[(ulps + 4) as usize] += 1;
            }
        }
        // 170 of the 511 entries are correctly rounded; schema 1's one non-trivial entry
        // (1/sqrt 2) is one ulp low.
        assert_eq!(off_by[4], 170, "{off_by:?}");
        assert_eq!(
            FRACTIONS[1][1].to_bits() + 1,
            std::f64::consts::FRAC_1_SQRT_2.to_bits()
        );
    }

    #[test]
    fn bounds_use_the_table_and_exponent() {
        for (s, fr) in FRACTIONS.iter().enumerate().skip(1) {
            let schema = s as i32;
            let n = 1i32 << s;
            for (j, &f) in fr.iter().enumerate() {
                let j = j as i32;
                assert_eq!(exponential_bound(j, schema), 2.0 * f);
                assert_eq!(exponential_bound(j - n, schema), f);
                assert_eq!(exponential_bound(j + 3 * n, schema), 16.0 * f);
                assert_eq!(exponential_bound(j - 5 * n, schema), f / 16.0);
            }
        }
        // Beyond the table the formula applies; schema 0 and below are powers of two.
        assert_eq!(exponential_bound(512, 9), 2.0);
        assert!((exponential_bound(1, 9) - 2f64.powf(1.0 / 512.0)).abs() < 1e-15);
        assert_eq!(exponential_bound(-3, 0), 0.125);
    }

    #[test]
    fn iteration_survives_inconsistent_layouts() {
        let h = FloatHistogram {
            positive_spans: vec![Span::new(0, 5), Span::new(-3, 0), Span::new(2, 1)],
            positive_buckets: vec![1.0, 2.0],
            ..FloatHistogram::default()
        };
        assert_eq!(h.positive_bucket_iter().count(), 2);
        let h = FloatHistogram {
            positive_spans: vec![Span::new(0, 1), Span::new(0, 0), Span::new(1, 1)],
            positive_buckets: vec![1.0, 2.0, 3.0],
            ..FloatHistogram::default()
        };
        let idx: Vec<_> = h.positive_bucket_iter().map(|b| b.index).collect();
        assert_eq!(idx, vec![0, 2]);
    }

    #[test]
    fn negative_and_custom_bounds() {
        let h = FloatHistogram::parse_notation("{{n_offset:1 n_buckets:[1]}}").unwrap();
        let b = h.negative_bucket_iter().next().unwrap();
        assert_eq!(
            (b.lower, b.upper, b.lower_inclusive, b.upper_inclusive),
            (-2.0, -1.0, true, false)
        );
        let c = FloatHistogram::parse_notation("{{schema:-53 custom_values:[5] buckets:[1 1]}}")
            .unwrap();
        let v: Vec<_> = c.all_buckets().map(|b| (b.lower, b.upper)).collect();
        assert_eq!(v, vec![(f64::NEG_INFINITY, 5.0), (5.0, f64::INFINITY)]);
    }
}
