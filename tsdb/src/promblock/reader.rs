//! Importing: a Prometheus block directory opened read-only (index decoded and
//! CRC-checked, chunk segments memory-mapped), selected by label matchers like a
//! querier, and converted into one of our native blocks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use exposition::histogram::{FloatHistogram, Histogram};
use exposition::{matches_all, Labels, Matcher};

use super::chunks::{SegmentReader, ENCODING_XOR};
use super::error::{PromBlockError, Result};
use super::histogram_chunk::{self, Decoded, ENCODING_FLOAT_HISTOGRAM, ENCODING_HISTOGRAM};
use super::index_read::{IndexReader, IndexSeries};
use super::tombstones::Tombstones;
use super::ChunkMeta;
use crate::block::{BlockMeta, BlockWriter};
use crate::chunk::{validate, MixedIterator, SampleIterator, ValueType, XorIter};
use crate::dir::FsDir;
use crate::storage::stale_nan;

/// An open Prometheus block.
#[derive(Debug)]
pub struct PromBlock {
    path: PathBuf,
    meta: BlockMeta,
    index: IndexReader,
    chunks: SegmentReader,
    tombstones: Tombstones,
    index_size: u64,
}

impl PromBlock {
    /// Opens the block directory at `path`: meta.json, the index (every section's CRC
    /// checked, all series decoded), the tombstones, and the chunk segments (mapped; each
    /// chunk's CRC is checked when a series' samples are first read).
    pub fn open(path: impl AsRef<Path>) -> Result<PromBlock> {
        let path = path.as_ref().to_path_buf();
        let meta_path = path.join("meta.json");
        let bytes = std::fs::read(&meta_path).map_err(|e| PromBlockError::io(&meta_path, e))?;
        let meta = BlockMeta::parse(&bytes, &meta_path)?;
        let dir = FsDir::open_existing(&path)?;
        let map = dir.map("index")?;
        let index = IndexReader::decode(&map, &path.join("index"))?;
        let index_size = map.len() as u64;
        drop(map);
        let tombstones = Tombstones::read(&path)?;
        let chunks = SegmentReader::open(&path.join("chunks"))?;
        Ok(PromBlock {
            path,
            meta,
            index,
            chunks,
            tombstones,
            index_size,
        })
    }

    /// The block directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The block's meta.json (same shape as our native blocks').
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// Every series in label order.
    pub fn series(&self) -> &[IndexSeries] {
        &self.index.series
    }

    /// The deleted ranges recorded in the block's tombstones file.
    pub fn tombstones(&self) -> &Tombstones {
        &self.tombstones
    }

    /// Bytes on disk of the index and the chunk segments.
    pub fn size_bytes(&self) -> u64 {
        self.index_size + self.chunks.size()
    }

    /// The label names in the block, sorted.
    pub fn label_names(&self) -> Vec<String> {
        self.index.postings.keys().cloned().collect()
    }

    /// The values of label `name`, sorted.
    pub fn label_values(&self, name: &str) -> Vec<String> {
        self.index
            .postings
            .get(name)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The series matching every matcher that have samples in `[mint, maxt]`
    /// (inclusive), in label order. Postings narrow the candidates for matchers that do
    /// not match the empty string; every matcher is then checked against the labels.
    pub fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<PromSeries<'_>> {
        let mut candidates: Option<BTreeSet<u32>> = None;
        for m in matchers.iter().filter(|m| !m.matches_empty()) {
            let mut set = BTreeSet::new();
            if let Some(vals) = self.index.postings.get(m.name()) {
                for (v, list) in vals {
                    if m.matches(v) {
                        set.extend(list.iter().copied());
                    }
                }
            }
            candidates = Some(match candidates {
                None => set,
                Some(c) => c.intersection(&set).copied().collect(),
            });
        }
        let pick = |s: &IndexSeries| {
            matches_all(matchers, &s.labels)
                && s.chunks.iter().any(|c| c.max_t >= mint && c.min_t <= maxt)
        };
        let series = &self.index.series;
        let found: Vec<&IndexSeries> = match candidates {
            None => series.iter().filter(|s| pick(s)).collect(),
            Some(c) => c
                .iter()
                .filter_map(|r| {
                    series
                        .binary_search_by_key(r, |s| s.series_ref)
                        .ok()
                        .map(|i| &series[i])
                })
                .filter(|s| pick(s))
                .collect(),
        };
        found
            .into_iter()
            .map(|entry| PromSeries {
                block: self,
                entry,
                mint,
                maxt,
            })
            .collect()
    }

    /// Every series with all its samples.
    pub fn all_series(&self) -> Vec<PromSeries<'_>> {
        self.select(&[], i64::MIN, i64::MAX)
    }

    /// Reads and checks every chunk (CRC, encoding, XOR or histogram decoding, time range
    /// against its index entry): the full scrub that opening skips.
    pub fn verify_chunks(&self) -> Result<()> {
        for s in &self.index.series {
            for c in &s.chunks {
                let (enc, data) = self.any_chunk(c)?;
                let (min_t, max_t) = if enc == ENCODING_XOR {
                    let m =
                        validate(data).map_err(|_| self.bad_chunk(c, "chunk does not decode"))?;
                    (m.min_t, m.max_t)
                } else {
                    let d =
                        histogram_chunk::decode(enc, data).map_err(|e| self.bad_chunk(c, e.0))?;
                    match (d.first(), d.last()) {
                        (Some(a), Some(b)) => (a.t(), b.t()),
                        _ => return Err(self.bad_chunk(c, "empty chunk")),
                    }
                };
                if (min_t, max_t) != (c.min_t, c.max_t) {
                    return Err(self.bad_chunk(c, "chunk time range differs from its index entry"));
                }
            }
        }
        Ok(())
    }

    /// The encoding and bytes of a chunk of a supported encoding (XOR, histogram, float
    /// histogram), CRC verified.
    fn any_chunk(&self, c: &ChunkMeta) -> Result<(u8, &[u8])> {
        let (enc, data) = self.chunks.chunk(c.chunk_ref)?;
        if !matches!(
            enc,
            ENCODING_XOR | ENCODING_HISTOGRAM | ENCODING_FLOAT_HISTOGRAM
        ) {
            return Err(PromBlockError::UnsupportedEncoding {
                file: self.chunks.segment_path((c.chunk_ref >> 32) as u32),
                offset: c.chunk_ref & 0xffff_ffff,
                encoding: enc,
            });
        }
        Ok((enc, data))
    }

    fn bad_chunk(&self, c: &ChunkMeta, reason: &'static str) -> PromBlockError {
        PromBlockError::Corrupt {
            file: self.chunks.segment_path((c.chunk_ref >> 32) as u32),
            section: "chunk",
            offset: c.chunk_ref & 0xffff_ffff,
            reason,
        }
    }

    fn xor_chunk(&self, c: &ChunkMeta) -> Result<&[u8]> {
        let (enc, data) = self.chunks.chunk(c.chunk_ref)?;
        if enc != ENCODING_XOR {
            return Err(PromBlockError::UnsupportedEncoding {
                file: self.chunks.segment_path((c.chunk_ref >> 32) as u32),
                offset: c.chunk_ref & 0xffff_ffff,
                encoding: enc,
            });
        }
        Ok(data)
    }

    /// Converts the block into one of our native blocks in `root`, with the same time
    /// range; deleted ranges (tombstones) are left out. `now_ms` is the time part of the
    /// new block's id. Native histograms (chunk encodings 2 and 3) are converted too;
    /// series with chunks of any other encoding are left out and listed in the report;
    /// any other error stops the conversion.
    pub fn convert_to_native(&self, root: impl AsRef<Path>, now_ms: i64) -> Result<ConvertReport> {
        let mut w = BlockWriter::create(root, self.meta.min_time, self.meta.max_time)?;
        let mut skipped = Vec::new();
        for s in self.all_series() {
            let mut it = match s.mixed_iter() {
                Ok(it) => it,
                Err(PromBlockError::UnsupportedEncoding { .. }) => {
                    skipped.push(s.labels().clone());
                    continue;
                }
                Err(e) => return Err(e),
            };
            if it.has_histograms() {
                w.add_series_mixed(s.labels(), &mut it, &|_| false)?;
            } else {
                w.add_series(s.labels(), &mut s.iter()?)?;
            }
        }
        Ok(ConvertReport {
            meta: w.finish(now_ms)?,
            skipped_series: skipped,
        })
    }
}

/// What [`PromBlock::convert_to_native`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertReport {
    /// The new native block, or `None` when no sample remained.
    pub meta: Option<BlockMeta>,
    /// Series left out because a chunk has an encoding other than XOR floats (1),
    /// histograms (2) or float histograms (3).
    pub skipped_series: Vec<Labels>,
}

/// One selected series of a [`PromBlock`].
#[derive(Debug, Clone, Copy)]
pub struct PromSeries<'b> {
    block: &'b PromBlock,
    entry: &'b IndexSeries,
    mint: i64,
    maxt: i64,
}

impl<'b> PromSeries<'b> {
    /// The series' labels.
    pub fn labels(&self) -> &'b Labels {
        &self.entry.labels
    }

    /// The series' chunk metas.
    pub fn chunks(&self) -> &'b [ChunkMeta] {
        &self.entry.chunks
    }

    /// The bytes of every chunk (XOR encoding, CRC verified), whatever the selected
    /// range: what [`PromBlockWriter::add_series_chunks`](super::PromBlockWriter::add_series_chunks)
    /// copies. Deleted ranges are not applied.
    pub fn raw_chunks(&self) -> Result<Vec<&'b [u8]>> {
        self.entry
            .chunks
            .iter()
            .map(|c| self.block.xor_chunk(c))
            .collect()
    }

    /// The encoding byte and bytes of every chunk (XOR, histogram or float histogram; CRC
    /// verified), whatever the selected range, in index order.
    pub fn encoded_chunks(&self) -> Result<Vec<(u8, &'b [u8])>> {
        self.entry
            .chunks
            .iter()
            .map(|c| self.block.any_chunk(c))
            .collect()
    }

    /// An iterator over the samples in the selected range, minus deleted ranges. Loads
    /// the chunks first, so a bad checksum or a non-XOR chunk is an error here and
    /// iteration itself cannot fail.
    pub fn iter(&self) -> Result<PromSeriesIter<'b>> {
        let mut chunks = Vec::new();
        for c in &self.entry.chunks {
            if c.max_t >= self.mint && c.min_t <= self.maxt {
                chunks.push(self.block.xor_chunk(c)?);
            }
        }
        let deleted = self.block.tombstones.get(u64::from(self.entry.series_ref));
        Ok(PromSeriesIter {
            chunks,
            next_chunk: 0,
            cur: None,
            mint: self.mint,
            maxt: self.maxt,
            deleted,
            last_t: i64::MIN,
            at: (0, 0.0),
        })
    }

    /// An iterator over samples of every type (floats, integer and float native
    /// histograms) in the selected range, minus deleted ranges. Every chunk in the range
    /// is decoded up front, so damage is an error here and iteration cannot fail.
    /// Prometheus's histogram staleness markers read as float staleness markers.
    pub fn mixed_iter(&self) -> Result<PromMixedIter> {
        let deleted = self.block.tombstones.get(u64::from(self.entry.series_ref));
        let mut samples = Vec::new();
        let mut last_t = i64::MIN;
        let mut keep = |t: i64| {
            let ok = t >= self.mint
                && t <= self.maxt
                && t > last_t
                && !deleted.iter().any(|&(a, b)| a <= t && t <= b);
            if ok {
                last_t = t;
            }
            ok
        };
        for c in &self.entry.chunks {
            if c.max_t < self.mint || c.min_t > self.maxt {
                continue;
            }
            let (enc, data) = self.block.any_chunk(c)?;
            if enc == ENCODING_XOR {
                let mut it = XorIter::new(data);
                while it.next() {
                    let (t, v) = it.at();
                    if keep(t) {
                        samples.push(Mixed::Float(t, v));
                    }
                }
                continue;
            }
            let decoded =
                histogram_chunk::decode(enc, data).map_err(|e| self.block.bad_chunk(c, e.0))?;
            for d in decoded {
                if keep(d.t()) {
                    samples.push(match d {
                        Decoded::Int(t, h) => Mixed::Int(t, h),
                        Decoded::Float(t, h) => Mixed::FloatHist(t, h),
                        Decoded::Stale(t) => Mixed::Float(t, stale_nan()),
                    });
                }
            }
        }
        Ok(PromMixedIter { samples, pos: 0 })
    }

    /// All samples in the selected range.
    pub fn samples(&self) -> Result<Vec<(i64, f64)>> {
        let mut it = self.iter()?;
        let mut out = Vec::new();
        while it.next() {
            out.push(it.at());
        }
        Ok(out)
    }
}

/// One sample of any type, as [`PromMixedIter`] holds it.
#[derive(Debug, Clone, PartialEq)]
enum Mixed {
    Float(i64, f64),
    Int(i64, Histogram),
    FloatHist(i64, FloatHistogram),
}

impl Mixed {
    fn t(&self) -> i64 {
        match self {
            Mixed::Float(t, _) | Mixed::Int(t, _) | Mixed::FloatHist(t, _) => *t,
        }
    }
}

/// Samples of every type of one [`PromSeries`] (see [`PromSeries::mixed_iter`]).
#[derive(Debug, Clone)]
pub struct PromMixedIter {
    samples: Vec<Mixed>,
    /// One past the current sample (0 before the first `next` or `seek`).
    pos: usize,
}

impl PromMixedIter {
    /// Whether any sample is a native histogram.
    pub fn has_histograms(&self) -> bool {
        self.samples.iter().any(|m| !matches!(m, Mixed::Float(..)))
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    fn cur(&self) -> Option<&Mixed> {
        self.samples.get(self.pos.wrapping_sub(1))
    }

    fn kind(&self) -> ValueType {
        match self.cur() {
            None => ValueType::None,
            Some(Mixed::Float(..)) => ValueType::Float,
            Some(Mixed::Int(..)) => ValueType::Histogram,
            Some(Mixed::FloatHist(..)) => ValueType::FloatHistogram,
        }
    }
}

impl MixedIterator for PromMixedIter {
    fn next(&mut self) -> ValueType {
        if self.pos <= self.samples.len() {
            self.pos += 1;
        }
        self.kind()
    }

    fn seek(&mut self, t: i64) -> ValueType {
        if self.pos == 0 {
            self.pos = 1;
        }
        while self.pos <= self.samples.len() && self.samples[self.pos - 1].t() < t {
            self.pos += 1;
        }
        self.kind()
    }

    fn at_t(&self) -> i64 {
        self.cur().map_or(i64::MIN, Mixed::t)
    }

    fn at(&self) -> (i64, f64) {
        match self.cur() {
            Some(Mixed::Float(t, v)) => (*t, *v),
            Some(m) => (m.t(), f64::NAN),
            None => (i64::MIN, f64::NAN),
        }
    }

    fn at_histogram(&self, out: &mut Histogram) -> i64 {
        match self.cur() {
            Some(Mixed::Int(t, h)) => {
                out.clone_from(h);
                *t
            }
            other => other.map_or(i64::MIN, Mixed::t),
        }
    }

    fn at_float_histogram(&self, out: &mut FloatHistogram) -> i64 {
        match self.cur() {
            Some(Mixed::Int(t, h)) => {
                *out = h.to_float();
                *t
            }
            Some(Mixed::FloatHist(t, h)) => {
                out.clone_from(h);
                *t
            }
            other => other.map_or(i64::MIN, Mixed::t),
        }
    }
}

/// Samples of one [`PromSeries`], chunk after chunk, clipped to the selected range.
#[derive(Debug, Clone)]
pub struct PromSeriesIter<'b> {
    chunks: Vec<&'b [u8]>,
    next_chunk: usize,
    cur: Option<XorIter<'b>>,
    mint: i64,
    maxt: i64,
    deleted: &'b [(i64, i64)],
    /// Timestamp of the last sample returned: samples at or before it are skipped, so
    /// overlapping chunks never yield time going backwards.
    last_t: i64,
    at: (i64, f64),
}

impl SampleIterator for PromSeriesIter<'_> {
    fn next(&mut self) -> bool {
        loop {
            if self.cur.is_none() {
                let Some(c) = self.chunks.get(self.next_chunk) else {
                    return false;
                };
                self.next_chunk += 1;
                self.cur = Some(XorIter::new(c));
            }
            let Some(it) = self.cur.as_mut() else {
                return false;
            };
            if !it.next() {
                self.cur = None;
                continue;
            }
            let (t, v) = it.at();
            if t > self.maxt {
                self.chunks.clear();
                self.cur = None;
                return false;
            }
            if t < self.mint
                || t <= self.last_t
                || self.deleted.iter().any(|&(a, b)| a <= t && t <= b)
            {
                continue;
            }
            self.last_t = t;
            self.at = (t, v);
            return true;
        }
    }

    fn seek(&mut self, t: i64) -> bool {
        if self.last_t != i64::MIN && self.at.0 >= t {
            return true;
        }
        while self.next() {
            if self.at.0 >= t {
                return true;
            }
        }
        false
    }

    fn at(&self) -> (i64, f64) {
        self.at
    }
}
