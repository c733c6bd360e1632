//! Byte-level encoding shared by the index, chunk and tombstone files: big-endian fixed
//! integers, Go-style varints, length-prefixed strings, and a bounds-checked decoder that
//! reports the offset where bytes ran out or made no sense.

/// Appends a big-endian u32.
pub(crate) fn put_be32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_be_bytes());
}

/// Appends a big-endian u64.
pub(crate) fn put_be64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_be_bytes());
}

/// Appends an unsigned LEB128 varint (Go's `binary.PutUvarint`).
pub(crate) fn put_uvarint(b: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        b.push(v as u8 | 0x80);
        v >>= 7;
    }
    b.push(v as u8);
}

/// Appends a zigzag varint (Go's `binary.PutVarint`).
pub(crate) fn put_varint(b: &mut Vec<u8>, v: i64) {
    put_uvarint(b, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends a uvarint length and the bytes of `s`.
pub(crate) fn put_str(b: &mut Vec<u8>, s: &str) {
    put_uvarint(b, s.len() as u64);
    b.extend_from_slice(s.as_bytes());
}

/// Where and why decoding stopped: an offset relative to the start of the decoded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecodeError {
    pub offset: u64,
    pub reason: &'static str,
}

/// A cursor over a byte slice that knows its absolute offset in the file.
#[derive(Debug, Clone)]
pub(crate) struct Decbuf<'a> {
    b: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Decbuf<'a> {
    /// A decoder over `b`, whose first byte sits at `base` in the file.
    pub fn new(b: &'a [u8], base: u64) -> Decbuf<'a> {
        Decbuf { b, pos: 0, base }
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }

    /// An error at the current offset.
    pub fn err(&self, reason: &'static str) -> DecodeError {
        DecodeError {
            offset: self.offset(),
            reason,
        }
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.err("unexpected end of data"));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.bytes(1)?[0])
    }

    pub fn be32(&mut self) -> Result<u32, DecodeError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn be64(&mut self) -> Result<u64, DecodeError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    pub fn uvarint(&mut self) -> Result<u64, DecodeError> {
        let start = self.pos;
        let mut x = 0u64;
        let mut shift = 0u32;
        loop {
            let Some(&b) = self.b.get(self.pos) else {
                self.pos = start;
                return Err(self.err("varint runs past the end"));
            };
            self.pos += 1;
            if shift == 63 && b > 1 {
                self.pos = start;
                return Err(self.err("varint overflows 64 bits"));
            }
            x |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(x);
            }
            shift += 7;
            if shift > 63 {
                self.pos = start;
                return Err(self.err("varint overflows 64 bits"));
            }
        }
    }

    pub fn varint(&mut self) -> Result<i64, DecodeError> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// A uvarint that must fit in a u32.
    pub fn uvarint32(&mut self) -> Result<u32, DecodeError> {
        let at = self.offset();
        let v = self.uvarint()?;
        u32::try_from(v).map_err(|_| DecodeError {
            offset: at,
            reason: "value does not fit in 32 bits",
        })
    }

    /// A uvarint-length-prefixed UTF-8 string.
    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        let n = self.uvarint()?;
        let at = self.offset();
        let n = usize::try_from(n).map_err(|_| self.err("string length too large"))?;
        let b = self.bytes(n)?;
        std::str::from_utf8(b).map_err(|_| DecodeError {
            offset: at,
            reason: "string is not valid UTF-8",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_match_go() {
        let mut b = Vec::new();
        put_uvarint(&mut b, 300);
        assert_eq!(b, [0xac, 0x02]);
        b.clear();
        put_varint(&mut b, -1);
        assert_eq!(b, [0x01]);
        for v in [0i64, 1, -1, 63, -64, 1 << 40, i64::MIN, i64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            put_uvarint(&mut b, v as u64);
            let mut d = Decbuf::new(&b, 0);
            assert_eq!(d.varint().unwrap(), v);
            assert_eq!(d.uvarint().unwrap(), v as u64);
            assert_eq!(d.remaining(), 0);
        }
    }

    #[test]
    fn bad_input_reports_offsets() {
        let mut d = Decbuf::new(&[0x80, 0x80], 100);
        assert_eq!(d.uvarint().unwrap_err().offset, 100);
        let mut d = Decbuf::new(&[0xff; 11], 0);
        assert!(d.uvarint().is_err());
        let mut d = Decbuf::new(&[5, b'a'], 7);
        let e = d.str().unwrap_err();
        assert_eq!(e.offset, 8);
        let mut d = Decbuf::new(&[1, 2, 3], 0);
        assert!(d.be32().is_err());
        assert_eq!(d.byte().unwrap(), 1);
    }
}
