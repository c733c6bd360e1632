//! The remote-write 1.0 protobuf messages, hand-written with `prost`'s derive.
//!
//! They mirror `proto/remote.proto` and `proto/types.proto` field for field (no `protoc`
//! is needed to build). `tests/proto_wire.rs` decodes hand-built byte strings to check
//! that every field number and wire type matches the protocol.
//!
//! ```text
//! WriteRequest ─┬─ timeseries (1) ─► TimeSeries ─┬─ labels (1)     ─► Label { name (1), value (2) }
//!               │                                ├─ samples (2)    ─► Sample { value (1), timestamp (2) }
//!               │                                ├─ exemplars (3)  ─► Exemplar { labels (1), value (2), timestamp (3) }
//!               │                                └─ histograms (4) ─► opaque bytes (counted, not stored)
//!               └─ metadata (3)   ─► MetricMetadata { type (1), metric_family_name (2), help (4), unit (5) }
//! ```

/// One remote-write request: the message a sender posts (after snappy compression).
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series, each with its samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// Metric metadata (type, help, unit). Accepted and ignored by the receiver.
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// A series: its labels and some samples.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Label pairs, including `__name__`; senders sort them by name.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Exemplars (decoded so they can be counted; not stored).
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
    /// Native histograms, kept as undecoded message bytes (not stored; counted).
    #[prost(bytes = "vec", repeated, tag = "4")]
    pub histograms: Vec<Vec<u8>>,
}

/// A label pair.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct Label {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// A float sample.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// The value (staleness markers keep their NaN bit pattern on the wire).
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// An exemplar attached to a series.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// The exemplar's own labels (e.g. a trace id).
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// The exemplar value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// Metadata about a metric family.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    /// The metric type (`MetricType` in the .proto: 0 unknown, 1 counter, 2 gauge, …).
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// The family name.
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    /// Help text.
    #[prost(string, tag = "4")]
    pub help: String,
    /// Unit.
    #[prost(string, tag = "5")]
    pub unit: String,
}
