//! The `prometheus.yml` subset `stack` reads: global intervals, external labels and scrape
//! limits; scrape configs with static, file and HTTP service discovery, `params`,
//! relabelling and limits; `remote_write` destinations; and rule files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::relabel::{RelabelConfig, RelabelError};

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The YAML did not parse or had fields of the wrong shape.
    #[error("{line}:{column}: {message}")]
    Yaml {
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// A duration field did not parse.
    #[error("{field}: not a valid duration: {value:?}")]
    Duration {
        /// Which field.
        field: String,
        /// The text.
        value: String,
    },
    /// A relabel rule is invalid.
    #[error("job {job:?}: {source}")]
    Relabel {
        /// The scrape job.
        job: String,
        /// What was wrong.
        source: RelabelError,
    },
    /// A semantic problem (duplicate job, bad scheme, timeout above interval, ...).
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGlobal {
    scrape_interval: Option<String>,
    scrape_timeout: Option<String>,
    evaluation_interval: Option<String>,
    #[serde(default)]
    external_labels: BTreeMap<String, String>,
    sample_limit: Option<u64>,
    target_limit: Option<u64>,
    label_limit: Option<u64>,
    label_name_length_limit: Option<u64>,
    label_value_length_limit: Option<u64>,
    body_size_limit: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFileSd {
    files: Vec<String>,
    refresh_interval: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpSd {
    url: String,
    refresh_interval: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawQueueConfig {
    capacity: Option<usize>,
    max_shards: Option<u32>,
    min_shards: Option<u32>,
    max_samples_per_send: Option<usize>,
    batch_send_deadline: Option<String>,
    min_backoff: Option<String>,
    max_backoff: Option<String>,
    retry_on_http_429: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRemoteWrite {
    url: String,
    name: Option<String>,
    remote_timeout: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    queue_config: RawQueueConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatic {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScrape {
    job_name: String,
    #[serde(default)]
    static_configs: Vec<RawStatic>,
    metrics_path: Option<String>,
    scheme: Option<String>,
    scrape_interval: Option<String>,
    scrape_timeout: Option<String>,
    #[serde(default)]
    honor_labels: bool,
    honor_timestamps: Option<bool>,
    #[serde(default)]
    relabel_configs: Vec<super::relabel::RawRelabel>,
    #[serde(default)]
    metric_relabel_configs: Vec<super::relabel::RawRelabel>,
    #[serde(default)]
    params: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    file_sd_configs: Vec<RawFileSd>,
    #[serde(default)]
    http_sd_configs: Vec<RawHttpSd>,
    sample_limit: Option<u64>,
    target_limit: Option<u64>,
    label_limit: Option<u64>,
    label_name_length_limit: Option<u64>,
    label_value_length_limit: Option<u64>,
    body_size_limit: Option<serde_yaml_ng::Value>,
    scrape_native_histograms: Option<bool>,
    #[serde(default, alias = "scrape_classic_histograms")]
    always_scrape_classic_histograms: bool,
    scrape_protocols: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    global: RawGlobal,
    #[serde(default)]
    scrape_configs: Vec<RawScrape>,
    #[serde(default)]
    rule_files: Vec<String>,
    #[serde(default)]
    remote_write: Vec<RawRemoteWrite>,
    /// Accepted and ignored: `stack` routes alerts in-process.
    #[serde(default)]
    alerting: Option<serde_yaml_ng::Value>,
}

/// A group of static targets sharing labels.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticConfig {
    /// `host:port` addresses.
    pub targets: Vec<String>,
    /// Labels added to each target.
    pub labels: BTreeMap<String, String>,
}

/// `file_sd_configs` entry: target files (JSON or YAML lists of target groups) found by
/// glob patterns, re-read when they change.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSdConfig {
    /// Patterns resolved against the config file's directory; `*` may appear in the last
    /// path element only, and names end in `.json`, `.yml` or `.yaml`.
    pub files: Vec<PathBuf>,
    /// How often every file is re-read even when nothing seems to have changed (ms,
    /// default 5m).
    pub refresh_interval_ms: i64,
}

/// `http_sd_configs` entry: a URL answering a JSON list of target groups.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSdConfig {
    /// The URL (http only).
    pub url: String,
    /// How often it is fetched (ms, default 60s).
    pub refresh_interval_ms: i64,
}

/// Scrape limits; 0 means no limit (Prometheus's spelling and meaning).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrapeLimits {
    /// Samples per scrape, after metric relabelling.
    pub sample_limit: u64,
    /// Targets of the job after target relabelling; above it every target of the job
    /// fails without being scraped.
    pub target_limit: u64,
    /// Labels per series (the metric name counts), after metric relabelling.
    pub label_limit: u64,
    /// Bytes of a label name.
    pub label_name_length_limit: u64,
    /// Bytes of a label value.
    pub label_value_length_limit: u64,
    /// Bytes of an (uncompressed) scrape body.
    pub body_size_limit: u64,
}

/// One `remote_write` destination and its queue settings.
#[derive(Debug, Clone)]
pub struct RemoteWriteConfig {
    /// Where requests are POSTed.
    pub url: String,
    /// A name for logs (default: the URL).
    pub name: String,
    /// Timeout of one request (ms, default 30s).
    pub remote_timeout_ms: i64,
    /// Extra HTTP headers sent with each request.
    pub headers: BTreeMap<String, String>,
    /// The queue: batch size and deadline, capacity, backoff.
    pub queue: remote::QueueConfig,
}

/// One scrape job.
#[derive(Debug, Clone)]
pub struct ScrapeConfig {
    /// `job_name`.
    pub job_name: String,
    /// Static target groups.
    pub static_configs: Vec<StaticConfig>,
    /// Path of the metrics endpoint (default `/metrics`).
    pub metrics_path: String,
    /// Only `http` is supported.
    pub scheme: String,
    /// Interval in ms.
    pub scrape_interval_ms: i64,
    /// Timeout in ms.
    pub scrape_timeout_ms: i64,
    /// Whether the scraped labels win over target labels.
    pub honor_labels: bool,
    /// Whether timestamps the target exposes are kept (default true); when false every
    /// sample is stored at the scrape time.
    pub honor_timestamps: bool,
    /// Target relabelling.
    pub relabel_configs: Vec<RelabelConfig>,
    /// Relabelling of each scraped sample.
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// URL query parameters of each scrape (`params:`), e.g. `match[]` for `/federate`.
    pub params: BTreeMap<String, Vec<String>>,
    /// File-based discovery.
    pub file_sd_configs: Vec<FileSdConfig>,
    /// HTTP-based discovery.
    pub http_sd_configs: Vec<HttpSdConfig>,
    /// Limits that fail a scrape when exceeded.
    pub limits: ScrapeLimits,
    /// Native histograms are scraped: the `Accept` header prefers delimited protobuf
    /// (`scrape_native_histograms: true`, or `scrape_protocols` naming `PrometheusProto`
    /// first, as Prometheus 3 reads them).
    pub scrape_native_histograms: bool,
    /// The classic `_bucket`/`_sum`/`_count` series of a native histogram are stored too
    /// (`always_scrape_classic_histograms`, formerly `scrape_classic_histograms`).
    pub always_scrape_classic_histograms: bool,
    /// Formats to ask for, most preferred first (names of [`SCRAPE_PROTOCOLS`]): the
    /// configured `scrape_protocols`, or Prometheus's defaults (`PrometheusProto` first
    /// when native histograms are scraped).
    pub scrape_protocols: Vec<String>,
}

/// The protocol names `scrape_protocols` accepts (Prometheus's spelling), in the order
/// Prometheus prefers them by default.
pub const SCRAPE_PROTOCOLS: [&str; 5] = [
    "PrometheusProto",
    "OpenMetricsText1.0.0",
    "OpenMetricsText0.0.1",
    "PrometheusText1.0.0",
    "PrometheusText0.0.4",
];

/// The media type Prometheus asks for under a `scrape_protocols` name.
pub fn protocol_media_type(protocol: &str) -> Option<&'static str> {
    Some(match protocol {
        "PrometheusProto" => {
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
        }
        "OpenMetricsText1.0.0" => "application/openmetrics-text;version=1.0.0",
        "OpenMetricsText0.0.1" => "application/openmetrics-text;version=0.0.1",
        "PrometheusText1.0.0" => "text/plain;version=1.0.0",
        "PrometheusText0.0.4" => "text/plain;version=0.0.4",
        _ => return None,
    })
}

/// The `Accept` header for `protocols` (most preferred first), built as Prometheus builds
/// it: each media type with a falling `q` (`0.<n+1>` down to `0.2` for n protocols), then
/// `*/*` with the lowest. Unknown names are left out.
///
/// ```
/// use examples::stack::config::accept_header;
/// let h = accept_header(&["PrometheusProto".into(), "PrometheusText0.0.4".into()]);
/// assert_eq!(h, "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1");
/// ```
pub fn accept_header(protocols: &[String]) -> String {
    let known: Vec<&str> = protocols
        .iter()
        .filter_map(|p| protocol_media_type(p))
        .collect();
    let mut weight = known.len() + 1;
    let mut parts = Vec::with_capacity(known.len() + 1);
    for m in known {
        parts.push(format!("{m};q=0.{weight}"));
        weight -= 1;
    }
    parts.push(format!("*/*;q=0.{weight}"));
    parts.join(",")
}

/// The parsed configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Default rule evaluation interval (ms).
    pub evaluation_interval_ms: i64,
    /// Labels added to alerts sent out.
    pub external_labels: BTreeMap<String, String>,
    /// The scrape jobs.
    pub scrape_configs: Vec<ScrapeConfig>,
    /// Rule files, resolved against the config file's directory.
    pub rule_files: Vec<PathBuf>,
    /// Remote-write destinations.
    pub remote_write: Vec<RemoteWriteConfig>,
}

/// Parses a byte size as Prometheus's `body_size_limit` does: a plain number of bytes or
/// a number with a unit (`B`, `KB`/`KiB`, `MB`/`MiB`, `GB`/`GiB`, `TB`/`TiB`; all base
/// 1024). `None` when it does not parse.
pub fn parse_byte_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit {
        "" | "B" => 1,
        "KB" | "KiB" => 1 << 10,
        "MB" | "MiB" => 1 << 20,
        "GB" | "GiB" => 1 << 30,
        "TB" | "TiB" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn byte_size(field: &str, v: Option<&serde_yaml_ng::Value>) -> Result<Option<u64>, ConfigError> {
    let bad =
        |value: String| ConfigError::Invalid(format!("{field}: not a valid byte size: {value:?}"));
    match v {
        None => Ok(None),
        Some(serde_yaml_ng::Value::Number(n)) => {
            n.as_u64().map(Some).ok_or_else(|| bad(n.to_string()))
        }
        Some(serde_yaml_ng::Value::String(s)) => {
            parse_byte_size(s).map(Some).ok_or_else(|| bad(s.clone()))
        }
        Some(other) => Err(bad(format!("{other:?}"))),
    }
}

/// Checks a `file_sd_configs` pattern the way Prometheus does: `*` only in the last path
/// element, and a `.json`, `.yml` or `.yaml` name.
fn check_file_pattern(job: &str, p: &str) -> Result<(), ConfigError> {
    let (dir, name) = p.rsplit_once('/').unwrap_or(("", p));
    let lower = name.to_ascii_lowercase();
    let ext_ok = [".json", ".yml", ".yaml"]
        .iter()
        .any(|e| lower.ends_with(e));
    if dir.contains('*') || !ext_ok || name.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "job {job:?}: path {p:?} is not valid for file discovery (a '*' only in the last path element, and a .json, .yml or .yaml name)"
        )));
    }
    Ok(())
}

fn dur(field: &str, v: Option<&str>, default: i64) -> Result<i64, ConfigError> {
    match v {
        None => Ok(default),
        Some(s) => match promql::lexer::parse_duration_ms(s) {
            Some(ms) if ms > 0 => Ok(ms),
            _ => Err(ConfigError::Duration {
                field: field.into(),
                value: s.into(),
            }),
        },
    }
}

impl Config {
    /// Reads and validates a file; relative rule-file paths resolve against its directory.
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Config::load(&text, path.parent().unwrap_or(Path::new(".")))
    }

    /// Parses and validates YAML text.
    pub fn load(text: &str, base: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = serde_yaml_ng::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            ConfigError::Yaml {
                line,
                column,
                message: e.to_string(),
            }
        })?;
        let _ = raw.alerting;
        let g = &raw.global;
        let scrape_interval = dur(
            "global.scrape_interval",
            g.scrape_interval.as_deref(),
            60_000,
        )?;
        let scrape_timeout = dur(
            "global.scrape_timeout",
            g.scrape_timeout.as_deref(),
            10_000.min(scrape_interval),
        )?;
        let eval = dur(
            "global.evaluation_interval",
            g.evaluation_interval.as_deref(),
            60_000,
        )?;
        let global_limits = ScrapeLimits {
            sample_limit: g.sample_limit.unwrap_or(0),
            target_limit: g.target_limit.unwrap_or(0),
            label_limit: g.label_limit.unwrap_or(0),
            label_name_length_limit: g.label_name_length_limit.unwrap_or(0),
            label_value_length_limit: g.label_value_length_limit.unwrap_or(0),
            body_size_limit: byte_size("global.body_size_limit", g.body_size_limit.as_ref())?
                .unwrap_or(0),
        };
        let mut jobs = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for s in raw.scrape_configs {
            if !seen.insert(s.job_name.clone()) {
                return Err(ConfigError::Invalid(format!(
                    "found multiple scrape configs with job name {:?}",
                    s.job_name
                )));
            }
            let scheme = s.scheme.unwrap_or_else(|| "http".into());
            if scheme != "http" {
                return Err(ConfigError::Invalid(format!(
                    "job {:?}: scheme {scheme:?} is not supported (only http)",
                    s.job_name
                )));
            }
            let interval = dur(
                &format!("{}.scrape_interval", s.job_name),
                s.scrape_interval.as_deref(),
                scrape_interval,
            )?;
            let timeout = dur(
                &format!("{}.scrape_timeout", s.job_name),
                s.scrape_timeout.as_deref(),
                scrape_timeout.min(interval),
            )?;
            if timeout > interval {
                return Err(ConfigError::Invalid(format!(
                    "scrape timeout greater than scrape interval for scrape config with job name {:?}",
                    s.job_name
                )));
            }
            let conv =
                |v: Vec<super::relabel::RawRelabel>| -> Result<Vec<RelabelConfig>, ConfigError> {
                    v.into_iter()
                        .map(|r| {
                            RelabelConfig::from_raw(r).map_err(|source| ConfigError::Relabel {
                                job: s.job_name.clone(),
                                source,
                            })
                        })
                        .collect()
                };
            let relabel_configs = conv(s.relabel_configs)?;
            let metric_relabel_configs = conv(s.metric_relabel_configs)?;
            let limits = ScrapeLimits {
                sample_limit: s.sample_limit.unwrap_or(global_limits.sample_limit),
                target_limit: s.target_limit.unwrap_or(global_limits.target_limit),
                label_limit: s.label_limit.unwrap_or(global_limits.label_limit),
                label_name_length_limit: s
                    .label_name_length_limit
                    .unwrap_or(global_limits.label_name_length_limit),
                label_value_length_limit: s
                    .label_value_length_limit
                    .unwrap_or(global_limits.label_value_length_limit),
                body_size_limit: byte_size(
                    &format!("{}.body_size_limit", s.job_name),
                    s.body_size_limit.as_ref(),
                )?
                .unwrap_or(global_limits.body_size_limit),
            };
            let mut file_sd_configs = Vec::new();
            for f in &s.file_sd_configs {
                for p in &f.files {
                    check_file_pattern(&s.job_name, p)?;
                }
                file_sd_configs.push(FileSdConfig {
                    files: f.files.iter().map(|p| base.join(p)).collect(),
                    refresh_interval_ms: dur(
                        &format!("{}.file_sd_configs.refresh_interval", s.job_name),
                        f.refresh_interval.as_deref(),
                        5 * 60_000,
                    )?,
                });
            }
            let mut http_sd_configs = Vec::new();
            for h in &s.http_sd_configs {
                if !h.url.starts_with("http://") {
                    return Err(ConfigError::Invalid(format!(
                        "job {:?}: http_sd_configs url {:?} must be http:// (no TLS support)",
                        s.job_name, h.url
                    )));
                }
                http_sd_configs.push(HttpSdConfig {
                    url: h.url.clone(),
                    refresh_interval_ms: dur(
                        &format!("{}.http_sd_configs.refresh_interval", s.job_name),
                        h.refresh_interval.as_deref(),
                        60_000,
                    )?,
                });
            }
            let protocols = s.scrape_protocols.unwrap_or_default();
            for p in &protocols {
                if !SCRAPE_PROTOCOLS.contains(&p.as_str()) {
                    return Err(ConfigError::Invalid(format!(
                        "{}.scrape_protocols: unknown scrape protocol {p:?}, supported: {}",
                        s.job_name,
                        SCRAPE_PROTOCOLS.join(", ")
                    )));
                }
            }
            let proto_first = protocols.first().map(String::as_str) == Some("PrometheusProto");
            let native = s.scrape_native_histograms.unwrap_or(proto_first);
            let protocols = if protocols.is_empty() {
                let skip = usize::from(!native);
                SCRAPE_PROTOCOLS[skip..]
                    .iter()
                    .map(|p| p.to_string())
                    .collect()
            } else {
                protocols
            };
            jobs.push(ScrapeConfig {
                scrape_native_histograms: native,
                scrape_protocols: protocols,
                always_scrape_classic_histograms: s.always_scrape_classic_histograms,
                params: s.params,
                file_sd_configs,
                http_sd_configs,
                limits,
                metrics_path: s.metrics_path.unwrap_or_else(|| "/metrics".into()),
                scheme,
                scrape_interval_ms: interval,
                scrape_timeout_ms: timeout,
                honor_labels: s.honor_labels,
                honor_timestamps: s.honor_timestamps.unwrap_or(true),
                relabel_configs,
                metric_relabel_configs,
                static_configs: s
                    .static_configs
                    .into_iter()
                    .map(|sc| StaticConfig {
                        targets: sc.targets,
                        labels: sc.labels,
                    })
                    .collect(),
                job_name: s.job_name,
            });
        }
        let mut remote_write = Vec::new();
        for (i, rw) in raw.remote_write.into_iter().enumerate() {
            let field = |f: &str| format!("remote_write[{i}].{f}");
            if !rw.url.starts_with("http://") {
                return Err(ConfigError::Invalid(format!(
                    "remote_write[{i}]: url {:?} must be http:// (no TLS support)",
                    rw.url
                )));
            }
            let q = &rw.queue_config;
            let _ = (q.max_shards, q.min_shards); // one sender per destination
            let d = remote::QueueConfig::default();
            let queue = remote::QueueConfig {
                max_samples_per_send: q
                    .max_samples_per_send
                    .unwrap_or(d.max_samples_per_send)
                    .max(1),
                batch_send_deadline_ms: dur(
                    &field("queue_config.batch_send_deadline"),
                    q.batch_send_deadline.as_deref(),
                    d.batch_send_deadline_ms,
                )?,
                capacity: q.capacity.unwrap_or(d.capacity).max(1),
                min_backoff_ms: dur(
                    &field("queue_config.min_backoff"),
                    q.min_backoff.as_deref(),
                    d.min_backoff_ms,
                )?,
                max_backoff_ms: dur(
                    &field("queue_config.max_backoff"),
                    q.max_backoff.as_deref(),
                    d.max_backoff_ms,
                )?,
                retry_on_http_429: q.retry_on_http_429.unwrap_or(d.retry_on_http_429),
                user_agent: d.user_agent,
            };
            if queue.min_backoff_ms > queue.max_backoff_ms {
                return Err(ConfigError::Invalid(format!(
                    "remote_write[{i}]: min_backoff is above max_backoff"
                )));
            }
            remote_write.push(RemoteWriteConfig {
                name: rw.name.unwrap_or_else(|| rw.url.clone()),
                remote_timeout_ms: dur(
                    &field("remote_timeout"),
                    rw.remote_timeout.as_deref(),
                    30_000,
                )?,
                headers: rw.headers,
                url: rw.url,
                queue,
            });
        }
        Ok(Config {
            remote_write,
            evaluation_interval_ms: eval,
            external_labels: raw.global.external_labels,
            scrape_configs: jobs,
            rule_files: raw.rule_files.iter().map(|f| base.join(f)).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_the_subset() {
        let c = Config::load(
            "global:\n  scrape_interval: 15s\n  evaluation_interval: 30s\n  external_labels: {dc: eu}\nscrape_configs:\n- job_name: node\n  static_configs:\n  - targets: ['a:9100']\n    labels: {env: prod}\n  relabel_configs:\n  - source_labels: [__address__]\n    regex: '(.*):.*'\n    target_label: host\nrule_files: [r.yml]\n",
            Path::new("/etc/p"),
        )
        .unwrap();
        assert_eq!(c.evaluation_interval_ms, 30_000);
        let j = &c.scrape_configs[0];
        assert_eq!(
            (j.scrape_interval_ms, j.scrape_timeout_ms),
            (15_000, 10_000)
        );
        assert_eq!(j.metrics_path, "/metrics");
        assert_eq!(j.relabel_configs.len(), 1);
        assert_eq!(c.rule_files, vec![PathBuf::from("/etc/p/r.yml")]);
        assert_eq!(c.external_labels["dc"], "eu");
    }

    #[test]
    fn loads_discovery_limits_params_and_remote_write() {
        let c = Config::load(
            "global:\n  sample_limit: 100\n  body_size_limit: 1MB\nscrape_configs:\n- job_name: fed\n  honor_labels: true\n  label_limit: 5\n  label_value_length_limit: 30\n  params:\n    'match[]': ['{job=\"a\"}', up]\n  file_sd_configs:\n  - files: ['sd/*.json', 't.yml']\n  http_sd_configs:\n  - url: http://127.0.0.1:1/sd\n    refresh_interval: 2s\nremote_write:\n- url: http://127.0.0.1:2/api/v1/write\n  queue_config: {max_samples_per_send: 50, batch_send_deadline: 1s, min_backoff: 10ms, max_backoff: 1s, capacity: 500}\n",
            Path::new("/etc/p"),
        )
        .unwrap();
        let j = &c.scrape_configs[0];
        assert_eq!(
            j.limits,
            ScrapeLimits {
                sample_limit: 100,
                target_limit: 0,
                label_limit: 5,
                label_name_length_limit: 0,
                label_value_length_limit: 30,
                body_size_limit: 1 << 20,
            }
        );
        assert_eq!(
            j.params["match[]"],
            vec!["{job=\"a\"}".to_string(), "up".into()]
        );
        assert_eq!(
            j.file_sd_configs[0].files[0],
            PathBuf::from("/etc/p/sd/*.json")
        );
        assert_eq!(j.file_sd_configs[0].refresh_interval_ms, 300_000);
        assert_eq!(j.http_sd_configs[0].refresh_interval_ms, 2_000);
        let rw = &c.remote_write[0];
        assert_eq!(rw.name, "http://127.0.0.1:2/api/v1/write");
        assert_eq!(rw.remote_timeout_ms, 30_000);
        assert_eq!(
            (
                rw.queue.max_samples_per_send,
                rw.queue.batch_send_deadline_ms,
                rw.queue.capacity
            ),
            (50, 1_000, 500)
        );
        assert_eq!(
            (rw.queue.min_backoff_ms, rw.queue.max_backoff_ms),
            (10, 1_000)
        );
    }

    #[test]
    fn byte_sizes_and_bad_discovery_are_reported() {
        assert_eq!(parse_byte_size("512"), Some(512));
        assert_eq!(parse_byte_size("10KB"), Some(10 << 10));
        assert_eq!(parse_byte_size("2GiB"), Some(2 << 30));
        assert_eq!(parse_byte_size("1.5MB"), None);
        assert_eq!(parse_byte_size("1 parsec"), None);
        let bad = |y: &str| Config::load(y, Path::new(".")).unwrap_err().to_string();
        assert!(
            bad("scrape_configs:\n- job_name: a\n  body_size_limit: lots\n").contains("byte size")
        );
        assert!(bad(
            "scrape_configs:\n- job_name: a\n  file_sd_configs:\n  - files: ['*/x.json']\n"
        )
        .contains("file discovery"));
        assert!(
            bad("scrape_configs:\n- job_name: a\n  file_sd_configs:\n  - files: ['x.txt']\n")
                .contains("file discovery")
        );
        assert!(
            bad("scrape_configs:\n- job_name: a\n  http_sd_configs:\n  - url: https://x/\n")
                .contains("http://")
        );
        assert!(bad(
            "remote_write:\n- url: http://x/\n  queue_config: {min_backoff: 5s, max_backoff: 1s}\n"
        )
        .contains("min_backoff"));
    }

    #[test]
    fn errors_have_positions_and_reasons() {
        let e = Config::load(
            "scrape_configs:\n- job_name: a\n  bogus: 1\n",
            Path::new("."),
        )
        .unwrap_err();
        assert!(matches!(e, ConfigError::Yaml { line: 3, .. }), "{e}");
        let e = Config::load(
            "scrape_configs:\n- job_name: a\n- job_name: a\n",
            Path::new("."),
        )
        .unwrap_err();
        assert!(e.to_string().contains("multiple scrape configs"), "{e}");
        let e = Config::load(
            "scrape_configs:\n- job_name: a\n  scrape_interval: 5s\n  scrape_timeout: 10s\n",
            Path::new("."),
        )
        .unwrap_err();
        assert!(e.to_string().contains("greater than"), "{e}");
        let e = Config::load("global: {scrape_interval: soon}\n", Path::new(".")).unwrap_err();
        assert!(matches!(e, ConfigError::Duration { .. }));
    }
}
