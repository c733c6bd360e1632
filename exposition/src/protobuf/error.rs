//! Why a protobuf exposition body was rejected, and at which byte.

use thiserror::Error;

/// A protobuf exposition body that could not be read.
///
/// `offset` is a byte offset into the whole body: the byte where a length prefix or a
/// message field goes wrong, or, for errors about a family's content (names, labels,
/// native buckets), the start of that family's length prefix. `Display` prints
/// `byte N: reason`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("byte {offset}: {kind}")]
pub struct ProtobufError {
    /// Byte offset into the body.
    pub offset: usize,
    /// What was wrong.
    pub kind: ProtobufErrorKind,
}

impl ProtobufError {
    /// An error of `kind` at byte `offset`.
    pub fn new(offset: usize, kind: ProtobufErrorKind) -> ProtobufError {
        ProtobufError { offset, kind }
    }
}

/// The reason a protobuf exposition body was rejected; see [`ProtobufError`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtobufErrorKind {
    /// The body ended inside a length prefix.
    #[error("input ends inside a length prefix")]
    TruncatedLength,
    /// A varint longer than 10 bytes or beyond 64 bits.
    #[error("malformed varint")]
    BadVarint,
    /// A length prefix promises more bytes than the body has left.
    #[error("message of {declared} bytes declared, only {available} left")]
    Truncated {
        /// The declared length.
        declared: u64,
        /// Bytes left after the prefix.
        available: usize,
    },
    /// A message longer than the reader's limit.
    #[error("message of {declared} bytes exceeds the limit of {max}")]
    Oversize {
        /// The declared length.
        declared: u64,
        /// The limit in force.
        max: usize,
    },
    /// The bytes of a message do not decode as the message (wrong wire type, bad UTF-8,
    /// a nested length running past its parent, ...).
    #[error("invalid {message} message: {reason}")]
    BadMessage {
        /// The message being decoded when it failed (`MetricFamily`, `Metric`, ...).
        message: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A family without a name.
    #[error("metric family without a name")]
    EmptyMetricName,
    /// A `type` number outside the enum.
    #[error("unknown metric type {ty} for metric family {family:?}")]
    UnknownType {
        /// Family name.
        family: String,
        /// The number found.
        ty: i32,
    },
    /// A unit that is not a suffix of the family name.
    #[error("unit {unit:?} is not a suffix of metric family {family:?}")]
    InvalidUnit {
        /// Family name.
        family: String,
        /// The unit.
        unit: String,
    },
    /// A label with an empty name, the reserved `__name__`, or a name given twice.
    #[error("invalid label {label:?} in metric family {family:?}: {reason}")]
    InvalidLabel {
        /// Family name.
        family: String,
        /// The label name.
        label: String,
        /// Why.
        reason: &'static str,
    },
    /// Native histogram spans and bucket counts that disagree.
    #[error("native histogram in {family:?}: {reason}")]
    InvalidNativeHistogram {
        /// Family name.
        family: String,
        /// Why.
        reason: String,
    },
}
