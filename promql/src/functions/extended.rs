//! What do the `anchored` and `smoothed` range selectors give when a window holds native
//! histograms (alone, or mixed with floats)?
//!
//! The float-only paths are in [`super::rate`] (`anchored_points`, `smoothed_points`,
//! `boundary_increase`); this module sequences the histogram ones the way Prometheus 3.x
//! does:
//!
//! - `rate`/`increase`/`delta` take the histogram at the left boundary (the last sample
//!   at or before the range start, interpolated to the start when `smoothed`) and at the
//!   right boundary (the last sample, interpolated to the end when `smoothed`), subtract,
//!   and for counters add back what was there before every reset in between.
//! - `resets`/`changes` (`anchored` only) walk floats and histograms in time order from
//!   the anchor (the latest sample of either kind at or before the range start); a switch
//!   between a float and a histogram counts as both a reset and a change.
//! - a `smoothed` instant selector interpolates between the samples around each step.
//!
//! All bucket math is [`exposition::histogram::FloatHistogram`]'s; what could not be
//! combined is reported as an [`ExtNote`].

use super::native::HistNote;
use super::rate;
use crate::value::{is_stale_nan, FPoint, HPoint};
use exposition::histogram::{CounterResetHint, FloatHistogram};

/// A condition an extended-range function reports (the engine turns it into an
/// annotation naming the metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExtNote {
    /// A histogram condition (not a counter, not a gauge, mixed bucket kinds).
    Hist(HistNote),
    /// Custom buckets with different bounds were reconciled during the named operation
    /// (`"subtraction"` or `"addition"`).
    Reconciled(&'static str),
    /// The window mixes floats and histograms.
    MixedFloatsHistograms,
}

/// The function an extended range feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtFunc {
    /// Per-second change of a counter.
    Rate,
    /// Change of a counter.
    Increase,
    /// Change of a gauge.
    Delta,
    /// Number of value changes.
    Changes,
    /// Number of counter resets.
    Resets,
}

impl ExtFunc {
    /// The function called `name`, if it accepts an extended range.
    pub fn from_name(name: &str) -> Option<ExtFunc> {
        Some(match name {
            "rate" => ExtFunc::Rate,
            "increase" => ExtFunc::Increase,
            "delta" => ExtFunc::Delta,
            "changes" => ExtFunc::Changes,
            "resets" => ExtFunc::Resets,
            _ => return None,
        })
    }

    /// Whether the function treats its input as a counter.
    pub fn is_counter(self) -> bool {
        matches!(self, ExtFunc::Rate | ExtFunc::Increase)
    }
}

/// One step's window for an extended range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtWindow {
    /// Start of the range (exclusive).
    pub start: i64,
    /// End of the range (inclusive).
    pub end: i64,
    /// How far outside the range a boundary sample may lie (the lookback delta).
    pub lookback: i64,
    /// `smoothed` (interpolate at both ends) rather than `anchored`.
    pub smoothed: bool,
}

impl ExtWindow {
    /// The points the window may use: those after `start - lookback` and up to `end`
    /// (`end + lookback` when smoothed).
    fn points<'a, T>(&self, pts: &'a [T], t: impl Fn(&T) -> i64) -> &'a [T] {
        let lo = self.start.saturating_sub(self.lookback);
        let hi = if self.smoothed {
            self.end.saturating_add(self.lookback)
        } else {
            self.end
        };
        between(pts, lo, hi, t)
    }
}

/// What one step of an extended range function gives.
#[derive(Debug, Clone, PartialEq)]
pub enum ExtValue {
    /// A float.
    F(f64),
    /// A histogram.
    H(FloatHistogram),
}

impl ExtValue {
    /// Appends the value at time `t` to the float or the histogram points of a series.
    pub fn push_to(self, t: i64, floats: &mut Vec<FPoint>, hists: &mut Vec<HPoint>) {
        match self {
            ExtValue::F(f) => floats.push(FPoint { t, f }),
            ExtValue::H(h) => hists.push(HPoint {
                t,
                h: std::sync::Arc::new(h),
            }),
        }
    }
}

/// One step of `func` over a series' points (`floats` and `hists`, each in time order)
/// seen through window `w`; `range_secs` divides for `rate`. `None` when the step has
/// no result (no data in the range, or data that cannot be combined, with a note).
pub fn extended_step(
    func: ExtFunc,
    floats: &[FPoint],
    hists: &[HPoint],
    w: ExtWindow,
    range_secs: f64,
    notes: &mut Vec<ExtNote>,
) -> Option<ExtValue> {
    let (f, h) = (w.points(floats, |p| p.t), w.points(hists, |p| p.t));
    if matches!(func, ExtFunc::Changes | ExtFunc::Resets) {
        if h.is_empty() {
            let pts = float_points(floats, w, false)?;
            return Some(ExtValue::F(if func == ExtFunc::Resets {
                rate::resets(&pts)
            } else {
                rate::changes(&pts)
            }));
        }
        return anchored_transitions(f, h, w.start, func == ExtFunc::Resets).map(ExtValue::F);
    }
    if !f.is_empty() && !h.is_empty() {
        notes.push(ExtNote::MixedFloatsHistograms);
        return None;
    }
    let counter = func.is_counter();
    if h.is_empty() {
        let pts = float_points(floats, w, counter)?;
        let inc = rate::boundary_increase(&pts, counter);
        return Some(ExtValue::F(if func == ExtFunc::Rate {
            inc / range_secs
        } else {
            inc
        }));
    }
    let secs = (func == ExtFunc::Rate).then_some(range_secs);
    histogram_change(h, w, counter, secs, notes).map(ExtValue::H)
}

/// The boundary-extended float points of [`rate::anchored_points`] or
/// [`rate::smoothed_points`].
fn float_points(floats: &[FPoint], w: ExtWindow, counter: bool) -> Option<Vec<FPoint>> {
    if w.smoothed {
        rate::smoothed_points(floats, w.start, w.end, w.lookback, counter)
    } else {
        rate::anchored_points(floats, w.start, w.end, w.lookback)
    }
}

/// `a - b` (`negate`) or `a + b` in place, noting reconciled custom bounds; `false` (with
/// a note) when exponential and custom buckets meet.
fn combine(
    a: &mut FloatHistogram,
    b: &FloatHistogram,
    negate: bool,
    notes: &mut Vec<ExtNote>,
) -> bool {
    let r = if negate { a.sub(b) } else { a.add(b) };
    match r {
        Ok(o) => {
            if o.nhcb_bounds_reconciled {
                notes.push(ExtNote::Reconciled(if negate {
                    "subtraction"
                } else {
                    "addition"
                }));
            }
            true
        }
        Err(_) => {
            notes.push(ExtNote::Hist(HistNote::MixedExpCustom));
            false
        }
    }
}

/// The histogram at `t` on the line from `a` to `b`. For counters, a reset between them
/// makes the line start from zero (at `a.t`), so the result is `b` scaled by the elapsed
/// fraction (keeping `b`'s counter-reset hint). `None` (with a note) when the two cannot
/// be combined.
pub fn interpolate_histogram(
    a: &HPoint,
    b: &HPoint,
    t: i64,
    counter: bool,
    notes: &mut Vec<ExtNote>,
) -> Option<FloatHistogram> {
    if t == a.t {
        return Some((*a.h).clone());
    }
    if t == b.t || b.t == a.t {
        return Some((*b.h).clone());
    }
    let fraction = t.saturating_sub(a.t) as f64 / b.t.saturating_sub(a.t) as f64;
    let mut r = (*b.h).clone();
    if counter && b.h.detect_reset(&a.h) {
        r.mul(fraction);
        return Some(r);
    }
    if !combine(&mut r, &a.h, true, notes) {
        return None;
    }
    r.mul(fraction);
    combine(&mut r, &a.h, false, notes).then_some(r)
}

/// `rate`/`increase`/`delta` over the histograms `h` of one step's window (those after
/// `start - lookback`, up to the window's end): right boundary minus left boundary, plus
/// for counters what was there before each reset in between; divided by `range_secs`
/// when given. The result is a compacted gauge histogram.
pub fn histogram_change(
    h: &[HPoint],
    w: ExtWindow,
    counter: bool,
    range_secs: Option<f64>,
    notes: &mut Vec<ExtNote>,
) -> Option<FloatHistogram> {
    let n = h.len();
    if n == 0 {
        return None;
    }
    let mut last = n - 1;
    // The left boundary: the last sample at or before the start (or the first one).
    let first = h[..last]
        .partition_point(|p| p.t <= w.start)
        .saturating_sub(1);
    if w.smoothed {
        // The right boundary: the first sample at or after the end (or the last one).
        last = h[..last].partition_point(|p| p.t < w.end);
    }
    if h[last].t <= w.start || first > last || (w.smoothed && h[first].t > w.end) {
        return None;
    }
    let custom = h[first].h.uses_custom_buckets();
    for p in &h[first..=last] {
        if p.h.uses_custom_buckets() != custom {
            notes.push(ExtNote::Hist(HistNote::MixedExpCustom));
            return None;
        }
        if counter && p.h.counter_reset_hint == CounterResetHint::Gauge {
            notes.push(ExtNote::Hist(HistNote::NotCounter));
        }
    }
    let left = if w.smoothed && h[first].t < w.start {
        interpolate_histogram(&h[first], h.get(first + 1)?, w.start, counter, notes)?
    } else {
        (*h[first].h).clone()
    };
    let right = if w.smoothed && last > 0 && h[last].t > w.end {
        interpolate_histogram(&h[last - 1], &h[last], w.end, counter, notes)?
    } else {
        (*h[last].h).clone()
    };
    let gauge = CounterResetHint::Gauge;
    if !counter && (left.counter_reset_hint != gauge || right.counter_reset_hint != gauge) {
        notes.push(ExtNote::Hist(HistNote::NotGauge));
    }
    let mut res = right.clone();
    if !combine(&mut res, &left, true, notes) {
        return None;
    }
    if counter {
        if let Some(c) = reset_correction(h, first, last, &left, &right, w, notes)? {
            if !combine(&mut res, &c, false, notes) {
                return None;
            }
        }
    }
    if let Some(secs) = range_secs {
        res.div(secs);
    }
    res.counter_reset_hint = gauge;
    res.compact(0);
    Some(res)
}

/// What to add back for the counter resets between the boundaries `left` (standing for
/// `h[first]`) and `right` (standing for `h[last]`): the value before each reset. A
/// smoothed left boundary interpolated across a reset already accounts for it. The outer
/// `None` means the correction could not be summed (with a note).
fn reset_correction(
    h: &[HPoint],
    first: usize,
    last: usize,
    left: &FloatHistogram,
    right: &FloatHistogram,
    w: ExtWindow,
    notes: &mut Vec<ExtNote>,
) -> Option<Option<FloatHistogram>> {
    let mut from = first + 1;
    let mut prev: &FloatHistogram = left;
    if w.smoothed && h[first].t < w.start {
        if let Some(next) = h.get(first + 1) {
            if next.h.detect_reset(&h[first].h) {
                prev = &next.h;
                from += 1;
            }
        }
    }
    // `h[last]` is `right` itself (or what it was interpolated towards), so it is left
    // out: its own reset hint must not be counted against itself.
    if from > last {
        return Some(None);
    }
    let mut corr: Option<FloatHistogram> = None;
    let mut add = |c: &FloatHistogram, notes: &mut Vec<ExtNote>| match corr.as_mut() {
        None => {
            corr = Some(c.clone());
            true
        }
        Some(acc) => combine(acc, c, false, notes),
    };
    for p in &h[from..last] {
        if p.h.detect_reset(prev) && !add(prev, notes) {
            return None;
        }
        prev = &p.h;
    }
    if right.detect_reset(prev) && !add(prev, notes) {
        return None;
    }
    Some(corr)
}

/// `resets` (`is_resets`) or `changes` over an anchored window holding floats `f` and
/// histograms `h` (each after `start - lookback`, up to the end): from the anchor (the
/// latest sample of either kind at or before `start`) on, in time order. A switch
/// between a float and a histogram counts as both. `None` when no sample lies after
/// `start`.
pub fn anchored_transitions(
    f: &[FPoint],
    h: &[HPoint],
    start: i64,
    is_resets: bool,
) -> Option<f64> {
    let lf = f.partition_point(|p| p.t <= start);
    let lh = h.partition_point(|p| p.t <= start);
    if lf >= f.len() && lh >= h.len() {
        return None;
    }
    let (ff, hf) = match (lf, lh) {
        (0, 0) => (0, 0),
        (_, 0) => (lf - 1, 0),
        (0, _) => (0, lh - 1),
        _ if f[lf - 1].t >= h[lh - 1].t => (lf - 1, lh),
        _ => (lf, lh - 1),
    };
    let (f, h) = (&f[ff..], &h[hf..]);
    Some(rate::count_transitions(
        f.iter().map(|p| p.t),
        h.iter().map(|p| p.t),
        |a, b| {
            if is_resets {
                rate::float_reset(f[a].f, f[b].f)
            } else {
                rate::float_change(f[a].f, f[b].f)
            }
        },
        |a, b| {
            if is_resets {
                h[b].h.detect_reset(&h[a].h)
            } else {
                !h[a].h.equals(&h[b].h)
            }
        },
    ))
}

/// The points of `pts` (in time order) with `lo < t <= hi`.
fn between<T>(pts: &[T], lo: i64, hi: i64, t: impl Fn(&T) -> i64) -> &[T] {
    let a = pts.partition_point(|p| t(p) <= lo);
    let b = pts.partition_point(|p| t(p) <= hi).max(a);
    &pts[a..b]
}

/// The value a `smoothed` instant selector gives at `t` for a series with floats `f` and
/// histograms `h` (each in time order, staleness markers included): the last sample at
/// or before `t` (no older than `lookback`), interpolated towards the next one (no
/// further than `lookback` ahead) when both are live. Histograms interpolate as
/// counters unless either is a gauge histogram. `None` (with a note) when the lookback
/// window on either side mixes floats and histograms, or when exponential and custom
/// buckets would have to be interpolated.
pub fn smoothed_value(
    f: &[FPoint],
    h: &[HPoint],
    t: i64,
    lookback: i64,
    notes: &mut Vec<ExtNote>,
) -> Option<ExtValue> {
    let (lo, hi) = (t.saturating_sub(lookback), t.saturating_add(lookback));
    let fw = between(f, lo, hi, |p| p.t);
    let hw = between(h, lo, hi, |p| p.t);
    let any_f = fw.iter().any(|p| !is_stale_nan(p.f));
    let any_h = hw.iter().any(|p| !is_stale_nan(p.h.sum));
    if any_f && any_h {
        notes.push(ExtNote::MixedFloatsHistograms);
        return None;
    }
    if !any_h {
        let k = f.partition_point(|p| p.t <= t);
        let prev = *f.get(k.checked_sub(1)?)?;
        if prev.t <= lo || is_stale_nan(prev.f) {
            return None;
        }
        return Some(ExtValue::F(match f.get(k) {
            Some(&n) if n.t <= hi && !is_stale_nan(n.f) && prev.t != t => {
                rate::interpolate(prev, n, t, false)
            }
            _ => prev.f,
        }));
    }
    let k = h.partition_point(|p| p.t <= t);
    let prev = h.get(k.checked_sub(1)?)?;
    if prev.t <= lo || is_stale_nan(prev.h.sum) {
        return None;
    }
    match h.get(k) {
        Some(n) if n.t <= hi && !is_stale_nan(n.h.sum) && prev.t != t => {
            if n.h.uses_custom_buckets() != prev.h.uses_custom_buckets() {
                notes.push(ExtNote::Hist(HistNote::MixedExpCustom));
                return None;
            }
            let gauge = CounterResetHint::Gauge;
            let counter = prev.h.counter_reset_hint != gauge && n.h.counter_reset_hint != gauge;
            interpolate_histogram(prev, n, t, counter, notes).map(ExtValue::H)
        }
        _ => Some(ExtValue::H((*prev.h).clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn hp(t: i64, text: &str) -> HPoint {
        HPoint {
            t,
            h: Arc::new(FloatHistogram::parse_notation(text).unwrap()),
        }
    }

    fn counts(v: &[(i64, f64)], hint: &str) -> Vec<HPoint> {
        v.iter()
            .map(|&(t, c)| hp(t, &format!("{{{{count:{c} sum:{c} buckets:[{c}]{hint}}}}}")))
            .collect()
    }

    fn win(start: i64, end: i64, smoothed: bool) -> ExtWindow {
        ExtWindow {
            start,
            end,
            lookback: 300_000,
            smoothed,
        }
    }

    #[test]
    fn interpolation_is_linear_or_restarts_after_a_reset() {
        let a = hp(0, "{{count:10 sum:10 buckets:[10]}}");
        let b = hp(10_000, "{{count:20 sum:20 buckets:[20]}}");
        let mut notes = Vec::new();
        let m = interpolate_histogram(&a, &b, 2_500, true, &mut notes).unwrap();
        assert_eq!(m.count, 12.5);
        let r = hp(10_000, "{{count:4 sum:4 buckets:[4]}}");
        let m = interpolate_histogram(&a, &r, 2_500, true, &mut notes).unwrap();
        assert_eq!(m.count, 1.0);
        // As a gauge the drop is interpolated.
        let m = interpolate_histogram(&a, &r, 5_000, false, &mut notes).unwrap();
        assert_eq!(m.count, 7.0);
        assert!(notes.is_empty());
    }

    #[test]
    fn anchored_increase_adds_back_resets_once() {
        // 5, 10, 3 (reset): 3 - 5 + 10.
        let h = counts(&[(0, 5.0), (30_000, 10.0), (60_000, 3.0)], "");
        let mut notes = Vec::new();
        let r = histogram_change(&h, win(0, 70_000, false), true, None, &mut notes).unwrap();
        assert_eq!(r.count, 8.0);
        assert_eq!(r.counter_reset_hint, CounterResetHint::Gauge);
        // As a gauge: plain difference, and a warning that these are not gauges.
        let r = histogram_change(&h, win(0, 70_000, false), false, None, &mut notes).unwrap();
        assert_eq!(r.count, -2.0);
        assert_eq!(notes, vec![ExtNote::Hist(HistNote::NotGauge)]);
    }

    #[test]
    fn smoothed_left_boundary_across_a_reset_is_not_counted_twice() {
        // 10, then 5 (reset): both boundaries interpolate on the reset segment.
        let h = vec![
            hp(0, "{{count:10 sum:10 buckets:[10]}}"),
            hp(
                20_000,
                "{{count:5 sum:5 buckets:[5] counter_reset_hint:reset}}",
            ),
        ];
        let mut notes = Vec::new();
        let r = histogram_change(&h, win(5_000, 15_000, true), true, Some(10.0), &mut notes);
        assert_eq!(r.unwrap().count, 0.25);
    }

    #[test]
    fn mixed_bucket_kinds_give_no_result() {
        let h = vec![
            hp(0, "{{count:1 sum:1 buckets:[1]}}"),
            hp(
                30_000,
                "{{schema:-53 count:1 sum:1 custom_values:[5 10] buckets:[1]}}",
            ),
        ];
        let mut notes = Vec::new();
        assert!(histogram_change(&h, win(0, 60_000, false), true, None, &mut notes).is_none());
        assert_eq!(notes, vec![ExtNote::Hist(HistNote::MixedExpCustom)]);
    }

    #[test]
    fn rate_window_mixing_floats_and_histograms_is_dropped() {
        let f = vec![FPoint { t: 10_000, f: 1.0 }];
        let h = counts(&[(20_000, 2.0)], "");
        let mut notes = Vec::new();
        let w = win(0, 30_000, false);
        assert!(extended_step(ExtFunc::Rate, &f, &h, w, 30.0, &mut notes).is_none());
        assert_eq!(notes, vec![ExtNote::MixedFloatsHistograms]);
    }

    #[test]
    fn anchored_transitions_start_at_the_latest_anchor_of_either_kind() {
        // Histograms at 0 and 10s precede the float anchor at 20s and are skipped.
        let h = counts(&[(0, 1.0), (10_000, 2.0)], "");
        let f = vec![FPoint { t: 20_000, f: 5.0 }, FPoint { t: 30_000, f: 2.0 }];
        assert_eq!(anchored_transitions(&f, &h, 20_000, true), Some(1.0));
        // A float followed by a histogram is a reset and a change.
        let h = counts(&[(30_000, 1.0)], "");
        let f = vec![FPoint { t: 20_000, f: 5.0 }];
        assert_eq!(anchored_transitions(&f, &h, 20_000, true), Some(1.0));
        assert_eq!(anchored_transitions(&f, &h, 20_000, false), Some(1.0));
        // Nothing after the start: no result.
        assert_eq!(anchored_transitions(&f, &[], 20_000, false), None);
    }

    #[test]
    fn between_is_left_open_and_empty_for_inverted_bounds() {
        let f: Vec<FPoint> = (0..5).map(|i| FPoint { t: i * 10, f: 0.0 }).collect();
        let ts: Vec<i64> = between(&f, 10, 30, |p| p.t).iter().map(|p| p.t).collect();
        assert_eq!(ts, vec![20, 30]);
        assert!(between(&f, 30, 10, |p| p.t).is_empty());
    }

    #[test]
    fn smoothed_value_interpolates_histograms_and_refuses_mixes() {
        let h = counts(&[(0, 1.0), (15_000, 2.0)], "");
        let mut notes = Vec::new();
        match smoothed_value(&[], &h, 7_500, 300_000, &mut notes) {
            Some(ExtValue::H(x)) => assert_eq!(x.count, 1.5),
            other => panic!("unexpected {other:?}"),
        }
        let f = vec![FPoint { t: 5_000, f: 1.0 }];
        assert!(smoothed_value(&f, &h, 7_500, 300_000, &mut notes).is_none());
        assert_eq!(notes, vec![ExtNote::MixedFloatsHistograms]);
    }
}
