//! Errors of the exposition crate.

use thiserror::Error;

/// A label set or name that breaks Prometheus's rules.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LabelError {
    /// A label with an empty name.
    #[error("label name is empty")]
    EmptyName,
    /// The same label name twice in one set.
    #[error("duplicate label name {0:?}")]
    DuplicateName(String),
    /// A label name that is not valid under the rules in force.
    #[error("invalid label name {0:?}")]
    InvalidName(String),
    /// A metric name that is not valid under the rules in force.
    #[error("invalid metric name {0:?}")]
    InvalidMetricName(String),
}

/// A matcher that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MatcherError {
    /// The regular expression does not compile (RE2 syntax).
    #[error("invalid regular expression {pattern:?}: {reason}")]
    InvalidRegex {
        /// The pattern as written.
        pattern: String,
        /// The regex compiler's explanation.
        reason: String,
    },
}
