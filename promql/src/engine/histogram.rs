//! Classic histograms: `histogram_quantile`, `histogram_quantiles` and
//! `histogram_fraction` over series with `le` bucket labels.

use super::aggregate::format_float;
use super::error::EngineError;
use super::eval::{Ev, SeriesBuilder, StepCursor, Val};
use super::AnnotationKind;
use crate::ast::{Call, Expr};
use crate::functions::histogram::{bucket_fraction, bucket_quantile, Bucket};
use crate::value::{FPoint, Series};
use exposition::histogram::FloatHistogram;
use exposition::Labels;
use std::collections::HashMap;

impl Ev<'_> {
    /// Groups `le`-bucket series: returns per-series (group index, upper bound) and group labels.
    fn bucket_groups(
        &mut self,
        v: &[Series],
        arg: &Expr,
    ) -> (Vec<Option<(usize, f64)>>, Vec<Labels>) {
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut groups = Vec::new();
        let mut per = Vec::with_capacity(v.len());
        for s in v {
            let le = s.metric.get("le").unwrap_or("");
            let ub = parse_go_float(le);
            let Some(ub) = ub else {
                let msg = format!(
                    "bucket label \"le\" is missing or has a malformed value of {le:?} for metric name {:?}",
                    s.metric.metric_name().unwrap_or("")
                );
                self.annotate(AnnotationKind::Warning, msg, arg.span());
                per.push(None);
                continue;
            };
            let g = s.metric.without(&["le"]);
            let gi = *index.entry(g.clone()).or_insert_with(|| {
                groups.push(g);
                groups.len() - 1
            });
            per.push(Some((gi, ub)));
        }
        (per, groups)
    }

    pub(super) fn histogram_quantile(&mut self, c: &Call) -> Result<Val, EngineError> {
        let q = self.scalar_arg(&c.args[0])?;
        let v = self.vector_arg(&c.args[1])?;
        let (classic, native) = split_native(v);
        let out = self.bucket_quantiles(&q, &classic, &c.args[0], &c.args[1])?;
        if native.is_empty() {
            return Ok(Val::Vector(out));
        }
        if classic.is_empty() {
            self.quantile_range_warning(&q, &c.args[0]);
        }
        let nat = self.native_quantiles(&q, native, &c.args[1]);
        self.merge_native(out, nat, &c.args[1]).map(Val::Vector)
    }

    /// Native-histogram quantiles, with the info Prometheus gives for histograms that
    /// hold NaN observations.
    fn native_quantiles(&mut self, q: &[f64], v: Vec<Series>, arg: &Expr) -> Vec<Series> {
        // Whether the result was NaN, for each histogram holding NaN observations.
        let mut notes: Vec<bool> = Vec::new();
        let out = self.map_native(v, |i, h| {
            let r = h.quantile(q[i]);
            if h.sum.is_nan() && h.count > 0.0 && (0.0..=1.0).contains(&q[i]) {
                notes.push(r.is_nan());
            }
            r
        });
        notes.sort();
        notes.dedup();
        let metric = self.nan_metric_name(arg);
        for is_nan in notes {
            let how = if is_nan {
                "result is NaN"
            } else {
                "result is skewed higher"
            };
            self.annotate(
                AnnotationKind::Info,
                format!(
                    "input to histogram_quantile has NaN observations, {how} for metric name {metric:?}"
                ),
                arg.span(),
            );
        }
        out
    }

    /// The metric name an annotation about the argument names (its selector's name).
    fn nan_metric_name(&self, arg: &Expr) -> String {
        let vs = match arg.unparen() {
            Expr::VectorSelector(vs) => Some(vs),
            _ => None,
        };
        vs.and_then(|vs| {
            vs.matchers
                .iter()
                .find(|m| {
                    m.name() == exposition::METRIC_NAME && m.op() == exposition::MatchOp::Equal
                })
                .map(|m| m.value().to_string())
        })
        .unwrap_or_default()
    }

    /// Warns once when a quantile argument is outside `[0, 1]`.
    fn quantile_range_warning(&mut self, q: &[f64], qarg: &Expr) {
        if let Some(&qv) = q
            .iter()
            .find(|&&qv| qv.is_nan() || !(0.0..=1.0).contains(&qv))
        {
            self.annotate(
                AnnotationKind::Warning,
                format!(
                    "quantile value should be between 0 and 1, got {}",
                    format_float(qv)
                ),
                qarg.span(),
            );
        }
    }

    /// Maps every histogram point of `v` to a float (the metric name is dropped).
    fn map_native(
        &mut self,
        v: Vec<Series>,
        mut f: impl FnMut(usize, &FloatHistogram) -> f64,
    ) -> Vec<Series> {
        let mut out = Vec::with_capacity(v.len());
        for mut s in v {
            s.floats = s
                .histograms
                .iter()
                .map(|p| FPoint {
                    t: p.t,
                    f: f(self.step_of(p.t), &p.h),
                })
                .collect();
            s.histograms = Vec::new();
            self.drop_name(&mut s);
            out.push(s);
        }
        out
    }

    /// Joins classic-bucket results and native-histogram results; where both give a
    /// value for one label set at one step, both are dropped with a warning.
    fn merge_native(
        &mut self,
        classic: Vec<Series>,
        native: Vec<Series>,
        arg: &Expr,
    ) -> Result<Vec<Series>, EngineError> {
        let mut out = SeriesBuilder::default();
        let mut mixed: Vec<String> = Vec::new();
        let mut index: HashMap<Labels, usize> = HashMap::new();
        for (i, s) in classic.iter().enumerate() {
            index.insert(super::eval::strip_name(&s.metric), i);
        }
        let mut classic = classic;
        for mut s in native {
            if let Some(&i) = index.get(&super::eval::strip_name(&s.metric)) {
                let c = &mut classic[i];
                let before = s.floats.len();
                let clash: Vec<i64> = s
                    .floats
                    .iter()
                    .filter(|p| c.floats.iter().any(|q| q.t == p.t))
                    .map(|p| p.t)
                    .collect();
                if !clash.is_empty() {
                    s.floats.retain(|p| !clash.contains(&p.t));
                    c.floats.retain(|p| !clash.contains(&p.t));
                    mixed.push(s.metric.metric_name().unwrap_or("").to_string());
                }
                let _ = before;
            }
            out.add(&s.metric, s.drop_name, s.floats)?;
        }
        for s in classic {
            out.add(&s.metric, s.drop_name, s.floats)?;
        }
        for m in mixed {
            self.annotate(
                AnnotationKind::Warning,
                format!(
                    "vector contains a mix of classic and native histograms for metric name {m:?}"
                ),
                arg.span(),
            );
        }
        out.finish()
    }

    /// `histogram_quantiles(v, "label", q1, q2, ...)`: one output series per quantile,
    /// told apart by `label`.
    pub(super) fn histogram_quantiles(&mut self, c: &Call) -> Result<Val, EngineError> {
        let v = self.vector_arg(&c.args[0])?;
        let (v, nat) = split_native(v);
        let label = self.string_arg(&c.args[1])?;
        let mut out = SeriesBuilder::default();
        for qe in &c.args[2..] {
            let q = self.scalar_arg(qe)?;
            let mut series = self.bucket_quantiles(&q, &v, qe, &c.args[0])?;
            if !nat.is_empty() {
                let n = self.native_quantiles(&q, nat.clone(), &c.args[0]);
                series = self.merge_native(series, n, &c.args[0])?;
            }
            for s in series {
                // The label carries the quantile of the first step (quantiles are constants).
                let mut text = format_float(q.first().copied().unwrap_or(f64::NAN));
                if q.first().is_some_and(|x| x.is_finite()) && !text.contains(['.', 'e']) {
                    text.push_str(".0");
                }
                let mut b = s.metric.builder();
                b.set(&label, &text);
                out.add(&b.build(), s.drop_name, s.floats)?;
            }
        }
        out.finish().map(Val::Vector)
    }

    fn bucket_quantiles(
        &mut self,
        q: &[f64],
        v: &[Series],
        qarg: &Expr,
        varg: &Expr,
    ) -> Result<Vec<Series>, EngineError> {
        let (per, groups) = self.bucket_groups(v, varg);
        let mut out: Vec<Series> = groups
            .iter()
            .map(|g| {
                let mut s = Series {
                    histograms: Vec::new(),
                    metric: g.clone(),
                    floats: Vec::new(),
                    drop_name: false,
                };
                self.drop_name(&mut s);
                s
            })
            .collect();
        let mut buckets: Vec<Vec<Bucket>> = vec![Vec::new(); groups.len()];
        let mut cur = StepCursor::new(v);
        let mut vec = Vec::new();
        if let Some(&qv) = q
            .iter()
            .find(|&&qv| qv.is_nan() || !(0.0..=1.0).contains(&qv))
        {
            self.annotate(
                AnnotationKind::Warning,
                format!(
                    "quantile value should be between 0 and 1, got {}",
                    format_float(qv)
                ),
                qarg.span(),
            );
        }
        let mut forced = vec![false; groups.len()];
        for i in 0..self.nsteps() {
            self.tick()?;
            let ts = self.ts(i);
            cur.at(ts, &mut vec);
            if vec.is_empty() {
                continue;
            }
            let qv = q[i];
            buckets.iter_mut().for_each(|b| b.clear());
            for &(j, f) in &vec {
                if let Some((g, ub)) = per[j] {
                    buckets[g].push(Bucket {
                        upper_bound: ub,
                        count: f,
                    });
                }
            }
            for (g, b) in buckets.iter_mut().enumerate() {
                if b.is_empty() {
                    continue;
                }
                let r = bucket_quantile(qv, std::mem::take(b));
                if r.forced_monotonic {
                    forced[g] = true;
                }
                out[g].floats.push(FPoint { t: ts, f: r.value });
            }
        }
        for (g, f) in forced.iter().enumerate() {
            if *f {
                let msg = format!(
                    "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {:?}",
                    groups[g].metric_name().unwrap_or("")
                );
                self.annotate(AnnotationKind::Info, msg, varg.span());
            }
        }
        out.retain(|s| !s.floats.is_empty());
        Ok(out)
    }

    pub(super) fn histogram_fraction(&mut self, c: &Call) -> Result<Val, EngineError> {
        let lo = self.scalar_arg(&c.args[0])?;
        let hi = self.scalar_arg(&c.args[1])?;
        let v = self.vector_arg(&c.args[2])?;
        let (classic, nat) = split_native(v);
        let out = self.classic_fraction(&lo, &hi, classic, &c.args[2])?;
        if nat.is_empty() {
            return Ok(Val::Vector(out));
        }
        let mut nan_obs = false;
        let nat = self.map_native(nat, |i, h| {
            nan_obs |= h.sum.is_nan() && h.count > 0.0;
            h.fraction(lo[i], hi[i])
        });
        if nan_obs {
            let metric = self.nan_metric_name(&c.args[2]);
            self.annotate(
                AnnotationKind::Info,
                format!(
                    "input to histogram_fraction has NaN observations, which are excluded from all fractions for metric name {metric:?}"
                ),
                c.args[2].span(),
            );
        }
        self.merge_native(out, nat, &c.args[2]).map(Val::Vector)
    }

    fn classic_fraction(
        &mut self,
        lo: &[f64],
        hi: &[f64],
        v: Vec<Series>,
        arg: &Expr,
    ) -> Result<Vec<Series>, EngineError> {
        let (per, groups) = self.bucket_groups(&v, arg);
        let mut out: Vec<Series> = groups
            .iter()
            .map(|g| {
                let mut s = Series {
                    histograms: Vec::new(),
                    metric: g.clone(),
                    floats: Vec::new(),
                    drop_name: false,
                };
                self.drop_name(&mut s);
                s
            })
            .collect();
        let mut buckets: Vec<Vec<Bucket>> = vec![Vec::new(); groups.len()];
        let mut cur = StepCursor::new(&v);
        let mut vec = Vec::new();
        for i in 0..self.nsteps() {
            self.tick()?;
            let ts = self.ts(i);
            cur.at(ts, &mut vec);
            buckets.iter_mut().for_each(|b| b.clear());
            for &(j, f) in &vec {
                if let Some((g, ub)) = per[j] {
                    buckets[g].push(Bucket {
                        upper_bound: ub,
                        count: f,
                    });
                }
            }
            for (g, b) in buckets.iter_mut().enumerate() {
                if b.is_empty() {
                    continue;
                }
                let f = bucket_fraction(lo[i], hi[i], std::mem::take(b));
                out[g].floats.push(FPoint { t: ts, f });
            }
        }
        out.retain(|s| !s.floats.is_empty());
        Ok(out)
    }
}

/// Parses a float the way Go's `strconv.ParseFloat` accepts bucket bounds.
/// Splits a vector into its float part (series with float points) and its
/// native-histogram part (series with histogram points).
fn split_native(v: Vec<Series>) -> (Vec<Series>, Vec<Series>) {
    let mut classic = Vec::with_capacity(v.len());
    let mut nat = Vec::new();
    for mut s in v {
        if !s.histograms.is_empty() {
            let mut h = Series::from_floats(s.metric.clone(), Vec::new(), s.drop_name);
            h.histograms = std::mem::take(&mut s.histograms);
            nat.push(h);
        }
        if !s.floats.is_empty() {
            classic.push(s);
        }
    }
    (classic, nat)
}

pub(crate) fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    match t.to_ascii_lowercase().as_str() {
        "+inf" | "inf" | "+infinity" | "infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if t != s {
        return None;
    }
    t.replace('_', "").parse::<f64>().ok()
}
