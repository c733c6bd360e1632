//! Recording and alerting rules from Prometheus rule files, driven by the caller's clock.
//!
//! ```text
//! rule file (YAML) ──file──► GroupSpec ──► Group ──eval(now, store)──► samples written
//!                                                      │                 (record, ALERTS,
//!                                                      │                  ALERTS_FOR_STATE)
//!                                                      └──► NotifierAlert (Alertmanager shape)
//! ```
//!
//! Native histograms go through as in Prometheus 3.x: a recording rule whose expression
//! returns histograms writes them with [`Appendable::append_histogram`], a vanished output
//! series (float or histogram) gets a float staleness marker, and an alerting rule over
//! histograms fires per sample with `$value` bound to the histogram (the alert's float
//! value is 0).
//!
//! | module | the question it answers |
//! |---|---|
//! | [`file`](mod@file) | how is a rule file loaded and validated (`promtool check rules`)? |
//! | [`group`] | what does one evaluation of a group do, and when is it due? |
//! | [`recording`] | which series does a recording rule write? |
//! | [`alerting`] | which alerts are pending/firing/resolved, and what is sent on? |
//! | [`template`] | how are alert labels and annotations expanded? |
//! | [`unittest`] | does a rule set pass its `promtool test rules` files? |
//! | [`error`] | why did loading or evaluating fail? |
//!
//! # Differences from Prometheus
//! - Recording-rule names and label names are checked against the legacy character set
//!   (`[a-zA-Z_:][a-zA-Z0-9_:]*`), as `promtool` 2.x does; Prometheus 3.x also accepts UTF-8.
//! - Template comparisons accept an integer constant against a float (`gt $value 1`); Go
//!   rejects that, so portable templates write `1.0`. `printf` widths are capped at 65536 and
//!   precisions at 1000, an expansion at 1 MiB of text and 1M loop iterations.
//! - Problems in a rule file carry the line (not the column) of the rule, or of its `expr:`
//!   for expression errors; lines are found by a scan of the YAML text.
//! - Evaluation slots use Prometheus's per-group offset (xxhash of `{file, name}`), truncated
//!   to whole milliseconds.
//!
//! ```
//! use exposition::Labels;
//! use promql::rules::{load_str, Group, GroupOptions};
//! use promql::storage::MemStorage;
//!
//! let file = load_str("r.yml", "groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum by (job) (up)\n  - alert: JobDown\n    expr: job:up:sum == 0\n    annotations:\n      summary: '{{ $labels.job }} is down'\n").unwrap();
//! let mut group = Group::new(&file.groups[0], &GroupOptions::default()).unwrap();
//! let mut db = MemStorage::new();
//! db.append(&Labels::from_pairs(&[("__name__", "up"), ("job", "api")]), 0, 0.0).unwrap();
//! let report = group.eval(0, &mut db);
//! assert!(report.failures.is_empty());
//! let alerts = group.active_alerts();
//! assert_eq!(alerts[0].annotations.get("summary"), Some("api is down"));
//! assert_eq!(report.alerts_to_send.len(), 1); // `for: 0` fires at once
//! ```

pub mod alerting;
pub mod error;
pub mod file;
pub mod group;
pub mod recording;
pub mod template;
pub mod unittest;

pub use alerting::{Alert, AlertState, AlertingRule, NotifierAlert};
pub use error::{EvalError, Problem, RuleError};
pub use file::{load_file, load_str, GroupSpec, RuleFile, RuleKind, RuleSpec};
pub use group::{EvalReport, Group, GroupOptions, Rule, RuleFailure};
pub use recording::RecordingRule;

use crate::storage::{MemStorage, Storage, StorageError};
use exposition::histogram::FloatHistogram;
use exposition::Labels;
use std::sync::Arc;

/// Where rule output goes: recording-rule series, `ALERTS`, `ALERTS_FOR_STATE`, staleness
/// markers. One rule's samples are appended, then `commit` is called.
pub trait Appendable {
    /// Appends one sample.
    fn append(&mut self, labels: &Labels, t_ms: i64, v: f64) -> Result<(), StorageError>;
    /// Appends one native-histogram sample (a recording rule whose expression returns
    /// histograms). The default rejects it with [`StorageError::HistogramsUnsupported`], so
    /// appenders written for floats only keep compiling and report the loss as a rule failure.
    fn append_histogram(
        &mut self,
        labels: &Labels,
        t_ms: i64,
        h: Arc<FloatHistogram>,
    ) -> Result<(), StorageError> {
        let _ = h;
        Err(StorageError::HistogramsUnsupported {
            series: labels.to_string(),
            t: t_ms,
        })
    }
    /// Makes the appended samples durable/visible; the default does nothing.
    fn commit(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}

/// A store that rules both read from and write to, so later rules see earlier output.
/// Implemented for everything that is both a [`Storage`] and an [`Appendable`].
pub trait RuleStorage {
    /// The read side.
    fn storage(&self) -> &dyn Storage;
    /// The write side.
    fn appender(&mut self) -> &mut dyn Appendable;
}

impl<T: Storage + Appendable> RuleStorage for T {
    fn storage(&self) -> &dyn Storage {
        self
    }
    fn appender(&mut self) -> &mut dyn Appendable {
        self
    }
}

impl Appendable for MemStorage {
    fn append(&mut self, labels: &Labels, t_ms: i64, v: f64) -> Result<(), StorageError> {
        MemStorage::append(self, labels, t_ms, v)
    }
    fn append_histogram(
        &mut self,
        labels: &Labels,
        t_ms: i64,
        h: Arc<FloatHistogram>,
    ) -> Result<(), StorageError> {
        MemStorage::append_histogram(self, labels, t_ms, h)
    }
}

/// Loads every group of the rule files at `paths` (each file validated first).
pub fn load_groups(paths: &[&str], opts: &GroupOptions) -> Result<Vec<Group>, RuleError> {
    let mut out = Vec::new();
    for p in paths {
        let f = load_file(p)?;
        for g in &f.groups {
            out.push(Group::new(g, opts).map_err(|e| RuleError::Invalid {
                path: p.to_string(),
                problems: vec![Problem {
                    line: 0,
                    group: g.name.clone(),
                    rule: None,
                    rule_name: String::new(),
                    msg: e.to_string(),
                }],
            })?);
        }
    }
    Ok(out)
}
