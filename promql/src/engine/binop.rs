//! Binary operators: how are two operands paired and combined?

use super::error::EngineError;
use super::eval::{Ev, FastMap, FastSet, SeriesBuilder, StepCursor, Val, SV};
use super::AnnotationKind;
use crate::ast::{BinaryExpr, BinaryOp, Cardinality, VectorMatching};
use crate::value::{FPoint, HPoint, Series};
use exposition::histogram::FloatHistogram;
use exposition::{Labels, METRIC_NAME};
use std::sync::Arc;

/// `l op r` for arithmetic operators.
pub(super) fn arith(op: BinaryOp, l: f64, r: f64) -> f64 {
    match op {
        BinaryOp::Add => l + r,
        BinaryOp::Sub => l - r,
        BinaryOp::Mul => l * r,
        BinaryOp::Div => l / r,
        BinaryOp::Mod => l % r,
        BinaryOp::Pow => l.powf(r),
        BinaryOp::Atan2 => l.atan2(r),
        _ => f64::NAN,
    }
}

/// `l op r` for comparison operators.
pub(super) fn compare(op: BinaryOp, l: f64, r: f64) -> bool {
    match op {
        BinaryOp::Eql => l == r,
        BinaryOp::Neq => l != r,
        BinaryOp::Gtr => l > r,
        BinaryOp::Lss => l < r,
        BinaryOp::Gte => l >= r,
        BinaryOp::Lte => l <= r,
        _ => false,
    }
}

/// Arithmetic ops drop the metric name; comparisons and trims keep it.
fn drops_name(op: BinaryOp) -> bool {
    !op.is_comparison() && !op.is_set_operator() && !is_trim(op)
}

/// `</` and `>/`, which only apply to histograms.
fn is_trim(op: BinaryOp) -> bool {
    matches!(op, BinaryOp::TrimUpper | BinaryOp::TrimLower)
}

/// The value and whether to keep it, for one pair of floats.
fn elem(op: BinaryOp, l: f64, r: f64) -> (f64, bool) {
    if op.is_comparison() {
        (l, compare(op, l, r))
    } else {
        (arith(op, l, r), true)
    }
}

/// What histogram `+`/`-` had to paper over during one binary operation; each becomes
/// one annotation.
#[derive(Debug, Clone, Copy, Default)]
struct HistOpNotes {
    /// Custom-bucket histograms with different bounds were combined.
    reconciled: bool,
    /// A `reset` hint met a `not_reset` hint.
    collision: bool,
}

/// The value and whether to keep it, for one pair of samples of any kind; `Err` names
/// the operand types when the operator does not apply to them. Histogram `+`/`-`
/// record what they reconciled in `notes`.
fn elem_sv(
    op: BinaryOp,
    l: &SV,
    r: &SV,
    return_bool: bool,
    notes: &mut HistOpNotes,
) -> Result<(SV, bool), (&'static str, &'static str)> {
    let kind = |v: &SV| match v {
        SV::F(_) => "float",
        SV::H(_) => "histogram",
    };
    match (l, r) {
        (SV::F(_), SV::F(_)) if is_trim(op) => Err(("float", "float")),
        (SV::F(a), SV::F(b)) => {
            let (mut f, mut keep) = elem(op, *a, *b);
            if return_bool {
                f = if keep { 1.0 } else { 0.0 };
                keep = true;
            }
            Ok((SV::F(f), keep))
        }
        (SV::H(a), SV::H(b)) => match op {
            BinaryOp::Add | BinaryOp::Sub => {
                let mut h = (**a).clone();
                let r = if op == BinaryOp::Add {
                    h.add(b)
                } else {
                    h.sub(b)
                };
                match r {
                    Ok(o) => {
                        notes.reconciled |= o.nhcb_bounds_reconciled;
                        notes.collision |= o.counter_reset_collision;
                        h.compact(0);
                        if op == BinaryOp::Sub {
                            // A difference is a gauge, whatever its sign.
                            h.counter_reset_hint = exposition::histogram::CounterResetHint::Gauge;
                        }
                        Ok((SV::H(Arc::new(h)), true))
                    }
                    Err(_) => Err(("histogram", "histogram")),
                }
            }
            BinaryOp::Eql | BinaryOp::Neq => {
                let eq = a.equals(b);
                let keep = (op == BinaryOp::Eql) == eq;
                if return_bool {
                    Ok((SV::F(if keep { 1.0 } else { 0.0 }), true))
                } else {
                    Ok((l.clone(), keep))
                }
            }
            _ => Err(("histogram", "histogram")),
        },
        (SV::H(h), SV::F(f)) => match op {
            BinaryOp::Mul => Ok((SV::H(Arc::new(scaled(h, *f, FloatHistogram::mul))), true)),
            BinaryOp::TrimUpper | BinaryOp::TrimLower => Ok((
                SV::H(Arc::new(if op == BinaryOp::TrimUpper {
                    h.trim_upper(*f)
                } else {
                    h.trim_lower(*f)
                })),
                true,
            )),
            BinaryOp::Div => Ok((SV::H(Arc::new(scaled(h, *f, FloatHistogram::div))), true)),
            _ => Err((kind(l), kind(r))),
        },
        (SV::F(f), SV::H(h)) => match op {
            BinaryOp::Mul => Ok((SV::H(Arc::new(scaled(h, *f, FloatHistogram::mul))), true)),
            _ => Err((kind(l), kind(r))),
        },
    }
}

fn signature(m: &VectorMatching, l: &Labels) -> u64 {
    if m.on {
        l.hash_for(&m.labels)
    } else {
        l.hash_without(&m.labels)
    }
}

impl Ev<'_> {
    pub(super) fn eval_binary(&mut self, b: &BinaryExpr) -> Result<Val, EngineError> {
        let l = self.eval(&b.lhs)?;
        let r = self.eval(&b.rhs)?;
        match (l, r) {
            (Val::Scalar(a), Val::Scalar(c)) => {
                let out = a
                    .iter()
                    .zip(c.iter())
                    .map(|(&x, &y)| {
                        if b.op.is_comparison() {
                            if compare(b.op, x, y) {
                                1.0
                            } else {
                                0.0
                            }
                        } else {
                            arith(b.op, x, y)
                        }
                    })
                    .collect();
                Ok(Val::Scalar(out))
            }
            (Val::Vector(v), Val::Scalar(s)) => {
                Ok(Val::Vector(self.vector_scalar(b, v, &s, false)))
            }
            (Val::Scalar(s), Val::Vector(v)) => Ok(Val::Vector(self.vector_scalar(b, v, &s, true))),
            (Val::Vector(l), Val::Vector(r)) => {
                let default = VectorMatching::one_to_one();
                let m = b.matching.as_ref().unwrap_or(&default);
                let out = match b.op {
                    BinaryOp::And | BinaryOp::Or | BinaryOp::Unless => {
                        self.set_op(b.op, m, l, r)?
                    }
                    _ if l.iter().chain(&r).all(|s| s.histograms.is_empty()) => {
                        self.vector_vector_floats(b, m, l, r)?
                    }
                    _ => self.vector_vector(b, m, l, r)?,
                };
                Ok(Val::Vector(out))
            }
            _ => Err(EngineError::InvalidArgument(format!(
                "binary expression must contain only scalar and instant vector types (operator {})",
                b.op
            ))),
        }
    }

    fn vector_scalar(
        &mut self,
        b: &BinaryExpr,
        v: Vec<Series>,
        s: &[f64],
        swap: bool,
    ) -> Vec<Series> {
        let mut out = Vec::with_capacity(v.len());
        // Histogram-with-float operators reconcile nothing; kept for `elem_sv`.
        let mut notes = HistOpNotes::default();
        for mut series in v {
            let mut pts = Vec::with_capacity(series.floats.len());
            if is_trim(b.op) && !series.floats.is_empty() {
                self.incompatible(b, ("float", "float"));
                series.floats.clear();
            }
            for p in &series.floats {
                let sv = s[self.step_of(p.t)];
                let (lf, rf) = if swap { (sv, p.f) } else { (p.f, sv) };
                let (mut f, mut keep) = elem(b.op, lf, rf);
                if b.op.is_comparison() && swap {
                    f = rf;
                }
                if b.return_bool {
                    f = if keep { 1.0 } else { 0.0 };
                    keep = true;
                }
                if keep {
                    pts.push(FPoint { t: p.t, f });
                }
            }
            let mut hpts = Vec::new();
            for p in &series.histograms {
                let sv = SV::F(s[self.step_of(p.t)]);
                let hv = SV::H(p.h.clone());
                let (lv, rv) = if swap { (&sv, &hv) } else { (&hv, &sv) };
                match elem_sv(b.op, lv, rv, b.return_bool, &mut notes) {
                    Ok((SV::F(f), true)) => pts.push(FPoint { t: p.t, f }),
                    Ok((SV::H(h), true)) => hpts.push(HPoint { t: p.t, h }),
                    Ok(_) => {}
                    Err(kinds) => self.incompatible(b, kinds),
                }
            }
            if pts.is_empty() && hpts.is_empty() {
                continue;
            }
            if !hpts.is_empty() {
                pts.sort_by_key(|p| p.t);
            }
            series.floats = pts;
            series.histograms = hpts;
            if drops_name(b.op) || b.return_bool {
                self.drop_name(&mut series);
            }
            out.push(series);
        }
        out
    }

    /// The annotations for what histogram `+`/`-` reconciled in one binary operation.
    fn hist_op_notes(&mut self, b: &BinaryExpr, notes: HistOpNotes) {
        let op = match b.op {
            BinaryOp::Add => "addition",
            BinaryOp::Sub => "subtraction",
            _ => return,
        };
        if notes.collision {
            self.annotate(
                AnnotationKind::Warning,
                format!("conflicting counter resets during histogram {op}"),
                b.span,
            );
        }
        if notes.reconciled {
            self.annotate(
                AnnotationKind::Info,
                format!("mismatched custom buckets were reconciled during {op}"),
                b.span,
            );
        }
    }

    /// Info for an operator applied to sample types it does not take.
    fn incompatible(&mut self, b: &BinaryExpr, (l, r): (&str, &str)) {
        self.annotate(
            AnnotationKind::Info,
            format!(
                "incompatible sample types encountered for binary operator {:?}: {l} {} {r}",
                b.op.to_string(),
                b.op
            ),
            b.span,
        );
    }

    fn set_op(
        &mut self,
        op: BinaryOp,
        m: &VectorMatching,
        l: Vec<Series>,
        r: Vec<Series>,
    ) -> Result<Vec<Series>, EngineError> {
        let lsig: Vec<u64> = l.iter().map(|s| signature(m, &s.metric)).collect();
        let rsig: Vec<u64> = r.iter().map(|s| signature(m, &s.metric)).collect();
        let mut lcur = StepCursor::new(&l);
        let mut rcur = StepCursor::new(&r);
        let (mut lv, mut rv) = (Vec::new(), Vec::new());
        let mut out = SeriesBuilder::default();
        let lslots: Vec<usize> = l.iter().map(|s| out.slot(&s.metric, s.drop_name)).collect();
        let rslots: Vec<usize> = if op == BinaryOp::Or {
            r.iter().map(|s| out.slot(&s.metric, s.drop_name)).collect()
        } else {
            Vec::new()
        };
        let mut sigs: FastSet<u64> = FastSet::default();
        for i in 0..self.nsteps() {
            self.tick()?;
            let ts = self.ts(i);
            lcur.at_sv(ts, &mut lv);
            rcur.at_sv(ts, &mut rv);
            sigs.clear();
            match op {
                BinaryOp::And => {
                    sigs.extend(rv.iter().map(|(j, _)| rsig[*j]));
                    for (j, v) in lv.drain(..) {
                        if sigs.contains(&lsig[j]) {
                            self.hold(1)?;
                            out.push_sv(lslots[j], ts, v)?;
                        }
                    }
                }
                BinaryOp::Or => {
                    for (j, v) in lv.drain(..) {
                        sigs.insert(lsig[j]);
                        self.hold(1)?;
                        out.push_sv(lslots[j], ts, v)?;
                    }
                    for (j, v) in rv.drain(..) {
                        if !sigs.contains(&rsig[j]) {
                            self.hold(1)?;
                            out.push_sv(rslots[j], ts, v)?;
                        }
                    }
                }
                _ => {
                    sigs.extend(rv.iter().map(|(j, _)| rsig[*j]));
                    for (j, v) in lv.drain(..) {
                        if !sigs.contains(&lsig[j]) {
                            self.hold(1)?;
                            out.push_sv(lslots[j], ts, v)?;
                        }
                    }
                }
            }
        }
        out.finish()
    }

    fn vector_vector(
        &mut self,
        b: &BinaryExpr,
        m: &VectorMatching,
        l: Vec<Series>,
        r: Vec<Series>,
    ) -> Result<Vec<Series>, EngineError> {
        // The "many" side is `lhs` below; for group_right the sides swap.
        let swapped = m.card == Cardinality::OneToMany;
        let (lhs, rhs) = if swapped { (r, l) } else { (l, r) };
        let lsig: Vec<u64> = lhs.iter().map(|s| signature(m, &s.metric)).collect();
        let rsig: Vec<u64> = rhs.iter().map(|s| signature(m, &s.metric)).collect();
        let mut lcur = StepCursor::new(&lhs);
        let mut rcur = StepCursor::new(&rhs);
        let (mut lv, mut rv) = (Vec::new(), Vec::new());
        let mut out = SeriesBuilder::default();
        let mut result_slot: FastMap<(usize, usize), usize> = FastMap::default();
        let mut notes = HistOpNotes::default();
        let mut right: FastMap<u64, (usize, SV)> = FastMap::default();
        let mut matched: FastMap<u64, FastSet<usize>> = FastMap::default();
        for i in 0..self.nsteps() {
            self.tick()?;
            let ts = self.ts(i);
            lcur.at_sv(ts, &mut lv);
            rcur.at_sv(ts, &mut rv);
            let fill = m.fill;
            if (lv.is_empty() && fill.lhs.is_none()) || (rv.is_empty() && fill.rhs.is_none()) {
                continue;
            }
            right.clear();
            matched.clear();
            for (j, f) in &rv {
                let j = *j;
                if let Some(&(k, _)) = right.get(&rsig[j]) {
                    let side = if swapped { "left" } else { "right" };
                    let group = match_labels(m, &rhs[j].metric);
                    let (mut a, mut c) = (go_labels(&rhs[j].metric), go_labels(&rhs[k].metric));
                    if c < a {
                        std::mem::swap(&mut a, &mut c);
                    }
                    return Err(EngineError::ManyToMany {
                        group: go_labels(&group),
                        side,
                        a,
                        b: c,
                    });
                }
                right.insert(rsig[j], (j, f.clone()));
            }
            for (j, lf) in &lv {
                let j = *j;
                let sig = lsig[j];
                let (k, rf) = match right.get(&sig) {
                    Some((k, rf)) => (*k, rf.clone()),
                    None => match fill.rhs {
                        Some(v) => (usize::MAX, SV::F(v)),
                        None => continue,
                    },
                };
                let (fl, fr) = if swapped { (&rf, lf) } else { (lf, &rf) };
                let res = elem_sv(b.op, fl, fr, b.return_bool, &mut notes);
                let slot = match result_slot.get(&(j, k)) {
                    Some(&s) => s,
                    None => {
                        let empty = Labels::empty();
                        let r = if k == usize::MAX {
                            &empty
                        } else {
                            &rhs[k].metric
                        };
                        let mut metric = self.result_metric(&lhs[j].metric, r, b.op, m);
                        if b.return_bool && !self.opts.delayed_name_removal {
                            metric = super::eval::strip_name(&metric);
                        }
                        // The result carries the "many" side's pending name removal,
                        // as without delayed removal its name would already be gone.
                        let drop = b.return_bool || lhs[j].drop_name;
                        let s = out.slot(&metric, drop && self.opts.delayed_name_removal);
                        result_slot.insert((j, k), s);
                        s
                    }
                };
                if k != usize::MAX {
                    if m.card == Cardinality::OneToOne {
                        if matched.contains_key(&sig) {
                            return Err(EngineError::ManyToOneNotExplicit);
                        }
                        matched.insert(sig, FastSet::default());
                    } else if !matched.entry(sig).or_default().insert(slot) {
                        return Err(EngineError::GroupingNotUnique);
                    }
                }
                let (v, keep) = match res {
                    Ok(x) => x,
                    Err(kinds) => {
                        self.binop_mismatch(b, fl, fr, kinds);
                        continue;
                    }
                };
                if !keep {
                    continue;
                }
                self.hold(1)?;
                out.push_sv(slot, ts, v)?;
            }
            if let Some(lfill) = fill.lhs {
                // "One"-side samples that no "many"-side sample matched at this step.
                let lsigs: FastSet<u64> = lv.iter().map(|(j, _)| lsig[*j]).collect();
                for (k, rf) in &rv {
                    let k = *k;
                    if lsigs.contains(&rsig[k]) {
                        continue;
                    }
                    let lf = SV::F(lfill);
                    let (fl, fr) = if swapped { (rf, &lf) } else { (&lf, rf) };
                    let (v, keep) = match elem_sv(b.op, fl, fr, b.return_bool, &mut notes) {
                        Ok(x) => x,
                        Err(kinds) => {
                            self.binop_mismatch(b, fl, fr, kinds);
                            continue;
                        }
                    };
                    if !keep {
                        continue;
                    }
                    let slot = match result_slot.get(&(usize::MAX, k)) {
                        Some(&s) => s,
                        None => {
                            let metric = match_labels(m, &rhs[k].metric);
                            let s = out.slot(&metric, false);
                            result_slot.insert((usize::MAX, k), s);
                            s
                        }
                    };
                    self.hold(1)?;
                    out.push_sv(slot, ts, v)?;
                }
            }
        }
        self.hist_op_notes(b, notes);
        out.finish()
    }

    /// Reports an operator that cannot combine two samples: exponential and custom
    /// buckets (a warning), or sample types it does not take (an info).
    fn binop_mismatch(&mut self, b: &BinaryExpr, l: &SV, r: &SV, kinds: (&str, &str)) {
        if let (SV::H(x), SV::H(y)) = (l, r) {
            if matches!(b.op, BinaryOp::Add | BinaryOp::Sub)
                && x.uses_custom_buckets() != y.uses_custom_buckets()
            {
                self.annotate(
                    AnnotationKind::Warning,
                    "vector contains a mix of histograms with exponential and custom buckets schemas for metric name \"\"".into(),
                    b.span,
                );
                return;
            }
        }
        self.incompatible(b, kinds);
    }

    /// [`Self::vector_vector`] for operands without histograms: plain float loops.
    fn vector_vector_floats(
        &mut self,
        b: &BinaryExpr,
        m: &VectorMatching,
        l: Vec<Series>,
        r: Vec<Series>,
    ) -> Result<Vec<Series>, EngineError> {
        // The "many" side is `lhs` below; for group_right the sides swap.
        let swapped = m.card == Cardinality::OneToMany;
        let (lhs, rhs) = if swapped { (r, l) } else { (l, r) };
        let lsig: Vec<u64> = lhs.iter().map(|s| signature(m, &s.metric)).collect();
        let rsig: Vec<u64> = rhs.iter().map(|s| signature(m, &s.metric)).collect();
        let mut lcur = StepCursor::new(&lhs);
        let mut rcur = StepCursor::new(&rhs);
        let (mut lv, mut rv) = (Vec::new(), Vec::new());
        let mut out = SeriesBuilder::default();
        let mut result_slot: FastMap<(usize, usize), usize> = FastMap::default();
        let mut right: FastMap<u64, (usize, f64)> = FastMap::default();
        let mut matched: FastMap<u64, FastSet<usize>> = FastMap::default();
        for i in 0..self.nsteps() {
            self.tick()?;
            let ts = self.ts(i);
            lcur.at(ts, &mut lv);
            rcur.at(ts, &mut rv);
            let fill = m.fill;
            if (lv.is_empty() && fill.lhs.is_none()) || (rv.is_empty() && fill.rhs.is_none()) {
                continue;
            }
            right.clear();
            matched.clear();
            for &(j, f) in &rv {
                if let Some(&(k, _)) = right.get(&rsig[j]) {
                    let side = if swapped { "left" } else { "right" };
                    let group = match_labels(m, &rhs[j].metric);
                    let (mut a, mut c) = (go_labels(&rhs[j].metric), go_labels(&rhs[k].metric));
                    if c < a {
                        std::mem::swap(&mut a, &mut c);
                    }
                    return Err(EngineError::ManyToMany {
                        group: go_labels(&group),
                        side,
                        a,
                        b: c,
                    });
                }
                right.insert(rsig[j], (j, f));
            }
            for &(j, lf) in &lv {
                let sig = lsig[j];
                let (k, rf) = match right.get(&sig) {
                    Some(&(k, rf)) => (k, rf),
                    None => match fill.rhs {
                        Some(v) => (usize::MAX, v),
                        None => continue,
                    },
                };
                let (fl, fr) = if swapped { (rf, lf) } else { (lf, rf) };
                let (mut f, keep) = elem(b.op, fl, fr);
                let slot = match result_slot.get(&(j, k)) {
                    Some(&s) => s,
                    None => {
                        let empty = Labels::empty();
                        let r = if k == usize::MAX {
                            &empty
                        } else {
                            &rhs[k].metric
                        };
                        let mut metric = self.result_metric(&lhs[j].metric, r, b.op, m);
                        if b.return_bool && !self.opts.delayed_name_removal {
                            metric = super::eval::strip_name(&metric);
                        }
                        // The result carries the "many" side's pending name removal,
                        // as without delayed removal its name would already be gone.
                        let drop = b.return_bool || lhs[j].drop_name;
                        let s = out.slot(&metric, drop && self.opts.delayed_name_removal);
                        result_slot.insert((j, k), s);
                        s
                    }
                };
                if k != usize::MAX {
                    if m.card == Cardinality::OneToOne {
                        if matched.contains_key(&sig) {
                            return Err(EngineError::ManyToOneNotExplicit);
                        }
                        matched.insert(sig, FastSet::default());
                    } else if !matched.entry(sig).or_default().insert(slot) {
                        return Err(EngineError::GroupingNotUnique);
                    }
                }
                if b.return_bool {
                    f = if keep { 1.0 } else { 0.0 };
                } else if !keep {
                    continue;
                }
                self.hold(1)?;
                out.push(slot, FPoint { t: ts, f })?;
            }
            if let Some(lfill) = fill.lhs {
                // "One"-side samples that no "many"-side sample matched at this step.
                let lsigs: FastSet<u64> = lv.iter().map(|&(j, _)| lsig[j]).collect();
                for &(k, rf) in &rv {
                    if lsigs.contains(&rsig[k]) {
                        continue;
                    }
                    let (fl, fr) = if swapped { (rf, lfill) } else { (lfill, rf) };
                    let (mut f, keep) = elem(b.op, fl, fr);
                    if b.return_bool {
                        f = if keep { 1.0 } else { 0.0 };
                    } else if !keep {
                        continue;
                    }
                    let slot = match result_slot.get(&(usize::MAX, k)) {
                        Some(&s) => s,
                        None => {
                            let metric = match_labels(m, &rhs[k].metric);
                            let s = out.slot(&metric, false);
                            result_slot.insert((usize::MAX, k), s);
                            s
                        }
                    };
                    self.hold(1)?;
                    out.push(slot, FPoint { t: ts, f })?;
                }
            }
        }
        out.finish()
    }

    fn result_metric(&self, l: &Labels, r: &Labels, op: BinaryOp, m: &VectorMatching) -> Labels {
        let mut b = l.builder();
        if drops_name(op) {
            for n in super::eval::NAME_LABELS {
                b.del(n);
            }
        }
        if m.card == Cardinality::OneToOne {
            if m.on {
                b.retain(|lab| m.labels.contains(&lab.name));
            } else {
                for n in &m.labels {
                    b.del(n);
                }
            }
        }
        for n in &m.include {
            match r.get(n) {
                Some(v) => b.set(n, v),
                None => b.del(n),
            };
        }
        b.build()
    }
}

fn match_labels(m: &VectorMatching, l: &Labels) -> Labels {
    if m.on {
        l.keep_only(&m.labels)
    } else {
        let mut names: Vec<&str> = m.labels.iter().map(|s| s.as_str()).collect();
        names.push(METRIC_NAME);
        l.without(&names)
    }
}

/// Labels in Go's `labels.Labels.String()` form: `{a="1", b="2"}` with every name inside.
pub(super) fn go_labels(l: &Labels) -> String {
    let mut s = String::from("{");
    for (i, lab) in l.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&lab.name);
        s.push('=');
        let _ = exposition::labels::write_quoted(&mut s, &lab.value);
    }
    s.push('}');
    s
}

/// A copy of `h` with `op` (multiplication or division by `f`) applied.
fn scaled(
    h: &FloatHistogram,
    f: f64,
    op: fn(&mut FloatHistogram, f64) -> &mut FloatHistogram,
) -> FloatHistogram {
    let mut out = h.clone();
    op(&mut out, f);
    out
}
