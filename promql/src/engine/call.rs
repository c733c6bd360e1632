//! Function calls: how is each function applied?

use super::aggregate::format_float;
use super::error::EngineError;
use super::eval::{Ev, RangeMode, RangeVal, SeriesBuilder, Val, Window, WindowCursor};
use super::start_ts;
use super::stats::{stats_hints_in_range, StatsMode};
use super::AnnotationKind;
use crate::ast::Span;
use crate::ast::{AggregateOp, Call, Expr, MatrixSelector};
use crate::functions::{extended, label, math, native, over_time, rate, time as datefn};
use crate::storage::{SampleValue, SelectHints};
use crate::value::is_stale_nan;
use crate::value::{FPoint, HPoint, Sample, Series};
use exposition::histogram::FloatHistogram;
use exposition::{Labels, MatchOp, Matcher, METRIC_NAME};
use std::sync::Arc;

const COUNTER_SUFFIXES: [&str; 4] = ["_total", "_sum", "_count", "_bucket"];

impl Ev<'_> {
    pub(super) fn scalar_arg(&mut self, e: &Expr) -> Result<Vec<f64>, EngineError> {
        match self.eval(e)? {
            Val::Scalar(v) => Ok(v),
            _ => Err(EngineError::InvalidArgument(
                "expected scalar argument".into(),
            )),
        }
    }

    pub(super) fn vector_arg(&mut self, e: &Expr) -> Result<Vec<Series>, EngineError> {
        match self.eval(e)? {
            Val::Vector(v) => Ok(v),
            _ => Err(EngineError::InvalidArgument(
                "expected instant vector argument".into(),
            )),
        }
    }

    pub(super) fn string_arg(&mut self, e: &Expr) -> Result<String, EngineError> {
        match self.eval(e)? {
            Val::String(s) => Ok(s),
            _ => Err(EngineError::InvalidArgument(
                "expected string argument".into(),
            )),
        }
    }

    pub(super) fn range_arg(&mut self, e: &Expr) -> Result<RangeVal, EngineError> {
        match self.eval(e)? {
            Val::Range(r) => Ok(r),
            _ => Err(EngineError::InvalidArgument(
                "expected range vector argument".into(),
            )),
        }
    }

    /// Applies `f` to every sample of a vector; the name is dropped unless `keep_name`.
    fn map_samples(
        &mut self,
        input: Vec<Series>,
        keep_name: bool,
        mut f: impl FnMut(usize, f64) -> Option<f64>,
    ) -> Vec<Series> {
        let mut out = Vec::with_capacity(input.len());
        for mut s in input {
            let mut pts = Vec::with_capacity(s.floats.len());
            for p in &s.floats {
                if let Some(v) = f(self.step_of(p.t), p.f) {
                    pts.push(FPoint { t: p.t, f: v });
                }
            }
            if pts.is_empty() {
                continue;
            }
            s.floats = pts;
            // Per-sample float functions ignore histogram samples.
            s.histograms = Vec::new();
            if !keep_name {
                self.drop_name(&mut s);
            }
            out.push(s);
        }
        out
    }

    /// Where a range-vector argument's points come from: streamed from storage one series
    /// at a time (plain matrix selectors), or already evaluated (subqueries).
    fn range_src<'e>(&mut self, e: &'e Expr) -> Result<RangeSrc<'e>, EngineError> {
        if let Expr::MatrixSelector(ms) = e.unparen() {
            if !ms.vector.anchored && !ms.vector.smoothed {
                return Ok(RangeSrc::Selector(ms));
            }
        }
        let span = e.span();
        self.range_arg(e).map(|r| RangeSrc::Values(r, span))
    }

    /// Applies `f` to the float points of the window each step sees, per series;
    /// histogram points are ignored (with an info when a window mixes both). Selector
    /// data is read one series at a time, so memory holds the result plus one series'
    /// points. With `counter_info`, series whose name does not look like a counter are
    /// reported.
    fn map_windows(
        &mut self,
        src: RangeSrc<'_>,
        keep_name: bool,
        counter_info: Option<Span>,
        mut f: impl FnMut(&[FPoint], usize, i64, (i64, i64), &[i64]) -> Option<f64>,
    ) -> Result<Vec<Series>, EngineError> {
        let span = src.span();
        self.map_windows_any(src, keep_name, counter_info, span, |w, notes| {
            if w.f.is_empty() {
                return None;
            }
            if !w.h.is_empty() {
                notes.push((
                    AnnotationKind::Info,
                    format!(
                        "ignored histograms in a range containing both floats and histograms for metric name {:?}",
                        w.name
                    ),
                ));
            }
            f(w.f, w.i, w.ts, (w.lo, w.hi), w.sts).map(Out::F)
        })
    }

    /// Like [`Self::map_windows`], but `f` sees float and histogram points and may
    /// return either; annotations it pushes are reported at `span`.
    fn map_windows_any(
        &mut self,
        src: RangeSrc<'_>,
        keep_name: bool,
        counter_info: Option<Span>,
        span: Span,
        mut f: impl FnMut(&Win<'_>, &mut Vec<(AnnotationKind, String)>) -> Option<Out>,
    ) -> Result<Vec<Series>, EngineError> {
        let mut out = SeriesBuilder::default();
        let mut notes = Vec::new();
        match src {
            RangeSrc::Values(r, _) => {
                for s in r.series {
                    self.window_series(
                        s,
                        (&[], &[]),
                        &r.window,
                        keep_name,
                        counter_info,
                        &mut f,
                        &mut notes,
                        &mut out,
                    )?;
                }
            }
            RangeSrc::Selector(ms) => {
                let (window, mint, maxt) = self.selector_window(ms);
                if self.nsteps() == 0 {
                    return Ok(Vec::new());
                }
                let storage = self.storage;
                // Below `histogram_count` etc., also the sample at the window start is
                // read, for the reset hint of the next one.
                let stats = self.stats == StatsMode::On;
                let mint = mint.saturating_sub(i64::from(stats));
                let q = storage.querier(mint, maxt)?;
                let hints = SelectHints {
                    start: mint,
                    end: maxt,
                    step: self.interval,
                    range: ms.range,
                };
                let set = q.select(&hints, &ms.vector.matchers)?;
                let mut buf = Vec::new();
                let mut sts: Vec<i64> = Vec::new();
                for st in set {
                    let mut it = st.iter();
                    buf.clear();
                    sts.clear();
                    let mut hbuf = Vec::new();
                    let mut hsts: Vec<i64> = Vec::new();
                    let mut any_st = false;
                    // One series' raw points are held while its windows are computed.
                    let held = self.held();
                    if !st.may_have_histograms() {
                        while let Some((t, v)) = it.next() {
                            if !is_stale_nan(v) {
                                self.tick_hold()?;
                                buf.push(FPoint { t, f: v });
                                let s = it.start_timestamp();
                                any_st |= s != 0;
                                sts.push(s);
                            }
                        }
                    } else {
                        while let Some((t, v)) = it.next_value() {
                            match v {
                                SampleValue::Float(v) => {
                                    if !is_stale_nan(v) {
                                        self.tick_hold()?;
                                        buf.push(FPoint { t, f: v });
                                        let s = it.start_timestamp();
                                        any_st |= s != 0;
                                        sts.push(s);
                                    }
                                }
                                SampleValue::Histogram(h) => {
                                    if !is_stale_nan(h.sum) {
                                        self.tick_hold()?;
                                        hbuf.push(HPoint { t, h });
                                        let s = it.start_timestamp();
                                        any_st |= s != 0;
                                        hsts.push(s);
                                    }
                                }
                            }
                        }
                    }
                    if stats {
                        // Floats at `mint` fall outside every window anyway.
                        stats_hints_in_range(&mut hbuf, mint);
                    }
                    if !any_st {
                        sts.clear();
                        hsts.clear();
                    }
                    if buf.is_empty() && hbuf.is_empty() {
                        continue;
                    }
                    let s = Series {
                        histograms: hbuf,
                        metric: st.labels().clone(),
                        floats: std::mem::take(&mut buf),
                        drop_name: false,
                    };
                    let n = s.len();
                    buf = self.window_series(
                        s,
                        (&sts, &hsts),
                        &window,
                        keep_name,
                        counter_info,
                        &mut f,
                        &mut notes,
                        &mut out,
                    )?;
                    self.release_to(self.held().saturating_sub(n).max(held));
                }
            }
        }
        notes.sort();
        notes.dedup();
        for (k, m) in notes {
            self.annotate(k, m, span);
        }
        out.finish()
    }

    /// One series of [`Self::map_windows_any`]; hands the float buffer back for reuse.
    #[allow(clippy::too_many_arguments)]
    fn window_series(
        &mut self,
        mut s: Series,
        (sts, hsts): (&[i64], &[i64]),
        window: &Window,
        keep_name: bool,
        counter_info: Option<Span>,
        f: &mut impl FnMut(&Win<'_>, &mut Vec<(AnnotationKind, String)>) -> Option<Out>,
        notes: &mut Vec<(AnnotationKind, String)>,
        out: &mut SeriesBuilder,
    ) -> Result<Vec<FPoint>, EngineError> {
        self.check_cancel()?;
        let mut cur = WindowCursor::default();
        let (mut hlo, mut hhi) = (0usize, 0usize);
        let mut pts = Vec::new();
        let mut hpts = Vec::new();
        let mut any_window = false;
        let name = s.metric.metric_name().unwrap_or("").to_string();
        for i in 0..self.nsteps() {
            self.tick()?;
            let ts = self.ts(i);
            let (lo, hi) = window.bounds(ts);
            let (a, b) = cur.range(&s.floats, lo, hi);
            let hs = &s.histograms;
            while hhi < hs.len() && hs[hhi].t <= hi {
                hhi += 1;
            }
            while hlo < hhi && hs[hlo].t <= lo {
                hlo += 1;
            }
            if hlo > hhi {
                hlo = hhi;
            }
            if a == b && hlo == hhi {
                continue;
            }
            any_window = true;
            let wst = if sts.is_empty() { &[][..] } else { &sts[a..b] };
            let whst = if hsts.is_empty() {
                &[][..]
            } else {
                &hsts[hlo..hhi]
            };
            let w = Win {
                f: &s.floats[a..b],
                h: &hs[hlo..hhi],
                i,
                ts,
                lo,
                hi,
                sts: wst,
                hsts: whst,
                name: &name,
            };
            match f(&w, notes) {
                Some(Out::F(v)) => {
                    self.hold(1)?;
                    pts.push(FPoint { t: ts, f: v });
                }
                Some(Out::H(h)) => {
                    self.hold(1)?;
                    hpts.push(HPoint { t: ts, h });
                }
                None => {}
            }
        }
        if let (Some(span), true) = (counter_info, any_window) {
            if !s.floats.is_empty() {
                self.non_counter_check(&s.metric, span);
            }
            if rate::start_overlaps(&s.floats, sts) || start_ts::hist_overlaps(&s.histograms, hsts)
            {
                let msg = format!(
                    "sample has start time that overlaps with previous sample timestamp for metric {:?}",
                    s.metric.metric_name().unwrap_or("")
                );
                self.annotate(AnnotationKind::Warning, msg, span);
            }
        }
        let buf = std::mem::take(&mut s.floats);
        if pts.is_empty() && hpts.is_empty() {
            return Ok(buf);
        }
        if !keep_name {
            self.drop_name(&mut s);
        }
        out.add_series(&s.metric, s.drop_name, pts, hpts)?;
        Ok(buf)
    }

    /// `rate`, `increase`, `delta`, `changes`, `resets` over an `anchored` or `smoothed`
    /// range: the points come from the boundary-extended window (see
    /// [`extended::extended_step`]); annotations point at `span`.
    fn extended_range_fn(
        &mut self,
        name: &str,
        r: RangeVal,
        span: Span,
    ) -> Result<Vec<Series>, EngineError> {
        let Some(func) = extended::ExtFunc::from_name(name) else {
            return Err(EngineError::Unsupported(format!("function {name}")));
        };
        let lookback = self.opts.lookback_delta_ms;
        let smoothed = r.mode == RangeMode::Smoothed;
        let range_secs = r.window.range as f64 / 1000.0;
        let mut out = SeriesBuilder::default();
        for mut s in r.series {
            let (mut pts, mut hpts, mut notes) = (Vec::new(), Vec::new(), Vec::new());
            for i in 0..self.nsteps() {
                self.tick()?;
                let ts = self.ts(i);
                let (start, end) = r.window.bounds(ts);
                let w = extended::ExtWindow {
                    start,
                    end,
                    lookback,
                    smoothed,
                };
                let v = extended::extended_step(
                    func,
                    &s.floats,
                    &s.histograms,
                    w,
                    range_secs,
                    &mut notes,
                );
                let Some(v) = v else {
                    continue;
                };
                v.push_to(ts, &mut pts, &mut hpts);
                self.hold(1)?;
            }
            self.ext_notes(notes, s.metric.metric_name().unwrap_or(""), span);
            if func.is_counter() && !pts.is_empty() {
                self.non_counter_check(&s.metric, span);
            }
            if pts.is_empty() && hpts.is_empty() {
                continue;
            }
            self.drop_name(&mut s);
            out.add_series(&s.metric, s.drop_name, pts, hpts)?;
        }
        out.finish()
    }

    /// Reports the notes of the extended-range helpers for metric `name` at `span`.
    pub(super) fn ext_notes(&mut self, mut notes: Vec<extended::ExtNote>, name: &str, span: Span) {
        notes.sort();
        notes.dedup();
        for n in notes {
            let (kind, msg) = match n {
                extended::ExtNote::Hist(h) => hist_note(h, name, ""),
                extended::ExtNote::Reconciled(op) => {
                    hist_note(native::HistNote::ReconciledCustom, name, op)
                }
                extended::ExtNote::MixedFloatsHistograms => mixed_note(name),
            };
            self.annotate(kind, msg, span);
        }
    }

    pub(super) fn eval_call(&mut self, c: &Call) -> Result<Val, EngineError> {
        let name = c.func.name;
        for a in &c.args {
            if let Expr::MatrixSelector(MatrixSelector { vector, .. }) = a.unparen() {
                if vector.anchored
                    && !matches!(name, "changes" | "delta" | "increase" | "rate" | "resets")
                {
                    return Err(EngineError::InvalidArgument(format!(
                        "anchored modifier can only be used with: changes, delta, increase, rate, resets - not with {name}"
                    )));
                }
                if vector.smoothed && !matches!(name, "delta" | "increase" | "rate") {
                    return Err(EngineError::InvalidArgument(format!(
                        "smoothed modifier can only be used with: delta, increase, rate - not with {name}"
                    )));
                }
                if (vector.anchored || vector.smoothed) && c.args.len() == 1 {
                    let r = self.range_arg(a)?;
                    return self.extended_range_fn(name, r, a.span()).map(Val::Vector);
                }
            }
        }
        let n = self.nsteps();
        // Per-step buffers below are guarded before they are allocated.
        self.check_samples(n)?;
        let secs = |ev: &Ev<'_>, i: usize| ev.ts(i) as f64 / 1000.0;
        match name {
            "time" => return Ok(Val::Scalar((0..n).map(|i| secs(self, i)).collect())),
            "pi" => return Ok(Val::Scalar(vec![std::f64::consts::PI; n])),
            "start" => return Ok(Val::Scalar(vec![self.query_start as f64 / 1000.0; n])),
            "end" => return Ok(Val::Scalar(vec![self.query_end as f64 / 1000.0; n])),
            "range" => {
                return Ok(Val::Scalar(vec![
                    (self.query_end - self.query_start) as f64
                        / 1000.0;
                    n
                ]))
            }
            "step" => return Ok(Val::Scalar(vec![self.query_step as f64 / 1000.0; n])),
            "min_of" | "max_of" => {
                let a = self.scalar_arg(&c.args[0])?;
                let b = self.scalar_arg(&c.args[1])?;
                let max = name == "max_of";
                return Ok(Val::Scalar(
                    a.iter()
                        .zip(&b)
                        .map(|(&x, &y)| {
                            if max {
                                math::go_max(x, y)
                            } else {
                                math::go_min(x, y)
                            }
                        })
                        .collect(),
                ));
            }
            "vector" => {
                let v = self.scalar_arg(&c.args[0])?;
                let floats = v
                    .iter()
                    .enumerate()
                    .map(|(i, &f)| FPoint { t: self.ts(i), f })
                    .collect();
                return Ok(Val::Vector(vec![Series {
                    histograms: Vec::new(),
                    metric: Labels::empty(),
                    floats,
                    drop_name: false,
                }]));
            }
            "scalar" => {
                let v = self.vector_arg(&c.args[0])?;
                let mut out = vec![f64::NAN; n];
                let mut count = vec![0u32; n];
                for s in &v {
                    for p in &s.floats {
                        let i = self.step_of(p.t);
                        count[i] += 1;
                        out[i] = p.f;
                    }
                }
                for i in 0..n {
                    if count[i] != 1 {
                        out[i] = f64::NAN;
                    }
                }
                return Ok(Val::Scalar(out));
            }
            "timestamp" => {
                let v = match c.args[0].unparen() {
                    Expr::VectorSelector(vs) => self.eval_vector_selector(vs, true)?,
                    other => {
                        let v = self.vector_arg(other)?;
                        v.into_iter()
                            .map(|mut s| {
                                s.floats.iter_mut().for_each(|p| p.f = p.t as f64 / 1000.0);
                                if !s.histograms.is_empty() {
                                    let hs = std::mem::take(&mut s.histograms);
                                    s.floats.extend(hs.iter().map(|p| FPoint {
                                        t: p.t,
                                        f: p.t as f64 / 1000.0,
                                    }));
                                    s.floats.sort_by_key(|p| p.t);
                                }
                                s
                            })
                            .collect()
                    }
                };
                return Ok(Val::Vector(self.map_samples(v, false, |_, f| Some(f))));
            }
            "start_timestamp" => return self.start_timestamp_fn(c),
            _ => {}
        }
        if let Some(f) = math::simple_fn(name) {
            let v = self.vector_arg(&c.args[0])?;
            return Ok(Val::Vector(self.map_samples(v, false, |_, x| Some(f(x)))));
        }
        if matches!(
            name,
            "day_of_month"
                | "day_of_week"
                | "day_of_year"
                | "days_in_month"
                | "hour"
                | "minute"
                | "month"
                | "year"
        ) {
            if c.args.is_empty() {
                let floats = (0..n)
                    .map(|i| FPoint {
                        t: self.ts(i),
                        f: datefn::date_fn(name, secs(self, i)).unwrap_or(f64::NAN),
                    })
                    .collect();
                return Ok(Val::Vector(vec![Series {
                    histograms: Vec::new(),
                    metric: Labels::empty(),
                    floats,
                    drop_name: false,
                }]));
            }
            let v = self.vector_arg(&c.args[0])?;
            // NaN and ±Inf too: Prometheus converts them to a (far-future) date as Go does.
            return Ok(Val::Vector(
                self.map_samples(v, false, |_, x| datefn::date_fn(name, x)),
            ));
        }
        match name {
            "round" => {
                let v = self.vector_arg(&c.args[0])?;
                let to = match c.args.get(1) {
                    Some(e) => self.scalar_arg(e)?,
                    None => vec![1.0; n],
                };
                Ok(Val::Vector(
                    self.map_samples(v, false, |i, x| Some(math::round(x, to[i]))),
                ))
            }
            "clamp" => {
                let v = self.vector_arg(&c.args[0])?;
                let lo = self.scalar_arg(&c.args[1])?;
                let hi = self.scalar_arg(&c.args[2])?;
                // Only `max < min` drops the samples; a NaN bound yields NaN.
                Ok(Val::Vector(self.map_samples(v, false, |i, x| {
                    (hi[i] >= lo[i] || hi[i].is_nan() || lo[i].is_nan())
                        .then(|| math::clamp(x, lo[i], hi[i]))
                })))
            }
            "clamp_min" | "clamp_max" => {
                let v = self.vector_arg(&c.args[0])?;
                let b = self.scalar_arg(&c.args[1])?;
                let is_min = name == "clamp_min";
                Ok(Val::Vector(self.map_samples(v, false, |i, x| {
                    Some(if is_min {
                        math::go_max(x, b[i])
                    } else {
                        math::go_min(x, b[i])
                    })
                })))
            }
            "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => {
                let mut v = self.vector_arg(&c.args[0])?;
                if matches!(name, "sort" | "sort_desc") {
                    // Sorting by value leaves histogram samples out.
                    for s in &mut v {
                        s.histograms.clear();
                    }
                    v.retain(|s| !s.is_empty());
                }
                for a in &c.args[1..] {
                    self.string_arg(a)?;
                }
                if self.query_start != self.query_end {
                    self.annotate(
                        AnnotationKind::Warning,
                        "sort is ineffective for range queries since results are always ordered by labels".into(),
                        c.span,
                    );
                }
                Ok(Val::Vector(v))
            }
            "label_replace" => self.label_replace(c),
            "label_join" => self.label_join(c),
            "absent" => {
                let v = self.vector_arg(&c.args[0])?;
                let mut present = vec![false; n];
                for s in &v {
                    for p in &s.floats {
                        present[self.step_of(p.t)] = true;
                    }
                    for p in &s.histograms {
                        present[self.step_of(p.t)] = true;
                    }
                }
                Ok(Val::Vector(self.absent_series(&c.args[0], &present)))
            }
            "absent_over_time" => {
                let r = self.range_arg(&c.args[0])?;
                let mut present = vec![false; n];
                for s in &r.series {
                    let mut cur = WindowCursor::default();
                    for (i, p) in present.iter_mut().enumerate() {
                        let (lo, hi) = r.window.bounds(self.ts(i));
                        if !cur.slice(&s.floats, lo, hi).is_empty()
                            || s.histograms.iter().any(|h| h.t > lo && h.t <= hi)
                        {
                            *p = true;
                        }
                    }
                }
                Ok(Val::Vector(self.absent_series(&c.args[0], &present)))
            }
            "histogram_quantile" => self.histogram_quantile(c),
            "histogram_quantiles" => self.histogram_quantiles(c),
            "info" => self.info(c),
            "histogram_fraction" => self.histogram_fraction(c),
            "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
            | "histogram_stdvar" => {
                // Only native histograms have these; float samples are ignored.
                let v = self.vector_arg(&c.args[0])?;
                let f: fn(&FloatHistogram) -> f64 = match name {
                    "histogram_count" => |h| h.count,
                    "histogram_sum" => |h| h.sum,
                    "histogram_avg" => |h| h.sum / h.count,
                    "histogram_stddev" => |h| h.stddev(),
                    _ => FloatHistogram::stdvar,
                };
                let mut out = Vec::with_capacity(v.len());
                for mut s in v {
                    if s.histograms.is_empty() {
                        continue;
                    }
                    s.floats = s
                        .histograms
                        .iter()
                        .map(|p| FPoint { t: p.t, f: f(&p.h) })
                        .collect();
                    s.histograms = Vec::new();
                    self.drop_name(&mut s);
                    out.push(s);
                }
                Ok(Val::Vector(out))
            }
            "rate" | "increase" | "delta" => {
                let r = self.range_src(&c.args[0])?;
                let is_counter = name != "delta";
                let range_secs = (name == "rate").then(|| (r.range() as f64) / 1000.0);
                let info = is_counter.then(|| c.args[0].span());
                let span = c.args[0].span();
                self.map_windows_any(r, false, info, span, |w, notes| {
                    if !w.h.is_empty() {
                        if !w.f.is_empty() {
                            notes.push(mixed_note(w.name));
                            return None;
                        }
                        if is_counter && !w.hsts.is_empty() {
                            return start_ts::hist_rate_st(w, range_secs, notes).map(Out::H);
                        }
                        return hist_rate(w, is_counter, range_secs, notes).map(Out::H);
                    }
                    if is_counter {
                        rate::extrapolated_rate_st(w.f, w.sts, w.lo, w.hi, range_secs)
                    } else {
                        rate::extrapolated_rate(w.f, w.lo, w.hi, false, range_secs)
                    }
                    .map(Out::F)
                })
                .map(Val::Vector)
            }
            "irate" | "idelta" => {
                let r = self.range_src(&c.args[0])?;
                let is_rate = name == "irate";
                let info = is_rate.then(|| c.args[0].span());
                let span = c.args[0].span();
                self.map_windows_any(r, false, info, span, |w, notes| {
                    if w.h.is_empty() {
                        return rate::instant_value_st(w.f, w.sts, is_rate).map(Out::F);
                    }
                    hist_instant(w, is_rate, notes)
                })
                .map(Val::Vector)
            }
            "deriv" => {
                let r = self.range_src(&c.args[0])?;
                self.map_windows(r, false, None, |w, _, _, _, _| rate::deriv(w))
                    .map(Val::Vector)
            }
            "predict_linear" => {
                let r = self.range_src(&c.args[0])?;
                let d = self.scalar_arg(&c.args[1])?;
                self.map_windows(r, false, None, |w, i, ts, _, _| {
                    rate::predict_linear(w, ts, d[i])
                })
                .map(Val::Vector)
            }
            "resets" | "changes" => {
                let r = self.range_src(&c.args[0])?;
                let is_resets = name == "resets";
                let span = c.args[0].span();
                self.map_windows_any(r, false, None, span, |w, _| {
                    if !w.h.is_empty() {
                        return Some(Out::F(resets_or_changes(w, is_resets)));
                    }
                    Some(Out::F(if is_resets {
                        rate::resets_st(w.f, w.sts)
                    } else {
                        rate::changes(w.f)
                    }))
                })
                .map(Val::Vector)
            }
            "sum_over_time"
            | "avg_over_time"
            | "count_over_time"
            | "present_over_time"
            | "last_over_time"
            | "first_over_time"
            | "ts_of_first_over_time"
            | "ts_of_last_over_time" => {
                let r = self.range_src(&c.args[0])?;
                let keep = matches!(name, "last_over_time" | "first_over_time");
                let span = c.args[0].span();
                self.map_windows_any(r, keep, None, span, |w, notes| {
                    over_time_any(name, w, notes)
                })
                .map(Val::Vector)
            }
            "min_over_time"
            | "max_over_time"
            | "stddev_over_time"
            | "stdvar_over_time"
            | "mad_over_time"
            | "ts_of_min_over_time"
            | "ts_of_max_over_time" => {
                let r = self.range_src(&c.args[0])?;
                let f: fn(&[FPoint]) -> f64 = match name {
                    "min_over_time" => over_time::min,
                    "max_over_time" => over_time::max,
                    "stddev_over_time" => over_time::stddev,
                    "stdvar_over_time" => over_time::stdvar,
                    "mad_over_time" => over_time::mad,
                    "ts_of_min_over_time" => |w| ts_of_extreme(w, |c, b| c <= b),
                    _ => |w| ts_of_extreme(w, |c, b| c >= b),
                };
                self.map_windows(r, false, None, |w, _, _, _, _| Some(f(w)))
                    .map(Val::Vector)
            }
            "quantile_over_time" => {
                let q = self.scalar_arg(&c.args[0])?;
                let r = self.range_src(&c.args[1])?;
                if q.iter().any(|&x| x.is_nan() || !(0.0..=1.0).contains(&x)) {
                    let bad = q
                        .iter()
                        .find(|&&x| x.is_nan() || !(0.0..=1.0).contains(&x))
                        .copied();
                    self.annotate(
                        AnnotationKind::Warning,
                        format!(
                            "quantile value should be between 0 and 1, got {}",
                            format_float(bad.unwrap_or(f64::NAN))
                        ),
                        c.args[0].span(),
                    );
                }
                self.map_windows(r, false, None, |w, i, _, _, _| {
                    Some(over_time::quantile_of(q[i], w))
                })
                .map(Val::Vector)
            }
            "double_exponential_smoothing" => {
                let r = self.range_src(&c.args[0])?;
                let sf = self.scalar_arg(&c.args[1])?;
                let tf = self.scalar_arg(&c.args[2])?;
                for (&s, &t) in sf.iter().zip(&tf) {
                    if s <= 0.0 || s >= 1.0 || s.is_nan() {
                        return Err(EngineError::InvalidArgument(format!(
                            "invalid smoothing factor. Expected: 0 < sf < 1, got: {s:.6}"
                        )));
                    }
                    if t <= 0.0 || t >= 1.0 || t.is_nan() {
                        return Err(EngineError::InvalidArgument(format!(
                            "invalid trend factor. Expected: 0 < tf < 1, got: {t:.6}"
                        )));
                    }
                }
                self.map_windows(r, false, None, |w, i, _, _, _| {
                    over_time::double_exponential_smoothing(w, sf[i], tf[i])
                })
                .map(Val::Vector)
            }
            other => Err(EngineError::Unsupported(format!("function {other}"))),
        }
    }

    /// Info annotation when a counter function sees a name without a counter suffix.
    fn non_counter_check(&mut self, metric: &Labels, span: Span) {
        if let Some(name) = metric.metric_name() {
            if !COUNTER_SUFFIXES.iter().any(|x| name.ends_with(x)) {
                let msg = format!(
                    "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {name:?}"
                );
                self.annotate(AnnotationKind::Info, msg, span);
            }
        }
    }

    fn absent_series(&self, arg: &Expr, present: &[bool]) -> Vec<Series> {
        let matchers: &[Matcher] = match arg {
            Expr::VectorSelector(vs) => &vs.matchers,
            Expr::MatrixSelector(ms) => &ms.vector.matchers,
            _ => &[],
        };
        let mut b = Labels::empty().builder();
        let mut has: Vec<&str> = Vec::new();
        for m in matchers {
            if m.name() == METRIC_NAME {
                continue;
            }
            if m.op() == MatchOp::Equal && !has.contains(&m.name()) {
                b.set(m.name(), m.value());
                has.push(m.name());
            } else {
                b.del(m.name());
            }
        }
        let floats: Vec<FPoint> = present
            .iter()
            .enumerate()
            .filter(|(_, &p)| !p)
            .map(|(i, _)| FPoint {
                t: self.ts(i),
                f: 1.0,
            })
            .collect();
        if floats.is_empty() {
            return Vec::new();
        }
        vec![Series {
            histograms: Vec::new(),
            metric: b.build(),
            floats,
            drop_name: false,
        }]
    }

    fn label_replace(&mut self, c: &Call) -> Result<Val, EngineError> {
        let v = self.vector_arg(&c.args[0])?;
        let dst = self.string_arg(&c.args[1])?;
        let repl = self.string_arg(&c.args[2])?;
        let src = self.string_arg(&c.args[3])?;
        let re_s = self.string_arg(&c.args[4])?;
        let re = label::compile_anchored(&re_s).map_err(|_| {
            EngineError::InvalidArgument(format!(
                "invalid regular expression in label_replace(): {re_s}"
            ))
        })?;
        if dst.is_empty() {
            return Err(EngineError::InvalidArgument(format!(
                "invalid destination label name in label_replace(): {dst}"
            )));
        }
        let mut out = SeriesBuilder::default();
        for s in v {
            let (metric, drop_name) = match label::label_replace(&s.metric, &dst, &repl, &src, &re)
            {
                Some(m) => (
                    m,
                    if dst == METRIC_NAME {
                        false
                    } else {
                        s.drop_name
                    },
                ),
                None => (s.metric, s.drop_name),
            };
            out.add_series(&metric, drop_name, s.floats, s.histograms)?;
        }
        out.finish().map(Val::Vector)
    }

    fn label_join(&mut self, c: &Call) -> Result<Val, EngineError> {
        let v = self.vector_arg(&c.args[0])?;
        let dst = self.string_arg(&c.args[1])?;
        let sep = self.string_arg(&c.args[2])?;
        let mut srcs = Vec::new();
        for a in &c.args[3..] {
            srcs.push(self.string_arg(a)?);
        }
        if dst.is_empty() {
            return Err(EngineError::InvalidArgument(format!(
                "invalid destination label name in label_join(): {dst}"
            )));
        }
        let mut out = SeriesBuilder::default();
        for s in v {
            let metric = label::label_join(&s.metric, &dst, &sep, &srcs);
            let drop_name = if dst == METRIC_NAME {
                false
            } else {
                s.drop_name
            };
            out.add_series(&metric, drop_name, s.floats, s.histograms)?;
        }
        out.finish().map(Val::Vector)
    }
}

/// See [`Ev::range_src`].
enum RangeSrc<'e> {
    Selector(&'e MatrixSelector),
    Values(RangeVal, Span),
}

impl RangeSrc<'_> {
    fn range(&self) -> i64 {
        match self {
            RangeSrc::Selector(ms) => ms.range,
            RangeSrc::Values(r, _) => r.window.range,
        }
    }

    /// Where annotations about this argument point.
    fn span(&self) -> Span {
        match self {
            RangeSrc::Selector(ms) => ms.span,
            RangeSrc::Values(_, span) => *span,
        }
    }
}

/// What a window function returns for one step.
pub(super) enum Out {
    /// A float.
    F(f64),
    /// A histogram.
    H(Arc<FloatHistogram>),
}

/// The points one step's window sees, for [`Ev::map_windows_any`].
pub(super) struct Win<'a> {
    pub f: &'a [FPoint],
    pub h: &'a [HPoint],
    pub i: usize,
    pub ts: i64,
    pub lo: i64,
    pub hi: i64,
    pub sts: &'a [i64],
    /// Start timestamps of `h` (0 = unknown); empty when the series has none.
    pub hsts: &'a [i64],
    /// The series' metric name (for annotations).
    pub name: &'a str,
}

/// The warning for a window or vector that mixes floats and histograms.
fn mixed_note(name: &str) -> (AnnotationKind, String) {
    (
        AnnotationKind::Warning,
        format!("encountered a mix of histograms and floats for metric name {name:?}"),
    )
}

/// The annotation for a histogram-function condition; `op` names the operation for
/// reconciled custom buckets (`subtraction`, `aggregation`, ...).
pub(super) fn hist_note(n: native::HistNote, name: &str, op: &str) -> (AnnotationKind, String) {
    use native::HistNote::*;
    match n {
        NotCounter => (
            AnnotationKind::Warning,
            format!("this native histogram metric is not a counter: {name:?}"),
        ),
        NotGauge => (
            AnnotationKind::Warning,
            format!("this native histogram metric is not a gauge: {name:?}"),
        ),
        MixedExpCustom => (
            AnnotationKind::Warning,
            format!(
                "vector contains a mix of histograms with exponential and custom buckets schemas for metric name {name:?}"
            ),
        ),
        ReconciledCustom => (
            AnnotationKind::Info,
            format!("mismatched custom buckets were reconciled during {op}"),
        ),
        CounterResetCollision => (
            AnnotationKind::Warning,
            format!("conflicting counter resets during histogram {op}"),
        ),
    }
}

/// `rate`/`increase`/`delta` of the histograms of one window, extrapolated like floats.
fn hist_rate(
    w: &Win<'_>,
    is_counter: bool,
    range_secs: Option<f64>,
    notes: &mut Vec<(AnnotationKind, String)>,
) -> Option<Arc<FloatHistogram>> {
    if w.h.len() < 2 {
        return None;
    }
    let pts: Vec<(i64, &FloatHistogram)> = w.h.iter().map(|p| (p.t, &*p.h)).collect();
    let mut hn = Vec::new();
    let res = native::histogram_delta(&pts, is_counter, &mut hn);
    for n in hn {
        notes.push(hist_note(n, w.name, "subtraction"));
    }
    let mut res = res?;
    let n1 = pts.len() - 1;
    let (first_t, last_t) = (pts[0].0, pts[n1].0);
    let mut to_start = (first_t - w.lo) as f64 / 1000.0;
    let mut to_end = (w.hi - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let avg = sampled / n1 as f64;
    let threshold = avg * 1.1;
    if to_start >= threshold {
        to_start = avg / 2.0;
    }
    if is_counter && res.count > 0.0 && pts[0].1.count >= 0.0 {
        let to_zero = sampled * (pts[0].1.count / res.count);
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
    res.mul(factor);
    Some(Arc::new(res))
}

/// `irate`/`idelta` when the window has histograms: from its last two samples.
fn hist_instant(
    w: &Win<'_>,
    is_rate: bool,
    notes: &mut Vec<(AnnotationKind, String)>,
) -> Option<Out> {
    if w.f.len() + w.h.len() < 2 {
        return None;
    }
    // The last two samples of either kind, oldest first.
    let mut last: Vec<(i64, Option<&Arc<FloatHistogram>>, f64)> = Vec::new();
    for p in &w.f[w.f.len().saturating_sub(2)..] {
        last.push((p.t, None, p.f));
    }
    for p in &w.h[w.h.len().saturating_sub(2)..] {
        last.push((p.t, Some(&p.h), 0.0));
    }
    last.sort_by_key(|x| x.0);
    let (prev, cur) = (last[last.len() - 2], last[last.len() - 1]);
    let dt = (cur.0 - prev.0) as f64 / 1000.0;
    match (prev.1, cur.1) {
        (None, None) => {
            let mut v = if is_rate && cur.2 < prev.2 {
                cur.2
            } else {
                cur.2 - prev.2
            };
            if is_rate {
                if dt == 0.0 {
                    return None;
                }
                v /= dt;
            }
            Some(Out::F(v))
        }
        (Some(p), Some(c)) => {
            let gauge = exposition::histogram::CounterResetHint::Gauge;
            if is_rate && (c.counter_reset_hint == gauge || p.counter_reset_hint == gauge) {
                notes.push(hist_note(native::HistNote::NotCounter, w.name, ""));
            }
            if !is_rate && (c.counter_reset_hint != gauge || p.counter_reset_hint != gauge) {
                notes.push(hist_note(native::HistNote::NotGauge, w.name, ""));
            }
            let mut h = (**c).clone();
            if !is_rate || !(c.detect_reset(p) || start_ts::last_hist_st_reset(w)) {
                match h.sub(p) {
                    Ok(r) => {
                        if r.nhcb_bounds_reconciled {
                            notes.push(hist_note(
                                native::HistNote::ReconciledCustom,
                                w.name,
                                "subtraction",
                            ));
                        }
                    }
                    Err(_) => {
                        notes.push(hist_note(native::HistNote::MixedExpCustom, w.name, ""));
                        return None;
                    }
                }
            }
            h.counter_reset_hint = gauge;
            h.compact(0);
            if is_rate {
                if dt == 0.0 {
                    return None;
                }
                h.mul(1.0 / dt);
            }
            Some(Out::H(Arc::new(h)))
        }
        _ => {
            notes.push(mixed_note(w.name));
            None
        }
    }
}

/// `resets`/`changes` over a window with histograms (floats and histograms in time
/// order; a switch between the two counts as both a change and a reset; start
/// timestamps mark resets too).
fn resets_or_changes(w: &Win<'_>, is_resets: bool) -> f64 {
    rate::count_transitions(
        w.f.iter().map(|p| p.t),
        w.h.iter().map(|p| p.t),
        |a, b| {
            let (x, y) = (w.f[a], w.f[b]);
            if is_resets {
                rate::float_reset(x.f, y.f)
                    || (w.sts.len() == w.f.len() && rate::start_reset(w.sts[a], x.t, w.sts[b], y.t))
            } else {
                rate::float_change(x.f, y.f)
            }
        },
        |a, b| {
            if is_resets {
                start_ts::hist_is_reset(w, b)
            } else {
                !w.h[a].h.equals(&w.h[b].h)
            }
        },
    )
}

/// The `*_over_time` functions that accept histograms, for a window with histograms.
fn over_time_any(
    name: &str,
    w: &Win<'_>,
    notes: &mut Vec<(AnnotationKind, String)>,
) -> Option<Out> {
    let total = w.f.len() + w.h.len();
    let first_t = match (w.f.first(), w.h.first()) {
        (Some(f), Some(h)) => f.t.min(h.t),
        (Some(f), None) => f.t,
        (None, Some(h)) => h.t,
        (None, None) => return None,
    };
    let last_f = w.f.last();
    let last_h = w.h.last();
    let last_is_h = match (last_f, last_h) {
        (Some(f), Some(h)) => h.t > f.t,
        (None, Some(_)) => true,
        _ => false,
    };
    let last_t = if last_is_h {
        last_h.map(|p| p.t)
    } else {
        last_f.map(|p| p.t)
    }
    .unwrap_or(first_t);
    match name {
        "count_over_time" => Some(Out::F(total as f64)),
        "present_over_time" => Some(Out::F(1.0)),
        "ts_of_first_over_time" => Some(Out::F(first_t as f64 / 1000.0)),
        "ts_of_last_over_time" => Some(Out::F(last_t as f64 / 1000.0)),
        "last_over_time" => Some(if last_is_h {
            Out::H(last_h?.h.clone())
        } else {
            Out::F(last_f?.f)
        }),
        "first_over_time" => Some(match (w.f.first(), w.h.first()) {
            (Some(f), Some(h)) if h.t < f.t => Out::H(h.h.clone()),
            (Some(f), _) => Out::F(f.f),
            (None, Some(h)) => Out::H(h.h.clone()),
            (None, None) => return None,
        }),
        _ => {
            if w.h.is_empty() {
                return Some(Out::F(if name == "sum_over_time" {
                    over_time::sum(w.f)
                } else {
                    over_time::avg(w.f)
                }));
            }
            if !w.f.is_empty() {
                notes.push(mixed_note(w.name));
                return None;
            }
            let mut hn = Vec::new();
            let inputs = w.h.iter().map(|p| &*p.h);
            let combined = if name == "avg_over_time" {
                native::mean_all(inputs, &mut hn)
            } else {
                native::sum_all(inputs, &mut hn)
            };
            let op = "aggregation";
            for n in hn {
                notes.push(hist_note(n, w.name, op));
            }
            let mut h = combined?;
            h.compact(0);
            Some(Out::H(Arc::new(h)))
        }
    }
}

fn ts_of_extreme(w: &[FPoint], better: fn(f64, f64) -> bool) -> f64 {
    let mut best = w[0];
    for p in &w[1..] {
        if better(p.f, best.f) || best.f.is_nan() {
            best = *p;
        }
    }
    best.t as f64 / 1000.0
}

/// Orders an instant query's result the way Prometheus returns it for `sort*`,
/// `topk` and `bottomk` at the top of the expression.
pub(super) fn order_instant_result(expr: &Expr, v: &mut [Sample]) {
    match expr.unparen() {
        Expr::Call(c) => match c.func.name {
            "sort" => v.sort_by(|a, b| nan_last(a.f, b.f, false)),
            "sort_desc" => v.sort_by(|a, b| nan_last(a.f, b.f, true)),
            "sort_by_label" | "sort_by_label_desc" => {
                let names: Vec<String> = c.args[1..]
                    .iter()
                    .filter_map(|a| match a.unparen() {
                        Expr::StringLiteral(s) => Some(s.value.clone()),
                        _ => None,
                    })
                    .collect();
                let desc = c.func.name == "sort_by_label_desc";
                v.sort_by(|a, b| {
                    for n in &names {
                        let o = natural_cmp(
                            a.metric.get(n).unwrap_or(""),
                            b.metric.get(n).unwrap_or(""),
                        );
                        if o != std::cmp::Ordering::Equal {
                            return if desc { o.reverse() } else { o };
                        }
                    }
                    let o = a.metric.cmp(&b.metric);
                    if desc {
                        o.reverse()
                    } else {
                        o
                    }
                });
            }
            _ => {}
        },
        Expr::Aggregate(a) if a.op == AggregateOp::Topk => {
            v.sort_by(|a, b| nan_last(a.f, b.f, true))
        }
        Expr::Aggregate(a) if a.op == AggregateOp::Bottomk => {
            v.sort_by(|a, b| nan_last(a.f, b.f, false))
        }
        _ => {}
    }
}

fn nan_last(a: f64, b: f64, desc: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Equal,
        (true, false) => Greater,
        (false, true) => Less,
        _ => {
            let o = a.partial_cmp(&b).unwrap_or(Equal);
            if desc {
                o.reverse()
            } else {
                o
            }
        }
    }
}

/// Compares strings with runs of digits compared by numeric value.
pub(super) fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < ab.len() && j < bb.len() {
        if ab[i].is_ascii_digit() && bb[j].is_ascii_digit() {
            let si = i;
            while i < ab.len() && ab[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < bb.len() && bb[j].is_ascii_digit() {
                j += 1;
            }
            let na = a[si..i].trim_start_matches('0');
            let nb = b[sj..j].trim_start_matches('0');
            let o = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            if o != Equal {
                return o;
            }
        } else {
            let o = ab[i].cmp(&bb[j]);
            if o != Equal {
                return o;
            }
            i += 1;
            j += 1;
        }
    }
    (ab.len() - i).cmp(&(bb.len() - j))
}
