//! Errors of the tsdb crate: one enum, each variant named for the condition.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong in the tsdb.
///
/// Ingest conditions (`OutOfOrderSample`, `DuplicateSample`, `OutOfBounds`, `InvalidLabels`)
/// reject one sample and leave the rest of an appender's batch untouched. `Corruption` names
/// the WAL segment (or checkpoint) and byte offset; `Io` names the path.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The sample's timestamp is older than the newest sample of its series.
    #[error("out of order sample: t={t} is before the series' last t={last_t}")]
    OutOfOrderSample {
        /// The rejected timestamp.
        t: i64,
        /// The series' newest timestamp.
        last_t: i64,
    },
    /// A second sample for a timestamp that already has a different value.
    #[error("duplicate sample for timestamp {t} with a different value")]
    DuplicateSample {
        /// The timestamp.
        t: i64,
    },
    /// The sample is older than the head accepts (before its appendable window).
    #[error("out of bounds: t={t} is before the head's minimum valid time {min_valid_t}")]
    OutOfBounds {
        /// The rejected timestamp.
        t: i64,
        /// The oldest timestamp the head accepts right now.
        min_valid_t: i64,
    },
    /// The label set breaks Prometheus's rules.
    #[error("invalid labels: {0}")]
    InvalidLabels(#[from] exposition::LabelError),
    /// The label set is empty.
    #[error("invalid labels: empty label set")]
    EmptyLabels,
    /// Every series ref has been handed out (2^32 - 1 series created in this head).
    #[error("series refs exhausted")]
    SeriesLimit,
    /// The head holds its configured maximum of active series
    /// ([`HeadOptions::max_series`](crate::HeadOptions::max_series)); the new series was
    /// refused, existing series still ingest.
    #[error("active series limit of {limit} reached: new series refused")]
    TooManySeries {
        /// The configured cap.
        limit: usize,
    },
    /// A series reference that the head does not know.
    #[error("unknown series reference {0}")]
    UnknownSeries(u64),
    /// A WAL segment or checkpoint is damaged somewhere other than its torn tail.
    #[error("corruption in {segment} at byte offset {offset}: {reason}")]
    Corruption {
        /// File name of the segment or checkpoint, relative to the WAL directory.
        segment: String,
        /// Byte offset of the first bad record.
        offset: u64,
        /// What is wrong there.
        reason: CorruptionKind,
    },
    /// One commit would make a WAL record larger than the format allows.
    #[error("commit too large for one WAL record: {bytes} bytes (limit {limit})")]
    CommitTooLarge {
        /// Encoded size of the commit.
        bytes: usize,
        /// The largest record the WAL accepts.
        limit: usize,
    },
    /// A chunk whose bytes do not decode.
    #[error("invalid chunk: {0}")]
    InvalidChunk(&'static str),
    /// A native histogram that cannot be stored (bad schema, spans that do not match the
    /// buckets, negative counts, a count below the sum of the buckets).
    #[error("invalid histogram: {0}")]
    InvalidHistogram(&'static str),
    /// A block file is damaged: a checksum, magic number, length or reference is wrong.
    #[error("block corruption in {file} (section {section}) at byte offset {offset}: {reason}")]
    BlockCorruption {
        /// The block file (index, chunk segment or meta.json).
        file: PathBuf,
        /// The section of the file: `header`, `toc`, `symbols`, `series`, `label index`,
        /// `postings`, `chunk` or `meta`.
        section: &'static str,
        /// Byte offset where the problem was found.
        offset: u64,
        /// What is wrong there.
        reason: String,
    },
    /// A block writer was used wrongly (series out of label order, chunks out of time order).
    #[error("invalid block write: {0}")]
    InvalidBlockWrite(&'static str),
    /// An I/O failure, with the path it concerned.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Why a WAL record was judged corrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CorruptionKind {
    /// The stored checksum does not match the payload.
    #[error("checksum mismatch")]
    Checksum,
    /// The length field runs past the end of the file.
    #[error("record length past end of file")]
    Length,
    /// The payload does not decode as a record.
    #[error("undecodable record payload")]
    Payload,
    /// An unknown record type byte.
    #[error("unknown record type")]
    RecordType,
    /// A segment is missing from the middle of the sequence.
    #[error("segment missing")]
    MissingSegment,
}

impl Error {
    /// Builds an [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether this error rejects a single sample (the batch continues), as opposed to a
    /// storage failure.
    pub fn is_sample_rejection(&self) -> bool {
        matches!(
            self,
            Error::OutOfOrderSample { .. }
                | Error::DuplicateSample { .. }
                | Error::OutOfBounds { .. }
                | Error::InvalidLabels(_)
                | Error::EmptyLabels
                | Error::InvalidHistogram(_)
                | Error::UnknownSeries(_)
                | Error::SeriesLimit
                | Error::TooManySeries { .. }
        )
    }
}

/// Result alias for the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
