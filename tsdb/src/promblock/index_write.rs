//! Writing a Prometheus index (format v2): symbols, series with delta-encoded chunk metas,
//! label indices, postings, the two offset tables and the TOC, each section followed by
//! its CRC32-C.

use std::collections::{BTreeMap, HashMap};

use exposition::Labels;

use super::crc::crc32c;
use super::enc::{put_be32, put_be64, put_str, put_uvarint, put_varint};
use super::error::{PromBlockError, Result};
use super::{ChunkMeta, INDEX_MAGIC, INDEX_VERSION_2};

/// One series as the index records it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexEntry {
    pub labels: Labels,
    pub chunks: Vec<ChunkMeta>,
}

/// Starts a section: reserves the 4-byte length, returns where the content starts.
fn begin(buf: &mut Vec<u8>) -> usize {
    put_be32(buf, 0);
    buf.len()
}

/// Ends a section started at `start`: fills in the length and appends the CRC.
fn end(buf: &mut Vec<u8>, start: usize) -> Result<()> {
    let len = u32::try_from(buf.len() - start)
        .map_err(|_| PromBlockError::InvalidWrite("index section larger than 4 GiB"))?;
    buf[start - 4..start].copy_from_slice(&len.to_be_bytes());
    let crc = crc32c(&buf[start..]);
    put_be32(buf, crc);
    Ok(())
}

fn pad(buf: &mut Vec<u8>, align: usize) {
    let rem = buf.len() % align;
    if rem != 0 {
        buf.resize(buf.len() + align - rem, 0);
    }
}

/// Encodes the index of `series`, which must be sorted by labels and unique.
pub(crate) fn encode(series: &[IndexEntry]) -> Result<Vec<u8>> {
    if series.windows(2).any(|w| w[0].labels >= w[1].labels) {
        return Err(PromBlockError::InvalidWrite(
            "index series not sorted or duplicated",
        ));
    }
    // Symbols: every label name and value, and the empty string, sorted.
    let mut syms: Vec<&str> = vec![""];
    for s in series {
        for l in s.labels.iter() {
            syms.push(&l.name);
            syms.push(&l.value);
        }
    }
    syms.sort_unstable();
    syms.dedup();
    let sym_ref: HashMap<&str, u32> = syms
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, i as u32))
        .collect();

    let mut buf = Vec::with_capacity(1024 + series.len() * 64);
    put_be32(&mut buf, INDEX_MAGIC);
    buf.push(INDEX_VERSION_2);

    // Symbol table.
    let toc_symbols = buf.len() as u64;
    let s = begin(&mut buf);
    put_be32(&mut buf, syms.len() as u32);
    for sym in &syms {
        put_str(&mut buf, sym);
    }
    end(&mut buf, s)?;

    // Series, each 16-byte aligned; its reference is its offset / 16.
    let toc_series = buf.len() as u64;
    let mut refs = Vec::with_capacity(series.len());
    let mut content = Vec::with_capacity(128);
    for e in series {
        pad(&mut buf, 16);
        let r = u32::try_from(buf.len() / 16)
            .map_err(|_| PromBlockError::InvalidWrite("index too large for 32-bit series refs"))?;
        refs.push(r);
        content.clear();
        put_uvarint(&mut content, e.labels.len() as u64);
        for l in e.labels.iter() {
            put_uvarint(&mut content, u64::from(sym_ref[l.name.as_str()]));
            put_uvarint(&mut content, u64::from(sym_ref[l.value.as_str()]));
        }
        put_uvarint(&mut content, e.chunks.len() as u64);
        let mut prev: Option<&ChunkMeta> = None;
        for c in &e.chunks {
            if c.max_t < c.min_t || prev.is_some_and(|p| c.min_t <= p.max_t) {
                return Err(PromBlockError::InvalidWrite(
                    "chunk metas overlap or are out of order",
                ));
            }
            match prev {
                None => {
                    put_varint(&mut content, c.min_t);
                    put_uvarint(&mut content, c.max_t.wrapping_sub(c.min_t) as u64);
                    put_uvarint(&mut content, c.chunk_ref);
                }
                Some(p) => {
                    put_uvarint(&mut content, c.min_t.wrapping_sub(p.max_t) as u64);
                    put_uvarint(&mut content, c.max_t.wrapping_sub(c.min_t) as u64);
                    put_varint(&mut content, c.chunk_ref.wrapping_sub(p.chunk_ref) as i64);
                }
            }
            prev = Some(c);
        }
        put_uvarint(&mut buf, content.len() as u64);
        buf.extend_from_slice(&content);
        put_be32(&mut buf, crc32c(&content));
    }

    // Postings per label pair, and the values of each label name.
    let mut postings: BTreeMap<(&str, &str), Vec<u32>> = BTreeMap::new();
    for (e, &r) in series.iter().zip(&refs) {
        for l in e.labels.iter() {
            postings
                .entry((l.name.as_str(), l.value.as_str()))
                .or_default()
                .push(r);
        }
    }
    let mut values: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &(n, v) in postings.keys() {
        values.entry(n).or_default().push(v);
    }

    // Label indices: one per label name, its sorted values as symbol refs.
    let toc_label_indices = buf.len() as u64;
    let mut label_index_offsets = Vec::with_capacity(values.len());
    for (name, vals) in &values {
        pad(&mut buf, 4);
        label_index_offsets.push((*name, buf.len() as u64));
        let s = begin(&mut buf);
        put_be32(&mut buf, 1);
        put_be32(&mut buf, vals.len() as u32);
        for v in vals {
            put_be32(&mut buf, sym_ref[v]);
        }
        end(&mut buf, s)?;
    }

    // Postings: the all-series list (`"" ""`) first, then each pair in order.
    let toc_postings = buf.len() as u64;
    let mut postings_offsets = Vec::with_capacity(postings.len() + 1);
    let all = std::iter::once((("", ""), &refs));
    for ((n, v), list) in all.chain(postings.iter().map(|(k, l)| (*k, l))) {
        pad(&mut buf, 4);
        postings_offsets.push((n, v, buf.len() as u64));
        let s = begin(&mut buf);
        put_be32(&mut buf, list.len() as u32);
        for r in list {
            put_be32(&mut buf, *r);
        }
        end(&mut buf, s)?;
    }

    // Label offset table.
    let toc_label_table = buf.len() as u64;
    let s = begin(&mut buf);
    put_be32(&mut buf, label_index_offsets.len() as u32);
    for (name, off) in &label_index_offsets {
        buf.push(1);
        put_str(&mut buf, name);
        put_uvarint(&mut buf, *off);
    }
    end(&mut buf, s)?;

    // Postings offset table.
    let toc_postings_table = buf.len() as u64;
    let s = begin(&mut buf);
    put_be32(&mut buf, postings_offsets.len() as u32);
    for (n, v, off) in &postings_offsets {
        buf.push(2);
        put_str(&mut buf, n);
        put_str(&mut buf, v);
        put_uvarint(&mut buf, *off);
    }
    end(&mut buf, s)?;

    // TOC.
    let toc_start = buf.len();
    for off in [
        toc_symbols,
        toc_series,
        toc_label_indices,
        toc_label_table,
        toc_postings,
        toc_postings_table,
    ] {
        put_be64(&mut buf, off);
    }
    let crc = crc32c(&buf[toc_start..]);
    put_be32(&mut buf, crc);
    Ok(buf)
}
