//! The block index: which strings, series, chunk metas and postings a block holds, encoded
//! to and decoded from the `index` file (see `FORMAT.md`, "Index file").

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use exposition::{Label, Labels};
use roaring::RoaringBitmap;
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{Error, Result};
use crate::head::MemPostings;

/// Magic number opening the index file.
pub const INDEX_MAGIC: u32 = 0xBAAA_D700;
/// Size of the index header.
pub const INDEX_HEADER_LEN: usize = 8;
/// Size of the table of contents at the end of the index.
pub const TOC_LEN: usize = 4 * 16 + 8;
/// Names of the index sections, in file (and TOC) order.
pub const SECTIONS: [&str; 4] = ["symbols", "series", "label index", "postings"];

/// Where one chunk of a series is, and what time it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRef {
    /// First sample time (inclusive).
    pub min_t: i64,
    /// Last sample time (inclusive).
    pub max_t: i64,
    /// Segment number (high 32 bits) and record offset (low 32 bits).
    pub cref: u64,
}

/// One series of a block: labels and chunk metas.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSeries {
    /// The series' labels.
    pub labels: Labels,
    /// Its chunks, in time order.
    pub chunks: Vec<ChunkRef>,
}

/// Encodes an index for `series`, which must be sorted by labels with unique label sets.
pub fn encode(series: &[IndexSeries]) -> Result<Vec<u8>> {
    for w in series.windows(2) {
        if w[0].labels >= w[1].labels {
            return Err(Error::InvalidBlockWrite(
                "series not in strictly increasing label order",
            ));
        }
    }
    let n = u32::try_from(series.len()).map_err(|_| Error::InvalidBlockWrite("too many series"))?;
    let mut syms: BTreeSet<&str> = BTreeSet::new();
    let mut label_index: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut postings: BTreeMap<(&str, &str), RoaringBitmap> = BTreeMap::new();
    for (id, s) in series.iter().enumerate() {
        for l in &s.labels {
            syms.insert(&l.name);
            syms.insert(&l.value);
            label_index.entry(&l.name).or_default().insert(&l.value);
            postings
                .entry((&l.name, &l.value))
                .or_default()
                .insert(id as u32);
        }
    }
    let sym_ref: HashMap<&str, u32> = syms
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, i as u32))
        .collect();
    let r = |s: &str| sym_ref[s].to_le_bytes();

    let mut out = Vec::new();
    out.extend_from_slice(&INDEX_MAGIC.to_le_bytes());
    out.extend_from_slice(&[1, 0, 0, 0]);
    let mut toc = Vec::with_capacity(TOC_LEN);

    let mut p = Vec::new();
    p.extend_from_slice(&(syms.len() as u32).to_le_bytes());
    for s in &syms {
        p.extend_from_slice(&(s.len() as u32).to_le_bytes());
        p.extend_from_slice(s.as_bytes());
    }
    put_section(&mut out, &mut toc, &p);

    p.clear();
    p.extend_from_slice(&n.to_le_bytes());
    for s in series {
        p.extend_from_slice(&(s.labels.len() as u32).to_le_bytes());
        for l in &s.labels {
            p.extend_from_slice(&r(&l.name));
            p.extend_from_slice(&r(&l.value));
        }
        p.extend_from_slice(&(s.chunks.len() as u32).to_le_bytes());
        for c in &s.chunks {
            p.extend_from_slice(&c.min_t.to_le_bytes());
            p.extend_from_slice(&c.max_t.to_le_bytes());
            p.extend_from_slice(&c.cref.to_le_bytes());
        }
    }
    put_section(&mut out, &mut toc, &p);

    p.clear();
    p.extend_from_slice(&(label_index.len() as u32).to_le_bytes());
    for (name, values) in &label_index {
        p.extend_from_slice(&r(name));
        p.extend_from_slice(&(values.len() as u32).to_le_bytes());
        for v in values {
            p.extend_from_slice(&r(v));
        }
    }
    put_section(&mut out, &mut toc, &p);

    p.clear();
    p.extend_from_slice(&(postings.len() as u32).to_le_bytes());
    let mut bm = Vec::new();
    for ((name, value), b) in &postings {
        bm.clear();
        b.serialize_into(&mut bm)
            .map_err(|_| Error::InvalidBlockWrite("postings serialization failed"))?;
        p.extend_from_slice(&r(name));
        p.extend_from_slice(&r(value));
        p.extend_from_slice(&(bm.len() as u32).to_le_bytes());
        p.extend_from_slice(&bm);
    }
    put_section(&mut out, &mut toc, &p);

    let sum = xxh3_64(&toc);
    out.extend_from_slice(&toc);
    out.extend_from_slice(&sum.to_le_bytes());
    Ok(out)
}

fn put_section(out: &mut Vec<u8>, toc: &mut Vec<u8>, payload: &[u8]) {
    toc.extend_from_slice(&(out.len() as u64).to_le_bytes());
    toc.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&xxh3_64(payload).to_le_bytes());
}

/// A decoded index.
#[derive(Debug)]
pub struct IndexData {
    /// Series in label order; a series' id is its position.
    pub series: Vec<IndexSeries>,
    /// Label name → its values, both sorted.
    pub label_index: BTreeMap<String, Vec<String>>,
    /// Postings per label pair, over series ids.
    pub postings: MemPostings,
}

/// A bounds-checked little-endian reader over one section's payload.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    section: &'static str,
    file: &'a Path,
}

impl<'a> Cursor<'a> {
    fn err(&self, at: usize, reason: impl Into<String>) -> Error {
        Error::BlockCorruption {
            file: self.file.to_path_buf(),
            section: self.section,
            offset: (self.base + at) as u64,
            reason: reason.into(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err(self.pos, "unexpected end of section"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A count of items each at least `min_size` bytes, checked against what is left so a
    /// corrupt count cannot make the reader allocate without bound.
    fn count(&mut self, min_size: usize) -> Result<usize> {
        let at = self.pos;
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size) > self.buf.len() - self.pos {
            return Err(self.err(at, format!("count {n} exceeds the section")));
        }
        Ok(n)
    }

    fn sym<'s>(&mut self, syms: &'s [String]) -> Result<&'s str> {
        let at = self.pos;
        let r = self.u32()? as usize;
        syms.get(r)
            .map(String::as_str)
            .ok_or_else(|| self.err(at, format!("symbol ref {r} out of range")))
    }

    fn done(&self) -> Result<()> {
        if self.pos != self.buf.len() {
            return Err(self.err(self.pos, "trailing bytes in section"));
        }
        Ok(())
    }
}

fn corrupt(file: &Path, section: &'static str, offset: usize, reason: &str) -> Error {
    Error::BlockCorruption {
        file: file.to_path_buf(),
        section,
        offset: offset as u64,
        reason: reason.to_string(),
    }
}

/// Checks only what opening a block needs, in constant time: the header, the TOC's
/// checksum and that the sections lie inside the file in order. The sections' own
/// checksums are verified by [`decode`].
pub fn check_toc(buf: &[u8], file: &Path) -> Result<()> {
    if buf.len() < INDEX_HEADER_LEN + TOC_LEN {
        return Err(corrupt(
            file,
            "header",
            0,
            "index shorter than header and TOC",
        ));
    }
    if buf[..4] != INDEX_MAGIC.to_le_bytes() || buf[4..8] != [1, 0, 0, 0] {
        return Err(corrupt(file, "header", 0, "bad index magic or version"));
    }
    let toc_at = buf.len() - TOC_LEN;
    let toc = &buf[toc_at..toc_at + 64];
    let mut sum = [0u8; 8];
    sum.copy_from_slice(&buf[toc_at + 64..]);
    if u64::from_le_bytes(sum) != xxh3_64(toc) {
        return Err(corrupt(file, "toc", toc_at, "checksum mismatch"));
    }
    let mut prev_end = INDEX_HEADER_LEN as u64;
    for (i, name) in SECTIONS.iter().enumerate() {
        let word = |j: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&toc[j * 8..j * 8 + 8]);
            u64::from_le_bytes(a)
        };
        let (off, len) = (word(2 * i), word(2 * i + 1));
        let Some(end) = off.checked_add(len).and_then(|e| e.checked_add(8)) else {
            return Err(corrupt(file, "toc", toc_at, "section bounds overflow"));
        };
        if off < prev_end || end > toc_at as u64 {
            return Err(corrupt(
                file,
                name,
                usize::try_from(off).unwrap_or(usize::MAX),
                "section outside the file or overlapping",
            ));
        }
        prev_end = end;
    }
    Ok(())
}

/// Checks the header, TOC and every section checksum of `buf` (the bytes of the index file
/// at `file`) and decodes it.
pub fn decode(buf: &[u8], file: &Path) -> Result<IndexData> {
    if buf.len() < INDEX_HEADER_LEN + TOC_LEN {
        return Err(corrupt(
            file,
            "header",
            0,
            "index shorter than header and TOC",
        ));
    }
    if buf[..4] != INDEX_MAGIC.to_le_bytes() || buf[4..8] != [1, 0, 0, 0] {
        return Err(corrupt(file, "header", 0, "bad index magic or version"));
    }
    let toc_at = buf.len() - TOC_LEN;
    let toc = &buf[toc_at..toc_at + 64];
    let mut sum = [0u8; 8];
    sum.copy_from_slice(&buf[toc_at + 64..]);
    if u64::from_le_bytes(sum) != xxh3_64(toc) {
        return Err(corrupt(file, "toc", toc_at, "checksum mismatch"));
    }
    let mut sections: [(usize, &[u8]); 4] = [(0, &[]); 4];
    let mut prev_end = INDEX_HEADER_LEN;
    for (i, name) in SECTIONS.iter().enumerate() {
        let word = |j: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&toc[j * 8..j * 8 + 8]);
            u64::from_le_bytes(a)
        };
        let (off, len) = (word(2 * i), word(2 * i + 1));
        let end = off.checked_add(len).and_then(|e| e.checked_add(8));
        let (Ok(off), Some(Ok(end))) = (usize::try_from(off), end.map(usize::try_from)) else {
            return Err(corrupt(file, "toc", toc_at, "section bounds overflow"));
        };
        if off < prev_end || end > toc_at {
            return Err(corrupt(
                file,
                name,
                off,
                "section outside the file or overlapping",
            ));
        }
        let payload = &buf[off..end - 8];
        sum.copy_from_slice(&buf[end - 8..end]);
        if u64::from_le_bytes(sum) != xxh3_64(payload) {
            return Err(corrupt(file, name, off, "checksum mismatch"));
        }
        sections[i] = (off, payload);
        prev_end = end;
    }
    let cur = |i: usize| Cursor {
        buf: sections[i].1,
        pos: 0,
        base: sections[i].0,
        section: SECTIONS[i],
        file,
    };

    // symbols
    let mut c = cur(0);
    let n = c.count(4)?;
    let mut symbols: Vec<String> = Vec::with_capacity(n);
    for _ in 0..n {
        let at = c.pos;
        let len = c.u32()? as usize;
        let bytes = c.take(len)?;
        let s = std::str::from_utf8(bytes).map_err(|_| c.err(at, "symbol is not UTF-8"))?;
        if symbols.last().is_some_and(|p| p.as_str() >= s) {
            return Err(c.err(at, "symbols not sorted and unique"));
        }
        symbols.push(s.to_string());
    }
    c.done()?;

    // series
    let mut c = cur(1);
    let n = c.count(8)?;
    let mut series: Vec<IndexSeries> = Vec::with_capacity(n);
    for _ in 0..n {
        let at = c.pos;
        let nl = c.count(8)?;
        let mut labels = Vec::with_capacity(nl);
        for _ in 0..nl {
            let name = c.sym(&symbols)?;
            let value = c.sym(&symbols)?;
            if labels
                .last()
                .is_some_and(|p: &Label| p.name.as_str() >= name)
            {
                return Err(c.err(at, "series labels not sorted by name"));
            }
            labels.push(Label::new(name, value));
        }
        if labels.is_empty() {
            return Err(c.err(at, "series without labels"));
        }
        let labels = Labels::from_sorted_unchecked(labels);
        if series.last().is_some_and(|p| p.labels >= labels) {
            return Err(c.err(at, "series not sorted by labels"));
        }
        let nc = c.count(24)?;
        let mut chunks = Vec::with_capacity(nc);
        let mut prev_max = i64::MIN;
        for i in 0..nc {
            let cat = c.pos;
            let min_t = c.u64()? as i64;
            let max_t = c.u64()? as i64;
            let cref = c.u64()?;
            if min_t > max_t || (i > 0 && min_t <= prev_max) {
                return Err(c.err(cat, "chunk metas out of time order"));
            }
            prev_max = max_t;
            chunks.push(ChunkRef { min_t, max_t, cref });
        }
        series.push(IndexSeries { labels, chunks });
    }
    c.done()?;

    // label index
    let mut c = cur(2);
    let n = c.count(8)?;
    let mut label_index = BTreeMap::new();
    for _ in 0..n {
        let at = c.pos;
        let name = c.sym(&symbols)?;
        let nv = c.count(4)?;
        let mut values: Vec<String> = Vec::with_capacity(nv);
        for _ in 0..nv {
            let v = c.sym(&symbols)?;
            if values.last().is_some_and(|p| p.as_str() >= v) {
                return Err(c.err(at, "label values not sorted"));
            }
            values.push(v.to_string());
        }
        if label_index.insert(name.to_string(), values).is_some() {
            return Err(c.err(at, "label name listed twice"));
        }
    }
    c.done()?;

    // postings
    let mut c = cur(3);
    let n = c.count(12)?;
    let mut postings = MemPostings::default();
    let mut all = RoaringBitmap::new();
    let nseries = series.len() as u64;
    let mut prev: Option<(&str, &str)> = None;
    for _ in 0..n {
        let at = c.pos;
        let name = c.sym(&symbols)?;
        let value = c.sym(&symbols)?;
        if prev.is_some_and(|p| p >= (name, value)) {
            return Err(c.err(at, "postings not sorted by label pair"));
        }
        prev = Some((name, value));
        let len = c.u32()? as usize;
        let bytes = c.take(len)?;
        let b = RoaringBitmap::deserialize_from(bytes)
            .map_err(|e| c.err(at, format!("bad roaring bitmap: {e}")))?;
        if b.max().is_some_and(|m| u64::from(m) >= nseries) {
            return Err(c.err(at, "postings name a series that does not exist"));
        }
        all |= &b;
        postings.insert_bitmap(name, value, b);
    }
    c.done()?;
    postings.set_all(all);
    Ok(IndexData {
        series,
        label_index,
        postings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<IndexSeries> {
        vec![
            IndexSeries {
                labels: Labels::from_pairs(&[("__name__", "a"), ("job", "x")]),
                chunks: vec![ChunkRef {
                    min_t: 0,
                    max_t: 10,
                    cref: (1 << 32) | 8,
                }],
            },
            IndexSeries {
                labels: Labels::from_pairs(&[("__name__", "b"), ("job", "x")]),
                chunks: vec![
                    ChunkRef {
                        min_t: -5,
                        max_t: 3,
                        cref: (1 << 32) | 40,
                    },
                    ChunkRef {
                        min_t: 4,
                        max_t: 9,
                        cref: (2 << 32) | 8,
                    },
                ],
            },
        ]
    }

    #[test]
    fn roundtrip() {
        let s = sample();
        let buf = encode(&s).unwrap();
        let d = decode(&buf, Path::new("index")).unwrap();
        assert_eq!(d.series, s);
        assert_eq!(d.label_index["job"], vec!["x".to_string()]);
        assert_eq!(d.postings.get("job", "x").unwrap().len(), 2);
        assert_eq!(
            d.postings
                .get("__name__", "b")
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            vec![1]
        );
        assert_eq!(d.postings.all().len(), 2);
    }

    #[test]
    fn unsorted_series_rejected() {
        let mut s = sample();
        s.reverse();
        assert!(matches!(encode(&s), Err(Error::InvalidBlockWrite(_))));
    }

    #[test]
    fn every_flipped_byte_is_an_error_not_a_panic() {
        let buf = encode(&sample()).unwrap();
        for i in 0..buf.len() {
            let mut b = buf.clone();
            b[i] ^= 0x40;
            match decode(&b, Path::new("index")) {
                Err(Error::BlockCorruption { .. }) => {}
                other => panic!("byte {i}: {other:?}"),
            }
        }
        for n in 0..buf.len() {
            assert!(decode(&buf[..n], Path::new("index")).is_err());
        }
    }
}
