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

/// Which message a byte range holds, for [`locate_decode_error`].
#[derive(Clone, Copy)]
enum Kind {
    WriteRequest,
    TimeSeries,
    Label,
    Sample,
    Exemplar,
    Metadata,
}

/// What a known field holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Message(KindTag),
    Str,
    Bytes,
    Varint,
    Double,
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
}

fn field_of(kind: Kind, tag: u64) -> Field {
    use Field::*;
    match (kind, tag) {
        (Kind::WriteRequest, 1) => Message(KindTag::TimeSeries),
        (Kind::WriteRequest, 3) => Message(KindTag::Metadata),
        (Kind::TimeSeries, 1) => Message(KindTag::Label),
        (Kind::TimeSeries, 2) => Message(KindTag::Sample),
        (Kind::TimeSeries, 3) => Message(KindTag::Exemplar),
        (Kind::TimeSeries, 4) => Bytes,
        (Kind::Label, 1 | 2) => Str,
        (Kind::Sample, 1) => Double,
        (Kind::Sample, 2) => Varint,
        (Kind::Exemplar, 1) => Message(KindTag::Label),
        (Kind::Exemplar, 2) => Double,
        (Kind::Exemplar, 3) => Varint,
        (Kind::Metadata, 1) => Varint,
        (Kind::Metadata, 2 | 4 | 5) => Str,
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
            0 if matches!(f, Field::Varint | Field::Unknown) => {
                read_varint(buf, &mut i).ok_or_else(bad)?;
            }
            1 if matches!(f, Field::Double | Field::Unknown) => {
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
