//! The `stack` loop: scrape targets when due, append into the tsdb, evaluate rule groups
//! on their schedule, hand alerts to the `alertroute` dispatcher, and deliver its
//! notifications (stdout, and webhook POSTs). One line of progress per round.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use exposition::Labels;
use promql::rules::{AlertState, Group, GroupOptions, Rule};
use promql::tsdb_storage::TsdbRuleStorage;
use tsdb::Db;

use super::config::Config;
use super::scrape::{targets, ScrapeLoop};
use crate::api::{json, now_ms, RulesSnapshot};
use crate::telemetry::Registry;

/// Why the stack could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StackError {
    /// The Prometheus configuration is invalid.
    #[error("config: {0}")]
    Config(#[from] super::config::ConfigError),
    /// A rule file is invalid.
    #[error("rules: {0}")]
    Rules(String),
}

/// What a run did, for callers and tests.
#[derive(Debug, Default, Clone)]
pub struct RunSummary {
    /// Scrapes performed.
    pub scrapes: u64,
    /// Group evaluations performed.
    pub evaluations: u64,
    /// Notifications delivered (printed; webhook POSTs counted separately).
    pub notifications: u64,
    /// Webhook POSTs that got a 2xx answer.
    pub webhooks_ok: u64,
    /// Alert state transitions seen, `(alertname, state)` in order.
    pub transitions: Vec<(String, String)>,
    /// Whether a resolved notification was delivered.
    pub resolved_notified: bool,
}

/// Everything the loop works with.
pub struct Stack {
    db: Arc<RwLock<Db>>,
    loops: Vec<ScrapeLoop>,
    groups: Vec<(Group, i64)>,
    dispatcher: alertroute::Dispatcher,
    rules_view: Arc<RwLock<RulesSnapshot>>,
    telemetry: Arc<Registry>,
    external_url: String,
    agent: ureq::Agent,
    started_ms: i64,
    states: BTreeMap<Labels, AlertState>,
    /// Per target: last scrape time, duration (s) and error, for `/api/v1/targets`.
    target_status: Vec<Option<(i64, f64, Option<String>)>>,
    /// Progress lines go here.
    pub out: Box<dyn Write + Send>,
    /// What happened so far.
    pub summary: RunSummary,
}

impl Stack {
    /// Builds the loop from a parsed config, rule file texts `(path, yaml)`, an
    /// Alertmanager config and the shared database / views.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: &Config,
        rule_texts: &[(String, String)],
        am: alertroute::Config,
        db: Arc<RwLock<Db>>,
        rules_view: Arc<RwLock<RulesSnapshot>>,
        telemetry: Arc<Registry>,
        external_url: &str,
        out: Box<dyn Write + Send>,
    ) -> Result<Stack, StackError> {
        let now = now_ms();
        let mut ext = exposition::LabelsBuilder::new();
        for (k, v) in &cfg.external_labels {
            ext.set(k, v);
        }
        let opts = GroupOptions::default()
            .with_default_interval_ms(cfg.evaluation_interval_ms)
            .with_external_labels(ext.build())
            .with_external_url(external_url)
            .with_resend_delay_ms(cfg.evaluation_interval_ms.min(60_000));
        let mut groups = Vec::new();
        for (path, text) in rule_texts {
            let f = promql::rules::load_str(path, text)
                .map_err(|e| StackError::Rules(e.to_string()))?;
            for spec in &f.groups {
                let g = Group::new(spec, &opts)
                    .map_err(|e| StackError::Rules(format!("{path}: {e}")))?;
                groups.push((g, now));
            }
        }
        let loops: Vec<ScrapeLoop> = cfg
            .scrape_configs
            .iter()
            .flat_map(targets)
            .map(|t| ScrapeLoop::new(t, now))
            .collect();
        let target_status = vec![None; loops.len()];
        Ok(Stack {
            db,
            loops,
            groups,
            dispatcher: alertroute::Dispatcher::new(am, "stack"),
            rules_view,
            telemetry,
            external_url: external_url.to_string(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(5))
                .build(),
            started_ms: now,
            states: BTreeMap::new(),
            target_status,
            out,
            summary: RunSummary::default(),
        })
    }

    /// Number of scrape targets.
    pub fn target_count(&self) -> usize {
        self.loops.len()
    }

    /// Number of rule groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    fn say(&mut self, now: i64, msg: &str) {
        let s = (now - self.started_ms) as f64 / 1000.0;
        let _ = writeln!(self.out, "[{s:6.1}s] {msg}");
        let _ = self.out.flush();
    }

    /// Runs until `deadline_ms` (wall clock), or until `stop` says so after a round.
    pub fn run(&mut self, deadline_ms: i64, stop: &dyn Fn(&RunSummary) -> bool) {
        loop {
            let now = now_ms();
            if now >= deadline_ms || stop(&self.summary) {
                break;
            }
            self.round(now);
            let mut next = deadline_ms;
            for l in &self.loops {
                next = next.min(l.next_ms);
            }
            for (_, t) in &self.groups {
                next = next.min(*t);
            }
            if let Some(d) = self.dispatcher.next_deadline() {
                next = next.min(d);
            }
            let wait = (next - now_ms()).clamp(1, 250);
            std::thread::sleep(Duration::from_millis(wait as u64));
        }
    }

    /// Does everything due at `now`: scrapes, evaluations, notifications.
    pub fn round(&mut self, now: i64) {
        let mut line = Vec::new();
        for i in 0..self.loops.len() {
            if self.loops[i].next_ms > now {
                continue;
            }
            let lp = &mut self.loops[i];
            lp.next_ms = now + lp.target.interval_ms;
            let t0 = std::time::Instant::now();
            let res = lp.scrape(now);
            self.target_status[i] = Some((now, t0.elapsed().as_secs_f64(), res.error.clone()));
            let lp = &self.loops[i];
            let job = lp.target.labels.get("job").unwrap_or("").to_string();
            let mut rejected = 0usize;
            {
                let mut db = self.db.write().unwrap_or_else(|e| e.into_inner());
                let mut app = db.appender();
                for (l, t, v) in &res.samples {
                    match app.append(l, *t, *v) {
                        Ok(_) => {}
                        Err(_) => rejected += 1,
                    }
                }
                if let Err(e) = app.commit() {
                    line.push(format!("{job}: commit failed: {e}"));
                }
            }
            self.summary.scrapes += 1;
            self.telemetry
                .inc("stack_scrapes", "Scrapes performed.", &[("job", &job)], 1.0);
            let fmt = match res.format {
                Some(exposition::Format::OpenMetrics) => "openmetrics",
                Some(exposition::Format::Text) => "text",
                None => "-",
            };
            let mut s = match &res.error {
                None => format!("{job} up ({} samples, {fmt}", res.scraped),
                Some(e) => format!("{job} DOWN ({e}"),
            };
            if res.added > 0 {
                s.push_str(&format!(", {} new series", res.added));
            }
            if res.stale > 0 {
                s.push_str(&format!(", {} stale", res.stale));
            }
            if rejected > 0 {
                s.push_str(&format!(", {rejected} rejected"));
            }
            s.push(')');
            line.push(s);
        }
        let mut rule_msgs = Vec::new();
        let mut to_send = Vec::new();
        for gi in 0..self.groups.len() {
            if self.groups[gi].1 > now {
                continue;
            }
            let report = {
                let mut db = self.db.write().unwrap_or_else(|e| e.into_inner());
                let (g, next) = &mut self.groups[gi];
                let ts = g.eval_timestamp(now);
                let r = g.eval(ts, &mut TsdbRuleStorage::new(&mut db));
                *next = g.next_eval_ms(now);
                r
            };
            self.summary.evaluations += 1;
            self.telemetry.inc(
                "stack_rule_evaluations",
                "Rule group evaluations.",
                &[],
                1.0,
            );
            let g = &self.groups[gi].0;
            let active = g.active_alerts();
            let firing = active
                .iter()
                .filter(|a| a.state == AlertState::Firing)
                .count();
            let mut m = format!(
                "eval {}: {} rules, {} samples written",
                g.name(),
                g.rules().len(),
                report.samples_written
            );
            if !active.is_empty() {
                m.push_str(&format!(
                    " ({} pending, {firing} firing)",
                    active.len() - firing
                ));
            }
            rule_msgs.push(m);
            for f in &report.failures {
                rule_msgs.push(format!("rule {} failed: {}", f.name, f.error));
            }
            to_send.extend(report.alerts_to_send);
        }
        // Alert state transitions, from the groups' alert tables.
        let mut seen: BTreeMap<Labels, AlertState> = BTreeMap::new();
        for (g, _) in &self.groups {
            for a in g.active_alerts() {
                seen.insert(a.labels.clone(), a.state);
            }
        }
        for (l, st) in &seen {
            if self.states.get(l) != Some(st) {
                let name = l.get("alertname").unwrap_or("").to_string();
                rule_msgs.push(format!("alert {name} {st} {l}"));
                self.summary.transitions.push((name, st.to_string()));
            }
        }
        for l in self.states.keys() {
            if !seen.contains_key(l) {
                let name = l.get("alertname").unwrap_or("").to_string();
                rule_msgs.push(format!("alert {name} resolved {l}"));
                self.summary.transitions.push((name, "resolved".into()));
            }
        }
        self.states = seen;
        if !line.is_empty() || !rule_msgs.is_empty() {
            let mut msg = String::new();
            if !line.is_empty() {
                msg.push_str("scrape: ");
                msg.push_str(&line.join(", "));
            }
            if !rule_msgs.is_empty() {
                if !msg.is_empty() {
                    msg.push_str(" | ");
                }
                msg.push_str(&rule_msgs.join("; "));
            }
            self.say(now, &msg);
        }
        if !to_send.is_empty() {
            let alerts: Vec<alertroute::Alert> = to_send
                .iter()
                .map(|a| {
                    let mut x = alertroute::Alert::new(a.labels.clone(), a.starts_at_ms)
                        .with_annotations(a.annotations.clone())
                        .with_ends_at(a.ends_at_ms);
                    x.generator_url = a.generator_url.clone();
                    x
                })
                .collect();
            self.dispatcher.insert_all(alerts, now);
        }
        self.update_view(now);
        for n in self.dispatcher.tick(now) {
            self.deliver(now, &n);
        }
    }

    fn deliver(&mut self, now: i64, n: &alertroute::Notification) {
        let names = |it: &mut dyn Iterator<Item = &alertroute::Alert>| {
            it.map(|a| a.labels.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let firing = names(&mut n.firing());
        let resolved = names(&mut n.resolved());
        let mut msg = format!("notify: receiver={} ", n.receiver);
        if !firing.is_empty() {
            msg.push_str(&format!("FIRING {firing} "));
        }
        if !resolved.is_empty() {
            msg.push_str(&format!("RESOLVED {resolved} "));
            self.summary.resolved_notified = true;
        }
        self.summary.notifications += 1;
        self.telemetry.inc(
            "stack_notifications",
            "Notifications delivered.",
            &[("receiver", &n.receiver)],
            1.0,
        );
        if let Some(url) = n
            .integration
            .as_ref()
            .filter(|i| i.kind == "webhook")
            .and_then(|i| i.url())
        {
            let body = alertroute::webhook::encode(n, &self.external_url);
            match self
                .agent
                .post(url)
                .set("Content-Type", "application/json")
                .send_bytes(&body)
            {
                Ok(r) => {
                    self.summary.webhooks_ok += 1;
                    msg.push_str(&format!("-> webhook {url} {}", r.status()));
                }
                Err(e) => msg.push_str(&format!("-> webhook {url} failed: {e}")),
            }
        }
        self.say(now, msg.trim_end());
    }

    /// Refreshes what `/api/v1/rules` and `/api/v1/alerts` show.
    fn update_view(&self, now: i64) {
        let mut groups = String::from("[");
        let mut alerts_json = String::from("[");
        let mut n_alerts = 0;
        for (gi, (g, _)) in self.groups.iter().enumerate() {
            if gi > 0 {
                groups.push(',');
            }
            groups.push_str("{\"name\":");
            json::push_str(&mut groups, g.name());
            groups.push_str(",\"file\":");
            json::push_str(&mut groups, g.file());
            groups.push_str(&format!(
                ",\"interval\":{},\"limit\":0,\"rules\":[",
                g.interval_ms() as f64 / 1000.0
            ));
            for (ri, r) in g.rules().iter().enumerate() {
                if ri > 0 {
                    groups.push(',');
                }
                let v = match r {
                    Rule::Recording(rr) => serde_json::json!({
                        "name": rr.name(),
                        "query": rr.expr_text(),
                        "labels": labels_obj(rr.labels()),
                        "health": "ok",
                        "type": "recording",
                    }),
                    Rule::Alerting(ar) => {
                        let active: Vec<serde_json::Value> =
                            ar.active_alerts().iter().map(|a| alert_obj(a)).collect();
                        for a in &active {
                            if n_alerts > 0 {
                                alerts_json.push(',');
                            }
                            alerts_json.push_str(&a.to_string());
                            n_alerts += 1;
                        }
                        let state = ar
                            .active_alerts()
                            .iter()
                            .map(|a| a.state)
                            .max()
                            .unwrap_or(AlertState::Inactive);
                        serde_json::json!({
                            "name": ar.name(),
                            "query": ar.expr_text(),
                            "duration": ar.hold_ms() as f64 / 1000.0,
                            "keepFiringFor": ar.keep_firing_for_ms() as f64 / 1000.0,
                            "alerts": active,
                            "health": "ok",
                            "state": state.to_string(),
                            "type": "alerting",
                        })
                    }
                };
                groups.push_str(&v.to_string());
            }
            groups.push_str("],\"lastEvaluation\":");
            json::push_str(
                &mut groups,
                &alertroute::webhook::format_time(g.last_eval_ms().unwrap_or(now)),
            );
            groups.push('}');
        }
        groups.push(']');
        alerts_json.push(']');
        let targets: Vec<serde_json::Value> = self
            .loops
            .iter()
            .zip(&self.target_status)
            .map(|(lp, st)| {
                let t = &lp.target;
                let (health, last, dur, err) = match st {
                    None => ("unknown", now, 0.0, String::new()),
                    Some((at, d, e)) => (
                        if e.is_none() { "up" } else { "down" },
                        *at,
                        *d,
                        e.clone().unwrap_or_default(),
                    ),
                };
                serde_json::json!({
                    "discoveredLabels": {},
                    "labels": labels_obj(&t.labels),
                    "scrapePool": t.labels.get("job").unwrap_or(""),
                    "scrapeUrl": t.url,
                    "globalUrl": t.url,
                    "lastError": err,
                    "lastScrape": alertroute::webhook::format_time(last),
                    "lastScrapeDuration": dur,
                    "health": health,
                    "scrapeInterval": format!("{}ms", t.interval_ms),
                    "scrapeTimeout": format!("{}ms", t.timeout_ms),
                })
            })
            .collect();
        let mut v = self.rules_view.write().unwrap_or_else(|e| e.into_inner());
        v.groups_json = groups;
        v.alerts_json = alerts_json;
        v.targets_json = serde_json::Value::Array(targets).to_string();
    }
}

fn labels_obj(l: &Labels) -> serde_json::Value {
    serde_json::Value::Object(
        l.iter()
            .map(|x| (x.name.clone(), serde_json::Value::String(x.value.clone())))
            .collect(),
    )
}

fn alert_obj(a: &promql::rules::Alert) -> serde_json::Value {
    serde_json::json!({
        "labels": labels_obj(&a.labels),
        "annotations": labels_obj(&a.annotations),
        "state": a.state.to_string(),
        "activeAt": alertroute::webhook::format_time(a.active_at_ms),
        "value": json::format_value(a.value),
    })
}
