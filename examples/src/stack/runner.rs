//! The `stack` loop: refresh service discovery, scrape targets when due, append into the
//! tsdb, evaluate rule groups on their schedule, hand alerts to the `alertroute`
//! dispatcher, deliver its notifications (stdout, and webhook POSTs), and send new samples
//! to the `remote_write` destinations. One line of progress per round.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use exposition::protobuf::NativeHistogram;
use exposition::Labels;
use promql::rules::{AlertState, Group, GroupOptions, Rule};
use promql::tsdb_storage::TsdbRuleStorage;
use tsdb::Db;

use super::config::Config;
use super::pool::ScrapePool;
use super::remote_write::{RemoteWriteError, RemoteWriter};
use super::scrape::ScrapeLoop;
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
    /// A remote-write destination could not start.
    #[error("{0}")]
    RemoteWrite(#[from] RemoteWriteError),
    /// The database's blocks could not be opened.
    #[error("storage: {0}")]
    Storage(#[from] tsdb::Error),
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
    /// Scrapes refused by a scrape limit.
    pub limit_failures: u64,
    /// Targets started because discovery found them.
    pub targets_added: u64,
    /// Targets stopped because they were no longer discovered.
    pub targets_removed: u64,
    /// Samples delivered to remote-write destinations (2xx answers).
    pub remote_delivered: u64,
}

/// How often the loop runs tsdb maintenance (head cut into blocks, compaction, retention).
const MAINTENANCE_INTERVAL_MS: i64 = 60_000;

/// Everything the loop works with.
pub struct Stack {
    db: Arc<RwLock<Db>>,
    pools: Vec<ScrapePool>,
    writers: Vec<RemoteWriter>,
    groups: Vec<(Group, i64)>,
    dispatcher: alertroute::Dispatcher,
    rules_view: Arc<RwLock<RulesSnapshot>>,
    telemetry: Arc<Registry>,
    external_url: String,
    agent: ureq::Agent,
    started_ms: i64,
    states: BTreeMap<Labels, AlertState>,
    /// When the next tsdb maintenance (head cut, compaction, retention) is due.
    next_maintenance_ms: i64,
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
        let pools: Vec<ScrapePool> = cfg
            .scrape_configs
            .iter()
            .map(|j| ScrapePool::new(j.clone(), now))
            .collect();
        let writers = {
            let d = db.read().unwrap_or_else(|e| e.into_inner());
            cfg.remote_write
                .iter()
                .map(|rw| RemoteWriter::new(rw.clone(), &d))
                .collect::<Result<Vec<_>, _>>()?
        };
        {
            // Blocks live next to an on-disk WAL, in `<storage.path>/blocks`.
            let mut d = db.write().unwrap_or_else(|e| e.into_inner());
            let root = d
                .wal()
                .map(|w| w.dir().path("blocks"))
                .filter(|p| !p.to_string_lossy().starts_with("mem:"));
            if let (Some(root), None) = (root, d.block_root()) {
                d.open_blocks(&root)?;
            }
        }
        Ok(Stack {
            db,
            pools,
            writers,
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
            next_maintenance_ms: now + MAINTENANCE_INTERVAL_MS,
            out,
            summary: RunSummary::default(),
        })
    }

    /// Number of scrape targets (discovered ones included).
    pub fn target_count(&self) -> usize {
        self.pools.iter().map(|p| p.loops.len()).sum()
    }

    /// The current targets' scrape URLs, in pool order.
    pub fn target_urls(&self) -> Vec<String> {
        self.loops().map(|l| l.target.url.clone()).collect()
    }

    /// Number of remote-write destinations.
    pub fn remote_write_count(&self) -> usize {
        self.writers.len()
    }

    /// Counters of each remote-write destination, `(name, stats)`.
    pub fn remote_write_stats(&self) -> Vec<(String, remote::QueueStats)> {
        self.writers
            .iter()
            .map(|w| (w.name().to_string(), w.stats()))
            .collect()
    }

    fn loops(&self) -> impl Iterator<Item = &ScrapeLoop> {
        self.pools.iter().flat_map(|p| p.loops.iter())
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
            for l in self.loops() {
                next = next.min(l.next_ms);
            }
            for w in &self.writers {
                if let Some(d) = w.next_deadline() {
                    next = next.min(d);
                }
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

    /// Does everything due at `now`: discovery, scrapes, evaluations, notifications,
    /// remote writes.
    pub fn round(&mut self, now: i64) {
        let mut line = Vec::new();
        let mut sd_msgs = Vec::new();
        for pi in 0..self.pools.len() {
            let pool = &mut self.pools[pi];
            if pool.has_discovery() {
                let job = pool.job.job_name.clone();
                let rep = pool.discover(now);
                for e in &rep.errors {
                    sd_msgs.push(format!("discovery {job}: {e}"));
                }
                self.telemetry.set(
                    "stack_sd_targets",
                    "Targets of a scrape job after discovery and relabelling.",
                    &[("job", &job)],
                    pool.loops.len() as f64,
                );
                if rep.added > 0 || rep.removed > 0 {
                    sd_msgs.push(format!(
                        "discovery {job}: {} targets (+{} -{})",
                        pool.loops.len(),
                        rep.added,
                        rep.removed
                    ));
                    self.summary.targets_added += rep.added as u64;
                    self.summary.targets_removed += rep.removed as u64;
                }
                if !rep.stale.is_empty() {
                    let mut db = self.db.write().unwrap_or_else(|e| e.into_inner());
                    let mut app = db.appender();
                    for (l, t, v) in &rep.stale {
                        let _ = app.append(l, *t, *v);
                    }
                    if let Err(e) = app.commit() {
                        sd_msgs.push(format!("discovery {job}: staleness markers: {e}"));
                    }
                }
            }
            for li in 0..self.pools[pi].loops.len() {
                if self.pools[pi].loops[li].next_ms > now {
                    continue;
                }
                let s = self.scrape_one(pi, li, now);
                line.push(s);
            }
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
        if !sd_msgs.is_empty() {
            let msg = sd_msgs.join("; ");
            self.say(now, &msg);
        }
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
        for wi in 0..self.writers.len() {
            let before = self.writers[wi].stats();
            let log = self.writers[wi].tick(&self.db, &now_ms);
            let after = self.writers[wi].stats();
            self.summary.remote_delivered += after.delivered - before.delivered;
            let name = [("remote_name", self.writers[wi].name())];
            for (metric, help, delta) in [
                (
                    "stack_remote_write_samples",
                    "Samples delivered to remote-write destinations.",
                    after.delivered - before.delivered,
                ),
                (
                    "stack_remote_write_samples_dropped",
                    "Samples a remote-write destination refused for good (4xx).",
                    after.dropped - before.dropped,
                ),
                (
                    "stack_remote_write_retries",
                    "Remote-write requests scheduled again after a failure.",
                    after.retries - before.retries,
                ),
            ] {
                if delta > 0 {
                    self.telemetry.inc(metric, help, &name, delta as f64);
                }
            }
            for l in log {
                self.say(now, &l);
            }
        }
        if now >= self.next_maintenance_ms {
            self.next_maintenance_ms = now + MAINTENANCE_INTERVAL_MS;
            let res = self
                .db
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .maintenance(now);
            match res {
                Ok(rep) if !rep.is_empty() => self.say(
                    now,
                    &format!(
                        "tsdb maintenance: {} head blocks, {} compacted, {} expired",
                        rep.head_blocks.len(),
                        rep.compacted.len(),
                        rep.retention_deleted.len()
                    ),
                ),
                Ok(_) => {}
                Err(e) => self.say(now, &format!("tsdb maintenance: {e}")),
            }
        }
    }

    /// Scrapes loop `li` of pool `pi` and appends the result in one transaction: the
    /// scraped samples (nothing of them when a limit refused the scrape), staleness
    /// markers and the synthetic series. Returns the progress text.
    fn scrape_one(&mut self, pi: usize, li: usize, now: i64) -> String {
        let lp = &mut self.pools[pi].loops[li];
        lp.next_ms = now + lp.target.interval_ms;
        let res = lp.scrape(now);
        let job = lp.target.labels.get("job").unwrap_or("").to_string();
        let mut rejected = 0usize;
        let mut commit_err = None;
        {
            let mut db = self.db.write().unwrap_or_else(|e| e.into_inner());
            let mut app = db.appender();
            for (l, t, v) in &res.samples {
                if app.append(l, *t, *v).is_err() {
                    rejected += 1;
                }
            }
            for (l, t, h) in &res.histograms {
                let r = match h {
                    NativeHistogram::Int(h) => app.append_histogram(l, *t, h),
                    NativeHistogram::Float(h) => app.append_float_histogram(l, *t, h),
                };
                if r.is_err() {
                    rejected += 1;
                }
            }
            if let Err(e) = app.commit() {
                commit_err = Some(e.to_string());
            }
        }
        self.summary.scrapes += 1;
        self.telemetry
            .inc("stack_scrapes", "Scrapes performed.", &[("job", &job)], 1.0);
        if res.limit_exceeded {
            self.summary.limit_failures += 1;
            self.telemetry.inc(
                "stack_scrapes_exceeded_limit",
                "Scrapes refused because a scrape limit was exceeded.",
                &[("job", &job)],
                1.0,
            );
        }
        let fmt = match res.format {
            _ if res.protobuf => "protobuf",
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
        if let Some(e) = commit_err {
            s.push_str(&format!(", commit failed: {e}"));
        }
        s.push(')');
        s
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
            .loops()
            .map(|lp| {
                let t = &lp.target;
                let (health, last, dur, err) = match &lp.last {
                    None => ("unknown", now, 0.0, String::new()),
                    Some(st) => (
                        if st.error.is_none() { "up" } else { "down" },
                        st.at_ms,
                        st.duration_s,
                        st.error.clone().unwrap_or_default(),
                    ),
                };
                serde_json::json!({
                    "discoveredLabels": labels_obj(&t.discovered),
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
