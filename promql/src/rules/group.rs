//! Rule groups: what happens when a group is evaluated, and when is it due next?

use super::alerting::{Alert, AlertContext, AlertingRule, NotifierAlert};
use super::error::EvalError;
use super::file::{GroupSpec, RuleKind};
use super::recording::RecordingRule;
use super::RuleStorage;
use crate::engine::Engine;
use crate::storage::StorageError;
use crate::value::stale_nan;
use exposition::Labels;
use std::collections::BTreeSet;

/// Settings shared by the groups of a manager (Prometheus's flags and global config).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GroupOptions {
    /// The engine rules are evaluated with.
    pub engine: Engine,
    /// Interval for groups without one (`global.evaluation_interval`, default 1m).
    pub default_interval_ms: i64,
    /// External labels: template `$externalLabels`, added to alerts sent on.
    pub external_labels: Labels,
    /// External URL: template `$externalURL`, prefix of `generatorURL`.
    pub external_url: String,
    /// Minimum time between re-sends of a firing alert (`--rules.alert.resend-delay`, 1m).
    pub resend_delay_ms: i64,
    /// Restore `for` state from `ALERTS_FOR_STATE` after the first evaluation.
    pub restore_for_state: bool,
    /// `--rules.alert.for-outage-tolerance` (1h).
    pub outage_tolerance_ms: i64,
    /// `--rules.alert.for-grace-period` (10m).
    pub for_grace_period_ms: i64,
}

impl Default for GroupOptions {
    fn default() -> Self {
        GroupOptions {
            engine: Engine::default(),
            default_interval_ms: 60_000,
            external_labels: Labels::empty(),
            external_url: String::new(),
            resend_delay_ms: 60_000,
            restore_for_state: false,
            outage_tolerance_ms: 3_600_000,
            for_grace_period_ms: 600_000,
        }
    }
}

impl GroupOptions {
    /// Sets the external labels (builder style).
    pub fn with_external_labels(mut self, l: Labels) -> Self {
        self.external_labels = l;
        self
    }
    /// Sets the external URL (builder style).
    pub fn with_external_url(mut self, u: &str) -> Self {
        self.external_url = u.to_string();
        self
    }
    /// Sets the default evaluation interval (builder style).
    pub fn with_default_interval_ms(mut self, ms: i64) -> Self {
        self.default_interval_ms = ms;
        self
    }
    /// Sets the engine (builder style).
    pub fn with_engine(mut self, e: Engine) -> Self {
        self.engine = e;
        self
    }
    /// Asks for `for` state restoration after the first evaluation (builder style).
    pub fn with_restore_for_state(mut self, on: bool) -> Self {
        self.restore_for_state = on;
        self
    }
    /// Sets the resend delay (builder style).
    pub fn with_resend_delay_ms(mut self, ms: i64) -> Self {
        self.resend_delay_ms = ms;
        self
    }
}

/// A recording or alerting rule.
#[derive(Debug, Clone)]
pub enum Rule {
    /// Writes a new series.
    Recording(RecordingRule),
    /// Tracks alerts.
    Alerting(AlertingRule),
}

impl Rule {
    /// The `record` / `alert` name.
    pub fn name(&self) -> &str {
        match self {
            Rule::Recording(r) => r.name(),
            Rule::Alerting(a) => a.name(),
        }
    }
}

/// One rule's failure in one evaluation.
#[derive(Debug)]
pub struct RuleFailure {
    /// 0-based index in the group.
    pub index: usize,
    /// The rule's name.
    pub name: String,
    /// What went wrong.
    pub error: EvalError,
}

/// What one group evaluation did.
#[derive(Debug, Default)]
pub struct EvalReport {
    /// The evaluation timestamp (ms).
    pub timestamp_ms: i64,
    /// Samples appended (including staleness markers).
    pub samples_written: usize,
    /// Staleness markers appended for series that disappeared.
    pub stale_written: usize,
    /// Rules that failed (the others still ran).
    pub failures: Vec<RuleFailure>,
    /// Alerts due to be sent to Alertmanager now (Prometheus's resend rule applied).
    pub alerts_to_send: Vec<NotifierAlert>,
}

/// A group of rules evaluated in order at a fixed interval.
#[derive(Debug, Clone)]
pub struct Group {
    name: String,
    file: String,
    interval_ms: i64,
    query_offset_ms: i64,
    limit: usize,
    rules: Vec<Rule>,
    /// Series each rule wrote in the previous evaluation (for staleness markers).
    previous: Vec<BTreeSet<Labels>>,
    last_eval_ms: Option<i64>,
    needs_restore: bool,
    opts: GroupOptions,
}

impl Group {
    /// Builds a group from its spec; group labels are added to every rule (rule labels win).
    pub fn new(
        spec: &GroupSpec,
        opts: &GroupOptions,
    ) -> Result<Group, super::template::TemplateError> {
        let mut rules = Vec::new();
        for r in &spec.rules {
            let mut b = spec.labels.builder();
            for l in r.labels.iter() {
                b.set(&l.name, &l.value);
            }
            let labels = b.build();
            rules.push(match &r.kind {
                RuleKind::Recording { record } => Rule::Recording(RecordingRule::new(
                    record,
                    r.expr.clone(),
                    &r.expr_text,
                    labels,
                )),
                RuleKind::Alerting {
                    alert,
                    for_ms,
                    keep_firing_for_ms,
                    annotations,
                } => {
                    let mut a = AlertingRule::new(
                        alert,
                        r.expr.clone(),
                        &r.expr_text,
                        *for_ms,
                        *keep_firing_for_ms,
                        &labels,
                        annotations,
                        AlertContext {
                            external_labels: opts.external_labels.clone(),
                            external_url: opts.external_url.clone(),
                        },
                    )?;
                    if opts.restore_for_state {
                        a.set_restored(false);
                    }
                    Rule::Alerting(a)
                }
            });
        }
        Ok(Group {
            name: spec.name.clone(),
            file: spec.file.clone(),
            interval_ms: spec.interval_ms.unwrap_or(opts.default_interval_ms).max(1),
            query_offset_ms: spec.query_offset_ms.unwrap_or(0),
            limit: spec.limit,
            previous: vec![BTreeSet::new(); rules.len()],
            rules,
            last_eval_ms: None,
            needs_restore: opts.restore_for_state,
            opts: opts.clone(),
        })
    }

    /// The group name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file the group came from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The evaluation interval in ms.
    pub fn interval_ms(&self) -> i64 {
        self.interval_ms
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// When the group was last evaluated.
    pub fn last_eval_ms(&self) -> Option<i64> {
        self.last_eval_ms
    }

    /// Prometheus's per-group hash (xxhash64 of the labels `{file, name}`), which spreads
    /// groups with the same interval over the interval.
    pub fn hash(&self) -> u64 {
        let mut b = Vec::new();
        for (n, v) in [("file", &self.file), ("name", &self.name)] {
            b.extend_from_slice(n.as_bytes());
            b.push(0xff);
            b.extend_from_slice(v.as_bytes());
            b.push(0xff);
        }
        xxhash_rust::xxh64::xxh64(&b, 0)
    }

    /// The group's latest evaluation slot at or before `now_ms` (Prometheus's
    /// `EvalTimestamp`: slots are `k * interval + offset` with `offset = hash % interval`
    /// taken in nanoseconds, as Prometheus does, and truncated to milliseconds).
    pub fn eval_timestamp(&self, now_ms: i64) -> i64 {
        let offset = self.offset_ms();
        let adj = now_ms - offset;
        adj - adj.rem_euclid(self.interval_ms) + offset
    }

    /// This group's offset within its interval, in ms.
    pub fn offset_ms(&self) -> i64 {
        let iv_ns = self.interval_ms as u128 * 1_000_000;
        ((self.hash() as u128 % iv_ns) / 1_000_000) as i64
    }

    /// The first evaluation slot strictly after `now_ms`.
    pub fn next_eval_ms(&self, now_ms: i64) -> i64 {
        let t = self.eval_timestamp(now_ms);
        if t > now_ms {
            t
        } else {
            self.eval_timestamp(now_ms + self.interval_ms)
        }
    }

    /// Alerts that are pending or firing, across the group's alerting rules.
    pub fn active_alerts(&self) -> Vec<&Alert> {
        self.rules
            .iter()
            .filter_map(|r| match r {
                Rule::Alerting(a) => Some(a.active_alerts()),
                Rule::Recording(_) => None,
            })
            .flatten()
            .collect()
    }

    /// Evaluates every rule at `now_ms`, in order, writing through `store` so later rules see
    /// earlier output. Rule failures are reported, not fatal.
    pub fn eval(&mut self, now_ms: i64, store: &mut dyn RuleStorage) -> EvalReport {
        let mut report = EvalReport {
            timestamp_ms: now_ms,
            ..EvalReport::default()
        };
        let qts = now_ms - self.query_offset_ms;
        for i in 0..self.rules.len() {
            let res = match &mut self.rules[i] {
                Rule::Recording(r) => r.eval(&self.opts.engine, store.storage(), qts, self.limit),
                Rule::Alerting(a) => a.eval(
                    &self.opts.engine,
                    store.storage(),
                    now_ms,
                    self.query_offset_ms,
                    self.limit,
                ),
            };
            let name = self.rules[i].name().to_string();
            let fail = |error: EvalError| RuleFailure {
                index: i,
                name: name.clone(),
                error,
            };
            match res {
                Err(e) => report.failures.push(fail(e)),
                Ok(samples) => {
                    let mut now_set = BTreeSet::new();
                    let app = store.appender();
                    let mut err: Option<StorageError> = None;
                    for s in &samples {
                        let res = match &s.h {
                            Some(h) => app.append_histogram(&s.metric, s.t, h.clone()),
                            None => app.append(&s.metric, s.t, s.f),
                        };
                        match res {
                            Ok(()) => report.samples_written += 1,
                            Err(e) => {
                                err.get_or_insert(e);
                            }
                        }
                        now_set.insert(s.metric.clone());
                    }
                    for gone in self.previous[i].difference(&now_set) {
                        if app.append(gone, qts, stale_nan()).is_ok() {
                            report.samples_written += 1;
                            report.stale_written += 1;
                        }
                    }
                    if let Err(e) = app.commit() {
                        err.get_or_insert(e);
                    }
                    self.previous[i] = now_set;
                    if let Some(e) = err {
                        report.failures.push(fail(EvalError::Append(e)));
                    }
                }
            }
            if let Rule::Alerting(a) = &mut self.rules[i] {
                report.alerts_to_send.extend(a.alerts_to_send(
                    now_ms,
                    self.opts.resend_delay_ms,
                    self.interval_ms,
                ));
            }
        }
        if self.needs_restore {
            self.needs_restore = false;
            self.restore_for_state(now_ms, store);
        }
        self.last_eval_ms = Some(now_ms);
        report
    }

    fn restore_for_state(&mut self, now_ms: i64, store: &mut dyn RuleStorage) {
        let (tol, grace) = (self.opts.outage_tolerance_ms, self.opts.for_grace_period_ms);
        for r in &mut self.rules {
            if let Rule::Alerting(a) = r {
                // A failed lookup leaves the alert's state as evaluated (as Prometheus does).
                let _ = a.restore_for_state(store.storage(), now_ms, tol, grace);
            }
        }
    }
}
