//! Bucket layout: compaction, resolution reduction and the span merging that addition
//! and subtraction build on.

use super::buckets::{exponential_bound, IndexIter};
use super::error::HistogramError;
use super::{FloatHistogram, Span, CUSTOM_BUCKETS_SCHEMA, MIN_EXPONENTIAL_SCHEMA};

/// The index in `to` (a coarser schema) of bucket `idx` of schema `from`.
pub(crate) fn target_index(idx: i32, from: i32, to: i32) -> i32 {
    let shift = (from as i64 - to as i64).clamp(0, 63) as u32;
    let t = ((idx as i64 - 1) >> shift) + 1;
    t.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// Gaps longer than this are never filled with explicit zero buckets, whatever the
/// caller asks for: it bounds the memory a compaction can take (indices span 2^32).
pub(crate) const MAX_FILLED_GAP: usize = 1 << 16;

/// Builds spans and buckets from `(index, count)` pairs in ascending index order. Runs of
/// up to `max_gap` (at most [`MAX_FILLED_GAP`]) missing indices between two pairs are
/// filled with zero buckets.
pub(crate) fn spans_from_pairs(
    pairs: impl IntoIterator<Item = (i32, f64)>,
    max_gap: usize,
) -> (Vec<Span>, Vec<f64>) {
    let max_gap = max_gap.min(MAX_FILLED_GAP) as i64;
    let mut spans: Vec<Span> = Vec::new();
    let mut buckets = Vec::new();
    let mut prev: Option<i64> = None;
    for (idx, count) in pairs {
        let idx = idx as i64;
        match prev {
            None => spans.push(Span::new(idx as i32, 1)),
            Some(p) => {
                let gap = idx - p - 1;
                let last = spans.len() - 1;
                if (0..=max_gap).contains(&gap) && spans[last].length as i64 + gap < u32::MAX as i64
                {
                    buckets.extend(std::iter::repeat_n(0.0, gap as usize));
                    spans[last].length += gap as u32 + 1;
                } else {
                    spans.push(Span::new(
                        gap.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
                        1,
                    ));
                }
            }
        }
        buckets.push(count);
        prev = Some(idx);
    }
    (spans, buckets)
}

/// `(index, count)` pairs of one side, reduced from schema `from` to `to` (≤ `from`):
/// buckets that fall into one coarser bucket are summed.
pub(crate) fn reduced_pairs(
    spans: &[Span],
    buckets: &[f64],
    from: i32,
    to: i32,
) -> Vec<(i32, f64)> {
    let mut out: Vec<(i32, f64)> = Vec::with_capacity(buckets.len());
    for (idx, count) in IndexIter::new(spans, buckets) {
        let t = if from == to {
            idx
        } else {
            target_index(idx, from, to)
        };
        match out.last_mut() {
            Some(last) if last.0 == t => last.1 += count,
            _ => out.push((t, count)),
        }
    }
    out
}

/// Like [`reduced_pairs`], but first drops the leading buckets whose upper bound (in
/// schema `from`) is at most `threshold`: they are part of a zero bucket of that width.
/// Dropping them before the reduction keeps a bucket that straddles the threshold only
/// after merging from being counted twice (Prometheus skips after merging).
pub(crate) fn reduced_pairs_above(
    spans: &[Span],
    buckets: &[f64],
    from: i32,
    to: i32,
    threshold: f64,
) -> Vec<(i32, f64)> {
    let skip_exp = threshold != 0.0 && from != CUSTOM_BUCKETS_SCHEMA;
    let mut out: Vec<(i32, f64)> = Vec::with_capacity(buckets.len());
    let mut skipping = skip_exp;
    for (idx, count) in IndexIter::new(spans, buckets) {
        if skipping && exponential_bound(idx, from) <= threshold {
            continue;
        }
        skipping = false;
        let t = if from == to {
            idx
        } else {
            target_index(idx, from, to)
        };
        match out.last_mut() {
            Some(last) if last.0 == t => last.1 += count,
            _ => out.push((t, count)),
        }
    }
    out
}

/// Adds (or subtracts, when `negate`) side `b` to side `a`, both in `schema`. Leading
/// buckets of `b` whose upper bound is at most `threshold` are skipped (they are already
/// part of the zero bucket). The result keeps every bucket of both layouts.
pub(crate) fn add_sides(
    schema: i32,
    threshold: f64,
    negate: bool,
    a: &[(i32, f64)],
    b: &[(i32, f64)],
) -> (Vec<Span>, Vec<f64>) {
    let mut skip = 0;
    if threshold != 0.0 && schema != CUSTOM_BUCKETS_SCHEMA {
        while skip < b.len() && exponential_bound(b[skip].0, schema) <= threshold {
            skip += 1;
        }
    }
    let b = &b[skip..];
    let sign = if negate { -1.0 } else { 1.0 };
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if j >= b.len() || (i < a.len() && a[i].0 < b[j].0) {
            merged.push(a[i]);
            i += 1;
        } else if i >= a.len() || b[j].0 < a[i].0 {
            merged.push((b[j].0, sign * b[j].1));
            j += 1;
        } else {
            merged.push((a[i].0, a[i].1 + sign * b[j].1));
            i += 1;
            j += 1;
        }
    }
    spans_from_pairs(merged, 0)
}

/// Whether two span lists describe the same bucket indices (zero-length spans and
/// adjacent spans do not matter).
pub(crate) fn spans_match(a: &[Span], b: &[Span]) -> bool {
    let ones_a = vec![(); a.iter().map(|s| s.length as usize).sum::<usize>()];
    let ones_b = vec![(); b.iter().map(|s| s.length as usize).sum::<usize>()];
    let ia = IndexIter::new(a, &ones_a).map(|(i, _)| i);
    let ib = IndexIter::new(b, &ones_b).map(|(i, _)| i);
    ia.eq(ib)
}

impl FloatHistogram {
    /// Removes empty buckets at the edges of spans, splits spans at runs of more than
    /// `max_empty_buckets` empty buckets and merges spans that are at most that many
    /// buckets apart (filling the gap with explicit zeros), as Prometheus's `Compact`.
    /// Gaps of more than 65,536 buckets are never filled, to bound memory.
    ///
    /// ```
    /// use exposition::histogram::{FloatHistogram, Span};
    /// let mut h = FloatHistogram::parse_notation("{{buckets:[0 1 0 0 2 0]}}").unwrap();
    /// h.compact(0);
    /// assert_eq!(h.positive_spans, vec![Span::new(1, 1), Span::new(2, 1)]);
    /// assert_eq!(h.positive_buckets, vec![1.0, 2.0]);
    /// h.compact(2);
    /// assert_eq!(h.positive_spans, vec![Span::new(1, 4)]);
    /// ```
    pub fn compact(&mut self, max_empty_buckets: usize) -> &mut Self {
        for (spans, buckets) in [
            (&mut self.positive_spans, &mut self.positive_buckets),
            (&mut self.negative_spans, &mut self.negative_buckets),
        ] {
            let pairs: Vec<(i32, f64)> = IndexIter::new(spans, buckets)
                .filter(|(_, c)| *c != 0.0)
                .collect();
            let (s, b) = spans_from_pairs(pairs, max_empty_buckets);
            *spans = s;
            *buckets = b;
        }
        self
    }

    /// Lowers the resolution to `target_schema` (≤ the current schema), merging buckets.
    /// Count, sum and the zero bucket are unchanged. Equal schemas are a no-op; a higher
    /// target, a target below -4 or custom buckets are errors.
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let mut h = FloatHistogram::parse_notation("{{schema:1 count:6 buckets:[1 2 3]}}").unwrap();
    /// h.reduce_resolution(0).unwrap();
    /// // schema-1 indices 0,1,2 fall into schema-0 buckets 0,1,1
    /// assert_eq!(h.to_string(), "{{count:6 buckets:[1 5]}}");
    /// ```
    pub fn reduce_resolution(&mut self, target_schema: i32) -> Result<(), HistogramError> {
        self.check_reduction(target_schema)?;
        if target_schema == self.schema {
            return Ok(());
        }
        let (from, to) = (self.schema, target_schema);
        let p = reduced_pairs(&self.positive_spans, &self.positive_buckets, from, to);
        (self.positive_spans, self.positive_buckets) = spans_from_pairs(p, 0);
        let n = reduced_pairs(&self.negative_spans, &self.negative_buckets, from, to);
        (self.negative_spans, self.negative_buckets) = spans_from_pairs(n, 0);
        self.schema = to;
        Ok(())
    }

    /// A copy at `target_schema` (≤ the current schema); see
    /// [`FloatHistogram::reduce_resolution`].
    pub fn copy_to_schema(&self, target_schema: i32) -> Result<FloatHistogram, HistogramError> {
        let mut c = self.clone();
        c.reduce_resolution(target_schema)?;
        Ok(c)
    }

    fn check_reduction(&self, target_schema: i32) -> Result<(), HistogramError> {
        let bad = || HistogramError::InvalidResolutionChange {
            from: self.schema,
            to: target_schema,
        };
        if self.uses_custom_buckets() {
            return if target_schema == self.schema {
                Ok(())
            } else {
                Err(bad())
            };
        }
        if target_schema > self.schema || target_schema < MIN_EXPONENTIAL_SCHEMA {
            return Err(bad());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> FloatHistogram {
        FloatHistogram::parse_notation(s).unwrap()
    }

    #[test]
    fn target_index_halves_resolution() {
        // schema 1 → 0: (0.707,1] and (1,1.41] ... index 1 and 2 merge into 1.
        assert_eq!(target_index(0, 1, 0), 0);
        assert_eq!(target_index(1, 1, 0), 1);
        assert_eq!(target_index(2, 1, 0), 1);
        assert_eq!(target_index(3, 1, 0), 2);
        assert_eq!(target_index(-1, 1, 0), 0);
        assert_eq!(target_index(-2, 1, 0), -1);
        assert_eq!(target_index(i32::MIN, 8, -4), -524_288);
    }

    #[test]
    fn compact_keeps_nan_and_handles_gaps() {
        let mut x = FloatHistogram {
            positive_spans: vec![Span::new(-2, 2), Span::new(3, 2)],
            positive_buckets: vec![0.0, f64::NAN, 0.0, 4.0],
            ..FloatHistogram::default()
        };
        x.compact(0);
        assert_eq!(x.positive_spans, vec![Span::new(-1, 1), Span::new(4, 1)]);
        x.compact(usize::MAX);
        assert_eq!(x.positive_spans, vec![Span::new(-1, 6)]);
        assert_eq!(x.positive_buckets.len(), 6);
        let mut e = h("{{buckets:[0 0] n_buckets:[0]}}");
        e.compact(0);
        assert!(e.positive_spans.is_empty() && e.negative_buckets.is_empty());
    }

    #[test]
    fn reduce_resolution_rejects_wrong_direction() {
        let mut x = h("{{schema:0 buckets:[1]}}");
        assert!(x.reduce_resolution(1).is_err());
        assert!(x.reduce_resolution(-5).is_err());
        assert!(x.reduce_resolution(-53).is_err());
        let mut c = h("{{schema:-53 custom_values:[1] buckets:[1]}}");
        assert!(c.reduce_resolution(0).is_err());
        let r = h("{{schema:2 offset:-3 buckets:[1 1 1 1 1 1 1 1] n_buckets:[2 2]}}")
            .copy_to_schema(-1)
            .unwrap();
        assert_eq!(r.schema, -1);
        assert_eq!(r.positive_buckets.iter().sum::<f64>(), 8.0);
        assert_eq!(r.negative_buckets.iter().sum::<f64>(), 4.0);
    }

    #[test]
    fn spans_match_ignores_empty_and_adjacent_spans() {
        assert!(spans_match(
            &[Span::new(1, 2), Span::new(0, 1)],
            &[Span::new(1, 3)]
        ));
        assert!(spans_match(
            &[Span::new(1, 0), Span::new(1, 1)],
            &[Span::new(2, 1)]
        ));
        assert!(!spans_match(&[Span::new(1, 2)], &[Span::new(2, 2)]));
    }
}
