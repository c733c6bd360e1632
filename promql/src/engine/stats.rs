//! Which counter-reset hints do histograms carry below `histogram_count`,
//! `histogram_sum` and `histogram_avg`?
//!
//! Prometheus reads the selectors below those functions (unless a subquery,
//! `histogram_quantile` or `histogram_fraction` sits anywhere above) through its
//! histogram stats iterator. That iterator detects counter resets on the fly: a
//! histogram stored with an `unknown` hint comes out hinted `reset` or `not_reset` when
//! the iterator read the histogram before it too. Those hints are what `sum`, `avg`,
//! `sum_over_time` and `avg_over_time` compare when they warn about conflicting
//! counter resets. This module reproduces which samples the iterator reads: for instant
//! selectors it replays Prometheus's memoizing iterator step by step (including that a
//! sample read twice is compared with itself, so it comes out `not_reset`); for range
//! selectors every histogram is compared with the one before it.

use super::error::EngineError;
use super::eval::Ev;
use crate::storage::{SampleValue, StorageSeries};
use crate::value::{is_stale_nan, FPoint, HPoint, Series};
use exposition::histogram::{CounterResetHint, FloatHistogram};
use std::sync::Arc;

/// Whether selectors evaluate below `histogram_count`/`histogram_sum`/`histogram_avg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum StatsMode {
    /// No such function above.
    #[default]
    Off,
    /// Below one of them, with no subquery, `histogram_quantile` or
    /// `histogram_fraction` above.
    On,
    /// Below a subquery or a function that needs the buckets.
    Blocked,
}

impl StatsMode {
    /// The mode for the arguments of the function `name`.
    pub(super) fn for_call(self, name: &str) -> StatsMode {
        match name {
            "histogram_count" | "histogram_sum" | "histogram_avg" if self == StatsMode::Off => {
                StatsMode::On
            }
            "histogram_quantile" | "histogram_fraction" => StatsMode::Blocked,
            _ => self,
        }
    }
}

/// `h` as the stats iterator returns it when `before` is the histogram it read last: an
/// `unknown` hint becomes `reset` or `not_reset`; without `before` it stays.
fn stats_hinted(h: &Arc<FloatHistogram>, before: Option<&FloatHistogram>) -> Arc<FloatHistogram> {
    match before {
        Some(b) if h.counter_reset_hint == CounterResetHint::Unknown => {
            let mut out = (**h).clone();
            out.counter_reset_hint = if h.detect_reset(b) {
                CounterResetHint::CounterReset
            } else {
                CounterResetHint::NotCounterReset
            };
            Arc::new(out)
        }
        _ => h.clone(),
    }
}

/// Reset hints for the histograms of a range as the stats iterator reads them (each
/// compared with the one before), then drops the histograms at or before `start`,
/// which were read only for that comparison.
pub(super) fn stats_hints_in_range(hpts: &mut Vec<HPoint>, start: i64) {
    let mut before: Option<Arc<FloatHistogram>> = None;
    for p in hpts.iter_mut() {
        let h = stats_hinted(&p.h, before.as_deref());
        before = Some(std::mem::replace(&mut p.h, h));
    }
    hpts.retain(|p| p.t > start);
}

/// Replays Prometheus's memoizing series iterator over a stats iterator for one series
/// of an instant selector: which sample each step returns, with the hint it gets.
struct StatsCursor {
    samples: Vec<(i64, SampleValue)>,
    lookback: i64,
    /// The sample the iterator is on (`samples.len()` when exhausted).
    pos: usize,
    /// Timestamp of the sample at `pos` once positioned.
    last_time: i64,
    /// The histogram the stats iterator read last.
    last_read: Option<usize>,
    /// The sample before `pos`, as read when the iterator moved past it.
    prev: Option<(i64, SampleValue)>,
}

impl StatsCursor {
    fn new(samples: Vec<(i64, SampleValue)>, lookback: i64) -> StatsCursor {
        StatsCursor {
            samples,
            lookback,
            pos: 0,
            last_time: i64::MIN,
            last_read: None,
            prev: None,
        }
    }

    /// Reads sample `i`: histograms get their hint from the histogram read before.
    fn read(&mut self, i: usize) -> SampleValue {
        match &self.samples[i].1 {
            SampleValue::Float(f) => SampleValue::Float(*f),
            SampleValue::Histogram(h) if is_stale_nan(h.sum) => SampleValue::Histogram(h.clone()),
            SampleValue::Histogram(h) => {
                let before = self.last_read.and_then(|j| match &self.samples[j].1 {
                    SampleValue::Histogram(b) => Some(&**b),
                    SampleValue::Float(_) => None,
                });
                let out = stats_hinted(h, before);
                self.last_read = Some(i);
                SampleValue::Histogram(out)
            }
        }
    }

    /// Moves to the first sample at or after `t` (reading the ones passed); `None` when
    /// there is none.
    fn seek(&mut self, t: i64) -> Option<usize> {
        let len = self.samples.len();
        let t0 = t.saturating_sub(self.lookback);
        if self.pos < len && t0 > self.last_time {
            // A jump: what was read before is forgotten.
            self.prev = None;
            if t0 > self.samples[self.pos].0 {
                self.last_read = None;
            }
            while self.pos < len && self.samples[self.pos].0 < t0 {
                self.pos += 1;
            }
            if self.pos == len {
                return None;
            }
            self.last_time = self.samples[self.pos].0;
        }
        if self.pos < len && self.last_time >= t {
            return Some(self.pos);
        }
        while self.pos < len {
            let v = self.read(self.pos);
            self.prev = Some((self.samples[self.pos].0, v));
            self.pos += 1;
            if self.pos < len {
                self.last_time = self.samples[self.pos].0;
                if self.last_time >= t {
                    return Some(self.pos);
                }
            }
        }
        None
    }

    /// The sample an instant selector sees at reference time `r` (none when the latest
    /// one is older than the lookback or a staleness marker).
    fn at(&mut self, r: i64) -> Option<(i64, SampleValue)> {
        let mut found = None;
        if let Some(p) = self.seek(r) {
            let t = self.samples[p].0;
            let v = self.read(p);
            if t <= r {
                found = Some((t, v));
            }
        }
        let (t, v) = match found {
            Some(x) => x,
            None => match &self.prev {
                Some((t, v)) if *t > r.saturating_sub(self.lookback) => (*t, v.clone()),
                _ => return None,
            },
        };
        let stale = match &v {
            SampleValue::Float(f) => is_stale_nan(*f),
            SampleValue::Histogram(h) => is_stale_nan(h.sum),
        };
        (!stale).then_some((t, v))
    }
}

impl Ev<'_> {
    /// One series of an instant selector below `histogram_count` and co.: the sample of
    /// every step with the hint Prometheus's stats iterator gives it.
    pub(super) fn stats_vector_series(
        &mut self,
        s: &dyn StorageSeries,
        at: Option<i64>,
        offset: i64,
        timestamps: bool,
    ) -> Result<Option<Series>, EngineError> {
        let mut samples = Vec::new();
        let mut it = s.iter();
        while let Some(x) = it.next_value() {
            self.tick()?;
            samples.push(x);
        }
        let mut cur = StatsCursor::new(samples, self.opts.lookback_delta_ms);
        let mut pts = Vec::new();
        let mut hpts = Vec::new();
        for i in 0..self.nsteps() {
            self.tick()?;
            let ts = self.ts(i);
            let r = at.unwrap_or(ts).saturating_sub(offset);
            let Some((t, v)) = cur.at(r) else { continue };
            self.hold(1)?;
            match v {
                _ if timestamps => pts.push(FPoint {
                    t: ts,
                    f: t as f64 / 1000.0,
                }),
                SampleValue::Float(f) => pts.push(FPoint { t: ts, f }),
                SampleValue::Histogram(h) => hpts.push(HPoint { t: ts, h }),
            }
        }
        if pts.is_empty() && hpts.is_empty() {
            return Ok(None);
        }
        Ok(Some(Series {
            histograms: hpts,
            metric: s.labels().clone(),
            floats: pts,
            drop_name: false,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arc(count: f64, hint: CounterResetHint) -> Arc<FloatHistogram> {
        Arc::new(FloatHistogram {
            count,
            counter_reset_hint: hint,
            ..Default::default()
        })
    }

    fn hist(count: f64, hint: CounterResetHint) -> SampleValue {
        SampleValue::Histogram(arc(count, hint))
    }

    fn hint_of(v: &Option<(i64, SampleValue)>) -> Option<CounterResetHint> {
        match v {
            Some((_, SampleValue::Histogram(h))) => Some(h.counter_reset_hint),
            _ => None,
        }
    }

    #[test]
    fn modes_follow_the_functions_above() {
        let on = StatsMode::Off.for_call("histogram_count");
        assert_eq!(on, StatsMode::On);
        assert_eq!(on.for_call("rate"), StatsMode::On);
        assert_eq!(on.for_call("histogram_quantile"), StatsMode::Blocked);
        assert_eq!(
            StatsMode::Blocked.for_call("histogram_sum"),
            StatsMode::Blocked
        );
    }

    #[test]
    fn instant_read_detects_reset_against_previous_sample() {
        use CounterResetHint::*;
        let samples = vec![
            (0, hist(3.0, Unknown)),
            (60_000, hist(2.0, Unknown)),
            (120_000, hist(4.0, NotCounterReset)),
        ];
        // At 90s the 60s sample follows a higher count read at 0s: a reset.
        let mut c = StatsCursor::new(samples.clone(), 300_000);
        assert_eq!(hint_of(&c.at(90_000)), Some(CounterReset));
        // At 30s only the first sample is read: nothing to compare with.
        let mut c = StatsCursor::new(samples.clone(), 300_000);
        assert_eq!(hint_of(&c.at(30_000)), Some(Unknown));
        // Stepping on, the 60s sample was already read once at 30s (it was the next
        // one), so it is compared with itself: not a reset.
        assert_eq!(hint_of(&c.at(90_000)), Some(NotCounterReset));
        // Explicit hints stay.
        assert_eq!(hint_of(&c.at(150_000)), Some(NotCounterReset));
        // Beyond the lookback nothing is returned.
        assert_eq!(hint_of(&c.at(500_000)), None);
    }

    #[test]
    fn range_hints_compare_neighbours_and_drop_the_lead_in() {
        use CounterResetHint::*;
        let p = |t, c| HPoint {
            t,
            h: arc(c, Unknown),
        };
        let mut v = vec![p(0, 5.0), p(1, 6.0), p(2, 1.0)];
        stats_hints_in_range(&mut v, 0);
        let hints: Vec<_> = v.iter().map(|p| p.h.counter_reset_hint).collect();
        assert_eq!(hints, vec![NotCounterReset, CounterReset]);
    }
}
