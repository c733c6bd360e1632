//! Start timestamps (the time a counter started, OpenTelemetry's start time, the
//! "created timestamp"): the `start_timestamp()` function, and how `rate`, `increase`,
//! `irate` and `resets` use them on native-histogram windows.
//!
//! Start timestamps only come with samples read straight from storage by a selector;
//! expressions and subqueries cut them off.

use super::call::{hist_note, Win};
use super::error::EngineError;
use super::eval::{Ev, Val};
use super::AnnotationKind;
use crate::ast::{Call, Expr, VectorSelector};
use crate::functions::{native, rate};
use crate::storage::{SampleValue, SelectHints};
use crate::value::{is_stale_nan, FPoint, HPoint, Series};
use exposition::histogram::{CounterResetHint, FloatHistogram};
use std::sync::Arc;

impl Ev<'_> {
    /// `start_timestamp(v)`: for a plain instant selector, the start timestamp (in
    /// seconds) of the sample each step selects, 0 when unknown. Any other argument has
    /// no start timestamps, so the result is empty.
    pub(super) fn start_timestamp_fn(&mut self, c: &Call) -> Result<Val, EngineError> {
        let arg = &c.args[0];
        match arg.unparen() {
            Expr::VectorSelector(vs) if !vs.smoothed => {
                let mut v = self.start_timestamp_selector(vs)?;
                for s in &mut v {
                    self.drop_name(s);
                }
                Ok(Val::Vector(v))
            }
            _ => {
                // Evaluated for its errors and annotations only.
                self.vector_arg(arg)?;
                Ok(Val::Vector(Vec::new()))
            }
        }
    }

    /// The instant-selector walk of [`Ev::eval_vector_selector`], keeping each
    /// selected sample's start timestamp instead of its value.
    fn start_timestamp_selector(
        &mut self,
        vs: &VectorSelector,
    ) -> Result<Vec<Series>, EngineError> {
        let n = self.nsteps();
        if n == 0 {
            return Ok(Vec::new());
        }
        let at = self.at_time(vs.at);
        let off = vs.offset;
        let lb = self.opts.lookback_delta_ms;
        let (r0, r1) = match at {
            Some(a) => (a.saturating_sub(off), a.saturating_sub(off)),
            None => (self.start.saturating_sub(off), self.end.saturating_sub(off)),
        };
        let mint = r0.saturating_sub(lb).saturating_add(1);
        let q = self.storage.querier(mint, r1)?;
        let hints = SelectHints {
            start: mint,
            end: r1,
            step: self.interval,
            range: 0,
        };
        let set = q.select(&hints, &vs.matchers)?;
        let mut out = Vec::new();
        for s in set {
            self.check_cancel()?;
            let mut it = s.iter();
            // (time, stale, start timestamp) of the latest sample read so far.
            let mut prev: Option<(i64, bool, i64)> = None;
            let read = |it: &mut Box<dyn crate::storage::SampleIterator + '_>| {
                it.next_value().map(|(t, v)| {
                    let stale = match v {
                        SampleValue::Float(f) => is_stale_nan(f),
                        SampleValue::Histogram(h) => is_stale_nan(h.sum),
                    };
                    (t, stale, it.start_timestamp())
                })
            };
            let mut peek = read(&mut it);
            let mut pts = Vec::new();
            for i in 0..n {
                self.tick()?;
                let ts = self.ts(i);
                let r = at.unwrap_or(ts).saturating_sub(off);
                while let Some(p) = peek {
                    if p.0 > r {
                        break;
                    }
                    prev = Some(p);
                    peek = read(&mut it);
                }
                if let Some((t, false, st)) = prev {
                    if t > r.saturating_sub(lb) {
                        self.hold(1)?;
                        pts.push(FPoint {
                            t: ts,
                            f: st as f64 / 1000.0,
                        });
                    }
                }
            }
            if !pts.is_empty() {
                out.push(Series::from_floats(s.labels().clone(), pts, false));
            }
        }
        Ok(out)
    }
}

/// Whether histogram sample `i` (> 0) of a window restarted its counter according to
/// the start timestamps `hsts` (parallel to `h`, empty when unknown).
fn hist_st_reset(h: &[HPoint], hsts: &[i64], i: usize) -> bool {
    hsts.len() == h.len() && rate::start_reset(hsts[i - 1], h[i - 1].t, hsts[i], h[i].t)
}

/// Whether the last two histograms of the window are separated by a start-timestamp
/// counter reset (for `irate`).
pub(super) fn last_hist_st_reset(w: &Win<'_>) -> bool {
    w.h.len() >= 2 && hist_st_reset(w.h, w.hsts, w.h.len() - 1)
}

/// Whether histogram sample `i` (> 0) is a counter reset for `resets`: by its start
/// timestamp or by its buckets.
pub(super) fn hist_is_reset(w: &Win<'_>, i: usize) -> bool {
    hist_st_reset(w.h, w.hsts, i) || w.h[i].h.detect_reset(&w.h[i - 1].h)
}

/// Whether some histogram sample claims to have started before the previous sample was
/// taken while not sharing its start (overlapping counter lifetimes).
pub(super) fn hist_overlaps(h: &[HPoint], hsts: &[i64]) -> bool {
    hsts.len() == h.len()
        && (1..h.len()).any(|i| hsts[i] != 0 && hsts[i] < h[i - 1].t && hsts[i] != hsts[i - 1])
}

/// `rate`/`increase` of the histograms of a counter window whose samples carry start
/// timestamps: start-timestamp resets are added back like detected ones, and when the
/// first sample started inside the window the counter is taken to be zero at its start
/// (so even a single sample has an increase) instead of extrapolating to the left.
pub(super) fn hist_rate_st(
    w: &Win<'_>,
    range_secs: Option<f64>,
    notes: &mut Vec<(AnnotationKind, String)>,
) -> Option<Arc<FloatHistogram>> {
    let n = w.h.len();
    if n == 0 {
        return None;
    }
    let (first, last) = (&w.h[0], &w.h[n - 1]);
    let zero = w.hsts.len() == n && rate::zero_point(w.hsts[0], first.t, w.lo);
    let mut res = if n > 1 {
        let pts: Vec<(i64, &FloatHistogram)> = w.h.iter().map(|p| (p.t, &*p.h)).collect();
        let mut hn = Vec::new();
        let res = native::histogram_delta_st(&pts, w.hsts, true, &mut hn);
        for note in hn {
            notes.push(hist_note(note, w.name, "subtraction"));
        }
        Some(res?)
    } else {
        None
    };
    let factor = if zero {
        match &mut res {
            None => res = Some((*first.h).clone()),
            Some(r) => match r.add(&first.h) {
                Ok(o) => {
                    if o.nhcb_bounds_reconciled {
                        notes.push(hist_note(
                            native::HistNote::ReconciledCustom,
                            w.name,
                            "addition",
                        ));
                    }
                }
                Err(_) => {
                    notes.push(hist_note(native::HistNote::MixedExpCustom, w.name, ""));
                    return None;
                }
            },
        }
        rate::zero_point_factor(w.hsts[0], first.t, last.t, n, w.hi)
    } else {
        let r = res.as_ref()?;
        rate::counter_extrapolation(first.t, last.t, n, first.h.count, w.lo, w.hi, r.count)
    };
    let mut res = res?;
    let factor = match range_secs {
        Some(secs) => factor / secs,
        None => factor,
    };
    res.mul(factor);
    if n > 1 {
        res.counter_reset_hint = CounterResetHint::Gauge;
    }
    Some(Arc::new(res))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(t: i64, count: f64) -> HPoint {
        HPoint {
            t,
            h: Arc::new(FloatHistogram {
                count,
                sum: count,
                ..Default::default()
            }),
        }
    }

    fn win<'a>(h: &'a [HPoint], hsts: &'a [i64], lo: i64, hi: i64) -> Win<'a> {
        Win {
            f: &[],
            h,
            i: 0,
            ts: hi,
            lo,
            hi,
            sts: &[],
            hsts,
            name: "m",
        }
    }

    #[test]
    fn delta_histograms_add_up() {
        // Five delta samples of 60 every minute, each started at the previous one.
        let h: Vec<HPoint> = (6..=10).map(|m| hp(m * 60_000, 60.0)).collect();
        let sts: Vec<i64> = (5..=9).map(|m| m * 60_000).collect();
        let w = win(&h, &sts, 300_000, 600_000);
        let mut notes = Vec::new();
        let r = hist_rate_st(&w, None, &mut notes).unwrap();
        // 4 samples' worth over 240s sampled, extrapolated 60s to the left.
        assert!((r.count - 300.0).abs() < 1e-9, "{}", r.count);
        assert!(notes.is_empty());
        assert!(!last_hist_st_reset(&win(&h, &[], 0, 0)));
        assert!(last_hist_st_reset(&w));
        assert!(hist_is_reset(&w, 1));
        assert!(!hist_overlaps(&h, &sts));
    }

    #[test]
    fn single_histogram_counts_from_its_start() {
        let h = [hp(120_000, 60.0)];
        let w = win(&h, &[60_000], -120_000, 180_000);
        let r = hist_rate_st(&w, Some(300.0), &mut Vec::new()).unwrap();
        assert!((r.count - 0.2).abs() < 1e-12, "{}", r.count);
        // Without a usable start there is no rate from one sample.
        let w = win(&h, &[0], -120_000, 180_000);
        assert!(hist_rate_st(&w, Some(300.0), &mut Vec::new()).is_none());
    }

    #[test]
    fn overlapping_starts() {
        let h = [hp(60_000, 1.0), hp(120_000, 2.0)];
        assert!(hist_overlaps(&h, &[0, 30_000]));
        assert!(!hist_overlaps(&h, &[30_000, 30_000]));
    }
}
