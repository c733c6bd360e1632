//! The evaluator: how is each node evaluated over the steps of a query?
//!
//! Every instant-vector node evaluates to a set of series whose points sit exactly on
//! the query steps (`start, start+step, ..., end`); scalars are one value per step;
//! matrix selectors and subqueries evaluate to raw points plus the window that each
//! step sees. An instant query is a range query with one step.

use super::error::EngineError;
use super::stats::{stats_hints_in_range, StatsMode};
use super::{Annotation, AnnotationKind, EngineOptions, QueryContext, QueryResult};
use crate::ast::{
    resolve_durations, AtModifier, DurationContext, Expr, MatrixSelector, Span, SubqueryExpr,
    UnaryOp, VectorSelector,
};
use crate::functions::extended;
use crate::storage::{SampleValue, SelectHints, Storage};
use crate::value::{is_stale_nan, FPoint, HPoint, Sample, Scalar, Series, StringValue, Value};
use exposition::histogram::FloatHistogram;
use exposition::Labels;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

/// How many loop iterations pass between two calls of the caller's cancellation check.
pub(super) const CANCEL_CHECK_EVERY: u64 = 1024;

/// What one query holds in memory right now, shared by the query and all its
/// subqueries: the samples of every materialised value that has not been consumed yet,
/// plus the points a node is building. Also paces the cancellation check.
#[derive(Default)]
pub(super) struct Budget {
    /// Samples held at this moment.
    held: Cell<usize>,
    /// Loop iterations seen (for pacing the cancellation check).
    ticks: Cell<u64>,
}

/// A fast hasher for keys that are already hashes or small integers (signatures,
/// series indexes); the std SipHash is needlessly slow for them.
#[derive(Default, Clone, Copy)]
pub(super) struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        // Fold the high bits down: keys that differ only in their high bits (the bit
        // patterns of small integral floats, as `count_values` hashes) would otherwise
        // share their low bits, which pick the bucket, and collide.
        // (MurmurHash3's 64-bit finaliser.)
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// `HashMap` with [`FastHasher`].
pub(super) type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;
/// `HashSet` with [`FastHasher`].
pub(super) type FastSet<K> =
    std::collections::HashSet<K, std::hash::BuildHasherDefault<FastHasher>>;

/// The value of a node during evaluation.
pub(super) enum Val {
    /// One value per step.
    Scalar(Vec<f64>),
    /// Series with points on the steps.
    Vector(Vec<Series>),
    /// Raw points and the window each step sees.
    Range(RangeVal),
    /// A string.
    String(String),
}

/// Which part of a range value a step sees: `(end - range, end]` with
/// `end = at.unwrap_or(step) - offset`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub range: i64,
    pub offset: i64,
    pub at: Option<i64>,
}

impl Window {
    /// `(start, end)` of the left-open window seen at step `ts`.
    pub fn bounds(&self, ts: i64) -> (i64, i64) {
        let end = self.at.unwrap_or(ts).saturating_sub(self.offset);
        (end.saturating_sub(self.range), end)
    }
}

/// How a range selector picks its points (the experimental `anchored` and `smoothed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RangeMode {
    /// The points of the left-open window.
    Plain,
    /// Plus the last point before the window, moved to its start.
    Anchored,
    /// With values interpolated at both window boundaries.
    Smoothed,
}

/// Raw series points (staleness markers removed) plus their window.
pub(super) struct RangeVal {
    pub series: Vec<Series>,
    pub window: Window,
    pub mode: RangeMode,
}

/// Slides a left-open window over sorted points; bounds must not decrease.
#[derive(Default, Clone, Copy)]
pub(super) struct WindowCursor {
    lo: usize,
    hi: usize,
}

impl WindowCursor {
    /// Index range of the points with `start < t <= end`.
    pub fn range(&mut self, pts: &[FPoint], start: i64, end: i64) -> (usize, usize) {
        let s = self.slice(pts, start, end);
        let a = self.lo;
        (a, a + s.len())
    }

    /// The points with `start < t <= end`.
    pub fn slice<'p>(&mut self, pts: &'p [FPoint], start: i64, end: i64) -> &'p [FPoint] {
        while self.hi < pts.len() && pts[self.hi].t <= end {
            self.hi += 1;
        }
        while self.lo < self.hi && pts[self.lo].t <= start {
            self.lo += 1;
        }
        if self.lo > self.hi {
            self.lo = self.hi;
        }
        &pts[self.lo..self.hi]
    }
}

/// Collects output points per label set, merging series that end up with the same
/// labels and rejecting two points for one label set at one timestamp.
#[derive(Default)]
pub(super) struct SeriesBuilder {
    index: HashMap<Labels, usize>,
    pub series: Vec<Series>,
    unsorted: Vec<bool>,
}

impl SeriesBuilder {
    /// Index of the output series for `labels`, creating it when new.
    pub fn slot(&mut self, labels: &Labels, drop_name: bool) -> usize {
        if let Some(&i) = self.index.get(labels) {
            return i;
        }
        let i = self.series.len();
        self.index.insert(labels.clone(), i);
        self.series.push(Series {
            histograms: Vec::new(),
            metric: labels.clone(),
            floats: Vec::new(),
            drop_name,
        });
        self.unsorted.push(false);
        i
    }

    /// Like [`Self::slot`], taking the labels by value (one clone fewer for new series).
    pub fn slot_owned(&mut self, labels: Labels, drop_name: bool) -> usize {
        if let Some(&i) = self.index.get(&labels) {
            return i;
        }
        let i = self.series.len();
        self.series.push(Series {
            histograms: Vec::new(),
            metric: labels.clone(),
            floats: Vec::new(),
            drop_name,
        });
        self.index.insert(labels, i);
        self.unsorted.push(false);
        i
    }

    /// Appends a point to slot `i`, erroring on a duplicate timestamp.
    pub fn push(&mut self, i: usize, p: FPoint) -> Result<(), EngineError> {
        let s = &mut self.series[i];
        if let Some(last) = s.floats.last() {
            if last.t == p.t {
                return Err(EngineError::DuplicateLabelset);
            }
            if last.t > p.t {
                self.unsorted[i] = true;
            }
        }
        s.floats.push(p);
        Ok(())
    }

    /// Adds a whole series (points in time order).
    pub fn add(
        &mut self,
        labels: &Labels,
        drop_name: bool,
        pts: Vec<FPoint>,
    ) -> Result<(), EngineError> {
        if pts.is_empty() {
            return Ok(());
        }
        if !self.index.contains_key(labels) {
            let i = self.series.len();
            self.index.insert(labels.clone(), i);
            self.series.push(Series {
                histograms: Vec::new(),
                metric: labels.clone(),
                floats: pts,
                drop_name,
            });
            self.unsorted.push(false);
            return Ok(());
        }
        let i = self.slot(labels, drop_name);
        for p in pts {
            self.push(i, p)?;
        }
        Ok(())
    }

    /// Appends a histogram point to slot `i`, erroring on a duplicate timestamp.
    pub fn push_h(&mut self, i: usize, p: HPoint) -> Result<(), EngineError> {
        let s = &mut self.series[i];
        if s.floats.iter().any(|f| f.t == p.t) {
            return Err(EngineError::DuplicateLabelset);
        }
        if let Some(last) = s.histograms.last() {
            if last.t == p.t {
                return Err(EngineError::DuplicateLabelset);
            }
            if last.t > p.t {
                self.unsorted[i] = true;
            }
        }
        s.histograms.push(p);
        Ok(())
    }

    /// Adds a whole series with float and histogram points (each in time order).
    pub fn add_series(
        &mut self,
        labels: &Labels,
        drop_name: bool,
        floats: Vec<FPoint>,
        histograms: Vec<HPoint>,
    ) -> Result<(), EngineError> {
        if histograms.is_empty() {
            return self.add(labels, drop_name, floats);
        }
        let fresh = !self.index.contains_key(labels);
        let i = self.slot(labels, drop_name);
        if fresh {
            self.series[i].floats = floats;
            self.series[i].histograms = histograms;
            return Ok(());
        }
        self.unsorted[i] = true;
        for p in floats {
            self.push(i, p)?;
        }
        for p in histograms {
            self.push_h(i, p)?;
        }
        Ok(())
    }

    /// The collected series, points sorted; errors when a merge produced two points
    /// at one timestamp.
    pub fn finish(mut self) -> Result<Vec<Series>, EngineError> {
        for (i, s) in self.series.iter_mut().enumerate() {
            if self.unsorted[i] {
                s.floats.sort_by_key(|p| p.t);
                if s.floats.windows(2).any(|w| w[0].t == w[1].t) {
                    return Err(EngineError::DuplicateLabelset);
                }
                s.histograms.sort_by_key(|p| p.t);
                if s.histograms.windows(2).any(|w| w[0].t == w[1].t) {
                    return Err(EngineError::DuplicateLabelset);
                }
                if !s.histograms.is_empty()
                    && s.floats
                        .iter()
                        .any(|f| s.histograms.binary_search_by_key(&f.t, |h| h.t).is_ok())
                {
                    return Err(EngineError::DuplicateLabelset);
                }
            }
        }
        self.series.retain(|s| !s.is_empty());
        Ok(self.series)
    }
}

/// One sample value during evaluation: a float or a histogram.
#[derive(Clone, Debug)]
pub(super) enum SV {
    /// A float.
    F(f64),
    /// A histogram.
    H(Arc<FloatHistogram>),
}

impl SeriesBuilder {
    /// Appends a float or histogram point to slot `i`.
    pub fn push_sv(&mut self, i: usize, t: i64, v: SV) -> Result<(), EngineError> {
        match v {
            SV::F(f) => self.push(i, FPoint { t, f }),
            SV::H(h) => self.push_h(i, HPoint { t, h }),
        }
    }
}

/// Per-step view of a set of step-aligned series: which series have a point at each step.
pub(super) struct StepCursor<'s> {
    series: &'s [Series],
    pos: Vec<usize>,
    /// Histogram positions; empty when no series has histograms.
    hpos: Vec<usize>,
}

impl<'s> StepCursor<'s> {
    pub fn new(series: &'s [Series]) -> Self {
        let any_h = series.iter().any(|s| !s.histograms.is_empty());
        StepCursor {
            series,
            pos: vec![0; series.len()],
            hpos: if any_h {
                vec![0; series.len()]
            } else {
                Vec::new()
            },
        }
    }

    /// Fills `out` with `(series index, value)` of every series that has a float or
    /// histogram point at `ts`. Steps must be visited in increasing order; do not mix
    /// with [`Self::at`] on one cursor.
    pub fn at_sv(&mut self, ts: i64, out: &mut Vec<(usize, SV)>) {
        out.clear();
        for (i, s) in self.series.iter().enumerate() {
            let p = self.pos[i];
            if let Some(pt) = s.floats.get(p) {
                if pt.t == ts {
                    out.push((i, SV::F(pt.f)));
                    self.pos[i] = p + 1;
                    continue;
                }
            }
            if self.hpos.is_empty() {
                continue;
            }
            let p = self.hpos[i];
            if let Some(pt) = s.histograms.get(p) {
                if pt.t == ts {
                    out.push((i, SV::H(pt.h.clone())));
                    self.hpos[i] = p + 1;
                }
            }
        }
    }

    /// Fills `out` with `(series index, histogram)` of every series that has a
    /// histogram point at `ts`. Steps must be visited in increasing order.
    pub fn at_h(&mut self, ts: i64, out: &mut Vec<(usize, Arc<FloatHistogram>)>) {
        out.clear();
        if self.hpos.is_empty() {
            return;
        }
        for (i, s) in self.series.iter().enumerate() {
            let p = self.hpos[i];
            if let Some(pt) = s.histograms.get(p) {
                if pt.t == ts {
                    out.push((i, pt.h.clone()));
                    self.hpos[i] = p + 1;
                }
            }
        }
    }

    /// Fills `out` with `(series index, value)` of every series that has a point at `ts`.
    /// Steps must be visited in increasing order.
    pub fn at(&mut self, ts: i64, out: &mut Vec<(usize, f64)>) {
        out.clear();
        for (i, s) in self.series.iter().enumerate() {
            let p = self.pos[i];
            if let Some(pt) = s.floats.get(p) {
                if pt.t == ts {
                    out.push((i, pt.f));
                    self.pos[i] = p + 1;
                }
            }
        }
    }
}

/// The evaluator for one query (or one subquery).
pub(super) struct Ev<'a> {
    pub opts: &'a EngineOptions,
    pub storage: &'a dyn Storage,
    pub start: i64,
    pub end: i64,
    pub interval: i64,
    pub query_start: i64,
    pub query_end: i64,
    /// The step of the whole query (0 for instant queries).
    pub query_step: i64,
    pub annos: Vec<Annotation>,
    pub cancel: Option<&'a dyn Fn() -> bool>,
    /// The sample accounting shared with the parent query and all subqueries.
    pub budget: &'a Budget,
    /// Whether selectors hand out histograms the way Prometheus's stats iterator does.
    pub stats: StatsMode,
}

/// Runs a whole query and shapes the result.
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    opts: &EngineOptions,
    storage: &dyn Storage,
    expr: &Expr,
    start: i64,
    end: i64,
    step: i64,
    instant: bool,
    ctx: QueryContext<'_>,
) -> Result<QueryResult, EngineError> {
    let mut expr = expr.clone();
    resolve_durations(
        &mut expr,
        &DurationContext {
            step_ms: step,
            range_ms: end - start,
        },
    )?;
    let budget = Budget::default();
    let mut ev = Ev {
        budget: &budget,
        opts,
        storage,
        start,
        end,
        interval: if step <= 0 { 1 } else { step },
        query_start: start,
        query_end: end,
        query_step: step,
        annos: Vec::new(),
        cancel: ctx.cancel,
        stats: StatsMode::Off,
    };
    ev.check_samples(ev.nsteps())?;
    let val = ev.eval(&expr)?;
    let value = if instant {
        match val {
            Val::Scalar(v) => Value::Scalar(Scalar { t: start, v: v[0] }),
            Val::String(s) => Value::String(StringValue { t: start, s }),
            Val::Vector(series) => {
                let mut vec: Vec<Sample> = series
                    .into_iter()
                    .filter_map(|s| match (s.floats.first(), s.histograms.first()) {
                        (Some(p), _) => Some(Sample {
                            h: None,
                            metric: s.metric,
                            t: start,
                            f: p.f,
                            drop_name: s.drop_name,
                        }),
                        (None, Some(p)) => Some(Sample {
                            h: Some(p.h.clone()),
                            metric: s.metric,
                            t: start,
                            f: 0.0,
                            drop_name: s.drop_name,
                        }),
                        (None, None) => None,
                    })
                    .collect();
                for s in &mut vec {
                    if s.drop_name {
                        s.metric = strip_name(&s.metric);
                        s.drop_name = false;
                    }
                }
                let mut seen: Vec<&Labels> = vec.iter().map(|s| &s.metric).collect();
                seen.sort();
                if seen.windows(2).any(|w| w[0] == w[1]) {
                    return Err(EngineError::DuplicateLabelset);
                }
                super::call::order_instant_result(&expr, &mut vec);
                Value::Vector(vec)
            }
            Val::Range(r) => {
                let mut out = Vec::new();
                for mut s in r.series {
                    let (lo, hi) = r.window.bounds(start);
                    s.floats.retain(|p| p.t > lo && p.t <= hi);
                    s.histograms.retain(|p| p.t > lo && p.t <= hi);
                    if !s.is_empty() {
                        if s.drop_name {
                            s.metric = strip_name(&s.metric);
                            s.drop_name = false;
                        }
                        out.push(s);
                    }
                }
                check_unique(&mut out)?;
                Value::Matrix(out)
            }
        }
    } else {
        match val {
            Val::Scalar(v) => {
                let floats = v
                    .iter()
                    .enumerate()
                    .map(|(i, &f)| FPoint { t: ev.ts(i), f })
                    .collect();
                Value::Matrix(vec![Series { histograms: Vec::new(),
                    metric: Labels::empty(),
                    floats,
                    drop_name: false,
                }])
            }
            Val::Vector(mut series) => {
                for s in &mut series {
                    if s.drop_name {
                        s.metric = strip_name(&s.metric);
                        s.drop_name = false;
                    }
                }
                check_unique(&mut series)?;
                Value::Matrix(series)
            }
            Val::Range(_) => {
                return Err(EngineError::InvalidArgument(
                    "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector".into(),
                ))
            }
            Val::String(_) => {
                return Err(EngineError::InvalidArgument(
                    "invalid expression type \"string\" for range query, must be Scalar or instant Vector".into(),
                ))
            }
        }
    };
    let mut annotations = ev.annos;
    annotations.sort_by(|a, b| {
        (a.kind, &a.message, a.span.start, a.span.end).cmp(&(
            b.kind,
            &b.message,
            b.span.start,
            b.span.end,
        ))
    });
    annotations.dedup();
    Ok(QueryResult { value, annotations })
}

/// Labels that go with the metric name: dropping the name drops `__type__` and
/// `__unit__` too (as Prometheus does with its type-and-unit feature off).
pub(super) const NAME_LABELS: [&str; 3] = ["__name__", "__type__", "__unit__"];

/// The labels without the metric name (and its `__type__`/`__unit__` companions).
pub(super) fn strip_name(l: &Labels) -> Labels {
    if l.iter().any(|x| NAME_LABELS.contains(&x.name.as_str())) {
        l.without(&NAME_LABELS)
    } else {
        l.clone()
    }
}

/// Sorts a matrix by labels, merging series that ended up with the same labels when
/// their points do not overlap in time (and rejecting them when they do).
fn check_unique(m: &mut Vec<Series>) -> Result<(), EngineError> {
    m.sort_by(|a, b| a.metric.cmp(&b.metric));
    if !m.windows(2).any(|w| w[0].metric == w[1].metric) {
        return Ok(());
    }
    let mut out: Vec<Series> = Vec::with_capacity(m.len());
    for s in m.drain(..) {
        match out.last_mut() {
            Some(last) if last.metric == s.metric => {
                last.floats.extend(s.floats);
                last.floats.sort_by_key(|p| p.t);
                last.histograms.extend(s.histograms);
                last.histograms.sort_by_key(|p| p.t);
                let mut ts: Vec<i64> = last.floats.iter().map(|p| p.t).collect();
                ts.extend(last.histograms.iter().map(|p| p.t));
                ts.sort_unstable();
                if ts.windows(2).any(|w| w[0] == w[1]) {
                    return Err(EngineError::DuplicateLabelset);
                }
            }
            _ => out.push(s),
        }
    }
    *m = out;
    Ok(())
}

impl<'a> Ev<'a> {
    /// Number of steps.
    pub fn nsteps(&self) -> usize {
        if self.end < self.start {
            0
        } else {
            (self.end.saturating_sub(self.start) / self.interval) as usize + 1
        }
    }

    /// Timestamp of step `i`.
    #[inline]
    pub fn ts(&self, i: usize) -> i64 {
        self.start + i as i64 * self.interval
    }

    /// Step index of timestamp `t` (which must be a step).
    #[inline]
    pub fn step_of(&self, t: i64) -> usize {
        ((t - self.start) / self.interval) as usize
    }

    /// Records an annotation.
    pub fn annotate(&mut self, kind: AnnotationKind, message: String, span: Span) {
        self.annos.push(Annotation {
            kind,
            message,
            span,
        });
    }

    /// Fails when the caller cancelled.
    pub fn check_cancel(&self) -> Result<(), EngineError> {
        if let Some(c) = self.cancel {
            if c() {
                return Err(EngineError::Canceled("query execution"));
            }
        }
        Ok(())
    }

    /// Fails when holding `n` more samples (on top of what the query holds now)
    /// would exceed the limit; does not record them.
    pub fn check_samples(&self, n: usize) -> Result<(), EngineError> {
        if self.budget.held.get().saturating_add(n) > self.opts.max_samples {
            return Err(EngineError::TooManySamples("query execution"));
        }
        Ok(())
    }

    /// Records `n` more samples held in memory; fails when the query now holds more
    /// than the limit.
    #[inline]
    pub fn hold(&self, n: usize) -> Result<(), EngineError> {
        let b = self.budget;
        let h = b.held.get().saturating_add(n);
        b.held.set(h);
        if h > self.opts.max_samples {
            return Err(EngineError::TooManySamples("query execution"));
        }
        Ok(())
    }

    /// Samples held by the query right now.
    #[inline]
    pub fn held(&self) -> usize {
        self.budget.held.get()
    }

    /// Releases samples back to `level` (the values above it were consumed or dropped).
    #[inline]
    pub fn release_to(&self, level: usize) {
        self.budget.held.set(level);
    }

    /// One iteration of a hot loop: calls the cancellation check every
    /// [`CANCEL_CHECK_EVERY`] iterations.
    #[inline]
    pub fn tick(&self) -> Result<(), EngineError> {
        let b = self.budget;
        let t = b.ticks.get().wrapping_add(1);
        b.ticks.set(t);
        if t.is_multiple_of(CANCEL_CHECK_EVERY) {
            self.check_cancel()?;
        }
        Ok(())
    }

    /// [`Self::tick`] plus [`Self::hold`] of one sample: a loop iteration that
    /// produced one output point.
    #[inline]
    pub fn tick_hold(&self) -> Result<(), EngineError> {
        self.tick()?;
        self.hold(1)
    }

    /// Resolves an `@` modifier to milliseconds.
    pub fn at_time(&self, at: Option<AtModifier>) -> Option<i64> {
        at.map(|a| match a {
            AtModifier::Timestamp(t) => t,
            AtModifier::Start => self.query_start,
            AtModifier::End => self.query_end,
        })
    }

    /// Evaluates any node.
    ///
    /// Accounting: the children's results and the points this node builds are held
    /// while it runs; when it returns, they count as consumed and only the result
    /// stays held.
    pub fn eval(&mut self, e: &Expr) -> Result<Val, EngineError> {
        self.check_cancel()?;
        let base = self.held();
        let v = match e {
            Expr::NumberLiteral(n) => {
                self.check_samples(self.nsteps())?;
                Val::Scalar(vec![n.value; self.nsteps()])
            }
            Expr::StringLiteral(s) => Val::String(s.value.clone()),
            Expr::Paren(p) => self.eval(&p.expr)?,
            Expr::Unary(u) => {
                let v = self.eval(&u.expr)?;
                match (u.op, v) {
                    (UnaryOp::Pos, v) => v,
                    (UnaryOp::Neg, Val::Scalar(mut s)) => {
                        s.iter_mut().for_each(|x| *x = -*x);
                        Val::Scalar(s)
                    }
                    (UnaryOp::Neg, Val::Vector(mut series)) => {
                        for s in &mut series {
                            s.floats.iter_mut().for_each(|p| p.f = -p.f);
                            for p in &mut s.histograms {
                                let mut h = (*p.h).clone();
                                h.negate();
                                p.h = Arc::new(h);
                            }
                            self.drop_name(s);
                        }
                        Val::Vector(series)
                    }
                    (UnaryOp::Neg, _) => {
                        return Err(EngineError::InvalidArgument(
                            "unary minus only applies to scalars and instant vectors".into(),
                        ))
                    }
                }
            }
            Expr::VectorSelector(vs) => Val::Vector(self.eval_vector_selector(vs, false)?),
            Expr::MatrixSelector(ms) => Val::Range(self.eval_matrix_selector(ms)?),
            Expr::Subquery(sq) => Val::Range(self.eval_subquery(sq)?),
            Expr::Binary(b) => self.eval_binary(b)?,
            Expr::Aggregate(a) => self.eval_aggregate(a)?,
            Expr::Call(c) => {
                let outer = self.stats;
                self.stats = outer.for_call(c.func.name);
                let v = self.eval_call(c);
                self.stats = outer;
                v?
            }
        };
        // Without delayed name removal, names are gone as soon as an operator or function
        // drops them, and series that then share labels are merged or, when they meet
        // at one timestamp, rejected right there (Prometheus's default).
        let v = match v {
            Val::Vector(mut s)
                if !self.opts.delayed_name_removal
                    && matches!(e, Expr::Binary(_) | Expr::Call(_) | Expr::Unary(_)) =>
            {
                check_unique(&mut s)?;
                Val::Vector(s)
            }
            other => other,
        };
        let n = match &v {
            Val::Vector(s) => s.iter().map(|s| s.len()).sum(),
            Val::Range(r) => r.series.iter().map(|s| s.len()).sum(),
            Val::Scalar(v) => v.len(),
            Val::String(_) => 0,
        };
        self.release_to(base);
        self.hold(n)?;
        Ok(v)
    }

    /// Marks a series' name for removal (or removes it at once without delayed removal).
    pub fn drop_name(&self, s: &mut Series) {
        if self.opts.delayed_name_removal {
            s.drop_name = true;
        } else {
            s.metric = strip_name(&s.metric);
        }
    }

    /// Evaluates an instant selector: at each step the latest sample in the lookback
    /// window `(t - lookback, t]`, unless it is a staleness marker. With `timestamps`,
    /// the value is the sample's timestamp in seconds (for `timestamp()`).
    pub fn eval_vector_selector(
        &mut self,
        vs: &VectorSelector,
        timestamps: bool,
    ) -> Result<Vec<Series>, EngineError> {
        let at = self.at_time(vs.at);
        let off = vs.offset;
        let lb = self.opts.lookback_delta_ms;
        let n = self.nsteps();
        if n == 0 {
            return Ok(Vec::new());
        }
        let (r0, r1) = match at {
            Some(a) => (a.saturating_sub(off), a.saturating_sub(off)),
            None => (self.start.saturating_sub(off), self.end.saturating_sub(off)),
        };
        if vs.smoothed {
            return self.eval_smoothed_selector(vs, r0, r1);
        }
        // The stats iterator also reads a sample right at the start of the lookback.
        let first = if self.stats == StatsMode::On { 0 } else { 1 };
        let q = self
            .storage
            .querier(r0.saturating_sub(lb).saturating_add(first), r1)?;
        let hints = SelectHints {
            start: r0.saturating_sub(lb).saturating_add(first),
            end: r1,
            step: self.interval,
            range: 0,
        };
        let set = q.select(&hints, &vs.matchers)?;
        let mut out = Vec::with_capacity(set.len());
        for s in set {
            self.check_cancel()?;
            if !s.may_have_histograms() {
                // Float-only series: the plain loop.
                let mut it = s.iter();
                let mut prev: Option<(i64, f64)> = None;
                let mut peek = it.next();
                let mut pts = Vec::new();
                for i in 0..n {
                    self.tick()?;
                    let ts = self.ts(i);
                    let r = at.unwrap_or(ts).saturating_sub(off);
                    while let Some(p) = peek {
                        if p.0 <= r {
                            prev = Some(p);
                            peek = it.next();
                        } else {
                            break;
                        }
                    }
                    if let Some((t, f)) = prev {
                        if t > r.saturating_sub(lb) && !is_stale_nan(f) {
                            let f = if timestamps { t as f64 / 1000.0 } else { f };
                            self.hold(1)?;
                            pts.push(FPoint { t: ts, f });
                        }
                    }
                }
                if !pts.is_empty() {
                    out.push(Series::from_floats(s.labels().clone(), pts, false));
                }
                continue;
            }
            if self.stats == StatsMode::On {
                out.extend(self.stats_vector_series(&*s, at, off, timestamps)?);
                continue;
            }
            let mut it = s.iter();
            let mut prev: Option<(i64, SampleValue)> = None;
            let mut peek = it.next_value();
            let mut pts = Vec::new();
            let mut hpts = Vec::new();
            for i in 0..n {
                self.tick()?;
                let ts = self.ts(i);
                let r = at.unwrap_or(ts).saturating_sub(off);
                while let Some(p) = &peek {
                    if p.0 <= r {
                        prev = peek.take();
                        peek = it.next_value();
                    } else {
                        break;
                    }
                }
                match &prev {
                    Some((t, SampleValue::Float(f)))
                        if *t > r.saturating_sub(lb) && !is_stale_nan(*f) =>
                    {
                        let f = if timestamps { *t as f64 / 1000.0 } else { *f };
                        self.hold(1)?;
                        pts.push(FPoint { t: ts, f });
                    }
                    Some((t, SampleValue::Histogram(h)))
                        if *t > r.saturating_sub(lb) && !is_stale_nan(h.sum) =>
                    {
                        self.hold(1)?;
                        if timestamps {
                            pts.push(FPoint {
                                t: ts,
                                f: *t as f64 / 1000.0,
                            });
                        } else {
                            hpts.push(HPoint {
                                t: ts,
                                h: h.clone(),
                            });
                        }
                    }
                    _ => {}
                }
            }
            if !pts.is_empty() || !hpts.is_empty() {
                out.push(Series {
                    histograms: hpts,
                    metric: s.labels().clone(),
                    floats: pts,
                    drop_name: false,
                });
            }
        }
        Ok(out)
    }

    /// An instant selector with `smoothed`: the value at each step is interpolated between
    /// the samples around it.
    fn eval_smoothed_selector(
        &mut self,
        vs: &VectorSelector,
        r0: i64,
        r1: i64,
    ) -> Result<Vec<Series>, EngineError> {
        let at = self.at_time(vs.at);
        let lb = self.opts.lookback_delta_ms;
        let q = self.storage.querier(
            r0.saturating_sub(lb).saturating_add(1),
            r1.saturating_add(lb),
        )?;
        let hints = SelectHints {
            start: r0.saturating_sub(lb).saturating_add(1),
            end: r1.saturating_add(lb),
            step: self.interval,
            range: 0,
        };
        let set = q.select(&hints, &vs.matchers)?;
        let mut out = Vec::new();
        for s in set {
            let mut it = s.iter();
            self.check_cancel()?;
            if s.may_have_histograms() {
                let held = self.held();
                let mut series = Series {
                    histograms: Vec::new(),
                    metric: s.labels().clone(),
                    floats: Vec::new(),
                    drop_name: false,
                };
                while let Some((t, v)) = it.next_value() {
                    self.tick_hold()?;
                    match v {
                        SampleValue::Float(f) => series.floats.push(FPoint { t, f }),
                        SampleValue::Histogram(h) => series.histograms.push(HPoint { t, h }),
                    }
                }
                let series = self.smoothed_series(series, at, vs.offset, vs.span)?;
                self.release_to(held + series.len());
                if !series.is_empty() {
                    out.push(series);
                }
                continue;
            }
            let mut all = Vec::new();
            let held = self.held();
            while let Some((t, f)) = it.next() {
                self.tick_hold()?;
                all.push(FPoint { t, f });
            }
            let mut pts = Vec::new();
            for i in 0..self.nsteps() {
                self.tick()?;
                let ts = self.ts(i);
                let r = at.unwrap_or(ts).saturating_sub(vs.offset);
                let k = all.partition_point(|p| p.t <= r);
                if k == 0 || all[k - 1].t <= r - lb || is_stale_nan(all[k - 1].f) {
                    continue;
                }
                let prev = all[k - 1];
                let f = match all.get(k) {
                    Some(&n) if n.t <= r + lb && !is_stale_nan(n.f) && prev.t != r => {
                        crate::functions::rate::interpolate(prev, n, r, false)
                    }
                    _ => prev.f,
                };
                self.hold(1)?;
                pts.push(FPoint { t: ts, f });
            }
            // The raw points of this series are dropped here.
            self.release_to(held + pts.len());
            if !pts.is_empty() {
                out.push(Series {
                    histograms: Vec::new(),
                    metric: s.labels().clone(),
                    floats: pts,
                    drop_name: false,
                });
            }
        }
        Ok(out)
    }

    /// The steps of a `smoothed` selector over one series that may hold histograms (raw
    /// points in `s`, staleness markers included); see [`extended::smoothed_value`].
    fn smoothed_series(
        &mut self,
        mut s: Series,
        at: Option<i64>,
        offset: i64,
        span: Span,
    ) -> Result<Series, EngineError> {
        let lb = self.opts.lookback_delta_ms;
        let (mut pts, mut hpts, mut notes) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..self.nsteps() {
            self.tick()?;
            let ts = self.ts(i);
            let r = at.unwrap_or(ts).saturating_sub(offset);
            let Some(v) = extended::smoothed_value(&s.floats, &s.histograms, r, lb, &mut notes)
            else {
                continue;
            };
            v.push_to(ts, &mut pts, &mut hpts);
            self.hold(1)?;
        }
        let name = s.metric.metric_name().unwrap_or("").to_string();
        self.ext_notes(notes, &name, span);
        s.floats = pts;
        s.histograms = hpts;
        Ok(s)
    }

    /// The window of a plain matrix selector and the time range its data covers.
    pub fn selector_window(&self, ms: &MatrixSelector) -> (Window, i64, i64) {
        let window = Window {
            range: ms.range,
            offset: ms.vector.offset,
            at: self.at_time(ms.vector.at),
        };
        let (s0, _) = window.bounds(self.start);
        let (_, e1) = window.bounds(self.end);
        (window, s0.saturating_add(1), e1)
    }

    /// Loads the raw points a matrix selector needs over all steps.
    pub fn eval_matrix_selector(&mut self, ms: &MatrixSelector) -> Result<RangeVal, EngineError> {
        let vs = &ms.vector;
        let window = Window {
            range: ms.range,
            offset: vs.offset,
            at: self.at_time(vs.at),
        };
        let mode = if vs.anchored {
            RangeMode::Anchored
        } else if vs.smoothed {
            RangeMode::Smoothed
        } else {
            RangeMode::Plain
        };
        if self.nsteps() == 0 {
            return Ok(RangeVal {
                series: Vec::new(),
                window,
                mode,
            });
        }
        let lb = self.opts.lookback_delta_ms;
        let (mut s0, _) = window.bounds(self.start);
        let (_, mut e1) = window.bounds(self.end);
        if mode != RangeMode::Plain {
            s0 = s0.saturating_sub(lb);
        }
        if mode == RangeMode::Smoothed {
            e1 = e1.saturating_add(lb);
        }
        // The stats iterator also reads a sample right at the start of the window.
        let stats = self.stats == StatsMode::On && mode == RangeMode::Plain;
        let first = if stats { 0 } else { 1 };
        let q = self.storage.querier(s0.saturating_add(first), e1)?;
        let hints = SelectHints {
            start: s0.saturating_add(first),
            end: e1,
            step: self.interval,
            range: ms.range,
        };
        let set = q.select(&hints, &vs.matchers)?;
        let mut series = Vec::with_capacity(set.len());
        for s in set {
            self.check_cancel()?;
            let mut it = s.iter();
            let mut pts = Vec::new();
            let mut hpts = Vec::new();
            if !s.may_have_histograms() {
                while let Some((t, f)) = it.next() {
                    if !is_stale_nan(f) {
                        self.tick_hold()?;
                        pts.push(FPoint { t, f });
                    }
                }
            } else {
                while let Some((t, v)) = it.next_value() {
                    match v {
                        SampleValue::Float(f) => {
                            if !is_stale_nan(f) {
                                self.tick_hold()?;
                                pts.push(FPoint { t, f });
                            }
                        }
                        SampleValue::Histogram(h) => {
                            if !is_stale_nan(h.sum) {
                                self.tick_hold()?;
                                hpts.push(HPoint { t, h });
                            }
                        }
                    }
                }
            }
            if stats {
                stats_hints_in_range(&mut hpts, s0);
                pts.retain(|p| p.t > s0);
            }
            if !pts.is_empty() || !hpts.is_empty() {
                series.push(Series {
                    histograms: hpts,
                    metric: s.labels().clone(),
                    floats: pts,
                    drop_name: false,
                });
            }
        }
        Ok(RangeVal {
            series,
            window,
            mode,
        })
    }

    /// Evaluates a subquery's inner expression at its own aligned steps.
    pub fn eval_subquery(&mut self, sq: &SubqueryExpr) -> Result<RangeVal, EngineError> {
        let at = self.at_time(sq.at);
        let step = sq.step.unwrap_or(self.opts.default_subquery_step_ms).max(1);
        let (b0, b1) = match at {
            Some(a) => (a, a),
            None => (self.start, self.end),
        };
        let off = sq.offset;
        let lower = b0.saturating_sub(off).saturating_sub(sq.range);
        let mut sub_start = step * (lower / step);
        if sub_start <= lower {
            sub_start += step;
        }
        let mut sub = Ev {
            opts: self.opts,
            storage: self.storage,
            start: sub_start,
            end: b1.saturating_sub(off),
            interval: step,
            query_start: self.query_start,
            query_end: self.query_end,
            query_step: self.query_step,
            annos: Vec::new(),
            cancel: self.cancel,
            budget: self.budget,
            stats: StatsMode::Blocked,
        };
        // Guard the per-step buffers before allocating them.
        self.check_samples(sub.nsteps())?;
        let v = sub.eval(&sq.expr)?;
        self.annos.append(&mut sub.annos);
        let series = match v {
            Val::Vector(mut s) => {
                forget_reset_hints(&mut s);
                s
            }
            Val::Scalar(v) => vec![Series {
                histograms: Vec::new(),
                metric: Labels::empty(),
                floats: v
                    .iter()
                    .enumerate()
                    .map(|(i, &f)| FPoint { t: sub.ts(i), f })
                    .collect(),
                drop_name: false,
            }],
            _ => {
                return Err(EngineError::InvalidArgument(
                    "subquery is only allowed on instant vector".into(),
                ))
            }
        };
        Ok(RangeVal {
            series,
            window: Window {
                range: sq.range,
                offset: off,
                at,
            },
            mode: RangeMode::Plain,
        })
    }
}

/// Subquery steps are not consecutive samples, so the `reset`/`not_reset` hints of their
/// histograms say nothing about the step before; they become `unknown`, and functions
/// over the subquery detect resets themselves (gauge hints stay).
fn forget_reset_hints(series: &mut [Series]) {
    use exposition::histogram::CounterResetHint;
    for p in series.iter_mut().flat_map(|s| s.histograms.iter_mut()) {
        if matches!(
            p.h.counter_reset_hint,
            CounterResetHint::CounterReset | CounterResetHint::NotCounterReset
        ) {
            Arc::make_mut(&mut p.h).counter_reset_hint = CounterResetHint::Unknown;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exposition::histogram::CounterResetHint;

    #[test]
    fn subquery_results_forget_reset_hints_but_keep_gauges() {
        let point = |hint| HPoint {
            t: 0,
            h: Arc::new(FloatHistogram {
                counter_reset_hint: hint,
                ..Default::default()
            }),
        };
        let mut s = vec![Series {
            histograms: vec![
                point(CounterResetHint::CounterReset),
                point(CounterResetHint::NotCounterReset),
                point(CounterResetHint::Gauge),
            ],
            metric: Labels::empty(),
            floats: Vec::new(),
            drop_name: false,
        }];
        forget_reset_hints(&mut s);
        let hints: Vec<_> = s[0]
            .histograms
            .iter()
            .map(|p| p.h.counter_reset_hint)
            .collect();
        assert_eq!(
            hints,
            vec![
                CounterResetHint::Unknown,
                CounterResetHint::Unknown,
                CounterResetHint::Gauge
            ]
        );
    }
}
