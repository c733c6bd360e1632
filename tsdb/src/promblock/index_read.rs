//! Reading a Prometheus index (format v2): the TOC and every section it points to are
//! bounds-checked and CRC-verified; series are decoded through the all-postings list.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use exposition::{Label, Labels};

use super::crc::crc32c;
use super::enc::{Decbuf, DecodeError};
use super::error::{PromBlockError, Result};
use super::{ChunkMeta, INDEX_MAGIC, INDEX_VERSION_2};

/// Length of the TOC at the end of the file: six 8-byte offsets and a CRC.
const TOC_LEN: usize = 6 * 8 + 4;

/// One series of a Prometheus index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSeries {
    /// The series reference (its offset in the index divided by 16).
    pub series_ref: u32,
    /// The label set.
    pub labels: Labels,
    /// Its chunks, in time order.
    pub chunks: Vec<ChunkMeta>,
}

/// A decoded index: symbols, series and the postings offset table.
#[derive(Debug, Clone)]
pub struct IndexReader {
    /// Every series, sorted by labels (and so by reference).
    pub series: Vec<IndexSeries>,
    /// Label name → value → series refs (sorted), from the postings.
    pub postings: BTreeMap<String, BTreeMap<String, Vec<u32>>>,
}

struct Ctx<'a> {
    b: &'a [u8],
    file: PathBuf,
}

impl Ctx<'_> {
    fn corrupt(&self, section: &'static str, e: DecodeError) -> PromBlockError {
        PromBlockError::Corrupt {
            file: self.file.clone(),
            section,
            offset: e.offset,
            reason: e.reason,
        }
    }

    /// The content of the `len <4b> | content | crc <4b>` section at `off`, checked.
    fn section(&self, section: &'static str, off: u64) -> Result<Decbuf<'_>> {
        let bad = |reason| {
            self.corrupt(
                section,
                DecodeError {
                    offset: off,
                    reason,
                },
            )
        };
        let start = usize::try_from(off).map_err(|_| bad("offset out of range"))?;
        if start > self.b.len() {
            return Err(bad("section offset past the end of the file"));
        }
        let mut d = Decbuf::new(&self.b[start..], off);
        let len = d.be32().map_err(|e| self.corrupt(section, e))? as usize;
        let content = d
            .bytes(len)
            .map_err(|_| bad("section length past the end"))?;
        let stored = d.be32().map_err(|_| bad("section checksum past the end"))?;
        let computed = crc32c(content);
        if stored != computed {
            return Err(PromBlockError::Checksum {
                file: self.file.clone(),
                section,
                offset: off,
                stored,
                computed,
            });
        }
        Ok(Decbuf::new(content, off + 4))
    }
}

impl IndexReader {
    /// Decodes the index bytes `b`, read from `file` (named in errors).
    pub fn decode(b: &[u8], file: &Path) -> Result<IndexReader> {
        let cx = Ctx {
            b,
            file: file.to_path_buf(),
        };
        let hdr = |offset, reason| PromBlockError::Corrupt {
            file: file.to_path_buf(),
            section: "header",
            offset,
            reason,
        };
        if b.len() < 5 + TOC_LEN {
            return Err(hdr(0, "file shorter than header and TOC"));
        }
        if u32::from_be_bytes([b[0], b[1], b[2], b[3]]) != INDEX_MAGIC {
            return Err(hdr(0, "bad magic number"));
        }
        if b[4] != INDEX_VERSION_2 {
            return Err(PromBlockError::UnsupportedVersion {
                file: file.to_path_buf(),
                what: "index",
                version: b[4],
            });
        }
        // TOC.
        let toc_at = b.len() - TOC_LEN;
        let toc = &b[toc_at..];
        let stored = u32::from_be_bytes([toc[48], toc[49], toc[50], toc[51]]);
        let computed = crc32c(&toc[..48]);
        if stored != computed {
            return Err(PromBlockError::Checksum {
                file: file.to_path_buf(),
                section: "toc",
                offset: toc_at as u64,
                stored,
                computed,
            });
        }
        let mut d = Decbuf::new(toc, toc_at as u64);
        let mut offs = [0u64; 6];
        for o in &mut offs {
            *o = d.be64().map_err(|e| cx.corrupt("toc", e))?;
        }
        let [symbols_off, _series_off, _li_off, lt_off, _postings_off, pt_off] = offs;

        // Symbols.
        let mut d = cx.section("symbols", symbols_off)?;
        let n = d.be32().map_err(|e| cx.corrupt("symbols", e))?;
        let mut symbols: Vec<&str> = Vec::with_capacity((n as usize).min(b.len()));
        for _ in 0..n {
            symbols.push(d.str().map_err(|e| cx.corrupt("symbols", e))?);
        }

        // Label offset table and label indices: Prometheus answers from the postings
        // instead, but the sections are still checked so damage there is not silent.
        let mut d = cx.section("label offset table", lt_off)?;
        let lt = |e| cx.corrupt("label offset table", e);
        let n = d.be32().map_err(lt)?;
        for _ in 0..n {
            let at = d.offset();
            if d.byte().map_err(lt)? != 1 {
                return Err(lt(DecodeError {
                    offset: at,
                    reason: "entry does not have one key part",
                }));
            }
            d.str().map_err(lt)?;
            let off = d.uvarint().map_err(lt)?;
            let mut li = cx.section("label index", off)?;
            let le = |e| cx.corrupt("label index", e);
            let names = li.be32().map_err(le)?;
            let count = li.be32().map_err(le)?;
            let want = u64::from(names) * u64::from(count) * 4;
            if names != 1 || want != li.remaining() as u64 {
                return Err(le(li.err("entry count does not match the section length")));
            }
            for _ in 0..count {
                let at = li.offset();
                if li.be32().map_err(le)? >= symbols.len() as u32 {
                    return Err(le(DecodeError {
                        offset: at,
                        reason: "symbol reference out of range",
                    }));
                }
            }
        }

        // Postings offset table, then each postings list.
        let mut d = cx.section("postings offset table", pt_off)?;
        let n = d
            .be32()
            .map_err(|e| cx.corrupt("postings offset table", e))?;
        let mut postings: BTreeMap<String, BTreeMap<String, Vec<u32>>> = BTreeMap::new();
        let mut all: Option<Vec<u32>> = None;
        let mut prev: Option<(&str, &str)> = None;
        for _ in 0..n {
            let pt = |e| cx.corrupt("postings offset table", e);
            let at = d.offset();
            if d.byte().map_err(pt)? != 2 {
                return Err(pt(DecodeError {
                    offset: at,
                    reason: "entry does not have two key parts",
                }));
            }
            let name = d.str().map_err(pt)?;
            let value = d.str().map_err(pt)?;
            let off = d.uvarint().map_err(pt)?;
            if prev.is_some_and(|p| p >= (name, value)) {
                return Err(pt(DecodeError {
                    offset: at,
                    reason: "entries not sorted",
                }));
            }
            prev = Some((name, value));
            let list = read_postings(&cx, off)?;
            if name.is_empty() && value.is_empty() {
                all = Some(list);
            } else {
                postings
                    .entry(name.to_string())
                    .or_default()
                    .insert(value.to_string(), list);
            }
        }
        let all = all.ok_or_else(|| {
            cx.corrupt(
                "postings offset table",
                DecodeError {
                    offset: pt_off,
                    reason: "no all-postings entry",
                },
            )
        })?;

        // Series, through the all-postings list.
        let sym = |d: &Decbuf<'_>, r: u32| -> Result<&str> {
            symbols
                .get(r as usize)
                .copied()
                .ok_or_else(|| cx.corrupt("series", d.err("symbol reference out of range")))
        };
        let mut series = Vec::with_capacity(all.len());
        for &r in &all {
            let off = u64::from(r) * 16;
            let bad = |reason| {
                cx.corrupt(
                    "series",
                    DecodeError {
                        offset: off,
                        reason,
                    },
                )
            };
            let start = usize::try_from(off)
                .ok()
                .filter(|&s| s < toc_at)
                .ok_or_else(|| bad("series reference past the end"))?;
            let mut d = Decbuf::new(&b[start..toc_at], off);
            let len = d.uvarint().map_err(|e| cx.corrupt("series", e))?;
            let len = usize::try_from(len).map_err(|_| bad("series length too large"))?;
            let content_at = d.offset();
            let content = d
                .bytes(len)
                .map_err(|_| bad("series length past the end"))?;
            let stored = d.be32().map_err(|_| bad("series checksum past the end"))?;
            let computed = crc32c(content);
            if stored != computed {
                return Err(PromBlockError::Checksum {
                    file: file.to_path_buf(),
                    section: "series",
                    offset: off,
                    stored,
                    computed,
                });
            }
            let mut d = Decbuf::new(content, content_at);
            let e = |e| cx.corrupt("series", e);
            let nl = d.uvarint().map_err(e)?;
            let mut labels = Vec::with_capacity((nl as usize).min(64));
            for _ in 0..nl {
                let n = d.uvarint32().map_err(e)?;
                let v = d.uvarint32().map_err(e)?;
                labels.push(Label::new(sym(&d, n)?, sym(&d, v)?));
            }
            if labels.is_empty() || labels.windows(2).any(|w| w[0].name >= w[1].name) {
                return Err(bad("labels empty, unsorted or duplicated"));
            }
            if labels
                .iter()
                .any(|l| l.name.is_empty() || l.value.is_empty())
            {
                return Err(bad("empty label name or value"));
            }
            let labels = Labels::from_sorted_unchecked(labels);
            let nc = d.uvarint().map_err(e)?;
            let mut chunks: Vec<ChunkMeta> = Vec::with_capacity((nc as usize).min(1 << 16));
            for i in 0..nc {
                let c = if i == 0 {
                    let min_t = d.varint().map_err(e)?;
                    let max_t = min_t.wrapping_add(d.uvarint().map_err(e)? as i64);
                    let chunk_ref = d.uvarint().map_err(e)?;
                    ChunkMeta {
                        min_t,
                        max_t,
                        chunk_ref,
                    }
                } else {
                    let p = chunks[chunks.len() - 1];
                    let min_t = p.max_t.wrapping_add(d.uvarint().map_err(e)? as i64);
                    let max_t = min_t.wrapping_add(d.uvarint().map_err(e)? as i64);
                    let chunk_ref = p.chunk_ref.wrapping_add(d.varint().map_err(e)? as u64);
                    ChunkMeta {
                        min_t,
                        max_t,
                        chunk_ref,
                    }
                };
                if c.max_t < c.min_t {
                    return Err(bad("chunk maxt before mint"));
                }
                chunks.push(c);
            }
            if let Some(p) = series.last().map(|p: &IndexSeries| &p.labels) {
                if p >= &labels {
                    return Err(bad("series not sorted by labels"));
                }
            }
            series.push(IndexSeries {
                series_ref: r,
                labels,
                chunks,
            });
        }
        // Every postings list must name known series.
        for vals in postings.values() {
            for list in vals.values() {
                for r in list {
                    if series.binary_search_by_key(r, |s| s.series_ref).is_err() {
                        return Err(cx.corrupt(
                            "postings",
                            DecodeError {
                                offset: u64::from(*r) * 16,
                                reason: "postings name a series missing from all-postings",
                            },
                        ));
                    }
                }
            }
        }
        Ok(IndexReader { series, postings })
    }
}

fn read_postings(cx: &Ctx<'_>, off: u64) -> Result<Vec<u32>> {
    let mut d = cx.section("postings", off)?;
    let e = |e| cx.corrupt("postings", e);
    let n = d.be32().map_err(e)?;
    if (n as usize).saturating_mul(4) != d.remaining() {
        return Err(e(d.err("entry count does not match the section length")));
    }
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let at = d.offset();
        let r = d.be32().map_err(e)?;
        if out.last().is_some_and(|&p| p >= r) {
            return Err(e(DecodeError {
                offset: at,
                reason: "postings not strictly increasing",
            }));
        }
        out.push(r);
    }
    Ok(out)
}
