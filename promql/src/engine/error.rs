//! Errors a query can fail with at evaluation time.

use crate::storage::StorageError;

/// Why a query failed. The `Display` text matches Prometheus's error strings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The query text did not parse.
    #[error("{0}")]
    Parse(#[from] crate::error::ParseError),
    /// Two output series ended up with the same labels at one timestamp.
    #[error("vector cannot contain metrics with the same labelset")]
    DuplicateLabelset,
    /// One-to-one matching found several matches for one side.
    #[error("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")]
    ManyToOneNotExplicit,
    /// group_left/group_right produced the same output series twice.
    #[error("multiple matches for labels: grouping labels must ensure unique matches")]
    GroupingNotUnique,
    /// The "one" side of a match has several series for one match group.
    #[error("found duplicate series for the match group {group} on the {side} hand-side of the operation: [{a}, {b}];many-to-many matching not allowed: matching labels must be unique on one side")]
    ManyToMany {
        /// The matching labels, PromQL form.
        group: String,
        /// `left` or `right`.
        side: &'static str,
        /// First series.
        a: String,
        /// Second series.
        b: String,
    },
    /// More samples than the configured limit were held in memory.
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
    /// The caller's cancellation / deadline check fired.
    #[error("query was canceled in {0}")]
    Canceled(&'static str),
    /// A function argument was invalid (e.g. a bad regex in `label_replace`).
    #[error("{0}")]
    InvalidArgument(String),
    /// `info()` would join the data labels of an info series sample that is a native
    /// histogram; info samples must be floats.
    #[error("info sample should be float")]
    InfoSampleNotFloat,
    /// A parameter that must be a number was NaN (`topk`, `limitk`).
    #[error("Parameter value is NaN")]
    ParamNaN,
    /// The `limit_ratio` parameter was NaN.
    #[error("Ratio value is NaN")]
    RatioNaN,
    /// A feature the engine does not implement yet (native histograms, ...).
    #[error("not supported by this engine: {0}")]
    Unsupported(String),
    /// A duration expression could not be evaluated.
    #[error("{0}")]
    Duration(#[from] crate::ast::DurationError),
    /// The storage failed.
    #[error("{0}")]
    Storage(#[from] StorageError),
}
