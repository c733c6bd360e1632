//! Errors of the remote crate: one enum, each variant named for the condition.

use thiserror::Error;

/// Everything that can go wrong decoding or storing a remote-write request, or tailing
/// a WAL.
///
/// Per-sample ingest conditions (out of order, duplicate, out of bounds, invalid labels)
/// are *not* errors: they are listed in a [`ReceiveReport`](crate::ReceiveReport) and the
/// rest of the request is stored, as Prometheus's receiver does.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The body is not a valid snappy block (the block format, not the framed format).
    #[error("bad snappy block ({body_len} body bytes): {source}")]
    Snappy {
        /// Length of the compressed body.
        body_len: usize,
        /// What the decompressor found.
        #[source]
        source: snap::Error,
    },
    /// The snappy header claims a decoded size above the receiver's limit.
    #[error("decoded body would be {claimed} bytes, over the limit of {limit}")]
    BodyTooLarge {
        /// Length the snappy header announces.
        claimed: usize,
        /// The configured maximum.
        limit: usize,
    },
    /// The decompressed bytes are not a valid `WriteRequest` protobuf. `prost`'s message
    /// names the field path (e.g. `WriteRequest.timeseries: TimeSeries.labels: …`).
    #[error("malformed WriteRequest protobuf ({len} decoded bytes){}: {source}",
        .offset.map(|o| format!(", bad field at byte offset {o}")).unwrap_or_default())]
    Protobuf {
        /// Length of the decompressed message.
        len: usize,
        /// Offset in the decompressed message of the field that does not decode, when
        /// [`locate_decode_error`](crate::proto::locate_decode_error) can tell.
        offset: Option<u64>,
        /// The decoder's error, with the field path.
        #[source]
        source: prost::DecodeError,
    },
    /// Storage failed (not a per-sample rejection): e.g. the WAL write at commit.
    #[error("storage error: {0}")]
    Storage(#[source] tsdb::Error),
    /// The WAL being tailed is damaged (or could not be read).
    #[error("reading the WAL: {0}")]
    Wal(#[source] tsdb::Error),
}
