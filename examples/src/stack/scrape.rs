//! Scraping: targets from static configs (after target relabelling), one HTTP GET per
//! round with content negotiation (OpenMetrics first, then text 0.0.4), samples labelled
//! with the target's labels, metric relabelling, the synthetic series (`up`,
//! `scrape_duration_seconds`, `scrape_samples_scraped`,
//! `scrape_samples_post_metric_relabeling`, `scrape_series_added`) and staleness markers
//! for series that disappear.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use exposition::{Entry, Format, Labels, LabelsBuilder, Parser};

use super::config::ScrapeConfig;
use super::relabel::{self, RelabelConfig};

/// One target: where to scrape and which labels its series get.
#[derive(Debug, Clone)]
pub struct Target {
    /// Full URL.
    pub url: String,
    /// `job`, `instance` and static/relabelled labels (no `__` labels).
    pub labels: Labels,
    /// Interval in ms.
    pub interval_ms: i64,
    /// Timeout in ms.
    pub timeout_ms: i64,
    /// Scraped labels win over target labels.
    pub honor_labels: bool,
    /// Relabelling of each sample.
    pub metric_relabel: Vec<RelabelConfig>,
}

/// The targets of a job after target relabelling (dropped targets are left out).
pub fn targets(job: &ScrapeConfig) -> Vec<Target> {
    let mut out = Vec::new();
    for sc in &job.static_configs {
        for addr in &sc.targets {
            let mut b = LabelsBuilder::new();
            b.set("job", &job.job_name);
            b.set("__address__", addr);
            b.set("__scheme__", &job.scheme);
            b.set("__metrics_path__", &job.metrics_path);
            b.set(
                "__scrape_interval__",
                &format!("{}ms", job.scrape_interval_ms),
            );
            b.set(
                "__scrape_timeout__",
                &format!("{}ms", job.scrape_timeout_ms),
            );
            for (k, v) in &sc.labels {
                b.set(k, v);
            }
            let Some(l) = relabel::process(&b.build(), &job.relabel_configs) else {
                continue;
            };
            let address = l.get("__address__").unwrap_or("").to_string();
            if address.is_empty() {
                continue;
            }
            let url = format!(
                "{}://{}{}",
                l.get("__scheme__").unwrap_or("http"),
                address,
                l.get("__metrics_path__").unwrap_or("/metrics")
            );
            let mut fin = l.builder();
            if fin.get("instance").is_none() {
                fin.set("instance", &address);
            }
            fin.retain(|x| !x.name.starts_with("__"));
            out.push(Target {
                url,
                labels: fin.build(),
                interval_ms: job.scrape_interval_ms,
                timeout_ms: job.scrape_timeout_ms,
                honor_labels: job.honor_labels,
                metric_relabel: job.metric_relabel_configs.clone(),
            });
        }
    }
    out
}

/// Why a scrape failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScrapeError {
    /// The HTTP request failed or returned a non-2xx status.
    #[error("{0}")]
    Http(String),
    /// The body did not parse in the negotiated format.
    #[error("{format:?} parse error: {source}")]
    Parse {
        /// The format used.
        format: Format,
        /// The parser's error (with line:column).
        source: exposition::ParseError,
    },
}

/// What one scrape produced, ready to append.
#[derive(Debug, Default)]
pub struct ScrapeResult {
    /// Samples `(labels, t, v)`, including synthetic series and staleness markers.
    pub samples: Vec<(Labels, i64, f64)>,
    /// The error, if the scrape failed.
    pub error: Option<String>,
    /// Samples scraped (before metric relabelling).
    pub scraped: usize,
    /// Series seen for the first time.
    pub added: usize,
    /// Staleness markers written.
    pub stale: usize,
    /// The format negotiated.
    pub format: Option<Format>,
}

/// A target's scrape loop state: the series seen last time (for staleness) and every
/// series seen so far (for `scrape_series_added`).
#[derive(Debug)]
pub struct ScrapeLoop {
    /// The target.
    pub target: Target,
    previous: HashSet<Labels>,
    ever: HashSet<Labels>,
    agent: ureq::Agent,
    /// When the next scrape is due (ms).
    pub next_ms: i64,
}

impl ScrapeLoop {
    /// A loop whose first scrape is due at `start_ms`.
    pub fn new(target: Target, start_ms: i64) -> ScrapeLoop {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_millis(target.timeout_ms.max(1) as u64))
            .build();
        ScrapeLoop {
            target,
            previous: HashSet::new(),
            ever: HashSet::new(),
            agent,
            next_ms: start_ms,
        }
    }

    fn fetch(&self) -> Result<(Format, Vec<u8>), ScrapeError> {
        let resp = self
            .agent
            .get(&self.target.url)
            .set("Accept", Format::ACCEPT)
            .set(
                "X-Prometheus-Scrape-Timeout-Seconds",
                &format!("{}", self.target.timeout_ms as f64 / 1000.0),
            )
            .call()
            .map_err(|e| match e {
                ureq::Error::Status(code, _) => {
                    ScrapeError::Http(format!("server returned HTTP status {code}"))
                }
                e => ScrapeError::Http(e.to_string()),
            })?;
        let format = resp
            .header("Content-Type")
            .and_then(Format::from_content_type)
            .unwrap_or(Format::Text);
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut body)
            .map_err(|e| ScrapeError::Http(e.to_string()))?;
        Ok((format, body))
    }

    /// Scrapes once at `now_ms` and returns what to append.
    pub fn scrape(&mut self, now_ms: i64) -> ScrapeResult {
        let started = Instant::now();
        let mut res = ScrapeResult::default();
        let mut current: HashSet<Labels> = HashSet::new();
        let outcome = self.fetch().and_then(|(format, body)| {
            res.format = Some(format);
            let mut samples = Vec::new();
            for e in Parser::new(format, &body) {
                let e = e.map_err(|source| ScrapeError::Parse { format, source })?;
                if let Entry::Sample(s) = e {
                    res.scraped += 1;
                    let labels = self.sample_labels(&s.to_labels());
                    if let Some(l) = relabel::process(&labels, &self.target.metric_relabel) {
                        samples.push((l, s.timestamp.unwrap_or(now_ms), s.value));
                    }
                }
            }
            Ok(samples)
        });
        let post_relabel;
        match outcome {
            Ok(samples) => {
                post_relabel = samples.len();
                for (l, t, v) in samples {
                    if current.insert(l.clone()) && self.ever.insert(l.clone()) {
                        res.added += 1;
                    }
                    res.samples.push((l, t, v));
                }
            }
            Err(e) => {
                res.scraped = 0;
                post_relabel = 0;
                res.error = Some(e.to_string());
            }
        }
        // Series that were there last time and are not now get a staleness marker.
        for gone in self.previous.difference(&current) {
            res.samples
                .push((gone.clone(), now_ms, tsdb::storage::stale_nan()));
            res.stale += 1;
        }
        self.previous = current;
        let up = if res.error.is_none() { 1.0 } else { 0.0 };
        let synth = [
            ("up", up),
            ("scrape_duration_seconds", started.elapsed().as_secs_f64()),
            ("scrape_samples_scraped", res.scraped as f64),
            ("scrape_samples_post_metric_relabeling", post_relabel as f64),
            ("scrape_series_added", res.added as f64),
        ];
        for (name, v) in synth {
            let mut b = self.target.labels.builder();
            b.set("__name__", name);
            res.samples.push((b.build(), now_ms, v));
        }
        res
    }

    /// Merges the target labels into a scraped sample's labels: with `honor_labels` the
    /// scraped ones win; otherwise the target's win and a clashing scraped label is kept
    /// as `exported_<name>`.
    fn sample_labels(&self, scraped: &Labels) -> Labels {
        let mut b = scraped.builder();
        for t in self.target.labels.iter() {
            match scraped.get(&t.name) {
                Some(_) if self.target.honor_labels => {}
                Some(v) => {
                    let v = v.to_string();
                    b.set(&format!("exported_{}", t.name), &v);
                    b.set(&t.name, &t.value);
                }
                None => {
                    b.set(&t.name, &t.value);
                }
            }
        }
        b.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::config::Config;
    use std::path::Path;

    #[test]
    fn targets_are_relabelled() {
        let c = Config::load(
            "scrape_configs:\n- job_name: node\n  metrics_path: /m\n  static_configs:\n  - targets: ['a:1', 'b:2']\n    labels: {env: prod}\n  relabel_configs:\n  - source_labels: [__address__]\n    regex: 'b:.*'\n    action: drop\n  - source_labels: [__address__]\n    regex: '(.*):.*'\n    target_label: host\n",
            Path::new("."),
        )
        .unwrap();
        let t = targets(&c.scrape_configs[0]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].url, "http://a:1/m");
        assert_eq!(
            t[0].labels,
            Labels::from_pairs(&[
                ("env", "prod"),
                ("host", "a"),
                ("instance", "a:1"),
                ("job", "node")
            ])
        );
    }

    #[test]
    fn target_labels_win_unless_honored() {
        let target = Target {
            url: String::new(),
            labels: Labels::from_pairs(&[("job", "j"), ("instance", "i")]),
            interval_ms: 1000,
            timeout_ms: 1000,
            honor_labels: false,
            metric_relabel: vec![],
        };
        let mut lp = ScrapeLoop::new(target, 0);
        let scraped = Labels::from_pairs(&[("__name__", "m"), ("job", "other")]);
        let l = lp.sample_labels(&scraped);
        assert_eq!(l.get("job"), Some("j"));
        assert_eq!(l.get("exported_job"), Some("other"));
        lp.target.honor_labels = true;
        let l = lp.sample_labels(&scraped);
        assert_eq!(l.get("job"), Some("other"));
        assert_eq!(l.get("instance"), Some("i"));
    }

    #[test]
    fn failed_scrape_marks_previous_series_stale() {
        // Nothing listens on port 1: the scrape fails.
        let target = Target {
            url: "http://127.0.0.1:1/metrics".into(),
            labels: Labels::from_pairs(&[("job", "j"), ("instance", "x")]),
            interval_ms: 1000,
            timeout_ms: 500,
            honor_labels: false,
            metric_relabel: vec![],
        };
        let mut lp = ScrapeLoop::new(target, 0);
        let m = Labels::from_pairs(&[("__name__", "m"), ("job", "j"), ("instance", "x")]);
        lp.previous.insert(m.clone());
        let r = lp.scrape(5_000);
        assert!(r.error.is_some());
        assert_eq!(r.stale, 1);
        let stale = r.samples.iter().find(|(l, _, _)| *l == m).unwrap();
        assert!(tsdb::storage::is_stale_nan(stale.2));
        let up = r
            .samples
            .iter()
            .find(|(l, _, _)| l.get("__name__") == Some("up"))
            .unwrap();
        assert_eq!(up.2, 0.0);
        // Next failure: nothing left to mark.
        assert_eq!(lp.scrape(6_000).stale, 0);
    }
}
