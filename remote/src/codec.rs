//! Request bodies on the wire: protobuf `WriteRequest`, compressed with the snappy block
//! format, plus the HTTP headers remote-write 1.0 requires.
//!
//! ```text
//! WriteRequest ──prost encode──► bytes ──snappy block──► body      (encode_request)
//! body ──snappy block──► bytes ──prost decode──► WriteRequest      (decode_request)
//! ```

use prost::Message;

use crate::error::RemoteError;
use crate::proto::WriteRequest;

/// `Content-Encoding` of a remote-write body.
pub const CONTENT_ENCODING: &str = "snappy";
/// `Content-Type` of a remote-write 1.0 body.
pub const CONTENT_TYPE: &str = "application/x-protobuf";
/// Value of the `X-Prometheus-Remote-Write-Version` header for protocol 1.0.
pub const REMOTE_WRITE_VERSION: &str = "0.1.0";
/// Name of the version header.
pub const VERSION_HEADER: &str = "X-Prometheus-Remote-Write-Version";
/// The default `User-Agent` this crate's sender announces.
pub const DEFAULT_USER_AGENT: &str = concat!("prometheus-rs-remote/", env!("CARGO_PKG_VERSION"));
/// Default cap on a decompressed body (32 MiB): a larger snappy header is refused before
/// anything is allocated.
pub const DEFAULT_MAX_DECODED_LEN: usize = 32 << 20;

/// The headers a sender must set on every remote-write 1.0 POST, in a fixed order:
/// `Content-Encoding`, `Content-Type`, `User-Agent`, `X-Prometheus-Remote-Write-Version`.
pub fn request_headers(user_agent: &str) -> [(&'static str, String); 4] {
    [
        ("Content-Encoding", CONTENT_ENCODING.to_string()),
        ("Content-Type", CONTENT_TYPE.to_string()),
        ("User-Agent", user_agent.to_string()),
        (VERSION_HEADER, REMOTE_WRITE_VERSION.to_string()),
    ]
}

/// Encodes a request as a remote-write body (protobuf, then snappy block).
///
/// Fails only when the encoded message is too large for one snappy block (about 4 GiB).
pub fn encode_request(req: &WriteRequest) -> Result<Vec<u8>, RemoteError> {
    let raw = req.encode_to_vec();
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .map_err(|source| RemoteError::Snappy {
            body_len: raw.len(),
            source,
        })
}

/// Decodes a remote-write body, refusing bodies that would decompress past
/// [`DEFAULT_MAX_DECODED_LEN`].
pub fn decode_request(body: &[u8]) -> Result<WriteRequest, RemoteError> {
    decode_request_with_limit(body, DEFAULT_MAX_DECODED_LEN)
}

/// Decodes a remote-write body, refusing bodies whose snappy header announces more than
/// `limit` decoded bytes.
pub fn decode_request_with_limit(body: &[u8], limit: usize) -> Result<WriteRequest, RemoteError> {
    let snappy = |source| RemoteError::Snappy {
        body_len: body.len(),
        source,
    };
    let claimed = snap::raw::decompress_len(body).map_err(snappy)?;
    if claimed > limit {
        return Err(RemoteError::BodyTooLarge { claimed, limit });
    }
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(snappy)?;
    WriteRequest::decode(raw.as_slice()).map_err(|source| RemoteError::Protobuf {
        len: raw.len(),
        offset: crate::proto::locate_decode_error(&raw),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Label, Sample, TimeSeries};

    #[test]
    fn round_trip_keeps_stale_nan_bits() {
        let req = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![Label {
                    name: "__name__".into(),
                    value: "up".into(),
                }],
                samples: vec![Sample {
                    value: f64::from_bits(0x7ff0_0000_0000_0002),
                    timestamp: 5,
                }],
                ..Default::default()
            }],
            metadata: vec![],
        };
        let back = decode_request(&encode_request(&req).unwrap()).unwrap();
        assert_eq!(
            back.timeseries[0].samples[0].value.to_bits(),
            0x7ff0_0000_0000_0002
        );
    }

    #[test]
    fn garbage_is_a_snappy_error() {
        let err = decode_request(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).unwrap_err();
        assert!(matches!(err, RemoteError::Snappy { .. }), "{err}");
    }

    #[test]
    fn huge_claim_is_refused_before_allocating() {
        // uvarint 0x7fffffff as the decoded length.
        let body = [0xff, 0xff, 0xff, 0xff, 0x07, 0x00];
        let err = decode_request(&body).unwrap_err();
        assert!(matches!(err, RemoteError::BodyTooLarge { .. }), "{err}");
    }

    #[test]
    fn valid_snappy_bad_protobuf_is_a_protobuf_error() {
        // Field 1, wire type 2, length 10 but only 1 byte follows.
        let body = snap::raw::Encoder::new()
            .compress_vec(&[0x0a, 0x0a, 0x01])
            .unwrap();
        let err = decode_request(&body).unwrap_err();
        assert!(
            matches!(
                err,
                RemoteError::Protobuf {
                    len: 3,
                    offset: Some(0),
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("byte offset 0"), "{err}");
    }

    #[test]
    fn headers_are_the_protocol_ones() {
        let h = request_headers("x/1");
        assert_eq!(h[0], ("Content-Encoding", "snappy".to_string()));
        assert_eq!(h[1], ("Content-Type", "application/x-protobuf".to_string()));
        assert_eq!(h[2], ("User-Agent", "x/1".to_string()));
        assert_eq!(
            h[3],
            ("X-Prometheus-Remote-Write-Version", "0.1.0".to_string())
        );
    }
}
