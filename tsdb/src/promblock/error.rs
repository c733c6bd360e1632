//! Errors of the Prometheus block format: each names the file, the section and the byte
//! offset where reading went wrong.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong reading or writing a Prometheus-format block.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PromBlockError {
    /// An I/O failure, with the path it concerned.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Bytes that do not follow the format: a bad magic number, a length or reference
    /// running past its section, an unknown symbol, series out of order.
    #[error("corrupt {file} (section {section}) at byte offset {offset}: {reason}")]
    Corrupt {
        /// The block file (index, chunk segment, tombstones).
        file: PathBuf,
        /// The section: `header`, `toc`, `symbols`, `series`, `label index`,
        /// `label offset table`, `postings`, `postings offset table`, `chunk`, `tombstones`.
        section: &'static str,
        /// Byte offset in the file where the problem was found.
        offset: u64,
        /// What is wrong there.
        reason: &'static str,
    },
    /// A CRC32 (Castagnoli) checksum that does not match its bytes.
    #[error(
        "checksum mismatch in {file} (section {section}) at byte offset {offset}: \
         stored {stored:#010x}, computed {computed:#010x}"
    )]
    Checksum {
        /// The block file.
        file: PathBuf,
        /// The section the checksum guards.
        section: &'static str,
        /// Byte offset of the section (or chunk record).
        offset: u64,
        /// The checksum in the file.
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },
    /// A version this reader does not speak (index v1, a future chunk or tombstone format).
    #[error("unsupported {what} version {version} in {file}")]
    UnsupportedVersion {
        /// The file.
        file: PathBuf,
        /// Which format (`index`, `chunks`, `tombstones`).
        what: &'static str,
        /// The version byte found.
        version: u8,
    },
    /// A chunk in an encoding other than XOR floats (native histogram chunks).
    #[error("unsupported chunk encoding {encoding} in {file} at byte offset {offset}")]
    UnsupportedEncoding {
        /// The chunk segment file.
        file: PathBuf,
        /// Offset of the chunk record.
        offset: u64,
        /// The encoding byte (1 is XOR; 2 and 3 are histogram chunks).
        encoding: u8,
    },
    /// The writer was used wrongly: duplicate series, samples out of time order, an
    /// empty range, a block too large for 32-bit series references.
    #[error("invalid export: {0}")]
    InvalidWrite(&'static str),
    /// An error from the rest of the tsdb crate (meta.json parsing, mapping files, the
    /// native block writer).
    #[error(transparent)]
    Tsdb(#[from] crate::Error),
}

impl PromBlockError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> PromBlockError {
        PromBlockError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias for the module.
pub type Result<T, E = PromBlockError> = std::result::Result<T, E>;
