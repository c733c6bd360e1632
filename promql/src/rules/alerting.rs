//! Alerting rules: which alerts are pending, firing or resolved after an evaluation, and what
//! is handed to Alertmanager?
//!
//! State follows Prometheus: a new result is *pending*; after `for` it is *firing*; when the
//! condition clears a firing alert stays firing for `keep_firing_for`, then becomes *inactive*
//! (resolved) and is kept for 15 minutes so the resolution reaches Alertmanager; a pending
//! alert that clears is dropped. Each evaluation writes `ALERTS{alertstate=...}` and
//! `ALERTS_FOR_STATE` (value = active-since, in seconds) for every active alert.

use super::error::EvalError;
use super::recording::vector_of;
use super::template::functions::table_link;
use super::template::{ExpandContext, QuerySample, Template, TemplateData};
use crate::ast::Expr;
use crate::engine::Engine;
use crate::storage::Storage;
use crate::value::{Sample, Value};
use exposition::{Labels, METRIC_NAME};
use std::collections::BTreeMap;
use std::fmt;

/// How long a resolved alert is kept (and re-sent as resolved): 15 minutes.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// The name of the alert-state series.
pub const ALERTS_METRIC: &str = "ALERTS";
/// The name of the series that records when each alert became active.
pub const ALERTS_FOR_STATE_METRIC: &str = "ALERTS_FOR_STATE";

/// An alert's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertState {
    /// Resolved (or never active).
    Inactive,
    /// Active, waiting out `for`.
    Pending,
    /// Active for at least `for`.
    Firing,
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        })
    }
}

/// One alert instance of an alerting rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Labels: the result's labels without `__name__`, the rule's labels, `alertname`.
    pub labels: Labels,
    /// Expanded annotations.
    pub annotations: Labels,
    /// Current state.
    pub state: AlertState,
    /// The value of the last evaluation that returned it (0 when the expression returned
    /// a native histogram, as in Prometheus: templates see the histogram as `$value`).
    pub value: f64,
    /// When it became active (ms).
    pub active_at_ms: i64,
    /// When it started firing.
    pub fired_at_ms: Option<i64>,
    /// When it was resolved.
    pub resolved_at_ms: Option<i64>,
    /// When it was last handed out for sending.
    pub last_sent_at_ms: Option<i64>,
    /// `endsAt` given to a firing alert when last sent.
    pub valid_until_ms: i64,
    /// Since when `keep_firing_for` is holding it firing.
    pub keep_firing_since_ms: Option<i64>,
}

impl Alert {
    fn needs_sending(&self, ts: i64, resend_delay_ms: i64) -> bool {
        if self.state == AlertState::Pending {
            return false;
        }
        let last = self.last_sent_at_ms;
        if let Some(r) = self.resolved_at_ms {
            if last.is_none_or(|l| r > l) {
                return true;
            }
        }
        match last {
            None => true,
            Some(l) => l + resend_delay_ms < ts,
        }
    }
}

/// An alert shaped as Alertmanager's API takes it (`POST /api/v2/alerts`).
#[derive(Debug, Clone, PartialEq)]
pub struct NotifierAlert {
    /// Labels (external labels added, alert labels win).
    pub labels: Labels,
    /// Annotations.
    pub annotations: Labels,
    /// `startsAt` (ms): when the alert started firing.
    pub starts_at_ms: i64,
    /// `endsAt` (ms): resolve time, or now + 4 x max(resend delay, interval) while firing.
    pub ends_at_ms: i64,
    /// `generatorURL`: external URL + table link for the rule's expression.
    pub generator_url: String,
}

impl NotifierAlert {
    /// Whether the alert is resolved as of `now_ms`.
    pub fn resolved_at(&self, now_ms: i64) -> bool {
        self.ends_at_ms <= now_ms
    }

    /// The JSON object Alertmanager's v2 API takes (times in RFC 3339, UTC).
    pub fn to_json(&self) -> serde_json::Value {
        let m = |l: &Labels| {
            serde_json::Value::Object(
                l.iter()
                    .map(|x| (x.name.clone(), serde_json::Value::String(x.value.clone())))
                    .collect(),
            )
        };
        serde_json::json!({
            "labels": m(&self.labels),
            "annotations": m(&self.annotations),
            "startsAt": super::template::functions::rfc3339(self.starts_at_ms),
            "endsAt": super::template::functions::rfc3339(self.ends_at_ms),
            "generatorURL": self.generator_url,
        })
    }
}

/// Settings an alerting rule takes from its group and manager.
#[derive(Debug, Clone, Default)]
pub struct AlertContext {
    /// External labels (template `$externalLabels`; added to sent alerts).
    pub external_labels: Labels,
    /// External URL (template `$externalURL`; prefix of `generatorURL`).
    pub external_url: String,
}

/// An alerting rule with its per-alert state.
#[derive(Debug, Clone)]
pub struct AlertingRule {
    name: String,
    expr: Expr,
    expr_text: String,
    hold_ms: i64,
    keep_firing_for_ms: i64,
    labels: Vec<(String, Template)>,
    annotations: Vec<(String, Template)>,
    active: BTreeMap<Labels, Alert>,
    restored: bool,
    ctx: AlertContext,
}

impl AlertingRule {
    /// A rule; templates must already have been validated (see [`super::file`]).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        expr: Expr,
        expr_text: &str,
        hold_ms: i64,
        keep_firing_for_ms: i64,
        labels: &Labels,
        annotations: &Labels,
        ctx: AlertContext,
    ) -> Result<AlertingRule, super::template::TemplateError> {
        let compile = |l: &Labels| -> Result<Vec<(String, Template)>, _> {
            l.iter()
                .map(|x| Ok((x.name.clone(), Template::parse(&x.value)?)))
                .collect()
        };
        Ok(AlertingRule {
            name: name.to_string(),
            expr,
            expr_text: expr_text.to_string(),
            hold_ms,
            keep_firing_for_ms,
            labels: compile(labels)?,
            annotations: compile(annotations)?,
            active: BTreeMap::new(),
            restored: true,
            ctx,
        })
    }

    /// The alert name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The expression text.
    pub fn expr_text(&self) -> &str {
        &self.expr_text
    }

    /// `for` in ms.
    pub fn hold_ms(&self) -> i64 {
        self.hold_ms
    }

    /// `keep_firing_for` in ms.
    pub fn keep_firing_for_ms(&self) -> i64 {
        self.keep_firing_for_ms
    }

    /// Alerts that are pending or firing (not resolved), sorted by labels.
    pub fn active_alerts(&self) -> Vec<&Alert> {
        self.active
            .values()
            .filter(|a| a.state != AlertState::Inactive)
            .collect()
    }

    /// Every tracked alert, including resolved ones still retained.
    pub fn all_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.active.values()
    }

    /// Whether `ALERTS` samples are written (false until `for` state has been restored).
    pub fn set_restored(&mut self, restored: bool) {
        self.restored = restored;
    }

    /// Evaluates at `ts` (query at `ts - query_offset_ms`), updates the alert states and
    /// returns the `ALERTS` / `ALERTS_FOR_STATE` samples to write.
    pub fn eval(
        &mut self,
        engine: &Engine,
        storage: &dyn Storage,
        ts: i64,
        query_offset_ms: i64,
        limit: usize,
    ) -> Result<Vec<Sample>, EvalError> {
        let qts = ts - query_offset_ms;
        let res = engine.instant_query(storage, &self.expr, qts)?;
        let samples = vector_of(res.value, qts)?;
        let query = |q: &str| -> Result<Vec<QuerySample>, String> {
            let e = crate::parse(q).map_err(|e| e.to_string())?;
            let r = engine
                .instant_query(storage, &e, qts)
                .map_err(|e| e.to_string())?;
            match r.value {
                Value::Vector(v) => Ok(v
                    .into_iter()
                    .map(|s| QuerySample {
                        // Go's `query` takes the float field, 0 for histograms.
                        value: if s.h.is_some() { 0.0 } else { s.f },
                        labels: s.metric,
                    })
                    .collect()),
                Value::Scalar(s) => Ok(vec![QuerySample {
                    labels: Labels::empty(),
                    value: s.v,
                }]),
                other => Err(format!(
                    "query result is a {}, not a vector",
                    other.type_name()
                )),
            }
        };
        let ectx = ExpandContext {
            query: Some(&query),
            external_url: &self.ctx.external_url,
        };
        let mut fresh: BTreeMap<Labels, Alert> = BTreeMap::new();
        for s in &samples {
            let data = TemplateData {
                labels: s.metric.clone(),
                external_labels: self.ctx.external_labels.clone(),
                external_url: self.ctx.external_url.clone(),
                value: s.f,
                histogram: s.h.clone(),
            };
            let expand = |t: &Template| -> String {
                if t.is_literal() {
                    return t.source().to_string();
                }
                t.expand(&data, &ectx)
                    .unwrap_or_else(|e| format!("<error expanding template: {e}>"))
            };
            let mut b = s.metric.builder();
            b.del(METRIC_NAME);
            for (k, t) in &self.labels {
                b.set(k, &expand(t));
            }
            b.set("alertname", &self.name);
            let labels = b.build();
            let mut ab = Labels::empty().builder();
            for (k, t) in &self.annotations {
                ab.set(k, &expand(t));
            }
            let annotations = ab.build();
            if fresh.contains_key(&labels) {
                return Err(EvalError::DuplicateLabelset {
                    what: "alert",
                    labels: labels.to_string(),
                });
            }
            fresh.insert(
                labels.clone(),
                Alert {
                    labels,
                    annotations,
                    state: AlertState::Pending,
                    // Prometheus keeps the float field: 0 for a histogram sample.
                    value: if s.h.is_some() { 0.0 } else { s.f },
                    active_at_ms: ts,
                    fired_at_ms: None,
                    resolved_at_ms: None,
                    last_sent_at_ms: None,
                    valid_until_ms: 0,
                    keep_firing_since_ms: None,
                },
            );
        }
        let in_result: std::collections::HashSet<Labels> = fresh.keys().cloned().collect();
        for (l, a) in fresh {
            match self.active.get_mut(&l) {
                Some(existing) if existing.state != AlertState::Inactive => {
                    existing.value = a.value;
                    existing.annotations = a.annotations;
                }
                _ => {
                    self.active.insert(l, a);
                }
            }
        }
        let mut out = Vec::new();
        let mut n_active = 0;
        let mut remove = Vec::new();
        for (l, a) in self.active.iter_mut() {
            if !in_result.contains(l) {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && self.keep_firing_for_ms > 0 {
                    let since = *a.keep_firing_since_ms.get_or_insert(ts);
                    if ts - since < self.keep_firing_for_ms {
                        keep_firing = true;
                    }
                }
                if a.state == AlertState::Pending
                    || a.resolved_at_ms
                        .is_some_and(|r| ts - r > RESOLVED_RETENTION_MS)
                {
                    remove.push(l.clone());
                }
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at_ms = Some(ts);
                }
                if !keep_firing {
                    continue;
                }
            } else {
                a.keep_firing_since_ms = None;
            }
            n_active += 1;
            if a.state == AlertState::Pending && ts - a.active_at_ms >= self.hold_ms {
                a.state = AlertState::Firing;
                a.fired_at_ms = Some(ts);
            }
            if self.restored {
                out.push(alert_sample(a, ALERTS_METRIC, Some(a.state), qts, 1.0));
                out.push(alert_sample(
                    a,
                    ALERTS_FOR_STATE_METRIC,
                    None,
                    qts,
                    (a.active_at_ms.div_euclid(1000)) as f64,
                ));
            }
        }
        for l in remove {
            self.active.remove(&l);
        }
        if limit > 0 && n_active > limit {
            self.active.clear();
            return Err(EvalError::LimitExceeded {
                limit,
                got: n_active,
                what: "alerts",
            });
        }
        out.sort_by(|a, b| a.metric.cmp(&b.metric));
        Ok(out)
    }

    /// The alerts to hand to Alertmanager at `ts`, following Prometheus's resend rule; marks
    /// them sent. `interval_ms` is the group interval.
    pub fn alerts_to_send(
        &mut self,
        ts: i64,
        resend_delay_ms: i64,
        interval_ms: i64,
    ) -> Vec<NotifierAlert> {
        let mut out = Vec::new();
        let url = format!(
            "{}{}",
            self.ctx.external_url.trim_end_matches('/'),
            table_link(&self.expr_text)
        );
        for a in self.active.values_mut() {
            if !a.needs_sending(ts, resend_delay_ms) {
                continue;
            }
            a.last_sent_at_ms = Some(ts);
            a.valid_until_ms = ts + 4 * resend_delay_ms.max(interval_ms);
            let mut b = self.ctx.external_labels.builder();
            for l in a.labels.iter() {
                b.set(&l.name, &l.value);
            }
            out.push(NotifierAlert {
                labels: b.build(),
                annotations: a.annotations.clone(),
                starts_at_ms: a.fired_at_ms.unwrap_or(a.active_at_ms),
                ends_at_ms: a.resolved_at_ms.unwrap_or(a.valid_until_ms),
                generator_url: url.clone(),
            });
        }
        out
    }

    /// Restores `active_at` of current alerts from `ALERTS_FOR_STATE` after a restart, as
    /// Prometheus does (`for_grace_period_ms`, `outage_tolerance_ms` as in its flags).
    pub fn restore_for_state(
        &mut self,
        storage: &dyn Storage,
        ts: i64,
        outage_tolerance_ms: i64,
        for_grace_period_ms: i64,
    ) -> Result<(), crate::storage::StorageError> {
        self.restored = true;
        // A `for` shorter than the grace period is not restored: waiting out the grace
        // period would delay the alert more than simply starting over.
        if self.hold_ms <= 0 || self.hold_ms < for_grace_period_ms {
            return Ok(());
        }
        let q = storage.querier(ts - outage_tolerance_ms, ts)?;
        for a in self.active.values_mut() {
            if a.state == AlertState::Inactive {
                continue;
            }
            let mut ms = vec![exposition::Matcher::equal(
                METRIC_NAME,
                ALERTS_FOR_STATE_METRIC,
            )];
            for l in a.labels.iter() {
                ms.push(exposition::Matcher::equal(&l.name, &l.value));
            }
            let hints = crate::storage::SelectHints {
                start: ts - outage_tolerance_ms,
                end: ts,
                step: 0,
                range: 0,
            };
            let set = q.select(&hints, &ms)?;
            let Some(series) = set.iter().find(|s| s.labels().len() == a.labels.len() + 1) else {
                continue;
            };
            let mut it = series.iter();
            let mut last = None;
            while let Some(p) = it.next() {
                last = Some(p);
            }
            // A staleness marker last means the alert was not active before the restart.
            let Some((down_at, v)) = last.filter(|p| !crate::value::is_stale_nan(p.1)) else {
                continue;
            };
            let down_at = down_at.div_euclid(1000) * 1000;
            let mut restored_active = (v * 1000.0) as i64;
            let spent = down_at - restored_active;
            let remaining = self.hold_ms - spent;
            if remaining <= 0 {
                // Was firing before the outage; the next evaluation fires it again.
            } else if remaining < for_grace_period_ms {
                restored_active = ts + for_grace_period_ms - self.hold_ms;
            } else {
                restored_active += ts - down_at;
            }
            a.active_at_ms = restored_active;
        }
        Ok(())
    }
}

fn alert_sample(a: &Alert, name: &str, state: Option<AlertState>, t: i64, f: f64) -> Sample {
    let mut b = a.labels.builder();
    b.set(METRIC_NAME, name);
    if let Some(s) = state {
        b.set("alertstate", &s.to_string());
    }
    Sample {
        h: None,
        metric: b.build(),
        t,
        f,
        drop_name: false,
    }
}
