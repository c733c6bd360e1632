//! The embedded demo: a target that misbehaves on a timer, and the configuration
//! (`prometheus.yml`, rules, `alertmanager.yml`) that scrapes it and alerts on it.
//!
//! Timeline (default timings; `--demo.fast` divides them by 4):
//! - 0 s: the demo target is up and serves `demo_*` metrics; a short-lived
//!   `demo_batch_job_running` series disappears at 6 s (a staleness marker is written).
//! - 10 s: the target starts answering HTTP 503: `up{job="demo"}` goes to 0 and every
//!   series it exposed is marked stale. `DemoTargetDown` becomes pending.
//! - 16–18 s: the alert fires (`for: 6s`); after `group_wait` it is routed to `oncall`,
//!   printed, and POSTed as a webhook to the stack's own `/demo/webhook`.
//! - 34 s: the target recovers; the next evaluation resolves the alert and the resolved
//!   notification follows at the group's next flush.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use exposition::Format;

use crate::api::{Reply, Request};
use crate::telemetry::negotiate;

/// The demo's clock settings, all in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoTimings {
    /// Scrape and evaluation interval.
    pub interval_ms: i64,
    /// When the batch-job series disappears.
    pub batch_ends_ms: i64,
    /// When the target goes down.
    pub down_from_ms: i64,
    /// When it comes back.
    pub down_until_ms: i64,
    /// The alert's `for`.
    pub for_ms: i64,
    /// Alertmanager `group_wait`.
    pub group_wait_ms: i64,
    /// Alertmanager `group_interval`.
    pub group_interval_ms: i64,
}

impl DemoTimings {
    /// The default story, about 45 s long.
    pub fn normal() -> DemoTimings {
        DemoTimings {
            interval_ms: 2_000,
            batch_ends_ms: 6_000,
            down_from_ms: 10_000,
            down_until_ms: 34_000,
            for_ms: 6_000,
            group_wait_ms: 2_000,
            group_interval_ms: 4_000,
        }
    }

    /// Everything four times faster (for tests).
    pub fn fast() -> DemoTimings {
        let n = DemoTimings::normal();
        DemoTimings {
            interval_ms: n.interval_ms / 4,
            batch_ends_ms: n.batch_ends_ms / 4,
            down_from_ms: n.down_from_ms / 4,
            down_until_ms: n.down_until_ms / 4,
            for_ms: n.for_ms / 4,
            group_wait_ms: n.group_wait_ms / 4,
            group_interval_ms: n.group_interval_ms / 4,
        }
    }
}

/// The misbehaving target: its answers depend only on the time since it started.
pub struct DemoTarget {
    started: Instant,
    t: DemoTimings,
    webhooks: Arc<Mutex<Vec<serde_json::Value>>>,
    scrapes: AtomicU64,
}

impl DemoTarget {
    /// A target whose clock starts now.
    pub fn new(t: DemoTimings) -> DemoTarget {
        DemoTarget {
            started: Instant::now(),
            t,
            webhooks: Arc::new(Mutex::new(Vec::new())),
            scrapes: AtomicU64::new(0),
        }
    }

    /// Webhook payloads received on `/demo/webhook` (shared with the printer).
    pub fn webhooks(&self) -> Arc<Mutex<Vec<serde_json::Value>>> {
        Arc::clone(&self.webhooks)
    }

    fn elapsed_ms(&self) -> i64 {
        self.started.elapsed().as_millis() as i64
    }

    /// Whether the target is in its down window now.
    pub fn is_down(&self) -> bool {
        let e = self.elapsed_ms();
        e >= self.t.down_from_ms && e < self.t.down_until_ms
    }

    /// Answers `/demo/metrics` and `/demo/webhook`; `None` for other paths.
    pub fn route(&self, req: &Request<'_>) -> Option<Reply> {
        match req.path {
            "/demo/metrics" => Some(self.metrics(req.accept)),
            "/demo/webhook" => Some(self.webhook(req)),
            _ => None,
        }
    }

    fn webhook(&self, req: &Request<'_>) -> Reply {
        if req.method != "POST" {
            return Reply::text(405, "text/plain", "POST only\n".into());
        }
        match req.body_json() {
            Some(v) => {
                self.webhooks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(v);
                Reply::text(200, "text/plain", "ok\n".into())
            }
            None => Reply::text(400, "text/plain", "body is not JSON\n".into()),
        }
    }

    fn metrics(&self, accept: Option<&str>) -> Reply {
        let n = self.scrapes.fetch_add(1, Ordering::Relaxed) + 1;
        if self.is_down() {
            return Reply::text(
                503,
                "text/plain",
                "demo target is down (on purpose)\n".into(),
            );
        }
        let secs = self.elapsed_ms() as f64 / 1000.0;
        let reg = crate::telemetry::Registry::new();
        let ok = (secs * 20.0).floor();
        let errs = (secs * 1.5).floor();
        reg.inc(
            "demo_requests",
            "Requests served by the demo.",
            &[("code", "200")],
            ok,
        );
        reg.inc(
            "demo_requests",
            "Requests served by the demo.",
            &[("code", "500")],
            errs,
        );
        reg.set(
            "demo_temperature_celsius",
            "A gauge that wanders.",
            &[],
            20.0 + 5.0 * (secs / 5.0).sin(),
        );
        reg.set(
            "demo_scrapes_seen",
            "Scrapes this target answered.",
            &[],
            n as f64,
        );
        reg.set(
            "demo_debug_goroutines",
            "Noise the config drops by metric relabelling.",
            &[],
            7.0,
        );
        if self.elapsed_ms() < self.t.batch_ends_ms {
            reg.set(
                "demo_batch_job_running",
                "Present only while the batch job runs.",
                &[],
                1.0,
            );
        }
        let f: Format = negotiate(accept);
        Reply::text(200, f.content_type(), reg.encode(f))
    }
}

/// The demo's `prometheus.yml`, scraping `addr` (the stack's own listener).
pub fn prometheus_yml(addr: &str, t: &DemoTimings) -> String {
    format!(
        r#"global:
  scrape_interval: {i}ms
  scrape_timeout: {i}ms
  evaluation_interval: {i}ms
  external_labels:
    stack: demo
scrape_configs:
  - job_name: stack
    static_configs:
      - targets: ['{addr}']
  - job_name: demo
    metrics_path: /demo/metrics
    static_configs:
      - targets: ['{addr}']
        labels:
          env: demo
    relabel_configs:
      - source_labels: [__address__]
        regex: '([^:]+):\d+'
        target_label: host
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: 'demo_debug_.*'
        action: drop
rule_files: [demo.rules.yml]
"#,
        i = t.interval_ms
    )
}

/// The demo's rules.
pub fn rules_yml(t: &DemoTimings) -> String {
    format!(
        r#"groups:
  - name: demo
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: DemoTargetDown
        expr: up{{job="demo"}} == 0
        for: {f}ms
        labels:
          severity: page
        annotations:
          summary: '{{{{ $labels.instance }}}} of job {{{{ $labels.job }}}} is down'
"#,
        f = t.for_ms
    )
}

/// The demo's `alertmanager.yml`: pages go to `oncall`, whose webhook is the stack's own
/// `/demo/webhook`.
pub fn alertmanager_yml(addr: &str, t: &DemoTimings) -> String {
    format!(
        r#"route:
  receiver: default
  group_by: [alertname]
  group_wait: {gw}ms
  group_interval: {gi}ms
  repeat_interval: 1h
  routes:
    - matchers: ['severity="page"']
      receiver: oncall
receivers:
  - name: default
  - name: oncall
    webhook_configs:
      - url: http://{addr}/demo/webhook
        send_resolved: true
"#,
        gw = t.group_wait_ms,
        gi = t.group_interval_ms
    )
}
