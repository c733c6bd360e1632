//! `info()`: enriching series with the data labels of info metrics.

use super::error::EngineError;
use super::eval::{Ev, SeriesBuilder, StepCursor, Val};
use crate::ast::{Call, Expr};
use crate::value::{FPoint, Series};
use exposition::{MatchOp, Matcher, METRIC_NAME};

impl Ev<'_> {
    /// `info(v, {selector})`: adds the data labels of matching info series (by default
    /// `target_info`, joined on `instance` and `job`) to each series of `v`.
    pub(super) fn info(&mut self, c: &Call) -> Result<Val, EngineError> {
        const IDENTIFYING: [&str; 2] = ["instance", "job"];
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
        let (offset, at) = match c.args[0].unparen() {
            Expr::VectorSelector(vs) => (vs.offset, vs.at),
            _ => (0, None),
        };
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
        let infos: Vec<Series> = self
            .eval_vector_selector(&info_sel, false)?
            .into_iter()
            .filter(|s| {
                data_m
                    .iter()
                    .all(|m| m.matches(s.metric.get(m.name()).unwrap_or("")))
            })
            .collect();
        let empty_ok = data_m.iter().all(|m| m.matches_empty());
        let mut out = SeriesBuilder::default();
        let mut icur = StepCursor::new(&infos);
        let mut ivec = Vec::new();
        let mut bcur = StepCursor::new(&base);
        let mut bvec = Vec::new();
        for i in 0..self.nsteps() {
            let ts = self.ts(i);
            icur.at(ts, &mut ivec);
            bcur.at(ts, &mut bvec);
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
                let mut matched = false;
                for &(k, _) in &ivec {
                    let inf = &infos[k];
                    if !IDENTIFYING
                        .iter()
                        .all(|n| inf.metric.get(n).unwrap_or("") == b.metric.get(n).unwrap_or(""))
                    {
                        continue;
                    }
                    matched = true;
                    for l in inf.metric.iter() {
                        if l.name == METRIC_NAME || IDENTIFYING.contains(&l.name.as_str()) {
                            continue;
                        }
                        if !data_m.is_empty() && !data_m.iter().any(|m| m.name() == l.name) {
                            continue;
                        }
                        if b.metric.contains(&l.name) {
                            continue;
                        }
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
