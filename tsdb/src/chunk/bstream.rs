//! Bit streams: the writer and reader under the Gorilla chunk encoding.
//!
//! Bits are packed most-significant first. The reader never fails: reading past the end
//! yields zero bits and sets [`BitReader::overrun`], so a damaged chunk decodes to garbage
//! values instead of panicking (checksums catch damage before decoding).

/// Bytes of zeroed slack kept after the written bits, so a write is one fixed-size
/// read-modify-write of 16 bytes.
const SLACK: usize = 16;

/// Appends bits to a byte vector, most-significant bit first.
#[derive(Debug, Clone, Default)]
pub struct BitWriter {
    /// Written bytes followed by at least `SLACK` zero bytes (once anything is written).
    buf: Vec<u8>,
    /// Bits written.
    bits: usize,
}

impl BitWriter {
    /// A writer over `buf`, continuing at its end (byte aligned).
    pub fn from_vec(buf: Vec<u8>) -> BitWriter {
        let bits = buf.len() * 8;
        BitWriter { buf, bits }
    }

    /// Resumes a writer over `buf` whose last byte has `free` unused low bits.
    pub fn resume(buf: Vec<u8>, free: u8) -> BitWriter {
        let bits = (buf.len() * 8).saturating_sub(usize::from(free.min(7)));
        BitWriter { buf, bits }
    }

    #[inline]
    fn reserve(&mut self) {
        let need = (self.bits >> 3) + SLACK;
        if self.buf.len() < need {
            let new_len = need.max(self.buf.len() * 3 / 2);
            self.buf.resize(new_len, 0);
        }
    }

    /// Writes one bit.
    #[inline]
    pub fn write_bit(&mut self, bit: bool) {
        self.reserve();
        if bit {
            self.buf[self.bits >> 3] |= 0x80 >> (self.bits & 7);
        }
        self.bits += 1;
    }

    /// Writes the low `n` bits of `v` (`n` in 0..=64), most-significant first.
    #[inline]
    pub fn write_bits(&mut self, v: u64, n: u32) {
        if n == 0 {
            return;
        }
        let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        self.reserve();
        let byte = self.bits >> 3;
        let off = (self.bits & 7) as u32;
        // Place the bits in a 128-bit big-endian window starting at `byte`.
        let w = u128::from(v) << (128 - off - n);
        let window = &mut self.buf[byte..byte + SLACK];
        let mut cur = [0u8; SLACK];
        cur.copy_from_slice(window);
        let merged = u128::from_be_bytes(cur) | w;
        window.copy_from_slice(&merged.to_be_bytes());
        self.bits += n as usize;
    }

    /// Heap bytes reserved by the buffer.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Bits still free in the last byte.
    pub fn free_bits(&self) -> u8 {
        ((8 - self.bits % 8) % 8) as u8
    }

    /// The bytes written so far (the last byte may be partial).
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.bits.div_ceil(8)]
    }

    /// Mutable access to the written bytes (used to patch a header).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        let n = self.bits.div_ceil(8);
        &mut self.buf[..n]
    }

    /// Gives the buffer back, cut to the written bytes.
    pub fn into_vec(mut self) -> Vec<u8> {
        self.buf.truncate(self.bits.div_ceil(8));
        self.buf
    }
}

/// Reads bits from a byte slice, most-significant bit first.
#[derive(Debug, Clone, Copy)]
pub struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits.
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> BitReader<'a> {
        BitReader { data, pos: 0 }
    }

    /// Whether a read went past the end of the data.
    pub fn overrun(&self) -> bool {
        self.pos > self.data.len() * 8
    }

    /// Bits consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    #[inline]
    fn word_at(&self, byte: usize) -> u64 {
        if let Some(s) = self.data.get(byte..byte + 8) {
            u64::from_be_bytes(s.try_into().unwrap_or([0; 8]))
        } else {
            let mut w = [0u8; 8];
            if byte < self.data.len() {
                let rest = &self.data[byte..];
                w[..rest.len()].copy_from_slice(rest);
            }
            u64::from_be_bytes(w)
        }
    }

    /// Reads one bit (zero past the end).
    #[inline]
    pub fn read_bit(&mut self) -> bool {
        let byte = self.pos >> 3;
        let bit = match self.data.get(byte) {
            Some(b) => (b >> (7 - (self.pos & 7))) & 1 == 1,
            None => false,
        };
        self.pos += 1;
        bit
    }

    /// Reads `n` bits (`n` in 0..=64) as an unsigned integer.
    #[inline]
    pub fn read_bits(&mut self, n: u32) -> u64 {
        if n == 0 {
            return 0;
        }
        if n > 56 {
            let hi = self.read_bits(n - 32);
            let lo = self.read_bits(32);
            return (hi << 32) | lo;
        }
        let w = self.word_at(self.pos >> 3) << (self.pos & 7);
        self.pos += n as usize;
        w >> (64 - n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip() {
        let mut w = BitWriter::default();
        let items: Vec<(u64, u32)> = vec![
            (1, 1),
            (0, 1),
            (0b101, 3),
            (u64::MAX, 64),
            (0x1234, 14),
            (0, 0),
            (7, 64),
            (0xdead_beef, 32),
            (1, 57),
        ];
        for &(v, n) in &items {
            w.write_bits(v, n);
        }
        w.write_bit(true);
        let bytes = w.into_vec();
        let mut r = BitReader::new(&bytes);
        for &(v, n) in &items {
            let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            assert_eq!(r.read_bits(n), v & mask, "n={n}");
        }
        assert!(r.read_bit());
        assert!(!r.overrun());
    }

    #[test]
    fn reading_past_end_is_zero_and_flags_overrun() {
        let mut r = BitReader::new(&[0xff]);
        assert_eq!(r.read_bits(4), 0xf);
        assert_eq!(r.read_bits(8), 0xf0);
        assert!(r.overrun());
        assert_eq!(r.read_bits(64), 0);
    }
}
