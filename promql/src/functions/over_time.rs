//! Aggregations over the points of one window: the `*_over_time` functions.

use super::{kahan_sum_inc, quantile};
use crate::value::FPoint;

/// `sum_over_time` with compensated summation.
pub fn sum(points: &[FPoint]) -> f64 {
    let (mut s, mut c) = (0.0, 0.0);
    for p in points {
        (s, c) = kahan_sum_inc(p.f, s, c);
    }
    if s.is_infinite() {
        s
    } else {
        s + c
    }
}

/// `avg_over_time`: compensated mean that falls back to an incremental mean when
/// the plain sum would overflow.
pub fn avg(points: &[FPoint]) -> f64 {
    avg_values(points.iter().map(|p| p.f))
}

/// Mean of a sequence of floats, computed the way Prometheus's `avg` does.
pub fn avg_values(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut mean, mut count, mut c) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut incremental = false;
    for f in values {
        count += 1.0;
        if !incremental {
            let (ns, nc) = kahan_sum_inc(f, sum, c);
            if count == 1.0 || !ns.is_infinite() {
                sum = ns;
                c = nc;
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        if mean.is_infinite() {
            if f.is_infinite() && (mean > 0.0) == (f > 0.0) {
                continue;
            }
            if !f.is_infinite() && !f.is_nan() {
                continue;
            }
        }
        let corrected = mean + c;
        (mean, c) = kahan_sum_inc(f / count - corrected / count, mean, c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

/// `min_over_time` (NaN only if all values are NaN).
pub fn min(points: &[FPoint]) -> f64 {
    let mut m = points[0].f;
    for p in points {
        if p.f < m || m.is_nan() {
            m = p.f;
        }
    }
    m
}

/// `max_over_time` (NaN only if all values are NaN).
pub fn max(points: &[FPoint]) -> f64 {
    let mut m = points[0].f;
    for p in points {
        if p.f > m || m.is_nan() {
            m = p.f;
        }
    }
    m
}

/// Population variance with compensated incremental updates.
pub fn stdvar(points: &[FPoint]) -> f64 {
    stdvar_values(points.iter().map(|p| p.f))
}

/// Population variance of a sequence of floats.
pub fn stdvar_values(values: impl Iterator<Item = f64>) -> f64 {
    let (mut count, mut mean, mut cmean, mut aux, mut caux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for f in values {
        count += 1.0;
        let delta = f - (mean + cmean);
        (mean, cmean) = kahan_sum_inc(delta / count, mean, cmean);
        (aux, caux) = kahan_sum_inc(delta * (f - (mean + cmean)), aux, caux);
    }
    (aux + caux) / count
}

/// `stddev_over_time`.
pub fn stddev(points: &[FPoint]) -> f64 {
    stdvar(points).sqrt()
}

/// `quantile_over_time`.
pub fn quantile_of(q: f64, points: &[FPoint]) -> f64 {
    let mut v: Vec<f64> = points.iter().map(|p| p.f).collect();
    quantile(q, &mut v)
}

/// `mad_over_time`: median absolute deviation from the median.
pub fn mad(points: &[FPoint]) -> f64 {
    if points.iter().any(|p| p.f.is_nan()) {
        return f64::NAN;
    }
    let mut v: Vec<f64> = points.iter().map(|p| p.f).collect();
    let median = quantile(0.5, &mut v);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
    quantile(0.5, &mut dev)
}

/// `double_exponential_smoothing(v, sf, tf)`: Holt's linear smoothing; needs two points.
pub fn double_exponential_smoothing(points: &[FPoint], sf: f64, tf: f64) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let (mut s0, mut s1) = (0.0, points[0].f);
    let mut b = points[1].f - points[0].f;
    for (i, p) in points.iter().enumerate().skip(1) {
        let x = sf * p.f;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Some(s1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[f64]) -> Vec<FPoint> {
        v.iter()
            .enumerate()
            .map(|(i, &f)| FPoint { t: i as i64, f })
            .collect()
    }

    #[test]
    fn basic_aggregates() {
        let p = pts(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(sum(&p), 10.0);
        assert_eq!(avg(&p), 2.5);
        assert_eq!(min(&p), 1.0);
        assert_eq!(max(&p), 4.0);
        assert_eq!(stdvar(&p), 1.25);
        assert_eq!(mad(&p), 1.0);
    }

    #[test]
    fn avg_survives_overflow() {
        let p = pts(&[f64::MAX, f64::MAX]);
        assert_eq!(avg(&p), f64::MAX);
    }

    #[test]
    fn min_skips_leading_nan() {
        let p = pts(&[f64::NAN, 3.0, 1.0]);
        assert_eq!(min(&p), 1.0);
    }

    #[test]
    fn smoothing_of_a_line_is_the_line() {
        let p = pts(&[0.0, 1.0, 2.0, 3.0]);
        assert_eq!(double_exponential_smoothing(&p, 0.5, 0.5), Some(3.0));
    }
}
