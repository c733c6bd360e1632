//! Validation of histograms, and conversion between integer and float counts.

use super::error::{HistogramError, Side};
use super::{
    FloatHistogram, Histogram, Span, CUSTOM_BUCKETS_SCHEMA, MAX_EXPONENTIAL_SCHEMA,
    MIN_EXPONENTIAL_SCHEMA,
};

fn check_spans(
    side: Side,
    spans: &[Span],
    buckets: usize,
    custom: bool,
) -> Result<(), HistogramError> {
    let mut need = 0usize;
    for (n, s) in spans.iter().enumerate() {
        if (n > 0 || custom) && s.offset < 0 {
            return Err(HistogramError::NegativeSpanOffset {
                side,
                span: n + 1,
                offset: s.offset,
            });
        }
        need += s.length as usize;
    }
    if need != buckets {
        return Err(HistogramError::SpansBucketsMismatch {
            side,
            spans_need: need,
            buckets_have: buckets,
        });
    }
    Ok(())
}

fn check_counts(side: Side, counts: impl Iterator<Item = f64>) -> Result<f64, HistogramError> {
    let mut total = 0.0;
    for (i, c) in counts.enumerate() {
        if c < 0.0 {
            return Err(HistogramError::NegativeBucketCount {
                side,
                bucket: i + 1,
                count: c,
            });
        }
        total += c;
    }
    Ok(total)
}

fn check_custom_bounds(bounds: &[f64], spans: &[Span]) -> Result<(), HistogramError> {
    for (i, &b) in bounds.iter().enumerate() {
        if !b.is_finite() {
            return Err(HistogramError::CustomBoundNotFinite {
                index: i + 1,
                value: b,
            });
        }
        if i > 0 && b <= bounds[i - 1] {
            return Err(HistogramError::CustomBoundsNotIncreasing {
                index: i + 1,
                previous: bounds[i - 1],
                current: b,
            });
        }
    }
    let span_length: i64 = spans
        .iter()
        .map(|s| s.offset as i64 + s.length as i64)
        .sum();
    if bounds.len() as i64 + 1 < span_length {
        return Err(HistogramError::CustomBucketsMismatch {
            bounds: bounds.len(),
            span_length,
        });
    }
    Ok(())
}

/// Checks shared by both representations: layout, schema, custom-bucket rules.
#[allow(clippy::too_many_arguments)]
fn check_layout(
    schema: i32,
    zero_threshold: f64,
    zero_count: f64,
    pos_spans: &[Span],
    pos_len: usize,
    neg_spans: &[Span],
    neg_len: usize,
    custom_values: &[f64],
) -> Result<(), HistogramError> {
    if schema == CUSTOM_BUCKETS_SCHEMA {
        check_spans(Side::Positive, pos_spans, pos_len, true)?;
        check_custom_bounds(custom_values, pos_spans)?;
        if zero_count != 0.0 {
            return Err(HistogramError::CustomBucketsZeroCount);
        }
        if zero_threshold != 0.0 {
            return Err(HistogramError::CustomBucketsZeroThreshold);
        }
        if !neg_spans.is_empty() || neg_len > 0 {
            return Err(HistogramError::CustomBucketsNegativeBuckets);
        }
    } else if (MIN_EXPONENTIAL_SCHEMA..=MAX_EXPONENTIAL_SCHEMA).contains(&schema) {
        check_spans(Side::Positive, pos_spans, pos_len, false)?;
        check_spans(Side::Negative, neg_spans, neg_len, false)?;
        if !custom_values.is_empty() {
            return Err(HistogramError::ExponentialWithCustomBounds);
        }
    } else {
        return Err(HistogramError::InvalidSchema(schema));
    }
    Ok(())
}

impl FloatHistogram {
    /// Checks the histogram as Prometheus's `Validate`: a known schema; spans consistent
    /// with bucket counts (no negative offset after the first span); no negative bucket,
    /// zero or total count; for custom buckets strictly increasing finite bounds that
    /// cover the spans, and no zero bucket or negative buckets; no custom bounds on an
    /// exponential histogram. (The total count is not compared with the buckets: float
    /// rounding would give false alarms.)
    ///
    /// ```
    /// use exposition::histogram::{FloatHistogram, HistogramError};
    /// assert!(FloatHistogram::parse_notation("{{count:3 buckets:[1 2]}}").unwrap().validate().is_ok());
    /// let bad = FloatHistogram::parse_notation("{{schema:-53 custom_values:[2 1] buckets:[1]}}").unwrap();
    /// assert!(matches!(bad.validate(), Err(HistogramError::CustomBoundsNotIncreasing { .. })));
    /// ```
    pub fn validate(&self) -> Result<(), HistogramError> {
        check_layout(
            self.schema,
            self.zero_threshold,
            self.zero_count,
            &self.positive_spans,
            self.positive_buckets.len(),
            &self.negative_spans,
            self.negative_buckets.len(),
            &self.custom_values,
        )?;
        check_counts(Side::Negative, self.negative_buckets.iter().copied())?;
        if self.zero_count < 0.0 {
            return Err(HistogramError::NegativeZeroCount(self.zero_count));
        }
        if self.count < 0.0 {
            return Err(HistogramError::NegativeCount(self.count));
        }
        check_counts(Side::Positive, self.positive_buckets.iter().copied())?;
        Ok(())
    }

    /// The integer histogram with the same layout and delta-encoded counts, or `None` if
    /// a count is not a non-negative integer (up to 2^53) or the sum of deltas would not
    /// fit.
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let f = FloatHistogram::parse_notation("{{count:5 sum:1.5 buckets:[2 3]}}").unwrap();
    /// let h = f.to_integer().unwrap();
    /// assert_eq!(h.positive_buckets, vec![2, 1]);
    /// assert_eq!(h.to_float(), f);
    /// assert!(FloatHistogram::parse_notation("{{count:0.5}}").unwrap().to_integer().is_none());
    /// ```
    pub fn to_integer(&self) -> Option<Histogram> {
        fn int(v: f64) -> Option<u64> {
            (v >= 0.0 && v.fract() == 0.0 && v <= 9_007_199_254_740_992.0).then_some(v as u64)
        }
        fn delta(counts: &[f64]) -> Option<Vec<i64>> {
            let mut prev = 0i64;
            counts
                .iter()
                .map(|c| {
                    let c = int(*c)? as i64;
                    let d = c - prev;
                    prev = c;
                    Some(d)
                })
                .collect()
        }
        Some(Histogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count: int(self.zero_count)?,
            count: int(self.count)?,
            sum: self.sum,
            positive_spans: self.positive_spans.clone(),
            negative_spans: self.negative_spans.clone(),
            positive_buckets: delta(&self.positive_buckets)?,
            negative_buckets: delta(&self.negative_buckets)?,
            custom_values: self.custom_values.clone(),
        })
    }
}

impl Histogram {
    /// Checks the histogram as Prometheus's `Histogram.Validate`: everything
    /// [`FloatHistogram::validate`] checks (on the absolute counts the deltas encode),
    /// plus that the buckets add up to the count exactly (or at most to the count when
    /// the sum is NaN, since NaN observations land in no bucket).
    ///
    /// ```
    /// use exposition::histogram::{Histogram, HistogramError, Span};
    /// let h = Histogram { count: 3, positive_spans: vec![Span::new(0, 2)], positive_buckets: vec![1, 1], ..Histogram::default() };
    /// assert!(h.validate().is_ok());
    /// let neg = Histogram { count: 3, positive_spans: vec![Span::new(0, 2)], positive_buckets: vec![1, -2], ..Histogram::default() };
    /// assert!(matches!(neg.validate(), Err(HistogramError::NegativeBucketCount { bucket: 2, .. })));
    /// ```
    pub fn validate(&self) -> Result<(), HistogramError> {
        check_layout(
            self.schema,
            self.zero_threshold,
            self.zero_count as f64,
            &self.positive_spans,
            self.positive_buckets.len(),
            &self.negative_spans,
            self.negative_buckets.len(),
            &self.custom_values,
        )?;
        let absolute = |deltas: &[i64]| {
            let mut acc = 0i64;
            deltas
                .iter()
                .map(|d| {
                    acc = acc.wrapping_add(*d);
                    acc as f64
                })
                .collect::<Vec<f64>>()
        };
        let n = check_counts(Side::Negative, absolute(&self.negative_buckets).into_iter())?;
        let p = check_counts(Side::Positive, absolute(&self.positive_buckets).into_iter())?;
        let in_buckets = n + p + self.zero_count as f64;
        let count = self.count as f64;
        if self.sum.is_nan() {
            if in_buckets > count {
                return Err(HistogramError::CountNotBigEnough { in_buckets, count });
            }
        } else if in_buckets != count {
            return Err(HistogramError::CountMismatch { in_buckets, count });
        }
        Ok(())
    }
}
