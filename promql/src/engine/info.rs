//! `info()`: enriching series with the data labels of info metrics.

use super::error::EngineError;
use super::eval::{Ev, SeriesBuilder, StepCursor, Val};
use crate::ast::{Call, Expr};
use crate::value::{FPoint, Series};
use exposition::{MatchOp, Matcher, METRIC_NAME};

/// The labels that tie a series to its info series.
const IDENTIFYING: [&str; 2] = ["instance", "job"];

impl Ev<'_> {
    /// `info(v, {selector})`: adds the data labels of matching info series (by default
    /// `target_info`, joined on `instance` and `job`) to each series of `v`.
    pub(super) fn info(&mut self, c: &Call) -> Result<Val, EngineError> {
        let base = self.vector_arg(&c.args[0])?;
        let sel = match c.args.get(1).map(|a| a.unparen()) {
            Some(Expr::VectorSelector(vs)) => Some(vs),
            Some(_) => {
                return Err(EngineError::InvalidArgument(
                    "info(): expected a selector".into(),
                ))
            }
            None => None,
        };
        let all: Vec<Matcher> = sel.map(|s| s.matchers.clone()).unwrap_or_default();
        let mut name_m: Vec<Matcher> = all
            .iter()
            .filter(|m| m.name() == METRIC_NAME)
            .cloned()
            .collect();
        let data_m: Vec<Matcher> = all
            .iter()
            .filter(|m| m.name() != METRIC_NAME)
            .cloned()
            .collect();
        if name_m.is_empty() {
            name_m.push(Matcher::equal(METRIC_NAME, "target_info"));
        } else if name_m.iter().all(|m| m.op().is_negative()) {
            // Only negative name matchers: candidates are still info metrics.
            if let Ok(m) = Matcher::new(MatchOp::RegexMatch, METRIC_NAME, ".+_info") {
                name_m.push(m);
            }
        }
        // Info series are looked up at the time the base samples come from.
        let (offset, at) = time_shift(&c.args[0]);
        let info_sel = crate::ast::VectorSelector {
            name: None,
            matchers: name_m.clone(),
            offset,
            offset_expr: None,
            at,
            anchored: false,
            smoothed: false,
            span: c.span,
        };
        // Values are the sample timestamps: only presence and age matter.
        let infos: Vec<Series> = self
            .eval_vector_selector(&info_sel, true)?
            .into_iter()
            .filter(|s| {
                data_m
                    .iter()
                    .all(|m| m.matches(s.metric.get(m.name()).unwrap_or("")))
            })
            .collect();
        let hist_infos = self.histogram_info_steps(&info_sel, &data_m, &name_m, &base)?;
        let empty_ok = data_m.iter().all(|m| m.matches_empty());
        let mut out = SeriesBuilder::default();
        let mut icur = StepCursor::new(&infos);
        let mut ivec = Vec::new();
        let mut bcur = StepCursor::new(&base);
        let mut bvec = Vec::new();
        for i in 0..self.nsteps() {
            self.tick()?;
            let ts = self.ts(i);
            icur.at(ts, &mut ivec);
            bcur.at(ts, &mut bvec);
            if hist_infos.iter().any(|t| t.binary_search(&ts).is_ok())
                && (!bvec.is_empty()
                    || base
                        .iter()
                        .any(|b| b.histograms.binary_search_by_key(&ts, |p| p.t).is_ok()))
            {
                return Err(EngineError::InfoSampleNotFloat);
            }
            for &(j, f) in &bvec {
                let b = &base[j];
                let is_info = name_m.iter().any(|m| !m.op().is_negative())
                    && name_m
                        .iter()
                        .all(|m| m.matches(b.metric.metric_name().unwrap_or("")));
                if is_info {
                    let slot = out.slot(&b.metric, b.drop_name);
                    out.push(slot, FPoint { t: ts, f })?;
                    continue;
                }
                let mut lb = b.metric.builder();
                // Per info metric name, the newest matching info series wins.
                let mut newest: Vec<(&str, usize, f64)> = Vec::new();
                for &(k, sample_t) in &ivec {
                    let inf = &infos[k];
                    if !IDENTIFYING
                        .iter()
                        .all(|n| inf.metric.get(n).unwrap_or("") == b.metric.get(n).unwrap_or(""))
                    {
                        continue;
                    }
                    let name = inf.metric.metric_name().unwrap_or("");
                    match newest.iter_mut().find(|(n, _, _)| *n == name) {
                        Some(e) if sample_t > e.2 => *e = (name, k, sample_t),
                        Some(_) => {}
                        None => newest.push((name, k, sample_t)),
                    }
                }
                let matched = !newest.is_empty();
                let mut added: Vec<(&str, &str)> = Vec::new();
                for &(_, k, _) in &newest {
                    for l in infos[k].metric.iter() {
                        if l.name == METRIC_NAME || IDENTIFYING.contains(&l.name.as_str()) {
                            continue;
                        }
                        if !data_m.is_empty() && !data_m.iter().any(|m| m.name() == l.name) {
                            continue;
                        }
                        if b.metric.contains(&l.name) {
                            continue;
                        }
                        if let Some((_, v)) = added.iter().find(|(n, _)| *n == l.name) {
                            if *v != l.value {
                                return Err(EngineError::InvalidArgument(format!(
                                    "info(): conflicting label {:?}: values {:?} and {:?} from different info metrics",
                                    l.name, v, l.value
                                )));
                            }
                            continue;
                        }
                        added.push((&l.name, &l.value));
                        lb.set(&l.name, &l.value);
                    }
                }
                if !matched && !empty_ok {
                    continue;
                }
                let slot = out.slot(&lb.build(), b.drop_name);
                out.push(slot, FPoint { t: ts, f })?;
            }
        }
        out.finish().map(Val::Vector)
    }
}

impl Ev<'_> {
    /// The steps at which the info series `info()` would join with `base` hold native
    /// histograms, one list per such series. Info series are only those whose
    /// identifying labels take values that some base series (other than an info
    /// series itself) has.
    fn histogram_info_steps(
        &mut self,
        info_sel: &crate::ast::VectorSelector,
        data_m: &[Matcher],
        name_m: &[Matcher],
        base: &[Series],
    ) -> Result<Vec<Vec<i64>>, EngineError> {
        let is_info = |s: &Series| {
            name_m.iter().any(|m| !m.op().is_negative())
                && name_m
                    .iter()
                    .all(|m| m.matches(s.metric.metric_name().unwrap_or("")))
        };
        // Per identifying label, the values the (non-info) base series have.
        let mut wanted: Vec<(&str, Vec<&str>)> = Vec::new();
        for s in base.iter().filter(|s| !is_info(s)) {
            for n in IDENTIFYING {
                match s.metric.get(n) {
                    Some(v) if !v.is_empty() => match wanted.iter_mut().find(|w| w.0 == n) {
                        Some(w) => w.1.push(v),
                        None => wanted.push((n, vec![v])),
                    },
                    _ => {}
                }
            }
        }
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let held = self.held();
        let infos = self.eval_vector_selector(info_sel, false)?;
        self.release_to(held);
        Ok(infos
            .into_iter()
            .filter(|s| !s.histograms.is_empty())
            .filter(|s| {
                data_m
                    .iter()
                    .all(|m| m.matches(s.metric.get(m.name()).unwrap_or("")))
            })
            .filter(|s| {
                wanted
                    .iter()
                    .all(|(n, vs)| vs.contains(&s.metric.get(n).unwrap_or("")))
            })
            .map(|s| s.histograms.iter().map(|p| p.t).collect())
            .collect())
    }
}

/// The `offset` and `@` that decide when the samples of `e` were taken, following
/// selectors through functions, aggregations and subqueries (inner offsets add up).
fn time_shift(e: &Expr) -> (i64, Option<crate::ast::AtModifier>) {
    match e.unparen() {
        Expr::VectorSelector(vs) => (vs.offset, vs.at),
        Expr::MatrixSelector(ms) => (ms.vector.offset, ms.vector.at),
        Expr::Subquery(sq) => {
            let (inner_off, inner_at) = time_shift(&sq.expr);
            match inner_at {
                Some(a) => (inner_off, Some(a)),
                None => (sq.offset + inner_off, sq.at),
            }
        }
        Expr::Call(c) => c
            .args
            .iter()
            .find(|a| {
                matches!(
                    a.value_type(),
                    crate::ValueType::Vector | crate::ValueType::Matrix
                )
            })
            .map(time_shift)
            .unwrap_or((0, None)),
        Expr::Aggregate(a) => time_shift(&a.expr),
        Expr::Unary(u) => time_shift(&u.expr),
        Expr::Binary(b) => time_shift(&b.lhs),
        _ => (0, None),
    }
}
