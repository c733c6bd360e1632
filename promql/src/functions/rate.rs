//! Rates and derivatives over a window: `rate`, `increase`, `delta` (with
//! Prometheus's extrapolation), `irate`, `idelta`, `deriv`, `predict_linear`,
//! `resets`, `changes`.

use super::kahan_sum_inc;
use crate::value::FPoint;

/// `rate`/`increase`/`delta`: the change over the window `(range_start, range_end]`,
/// extrapolated towards the window edges. `is_counter` handles resets and the zero
/// point; `range_secs` divides for `rate` when `Some`. Needs at least two points.
pub fn extrapolated_rate(
    points: &[FPoint],
    range_start: i64,
    range_end: i64,
    is_counter: bool,
    range_secs: Option<f64>,
) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let n1 = points.len() - 1;
    let first = points[0];
    let last = points[n1];
    let mut result = last.f - first.f;
    if is_counter {
        let mut last_value = 0.0;
        for p in points {
            if p.f < last_value {
                result += last_value;
            }
            last_value = p.f;
        }
    }
    let mut to_start = (first.t - range_start) as f64 / 1000.0;
    let mut to_end = (range_end - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let avg = sampled / n1 as f64;
    let threshold = avg * 1.1;
    if to_start >= threshold {
        to_start = avg / 2.0;
    }
    if is_counter && result > 0.0 && first.f >= 0.0 {
        let to_zero = sampled * (first.f / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if let Some(r) = range_secs {
        factor /= r;
    }
    Some(result * factor)
}

/// `irate` (`is_rate`) and `idelta`: from the last two points of the window.
pub fn instant_value(points: &[FPoint], is_rate: bool) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let last = points[points.len() - 1];
    let prev = points[points.len() - 2];
    let mut v = if is_rate && last.f < prev.f {
        last.f
    } else {
        last.f - prev.f
    };
    let dt = last.t - prev.t;
    if dt == 0 {
        return None;
    }
    if is_rate {
        v /= dt as f64 / 1000.0;
    }
    Some(v)
}

/// Least-squares fit of value over time (seconds relative to `intercept_t`):
/// returns `(slope, intercept)`.
pub fn linear_regression(points: &[FPoint], intercept_t: i64) -> (f64, f64) {
    let (mut n, mut sx, mut cx, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sxy, mut cxy, mut sx2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = points[0].f;
    let mut const_y = true;
    for (i, p) in points.iter().enumerate() {
        if const_y && i > 0 && p.f != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - intercept_t) as f64 / 1e3;
        (sx, cx) = kahan_sum_inc(x, sx, cx);
        (sy, cy) = kahan_sum_inc(p.f, sy, cy);
        (sxy, cxy) = kahan_sum_inc(x * p.f, sxy, cxy);
        (sx2, cx2) = kahan_sum_inc(x * x, sx2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    let intercept = sy / n - slope * sx / n;
    (slope, intercept)
}

/// `deriv`: per-second slope of a linear fit; needs two points.
pub fn deriv(points: &[FPoint]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    Some(linear_regression(points, points[0].t).0)
}

/// `predict_linear`: the fitted value `duration_secs` after `now_ms`.
pub fn predict_linear(points: &[FPoint], now_ms: i64, duration_secs: f64) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(points, now_ms);
    Some(slope * duration_secs + intercept)
}

/// `resets`: how many times the value went down.
pub fn resets(points: &[FPoint]) -> f64 {
    points
        .windows(2)
        .filter(|w| float_reset(w[0].f, w[1].f))
        .count() as f64
}

/// `changes`: how many times the value changed (NaN to NaN is no change).
pub fn changes(points: &[FPoint]) -> f64 {
    points
        .windows(2)
        .filter(|w| float_change(w[0].f, w[1].f))
        .count() as f64
}

/// `resets`/`changes` over floats at times `ft` and histograms at times `ht` (each in
/// time order): merges them by time and counts the neighbouring pairs that `floats(a,
/// b)` or `hists(a, b)` (indices into the float or histogram side) call a hit. A float
/// next to a histogram is always a hit: a switch of kind is both a change and a reset.
pub fn count_transitions(
    ft: impl Iterator<Item = i64>,
    ht: impl Iterator<Item = i64>,
    mut floats: impl FnMut(usize, usize) -> bool,
    mut hists: impl FnMut(usize, usize) -> bool,
) -> f64 {
    // (time, is a histogram, index on its side)
    let mut all: Vec<(i64, bool, usize)> = ft
        .enumerate()
        .map(|(i, t)| (t, false, i))
        .chain(ht.enumerate().map(|(i, t)| (t, true, i)))
        .collect();
    all.sort_by_key(|x| x.0);
    let hits = all.windows(2).filter(|pair| {
        let (a, b) = (pair[0], pair[1]);
        match (a.1, b.1) {
            (false, false) => floats(a.2, b.2),
            (true, true) => hists(a.2, b.2),
            _ => true,
        }
    });
    hits.count() as f64
}

/// Whether `b` follows `a` with a lower value (a counter reset).
pub fn float_reset(a: f64, b: f64) -> bool {
    b < a
}

/// Whether `b` differs from `a` (NaN to NaN is no change).
pub fn float_change(a: f64, b: f64) -> bool {
    b != a && !(b.is_nan() && a.is_nan())
}

/// Whether sample `i` (> 0) starts a new counter lifetime according to its start
/// timestamp (see [`start_reset`]).
fn st_reset(points: &[FPoint], sts: &[i64], i: usize) -> bool {
    start_reset(sts[i - 1], points[i - 1].t, sts[i], points[i].t)
}

/// Whether a sample taken at `cur_t` whose counter started at `cur_st` begins a new
/// counter lifetime after the previous sample (taken at `prev_t`, started at
/// `prev_st`). A start timestamp of 0 is unknown; one at or after its own sample is
/// ignored. The counter was reset when it started after the previous sample, or
/// exactly at it while the previous sample itself had a known start (a delta-style
/// series; with an unknown previous start it is a cumulative series whose start was
/// not known).
pub fn start_reset(prev_st: i64, prev_t: i64, cur_st: i64, cur_t: i64) -> bool {
    let valid = |st: i64, t: i64| st != 0 && st < t;
    valid(cur_st, cur_t) && (cur_st > prev_t || (cur_st == prev_t && valid(prev_st, prev_t)))
}

/// Whether a window `(range_start, ..]` whose first sample, taken at `first_t`, started
/// at `st0` uses that start as a zero-valued point instead of extrapolating to the left.
pub fn zero_point(st0: i64, first_t: i64, range_start: i64) -> bool {
    st0 != 0 && st0 < first_t && st0 > range_start
}

/// The scale of a window's change when it starts from a zero point at `st0` (see
/// [`zero_point`]): the samples (`n`, first at `first_t`, last at `last_t`) are
/// extrapolated to the right only, and only when there are at least two of them.
pub fn zero_point_factor(st0: i64, first_t: i64, last_t: i64, n: usize, range_end: i64) -> f64 {
    if n < 2 {
        return 1.0;
    }
    let sampled = (last_t - st0) as f64 / 1000.0;
    let avg = (last_t - first_t) as f64 / 1000.0 / (n - 1) as f64;
    let mut to_end = (range_end - last_t) as f64 / 1000.0;
    if to_end >= avg * 1.1 {
        to_end = avg / 2.0;
    }
    (sampled + to_end) / sampled
}

/// `rate`/`increase` using start timestamps (`sts`, parallel to `points`, 0 = unknown;
/// empty when the series has none). A start timestamp after the previous sample marks a
/// counter reset; when the first sample started inside the window, the counter is taken
/// to be 0 at its start instead of extrapolating to the left.
pub fn extrapolated_rate_st(
    points: &[FPoint],
    sts: &[i64],
    range_start: i64,
    range_end: i64,
    range_secs: Option<f64>,
) -> Option<f64> {
    if sts.is_empty() {
        return extrapolated_rate(points, range_start, range_end, true, range_secs);
    }
    let n = points.len();
    let zero = n > 0 && zero_point(sts[0], points[0].t, range_start);
    if n < 2 && !zero {
        return None;
    }
    let first = points[0];
    let last = points[n - 1];
    let mut result = last.f - first.f;
    for i in 1..n {
        if points[i].f < points[i - 1].f || st_reset(points, sts, i) {
            result += points[i - 1].f;
        }
    }
    let mut factor = if zero {
        result += first.f;
        zero_point_factor(sts[0], first.t, last.t, n, range_end)
    } else {
        // Regular extrapolation, with resets already accounted for.
        counter_extrapolation(first.t, last.t, n, first.f, range_start, range_end, result)
    };
    if let Some(secs) = range_secs {
        factor /= secs;
    }
    Some(result * factor)
}

/// The extrapolation factor of [`extrapolated_rate`] for a counter window of `n` (at
/// least two) samples from `first_t` (value `first_v`) to `last_t`, given the
/// reset-corrected change `result`.
pub fn counter_extrapolation(
    first_t: i64,
    last_t: i64,
    n: usize,
    first_v: f64,
    range_start: i64,
    range_end: i64,
    result: f64,
) -> f64 {
    let mut to_start = (first_t - range_start) as f64 / 1000.0;
    let mut to_end = (range_end - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let avg = sampled / n.saturating_sub(1).max(1) as f64;
    if to_start >= avg * 1.1 {
        to_start = avg / 2.0;
    }
    if result > 0.0 && first_v >= 0.0 {
        let to_zero = sampled * (first_v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= avg * 1.1 {
        to_end = avg / 2.0;
    }
    (sampled + to_start + to_end) / sampled
}

/// `irate`/`idelta` using start timestamps: a start-timestamp reset counts like a drop.
pub fn instant_value_st(points: &[FPoint], sts: &[i64], is_rate: bool) -> Option<f64> {
    if sts.is_empty() || !is_rate || points.len() < 2 {
        return instant_value(points, is_rate);
    }
    let n = points.len();
    let (last, prev) = (points[n - 1], points[n - 2]);
    let v = if last.f < prev.f || st_reset(points, sts, n - 1) {
        last.f
    } else {
        last.f - prev.f
    };
    let dt = last.t - prev.t;
    if dt == 0 {
        return None;
    }
    Some(v / (dt as f64 / 1000.0))
}

/// `resets` using start timestamps.
pub fn resets_st(points: &[FPoint], sts: &[i64]) -> f64 {
    if sts.is_empty() {
        return resets(points);
    }
    (1..points.len())
        .filter(|&i| points[i].f < points[i - 1].f || st_reset(points, sts, i))
        .count() as f64
}

/// Whether some sample claims to have started before the previous sample was taken
/// while not sharing its start (overlapping counter lifetimes).
pub fn start_overlaps(points: &[FPoint], sts: &[i64]) -> bool {
    !sts.is_empty()
        && (1..points.len())
            .any(|i| sts[i] != 0 && sts[i] < points[i - 1].t && sts[i] != sts[i - 1])
}

/// Linear interpolation of the value at `t` between `a` and `b`. For counters, a drop
/// from `a` to `b` is a reset, so the line runs from 0 (at `a.t`) to `b`.
pub fn interpolate(a: FPoint, b: FPoint, t: i64, counter: bool) -> f64 {
    if b.t == a.t {
        return b.f;
    }
    let frac = (t - a.t) as f64 / (b.t - a.t) as f64;
    if counter && b.f < a.f {
        b.f * frac
    } else {
        a.f + (b.f - a.f) * frac
    }
}

/// `anchored` points for the window `(start, end]`: the last point at or before `start`
/// (no older than `lookback`) moved to `start`, then the window's points. `None` when the
/// window itself holds no point.
pub fn anchored_points(all: &[FPoint], start: i64, end: i64, lookback: i64) -> Option<Vec<FPoint>> {
    let lo = all.partition_point(|p| p.t <= start);
    let hi = all.partition_point(|p| p.t <= end);
    if lo >= hi {
        return None;
    }
    let mut out = Vec::with_capacity(hi - lo + 1);
    if lo > 0 && all[lo - 1].t > start - lookback {
        out.push(FPoint {
            t: start,
            f: all[lo - 1].f,
        });
    }
    out.extend_from_slice(&all[lo..hi]);
    Some(out)
}

/// `smoothed` points for the window `(start, end]`: values interpolated at `start` and
/// `end` from the neighbouring points (up to `lookback` away), with the points strictly
/// inside the window between them. `None` when all data lies before or after the window.
pub fn smoothed_points(
    all: &[FPoint],
    start: i64,
    end: i64,
    lookback: i64,
    counter: bool,
) -> Option<Vec<FPoint>> {
    let lo = all.partition_point(|p| p.t <= start);
    let hi = all.partition_point(|p| p.t <= end);
    let prev_start = (lo > 0 && all[lo - 1].t > start - lookback).then(|| all[lo - 1]);
    let next_start = all.get(lo).copied().filter(|p| p.t <= end + lookback)?;
    let first = match prev_start {
        Some(p) => FPoint {
            t: start,
            f: interpolate(p, next_start, start, counter),
        },
        None if next_start.t <= end => FPoint {
            t: start,
            f: next_start.f,
        },
        None => return None,
    };
    let prev_end = if hi > 0 { Some(all[hi - 1]) } else { None }?;
    let last = match all.get(hi).copied().filter(|p| p.t <= end + lookback) {
        Some(n) => FPoint {
            t: end,
            f: interpolate(prev_end, n, end, counter),
        },
        None => FPoint {
            t: end,
            f: prev_end.f,
        },
    };
    let mut out = Vec::with_capacity(hi.saturating_sub(lo) + 2);
    out.push(first);
    out.extend(all[lo..hi].iter().filter(|p| p.t < end).copied());
    out.push(last);
    Some(out)
}

/// The change from the first to the last point, adding back counter resets for counters.
pub fn boundary_increase(points: &[FPoint], counter: bool) -> f64 {
    let mut r = points[points.len() - 1].f - points[0].f;
    if counter {
        for w in points.windows(2) {
            if w[1].f < w[0].f {
                r += w[0].f;
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(i64, f64)]) -> Vec<FPoint> {
        v.iter().map(|&(t, f)| FPoint { t, f }).collect()
    }

    #[test]
    fn rate_of_steady_counter() {
        // 0,10,...,50 every 60s; window (0, 300s] holds 60..300.
        let p = pts(&[
            (60_000, 10.0),
            (120_000, 20.0),
            (180_000, 30.0),
            (240_000, 40.0),
            (300_000, 50.0),
        ]);
        let r = extrapolated_rate(&p, 0, 300_000, true, Some(300.0)).unwrap();
        assert!((r - 1.0 / 6.0).abs() < 1e-12, "{r}");
    }

    #[test]
    fn counter_reset_is_added() {
        let p = pts(&[(0, 5.0), (10_000, 1.0)]);
        let inc = extrapolated_rate(&p, 0, 10_000, true, None).unwrap();
        assert_eq!(inc, 1.0);
    }

    #[test]
    fn deriv_slope() {
        let p = pts(&[(0, 0.0), (1000, 2.0), (2000, 4.0)]);
        assert_eq!(deriv(&p), Some(2.0));
        assert_eq!(predict_linear(&p, 2000, 1.0), Some(6.0));
    }

    #[test]
    fn changes_and_resets() {
        let p = pts(&[
            (0, 1.0),
            (1, 2.0),
            (2, 2.0),
            (3, 0.0),
            (4, f64::NAN),
            (5, f64::NAN),
        ]);
        assert_eq!(changes(&p), 3.0);
        assert_eq!(resets(&p), 1.0);
    }

    #[test]
    fn start_reset_cases() {
        // Started after the previous sample: a reset.
        assert!(start_reset(0, 60_000, 90_000, 120_000));
        // Unknown, or at/after its own sample: ignored.
        assert!(!start_reset(0, 60_000, 0, 120_000));
        assert!(!start_reset(0, 60_000, 120_000, 120_000));
        // Started before the previous sample: the same lifetime.
        assert!(!start_reset(0, 60_000, 30_000, 120_000));
        // Exactly at the previous sample: a delta series only when that one had a start.
        assert!(start_reset(1, 60_000, 60_000, 120_000));
        assert!(!start_reset(0, 60_000, 60_000, 120_000));
        assert!(!start_reset(60_000, 60_000, 60_000, 120_000));
        assert!(!start_reset(90_000, 60_000, 60_000, 120_000));
    }

    #[test]
    fn zero_point_scaling() {
        // The first sample started inside the window.
        assert!(zero_point(30_000, 60_000, 0));
        assert!(!zero_point(0, 60_000, 0));
        assert!(!zero_point(30_000, 60_000, 30_000));
        // One sample: no extrapolation at all.
        assert_eq!(zero_point_factor(30_000, 60_000, 60_000, 1, 300_000), 1.0);
        // 60s..120s sampled from 30s: 90s sampled, 60s average, 30s to the end.
        let f = zero_point_factor(30_000, 60_000, 120_000, 2, 150_000);
        assert!((f - 120.0 / 90.0).abs() < 1e-12, "{f}");
    }

    #[test]
    fn rate_with_start_timestamps() {
        // Two samples of a delta series: each starts at the previous sample.
        let p = pts(&[(60_000, 60.0), (120_000, 60.0)]);
        // The first one started inside the window: counted from zero, no extrapolation.
        let inc = extrapolated_rate_st(&p, &[1, 60_000], 0, 120_000, None).unwrap();
        assert!((inc - 120.0).abs() < 1e-9, "{inc}");
        // It started before the window: the reset is added, then extrapolated 20s left.
        let inc = extrapolated_rate_st(&p, &[30_000, 60_000], 40_000, 120_000, None).unwrap();
        assert!((inc - 80.0).abs() < 1e-9, "{inc}");
        // A single sample that started inside the window counts from zero.
        let one = pts(&[(60_000, 6.0)]);
        assert_eq!(
            extrapolated_rate_st(&one, &[30_000], 0, 120_000, None),
            Some(6.0)
        );
    }
}
