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
//!               │                                └─ histograms (4) ─► Histogram (below)
//!               └─ metadata (3)   ─► MetricMetadata { type (1), metric_family_name (2), help (4), unit (5) }
//!
//! Histogram ─┬─ count_int (1) | count_float (2)              one of, the kind of histogram
//!            ├─ sum (3), schema (4, sint32), zero_threshold (5)
//!            ├─ zero_count_int (6) | zero_count_float (7)    one of
//!            ├─ negative_spans (8) ─► BucketSpan { offset (1, sint32), length (2) }
//!            ├─ negative_deltas (9, sint64, integer kind) | negative_counts (10, double, float kind)
//!            ├─ positive_spans (11), positive_deltas (12), positive_counts (13)
//!            ├─ reset_hint (14), timestamp (15), custom_values (16)
//! ```
//!
//! The structs only carry the wire shape; [`crate::histogram`] turns a [`Histogram`] into
//! an `exposition::histogram` value (with typed errors) and back.

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
    /// Native histogram samples, oldest first.
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<Histogram>,
}

/// A native histogram sample as remote-write 1.x carries it: integer histograms use
/// `count_int`, `zero_count_int` and the `*_deltas` fields (delta-encoded bucket counts),
/// float histograms `count_float`, `zero_count_float` and the `*_counts` fields (absolute
/// counts). [`crate::histogram::decode_histogram`] checks that a message sticks to one
/// kind.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    /// Total observations; which variant is set decides the histogram's kind (none set:
    /// an integer histogram with count 0).
    #[prost(oneof = "HistogramCount", tags = "1, 2")]
    pub count: Option<HistogramCount>,
    /// Sum of observations.
    #[prost(double, tag = "3")]
    pub sum: f64,
    /// Bucket schema: `-4..=8` exponential, `-53` custom buckets.
    #[prost(sint32, tag = "4")]
    pub schema: i32,
    /// Width of the zero bucket (observations with `|v| <= zero_threshold`).
    #[prost(double, tag = "5")]
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    #[prost(oneof = "HistogramZeroCount", tags = "6, 7")]
    pub zero_count: Option<HistogramZeroCount>,
    /// Populated negative bucket runs.
    #[prost(message, repeated, tag = "8")]
    pub negative_spans: Vec<BucketSpan>,
    /// Negative bucket counts of an integer histogram, each a delta to the previous one.
    #[prost(sint64, repeated, tag = "9")]
    pub negative_deltas: Vec<i64>,
    /// Negative bucket counts of a float histogram (absolute).
    #[prost(double, repeated, tag = "10")]
    pub negative_counts: Vec<f64>,
    /// Populated positive bucket runs.
    #[prost(message, repeated, tag = "11")]
    pub positive_spans: Vec<BucketSpan>,
    /// Positive bucket counts of an integer histogram, each a delta to the previous one.
    #[prost(sint64, repeated, tag = "12")]
    pub positive_deltas: Vec<i64>,
    /// Positive bucket counts of a float histogram (absolute).
    #[prost(double, repeated, tag = "13")]
    pub positive_counts: Vec<f64>,
    /// Counter-reset knowledge ([`ResetHint`] as an `i32`; unknown numbers read as
    /// "unknown").
    #[prost(enumeration = "ResetHint", tag = "14")]
    pub reset_hint: i32,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
    /// Bucket upper bounds of a custom-bucket (schema -53) histogram.
    #[prost(double, repeated, tag = "16")]
    pub custom_values: Vec<f64>,
}

/// The `count` one-of of [`Histogram`].
#[derive(Clone, Copy, PartialEq, prost::Oneof)]
pub enum HistogramCount {
    /// Integer histogram: total observations.
    #[prost(uint64, tag = "1")]
    CountInt(u64),
    /// Float histogram: total observations.
    #[prost(double, tag = "2")]
    CountFloat(f64),
}

/// The `zero_count` one-of of [`Histogram`].
#[derive(Clone, Copy, PartialEq, prost::Oneof)]
pub enum HistogramZeroCount {
    /// Integer histogram: observations in the zero bucket.
    #[prost(uint64, tag = "6")]
    ZeroCountInt(u64),
    /// Float histogram: observations in the zero bucket.
    #[prost(double, tag = "7")]
    ZeroCountFloat(f64),
}

/// `Histogram.ResetHint`: what is known about a counter reset before this sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ResetHint {
    /// Nothing is known.
    Unknown = 0,
    /// A counter reset happened.
    Yes = 1,
    /// No counter reset happened.
    No = 2,
    /// A gauge histogram: resets do not apply.
    Gauge = 3,
}

/// A run of consecutive populated buckets.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct BucketSpan {
    /// Gap to the end of the previous span (the first span: its start index).
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    /// Buckets in the run.
    #[prost(uint32, tag = "2")]
    pub length: u32,
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

/// Which message a byte range holds, for [`locate_decode_error`].
#[derive(Clone, Copy)]
enum Kind {
    WriteRequest,
    TimeSeries,
    Label,
    Sample,
    Exemplar,
    Metadata,
    Histogram,
    BucketSpan,
}

/// What a known field holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Message(KindTag),
    Str,
    Varint,
    Double,
    /// Repeated varints: unpacked (wire type 0) or packed (2).
    RepeatedVarint,
    /// Repeated doubles: unpacked (wire type 1) or packed (2).
    RepeatedDouble,
    Unknown,
}

/// `Kind` without payload, comparable (used inside `Field`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum KindTag {
    TimeSeries,
    Label,
    Sample,
    Exemplar,
    Metadata,
    Histogram,
    BucketSpan,
}

fn field_of(kind: Kind, tag: u64) -> Field {
    use Field::*;
    match (kind, tag) {
        (Kind::WriteRequest, 1) => Message(KindTag::TimeSeries),
        (Kind::WriteRequest, 3) => Message(KindTag::Metadata),
        (Kind::TimeSeries, 1) => Message(KindTag::Label),
        (Kind::TimeSeries, 2) => Message(KindTag::Sample),
        (Kind::TimeSeries, 3) => Message(KindTag::Exemplar),
        (Kind::TimeSeries, 4) => Message(KindTag::Histogram),
        (Kind::Label, 1 | 2) => Str,
        (Kind::Sample, 1) => Double,
        (Kind::Sample, 2) => Varint,
        (Kind::Exemplar, 1) => Message(KindTag::Label),
        (Kind::Exemplar, 2) => Double,
        (Kind::Exemplar, 3) => Varint,
        (Kind::Metadata, 1) => Varint,
        (Kind::Metadata, 2 | 4 | 5) => Str,
        (Kind::Histogram, 1 | 4 | 6 | 14 | 15) => Varint,
        (Kind::Histogram, 2 | 3 | 5 | 7) => Double,
        (Kind::Histogram, 8 | 11) => Message(KindTag::BucketSpan),
        (Kind::Histogram, 9 | 12) => RepeatedVarint,
        (Kind::Histogram, 10 | 13 | 16) => RepeatedDouble,
        (Kind::BucketSpan, 1 | 2) => Varint,
        _ => Unknown,
    }
}

fn kind_of(t: KindTag) -> Kind {
    match t {
        KindTag::TimeSeries => Kind::TimeSeries,
        KindTag::Label => Kind::Label,
        KindTag::Sample => Kind::Sample,
        KindTag::Exemplar => Kind::Exemplar,
        KindTag::Metadata => Kind::Metadata,
        KindTag::Histogram => Kind::Histogram,
        KindTag::BucketSpan => Kind::BucketSpan,
    }
}

fn read_varint(buf: &[u8], i: &mut usize) -> Option<u64> {
    let mut x = 0u64;
    for k in 0..10 {
        let b = *buf.get(*i)?;
        *i += 1;
        x |= u64::from(b & 0x7f) << (7 * k);
        if b < 0x80 {
            return Some(x);
        }
    }
    None
}

/// Why the walk stopped: at a byte offset, or at something it cannot judge (groups).
enum Stop {
    At(usize),
    Unknown,
}

fn walk(buf: &[u8], base: usize, kind: Kind) -> Result<(), Stop> {
    let mut i = 0;
    while i < buf.len() {
        let start = i;
        let bad = || Stop::At(base + start);
        let key = read_varint(buf, &mut i).ok_or_else(bad)?;
        let (wire, tag) = (key & 7, key >> 3);
        if key > u64::from(u32::MAX) || tag == 0 {
            return Err(bad());
        }
        let f = field_of(kind, tag);
        match wire {
            0 if matches!(f, Field::Varint | Field::RepeatedVarint | Field::Unknown) => {
                read_varint(buf, &mut i).ok_or_else(bad)?;
            }
            1 if matches!(f, Field::Double | Field::RepeatedDouble | Field::Unknown) => {
                i = i
                    .checked_add(8)
                    .filter(|&e| e <= buf.len())
                    .ok_or_else(bad)?;
            }
            5 if f == Field::Unknown => {
                i = i
                    .checked_add(4)
                    .filter(|&e| e <= buf.len())
                    .ok_or_else(bad)?;
            }
            2 if !matches!(f, Field::Varint | Field::Double) => {
                let len = read_varint(buf, &mut i).ok_or_else(bad)?;
                let end = usize::try_from(len)
                    .ok()
                    .and_then(|l| i.checked_add(l))
                    .filter(|&e| e <= buf.len())
                    .ok_or_else(bad)?;
                let sub = &buf[i..end];
                match f {
                    Field::Message(k) => walk(sub, base + i, kind_of(k))?,
                    Field::Str => {
                        std::str::from_utf8(sub).map_err(|_| bad())?;
                    }
                    Field::RepeatedDouble if !sub.len().is_multiple_of(8) => return Err(bad()),
                    Field::RepeatedVarint => {
                        let mut j = 0;
                        while j < sub.len() {
                            read_varint(sub, &mut j).ok_or_else(bad)?;
                        }
                    }
                    _ => {}
                }
                i = end;
            }
            3 | 4 if f == Field::Unknown => return Err(Stop::Unknown),
            _ => return Err(bad()),
        }
    }
    Ok(())
}

/// The byte offset of the field where decoding `buf` as a [`WriteRequest`] goes wrong
/// (the start of its key), found by walking the wire format against the schema: a
/// truncated varint or length, a known field with the wrong wire type, a string that is
/// not UTF-8. `None` when the walk finds nothing wrong or meets an unknown group field
/// it does not judge. Used to give [`RemoteError::Protobuf`](crate::RemoteError) a position.
pub fn locate_decode_error(buf: &[u8]) -> Option<u64> {
    match walk(buf, 0, Kind::WriteRequest) {
        Err(Stop::At(off)) => Some(off as u64),
        _ => None,
    }
}
