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

/// Where and why an exposition input was rejected.
///
/// `Display` prints `line:column: reason`, with both numbers 1-based (the column counts
/// characters, not bytes), so a message can be pasted next to the offending scrape.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{line}:{column}: {kind}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters) on that line.
    pub column: usize,
    /// Byte offset into the input.
    pub offset: usize,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

impl ParseError {
    /// Builds an error at byte `offset` of `input`, computing line and column.
    pub fn at(input: &[u8], offset: usize, kind: ParseErrorKind) -> ParseError {
        let offset = offset.min(input.len());
        let before = &input[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let column = String::from_utf8_lossy(&input[line_start..offset])
            .chars()
            .count()
            + 1;
        ParseError {
            line,
            column,
            offset,
            kind,
        }
    }
}

/// The reason an exposition input was rejected; see [`ParseError`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input is not valid UTF-8 at this position.
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// The input ended where more was required (for example a sample line without its
    /// final line feed, or an OpenMetrics exposition without `# EOF`).
    #[error("unexpected end of input: {0}")]
    UnexpectedEof(&'static str),
    /// A character that the grammar does not allow here.
    #[error("unexpected {found}, expected {expected}")]
    Unexpected {
        /// The character found (printed escaped).
        found: String,
        /// What the grammar wanted.
        expected: &'static str,
    },
    /// A metric name that is missing or not valid.
    #[error("invalid metric name {0:?}")]
    InvalidMetricName(String),
    /// A label name that is not valid (or reserved, like `__name__`).
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
    /// The same label name twice in one label set.
    #[error("duplicate label name {0:?}")]
    DuplicateLabel(String),
    /// A backslash escape that the format does not define.
    #[error("invalid escape sequence \\{0}")]
    InvalidEscape(char),
    /// A sample value that is not a float in the format's syntax.
    #[error("invalid sample value {0:?}")]
    InvalidValue(String),
    /// A timestamp that is not valid in the format's syntax.
    #[error("invalid timestamp {0:?}")]
    InvalidTimestamp(String),
    /// A `# TYPE` line naming a type the format does not have.
    #[error("invalid metric type {0:?}")]
    InvalidType(String),
    /// A `# UNIT` that is not a suffix of the family name, or on a type without units.
    #[error("invalid unit {unit:?} for metric family {family:?}")]
    InvalidUnit {
        /// The family name.
        family: String,
        /// The unit given.
        unit: String,
    },
    /// A second HELP, TYPE or UNIT line for one family.
    #[error("duplicate {kind} line for metric family {family:?}")]
    DuplicateMetadata {
        /// `HELP`, `TYPE` or `UNIT`.
        kind: &'static str,
        /// The family name.
        family: String,
    },
    /// Metadata for a family that already has samples.
    #[error("{kind} line for metric family {family:?} after its samples")]
    MetadataAfterSamples {
        /// `HELP`, `TYPE` or `UNIT`.
        kind: &'static str,
        /// The family name.
        family: String,
    },
    /// A family name already used, or one whose sample names clash with another family.
    #[error("metric family {0:?} clashes with an earlier family (families must be contiguous)")]
    ClashingName(String),
    /// A comment or line kind the format does not allow (OpenMetrics has no comments,
    /// no blank lines).
    #[error("invalid line: {0}")]
    InvalidLine(&'static str),
    /// Bytes after `# EOF`.
    #[error("text after # EOF")]
    TextAfterEof,
    /// A `le` or `quantile` label that is missing or not a valid number for the type.
    #[error("invalid {label} label on {metric:?}: {reason}")]
    InvalidTypeLabel {
        /// `le`, `quantile` or the stateset label.
        label: String,
        /// The sample name.
        metric: String,
        /// Why.
        reason: &'static str,
    },
    /// A value that the metric type forbids (negative counter, info value other than 1...).
    #[error("invalid value {value} for {metric:?}: {reason}")]
    InvalidValueForType {
        /// The sample name.
        metric: String,
        /// The value (printed).
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// An exemplar where the type or sample does not allow one, or one too long.
    #[error("invalid exemplar on {metric:?}: {reason}")]
    InvalidExemplar {
        /// The sample name.
        metric: String,
        /// Why.
        reason: &'static str,
    },
    /// Samples of one family or group out of order, interleaved, or with timestamps going
    /// backwards.
    #[error("invalid ordering in metric family {family:?}: {reason}")]
    Ordering {
        /// The family name.
        family: String,
        /// Why.
        reason: &'static str,
    },
    /// A histogram or summary whose samples do not form a valid structure
    /// (missing `+Inf` bucket, `_count` without `_sum`, count mismatch...).
    #[error("invalid histogram/summary structure in {family:?}: {reason}")]
    Structure {
        /// The family name.
        family: String,
        /// Why.
        reason: &'static str,
    },
    /// A start timestamp (`st@`, OpenMetrics 2.0) on a metric whose type has none (only
    /// counters, histograms, summaries and unknown metrics have one).
    #[error("start timestamp on {metric:?}, a {ty}, which has none")]
    StartTimestampNotAllowed {
        /// The metric name.
        metric: String,
        /// The type, as OpenMetrics spells it.
        ty: &'static str,
    },
}
