//! Aggregations: how are series grouped and reduced?

use super::error::EngineError;
use super::eval::{Ev, FastMap, SeriesBuilder, StepCursor, Val};
use super::AnnotationKind;
use crate::ast::{AggregateExpr, AggregateOp};
use crate::functions::{kahan_sum_inc, native, quantile};
use crate::value::{FPoint, HPoint, Series};
use exposition::histogram::FloatHistogram;
use exposition::{Labels, METRIC_NAME};
use std::collections::HashMap;
use std::sync::Arc;

/// Streaming mean: compensated direct sum, switching to an incremental mean on overflow.
#[derive(Default, Clone, Copy)]
pub(super) struct MeanState {
    sum: f64,
    c: f64,
    mean: f64,
    count: f64,
    incremental: bool,
}

impl MeanState {
    pub fn push(&mut self, f: f64) {
        self.count += 1.0;
        if !self.incremental {
            let (ns, nc) = kahan_sum_inc(f, self.sum, self.c);
            if self.count == 1.0 || !ns.is_infinite() {
                self.sum = ns;
                self.c = nc;
                return;
            }
            self.incremental = true;
            self.mean = self.sum / (self.count - 1.0);
            self.c /= self.count - 1.0;
        }
        if self.mean.is_infinite() {
            if f.is_infinite() && (self.mean > 0.0) == (f > 0.0) {
                return;
            }
            if !f.is_infinite() && !f.is_nan() {
                return;
            }
        }
        let corrected = self.mean + self.c;
        let (m, c) = kahan_sum_inc(f / self.count - corrected / self.count, self.mean, self.c);
        self.mean = m;
        self.c = c;
    }

    pub fn result(&self) -> f64 {
        if self.incremental {
            self.mean + self.c
        } else {
            self.sum / self.count + self.c / self.count
        }
    }
}

/// Streaming population variance.
#[derive(Default, Clone, Copy)]
struct VarState {
    count: f64,
    mean: f64,
    cmean: f64,
    aux: f64,
    caux: f64,
}

impl VarState {
    fn push(&mut self, f: f64) {
        self.count += 1.0;
        let delta = f - (self.mean + self.cmean);
        (self.mean, self.cmean) = kahan_sum_inc(delta / self.count, self.mean, self.cmean);
        (self.aux, self.caux) =
            kahan_sum_inc(delta * (f - (self.mean + self.cmean)), self.aux, self.caux);
    }
    fn result(&self) -> f64 {
        (self.aux + self.caux) / self.count
    }
}

#[derive(Clone, Copy, Default)]
struct Acc {
    seen: bool,
    v: f64,
    c: f64,
    n: f64,
    mean: MeanState,
    var: VarState,
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`.
pub(super) fn format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f == f64::INFINITY {
        "+Inf".into()
    } else if f == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{f}")
    }
}

/// The labels a series contributes to its group.
fn group_labels(a: &AggregateExpr, l: &Labels) -> Labels {
    if a.without {
        let mut names: Vec<&str> = a.grouping.iter().map(|s| s.as_str()).collect();
        names.extend(super::eval::NAME_LABELS);
        l.without(&names)
    } else {
        l.keep_only(&a.grouping)
    }
}

impl Ev<'_> {
    pub(super) fn eval_aggregate(&mut self, a: &AggregateExpr) -> Result<Val, EngineError> {
        let param = match &a.param {
            Some(p) => Some(self.eval(p)?),
            None => None,
        };
        let input = match self.eval(&a.expr)? {
            Val::Vector(v) => v,
            _ => {
                return Err(EngineError::InvalidArgument(
                    "aggregation applies to instant vectors only".into(),
                ))
            }
        };
        match a.op {
            AggregateOp::Topk
            | AggregateOp::Bottomk
            | AggregateOp::Limitk
            | AggregateOp::LimitRatio => {
                let Some(Val::Scalar(k)) = param else {
                    return Err(EngineError::InvalidArgument("missing parameter".into()));
                };
                self.select_k(a, input, &k).map(Val::Vector)
            }
            AggregateOp::CountValues => {
                let Some(Val::String(name)) = param else {
                    return Err(EngineError::InvalidArgument("missing parameter".into()));
                };
                self.count_values(a, input, &name).map(Val::Vector)
            }
            _ => {
                let q = match param {
                    Some(Val::Scalar(q)) => Some(q),
                    _ => None,
                };
                self.reduce(a, input, q.as_deref()).map(Val::Vector)
            }
        }
    }

    fn groups(&self, a: &AggregateExpr, input: &[Series]) -> (Vec<usize>, Vec<Labels>) {
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut labels = Vec::new();
        let gi = input
            .iter()
            .map(|s| {
                let g = group_labels(a, &s.metric);
                *index.entry(g.clone()).or_insert_with(|| {
                    labels.push(g);
                    labels.len() - 1
                })
            })
            .collect();
        (gi, labels)
    }

    fn reduce(
        &mut self,
        a: &AggregateExpr,
        input: Vec<Series>,
        q: Option<&[f64]>,
    ) -> Result<Vec<Series>, EngineError> {
        if let Some(q) = q {
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
                    a.param.as_ref().map(|p| p.span()).unwrap_or(a.span),
                );
            }
        }
        let (gi, glabels) = self.groups(a, &input);
        let mut out: Vec<Series> = glabels
            .into_iter()
            .map(|metric| Series {
                histograms: Vec::new(),
                metric,
                floats: Vec::new(),
                drop_name: false,
            })
            .collect();
        for (j, s) in input.iter().enumerate() {
            if s.drop_name && out[gi[j]].metric.contains(METRIC_NAME) {
                out[gi[j]].drop_name = true;
            }
        }
        let mut accs = vec![Acc::default(); out.len()];
        let mut vals: Vec<Vec<f64>> = vec![Vec::new(); out.len()];
        let mut cur = StepCursor::new(&input);
        let mut vec = Vec::new();
        let mut hvec = Vec::new();
        let mut hgroups: Vec<Vec<Arc<FloatHistogram>>> = vec![Vec::new(); out.len()];
        let mut mixed = false;
        let mut ignored = false;
        let mut hnotes: Vec<native::HistNote> = Vec::new();
        for i in 0..self.nsteps() {
            self.tick()?;
            let ts = self.ts(i);
            cur.at(ts, &mut vec);
            cur.at_h(ts, &mut hvec);
            if vec.is_empty() && hvec.is_empty() {
                continue;
            }
            let any_h = !hvec.is_empty();
            if any_h {
                hgroups.iter_mut().for_each(|h| h.clear());
                for (j, h) in hvec.drain(..) {
                    hgroups[gi[j]].push(h);
                }
            }
            if let Some(q) = q {
                let qv = q[i];
                if qv.is_nan() || !(0.0..=1.0).contains(&qv) {
                    self.annotate(
                        AnnotationKind::Warning,
                        format!(
                            "quantile value should be between 0 and 1, got {}",
                            format_float(qv)
                        ),
                        a.param.as_ref().map(|p| p.span()).unwrap_or(a.span),
                    );
                }
            }
            for acc in accs.iter_mut() {
                acc.seen = false;
            }
            for v in vals.iter_mut() {
                v.clear();
            }
            for &(j, f) in &vec {
                let g = gi[j];
                let acc = &mut accs[g];
                if !acc.seen {
                    *acc = Acc {
                        seen: true,
                        v: f,
                        c: 0.0,
                        n: 1.0,
                        mean: MeanState::default(),
                        var: VarState::default(),
                    };
                    match a.op {
                        AggregateOp::Avg => acc.mean.push(f),
                        AggregateOp::Stddev | AggregateOp::Stdvar => acc.var.push(f),
                        AggregateOp::Quantile => vals[g].push(f),
                        _ => {}
                    }
                    continue;
                }
                acc.n += 1.0;
                match a.op {
                    AggregateOp::Sum => (acc.v, acc.c) = kahan_sum_inc(f, acc.v, acc.c),
                    AggregateOp::Avg => acc.mean.push(f),
                    AggregateOp::Min if acc.v > f || acc.v.is_nan() => acc.v = f,
                    AggregateOp::Max if acc.v < f || acc.v.is_nan() => acc.v = f,
                    AggregateOp::Stddev | AggregateOp::Stdvar => acc.var.push(f),
                    AggregateOp::Quantile => vals[g].push(f),
                    _ => {}
                }
            }
            for (g, acc) in accs.iter().enumerate() {
                let hs: &[Arc<FloatHistogram>] = if any_h { &hgroups[g] } else { &[] };
                if !hs.is_empty() {
                    match a.op {
                        AggregateOp::Sum | AggregateOp::Avg => {
                            if acc.seen {
                                mixed = true;
                                continue;
                            }
                            let inputs = hs.iter().map(|h| &**h);
                            let combined = if a.op == AggregateOp::Avg {
                                native::mean_all(inputs, &mut hnotes)
                            } else {
                                native::sum_all(inputs, &mut hnotes)
                            };
                            let Some(mut h) = combined else {
                                continue;
                            };
                            self.hold(1)?;
                            out[g].histograms.push(HPoint {
                                t: ts,
                                h: Arc::new(std::mem::take(h.compact(0))),
                            });
                            continue;
                        }
                        AggregateOp::Count | AggregateOp::Group => {
                            let n = hs.len() as f64 + if acc.seen { acc.n } else { 0.0 };
                            let f = if a.op == AggregateOp::Count { n } else { 1.0 };
                            self.hold(1)?;
                            out[g].floats.push(FPoint { t: ts, f });
                            continue;
                        }
                        _ => ignored = true,
                    }
                }
                if !acc.seen {
                    continue;
                }
                let f = match a.op {
                    AggregateOp::Sum => {
                        if acc.v.is_infinite() {
                            acc.v
                        } else {
                            acc.v + acc.c
                        }
                    }
                    AggregateOp::Avg => acc.mean.result(),
                    AggregateOp::Count => acc.n,
                    AggregateOp::Group => 1.0,
                    AggregateOp::Min | AggregateOp::Max => acc.v,
                    AggregateOp::Stdvar => acc.var.result(),
                    AggregateOp::Stddev => acc.var.result().sqrt(),
                    AggregateOp::Quantile => {
                        quantile(q.map(|q| q[i]).unwrap_or(f64::NAN), &mut vals[g])
                    }
                    _ => acc.v,
                };
                self.hold(1)?;
                out[g].floats.push(FPoint { t: ts, f });
            }
        }
        if mixed {
            self.annotate(
                AnnotationKind::Warning,
                "encountered a mix of histograms and floats for aggregation".into(),
                a.span,
            );
        }
        if ignored {
            self.annotate(
                AnnotationKind::Info,
                format!("ignored histogram in {} aggregation", a.op),
                a.span,
            );
        }
        hnotes.sort();
        hnotes.dedup();
        for n in hnotes {
            let (k, m) = super::call::hist_note(n, "", "aggregation");
            // Prometheus places these on the aggregated expression.
            self.annotate(k, m, a.expr.span());
        }
        out.retain(|s| !s.is_empty());
        Ok(out)
    }

    fn select_k(
        &mut self,
        a: &AggregateExpr,
        input: Vec<Series>,
        k: &[f64],
    ) -> Result<Vec<Series>, EngineError> {
        if k.iter().any(|x| x.is_nan()) {
            return Err(if a.op == AggregateOp::LimitRatio {
                EngineError::RatioNaN
            } else {
                EngineError::ParamNaN
            });
        }
        let (gi, glabels) = self.groups(a, &input);
        let mut out: Vec<Series> = input
            .iter()
            .map(|s| Series {
                histograms: Vec::new(),
                metric: s.metric.clone(),
                floats: Vec::new(),
                drop_name: s.drop_name,
            })
            .collect();
        let mut cur = StepCursor::new(&input);
        let mut vec = Vec::new();
        let mut hvec = Vec::new();
        let mut ignored = false;
        type Entry = (usize, f64, Option<Arc<FloatHistogram>>);
        let mut per_group: Vec<Vec<Entry>> = vec![Vec::new(); glabels.len()];
        let limit = matches!(a.op, AggregateOp::Limitk | AggregateOp::LimitRatio);
        for i in 0..self.nsteps() {
            self.tick()?;
            let ts = self.ts(i);
            cur.at(ts, &mut vec);
            cur.at_h(ts, &mut hvec);
            if !hvec.is_empty() && !limit {
                // topk/bottomk rank floats only.
                ignored = true;
                hvec.clear();
            }
            if vec.is_empty() && hvec.is_empty() {
                continue;
            }
            let mut entries: Vec<Entry> = vec.iter().map(|&(j, f)| (j, f, None)).collect();
            if !hvec.is_empty() {
                entries.extend(hvec.drain(..).map(|(j, h)| (j, 0.0, Some(h))));
                entries.sort_by_key(|e| e.0);
            }
            let kv = k[i];
            if a.op == AggregateOp::LimitRatio {
                if kv.is_nan() {
                    return Err(EngineError::RatioNaN);
                }
                let r = if !(-1.0..=1.0).contains(&kv) {
                    let capped = kv.clamp(-1.0, 1.0);
                    self.annotate(
                        AnnotationKind::Warning,
                        format!(
                            "ratio value should be between -1 and 1, got {}, capping to {}",
                            format_float(kv),
                            format_float(capped)
                        ),
                        a.param.as_ref().map(|p| p.span()).unwrap_or(a.span),
                    );
                    capped
                } else {
                    kv
                };
                for (j, f, h) in entries {
                    let off = input[j].metric.hash() as f64 / u64::MAX as f64;
                    if (r >= 0.0 && off < r) || (r < 0.0 && off >= 1.0 + r) {
                        self.hold(1)?;
                        match h {
                            Some(h) => out[j].histograms.push(HPoint { t: ts, h }),
                            None => out[j].floats.push(FPoint { t: ts, f }),
                        }
                    }
                }
                continue;
            }
            if kv.is_nan() {
                return Err(EngineError::ParamNaN);
            }
            if kv < 1.0 {
                continue;
            }
            let kk = if kv >= input.len() as f64 {
                input.len()
            } else {
                kv as usize
            };
            for g in per_group.iter_mut() {
                g.clear();
            }
            for e in entries {
                self.tick()?;
                per_group[gi[e.0]].push(e);
            }
            for g in per_group.iter_mut() {
                match a.op {
                    AggregateOp::Topk => heap_select(g, kk, false),
                    AggregateOp::Bottomk => heap_select(g, kk, true),
                    _ => g.truncate(kk),
                }
                for (j, f, h) in g.drain(..) {
                    self.hold(1)?;
                    match h {
                        Some(h) => out[j].histograms.push(HPoint { t: ts, h }),
                        None => out[j].floats.push(FPoint { t: ts, f }),
                    }
                }
            }
        }
        if ignored {
            self.annotate(
                AnnotationKind::Info,
                format!("ignored histogram in {} aggregation", a.op),
                a.span,
            );
        }
        out.retain(|s| !s.is_empty());
        Ok(out)
    }

    fn count_values(
        &mut self,
        a: &AggregateExpr,
        input: Vec<Series>,
        name: &str,
    ) -> Result<Vec<Series>, EngineError> {
        if name.is_empty() || name.contains('\u{fffd}') {
            return Err(EngineError::InvalidArgument(format!(
                "invalid label name {name:?}"
            )));
        }
        let (gi, glabels) = self.groups(a, &input);
        let mut out = SeriesBuilder::default();
        let mut cur = StepCursor::new(&input);
        let mut vec = Vec::new();
        // Output series are found by (group, value bits), so counting allocates nothing
        // and labels are built once per distinct pair over the whole query. Pairs whose
        // labels coincide (the value label overwriting a grouping label) share a series.
        // `without` drops the value label too when it is listed (or is the metric
        // name): then values do not split groups, as in Prometheus, which sets the label
        // before grouping.
        let keep_value =
            !(a.without && (name == METRIC_NAME || a.grouping.iter().any(|g| g == name)));
        let key_of = |g: usize, f: f64| {
            (
                g,
                if !keep_value {
                    0
                } else if f.is_nan() {
                    f64::NAN.to_bits()
                } else {
                    f.to_bits()
                },
            )
        };
        let mut slots: FastMap<(usize, u64), usize> = FastMap::default();
        // Histograms are keyed by the text that becomes their label value.
        let mut hslots: FastMap<(usize, String), usize> = FastMap::default();
        let mut hvec = Vec::new();
        let mut counts: FastMap<usize, f64> = FastMap::default();
        let mut order: Vec<usize> = Vec::new();
        for i in 0..self.nsteps() {
            self.tick()?;
            let ts = self.ts(i);
            cur.at(ts, &mut vec);
            cur.at_h(ts, &mut hvec);
            counts.clear();
            order.clear();
            for (j, h) in hvec.drain(..) {
                self.tick()?;
                let text = if keep_value {
                    native::histogram_string(&h)
                } else {
                    String::new()
                };
                let key = (gi[j], text);
                let slot = match hslots.get(&key) {
                    Some(&s) => s,
                    None => {
                        let mut b = glabels[key.0].builder();
                        if keep_value {
                            b.set(name, &key.1);
                        }
                        let s = out.slot_owned(b.build(), false);
                        hslots.insert(key, s);
                        s
                    }
                };
                let c = counts.entry(slot).or_insert(0.0);
                if *c == 0.0 {
                    order.push(slot);
                }
                *c += 1.0;
            }
            for &(j, f) in &vec {
                self.tick()?;
                let key = key_of(gi[j], f);
                let slot = match slots.get(&key) {
                    Some(&s) => s,
                    None => {
                        let mut b = glabels[key.0].builder();
                        if keep_value {
                            b.set(name, &format_float(f));
                        }
                        let s = out.slot_owned(b.build(), false);
                        slots.insert(key, s);
                        s
                    }
                };
                let c = counts.entry(slot).or_insert(0.0);
                if *c == 0.0 {
                    order.push(slot);
                }
                *c += 1.0;
            }
            for &slot in &order {
                self.hold(1)?;
                out.push(
                    slot,
                    FPoint {
                        t: ts,
                        f: counts[&slot],
                    },
                )?;
            }
        }
        out.finish()
    }
}

/// Keeps the `k` entries topk (or, with `bottom`, bottomk) selects, choosing among equal
/// values exactly as Prometheus does: entries in input order go through a binary heap of
/// at most `k` elements (Go's `container/heap`, NaN ordered first) whose root is replaced
/// by any later entry that beats it strictly. Which of several tied series survive
/// depends on that heap's shape, so a stable sort would pick differently.
fn heap_select<T>(entries: &mut Vec<(usize, f64, T)>, k: usize, bottom: bool) {
    // `less(a, b)`: a belongs nearer the root (is evicted first).
    let less = |a: f64, b: f64| a.is_nan() || if bottom { a > b } else { a < b };
    let beats_root = |root: f64, x: f64| {
        (if bottom { root > x } else { root < x }) || (root.is_nan() && !x.is_nan())
    };
    if k == 0 {
        entries.clear();
        return;
    }
    let mut heap: Vec<(usize, f64, T)> = Vec::with_capacity(k.min(entries.len()));
    for e in entries.drain(..) {
        if heap.len() < k {
            heap.push(e);
            // up
            let mut j = heap.len() - 1;
            while j > 0 {
                let i = (j - 1) / 2;
                if !less(heap[j].1, heap[i].1) {
                    break;
                }
                heap.swap(i, j);
                j = i;
            }
        } else if beats_root(heap[0].1, e.1) {
            heap[0] = e;
            if k > 1 {
                // Fix(0): down (the root never moves up).
                let n = heap.len();
                let mut i = 0;
                loop {
                    let j1 = 2 * i + 1;
                    if j1 >= n {
                        break;
                    }
                    let mut j = j1;
                    if j1 + 1 < n && less(heap[j1 + 1].1, heap[j1].1) {
                        j = j1 + 1;
                    }
                    if !less(heap[j].1, heap[i].1) {
                        break;
                    }
                    heap.swap(i, j);
                    i = j;
                }
            }
        }
    }
    *entries = heap;
}
