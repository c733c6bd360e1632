//! The Gorilla XOR chunk: delta-of-delta timestamps and XOR-compressed float values.
//!
//! Byte layout (see `docs/format/chunks.md`): a 2-byte big-endian sample count, then a bit
//! stream. The first sample stores its timestamp as a zigzag varint and its value as 64 raw
//! bits; the second stores the timestamp delta as an unsigned varint; later samples store
//! the delta of deltas in a variable-width bucket. Values are XORed with the previous
//! value and the meaningful bits are stored with a leading/trailing-zero window, so every
//! bit pattern (NaN payloads, ±Inf, -0.0) survives a round trip.

use super::bstream::{BitReader, BitWriter};
use super::SampleIterator;
use crate::error::{Error, Result};

/// Size of the sample-count header in bytes.
pub const HEADER_LEN: usize = 2;

/// Builds one XOR chunk sample by sample. Samples must come in increasing time order;
/// the head checks that before calling [`XorAppender::append`].
#[derive(Debug, Clone)]
pub struct XorAppender {
    w: BitWriter,
    num: u16,
    min_t: i64,
    t: i64,
    v: u64,
    t_delta: i64,
    leading: u8,
    trailing: u8,
}

impl Default for XorAppender {
    fn default() -> Self {
        XorAppender::with_capacity(0)
    }
}

impl XorAppender {
    /// An empty chunk with room for `cap` bytes before it reallocates.
    pub fn with_capacity(cap: usize) -> XorAppender {
        let mut buf = Vec::with_capacity(cap.max(HEADER_LEN));
        buf.extend_from_slice(&[0, 0]);
        XorAppender {
            w: BitWriter::from_vec(buf),
            num: 0,
            min_t: i64::MIN,
            t: i64::MIN,
            v: 0,
            t_delta: 0,
            leading: 0xff,
            trailing: 0,
        }
    }

    /// Number of samples in the chunk.
    pub fn num_samples(&self) -> usize {
        usize::from(self.num)
    }

    /// Whether the chunk holds no samples.
    pub fn is_empty(&self) -> bool {
        self.num == 0
    }

    /// Timestamp of the first sample (`i64::MIN` when empty).
    pub fn min_t(&self) -> i64 {
        self.min_t
    }

    /// Timestamp of the last sample (`i64::MIN` when empty).
    pub fn max_t(&self) -> i64 {
        self.t
    }

    /// Value of the last sample (meaningless when empty).
    pub fn last_value(&self) -> f64 {
        f64::from_bits(self.v)
    }

    /// The encoded chunk so far (a valid chunk at every point).
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    /// Heap bytes reserved by the chunk buffer.
    pub fn capacity(&self) -> usize {
        self.w.capacity()
    }

    /// Finishes the chunk and returns its bytes, trimmed to size.
    pub fn finish(self) -> Box<[u8]> {
        self.w.into_vec().into_boxed_slice()
    }

    /// Whether the chunk reached the most samples its header can count (`u16::MAX`).
    pub fn is_full(&self) -> bool {
        self.num == u16::MAX
    }

    /// Appends a sample. Timestamps must increase strictly (the head checks this). A full
    /// chunk (see [`XorAppender::is_full`]) ignores further samples.
    #[inline]
    pub fn append(&mut self, t: i64, v: f64) {
        if self.is_full() {
            debug_assert!(false, "append to a full chunk");
            return;
        }
        let vb = v.to_bits();
        match self.num {
            0 => {
                write_varint(&mut self.w, t);
                self.w.write_bits(vb, 64);
                self.min_t = t;
            }
            1 => {
                let d = t.wrapping_sub(self.t);
                write_uvarint(&mut self.w, d as u64);
                self.t_delta = d;
                self.write_value(vb);
            }
            _ => {
                let d = t.wrapping_sub(self.t);
                let dod = d.wrapping_sub(self.t_delta);
                // Prefix and payload go out in one write.
                if dod == 0 {
                    self.w.write_bit(false);
                } else if bit_range(dod, 14) {
                    self.w.write_bits((0b10 << 14) | (dod as u64 & 0x3fff), 16);
                } else if bit_range(dod, 17) {
                    self.w
                        .write_bits((0b110 << 17) | (dod as u64 & 0x1_ffff), 20);
                } else if bit_range(dod, 20) {
                    self.w
                        .write_bits((0b1110 << 20) | (dod as u64 & 0xf_ffff), 24);
                } else {
                    self.w.write_bits(0b1111, 4);
                    self.w.write_bits(dod as u64, 64);
                }
                self.t_delta = d;
                self.write_value(vb);
            }
        }
        self.t = t;
        self.v = vb;
        self.num = self.num.wrapping_add(1);
        let n = self.num.to_be_bytes();
        let hdr = self.w.bytes_mut();
        hdr[0] = n[0];
        hdr[1] = n[1];
    }

    #[inline]
    fn write_value(&mut self, vb: u64) {
        let delta = vb ^ self.v;
        if delta == 0 {
            self.w.write_bit(false);
            return;
        }
        let mut lead = delta.leading_zeros() as u8;
        let trail = delta.trailing_zeros() as u8;
        if lead >= 32 {
            lead = 31;
        }
        if self.leading != 0xff && lead >= self.leading && trail >= self.trailing {
            // Reuse the previous window: '10' + meaningful bits.
            let sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
            let bits = delta >> self.trailing;
            if sig <= 62 {
                self.w.write_bits((0b10 << sig) | bits, sig + 2);
            } else {
                self.w.write_bits(0b10, 2);
                self.w.write_bits(bits, sig);
            }
            return;
        }
        self.leading = lead;
        self.trailing = trail;
        let sig = 64 - u32::from(lead) - u32::from(trail);
        // '11' + 5 bits leading + 6 bits significant count (64 stored as 0).
        let ctrl = (0b11 << 11) | (u64::from(lead) << 6) | u64::from(sig & 63);
        let bits = delta >> trail;
        if sig <= 51 {
            self.w.write_bits((ctrl << sig) | bits, 13 + sig);
        } else {
            self.w.write_bits(ctrl, 13);
            self.w.write_bits(bits, sig);
        }
    }
}

#[inline]
fn bit_range(x: i64, nbits: u32) -> bool {
    let half = 1i64 << (nbits - 1);
    -half < x && x <= half
}

fn write_uvarint(w: &mut BitWriter, mut x: u64) {
    while x >= 0x80 {
        w.write_bits((x as u8 | 0x80).into(), 8);
        x >>= 7;
    }
    w.write_bits(x, 8);
}

fn write_varint(w: &mut BitWriter, x: i64) {
    write_uvarint(w, ((x << 1) ^ (x >> 63)) as u64);
}

fn read_uvarint(r: &mut BitReader<'_>) -> u64 {
    let mut x = 0u64;
    let mut shift = 0u32;
    for _ in 0..10 {
        let b = r.read_bits(8);
        x |= (b & 0x7f).checked_shl(shift).unwrap_or(0);
        if b < 0x80 {
            return x;
        }
        shift += 7;
    }
    x
}

fn read_varint(r: &mut BitReader<'_>) -> i64 {
    let u = read_uvarint(r);
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Number of samples recorded in a chunk's header (0 for a buffer shorter than the header).
pub fn num_samples(chunk: &[u8]) -> usize {
    match chunk {
        [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
        _ => 0,
    }
}

/// Decodes a chunk's samples without allocating. Reuse one iterator for many chunks with
/// [`XorIter::reset`].
#[derive(Debug, Clone)]
pub struct XorIter<'a> {
    r: BitReader<'a>,
    num: u16,
    read: u16,
    t: i64,
    v: u64,
    t_delta: i64,
    leading: u8,
    trailing: u8,
}

impl<'a> XorIter<'a> {
    /// An iterator over an encoded chunk. A damaged chunk never panics: iteration stops
    /// where the bytes run out, and earlier samples may be meaningless (use [`validate`]
    /// to check bytes from outside).
    pub fn new(chunk: &'a [u8]) -> XorIter<'a> {
        let num = num_samples(chunk) as u16;
        let body = chunk.get(HEADER_LEN..).unwrap_or(&[]);
        XorIter {
            r: BitReader::new(body),
            num,
            read: 0,
            t: i64::MIN,
            v: 0,
            t_delta: 0,
            leading: 0,
            trailing: 0,
        }
    }

    /// Points the iterator at another chunk, reusing it.
    pub fn reset(&mut self, chunk: &'a [u8]) {
        *self = XorIter::new(chunk);
    }

    /// Whether decoding read past the end of the chunk bytes (damage).
    pub fn overrun(&self) -> bool {
        self.r.overrun()
    }

    #[inline]
    fn read_value(&mut self) {
        if !self.r.read_bit() {
            return;
        }
        if self.r.read_bit() {
            let lead = self.r.read_bits(5) as u8;
            let mut sig = self.r.read_bits(6) as u8;
            if sig == 0 {
                sig = 64;
            }
            let sig = sig.min(64 - lead);
            self.leading = lead;
            self.trailing = 64 - lead - sig;
        }
        let sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
        let bits = self.r.read_bits(sig);
        self.v ^= bits.checked_shl(u32::from(self.trailing)).unwrap_or(0);
    }
}

impl SampleIterator for XorIter<'_> {
    #[inline]
    fn next(&mut self) -> bool {
        if self.read >= self.num {
            return false;
        }
        match self.read {
            0 => {
                self.t = read_varint(&mut self.r);
                self.v = self.r.read_bits(64);
            }
            1 => {
                self.t_delta = read_uvarint(&mut self.r) as i64;
                self.t = self.t.wrapping_add(self.t_delta);
                self.read_value();
            }
            _ => {
                let mut ones = 0;
                while ones < 4 && self.r.read_bit() {
                    ones += 1;
                }
                let dod: i64 = match ones {
                    0 => 0,
                    4 => self.r.read_bits(64) as i64,
                    n => {
                        let sz = [0u32, 14, 17, 20][n];
                        let bits = self.r.read_bits(sz) as i64;
                        if bits > (1 << (sz - 1)) {
                            bits - (1 << sz)
                        } else {
                            bits
                        }
                    }
                };
                self.t_delta = self.t_delta.wrapping_add(dod);
                self.t = self.t.wrapping_add(self.t_delta);
                self.read_value();
            }
        }
        if self.r.overrun() {
            // Damaged chunk: the header promised more samples than the bytes hold.
            self.read = self.num;
            return false;
        }
        self.read += 1;
        true
    }

    #[inline]
    fn seek(&mut self, t: i64) -> bool {
        if self.read > 0 && self.t >= t {
            return true;
        }
        while self.next() {
            if self.t >= t {
                return true;
            }
        }
        false
    }

    #[inline]
    fn at(&self) -> (i64, f64) {
        (self.t, f64::from_bits(self.v))
    }
}

/// Summary of a validated chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMeta {
    /// Number of samples.
    pub num_samples: usize,
    /// First timestamp.
    pub min_t: i64,
    /// Last timestamp.
    pub max_t: i64,
}

/// Decodes a whole chunk from untrusted bytes and checks it: a header, at least one
/// sample, no read past the end, strictly increasing timestamps.
pub fn validate(chunk: &[u8]) -> Result<ChunkMeta> {
    if chunk.len() < HEADER_LEN {
        return Err(Error::InvalidChunk("shorter than its header"));
    }
    let n = num_samples(chunk);
    if n == 0 {
        return Err(Error::InvalidChunk("no samples"));
    }
    let mut it = XorIter::new(chunk);
    let (mut min_t, mut prev) = (0, i64::MIN);
    let mut i = 0;
    while it.next() {
        let (t, _) = it.at();
        if i == 0 {
            min_t = t;
        } else if t <= prev {
            return Err(Error::InvalidChunk("timestamps not increasing"));
        }
        prev = t;
        i += 1;
    }
    if i != n {
        return Err(Error::InvalidChunk("bit stream ends early"));
    }
    Ok(ChunkMeta {
        num_samples: n,
        min_t,
        max_t: prev,
    })
}
