//! Bucket boundaries and iteration: which value range does bucket `i` cover, and what
//! are a histogram's buckets in order?

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

/// The upper bound of positive exponential bucket `idx` in `schema`: `2^(idx * 2^-schema)`.
///
/// As in Prometheus, the bucket just below the overflow bucket (the one whose bound would
/// exceed `f64::MAX`) has `f64::MAX` as its upper bound, so that only observations of
/// infinity land in the bucket above.
///
/// ```
/// use exposition::histogram::exponential_bound;
/// assert_eq!(exponential_bound(0, 0), 1.0);
/// assert_eq!(exponential_bound(1, 0), 2.0);
/// assert_eq!(exponential_bound(-1, 1), 0.7071067811865476);
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
    let frac = if frac_idx == 0 {
        0.5
    } else {
        0.5 * (frac_idx as f64 / n as f64).exp2()
    };
    let exp = ((idx as i64) >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
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
