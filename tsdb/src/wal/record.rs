//! WAL records: what they hold, how they are framed and checksummed, and their encoding.
//!
//! Frame: `len: u32 LE | xxh64(payload): u64 LE | payload` where `payload[0]` is the
//! record type. See `docs/format/wal.md` for the payload layouts.

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
