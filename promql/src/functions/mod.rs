//! Function evaluation helpers: the numeric heart of PromQL's functions.
//!
//! These are pure functions over sample windows and values; the engine decides
//! which window each step sees and calls them.
//!
//! | module | question it answers |
//! |---|---|
//! | [`rate`] | how fast did a counter or gauge change over a window (`rate`, `increase`, `delta`, `irate`, `deriv`, ...)? |
//! | [`extended`] | what do `anchored`/`smoothed` ranges give over native histograms (and mixed windows)? |
//! | [`over_time`] | what is the avg/min/max/quantile/... of a window (`*_over_time`)? |
//! | [`math`] | what does a per-sample math function return (`abs`, `ln`, trig, `round`, `clamp`)? |
//! | [`time`] | what calendar field does a timestamp have (`hour`, `day_of_week`, ...)? |
//! | [`histogram`] | what quantile/fraction do classic `le` buckets give? |
//! | [`native`] | how are native histograms added, scaled, checked for resets, and what quantile/fraction/spread do they give? |
//! | [`label`] | how do `label_replace`/`label_join` rewrite a label set? |

pub mod extended;
pub mod histogram;
pub mod label;
pub mod math;
pub mod native;
pub mod over_time;
pub mod rate;
pub mod time;

/// Kahan–Neumaier compensated summation step (shared with the histogram math).
pub use exposition::histogram::kahan_sum_inc;

/// The φ-quantile of `values` (sorted in place, NaNs first), interpolating between
/// neighbours the way Prometheus's `quantile` does.
pub fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    sort_nan_first(values);
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// Sorts ascending with NaNs first.
pub fn sort_nan_first(values: &mut [f64]) {
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(0.5, &mut v), 2.5);
        assert_eq!(quantile(0.0, &mut v), 1.0);
        assert_eq!(quantile(1.0, &mut v), 4.0);
        assert_eq!(quantile(2.0, &mut v), f64::INFINITY);
    }

    #[test]
    fn kahan_recovers_small_terms() {
        let (mut s, mut c) = (0.0, 0.0);
        for x in [1e100, 1.0, -1e100] {
            (s, c) = kahan_sum_inc(x, s, c);
        }
        assert_eq!(s + c, 1.0);
    }
}
