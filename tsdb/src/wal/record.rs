//! WAL records: what they hold, how they are framed and checksummed, and their encoding.
//!
//! Frame: `len: u32 LE | xxh64(payload): u64 LE | payload` where `payload[0]` is the
//! record type. See `docs/format/wal.md` for the payload layouts.

use exposition::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};
use exposition::{Label, Labels};
use xxhash_rust::xxh64::xxh64;

/// Bytes before the payload: length and checksum.
pub const FRAME_HEADER_LEN: usize = 12;
/// Upper bound on one record's payload, to reject absurd lengths early.
pub const MAX_RECORD_LEN: usize = 1 << 30;

/// Record type byte: new series.
pub const TYPE_SERIES: u8 = 1;
/// Record type byte: a batch of samples.
pub const TYPE_SAMPLES: u8 = 2;
/// Record type byte: tombstones (deletions; decoded, not yet produced).
pub const TYPE_TOMBSTONES: u8 = 3;
/// Record type byte: the head was truncated before a time (written in checkpoints).
pub const TYPE_TRUNCATION: u8 = 4;
/// Record type byte: a batch of integer native-histogram samples.
pub const TYPE_HISTOGRAM_SAMPLES: u8 = 7;
/// Record type byte: a batch of float native-histogram samples.
pub const TYPE_FLOAT_HISTOGRAM_SAMPLES: u8 = 8;

/// One integer native-histogram sample addressed by series ref.
#[derive(Debug, Clone, PartialEq)]
pub struct RefHistogramSample {
    /// Series ref.
    pub r: u64,
    /// Timestamp (ms).
    pub t: i64,
    /// The histogram (its counter-reset hint included).
    pub h: Histogram,
}

/// One float native-histogram sample addressed by series ref.
#[derive(Debug, Clone, PartialEq)]
pub struct RefFloatHistogramSample {
    /// Series ref.
    pub r: u64,
    /// Timestamp (ms).
    pub t: i64,
    /// The histogram (its counter-reset hint included).
    pub h: FloatHistogram,
}

/// One sample addressed by series ref.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefSample {
    /// Series ref.
    pub r: u64,
    /// Timestamp (ms).
    pub t: i64,
    /// Value bits (kept as bits so NaN payloads survive).
    pub v: u64,
}

/// A deletion of a series' samples in `[mint, maxt]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tombstone {
    /// Series ref.
    pub r: u64,
    /// First deleted timestamp.
    pub mint: i64,
    /// Last deleted timestamp.
    pub maxt: i64,
}

/// A decoded WAL record.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Record {
    /// Series created, with the refs later records use.
    Series(Vec<(u64, Labels)>),
    /// Samples committed together.
    Samples(Vec<RefSample>),
    /// Deleted ranges.
    Tombstones(Vec<Tombstone>),
    /// Nothing before this time is kept.
    Truncation {
        /// The truncation time.
        mint: i64,
    },
    /// Integer native histograms committed together.
    HistogramSamples(Vec<RefHistogramSample>),
    /// Float native histograms committed together.
    FloatHistogramSamples(Vec<RefFloatHistogramSample>),
}

impl Record {
    /// Number of samples of any type the record carries.
    pub fn num_samples(&self) -> usize {
        match self {
            Record::Samples(s) => s.len(),
            Record::HistogramSamples(s) => s.len(),
            Record::FloatHistogramSamples(s) => s.len(),
            _ => 0,
        }
    }

    /// Newest sample timestamp in the record, if it carries samples.
    pub fn max_sample_time(&self) -> Option<i64> {
        match self {
            Record::Samples(s) => s.iter().map(|x| x.t).max(),
            Record::HistogramSamples(s) => s.iter().map(|x| x.t).max(),
            Record::FloatHistogramSamples(s) => s.iter().map(|x| x.t).max(),
            _ => None,
        }
    }
}

/// Why a payload failed to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Unknown type byte.
    Type,
    /// Malformed contents.
    Payload,
}

/// Appends a frame around the payload produced by `body` to `out`.
pub fn frame(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
    body(out);
    let payload = &out[start + FRAME_HEADER_LEN..];
    let len = payload.len() as u32;
    let sum = xxh64(payload, 0);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 12].copy_from_slice(&sum.to_le_bytes());
}

/// The checksum of a payload.
pub fn checksum(payload: &[u8]) -> u64 {
    xxh64(payload, 0)
}

fn put_uvarint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push(x as u8 | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

fn put_varint(out: &mut Vec<u8>, x: i64) {
    put_uvarint(out, ((x << 1) ^ (x >> 63)) as u64);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Encodes a series record payload.
pub fn encode_series<'a>(
    out: &mut Vec<u8>,
    series: impl ExactSizeIterator<Item = (u64, &'a Labels)>,
) {
    out.push(TYPE_SERIES);
    put_uvarint(out, series.len() as u64);
    for (r, labels) in series {
        put_uvarint(out, r);
        put_uvarint(out, labels.len() as u64);
        for l in labels {
            put_str(out, &l.name);
            put_str(out, &l.value);
        }
    }
}

/// Encodes a samples record payload: the first sample's ref and time are the base, the
/// rest are zigzag deltas from it; values are raw little-endian bits.
pub fn encode_samples(out: &mut Vec<u8>, samples: impl ExactSizeIterator<Item = RefSample>) {
    out.push(TYPE_SAMPLES);
    put_uvarint(out, samples.len() as u64);
    let mut base: Option<(u64, i64)> = None;
    for s in samples {
        let (br, bt) = *base.get_or_insert_with(|| {
            put_uvarint(out, s.r);
            put_varint(out, s.t);
            (s.r, s.t)
        });
        put_varint(out, s.r.wrapping_sub(br) as i64);
        put_varint(out, s.t.wrapping_sub(bt));
        out.extend_from_slice(&s.v.to_le_bytes());
    }
}

/// Encodes a tombstones record payload.
pub fn encode_tombstones(out: &mut Vec<u8>, ts: &[Tombstone]) {
    out.push(TYPE_TOMBSTONES);
    put_uvarint(out, ts.len() as u64);
    for t in ts {
        put_uvarint(out, t.r);
        put_varint(out, t.mint);
        put_varint(out, t.maxt);
    }
}

/// Encodes a truncation record payload.
pub fn encode_truncation(out: &mut Vec<u8>, mint: i64) {
    out.push(TYPE_TRUNCATION);
    put_varint(out, mint);
}

fn hint_byte(h: CounterResetHint) -> u8 {
    match h {
        CounterResetHint::Unknown => 0,
        CounterResetHint::CounterReset => 1,
        CounterResetHint::NotCounterReset => 2,
        CounterResetHint::Gauge => 3,
    }
}

fn byte_hint(b: u8) -> Result<CounterResetHint, DecodeError> {
    Ok(match b {
        0 => CounterResetHint::Unknown,
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        _ => return Err(DecodeError::Payload),
    })
}

fn put_spans(out: &mut Vec<u8>, spans: &[Span]) {
    put_uvarint(out, spans.len() as u64);
    for s in spans {
        put_varint(out, i64::from(s.offset));
        put_uvarint(out, u64::from(s.length));
    }
}

fn put_f64s(out: &mut Vec<u8>, vs: &[f64]) {
    put_uvarint(out, vs.len() as u64);
    for v in vs {
        out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
}

/// Writes the fields both histogram kinds share, up to the spans.
fn put_layout_head(out: &mut Vec<u8>, hint: CounterResetHint, schema: i32, zt: f64) {
    out.push(hint_byte(hint));
    put_varint(out, i64::from(schema));
    out.extend_from_slice(&zt.to_bits().to_le_bytes());
}

/// Writes a histogram samples record: the type byte, the sample count, the first
/// sample's ref and time, then per sample its ref and time deltas followed by `body`.
fn encode_ref_time_samples<'a, H: 'a>(
    out: &mut Vec<u8>,
    record_type: u8,
    samples: impl Iterator<Item = (u64, i64, &'a H)>,
    mut body: impl FnMut(&mut Vec<u8>, &H),
) {
    out.push(record_type);
    let samples: Vec<(u64, i64, &H)> = samples.collect();
    put_uvarint(out, samples.len() as u64);
    let mut base: Option<(u64, i64)> = None;
    for (r, t, h) in samples {
        let (br, bt) = *base.get_or_insert_with(|| {
            put_uvarint(out, r);
            put_varint(out, t);
            (r, t)
        });
        put_varint(out, r.wrapping_sub(br) as i64);
        put_varint(out, t.wrapping_sub(bt));
        body(out, h);
    }
}

/// Encodes an integer-histogram samples record payload: ref and time as in a samples
/// record, then per sample the hint byte, schema, zero threshold, zero count, count, sum,
/// positive and negative spans, positive and negative bucket deltas, custom bounds.
pub fn encode_histogram_samples<'a>(
    out: &mut Vec<u8>,
    samples: impl Iterator<Item = (u64, i64, &'a Histogram)>,
) {
    encode_ref_time_samples(
        out,
        TYPE_HISTOGRAM_SAMPLES,
        samples,
        |out, h: &Histogram| {
            put_layout_head(out, h.counter_reset_hint, h.schema, h.zero_threshold);
            put_uvarint(out, h.zero_count);
            put_uvarint(out, h.count);
            out.extend_from_slice(&h.sum.to_bits().to_le_bytes());
            put_spans(out, &h.positive_spans);
            put_spans(out, &h.negative_spans);
            for b in [&h.positive_buckets, &h.negative_buckets] {
                put_uvarint(out, b.len() as u64);
                for &d in b.iter() {
                    put_varint(out, d);
                }
            }
            put_f64s(out, &h.custom_values);
        },
    );
}

/// Encodes a float-histogram samples record payload: like the integer one, with counts
/// and buckets as raw little-endian float bits.
pub fn encode_float_histogram_samples<'a>(
    out: &mut Vec<u8>,
    samples: impl Iterator<Item = (u64, i64, &'a FloatHistogram)>,
) {
    encode_ref_time_samples(
        out,
        TYPE_FLOAT_HISTOGRAM_SAMPLES,
        samples,
        |out, h: &FloatHistogram| {
            put_layout_head(out, h.counter_reset_hint, h.schema, h.zero_threshold);
            for v in [h.zero_count, h.count, h.sum] {
                out.extend_from_slice(&v.to_bits().to_le_bytes());
            }
            put_spans(out, &h.positive_spans);
            put_spans(out, &h.negative_spans);
            put_f64s(out, &h.positive_buckets);
            put_f64s(out, &h.negative_buckets);
            put_f64s(out, &h.custom_values);
        },
    );
}

struct Cursor<'a> {
    b: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn uvarint(&mut self) -> Result<u64, DecodeError> {
        let mut x = 0u64;
        for (i, &byte) in self.b.iter().enumerate().take(10) {
            x |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                self.b = &self.b[i + 1..];
                return Ok(x);
            }
        }
        Err(DecodeError::Payload)
    }

    fn varint(&mut self) -> Result<i64, DecodeError> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.b.len() < n {
            return Err(DecodeError::Payload);
        }
        let (a, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(a)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let n = usize::try_from(self.uvarint()?).map_err(|_| DecodeError::Payload)?;
        let b = self.bytes(n)?;
        std::str::from_utf8(b)
            .map(str::to_string)
            .map_err(|_| DecodeError::Payload)
    }

    fn f64(&mut self) -> Result<f64, DecodeError> {
        let b = self.bytes(8)?;
        Ok(f64::from_bits(u64::from_le_bytes(
            b.try_into().map_err(|_| DecodeError::Payload)?,
        )))
    }

    fn i32(&mut self) -> Result<i32, DecodeError> {
        i32::try_from(self.varint()?).map_err(|_| DecodeError::Payload)
    }

    fn spans(&mut self) -> Result<Vec<Span>, DecodeError> {
        let n = self.count(2)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let offset = self.i32()?;
            let length = u32::try_from(self.uvarint()?).map_err(|_| DecodeError::Payload)?;
            out.push(Span { offset, length });
        }
        Ok(out)
    }

    fn f64s(&mut self) -> Result<Vec<f64>, DecodeError> {
        let n = self.count(8)?;
        (0..n).map(|_| self.f64()).collect()
    }

    /// Ref and time of the next sample of a batch whose base is read on the first call.
    fn ref_time(&mut self, base: &mut Option<(u64, i64)>) -> Result<(u64, i64), DecodeError> {
        let (br, bt) = match *base {
            Some(b) => b,
            None => {
                let b = (self.uvarint()?, self.varint()?);
                *base = Some(b);
                b
            }
        };
        Ok((
            br.wrapping_add(self.varint()? as u64),
            bt.wrapping_add(self.varint()?),
        ))
    }

    /// A count that cannot exceed the bytes left (each item takes at least `min` bytes).
    fn count(&mut self, min: usize) -> Result<usize, DecodeError> {
        let n = usize::try_from(self.uvarint()?).map_err(|_| DecodeError::Payload)?;
        if n.saturating_mul(min) > self.b.len() {
            return Err(DecodeError::Payload);
        }
        Ok(n)
    }
}

/// Decodes a record payload (after its checksum was verified).
pub fn decode(payload: &[u8]) -> Result<Record, DecodeError> {
    let (&ty, rest) = payload.split_first().ok_or(DecodeError::Payload)?;
    let mut c = Cursor { b: rest };
    let rec = match ty {
        TYPE_SERIES => {
            let n = c.count(2)?;
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let r = c.uvarint()?;
                let nl = c.count(2)?;
                let mut labels = Vec::with_capacity(nl);
                for _ in 0..nl {
                    let name = c.string()?;
                    let value = c.string()?;
                    labels.push(Label::new(name, value));
                }
                let labels = Labels::from_vec(labels).map_err(|_| DecodeError::Payload)?;
                if labels.is_empty() {
                    return Err(DecodeError::Payload);
                }
                out.push((r, labels));
            }
            Record::Series(out)
        }
        TYPE_SAMPLES => {
            let n = c.count(10)?;
            let mut out = Vec::with_capacity(n);
            if n > 0 {
                let br = c.uvarint()?;
                let bt = c.varint()?;
                for _ in 0..n {
                    let r = br.wrapping_add(c.varint()? as u64);
                    let t = bt.wrapping_add(c.varint()?);
                    let v = c.bytes(8)?;
                    let v = u64::from_le_bytes(v.try_into().map_err(|_| DecodeError::Payload)?);
                    out.push(RefSample { r, t, v });
                }
            }
            Record::Samples(out)
        }
        TYPE_TOMBSTONES => {
            let n = c.count(3)?;
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                out.push(Tombstone {
                    r: c.uvarint()?,
                    mint: c.varint()?,
                    maxt: c.varint()?,
                });
            }
            Record::Tombstones(out)
        }
        TYPE_TRUNCATION => Record::Truncation { mint: c.varint()? },
        TYPE_HISTOGRAM_SAMPLES => {
            let n = c.count(16)?;
            let mut out = Vec::with_capacity(n);
            let mut base = None;
            for _ in 0..n {
                let (r, t) = c.ref_time(&mut base)?;
                let hint = byte_hint(c.bytes(1)?[0])?;
                let schema = c.i32()?;
                let zero_threshold = c.f64()?;
                let zero_count = c.uvarint()?;
                let count = c.uvarint()?;
                let sum = c.f64()?;
                let positive_spans = c.spans()?;
                let negative_spans = c.spans()?;
                let mut buckets = [Vec::new(), Vec::new()];
                for b in &mut buckets {
                    let k = c.count(1)?;
                    b.reserve(k);
                    for _ in 0..k {
                        b.push(c.varint()?);
                    }
                }
                let [positive_buckets, negative_buckets] = buckets;
                let custom_values = c.f64s()?;
                out.push(RefHistogramSample {
                    r,
                    t,
                    h: Histogram {
                        counter_reset_hint: hint,
                        schema,
                        zero_threshold,
                        zero_count,
                        count,
                        sum,
                        positive_spans,
                        negative_spans,
                        positive_buckets,
                        negative_buckets,
                        custom_values,
                    },
                });
            }
            Record::HistogramSamples(out)
        }
        TYPE_FLOAT_HISTOGRAM_SAMPLES => {
            let n = c.count(30)?;
            let mut out = Vec::with_capacity(n);
            let mut base = None;
            for _ in 0..n {
                let (r, t) = c.ref_time(&mut base)?;
                let hint = byte_hint(c.bytes(1)?[0])?;
                let schema = c.i32()?;
                let zero_threshold = c.f64()?;
                let zero_count = c.f64()?;
                let count = c.f64()?;
                let sum = c.f64()?;
                let positive_spans = c.spans()?;
                let negative_spans = c.spans()?;
                let positive_buckets = c.f64s()?;
                let negative_buckets = c.f64s()?;
                let custom_values = c.f64s()?;
                out.push(RefFloatHistogramSample {
                    r,
                    t,
                    h: FloatHistogram {
                        counter_reset_hint: hint,
                        schema,
                        zero_threshold,
                        zero_count,
                        count,
                        sum,
                        positive_spans,
                        negative_spans,
                        positive_buckets,
                        negative_buckets,
                        custom_values,
                    },
                });
            }
            Record::FloatHistogramSamples(out)
        }
        _ => return Err(DecodeError::Type),
    };
    if !c.b.is_empty() {
        return Err(DecodeError::Payload);
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let a = Labels::from_pairs(&[("__name__", "up"), ("job", "x")]);
        let b = Labels::from_pairs(&[("a", "ü")]);
        let mut buf = vec![];
        encode_series(&mut buf, [(3u64, &a), (1u64, &b)].into_iter());
        assert_eq!(
            decode(&buf).unwrap(),
            Record::Series(vec![(3, a.clone()), (1, b.clone())])
        );
        let samples = vec![
            RefSample {
                r: 5,
                t: 1000,
                v: 1.5f64.to_bits(),
            },
            RefSample {
                r: 2,
                t: -7,
                v: 0x7ff0_0000_0000_0002,
            },
            RefSample {
                r: u64::MAX,
                t: i64::MAX,
                v: 0,
            },
        ];
        buf.clear();
        encode_samples(&mut buf, samples.iter().copied());
        assert_eq!(decode(&buf).unwrap(), Record::Samples(samples));
        buf.clear();
        let ts = [Tombstone {
            r: 1,
            mint: -5,
            maxt: 9,
        }];
        encode_tombstones(&mut buf, &ts);
        assert_eq!(decode(&buf).unwrap(), Record::Tombstones(ts.to_vec()));
        buf.clear();
        encode_truncation(&mut buf, -42);
        assert_eq!(decode(&buf).unwrap(), Record::Truncation { mint: -42 });
    }

    #[test]
    fn bad_payloads_are_errors() {
        assert_eq!(decode(&[]), Err(DecodeError::Payload));
        assert_eq!(decode(&[9]), Err(DecodeError::Type));
        assert_eq!(decode(&[TYPE_SAMPLES, 200, 1]), Err(DecodeError::Payload));
        assert_eq!(decode(&[TYPE_TRUNCATION, 2, 0]), Err(DecodeError::Payload));
        // Duplicate label names inside a series record.
        let mut buf = vec![TYPE_SERIES, 1, 0, 2, 1, b'a', 1, b'x', 1, b'a', 1, b'y'];
        assert_eq!(decode(&buf), Err(DecodeError::Payload));
        buf.truncate(5);
        assert_eq!(decode(&buf), Err(DecodeError::Payload));
    }

    fn sample_hist(i: u8) -> Histogram {
        Histogram {
            counter_reset_hint: byte_hint(i % 4).unwrap(),
            schema: i32::from(i % 9) - 4,
            zero_threshold: 1e-3,
            zero_count: u64::from(i),
            count: 100 + u64::from(i),
            sum: -2.5 * f64::from(i),
            positive_spans: vec![Span::new(-2, 2), Span::new(3, 1)],
            negative_spans: vec![Span::new(0, 1)],
            positive_buckets: vec![4, -1, 7],
            negative_buckets: vec![i64::from(i)],
            custom_values: vec![],
        }
    }

    #[test]
    fn histogram_records_round_trip() {
        let hs: Vec<RefHistogramSample> = (0..5u8)
            .map(|i| RefHistogramSample {
                r: 3 + u64::from(i % 2) * 1000,
                t: 1_000 * i64::from(i) - 7,
                h: sample_hist(i),
            })
            .collect();
        let mut buf = vec![];
        encode_histogram_samples(&mut buf, hs.iter().map(|s| (s.r, s.t, &s.h)));
        assert_eq!(decode(&buf).unwrap(), Record::HistogramSamples(hs.clone()));
        let fs: Vec<RefFloatHistogramSample> = hs
            .iter()
            .map(|s| {
                let mut h = s.h.to_float();
                h.custom_values = vec![0.5, 1.0];
                h.schema = exposition::histogram::CUSTOM_BUCKETS_SCHEMA;
                RefFloatHistogramSample { r: s.r, t: s.t, h }
            })
            .collect();
        buf.clear();
        encode_float_histogram_samples(&mut buf, fs.iter().map(|s| (s.r, s.t, &s.h)));
        let rec = decode(&buf).unwrap();
        assert_eq!(rec.num_samples(), 5);
        assert_eq!(rec.max_sample_time(), Some(3_993));
        assert_eq!(rec, Record::FloatHistogramSamples(fs));
        // Every truncation of a valid record is an error, never a panic.
        for n in 0..buf.len() {
            assert!(decode(&buf[..n]).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn frame_checksums_payload() {
        let mut out = vec![];
        frame(&mut out, |b| encode_truncation(b, 1));
        let len = u32::from_le_bytes(out[0..4].try_into().unwrap()) as usize;
        assert_eq!(len, out.len() - FRAME_HEADER_LEN);
        let sum = u64::from_le_bytes(out[4..12].try_into().unwrap());
        assert_eq!(sum, checksum(&out[12..]));
    }
}
