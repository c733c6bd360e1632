//! Scraping: targets from target groups (static or discovered, after target relabelling),
//! one HTTP GET per round with content negotiation (the `Accept` header follows the job's
//! `scrape_protocols`; by default OpenMetrics first, then text),
//! samples labelled with the target's labels, metric relabelling, the scrape limits
//! (`sample_limit`, `label_limit`, `label_name_length_limit`, `label_value_length_limit`,
//! `body_size_limit`: exceeding one fails the whole scrape), the synthetic series (`up`,
//! `scrape_duration_seconds`, `scrape_samples_scraped`,
//! `scrape_samples_post_metric_relabeling`, `scrape_series_added`) and staleness markers
//! for series that disappear, whose target fails, or whose target is no longer
//! discovered.
//!
//! With `scrape_native_histograms` the `Accept` header prefers delimited protobuf; a
//! protobuf body yields classic series and native histogram samples (the classic series
//! of a native histogram only with `always_scrape_classic_histograms`). A native histogram
//! counts as one sample for `sample_limit`, and a histogram series that disappears gets a
//! float StaleNaN marker, as in Prometheus.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use exposition::protobuf::{self, DecodeOptions, NativeHistogram};
use exposition::{Entry, Format, Labels, LabelsBuilder, Parser};

use super::config::{ScrapeConfig, ScrapeLimits};
use super::discovery::TargetGroup;
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
    /// Exposed timestamps are kept (otherwise: the scrape time).
    pub honor_timestamps: bool,
    /// Relabelling of each sample.
    pub metric_relabel: Vec<RelabelConfig>,
    /// The job's scrape limits.
    pub limits: ScrapeLimits,
    /// The labels before target relabelling (`__address__`, `__meta_*`, ...).
    pub discovered: Labels,
    /// Ask for protobuf and store native histograms.
    pub native_histograms: bool,
    /// Also store the classic series of native histograms.
    pub keep_classic_histograms: bool,
    /// Formats to ask for, most preferred first (empty: OpenMetrics then text, or
    /// protobuf first with `native_histograms`).
    pub scrape_protocols: Vec<String>,
}

/// The job's `static_configs` as target groups.
pub fn static_groups(job: &ScrapeConfig) -> Vec<TargetGroup> {
    job.static_configs
        .iter()
        .enumerate()
        .map(|(i, sc)| TargetGroup {
            source: format!("static:{i}"),
            targets: sc.targets.clone(),
            labels: sc.labels.clone(),
        })
        .collect()
}

/// The static targets of a job after target relabelling (dropped targets are left out).
pub fn targets(job: &ScrapeConfig) -> Vec<Target> {
    targets_of(job, &static_groups(job))
}

/// The targets of `groups` for `job`: each address gets `job`, `__address__`,
/// `__scheme__`, `__metrics_path__`, `__scrape_interval__`, `__scrape_timeout__`,
/// `__param_<name>` (first value of each of `params`) and the group's labels; target
/// relabelling runs; `__param_*` labels left afterwards set the URL's query parameters.
pub fn targets_of(job: &ScrapeConfig, groups: &[TargetGroup]) -> Vec<Target> {
    let mut out = Vec::new();
    for sc in groups {
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
            for (k, v) in &job.params {
                if let Some(first) = v.first() {
                    b.set(&format!("__param_{k}"), first);
                }
            }
            for (k, v) in &sc.labels {
                b.set(k, v);
            }
            let discovered = b.build();
            let Some(l) = relabel::process(&discovered, &job.relabel_configs) else {
                continue;
            };
            let address = l.get("__address__").unwrap_or("").to_string();
            if address.is_empty() {
                continue;
            }
            let mut params = job.params.clone();
            for x in l.iter() {
                if let Some(k) = x.name.strip_prefix("__param_") {
                    let vals = params.entry(k.to_string()).or_default();
                    match vals.first_mut() {
                        Some(first) => *first = x.value.clone(),
                        None => vals.push(x.value.clone()),
                    }
                }
            }
            let mut url = format!(
                "{}://{}{}",
                l.get("__scheme__").unwrap_or("http"),
                address,
                l.get("__metrics_path__").unwrap_or("/metrics")
            );
            if !params.is_empty() {
                let mut q = form_urlencoded::Serializer::new(String::new());
                for (k, vs) in &params {
                    for v in vs {
                        q.append_pair(k, v);
                    }
                }
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(&q.finish());
            }
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
                honor_timestamps: job.honor_timestamps,
                metric_relabel: job.metric_relabel_configs.clone(),
                limits: job.limits,
                discovered,
                native_histograms: job.scrape_native_histograms,
                keep_classic_histograms: job.always_scrape_classic_histograms,
                scrape_protocols: job.scrape_protocols.clone(),
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
    /// A delimited protobuf body did not decode.
    #[error("protobuf parse error: {0}")]
    Protobuf(#[from] exposition::protobuf::ProtobufError),
    /// The body did not parse in the negotiated format.
    #[error("{format:?} parse error: {source}")]
    Parse {
        /// The format used.
        format: Format,
        /// The parser's error (with line:column).
        source: exposition::ParseError,
    },
    /// More samples than `sample_limit` (after metric relabelling).
    #[error("sample limit exceeded (limit: {limit})")]
    SampleLimit {
        /// The limit.
        limit: u64,
    },
    /// A series with more labels than `label_limit`.
    #[error(
        "label_limit exceeded (metric: {metric:.50}, number of labels: {count}, limit: {limit})"
    )]
    LabelLimit {
        /// The metric name.
        metric: String,
        /// Its number of labels.
        count: usize,
        /// The limit.
        limit: u64,
    },
    /// A label name longer than `label_name_length_limit` bytes.
    #[error("label_name_length_limit exceeded (metric: {metric:.50}, label name: {name:.50}, length: {length}, limit: {limit})")]
    LabelNameLength {
        /// The metric name.
        metric: String,
        /// The label name.
        name: String,
        /// Its length in bytes.
        length: usize,
        /// The limit.
        limit: u64,
    },
    /// A label value longer than `label_value_length_limit` bytes.
    #[error("label_value_length_limit exceeded (metric: {metric:.50}, label name: {name:.50}, value: {value:.50?}, length: {length}, limit: {limit})")]
    LabelValueLength {
        /// The metric name.
        metric: String,
        /// The label name.
        name: String,
        /// The value.
        value: String,
        /// Its length in bytes.
        length: usize,
        /// The limit.
        limit: u64,
    },
    /// The job has more targets than `target_limit`: no target of it is scraped.
    #[error("target_limit exceeded (number of targets: {count}, limit: {limit})")]
    TargetLimit {
        /// Targets after relabelling.
        count: usize,
        /// The limit.
        limit: u64,
    },
    /// The body is larger than `body_size_limit` bytes.
    #[error("body size limit exceeded (limit: {limit} bytes)")]
    BodySizeLimit {
        /// The limit.
        limit: u64,
    },
}

impl ScrapeError {
    /// Whether this is one of the scrape limits (the body was fetched and parsed, but the
    /// scrape is refused as a whole).
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            ScrapeError::SampleLimit { .. }
                | ScrapeError::TargetLimit { .. }
                | ScrapeError::LabelLimit { .. }
                | ScrapeError::LabelNameLength { .. }
                | ScrapeError::LabelValueLength { .. }
                | ScrapeError::BodySizeLimit { .. }
        )
    }
}

/// Checks one series (final labels) against the label limits.
pub fn check_label_limits(l: &Labels, limits: &ScrapeLimits) -> Result<(), ScrapeError> {
    let metric = || l.metric_name().unwrap_or("").to_string();
    if limits.label_limit > 0 && l.len() as u64 > limits.label_limit {
        return Err(ScrapeError::LabelLimit {
            metric: metric(),
            count: l.len(),
            limit: limits.label_limit,
        });
    }
    if limits.label_name_length_limit == 0 && limits.label_value_length_limit == 0 {
        return Ok(());
    }
    for x in l.iter() {
        if limits.label_name_length_limit > 0
            && x.name.len() as u64 > limits.label_name_length_limit
        {
            return Err(ScrapeError::LabelNameLength {
                metric: metric(),
                name: x.name.to_string(),
                length: x.name.len(),
                limit: limits.label_name_length_limit,
            });
        }
        if limits.label_value_length_limit > 0
            && x.value.len() as u64 > limits.label_value_length_limit
        {
            return Err(ScrapeError::LabelValueLength {
                metric: metric(),
                name: x.name.to_string(),
                value: x.value.to_string(),
                length: x.value.len(),
                limit: limits.label_value_length_limit,
            });
        }
    }
    Ok(())
}

/// What one scrape produced, ready to append.
#[derive(Debug, Default)]
pub struct ScrapeResult {
    /// Samples `(labels, t, v)`, including synthetic series and staleness markers.
    pub samples: Vec<(Labels, i64, f64)>,
    /// Native histogram samples `(labels, t, h)` (protobuf scrapes only).
    pub histograms: Vec<(Labels, i64, NativeHistogram)>,
    /// The error, if the scrape failed.
    pub error: Option<String>,
    /// Samples scraped (before metric relabelling).
    pub scraped: usize,
    /// Series seen for the first time.
    pub added: usize,
    /// Staleness markers written.
    pub stale: usize,
    /// The text format negotiated (`None` for protobuf or a failed fetch).
    pub format: Option<Format>,
    /// The target answered in delimited protobuf.
    pub protobuf: bool,
    /// Whether the scrape failed on one of the limits (nothing of it is appended).
    pub limit_exceeded: bool,
}

/// How a fetched body is to be read.
#[derive(Debug, Clone, Copy)]
enum Body {
    /// Text 0.0.4 or OpenMetrics.
    Text(Format),
    /// Delimited protobuf `MetricFamily` messages.
    Protobuf,
}

/// A scraped value before it is appended.
#[derive(Debug)]
enum Value {
    Float(f64),
    Histogram(NativeHistogram),
}

/// The outcome of a target's last scrape, for `/api/v1/targets`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeStatus {
    /// When it started (ms).
    pub at_ms: i64,
    /// How long it took (s).
    pub duration_s: f64,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// The series every scrape writes about itself.
const SYNTHETIC: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

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
    /// The last scrape's outcome.
    pub last: Option<ScrapeStatus>,
    /// Set by the pool when the job is over `target_limit`: scrapes fail with it
    /// without fetching.
    pub forced_error: Option<(usize, u64)>,
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
            last: None,
            forced_error: None,
        }
    }

    /// The target is gone (no longer discovered, or the config changed): staleness
    /// markers at `now_ms` for every series of the last scrape and for the synthetic
    /// series, as Prometheus writes when it stops a scrape loop. Empty when the loop
    /// never scraped.
    pub fn stop(&mut self, now_ms: i64) -> Vec<(Labels, i64, f64)> {
        if self.last.is_none() {
            return Vec::new();
        }
        let mut out: Vec<(Labels, i64, f64)> = self
            .previous
            .drain()
            .map(|l| (l, now_ms, tsdb::storage::stale_nan()))
            .collect();
        for name in SYNTHETIC {
            let mut b = self.target.labels.builder();
            b.set("__name__", name);
            out.push((b.build(), now_ms, tsdb::storage::stale_nan()));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The `Accept` header this loop sends.
    pub fn accept(&self) -> String {
        if !self.target.scrape_protocols.is_empty() {
            super::config::accept_header(&self.target.scrape_protocols)
        } else if self.target.native_histograms {
            exposition::content_type::ACCEPT_PROTOBUF.to_string()
        } else {
            Format::ACCEPT.to_string()
        }
    }

    fn fetch(&self) -> Result<(Body, Vec<u8>), ScrapeError> {
        let resp = self
            .agent
            .get(&self.target.url)
            .set("Accept", &self.accept())
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
        let ct = resp.header("Content-Type");
        let format = match ct {
            Some(h) if exposition::content_type::is_protobuf(h) => Body::Protobuf,
            _ => Body::Text(
                ct.and_then(Format::from_content_type)
                    .unwrap_or(Format::Text),
            ),
        };
        let mut body = Vec::new();
        let limit = self.target.limits.body_size_limit;
        let cap = if limit > 0 { limit + 1 } else { u64::MAX };
        std::io::Read::read_to_end(&mut std::io::Read::take(resp.into_reader(), cap), &mut body)
            .map_err(|e| ScrapeError::Http(e.to_string()))?;
        if limit > 0 && body.len() as u64 > limit {
            return Err(ScrapeError::BodySizeLimit { limit });
        }
        Ok((format, body))
    }

    /// Scrapes once at `now_ms` and returns what to append.
    pub fn scrape(&mut self, now_ms: i64) -> ScrapeResult {
        let started = Instant::now();
        let mut res = ScrapeResult::default();
        let mut current: HashSet<Labels> = HashSet::new();
        let fetched = match self.forced_error {
            Some((count, limit)) => Err(ScrapeError::TargetLimit { count, limit }),
            None => self.fetch(),
        };
        let outcome = fetched.and_then(|(format, body)| {
            let mut samples: Vec<(Labels, Option<i64>, Value)> = Vec::new();
            let limits = self.target.limits;
            let mut add = |raw: Labels, ts: Option<i64>, v: Value| -> Result<(), ScrapeError> {
                let labels = self.sample_labels(&raw);
                if let Some(l) = relabel::process(&labels, &self.target.metric_relabel) {
                    check_label_limits(&l, &limits)?;
                    let t = ts.filter(|_| self.target.honor_timestamps);
                    samples.push((l, t, v));
                }
                Ok(())
            };
            match format {
                Body::Text(format) => {
                    res.format = Some(format);
                    for e in Parser::for_scrape(format, &body) {
                        let e = e.map_err(|source| ScrapeError::Parse { format, source })?;
                        if let Entry::Sample(s) = e {
                            res.scraped += 1;
                            add(s.to_labels(), s.timestamp, Value::Float(s.value))?;
                        }
                    }
                }
                Body::Protobuf => {
                    res.protobuf = true;
                    // Native histograms off (protobuf asked for through
                    // `scrape_protocols` only): their classic series are kept instead.
                    let native = self.target.native_histograms;
                    let opts = DecodeOptions {
                        keep_classic_histograms: self.target.keep_classic_histograms || !native,
                        ..DecodeOptions::default()
                    };
                    let mut decoded = protobuf::decode(&body, &opts)?;
                    if !native {
                        decoded.histograms.clear();
                    }
                    res.scraped = decoded.sample_count();
                    for f in decoded.families {
                        for s in f.samples {
                            let mut b = s.labels.builder();
                            b.set(exposition::METRIC_NAME, &s.name);
                            add(b.build(), s.timestamp, Value::Float(s.value))?;
                        }
                    }
                    for h in decoded.histograms {
                        let mut b = h.labels.builder();
                        b.set(exposition::METRIC_NAME, &h.name);
                        add(b.build(), h.timestamp, Value::Histogram(h.histogram))?;
                    }
                }
            }
            if limits.sample_limit > 0 {
                let n = samples
                    .iter()
                    .filter(|(_, _, v)| match v {
                        Value::Float(v) => !tsdb::storage::is_stale_nan(*v),
                        Value::Histogram(_) => true,
                    })
                    .count() as u64;
                if n > limits.sample_limit {
                    return Err(ScrapeError::SampleLimit {
                        limit: limits.sample_limit,
                    });
                }
            }
            Ok(samples)
        });
        let post_relabel;
        match outcome {
            Ok(samples) => {
                post_relabel = samples.len();
                let mut seen: HashSet<&Labels> = HashSet::new();
                for (l, _, _) in &samples {
                    if seen.insert(l) && self.ever.insert(l.clone()) {
                        res.added += 1;
                    }
                }
                for (l, t, v) in samples {
                    // As in Prometheus, a sample with an explicit timestamp (federation,
                    // pushgateway with timestamps) is not tracked for staleness: the
                    // exporter owns its time.
                    if t.is_none() {
                        current.insert(l.clone());
                    }
                    match v {
                        Value::Float(v) => res.samples.push((l, t.unwrap_or(now_ms), v)),
                        Value::Histogram(h) => res.histograms.push((l, t.unwrap_or(now_ms), h)),
                    }
                }
            }
            Err(e) => {
                // A limit refuses a scrape that was fetched and parsed: Prometheus still
                // reports how many samples it saw. Nothing of it is appended.
                res.limit_exceeded = e.is_limit();
                if !res.limit_exceeded
                    || matches!(
                        e,
                        ScrapeError::BodySizeLimit { .. } | ScrapeError::TargetLimit { .. }
                    )
                {
                    res.scraped = 0;
                }
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
        let duration = started.elapsed().as_secs_f64();
        let synth = [
            ("up", up),
            ("scrape_duration_seconds", duration),
            ("scrape_samples_scraped", res.scraped as f64),
            ("scrape_samples_post_metric_relabeling", post_relabel as f64),
            ("scrape_series_added", res.added as f64),
        ];
        debug_assert_eq!(synth.len(), SYNTHETIC.len());
        self.last = Some(ScrapeStatus {
            at_ms: now_ms,
            duration_s: duration,
            error: res.error.clone(),
        });
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
    fn params_reach_the_url_and_can_be_relabelled() {
        let c = Config::load(
            "scrape_configs:\n- job_name: fed\n  metrics_path: /federate\n  params:\n    'match[]': ['{job=\"a\"}', 'up']\n  static_configs:\n  - targets: ['h:1', 'h:2']\n  relabel_configs:\n  - source_labels: [__address__]\n    regex: 'h:2'\n    target_label: '__param_match[]'\n    replacement: 'x'\n",
            Path::new("."),
        )
        .unwrap();
        let t = targets(&c.scrape_configs[0]);
        assert_eq!(
            t[0].url,
            "http://h:1/federate?match%5B%5D=%7Bjob%3D%22a%22%7D&match%5B%5D=up"
        );
        assert_eq!(t[1].url, "http://h:2/federate?match%5B%5D=x&match%5B%5D=up");
        assert_eq!(t[0].discovered.get("__param_match[]"), Some("{job=\"a\"}"));
        assert_eq!(t[0].labels.get("__param_match[]"), None);
    }

    #[test]
    fn label_limits_name_the_metric_and_label() {
        let l = Labels::from_pairs(&[("__name__", "m"), ("a", "xyz"), ("long_name", "v")]);
        let lim = |f: &dyn Fn(&mut ScrapeLimits)| {
            let mut x = ScrapeLimits::default();
            f(&mut x);
            check_label_limits(&l, &x)
        };
        assert!(lim(&|_| {}).is_ok());
        assert!(lim(&|x| x.label_limit = 3).is_ok());
        let e = lim(&|x| x.label_limit = 2).unwrap_err();
        assert_eq!(
            e.to_string(),
            "label_limit exceeded (metric: m, number of labels: 3, limit: 2)"
        );
        let e = lim(&|x| x.label_name_length_limit = 8).unwrap_err();
        assert!(
            matches!(&e, ScrapeError::LabelNameLength { name, length: 9, .. } if name == "long_name"),
            "{e}"
        );
        let e = lim(&|x| x.label_value_length_limit = 2).unwrap_err();
        assert!(e.to_string().starts_with("label_value_length_limit exceeded (metric: m, label name: a, value: \"xyz\", length: 3"), "{e}");
        assert!(e.is_limit());
        assert!(!ScrapeError::Http("x".into()).is_limit());
    }

    #[test]
    fn stopping_a_loop_marks_everything_stale() {
        let target = Target {
            url: "http://127.0.0.1:1/metrics".into(),
            labels: Labels::from_pairs(&[("job", "j"), ("instance", "x")]),
            interval_ms: 1000,
            timeout_ms: 500,
            honor_labels: false,
            honor_timestamps: true,
            metric_relabel: vec![],
            limits: ScrapeLimits::default(),
            discovered: Labels::default(),
            native_histograms: false,
            keep_classic_histograms: false,
            scrape_protocols: vec![],
        };
        let mut lp = ScrapeLoop::new(target, 0);
        assert!(lp.stop(1).is_empty(), "never scraped: nothing to mark");
        let m = Labels::from_pairs(&[("__name__", "m"), ("job", "j"), ("instance", "x")]);
        lp.scrape(1_000);
        lp.previous.insert(m.clone());
        let st = lp.stop(2_000);
        assert_eq!(st.len(), 6);
        assert!(st
            .iter()
            .all(|(_, t, v)| *t == 2_000 && tsdb::storage::is_stale_nan(*v)));
        assert!(st.iter().any(|(l, _, _)| *l == m));
        assert!(st.iter().any(|(l, _, _)| l.get("__name__") == Some("up")));
    }

    #[test]
    fn target_labels_win_unless_honored() {
        let target = Target {
            url: String::new(),
            labels: Labels::from_pairs(&[("job", "j"), ("instance", "i")]),
            interval_ms: 1000,
            timeout_ms: 1000,
            honor_labels: false,
            honor_timestamps: true,
            metric_relabel: vec![],
            limits: ScrapeLimits::default(),
            discovered: Labels::default(),
            native_histograms: false,
            keep_classic_histograms: false,
            scrape_protocols: vec![],
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
            honor_timestamps: true,
            metric_relabel: vec![],
            limits: ScrapeLimits::default(),
            discovered: Labels::default(),
            native_histograms: false,
            keep_classic_histograms: false,
            scrape_protocols: vec![],
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

    #[test]
    fn malformed_protobuf_fails_the_scrape_with_its_offset() {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let addr = server.server_addr().to_ip().unwrap().to_string();
        std::thread::spawn(move || {
            for req in server.incoming_requests() {
                let ct = tiny_http::Header::from_bytes(
                    "Content-Type",
                    exposition::protobuf::CONTENT_TYPE,
                )
                .unwrap();
                // A length prefix promising more bytes than follow.
                let body = vec![0x20, 0x0a, 0x01];
                let _ = req.respond(tiny_http::Response::from_data(body).with_header(ct));
            }
        });
        let target = Target {
            url: format!("http://{addr}/metrics"),
            labels: Labels::from_pairs(&[("job", "j"), ("instance", "x")]),
            interval_ms: 1000,
            timeout_ms: 2000,
            honor_labels: false,
            honor_timestamps: true,
            metric_relabel: vec![],
            limits: ScrapeLimits::default(),
            discovered: Labels::default(),
            native_histograms: true,
            keep_classic_histograms: false,
            scrape_protocols: vec![],
        };
        let mut lp = ScrapeLoop::new(target, 0);
        assert!(lp.accept().starts_with("application/vnd.google.protobuf"));
        let r = lp.scrape(1_000);
        let e = r.error.expect("scrape must fail");
        assert!(e.starts_with("protobuf parse error: byte 0"), "{e}");
        assert!(r.protobuf && r.histograms.is_empty());
        let up = r
            .samples
            .iter()
            .find(|(l, _, _)| l.get("__name__") == Some("up"));
        assert_eq!(up.map(|x| x.2), Some(0.0));
        lp.target.native_histograms = false;
        assert!(!lp.accept().contains("protobuf"));
    }
}
