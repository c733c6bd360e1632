//! Errors of the histogram module: notation parsing, validation and arithmetic.

use std::fmt;

/// Which side of the zero bucket a bucket list describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Positive buckets (`positive_spans` / `positive_buckets`).
    Positive,
    /// Negative buckets (`negative_spans` / `negative_buckets`).
    Negative,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Positive => "positive",
            Side::Negative => "negative",
        })
    }
}

/// What was wrong with a `{{...}}` histogram notation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotationErrorKind {
    /// The text does not start with `{{`.
    #[error("expected \"{{{{\" to open the histogram")]
    MissingOpen,
    /// The text ends before the closing `}}`.
    #[error("expected \"}}}}\" to close the histogram")]
    MissingClose,
    /// Something follows the closing `}}`.
    #[error("unexpected text after the closing \"}}}}\"")]
    TrailingInput,
    /// A key that the notation does not know.
    #[error("unknown histogram key {0:?}")]
    UnknownKey(String),
    /// A key given twice.
    #[error("duplicate key {0:?} in histogram")]
    DuplicateKey(String),
    /// A key without the `:` that separates it from its value.
    #[error("expected ':' after key {0:?}")]
    MissingColon(String),
    /// A key with nothing after the colon.
    #[error("missing value for key {0:?}")]
    MissingValue(String),
    /// A value that is not a number.
    #[error("invalid number {text:?} for {key:?}")]
    InvalidNumber {
        /// The key the value belongs to.
        key: String,
        /// The offending text.
        text: String,
    },
    /// A value that must be an integer (in `i32` range) and is not.
    #[error("invalid integer {text:?} for {key:?}")]
    InvalidInteger {
        /// The key the value belongs to.
        key: String,
        /// The offending text.
        text: String,
    },
    /// A list key (`buckets`, `n_buckets`, `custom_values`) without `[`.
    #[error("expected '[' to open the list of {0:?}")]
    ExpectedList(String),
    /// A list without its closing `]`.
    #[error("unterminated list for {0:?}")]
    UnterminatedList(String),
    /// A scalar key given a list.
    #[error("unexpected list for {0:?}")]
    UnexpectedList(String),
    /// `counter_reset_hint` with a value other than `unknown`, `reset`, `not_reset`, `gauge`.
    #[error("invalid counter_reset_hint {0:?} (want unknown, reset, not_reset or gauge)")]
    InvalidHint(String),
    /// Something that is neither a key nor the end of the histogram.
    #[error("expected a key or \"}}}}\"")]
    ExpectedKey,
}

/// A histogram notation that could not be parsed, with the byte offset where the problem
/// starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("histogram notation: at byte {offset}: {kind}")]
pub struct HistogramNotationError {
    /// What was wrong.
    pub kind: NotationErrorKind,
    /// Byte offset into the parsed text.
    pub offset: usize,
}

/// A histogram that is not valid, or an operation that is not possible on it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HistogramError {
    /// An exponential histogram combined with a custom-bucket (NHCB) one.
    #[error("cannot combine exponential and custom-bucket histograms")]
    MixedExponentialAndCustom,
    /// A schema that is neither `-4..=8` nor the custom-bucket schema.
    #[error("invalid histogram schema {0}")]
    InvalidSchema(i32),
    /// The spans describe a different number of buckets than there are.
    #[error("{side} side: spans need {spans_need} buckets, have {buckets_have} buckets")]
    SpansBucketsMismatch {
        /// Which side.
        side: Side,
        /// Sum of span lengths.
        spans_need: usize,
        /// Length of the bucket list.
        buckets_have: usize,
    },
    /// A span other than the first (or any span for custom buckets) with a negative offset.
    #[error("{side} side: span number {span} has negative offset {offset}")]
    NegativeSpanOffset {
        /// Which side.
        side: Side,
        /// 1-based span number.
        span: usize,
        /// The offset.
        offset: i32,
    },
    /// A bucket with a negative observation count.
    #[error("{side} side: bucket number {bucket} has observation count of {count}")]
    NegativeBucketCount {
        /// Which side.
        side: Side,
        /// 1-based bucket number.
        bucket: usize,
        /// The (absolute) count.
        count: f64,
    },
    /// A negative zero-bucket count.
    #[error("zero bucket has observation count of {0}")]
    NegativeZeroCount(f64),
    /// A negative total count.
    #[error("observation count is {0}")]
    NegativeCount(f64),
    /// Custom bounds not strictly increasing.
    #[error("custom buckets: bound number {index} is {current}, not above the previous bound {previous}")]
    CustomBoundsNotIncreasing {
        /// 1-based bound number.
        index: usize,
        /// The bound before.
        previous: f64,
        /// The offending bound.
        current: f64,
    },
    /// A custom bound that is NaN or infinite (the `+Inf` bound is implicit).
    #[error("custom buckets: bound number {index} is {value}, bounds must be finite")]
    CustomBoundNotFinite {
        /// 1-based bound number.
        index: usize,
        /// The offending bound.
        value: f64,
    },
    /// Spans reaching beyond the buckets the custom bounds define.
    #[error("custom buckets: {bounds} bounds cannot cover a total span length of {span_length}")]
    CustomBucketsMismatch {
        /// Number of custom bounds.
        bounds: usize,
        /// Sum of offsets and lengths of the spans.
        span_length: i64,
    },
    /// A custom-bucket histogram with a zero count.
    #[error("custom buckets: must have zero count of 0")]
    CustomBucketsZeroCount,
    /// A custom-bucket histogram with a zero threshold.
    #[error("custom buckets: must have zero threshold of 0")]
    CustomBucketsZeroThreshold,
    /// A custom-bucket histogram with negative spans or buckets.
    #[error("custom buckets: must not have negative buckets or spans")]
    CustomBucketsNegativeBuckets,
    /// An exponential histogram with custom bounds.
    #[error("histogram with exponential schema must not have custom bounds")]
    ExponentialWithCustomBounds,
    /// The buckets hold more observations than the count says.
    #[error("{in_buckets} observations found in buckets, but the count field is {count}")]
    CountNotBigEnough {
        /// Sum of all bucket counts.
        in_buckets: f64,
        /// The count field.
        count: f64,
    },
    /// (Integer histograms without NaN sum) the buckets do not add up to the count.
    #[error("{in_buckets} observations found in buckets, but the count field is {count}")]
    CountMismatch {
        /// Sum of all bucket counts.
        in_buckets: f64,
        /// The count field.
        count: f64,
    },
    /// A resolution change that is not a reduction (or involves custom buckets).
    #[error("cannot change resolution from schema {from} to {to}")]
    InvalidResolutionChange {
        /// Current schema.
        from: i32,
        /// Requested schema.
        to: i32,
    },
}
