//! Classic (`le` bucket) histogram maths: `histogram_quantile` and `histogram_fraction`.

/// One cumulative bucket: upper bound and cumulative count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// The `le` upper bound.
    pub upper_bound: f64,
    /// Cumulative count of observations `<= upper_bound`.
    pub count: f64,
}

/// Outcome of [`bucket_quantile`]: the value plus whether fix-ups were applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantileResult {
    /// The estimated quantile.
    pub value: f64,
    /// Counts had to be forced monotonic (worth an info annotation).
    pub forced_monotonic: bool,
    /// Tiny floating-point differences were ironed out.
    pub fixed_precision: bool,
}

const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

fn almost_equal(a: f64, b: f64, eps: f64) -> bool {
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    let sum = a.abs() + b.abs();
    if a == 0.0 || b == 0.0 || sum < f64::MIN_POSITIVE {
        return diff < eps * f64::MIN_POSITIVE;
    }
    diff / sum.min(f64::MAX) < eps
}

fn sort_and_coalesce(buckets: &mut Vec<Bucket>) {
    buckets.sort_by(|a, b| {
        a.upper_bound
            .partial_cmp(&b.upper_bound)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets.iter() {
        match out.last_mut() {
            Some(l) if l.upper_bound == b.upper_bound => l.count += b.count,
            _ => out.push(*b),
        }
    }
    *buckets = out;
}

fn ensure_monotonic(buckets: &mut [Bucket]) -> (bool, bool) {
    let (mut forced, mut fixed) = (false, false);
    let mut prev = buckets[0].count;
    for b in buckets.iter_mut().skip(1) {
        let curr = b.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, SMALL_DELTA_TOLERANCE) {
            b.count = prev;
            fixed = true;
            continue;
        }
        if curr < prev {
            b.count = prev;
            forced = true;
            continue;
        }
        prev = curr;
    }
    (forced, fixed)
}

/// The φ-quantile estimated from cumulative buckets (linear interpolation inside the
/// bucket). Buckets may come in any order; equal bounds are merged and decreasing
/// counts are forced monotonic. NaN when there is no `+Inf` bucket or no observations.
pub fn bucket_quantile(q: f64, mut buckets: Vec<Bucket>) -> QuantileResult {
    let nan = QuantileResult {
        value: f64::NAN,
        forced_monotonic: false,
        fixed_precision: false,
    };
    if q.is_nan() {
        return nan;
    }
    if q < 0.0 {
        return QuantileResult {
            value: f64::NEG_INFINITY,
            ..nan
        };
    }
    if q > 1.0 {
        return QuantileResult {
            value: f64::INFINITY,
            ..nan
        };
    }
    if buckets.is_empty() {
        return nan;
    }
    sort_and_coalesce(&mut buckets);
    if buckets.last().map(|b| b.upper_bound) != Some(f64::INFINITY) {
        return nan;
    }
    let (forced, fixed) = ensure_monotonic(&mut buckets);
    let res = |value| QuantileResult {
        value,
        forced_monotonic: forced,
        fixed_precision: fixed,
    };
    if buckets.len() < 2 {
        return nan;
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return nan;
    }
    let mut rank = q * observations;
    let n = buckets.len() - 1;
    let b = buckets[..n].partition_point(|bk| bk.count < rank);
    if b == n {
        return res(buckets[n - 1].upper_bound);
    }
    if b == 0 && buckets[0].upper_bound <= 0.0 {
        return res(buckets[0].upper_bound);
    }
    let mut start = 0.0;
    let end = buckets[b].upper_bound;
    let mut count = buckets[b].count;
    if b > 0 {
        start = buckets[b - 1].upper_bound;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    res(start + (end - start) * (rank / count))
}

/// The fraction of observations between `lower` and `upper`, interpolating linearly
/// inside buckets. NaN without a `+Inf` bucket or observations.
pub fn bucket_fraction(lower: f64, upper: f64, mut buckets: Vec<Bucket>) -> f64 {
    if buckets.is_empty() {
        return f64::NAN;
    }
    sort_and_coalesce(&mut buckets);
    if buckets.last().map(|b| b.upper_bound) != Some(f64::INFINITY) {
        return f64::NAN;
    }
    let count = buckets[buckets.len() - 1].count;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    for (i, b) in buckets.iter().enumerate() {
        let lb = if i > 0 {
            buckets[i - 1].upper_bound
        } else if b.upper_bound > 0.0 {
            // Observations are assumed non-negative below the first positive bound.
            0.0
        } else {
            f64::NEG_INFINITY
        };
        let ub = b.upper_bound;
        // No interpolation inside a bucket of infinite width: its observations are taken
        // to sit at the infinite end, so it contributes nothing to a finite range.
        let interp = |v: f64| {
            if lb == f64::NEG_INFINITY {
                b.count
            } else if ub == f64::INFINITY {
                rank
            } else {
                rank + (b.count - rank) * (v - lb) / (ub - lb)
            }
        };
        if !lower_set && lb >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lb >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lb < lower && ub > lower {
            lower_rank = interp(lower);
            lower_set = true;
        }
        if !upper_set && lb < upper && ub > upper {
            upper_rank = interp(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = b.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(v: &[(f64, f64)]) -> Vec<Bucket> {
        v.iter()
            .map(|&(upper_bound, count)| Bucket { upper_bound, count })
            .collect()
    }

    #[test]
    fn median_interpolates() {
        let r = bucket_quantile(0.5, b(&[(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)]));
        assert_eq!(r.value, 1.0);
        let r = bucket_quantile(0.75, b(&[(f64::INFINITY, 20.0), (2.0, 20.0), (1.0, 10.0)]));
        assert_eq!(r.value, 1.5);
    }

    #[test]
    fn no_inf_bucket_is_nan() {
        assert!(bucket_quantile(0.5, b(&[(1.0, 10.0)])).value.is_nan());
    }

    #[test]
    fn monotonicity_fixed() {
        let r = bucket_quantile(0.5, b(&[(1.0, 10.0), (2.0, 5.0), (f64::INFINITY, 20.0)]));
        assert!(r.forced_monotonic);
    }

    #[test]
    fn fraction_half() {
        let f = bucket_fraction(
            0.0,
            1.5,
            b(&[(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)]),
        );
        assert_eq!(f, 0.75);
    }
}
