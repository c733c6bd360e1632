//! The `prometheus.yml` subset `stack` reads: global intervals and external labels, scrape
//! configs with static targets and relabelling, and rule files.

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
    #[serde(default)]
    relabel_configs: Vec<super::relabel::RawRelabel>,
    #[serde(default)]
    metric_relabel_configs: Vec<super::relabel::RawRelabel>,
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
    /// Target relabelling.
    pub relabel_configs: Vec<RelabelConfig>,
    /// Relabelling of each scraped sample.
    pub metric_relabel_configs: Vec<RelabelConfig>,
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
            jobs.push(ScrapeConfig {
                metrics_path: s.metrics_path.unwrap_or_else(|| "/metrics".into()),
                scheme,
                scrape_interval_ms: interval,
                scrape_timeout_ms: timeout,
                honor_labels: s.honor_labels,
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
        Ok(Config {
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
