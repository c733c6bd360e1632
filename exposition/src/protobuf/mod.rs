//! The Prometheus protobuf exposition format (`io.prometheus.client`, delimited).
//!
//! A body is a sequence of `MetricFamily` messages, each preceded by its byte length as
//! a varint; it is served with the media type [`CONTENT_TYPE`]. This is the only format
//! that carries native histograms in Prometheus 2.x, and what Prometheus asks for first
//! when native histograms are enabled.
//!
//! ```text
//! bytes ──► reader::DelimitedReader ──► proto::MetricFamily ──► decode ──► Scrape
//!            (length prefixes,            (prost structs,        (classic series +
//!             byte-offset errors)          metrics.proto)         native histograms)
//! Scrape ──► encode::to_messages ──► proto::MetricFamily ──► encode_delimited ──► bytes
//! ```
//!
//! | module | the question it answers |
//! |---|---|
//! | [`proto`] | what are the messages and their field numbers? |
//! | [`reader`] | where does each message start, and where is a broken one broken? |
//! | [`mod@decode`] | which series and native histograms does a family expose? (the rules) |
//! | [`mod@encode`] | how do families go back to bytes? |
//! | [`error`] | what went wrong, at which byte? |
//!
//! ```
//! use exposition::protobuf::{self, proto, DecodeOptions};
//!
//! let fam = proto::MetricFamily {
//!     name: "jobs_total".into(),
//!     help: "Jobs run.".into(),
//!     r#type: proto::MetricType::Counter as i32,
//!     metric: vec![proto::Metric {
//!         label: vec![proto::LabelPair { name: "queue".into(), value: "a".into() }],
//!         counter: Some(proto::Counter { value: 7.0, ..Default::default() }),
//!         ..Default::default()
//!     }],
//!     ..Default::default()
//! };
//! let mut body = Vec::new();
//! protobuf::encode_delimited(&[fam], &mut body);
//!
//! let scrape = protobuf::decode(&body, &DecodeOptions::default()).unwrap();
//! let s = &scrape.families[0].samples[0];
//! assert_eq!((s.name.as_str(), s.labels.get("queue"), s.value), ("jobs_total", Some("a"), 7.0));
//! // and back
//! let again = protobuf::encode::to_messages(&scrape);
//! let mut body2 = Vec::new();
//! protobuf::encode_delimited(&again, &mut body2);
//! assert_eq!(body, body2);
//! ```

pub mod decode;
pub mod encode;
pub mod error;
pub mod proto;
pub mod reader;

pub use decode::{
    decode, decode_messages, is_native, DecodeOptions, NativeHistogram, NativeHistogramSample,
    Scrape,
};
pub use encode::{encode_delimited, to_messages};
pub use error::{ProtobufError, ProtobufErrorKind};

/// The media type of the delimited protobuf exposition.
pub const CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";
