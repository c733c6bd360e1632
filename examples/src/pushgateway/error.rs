//! What can go wrong in the Pushgateway: bad grouping keys, bad bodies, inconsistent pushes
//! and unreadable persistence files.

use thiserror::Error;

/// A grouping key in a request path that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The path does not start with `/metrics/job/` or `/metrics/job@base64/`.
    #[error("path must start with /metrics/job/<job> or /metrics/job@base64/<job>")]
    NoJob,
    /// The job name is empty.
    #[error("job name is required")]
    EmptyJob,
    /// A label name without a value (an odd number of path segments).
    #[error("label {name:?} has no value (odd number of path segments)")]
    MissingValue {
        /// The label name.
        name: String,
    },
    /// A label name that is not `[a-zA-Z_][a-zA-Z0-9_]*` or starts with the reserved `__`.
    #[error("invalid label name {name:?} at path segment {segment}")]
    InvalidLabelName {
        /// The name as written.
        name: String,
        /// 1-based segment index after `/metrics/`.
        segment: usize,
    },
    /// The same label twice in the path.
    #[error("duplicate label {name:?} in grouping key")]
    DuplicateLabel {
        /// The label name.
        name: String,
    },
    /// A `@base64` value that is not URL-safe base64 or not UTF-8.
    #[error("invalid base64 value for label {name:?} at path segment {segment}")]
    InvalidBase64 {
        /// The label name.
        name: String,
        /// 1-based segment index after `/metrics/`.
        segment: usize,
    },
    /// A `%xx` escape that is malformed or does not decode to UTF-8.
    #[error("invalid percent-encoding at path segment {segment}")]
    InvalidPercentEncoding {
        /// 1-based segment index after `/metrics/`.
        segment: usize,
    },
}

/// Why a push was refused. Nothing is stored when a push fails.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum PushError {
    /// The body does not parse (the position is inside the body).
    #[error("unparsable body: {0}")]
    Parse(#[from] exposition::ParseError),
    /// The protobuf body does not decode (the offset is inside the body).
    #[error("unparsable protobuf body: {0}")]
    Protobuf(#[from] exposition::protobuf::ProtobufError),
    /// A media type this program cannot read (protobuf other than the delimited encoding).
    #[error("unsupported Content-Type {0:?}; push text 0.0.4, OpenMetrics or delimited protobuf")]
    UnsupportedMediaType(String),
    /// A pushed sample carries a timestamp, which the Pushgateway forbids.
    #[error("pushed sample {sample:?} has a timestamp; pushed metrics must not have timestamps")]
    Timestamp {
        /// The sample name.
        sample: String,
    },
    /// A family whose type has no text 0.0.4 form.
    #[error("family {family:?} has type {ty}, which the Pushgateway cannot hold")]
    UnsupportedType {
        /// The family name.
        family: String,
        /// The type as written in OpenMetrics.
        ty: &'static str,
    },
    /// A grouping label that would overwrite a histogram's `le` or a summary's `quantile`.
    #[error("grouping label {label:?} would overwrite the {label:?} label of family {family:?}")]
    StructuralGroupingLabel {
        /// The family name.
        family: String,
        /// The label (`le` or `quantile`).
        label: &'static str,
    },
    /// A family name the Pushgateway reserves for itself.
    #[error("family name {0:?} is reserved by the Pushgateway")]
    Reserved(String),
    /// A family held elsewhere with another type.
    #[error("family {family:?} is pushed as {pushed} but held as {held} by group {group}")]
    TypeConflict {
        /// The family name.
        family: String,
        /// Type in this push.
        pushed: &'static str,
        /// Type already held.
        held: &'static str,
        /// Grouping key of the group holding it.
        group: String,
    },
    /// A family held elsewhere with another HELP text.
    #[error("family {family:?} is pushed with help {pushed:?} but held with help {held:?} by group {group}")]
    HelpConflict {
        /// The family name.
        family: String,
        /// Help in this push.
        pushed: String,
        /// Help already held.
        held: String,
        /// Grouping key of the group holding it.
        group: String,
    },
    /// The same series twice, in this push or across groups.
    #[error("duplicate series {series} (also in group {group})")]
    DuplicateSeries {
        /// The series in PromQL form.
        series: String,
        /// Grouping key of the group that already has it.
        group: String,
    },
}

/// A persistence file that cannot be read back. The program refuses to start on one.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PersistError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not the JSON this program writes.
    #[error("{path}: corrupt persistence file at line {line}, column {column}: {message}")]
    Json {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde_json said.
        message: String,
    },
    /// The file's format marker is missing or from another version.
    #[error("{path}: unknown persistence format {found:?}")]
    Format {
        /// The file.
        path: String,
        /// The marker found.
        found: String,
    },
    /// A group's grouping key or metrics do not parse.
    #[error("{path}: group {group}: {message}")]
    Group {
        /// The file.
        path: String,
        /// 0-based index of the group in the file.
        group: usize,
        /// What is wrong with it.
        message: String,
    },
}
