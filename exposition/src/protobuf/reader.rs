//! Reading a delimited body: a varint length, then that many bytes of `MetricFamily`,
//! repeated until the body ends.
//!
//! [`DelimitedReader`] yields one decoded [`proto::MetricFamily`] per message with the byte
//! offset of its length prefix. It never panics and stops after the first error. When
//! `prost` rejects a message, a small schema-driven walk over the wire format finds the
//! first byte that is wrong, so the error says where, not just what.

use prost::Message;

use super::error::{ProtobufError, ProtobufErrorKind};
use super::proto;

/// The default largest message [`DelimitedReader`] accepts: 64 MiB.
pub const DEFAULT_MAX_MESSAGE_LEN: usize = 64 << 20;

/// An iterator over the length-delimited `MetricFamily` messages of a body.
///
/// ```
/// use exposition::protobuf::{proto, reader::DelimitedReader, encode_delimited};
///
/// let fam = proto::MetricFamily { name: "up".into(), r#type: proto::MetricType::Gauge as i32, ..Default::default() };
/// let mut body = Vec::new();
/// encode_delimited(std::slice::from_ref(&fam), &mut body);
/// let read: Vec<_> = DelimitedReader::new(&body).collect::<Result<_, _>>().unwrap();
/// assert_eq!(read, vec![(0, fam)]);
///
/// // A length prefix promising more than there is:
/// let err = DelimitedReader::new(&[0x05, 0x0a]).next().unwrap().unwrap_err();
/// assert_eq!(err.offset, 0);
/// ```
#[derive(Debug, Clone)]
pub struct DelimitedReader<'a> {
    input: &'a [u8],
    pos: usize,
    max: usize,
    done: bool,
}

impl<'a> DelimitedReader<'a> {
    /// A reader over `input` with the [`DEFAULT_MAX_MESSAGE_LEN`] limit.
    pub fn new(input: &'a [u8]) -> DelimitedReader<'a> {
        DelimitedReader {
            input,
            pos: 0,
            max: DEFAULT_MAX_MESSAGE_LEN,
            done: false,
        }
    }

    /// The same reader with a different per-message size limit.
    pub fn with_max_message_len(mut self, max: usize) -> DelimitedReader<'a> {
        self.max = max;
        self
    }

    /// Byte offset of the next length prefix.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn read_one(&mut self) -> Result<(usize, proto::MetricFamily), ProtobufError> {
        let start = self.pos;
        let (len, n) = read_varint(self.input, start).map_err(|k| ProtobufError::new(start, k))?;
        let body = start + n;
        let available = self.input.len() - body;
        if len > self.max as u64 {
            return Err(ProtobufError::new(
                start,
                ProtobufErrorKind::Oversize {
                    declared: len,
                    max: self.max,
                },
            ));
        }
        if len > available as u64 {
            return Err(ProtobufError::new(
                start,
                ProtobufErrorKind::Truncated {
                    declared: len,
                    available,
                },
            ));
        }
        let end = body + len as usize;
        let bytes = &self.input[body..end];
        match proto::MetricFamily::decode(bytes) {
            Ok(f) => {
                self.pos = end;
                Ok((start, f))
            }
            Err(e) => Err(locate(self.input, body, end, e)),
        }
    }
}

impl Iterator for DelimitedReader<'_> {
    /// The byte offset of the message's length prefix, and the message.
    type Item = Result<(usize, proto::MetricFamily), ProtobufError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.input.len() {
            return None;
        }
        let r = self.read_one();
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}

/// Reads a base-128 varint at `pos`: its value and its length in bytes.
pub(crate) fn read_varint(buf: &[u8], pos: usize) -> Result<(u64, usize), ProtobufErrorKind> {
    let mut value = 0u64;
    for i in 0..10 {
        let Some(&b) = buf.get(pos + i) else {
            return Err(ProtobufErrorKind::TruncatedLength);
        };
        if i == 9 && b > 1 {
            return Err(ProtobufErrorKind::BadVarint);
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(ProtobufErrorKind::BadVarint)
}

/// The messages of the schema, for locating decode errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Msg {
    Family,
    Metric,
    Label,
    Value,
    Counter,
    Quantile,
    Summary,
    Histogram,
    Bucket,
    Span,
    Exemplar,
    Timestamp,
}

impl Msg {
    fn name(self) -> &'static str {
        match self {
            Msg::Family => "MetricFamily",
            Msg::Metric => "Metric",
            Msg::Label => "LabelPair",
            Msg::Value => "Gauge/Untyped",
            Msg::Counter => "Counter",
            Msg::Quantile => "Quantile",
            Msg::Summary => "Summary",
            Msg::Histogram => "Histogram",
            Msg::Bucket => "Bucket",
            Msg::Span => "BucketSpan",
            Msg::Exemplar => "Exemplar",
            Msg::Timestamp => "Timestamp",
        }
    }
}

/// What a known field holds on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Message(Msg),
    Str,
    Varint,
    Fixed64,
    /// Repeated varints: one per field (wire type 0) or packed (wire type 2).
    RepeatedVarint,
    /// Repeated doubles: one per field (wire type 1) or packed (wire type 2).
    RepeatedFixed64,
    Unknown,
}

fn field_of(msg: Msg, tag: u64) -> Field {
    use Field::*;
    match (msg, tag) {
        (Msg::Family, 1 | 2 | 5) => Str,
        (Msg::Family, 3) => Varint,
        (Msg::Family, 4) => Message(Msg::Metric),
        (Msg::Metric, 1) => Message(Msg::Label),
        (Msg::Metric, 2 | 5) => Message(Msg::Value),
        (Msg::Metric, 3) => Message(Msg::Counter),
        (Msg::Metric, 4) => Message(Msg::Summary),
        (Msg::Metric, 7) => Message(Msg::Histogram),
        (Msg::Metric, 6) => Varint,
        (Msg::Label, 1 | 2) => Str,
        (Msg::Value, 1) => Fixed64,
        (Msg::Counter, 1) => Fixed64,
        (Msg::Counter, 2) => Message(Msg::Exemplar),
        (Msg::Counter, 3) => Message(Msg::Timestamp),
        (Msg::Quantile, 1 | 2) => Fixed64,
        (Msg::Summary, 1) => Varint,
        (Msg::Summary, 2) => Fixed64,
        (Msg::Summary, 3) => Message(Msg::Quantile),
        (Msg::Summary, 4) => Message(Msg::Timestamp),
        (Msg::Histogram, 1 | 5 | 7) => Varint,
        (Msg::Histogram, 2 | 4 | 6 | 8) => Fixed64,
        (Msg::Histogram, 3) => Message(Msg::Bucket),
        (Msg::Histogram, 9 | 12) => Message(Msg::Span),
        (Msg::Histogram, 10 | 13) => RepeatedVarint,
        (Msg::Histogram, 11 | 14) => RepeatedFixed64,
        (Msg::Histogram, 15) => Message(Msg::Timestamp),
        (Msg::Histogram, 16) => Message(Msg::Exemplar),
        (Msg::Bucket, 1) => Varint,
        (Msg::Bucket, 2 | 4) => Fixed64,
        (Msg::Bucket, 3) => Message(Msg::Exemplar),
        (Msg::Span, 1 | 2) => Varint,
        (Msg::Exemplar, 1) => Message(Msg::Label),
        (Msg::Exemplar, 2) => Fixed64,
        (Msg::Exemplar, 3) => Message(Msg::Timestamp),
        (Msg::Timestamp, 1 | 2) => Varint,
        _ => Unknown,
    }
}

/// Deepest nesting (messages and groups) the walk follows, like prost's recursion limit.
const MAX_DEPTH: usize = 100;

/// A wire-level fault: byte offset, message, reason.
type Fault = (usize, &'static str, String);

/// Turns a prost error on `buf[start..end]` into an error at the first wrong byte.
fn locate(buf: &[u8], start: usize, end: usize, e: prost::DecodeError) -> ProtobufError {
    let (offset, message, reason) = match walk(buf, start, end, Msg::Family, 0) {
        Err(fault) => fault,
        // The walk found nothing more precise: report prost's reason at the message start.
        Ok(()) => (start, Msg::Family.name(), e.to_string()),
    };
    ProtobufError::new(offset, ProtobufErrorKind::BadMessage { message, reason })
}

fn walk(buf: &[u8], mut pos: usize, end: usize, msg: Msg, depth: usize) -> Result<(), Fault> {
    let fault = |at: usize, why: String| -> Fault { (at, msg.name(), why) };
    if depth > MAX_DEPTH {
        return Err(fault(pos, "nesting too deep".into()));
    }
    while pos < end {
        let field_start = pos;
        let (key, n) = varint_in(buf, pos, end).map_err(|k| fault(pos, k.to_string()))?;
        pos += n;
        let tag = key >> 3;
        let wire = key & 7;
        if tag == 0 || tag > (1 << 29) - 1 {
            return Err(fault(field_start, format!("invalid field number {tag}")));
        }
        let field = field_of(msg, tag);
        let wrong_wire = match field {
            Field::Message(_) | Field::Str => wire != 2,
            Field::Varint => wire != 0,
            Field::Fixed64 => wire != 1,
            Field::RepeatedVarint => wire != 0 && wire != 2,
            Field::RepeatedFixed64 => wire != 1 && wire != 2,
            Field::Unknown => false,
        };
        if wrong_wire {
            return Err(fault(
                field_start,
                format!("field {tag} has wire type {wire}, which does not fit its type"),
            ));
        }
        match wire {
            0 => {
                let (_, n) = varint_in(buf, pos, end).map_err(|k| fault(pos, k.to_string()))?;
                pos += n;
            }
            1 | 5 => {
                let width = if wire == 1 { 8 } else { 4 };
                if end - pos < width {
                    return Err(fault(pos, format!("field {tag} runs past the message end")));
                }
                pos += width;
            }
            2 => {
                let (len, n) = varint_in(buf, pos, end).map_err(|k| fault(pos, k.to_string()))?;
                let body = pos + n;
                if len > (end - body) as u64 {
                    return Err(fault(
                        pos,
                        format!("field {tag} length {len} runs past the message end"),
                    ));
                }
                let body_end = body + len as usize;
                match field {
                    Field::Message(inner) => walk(buf, body, body_end, inner, depth + 1)?,
                    Field::Str => {
                        if let Err(u) = std::str::from_utf8(&buf[body..body_end]) {
                            return Err(fault(
                                body + u.valid_up_to(),
                                format!("field {tag} is not valid UTF-8"),
                            ));
                        }
                    }
                    Field::RepeatedVarint => {
                        let mut p = body;
                        while p < body_end {
                            let (_, n) = varint_in(buf, p, body_end)
                                .map_err(|k| fault(p, format!("packed field {tag}: {k}")))?;
                            p += n;
                        }
                    }
                    Field::RepeatedFixed64 if len % 8 != 0 => {
                        return Err(fault(
                            pos,
                            format!(
                                "packed doubles of field {tag}: {len} bytes is not a multiple of 8"
                            ),
                        ));
                    }
                    _ => {}
                }
                pos = body_end;
            }
            3 => pos = skip_group(buf, pos, end, tag, msg, depth + 1)?,
            4 => return Err(fault(field_start, "unexpected end-group".into())),
            _ => return Err(fault(field_start, format!("invalid wire type {wire}"))),
        }
    }
    Ok(())
}

/// Skips an unknown group's contents up to its end-group key; returns the position after it.
fn skip_group(
    buf: &[u8],
    mut pos: usize,
    end: usize,
    tag: u64,
    msg: Msg,
    depth: usize,
) -> Result<usize, Fault> {
    let fault = |at: usize, why: String| -> Fault { (at, msg.name(), why) };
    if depth > MAX_DEPTH {
        return Err(fault(pos, "nesting too deep".into()));
    }
    loop {
        if pos >= end {
            return Err(fault(pos, format!("group {tag} is not closed")));
        }
        let key_at = pos;
        let (key, n) = varint_in(buf, pos, end).map_err(|k| fault(pos, k.to_string()))?;
        pos += n;
        let (inner, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                pos += varint_in(buf, pos, end)
                    .map_err(|k| fault(pos, k.to_string()))?
                    .1
            }
            1 | 5 => {
                let width = if wire == 1 { 8 } else { 4 };
                if end - pos < width {
                    return Err(fault(pos, "group field runs past the message end".into()));
                }
                pos += width;
            }
            2 => {
                let (len, n) = varint_in(buf, pos, end).map_err(|k| fault(pos, k.to_string()))?;
                if len > (end - pos - n) as u64 {
                    return Err(fault(pos, "group field runs past the message end".into()));
                }
                pos += n + len as usize;
            }
            3 => pos = skip_group(buf, pos, end, inner, msg, depth + 1)?,
            4 if inner == tag => return Ok(pos),
            _ => return Err(fault(key_at, format!("invalid key in group {tag}"))),
        }
    }
}

/// [`read_varint`] bounded by `end`.
fn varint_in(buf: &[u8], pos: usize, end: usize) -> Result<(u64, usize), ProtobufErrorKind> {
    read_varint(&buf[..end], pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(read_varint(&[0x96, 0x01], 0), Ok((150, 2)));
        assert_eq!(
            read_varint(&[0x80], 0),
            Err(ProtobufErrorKind::TruncatedLength)
        );
        assert_eq!(
            read_varint(&[0xff; 11], 0),
            Err(ProtobufErrorKind::BadVarint)
        );
        let mut max = vec![0xff; 9];
        max.push(0x01);
        assert_eq!(read_varint(&max, 0), Ok((u64::MAX, 10)));
    }

    #[test]
    fn locates_a_bad_nested_length() {
        // Family { metric (4): Metric { label (1): len 9 past the end } }
        let msg = [0x22, 0x03, 0x0a, 0x09, 0x0a];
        let mut body = vec![msg.len() as u8];
        body.extend_from_slice(&msg);
        let err = DelimitedReader::new(&body).next().unwrap().unwrap_err();
        assert_eq!(err.offset, 4, "{err}");
        assert!(matches!(
            err.kind,
            ProtobufErrorKind::BadMessage {
                message: "Metric",
                ..
            }
        ));
    }

    #[test]
    fn locates_bad_utf8_and_wire_type() {
        let msg = [0x0a, 0x02, b'a', 0xff];
        let mut body = vec![msg.len() as u8];
        body.extend_from_slice(&msg);
        let err = DelimitedReader::new(&body).next().unwrap().unwrap_err();
        assert_eq!(err.offset, 4);
        // name (1) sent as a varint.
        let body = [0x02, 0x08, 0x01];
        let err = DelimitedReader::new(&body).next().unwrap().unwrap_err();
        assert_eq!(err.offset, 1);
    }

    #[test]
    fn oversize_and_truncation() {
        let err = DelimitedReader::new(&[0x10, 0, 0])
            .with_max_message_len(4)
            .next()
            .unwrap()
            .unwrap_err();
        assert!(matches!(
            err.kind,
            ProtobufErrorKind::Oversize {
                declared: 16,
                max: 4
            }
        ));
        let err = DelimitedReader::new(&[0x00, 0x80])
            .nth(1)
            .unwrap()
            .unwrap_err();
        assert_eq!(
            err,
            ProtobufError::new(1, ProtobufErrorKind::TruncatedLength)
        );
    }
}
