//! Statistics PromQL computes from a native histogram: `histogram_quantile`,
//! `histogram_fraction`, `histogram_stddev` and `histogram_stdvar`.
//!
//! Exponential buckets are interpolated exponentially (linear on a log scale), custom
//! buckets and the zero bucket linearly, as Prometheus 3.x does.

use super::buckets::Bucket;
use super::gomath::{go_exp2, go_log2};
use super::FloatHistogram;

/// What a quantile or fraction computation noticed about NaN observations (which raise
/// the count but land in no bucket); PromQL reports these as info annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NanNote {
    /// Nothing to report.
    #[default]
    None,
    /// `histogram_quantile`: the rank fell among the NaN observations; the result is NaN.
    QuantileIsNaN,
    /// `histogram_quantile`: NaN observations count as above every bucket, so the
    /// result is skewed higher.
    QuantileSkewed,
    /// `histogram_fraction`: NaN observations are excluded from every fraction.
    FractionExcludesNaN,
}

impl FloatHistogram {
    /// The estimated `q`-quantile of the observations (`histogram_quantile`).
    ///
    /// `q < 0` gives `-Inf`, `q > 1` gives `+Inf`; a NaN `q` or a zero count gives NaN.
    /// When the zero bucket holds the quantile and the histogram has buckets on one side
    /// only, zero is taken as its other boundary. For custom buckets, the lowest bucket
    /// counts from zero when its upper bound is positive (else its upper bound is the
    /// answer) and the `+Inf` bucket answers with its lower bound.
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let h = FloatHistogram::parse_notation(
    ///     "{{schema:0 count:12 sum:100 z_bucket:2 z_bucket_w:0.001 buckets:[2 3 0 1 4]}}").unwrap();
    /// assert_eq!(h.quantile(1.0), 16.0);
    /// assert!((h.quantile(0.5) - 1.5874010519681994).abs() < 1e-12);
    /// assert!((h.quantile(0.1) - 0.0006).abs() < 1e-15);
    /// ```
    pub fn quantile(&self, q: f64) -> f64 {
        self.quantile_with_note(q).0
    }

    /// [`FloatHistogram::quantile`] plus what it noticed about NaN observations (a NaN
    /// sum with fewer observations in the buckets than the count): the quantile is NaN
    /// when its rank falls among them, and skewed higher otherwise.
    ///
    /// ```
    /// use exposition::histogram::{FloatHistogram, NanNote};
    /// let h = FloatHistogram::parse_notation("{{count:15 sum:NaN buckets:[12]}}").unwrap();
    /// assert_eq!(h.quantile_with_note(0.8), (1.0, NanNote::QuantileSkewed));
    /// let (v, note) = h.quantile_with_note(0.81);
    /// assert!(v.is_nan() && note == NanNote::QuantileIsNaN);
    /// ```
    pub fn quantile_with_note(&self, q: f64) -> (f64, NanNote) {
        if q < 0.0 {
            return (f64::NEG_INFINITY, NanNote::None);
        }
        if q > 1.0 {
            return (f64::INFINITY, NanNote::None);
        }
        if self.count == 0.0 || q.is_nan() {
            return (f64::NAN, NanNote::None);
        }
        let forward = self.sum.is_nan() || q < 0.5;
        let mut rank = if forward {
            q * self.count
        } else {
            (1.0 - q) * self.count
        };
        let all = self.all_buckets();
        let iter: Box<dyn Iterator<Item = Bucket>> = if forward {
            Box::new(all)
        } else {
            Box::new(all.rev())
        };
        let mut bucket = Bucket {
            lower: 0.0,
            upper: 0.0,
            count: 0.0,
            lower_inclusive: false,
            upper_inclusive: false,
            index: 0,
        };
        let mut count = 0.0;
        for b in iter {
            bucket = b;
            if b.count == 0.0 {
                continue;
            }
            count += b.count;
            if count >= rank {
                break;
            }
        }
        let custom = self.uses_custom_buckets();
        if !custom && bucket.lower < 0.0 && bucket.upper > 0.0 {
            if self.negative_buckets.is_empty() && !self.positive_buckets.is_empty() {
                bucket.lower = 0.0;
            } else if self.positive_buckets.is_empty() && !self.negative_buckets.is_empty() {
                bucket.upper = 0.0;
            }
        } else if custom {
            if bucket.lower == f64::NEG_INFINITY {
                if bucket.upper <= 0.0 {
                    return (bucket.upper, NanNote::None);
                }
                bucket.lower = 0.0;
            } else if bucket.upper == f64::INFINITY {
                return (bucket.lower, NanNote::None);
            }
        }
        if count > self.count {
            count = self.count;
        }
        if count < rank {
            // The rank lies beyond every bucket: among NaN observations, or (with a
            // malformed histogram) nowhere; then the highest bound is the best answer.
            if self.sum.is_nan() {
                return (f64::NAN, NanNote::QuantileIsNaN);
            }
            return (bucket.upper, NanNote::None);
        }
        if forward {
            rank -= count - bucket.count;
        } else {
            rank = count - rank;
        }
        let note =
            if self.sum.is_nan() && self.all_buckets().map(|b| b.count).sum::<f64>() < self.count {
                NanNote::QuantileSkewed
            } else {
                NanNote::None
            };
        let fraction = rank / bucket.count;
        if custom || (bucket.lower <= 0.0 && bucket.upper >= 0.0) {
            return (
                bucket.lower + (bucket.upper - bucket.lower) * fraction,
                note,
            );
        }
        let log_lower = go_log2(bucket.lower.abs());
        let log_upper = go_log2(bucket.upper.abs());
        let v = if bucket.lower > 0.0 {
            go_exp2(log_lower + (log_upper - log_lower) * fraction)
        } else {
            -go_exp2(log_upper + (log_lower - log_upper) * (1.0 - fraction))
        };
        (v, note)
    }

    /// The estimated fraction of observations between `lower` and `upper`
    /// (`histogram_fraction`). NaN for a zero count or a NaN bound; 0 when
    /// `lower >= upper`. Interpolation as for [`FloatHistogram::quantile`].
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let h = FloatHistogram::parse_notation("{{schema:-53 sum:5 count:4 custom_values:[5 10] buckets:[1 2 1]}}").unwrap();
    /// assert_eq!(h.fraction(5.0, 10.0), 0.5);
    /// ```
    pub fn fraction(&self, lower: f64, upper: f64) -> f64 {
        self.fraction_with_note(lower, upper).0
    }

    /// [`FloatHistogram::fraction`] plus whether NaN observations (a NaN sum with fewer
    /// observations in the buckets than the count) were left out: they count in the
    /// denominator but in no range, so `fraction(-Inf, +Inf)` stays below 1.
    ///
    /// ```
    /// use exposition::histogram::{FloatHistogram, NanNote};
    /// let h = FloatHistogram::parse_notation("{{count:15 sum:NaN buckets:[12]}}").unwrap();
    /// assert_eq!(h.fraction_with_note(f64::NEG_INFINITY, f64::INFINITY), (0.8, NanNote::FractionExcludesNaN));
    /// ```
    pub fn fraction_with_note(&self, lower: f64, upper: f64) -> (f64, NanNote) {
        if self.count == 0.0 || lower.is_nan() || upper.is_nan() {
            return (f64::NAN, NanNote::None);
        }
        if lower >= upper {
            return (0.0, NanNote::None);
        }
        let custom = self.uses_custom_buckets();
        let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
        let (mut lower_set, mut upper_set) = (false, false);
        for mut b in self.all_buckets() {
            let mut zero_bucket = false;
            if b.lower <= 0.0 && b.upper >= 0.0 {
                zero_bucket = true;
                if self.negative_buckets.is_empty() && !self.positive_buckets.is_empty() {
                    b.lower = 0.0;
                } else if self.positive_buckets.is_empty() && !self.negative_buckets.is_empty() {
                    b.upper = 0.0;
                }
            }
            let linear = custom || zero_bucket;
            let interpolate = |v: f64| -> f64 {
                if linear && b.lower == f64::NEG_INFINITY {
                    // No interpolation from -Inf: the bucket counts as a whole.
                    rank + b.count
                } else if linear {
                    rank + b.count * (v - b.lower) / (b.upper - b.lower)
                } else {
                    let log_lower = go_log2(b.lower.abs());
                    let log_upper = go_log2(b.upper.abs());
                    let log_v = go_log2(v.abs());
                    let fraction = if v > 0.0 {
                        (log_v - log_lower) / (log_upper - log_lower)
                    } else {
                        1.0 - (log_v - log_upper) / (log_lower - log_upper)
                    };
                    rank + b.count * fraction
                }
            };
            if !lower_set && b.lower >= lower {
                lower_rank = rank;
                lower_set = true;
            }
            if !upper_set && b.lower >= upper {
                upper_rank = rank;
                upper_set = true;
            }
            if lower_set && upper_set {
                break;
            }
            if !lower_set && b.lower < lower && b.upper > lower {
                lower_rank = interpolate(lower);
                lower_set = true;
            }
            if !upper_set && b.lower < upper && b.upper > upper {
                upper_rank = interpolate(upper);
                upper_set = true;
            }
            if lower_set && upper_set {
                break;
            }
            rank += b.count;
        }
        let mut note = NanNote::None;
        let mut total = self.count;
        if self.sum.is_nan() {
            let in_buckets: f64 = self.all_buckets().map(|b| b.count).sum();
            if in_buckets < self.count {
                note = NanNote::FractionExcludesNaN;
            }
            total = in_buckets;
        }
        if !lower_set || lower_rank > total {
            lower_rank = total;
        }
        if !upper_set || upper_rank > total {
            upper_rank = total;
        }
        ((upper_rank - lower_rank) / self.count, note)
    }

    /// The estimated variance of the observations (`histogram_stdvar`): each bucket's
    /// observations are taken to sit at its midpoint (geometric mean of the bounds for
    /// exponential buckets, 0 for the zero bucket, arithmetic mean for custom buckets),
    /// around the mean `sum / count`.
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let h = FloatHistogram::parse_notation("{{schema:0 count:10 sum:-100 n_buckets:[0 0 0 0 10]}}").unwrap();
    /// // All observations taken at -sqrt(8*16) = -11.31..; the mean is -10.
    /// assert!((h.stdvar() - 1.725830020304794).abs() < 1e-12);
    /// ```
    pub fn stdvar(&self) -> f64 {
        let mean = self.sum / self.count;
        let custom = self.uses_custom_buckets();
        let (mut variance, mut compensation) = (0.0, 0.0);
        for b in self.all_buckets() {
            if b.count == 0.0 {
                continue;
            }
            let val = if custom {
                (b.upper + b.lower) / 2.0
            } else if b.lower <= 0.0 && b.upper >= 0.0 {
                0.0
            } else {
                let g = (b.upper * b.lower).sqrt();
                if b.upper < 0.0 {
                    -g
                } else {
                    g
                }
            };
            let delta = val - mean;
            (variance, compensation) =
                kahan_sum_inc(b.count * delta * delta, variance, compensation);
        }
        (variance + compensation) / self.count
    }

    /// The estimated standard deviation (`histogram_stddev`): the square root of
    /// [`FloatHistogram::stdvar`].
    pub fn stddev(&self) -> f64 {
        self.stdvar().sqrt()
    }
}

/// Neumaier-compensated summation step: adds `inc` to `sum` with running compensation
/// `c` and returns the new `(sum, c)`; the compensation is dropped once the sum is
/// infinite. Callers add `c` to the sum at the end.
///
/// ```
/// use exposition::histogram::kahan_sum_inc;
/// let (mut s, mut c) = (0.0, 0.0);
/// for x in [1e100, 1.0, -1e100] {
///     (s, c) = kahan_sum_inc(x, s, c);
/// }
/// assert_eq!(s + c, 1.0);
/// ```
pub fn kahan_sum_inc(inc: f64, sum: f64, mut c: f64) -> (f64, f64) {
    let t = sum + inc;
    if t.is_infinite() {
        c = 0.0;
    } else if sum.abs() >= inc.abs() {
        c += (sum - t) + inc;
    } else {
        c += (inc - t) + sum;
    }
    (t, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_interpolation_rounds_like_go() {
        // The median of two observations in (1, 2] is 2^0.5: Go's Exp2 (and so
        // Prometheus) gives 1.414213562373095, one ulp below the correctly rounded √2.
        let h = FloatHistogram::parse_notation("{{schema:0 count:2 sum:3 offset:1 buckets:[2]}}")
            .unwrap();
        assert_eq!(
            h.quantile(0.5).to_bits() + 1,
            std::f64::consts::SQRT_2.to_bits()
        );
        // The way back interpolates with Go's Log2 too (0.4999999999999999, not 0.5).
        let q = h.quantile(0.5);
        assert_eq!(h.fraction(0.0, q), go_log2(q));
        assert_eq!(h.fraction(0.0, q), 0.499_999_999_999_999_9);
    }
}
